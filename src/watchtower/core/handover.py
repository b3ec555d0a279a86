"""The shift handover: what happened since the last handover, and what is pending.

:func:`summarise` folds the log and the archived items into a :class:`HandoverSummary`;
:func:`to_markdown` renders it for email or chat and :func:`to_json` for scripts.

Everything in a summary that came from outside (post excerpts, author handles, notes,
operator names) is hostile text.  The Markdown export keeps it inert: one-line fields are
backslash-escaped (no heading, link, image, emphasis, table, autolink or HTML can start)
and multi-line notes go in a fenced block whose fence is longer than any backtick run in
the note, so the note cannot close it.  Times are shown in the organisation's time zone.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

from .decisions import CrisisState, FollowUp, crisis_state, followups, item_states, last_handover
from .log import LogEntry
from .models import Item, Severity
from .safetext import clean, one_line

__all__ = [
    "ItemLine",
    "Action",
    "Claim",
    "HandoverSummary",
    "summarise",
    "to_markdown",
    "to_json",
    "md_escape",
    "md_fence",
]

EXCERPT = 160


@dataclass(slots=True)
class ItemLine:
    id: str
    platform: str
    severity: str
    badge: str
    coverage: str
    author: str
    excerpt: str
    published: datetime
    """In the organisation's time zone."""


@dataclass(slots=True)
class Action:
    """A logged action or note, time in the organisation's zone."""

    kind: str
    operator: str
    ts: datetime
    text: str
    item_id: str | None = None
    platform: str | None = None
    excerpt: str = ""


@dataclass(slots=True)
class Claim:
    item_id: str
    operator: str
    since: datetime | None
    platform: str | None
    excerpt: str


@dataclass(slots=True)
class HandoverSummary:
    since: datetime
    now: datetime
    tz: str
    new_items: int = 0
    by_severity: dict[str, int] = field(default_factory=dict)
    """Severity label -> count, worst first, only labels that occur."""
    by_platform: dict[str, int] = field(default_factory=dict)
    uncovered: list[ItemLine] = field(default_factory=list)
    weekend: list[ItemLine] = field(default_factory=list)
    """Arrived at the weekend or on a holiday while someone was on call."""
    replies: list[Action] = field(default_factory=list)
    escalated: list[Action] = field(default_factory=list)
    open_claims: list[Claim] = field(default_factory=list)
    followups_overdue: list[FollowUp] = field(default_factory=list)
    followups_due: list[FollowUp] = field(default_factory=list)
    """Open and not overdue yet, earliest first."""
    crisis: CrisisState = field(default_factory=CrisisState)
    notes: list[Action] = field(default_factory=list)
    last_handover: Action | None = None
    acknowledged: Action | None = None
    period: str = ""
    """Why the summary starts at ``since``, in words (empty when the caller chose ``since``)."""


def _local(ts: datetime, tz: tzinfo) -> datetime:
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    return ts.astimezone(tz)


def _action(e: LogEntry, tz: tzinfo) -> Action:
    return Action(e.kind, e.operator, _local(e.ts, tz), e.text, e.item_id, e.platform, e.excerpt)


def _item_line(it: Item, tz: tzinfo) -> ItemLine:
    return ItemLine(
        id=it.id,
        platform=it.platform,
        severity=it.severity.label,
        badge=it.severity.badge.strip(),
        coverage=it.coverage.badge,
        author=it.author,
        excerpt=one_line(it.headline, limit=EXCERPT),
        published=_local(it.published, tz),
    )


