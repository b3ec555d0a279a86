"""The shift handover: what happened since the last handover, and what is pending.

:func:`summarise` folds the log and the archived items into a :class:`HandoverSummary`;
:func:`to_markdown` renders it for email or chat and :func:`to_json` for scripts.

Everything in a summary that came from outside (post excerpts, author handles, notes,
operator names) is hostile text.  The Markdown export keeps it inert: one-line fields are
backslash-escaped (no heading, link, image, emphasis, table or HTML can start) and
multi-line notes go in a fenced block whose fence is longer than any backtick run in the
note, so the note cannot close it.

The export is pasted into chat, so it also has to survive being read as plain text
(docs/threat-model.md, T10):

- URLs are left exactly as written (no backslash inside them), so they still work when
  pasted; a chat or Markdown viewer may link them, and the link text is then the URL
  itself, never a disguise (``[text](url)`` cannot form: brackets are escaped).
- mass mentions cannot ping: ``@everyone``, ``@here``, ``@channel``, ``@all``,
  ``@group`` and ``@team`` get a zero-width space after the ``@`` (what Discord bots do),
  and Slack's ``<!here>``/``<!channel>``/``<!everyone>`` and Discord's ``<@id>``/``<@&role>``
  one after the ``<``, everywhere, fenced notes included.  They read the same.

Times are shown in the organisation's time zone (the JSON too, crisis times included),
as the TUI shows them.  Entries are taken in the order they were written; an entry whose
time cannot be right (the clock was set back, or ahead) is listed under "Clock warnings".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

from ..models import Item, Severity
from ..record.decisions import (
    CrisisState,
    FollowUp,
    crisis_state,
    followups,
    item_states,
    last_handover,
    window,
)
from ..record.log import LogEntry
from ..respond.schedule import ScheduledPost, open_posts
from ..text.mdtext import EXCERPT, defuse_mentions, md_escape, md_fence
from ..text.safetext import one_line
from .openwork import OpenWork, open_work, open_work_markdown

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
    "defuse_mentions",
]


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
    clock_jump: str = ""
    """Why ``ts`` cannot be right, when it cannot (see ``LogEntry.clock_jump``)."""


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
    clock_jumps: list[Action] = field(default_factory=list)
    """Entries of this shift whose time cannot be right, in the order they were written."""
    scheduled: list[ScheduledPost] = field(default_factory=list)
    """Scheduled posts still to go out (or failed, or uncertain), earliest due first."""
    own_posts: list[Action] = field(default_factory=list)
    """Our own posts deleted or marked corrected in this shift (``deleted``, ``corrected``)."""
    open_work: OpenWork = field(default_factory=OpenWork)
    """What is open whatever its age, alerts, watch-list, mutes, snoozes, overrides, and the
    shift's time to first response (:mod:`watchtower.core.report.openwork`)."""


def _local(ts: datetime, tz: tzinfo) -> datetime:
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    return ts.astimezone(tz)


