"""What the panes show, kept sorted and counted as items and decisions change.

A week-long session holds tens of thousands of items; a poll brings fifty.  Sorting,
filtering and counting every item on every refresh made the UI loop stall for hundreds
of milliseconds, so the app keeps this index instead:

- :class:`ItemMap` is ``app.items``: a ``dict`` that notes which ids were set or removed.
- :class:`ItemIndex` keeps, per platform pane and for the Priority pane, the item keys in
  display order (``bisect``), each item's row state (cached until its decisions change),
  and counts per (severity, coverage, state class) for titles and tab labels.  Applying a
  change costs ``O(log n)`` per item changed, not ``O(n)`` per refresh.

Pure Python (no Textual): the :class:`~watchtower.core.desk.Desk` decides what a state is
(its one policy, :mod:`watchtower.core.record.policy`); the index only remembers and orders.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import count, islice
from typing import Any

from ..models import Item, Severity
from ..record.policy import NEW, OTHER, SEEN

__all__ = ["NEW", "OTHER", "PRIORITY", "SEEN", "ItemIndex", "ItemMap"]

PRIORITY = "Priority"
#: A key in a pane's sorted list (the item id last).
Key = tuple[Any, ...]
#: What the counts are kept by: (severity, covered, state class).
Bucket = tuple[int, bool, int]
#: Below this many keys, a list is updated key by key; above it, rebuilt in one pass.
_BULK = 48


def state_class(state: Any) -> int:
    """NEW, SEEN or OTHER for a row state (its ``kind``)."""
    return int(state.kind)


class ItemMap(dict[str, Item]):
    """A ``dict`` of id -> :class:`Item` that remembers which ids changed.

    ``changed`` is an insertion-ordered set (a dict) so new ids are indexed in the
    order they arrived, which is the tie-break of both pane orders.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.changed: dict[str, None] = dict.fromkeys(self)

    def put_many(self, items: Iterable[Item]) -> None:
        """``self[item.id] = item`` for each, in C: 10,000 at a time took the loop 5 ms."""
        pairs = {item.id: item for item in items}
        dict.update(self, pairs)
        self.changed.update(dict.fromkeys(pairs))

    def __setitem__(self, key: str, value: Item) -> None:
        dict.__setitem__(self, key, value)
        self.changed[key] = None

    def __delitem__(self, key: str) -> None:
        dict.__delitem__(self, key)
        self.changed[key] = None

    def pop(self, key: str, *default: Any) -> Any:
        self.changed[key] = None
        return dict.pop(self, key, *default)

    def popitem(self) -> tuple[str, Item]:
        key, value = dict.popitem(self)
        self.changed[key] = None
        return key, value

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return dict.__getitem__(self, key)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def clear(self) -> None:
        self.changed.update(dict.fromkeys(self))
        dict.clear(self)

    def __ior__(self, other: Any) -> ItemMap:  # type: ignore[override,misc]
        self.update(other)
        return self


@dataclass(slots=True)
class _Entry:
    item: Item
    seq: int
    pkey: Key | None  # key in its platform's list (None: no pane for the platform)
    qkey: Key | None  # key in the Priority list (None: does not need a human)
    bucket: Bucket  # (severity, covered, state class)
    state: Any


