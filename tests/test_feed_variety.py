"""Feeds of every kind we have not seen yet, through the real RSS connector over local HTTP.

Each document is served by pytest-httpserver on 127.0.0.1 and read by
:class:`~watchtower.core.sources.rss.RssFeed` through the real
:class:`~watchtower.core.fetch.http.HttpFetcher` and parse pool, the way a configured source is
polled.  The assertions are what an operator would notice: how many items appear, their
titles, text, links, authors and dates, and the pane status (``PollResult.error``) of a
document that cannot be read.  Every item also holds the stored-item invariants of the
hazard suite (``check_item``: no control characters, http(s) links only, sane dates).

Most cases run through all three parser settings: ``auto`` (what users get: fastfeedparser,
with feedparser as the fallback), ``fast`` and ``feedparser`` (each path forced).  A case
the fast path alone is known to get wrong (and ``auto`` therefore hands to feedparser) runs
through ``auto`` and ``feedparser`` only, and says why.

Realistic documents are in ``fixtures/feeds_variety/``; the ones that differ only in bytes
(encodings, dates, broken endings) are built here.
"""

from __future__ import annotations

import gzip
from datetime import datetime, timezone
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from test_hazards_parsing import check_item

from watchtower.config import RssSource
from watchtower.core.fetch.http import HttpFetcher
from watchtower.core.models import Item, utcnow
from watchtower.core.pipeline.poller import Poller
from watchtower.core.sources import build_source
from watchtower.core.sources.base import PollResult, SourceState
from watchtower.core.sources.rss import RssFeed

FIX = Path(__file__).parent / "fixtures" / "feeds_variety"
PARSERS = ["auto", "fast", "feedparser"]
#: For documents where fastfeedparser alone loses something and ``auto`` falls back.
AUTO_AND_FALLBACK = ["auto", "feedparser"]
NAME = "variety"

RSS = "application/rss+xml"
ATOM = "application/atom+xml"


def _source(url: str, parser: str) -> RssFeed:
    spec = RssSource(kind="rss", name=NAME, platform="News", url=url)
    src = build_source(spec, env={})
    assert isinstance(src, RssFeed)
    src.parser = parser
    return src


def _serve(httpserver: HTTPServer, body: bytes, content_type: str, headers: dict[str, str] | None = None,
           path: str = "/feed") -> str:
    """Serve ``body`` at ``path`` (the first registration of a path wins: use a new one)."""
    httpserver.expect_request(path).respond_with_data(body, content_type=content_type, headers=headers or {})
    return httpserver.url_for(path)


async def _fetch(httpserver: HTTPServer, body: bytes, parser: str, content_type: str = RSS,
                 headers: dict[str, str] | None = None, path: str = "/feed") -> list[Item]:
    """The items one fetch of ``body`` gives, each checked against the stored-item invariants."""
    url = _serve(httpserver, body, content_type, headers, path)
    async with HttpFetcher() as http:
        items = await _source(url, parser).fetch(http, SourceState())
    for item in items:
        check_item(item)
        assert item.platform == "News" and item.source == NAME
    return items


async def _poll(httpserver: HTTPServer, body: bytes, parser: str, content_type: str = RSS,
                path: str = "/feed") -> PollResult:
    """What the pane shows after one poll: ``ok``, the items, or the error line."""
    poller = Poller([_source(_serve(httpserver, body, content_type, path=path), parser)])
    try:
        return await poller.poll(NAME)
    finally:
        await poller.aclose()


def _fixture(name: str) -> bytes:
    return (FIX / name).read_bytes()


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def _rss(items: str, *, head: str = '<?xml version="1.0" encoding="utf-8"?>\n', extra_ns: str = "") -> str:
    return (
        f'{head}<rss version="2.0"{extra_ns}><channel><title>Variety</title><link>https://v.example/</link>'
        f"<description>d</description>{items}</channel></rss>"
    )


# ---------------------------------------------------------------------------- old and odd formats


@pytest.mark.parametrize("parser", PARSERS)
async def test_rss091_with_netscape_dtd_entities(httpserver: HTTPServer, parser: str) -> None:
    # RSS 0.91's DTD defines the Latin-1 entities, so a raw &eacute; is legal there.
    items = await _fetch(httpserver, _fixture("rss091.xml"), parser)
    assert [i.title for i in items] == ["Café reopens on Main Street", "Council meets tonight"]
    assert items[0].text == "The café is open again & busy."
    assert items[0].url == "http://old.example/stories/1.html"
    assert items[0].native_id == "http://old.example/stories/1.html"  # no guid: the link
    assert items[0].language == "en"


