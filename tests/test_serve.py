"""`watchtower serve`: the TUI in a browser, on 127.0.0.1, behind a token (issue 15, point 1).

Real ``watchtower serve`` subprocesses, real HTTP and websocket clients (aiohttp's, which
textual-serve depends on) on 127.0.0.1.  App processes are counted in ``/proc``: a
session that is refused must not have started one.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import aiohttp
import pytest
from waiting import async_wait_until, wait_until

from watchtower import serve_compat
from watchtower.serve import ServeRefused, check_host, is_loopback, load_tls

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- processes --------------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        out.setdefault(ppid, []).append(int(entry))
    return out


def _argv(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
    except OSError:
        return []


def _is_app(argv: list[str]) -> bool:
    """``python -m watchtower ...`` without ``serve``: a session's app (not the shell around it)."""
    return any(a == "-m" and b == "watchtower" for a, b in pairwise(argv)) and "serve" not in argv


def app_processes(root: int) -> dict[int, list[str]]:
    """The app processes under ``root``: the top ``python -m watchtower`` of each session."""
    kids = _children()
    found: dict[int, list[str]] = {}
    stack = [(root, False)]
    while stack:
        pid, inside_app = stack.pop()
        for child in kids.get(pid, []):
            argv = _argv(child)
            app = _is_app(argv)
            if app and not inside_app:
                found[child] = argv
            stack.append((child, inside_app or app))
    return found


@dataclass
class Served:
    proc: subprocess.Popen[str]
    port: int
    lines: list[str] = field(default_factory=list)
    seen_apps: set[int] = field(default_factory=set)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    @property
    def url(self) -> str:
        match = re.search(r"(https?://\S+/\?token=(\S+))", self.output)
        assert match, self.output
        return match.group(1)

    @property
    def token(self) -> str:
        return self.url.rsplit("=", 1)[1]

    @property
    def base(self) -> str:
        return self.url.split("/?", 1)[0]

    def apps(self) -> dict[int, list[str]]:
        found = app_processes(self.proc.pid)
        self.seen_apps.update(found)
        return found

    def ws_url(self, token: str | None = None) -> str:
        query = "width=80&height=24" + (f"&token={token}" if token else "")
        return self.base.replace("http", "ws", 1) + "/ws?" + query


def _spawn(args: list[str]) -> Served:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "watchtower", *args, "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
    )
    served = Served(proc, port)

    def read() -> None:  # drained all along, so a chatty server never blocks on a full pipe
        assert proc.stdout is not None
        for line in proc.stdout:
            served.lines.append(line)

    threading.Thread(target=read, daemon=True).start()
    try:
        wait_until(lambda: "?token=" in served.output or proc.poll() is not None,
                   what="serve to print its URL", seen=lambda: served.output)
        assert proc.poll() is None, served.output
    except BaseException:
        _stop(served)
        raise
    return served


def _stop(served: Served) -> None:
    served.apps()
    if served.proc.poll() is None:
        served.proc.send_signal(signal.SIGTERM)
        try:
            served.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            served.proc.kill()
            served.proc.wait()
    # Sessions quit with the server; any that did not are ours to end (by pid, checked).
    for pid in served.seen_apps:
        if _is_app(_argv(pid)):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


