"""The one module that touches httpx's and httpcore's private parts (fetch/httpx_compat.py).

Pinned: the first test fails when httpx or httpcore moves to a release the module was not
written for, so the upgrade re-reads it.  The others run the fetcher over real HTTP on
127.0.0.1 on both paths, the private fast one and the stock fallback, and hold that a user
sees the same thing on either: a body, a conditional 304, a redirect followed, a cap.
"""

from __future__ import annotations

import gzip

import httpcore
import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from watchtower.core.fetch import httpx_compat
from watchtower.core.fetch.http import HttpFetcher
from watchtower.errors import SourceError


def test_the_installed_httpx_and_httpcore_are_the_releases_the_compat_module_was_written_for() -> None:
    minor = lambda v: ".".join(v.split(".")[:2])  # noqa: E731
    assert minor(httpx.__version__) in httpx_compat.WRITTEN_FOR["httpx"], (
        f"httpx {httpx.__version__}: re-read core/fetch/httpx_compat.py before widening WRITTEN_FOR"
    )
    assert minor(httpcore.__version__) in httpx_compat.WRITTEN_FOR["httpcore"], (
        f"httpcore {httpcore.__version__}: re-read core/fetch/httpx_compat.py before widening WRITTEN_FOR"
    )
    assert httpx_compat.privates_usable()
    fetcher = HttpFetcher()
    stock = httpx_compat.default_transport(fetcher._client)
    assert isinstance(stock, httpx.AsyncHTTPTransport)
    assert isinstance(stock._pool, httpx_compat.OneRequestPerConnectionPool)


@pytest.fixture(params=["private", "stock"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "stock":
        monkeypatch.setattr(httpx_compat, "_USABLE", False)
    return str(request.param)


async def test_the_fetcher_behaves_the_same_on_the_private_and_the_stock_path(path: str, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed", headers={"If-None-Match": '"v1"'}).respond_with_data("", status=304)
    httpserver.expect_request("/feed").respond_with_response(
        Response(gzip.compress(b"<rss>hello</rss>"), headers={"Content-Encoding": "gzip", "ETag": '"v1"'})
    )
    httpserver.expect_request("/moved").respond_with_data("", status=301, headers={"Location": "/feed"})
    httpserver.expect_request("/big").respond_with_data("x" * 5000)
    async with HttpFetcher(max_body=1000) as fetcher:
        if path == "stock":
            assert httpx_compat.default_transport(fetcher._client) is None
            assert not isinstance(fetcher._client._transport._pool, httpx_compat.OneRequestPerConnectionPool)
        first = await fetcher.get(httpserver.url_for("/feed"))
        assert (first.status, first.body, first.headers.get("etag")) == (200, b"<rss>hello</rss>", '"v1"')
        again = await fetcher.get(httpserver.url_for("/feed"), etag='"v1"')
        assert again.not_modified
        moved = await fetcher.get(httpserver.url_for("/moved"))
        assert moved.body == b"<rss>hello</rss>" and moved.url == httpserver.url_for("/feed")
        with pytest.raises(SourceError, match="larger than"):
            await fetcher.get(httpserver.url_for("/big"))
