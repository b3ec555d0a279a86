"""A big batch on the UI loop: put in order, pruned (planned beside the loop, dropped on it)
without asking the policy or the watch-list about every item when nothing changed (bench P2:
dropping 5,000 took the loop 20 ms)."""

from __future__ import annotations

import random
from typing import Any

from ui_support import _item, clock, small_config

from watchtower.core.desk import Desk
from watchtower.core.models import Category, Item, Severity
from watchtower.core.record import policy


def _batch(n: int, rng: random.Random) -> list[Item]:
    sev = [Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH]
    return [
        _item(1000 + k, "News", "Forum", None, f"post {k}", rng.randint(0, 5000), rng.choice(sev), Category.OTHER,
              covered=rng.random() < 0.8)
        for k in range(n)
    ]


def test_dropping_a_planned_prune_asks_the_policy_only_about_what_changed_since() -> None:
    desk = Desk(small_config(), operator="alice", clock=clock, max_items=100, prune_slack=0)
    quiet = [_item(2000 + k, "News", "Forum", None, f"chatter {k}", 600 + k, Severity.INFO, Category.OTHER)
             for k in range(600)]
    desk.hold(quiet)
    desk.sync()
    plan = desk.prune_plan(list(desk.items.values()), dict(desk.states))
    assert len(plan) == 500
    asked: list[str] = []
    real = desk.needs_human

    def counting(item: Item) -> bool:
        asked.append(item.id)
        return real(item)

    desk.needs_human = counting  # type: ignore[method-assign]
    reopened = plan[7]
    desk.index.touch([reopened.id])  # its decisions changed after the plan: asked again
    replaced = plan[9]
    newer = _item(int(replaced.native_id[1:]), "News", "Forum", None, "edited", 1, Severity.INFO, Category.OTHER)
    assert newer.id == replaced.id
    desk.hold([newer])  # a new version arrived since the plan: it stays
    assert desk.drop(plan) == 499
    assert asked == [reopened.id]  # before: all 500
    assert reopened.id not in desk.items and replaced.id in desk.items


def test_the_prune_plan_keeps_the_newest_and_everything_open() -> None:
    rng = random.Random(17)
    for _ in range(20):
        desk = Desk(small_config(), operator="alice", clock=clock, max_items=rng.randint(1, 60), prune_slack=0)
        held = _batch(rng.randint(0, 120), rng)
        desk.hold(held)
        plan = desk.prune_plan(list(desk.items.values()), {})
        newest = {i.id for i in sorted(held, key=lambda i: i.published, reverse=True)[: desk.max_items]}
        want = [] if len(held) <= desk.max_items else [
            i for i in held if i.id not in newest and not policy.needs_human(i, None)]
        assert plan == want


def test_putting_a_batch_in_order_asks_an_empty_watch_list_nothing(monkeypatch: Any) -> None:
    """Every item of a batch gets its row state and Priority membership worked out on the
    UI loop; with nobody watched or muted, the watch-list has nothing to say about any."""
    from watchtower.core.triage.watchlist import Watchlist

    asked: list[object] = []
    real = Watchlist.watch_of

    def counting(self: Watchlist, author: object, platform: object = None) -> Any:
        asked.append(author)
        return real(self, author, platform)

    monkeypatch.setattr(Watchlist, "watch_of", counting)
    desk = Desk(small_config(), operator="alice", clock=clock)
    desk.hold(_batch(500, random.Random(3)))
    desk.sync()
    assert desk.held("News") == 500
    assert asked == []  # before: once per item