def summarise(
    entries: Sequence[LogEntry],
    items: Iterable[Item],
    *,
    since: datetime | None = None,
    now: datetime,
    tz: tzinfo,
    crisis: CrisisState | None = None,
) -> HandoverSummary:
    """The summary of everything from ``since`` to ``now``.

    By default ``since`` is the last handover once it is acknowledged (the shift now on).
    While the last handover is not acknowledged, the person taking over wants the shift
    that was handed to them, so it starts at the handover before it (else 24 h before the
    last one).  With no handover at all it is the last 24 h.

    ``entries`` is the whole log (open claims and follow-ups may be older than the shift);
    ``items`` the archived items (``Archive.recent()``).
    """
    entries = sorted(entries, key=lambda e: e.ts)
    handover, ack = last_handover(entries)
    period = ""
    if since is None:
        since, period = _default_since(entries, handover, ack, now)
    shift = [e for e in entries if since <= e.ts <= now]
    new = [it for it in items if since <= it.published <= now]
    new.sort(key=lambda it: (-int(it.severity), it.published))

    sev = Counter(it.severity for it in new)
    by_severity = {s.label: sev[s] for s in sorted(Severity, reverse=True) if sev[s]}
    by_platform = dict(sorted(Counter(it.platform for it in new).items(), key=lambda kv: (-kv[1], kv[0])))

    states = item_states(entries)
    claims = [
        Claim(
            st.item_id,
            st.claimed_by,
            _local(st.claimed_at, tz) if st.claimed_at else None,
            *_item_context(entries, st.item_id),
        )
        for st in states.values()
        if st.claimed_by
    ]
    claims.sort(key=lambda c: c.since or now)
    open_fu = followups(entries, now)
    for fu in open_fu:
        fu.due = _local(fu.due, tz)
        fu.set_at = _local(fu.set_at, tz)

    return HandoverSummary(
        since=_local(since, tz),
        now=_local(now, tz),
        tz=str(getattr(tz, "key", None) or tz),
        new_items=len(new),
        by_severity=by_severity,
        by_platform=by_platform,
        uncovered=[_item_line(it, tz) for it in new if not it.coverage.covered],
        weekend=[
            _item_line(it, tz)
            for it in new
            if it.coverage.covered and (it.coverage.weekend or it.coverage.holiday)
        ],
        replies=[_action(e, tz) for e in shift if e.kind in ("replied", "posted")],
        escalated=[_action(e, tz) for e in shift if e.kind == "escalated"],
        open_claims=claims,
        followups_overdue=[f for f in open_fu if f.overdue],
        followups_due=[f for f in open_fu if not f.overdue],
        crisis=crisis if crisis is not None else crisis_state(entries),
        notes=[_action(e, tz) for e in shift if e.kind == "note"],
        last_handover=_action(handover, tz) if handover is not None else None,
        acknowledged=_action(ack, tz) if ack is not None else None,
        period=period,
    )


def _default_since(
    entries: Sequence[LogEntry], handover: LogEntry | None, ack: LogEntry | None, now: datetime
) -> tuple[datetime, str]:
    """``summarise``'s default start, and the reason for it in words (``entries`` sorted)."""
    if handover is None:
        return now - timedelta(hours=24), "the last 24 hours (no handover recorded yet)"
    if ack is not None:
        return handover.ts, "since the last handover (acknowledged)"
    earlier = [e for e in entries if e.kind == "handover" and e.ts < handover.ts]
    if earlier:
        start = earlier[-1].ts
        reason = "the shift handed over (not acknowledged yet): from the handover before it"
    else:
        start = handover.ts - timedelta(hours=24)
        reason = "the shift handed over (not acknowledged yet): the 24 hours before it"
    return min(start, now), reason


def _item_context(entries: Sequence[LogEntry], item_id: str) -> tuple[str | None, str]:
    for e in reversed(entries):
        if e.item_id == item_id and (e.platform or e.excerpt):
            return e.platform, e.excerpt
    return None, ""


# -- Markdown --------------------------------------------------------------------------

# Every ASCII punctuation character may be backslash-escaped in CommonMark; these are the
# ones that can start structure inside a line (emphasis, links, images, HTML, entities,
# tables, strikethrough, code; "." and ":" break www./http: autolinks, which GFM and
# linkify find even in escaped text).  Line-start
# structure (headings, lists, quotes) cannot happen: the text is one line after a prefix.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#!|~&.:])")
_BACKTICKS = re.compile(r"`+")


def md_escape(value: object, limit: int | None = EXCERPT) -> str:
    """One line of hostile text, inert in Markdown (and still readable as plain text)."""
    return _MD_SPECIAL.sub(r"\\\1", one_line(value, limit=limit))


def md_fence(value: object) -> str:
    """Multi-line hostile text in a fenced block that the text itself cannot close."""
    text = clean(value, limit=16 * 1024).replace("\t", "    ").rstrip()
    longest = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _t(ts: datetime | None, *, day: bool = True) -> str:
    if ts is None:
        return "?"
    return ts.strftime("%a %d %b %H:%M %Z" if day else "%H:%M")


