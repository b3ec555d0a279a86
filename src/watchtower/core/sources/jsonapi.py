"""Any JSON API, mapped to items by dotted paths; plus the JSON helpers every API connector uses.

A ``[[sources]]`` entry of kind ``json`` names a URL and a :class:`~watchtower.config.JsonMapping`
(``items = "data.posts"``, ``author = "user.handle"``...).  The document comes from a
stranger, so :func:`load_json` refuses HTML, invalid JSON and absurd nesting with a clear
:class:`SourceError`, and :func:`map_record` reads only scalars from the paths: a list
where a string was expected becomes "missing", never ``str(list)`` or a crash.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Mapping

from ..fetch.http import record_rate_limit, safe_validator
from ..models import Engagement, Item, _as_count, dedupe, parse_time, utcnow
from ..text.safetext import one_line
from .base import (
    NOT_MODIFIED_UNASKED,
    Source,
    SourceError,
    SourceState,
    asked_conditionally,
)

if TYPE_CHECKING:
    from ..fetch.http import HttpFetcher

__all__ = [
    "MappedJsonSource",
    "load_json",
    "dig",
    "scalar",
    "map_record",
    "bearer_headers",
    "dedupe",
    "count_of",
    "time_of",
    "html_text",
    "error_message",
]

_MISSING = object()

#: Leading bytes JSON may legally (whitespace) or commonly (a UTF-8 BOM) start with.
_LEADING = re.compile(rb"(?:[ \t\r\n]|\xef\xbb\xbf)*+")
#: Integers longer than this are not counts or ids anyone can use; Python refuses to
#: convert more than 4300 digits (``sys.int_max_str_digits``) and json.loads then fails.
_MAX_INT_DIGITS = 1000
#: No audience or like count is larger; bigger numbers are a server's nonsense (and
#: ``10**400`` would overflow the float maths of triage and display).
MAX_COUNT = 10**15
_SURROGATES = re.compile("[\ud800-\udfff]")
_NUMBER = re.compile(r"[+-]?[0-9]{1,20}(?:\.[0-9]{0,9})?")


def load_json(body: bytes, *, what: str = "JSON") -> Any:
    """Parse a response body; every failure is a :class:`SourceError` in plain words.

    Runs in a thread for big bodies (callers use ``asyncio.to_thread``).  ``json.loads``
    raises ``RecursionError`` on very deep nesting; that is caught here too.  What one
    bad field should not cost the whole response is tolerated: leading whitespace of
    any length, a UTF-8 BOM, an integer too long for Python to convert (it becomes an
    infinity, which :func:`scalar` and :func:`count_of` treat as missing), and invalid
    UTF-8 bytes inside an otherwise UTF-8 document (they become U+FFFD).
    """
    start = _LEADING.match(body).end()  # type: ignore[union-attr]  # matches the empty string
    if start >= len(body):
        raise SourceError(f"empty response (expected {what})")
    head = body[start : start + 512]
    if head[:1] == b"<":
        low = head.lower()
        kind = "HTML" if b"<html" in low or b"<!doctype" in low or b"<body" in low or b"<head" in low else "XML or HTML"
        raise SourceError(f"expected {what}, got {kind}")
    if start:
        body = body[start:]
    try:
        return _loads(body, what)
    except UnicodeDecodeError:
        not_utf8 = SourceError(f"expected {what}, got bytes that are not UTF-8 text")
        if json.detect_encoding(body) not in ("utf-8", "utf-8-sig"):
            raise not_utf8 from None
        try:
            return _loads(body.decode("utf-8-sig", "replace"), what)
        except SourceError:
            raise not_utf8 from None


def _loads(doc: bytes | str, what: str) -> Any:
    try:
        try:
            return json.loads(doc)
        except ValueError as exc:
            if isinstance(exc, UnicodeDecodeError) or "integer string conversion" not in str(exc):
                raise
            return json.loads(doc, parse_int=_bounded_int)
    except RecursionError:
        raise SourceError(f"{what} nested too deeply to read") from None
    except UnicodeDecodeError:
        raise
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        raise SourceError(f"invalid {what}{where}") from None


def _bounded_int(digits: str) -> int | float:
    if len(digits.lstrip("+-")) > _MAX_INT_DIGITS:
        return -math.inf if digits.startswith("-") else math.inf
    return int(digits)


def dig(data: Any, path: str | None) -> Any:
    """Follow a dotted path (``data.items``, ``user.0.name``); ``_MISSING`` if it breaks.

    ``""`` is the root.  Iterative, so a deep document cannot blow the stack.
    """
    if path is None:
        return _MISSING
    if path == "":
        return data
    cur = data
    for part in path.split("."):
        if isinstance(cur, dict):
            if part not in cur:
                return _MISSING
            cur = cur[part]
        elif isinstance(cur, list) and part.lstrip("-").isdigit():
            idx = int(part)
            if not -len(cur) <= idx < len(cur):
                return _MISSING
            cur = cur[idx]
        else:
            return _MISSING
    return cur


def scalar(value: Any) -> str | int | float | None:
    """A string or number, or ``None`` for anything else (dicts, lists, missing, bools).

    ``NaN`` and the infinities (JSON tokens Python accepts) are not numbers anyone meant:
    as ids they would all read ``"nan"`` and collapse into one item.
    """
    kind = type(value)
    if kind is str or kind is int:  # what json.loads makes, first
        return value
    if value is _MISSING or value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (str, int)):
        return value
    return None


def text_of(value: Any) -> str | None:
    if type(value) is str:
        return value
    v = scalar(value)
    if v is None:
        return None
    return v if isinstance(v, str) else str(v)


def count_of(value: Any) -> int | None:
    """A follower/like/reply count: a non-negative int up to :data:`MAX_COUNT`, else ``None``.

    Numbers as strings (``"1,234"``) are read; negative, fractional-looking garbage,
    ``NaN``/infinities, booleans and absurdly large numbers (``10**30``) are unknown.
    """
    if type(value) is int:
        return value if 0 <= value <= MAX_COUNT else None
    value = scalar(value)
    if isinstance(value, str) and not value.isascii():
        return None  # "²" passes str.isdigit() but int() refuses it
    count = _as_count(value)
    if count is None or count > MAX_COUNT:
        return None
    return count


def time_of(value: Any) -> datetime | None:
    """When something was posted, from whatever a server sent; ``None`` if it cannot be told.

    ISO 8601 (with or without a zone; without one is UTC), RFC 2822, and epoch numbers,
    also as strings (``"1704187800.0"``).  Epoch numbers too large for seconds are read
    as milliseconds, which many JSON APIs send.  Impossible dates (before 1990, more than
    a day ahead) are ``None`` so the caller can fall back to another field or to now.
    """
    value = scalar(value)
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
    now = utcnow()
    when = parse_time(value if not isinstance(value, (int, float)) else _epoch(value), now=now)
    if when is now and isinstance(value, str) and _NUMBER.fullmatch(value):
        when = parse_time(_epoch(float(value)), now=now)
    # parse_time answers ``now`` itself (that very object) when it cannot read the value.
    return None if when is now else when


def _epoch(number: float) -> float:
    """Epoch seconds from seconds or milliseconds (``10**400`` is no time: infinity)."""
    try:
        seconds = float(number)
    except OverflowError:
        return math.inf
    return seconds / 1000 if abs(seconds) >= 1e11 else seconds


def html_text(value: str | None) -> str:
    """Plain text from a stranger's HTML fragment (Mastodon content).

    Lone surrogates become U+FFFD first: lxml silently drops everything after one.
    """
    if not value:
        return ""
    from ..fetch.feeds import html_to_text

    if not value.isprintable() and _SURROGATES.search(value):
        value = _SURROGATES.sub("\ufffd", value)
    return html_to_text(value)


def looks_like_html(value: str) -> bool:
    """Whether a field is obviously HTML (see :func:`watchtower.core.fetch.feeds.looks_like_html`)."""
    from ..fetch.feeds import looks_like_html as check

    return check(value)


def error_message(data: Any) -> str | None:
    """The message of an error object a server sent instead of data, or ``None``.

    ``{"error": "..."}``, ``{"error": {"message": "..."}}``, ``{"errors": [...]}`` and
    ``{"error": 403, "message": "Forbidden"}`` all count; the words come back cleaned
    and short (``""`` when the object names no message).  ``"error": null``/``false``
    is not an error.
    """
    if not isinstance(data, dict):
        return None
    err = data.get("error")
    errs = data.get("errors")
    if err in (None, False, "", 0) and not (isinstance(errs, (list, dict)) and errs):
        return None
    words: list[str] = []
    for candidate in (err, errs[0] if isinstance(errs, list) and errs else errs):
        if isinstance(candidate, dict):
            for key in ("message", "error", "detail", "title", "code"):
                if text_of(candidate.get(key)):
                    words.append(text_of(candidate.get(key)) or "")
                    break
        elif isinstance(candidate, str) and candidate.strip():
            words.append(candidate)
    for key in ("message", "error_description", "reason", "detail"):
        extra = text_of(data.get(key))
        if extra and extra not in words:
            words.append(extra)
    return one_line(": ".join(words[:2]), limit=200)


def map_record(
    record: Any, mapping: Any, *, platform: str, source: str, html: bool | None = None
) -> Item | None:
    """One item from one JSON object through the configured mapping; ``None`` if unusable.

    An object with neither text nor title nor id is not an item.  Wrong types become
    missing fields; ``Item.create`` cleans and defaults the rest.

    Text and title are HTML to convert (:func:`html_text`, the feeds' lxml path) when
    ``html`` is true; plain text when it is false; when it is ``None`` the mapping's
    ``html`` decides, and when that is unset too, obvious HTML (``<p>``, ``<br>``,
    ``</span>``, ``&amp;``) is converted and anything else kept as it is.
    """
    if not isinstance(record, dict):
        return None

    def get(path: str | None) -> Any:
        return dig(record, path) if path else _MISSING

    native_id = text_of(get(mapping.id))
    text = text_of(get(mapping.text))
    title = text_of(get(mapping.title))
    if not (native_id or text or title):
        return None
    if html is None:
        html = getattr(mapping, "html", None)
    if html is not False:
        if text and (html or looks_like_html(text)):
            text = html_text(text)
        if title and (html or looks_like_html(title)):
            title = html_text(title)
    return Item.create(
        platform=platform,
        source=source,
        native_id=native_id,
        author=text_of(get(mapping.author)),
        author_name=text_of(get(mapping.author_name)),
        author_followers=count_of(get(mapping.followers)),
        text=text,
        title=title,
        url=text_of(get(mapping.url)),
        published=time_of(get(mapping.published)),
        language=text_of(get(mapping.language)),
        engagement=Engagement(
            reposts=count_of(get(mapping.reposts)),
            likes=count_of(get(mapping.likes)),
            replies=count_of(get(mapping.replies)),
        ),
        in_reply_to=text_of(get(mapping.in_reply_to)),
    )


def map_document(data: Any, mapping: Any, *, platform: str, source: str) -> tuple[list[Item], int]:
    """All items of a parsed document, and how many records were skipped.

    A document that yields nothing usable is an error in words, never a quiet "no new
    posts": an error object the server sent with HTTP 200, a path that is not there, or
    records none of which has the mapped id, text or title.
    """
    records = dig(data, mapping.items)
    if records is _MISSING:
        _raise_if_error(data)
        where = mapping.items or "the top level"
        raise SourceError(f"no '{one_line(where, limit=80)}' in the JSON document (check mapping.items)")
    single = isinstance(records, dict) and not mapping.items
    if single:
        records = [records]
    if not isinstance(records, list):
        _raise_if_error(data)
        where = mapping.items or "the top level"
        raise SourceError(
            f"expected a list at '{one_line(where, limit=80)}', got {_type_name(records)} (check mapping.items)"
        )
    items: list[Item] = []
    skipped = 0
    for record in records:
        item = map_record(record, mapping, platform=platform, source=source)
        if item is None:
            skipped += 1
        else:
            items.append(item)
    if not items and records:
        if single:
            _raise_if_error(data)
        raise SourceError(
            f"none of the {len(records)} records has the mapped id, text or title "
            f"(check mapping.id, mapping.text and mapping.title)"
        )
    return dedupe(items), skipped


def _raise_if_error(data: Any, who: str = "the server") -> None:
    message = error_message(data)
    if message is not None:
        raise SourceError(f"{who} returned an error instead of data" + (f": {message}" if message else ""))


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number",
            bool: "true/false", type(None): "null"}.get(type(value), "something else")


def bearer_headers(env: Mapping[str, str], name: str | None, *, what: str = "access token") -> dict[str, str]:
    """``Authorization: Bearer`` from the env var ``name``; a missing one names the variable only."""
    if not name:
        return {}
    token = env.get(name, "")
    if not token.strip():
        raise SourceError(f"environment variable {name} is not set (it should hold the {what})", permanent=True)
    token = token.strip()
    if any(ch in token for ch in "\r\n\x00") or not token.isascii():
        raise SourceError(f"environment variable {name} does not hold a usable token", permanent=True)
    return {"Authorization": f"Bearer {token}"}


class MappedJsonSource(Source):
    """A JSON endpoint read through ``[sources.mapping]``."""

    kind: ClassVar[str] = "json"

    async def fetch(self, http: HttpFetcher, state: SourceState) -> list[Item]:
        headers = {"Accept": "application/json", **self.spec.headers}
        headers.update(bearer_headers(self.env, self.spec.token_env))
        fetched = await http.get(
            self.spec.url,
            headers=headers,
            etag=state.etag,
            last_modified=state.last_modified,
            deadline=float(self.spec.timeout),
        )
        record_rate_limit(state, fetched)
        if fetched.not_modified:
            state.not_modified = True
            if not asked_conditionally(state, self.spec.headers):
                state.warn(NOT_MODIFIED_UNASKED)
            return []
        data = await asyncio.to_thread(load_json, fetched.body)
        items, skipped = await asyncio.to_thread(
            map_document, data, self.spec.mapping, platform=self.platform, source=self.name
        )
        state.last_skipped = skipped
        state.etag = safe_validator(fetched.headers.get("etag"))
        state.last_modified = safe_validator(fetched.headers.get("last-modified"))
        return items