class Session:
    """A websocket that reads what it is sent, as a browser tab does (and so answers pings)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.received = 0
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type == aiohttp.WSMsgType.BINARY:
                self.received += len(message.data)

    @classmethod
    async def open(cls, client: aiohttp.ClientSession, url: str, origin: str) -> Session:
        return cls(await client.ws_connect(url, origin=origin))

    async def close(self) -> None:
        await self.ws.close()
        await self._reader


@pytest.fixture
def serve_demo() -> Iterator[Served]:
    served = _spawn(["serve", "--demo"])
    try:
        yield served
    finally:
        _stop(served)


# --- the token --------------------------------------------------------------------------


async def test_every_request_without_the_token_gets_403(serve_demo: Served) -> None:
    s = serve_demo
    assert s.url.startswith(f"http://127.0.0.1:{s.port}/?token=") and len(s.token) >= 40
    async with aiohttp.ClientSession() as anon:
        for path in ("/", "/static/js/textual.js", "/download/x", "/ws", f"/?token={s.token[:-1]}"):
            async with anon.get(s.base + path) as resp:
                assert resp.status == 403, path
        with pytest.raises(aiohttp.WSServerHandshakeError) as err:
            await anon.ws_connect(s.ws_url())
        assert err.value.status == 403
        with pytest.raises(aiohttp.WSServerHandshakeError) as err:
            await anon.ws_connect(s.ws_url(token="not-the-token"))
        assert err.value.status == 403
    assert s.apps() == {}


async def test_the_token_lets_in_and_its_cookie_serves_the_page(serve_demo: Served) -> None:
    s = serve_demo
    # unsafe=True: aiohttp's jar otherwise keeps no cookie for an IP address; a browser does.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        async with browser.get(s.url) as resp:
            assert resp.status == 200
            page = await resp.text()
            cookie = resp.headers["Set-Cookie"]
        assert "watchtower" in page.lower() and f"ws://127.0.0.1:{s.port}/ws" in page
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and s.token not in cookie
        # The page's own follow-up requests carry no token, only the cookie.
        async with browser.get(s.base + "/static/js/textual.js") as resp:
            assert resp.status == 200
        session = await Session.open(browser, s.ws_url(), origin=s.base)
        try:
            await async_wait_until(lambda: len(s.apps()) == 1, what="one app process for the session",
                                   seen=s.apps)
            await async_wait_until(lambda: session.received > 0, what="the app's first screen bytes")
        finally:
            await session.close()
    # The access log never shows the token: only the printed URL holds it.
    assert s.output.count(s.token) == 1, s.output
    # Bound to loopback: the port is not open on another local address.
    other = socket.gethostbyname(socket.gethostname())
    if not other.startswith("127."):
        with socket.socket() as probe:
            probe.settimeout(5)
            assert probe.connect_ex((other, s.port)) != 0


async def test_websocket_from_a_foreign_origin_is_refused(serve_demo: Served) -> None:
    s = serve_demo
    async with aiohttp.ClientSession() as client:
        for origin in ("http://evil.example", f"http://127.0.0.1:{_free_port()}", f"https://127.0.0.1:{s.port}",
                       f"http://localhost.evil.example:{s.port}", "null"):
            with pytest.raises(aiohttp.WSServerHandshakeError) as err:
                await client.ws_connect(s.ws_url(token=s.token), origin=origin)
            assert err.value.status == 403, origin
        assert s.apps() == {}, "a refused websocket started an app"
        # The served origin itself is let in.
        session = await Session.open(client, s.ws_url(token=s.token), origin=f"http://127.0.0.1:{s.port}")
        try:
            await async_wait_until(lambda: len(s.apps()) == 1, what="the app for the same-origin session",
                                   seen=s.apps)
        finally:
            await session.close()


# --- sessions ---------------------------------------------------------------------------


async def test_third_session_is_refused_and_starts_no_app(tmp_path: Path) -> None:
    data = tmp_path / "data"
    # Global options before the command reach every session's app.
    s = _spawn(["--demo", "--data-dir", str(data), "--operator", "Sam", "serve"])
    try:
        async with aiohttp.ClientSession() as client:
            first = await Session.open(client, s.ws_url(token=s.token), origin=s.base)
            second = await Session.open(client, s.ws_url(token=s.token), origin=s.base)
            await async_wait_until(lambda: len(s.apps()) == 2, what="two app processes", seen=s.apps)
            for argv in s.apps().values():
                assert "--demo" in argv and argv[argv.index("--data-dir") + 1] == str(data.resolve())
                assert argv[argv.index("--operator") + 1] == "Sam"

            third = await client.ws_connect(s.ws_url(token=s.token), origin=s.base)
            told = await third.receive()
            assert told.type == aiohttp.WSMsgType.BINARY
            assert b"2 sessions already open" in told.data and b"--max-sessions" in told.data
            closed = await third.receive()
            assert closed.type == aiohttp.WSMsgType.CLOSE and closed.data == aiohttp.WSCloseCode.TRY_AGAIN_LATER
            # Refused before any process was started: still exactly the two.
            assert len(s.apps()) == 2
            async with client.get(s.url) as resp:
                assert resp.status == 503
                assert "2 sessions already open" in await resp.text()

            # Closing one frees its place.
            await first.close()
            await async_wait_until(lambda: len(s.apps()) == 1, what="the first session's app to quit",
                                   seen=s.apps)
            again = await Session.open(client, s.ws_url(token=s.token), origin=s.base)
            await async_wait_until(lambda: len(s.apps()) == 2, what="a new session's app", seen=s.apps)
            await again.close()
            await second.close()
    finally:
        _stop(s)


# --- where it may listen ----------------------------------------------------------------


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "watchtower", *args], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120, check=False)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.7", "watch.example.org"])
def test_non_loopback_host_is_refused_with_exit_2(host: str) -> None:
    out = _run("serve", "--demo", "--host", host, "--port", str(_free_port()))
    assert out.returncode == 2, out
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert lines[0].startswith(f"watchtower: not serving on {host}: it is not a loopback address")
    assert "--certfile" in lines[0] and "--i-know-this-is-public" in lines[0]
    assert "?token=" not in out.stdout


def test_tls_options_are_checked_before_serving(tmp_path: Path) -> None:
    out = _run("serve", "--demo", "--certfile", str(tmp_path / "cert.pem"))
    assert out.returncode == 2 and out.stderr.strip() == (
        "watchtower: --certfile and --keyfile go together: give both for TLS, or neither"
    )
    (tmp_path / "cert.pem").write_text("not a certificate\n")
    (tmp_path / "key.pem").write_text("not a key\n")
    out = _run("serve", "--demo", "--host", "0.0.0.0", "--certfile", str(tmp_path / "cert.pem"),
               "--keyfile", str(tmp_path / "key.pem"))
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert out.stderr.startswith(f"watchtower: TLS: cannot use certificate {tmp_path / 'cert.pem'}")


def test_config_before_the_command_is_read(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[organisation\n")
    out = _run("--config", str(bad), "serve", "--port", str(_free_port()))
    assert out.returncode == 2 and "config error" in out.stderr and str(bad) in out.stderr, out


def test_which_hosts_need_tls_or_the_flag() -> None:
    for host in ("127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"):
        assert is_loopback(host)
        check_host(host, tls=False, public=False)
    for host in ("0.0.0.0", "::", "10.0.0.1", "example.org", "localhost.example.org"):
        assert not is_loopback(host)
        with pytest.raises(ServeRefused):
            check_host(host, tls=False, public=False)
        check_host(host, tls=True, public=False)
        check_host(host, tls=False, public=True)
    assert load_tls(None, None) is None


@pytest.fixture
def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command for a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=120,
    )
    return cert, key


async def test_tls_serves_https_with_a_secure_cookie(self_signed: tuple[Path, Path]) -> None:
    cert, key = self_signed
    s = _spawn(["serve", "--demo", "--certfile", str(cert), "--keyfile", str(key)])
    try:
        assert s.url.startswith(f"https://127.0.0.1:{s.port}/?token=")
        trust = ssl.create_default_context(cafile=str(cert))
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trust)) as client:
            async with client.get(s.base + "/") as resp:
                assert resp.status == 403
            async with client.get(s.url) as resp:
                assert resp.status == 200 and "Secure" in resp.headers["Set-Cookie"]
                assert f"wss://127.0.0.1:{s.port}/ws" in await resp.text()
    finally:
        _stop(s)


# --- the one private of textual-serve -----------------------------------------------------


async def test_serve_compat_is_pinned_to_the_tested_textual_serve() -> None:
    """Fails on a textual-serve upgrade on purpose: read serve_compat's docstring, then re-pin."""
    installed = serve_compat.installed_version()
    assert installed in serve_compat.TESTED_VERSIONS, (
        f"textual-serve is {installed}, serve_compat was checked against {serve_compat.TESTED_VERSIONS}: "
        "re-read textual_serve/server.py (_make_app, serve, handle_index, handle_websocket), check that every "
        "route still goes through watchtower's token middleware, then add the version to TESTED_VERSIONS"
    )
    from textual_serve.server import Server

    server = Server("true", host="127.0.0.1", port=1)
    private = await serve_compat.make_app(server)  # textual-serve's own, through the private
    stock = await serve_compat.stock_app(server)  # the fallback, from public handlers only

    def routes(app) -> set[tuple[str, str]]:
        return {(r.method, r.resource.canonical) for r in app.router.routes()}

    assert routes(private) == routes(stock)
    for app in (private, stock):
        assert set(serve_compat.ROUTE_NAMES) <= set(app.router.named_resources())
        assert not app.frozen  # the middleware can still be added
