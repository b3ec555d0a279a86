"""What is open at handover: every item that still needs a human, and how fast we answered.

:func:`open_work` folds the handover log and the archived items into an :class:`OpenWork`
that :func:`watchtower.core.report.handover.summarise` puts in the summary (the claims, the
follow-ups and the scheduled posts are there already):

- **items that still need a human, whatever their age**: bad enough (medium and up, or
  low and up when they arrived while nobody was on call; a watched author's post counts
  as at least medium) and nobody replied, ignored or blocked them.  A claimed item is
  still open (its claim is named).  Muted ones are left out and counted.  The worst first,
  then the one waiting longest.
- **alerts nobody acknowledged** (:mod:`watchtower.core.respond.escalation`), with the level they
  reached;
- **watched authors, mutes, snoozes** and **rota overrides** in force or to come, so the
  next shift knows;
- **time to first response**: per item that arrived in the shift and needed a human, from
  its publication to the first thing a person did about it (claimed or acknowledged,
  replied, ignored, blocked, escalated by hand; merely opening it does not count), and for
  the shift the median and the worst, plus how many are still waiting and for how long.

Pure: ``now`` is passed in; times in the result are in the organisation's zone, durations
are whole seconds (plain JSON).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from ..models import Item, Severity
from ..text.mdtext import md_escape
from ..text.safetext import one_line

__all__ = [
    "OpenItem",
    "Response",
    "ResponseTimes",
    "OpenWork",
    "open_work",
    "needs_human",
    "RESPONSE_KINDS",
    "open_work_markdown",
]

#: Entry kinds that are a person's first response to an item.
RESPONSE_KINDS = ("claimed", "replied", "posted", "ignored", "blocked", "escalated")
#: Items listed one by one; the rest are counted.
MAX_LISTED = 200
EXCERPT = 160


def needs_human(item: Item) -> bool:
    """Bad enough for a person (the desk's one rule, :func:`watchtower.core.record.policy.needs_attention`):
    medium and up, or low and up when it arrived uncovered."""
    from ..record.policy import needs_attention

    return needs_attention(item)


@dataclass(slots=True)
class OpenItem:
    id: str
    ref: str
    platform: str
    severity: str
    badge: str
    author: str
    excerpt: str
    published: datetime
    waiting_s: int
    """Seconds since it was published."""
    state: str
    claimed_by: str | None = None
    watched: bool = False
    snoozed_until: datetime | None = None
    alert: str = ""
    """``on call Sam``, ``backup Ann``, ``fallback``: where its alert got to, if it alerted."""
    first_response_s: int | None = None


@dataclass(slots=True)
class Response:
    id: str
    ref: str
    platform: str
    badge: str
    excerpt: str
    published: datetime
    seconds: int | None
    """Seconds to the first response; ``None``: none yet."""
    by: str | None = None
    kind: str | None = None


@dataclass(slots=True)
class ResponseTimes:
    items: int = 0
    """Items of the shift that needed a human."""
    answered: int = 0
    median_s: int | None = None
    worst_s: int | None = None
    worst_ref: str | None = None
    waiting: int = 0
    longest_wait_s: int | None = None
    per_item: list[Response] = field(default_factory=list)


@dataclass(slots=True)
class OpenWork:
    items: list[OpenItem] = field(default_factory=list)
    items_total: int = 0
    muted_hidden: int = 0
    alerts: list[dict[str, Any]] = field(default_factory=list)
    watched: list[dict[str, Any]] = field(default_factory=list)
    muted: list[dict[str, Any]] = field(default_factory=list)
    snoozed: list[dict[str, Any]] = field(default_factory=list)
    overrides: list[dict[str, Any]] = field(default_factory=list)
    response: ResponseTimes = field(default_factory=ResponseTimes)


def _first_responses(entries: Sequence[Any]) -> dict[str, Any]:
    """The first response entry per item, in the order of writing (``watchtower`` itself is
    not a person: its pages are ``alert`` entries, never a response)."""
    out: dict[str, Any] = {}
    for e in entries:
        if e.item_id and e.kind in RESPONSE_KINDS and e.item_id not in out:
            out[e.item_id] = e
    return out


def _secs(delta: timedelta) -> int:
    return max(0, int(delta.total_seconds()))


def open_work(entries: Sequence[Any], items: Iterable[Item], *, since: datetime, now: datetime, tz: tzinfo) -> OpenWork:
    from ..coverage.rota import overrides_from_entries
    from ..record.decisions import item_states
    from ..respond.escalation import chains_from_entries, is_acknowledged, item_ref
    from ..triage.watchlist import watchlist_from_entries

    ordered = sorted(entries, key=lambda e: e.seq)
    states = item_states(ordered)
    watch = watchlist_from_entries(ordered, now)
    chains = chains_from_entries(ordered)
    first = _first_responses(ordered)
    ow = OpenWork()

    open_items: list[OpenItem] = []
    shift_items: list[Response] = []
    for raw in items:
        if watch.muted(raw) is not None:
            if needs_human(watch.apply(raw)) and not _handled(states.get(raw.id)):
                ow.muted_hidden += 1
            continue
        it = watch.apply(raw)
        if not needs_human(it):
            continue
        st = states.get(it.id)
        resp = first.get(it.id)
        resp_s = _secs(resp.ts - it.published) if resp is not None and not it.date_unknown else None
        if not it.date_unknown and since <= it.published <= now:
            shift_items.append(Response(
                it.id, item_ref(it.id), it.platform, it.severity.badge.strip(), one_line(it.headline, limit=EXCERPT),
                it.published.astimezone(tz), resp_s, resp.operator if resp is not None else None,
                resp.kind if resp is not None else None,
            ))
        if _handled(st):
            continue
        chain = chains.get(it.id)
        alert = ""
        if chain is not None:
            alert = {"on_call": f"on call {chain.to or ''}".strip(), "backup": f"backup {chain.to or ''}".strip(),
                     "fallback": "fallback"}.get(chain.role, chain.role)
        open_items.append(OpenItem(
            id=it.id, ref=item_ref(it.id), platform=it.platform, severity=it.severity.label,
            badge=it.severity.badge.strip(), author=it.author, excerpt=one_line(it.headline, limit=EXCERPT),
            published=it.published.astimezone(tz), waiting_s=_secs(now - it.published),
            state=st.label if st is not None else "new", claimed_by=st.claimed_by if st is not None else None,
            watched=watch.is_watched(it), snoozed_until=_local(watch.snoozed_until(it.id, now), tz),
            alert=alert, first_response_s=resp_s,
        ))
    open_items.sort(key=lambda o: (-int(Severity.parse(o.severity)), -o.waiting_s))
    ow.items_total = len(open_items)
    ow.items = open_items[:MAX_LISTED]

    for chain in sorted(chains.values(), key=lambda c: c.first_at):
        if is_acknowledged(states.get(chain.item_id)) or watch.mute_reason(chain.author, chain.line, chain.platform):
            continue
        ow.alerts.append({"ref": item_ref(chain.item_id), "item_id": chain.item_id, "line": chain.line,
                          "level": chain.role, "to": chain.to, "first_alerted": chain.first_at.astimezone(tz),
                          "last_alerted": chain.last_at.astimezone(tz), "reached": chain.reached})
    for w in sorted(watch.watched.values(), key=lambda w: w.at):
        ow.watched.append({"author": w.author, "platform": w.platform, "by": w.by, "since": w.at.astimezone(tz),
                           "reason": w.reason})
    for m in sorted([*watch.muted_authors.values(), *watch.muted_keywords.values()], key=lambda m: m.at):
        ow.muted.append({"what": m.what, "platform": m.platform, "by": m.by, "since": m.at.astimezone(tz),
                         "until": _local(m.until, tz), "reason": m.reason})
    for s in watch.active_snoozes():
        ow.snoozed.append({"ref": item_ref(s.item_id), "item_id": s.item_id, "until": s.until.astimezone(tz),
                           "by": s.by, "reason": s.reason, "excerpt": s.excerpt})
    for ov in overrides_from_entries(ordered):
        if ov.end > now:
            ow.overrides.append({"id": ov.id, "who": ov.who, "start": ov.start.astimezone(tz),
                                 "end": ov.end.astimezone(tz), "by": ov.by, "reason": ov.reason})

    rt = ow.response
    shift_items.sort(key=lambda r: r.published)
    rt.per_item = shift_items
    rt.items = len(shift_items)
    answered = [r for r in shift_items if r.seconds is not None]
    rt.answered = len(answered)
    if answered:
        rt.median_s = int(statistics.median(r.seconds for r in answered if r.seconds is not None))
        worst = max(answered, key=lambda r: r.seconds or 0)
        rt.worst_s, rt.worst_ref = worst.seconds, worst.ref
    waiting = [r for r in shift_items if r.seconds is None and not _handled(states.get(r.id))]
    rt.waiting = len(waiting)
    if waiting:
        rt.longest_wait_s = max(_secs(now - r.published) for r in waiting)
    return ow


def _handled(state: Any) -> bool:
    from ..record.policy import handled

    return handled(state)


def _local(ts: datetime | None, tz: tzinfo) -> datetime | None:
    return ts.astimezone(tz) if ts is not None else None


def span(seconds: int | None) -> str:
    """``4 min``, ``2 h 05 min``, ``3 d 4 h``."""
    if seconds is None:
        return "-"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


def open_work_markdown(ow: OpenWork) -> list[str]:
    """The handover's Markdown sections for ``ow`` (hostile text escaped as the rest is)."""
    def t(ts: datetime | None) -> str:
        return ts.strftime("%a %d %b %H:%M %Z") if ts is not None else "?"

    out: list[str] = []
    rt = ow.response
    out.append("## Time to first response (this shift)")
    if rt.items == 0:
        out.append("- no item of this shift needed a human")
    else:
        out.append(f"- {rt.answered} of {rt.items} item(s) answered: median **{span(rt.median_s)}**, "
                   f"worst **{span(rt.worst_s)}**" + (f" (ref {rt.worst_ref})" if rt.worst_ref else ""))
        if rt.waiting:
            out.append(f"- **{rt.waiting} still without a response**, the longest waiting {span(rt.longest_wait_s)}")
        for r in rt.per_item[:MAX_LISTED]:
            took = (f"{span(r.seconds)} ({md_escape(r.kind, 16)} by {md_escape(r.by, 64)})" if r.seconds is not None
                    else "no response yet")
            out.append(f"  - {md_escape(r.badge, 16)} · {md_escape(r.platform, 64)} · {t(r.published)} · {took}: "
                       f"{md_escape(r.excerpt)}")
    out.append("")
    more = f", the {len(ow.items)} worst listed" if ow.items_total > len(ow.items) else ""
    muted = f"; {ow.muted_hidden} muted not listed" if ow.muted_hidden else ""
    out.append(f"## Still needs a human, whatever its age ({ow.items_total}{more}{muted})")
    for o in ow.items:
        marks = [o.state]
        if o.watched:
            marks.append("watched author")
        if o.alert:
            marks.append(f"alerted: {o.alert}")
        if o.snoozed_until is not None:
            marks.append(f"snoozed until {o.snoozed_until:%H:%M}")
        out.append(f"- {md_escape(o.badge, 16)} · {md_escape(o.platform, 64)} · {t(o.published)} "
                   f"(waiting {span(o.waiting_s)}) · {md_escape(o.author, 100)}: {md_escape(o.excerpt)} "
                   f"[{md_escape(', '.join(marks), 200)}] (ref {o.ref})")
    if not ow.items:
        out.append("- none")
    out.append("")

    def section(title: str, lines: list[str]) -> None:
        out.append(f"## {title} ({len(lines)})")
        out.extend(lines or ["- none"])
        out.append("")

    section("Alerts not acknowledged", [
        f"- {md_escape(a['line'])} · first alerted {t(a['first_alerted'])}, now at the "
        f"{md_escape(a['level'].replace('_', ' '), 16)}{' ' + md_escape(a['to'], 64) if a['to'] else ''}"
        f"{'' if a['reached'] else ' (NOT REACHED)'} (`watchtower ack {a['ref']}`)"
        for a in ow.alerts
    ])
    section("Watched authors", [
        f"- {md_escape(w['author'], 200)}{' on ' + md_escape(w['platform'], 64) if w['platform'] else ''}, "
        f"by {md_escape(w['by'], 64)} since {t(w['since'])}{': ' + md_escape(w['reason'], 300) if w['reason'] else ''}"
        for w in ow.watched
    ])
    section("Muted", [
        f"- {md_escape(m['what'], 200)}{' on ' + md_escape(m['platform'], 64) if m['platform'] else ''}, "
        f"by {md_escape(m['by'], 64)} since {t(m['since'])}{' until ' + t(m['until']) if m['until'] else ''}"
        f"{': ' + md_escape(m['reason'], 300) if m['reason'] else ''}"
        for m in ow.muted
    ])
    section("Snoozed alerts", [
        f"- until {t(s['until'])}: {md_escape(s['excerpt'] or s['item_id'])} (by {md_escape(s['by'], 64)})"
        for s in ow.snoozed
    ])
    section("Rota overrides in force or coming", [
        f"- {md_escape(o['who'], 64)} on call {t(o['start'])} to {t(o['end'])}, set by {md_escape(o['by'], 64)}"
        f"{': ' + md_escape(o['reason'], 300) if o['reason'] else ''}"
        for o in ow.overrides
    ])
    return out