@pytest.mark.parametrize("parser", PARSERS)
async def test_rss092_untitled_item_and_enclosure(httpserver: HTTPServer, parser: str) -> None:
    before = utcnow()
    items = await _fetch(httpserver, _fixture("rss092.xml"), parser)
    note, show = items
    assert note.title == "" and note.text == "A show note with no title, only a description."
    assert note.url == "http://radio.example/notes/1"
    assert show.title == "Morning show" and show.text == "Morning show notes"
    # No link and no guid: the enclosure is what the operator can open, and names the item.
    assert show.url == "http://radio.example/audio/morning.mp3"
    assert show.native_id == "http://radio.example/audio/morning.mp3"
    assert note.published >= before  # no date at all: "now"


@pytest.mark.parametrize("parser", PARSERS)
async def test_rss10_rdf_with_dc_date(httpserver: HTTPServer, parser: str) -> None:
    items = await _fetch(httpserver, _fixture("rss10_rdf.xml"), parser)
    first, second = items
    assert first.title == "Library budget approved"
    assert first.text == "The council approved the library budget."
    assert first.url == first.native_id == "http://rdf.example/a"
    assert first.author == "Ann Archivist"  # dc:creator
    assert first.published == _utc("2024-03-04T04:06:07+00:00")  # dc:date at +01:00
    assert first.language == "en"  # dc:language
    assert second.published == _utc("2024-03-05T00:00:00+00:00")  # a date without a time
    assert second.author == "RDF Site Summary"  # no creator: the feed's title


@pytest.mark.parametrize("parser", PARSERS)
async def test_atom03(httpserver: HTTPServer, parser: str) -> None:
    (entry,) = await _fetch(httpserver, _fixture("atom03.xml"), parser, ATOM)
    assert entry.title == "Old Atom entry"
    assert entry.text == "An entry in the pre-standard Atom format."
    assert entry.url == "http://a03.example/2024/01/old-atom"
    assert entry.native_id == "tag:a03.example,2024:1"
    assert entry.published == _utc("2024-01-02T03:04:05+00:00")  # <issued>
    assert entry.language == "en"


@pytest.mark.parametrize("parser", PARSERS)
async def test_atom10_xhtml_and_html_content(httpserver: HTTPServer, parser: str) -> None:
    items = await _fetch(httpserver, _fixture("atom10_content_types.xml"), parser, ATOM)
    assert [i.native_id for i in items] == ["urn:ct:1", "urn:ct:2", "urn:ct:3"]
    html_title, xhtml_title, summary_only = items
    assert html_title.title == "Fish & Chips"  # type="html": markup removed, entity decoded once
    assert html_title.text == "Para one.\n\nPara two."  # type="xhtml" content
    assert xhtml_title.text == "Escaped HTML body"  # type="html" content
    assert xhtml_title.url == "https://ct.example/2"
    if parser != "fast":
        # fastfeedparser drops a type="xhtml" <title>; auto notices and reads it with feedparser.
        assert xhtml_title.title == "An XHTML title"
    assert summary_only.text == "A summary."
    assert summary_only.url == "https://ct.example/3"  # rel="alternate", not rel="edit"
    assert summary_only.published == _utc("2024-02-03T15:00:00+00:00")


# ---------------------------------------------------------------------------- text: CDATA and entities


ENTITY_ITEMS = """
<item><guid>e1</guid><title><![CDATA[Caf&eacute; <b>bold</b> & co]]></title>
  <description><![CDATA[<p>Hello &amp; <i>world</i></p>]]></description></item>
<item><guid>e2</guid><title>Caf&amp;eacute;&amp;nbsp;au lait &amp;#233; &amp;#x263A;</title><description>x</description></item>
<item><guid>e3</guid><title>Numeric &#233; &#x00e9; &#8364; &#x1F600;</title></item>
<item><guid>e4</guid><title>Caf&eacute;&nbsp;Noir &mdash; open</title><description>Cr&egrave;me &amp; more</description></item>
<item><guid>e5</guid><title>A &bogus; B</title><description>after the unknown one</description></item>
"""


@pytest.mark.parametrize("parser", PARSERS)
async def test_cdata_and_entities_in_titles(httpserver: HTTPServer, parser: str) -> None:
    items = await _fetch(httpserver, _rss(ENTITY_ITEMS).encode(), parser)
    by_id = {i.native_id: i for i in items}
    assert list(by_id) == ["e1", "e2", "e3", "e4", "e5"]
    assert by_id["e1"].title == "Café bold & co"
    assert by_id["e1"].text == "Hello & world"
    assert " ".join(by_id["e2"].title.split()) == "Café au lait é ☺"  # double-escaped (HTML in text)
    assert by_id["e3"].title == "Numeric é é € 😀"
    # HTML entities XML does not define: lxml's recovery used to cut the text at the
    # first one ("Caf", "Cr"); they read as in a browser, and an unknown one stays literal.
    assert " ".join(by_id["e4"].title.split()) == "Café Noir — open"
    assert by_id["e4"].text == "Crème & more"
    assert by_id["e5"].title == "A &bogus; B"
    assert by_id["e5"].text == "after the unknown one"


