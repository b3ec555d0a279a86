"""Feed parsing: bytes in, normalised entries out, never a URL or a path.

Two parsers, one normalisation.  fastfeedparser (lxml) is tried first because it is far
faster on big feeds; feedparser is the fallback for the broken documents it still reads
(truncated XML, wrong encodings) and for telling an HTML page from a valid empty feed
(``version == ''``).  Both paths produce :class:`FeedEntry` objects, and
:func:`feed_items` turns those into :class:`~watchtower.core.models.Item` through
``Item.create``, so no parser's quirks reach the rest of the app.

Everything here is synchronous and CPU-bound: connectors call :func:`parse_feed` through
``asyncio.to_thread`` so a 10,000-item feed never blocks the event loop.

Hazards handled (docs/threat-model.md, T4): documents that declare ``<!ENTITY``
are rejected before any parser sees them (feedparser's loose parser expands a
quadratic-blowup entity to hundreds of MB), and neither parser is ever given a string it
could mistake for a URL or a file name.
"""

from __future__ import annotations

import calendar
import html as _html
import re
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from typing import Any, Mapping

from ...errors import SourceError
from ..models import Item, parse_time_or_none, utcnow
from ..text.safetext import one_line

__all__ = [
    "FeedEntry",
    "ParsedFeed",
    "parse_feed",
    "feed_items",
    "html_to_text",
    "looks_like_html",
    "cut_short",
    "MAX_ENTRIES",
]

#: Entries beyond this many in one document are ignored (newest-first feeds lose nothing).
MAX_ENTRIES = 10_000
#: HTML longer than this is clipped before parsing: items keep 64 KiB of text at most.
_MAX_HTML = 512 * 1024

_ENTITY_DECL = re.compile(rb"<!\s*ENTITY", re.IGNORECASE)
_UTF16_32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff", b"\xff\xfe", b"\xfe\xff")


@dataclass(slots=True)
class FeedEntry:
    """One entry, parser-neutral.  Text fields are still raw (possibly HTML)."""

    id: str | None = None
    title: str = ""
    link: str | None = None
    summary: str = ""
    """HTML or plain text; converted by :func:`html_to_text` when items are built."""
    content: str = ""
    author: str = ""
    published: datetime | None = None
    language: str | None = None


@dataclass(slots=True)
class ParsedFeed:
    entries: list[FeedEntry]
    title: str = ""
    version: str = ""
    """``rss20``, ``atom10``, ``rdf``... (feedparser's names); ``''`` means not a feed."""
    bozo: bool = False
    """The document was broken but something was read from it."""
    bozo_reason: str = ""
    parser: str = ""
    """``fastfeedparser`` or ``feedparser``: which path produced the entries."""
    language: str | None = None
    truncated: bool = False
    """More than :data:`MAX_ENTRIES` entries; the rest were dropped."""
    broken: bool = False
    """The XML itself is malformed (not just served with the wrong content type)."""
    unresolved: bool = False
    """Relative links under an ``xml:base`` the fast path does not read (feedparser does)."""


# ---------------------------------------------------------------------------- checks


def _declares_entity(body: bytes) -> bool:
    # memchr for '!' first: most feeds have few, and a search for '<!' stops at every '<'.
    bang = body.find(b"!")
    if bang >= 0:
        start = body.find(b"<!", max(0, bang - 1))
        if start >= 0 and _ENTITY_DECL.search(body, start):
            return True
    head = body[:4]
    if head.startswith(_UTF16_32_BOMS) or b"\x00" in body[:64]:
        # A UTF-16/32 document hides the ASCII pattern between NUL bytes.
        for codec in ("utf-32", "utf-16", "utf-16-le", "utf-16-be"):
            try:
                text = body.decode(codec)
            except UnicodeDecodeError:
                continue
            return re.search(r"<!\s*ENTITY", text, re.IGNORECASE) is not None
    return False


def _looks_like_html(body: bytes) -> bool:
    head = body[:2048].lstrip().lower()
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:].lstrip()
    return head.startswith((b"<!doctype html", b"<html")) or (b"<html" in head and b"<rss" not in head and b"<feed" not in head)


