"""The one policy of the live desk: what a row says, what needs a human, what is handled.

Everything that shows or counts an item's state asks here: the pane rows, the Priority
pane, the titles' counts, pruning (which never drops an open item) and the alerts'
acknowledgements.  The decisions come from the handover log
(:func:`watchtower.core.record.decisions.item_states`); this module only reads them.

Order of the row state (first match wins):

===============  ========  ====================================================
label            tone      when
===============  ========  ====================================================
``FOLLOW-UP!``   due       an open follow-up of the item is due (depends on the clock)
``deleted``,     done      our own post, deleted and/or corrected (handled; ``own``:
``corrected``              :func:`watchtower.core.respond.ownposts.own_post_marks`)
``replied``      done      someone replied, here or (``on_platform``) as our account on
                           the platform itself (handled)
``ignored``      muted     someone ignored it (handled)
``blocked``      muted     someone blocked the author (handled)
``escalated``    alarm     someone escalated it (still needs a human)
``mine``/``@x``  claimed   someone claimed it
``follow-up``    pending   a follow-up is set, not due yet
``seen``         seen      someone opened it
``new``          new       nobody did anything
===============  ========  ====================================================

The tone is a word, not a colour: the UI maps it to a style (and NO_COLOR still reads
the label).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..models import Item, Severity
from ..text.safetext import one_line

__all__ = [
    "NEW",
    "OTHER",
    "SEEN",
    "STATE_NEW",
    "STATE_SEEN",
    "RowState",
    "acknowledged",
    "handled",
    "needs_attention",
    "needs_human",
    "row_state",
    "timed",
]

#: State classes counted for titles and tab labels.
NEW, SEEN, OTHER = 0, 1, 2


@dataclass(frozen=True, slots=True)
class RowState:
    """What the State column says about an item."""

    label: str = "new"
    tone: str = "new"
    kind: int = NEW
    """NEW, SEEN or OTHER: what the counts in titles and tab labels add up."""
    note: str = ""
    """What the row says before its text, in words: ``watched``, ``snoozed until 14:30``,
    ``muted author @x`` (the watch-list, :mod:`watchtower.core.triage.watchlist`); empty mostly."""


#: The two states most items are in, shared (a week of items held one each).
STATE_NEW = RowState("new", "new", NEW)
STATE_SEEN = RowState("seen", "seen", SEEN)


def handled(state: Any, *, own: Any = None, on_platform: Any = None) -> bool:
    """An item no longer needs a human once it was replied to, ignored or blocked; our own
    post once it was deleted or corrected (``own``, its mark); anything our account
    answered on the platform itself (``on_platform``, that reply)."""
    if on_platform is not None or (own is not None and own.label):
        return True
    return bool(state is not None and (state.replied or state.ignored or state.blocked))


def needs_attention(item: Item) -> bool:
    """Bad enough for a human, before anyone acted on it."""
    if item.severity >= Severity.MEDIUM:
        return True
    return not item.coverage.covered and item.severity >= Severity.LOW


def needs_human(item: Item, state: Any, *, own: Any = None, on_platform: Any = None) -> bool:
    """Bad enough for a human and not handled yet: what the Priority pane lists."""
    return not handled(state, own=own, on_platform=on_platform) and needs_attention(item)


def acknowledged(state: Any) -> bool:
    """Someone dealt with the item or took it on: its alerts stop repeating."""
    return handled(state) or bool(state is not None and state.claimed_by)


def timed(state: Any) -> bool:
    """Whether the row state depends on the clock (an open follow-up comes due)."""
    return bool(state is not None and state.followups)


def decided(state: Any) -> str | None:
    """The decision that shows, in the one order (without the clock): ``replied``,
    ``ignored``, ``blocked``, ``escalated``, ``claimed``, ``follow-up``, ``seen``; ``None``
    when nobody did anything."""
    if state is None:
        return None
    if state.replied:
        return "replied"
    if state.ignored:
        return "ignored"
    if state.blocked:
        return "blocked"
    if state.escalated:
        return "escalated"
    if state.claimed_by:
        return "claimed"
    if state.followups:
        return "follow-up"
    if state.seen_by:
        return "seen"
    return None


def state_word(state: Any) -> str:
    """The state in words for anyone (a script, the CLI): ``claimed by ann``, ``replied``,
    ``new``...; the same order as :func:`row_state`, which also knows who is asking and
    what time it is."""
    word = decided(state)
    if word is None:
        return "new"
    if word == "claimed":
        return f"claimed by {state.claimed_by}"
    return word


_TONE = {"replied": "done", "ignored": "muted", "blocked": "muted", "escalated": "alarm", "follow-up": "pending"}


def row_state(state: Any, *, operator: str, now: datetime, own: Any = None, on_platform: Any = None) -> RowState:
    """The row state of an item whose decisions are ``state`` (``None``: none yet);
    ``own``: the mark of our own post (deleted, corrected), ``on_platform``: our
    account's reply to it on the platform itself."""
    if state is not None and state.followups and any(f.due <= now for f in state.followups):
        return RowState("FOLLOW-UP!", "due", OTHER)
    if own is not None and own.label:
        return RowState(own.label, "done", OTHER)
    if on_platform is not None and not (state is not None and state.replied):
        return RowState("replied", "done", OTHER)
    if state is None:
        return STATE_NEW
    word = decided(state)
    if word is None:
        return STATE_NEW
    if word == "seen":
        return STATE_SEEN
    if word == "claimed":
        who = one_line(state.claimed_by, limit=20)
        return RowState("mine" if who == operator else f"@{who}", "claimed", OTHER)
    return RowState(word, _TONE[word], OTHER)
