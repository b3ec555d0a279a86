"""HttpFetcher against a real local server that misbehaves on purpose.

Every hazard of docs/threat-model.md, T5 gets a server that does it: stalls, drips,
endless bodies, gzip bombs, redirect loops and redirects to ``file:``.  Assertions are
on the error words and on memory, never on how long something took.
"""

from __future__ import annotations

import gzip
import socket
import threading
import tracemalloc
import zlib
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from watchtower.core.fetch.http import (
    USER_AGENT,
    Fetched,
    HttpFetcher,
    parse_retry_after,
    record_rate_limit,
    safe_validator,
)
from watchtower.core.sources.base import SourceError, SourceState


@pytest.fixture
async def http() -> Iterator[HttpFetcher]:
    async with HttpFetcher() as fetcher:
        yield fetcher


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set after the test so slow handlers stop and free the (single-threaded) server."""
    event = threading.Event()
    yield event
    event.set()


_BOMB: bytes | None = None


def _bomb() -> bytes:
    """100 MiB of zeros, gzipped to about 100 KB."""
    global _BOMB
    if _BOMB is None:
        comp = zlib.compressobj(9, zlib.DEFLATED, 31)
        chunk = b"\0" * (1024 * 1024)
        _BOMB = b"".join(comp.compress(chunk) for _ in range(100)) + comp.flush()
    return _BOMB


async def test_plain_get_returns_body_status_and_sends_user_agent(http: HttpFetcher, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/ok", headers={"User-Agent": USER_AGENT}).respond_with_data(
        "hello", content_type="text/plain"
    )
    got = await http.get(httpserver.url_for("/ok"))
    assert isinstance(got, Fetched)
    assert (got.status, got.body, got.content_type) == (200, b"hello", "text/plain")
    assert got.url == httpserver.url_for("/ok")
    assert "watchtower" in USER_AGENT


async def test_gzip_body_is_decoded(http: HttpFetcher, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/gz").respond_with_data(
        gzip.compress(b"compressed text" * 100), headers={"Content-Encoding": "gzip"}
    )
    got = await http.get(httpserver.url_for("/gz"))
    assert got.body == b"compressed text" * 100


async def test_deflate_with_and_without_zlib_header(http: HttpFetcher, httpserver: HTTPServer) -> None:
    raw = zlib.compressobj(6, zlib.DEFLATED, -15)
    raw_body = raw.compress(b"raw deflate") + raw.flush()
    httpserver.expect_request("/z").respond_with_data(zlib.compress(b"zlib deflate"), headers={"Content-Encoding": "deflate"})
    httpserver.expect_request("/raw").respond_with_data(raw_body, headers={"Content-Encoding": "deflate"})
    assert (await http.get(httpserver.url_for("/z"))).body == b"zlib deflate"
    assert (await http.get(httpserver.url_for("/raw"))).body == b"raw deflate"


async def test_conditional_headers_and_304(http: HttpFetcher, httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        "/feed", headers={"If-None-Match": '"v1"', "If-Modified-Since": "Tue, 02 Jan 2024 09:00:00 GMT"}
    ).respond_with_data("", status=304)
    got = await http.get(httpserver.url_for("/feed"), etag='"v1"', last_modified="Tue, 02 Jan 2024 09:00:00 GMT")
    assert got.status == 304 and got.not_modified and got.body == b""


async def test_stalled_server_is_cut_at_the_deadline(
    http: HttpFetcher, httpserver: HTTPServer, release: threading.Event
) -> None:
    def stall(request: Request) -> Response:
        def body() -> Iterator[bytes]:
            yield b"<rss>"
            release.wait(20)

        return Response(body(), content_type="application/rss+xml")

    httpserver.expect_request("/stall").respond_with_handler(stall)
    with pytest.raises(SourceError) as err:
        await http.get(httpserver.url_for("/stall"), deadline=1)
    assert str(err.value) == "timed out after 1 s"


async def test_drip_feed_is_cut_at_the_deadline(
    http: HttpFetcher, httpserver: HTTPServer, release: threading.Event
) -> None:
    def drip(request: Request) -> Response:
        def body() -> Iterator[bytes]:
            for _ in range(200):
                yield b"x"
                if release.wait(0.2):
                    return

        return Response(body(), content_type="text/plain")

    httpserver.expect_request("/drip").respond_with_handler(drip)
    with pytest.raises(SourceError) as err:
        await http.get(httpserver.url_for("/drip"), deadline=1.5)
    assert str(err.value) == "timed out after 1.5 s"


async def test_endless_body_is_stopped_at_the_raw_cap(
    http: HttpFetcher, httpserver: HTTPServer, release: threading.Event
) -> None:
    def endless(request: Request) -> Response:
        def body() -> Iterator[bytes]:
            chunk = b"A" * 65536
            while not release.is_set():
                yield chunk

        return Response(body(), content_type="application/json")

    httpserver.expect_request("/endless").respond_with_handler(endless)
    tracemalloc.start()
    try:
        with pytest.raises(SourceError) as err:
            await http.get(httpserver.url_for("/endless"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(err.value) == "response larger than 5 MiB"
    assert peak < 40 * 1024 * 1024


async def test_declared_content_length_over_cap_is_refused_before_reading(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request("/big").respond_with_data(b"x" * 2000)
    async with HttpFetcher(max_body=1000) as small:
        with pytest.raises(SourceError, match="larger than"):
            await small.get(httpserver.url_for("/big"))


async def test_gzip_bomb_never_inflates_past_the_decoded_cap(http: HttpFetcher, httpserver: HTTPServer) -> None:
    bomb = _bomb()
    assert len(bomb) < 1024 * 1024
    httpserver.expect_request("/bomb").respond_with_data(
        bomb, headers={"Content-Encoding": "gzip"}, content_type="application/rss+xml"
    )
    tracemalloc.start()
    try:
        with pytest.raises(SourceError) as err:
            await http.get(httpserver.url_for("/bomb"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(err.value) == "response larger than 20 MiB once decompressed"
    # 20 MiB buffer plus one chunk; the whole bomb would be 100 MiB.
    assert peak < 60 * 1024 * 1024


async def test_corrupt_gzip_is_a_clear_error(http: HttpFetcher, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/bad").respond_with_data(b"not gzip at all", headers={"Content-Encoding": "gzip"})
    with pytest.raises(SourceError, match="corrupt"):
        await http.get(httpserver.url_for("/bad"))


async def test_unsupported_encoding_is_refused(http: HttpFetcher, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/br").respond_with_data(b"\x00\x01", headers={"Content-Encoding": "br"})
    with pytest.raises(SourceError, match="unsupported content encoding"):
        await http.get(httpserver.url_for("/br"))


async def test_redirect_loop_is_refused(http: HttpFetcher, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/loop").respond_with_data("", status=302, headers={"Location": "/loop"})
    with pytest.raises(SourceError) as err:
        await http.get(httpserver.url_for("/loop"))
    assert str(err.value) == "too many redirects"
    # The first request plus five hops, then it stops.
    assert http.requests == 6


async def test_redirect_to_file_is_refused(http: HttpFetcher, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/evil").respond_with_data("", status=301, headers={"Location": "file:///etc/passwd"})
    with pytest.raises(SourceError) as err:
        await http.get(httpserver.url_for("/evil"))
    assert str(err.value) == "redirect to a non-http(s) URL refused"


async def test_non_http_url_is_refused_without_a_request(http: HttpFetcher) -> None:
    with pytest.raises(SourceError, match="only http:// and https://"):
        await http.get("file:///etc/passwd")
    assert http.requests == 0


async def test_a_bad_parameter_from_a_server_is_not_a_permanent_url_error(http: HttpFetcher, httpserver: HTTPServer) -> None:
    """A paging cursor a server sent may be unencodable; the source must not be given up for it."""
    with pytest.raises(SourceError) as err:
        await http.get(httpserver.url_for("/feed"), params={"cursor": "abc\ud800"})
    assert str(err.value) == "a request parameter is not valid text" and not err.value.permanent
    with pytest.raises(SourceError) as err:
        await http.get("http://127.0.0.1\x00/feed")  # the config's own URL: permanent
    assert err.value.permanent


async def test_redirects_are_followed_and_credentials_stay_home(http: HttpFetcher, httpserver: HTTPServer) -> None:
    other = httpserver.url_for("/moved").replace("localhost", "127.0.0.1")
    if other == httpserver.url_for("/moved"):
        other = httpserver.url_for("/moved").replace("127.0.0.1", "localhost")
    httpserver.expect_request("/old").respond_with_data("", status=301, headers={"Location": other})

    def moved(request: Request) -> Response:
        return Response("auth=" + str("Authorization" in request.headers))

    httpserver.expect_request("/moved").respond_with_handler(moved)
    got = await http.get(httpserver.url_for("/old"), headers={"Authorization": "Bearer s3cret"})
    assert got.status == 200 and got.redirects == [other]
    # Another host (localhost vs 127.0.0.1) never sees the token.
    assert got.body == b"auth=False"


async def test_a_redirect_to_another_host_carries_none_of_the_callers_own_headers(
    http: HttpFetcher, httpserver: HTTPServer
) -> None:
    """A source's own headers may hold a key under any name (X-Api-Key), whatever the
    config's advice: another host gets only headers that cannot carry one."""
    other = httpserver.url_for("/moved").replace("localhost", "127.0.0.1")
    if other == httpserver.url_for("/moved"):
        other = httpserver.url_for("/moved").replace("127.0.0.1", "localhost")
    httpserver.expect_request("/old").respond_with_data("", status=302, headers={"Location": other})
    seen: dict[str, str] = {}

    def moved(request: Request) -> Response:
        seen.update({k.lower(): v for k, v in request.headers.items()})
        return Response("ok")

    httpserver.expect_request("/moved").respond_with_handler(moved)
    got = await http.get(httpserver.url_for("/old"), headers={"X-Api-Key": "k3y", "X-Tenant": "riverside",
                                                              "Accept": "application/json"})
    assert got.body == b"ok"
    assert "x-api-key" not in seen and "x-tenant" not in seen
    assert seen["accept"] == "application/json"