def _sniff_version(body: bytes) -> str:
    head = body[:4096]
    if head.startswith(_UTF16_32_BOMS) or b"\x00" in head[:64]:
        head = _decode_wide(head).encode("ascii", "ignore")
    head = head.lower()
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if head.lstrip().startswith(b"{"):
        # First: a JSON feed's HTML may well mention "<rss" or "<feed".
        return "json1"
    if b"<rss" in head:
        return "rss20" if b'version="2' in head or b"version='2" in head else "rss"
    if b"<feed" in head:
        return "atom10" if b"http://www.w3.org/2005/atom" in head else "atom"
    if b"<rdf:rdf" in head or b"http://purl.org/rss/1.0/" in head:
        return "rss10"
    return "unknown"


def _decode_wide(head: bytes) -> str:
    """The start of a UTF-16/32 document as text (for sniffing only; may be cut mid-character)."""
    for codec in ("utf-32", "utf-16") if head.startswith(_UTF16_32_BOMS) else ("utf-16-le", "utf-16-be"):
        try:
            text = head.decode(codec, errors="ignore")
        except UnicodeError:
            continue
        if "<" in text or "{" in text:
            return text
    return ""


_LANG_CODE = rb"([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})?)"
# Two patterns that each start with a literal (one alternation of both searched ~7x slower).
_LANG_ELEMENT = re.compile(rb"language>\s*" + _LANG_CODE + rb"\s*</(?:dc:)?language>")
_LANG_ATTR = re.compile(rb"xml:lang=[\"']" + _LANG_CODE + rb"[\"']")


def _sniff_language(body: bytes) -> str | None:
    """The channel's ``<language>`` (``<dc:language>`` in RSS 1.0) or the root's ``xml:lang``,
    whichever comes first (fastfeedparser drops them)."""
    head = body[:8192]
    found = [m for m in (_LANG_ELEMENT.search(head), _LANG_ATTR.search(head)) if m is not None]
    if not found:
        return None
    return min(found, key=lambda m: m.start()).group(1).decode("ascii")


# ---------------------------------------------------------------------------- parse


def parse_feed(body: bytes, headers: Mapping[str, str] | None = None, *, parser: str = "auto") -> ParsedFeed:
    """Parse a fetched RSS/Atom/RDF/JSON feed document.

    ``parser`` is ``"auto"`` (fast path, then fallback), ``"fast"`` or ``"feedparser"``
    (tests force one path).  Raises :class:`SourceError` for a document that declares
    entities, is empty, or is not a feed; a valid feed with no entries is returned as such.
    """
    if not isinstance(body, (bytes, bytearray)):
        raise TypeError("parse_feed takes the fetched bytes, never a URL or a path")
    body = bytes(body)
    if not body or body.isspace():
        raise SourceError("empty response (expected a feed)")
    if _declares_entity(body):
        raise SourceError("feed declares XML entities (<!ENTITY), refused as unsafe")
    hdrs = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
    if body.startswith(b"\xef\xbb\xbf") and body[3:].lstrip()[:1] == b"{":
        body = body[3:]  # a JSON feed behind a UTF-8 BOM (json.loads refuses the BOM)
    fast_error: Exception | None = None
    if parser in ("auto", "fast"):
        try:
            parsed = _drop_cut_entry(_parse_fast(body), body)
        except SourceError:
            raise
        except Exception as exc:  # fastfeedparser raises ValueError and friends
            fast_error = exc
            parsed = None
        if parser == "fast":
            if parsed is None:
                raise _not_a_feed(body, str(fast_error), json_read=True)
            return _checked(parsed)
        if parsed is not None and parsed.entries:
            if not _fast_missed(parsed, body):
                return _checked(parsed)
            # Something the fast path is known to lose (see _fast_missed); feedparser
            # reads it, and is kept unless it reads fewer entries.
            fallback = _drop_cut_entry(_parse_feedparser(body, hdrs), body)
            return fallback if len(fallback.entries) >= len(parsed.entries) else parsed
        if parsed is not None and parsed.version == "json1":
            return parsed  # a valid, empty JSON Feed: feedparser does not read JSON at all
    result = _drop_cut_entry(_parse_feedparser(body, hdrs), body)
    if result.version == "" and not result.entries:
        raise _not_a_feed(body, str(fast_error or result.bozo_reason), json_read=parser == "auto")
    if result.broken and not result.entries:
        # Truncated or malformed with nothing readable: not "a valid empty feed", and
        # its validators must not be kept (a later 304 would hide the items it had).
        raise SourceError("feed is malformed (no entries could be read)")
    return result