def _fu_line(fu: FollowUp, now: datetime) -> str:
    delta = fu.due - now
    mins = abs(int(delta.total_seconds() // 60))
    rel = f"{mins // 60} h {mins % 60:02d} min"
    rel = f"{rel} overdue" if fu.overdue else f"in {rel}"
    what = md_escape(fu.text) or "(no text)"
    on = f" — on {md_escape(fu.platform, 64)}: {md_escape(fu.excerpt)}" if fu.excerpt else ""
    return f"- due **{_t(fu.due)}** ({rel}), set by {md_escape(fu.set_by, 64)}: {what}{on}"


def _item_md(line: ItemLine) -> str:
    return (
        f"- {line.badge} · {md_escape(line.platform, 64)} · {_t(line.published)} · "
        f"{md_escape(line.author, 100)}: {md_escape(line.excerpt)}"
    )


def to_markdown(summary: HandoverSummary) -> str:
    s = summary
    out: list[str] = [f"# Handover: {_t(s.since)} to {_t(s.now)}", ""]
    if s.period:
        out += [f"Covers {s.period}.", ""]
    out += [f"Times in {md_escape(s.tz, 64)}.", ""]
    if s.crisis.active:
        checks = ", ".join(md_escape(c, 80) for c in sorted(s.crisis.checks_done)) or "none yet"
        out += [
            f"**CRISIS MODE ON** since {_t(_local(s.crisis.started_at, s.now.tzinfo)) if s.crisis.started_at else '?'}"
            f" (started by {md_escape(s.crisis.started_by, 64)}): {md_escape(s.crisis.description, 300)}",
            f"Checks done: {checks}",
            "",
        ]
    else:
        out += ["Crisis mode: off", ""]

    out.append("## Last handover")
    if s.last_handover is None:
        out.append("- none recorded")
    else:
        h = s.last_handover
        out.append(f"- by {md_escape(h.operator, 64)} at {_t(h.ts)}")
        if s.acknowledged is not None:
            out.append(f"- acknowledged by {md_escape(s.acknowledged.operator, 64)} at {_t(s.acknowledged.ts)}")
        else:
            out.append("- **not acknowledged**")
        if h.text:
            out += ["", md_fence(h.text)]
    out.append("")

    out.append(f"## New items: {s.new_items}")
    if s.new_items:
        out.append("- by severity: " + ", ".join(f"{k} {v}" for k, v in s.by_severity.items()))
        out.append("- by platform: " + ", ".join(f"{md_escape(k, 64)} {v}" for k, v in s.by_platform.items()))
    out.append("")

    def section(title: str, lines: list[str]) -> None:
        out.append(f"## {title} ({len(lines)})")
        out.extend(lines or ["- none"])
        out.append("")

    section("Arrived uncovered", [_item_md(x) for x in s.uncovered])
    section("Arrived at the weekend or on a holiday", [_item_md(x) for x in s.weekend])
    section(
        "Replies sent",
        [
            f"- {_t(a.ts)} {md_escape(a.operator, 64)} on {md_escape(a.platform or '?', 64)}: "
            f"{md_escape(a.text or a.excerpt)}"
            for a in s.replies
        ],
    )
    section(
        "Escalated",
        [f"- {_t(a.ts)} {md_escape(a.operator, 64)}: {md_escape(a.excerpt or a.item_id)} {md_escape(a.text)}".rstrip()
         for a in s.escalated],
    )
    section(
        "Open claims",
        [
            f"- {md_escape(c.operator, 64)} since {_t(c.since)}: {md_escape(c.platform or '?', 64)} · "
            f"{md_escape(c.excerpt or c.item_id)}"
            for c in s.open_claims
        ],
    )
    section("Follow-ups overdue", [_fu_line(f, s.now) for f in s.followups_overdue])
    section("Follow-ups due", [_fu_line(f, s.now) for f in s.followups_due])

    out.append(f"## Notes from this shift ({len(s.notes)})")
    if not s.notes:
        out.append("- none")
    for n in s.notes:
        out += ["", f"{_t(n.ts)}, {md_escape(n.operator, 64)}:", "", md_fence(n.text)]
    out.append("")
    return "\n".join(out)


# -- JSON ------------------------------------------------------------------------------


def _j(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_j(v) for v in value]
    if isinstance(value, set):
        return sorted(_j(v) for v in value)
    if isinstance(value, dict):
        return {str(k): _j(v) for k, v in value.items()}
    if hasattr(value, "__dataclass_fields__"):
        return {name: _j(getattr(value, name)) for name in value.__dataclass_fields__}
    return value


def to_json(summary: HandoverSummary) -> dict[str, Any]:
    """The summary as plain JSON types; times are ISO 8601 with the org's offset."""
    return _j(summary)