AMPERSAND_ITEMS = """
<item><guid>amp-1</guid><title>AT&T & Q&A</title><link>https://t.example/?a=1&b=2</link>
  <description>Tom & Jerry &nbsp;&copy; 2024</description></item>
<item><guid><![CDATA[cdata&guid]]></guid><title><![CDATA[Fish & Chips &eacute;]]></title>
  <link><![CDATA[https://t.example/?x=1&y=2]]></link><dc:creator><![CDATA[Smith & Sons]]></dc:creator></item>
<item><guid>amp-3</guid><title>Third &amp; last</title><link>https://t.example/3?p=1&amp;q=2</link></item>
"""


@pytest.mark.parametrize("parser", PARSERS)
async def test_bare_ampersands_and_cdata_ampersands(httpserver: HTTPServer, parser: str) -> None:
    # A bare "&" is an XML error that sloppy feeds make all the time: lxml's recovery
    # dropped it ("Fish Chips") and broke links ("?a=1=2").  Inside CDATA it is legal and
    # must stay exactly as written (links, guids, authors).
    body = _rss(AMPERSAND_ITEMS, extra_ns=' xmlns:dc="http://purl.org/dc/elements/1.1/"').encode()
    sloppy, cdata, clean = await _fetch(httpserver, body, parser)
    assert sloppy.title == "AT&T & Q&A"
    assert sloppy.url == "https://t.example/?a=1&b=2"
    assert " ".join(sloppy.text.split()) == "Tom & Jerry © 2024"
    assert cdata.native_id == "cdata&guid"
    assert cdata.title == "Fish & Chips é"
    assert cdata.url == "https://t.example/?x=1&y=2"
    assert cdata.author == "Smith & Sons"
    assert clean.title == "Third & last" and clean.url == "https://t.example/3?p=1&q=2"


# ---------------------------------------------------------------------------- encodings


SMART = "“Smart” quotes – €5 café naïve"
LATIN = "Café naïve ½ © déjà"


def _encoded_doc(title: str, declared: str | None) -> str:
    head = f'<?xml version="1.0" encoding="{declared}"?>\n' if declared else ""
    item = f"<item><guid>enc-1</guid><title>{title}</title><description>{title} body</description></item>"
    return _rss(item, head=head)


ENCODINGS = {
    # name: (body, content type, expected title)
    "windows-1252": (_encoded_doc(SMART, "windows-1252").encode("cp1252"), RSS, SMART),
    "iso-8859-1": (_encoded_doc(LATIN, "iso-8859-1").encode("latin-1"), RSS, LATIN),
    "utf-16-le-bom": (_encoded_doc(SMART, "utf-16").encode("utf-16"), RSS, SMART),  # Python writes a BOM
    "utf-16-be-bom": (b"\xfe\xff" + _encoded_doc(SMART, "utf-16").encode("utf-16-be"), RSS, SMART),
    "utf-8-bom": (b"\xef\xbb\xbf" + _encoded_doc(SMART, "utf-8").encode(), RSS, SMART),
    "whitespace-before-decl": (b"\n\n  \t" + _encoded_doc(SMART, "utf-8").encode(), RSS, SMART),
    "bom-then-newline": (b"\xef\xbb\xbf\r\n" + _encoded_doc(SMART, "utf-8").encode(), RSS, SMART),
    "xml-stylesheet-pi": (_encoded_doc(SMART, "utf-8")
                          .replace("?>\n", '?>\n<?xml-stylesheet type="text/xsl" href="/f.xsl"?>\n', 1).encode(),
                          RSS, SMART),
    # The HTTP charset disagrees with the document; the document is right.
    "utf8-doc-latin1-header": (_encoded_doc(SMART, "utf-8").encode(), "text/xml; charset=iso-8859-1", SMART),
    "cp1252-doc-utf8-header": (_encoded_doc(SMART, "windows-1252").encode("cp1252"),
                               "application/rss+xml; charset=utf-8", SMART),
    "utf8-doc-utf16-header": (_encoded_doc(SMART, "utf-8").encode(), "application/xml; charset=utf-16", SMART),
    "served-as-html": (_encoded_doc(SMART, "utf-8").encode(), "text/html; charset=windows-1252", SMART),
}


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("case", list(ENCODINGS))
async def test_declared_and_served_encodings(httpserver: HTTPServer, case: str, parser: str) -> None:
    body, content_type, title = ENCODINGS[case]
    (item,) = await _fetch(httpserver, body, parser, content_type)
    assert item.title == title
    assert item.text == f"{title} body"
    assert item.native_id == "enc-1"


