"""A pane updates in place: new items become rows, the others keep theirs, and an idle
refresh sends nothing to the screen."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable

from watchtower.core.models import Coverage, Item, Severity
from watchtower.ui.widgets.pane import ItemPane, RowState

from ui_support import NOW, make_app, ready_with_items, wait_for


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
    return RowState("new", "bold")


def _rows(pane: ItemPane) -> list[str]:
    t = pane.table
    return [" | ".join(c.plain for c in t.get_row_at(i)) for i in range(t.row_count)]


async def test_incremental_update_equals_a_fresh_pane(monkeypatch) -> None:
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
        pane.table.move_cursor(row=3, animate=False)
        cursor_item = pane.highlighted_id()
        added: list[str] = []
        original = DataTable.add_row

        def counting_add_row(self, *cells, **kw):
            added.append(kw.get("key"))
            return original(self, *cells, **kw)

        monkeypatch.setattr(DataTable, "add_row", counting_add_row)
        pane.show_items(after, now=NOW, state_of=_state)
        await pilot.pause()
        incremental = _rows(pane)
        assert pane._order == [i.id for i in after]
        assert pane.highlighted_id() == cursor_item  # the cursor stays on its item
        # Only the new items and the one that changed became rows; the rest kept theirs.
        assert sorted(added) == sorted([i.id for i in later] + [updated.id])

        fresh = PaneApp()
        async with fresh.run_test(size=(120, 30)) as pilot2:
            other = fresh.query_one(ItemPane)
            other.show_items(after, now=NOW, state_of=_state)
            await pilot2.pause()
            assert incremental == _rows(other)


async def test_a_few_rows_then_many_more_shows_them_all() -> None:
    """When most rows are new the pane starts from an empty table: the rows it had stay."""
    items = [_item(n, minutes_ago=n) for n in range(60)]
    app = PaneApp()
    async with app.run_test(size=(120, 30)) as pilot:
        pane = app.query_one(ItemPane)
        pane.show_items(items[::12], now=NOW, state_of=_state)
        await pilot.pause()
        pane.show_items(items, now=NOW, state_of=_state)
        await pilot.pause()
        assert pane.table.row_count == 60
        assert pane._order == [i.id for i in items]
        assert [pane.table.coordinate_to_cell_key((r, 0)).row_key.value for r in range(60)] == pane._order


async def test_ages_and_states_are_the_only_cells_replaced() -> None:
    items = [_item(n, minutes_ago=n) for n in range(10)]
    app = PaneApp()
    async with app.run_test(size=(120, 30)) as pilot:
        pane = app.query_one(ItemPane)
        pane.show_items(items, now=NOW, state_of=_state)
        await pilot.pause()
        text_cells = [pane.table.get_row_at(i)[-1] for i in range(10)]
        states = {items[2].id: RowState("replied", "green")}
        pane.show_items(items, now=NOW + timedelta(minutes=1),
                        state_of=lambda it: states.get(it.id, RowState("new", "bold")))
        await pilot.pause()
        rows = _rows(pane)
        assert rows[2].startswith("3m") and "replied" in rows[2]
        assert rows[5].startswith("6m")
        # The text cells (sanitised once) are the very same objects.
        assert all(pane.table.get_row_at(i)[-1] is text_cells[i] for i in range(10))
        # Markup in a post stays literal.
        assert "[b]post[/b] number 0" in rows[0]


async def test_a_pane_filled_in_slices_ends_complete_and_in_order() -> None:
    items = [_item(n, minutes_ago=n) for n in range(300)]
    app = PaneApp()
    async with app.run_test(size=(120, 30)) as pilot:
        pane = app.query_one(ItemPane)
        items[3] = _item(3, minutes_ago=3)
        items[3].text = "a much longer post than the others, which the text column must make room for " * 2
        gen = pane.update_steps(items, now=NOW, state_of=_state)
        steps = []
        text_column = pane.table.columns[next(k for k in pane.table.columns if k.value == "text")]
        for step in gen:
            steps.append(step)
            if pane.table.row_count > 3:
                # Rows already shown are drawn in full even before the table is resized.
                assert text_column.content_width >= len(items[3].headline)
        assert len(steps) > 3  # it gave the loop back while filling
        await pilot.pause()
        assert pane.table.row_count == 300
        assert [pane.table.coordinate_to_cell_key((r, 0)).row_key.value for r in range(300)] == [i.id for i in items]
        assert pane.table.virtual_size.height == 300 + 1  # caught up: rows and header
        assert "which the text column must make room for" in " ".join(c.plain for c in pane.table.get_row_at(3))


async def test_an_idle_tick_repaints_nothing(tmp_path: Path) -> None:
    """Nothing changed: no layout pass (it repaints every scrollbar) and no cell update."""
    async with make_app(tmp_path).run_test(size=(160, 48)) as pilot:
        app = await ready_with_items(pilot)
        app._tick()
        await wait_for(pilot, lambda: not app._refresh_pending, what="the tick's refresh")
        await pilot.pause()
        layouts: list[str] = []
        updates: list[str] = []
        original_layout = Screen._refresh_layout
        original_update = DataTable.update_cell

        def layout(self, *a, **kw):
            layouts.append(type(self).__name__)
            return original_layout(self, *a, **kw)

        def update(self, *a, **kw):
            updates.append(str(a[:2]))
            return original_update(self, *a, **kw)

        Screen._refresh_layout = layout  # type: ignore[method-assign]
        DataTable.update_cell = update  # type: ignore[method-assign]
        try:
            app._tick()
            await wait_for(pilot, lambda: not app._refresh_pending, what="the tick's refresh")
            await pilot.pause()
        finally:
            Screen._refresh_layout = original_layout  # type: ignore[method-assign]
            DataTable.update_cell = original_update  # type: ignore[method-assign]
        assert updates == []
        assert layouts == []


async def test_new_items_from_a_poll_become_rows(tmp_path: Path) -> None:
    from watchtower.core.monitor import RoundResult
    from watchtower.core.sources import PollResult
    from watchtower.ui.messages import Polled

    from ui_support import _item as sample_item
    from watchtower.core.models import Category

    async with make_app(tmp_path).run_test(size=(80, 24)) as pilot:
        app = await ready_with_items(pilot)
        news = app.panes[1]
        before = list(news._order)
        fresh = sample_item(50, "News", "Dagblad", None, "Bibliotheek sluit filiaal Noord", 1,
                            Severity.HIGH, Category.CRISIS, covered=False)
        app.post_message(Polled(RoundResult(PollResult("news", "News", [fresh], ok=True), [fresh])))
        await wait_for(pilot, lambda: fresh.id in news._order and fresh.id in app.panes[0]._order, what="the new row")
        assert news._order == [fresh.id] + before  # newest first
        # Priority: the critical item, then the older of the two uncovered HIGHs, then this one.
        assert app.panes[0]._order.index(fresh.id) == 2
        await wait_for(pilot, lambda: f"{len(before) + 1} items" in news._title_plain, what="the count")


async def test_a_layout_pass_elsewhere_does_not_repaint_the_pane_scrollbars(tmp_path: Path) -> None:
    """A layout pass elsewhere (a toast coming or going, a label changing width) leaves
    the tables' scrollbars be: repainting them cost kilobytes on an idle screen."""
    from rich.text import Text
    from textual.scrollbar import ScrollBar

    from watchtower.ui.widgets.header import StatusHeader

    from ui_support import _item as sample_item, sample_items
    from watchtower.core.models import Category

    many = sample_items() + [
        sample_item(100 + n, "News", "Dagblad", None, "Een heel lang bericht over de bibliotheek " * 4, n,
                    Severity.MEDIUM, Category.QUESTION)
        for n in range(60)
    ]
    async with make_app(tmp_path).run_test(size=(160, 48)) as pilot:
        app = await ready_with_items(pilot, many)
        await pilot.pause()
        assert app.panes[1].table.vertical_scrollbar.display or app.panes[1].table.show_vertical_scrollbar
        repainted: list[str] = []
        original = ScrollBar.refresh

        def refresh(self, *a, **kw):
            repainted.append(type(self.parent).__name__)
            return original(self, *a, **kw)

        ScrollBar.refresh = refresh  # type: ignore[method-assign]
        try:
            app.notify("hello", timeout=30)
            await pilot.pause()
            app.clear_notifications()
            await pilot.pause()
            # Any widget asking for a layout pass, as a label changing width does.
            app.query_one(StatusHeader)._lines[2].update(Text("a layout pass"), layout=True)
            await pilot.pause()
        finally:
            ScrollBar.refresh = original  # type: ignore[method-assign]
        assert "ItemTable" not in repainted


