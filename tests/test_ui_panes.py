"""A pane's list renders only what shows and repaints only what changed; the cursor stays
on its item (or on the worst one, until the operator moves it); the live screen keeps up
whatever screen is opened and closed on top of it."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widget import Widget
from ui_support import NOW, make_app, ready_with_items, wait_for
from ui_support import _item as sample_item

from watchtower.core.models import Category, Coverage, Item, Severity
from watchtower.core.pipeline.monitor import RoundResult
from watchtower.core.record.policy import RowState
from watchtower.core.sources import PollResult
from watchtower.ui.messages import Polled
from watchtower.ui.widgets.lines import TextLines
from watchtower.ui.widgets.pane import ItemList, ItemPane


class PaneApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ItemPane("News", pane_id="pane")


def _item(n: int, minutes_ago: float, severity: Severity = Severity.LOW) -> Item:
    item = Item.create(platform="News", source="s", native_id=f"n{n}", author=f"@author{n}",
                       text=f"[b]post[/b] number {n}", published=NOW - timedelta(minutes=minutes_ago))
    item.severity = severity
    item.coverage = Coverage(covered=n % 3 != 0)
    return item


def _state(item: Item) -> RowState:
    return RowState("new", "new")


def _rows(pane: ItemPane) -> list[str]:
    return [pane.list.row_plain(i) for i in range(pane.list.row_count)]


class RepaintSpy:
    """Records the regions widgets ask to repaint (and whole-widget refreshes)."""

    def __init__(self, monkeypatch, *classes: type[Widget]) -> None:
        self.calls: list[tuple[str, tuple[Region, ...], bool]] = []
        for cls in classes:
            original = cls.refresh

            def refresh(widget, *regions, _original=original, **kw):
                self.calls.append((type(widget).__name__, regions, bool(kw.get("layout"))))
                return _original(widget, *regions, **kw)

            monkeypatch.setattr(cls, "refresh", refresh)


async def test_an_update_keeps_the_cursor_on_its_item_and_equals_a_fresh_pane() -> None:
    rng = random.Random(3)
    before = [_item(n, minutes_ago=10 + n) for n in range(40)]
    later = [_item(100 + n, minutes_ago=n * 0.5) for n in range(6)]  # newer: they go on top
    updated = _item(5, minutes_ago=15, severity=Severity.HIGH)  # item 5 again, triaged higher
    after = later + [updated if i.id == updated.id else i for i in before if i.id not in {before[7].id, before[30].id}]
    rng.shuffle(after)
    after.sort(key=lambda i: i.published, reverse=True)
    app = PaneApp()
    async with app.run_test(size=(120, 30)) as pilot:
        pane = app.query_one(ItemPane)
        pane.show_items(before, now=NOW, state_of=_state)
        await pilot.pause()
        pane.list.move_cursor(3)
        cursor_item = pane.highlighted_id()
        pane.show_items(after, now=NOW, state_of=_state)
        await pilot.pause()
        assert pane.order == [i.id for i in after]
        assert pane.highlighted_id() == cursor_item  # the cursor stays on its item
        incremental = _rows(pane)
        fresh = PaneApp()
        async with fresh.run_test(size=(120, 30)) as pilot2:
            other = fresh.query_one(ItemPane)
            other.show_items(after, now=NOW, state_of=_state)
            await pilot2.pause()
            assert incremental == _rows(other)


async def test_the_cursor_stays_on_the_worst_row_until_the_operator_moves_it() -> None:
    """Issue 16.4: rows arriving above the cursor must not carry it (and the view) away."""
    low = _item(1, minutes_ago=5, severity=Severity.LOW)
    app = PaneApp()
    async with app.run_test(size=(120, 30)) as pilot:
        pane = app.query_one(ItemPane)
        pane.show_items([low], now=NOW, state_of=_state)
        await pilot.pause()
        assert pane.highlighted_id() == low.id
        crits = [_item(10 + n, minutes_ago=n, severity=Severity.CRITICAL) for n in range(9)]
        pane.show_items(crits + [low], now=NOW, state_of=_state)  # worse rows arrive above
        await pilot.pause()
        assert pane.highlighted_id() == crits[0].id and pane.list.scroll_y == 0
        pane.list.action_cursor(2)  # the operator moves it: from now on it follows its item
        chosen = pane.highlighted_id()
        newer = [_item(50, minutes_ago=0, severity=Severity.CRITICAL)]
        pane.show_items(newer + crits + [low], now=NOW, state_of=_state)
        await pilot.pause()
        assert pane.highlighted_id() == chosen


async def test_ten_thousand_rows_render_only_the_lines_on_screen(monkeypatch) -> None:
    items = [_item(n, minutes_ago=n) for n in range(10_000)]
    rendered: list[int] = []
    original = ItemList.render_line

    def render_line(self, y):
        rendered.append(y)
        return original(self, y)

    monkeypatch.setattr(ItemList, "render_line", render_line)
    app = PaneApp()
    async with app.run_test(size=(120, 30)) as pilot:
        pane = app.query_one(ItemPane)
        pane.show_items(items, now=NOW, state_of=_state)
        await pilot.pause()
        assert pane.list.row_count == 10_000
        assert 0 < len(rendered) <= 3 * pane.list.size.height
        rendered.clear()
        pane.list.action_last()  # ctrl+end reaches the last row
        await pilot.pause()
        assert pane.highlighted_id() == items[-1].id
        assert 0 < len(rendered) <= 3 * pane.list.size.height


async def test_a_minute_later_only_the_age_cells_are_repainted(monkeypatch) -> None:
    """Issue 16.5: ages turning from 3m to 4m repaint four cells per row, not the pane."""
    items = [_item(n, minutes_ago=n) for n in range(10)]
    app = PaneApp()
    async with app.run_test(size=(120, 30)) as pilot:
        pane = app.query_one(ItemPane)
        pane.show_items(items, now=NOW, state_of=_state)
        await pilot.pause()
        spy = RepaintSpy(monkeypatch, ItemList)
        states = {items[2].id: RowState("replied", "done")}
        pane.show_items(items, now=NOW + timedelta(minutes=1),
                        state_of=lambda it: states.get(it.id, RowState("new", "new")))
        await pilot.pause()
        regions = [r for _, rs, _ in spy.calls for r in rs]
        assert regions and all(r.height == 1 for r in regions)
        ages = [r for r in regions if r.x == 0]
        assert len(ages) == 10 and all(r.width == 4 for r in ages)  # every age, four cells
        state = [r for r in regions if r.x != 0]
        assert len(state) == 1 and state[0].y == 2 and state[0].width == 11  # the one state cell
        rows = _rows(pane)
        assert rows[2].startswith("3m") and "replied" in rows[2]
        assert "[b]post[/b] number 0" in rows[0]  # markup in a post stays literal


async def test_a_header_line_repaints_only_the_cells_that_changed(monkeypatch) -> None:
    from rich.text import Text

    class LinesApp(App[None]):
        def compose(self) -> ComposeResult:
            yield TextLines(2)

    app = LinesApp()
    async with app.run_test(size=(80, 5)) as pilot:
        lines = app.query_one(TextLines)
        lines.set_line(0, Text("◉ Riverside │ Sun 15:30 Europe/Amsterdam │ on call: Robin"))
        await pilot.pause()
        spy = RepaintSpy(monkeypatch, TextLines)
        lines.set_line(0, Text("◉ Riverside │ Sun 15:31 Europe/Amsterdam │ on call: Robin"))
        await pilot.pause()
        assert [r for _, rs, _ in spy.calls for r in rs] == [Region(22, 0, 1, 1)]  # the one digit


async def test_an_idle_tick_repaints_nothing(tmp_path: Path, monkeypatch) -> None:
    """Nothing changed: no widget asks for a layout pass, no line or cell is repainted."""
    async with make_app(tmp_path).run_test(size=(160, 48)) as pilot:
        app = await ready_with_items(pilot)
        app._tick()
        await wait_for(pilot, lambda: app.views_settled, what="the tick's refresh")
        await pilot.pause()
        spy = RepaintSpy(monkeypatch, Widget)
        app._tick()
        await wait_for(pilot, lambda: app.views_settled, what="the tick's refresh")
        await pilot.pause()
        assert [c for c in spy.calls if c[0] in ("ItemList", "TextLines", "StatusHeader", "KeysFooter")] == []
        assert [c for c in spy.calls if c[2]] == []  # no layout pass asked for


async def test_new_items_from_a_poll_become_rows(tmp_path: Path) -> None:
    async with make_app(tmp_path).run_test(size=(80, 24)) as pilot:
        app = await ready_with_items(pilot)
        news = app.panes[1]
        before = list(news.order)
        fresh = sample_item(50, "News", "Dagblad", None, "Bibliotheek sluit filiaal Noord", 1,
                            Severity.HIGH, Category.CRISIS, covered=False)
        app.post_message(Polled(RoundResult(PollResult("news", "News", [fresh], ok=True), [fresh])))
        await wait_for(pilot, lambda: fresh.id in news.order and fresh.id in app.panes[0].order, what="the new row")
        assert news.order == [fresh.id] + before  # newest first
        # Priority: the critical item, then the older of the two uncovered HIGHs, then this one.
        assert app.panes[0].order.index(fresh.id) == 2
        await wait_for(pilot, lambda: f"{len(before) + 1} items" in news.title_plain, what="the count")


async def test_an_edited_post_replaces_the_row_and_is_marked(tmp_path: Path) -> None:
    async with make_app(tmp_path).run_test(size=(100, 24)) as pilot:
        app = await ready_with_items(pilot)
        held = next(i for i in app.items.values() if i.platform == "Mastodon" and "gehackt" in i.text)
        edited = sample_item(2, "Mastodon", "@jeroen@social.example", 880, "Is @riverside gehackt? (edit: nee, opgelost)",
                             400, Severity.HIGH, Category.SECURITY, covered=False)
        edited.edited_at = NOW
        assert edited.id == held.id
        app.post_message(Polled(RoundResult(PollResult("masto", "Mastodon", [edited], ok=True), [], [edited])))
        masto = app.panes[2]
        await wait_for(pilot, lambda: any("✎" in r and "opgelost" in r for r in _rows(masto)), what="the edited row",
                       seen=lambda: _rows(masto))


async def test_a_layout_pass_elsewhere_renders_no_row_again(tmp_path: Path, monkeypatch) -> None:
    """A toast coming and going (a layout pass) must not render the lists' rows again."""
    many = [sample_item(100 + n, "News", "Dagblad", None, "Een heel lang bericht over de bibliotheek " * 4, n,
                        Severity.MEDIUM, Category.QUESTION) for n in range(60)]
    async with make_app(tmp_path).run_test(size=(160, 48)) as pilot:
        app = await ready_with_items(pilot, many)
        await pilot.pause()
        rendered: list[int] = []
        original = ItemList.render_line

        def render_line(self, y):
            rendered.append(y)
            return original(self, y)

        monkeypatch.setattr(ItemList, "render_line", render_line)
        app.notify("hello", timeout=30)
        await pilot.pause()
        app.clear_notifications()
        await pilot.pause()
        assert rendered == []


