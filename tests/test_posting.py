"""Posting replies to Mastodon and Bluesky, against local HTTP servers.

Each handler checks the documented request shape (endpoint, auth header, body fields)
and answers like the real API; errors must be clear and never carry a secret.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from watchtower.config import parse_config
from watchtower.core.models import Item
from watchtower.core.respond.posting import (
    BlueskyPoster,
    Poster,
    PostResult,
    ReplyTarget,
    can_post,
    idempotency_key,
    link_facets,
    post_mastodon,
    why_cannot_post,
)

TOKEN = "s3cret-mastodon-token-1234"
PASSWORD = "abcd-efgh-ijkl-mnop"
JWT = "eyJ.access.jwt-5678"
ENV = {"WT_MASTODON_TOKEN": TOKEN, "WT_BSKY_PASSWORD": PASSWORD}
DID = "did:plc:ourlibrary"
ROOT_URI = "at://did:plc:root/app.bsky.feed.post/3root"
PARENT_URI = "at://did:plc:jan/app.bsky.feed.post/3parent"


def make_config(server: HTTPServer):
    base = server.url_for("/").rstrip("/")
    return parse_config(
        {
            "organisation": {
                "name": "Bibliotheek Zuidstad",
                "qa_url": "https://bibliotheekzuidstad.nl/qa",
                "accounts": [
                    {"platform": "Mastodon", "handle": "@bieb@localhost", "token_env": "WT_MASTODON_TOKEN", "api_url": base},
                    {"platform": "Bluesky", "handle": "@bibzuidstad.bsky.social", "password_env": "WT_BSKY_PASSWORD", "api_url": base},
                    {"platform": "X", "handle": "@bibzuidstad"},
                ],
            },
        }
    )


def mastodon_item(server: HTTPServer, **kw: object) -> Item:
    fields: dict[str, object] = dict(
        platform="Mastodon", source="mastodon-mentions", native_id="109", author="jan@social.example",
        text="Waarom is de bieb dicht?", published=datetime(2025, 3, 14, 13, 2, tzinfo=timezone.utc),
        url=server.url_for("/@jan@social.example/109"),
    )
    fields.update(kw)
    return Item.create(**fields)  # type: ignore[arg-type]


def bluesky_item(**kw: object) -> Item:
    fields: dict[str, object] = dict(
        platform="Bluesky", source="bsky-search", native_id=PARENT_URI, author="jan.bsky.social",
        text="De catalogus doet het niet", published=datetime(2025, 3, 14, 13, 2, tzinfo=timezone.utc),
        url="https://bsky.app/profile/jan.bsky.social/post/3parent",
    )
    fields.update(kw)
    return Item.create(**fields)  # type: ignore[arg-type]


def account(cfg, platform: str):
    return next(a for a in cfg.organisation.accounts if a.platform == platform)


# --- can we post ------------------------------------------------------------------------


def test_can_post(httpserver: HTTPServer) -> None:
    cfg = make_config(httpserver)
    masto, bsky, x = (account(cfg, p) for p in ("Mastodon", "Bluesky", "X"))
    assert can_post("Mastodon", masto, ENV) and can_post("bluesky", bsky, ENV)
    assert not can_post("X", x, ENV)
    assert "copy the reply" in (why_cannot_post("X/Twitter", x, ENV) or "")
    assert not can_post("Mastodon", masto, {})
    assert why_cannot_post("Mastodon", masto, {}) == "the environment variable WT_MASTODON_TOKEN is not set"
    assert not can_post("Mastodon", None, ENV)
    assert not can_post("Facebook", None, ENV)


# --- Mastodon ---------------------------------------------------------------------------


async def test_mastodon_reply_has_the_documented_shape(httpserver: HTTPServer) -> None:
    cfg = make_config(httpserver)
    item = mastodon_item(httpserver)
    seen: list[tuple[dict, dict]] = []

    def handler(request: Request) -> Response:
        seen.append((json.loads(request.data), dict(request.headers)))
        return Response(json.dumps({"id": "110", "url": "https://localhost/@bieb/110"}), 200, content_type="application/json")

    httpserver.expect_request("/api/v1/statuses", method="POST").respond_with_handler(handler)
    text = "We kijken ernaar. Meer info: https://bibliotheekzuidstad.nl/qa"
    first = await post_mastodon(account(cfg, "Mastodon"), item, text, language="nl", env=ENV)
    again = await post_mastodon(account(cfg, "Mastodon"), item, text, language="nl", env=ENV)
    assert first == PostResult(True, url="https://localhost/@bieb/110", id="110")
    assert again.ok
    body, headers = seen[0]
    assert body == {
        "status": "@jan@social.example " + text,  # the mention is put in front
        "in_reply_to_id": "109",  # same instance: the native id as is, no lookup
        "language": "nl",
        "visibility": "public",
    }
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    key = headers["Idempotency-Key"]
    assert key == idempotency_key("@bieb@localhost", item.id, body["status"])
    assert seen[1][1]["Idempotency-Key"] == key  # a retry is recognised, never a double post
    other = await post_mastodon(account(cfg, "Mastodon"), item, text + "!", env=ENV)
    assert other.ok and seen[2][1]["Idempotency-Key"] != key
    assert "language" not in seen[2][0]


async def test_mastodon_keeps_an_existing_mention(httpserver: HTTPServer) -> None:
    cfg = make_config(httpserver)
    httpserver.expect_request(
        "/api/v1/statuses", method="POST",
        json={"status": "Hoi @Jan@social.example, we kijken ernaar.", "in_reply_to_id": "109", "visibility": "public"},
    ).respond_with_json({"id": "111", "url": "https://localhost/@bieb/111"})
    result = await post_mastodon(account(cfg, "Mastodon"), mastodon_item(httpserver), "Hoi @Jan@social.example, we kijken ernaar.", env=ENV)
    assert result.ok, result.error


async def test_mastodon_looks_up_a_status_from_another_instance(httpserver: HTTPServer) -> None:
    cfg = make_config(httpserver)
    item = mastodon_item(httpserver, native_id="98765", url="https://social.example/@jan/98765")
    httpserver.expect_request(
        "/api/v2/search",
        query_string={"q": "https://social.example/@jan/98765", "resolve": "true", "type": "statuses", "limit": "1"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    ).respond_with_json({"accounts": [], "hashtags": [], "statuses": [{"id": "4242"}]})
    httpserver.expect_request("/api/v1/statuses", method="POST").respond_with_handler(
        lambda r: Response(json.dumps({"id": "1", "url": "u", "echo": json.loads(r.data)}), 200, content_type="application/json")
    )
    poster = Poster(cfg, env=ENV)
    try:
        result = await poster.reply(item, "Dank voor het melden.")
    finally:
        await poster.aclose()
    assert result.ok, result.error
    posted = json.loads(httpserver.log[-1][0].data)
    assert posted["in_reply_to_id"] == "4242"


@pytest.mark.parametrize(
    ("status", "payload", "expected"),
    [
        (401, {"error": "The access token is invalid"}, "Mastodon refused the access token (HTTP 401); check $WT_MASTODON_TOKEN"),
        (422, {"error": f"Validation failed: Text character limit exceeded for {TOKEN}"}, "Mastodon did not accept the reply (HTTP 422): Validation failed: Text character limit exceeded for ***"),
        (503, "<html>down</html>", "the Mastodon server had a problem (HTTP 503)"),
    ],
)
async def test_mastodon_errors_are_clear_and_keep_the_token_out(
    httpserver: HTTPServer, status: int, payload: object, expected: str
) -> None:
    cfg = make_config(httpserver)
    if isinstance(payload, dict):
        httpserver.expect_request("/api/v1/statuses", method="POST").respond_with_json(payload, status=status)
    else:
        httpserver.expect_request("/api/v1/statuses", method="POST").respond_with_data(payload, status=status)
    result = await post_mastodon(account(cfg, "Mastodon"), mastodon_item(httpserver), "Sorry!", env=ENV)
    assert not result.ok and result.error is not None
    assert result.error.startswith(expected)
    assert TOKEN not in result.error


async def test_mastodon_timeout_and_missing_token(httpserver: HTTPServer) -> None:
    cfg = make_config(httpserver)

    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(boom)) as client:
        result = await post_mastodon(account(cfg, "Mastodon"), mastodon_item(httpserver), "Sorry!", env=ENV, client=client, timeout=5)
    assert not result.ok and "no answer from localhost within 5 s" in (result.error or "")
    missing = await post_mastodon(account(cfg, "Mastodon"), mastodon_item(httpserver), "Sorry!", env={})
    assert missing.error == "the environment variable WT_MASTODON_TOKEN is not set"
    too_long = await post_mastodon(account(cfg, "Mastodon"), mastodon_item(httpserver), "x" * 500, env=ENV)
    assert not too_long.ok and "too long for Mastodon" in (too_long.error or "")


# --- Bluesky ----------------------------------------------------------------------------


def _bluesky_server(httpserver: HTTPServer, records: list[dict]) -> None:
    httpserver.expect_request(
        "/xrpc/com.atproto.server.createSession", method="POST",
        json={"identifier": "bibzuidstad.bsky.social", "password": PASSWORD},
    ).respond_with_json({"accessJwt": JWT, "refreshJwt": "r", "did": DID, "handle": "bibzuidstad.bsky.social"})
    httpserver.expect_request(
        "/xrpc/app.bsky.feed.getPosts", method="GET", query_string={"uris": PARENT_URI},
        headers={"Authorization": f"Bearer {JWT}"},
    ).respond_with_json(
        {"posts": [{
            "uri": PARENT_URI, "cid": "bafyparent",
            "record": {"$type": "app.bsky.feed.post", "text": "x", "createdAt": "2025-03-14T13:00:00Z",
                       "reply": {"root": {"uri": ROOT_URI, "cid": "bafyroot"}, "parent": {"uri": ROOT_URI, "cid": "bafyroot"}}},
        }]}
    )

    def create(request: Request) -> Response:
        assert request.headers["Authorization"] == f"Bearer {JWT}"
        body = json.loads(request.data)
        records.append(body)
        n = len(records)
        return Response(json.dumps({"uri": f"at://{DID}/app.bsky.feed.post/3new{n}", "cid": f"bafynew{n}"}), 200, content_type="application/json")

    httpserver.expect_request("/xrpc/com.atproto.repo.createRecord", method="POST").respond_with_handler(create)


def _calls(httpserver: HTTPServer, path: str) -> int:
    return sum(1 for request, _ in httpserver.log if request.path == path)


async def test_bluesky_session_is_reused_and_reply_refs_are_right(httpserver: HTTPServer) -> None:
    cfg = make_config(httpserver)
    records: list[dict] = []
    _bluesky_server(httpserver, records)
    poster = Poster(cfg, env=ENV)
    try:
        # 1: the item is itself a reply; the cid and the thread root are looked up.
        first = await poster.reply(bluesky_item(), "We kijken ernaar.", language="nl")
        # 2: the connector handed us the refs; the parent is the root.
        target = ReplyTarget(uri="at://did:plc:piet/app.bsky.feed.post/3top", cid="bafytop")
        second = await poster.reply(bluesky_item(native_id="h:abc", url=None), "Dank je!", target=target)
    finally:
        await poster.aclose()
    assert first == PostResult(True, url="https://bsky.app/profile/bibzuidstad.bsky.social/post/3new1", id=f"at://{DID}/app.bsky.feed.post/3new1")
    assert second.ok, second.error
    assert _calls(httpserver, "/xrpc/com.atproto.server.createSession") == 1
    assert _calls(httpserver, "/xrpc/com.atproto.repo.createRecord") == 2

    one, two = records
    assert one["repo"] == DID and one["collection"] == "app.bsky.feed.post"
    rec = one["record"]
    assert rec["$type"] == "app.bsky.feed.post" and rec["text"] == "We kijken ernaar." and rec["langs"] == ["nl"]
    assert rec["reply"] == {
        "root": {"uri": ROOT_URI, "cid": "bafyroot"},
        "parent": {"uri": PARENT_URI, "cid": "bafyparent"},
    }
    assert datetime.fromisoformat(rec["createdAt"].replace("Z", "+00:00")).tzinfo is not None
    assert "facets" not in rec
    assert two["record"]["reply"] == {
        "root": {"uri": target.uri, "cid": "bafytop"},
        "parent": {"uri": target.uri, "cid": "bafytop"},
    }
    assert "langs" not in two["record"]


async def test_bluesky_link_facets_use_utf8_byte_offsets(httpserver: HTTPServer) -> None:
    cfg = make_config(httpserver)
    records: list[dict] = []
    _bluesky_server(httpserver, records)
    url = "https://bibliotheekzuidstad.nl/qa"
    text = f"Café 👩\u200d👩\u200d👧 — zie {url}. Of https://example.nl/x 🙏"
    poster = BlueskyPoster(account(cfg, "Bluesky"), env=ENV)
    try:
        result = await poster.post(bluesky_item(), text, target=ReplyTarget(PARENT_URI, "bafyparent"))
    finally:
        await poster.aclose()
    assert result.ok, result.error
    facets = records[0]["record"]["facets"]
    raw = text.encode("utf-8")
    start = raw.index(url.encode())
    assert facets[0] == {
        "$type": "app.bsky.richtext.facet",
        "index": {"byteStart": start, "byteEnd": start + len(url)},
        "features": [{"$type": "app.bsky.richtext.facet#link", "uri": url}],
    }
    assert start > text.index(url)  # multi-byte characters before the link moved it
    for facet in facets:
        i = facet["index"]
        assert raw[i["byteStart"]: i["byteEnd"]].decode() == facet["features"][0]["uri"]
    assert [f["features"][0]["uri"] for f in facets] == [url, "https://example.nl/x"]
    assert link_facets("no links here") == []


async def test_bluesky_login_refused_is_clear_without_the_password(httpserver: HTTPServer) -> None:
    cfg = make_config(httpserver)
    httpserver.expect_request("/xrpc/com.atproto.server.createSession", method="POST").respond_with_json(
        {"error": "AuthenticationRequired", "message": f"Invalid identifier or password {PASSWORD}"}, status=401
    )
    poster = BlueskyPoster(account(cfg, "Bluesky"), env=ENV)
    try:
        result = await poster.post(bluesky_item(), "Hallo")
    finally:
        await poster.aclose()
    assert not result.ok and result.error is not None
    assert result.error.startswith("Bluesky refused the login for bibzuidstad.bsky.social (HTTP 401")
    assert "check the app password in $WT_BSKY_PASSWORD" in result.error
    assert PASSWORD not in result.error and JWT not in result.error


async def test_bluesky_rejected_record_and_expired_session(httpserver: HTTPServer) -> None:
    cfg = make_config(httpserver)
    httpserver.expect_request("/xrpc/com.atproto.server.createSession", method="POST").respond_with_json(
        {"accessJwt": JWT, "refreshJwt": "r", "did": DID, "handle": "bibzuidstad.bsky.social"}
    )
    answers = [
        ({"error": "ExpiredToken", "message": "Token has expired"}, 400),
        ({"error": "InvalidRequest", "message": f"Invalid app.bsky.feed.post record {JWT}"}, 400),
    ]
    httpserver.expect_request("/xrpc/com.atproto.repo.createRecord", method="POST").respond_with_handler(
        lambda r: Response(json.dumps(answers[0][0]), answers.pop(0)[1], content_type="application/json")
    )
    poster = BlueskyPoster(account(cfg, "Bluesky"), env=ENV)
    try:
        result = await poster.post(bluesky_item(), "Hallo", target=ReplyTarget(PARENT_URI, "bafyparent"))
    finally:
        await poster.aclose()
    # The expired session was replaced once; the second answer is reported in words.
    assert _calls(httpserver, "/xrpc/com.atproto.server.createSession") == 2
    assert result.error == "Bluesky did not accept the reply (HTTP 400: InvalidRequest: Invalid app.bsky.feed.post record ***)"


async def test_bluesky_needs_a_post_address_and_a_short_text(httpserver: HTTPServer) -> None:
    cfg = make_config(httpserver)
    _bluesky_server(httpserver, [])
    poster = BlueskyPoster(account(cfg, "Bluesky"), env=ENV)
    try:
        nowhere = await poster.post(bluesky_item(native_id="h:1", url="https://example.nl/x"), "Hallo")
        long = await poster.post(bluesky_item(), "é" * 301)
    finally:
        await poster.aclose()
    assert "no Bluesky post address" in (nowhere.error or "")
    assert long.error == "the reply is 1 character too long for Bluesky (301/300)"


async def test_reading_and_posting_as_one_account_log_in_once(httpserver: HTTPServer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The organisation reads its Bluesky search and replies with the same account: one
    session for both (createSession is rate limited), through the monitor's store."""
    from watchtower.core.pipeline.monitor import Monitor

    base = httpserver.url_for("/").rstrip("/")
    cfg = parse_config({
        "organisation": {"name": "Bibliotheek Zuidstad", "accounts": [
            {"platform": "Bluesky", "handle": "@bibzuidstad.bsky.social", "password_env": "WT_BSKY_PASSWORD", "api_url": base},
        ]},
        "sources": [{"kind": "bluesky", "name": "bsky-search", "platform": "Bluesky", "url": base, "auth_url": base,
                     "query": "bieb", "handle_env": "WT_BSKY_HANDLE", "password_env": "WT_BSKY_PASSWORD"}],
    })
    env = {**ENV, "WT_BSKY_HANDLE": "bibzuidstad.bsky.social"}
    records: list[dict] = []
    _bluesky_server(httpserver, records)
    httpserver.expect_request("/xrpc/app.bsky.feed.searchPosts", headers={"Authorization": f"Bearer {JWT}"}
                              ).respond_with_json({"posts": []})
    monitor = Monitor(cfg, data_dir=tmp_path / "data", env=env)
    poster = Poster(cfg, env=env, sessions=monitor.bluesky_sessions)
    try:
        polled = await monitor.poll("bsky-search")
        assert polled.poll.ok, polled.poll.error
        replied = await poster.reply(bluesky_item(), "Een")
    finally:
        await poster.aclose()
        await monitor.aclose()
    assert replied.ok, replied.error
    assert _calls(httpserver, "/xrpc/com.atproto.server.createSession") == 1