async def test_panes_keep_up_while_a_screen_is_open_on_top(tmp_path: Path) -> None:
    from watchtower.core.models import Category
    from watchtower.core.monitor import RoundResult
    from watchtower.core.sources import PollResult
    from watchtower.ui.messages import Polled
    from watchtower.ui.screens.help import HelpScreen

    from ui_support import _item as sample_item

    async with make_app(tmp_path).run_test(size=(80, 24)) as pilot:
        app = await ready_with_items(pilot)
        app.push_screen(HelpScreen())
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help screen")
        fresh = sample_item(51, "News", "Dagblad", None, "Nieuws terwijl de hulp open staat", 1,
                            Severity.MEDIUM, Category.QUESTION)
        app.post_message(Polled(RoundResult(PollResult("news", "News", [fresh], ok=True), [fresh])))
        await wait_for(pilot, lambda: fresh.id in app.panes[1]._order, what="the row behind the help screen")
        assert isinstance(app.screen, HelpScreen)


async def test_the_cursor_stays_where_the_operator_put_it_while_rows_arrive() -> None:
    """A pane filling in slices must not pull the cursor back to where it was."""
    items = [_item(n, minutes_ago=n) for n in range(200)]
    app = PaneApp()
    async with app.run_test(size=(120, 30)) as pilot:
        pane = app.query_one(ItemPane)
        pane.show_items(items[:20], now=NOW, state_of=_state)
        await pilot.pause()
        steps = pane.update_steps(items, now=NOW, state_of=_state)
        next(steps)
        next(steps)
        pane.table.move_cursor(row=7, animate=False)  # the operator, between two slices
        chosen = pane.highlighted_id()
        for _ in steps:
            pass
        await pilot.pause()
        assert pane.table.row_count == 200
        assert pane.highlighted_id() == chosen
        # And while slices are being added.
        more = [_item(1000 + n, minutes_ago=300 + n) for n in range(250)]
        steps = pane.update_steps(items + more, now=NOW, state_of=_state)
        while pane.table.row_count < 250:
            next(steps)
        pane.table.move_cursor(row=150, animate=False)
        chosen = pane.highlighted_id()
        for _ in steps:
            pass
        await pilot.pause()
        assert pane.table.row_count == 450
        assert pane.highlighted_id() == chosen


