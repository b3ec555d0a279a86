"""What our own accounts did, as the live desk shows it (issue 18, points 1, 2 and 4).

Two facts about an item do not come from the item's own decisions in the log:

- **Our own post was deleted or corrected** (:func:`watchtower.core.respond.ownposts.own_post_marks`,
  folded from the ``deleted`` and ``corrected`` entries): the row says ``deleted``,
  ``corrected`` or both, and the item is handled.
- **Our account replied to it on the platform itself** (in the web app, on a phone): one
  of the items the sources deliver is our account's post in reply to it
  (:func:`watchtower.core.respond.replies.platform_replies`).  The row says ``replied``, the item
  is handled, and the reply-once guard knows.

Both are kept here, up to date as the log changes and as items arrive, so a row never
works them out while it is drawn (finding the replies walks every item held).  Each
update returns the ids whose row state changed, for the index to recompute.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from ..models import Item

__all__ = ["Outgoing"]


def _pkey(platform: str) -> str:
    from ..text.textlength import platform_key  # here, not at start-up: it loads ``regex``

    return platform_key(platform) or platform.casefold().strip()


class Outgoing:
    """Own posts deleted or corrected, and replies our accounts made on the platforms."""

    def __init__(self, config: Any) -> None:
        self.config = config
        #: item id -> :class:`~watchtower.core.respond.ownposts.OwnMark`
        self.marks: dict[str, Any] = {}
        #: item id -> the :class:`~watchtower.core.respond.replies.PreviousReply` our account made to it
        self.on_platform: dict[str, Any] = {}
        #: (platform key, id replied to) -> our reply, for every reply of ours seen
        self._replies: dict[tuple[str, str], Any] = {}

    # -- the log -------------------------------------------------------------------------
    def apply_log(self, entries: Iterable[Any]) -> set[str]:
        """Fold the ``deleted``/``corrected`` entries; the item ids whose mark changed."""
        from ..respond.ownposts import CORRECTED, DELETED, own_post_marks

        old, self.marks = self.marks, own_post_marks(e for e in entries if e.kind in (DELETED, CORRECTED))
        return {i for i in old.keys() | self.marks.keys() if _label(old.get(i)) != _label(self.marks.get(i))}

    # -- items ---------------------------------------------------------------------------
    def held(self, batch: list[Item], items: Mapping[str, Item]) -> set[str]:
        """``batch`` was just put in ``items`` (everything held): the ids whose
        "replied on the platform" changed.  Cheap per item; only a reply of ours whose
        parent was already held walks the items."""
        if not self.config.organisation.accounts:
            return set()
        from ..respond.replies import platform_replies

        changed: set[str] = set()
        wanted: dict[tuple[str, str], Any] = {}
        for reply in platform_replies([i for i in batch if i.in_reply_to], self.config):
            if not reply.platform or not reply.thread:
                continue
            key = (_pkey(reply.platform), reply.thread)
            known = self._replies.get(key)
            if known is None or reply.ts > known.ts:
                self._replies[key] = reply
                wanted[key] = reply
        if wanted:
            # A parent held before its reply arrived: one pass over what is held.
            for item in items.values():
                key = (_pkey(item.platform), item.native_id)
                if item.native_id and key in wanted:
                    changed |= self._link(item, wanted[key])
        for item in batch:
            if item.native_id:
                found = self._replies.get((_pkey(item.platform), item.native_id))
                if found is not None:
                    changed |= self._link(item, found)
        return changed

    def _link(self, parent: Item, reply: Any) -> set[str]:
        from ..respond.ownposts import our_account_for

        if reply.author is None and our_account_for(parent, self.config) is None:
            reply = replace(reply, author=parent.author)
            self._replies[(_pkey(parent.platform), parent.native_id)] = reply
        if self.on_platform.get(parent.id) == reply:
            return set()
        self.on_platform[parent.id] = reply
        return {parent.id}

    def replies(self) -> list[Any]:
        """Every reply our accounts made on the platforms that we have seen (for the
        reply-once guard, beside the log's)."""
        return list(self._replies.values())

    # -- what a row reads ----------------------------------------------------------------
    def mark(self, item_id: str) -> Any:
        return self.marks.get(item_id)

    def reply_to(self, item_id: str) -> Any:
        return self.on_platform.get(item_id)


def _label(mark: Any) -> str:
    return mark.label if mark is not None else ""
