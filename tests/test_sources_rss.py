"""RSS/Atom through both parser paths, over a real local server, and feeds.py on its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from watchtower.config import RssSource
from watchtower.core.fetch.feeds import feed_items, html_to_text, parse_feed
from watchtower.core.fetch.http import HttpFetcher
from watchtower.core.pipeline.poller import Poller
from watchtower.core.sources import build_source
from watchtower.core.sources.base import SourceError, SourceState
from watchtower.core.sources.rss import RssFeed

FIX = Path(__file__).parent / "fixtures" / "sources"
PARSERS = ["fast", "feedparser"]


def _source(url: str, parser: str = "auto", **kw: object) -> RssFeed:
    spec = RssSource(kind="rss", name="gazette", platform="News", url=url, **kw)
    src = build_source(spec, env={})
    assert isinstance(src, RssFeed)
    src.parser = parser
    return src


@pytest.mark.parametrize("parser", PARSERS)
async def test_rss20_items(httpserver: HTTPServer, parser: str) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(
        (FIX / "rss20.xml").read_bytes(), content_type="application/rss+xml; charset=utf-8"
    )
    async with HttpFetcher() as http:
        items = await _source(httpserver.url_for("/feed.xml"), parser).fetch(http, SourceState())
    assert [i.native_id for i in items][:2] == ["gazette-0001", "gazette-0002"]
    assert len(items) == 4  # the duplicate guid appears once
    first, evil, no_guid, no_link = items
    assert first.id == "News:gazette:gazette-0001" and first.platform == "News" and first.source == "gazette"
    assert first.title == "Library closes & reopens"
    assert first.text == "The central library is closed today."  # HTML to text, script dropped
    assert first.url == "https://gazette.example/news/1"
    assert first.published.isoformat() == "2024-01-02T08:30:00+00:00"
    assert first.language == "nl"
    # Control characters from &#27; and &#7; never survive; javascript: is no URL.
    assert "\x1b" not in evil.title and "\x07" not in evil.title and evil.url is None
    # Year 9999 is clamped to "now", not kept.
    assert evil.published.year < 9999
    # No guid: the link identifies it; neither: a hash of its content.
    assert no_guid.native_id == no_guid.url == "https://gazette.example/news/3"
    assert no_link.native_id.startswith("h:") and no_link.url is None


@pytest.mark.parametrize("parser", PARSERS)
async def test_atom_items(httpserver: HTTPServer, parser: str) -> None:
    httpserver.expect_request("/atom").respond_with_data(
        (FIX / "atom.xml").read_bytes(), content_type="application/atom+xml"
    )
    async with HttpFetcher() as http:
        items = await _source(httpserver.url_for("/atom"), parser).fetch(http, SourceState())
    assert len(items) == 2
    post = items[0]
    assert post.native_id == "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"
    assert post.title == "Is the library lying?"
    assert post.text == "First paragraph.\n\nSecond\nline."
    assert post.author == "Alex Critic"
    assert post.url == "https://blog.example/posts/42"
    assert post.published.isoformat() == "2024-01-02T07:15:00+00:00"
    assert items[1].text == "Nothing to see."


@pytest.mark.parametrize("parser", PARSERS)
def test_guidless_ids_are_stable_across_parses(parser: str) -> None:
    body = (FIX / "rss20.xml").read_bytes()
    ids = [
        [i.id for i in feed_items(parse_feed(body, {}, parser=parser), platform="News", source="s")]
        for _ in range(3)
    ]
    assert ids[0] == ids[1] == ids[2]


def test_both_parsers_agree_on_ids_and_text() -> None:
    for name in ("rss20.xml", "atom.xml"):
        body = (FIX / name).read_bytes()
        fast = feed_items(parse_feed(body, {}, parser="fast"), platform="P", source="s")
        slow = feed_items(parse_feed(body, {}, parser="feedparser"), platform="P", source="s")
        assert [(i.id, i.title, i.text, i.url) for i in fast] == [(i.id, i.title, i.text, i.url) for i in slow]


async def test_304_on_the_second_poll(httpserver: HTTPServer) -> None:
    body = (FIX / "rss20.xml").read_bytes()
    httpserver.expect_ordered_request("/feed").respond_with_data(
        body, content_type="application/rss+xml", headers={"ETag": '"abc"', "Last-Modified": "Tue, 02 Jan 2024 09:00:00 GMT"}
    )
    httpserver.expect_ordered_request("/feed", headers={"If-None-Match": '"abc"'}).respond_with_data("", status=304)
    poller = Poller([_source(httpserver.url_for("/feed"))])
    try:
        first = await poller.poll("gazette")
        second = await poller.poll("gazette")
    finally:
        await poller.aclose()
    assert first.ok and len(first.items) == 4
    assert second.ok and second.not_modified and second.items == [] and second.new_items == []
    assert poller.states["gazette"].items_seen == 4
    req = httpserver.log[1][0]
    assert req.headers["If-None-Match"] == '"abc"'
    assert req.headers["If-Modified-Since"] == "Tue, 02 Jan 2024 09:00:00 GMT"


async def test_repolls_without_etag_add_nothing_new(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data((FIX / "rss20.xml").read_bytes())
    poller = Poller([_source(httpserver.url_for("/feed"))])
    try:
        results = [await poller.poll("gazette") for _ in range(3)]
    finally:
        await poller.aclose()
    assert [len(r.items) for r in results] == [4, 4, 4]
    assert [len(r.new_items) for r in results] == [4, 0, 0]
    assert results[0].items[0].id == results[2].items[0].id


@pytest.mark.parametrize("parser", ["auto", *PARSERS])
async def test_html_where_a_feed_was_expected(httpserver: HTTPServer, parser: str) -> None:
    httpserver.expect_request("/login").respond_with_data((FIX / "login.html").read_bytes(), content_type="text/html")
    async with HttpFetcher() as http:
        with pytest.raises(SourceError) as err:
            await _source(httpserver.url_for("/login"), parser).fetch(http, SourceState())
    assert str(err.value) == "not a feed (looks like HTML)"


@pytest.mark.parametrize("content_type", ["application/rss+xml", "text/html"])
def test_valid_empty_feed_is_not_an_error(content_type: str) -> None:
    parsed = parse_feed((FIX / "empty_rss.xml").read_bytes(), {"content-type": content_type})
    assert parsed.entries == [] and parsed.version == "rss20" and parsed.title == "Quiet feed"


def test_truncated_feed_with_nothing_readable_is_an_error() -> None:
    with pytest.raises(SourceError, match="malformed"):
        parse_feed(b"<?xml version='1.0'?><rss version='2.0'><channel><title>cut", {})


@pytest.mark.parametrize("parser", ["auto", *PARSERS])
def test_entity_declarations_are_refused(parser: str) -> None:
    with pytest.raises(SourceError, match="ENTITY"):
        parse_feed((FIX / "entity_blowup.xml").read_bytes(), {}, parser=parser)


def test_entity_declaration_hidden_in_utf16_is_refused() -> None:
    doc = (FIX / "entity_blowup.xml").read_text().replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="utf-16"?>')
    with pytest.raises(SourceError, match="ENTITY"):
        parse_feed(doc.encode("utf-16"), {})


def test_garbage_and_empty_bodies() -> None:
    with pytest.raises(SourceError, match="empty response"):
        parse_feed(b"  \n", {})
    with pytest.raises(SourceError, match="not a feed"):
        parse_feed(b"\x00\x01garbage\xff", {})
    with pytest.raises(SourceError, match="looks like JSON"):
        parse_feed(b'{"error": "nope"}', {})


def test_parse_feed_takes_bytes_only() -> None:
    with pytest.raises(TypeError):
        parse_feed("https://example.com/feed.xml", {})  # type: ignore[arg-type]


def test_truncated_feed_keeps_complete_items() -> None:
    body = (FIX / "rss20.xml").read_bytes()
    cut = body[: body.index(b"<item>", body.index(b"gazette-0002"))]
    items = feed_items(parse_feed(cut, {}), platform="News", source="s")
    assert [i.native_id for i in items][:2] == ["gazette-0001", "gazette-0002"]


def test_big_feed_parses_quickly_enough_for_a_thread() -> None:
    entries = "".join(
        f"<item><title>Item {n}</title><guid>id-{n}</guid><link>https://x.example/{n}</link>"
        f"<description>&lt;p&gt;Body {n}&lt;/p&gt;</description></item>"
        for n in range(10_000)
    )
    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>big</title>{entries}</channel></rss>'.encode()
    items = feed_items(parse_feed(body, {}), platform="P", source="s")
    assert len(items) == 10_000  # how fast: bench P1 and P2, never a timed assertion here


def test_html_to_text() -> None:
    assert html_to_text("plain & simple") == "plain & simple"
    assert html_to_text("a &amp; b") == "a & b"
    assert html_to_text("<p>one</p><p>two<br>three</p>") == "one\n\ntwo\nthree"
    assert html_to_text("<style>x{}</style><script>evil()</script>ok") == "ok"
    assert html_to_text("<a href='file:///etc/passwd'>link text</a>") == "link text"
    assert html_to_text("<!-- only a comment -->") == ""
    assert html_to_text("<ul><li>a</li><li>b</li></ul>") == "a\nb"
