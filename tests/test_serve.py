"""`watchtower serve` puts the TUI in a browser, bound to 127.0.0.1 by default."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_on_loopback_only() -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "watchtower", "serve", "--demo", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        response = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)  # polling for the server to come up, not a timed assertion
        assert response is not None, "serve never answered"
        assert response.status_code == 200
        assert "watchtower" in response.text.lower()
        # Bound to loopback: the port is not open on another local address.
        other = socket.gethostbyname(socket.gethostname())
        if not other.startswith("127."):
            with socket.socket() as s:
                s.settimeout(1)
                assert s.connect_ex((other, port)) != 0
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