class ItemIndex:
    """Display order, cached row states and counts for every pane.

    ``row_state(item)`` and ``needs_human(item)`` come from the desk's policy; ``timed(item)``
    says whether an item's row state depends on the clock (an open follow-up turns into
    "FOLLOW-UP!" when due), so it is computed afresh whenever it is shown.
    """

    def __init__(
        self,
        platforms: Iterable[str],
        *,
        row_state: Callable[[Item], Any],
        needs_human: Callable[[Item], bool],
        timed: Callable[[Item], bool],
        view: Callable[[Item], Item | None] | None = None,
    ) -> None:
        self.platforms = list(platforms)
        self._row_state = row_state
        self._needs_human = needs_human
        self._timed = timed
        #: The item as the panes show it (a watched author's post lifted), or ``None``:
        #: held but in no pane (muted).  Applied when an item is indexed or touched.
        self._view = view
        self._seq = count()
        self._entries: dict[str, _Entry] = {}
        self._stale: dict[str, None] = {}
        self.by_platform: dict[str, list[Key]] = {p: [] for p in self.platforms}
        self.prio: list[Key] = []
        self.counts: dict[str, Counter[Bucket]] = {p: Counter() for p in self.platforms}
        self.prio_counts: Counter[Bucket] = Counter()
        self.timed_ids: set[str] = set()
        #: Panes (platform names, or PRIORITY) whose rows may have changed.
        self.dirty: set[str] = set()

    def __len__(self) -> int:
        return len(self._entries)

    # -- changes ---------------------------------------------------------------
    def touch(self, ids: Iterable[str]) -> None:
        """These items' decisions changed: recompute their state on the next sync."""
        for i in ids:
            self._stale[i] = None

    def pending(self, items: ItemMap) -> int:
        return len(items.changed) + len(self._stale)

    def sync_steps(self, items: ItemMap, chunk: int = 64) -> Iterator[None]:
        """Apply what changed in ``items`` (and the touched ids), ``chunk`` ids per step."""
        while True:
            source = items.changed if items.changed else self._stale
            if not source:
                return
            ids = list(islice(source, chunk))
            for i in ids:
                del source[i]
            self._apply(ids, items)
            yield

    def sync(self, items: ItemMap) -> None:
        for _ in self.sync_steps(items, chunk=4096):
            pass

    def reset(self, items: ItemMap) -> None:
        """Forget everything; ``items`` is indexed afresh (in its dict order) by the next sync."""
        self._entries.clear()
        self._stale.clear()
        self.by_platform = {p: [] for p in self.platforms}
        self.prio = []
        self.counts = {p: Counter() for p in self.platforms}
        self.prio_counts = Counter()
        self.timed_ids = set()
        items.changed = dict.fromkeys(items)
        self.dirty = set(self.platforms) | {PRIORITY}

    def _apply(self, ids: list[str], items: ItemMap) -> None:
        entries = self._entries
        removed: dict[str, list[Key]] = {}
        added: dict[str, list[Key]] = {}
        prio_removed: list[Key] = []
        prio_added: list[Key] = []
        dirty = self.dirty
        for item_id in ids:
            old = entries.get(item_id)
            item = items.get(item_id)
            if old is not None:
                plat = old.item.platform
                if old.pkey is not None:
                    removed.setdefault(plat, []).append(old.pkey)
                    self.counts[plat][old.bucket] -= 1
                    dirty.add(plat)
                if old.qkey is not None:
                    prio_removed.append(old.qkey)
                    self.prio_counts[old.bucket] -= 1
                    dirty.add(PRIORITY)
                if item is None:
                    del entries[item_id]
                    self.timed_ids.discard(item_id)
                    continue
                seq = old.seq
            elif item is None:
                continue
            else:
                seq = next(self._seq)
            shown = item if self._view is None else self._view(item)
            if shown is None:  # held, in no pane
                self.timed_ids.discard(item_id)
                entries[item_id] = _Entry(item, seq, None, None, (int(item.severity), True, OTHER), self._row_state(item))
                continue
            item = shown
            state = self._row_state(item)
            if self._timed(item):
                self.timed_ids.add(item_id)
            else:
                self.timed_ids.discard(item_id)
            sev = int(item.severity)
            covered = bool(item.coverage.covered)
            bucket = (sev, covered, state_class(state))
            ts = item.published.timestamp()
            plat = item.platform
            pkey = None
            if plat in self.by_platform:
                pkey = (-ts, seq, item_id)
                added.setdefault(plat, []).append(pkey)
                self.counts[plat][bucket] += 1
                dirty.add(plat)
            qkey = None
            if self._needs_human(item):
                # Worst first, then what arrived uncovered, then the oldest (waiting longest).
                qkey = (-sev, covered, ts, seq, item_id)
                prio_added.append(qkey)
                self.prio_counts[bucket] += 1
                dirty.add(PRIORITY)
            entries[item_id] = _Entry(item, seq, pkey, qkey, bucket, state)
        for plat in set(removed) | set(added):
            _update_sorted(self.by_platform[plat], removed.get(plat, ()), added.get(plat, ()))
        if prio_removed or prio_added:
            _update_sorted(self.prio, prio_removed, prio_added)

    # -- reading ---------------------------------------------------------------
    def state_of(self, item: Item) -> Any:
        """The row state of ``item`` (cached unless it depends on the clock)."""
        entry = self._entries.get(item.id)
        if entry is None or item.id in self.timed_ids or entry.item is not item:
            return self._row_state(item)
        return entry.state

    def needs_human_cached(self, item_id: str, items: ItemMap) -> bool | None:
        """Whether the item needed a human (was in the Priority order) at the last sync;
        ``None`` when that answer may be out of date (the item or its decisions changed
        since) or was never worked out (held in no pane: muted)."""
        entry = self._entries.get(item_id)
        if entry is None or item_id in self._stale or item_id in items.changed:
            return None
        if entry.pkey is None and entry.qkey is None:
            return None
        return entry.qkey is not None

    def item(self, item_id: str) -> Item | None:
        entry = self._entries.get(item_id)
        return entry.item if entry is not None else None

    def window(
        self,
        pane: str,
        *,
        min_severity: int = 0,
        uncovered_only: bool = False,
        limit: int | None = None,
    ) -> list[Item]:
        """The first ``limit`` visible items of a pane, in display order."""
        keys = self.prio if pane == PRIORITY else self.by_platform.get(pane, [])
        entries = self._entries
        if not min_severity and not uncovered_only:
            return [entries[k[-1]].item for k in (keys if limit is None else keys[:limit])]
        out: list[Item] = []
        for k in keys:
            if pane == PRIORITY and -k[0] < min_severity:
                break  # sorted worst first: nothing after this is visible
            entry = entries[k[-1]]
            sev, covered, _ = entry.bucket
            if sev < min_severity or (uncovered_only and covered):
                continue
            out.append(entry.item)
            if limit is not None and len(out) >= limit:
                break
        return out

    def tally(self, pane: str, *, min_severity: int = 0, uncovered_only: bool = False) -> Tally:
        """Counts of the visible items of a pane, for its title and tab label."""
        counts = self.prio_counts if pane == PRIORITY else self.counts.get(pane, Counter())
        t = Tally()
        for (sev, covered, cls), n in counts.items():
            if n <= 0:
                continue
            if not covered and pane == PRIORITY:
                t.uncovered_all += n
            if sev < min_severity or (uncovered_only and covered):
                continue
            t.total += n
            t.by_severity[Severity(sev)] += n
            if cls == NEW:
                t.new += n
            if cls in (NEW, SEEN) and (t.worst_unhandled is None or sev > t.worst_unhandled):
                t.worst_unhandled = Severity(sev)
        return t


@dataclass(slots=True)
class Tally:
    total: int = 0
    new: int = 0
    #: The worst severity among visible items nobody has acted on (state new or seen).
    worst_unhandled: Severity | None = None
    by_severity: Counter[Severity] = None  # type: ignore[assignment]
    #: Priority only: every item that needs a human and arrived uncovered, filters ignored.
    uncovered_all: int = 0

    def __post_init__(self) -> None:
        if self.by_severity is None:
            self.by_severity = Counter({s: 0 for s in Severity})


def _update_sorted(keys: list[Key], removed: Iterable[Key], added: Iterable[Key]) -> None:
    removed = list(removed)
    added = list(added)
    if len(removed) > _BULK:
        gone = set(removed)
        keys[:] = [k for k in keys if k not in gone]
    else:
        for k in removed:
            i = bisect_left(keys, k)
            if i < len(keys) and keys[i] == k:
                del keys[i]
    if len(added) > _BULK and len(added) * 8 > len(keys):
        # Many keys into a short list: one sort.  Into a long list, insort is cheaper
        # (a merge compares every key; insort compares log n and moves memory).
        keys.extend(added)
        keys.sort()
    else:
        for k in added:
            insort(keys, k)
