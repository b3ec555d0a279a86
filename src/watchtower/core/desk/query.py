"""The search line of the live screen (``/``): free words plus ``key:value`` filters.

``refund author:@ann platform:x severity:high state:open since:2d until:2026-11-20``
becomes a :class:`~watchtower.core.record.search.SearchQuery`, the same one ``watchtower search``
builds from its options.  Everything that is not a known filter stays a word (quoted
phrases, ``refund*`` and ``-word`` included), so what a person types is never an error
unless a filter's value does not read; then :class:`ValueError` says which and what was
expected, in one line.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo

from ..coverage.when import parse_duration
from ..models import Severity
from ..record.search import STATES, SearchQuery

__all__ = ["FILTERS", "SEARCH_LIMIT", "parse_search", "parse_when"]

#: Results one search brings (newest first); the title says how many matched in all.
SEARCH_LIMIT = 500
FILTERS = ("author", "platform", "severity", "state", "since", "until")
_ALIASES = {"from": "author", "by": "author", "on": "platform", "sev": "severity", "is": "state"}
_FILTER = re.compile(r'(?<!\S)(?P<key>[A-Za-z]+):(?:"(?P<quoted>[^"]*)"|(?P<value>\S+))')
_AGE = re.compile(r"^\s*\d+(?:\.\d+)?\s*[A-Za-z]+\s*$")


def parse_when(value: str, *, now: datetime, tz: tzinfo) -> datetime:
    """An age before ``now`` (``2h``, ``1d``, ``1w``), ``today``, ``yesterday``, or an ISO
    date/time (a naive one in ``tz``); ``ValueError`` in words otherwise."""
    text = value.strip()
    low = text.lower()
    if low in ("today", "yesterday"):
        local = now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
        return (local - timedelta(days=1 if low == "yesterday" else 0)).astimezone(timezone.utc)
    if _AGE.match(text):
        try:
            return now - parse_duration(text)
        except ValueError:
            pass
    iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        ts = datetime.fromisoformat(iso)
    except ValueError:
        raise ValueError(f"{value!r}: expected an age like 2h or 1d, today, yesterday, "
                         "or an ISO date or time (2026-11-03, 2026-11-03T14:00)") from None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=tz)
    return ts.astimezone(timezone.utc)


def parse_search(text: str, *, now: datetime, tz: tzinfo, limit: int = SEARCH_LIMIT) -> SearchQuery:
    """The :class:`SearchQuery` for a search line; ``ValueError`` naming the filter whose
    value does not read."""
    q = SearchQuery(limit=limit)
    words: list[str] = []
    at = 0
    for m in _FILTER.finditer(text or ""):
        key = m.group("key").lower()
        key = _ALIASES.get(key, key)
        if key not in FILTERS:
            continue  # "re:refund" is a word
        words.append(text[at:m.start()])
        at = m.end()
        value = (m.group("quoted") if m.group("quoted") is not None else m.group("value")).strip()
        if not value:
            raise ValueError(f"{key}: expected a value after '{key}:'")
        if key == "author":
            q.author = value
        elif key == "platform":
            q.platform = value
        elif key == "severity":
            try:
                q.severity = Severity.parse(value)
            except (KeyError, ValueError):
                raise ValueError(f"severity:{value}: expected one of "
                                 f"{', '.join(s.label for s in Severity)} (at least that)") from None
        elif key == "state":
            if value.lower() not in STATES:
                raise ValueError(f"state:{value}: expected one of {', '.join(STATES)}")
            q.state = value.lower()
        else:
            try:
                when = parse_when(value, now=now, tz=tz)
            except ValueError as exc:
                raise ValueError(f"{key}:{exc}") from None
            if key == "since":
                q.since = when
            else:
                q.until = when
    words.append((text or "")[at:])
    q.words = " ".join(" ".join(words).split())
    return q
