"""The transport under HttpFetcher: httpcore on plain asyncio, and a pool that never
hands one connection to two requests (``watchtower.core.fetch.transport``).

Servers here are raw asyncio sockets in the test's own loop, so a test controls exactly
what goes over the wire (closing an idle keep-alive connection, never answering, TLS with
a self-signed certificate) and records what the client sent.
"""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpcore
import httpx
import pytest

from watchtower.core.fetch.http import USER_AGENT, HttpFetcher
from watchtower.core.fetch.httpx_compat import OneRequestPerConnectionPool
from watchtower.core.fetch.transport import AsyncioBackend, use_asyncio_pool
from watchtower.core.sources.base import SourceError

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class RawServer:
    """Counts connections, keeps every request head, runs ``handler`` per connection."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[bytes] = []
        self.server: asyncio.Server | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    async def start(self, ssl_context: ssl.SSLContext | None = None) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=ssl_context)
        return self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        try:
            await self.handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()
            self.tasks.discard(task)

    async def read_request(self, reader: asyncio.StreamReader) -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        self.requests.append(head)
        return head

    async def close(self) -> None:
        assert self.server is not None
        self.server.close()
        for task in list(self.tasks):
            task.cancel()
        await self.server.wait_closed()


@pytest.fixture
async def raw() -> AsyncIterator[Callable[[Handler], Awaitable[tuple[RawServer, int]]]]:
    servers: list[RawServer] = []

    async def start(handler: Handler, ssl_context: ssl.SSLContext | None = None) -> tuple[RawServer, int]:
        server = RawServer(handler)
        port = await server.start(ssl_context)
        servers.append(server)
        return server, port

    yield start
    for server in servers:
        await server.close()


def _ok(body: bytes = b"ok", extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


def test_the_fetcher_runs_on_this_transport() -> None:
    fetcher = HttpFetcher()
    transport = fetcher._client._transport
    assert isinstance(transport._pool, OneRequestPerConnectionPool)
    assert isinstance(transport._pool._network_backend, AsyncioBackend)


async def _serve_ok(raw) -> tuple[RawServer, int]:
    """A keep-alive server that answers every request with 200 "ok"."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await server.read_request(reader)
            writer.write(_ok())
            await writer.drain()

    server, port = await raw(handler)
    return server, port


async def test_fetches_work_where_happy_eyeballs_asserts(raw, monkeypatch: pytest.MonkeyPatch) -> None:
    """CPython gh-124309: on 3.12.0-3.12.7 and 3.13.0 happy eyeballs asserts under eager tasks
    (which Textual turns on), so every fetch failed.  The backend falls back to a plain connect."""
    from watchtower.core.fetch import transport

    monkeypatch.setattr(transport, "_eyeballs_broken", False)
    loop = asyncio.get_running_loop()
    plain = loop.create_connection
    calls: list[object] = []

    async def create_connection(*args, happy_eyeballs_delay=None, **kw):  # type: ignore[no-untyped-def]
        calls.append(happy_eyeballs_delay)
        if happy_eyeballs_delay is not None:
            raise AssertionError  # what staggered_race raises there
        return await plain(*args, **kw)

    monkeypatch.setattr(loop, "create_connection", create_connection)
    _server, port = await _serve_ok(raw)
    async with HttpFetcher() as http:
        assert (await http.get(f"http://127.0.0.1:{port}/a")).body == b"ok"
        assert (await http.get(f"http://127.0.0.1:{port}/b", headers={"Connection": "close"})).body == b"ok"
    assert calls[0] is not None and calls[1:] and all(c is None for c in calls[1:])  # tried once only


@pytest.mark.skipif(not hasattr(asyncio, "eager_task_factory"), reason="eager tasks are Python 3.12+")
async def test_connect_under_eager_tasks_as_textual_runs_them(raw) -> None:
    loop = asyncio.get_running_loop()
    _server, port = await _serve_ok(raw)
    before = loop.get_task_factory()
    loop.set_task_factory(asyncio.eager_task_factory)  # type: ignore[attr-defined]
    try:
        async with HttpFetcher() as http:
            assert (await http.get(f"http://localhost:{port}/a")).body == b"ok"
    finally:
        loop.set_task_factory(before)


async def test_keep_alive_serves_many_requests_on_one_connection(raw) -> None:
    server, port = await _serve_ok(raw)
    async with HttpFetcher(max_connections=1) as http:
        for _ in range(5):
            assert (await http.get(f"http://127.0.0.1:{port}/f")).body == b"ok"
    assert server.connections == 1
    assert len(server.requests) == 5