def _checked(parsed: ParsedFeed) -> ParsedFeed:
    if parsed.broken and not parsed.entries:
        raise SourceError("feed is malformed (no entries could be read)")
    return parsed


def _fast_missed(parsed: ParsedFeed, body: bytes) -> bool:
    """Whether the fast path lost something that feedparser reads.

    Each check is a scan of the entries or of the body that stops early, and the more
    expensive one runs only when the cheaper one found a suspect.
    """
    if parsed.unresolved:
        return True  # relative links under xml:base, which fastfeedparser ignores
    if any(not e.title for e in parsed.entries) and b"xhtml" in body:
        return True  # fastfeedparser drops a type="xhtml" <title>
    return _lost_characters(parsed, body)


def _lost_characters(parsed: ParsedFeed, body: bytes) -> bool:
    """U+FFFD in the entries that the document itself does not contain: a decoding loss."""
    if not any(
        "\ufffd" in e.title or "\ufffd" in e.summary or "\ufffd" in e.content or "\ufffd" in e.author
        for e in parsed.entries[:200]
    ):
        return False
    return not ("\ufffd".encode("utf-8") in body or b"&#65533;" in body or b"&#xfffd;" in body.lower())


# The root's end tag near the end of the body: the document was not cut short.
_ROOT_END = re.compile(rb"</(?:[A-Za-z_][-\w.]*:)?(?:rss|feed|RDF)\s*>")
_ENTRY_END = re.compile(rb"</(?:[A-Za-z_][-\w.]*:)?(?:item|entry)\s*>")


def cut_short(body: bytes) -> bool:
    """Whether an XML feed document ends before its root's end tag (a truncated download).

    The parsers keep the complete entries of such a document without a word; the
    connector says so on the source's health.  JSON and UTF-16/32 documents are not
    judged here (a cut JSON document does not parse at all).
    """
    if _ROOT_END.search(body, max(0, len(body) - 1024)) is not None:
        return False
    head = body[:64].lstrip()
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:].lstrip()
    if body[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in body[:64] or head[:1] in (b"{", b"["):
        return False
    # The end tag further up, with a long comment or junk after it, is no cut.
    return head[:1] == b"<" and _ROOT_END.search(body) is None


def _drop_cut_entry(parsed: ParsedFeed, body: bytes) -> ParsedFeed:
    """Drop the last entry of a document cut off inside it (a truncated download).

    Both parsers recover the complete entries of a truncated document plus a stub of the
    one it ends in ("Half a ti", or an empty entry).  That stub would show as a junk row,
    and under another id than the whole entry has on the next poll.  Only when the
    document has no root end tag, and exactly one entry more than it has entry end tags.
    """
    entries = parsed.entries
    if not entries or _ROOT_END.search(body, max(0, len(body) - 1024)) is not None:
        return parsed
    if body[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in body[:64] or body[:64].lstrip()[:1] == b"{":
        return parsed  # UTF-16/32 or JSON: the byte patterns below do not apply
    if len(entries) == sum(1 for _ in _ENTRY_END.finditer(body)) + 1:
        del entries[-1]
        parsed.broken = True
    return parsed


def _not_a_feed(body: bytes, reason: str, *, json_read: bool = False) -> SourceError:
    """The error for a document no parser read; ``json_read``: the JSON Feed reader tried it."""
    if _looks_like_html(body) or "HTML" in reason:
        return SourceError("not a feed (looks like HTML)")
    head = body[:64].lstrip()
    if head.startswith((b"{", b"[")):
        if json_read and b"jsonfeed.org/version" in body[:4096]:
            return SourceError("JSON feed is malformed (could not be parsed)")
        return SourceError("not a feed (looks like JSON)")
    return SourceError("not a feed (could not be parsed as RSS or Atom)")


# An "&" XML does not read: an HTML entity (&eacute;, &nbsp;), an unknown name, or a
# bare "&" (AT&T, ?a=1&b=2).  The document declares no entities (those are refused), so
# lxml treats each as an error, and its recovery drops text: "Caf&eacute; au lait" became
# "Caf", "Fish & Chips" "Fish Chips" and a link "?a=1&b=2" "?a=1=2".  feedparser reads
# them as a browser does.  Group 1: the name of a well-formed named reference.
_XML_BAD_AMP = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});)(?:([A-Za-z][A-Za-z0-9]{0,31});)?")


# A CDATA section (to its end, or to the end of a cut-off document).
_CDATA_SECTION = re.compile(rb"(<!\[CDATA\[(?:[^\]]++|\](?!\]>))*+(?:\]\]>)?+)")


