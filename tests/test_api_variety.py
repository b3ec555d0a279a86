"""Unusual and hostile JSON through the real API connectors: Mastodon, Bluesky, Reddit, mapped JSON.

Every response comes from a real HTTP server on 127.0.0.1 (pytest-httpserver) and goes
through the connector the app uses, so what is asserted is what an operator would
notice:

- one malformed entry (null, wrong types, absurd counts, unreadable numbers or bytes,
  lone surrogates, control characters) never costs the good entries around it;
- a response that is unusable as a whole (HTML login page, plain text, an error object
  with HTTP 200, the wrong top-level shape, absurd nesting) is a poll that failed with
  words, never an "internal error" (a traceback in the log) and never a quiet "nothing
  new";
- only http(s) links survive, dates are read in every form servers send them or fall
  back to "now", and a server that pages forever cannot keep a poll going.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import pytest
from pytest_httpserver import HTTPServer
from test_sources_json import MAPPING  # the mapping of the connector's own tests
from werkzeug import Request, Response

from watchtower.config import BlueskySource as BlueskySpec
from watchtower.config import JsonMapping, JsonSource
from watchtower.config import MastodonSource as MastodonSpec
from watchtower.config import RedditSource as RedditSpec
from watchtower.core.fetch.http import HttpFetcher
from watchtower.core.models import Item, utcnow
from watchtower.core.pipeline.poller import Poller
from watchtower.core.sources import build_source
from watchtower.core.sources.base import PollResult, Source, SourceError, SourceState
from watchtower.core.sources.bluesky import MAX_PAGES

FIX = Path(__file__).parent / "fixtures" / "api_variety"
LOGIN_PAGE = (Path(__file__).parent / "fixtures" / "sources" / "login.html").read_bytes()
T0 = datetime(2024, 1, 2, 9, 30, tzinfo=timezone.utc)
T0_ISO = "2024-01-02T09:30:00.000Z"

#: What must never reach a widget from content: C0 (but TAB/LF), DEL, C1, lone
#: surrogates, bidi overrides and isolates.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
_UNSAFE_ONE_LINE = re.compile("[\t\n]")


def _assert_clean(items: list[Item]) -> None:
    """Every shown field of every item is terminal-safe; links are http(s) or absent."""
    for item in items:
        for value in (item.text, item.title):
            assert not _UNSAFE.search(value), (item.native_id, value)
        for value in (item.author, item.author_name, item.native_id, item.url or "", item.in_reply_to or ""):
            assert not _UNSAFE.search(value) and not _UNSAFE_ONE_LINE.search(value), (item.native_id, value)
        assert item.url is None or item.url.lower().startswith(("http://", "https://")), item.url


# ------------------------------------------------------------------ one harness per connector


@dataclass(frozen=True)
class Api:
    """How one connector is pointed at the test server and what its documents look like."""

    kind: str
    path: str
    make: Callable[[HTTPServer], Source]
    wrap: Callable[[list[Any]], Any]
    """A list of records as the whole response document."""
    record: Callable[..., Any]
    """``record(n, text=..., likes=..., url=..., published=..., author_name=...)``: entry ``n``."""
    native_id: Callable[[int], str]
    text: Callable[[int], str]
    """The item text of an unmodified ``record(n)``."""
    extra: Callable[[HTTPServer], None] = lambda httpserver: None
    """Other endpoints the connector calls (Bluesky looks up profiles)."""


_KEEP = object()


def _base(httpserver: HTTPServer) -> str:
    return httpserver.url_for("").rstrip("/")


# Mastodon: a hashtag timeline, a JSON list of Status entities.

def _masto_source(httpserver: HTTPServer, env: dict[str, str] | None = None, **kw: Any) -> Source:
    kw.setdefault("tag", "library")
    spec = MastodonSpec(kind="mastodon", name="masto", platform="Mastodon", url=_base(httpserver), **kw)
    return build_source(spec, env=env or {})


def _masto_record(n: int, *, text: Any = _KEEP, likes: Any = 2, url: Any = _KEEP, published: Any = T0_ISO,
                  author_name: Any = _KEEP, followers: Any = 10) -> dict[str, Any]:
    sid = str(112_000_000_000_000_000 + n)
    return {
        "id": sid,
        "uri": f"https://social.example/users/u{n}/statuses/{sid}",
        "url": f"https://social.example/@u{n}/{sid}" if url is _KEEP else url,
        "created_at": published,
        # Status content is HTML: words given as a string are sent as a paragraph.
        "content": f"<p>post {n}</p>" if text is _KEEP else f"<p>{text}</p>" if isinstance(text, str) else text,
        "spoiler_text": "",
        "language": "en",
        "replies_count": 1,
        "reblogs_count": 0,
        "favourites_count": likes,
        "account": {
            "id": str(n),
            "username": f"u{n}",
            "acct": f"u{n}@social.example",
            "display_name": f"User {n}" if author_name is _KEEP else author_name,
            "url": f"https://social.example/@u{n}",
            "followers_count": followers,
        },
    }


MASTODON = Api(
    kind="mastodon",
    path="/api/v1/timelines/tag/library",
    make=_masto_source,
    wrap=lambda records: records,
    record=_masto_record,
    native_id=lambda n: f"https://social.example/users/u{n}/statuses/{112_000_000_000_000_000 + n}",
    text=lambda n: f"post {n}",
)


# Bluesky: searchPosts, an object with a list of postViews; follower counts from getProfiles.

def _bsky_source(httpserver: HTTPServer, **kw: Any) -> Source:
    kw.setdefault("query", "library")
    spec = BlueskySpec(kind="bluesky", name="bsky", platform="Bluesky", url=_base(httpserver),
                       auth_url=_base(httpserver), **kw)
    return build_source(spec, env={})


def _bsky_record(n: int, *, text: Any = _KEEP, likes: Any = 2, url: Any = _KEEP, published: Any = T0_ISO,
                 author_name: Any = _KEEP, indexed: Any = None, handle: Any = _KEEP) -> dict[str, Any]:
    # postViews carry no link: the connector builds one from the handle (``url`` is unused).
    post: dict[str, Any] = {
        "uri": f"at://did:plc:u{n}/app.bsky.feed.post/3k{n}",
        "cid": f"bafy{n}",
        "author": {
            "did": f"did:plc:u{n}",
            "handle": f"u{n}.bsky.social" if handle is _KEEP else handle,
            "displayName": f"User {n}" if author_name is _KEEP else author_name,
        },
        "record": {
            "$type": "app.bsky.feed.post",
            "text": f"post {n}" if text is _KEEP else text,
            "createdAt": published,
            "langs": ["en"],
        },
        "replyCount": 1,
        "repostCount": 0,
        "likeCount": likes,
        "quoteCount": 0,
    }
    if indexed is not None:
        post["indexedAt"] = indexed
    return post


def _no_profiles(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/xrpc/app.bsky.actor.getProfiles").respond_with_json({"profiles": []})


BLUESKY = Api(
    kind="bluesky",
    path="/xrpc/app.bsky.feed.searchPosts",
    make=_bsky_source,
    wrap=lambda records: {"posts": records},
    record=_bsky_record,
    native_id=lambda n: f"at://did:plc:u{n}/app.bsky.feed.post/3k{n}",
    text=lambda n: f"post {n}",
    extra=_no_profiles,
)


# Reddit: a search Listing of t3 Things.

def _reddit_source(httpserver: HTTPServer, **kw: Any) -> Source:
    kw.setdefault("query", "library")
    return build_source(RedditSpec(kind="reddit", name="reddit", platform="Reddit", url=_base(httpserver), **kw), env={})


def _reddit_record(n: int, *, text: Any = _KEEP, likes: Any = 2, url: Any = _KEEP, published: Any = 1704187800.0,
                   author_name: Any = _KEEP) -> dict[str, Any]:
    return {
        "kind": "t3",
        "data": {
            "name": f"t3_p{n}",
            "id": f"p{n}",
            "author": f"user{n}" if author_name is _KEEP else author_name,
            "title": f"title {n}",
            "selftext": f"post {n}" if text is _KEEP else text,
            "subreddit": "library",
            "subreddit_name_prefixed": "r/library",
            "permalink": f"/r/library/comments/p{n}/slug/" if url is _KEEP else url,
            "created_utc": published,
            "score": likes,
            "num_comments": 1,
            "num_crossposts": 0,
            "over_18": False,
        },
    }


REDDIT = Api(
    kind="reddit",
    path="/search.json",
    make=_reddit_source,
    wrap=lambda records: {"kind": "Listing", "data": {"after": None, "children": records}},
    record=_reddit_record,
    native_id=lambda n: f"t3_p{n}",
    text=lambda n: f"post {n}",
)


# Mapped JSON: any API, fields picked by dotted paths.



def _mapped_source(httpserver: HTTPServer, mapping: JsonMapping = MAPPING, **kw: Any) -> Source:
    spec = JsonSource(kind="json", name="forum", platform="Forum", url=httpserver.url_for("/api"), mapping=mapping, **kw)
    return build_source(spec, env={})


def _mapped_record(n: int, *, text: Any = _KEEP, likes: Any = 2, url: Any = _KEEP, published: Any = T0_ISO,
                   author_name: Any = _KEEP, followers: Any = 10) -> dict[str, Any]:
    return {
        "id": f"m{n}",
        "user": {"handle": f"@u{n}", "name": f"User {n}" if author_name is _KEEP else author_name, "followers": followers},
        "body": f"post {n}" if text is _KEEP else text,
        "link": f"https://forum.example/t/{n}" if url is _KEEP else url,
        "ts": published,
        "lang": "en",
        "stats": {"shares": 0, "likes": likes, "comments": 1},
    }


MAPPED = Api(
    kind="json",
    path="/api",
    make=_mapped_source,
    wrap=lambda records: {"meta": {"count": len(records)}, "data": {"posts": records}},
    record=_mapped_record,
    native_id=lambda n: f"m{n}",
    text=lambda n: f"post {n}",
)

APIS = [pytest.param(api, id=api.kind) for api in (MASTODON, BLUESKY, REDDIT, MAPPED)]


def _serve(httpserver: HTTPServer, api: Api, body: bytes | str, *, status: int = 200,
           content_type: str = "application/json", headers: dict[str, str] | None = None) -> None:
    api.extra(httpserver)
    httpserver.expect_request(api.path).respond_with_data(body, status=status, content_type=content_type,
                                                          headers=headers)


def _body(api: Api, records: list[Any]) -> bytes:
    # json.dumps writes NaN/Infinity tokens and \ud800 escapes as servers do.
    return json.dumps(api.wrap(records)).encode()


async def _fetch(src: Source, state: SourceState | None = None) -> list[Item]:
    """One fetch; anything but items or a SourceError fails the test."""
    async with HttpFetcher() as http:
        items = await src.fetch(http, state if state is not None else SourceState())
    _assert_clean(items)
    return items


async def _poll(src: Source) -> PollResult:
    """One poll as the app does it; the status is what the operator reads."""
    poller = Poller([src])
    try:
        return await poller.poll(src.name)
    finally:
        await poller.aclose()


def _by_id(items: list[Item]) -> dict[str, Item]:
    return {i.native_id: i for i in items}


def _requests(httpserver: HTTPServer, path: str) -> int:
    return len([r for r, _ in httpserver.log if r.path == path])


# ------------------------------------------------------------------ entries: the good survive the bad


@pytest.mark.parametrize("api", APIS)
async def test_junk_entries_do_not_lose_the_good_ones(httpserver: HTTPServer, api: Api) -> None:
    deep: Any = []
    for _ in range(300):
        deep = [deep]
    records = [
        None, 7, "a string", True, [], [api.record(9)], {}, {"unrelated": {"deep": [1, 2]}},
        api.record(1),
        deep,
        {"id": None, "uri": None, "name": None, "data": None},
        api.record(2),
        api.record(1, text="the same entry again"),  # a repeated id: listed once, first wins
    ]
    _serve(httpserver, api, _body(api, records))
    items = await _fetch(api.make(httpserver))
    assert [i.native_id for i in items] == [api.native_id(1), api.native_id(2)]
    assert [i.text for i in items] == [api.text(1), api.text(2)]


@pytest.mark.parametrize("api", APIS)
async def test_an_unreadable_number_or_byte_in_one_entry_keeps_the_response(httpserver: HTTPServer, api: Api) -> None:
    # A 5000-digit integer is more than Python will convert (json.loads raises), and a
    # Latin-1 byte in a UTF-8 document is not UTF-8: neither may cost the other entries.
    body = _body(api, [api.record(1, likes="__HUGE__"), api.record(2, text="caf__BYTE__ au lait"), api.record(3)])
    body = body.replace(b'"__HUGE__"', b"9" * 5000).replace(b"__BYTE__", b"\xe9")
    _serve(httpserver, api, body)
    items = _by_id(await _fetch(api.make(httpserver)))
    assert set(items) == {api.native_id(1), api.native_id(2), api.native_id(3)}
    assert items[api.native_id(1)].engagement.likes is None
    assert items[api.native_id(2)].text == "caf\ufffd au lait"
    assert items[api.native_id(3)].engagement.likes == 2


COUNTS = [
    (-5, None),
    (10**30, None),
    (10**400, None),  # float(10**400) overflows: triage and display do float maths on counts
    (3.7, 3),
    (float("nan"), None),
    (float("inf"), None),
    (float("-inf"), None),
    ("1,234", 1234),
    ("7", 7),
    ("12k", None),
    ("²", None),  # str.isdigit() says yes, int() says no
    ("-3", None),
    (True, None),
    (False, None),
    ([], None),
    ({"count": 1}, None),
    (None, None),
    ("", None),
    (0, 0),
]


@pytest.mark.parametrize("api", APIS)
async def test_like_counts_that_are_not_counts(httpserver: HTTPServer, api: Api) -> None:
    records = [api.record(n, likes=value) for n, (value, _) in enumerate(COUNTS)]
    _serve(httpserver, api, _body(api, records))
    items = _by_id(await _fetch(api.make(httpserver)))
    assert len(items) == len(COUNTS)
    got = [items[api.native_id(n)].engagement.likes for n in range(len(COUNTS))]
    assert got == [want for _, want in COUNTS]


@pytest.mark.parametrize("api", [pytest.param(MASTODON, id="mastodon"), pytest.param(MAPPED, id="json")])
async def test_follower_counts_that_are_not_counts(httpserver: HTTPServer, api: Api) -> None:
    records = [api.record(n, followers=value) for n, (value, _) in enumerate(COUNTS)]
    _serve(httpserver, api, _body(api, records))
    items = _by_id(await _fetch(api.make(httpserver)))
    got = [items[api.native_id(n)].author_followers for n in range(len(COUNTS))]
    assert got == [want for _, want in COUNTS]


HOSTILE_TEXT = "before \ud800 \x00\x07\x08 \x1b[2J\x1b]52;c;ZXZpbA==\x07 \x9b31m \u202eevil\u202c \x7f after"


@pytest.mark.parametrize("api", APIS)
async def test_surrogates_and_control_characters_in_text_names_and_links(httpserver: HTTPServer, api: Api) -> None:
    records = [
        api.record(1, text=HOSTILE_TEXT, author_name=HOSTILE_TEXT),
        api.record(2, url="https://safe.example/\ud800\x1b]8;;file:///etc/passwd\x1b\\x"),
        api.record(3),
    ]
    _serve(httpserver, api, _body(api, records))
    items = _by_id(await _fetch(api.make(httpserver)))  # _fetch checks every field is clean
    assert set(items) == {api.native_id(1), api.native_id(2), api.native_id(3)}
    hostile = items[api.native_id(1)]
    # The words on both sides of the hazards are still there (lxml used to stop at a lone surrogate).
    assert hostile.text.startswith("before \ufffd") and hostile.text.endswith("after")
    assert "ZXZpbA" not in hostile.text and "evil" in hostile.text
    assert hostile.author_name.startswith(("User", "u/before", "before")) and "after" in hostile.author_name


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "  javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "file:///etc/passwd",
        "file://localhost/etc/shadow",
        "vbscript:msgbox(1)",
        "//evil.example/relative",
        "/relative/path",
        "https:///no-host",
        "https://evil.example/a b",
    ],
)
async def test_only_http_links_can_be_opened(httpserver: HTTPServer, api: Api, link: str) -> None:
    _serve(httpserver, api, _body(api, [api.record(1, url=link), api.record(2)]))
    items = _by_id(await _fetch(api.make(httpserver)))
    hostile, fine = items[api.native_id(1)], items[api.native_id(2)]
    assert fine.url is not None and fine.url.startswith(("http://", "https://"))
    if api is MASTODON:
        # A bad ``url`` does not hide the status's good ``uri``.
        assert hostile.url == api.native_id(1)
    elif api is REDDIT:
        # Only a site-relative permalink becomes a link, on the configured site.
        assert hostile.url is None or hostile.url.startswith(_base(httpserver) + "/")
    elif api is BLUESKY:
        assert hostile.url == "https://bsky.app/profile/u1.bsky.social/post/3k1"
    else:
        assert hostile.url is None


DATES = [
    (T0_ISO, T0),
    ("2024-01-02T09:30:00Z", T0),
    ("2024-01-02T09:30:00", T0),  # no zone: UTC
    ("2024-01-02T11:30:00+02:00", T0),
    ("2024-01-02T04:30:00-05:00", T0),
    ("Tue, 02 Jan 2024 09:30:00 GMT", T0),
    (1704187800, T0),
    (1704187800.0, T0),
    ("1704187800", T0),
    ("1704187800.0", T0),
    (1704187800000, T0),  # epoch milliseconds
    (None, "now"),
    ("", "now"),
    ("yesterday-ish", "now"),
    ("2024-13-45T99:99:99Z", "now"),
    ("9999-12-31T23:59:59Z", "now"),  # far future would sort above everything
    ("0001-01-01T00:00:00Z", "now"),
    (float("nan"), "now"),
    (float("inf"), "now"),
    (10**30, "now"),
    (10**400, "now"),
    (-1704187800, "now"),
    (True, "now"),
    ([2024, 1, 2], "now"),
    ({"$date": T0_ISO}, "now"),
]


@pytest.mark.parametrize("api", APIS)
async def test_dates_in_every_form(httpserver: HTTPServer, api: Api) -> None:
    records = [api.record(n, published=value) for n, (value, _) in enumerate(DATES)]
    _serve(httpserver, api, _body(api, records))
    before = utcnow()
    items = _by_id(await _fetch(api.make(httpserver)))
    after = utcnow()
    assert len(items) == len(DATES)
    for n, (value, want) in enumerate(DATES):
        got = items[api.native_id(n)].published
        assert got.tzinfo is not None and got.utcoffset().total_seconds() == 0, value
        if want == "now":
            assert before <= got <= after, (value, got)
        else:
            assert got == want, (value, got)


# ------------------------------------------------------------------ whole responses: words, not tracebacks


BAD_BODIES = [
    pytest.param(LOGIN_PAGE, "got HTML", id="html-login-page"),
    pytest.param(b"\r\n" * 600 + LOGIN_PAGE, "got HTML", id="html-after-blank-lines"),
    pytest.param(b"\xef\xbb\xbf<html><body>Please sign in</body></html>", "got HTML", id="html-with-bom"),
    pytest.param(b"Service Unavailable - try again later", "invalid", id="plain-text"),
    pytest.param(b'[{"id": "1", "content": "cut off', "invalid", id="truncated"),
    pytest.param(b"", "empty response", id="empty"),
    pytest.param(b" \r\n\t" * 300, "empty response", id="only-whitespace"),
    pytest.param(b"[" * 100_000 + b"]" * 100_000, "nested too deeply", id="100k-nested-arrays"),
    pytest.param(b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "nested too deeply", id="100k-nested-objects"),
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "", id="binary"),
    pytest.param(b"null", "", id="null"),
    pytest.param(b"NaN", "", id="nan"),
    pytest.param(b'"ok"', "", id="string"),
    pytest.param(b"1" + b"0" * 5000, "", id="huge-number"),
    pytest.param(b"true", "", id="boolean"),
    pytest.param(b'{"error": "rate limited", "message": "slow down"}', "rate limited: slow down", id="error-string"),
    pytest.param(b'{"error": {"code": 503, "message": "backend down"}}', "backend down", id="error-object"),
    pytest.param(b'{"errors": [{"message": "Invalid token"}]}', "Invalid token", id="errors-list"),
    pytest.param(b'{"error": "upstream failed", "errors": []}', "upstream failed", id="error-and-empty-errors"),
    pytest.param(b'{"error": "\\u001b]0;owned\\u0007\\u001b[2J[@click=app.quit]x[/]"}', "", id="error-with-escapes"),
]


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize(("body", "words"), BAD_BODIES)
async def test_unusable_responses_are_a_clear_status(httpserver: HTTPServer, api: Api, body: bytes, words: str) -> None:
    _serve(httpserver, api, body)
    result = await _poll(api.make(httpserver))
    assert not result.ok and result.items == []
    assert result.error is not None and len(result.error) >= 10
    assert "internal error" not in result.error, result.error
    assert words in result.error
    assert not _UNSAFE.search(result.error) and "owned" not in result.error


@pytest.mark.parametrize("api", APIS)
async def test_a_redirect_to_a_login_page_is_a_clear_status(httpserver: HTTPServer, api: Api) -> None:
    api.extra(httpserver)
    httpserver.expect_request(api.path).respond_with_data("", status=302, headers={"Location": "/login?next=/feed"})
    httpserver.expect_request("/login").respond_with_data(LOGIN_PAGE, content_type="text/html; charset=utf-8")
    result = await _poll(api.make(httpserver))
    assert not result.ok and result.error is not None and "got HTML" in result.error


@pytest.mark.parametrize(
    ("api", "document", "words"),
    [
        pytest.param(MASTODON, {"statuses": [_masto_record(1)]}, "expected a list of statuses", id="mastodon-object"),
        pytest.param(BLUESKY, [_bsky_record(1)], "expected an object", id="bluesky-list"),
        pytest.param(BLUESKY, {"posts": {"0": _bsky_record(1)}}, "no 'posts' list", id="bluesky-posts-object"),
        pytest.param(REDDIT, [1, 2, 3], "expected a Listing", id="reddit-list-of-numbers"),
        pytest.param(REDDIT, {"kind": "Listing", "data": [_reddit_record(1)]}, "expected a Listing", id="reddit-data-list"),
        pytest.param(MAPPED, [_mapped_record(1)], "no 'data.posts'", id="json-list"),
        pytest.param(MAPPED, {"data": {"posts": _mapped_record(1)}}, "expected a list at 'data.posts'", id="json-object"),
    ],
)
async def test_the_wrong_top_level_shape_is_a_clear_status(httpserver: HTTPServer, api: Api, document: Any, words: str) -> None:
    _serve(httpserver, api, json.dumps(document))
    result = await _poll(api.make(httpserver))
    assert not result.ok and result.error is not None and "internal error" not in result.error
    assert words in result.error


@pytest.mark.parametrize("api", APIS)
async def test_an_empty_list_is_a_quiet_success(httpserver: HTTPServer, api: Api) -> None:
    _serve(httpserver, api, _body(api, []))
    result = await _poll(api.make(httpserver))
    assert result.ok and result.error is None and result.items == []


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize(
    "prefix",
    [b"\xef\xbb\xbf", b"\xef\xbb\xbf\r\n", b" " * 2000, b"\n\t \r\n" * 300 + b"\xef\xbb\xbf"],
    ids=["bom", "bom-crlf", "2000-spaces", "whitespace-then-bom"],
)
async def test_a_bom_or_leading_whitespace_is_still_json(httpserver: HTTPServer, api: Api, prefix: bytes) -> None:
    _serve(httpserver, api, prefix + _body(api, [api.record(1), api.record(2)]))
    items = await _fetch(api.make(httpserver))
    assert [i.native_id for i in items] == [api.native_id(1), api.native_id(2)]


@pytest.mark.parametrize("api", APIS)
async def test_the_same_page_forever_ends_every_poll(httpserver: HTTPServer, api: Api) -> None:
    """A server that always says "there is more" and hands back the same page."""
    turn = {"n": 0}
    page = api.wrap([api.record(1, indexed="2024-01-02T09:30:01.000Z") if api is BLUESKY else api.record(1),
                     api.record(2, indexed="2024-01-02T09:30:02.000Z") if api is BLUESKY else api.record(2)])

    def handler(request: Request) -> Response:
        turn["n"] += 1
        doc = copy.deepcopy(page)
        if isinstance(doc, dict):
            doc["cursor"] = "ab"[turn["n"] % 2]  # Bluesky: a cursor that cycles a, b, a, ...
            doc.setdefault("data", {})["after"] = "t3_p2"  # Reddit, and a "next page" anywhere
            doc["next"] = httpserver.url_for(api.path)
        headers = {"Link": f'<{httpserver.url_for(api.path)}?max_id=1>; rel="next"'}
        return Response(json.dumps(doc), content_type="application/json", headers=headers)

    api.extra(httpserver)
    httpserver.expect_request(api.path).respond_with_handler(handler)
    poller = Poller([api.make(httpserver)])
    name = next(iter(poller.sources))
    # As if an older post had been seen: Bluesky would page on while every post is newer.
    poller.states[name].cursor["newest"] = "2024-01-01T00:00:00+00:00"
    try:
        results = [await poller.poll(name) for _ in range(3)]
    finally:
        await poller.aclose()
    assert all(r.ok for r in results), [r.error for r in results]
    assert [len(r.new_items) for r in results] == [2, 0, 0]
    per_poll = MAX_PAGES if api is BLUESKY else 1
    assert 3 <= turn["n"] <= 3 * per_poll


# ------------------------------------------------------------------ Mastodon


async def test_mastodon_html_content_mentions_entities_and_emoji(httpserver: HTTPServer) -> None:
    _serve(httpserver, MASTODON, (FIX / "mastodon_content.json").read_bytes())
    state = SourceState()
    items = await _fetch(_masto_source(httpserver), state)
    assert len(items) == 4
    alice, bob, carol, erin = items
    assert alice.text == (
        "@library the wifi is down again :blobcatangry: & nobody answers's \"help\" desk >:(\n\n"
        "second line\nthird line\nfourth #outage"
    )
    assert alice.author == "@alice@social.example" and alice.author_name == "Alice :verified: evil"
    assert alice.author_followers == 321 and alice.language == "en"
    # Links inside content are only words; escapes decoded from entities are gone whole.
    assert " ".join(bob.text.split()) == "click here or there done" and "owned" not in bob.text
    assert bob.url == "https://social.example/@bob/112000000000000011"
    # A post with only a picture shows the picture's description, not a blank row.
    assert carol.text == "Photo of the closed library door" and carol.author_followers == 0
    # A boost is the original post, by its author.
    assert erin.native_id == "https://far.example/users/erin/statuses/99"
    assert erin.author == "@erin@far.example" and erin.text == "the original post" and erin.author_followers == 777
    assert state.cursor["since_id"] == "112000000000000013"


async def test_mastodon_wrong_typed_fields_and_odd_ids(httpserver: HTTPServer) -> None:
    statuses = [
        {"id": 5, "content": 5, "account": [], "created_at": True, "url": ["x"], "spoiler_text": {"a": 1},
         "language": 5, "in_reply_to_id": [], "reblogs_count": "many", "reblog": False},
        {"id": "6", "content": "<p>outer six</p>", "reblog": {"content": "<p>a reblog without id or uri</p>"}},
        {"id": "7", "content": "<p>outer seven</p>", "reblog": [1, 2]},
        {"uri": "https://social.example/users/x/statuses/8", "content": "<p>uri only</p>"},
        {"id": None, "uri": None, "content": "<p>no id at all</p>"},
        {"id": "²", "content": "<p>superscript id</p>"},
        {"id": "١٢٣", "content": "<p>arabic-indic digits</p>"},
        {"id": "9" * 40, "content": "<p>absurdly long id</p>"},
        {"id": 1.5e300, "content": "<p>float id</p>"},
        {"id": float("nan"), "content": "<p>nan id</p>"},
        {"id": "111", "content": "<p>plain</p>", "account": {"acct": "\x1b[2Jmallory", "display_name": None,
                                                              "url": "javascript:alert(1)", "followers_count": "²"}},
        {"id": "111", "content": "<p>duplicate</p>"},
    ]
    _serve(httpserver, MASTODON, json.dumps(statuses))
    state = SourceState()
    items = _by_id(await _fetch(_masto_source(httpserver), state))
    assert items["5"].author == "unknown" and items["5"].text == "5" and items["5"].url is None
    assert items["5"].engagement.reposts is None and items["5"].language == "5"
    assert items["6"].text == "outer six" and items["7"].text == "outer seven"
    assert items["https://social.example/users/x/statuses/8"].text == "uri only"
    assert "no id at all" not in [i.text for i in items.values()]
    assert items["1.5e+300"].text == "float id"
    assert "nan" not in items and "nan id" not in [i.text for i in items.values()]
    assert items["111"].text == "plain" and items["111"].author == "@mallory@localhost"
    assert items["111"].author_followers is None
    # Only plain ASCII ids of snowflake length can be the cursor: a 40-digit one would
    # silence the source, "²" and "١٢٣" would be sent to the server as they are.
    assert state.cursor["since_id"] == "111"


async def test_mastodon_hostile_cursor_in_state_is_not_sent(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/v1/timelines/tag/library", query_string="limit=40").respond_with_json(
        [_masto_record(1)]
    )
    state = SourceState(cursor={"since_id": "9" * 400})
    items = await _fetch(_masto_source(httpserver), state)
    assert len(items) == 1 and state.cursor["since_id"] == "112000000000000001"


async def test_mastodon_mentions_with_odd_notifications(httpserver: HTTPServer) -> None:
    notifications = [
        {"id": "10", "type": "mention", "status": None},
        {"id": "11", "type": "favourite", "status": _masto_record(1)},
        {"id": "12", "type": "mention", "status": _masto_record(2)},
        {"id": "13", "type": "mention", "status": []},
        {"id": "14", "type": ["mention"], "status": _masto_record(3)},
        {"type": 5},
        "junk",
        {"id": "15", "type": "mention", "status": {"reblog": _masto_record(4)}},
    ]
    httpserver.expect_request("/api/v1/notifications").respond_with_json(notifications)
    state = SourceState()
    src = _masto_source(httpserver, env={"TOK": "t"}, mode="mentions", token_env="TOK")
    items = await _fetch(src, state)
    assert [i.text for i in items] == ["post 2", "post 4"]
    assert state.cursor["since_id"] == "15"


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ([_masto_record(1)], "expected an object with 'statuses'"),
        ({"accounts": [], "statuses": None}, "expected a list of statuses"),
        ({"error": "This method requires an authenticated user"}, "Mastodon said: This method requires"),
    ],
)
async def test_mastodon_search_shapes(httpserver: HTTPServer, document: Any, words: str) -> None:
    httpserver.expect_request("/api/v2/search").respond_with_json(document)
    result = await _poll(_masto_source(httpserver, mode="search", query="library"))
    assert not result.ok and result.error is not None and words in result.error


# ------------------------------------------------------------------ Bluesky


async def test_bluesky_embeds_quotes_facets_and_langs(httpserver: HTTPServer) -> None:
    _serve(httpserver, BLUESKY, (FIX / "bluesky_embeds.json").read_bytes())
    items = await _fetch(_bsky_source(httpserver))
    assert [i.author for i in items] == ["@quoter.bsky.social", "@quiet.bsky.social", "@linker.bsky.social",
                                         "@blank.bsky.social"]
    quoter, quiet, linker, blank = items
    # Its own words, whatever the facets say; javascript: in a facet is never a link.
    assert quoter.text == "look at this 👇 https://news.example/lib…"
    assert quoter.url == "https://bsky.app/profile/quoter.bsky.social/post/3kq1"
    assert quoter.language == "en" and quoter.engagement.reposts == 3
    # No words of its own: what it quotes and shows, rather than a blank row.
    assert quiet.text == "(quoting @orig.bsky.social) The library is lying about the closure\nscreenshot of the notice"
    assert quiet.language is None
    assert linker.text == "Library closes early\nCouncil cuts hours" and linker.language == "de"
    assert blank.text == "" and blank.language == "fr"
    assert quoter.published == datetime(2024, 3, 4, 10, 0, tzinfo=timezone.utc)


async def test_bluesky_wrong_typed_fields(httpserver: HTTPServer) -> None:
    posts = [
        _bsky_record(1) | {"author": None},
        _bsky_record(2) | {"author": [1, 2]},
        _bsky_record(3, handle="javascript:alert(1)"),
        _bsky_record(4, handle="evil\x1b[2J.bsky.social"),
        _bsky_record(5) | {"record": ["not", "a", "record"]},
        _bsky_record(6, text=5),
        _bsky_record(7, text=["a", "list"]),
        _bsky_record(8) | {"uri": 8},
        _bsky_record(9) | {"uri": "https://bsky.app/not-an-at-uri"},
        _bsky_record(10, published=None, indexed="2024-01-02T09:30:00Z"),
        _bsky_record(11, published="not a date", indexed=T0_ISO),
        _bsky_record(12) | {"author": {"did": "did:plc:x\ud800", "handle": "handle.invalid"}},
        _bsky_record(13) | {"record": {"text": "reply", "reply": {"parent": {"uri": ["x"]}}, "langs": "en-US"}},
        _bsky_record(1, text="repeat"),
    ]
    _serve(httpserver, BLUESKY, json.dumps({"posts": posts, "cursor": ["not", "a", "cursor"]}))
    items = _by_id(await _fetch(_bsky_source(httpserver)))
    ids = {n: BLUESKY.native_id(n) for n in range(1, 14)}
    assert set(items) == {ids[n] for n in (1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13)}
    assert items[ids[1]].text == "post 1" and items[ids[1]].author == "unknown" and items[ids[1]].url is None
    # A handle that is not a handle is never put in a link: the DID stands in.
    assert items[ids[3]].author == "did:plc:u3"
    assert items[ids[3]].url == "https://bsky.app/profile/did:plc:u3/post/3k3"
    assert items[ids[4]].url == "https://bsky.app/profile/did:plc:u4/post/3k4"
    assert items[ids[5]].text == "" and items[ids[6]].text == "5" and items[ids[7]].text == ""
    assert items[ids[10]].published == T0 and items[ids[11]].published == T0
    assert items[ids[12]].url is None
    assert items[ids[13]].language == "en" and items[ids[13]].in_reply_to is None


async def test_bluesky_follower_counts_that_are_not_counts(httpserver: HTTPServer) -> None:
    values = [10**30, "1,234", -1, "²", 1e3, float("nan"), None, True]
    posts = [_bsky_record(n) for n in range(len(values))]
    profiles: list[Any] = [{"did": f"did:plc:u{n}", "followersCount": v} for n, v in enumerate(values)]
    profiles += [{"did": 5, "followersCount": 1}, "junk", None, {"did": ["did:plc:u0"], "followersCount": 9}]
    httpserver.expect_request("/xrpc/app.bsky.feed.searchPosts").respond_with_json({"posts": posts})
    httpserver.expect_request("/xrpc/app.bsky.actor.getProfiles").respond_with_data(
        json.dumps({"profiles": profiles}), content_type="application/json"
    )
    items = await _fetch(_bsky_source(httpserver))
    assert [i.author_followers for i in items] == [None, 1234, None, None, 1000, None, None, None]


async def test_bluesky_a_post_from_the_future_does_not_pin_the_cursor(httpserver: HTTPServer) -> None:
    posts = [_bsky_record(1, indexed="9999-12-31T23:59:59Z"), _bsky_record(2, indexed="2024-01-02T09:30:00Z")]
    _serve(httpserver, BLUESKY, json.dumps({"posts": posts}))
    state = SourceState()
    items = await _fetch(_bsky_source(httpserver), state)
    assert len(items) == 2 and items[0].published == T0  # createdAt, not the absurd indexedAt
    assert state.cursor["newest"] == "2024-01-02T09:30:00+00:00"


@pytest.mark.parametrize(
    "cursor",
    ["\ud800abc", "x" * 5000, "line\nbreak", "\x1b[2J", "", None, ["a"], {"c": 1}, True],
    ids=["lone-surrogate", "5000-chars", "newline", "escape", "empty", "null", "list", "object", "boolean"],
)
async def test_bluesky_an_unusable_cursor_ends_paging_not_the_poll(httpserver: HTTPServer, cursor: Any) -> None:
    _serve(httpserver, BLUESKY, json.dumps({"posts": [_bsky_record(1, indexed="2024-01-02T09:30:01Z")], "cursor": cursor}))
    # An older post seen before: the connector would ask for the next page if it could.
    state = SourceState(cursor={"newest": "2024-01-01T00:00:00+00:00"})
    items = await _fetch(_bsky_source(httpserver), state)
    assert [i.native_id for i in items] == [BLUESKY.native_id(1)]
    assert _requests(httpserver, BLUESKY.path) == 1


async def test_bluesky_a_numeric_cursor_is_still_followed(httpserver: HTTPServer) -> None:
    pages = iter([
        {"posts": [_bsky_record(1, indexed="2024-01-02T09:30:02Z")], "cursor": 25},
        {"posts": [_bsky_record(2, indexed="2024-01-02T09:30:01Z")]},
    ])
    httpserver.expect_request(BLUESKY.path).respond_with_handler(
        lambda request: Response(json.dumps(next(pages)), content_type="application/json")
    )
    _no_profiles(httpserver)
    state = SourceState(cursor={"newest": "2024-01-01T00:00:00+00:00"})
    items = await _fetch(_bsky_source(httpserver), state)
    assert len(items) == 2
    searches = [r for r, _ in httpserver.log if r.path == BLUESKY.path]
    assert searches[1].args.get("cursor") == "25"


async def test_bluesky_author_feed_with_odd_entries(httpserver: HTTPServer) -> None:
    feed = [
        {"post": _bsky_record(1)},
        {"post": None},
        {"reason": {"$type": "app.bsky.feed.defs#reasonRepost"}},
        "junk",
        [{"post": _bsky_record(9)}],
        {"post": _bsky_record(2), "reason": {"$type": "app.bsky.feed.defs#reasonRepost", "by": None}},
        {"post": _bsky_record(1), "reply": "not an object"},
    ]
    httpserver.expect_request("/xrpc/app.bsky.feed.getAuthorFeed").respond_with_json({"feed": feed, "cursor": None})
    _no_profiles(httpserver)
    items = await _fetch(_bsky_source(httpserver, mode="author", actor="library.example", query=None))
    assert [i.text for i in items] == ["post 1", "post 2"]


async def test_bluesky_error_object_with_http_200(httpserver: HTTPServer) -> None:
    _serve(httpserver, BLUESKY, json.dumps({"error": "InternalServerError", "message": "Internal Server Error"}))
    result = await _poll(_bsky_source(httpserver))
    assert not result.ok and result.error == (
        "Bluesky returned an error instead of posts: InternalServerError: Internal Server Error"
    )


# ------------------------------------------------------------------ Reddit


async def test_reddit_deleted_removed_crossposts_nsfw_and_stubs(httpserver: HTTPServer) -> None:
    _serve(httpserver, REDDIT, (FIX / "reddit_mixed.json").read_bytes())
    before = utcnow()
    items = await _fetch(_reddit_source(httpserver))
    after = utcnow()
    # The "more" stub and the account (t2) are not posts; the repeated post is listed once.
    assert [i.native_id for i in items] == ["t3_del", "t3_rem", "t3_xp", "t3_nsfw", "t1_c1", "12345"]
    deleted, removed, crosspost, nsfw, comment, numeric = items
    # "[deleted]" is nobody in particular: an unknown author, not a user by that name.
    assert deleted.author == "unknown" and deleted.author_name == "unknown"
    assert deleted.text == "the words stay" and deleted.title == "Deleted author keeps the post"
    assert deleted.published == datetime(2024, 3, 4, 10, 0, tzinfo=timezone.utc)
    assert removed.title == "Removed post title" and removed.text == "[removed]" and removed.author == "unknown"
    # A crosspost says what the original says; its numbers came as strings.
    assert crosspost.text == "original words about the library"
    assert crosspost.published == datetime(2024, 3, 4, 10, 2, tzinfo=timezone.utc)
    assert (crosspost.engagement.likes, crosspost.engagement.replies) == (7, 2)
    assert nsfw.text == "marked over 18" and nsfw.engagement.likes is None
    assert nsfw.published == datetime(2024, 3, 4, 10, 3, tzinfo=timezone.utc)  # epoch milliseconds
    assert comment.text == "a comment" and comment.in_reply_to == "t3_del" and before <= comment.published <= after
    # A javascript: permalink is no link; the link-post URL is only words.
    assert numeric.url is None and before <= numeric.published <= after
    assert deleted.url == httpserver.url_for("/r/sub/comments/del/x/")


async def test_reddit_comment_page_is_a_list_of_listings(httpserver: HTTPServer) -> None:
    post = REDDIT.wrap([_reddit_record(1)])
    comments = REDDIT.wrap([{"kind": "t1", "data": {"name": "t1_c", "body": "reply", "parent_id": "t3_p1",
                                                    "author": "[deleted]", "created_utc": 1704187800}}])
    _serve(httpserver, REDDIT, json.dumps([post, comments, "junk", None]))
    items = await _fetch(_reddit_source(httpserver))
    assert [i.native_id for i in items] == ["t3_p1", "t1_c"] and items[1].author == "unknown"


async def test_reddit_nested_lists_are_not_listings(httpserver: HTTPServer) -> None:
    # A list of lists 500 deep parses; it must not read as "a valid, empty listing".
    _serve(httpserver, REDDIT, b"[" * 500 + b"]" * 500)
    result = await _poll(_reddit_source(httpserver))
    assert not result.ok and result.error == "unexpected Reddit response (expected a Listing)"


async def test_reddit_error_object_names_the_reason(httpserver: HTTPServer) -> None:
    _serve(httpserver, REDDIT, json.dumps({"reason": "private", "message": "Forbidden", "error": 403}))
    result = await _poll(_reddit_source(httpserver))
    assert result.error == "Reddit returned an error instead of a listing: Forbidden: private"


# ------------------------------------------------------------------ mapped JSON


async def test_mapped_paths_that_do_not_exist_in_any_record(httpserver: HTTPServer) -> None:
    mapping = JsonMapping(items="data.posts", id="uuid", text="content.body", author="user.handle")
    _serve(httpserver, MAPPED, _body(MAPPED, [_mapped_record(1), _mapped_record(2)]))
    result = await _poll(_mapped_source(httpserver, mapping=mapping))
    # Not a quiet "nothing new": every record was unusable, and the status says why.
    assert not result.ok and result.error == (
        "none of the 2 records has the mapped id, text or title (check mapping.id, mapping.text and mapping.title)"
    )


async def test_mapped_paths_that_break_part_way(httpserver: HTTPServer) -> None:
    mapping = JsonMapping(
        items="data.pages.0.posts", id="ids.0", text="body", author="user.profile.handle",
        author_name="user.name.first", followers="user.handle.length", url="links", published="ts.value",
        likes="stats.-1", reposts="stats.99", replies="stats.x",
    )
    records = [
        {"ids": ["a1"], "body": "first", "user": {"handle": "@x", "name": "plain"}, "links": ["https://x.example"],
         "ts": {"value": 1704187800}, "stats": [1, 2, 3]},
        {"ids": "not-a-list", "body": "second", "user": "a string", "ts": {"value": "2024-01-02T09:30:00Z"},
         "stats": {"-1": 4}},
    ]
    _serve(httpserver, MAPPED, json.dumps({"data": {"pages": [{"posts": records}, {"posts": []}]}}))
    state = SourceState()
    items = await _fetch(_mapped_source(httpserver, mapping=mapping), state)
    assert [i.text for i in items] == ["first", "second"]
    first, second = items
    assert first.native_id == "a1" and first.author == "unknown" and first.author_name == "unknown"
    assert first.author_followers is None and first.url is None and first.published == T0
    assert first.engagement.likes == 3 and first.engagement.reposts is None and first.engagement.replies is None
    assert second.native_id.startswith("h:") and second.engagement.likes == 4 and second.published == T0
    assert state.last_skipped == 0


@pytest.mark.parametrize(
    ("mapping", "document", "words"),
    [
        (JsonMapping(items=""), {"error": "quota exceeded"}, "the server returned an error instead of data: quota exceeded"),
        (JsonMapping(items=""), {"errors": [{"message": "Invalid token"}], "data": None}, "Invalid token"),
        (MAPPING, {"error": {"message": "Unauthorized"}, "data": None}, "Unauthorized"),
        (MAPPING, {"status": "error", "error": "maintenance"}, "maintenance"),
    ],
)
async def test_mapped_error_objects_with_http_200(httpserver: HTTPServer, mapping: JsonMapping, document: Any,
                                                  words: str) -> None:
    _serve(httpserver, MAPPED, json.dumps(document))
    result = await _poll(_mapped_source(httpserver, mapping=mapping))
    assert not result.ok and result.error is not None and words in result.error


async def test_mapped_root_list_and_root_object(httpserver: HTTPServer) -> None:
    mapping = JsonMapping(items="", id="id", text="text")
    httpserver.expect_request("/list").respond_with_json([{"id": 1, "text": "a"}, None, {"id": 2, "text": "b"}])
    httpserver.expect_request("/one").respond_with_json({"id": 3, "text": "c", "error": None})
    for path, want in (("/list", ["a", "b"]), ("/one", ["c"])):
        spec = JsonSource(kind="json", name="j", platform="J", url=httpserver.url_for(path), mapping=mapping)
        assert [i.text for i in await _fetch(build_source(spec, env={}))] == want


async def test_mapped_ids_that_repeat_or_are_not_strings(httpserver: HTTPServer) -> None:
    records = [
        {"id": 1, "body": "int one"},
        {"id": "1", "body": "string one"},  # the same id as the int: listed once
        {"id": 1.0, "body": "float one"},
        {"id": float("nan"), "body": "nan a"},
        {"id": float("nan"), "body": "nan b"},  # NaN ids must not collapse into one "nan" item
        {"id": True, "body": "boolean id"},
        {"id": [7], "body": "list id"},
        {"id": {"$oid": "x"}, "body": "object id"},
        {"id": "  \x00\x1b ", "body": "blank id"},
    ]
    _serve(httpserver, MAPPED, _body(MAPPED, records))
    items = await _fetch(_mapped_source(httpserver))
    assert [i.text for i in items] == ["int one", "float one", "nan a", "nan b", "boolean id", "list id",
                                       "object id", "blank id"]
    assert items[0].native_id == "1" and items[1].native_id == "1.0"
    assert all(i.native_id.startswith("h:") for i in items[2:])


async def test_source_errors_are_plain_words(httpserver: HTTPServer) -> None:
    """The connectors raise SourceError, never a bare exception, when nothing is usable."""
    _serve(httpserver, MASTODON, b'{"statuses": []}')
    async with HttpFetcher() as http:
        with pytest.raises(SourceError, match="expected a list of statuses"):
            await _masto_source(httpserver).fetch(http, SourceState())
