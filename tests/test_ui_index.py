"""The pane index: what it orders and counts must equal sorting and counting everything.

The reference here is the straightforward computation the app did on every refresh before
(sort all items, filter, count); the index must agree with it after any sequence of
arrivals, replacements, removals and decisions.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from watchtower.core.desk.index import PRIORITY, ItemIndex, ItemMap, state_class
from watchtower.core.models import Coverage, Item, Severity
from watchtower.core.record.policy import NEW, OTHER, SEEN, RowState

NOW = datetime(2026, 11, 22, 14, 30, tzinfo=UTC)
PLATFORMS = ["News", "Mastodon", "X"]


class Decisions:
    """Stands in for the app: row states and "needs a human" from a dict of labels."""

    def __init__(self) -> None:
        self.labels: dict[str, str] = {}
        self.timed: set[str] = set()

    def row_state(self, item: Item) -> RowState:
        label = self.labels.get(item.id, "new")
        return RowState(label, label, NEW if label == "new" else SEEN if label == "seen" else OTHER)

    def handled(self, item: Item) -> bool:
        return self.labels.get(item.id) in ("replied", "ignored", "blocked")

    def needs_human(self, item: Item) -> bool:
        if self.handled(item):
            return False
        if item.severity >= Severity.MEDIUM:
            return True
        return not item.coverage.covered and item.severity >= Severity.LOW

    def is_timed(self, item: Item) -> bool:
        return item.id in self.timed


def make(n: int, rng: random.Random, *, platform: str | None = None) -> Item:
    item = Item.create(
        platform=platform or rng.choice(PLATFORMS + ["Elsewhere"]),  # one platform has no pane
        source="s",
        native_id=f"n{n}",
        author=f"@a{n}",
        text=f"post {n}",
        # Coarse times, so ties happen and the tie-break (arrival order) is exercised.
        published=NOW - timedelta(minutes=rng.randint(0, 40)),
    )
    item.severity = Severity(rng.randint(0, 4))
    item.coverage = Coverage(covered=rng.random() < 0.6)
    return item


def visible(item: Item, min_sev: int, uncovered_only: bool) -> bool:
    return item.severity >= min_sev and not (uncovered_only and item.coverage.covered)


def reference(items: dict[str, Item], d: Decisions, pane: str, min_sev: int, uncovered_only: bool) -> list[str]:
    if pane == PRIORITY:
        chosen = [i for i in items.values() if d.needs_human(i) and visible(i, min_sev, uncovered_only)]
        chosen.sort(key=lambda i: (-int(i.severity), i.coverage.covered, i.published))
    else:
        chosen = [i for i in items.values() if i.platform == pane and visible(i, min_sev, uncovered_only)]
        chosen.sort(key=lambda i: i.published, reverse=True)
    return [i.id for i in chosen]


def check(items: ItemMap, index: ItemIndex, d: Decisions) -> None:
    index.sync(items)
    for min_sev in (0, 2, 4):
        for uncovered_only in (False, True):
            for pane in [PRIORITY, *PLATFORMS]:
                want = reference(items, d, pane, min_sev, uncovered_only)
                got = [i.id for i in index.window(pane, min_severity=min_sev, uncovered_only=uncovered_only)]
                assert got == want, (pane, min_sev, uncovered_only)
                assert [i.id for i in index.window(pane, min_severity=min_sev, uncovered_only=uncovered_only, limit=5)] == want[:5]
                shown = [items[i] for i in want]
                tally = index.tally(pane, min_severity=min_sev, uncovered_only=uncovered_only)
                assert tally.total == len(want)
                assert tally.new == sum(1 for i in shown if d.row_state(i).label == "new")
                unhandled = [i.severity for i in shown if state_class(d.row_state(i)) in (NEW, SEEN)]
                assert tally.worst_unhandled == (max(unhandled) if unhandled else None)
                for sev in Severity:
                    assert tally.by_severity[sev] == sum(1 for i in shown if i.severity == sev)
                if pane == PRIORITY:
                    assert tally.uncovered_all == sum(
                        1 for i in items.values() if d.needs_human(i) and not i.coverage.covered
                    )


def test_index_agrees_with_sorting_everything_after_any_changes() -> None:
    rng = random.Random(7)
    d = Decisions()
    items = ItemMap()
    index = ItemIndex(PLATFORMS, row_state=d.row_state, needs_human=d.needs_human, timed=d.is_timed)
    n = 0
    for _ in range(40):
        for _ in range(rng.randint(0, 30)):  # arrivals
            item = make(n, rng)
            items[item.id] = item
            n += 1
        for key in rng.sample(list(items), min(len(items), 3)):  # an item updated in place
            newer = make(rng.randint(0, 10**6), rng, platform=items[key].platform)
            newer.id = key
            items[key] = newer
        for key in rng.sample(list(items), min(len(items), 2)):  # pruned
            del items[key]
        touched = rng.sample(list(items), min(len(items), 4))  # decisions
        for key in touched:
            d.labels[key] = rng.choice(["new", "seen", "replied", "ignored", "mine", "escalated"])
        index.touch(touched)
        check(items, index, d)


def test_big_batches_and_bulk_removal_take_the_bulk_path() -> None:
    rng = random.Random(8)
    d = Decisions()
    items = ItemMap()
    index = ItemIndex(PLATFORMS, row_state=d.row_state, needs_human=d.needs_human, timed=d.is_timed)
    for n in range(600):
        item = make(n, rng)
        items[item.id] = item
    check(items, index, d)
    for key in list(items)[::2]:
        items.pop(key)
    check(items, index, d)
    items.clear()
    check(items, index, d)
    assert len(index) == 0


def test_sync_comes_in_bounded_steps() -> None:
    rng = random.Random(9)
    d = Decisions()
    items = ItemMap()
    index = ItemIndex(PLATFORMS, row_state=d.row_state, needs_human=d.needs_human, timed=d.is_timed)
    for n in range(1000):
        item = make(n, rng)
        items[item.id] = item
    steps = list(index.sync_steps(items, chunk=100))
    assert len(steps) == 10
    assert index.pending(items) == 0
    check(items, index, d)


def test_row_states_are_cached_until_touched_unless_they_depend_on_the_clock() -> None:
    rng = random.Random(10)
    d = Decisions()
    items = ItemMap()
    index = ItemIndex(PLATFORMS, row_state=d.row_state, needs_human=d.needs_human, timed=d.is_timed)
    a, b = make(1, rng, platform="News"), make(2, rng, platform="News")
    items[a.id], items[b.id] = a, b
    d.timed.add(b.id)
    index.sync(items)
    d.labels[a.id] = d.labels[b.id] = "seen"
    assert index.state_of(a).label == "new"  # cached: nobody said a's decisions changed
    assert index.state_of(b).label == "seen"  # timed: always asked afresh
    index.touch([a.id])
    index.sync(items)
    assert index.state_of(a).label == "seen"


def test_item_map_notes_every_kind_of_change() -> None:
    m = ItemMap()
    rng = random.Random(11)
    a, b, c = (make(i, rng) for i in range(3))
    m[a.id] = a
    m.update({b.id: b})
    m.setdefault(c.id, c)
    assert list(m.changed) == [a.id, b.id, c.id]
    m.changed.clear()
    del m[a.id]
    m.pop(b.id)
    m.pop("missing", None)
    assert set(m.changed) == {a.id, b.id, "missing"}
    m.changed.clear()
    m.clear()
    assert set(m.changed) == {c.id}


def test_put_many_is_setting_each() -> None:
    rng = random.Random(12)
    batch = [make(i, rng) for i in range(5)]
    one, many = ItemMap(), ItemMap()
    for item in batch:
        one[item.id] = item
    many.put_many(batch)
    assert one == many and list(one.changed) == list(many.changed) == [i.id for i in batch]