def _xml_ampersands(body: bytes) -> bytes:
    """The document with HTML references as numeric ones and other stray "&"s escaped.

    A well-formed document comes back as it is: one regex search, plus (when its CDATA
    holds "&nbsp;" and the like, as much HTML does) one pass that skips CDATA, about
    2 ms per MB.  CDATA sections are never changed: an "&" is literal there, and their
    text is often a link or a guid.  UTF-16/32 and ISO-2022 documents (where the byte
    0x26 need not be "&") and JSON are left alone.
    """
    if _XML_BAD_AMP.search(body) is None:
        return body
    head = body[:256].lstrip()
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:].lstrip()
    if head.startswith(_UTF16_32_BOMS) or b"\x00" in head[:64] or b"iso-2022" in head.lower() or head[:1] == b"{":
        return body
    if b"<![CDATA[" not in body:
        return _XML_BAD_AMP.sub(_xml_amp, body)
    if _XML_BAD_AMP.search(_CDATA_SECTION.sub(b"", body)) is None:
        return body  # every one is inside CDATA, where it is legal
    parts = _CDATA_SECTION.split(body)  # outside, section, outside, ..., outside
    parts[0::2] = [_XML_BAD_AMP.sub(_xml_amp, part) if b"&" in part else part for part in parts[0::2]]
    return b"".join(parts)


def _xml_amp(match: re.Match[bytes]) -> bytes:
    name = match.group(1)
    if name is not None:
        from html.entities import html5

        chars = html5.get(name.decode("ascii") + ";")
        if chars is not None:
            return "".join(f"&#{ord(c)};" for c in chars).encode("ascii")
        return b"&amp;" + name + b";"  # unknown: shown as written, like feedparser does
    return b"&amp;"


def _parse_fast(body: bytes, *, media: bool = False, enclosures: bool = False) -> ParsedFeed:
    import fastfeedparser

    # Bytes only: fastfeedparser fetches a str that starts with http(s)://.  Tags are
    # never used.  Media (a YouTube description) and enclosures (the link of a podcast
    # episode that has none) cost 10-40% more on feeds full of them, so they are read
    # only when an entry needs them (see below), in a second parse.
    doc = fastfeedparser.parse(
        _xml_ampersands(body), include_tags=False, include_media=media, include_enclosures=enclosures
    )
    feed = doc.get("feed") or {}
    raw_entries = doc.get("entries") or []
    entries: list[FeedEntry] = []
    append = entries.append
    now = utcnow()  # one "now" for every absurd date in the document
    for raw in raw_entries[:MAX_ENTRIES]:
        get = raw.get
        summary = _str(get("description") or get("summary"))
        if media and not summary:
            summary = _media_description(get("media_content"))
        stamp = get("published") or get("updated")
        if type(stamp) is str and stamp.endswith("T00:00:00+00:00") and _date_from_guid(raw, stamp):
            stamp = get("updated")
        append(
            _entry(
                raw,
                summary=summary,
                published=_iso_time(stamp, now),
                language=_str(get("language")) or None,
            )
        )
    # Entries with no text but a media:description (YouTube), or with no link but an
    # enclosure or a JSON Feed attachment (podcasts): read those too.
    need_media = (
        not media and any(not e.summary and not e.content for e in entries) and b"media:description" in body
    )
    need_enclosures = (
        not enclosures
        and any(e.link is None for e in entries)
        and (b"enclosure" in body or b"attachments" in body)
    )
    if need_media or need_enclosures:
        return _parse_fast(body, media=media or need_media, enclosures=enclosures or need_enclosures)
    _unwrap_redirects(entries, body)
    return ParsedFeed(
        entries=entries,
        title=_str(feed.get("title")),
        version=_sniff_version(body),
        parser="fastfeedparser",
        language=_str(feed.get("language")) or _sniff_language(body),
        truncated=len(raw_entries) > MAX_ENTRIES,
        # fastfeedparser ignores xml:base; feedparser resolves the relative links under one.
        unresolved=b"xml:base" in body
        and any(e.link is not None and not e.link.startswith(_ABSOLUTE) for e in entries),
    )


