"""Watch, mute and snooze: shared by every operator because they live in the handover log.

- **Watch an author** (keep an eye on someone instead of blocking them, so you can keep
  monitoring): their posts are never below *medium* and carry the reason
  ``watched author`` (the UI shows a badge).  Listed in the handover.
- **Mute an author or a keyword**: hidden from the panes and from alerts (no page, no
  escalation), still archived and still found by search, shown with a filter, and listed
  in the handover so the next shift knows.  A mute may last for a while (``until``).
  A watched author is never muted, by author or by keyword: watching wins.
- **Snooze an item's alerts** for N minutes: no page and no escalation for it until the
  snooze ends; then escalation picks up where it was.

Each is one log entry; the last one written about the same thing wins:

==========  ===============================================  ===========================
kind        ``data``                                         entry text
==========  ===============================================  ===========================
watch       ``author``, ``platform`` (optional)              why
unwatch     ``author``, ``platform``
mute        ``author`` or ``keyword``, ``platform``, ``until``  why
unmute      ``author`` or ``keyword``, ``platform``
snooze      ``until`` (ISO UTC; not after the entry: ended)  why; ``item_id`` on the entry
==========  ===============================================  ===========================

Authors compare without case and without a leading ``@`` (``@Ann@social.example`` is
``ann@social.example``); a keyword matches as a whole word or phrase, without case, in the
title, text or content warning.  :meth:`Watchlist.apply` never changes the stored item: the
watch floor is an overlay, so unwatching someone puts their posts back where triage put
them.

Pure: ``now`` is passed in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ..models import Item, Severity, parse_iso

__all__ = [
    "WATCH_KINDS",
    "WatchEntry",
    "MuteEntry",
    "Snooze",
    "Watchlist",
    "watchlist_from_entries",
    "norm_author",
    "WATCHED_FLOOR",
    "WATCHED_REASON",
]

WATCH_KINDS = ("watch", "unwatch", "mute", "unmute", "snooze")
WATCHED_FLOOR = Severity.MEDIUM
WATCHED_REASON = "watched author"


def norm_author(value: object) -> str:
    return str(value or "").strip().lstrip("@").casefold()


def _norm_platform(value: object) -> str | None:
    text = str(value or "").strip().casefold()
    return text or None


_ts = parse_iso  # our own stamps read back (core/models.py)


@dataclass(frozen=True, slots=True)
class WatchEntry:
    author: str
    """As the operator typed it (for lists); matched through :func:`norm_author`."""
    platform: str | None
    by: str
    at: datetime
    reason: str = ""


@dataclass(frozen=True, slots=True)
class MuteEntry:
    author: str | None
    keyword: str | None
    platform: str | None
    by: str
    at: datetime
    until: datetime | None = None
    reason: str = ""

    @property
    def what(self) -> str:
        return f"author {self.author}" if self.author else f"keyword {self.keyword!r}"


@dataclass(frozen=True, slots=True)
class Snooze:
    item_id: str
    until: datetime
    by: str
    at: datetime
    reason: str = ""
    excerpt: str = ""
    platform: str | None = None


def _keyword_re(keyword: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in keyword.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


@dataclass(slots=True)
class Watchlist:
    """What the log says is watched, muted and snoozed at ``now``."""

    now: datetime
    watched: dict[tuple[str, str | None], WatchEntry] = field(default_factory=dict)
    muted_authors: dict[tuple[str, str | None], MuteEntry] = field(default_factory=dict)
    muted_keywords: dict[tuple[str, str | None], MuteEntry] = field(default_factory=dict)
    snoozes: dict[str, Snooze] = field(default_factory=dict)
    _kw: list[tuple[re.Pattern[str], MuteEntry]] = field(default_factory=list)

    # -- questions -----------------------------------------------------------------------

    def watch_of(self, author: object, platform: object = None) -> WatchEntry | None:
        key = norm_author(author)
        if not key:
            return None
        return self.watched.get((key, _norm_platform(platform))) or self.watched.get((key, None))

    def is_watched(self, item: Item) -> bool:
        return self.watch_of(item.author, item.platform) is not None

    def mute_reason(self, author: object, text: str = "", platform: object = None) -> str | None:
        """``muted author @x`` / ``muted keyword 'refund'``, or ``None``; never for a watched author."""
        if self.watch_of(author, platform) is not None:
            return None
        key = norm_author(author)
        plat = _norm_platform(platform)
        mute = (self.muted_authors.get((key, plat)) or self.muted_authors.get((key, None))) if key else None
        if mute is not None:
            return f"muted author {mute.author}"
        if text:
            for pattern, m in self._kw:
                if (m.platform is None or _norm_platform(m.platform) == plat) and pattern.search(text):
                    return f"muted keyword {m.keyword!r}"
        return None

    def muted(self, item: Item) -> str | None:
        text = " ".join(p for p in (item.title, item.text, item.content_warning) if p)
        return self.mute_reason(item.author, text, item.platform)

    def snoozed_until(self, item_id: str, now: datetime | None = None) -> datetime | None:
        snooze = self.snoozes.get(item_id)
        at = now or self.now
        if snooze is None or snooze.until <= at:
            return None
        return snooze.until

    def apply(self, item: Item) -> Item:
        """``item`` as the panes and alerts should see it: a watched author's post at least
        medium, with the reason.  A copy when something changes; the item itself otherwise."""
        watch = self.watch_of(item.author, item.platform)
        if watch is None:
            return item
        reason = WATCHED_REASON + (f" ({watch.reason})" if watch.reason else "")
        reasons = list(item.reasons)
        if not any(r.startswith(WATCHED_REASON) for r in reasons):
            reasons.append(reason)
        return replace(item, severity=max(item.severity, WATCHED_FLOOR), reasons=reasons)

    def visible(self, items: Iterable[Item]) -> list[Item]:
        """The items a pane shows: muted ones left out, watched ones lifted."""
        return [self.apply(i) for i in items if self.muted(i) is None]

    @property
    def empty(self) -> bool:
        return not (self.watched or self.muted_authors or self.muted_keywords or self.snoozes)

    def active_snoozes(self) -> list[Snooze]:
        return sorted((s for s in self.snoozes.values() if s.until > self.now), key=lambda s: s.until)


def watchlist_from_entries(entries: Iterable[Any], now: datetime) -> Watchlist:
    """Fold the log (any kinds; only :data:`WATCH_KINDS` count) into a :class:`Watchlist`.

    In the order of writing; a mute whose ``until`` has passed is gone, and so is a
    snooze that ended.
    """
    wl = Watchlist(now=now)
    for e in sorted((e for e in entries if getattr(e, "kind", None) in WATCH_KINDS), key=lambda e: e.seq):
        d = e.data if isinstance(e.data, dict) else {}
        platform = _norm_platform(d.get("platform"))
        raw_platform = d.get("platform")
        shown = raw_platform.strip() if platform and isinstance(raw_platform, str) else None
        author = d.get("author") if isinstance(d.get("author"), str) else None
        keyword = d.get("keyword") if isinstance(d.get("keyword"), str) else None
        if e.kind == "watch" and author and norm_author(author):
            wl.watched[(norm_author(author), platform)] = WatchEntry(author.strip(), shown, e.operator, e.ts, e.text)
            wl.muted_authors.pop((norm_author(author), platform), None)
        elif e.kind == "unwatch" and author:
            wl.watched.pop((norm_author(author), platform), None)
        elif e.kind == "mute":
            until = _ts(d.get("until"))
            if author and norm_author(author):
                wl.muted_authors[(norm_author(author), platform)] = MuteEntry(
                    author.strip(), None, shown, e.operator, e.ts, until, e.text)
                wl.watched.pop((norm_author(author), platform), None)
            elif keyword and keyword.strip():
                kw = " ".join(keyword.split())
                wl.muted_keywords[(kw.casefold(), platform)] = MuteEntry(None, kw, shown, e.operator, e.ts, until, e.text)
        elif e.kind == "unmute":
            if author:
                wl.muted_authors.pop((norm_author(author), platform), None)
            elif keyword:
                wl.muted_keywords.pop((" ".join(keyword.split()).casefold(), platform), None)
        elif e.kind == "snooze" and e.item_id:
            until = _ts(d.get("until"))
            if until is None or until <= e.ts:
                wl.snoozes.pop(e.item_id, None)
            else:
                wl.snoozes[e.item_id] = Snooze(e.item_id, until, e.operator, e.ts, e.text, e.excerpt, e.platform)
    for table in (wl.muted_authors, wl.muted_keywords):
        for key in [k for k, m in table.items() if m.until is not None and m.until <= now]:
            del table[key]
    for item_id in [k for k, s in wl.snoozes.items() if s.until <= now]:
        del wl.snoozes[item_id]
    wl._kw = [(_keyword_re(m.keyword or ""), m) for m in wl.muted_keywords.values()]
    return wl
