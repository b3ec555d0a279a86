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
from typing import TYPE_CHECKING, Any, ClassVar, Iterable, Mapping

from ..http import record_rate_limit, safe_validator
from ..models import Engagement, Item, _as_count, parse_time
from ..safetext import one_line
from .base import Source, SourceError, SourceState

if TYPE_CHECKING:
    from ..http import HttpFetcher

__all__ = [
    "MappedJsonSource",
    "load_json",
    "dig",
    "scalar",
    "map_record",
    "bearer_headers",
    "dedupe",
]

_MISSING = object()


def load_json(body: bytes, *, what: str = "JSON") -> Any:
    """Parse a response body; every failure is a :class:`SourceError` in plain words.

    Runs in a thread for big bodies (callers use ``asyncio.to_thread``).  ``json.loads``
    raises ``RecursionError`` on very deep nesting; that is caught here too.
    """
    stripped = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise SourceError(f"empty response (expected {what})")
    if stripped[:1] == b"<":
        low = stripped.lower()
        kind = "HTML" if b"<html" in low or b"<!doctype" in low or b"<body" in low or b"<head" in low else "XML or HTML"
        raise SourceError(f"expected {what}, got {kind}")
    try:
        return json.loads(body)
    except RecursionError:
        raise SourceError(f"{what} nested too deeply to read") from None
    except UnicodeDecodeError:
        raise SourceError(f"expected {what}, got bytes that are not UTF-8 text") from None
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        raise SourceError(f"invalid {what}{where}") from None


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
    """A string or number, or ``None`` for anything else (dicts, lists, missing, bools)."""
    if value is _MISSING or value is None or isinstance(value, bool):
        return None
    if isinstance(value, (str, int, float)):
        return value
    return None


def text_of(value: Any) -> str | None:
    v = scalar(value)
    if v is None:
        return None
    return v if isinstance(v, str) else str(v)


def map_record(
    record: Any, mapping: Any, *, platform: str, source: str, html: bool = False
) -> Item | None:
    """One item from one JSON object through the configured mapping; ``None`` if unusable.

    An object with neither text nor title nor id is not an item.  Wrong types become
    missing fields; ``Item.create`` cleans and defaults the rest.
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
    if html and text:
        from ..feeds import html_to_text

        text = html_to_text(text)
    published_raw = scalar(get(mapping.published))
    return Item.create(
        platform=platform,
        source=source,
        native_id=native_id,
        author=text_of(get(mapping.author)),
        author_name=text_of(get(mapping.author_name)),
        author_followers=scalar(get(mapping.followers)),
        text=text,
        title=title,
        url=text_of(get(mapping.url)),
        published=parse_time(published_raw) if published_raw is not None else None,
        language=text_of(get(mapping.language)),
        engagement=Engagement(
            reposts=_as_count(scalar(get(mapping.reposts))),
            likes=_as_count(scalar(get(mapping.likes))),
            replies=_as_count(scalar(get(mapping.replies))),
        ),
        in_reply_to=text_of(get(mapping.in_reply_to)),
    )


def map_document(data: Any, mapping: Any, *, platform: str, source: str) -> tuple[list[Item], int]:
    """All items of a parsed document, and how many records were skipped."""
    records = dig(data, mapping.items)
    if records is _MISSING:
        where = mapping.items or "the top level"
        raise SourceError(f"no '{one_line(where, limit=80)}' in the JSON document (check mapping.items)")
    if isinstance(records, dict) and not mapping.items:
        records = [records]
    if not isinstance(records, list):
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
    return dedupe(items), skipped


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number",
            bool: "true/false", type(None): "null"}.get(type(value), "something else")


def dedupe(items: Iterable[Item]) -> list[Item]:
    """Keep the first of each id: one response listing a post twice yields it once."""
    seen: set[str] = set()
    out: list[Item] = []
    for item in items:
        if item.id not in seen:
            seen.add(item.id)
            out.append(item)
    return out


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
            return []
        data = await asyncio.to_thread(load_json, fetched.body)
        items, skipped = await asyncio.to_thread(
            map_document, data, self.spec.mapping, platform=self.platform, source=self.name
        )
        state.last_skipped = skipped
        state.etag = safe_validator(fetched.headers.get("etag"))
        state.last_modified = safe_validator(fetched.headers.get("last-modified"))
        return items