async def test_idle_connection_closed_by_the_server_is_not_reused(raw) -> None:
    closed = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Answers one request as if it kept the connection, then hangs up (an idle
        # timeout on the server's side): the next request must use a new connection.
        await server.read_request(reader)
        writer.write(_ok())
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        closed.set()

    server, port = await raw(handler)
    async with HttpFetcher(max_connections=1) as http:
        assert (await http.get(f"http://127.0.0.1:{port}/a")).body == b"ok"
        await closed.wait()
        closed.clear()
        assert (await http.get(f"http://127.0.0.1:{port}/b")).body == b"ok"
    assert server.connections == 2


async def test_concurrent_requests_never_collide_on_one_connection(raw, monkeypatch: pytest.MonkeyPatch) -> None:
    retries = []
    original = httpcore._async.connection_pool.AsyncPoolRequest.clear_connection

    def counting(self) -> None:
        retries.append(1)
        original(self)

    monkeypatch.setattr(httpcore._async.connection_pool.AsyncPoolRequest, "clear_connection", counting)

    server, port = await _serve_ok(raw)
    async with HttpFetcher(max_connections=3) as http:
        results = await asyncio.gather(*(http.get(f"http://127.0.0.1:{port}/{i}") for i in range(30)))
    assert [r.body for r in results] == [b"ok"] * 30
    assert server.connections <= 3
    assert retries == []  # stock httpcore 1.0 retries about two times per request here


async def test_the_pool_alone_assigns_one_request_per_connection(raw, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the fetcher's slots in front: 20 requests at once into a 2-connection pool."""
    retries = []
    original = httpcore._async.connection_pool.AsyncPoolRequest.clear_connection
    monkeypatch.setattr(
        httpcore._async.connection_pool.AsyncPoolRequest, "clear_connection",
        lambda self: (retries.append(1), original(self))[1],
    )

    server, port = await _serve_ok(raw)
    async with OneRequestPerConnectionPool(max_connections=2, network_backend=AsyncioBackend()) as pool:
        responses = await asyncio.gather(*(pool.request("GET", f"http://127.0.0.1:{port}/{i}") for i in range(20)))
    assert [r.content for r in responses] == [b"ok"] * 20
    assert server.connections <= 2
    assert retries == []


async def test_a_closed_fetcher_opens_no_connection(raw) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)

    server, port = await raw(handler)
    http = HttpFetcher()
    await http.aclose()
    with pytest.raises(RuntimeError):
        await http.get(f"http://127.0.0.1:{port}/")
    assert server.connections == 0


async def test_source_headers_replace_defaults_whatever_their_case(raw) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        writer.write(_ok())
        await writer.drain()

    server, port = await raw(handler)
    async with HttpFetcher() as http:
        await http.get(f"http://127.0.0.1:{port}/feed", headers={"accept": "application/rss+xml"}, etag='"v1"')
    lines = server.requests[0].decode("latin-1").split("\r\n")
    headers = [tuple(x.strip() for x in line.split(":", 1)) for line in lines[1:] if line]
    names = [k.lower() for k, _ in headers]
    assert lines[0] == "GET /feed HTTP/1.1"
    assert names.count("accept") == 1 and ("accept", "application/rss+xml") in [(k.lower(), v) for k, v in headers]
    assert ("user-agent", USER_AGENT) in [(k.lower(), v) for k, v in headers]
    assert ("accept-encoding", "gzip, deflate") in [(k.lower(), v) for k, v in headers]
    assert ("if-none-match", '"v1"') in [(k.lower(), v) for k, v in headers]
    assert "cookie" not in names


async def test_a_silent_server_trips_the_read_timeout(raw) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        await asyncio.Event().wait()  # never answers; cancelled when the test ends

    server, port = await raw(handler)
    async with HttpFetcher(timeout=httpx.Timeout(0.3, pool=None)) as http:
        with pytest.raises(SourceError) as err:
            await http.get(f"http://127.0.0.1:{port}/", deadline=60)
    assert str(err.value) == "timed out waiting for data (no response from the server)"


async def test_server_hanging_up_mid_body_is_a_protocol_error(raw) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial")
        await writer.drain()

    server, port = await raw(handler)
    async with HttpFetcher() as http:
        with pytest.raises(SourceError) as err:
            await http.get(f"http://127.0.0.1:{port}/")
    assert "broke the HTTP protocol" in str(err.value)


async def test_proxy_from_the_environment_is_still_used(raw, monkeypatch: pytest.MonkeyPatch) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        writer.write(_ok(b"via proxy"))
        await writer.drain()

    server, port = await raw(handler)
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{port}")
    async with HttpFetcher() as http:
        got = await http.get("http://feeds.example.invalid/rss.xml")
    assert got.body == b"via proxy"
    assert server.requests[0].startswith(b"GET http://feeds.example.invalid/rss.xml HTTP/1.1\r\n")


@pytest.fixture(scope="module")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl not installed")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


async def test_tls_through_the_asyncio_backend(raw, tls_cert: tuple[Path, Path]) -> None:
    cert, key = tls_cert
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await server.read_request(reader)
            writer.write(_ok(b"secret-free"))
            await writer.drain()

    server, port = await raw(handler, server_ctx)
    url = f"https://127.0.0.1:{port}/feed"

    # An unknown CA is refused, in words.
    async with HttpFetcher() as http:
        with pytest.raises(SourceError) as err:
            await http.get(url)
    assert str(err.value) == "TLS certificate not trusted"

    # Trusted, it works, and the connection is kept alive across requests.
    client_ctx = ssl.create_default_context(cafile=str(cert))
    limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
    transport = use_asyncio_pool(httpx.AsyncHTTPTransport(verify=client_ctx, limits=limits), limits)
    async with HttpFetcher(max_connections=2, transport=transport) as http:
        for _ in range(3):
            assert (await http.get(url)).body == b"secret-free"
    assert server.connections == 1  # kept alive (a refused handshake never reaches the handler)
