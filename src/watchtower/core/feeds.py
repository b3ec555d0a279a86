"""Feed parsing: bytes in, normalised entries out, never a URL or a path.

Two parsers, one normalisation.  fastfeedparser (lxml) is tried first because it is far
faster on big feeds; feedparser is the fallback for the broken documents it still reads
(truncated XML, wrong encodings) and for telling an HTML page from a valid empty feed
(``version == ''``).  Both paths produce :class:`FeedEntry` objects, and
:func:`feed_items` turns those into :class:`~watchtower.core.models.Item` through
``Item.create``, so no parser's quirks reach the rest of the app.

Everything here is synchronous and CPU-bound: connectors call :func:`parse_feed` through
``asyncio.to_thread`` so a 10,000-item feed never blocks the event loop.

Hazards handled (``shared/HAZARDS.md`` §1.3, §5): documents that declare ``<!ENTITY``
are rejected before any parser sees them (feedparser's loose parser expands a
quadratic-blowup entity to hundreds of MB), and neither parser is ever given a string it
could mistake for a URL or a file name.
"""

from __future__ import annotations

import calendar
import html as _html
import re
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from typing import Any, Mapping

from .models import Item, parse_time, utcnow
from .safetext import one_line
from .sources.base import SourceError

__all__ = [
    "FeedEntry",
    "ParsedFeed",
    "parse_feed",
    "feed_items",
    "html_to_text",
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
    head = body[:4096].lower()
    if b"<rss" in head:
        return "rss20" if b'version="2' in head or b"version='2" in head else "rss"
    if b"<feed" in head:
        return "atom10" if b"http://www.w3.org/2005/atom" in head else "atom"
    if b"<rdf:rdf" in head or b"http://purl.org/rss/1.0/" in head:
        return "rss10"
    if head.lstrip().startswith(b"{"):
        return "json1"
    return "unknown"


_LANG_RE = re.compile(rb"<language>\s*([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})?)\s*</language>|xml:lang=[\"']([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})?)[\"']")


def _sniff_language(body: bytes) -> str | None:
    """The channel's ``<language>`` or the root's ``xml:lang`` (fastfeedparser drops both)."""
    found = _LANG_RE.search(body[:8192])
    if not found:
        return None
    return (found.group(1) or found.group(2)).decode("ascii")


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
    fast_error: Exception | None = None
    if parser in ("auto", "fast"):
        try:
            parsed = _parse_fast(body)
        except SourceError:
            raise
        except Exception as exc:  # fastfeedparser raises ValueError and friends
            fast_error = exc
            parsed = None
        if parser == "fast":
            if parsed is None:
                raise _not_a_feed(body, str(fast_error))
            return parsed
        if parsed is not None and parsed.entries:
            if not _lost_characters(parsed, body):
                return parsed
            # lxml decoded bytes that are not in the declared encoding (cp1252 sent as
            # UTF-8) into U+FFFD; feedparser's charset fallback reads them correctly.
            fallback = _parse_feedparser(body, hdrs)
            return fallback if len(fallback.entries) >= len(parsed.entries) else parsed
    result = _parse_feedparser(body, hdrs)
    if result.version == "" and not result.entries:
        raise _not_a_feed(body, str(fast_error or result.bozo_reason))
    if result.broken and not result.entries:
        # Truncated or malformed with nothing readable: not "a valid empty feed", and
        # its validators must not be kept (a later 304 would hide the items it had).
        raise SourceError("feed is malformed (no entries could be read)")
    return result


def _lost_characters(parsed: ParsedFeed, body: bytes) -> bool:
    """U+FFFD in the entries that the document itself does not contain: a decoding loss."""
    if not any(
        "\ufffd" in e.title or "\ufffd" in e.summary or "\ufffd" in e.content or "\ufffd" in e.author
        for e in parsed.entries[:200]
    ):
        return False
    return not ("\ufffd".encode("utf-8") in body or b"&#65533;" in body or b"&#xfffd;" in body.lower())


def _not_a_feed(body: bytes, reason: str) -> SourceError:
    if _looks_like_html(body) or "HTML" in reason:
        return SourceError("not a feed (looks like HTML)")
    head = body[:64].lstrip()
    if head.startswith((b"{", b"[")):
        return SourceError("not a feed (looks like JSON)")
    return SourceError("not a feed (could not be parsed as RSS or Atom)")


def _parse_fast(body: bytes) -> ParsedFeed:
    import fastfeedparser

    # Bytes only: fastfeedparser fetches a str that starts with http(s)://.  Tags, media
    # and enclosures are never used, so they are not extracted.
    doc = fastfeedparser.parse(body, include_tags=False, include_media=False, include_enclosures=False)
    feed = doc.get("feed") or {}
    raw_entries = doc.get("entries") or []
    entries: list[FeedEntry] = []
    append = entries.append
    now = utcnow()  # one "now" for every absurd date in the document
    for raw in raw_entries[:MAX_ENTRIES]:
        get = raw.get
        append(
            _entry(
                raw,
                summary=_str(get("description") or get("summary")),
                published=_iso_time(get("published") or get("updated"), now),
                language=_str(get("language")) or None,
            )
        )
    return ParsedFeed(
        entries=entries,
        title=_str(feed.get("title")),
        version=_sniff_version(body),
        parser="fastfeedparser",
        language=_str(feed.get("language")) or _sniff_language(body),
        truncated=len(raw_entries) > MAX_ENTRIES,
    )


def _entry(raw: Mapping[str, Any], *, summary: str, published: Any, language: str | None) -> FeedEntry:
    """One entry from either parser's dict; the fields where they differ are passed in."""
    get = raw.get
    content = ""
    blobs = get("content")
    if blobs and isinstance(blobs, list) and isinstance(blobs[0], Mapping):
        content = _str(blobs[0].get("value"))
        if content == summary:
            content = ""
    link = _str(get("link")) or _first_link(get("links"))
    # No guid: the link (fastfeedparser's rule, applied to both paths so they agree on ids).
    return FeedEntry(
        _str(get("id")) or link or None,
        _str(get("title")),
        link,
        summary,
        content,
        _str(get("author")),
        published,
        language,
    )


def _parse_feedparser(body: bytes, headers: Mapping[str, str]) -> ParsedFeed:
    import feedparser

    # Only headers that affect decoding: no Content-Location, which rebases relative links.
    keep = {k: v for k, v in headers.items() if k in ("content-type", "content-language")}
    doc = feedparser.parse(body, response_headers=keep)
    entries: list[FeedEntry] = []
    for raw in doc.entries[:MAX_ENTRIES]:
        entries.append(
            _entry(
                raw,
                summary=_str(raw.get("summary")),
                published=_struct_time(raw.get("published_parsed") or raw.get("updated_parsed")),
                language=_str((raw.get("title_detail") or {}).get("language")) or None,
            )
        )
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
    if not isinstance(value, str) or not value.strip():
        return None
    return parse_time(value, now=now)


def _struct_time(value: Any) -> datetime | None:
    """feedparser's ``*_parsed`` values are UTC ``struct_time``s (not local time)."""
    if value is None:
        return None
    try:
        return parse_time(float(calendar.timegm(value)))
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
        seen.add(item.id)
        items.append(item)
    return items