@pytest.mark.parametrize("parser", AUTO_AND_FALLBACK)
async def test_undeclared_latin1_with_charset_header(httpserver: HTTPServer, parser: str) -> None:
    # No XML declaration, Latin-1 bytes: only the HTTP header says so.  fastfeedparser
    # assumes UTF-8 (U+FFFD); auto sees the loss and reads it with feedparser.
    body = _encoded_doc(LATIN, None).encode("latin-1")
    (item,) = await _fetch(httpserver, body, parser, "application/rss+xml; charset=iso-8859-1")
    assert item.title == LATIN and "\ufffd" not in item.text


@pytest.mark.parametrize("parser", PARSERS)
async def test_gzip_encoded_feed(httpserver: HTTPServer, parser: str) -> None:
    body = _rss("".join(f"<item><guid>z{n}</guid><title>Zipped {n}</title></item>" for n in range(3)))
    items = await _fetch(httpserver, gzip.compress(body.encode()), parser, RSS, {"Content-Encoding": "gzip"})
    assert [i.title for i in items] == ["Zipped 0", "Zipped 1", "Zipped 2"]
    assert "gzip" in httpserver.log[0][0].headers.get("Accept-Encoding", "")


# ---------------------------------------------------------------------------- missing fields, ids, links


MISSING_ITEMS = """
<item><title>Title only</title></item>
<item><description>Only a description</description></item>
<item><link>https://m.example/3</link></item>
<item><guid>only-guid</guid><title>Guid and title</title></item>
<item></item>
<item><title></title><description>   </description></item>
"""


@pytest.mark.parametrize("parser", PARSERS)
async def test_items_missing_title_link_date_guid(httpserver: HTTPServer, parser: str) -> None:
    body = _rss(MISSING_ITEMS).encode()
    poller = Poller([_source(_serve(httpserver, body, RSS), parser)])
    before = utcnow()
    try:
        rounds = [await poller.poll(NAME) for _ in range(3)]
    finally:
        await poller.aclose()
    first = rounds[0]
    assert first.ok, first.error
    # The two empty <item>s show nothing and open nothing: they are no posts at all.
    title_only, desc_only, link_only, guid_title = first.items
    assert title_only.title == "Title only" and title_only.text == "Title only" and title_only.url is None
    assert desc_only.title == "" and desc_only.text == "Only a description"
    assert link_only.url == link_only.native_id == "https://m.example/3"
    assert guid_title.native_id == "only-guid"
    assert title_only.native_id.startswith("h:") and desc_only.native_id.startswith("h:")
    for item in first.items:
        check_item(item)
        assert item.published >= before  # no date: the time it was first seen
    # Items without a guid keep their ids: re-polling adds nothing.
    assert [len(r.new_items) for r in rounds] == [4, 0, 0]
    assert [i.id for i in rounds[2].items] == [i.id for i in first.items]


DUPLICATE_ITEMS = """
<item><title>Dup first</title><guid>same</guid><link>https://d.example/1</link></item>
<item><title>Dup second</title><guid>same</guid><link>https://d.example/2</link></item>
<item><title>Other</title><guid>other</guid><link>https://d.example/3</link></item>
<item><title>Same link, no guid</title><link>https://d.example/9</link></item>
<item><title>Same link again</title><link>https://d.example/9</link></item>
"""


@pytest.mark.parametrize("parser", PARSERS)
async def test_duplicate_guids_within_one_feed(httpserver: HTTPServer, parser: str) -> None:
    items = await _fetch(httpserver, _rss(DUPLICATE_ITEMS).encode(), parser)
    assert [(i.native_id, i.title) for i in items] == [
        ("same", "Dup first"), ("other", "Other"), ("https://d.example/9", "Same link, no guid"),
    ]


GUID_LINK_ITEMS = """
<item><title>Permalink guid</title><guid isPermaLink="true">https://g.example/p/1</guid></item>
<item><title>Empty link element</title><link></link><guid>https://g.example/p/2</guid></item>
<item><title>Plain guid, no link</title><guid>plain-guid-3</guid></item>
"""


