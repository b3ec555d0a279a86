"""The one place watchtower reaches into textual-serve's internals.

:mod:`watchtower.serve` needs textual-serve's aiohttp application *before* it runs: to
add the token middleware (every route, including ones a later textual-serve adds) and to
run it with TLS, which ``Server.serve()`` cannot do.  textual-serve builds that
application in a private coroutine, ``Server._make_app()``; there is no public way to
get it.  So :func:`make_app` calls it when it is there and returns an application, and
otherwise builds the same application from textual-serve's public handlers
(``handle_index``, ``handle_websocket``, ``handle_download``, ``on_startup``,
``on_shutdown``, ``statics_path``, ``templates_path``): the route table of the versions
in :data:`TESTED_VERSIONS`.

``tests/test_serve.py::test_serve_compat_is_pinned_to_the_tested_textual_serve`` fails
on any other textual-serve version, so an upgrade is a deliberate step: re-read
``textual_serve/server.py`` (``_make_app``, ``serve``, ``handle_index``,
``handle_websocket``), check that every route still goes through the middleware, then
add the version here.
"""

from __future__ import annotations

import inspect
from importlib.metadata import version
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:  # pragma: no cover
    from textual_serve.server import Server

__all__ = ["ROUTE_NAMES", "TESTED_VERSIONS", "installed_version", "make_app", "stock_app"]

#: textual-serve versions whose ``_make_app`` and route table were read and tested.
TESTED_VERSIONS = ("1.1.3",)

#: The route names textual-serve's ``handle_index`` looks up (``router["websocket"]``...).
ROUTE_NAMES = ("index", "websocket", "download", "static")


def installed_version() -> str:
    return version("textual-serve")


async def make_app(server: Server) -> web.Application:
    """textual-serve's own aiohttp application for ``server``, not yet started (middlewares can be added)."""
    private = getattr(server, "_make_app", None)
    if private is not None and inspect.iscoroutinefunction(private):
        app = await private()
        if isinstance(app, web.Application) and not app.frozen:
            return app
    return await stock_app(server)


async def stock_app(server: Server) -> web.Application:
    """The application textual-serve 1.1.3 builds, from its public handlers and attributes only."""
    import aiohttp_jinja2
    import jinja2

    app = web.Application()
    aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(server.templates_path))
    app.add_routes(
        [
            web.get("/", server.handle_index, name="index"),
            web.get("/ws", server.handle_websocket, name="websocket"),
            web.get("/download/{key}", server.handle_download, name="download"),
            web.static("/static", server.statics_path, show_index=False, name="static"),
        ]
    )
    app.on_startup.append(server.on_startup)
    app.on_shutdown.append(server.on_shutdown)
    return app
