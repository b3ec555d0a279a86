"""An httpcore network backend on plain asyncio, for :class:`~watchtower.core.fetch.http.HttpFetcher`.

httpcore's default backend on asyncio goes through anyio: every read and write opens a
cancel scope, and every time the connection pool looks at an idle keep-alive connection
(``has_expired``, several times per request) anyio rebuilds a dict of socket attributes
and calls ``getpeername()``.  On a warm round of 200 conditional GETs that was a fifth of
the client's CPU.  This backend keeps what httpcore needs and nothing more:

- one :class:`asyncio.Protocol` per connection that buffers what arrives, pauses reading
  above 256 KiB and writing when the kernel buffer is full;
- per-read and per-write timeouts with :func:`asyncio.timeout`, mapped to httpcore's
  ``ReadTimeout``/``WriteTimeout``, and connect/TLS failures to ``ConnectError`` with the
  original exception as ``__cause__`` (``http._connect_words`` reads it);
- ``is_readable`` from the protocol's own state (data or EOF on an idle connection means
  the server closed or broke it), plus the same ``poll()`` httpcore does for bytes not
  yet read by the loop.

Timeouts and limits that protect against hostile servers (the total deadline, the body
caps) stay in :mod:`watchtower.core.fetch.http`; this module only moves bytes.
"""

from __future__ import annotations

import asyncio
import select
import ssl
import sys
from typing import Any, Iterable

import httpcore

__all__ = ["AsyncioBackend"]

#: Stop reading from the socket while this much is buffered and unread.
_HIGH_WATER = 256 * 1024
#: anyio's happy-eyeballs delay, kept for the same behaviour on dual-stack hosts.
_HAPPY_EYEBALLS_DELAY = 0.25
#: Set once happy eyeballs failed with CPython gh-124309: on 3.12.0-3.12.7 and 3.13.0 it
#: asserts when the loop runs eager tasks, which Textual turns on.  From then on this
#: process connects to one address at a time (asyncio's plain path).
_eyeballs_broken = False


class _Protocol(asyncio.Protocol):
    __slots__ = ("transport", "buffer", "eof", "error", "_read_waiter", "_write_waiter", "_write_paused", "_read_paused")

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.eof = False
        self.error: BaseException | None = None
        self._read_waiter: asyncio.Future[None] | None = None
        self._write_waiter: asyncio.Future[None] | None = None
        self._write_paused = False
        self._read_paused = False

    # -- asyncio callbacks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        _wake(self._read_waiter)
        if len(self.buffer) > _HIGH_WATER and not self._read_paused and self.transport is not None:
            self._read_paused = True
            self.transport.pause_reading()

    def eof_received(self) -> bool:
        self.eof = True
        _wake(self._read_waiter)
        return False  # close the transport: HTTP/1.1 never writes after the server's EOF

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        if exc is not None and self.error is None:
            self.error = exc
        _wake(self._read_waiter)
        _wake(self._write_waiter)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        _wake(self._write_waiter)

    # -- used by the stream
    def take(self, max_bytes: int) -> bytes:
        buf = self.buffer
        if len(buf) <= max_bytes:
            data = bytes(buf)
            buf.clear()
        else:
            data = bytes(buf[:max_bytes])
            del buf[:max_bytes]
        if self._read_paused and len(buf) <= _HIGH_WATER // 2 and self.transport is not None:
            self._read_paused = False
            self.transport.resume_reading()
        return data


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


async def _wait(waiter: asyncio.Future[None], timeout: float | None) -> None:
    if timeout is None:
        await waiter
    else:
        async with asyncio.timeout(timeout):
            await waiter