@pytest.mark.parametrize("parser", PARSERS)
async def test_guid_as_link(httpserver: HTTPServer, parser: str) -> None:
    items = await _fetch(httpserver, _rss(GUID_LINK_ITEMS).encode(), parser)
    assert [i.url for i in items] == ["https://g.example/p/1", "https://g.example/p/2", None]
    assert [i.native_id for i in items] == ["https://g.example/p/1", "https://g.example/p/2", "plain-guid-3"]


RELATIVE_ITEMS = """
<item><title>Rooted</title><link>/news/1</link><guid isPermaLink="false">r1</guid></item>
<item><title>Relative</title><link>story/2.html</link><guid>r2</guid></item>
<item><title>Protocol-relative</title><link>//cdn.example/3</link><guid>r3</guid></item>
<item><title>Absolute</title><link>https://v.example/4</link><guid>r4</guid></item>
"""


@pytest.mark.parametrize("parser", PARSERS)
async def test_relative_links_without_a_base_are_not_links(httpserver: HTTPServer, parser: str) -> None:
    # docs/threat-model.md, T3: a relative URL is never opened.  The items are still there.
    items = await _fetch(httpserver, _rss(RELATIVE_ITEMS).encode(), parser)
    assert [i.title for i in items] == ["Rooted", "Relative", "Protocol-relative", "Absolute"]
    assert [i.url for i in items] == [None, None, None, "https://v.example/4"]
    assert [i.native_id for i in items] == ["r1", "r2", "r3", "r4"]  # guids are never rebased


@pytest.mark.parametrize("parser", AUTO_AND_FALLBACK)
async def test_relative_links_under_xml_base(httpserver: HTTPServer, parser: str) -> None:
    # fastfeedparser ignores xml:base; auto hands such a document to feedparser.
    items = await _fetch(httpserver, _fixture("atom_xml_base.xml"), parser, ATOM)
    assert [i.url for i in items] == [
        "https://base.example/blog/posts/1", "https://other.example/y/2", "https://base.example/abs/3",
    ]
    assert [i.native_id for i in items] == ["urn:based:1", "urn:based:2", "urn:based:3"]


# ---------------------------------------------------------------------------- dates


DATES = {
    # pubDate as written: the UTC time the item must show (None: unreadable, so "now").
    "Tue, 02 Jan 2024 08:00:00 GMT": "2024-01-02T08:00:00",
    "Tue, 02 Jan 2024 08:00:00 EST": "2024-01-02T13:00:00",
    "Tue, 02 Jan 2024 08:00:00 PDT": "2024-01-02T15:00:00",
    "Tue, 02 Jul 2024 08:00:00 CEST": "2024-07-02T06:00:00",
    "Tue, 02 Jul 2024 08:00:00 BST": "2024-07-02T07:00:00",
    "Tue, 02 Jan 2024 08:00:00 UTC": "2024-01-02T08:00:00",
    "Tue, 02 Jan 2024 08:00:00 +0530": "2024-01-02T02:30:00",
    "2 Jan 2024 08:00:00 +0100": "2024-01-02T07:00:00",
    "Tue, 02 Jan 2024 08:00 GMT": "2024-01-02T08:00:00",
    "Tue, 02 Jan 24 08:00:00 +0000": "2024-01-02T08:00:00",
    "2024-01-02T08:00:00": "2024-01-02T08:00:00",
    "2024-01-02T08:00:00-05:00": "2024-01-02T13:00:00",
    "2024-01-02 08:00:00": "2024-01-02T08:00:00",
    "2024-01-02": "2024-01-02T00:00:00",
    "sometime last week": None,
    "": None,
    "Fri, 01 Jan 2100 00:00:00 GMT": None,
    "Mon, 01 Jan 1900 00:00:00 GMT": None,
    "9999-12-31T23:59:59Z": None,
}


@pytest.mark.parametrize("parser", PARSERS)
async def test_dates_in_odd_formats(httpserver: HTTPServer, parser: str) -> None:
    body = _rss("".join(
        f"<item><guid>d{n}</guid><title>date {n}</title><pubDate>{text}</pubDate></item>"
        for n, text in enumerate(DATES)
    ))
    before = utcnow()
    items = await _fetch(httpserver, body.encode(), parser)
    after = utcnow()
    assert [i.native_id for i in items] == [f"d{n}" for n in range(len(DATES))]
    for item, (text, expected) in zip(items, DATES.items()):
        if expected is None:
            assert before <= item.published <= after, (text, item.published)
        else:
            assert item.published == _utc(expected + "+00:00"), (text, item.published)


