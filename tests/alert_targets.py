"""A local HTTP alert target per person (pytest-httpserver on 127.0.0.1), reached through
Apprise ``json://`` URLs held in env vars, as production keeps its Apprise URLs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pytest_httpserver import HTTPServer


@contextmanager
def alert_targets(*names: str) -> Iterator[dict[str, HTTPServer]]:
    servers: dict[str, HTTPServer] = {}
    try:
        for name in names:
            server = HTTPServer(host="127.0.0.1", port=0)
            server.start()
            server.expect_request("/notify", method="POST").respond_with_data("ok")
            servers[name] = server
        yield servers
    finally:
        for server in servers.values():
            server.clear()
            if server.is_running():
                server.stop()


def failing(server: HTTPServer, status: int = 503) -> None:
    """From now on the target answers ``status`` (a phone service that is down)."""
    server.clear()
    server.expect_request("/notify").respond_with_data("down", status=status)


def pushes(server: HTTPServer) -> list[dict[str, Any]]:
    """What Apprise posted to the target: ``{"title", "message", "type", ...}`` each."""
    return [json.loads(req.get_data(as_text=True)) for req, _resp in server.log if req.path == "/notify"]


def counts(servers: dict[str, HTTPServer]) -> dict[str, int]:
    return {name: len(pushes(s)) for name, s in servers.items()}


def env_for(servers: dict[str, HTTPServer]) -> dict[str, str]:
    """``WT_SAM=json://127.0.0.1:PORT/notify`` and so on."""
    return {f"WT_{name.upper()}": f"json://127.0.0.1:{s.port}/notify" for name, s in servers.items()}