async def test_panes_keep_up_while_screens_open_and_close_on_top(tmp_path: Path) -> None:
    """Issue 16.1: a screen opened and closed while the panes were being drawn must not
    stop the live screen for good (the old refresh chain waited on the top screen)."""
    async with make_app(tmp_path).run_test(size=(160, 40)) as pilot:
        app = await ready_with_items(pilot)
        news = app.panes[1]
        for n in range(20):
            fresh = sample_item(500 + n, "News", "Dagblad", None, f"Nieuws {n} terwijl het paneel open gaat", 0,
                                Severity.MEDIUM, Category.QUESTION)
            app.open_response(fresh)
            await pilot.pause()
            # New rows arrive while the panel is open; it closes before or after they are drawn.
            app.post_message(Polled(RoundResult(PollResult("news", "News", [fresh], ok=True), [fresh])))
            if n % 2:
                await pilot.pause()
            app.pop_screen()
            await wait_for(pilot, lambda fresh=fresh: fresh.id in news.order, what=f"row {n} after the panel closed")
        app._tick()
        await wait_for(pilot, lambda: app.views_settled, what="the views to settle")


async def test_pruning_keeps_the_newest_and_everything_still_open(tmp_path: Path) -> None:
    async with make_app(tmp_path).run_test(size=(80, 24)) as pilot:
        app = await ready_with_items(pilot, [])
        app.desk.max_items, app.desk.prune_slack = 5, 0
        quiet = [sample_item(200 + n, "News", "Forum", None, f"old chatter {n}", 600 + n, Severity.INFO, Category.OTHER)
                 for n in range(8)]
        urgent = sample_item(300, "News", "Dagblad", None, "an old fire", 2000, Severity.CRITICAL, Category.CRISIS)
        fresh = [sample_item(400 + n, "News", "Forum", None, f"new chatter {n}", n, Severity.INFO, Category.OTHER)
                 for n in range(5)]
        batch = quiet + [urgent] + fresh
        app.post_message(Polled(RoundResult(PollResult("news", "News", batch, ok=True), batch)))
        await wait_for(pilot, lambda: len(app.items) == 6, what="the prune", seen=lambda: len(app.items))
        assert set(app.items) == {urgent.id, *(i.id for i in fresh)}
        await wait_for(pilot, lambda: set(app.panes[1].order) == set(app.items), what="the pane to follow")