@pytest.mark.parametrize("parser", PARSERS)
async def test_numeric_guids_are_not_dates(httpserver: HTTPServer, parser: str) -> None:
    # fastfeedparser read the guid of an undated item as a date: guid "12" became the
    # 12th of this month and "2023" today's date in 2023, so the post sorted among old news.
    undated = ["1", "12", "2023", "20240102", "12-2"]
    body = _rss("".join(f"<item><guid>{g}</guid><title>undated {g}</title></item>" for g in undated)
                + "<item><guid>5</guid><title>dated</title><pubDate>Tue, 05 Mar 2024 00:00:00 GMT</pubDate></item>")
    before = utcnow()
    items = await _fetch(httpserver, body.encode(), parser)
    after = utcnow()
    assert [i.native_id for i in items] == [*undated, "5"]
    for item in items[:-1]:
        assert before <= item.published <= after, (item.native_id, item.published)
    assert items[-1].published == _utc("2024-03-05T00:00:00+00:00")  # a real midnight date stays


# ---------------------------------------------------------------------------- extensions, podcasts


@pytest.mark.parametrize("parser", PARSERS)
async def test_podcast_items_with_only_an_enclosure(httpserver: HTTPServer, parser: str) -> None:
    items = await _fetch(httpserver, _fixture("podcast.xml"), parser)
    # Three episodes, three items: the untitled ones no longer collapse into one.
    assert [i.url for i in items] == [
        "https://cdn.pod.example/episodes/ep1.mp3",
        "https://cdn.pod.example/episodes/ep2.mp3",
        "https://cdn.pod.example/episodes/ep3.mp3",
    ]
    assert [i.native_id for i in items] == [
        "https://cdn.pod.example/episodes/ep1.mp3", "pod-ep2-5f1c", "https://cdn.pod.example/episodes/ep3.mp3",
    ]
    assert [i.title for i in items] == ["", "Episode 2: The archive", "Episode 3: Late returns"]  # itunes:title
    assert items[1].text == "Second episode: a visit to the archive."  # itunes:summary
    assert [i.published for i in items] == [
        _utc("2024-04-01T06:00:00+00:00"), _utc("2024-04-08T06:00:00+00:00"), _utc("2024-04-15T06:00:00+00:00"),
    ]


@pytest.mark.parametrize("parser", PARSERS)
async def test_content_encoded_dc_creator_and_media(httpserver: HTTPServer, parser: str) -> None:
    full, media_only = await _fetch(httpserver, _fixture("extensions.xml"), parser)
    assert full.title == "Full story inside"
    assert full.text == "Full article body.\n\nSecond paragraph with a link."  # content:encoded wins
    assert full.author == "Jane Reporter"  # dc:creator in CDATA
    assert full.url == "https://ext.example/2024/01/full-story/"
    assert full.native_id == "https://ext.example/?p=101"
    assert full.published == _utc("2024-01-03T11:00:00+00:00")
    assert full.language == "en"
    # No description at all: the media:group's description is the text.
    assert media_only.text == "Video description text"
    assert media_only.author == "Extended News"


# ---------------------------------------------------------------------------- services


@pytest.mark.parametrize("parser", PARSERS)
async def test_google_alerts_links_are_unwrapped(httpserver: HTTPServer, parser: str) -> None:
    items = await _fetch(httpserver, _fixture("google_alerts.xml"), parser, ATOM)
    story, blog, odd = items
    assert story.title == 'Our Central Library reopens after "flood"'
    assert story.text == "The central library in town reopened ..."
    # The article, not google.com/url: the operator sees the real host before opening.
    assert story.url == "https://news.example.com/story?id=42&src=rss"
    assert blog.url == "https://blog.example.org/p/7"
    assert blog.title == "Second alert result" and blog.text == "A blog snippet"
    # A redirect to a javascript: target is left as the (harmless) google.com address.
    assert odd.url is not None and odd.url.startswith("https://www.google.com/url?")
    assert story.native_id == "tag:google.com,2013:googlealerts/feed:12345678901234567890"
    assert story.published == _utc("2024-05-06T07:08:09+00:00")
    assert story.author == 'Google Alert - "central library"'  # the alert's own name


@pytest.mark.parametrize("parser", PARSERS)
async def test_reddit_style_atom(httpserver: HTTPServer, parser: str) -> None:
    post, photo = await _fetch(httpserver, _fixture("reddit.xml"), parser, ATOM)
    assert post.title == "Library wifi down again?"
    assert post.text.startswith("The library wifi is down & nobody answers the phone.\n\nsubmitted by /u/bookworm")
    assert "<" not in post.text and "&amp;" not in post.text and "&#32;" not in post.text
    assert post.author == "/u/bookworm"
    assert post.url == "https://www.reddit.com/r/libraries/comments/1abcde/wifi_down/"
    assert post.native_id == "t3_1abcde"
    assert post.published == _utc("2024-05-06T09:58:00+00:00")
    assert photo.title == "Photo of the new reading room" and photo.text == "submitted by /u/shutterbug"