def _date_from_guid(raw: Mapping[str, Any], stamp: str) -> bool:
    """Whether fastfeedparser made this date up from the guid of an undated item.

    It reads a guid as a date when the item has none: guid "12" became the 12th of this
    month, "2023" today's date in 2023, and the item sorted among old news.  feedparser
    never does this; the item gets "now" on both paths.  Such a date has no time of day
    and comes from a number-like guid whose numbers are in it, so only those are checked
    again (and that parse is in fastfeedparser's cache: a dateutil parse costs ~50 us).
    """
    guid = raw.get("id")
    if not isinstance(guid, str) or _DATEISH_GUID.fullmatch(guid.strip()) is None:
        return False
    day = stamp[:10].replace("-", "")
    if not all(run.lstrip("0") in day for run in _DIGIT_RUNS.findall(guid)):
        return False
    parse_date = _fast_date_parser()
    try:
        return parse_date is not None and parse_date(guid) == stamp
    except Exception:
        return False


_DATEISH_GUID = re.compile(r"[0-9]{1,8}(?:[-./][0-9]{1,4}){0,2}")
_DIGIT_RUNS = re.compile(r"[0-9]+")


def _media_description(media: Any) -> str:
    if isinstance(media, list):
        for m in media:
            if isinstance(m, Mapping) and isinstance(m.get("description"), str) and m["description"].strip():
                return m["description"]
    return ""


_ABSOLUTE = ("http://", "https://")


def _entry(raw: Mapping[str, Any], *, summary: str, published: Any, language: str | None) -> FeedEntry:
    """One entry from either parser's dict; the fields where they differ are passed in."""
    get = raw.get
    content = ""
    blobs = get("content")
    if blobs and isinstance(blobs, list) and isinstance(blobs[0], Mapping):
        content = _str(blobs[0].get("value"))
        if content == summary:
            content = ""
    entry_id = _str(get("id"))
    link = _str(get("link")) or _first_link(get("links"))
    if not link:
        link = _missing_link(entry_id, get("enclosures"))
    # No guid: the link (fastfeedparser's rule, applied to both paths so they agree on ids).
    return FeedEntry(
        entry_id or link or None,
        _str(get("title")) or _str(get("itunes_title")),  # feedparser keeps <itunes:title> apart
        link,
        summary,
        content,
        _str(get("author")),
        published,
        language,
    )


def _missing_link(entry_id: str, enclosures: Any) -> str | None:
    """A link for an entry that has none: a guid that is a web address (feedparser ignores
    a permalink guid when ``<link>`` is present but empty), else an enclosure (a podcast
    episode).  A relative link is kept as it is, which makes it no link (``safe_url``,
    docs/threat-model.md, T3): it is not resolved against the feed's URL.  feedparser resolves one
    under an ``xml:base`` (the document's own statement of its base).
    """
    if entry_id.startswith(_ABSOLUTE):
        return entry_id
    return _enclosure_url(enclosures)


# Google Alerts (and Google search results) wrap every link in a redirect through
# google.com/url; the real address is its url= (or q=) parameter.
_REDIRECTORS = ("https://www.google.", "http://www.google.", "https://google.", "http://google.")
_GOOGLE_REDIRECT = re.compile(r"https?://(?:www\.)?google\.(?:com|[a-z]{2,3}(?:\.[a-z]{2})?)/url\?", re.IGNORECASE)


def _unwrap_redirects(entries: list[FeedEntry], body: bytes) -> None:
    """Links through a Google redirect become the address it sends to.

    The operator sees the real host before opening (docs/threat-model.md, T3), and one article found
    by two alerts is one link.  A pass over the entries only when the body names Google.
    """
    if b"google." not in body:
        return
    for e in entries:
        link = e.link
        if link is not None and link.startswith(_REDIRECTORS):
            target = _unwrap_redirect(link)
            if target != link:
                if e.id == link:  # no guid: the id was the link; it is the article's now
                    e.id = target
                e.link = target


def _unwrap_redirect(link: str) -> str:
    if _GOOGLE_REDIRECT.match(link) is None:
        return link
    from urllib.parse import parse_qs, urlsplit

    try:
        query = parse_qs(urlsplit(link).query)
    except ValueError:
        return link
    for key in ("url", "q"):
        for target in query.get(key, ()):
            if target.startswith(_ABSOLUTE):
                return target
    return link


def _enclosure_url(enclosures: Any) -> str | None:
    if isinstance(enclosures, list):
        for enc in enclosures:
            if isinstance(enc, Mapping):
                url = enc.get("url") or enc.get("href")  # fastfeedparser / feedparser
                if isinstance(url, str) and url.strip():
                    return url.strip()
    return None


