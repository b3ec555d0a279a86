"""The one place watchtower touches private parts of httpx and httpcore.

Two measured goals need them (docs/architecture.md, "Library privates"):

- **Straight to the transport.**  :class:`~watchtower.core.fetch.http.HttpFetcher` does its
  own redirects, deadlines and body caps, so httpx's client layer (auth flow, redirect
  loop, cookie extraction through urllib's request objects) is pure cost: about a tenth of
  a warm round of 200 conditional GETs.  :func:`transport_for` asks the client which
  transport serves a URL (its own, or an environment proxy's) with
  ``AsyncClient._transport_for_url``.  Stock fallback: ``None``, and the fetcher sends
  through ``AsyncClient.send(..., stream=True)``.
- **A pool that does not hand one connection to two requests.**  httpcore 1.0's
  assignment pass gives every request queued in one pass the same idle HTTP/1.1
  connection; all but one fail with ``ConnectionNotAvailable`` and go round again
  (encode/httpcore#1110, #1035): a quarter of the client's CPU on that warm round.
  :class:`OneRequestPerConnectionPool` overrides that pass, and :func:`install_pool` puts
  it, on our asyncio backend, under httpx's default transport (``_pool``).  Stock
  fallback: httpx's own pool, untouched.

Both are checked once, by name, against the versions they were written for
(:data:`WRITTEN_FOR`); on any other version the stock path runs.  ``tests/test_httpx_compat.py``
is pinned to those versions and fails on an upgrade, so whoever upgrades reads this module
again before widening :data:`WRITTEN_FOR`.
"""

from __future__ import annotations

from typing import Any

import httpcore
import httpx

__all__ = [
    "WRITTEN_FOR", "OneRequestPerConnectionPool", "default_transport", "install_pool", "privates_usable", "transport_for",
]

#: The releases (major.minor) whose private parts this module was written against.
WRITTEN_FOR = {"httpx": ("0.28", "0.29"), "httpcore": ("1.0",)}


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def privates_usable() -> bool:
    """Whether the installed httpx and httpcore are releases this module was written for,
    and still have the private parts it uses."""
    if _minor(httpx.__version__) not in WRITTEN_FOR["httpx"]:
        return False
    if _minor(httpcore.__version__) not in WRITTEN_FOR["httpcore"]:
        return False
    return (
        callable(getattr(httpx.AsyncClient, "_transport_for_url", None))
        and callable(getattr(httpcore.AsyncConnectionPool, "_assign_requests_to_connections", None))
    )


_USABLE = privates_usable()


def transport_for(client: httpx.AsyncClient, url: httpx.URL) -> httpx.AsyncBaseTransport | None:
    """The transport ``client`` would send a request for ``url`` through (a proxy's, from
    the environment, or its own); ``None`` where only the stock ``send`` path is safe."""
    if not _USABLE:
        return None
    transport: httpx.AsyncBaseTransport = client._transport_for_url(url)
    return transport


def default_transport(client: httpx.AsyncClient) -> httpx.AsyncBaseTransport | None:
    """The transport ``client`` built for itself (``AsyncClient._transport``), where
    :func:`install_pool` may replace its pool; ``None`` on the stock path."""
    if not _USABLE:
        return None
    transport = getattr(client, "_transport", None)
    return transport if isinstance(transport, httpx.AsyncBaseTransport) else None


def install_pool(transport: Any, limits: httpx.Limits, backend: httpcore.AsyncNetworkBackend) -> bool:
    """Put :class:`OneRequestPerConnectionPool` on ``backend`` under an
    ``httpx.AsyncHTTPTransport`` that has not opened a connection yet; whether it did.

    The new pool has the transport's own TLS context (httpx built it from ``verify`` and
    the environment) and the same limits and keep-alive expiry.
    """
    stock = getattr(transport, "_pool", None) if _USABLE else None
    ssl_context = getattr(stock, "_ssl_context", None)
    if not isinstance(stock, httpcore.AsyncConnectionPool) or ssl_context is None:
        return False
    transport._pool = OneRequestPerConnectionPool(
        ssl_context=ssl_context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        http1=True,
        http2=False,
        network_backend=backend,
    )
    return True


class OneRequestPerConnectionPool(httpcore.AsyncConnectionPool):
    """httpcore's pool, with an assignment pass that never hands one connection to two requests.

    httpcore 1.0's ``_assign_requests_to_connections`` gives every request queued in the same
    pass (or entering before the previous one has started) the first idle HTTP/1.1
    connection, because a connection stays "idle" until its request runs; all but one then
    fail with ``ConnectionNotAvailable`` and go round again (encode/httpcore#1110,
    #1035).  Measured on a warm round of 200 conditional GETs over 8 connections: two
    extra passes and a retry per request, a quarter of the client's CPU.  Here a
    connection held by a pending or active request is neither reused, nor expired, nor
    closed to make room, and idle connections are counted once per pass, not once per
    connection.  HTTP/1.1 only (the fetcher does not enable HTTP/2).
    """

    def _assign_requests_to_connections(self) -> list[Any]:
        closing: list[Any] = []
        held = {id(r.connection) for r in self._requests if r.connection is not None}
        keep: list[Any] = []
        idle = 0
        for connection in self._connections:
            if connection.is_closed():
                continue
            if id(connection) not in held:
                if connection.has_expired():
                    closing.append(connection)
                    continue
                if connection.is_idle():
                    if idle >= self._max_keepalive_connections:
                        closing.append(connection)
                        continue
                    idle += 1
            keep.append(connection)
        self._connections = keep

        for pool_request in self._requests:
            if pool_request.connection is not None:
                continue
            origin = pool_request.request.url.origin
            chosen = None
            spare = None
            for connection in keep:
                if id(connection) in held:
                    continue
                if connection.can_handle_request(origin) and connection.is_available():
                    chosen = connection
                    break
                if spare is None and connection.is_idle():
                    spare = connection
            if chosen is None:
                if len(keep) < self._max_connections:
                    chosen = self.create_connection(origin)
                    keep.append(chosen)
                elif spare is not None:
                    keep.remove(spare)
                    closing.append(spare)
                    chosen = self.create_connection(origin)
                    keep.append(chosen)
                else:
                    continue  # stays queued until a connection is released
            held.add(id(chosen))
            pool_request.assign_to_connection(chosen)
        return closing