class AsyncioStream(httpcore.AsyncNetworkStream):
    def __init__(self, transport: asyncio.Transport, protocol: _Protocol, sock: Any) -> None:
        self._transport = transport
        self._protocol = protocol
        self._socket = sock

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        p = self._protocol
        if not p.buffer and not p.eof:
            waiter = asyncio.get_running_loop().create_future()
            p._read_waiter = waiter
            try:
                await _wait(waiter, timeout)
            except TimeoutError:
                raise httpcore.ReadTimeout("timed out reading from the server") from None
            finally:
                p._read_waiter = None
        if p.buffer:
            return p.take(max_bytes)
        if p.error is not None:
            raise httpcore.ReadError(str(p.error) or type(p.error).__name__) from p.error
        return b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        p = self._protocol
        if p.error is not None:
            raise httpcore.WriteError(str(p.error) or type(p.error).__name__) from p.error
        if self._transport.is_closing():
            raise httpcore.WriteError("the connection is closed")
        self._transport.write(buffer)
        if p._write_paused:
            waiter = asyncio.get_running_loop().create_future()
            p._write_waiter = waiter
            try:
                await _wait(waiter, timeout)
            except TimeoutError:
                raise httpcore.WriteTimeout("timed out writing to the server") from None
            finally:
                p._write_waiter = None
            if p.error is not None:
                raise httpcore.WriteError(str(p.error) or type(p.error).__name__) from p.error

    async def aclose(self) -> None:
        if not self._transport.is_closing():
            self._transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    self._transport, self._protocol, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError:
            self._transport.abort()
            raise httpcore.ConnectTimeout("timed out in the TLS handshake") from None
        except (OSError, ssl.SSLError, EOFError) as exc:
            self._transport.abort()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        if transport is None:  # the peer closed during the handshake
            self._transport.abort()
            raise httpcore.ConnectError("the server closed the connection during the TLS handshake")
        return AsyncioStream(transport, self._protocol, self._socket)  # type: ignore[arg-type]

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            p = self._protocol
            if p.buffer or p.eof or self._transport.is_closing():
                return True
            return is_socket_readable(self._socket)
        if info == "ssl_object":
            return self._transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        if info == "socket":
            return self._socket
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Connects with :meth:`asyncio.loop.create_connection` (happy eyeballs as anyio)."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        global _eyeballs_broken
        loop = asyncio.get_running_loop()
        local_addr = (local_address, 0) if local_address else None
        try:
            async with asyncio.timeout(timeout):
                if not _eyeballs_broken:
                    try:
                        transport, protocol = await loop.create_connection(
                            _Protocol, host, port, local_addr=local_addr, happy_eyeballs_delay=_HAPPY_EYEBALLS_DELAY
                        )
                        return self._stream(transport, protocol, socket_options)
                    except AssertionError:
                        _eyeballs_broken = True  # gh-124309; see above
                transport, protocol = await loop.create_connection(_Protocol, host, port, local_addr=local_addr)
        except TimeoutError:
            raise httpcore.ConnectTimeout("timed out connecting") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        return self._stream(transport, protocol, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport, protocol = await loop.create_unix_connection(_Protocol, path)
        except TimeoutError:
            raise httpcore.ConnectTimeout("timed out connecting") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        return self._stream(transport, protocol, socket_options)

    @staticmethod
    def _stream(transport: Any, protocol: Any, socket_options: Iterable[Any] | None) -> AsyncioStream:
        sock = transport.get_extra_info("socket")
        for option in socket_options or ():
            try:
                sock.setsockopt(*option)
            except (OSError, AttributeError):
                transport.abort()
                raise
        return AsyncioStream(transport, protocol, sock)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def is_socket_readable(sock: Any) -> bool:
    """Whether a read on ``sock`` would return at once (data, or the EOF of a closed peer).

    What httpcore asks of an idle keep-alive connection before reusing it; polled, never
    read.  A socket without a file descriptor counts as readable (its next read ends).
    """
    fd = None if sock is None else sock.fileno()
    if fd is None or fd < 0:
        return True
    if sys.platform == "win32" or getattr(select, "poll", None) is None:
        ready, _, _ = select.select([fd], [], [], 0)
        return bool(ready)
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


def use_asyncio_pool(transport: Any, limits: Any) -> Any:
    """Put this module's backend, in the pool of :mod:`.httpx_compat`, under an
    ``httpx.AsyncHTTPTransport`` that has not opened a connection yet; return it.

    Where the installed httpx/httpcore are not the releases that pool was written for,
    the transport keeps httpx's own pool (and its own backend): slower, never broken.
    """
    from .httpx_compat import install_pool

    install_pool(transport, limits, AsyncioBackend())
    return transport
