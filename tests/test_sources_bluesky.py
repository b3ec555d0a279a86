"""Bluesky search and author feeds, sessions and follower lookups, over a local XRPC stand-in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from watchtower.config import BlueskySource as BlueskySpec
from watchtower.core.fetch.http import HttpFetcher
from watchtower.core.pipeline.poller import Poller
from watchtower.core.sources import build_source
from watchtower.core.sources.base import SourceError, SourceState
from watchtower.core.sources.bluesky import MAX_PAGES, BlueskySource

FIX = Path(__file__).parent / "fixtures" / "sources"
ENV = {"BSKY_HANDLE": "library.example", "BSKY_PASSWORD": "app-pass-secret"}


def _doc(name: str) -> bytes:
    return (FIX / name).read_bytes()


def _source(httpserver: HTTPServer, **kw: object) -> BlueskySource:
    base = httpserver.url_for("").rstrip("/")
    kw.setdefault("url", base)
    kw.setdefault("auth_url", base)
    src = build_source(BlueskySpec(kind="bluesky", name="bsky", platform="Bluesky", **kw), env=ENV)
    assert isinstance(src, BlueskySource)
    return src


def _profiles(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/xrpc/app.bsky.actor.getProfiles").respond_with_data(
        _doc("bsky_profiles.json"), content_type="application/json"
    )


async def test_search_without_login_maps_post_views(httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        "/xrpc/app.bsky.feed.searchPosts", query_string="limit=50&q=library&sort=latest"
    ).respond_with_data(_doc("bsky_search.json"), content_type="application/json")
    _profiles(httpserver)
    state = SourceState()
    async with HttpFetcher() as http:
        items = await _source(httpserver, query="library").fetch(http, state)
    assert len(items) == 2  # the post listed twice appears once
    critic, reader = items
    assert critic.native_id == "at://did:plc:critic111/app.bsky.feed.post/3kabc1"
    assert critic.url == "https://bsky.app/profile/critic.bsky.social/post/3kabc1"
    assert critic.author == "@critic.bsky.social" and critic.author_name == "Critic evil"
    assert critic.author_followers == 48000
    assert (critic.engagement.replies, critic.engagement.reposts, critic.engagement.likes) == (2, 6, 11)
    assert critic.published.isoformat() == "2024-01-02T09:30:00+00:00" and critic.language == "en"
    # handle.invalid: the DID stands in, in the author and in the link.
    assert reader.author == "did:plc:reader222"
    assert reader.url == "https://bsky.app/profile/did:plc:reader222/post/3kabc0"
    assert reader.in_reply_to == "at://did:plc:library/app.bsky.feed.post/3kparent"
    assert reader.author_followers is None and reader.language == "nl"
    assert state.cursor["newest"] == "2024-01-02T09:30:01.123000+00:00"
    # One getProfiles call with both authors.
    calls = [r for r, _ in httpserver.log if r.path.endswith("getProfiles")]
    assert len(calls) == 1 and calls[0].args.getlist("actors") == ["did:plc:critic111", "did:plc:reader222"]


async def test_profiles_are_batched_by_25_and_cached(httpserver: HTTPServer) -> None:
    posts = [
        json.loads(_doc("bsky_search.json"))["posts"][0] | {
            "uri": f"at://did:plc:a{n}/app.bsky.feed.post/3k{n}",
            "author": {"did": f"did:plc:a{n}", "handle": f"a{n}.bsky.social"},
        }
        for n in range(30)
    ]
    httpserver.expect_request("/xrpc/app.bsky.feed.searchPosts").respond_with_json({"posts": posts})
    httpserver.expect_request("/xrpc/app.bsky.actor.getProfiles").respond_with_json({"profiles": []})
    src = _source(httpserver, query="x")
    async with HttpFetcher() as http:
        await src.fetch(http, SourceState())
        await src.fetch(http, SourceState())
    sizes = [len(r.args.getlist("actors")) for r, _ in httpserver.log if r.path.endswith("getProfiles")]
    assert sizes == [25, 5]  # and none on the second poll: cached


async def test_author_feed(httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        "/xrpc/app.bsky.feed.getAuthorFeed", query_string="limit=50&actor=library.example&filter=posts_with_replies"
    ).respond_with_data(_doc("bsky_author_feed.json"), content_type="application/json")
    _profiles(httpserver)
    async with HttpFetcher() as http:
        items = await _source(httpserver, mode="author", actor="library.example").fetch(http, SourceState())
    assert [i.author for i in items] == ["@library.example", "@critic.bsky.social"]
    assert items[0].author_followers == 9000


async def test_login_once_and_reuse_the_access_token(httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        "/xrpc/com.atproto.server.createSession", method="POST",
        json={"identifier": "library.example", "password": "app-pass-secret"},
    ).respond_with_data(_doc("bsky_session.json"), content_type="application/json")
    httpserver.expect_request(
        "/xrpc/app.bsky.feed.searchPosts", headers={"Authorization": "Bearer access-1"}
    ).respond_with_data(_doc("bsky_search.json"), content_type="application/json")
    _profiles(httpserver)
    src = _source(httpserver, query="library", handle_env="BSKY_HANDLE", password_env="BSKY_PASSWORD")
    async with HttpFetcher() as http:
        for _ in range(3):
            assert len(await src.fetch(http, SourceState())) == 2
    assert src.sessions_created == 1


async def test_expired_token_is_refreshed_not_recreated(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/xrpc/com.atproto.server.createSession", method="POST").respond_with_data(
        _doc("bsky_session.json"), content_type="application/json"
    )
    httpserver.expect_request(
        "/xrpc/com.atproto.server.refreshSession", method="POST", headers={"Authorization": "Bearer refresh-1"}
    ).respond_with_json({"did": "did:plc:library", "handle": "library.example", "accessJwt": "access-2", "refreshJwt": "refresh-2"})

    def search(request: Request) -> Response:
        if request.headers.get("Authorization") == "Bearer access-2":
            return Response(_doc("bsky_search.json"), content_type="application/json")
        return Response(json.dumps({"error": "ExpiredToken", "message": "Token has expired"}), status=400,
                        content_type="application/json")

    httpserver.expect_request("/xrpc/app.bsky.feed.searchPosts").respond_with_handler(search)
    _profiles(httpserver)
    src = _source(httpserver, query="library", handle_env="BSKY_HANDLE", password_env="BSKY_PASSWORD")
    async with HttpFetcher() as http:
        assert len(await src.fetch(http, SourceState())) == 2
    assert src.sessions_created == 1


async def test_bad_password_is_plain_words_without_the_secret(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/xrpc/com.atproto.server.createSession", method="POST").respond_with_json(
        {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}, status=401
    )
    src = _source(httpserver, query="library", handle_env="BSKY_HANDLE", password_env="BSKY_PASSWORD")
    async with HttpFetcher() as http:
        with pytest.raises(SourceError) as err:
            await src.fetch(http, SourceState())
    assert "BSKY_PASSWORD" in str(err.value) and "app-pass-secret" not in str(err.value)
    assert err.value.permanent


async def test_missing_password_env_names_the_variable(httpserver: HTTPServer) -> None:
    spec = BlueskySpec(kind="bluesky", name="b", platform="Bluesky", query="x", url=httpserver.url_for("/"),
                       handle_env="BSKY_HANDLE", password_env="NOPE_PASSWORD")
    src = build_source(spec, env=ENV)
    async with HttpFetcher() as http:
        with pytest.raises(SourceError, match="NOPE_PASSWORD is not set"):
            await src.fetch(http, SourceState())
    assert len(httpserver.log) == 0


async def test_a_cursor_that_stops_changing_does_not_loop(httpserver: HTTPServer) -> None:
    later = json.loads(_doc("bsky_search_newer.json"))
    stuck = {"cursor": "same", "posts": later["posts"]}
    httpserver.expect_request("/xrpc/app.bsky.feed.searchPosts").respond_with_json(stuck)
    _profiles(httpserver)
    src = _source(httpserver, query="x")
    # As if an older post had been seen, so every page looks new and paging would go on.
    state = SourceState(cursor={"newest": "2024-01-01T00:00:00+00:00"})
    async with HttpFetcher() as http:
        items = await src.fetch(http, state)
    searches = [r for r, _ in httpserver.log if r.path.endswith("searchPosts")]
    assert len(items) == 1 and 1 < len(searches) <= MAX_PAGES
    assert searches[1].args.get("cursor") == "same"


async def test_a_cursor_that_changes_forever_stops_at_max_pages(httpserver: HTTPServer) -> None:
    counter = {"n": 0}

    def endless(request: Request) -> Response:
        counter["n"] += 1
        doc = json.loads(_doc("bsky_search_newer.json"))
        doc["cursor"] = f"c{counter['n']}"
        return Response(json.dumps(doc), content_type="application/json")

    httpserver.expect_request("/xrpc/app.bsky.feed.searchPosts").respond_with_handler(endless)
    _profiles(httpserver)
    state = SourceState(cursor={"newest": "2024-01-01T00:00:00+00:00"})
    async with HttpFetcher() as http:
        await _source(httpserver, query="x").fetch(http, state)
    assert counter["n"] == MAX_PAGES


async def test_second_poll_stops_paging_at_what_was_seen(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/xrpc/app.bsky.feed.searchPosts").respond_with_data(
        _doc("bsky_search.json"), content_type="application/json"
    )
    httpserver.expect_oneshot_request("/xrpc/app.bsky.feed.searchPosts").respond_with_data(
        _doc("bsky_search.json"), content_type="application/json"
    )
    _profiles(httpserver)
    poller = Poller([_source(httpserver, query="library")])
    try:
        first = await poller.poll("bsky")
        second = await poller.poll("bsky")
    finally:
        await poller.aclose()
    assert len(first.new_items) == 2 and second.ok and second.new_items == []
    assert len([r for r, _ in httpserver.log if r.path.endswith("searchPosts")]) == 2


async def test_profile_failure_does_not_fail_the_poll(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/xrpc/app.bsky.feed.searchPosts").respond_with_data(
        _doc("bsky_search.json"), content_type="application/json"
    )
    httpserver.expect_request("/xrpc/app.bsky.actor.getProfiles").respond_with_data("<html>oops</html>", status=502)
    async with HttpFetcher() as http:
        items = await _source(httpserver, query="library").fetch(http, SourceState())
    assert len(items) == 2 and all(i.author_followers is None for i in items)


@pytest.mark.parametrize(
    ("status", "body", "words"),
    [
        (200, b"<!doctype html><html></html>", "got HTML"),
        (200, b'{"posts": "nope"}', "no 'posts' list"),
        (400, b'{"error": "InvalidRequest", "message": "bad query"}', "HTTP 400 BAD REQUEST (InvalidRequest)"),
        (200, b'{"posts": [' + b"[" * 50_000, "nested too deeply"),
    ],
)
async def test_bad_responses(httpserver: HTTPServer, status: int, body: bytes, words: str) -> None:
    httpserver.expect_request("/xrpc/app.bsky.feed.searchPosts").respond_with_data(
        body, status=status, content_type="application/json"
    )
    async with HttpFetcher() as http:
        with pytest.raises(SourceError) as err:
            await _source(httpserver, query="x").fetch(http, SourceState())
    assert words in str(err.value)