@pytest.mark.parametrize("parser", PARSERS)
async def test_youtube_style_atom(httpserver: HTTPServer, parser: str) -> None:
    video, untold = await _fetch(httpserver, _fixture("youtube.xml"), parser, ATOM)
    assert video.title == "Tour of the new wing"
    assert video.text == "A walk through the new wing.\nOpening hours are in the video."  # media:description
    assert video.url == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    assert video.native_id == "yt:video:dQw4w9WgXcQ"
    assert video.author == "City Library TV"
    assert video.published == _utc("2024-05-01T12:00:00+00:00")
    assert untold.text == untold.title == "Storytime live"  # an empty description: the title


# ---------------------------------------------------------------------------- JSON Feed


@pytest.mark.parametrize("parser", ["auto", "fast"])
async def test_json_feed_11(httpserver: HTTPServer, parser: str) -> None:
    first, micro, attachment = await _fetch(httpserver, _fixture("jsonfeed.json"), parser, "application/feed+json")
    assert first.title == "JSON first" and first.text == "Hello JSON & friends"
    assert first.url == first.native_id == "https://json.example/2024/05/06/first"
    assert first.author == "Jay Son"
    assert first.published == _utc("2024-05-06T05:00:00+00:00")
    assert first.language == "en"
    assert micro.title == "" and micro.text == "A micro post with no title."
    assert micro.url == "https://json.example/micro/2?ref=feed&lang=en"  # JSON is never "fixed" as XML
    assert attachment.url == "https://json.example/audio/3.m4a"  # no url: its attachment
    assert attachment.published == _utc("2024-05-05T08:00:00+00:00")  # date_modified


async def test_json_feed_through_feedparser_is_a_clear_status(httpserver: HTTPServer) -> None:
    # feedparser does not read JSON Feed: forced onto it, the pane says so rather than crash.
    result = await _poll(httpserver, _fixture("jsonfeed.json"), "feedparser", "application/feed+json")
    assert not result.ok and result.items == []
    assert result.error == "not a feed (looks like JSON)"


@pytest.mark.parametrize("parser", ["auto", "fast"])
async def test_json_feed_empty_bom_and_truncated(httpserver: HTTPServer, parser: str) -> None:
    empty = b'{"version": "https://jsonfeed.org/version/1.1", "title": "Quiet JSON", "items": []}'
    result = await _poll(httpserver, empty, parser, "application/feed+json")
    assert result.ok and result.items == [] and result.error is None  # a valid empty feed

    bom = b"\xef\xbb\xbf" + _fixture("jsonfeed.json")
    items = await _fetch(httpserver, bom, parser, "application/feed+json", path="/bom")
    assert [i.title for i in items] == ["JSON first", "", "Attachment only"]

    cut = _fixture("jsonfeed.json")[:400]
    result = await _poll(httpserver, cut, parser, "application/feed+json", path="/cut")
    assert not result.ok and result.error == "JSON feed is malformed (could not be parsed)"


# ---------------------------------------------------------------------------- not feeds, empty, broken


NOT_FEEDS = {
    "login-page": (_fixture("login.html"), "text/html; charset=utf-8", "not a feed (looks like HTML)"),
    "html-served-as-rss": (_fixture("login.html"), RSS, "not a feed (looks like HTML)"),
    "html-without-doctype": (b"<html><head><title>Moved</title></head><body><a href='/feed'>x</a></body></html>",
                             "text/html", "not a feed (looks like HTML)"),
    "plain-text": (b"Service Unavailable. Please try again later.", "text/plain",
                   "not a feed (could not be parsed as RSS or Atom)"),
    "xml-error-document": (b'<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>',
                           "application/xml", "not a feed (could not be parsed as RSS or Atom)"),
    "json-api-error": (b'{"error": "rate limited"}', "application/json", "not a feed (looks like JSON)"),
}


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("case", list(NOT_FEEDS))
async def test_not_a_feed_gives_a_clear_status(httpserver: HTTPServer, case: str, parser: str) -> None:
    body, content_type, error = NOT_FEEDS[case]
    result = await _poll(httpserver, body, parser, content_type)
    assert not result.ok and result.items == []
    assert result.error == error


