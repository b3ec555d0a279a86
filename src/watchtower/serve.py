"""``watchtower serve``: the TUI in a browser (textual-serve), behind a token as Jupyter does it.

Whoever drives the served TUI acts with the operator's tokens and can post as the
organisation, and every session is another app process (~80 MB).  So:

- A random token (``secrets.token_urlsafe``) is made at every start and printed in the
  URL (``http://127.0.0.1:8000/?token=...``).  Every HTTP and websocket request without
  it gets 403: the token is taken from the query string; after a request with the right
  one, a cookie (HttpOnly, SameSite=Strict, Secure under TLS, holding an HMAC of the
  token, not the token) lets the page's own follow-up requests and its websocket in.
  Both are compared with :func:`hmac.compare_digest`.
- A websocket whose ``Origin`` is not the served origin gets 403: a page on another site
  cannot drive the TUI through the operator's browser.  A request without ``Origin``
  (not a browser; it still needs the token) is let in, as Jupyter does.
- At most ``max_sessions`` sessions (default 2) at once.  The one over the cap is told
  so (the page: 503 with the reason; the websocket: the reason on the terminal and a
  close with code 1013, "try again later") and no app process is started for it.
- A ``--host`` that is not loopback refuses to start (exit 2) unless TLS
  (``--certfile``/``--keyfile``) is given or ``--i-know-this-is-public`` is passed: the
  token would otherwise cross the network in clear text.
- The access log names the path, never the query string (the token).

textual-serve's :class:`~textual_serve.server.Server` is subclassed: its public handlers
are wrapped (``handle_index``, ``handle_websocket``) and the token check is an aiohttp
middleware on its application, so it covers every route.  Getting that application
before it runs needs one private of textual-serve, isolated in
:mod:`watchtower.serve_compat`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import logging
import secrets
import signal
import ssl
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import click
from aiohttp import WSCloseCode, web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.typedefs import Handler, Middleware
from textual_serve.server import Server

from . import serve_compat
from .errors import ServeRefused

__all__ = [
    "DEFAULT_MAX_SESSIONS",
    "GuardedServer",
    "ServeRefused",
    "app_command",
    "check_host",
    "is_loopback",
    "load_tls",
    "serve_tui",
]

log = logging.getLogger("watchtower.serve")

DEFAULT_MAX_SESSIONS = 2
PUBLIC_FLAG = "--i-know-this-is-public"
_WILDCARDS = ("0.0.0.0", "::", "")


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address (127.0.0.0/8, ::1); any other name is not."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_host(host: str, *, tls: bool, public: bool) -> None:
    """Refuse a non-loopback bind without TLS or the explicit flag (:class:`ServeRefused`)."""
    if is_loopback(host) or tls or public:
        return
    raise ServeRefused(
        f"not serving on {host}: it is not a loopback address, so anyone who can reach it could try the "
        f"token, and it would cross the network in clear text; give --certfile and --keyfile for TLS, "
        f"or pass {PUBLIC_FLAG}, or keep --host 127.0.0.1 and use ssh -L"
    )


def load_tls(certfile: str | None, keyfile: str | None) -> ssl.SSLContext | None:
    """The server TLS context, or ``None`` without ``--certfile``; errors name the files."""
    if not certfile and not keyfile:
        return None
    if not (certfile and keyfile):
        raise ServeRefused("--certfile and --keyfile go together: give both for TLS, or neither")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(certfile, keyfile)
    except FileNotFoundError as exc:
        raise ServeRefused(f"TLS: no such file: {exc.filename or certfile}") from None
    except (ssl.SSLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or type(exc).__name__
        raise ServeRefused(
            f"TLS: cannot use certificate {certfile} with key {keyfile} ({reason}); expected PEM files that match"
        ) from None
    return context


def app_command(*, config_path: str | None, data_dir: str | None, operator: str | None, demo: bool) -> list[str]:
    """The argv each session runs: this Python, ``-m watchtower`` and the global options."""
    from pathlib import Path

    argv = [sys.executable, "-m", "watchtower"]
    if demo:
        argv.append("--demo")
    if config_path:
        argv += ["--config", str(Path(config_path).resolve())]
    if data_dir:
        argv += ["--data-dir", str(Path(data_dir).resolve())]
    if operator:
        argv += ["--operator", operator]
    return argv


def _origin_tuple(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return (parts.scheme, parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80))


def _url_host(host: str) -> str:
    name = host.strip().strip("[]")
    if name in _WILDCARDS:
        import socket

        name = socket.getfqdn()
    return f"[{name}]" if ":" in name else name


class _AccessLog(AbstractAccessLogger):
    """aiohttp's access log without the query string: the URL holds the token."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info('%s "%s %s" %s', request.remote, request.method, request.path, response.status)