def _parse_feedparser(body: bytes, headers: Mapping[str, str]) -> ParsedFeed:
    import feedparser

    # Only headers that affect decoding: no Content-Location, which rebases relative
    # links (and guids: feedparser resolves a permalink guid too, so ids would change).
    keep = {k: v for k, v in headers.items() if k in ("content-type", "content-language")}
    # Stray "&"s fixed as for the fast path: feedparser's loose parser reads "AT&T" as
    # "AT&T;" (and expat, which would read the fixed document, refuses the raw one).
    body = _xml_ampersands(body)
    doc = feedparser.parse(body, response_headers=keep)
    if not doc.entries and not doc.get("version") and "charset" in keep.get("content-type", "").lower():
        # A Content-Type charset that contradicts the document (charset=utf-16 on a
        # UTF-8 body) leaves feedparser with nothing; the document's own says better.
        doc = feedparser.parse(body)
    entries: list[FeedEntry] = []
    for raw in doc.entries[:MAX_ENTRIES]:
        if raw.get("guidislink"):
            link = raw.get("link")
            if isinstance(link, str) and not link.startswith(_ABSOLUTE) and link == raw.get("id"):
                # feedparser copies any guid ("d1", "urn:x") into a missing link; only a
                # guid that is a web address is one (and _missing_link takes that).
                raw["link"] = ""
        entries.append(
            _entry(
                raw,
                summary=_str(raw.get("summary")),
                published=_feedparser_time(raw),
                language=_str((raw.get("title_detail") or {}).get("language")) or None,
            )
        )
    _unwrap_redirects(entries, body)
    import xml.sax

    bozo_reason = ""
    broken = isinstance(doc.get("bozo_exception"), xml.sax.SAXException)
    if doc.get("bozo"):
        exc = doc.get("bozo_exception")
        bozo_reason = one_line(f"{type(exc).__name__}: {exc}" if exc else "malformed document", limit=200)
    return ParsedFeed(
        entries=entries,
        title=_str(doc.feed.get("title")),
        version=_str(doc.get("version")),
        bozo=bool(doc.get("bozo")),
        bozo_reason=bozo_reason,
        parser="feedparser",
        language=_str(doc.feed.get("language")) or None,
        truncated=len(doc.entries) > MAX_ENTRIES,
        broken=broken,
    )


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _first_link(links: Any) -> str | None:
    if isinstance(links, list):
        for link in links:
            if isinstance(link, dict) and isinstance(link.get("href"), str):
                if link.get("rel") in (None, "alternate"):
                    return link["href"]
    return None


def _iso_time(value: Any, now: datetime | None = None) -> datetime | None:
    """The date, or ``None`` when there is none or it is absurd (the item's date is unknown)."""
    if not isinstance(value, str) or not value.strip():
        return None
    return parse_time_or_none(value, now=now)


def _feedparser_time(raw: Mapping[str, Any]) -> datetime | None:
    """The entry's date, read from its text the way the fast path reads it.

    feedparser reads a zone it does not know (CEST, BST...) as UTC, hours off what
    fastfeedparser gives for the same document; its own value is the fallback.
    """
    # dict.get: the stored keys only (FeedParserDict.get maps "published" to "updated"
    # with a DeprecationWarning, and the fallback here is explicit).
    text = dict.get(raw, "published") or dict.get(raw, "updated")  # type: ignore[arg-type]
    if isinstance(text, str) and text.strip():
        parse_date = _fast_date_parser()
        if parse_date is not None:
            try:
                iso = parse_date(text)
            except Exception:  # a private helper: any failure means "use feedparser's"
                iso = None
            if isinstance(iso, str):
                return parse_time_or_none(iso)
    return _struct_time(dict.get(raw, "published_parsed") or dict.get(raw, "updated_parsed"))  # type: ignore[arg-type]


_fast_date: Any = False  # not looked up yet


def _fast_date_parser() -> Any:
    """fastfeedparser's date parser (feeds_compat.py), looked up once."""
    global _fast_date
    if _fast_date is False:
        from .feeds_compat import fast_date_parser

        _fast_date = fast_date_parser()
    return _fast_date


def _struct_time(value: Any) -> datetime | None:
    """feedparser's ``*_parsed`` values are UTC ``struct_time``s (not local time)."""
    if value is None:
        return None
    try:
        return parse_time_or_none(float(calendar.timegm(value)))
    except (TypeError, ValueError, OverflowError):
        return None


