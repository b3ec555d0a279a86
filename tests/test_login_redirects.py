"""A login body (the Bluesky app password) never follows a redirect to another origin.

Two real HTTP servers on 127.0.0.1 with different ports are two origins.  The "home"
server answers the login with a redirect to the "other" one; the other one must never
see a request at all, let alone the password, on both login paths: the Bluesky source
(``core/fetch/http.py`` through ``core/sources/bluesky.py``) and posting (``core/respond/posting.py``).
A 307 on the same origin is still followed, body and all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timezone

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from watchtower.config import BlueskySource as BlueskySpec
from watchtower.config import parse_config
from watchtower.core.fetch.http import HttpFetcher
from watchtower.core.models import Item
from watchtower.core.respond.posting import BlueskyPoster, ReplyTarget
from watchtower.core.sources import build_source
from watchtower.core.sources.base import SourceError, SourceState
from watchtower.core.sources.bluesky import BlueskySource

PASSWORD = "app-pass-secret-9876"
ENV = {"BSKY_HANDLE": "library.example", "BSKY_PASSWORD": PASSWORD}
SESSION = {"accessJwt": "access-1", "refreshJwt": "refresh-1", "did": "did:plc:library", "handle": "library.example"}
CREATE_SESSION = "/xrpc/com.atproto.server.createSession"
PARENT_URI = "at://did:plc:jan/app.bsky.feed.post/3parent"


def _server() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()


@pytest.fixture
def home() -> Iterator[HTTPServer]:
    yield from _server()


@pytest.fixture
def other() -> Iterator[HTTPServer]:
    """The other origin: it answers everything, so a leak would be seen, not refused."""
    for server in _server():
        server.expect_request(re.compile(".*")).respond_with_json(SESSION)
        yield server


def _origin_of(server: HTTPServer) -> str:
    return f"127.0.0.1:{server.port}"


def _saw_nothing(server: HTTPServer) -> None:
    seen = [(r.method, r.path, r.get_data()) for r, _ in server.log]
    assert seen == [], f"the other origin received {seen}"


def _source(home: HTTPServer) -> BlueskySource:
    base = home.url_for("").rstrip("/")
    spec = BlueskySpec(
        kind="bluesky", name="bsky", platform="Bluesky", query="library", url=base, auth_url=base,
        handle_env="BSKY_HANDLE", password_env="BSKY_PASSWORD",
    )
    src = build_source(spec, env=ENV)
    assert isinstance(src, BlueskySource)
    return src


def _check_login(request: Request) -> Response:
    body = json.loads(request.get_data())
    assert body == {"identifier": "library.example", "password": PASSWORD}
    return Response(json.dumps(SESSION), 200, content_type="application/json")


# --- the Bluesky source (core/fetch/http.py) ------------------------------------------------


@pytest.mark.parametrize("status", [307, 308, 301, 302, 303])
async def test_source_login_redirected_to_another_origin_never_sends_the_password(
    home: HTTPServer, other: HTTPServer, status: int
) -> None:
    home.expect_request(CREATE_SESSION, method="POST").respond_with_data(
        "", status=status, headers={"Location": other.url_for(CREATE_SESSION)}
    )
    src = _source(home)
    async with HttpFetcher() as http:
        with pytest.raises(SourceError) as err:
            await src.fetch(http, SourceState())
    assert str(err.value) == (
        f"login redirected to another host ({_origin_of(other)}); not sending the password there"
    )
    assert err.value.permanent
    _saw_nothing(other)


async def test_source_login_same_origin_307_still_logs_in(home: HTTPServer, other: HTTPServer) -> None:
    home.expect_request(CREATE_SESSION, method="POST").respond_with_data(
        "", status=307, headers={"Location": "/pds/xrpc/com.atproto.server.createSession"}
    )
    home.expect_request("/pds/xrpc/com.atproto.server.createSession", method="POST").respond_with_handler(_check_login)
    home.expect_request("/xrpc/app.bsky.feed.searchPosts", headers={"Authorization": "Bearer access-1"}).respond_with_json(
        {"posts": []}
    )
    src = _source(home)
    async with HttpFetcher() as http:
        assert await src.fetch(http, SourceState()) == []
    assert src.sessions_created == 1
    paths = [r.path for r, _ in home.log]
    assert paths[:2] == [CREATE_SESSION, "/pds/xrpc/com.atproto.server.createSession"]
    _saw_nothing(other)


async def test_fetcher_without_a_secret_body_still_follows_cross_origin(home: HTTPServer, other: HTTPServer) -> None:
    """Only requests that say their body is secret are held back; a feed may move hosts."""
    home.expect_request("/feed").respond_with_data("", status=307, headers={"Location": other.url_for("/feed")})
    async with HttpFetcher() as http:
        got = await http.get(home.url_for("/feed"), headers={"Authorization": "Bearer t"})
    assert got.status == 200 and got.redirects == [other.url_for("/feed")]
    assert [r.headers.get("Authorization") for r, _ in other.log] == [None]


# --- posting (core/respond/posting.py) --------------------------------------------------------


def _account(home: HTTPServer):
    cfg = parse_config(
        {
            "organisation": {
                "name": "Bibliotheek Zuidstad",
                "accounts": [
                    {"platform": "Bluesky", "handle": "@library.example", "password_env": "BSKY_PASSWORD",
                     "api_url": home.url_for("").rstrip("/")},
                ],
            },
        }
    )
    return cfg.organisation.accounts[0]


def _item() -> Item:
    return Item.create(
        platform="Bluesky", source="bsky", native_id=PARENT_URI, author="jan.bsky.social",
        text="De catalogus doet het niet", published=datetime(2025, 3, 14, 13, 2, tzinfo=timezone.utc),
        url="https://bsky.app/profile/jan.bsky.social/post/3parent",
    )


async def _post(home: HTTPServer, client: httpx.AsyncClient | None):
    poster = BlueskyPoster(_account(home), env=ENV, client=client)
    try:
        return await poster.post(_item(), "We kijken ernaar.", target=ReplyTarget(PARENT_URI, "bafyparent"))
    finally:
        await poster.aclose()
        if client is not None:
            await client.aclose()


def _created(request: Request) -> Response:
    assert request.headers["Authorization"] == "Bearer access-1"
    return Response(
        json.dumps({"uri": "at://did:plc:library/app.bsky.feed.post/3new", "cid": "bafynew"}), 200,
        content_type="application/json",
    )


# A client handed in that follows redirects itself: httpx would re-send a 307's body.
CLIENTS = {"own client": lambda: None, "client following redirects": lambda: httpx.AsyncClient(follow_redirects=True)}


@pytest.mark.parametrize("client", CLIENTS.values(), ids=CLIENTS.keys())
@pytest.mark.parametrize("status", [307, 308])
async def test_posting_login_redirected_to_another_origin_never_sends_the_password(
    home: HTTPServer, other: HTTPServer, status: int, client
) -> None:
    home.expect_request(CREATE_SESSION, method="POST").respond_with_data(
        "", status=status, headers={"Location": other.url_for(CREATE_SESSION)}
    )
    result = await _post(home, client())
    assert not result.ok
    assert result.error == f"login redirected to another host ({_origin_of(other)}); not sending the password there"
    _saw_nothing(other)


async def test_posting_reply_redirected_to_another_origin_is_not_sent(home: HTTPServer, other: HTTPServer) -> None:
    home.expect_request(CREATE_SESSION, method="POST").respond_with_handler(_check_login)
    home.expect_request("/xrpc/com.atproto.repo.createRecord", method="POST").respond_with_data(
        "", status=307, headers={"Location": other.url_for("/xrpc/com.atproto.repo.createRecord")}
    )
    result = await _post(home, None)
    assert not result.ok
    assert result.error == (
        f"reply redirected to another host ({_origin_of(other)}); not sending the session token there"
    )
    _saw_nothing(other)


@pytest.mark.parametrize("client", CLIENTS.values(), ids=CLIENTS.keys())
async def test_posting_login_same_origin_307_still_posts(home: HTTPServer, other: HTTPServer, client) -> None:
    home.expect_request(CREATE_SESSION, method="POST").respond_with_data(
        "", status=307, headers={"Location": "/pds/xrpc/com.atproto.server.createSession"}
    )
    home.expect_request("/pds/xrpc/com.atproto.server.createSession", method="POST").respond_with_handler(_check_login)
    home.expect_request("/xrpc/com.atproto.repo.createRecord", method="POST").respond_with_handler(_created)
    result = await _post(home, client())
    assert result.ok, result.error
    assert result.id == "at://did:plc:library/app.bsky.feed.post/3new"
    assert [r.path for r, _ in home.log][:2] == [CREATE_SESSION, "/pds/xrpc/com.atproto.server.createSession"]
    _saw_nothing(other)