EMPTY_FEEDS = {
    "rss": (_rss(""), RSS),
    "atom": ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Quiet</title>'
             "<id>urn:q</id><updated>2024-01-01T00:00:00Z</updated></feed>", ATOM),
    "rdf": ('<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            'xmlns="http://purl.org/rss/1.0/"><channel rdf:about="https://q.example/"><title>Quiet</title>'
            "<link>https://q.example/</link><description>n</description></channel></rdf:RDF>", RSS),
}


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("case", list(EMPTY_FEEDS))
async def test_empty_but_valid_feed_is_not_an_error(httpserver: HTTPServer, case: str, parser: str) -> None:
    body, content_type = EMPTY_FEEDS[case]
    result = await _poll(httpserver, body.encode(), parser, content_type)
    assert result.ok and result.error is None and result.items == []


FULL = _rss("".join(
    f"<item><guid>c{n}</guid><title>Complete {n}</title><link>https://c.example/{n}</link>"
    f"<description>Body of item {n}, long enough to be cut in the middle.</description></item>"
    for n in (1, 2, 3)
)).encode()


@pytest.mark.parametrize("parser", PARSERS)
async def test_truncated_feed_keeps_only_whole_items(httpserver: HTTPServer, parser: str) -> None:
    cut = FULL[: FULL.index(b"cut in the", FULL.index(b"<guid>c3"))]  # inside item 3's description
    httpserver.expect_ordered_request("/feed").respond_with_data(cut, content_type=RSS)
    httpserver.expect_ordered_request("/feed").respond_with_data(FULL, content_type=RSS)
    poller = Poller([_source(httpserver.url_for("/feed"), parser)])
    try:
        partial = await poller.poll(NAME)
        whole = await poller.poll(NAME)
    finally:
        await poller.aclose()
    # The download stopped inside item 3: items 1 and 2 show, and no stub of item 3.
    assert partial.ok, partial.error
    assert [i.title for i in partial.items] == ["Complete 1", "Complete 2"]
    # The next, complete download brings item 3 whole, as the only new item.
    assert whole.ok and [(i.native_id, i.title) for i in whole.new_items] == [("c3", "Complete 3")]
    assert whole.new_items[0].text == "Body of item 3, long enough to be cut in the middle."


@pytest.mark.parametrize("parser", PARSERS)
async def test_truncated_atom_and_unreadable_stub(httpserver: HTTPServer, parser: str) -> None:
    atom = _fixture("atom10_content_types.xml")
    cut = atom[: atom.index(b"<id>urn:ct:3") + 5]
    items = await _fetch(httpserver, cut, parser, ATOM)
    assert [i.native_id for i in items] == ["urn:ct:1", "urn:ct:2"]

    nothing = FULL[: FULL.index(b"<title>Complete 1") + 12]
    result = await _poll(httpserver, nothing, parser, path="/nothing")
    assert not result.ok and result.error == "feed is malformed (no entries could be read)"


ENDINGS = {
    "trailing-comment": FULL + b"\n<!-- page cached in 0.012s -->\n",
    "cut-between-items": FULL[: FULL.index(b"</channel>")],
    "no-final-newline-garbage": FULL + b"\x00\x00",
}


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("case", list(ENDINGS))
async def test_odd_endings_lose_no_whole_item(httpserver: HTTPServer, case: str, parser: str) -> None:
    items = await _fetch(httpserver, ENDINGS[case], parser)
    assert [i.native_id for i in items] == ["c1", "c2", "c3"]


# ---------------------------------------------------------------------------- identity across polls


FIXTURE_FEEDS = [
    ("rss091.xml", RSS), ("rss092.xml", RSS), ("rss10_rdf.xml", RSS), ("atom03.xml", ATOM),
    ("atom10_content_types.xml", ATOM), ("atom_xml_base.xml", ATOM), ("google_alerts.xml", ATOM),
    ("reddit.xml", ATOM), ("youtube.xml", ATOM), ("podcast.xml", RSS), ("extensions.xml", RSS),
    ("jsonfeed.json", "application/feed+json"),
]


@pytest.mark.parametrize(("name", "content_type"), FIXTURE_FEEDS, ids=[n for n, _ in FIXTURE_FEEDS])
async def test_repolling_any_fixture_adds_nothing(httpserver: HTTPServer, name: str, content_type: str) -> None:
    poller = Poller([_source(_serve(httpserver, _fixture(name), content_type), "auto")])
    try:
        rounds = [await poller.poll(NAME) for _ in range(3)]
    finally:
        await poller.aclose()
    assert all(r.ok for r in rounds), [r.error for r in rounds]
    assert len(rounds[0].new_items) == len(rounds[0].items) > 0
    assert [len(r.new_items) for r in rounds[1:]] == [0, 0]