# ---------------------------------------------------------------------------- text


_BLOCK = frozenset(
    "p div br li ul ol blockquote pre h1 h2 h3 h4 h5 h6 tr table section article header footer hr dd dt".split()
)
_DROP = ("script", "style", "template", "noscript", "head", "title")


def html_to_text(value: str) -> str:
    """Readable plain text from an HTML fragment (feed summaries, Mastodon content).

    lxml's HTML parser does the work; block elements and ``<br>`` become line breaks and
    script/style bodies are dropped.  Text with no ``<`` or ``&`` is returned as is.
    Simple markup (paragraphs, line breaks, inline tags, ordinary entities: what most
    feeds send) takes a regex path that gives the same text without building a tree.
    The result still goes through ``Item.create``, which removes control characters.
    """
    if not value:
        return ""
    if "<" not in value and "&" not in value:
        return value
    if len(value) > _MAX_HTML:
        value = value[:_MAX_HTML]
    if "<" not in value:
        return _html.unescape(value)
    if _SIMPLE_HTML.fullmatch(value) is not None:
        text = _ANY_TAG.sub("", _LINE_TAG.sub("\n", value))
        if "&" in text:
            text = _html.unescape(text)
    else:
        text = _lxml_text(value)
    return _tidy_lines(text)


# "Obvious" HTML: a closing tag of a common element, a line break or paragraph tag, or a
# character reference.  "use <b> for bold" or "I <3 this" in a plain-text post is none.
_COMMON_TAGS = "a abbr b blockquote cite code del div em h1 h2 h3 h4 h5 h6 i li ol p pre q s small span strike strong sub sup u ul"
_OBVIOUS_HTML = re.compile(
    r"</(?:" + "|".join(_COMMON_TAGS.split()) + r")\s*>"
    r"|<(?:br|hr|p)(?:\s[^<>]*)?/?>"
    r"|&(?:amp|lt|gt|quot|apos|nbsp|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});",
    re.IGNORECASE,
)


def looks_like_html(text: str) -> bool:
    """Whether a field a JSON API sent is obviously HTML (``<p>...</p>``, ``<br>``, ``&amp;``).

    Used when a mapping does not say (``html`` unset); the conversion itself is
    :func:`html_to_text`, the feeds' path.
    """
    if "<" not in text and "&" not in text:
        return False
    return _OBVIOUS_HTML.search(text) is not None


def _lxml_text(value: str) -> str:
    """The text of any HTML fragment, through lxml (with the stdlib parser as a fallback)."""
    try:
        import lxml.etree
        import lxml.html

        root = lxml.html.fragment_fromstring(value, create_parent="div")
        for bad in list(root.iter(*_DROP)):
            bad.drop_tree()
        for el in root.iter():
            tag = el.tag if isinstance(el.tag, str) else ""
            if tag.lower() in _BLOCK:
                el.tail = "\n" + (el.tail or "")
                if tag.lower() in ("br", "hr"):
                    continue
                el.text = ("\n" if tag.lower() in ("p", "div", "blockquote") else "") + (el.text or "")
        return str(root.text_content())
    except Exception:  # lxml rejects some fragments (empty, only comments, NULs)
        return _fallback_text(value)


def _tidy_lines(text: str) -> str:
    """Whitespace runs to one space per line, at most one blank line, no blank ends."""
    text = text.replace("\xa0", " ")
    if "\n" not in text:
        return " ".join(text.split())
    if text.isascii() and "  " not in text and len(text.encode("ascii").translate(None, _ODD_ASCII_SPACE)) == len(text):
        # Single spaces and newlines only: trimming the spaces next to newlines is all.
        text = text.replace(" \n", "\n").replace("\n ", "\n")
    else:
        text = "\n".join([" ".join(line.split()) for line in text.split("\n")])
    if "\n\n\n" in text:
        text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


_BLANK_LINES = re.compile(r"\n{3,}")
# ASCII whitespace other than space and newline (str.split() splits on these too).
_ODD_ASCII_SPACE = b"\t\r\x0b\x0c\x1c\x1d\x1e\x1f"