async def test_relative_redirect_on_same_origin_keeps_headers(http: HttpFetcher, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a").respond_with_data("", status=307, headers={"Location": "/b"})
    httpserver.expect_request("/b", headers={"Authorization": "Bearer t"}).respond_with_data("at b")
    got = await http.get(httpserver.url_for("/a"), headers={"Authorization": "Bearer t"})
    assert got.body == b"at b"


async def test_http_error_status_is_plain_words(http: HttpFetcher, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/down").respond_with_data("oops", status=500)
    with pytest.raises(SourceError) as err:
        await http.get(httpserver.url_for("/down"))
    assert str(err.value) == "HTTP 500 INTERNAL SERVER ERROR"


async def test_503_with_retry_after_seconds(http: HttpFetcher, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/busy").respond_with_data("", status=503, headers={"Retry-After": "120"})
    with pytest.raises(SourceError) as err:
        await http.get(httpserver.url_for("/busy"))
    assert err.value.retry_after == 120
    assert str(err.value).startswith("HTTP 503 SERVICE UNAVAILABLE")


async def test_429_with_retry_after_http_date(http: HttpFetcher, httpserver: HTTPServer) -> None:
    from datetime import datetime, timedelta, timezone
    from email.utils import format_datetime

    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=600), usegmt=True)
    httpserver.expect_request("/slow-down").respond_with_data("", status=429, headers={"Retry-After": when})
    with pytest.raises(SourceError) as err:
        await http.get(httpserver.url_for("/slow-down"))
    assert err.value.retry_after is not None and 500 < err.value.retry_after <= 600


async def test_error_body_can_be_read_when_asked(http: HttpFetcher, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api").respond_with_json({"error": "ExpiredToken"}, status=400)
    got = await http.get(httpserver.url_for("/api"), raise_for_status=False)
    assert got.status == 400 and b"ExpiredToken" in got.body


async def test_hostile_reason_phrase_is_cleaned(http: HttpFetcher, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/x").respond_with_response(Response("", status="418 \x1b]0;pwned\x07Teapot"))
    with pytest.raises(SourceError) as err:
        await http.get(httpserver.url_for("/x"))
    assert "\x1b" not in str(err.value) and "\x07" not in str(err.value)
    assert str(err.value).startswith("HTTP 418")


async def test_connection_refused(http: HttpFetcher) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(SourceError) as err:
        await http.get(f"http://127.0.0.1:{port}/")
    assert str(err.value) == "connection refused"


async def test_rate_limit_headers_are_recorded(http: HttpFetcher, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/m").respond_with_json(
        [], headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2099-01-01T00:00:00.000Z"}
    )
    httpserver.expect_request("/r").respond_with_json(
        [], headers={"x-ratelimit-remaining": "97.0", "x-ratelimit-reset": "300"}
    )
    state = SourceState()
    record_rate_limit(state, await http.get(httpserver.url_for("/m")))
    assert state.rate_limit_remaining == 0 and state.rate_limit_reset is not None
    assert state.rate_limit_reset.year == 2099
    record_rate_limit(state, await http.get(httpserver.url_for("/r")))
    assert state.rate_limit_remaining == 97


def test_retry_after_parsing() -> None:
    assert parse_retry_after("30") == 30
    assert parse_retry_after("-5") == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("99999999999") == 6 * 3600  # a server cannot silence us for years
    assert parse_retry_after(None) is None


def test_validators_from_a_server_are_checked() -> None:
    assert safe_validator('W/"abc"') == 'W/"abc"'
    assert safe_validator("bad\r\nX-Injected: 1") is None
    assert safe_validator("x" * 10_000) is None


async def test_client_closes(httpserver: HTTPServer) -> None:
    fetcher = HttpFetcher()
    await fetcher.aclose()
    assert fetcher.closed


async def test_more_requests_than_connections_queue_instead_of_failing(httpserver: HTTPServer) -> None:
    import asyncio

    httpserver.expect_request("/q").respond_with_data("ok")
    async with HttpFetcher(max_connections=2) as small:
        results = await asyncio.gather(*(small.get(httpserver.url_for("/q")) for _ in range(10)))
    assert [r.body for r in results] == [b"ok"] * 10