def _action(e: LogEntry, tz: tzinfo) -> Action:
    return Action(e.kind, e.operator, _local(e.ts, tz), e.text, e.item_id, e.platform, e.excerpt,
                  getattr(e, "clock_jump", ""))


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

    The shift is a stretch of the log in the order it was written, not a span of the
    clock: after a handover it is everything written since that handover, and from a time
    it is a :func:`~watchtower.core.record.decisions.window`.  So a note written after the clock
    was set back, or after an entry stamped in 2099, is still in the shift.
    """
    entries = sorted(entries, key=lambda e: e.seq)
    items = list(items)
    handover, ack = last_handover(entries)
    period = ""
    start: LogEntry | None = None
    if since is None:
        since, period, start = _default_since(entries, handover, ack, now)
    if start is not None:
        at = next(i for i, e in enumerate(entries) if e is start)
        shift = entries[at:]
    else:
        shift = window(entries, since, now)
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
        crisis=_local_crisis(crisis if crisis is not None else crisis_state(entries), tz),
        notes=[_action(e, tz) for e in shift if e.kind == "note"],
        last_handover=_action(handover, tz) if handover is not None else None,
        acknowledged=_action(ack, tz) if ack is not None else None,
        period=period,
        clock_jumps=[_action(e, tz) for e in shift if getattr(e, "clock_jump", "")],
        scheduled=[replace(p, due=_local(p.due, tz), set_at=_local(p.set_at, tz)) for p in open_posts(entries, now)],
        own_posts=[_action(e, tz) for e in shift if e.kind in ("deleted", "corrected")],
        open_work=open_work(entries, items, since=since, now=now, tz=tz),
    )


def _local_crisis(state: CrisisState, tz: tzinfo) -> CrisisState:
    return replace(
        state,
        started_at=_local(state.started_at, tz) if state.started_at else None,
        ended_at=_local(state.ended_at, tz) if state.ended_at else None,
        checks_done=set(state.checks_done),
    )


def _default_since(
    entries: Sequence[LogEntry], handover: LogEntry | None, ack: LogEntry | None, now: datetime
) -> tuple[datetime, str, LogEntry | None]:
    """``summarise``'s default start: a time, the reason in words, and the entry the shift
    starts at (``None``: a time window).  ``entries`` in the order of writing."""
    if handover is None:
        return now - timedelta(hours=24), "the last 24 hours (no handover recorded yet)", None
    at = next(i for i, e in enumerate(entries) if e is handover)
    if ack is not None:
        return _start_time(entries, at, now), "since the last handover (acknowledged)", handover
    earlier = [i for i, e in enumerate(entries[:at]) if e.kind == "handover"]
    if earlier:
        reason = "the shift handed over (not acknowledged yet): from the handover before it"
        return _start_time(entries, earlier[-1], now), reason, entries[earlier[-1]]
    reason = "the shift handed over (not acknowledged yet): the 24 hours before it"
    return min(_start_time(entries, at, now) - timedelta(hours=24), now), reason, None


def _start_time(entries: Sequence[LogEntry], at: int, now: datetime) -> datetime:
    """When the shift that starts at ``entries[at]`` began, for the items that arrived in it.

    The entry's own time, unless it is after ``now`` (written while the clock ran ahead):
    then the earliest believable time written from there on, else the day before ``now``.
    """
    ts = entries[at].ts
    if ts <= now:
        return ts
    believable = [e.ts for e in entries[at:] if e.ts <= now]
    return min(believable) if believable else now - timedelta(hours=24)


def _item_context(entries: Sequence[LogEntry], item_id: str) -> tuple[str | None, str]:
    for e in reversed(entries):
        if e.item_id == item_id and (e.platform or e.excerpt):
            return e.platform, e.excerpt
    return None, ""


# -- Markdown (escaping in core/text/mdtext.py) --------------------------------------------


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
    if s.clock_jumps:
        out.append(f"## Clock warnings ({len(s.clock_jumps)})")
        out.append("Entries are in the order they were written; the times of these cannot be right:")
        out.extend(
            f"- {_t(a.ts)} {md_escape(a.operator, 64)} ({md_escape(a.kind, 32)}): {md_escape(a.clock_jump, 200)}"
            for a in s.clock_jumps
        )
        out.append("")
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
    section(
        "Scheduled posts",
        [
            f"- due **{_t(p.due)}** · {md_escape(p.state, 16)} · {md_escape(p.platform, 64)} {md_escape(p.account, 100)}: "
            f"{md_escape(p.text)}" + (f" ({md_escape(p.error, 200)})" if p.error else "")
            for p in s.scheduled
        ],
    )
    section(
        "Own posts deleted or corrected",
        [
            f"- {_t(a.ts)} {md_escape(a.operator, 64)}: {a.kind} on {md_escape(a.platform or '?', 64)}: "
            f"{md_escape(a.excerpt or a.text)}"
            for a in s.own_posts
        ],
    )

    out += open_work_markdown(s.open_work)
    out.append(f"## Notes from this shift ({len(s.notes)})")
    if not s.notes:
        out.append("- none")
    for n in s.notes:
        jump = " (clock warning: this time cannot be right)" if n.clock_jump else ""
        out += ["", f"{_t(n.ts)}, {md_escape(n.operator, 64)}{jump}:", "", md_fence(n.text)]
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
