"""What the team has decided, derived from the handover log and never stored twice.

The log (:mod:`watchtower.core.record.log`) is the one record of who claimed, replied to,
ignored or escalated which item, which follow-ups are open, whether crisis mode is on and
whether the last handover was acknowledged.  These pure functions fold a list of
entries (in the order they were written, ``seq``, as :meth:`HandoverLog.entries` returns
them) into that state, so two operators on the same box always see the same thing: last
writer wins per item.  The clock never decides an order: after a clock was set back (or
an entry edited into the future) "later" still means "written later".

Conventions for ``data`` on entries (the writers follow these):

=====================  =====================================================
kind                   ``data`` keys
=====================  =====================================================
replied, posted        ``author`` (handle replied to), ``thread`` (the
                       ``in_reply_to`` of the item, else its id)
followup_set           ``due`` (ISO time, UTC)
followup_done,         ``followup`` (the id of the ``followup_set`` entry;
followup_dismissed     ``followup_id`` is read too: the TUI wrote that)
acknowledged           ``handover`` (the id of the ``handover`` entry;
                       ``handover_id`` is read too)
crisis_check           ``check`` (what was checked; else the entry text)
=====================  =====================================================
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from operator import attrgetter
from typing import TYPE_CHECKING, Any, NamedTuple

from ..models import utcnow

if TYPE_CHECKING:  # annotations only: the header reads decisions before the log (TinyDB) is needed,
    # and the log imports this module at run time, never the reverse (docs/architecture.md)
    from .log import LogEntry

__all__ = [
    "Mark",
    "Reply",
    "FollowUp",
    "ItemState",
    "CrisisState",
    "item_states",
    "followups",
    "last_reply_to",
    "crisis_state",
    "last_handover",
    "thread_key",
    "LASTING_KINDS",
    "carry_over",
    "working_entries",
    "window",
    "CLOCK_BACK_TOLERANCE",
    "CLOCK_AHEAD_TOLERANCE",
]

#: An entry stamped this much earlier than the one written before it is a clock jump
#: (less is NTP slewing, or two processes reading the clock a moment apart).
CLOCK_BACK_TOLERANCE = timedelta(minutes=1)
#: An entry stamped this far after "now" is a clock jump (set ahead, or edited by hand).
CLOCK_AHEAD_TOLERANCE = timedelta(minutes=10)


class Mark(NamedTuple):
    """Who did something to an item, and when."""

    operator: str
    ts: datetime
    text: str = ""


class Reply(NamedTuple):
    operator: str
    ts: datetime
    platform: str | None
    excerpt: str


@dataclass(slots=True)
class FollowUp:
    id: str
    """The id of the ``followup_set`` entry; ``followup_done`` refers to it."""
    item_id: str | None
    platform: str | None
    due: datetime
    text: str
    set_by: str
    set_at: datetime
    excerpt: str = ""
    overdue: bool = False
    """Set by :func:`followups` from its ``now``; always False in :func:`item_states`."""


@dataclass(slots=True)
class ItemState:
    item_id: str
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    replied: list[Reply] = field(default_factory=list)
    ignored: Mark | None = None
    blocked: Mark | None = None
    escalated: Mark | None = None
    seen_by: set[str] = field(default_factory=set)
    followups: list[FollowUp] = field(default_factory=list)
    """Open follow-ups, earliest due first."""
    last_ts: datetime | None = None

    @property
    def label(self) -> str:
        """The state in words (``claimed by ann``, ``replied``, ``new``...), in the desk's
        one order (:func:`watchtower.core.record.policy.state_word`): the live screen, the
        CLI and the search never disagree on which decision shows."""
        from .policy import state_word

        return state_word(self)


@dataclass(slots=True)
class CrisisState:
    active: bool = False
    description: str = ""
    started_by: str | None = None
    started_at: datetime | None = None
    checks_done: set[str] = field(default_factory=set)
    ended_by: str | None = None
    ended_at: datetime | None = None


def _sorted(entries: Iterable[LogEntry]) -> list[LogEntry]:
    """In the order of writing.  Stable, so entries without a ``seq`` (written before
    there was one, all 0) keep the order they were given in, which is file order."""
    return sorted(entries, key=_seq)


_seq = attrgetter("seq")


def _due(entry: LogEntry) -> datetime:
    """The due time of a ``followup_set`` entry; a missing or unreadable one means "now"."""
    raw = entry.data.get("due")
    if isinstance(raw, str):
        try:
            due = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return entry.ts
        return due.replace(tzinfo=timezone.utc) if due.tzinfo is None else due.astimezone(timezone.utc)
    return entry.ts


def _open_followups(entries: list[LogEntry]) -> dict[str, FollowUp]:
    open_: dict[str, FollowUp] = {}
    for e in entries:
        if e.kind == "followup_set":
            open_[e.id] = FollowUp(
                id=e.id,
                item_id=e.item_id,
                platform=e.platform,
                due=_due(e),
                text=e.text,
                set_by=e.operator,
                set_at=e.ts,
                excerpt=e.excerpt,
            )
        elif e.kind in ("followup_done", "followup_dismissed"):
            ref = e.data.get("followup") or e.data.get("followup_id")
            if isinstance(ref, str):
                open_.pop(ref, None)
            elif e.item_id:
                # No reference: closes every open follow-up of that item.
                for fid in [f.id for f in open_.values() if f.item_id == e.item_id]:
                    open_.pop(fid)
    return open_


def item_states(entries: Iterable[LogEntry]) -> dict[str, ItemState]:
    """The decisions per item id; items no entry mentions are absent (state "new")."""
    ordered = _sorted(entries)
    states: dict[str, ItemState] = {}
    for e in ordered:
        if not e.item_id:
            continue
        st = states.get(e.item_id)
        if st is None:
            st = states[e.item_id] = ItemState(e.item_id)
        st.last_ts = e.ts
        mark = Mark(e.operator, e.ts, e.text)
        if e.kind == "claimed":
            st.claimed_by, st.claimed_at = e.operator, e.ts
        elif e.kind == "unclaimed":
            st.claimed_by, st.claimed_at = None, None
        elif e.kind in ("replied", "posted"):
            st.replied.append(Reply(e.operator, e.ts, e.platform, e.text[:200] or e.excerpt))
        elif e.kind == "ignored":
            st.ignored = mark
        elif e.kind == "blocked":
            st.blocked = mark
        elif e.kind == "escalated":
            st.escalated = mark
        elif e.kind == "seen":
            st.seen_by.add(e.operator)
    for fu in _open_followups(ordered).values():
        if fu.item_id and fu.item_id in states:
            states[fu.item_id].followups.append(fu)
    for st in states.values():
        st.followups.sort(key=lambda f: f.due)
    return states


def followups(entries: Iterable[LogEntry], now: datetime | None = None) -> list[FollowUp]:
    """Open follow-ups, earliest due first, with ``overdue`` set against ``now``."""
    now = now or utcnow()
    out = sorted(_open_followups(_sorted(entries)).values(), key=lambda f: f.due)
    for fu in out:
        fu.overdue = fu.due < now
    return out


def thread_key(item_id: str, in_reply_to: str | None) -> str:
    """What ``data["thread"]`` holds on a reply: the post it answers, else the item itself."""
    return in_reply_to or item_id


def last_reply_to(
    entries: Iterable[LogEntry],
    author: str | None = None,
    thread: str | None = None,
    within: timedelta = timedelta(hours=24),
    *,
    now: datetime | None = None,
) -> LogEntry | None:
    """Our latest reply to ``author`` or in ``thread`` within ``within`` of ``now``.

    The reply-once guard: "a second reply is a discussion".  Authors compare without case
    and without a leading ``@``.  ``None`` when neither is given or nothing matches.
    """
    if author is None and thread is None:
        return None
    now = now or utcnow()
    cutoff = now - within
    want_author = _norm_author(author) if author else None
    for e in reversed(_sorted(entries)):
        # Not "break": after a clock jump an older stamp says nothing about what follows.
        if e.ts < cutoff or e.kind not in ("replied", "posted"):
            continue
        if want_author and _norm_author(e.data.get("author")) == want_author:
            return e
        if thread and e.data.get("thread") == thread:
            return e
    return None


def _norm_author(value: object) -> str:
    return str(value or "").strip().lstrip("@").casefold()


def crisis_state(entries: Iterable[LogEntry]) -> CrisisState:
    """Crisis mode as the log says: on from ``crisis_start`` to ``crisis_end``."""
    state = CrisisState()
    for e in _sorted(entries):
        if e.kind == "crisis_start":
            state = CrisisState(active=True, description=e.text, started_by=e.operator, started_at=e.ts)
        elif e.kind == "crisis_end":
            state.active = False
            state.ended_by, state.ended_at = e.operator, e.ts
        elif e.kind == "crisis_check" and state.active:
            check = e.data.get("check")
            state.checks_done.add(str(check) if check else e.text)
    return state


def last_handover(entries: Iterable[LogEntry]) -> tuple[LogEntry | None, LogEntry | None]:
    """The latest ``handover`` entry and the ``acknowledged`` entry for it (or ``None``)."""
    ordered = _sorted(entries)
    at = _last_handover_index(ordered)
    if at is None:
        return None, None
    handover = ordered[at]
    ack: LogEntry | None = None
    for e in ordered[at + 1 :]:
        if e.kind != "acknowledged":
            continue
        ref = _ack_ref(e)
        if ref == handover.id or ref is None:
            ack = e
            break
    return handover, ack


def _last_handover_index(ordered: list[LogEntry]) -> int | None:
    for i in range(len(ordered) - 1, -1, -1):
        if ordered[i].kind == "handover":
            return i
    return None


def _ack_ref(e: LogEntry) -> str | None:
    """The handover an ``acknowledged`` entry names (the TUI wrote ``handover_id``)."""
    for key in ("handover", "handover_id"):
        ref = e.data.get(key)
        if isinstance(ref, str) and ref:
            return ref
    return None


def window(entries: Iterable[LogEntry], since: datetime, now: datetime) -> list[LogEntry]:
    """The entries of a time window that starts at ``since``, whatever the clock said.

    A window by time alone loses entries: written after the clock was set back, a note
    is stamped before ``since`` though it was written inside the window.  So the window
    is everything written from the first entry stamped in ``[since, now]`` (give or take
    :data:`CLOCK_AHEAD_TOLERANCE`) onwards, plus any earlier-written
    entry stamped in that span.  An entry stamped far in the future before that point
    (one edited by hand long ago) is not dragged into every window.  With no entry
    stamped in the span at all, the window is what was written after the last entry
    stamped before it (entries from a clock running ahead, say).
    """
    return _split_window(_sorted(entries), since, now)[0]


def _split_window(ordered: list[LogEntry], since: datetime, now: datetime) -> tuple[list[LogEntry], list[LogEntry]]:
    """(:func:`window`, the rest), both in the order of writing; ``ordered`` is."""
    top = now + CLOCK_AHEAD_TOLERANCE
    start = next((i for i, e in enumerate(ordered) if since <= e.ts <= top), None)
    if start is None:
        start = 1 + max((i for i, e in enumerate(ordered) if e.ts < since), default=-1)
    head = ordered[:start]
    inside = [e for e in head if since <= e.ts <= top]
    before = [e for e in head if not since <= e.ts <= top] if inside else head
    return inside + ordered[start:], before



# -- the working set a live screen keeps ------------------------------------------------

#: Entry kinds whose effect lasts until another entry ends it.
LASTING_KINDS = frozenset({
    "followup_set", "followup_done", "followup_dismissed", "claimed", "unclaimed",
    "crisis_start", "crisis_end", "crisis_check", "handover", "acknowledged",
})


def carry_over(older: Iterable[LogEntry], recent: Iterable[LogEntry]) -> list[LogEntry]:
    """The entries of ``older`` that still shape what ``recent`` means, oldest first.

    A screen keeps a window of recent entries; what was left open before it must not drop
    out of sight: a follow-up set three weeks ago and never done, a claim nobody released,
    a crisis still on, the last handover when there was none since.  Everything else from
    before the window is history, for ``watchtower log list``.
    """
    old = _sorted(e for e in older if e.kind in LASTING_KINDS)
    new = _sorted(recent)
    if not old:
        return []
    keep: set[str] = set()
    both = _sorted(old + new)
    still_open = _open_followups(both)
    keep.update(e.id for e in old if e.kind == "followup_set" and e.id in still_open)
    last_claim: dict[str, LogEntry] = {}
    for e in both:
        if e.item_id and e.kind in ("claimed", "unclaimed"):
            last_claim[e.item_id] = e
    old_ids = {e.id for e in old}
    keep.update(e.id for e in last_claim.values() if e.kind == "claimed" and e.id in old_ids)
    crisis_start = None
    for e in both:
        if e.kind == "crisis_start":
            crisis_start = e
        elif e.kind == "crisis_end":
            crisis_start = None
    if crisis_start is not None and crisis_start.id in old_ids:
        keep.add(crisis_start.id)
        at = next(i for i, e in enumerate(old) if e is crisis_start)
        keep.update(e.id for e in old[at:] if e.kind == "crisis_check")
    if not any(e.kind == "handover" for e in new):
        at_h = _last_handover_index(old)
        if at_h is not None:
            keep.add(old[at_h].id)
            keep.update(e.id for e in old[at_h:] if e.kind == "acknowledged")
            earlier = [e for e in old[:at_h] if e.kind == "handover"]
            if earlier:  # the handover summary starts at the one before an unacknowledged one
                keep.add(earlier[-1].id)
    return [e for e in old if e.id in keep]


def working_entries(log: Any, now: datetime, days: float = 14) -> list[LogEntry]:
    """The last ``days`` of ``log`` (a :func:`window`, so a clock set back hides nothing)
    plus what is still open from before (:func:`carry_over`), in the order of writing."""
    cut = now - timedelta(days=days)
    recent, rest = _split_window(_sorted(log.entries()), cut, now)
    older = [e for e in rest if e.kind in LASTING_KINDS]
    return _sorted(carry_over(older, recent) + recent)