@dataclass
class _Gate:
    token: str
    cookie_name: str
    cookie_value: str
    origin: tuple[str, str, int] | None
    secure: bool


class GuardedServer(Server):
    """textual-serve's Server with a token, an Origin check, a session cap and optional TLS."""

    def __init__(
        self,
        command: str,
        *,
        host: str = "127.0.0.1",
        port: int = 8000,
        max_sessions: int = DEFAULT_MAX_SESSIONS,
        ssl_context: ssl.SSLContext | None = None,
        public_url: str | None = None,
        token: str | None = None,
        title: str = "watchtower",
        announce: Callable[[str], None] | None = None,
    ) -> None:
        scheme = "https" if ssl_context is not None else "http"
        if public_url is None:
            default = 443 if scheme == "https" else 80
            public_url = f"{scheme}://{_url_host(host)}" + ("" if port == default else f":{port}")
        super().__init__(command, host=host, port=port, title=title, public_url=public_url.rstrip("/"))
        self.max_sessions = max(1, max_sessions)
        self.ssl_context = ssl_context
        self.sessions = 0
        """Sessions (websockets with an app process) open now."""
        self.refused_sessions = 0
        token = token or secrets.token_urlsafe(32)
        self._gate = _Gate(
            token=token,
            cookie_name=f"watchtower-serve-{port}",
            cookie_value=hmac.new(token.encode(), b"watchtower serve cookie", hashlib.sha256).hexdigest(),
            origin=_origin_tuple(self.public_url),
            secure=self.public_url.startswith("https:"),  # what the browser sees (TLS here or at a proxy)
        )
        self._announce = announce or (lambda line: click.echo(line))

    # -- what the operator sees --------------------------------------------------------

    @property
    def url(self) -> str:
        """The URL to open: the public URL with the token."""
        return f"{self.public_url}/?token={self._gate.token}"

    async def on_startup(self, app: web.Application) -> None:
        """Say nothing yet: textual-serve's banner shows the URL without the token."""

    def _listening(self, *_args: Any) -> None:
        self._announce(
            f"Serving watchtower on {self.url}\n"
            f"  Anyone with this URL can use the TUI as you; at most {self.max_sessions} "
            f"session{'' if self.max_sessions == 1 else 's'} at once. ctrl+c to stop."
        )

    # -- the gate: token, cookie, Origin ------------------------------------------------

    def _token_ok(self, request: web.BaseRequest) -> tuple[bool, bool]:
        """(allowed, came in the query string)."""
        gate = self._gate
        given = request.query.get("token")
        if given is not None:
            return hmac.compare_digest(given.encode("utf-8", "replace"), gate.token.encode()), True
        cookie = request.cookies.get(gate.cookie_name)
        if cookie is None:
            return False, False
        return hmac.compare_digest(cookie.encode("utf-8", "replace"), gate.cookie_value.encode()), False

    def _origin_ok(self, request: web.BaseRequest) -> bool:
        origin = request.headers.get("Origin")
        if origin is None:
            return True  # not a browser; it still had to show the token
        return self._gate.origin is not None and _origin_tuple(origin) == self._gate.origin

    @staticmethod
    def _forbidden(text: str) -> web.Response:
        return web.Response(status=403, text=f"watchtower serve: {text}\n", headers={"Cache-Control": "no-store"})

    def middleware(self) -> Middleware:
        """The aiohttp middleware every request goes through."""
        gate = self._gate

        @web.middleware
        async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
            allowed, in_query = self._token_ok(request)
            if not allowed:
                return self._forbidden(
                    "wrong token (a new one is made at every start: use the URL serve printed this time)." if in_query else
                    "a token is needed: open the URL watchtower serve printed when it started (it ends in ?token=...)."
                )
            upgrade = request.headers.get("Upgrade", "").lower() == "websocket"
            if (upgrade or request.path == "/ws") and not self._origin_ok(request):
                return self._forbidden(f"websocket from another origin ({request.headers.get('Origin', '')[:100]!r}) refused.")
            response = await handler(request)
            if not response.prepared:
                if in_query:
                    response.set_cookie(
                        gate.cookie_name, gate.cookie_value, path="/", httponly=True, samesite="Strict", secure=gate.secure
                    )
                response.headers.setdefault("Referrer-Policy", "no-referrer")
                response.headers.setdefault("X-Frame-Options", "DENY")
                response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
                if request.path == "/":
                    response.headers["Cache-Control"] = "no-store"
            return response

        return guard

    # -- sessions --------------------------------------------------------------------

    def _full_text(self) -> str:
        n = self.max_sessions
        return (
            f"watchtower serve: {n} session{'' if n == 1 else 's'} already open, the most allowed "
            f"(--max-sessions {n}); close one, then reload or press Restart."
        )

    async def handle_index(self, request: web.Request) -> Any:
        if self.sessions >= self.max_sessions:
            return web.Response(status=503, text=self._full_text() + "\n", headers={"Retry-After": "30"})
        return await super().handle_index(request)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        # Check and count with no await in between: the event loop makes this atomic.
        if self.sessions >= self.max_sessions:
            self.refused_sessions += 1
            return await self._refuse_session(request)
        self.sessions += 1
        try:
            return await super().handle_websocket(request)
        finally:
            self.sessions -= 1

    async def _refuse_session(self, request: web.Request) -> web.WebSocketResponse:
        log.warning("session refused: %d of %d open", self.sessions, self.max_sessions)
        websocket = web.WebSocketResponse()
        await websocket.prepare(request)
        text = self._full_text()
        # textual.js writes binary frames to the terminal; the close reason is for other clients.
        await websocket.send_bytes(("\r\n  " + text + "\r\n").encode())
        await websocket.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"session limit reached (--max-sessions)")
        return websocket

    # -- running -----------------------------------------------------------------------

    async def make_app(self) -> web.Application:
        app = await serve_compat.make_app(self)
        app.middlewares.append(self.middleware())
        return app

    def serve(self, debug: bool = False) -> None:
        """Serve until SIGINT/SIGTERM, as ``Server.serve`` does, plus the gate and TLS."""
        self.debug = debug
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self.request_exit)
            except (NotImplementedError, RuntimeError):  # pragma: no cover - not on POSIX
                pass
        web.run_app(
            self.make_app(),
            host=self.host,
            port=self.port,
            ssl_context=self.ssl_context,
            handle_signals=False,
            loop=loop,
            print=self._listening,
            access_log_class=_AccessLog,
        )


def serve_tui(
    *,
    config_path: str | None,
    data_dir: str | None,
    operator: str | None,
    demo: bool,
    host: str,
    port: int,
    max_sessions: int = DEFAULT_MAX_SESSIONS,
    certfile: str | None = None,
    keyfile: str | None = None,
    public_url: str | None = None,
    public: bool = False,
) -> None:
    """Check the bind, then serve until stopped; refusals are :class:`ServeRefused` (exit 2)."""
    import shlex

    context = load_tls(certfile, keyfile)
    check_host(host, tls=context is not None, public=public)
    if public_url is not None and _origin_tuple(public_url) is None:
        raise ServeRefused(f"--public-url {public_url!r}: expected an http:// or https:// URL with a host")
    argv = app_command(config_path=config_path, data_dir=data_dir, operator=operator, demo=demo)
    server = GuardedServer(
        shlex.join(argv), host=host, port=port, max_sessions=max_sessions, ssl_context=context, public_url=public_url
    )
    server.serve()