# The regex path of html_to_text.  _SIMPLE_HTML matches exactly the fragments where it
# gives lxml's text (tests/test_fast_paths.py compares the two on generated fragments):
# text without controls, surrogates or noncharacters (lxml's recovery treats those
# differently); entities by name, or numeric ones for printable characters; inline
# tags, <br>, and <p>...</p> with only inline content (a block inside a <p>, an unclosed
# <p> or any other tag makes lxml move the line breaks).  Possessive quantifiers keep
# it linear on hostile input.
_INLINE_TAGS = "a abbr acronym b bdo big cite code del dfn em font i ins kbd q s samp small span strike strong sub sup tt u var"


def _any_case(names: list[str]) -> str:
    """An alternation of tag names in any letter case, grouped by first letter.

    (sre tries alternatives one by one; ``(?i:...)`` lower-cases at every try, and
    grouping lets a mismatch fail on the first letter.)
    """
    def ci(text: str) -> str:
        return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in text)

    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(name[0], []).append(name[1:])
    parts = []
    for first, rests in sorted(groups.items()):
        longer = [ci(r) for r in sorted(rests, key=lambda r: (-len(r), r)) if r]
        if "" in rests:
            longer.append("")  # the one-letter name last, after its longer relatives
        parts.append(ci(first) + (f"(?:{'|'.join(longer)})" if longer != [""] else ""))
    return "(?:" + "|".join(parts) + ")"


_INLINE_NAMES = _any_case(_INLINE_TAGS.split())
_ATTRS = r"""(?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*+(?:\s*+=\s*+(?:"[^"<>]*+"|'[^'<>]*+'|[^\s"'=<>`]++))?+)*+\s*+"""
_HTML_TEXT = r"[^<&\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]"
_HTML_ENTITY = (
    r"&(?:[a-zA-Z][a-zA-Z0-9]{1,31}"
    # decimal 32-126 and 160-55295
    r"|\#(?:3[2-9]|[4-9][0-9]|1[01][0-9]|12[0-6]|1[6-9][0-9]|[2-9][0-9]{2}|[1-9][0-9]{3}"
    r"|[1-4][0-9]{4}|5[0-4][0-9]{3}|55[01][0-9]{2}|552[0-8][0-9]|5529[0-5])"
    # hex 0x20-0x7e and 0xa0-0xd7ff
    r"|\#[xX](?:[2-6][0-9a-fA-F]|7[0-9a-eA-E]|[a-fA-F][0-9a-fA-F]|[1-9a-fA-F][0-9a-fA-F]{2}"
    r"|[1-9a-cA-C][0-9a-fA-F]{3}|[dD][0-7][0-9a-fA-F]{2}));"
)
_INLINE_PIECE = (
    rf"{_HTML_TEXT}++|{_HTML_ENTITY}|<{_INLINE_NAMES}\b{_ATTRS}/?>|</{_INLINE_NAMES}\s*+>"
    rf"|<[bB][rR]\b{_ATTRS}/?>"
)
_SIMPLE_HTML = re.compile(rf"(?:{_INLINE_PIECE}|<[pP]\b{_ATTRS}>(?:{_INLINE_PIECE})*+</[pP]\s*+>)*+")
_LINE_TAG = re.compile(r"</?[pP]\b[^>]*>|<[bB][rR]\b[^>]*>")
_ANY_TAG = re.compile(r"<[^>]*>")


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in _DROP:
            self._skip += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _fallback_text(value: str) -> str:
    parser = _TextOnly()
    try:
        parser.feed(value)
        parser.close()
    except Exception:
        return ""
    return "".join(parser.parts)


# ---------------------------------------------------------------------------- items


def feed_items(parsed: ParsedFeed, *, platform: str, source: str) -> list[Item]:
    """Items for every entry, through the one normalisation (``Item.create``)."""
    items: list[Item] = []
    seen: set[str] = set()
    feed_title = one_line(parsed.title, limit=200)
    for entry in parsed.entries:
        body = entry.content or entry.summary
        text = html_to_text(body) if body else ""
        title = html_to_text(entry.title) if entry.title else ""
        author = entry.author or feed_title or source
        item = Item.create(
            platform=platform,
            source=source,
            native_id=entry.id,
            author=author,
            author_name=author,
            text=text,  # Item.create cleans it
            title=title,
            url=entry.link,
            published=entry.published,
            language=entry.language or parsed.language,
        )
        if item.id in seen:
            continue
        if not item.text and item.url is None:
            continue  # nothing to show and nothing to open: an empty <item/> is no post
        seen.add(item.id)
        items.append(item)
    return items