async def test_pruning_keeps_the_newest_and_everything_still_open(tmp_path: Path, monkeypatch) -> None:
    from watchtower.core.models import Category
    from watchtower.core.monitor import RoundResult
    from watchtower.core.sources import PollResult
    from watchtower.ui import app as app_module
    from watchtower.ui.messages import Polled

    from ui_support import _item as sample_item

    monkeypatch.setattr(app_module, "MAX_ITEMS_IN_MEMORY", 5)
    async with make_app(tmp_path).run_test(size=(80, 24)) as pilot:
        app = await ready_with_items(pilot, [])
        app._prune_at = 5
        quiet = [sample_item(200 + n, "News", "Forum", None, f"old chatter {n}", 600 + n, Severity.INFO, Category.OTHER)
                 for n in range(8)]
        urgent = sample_item(300, "News", "Dagblad", None, "an old fire", 2000, Severity.CRITICAL, Category.CRISIS)
        fresh = [sample_item(400 + n, "News", "Forum", None, f"new chatter {n}", n, Severity.INFO, Category.OTHER)
                 for n in range(5)]
        batch = quiet + [urgent] + fresh
        app.post_message(Polled(RoundResult(PollResult("news", "News", batch, ok=True), batch)))
        await wait_for(pilot, lambda: len(app.items) == 6 and not app._pruning, what="the prune")
        assert set(app.items) == {urgent.id, *(i.id for i in fresh)}
        await wait_for(pilot, lambda: set(app.panes[1]._order) == set(app.items), what="the pane to follow")
