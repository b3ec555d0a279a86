"""The first big batch into empty panes: drawn once, at the width the panes already had.

With the list's scrollbar shown only when needed, the rows arriving made it appear: the
list narrowed by a column, the screen was laid out a second time and every row on it was
drawn again at the new width, ~10 ms of the UI loop each (bench P2).
"""

from __future__ import annotations

from pathlib import Path

from ui_support import _item, make_app, ready_with_items, wait_for

from watchtower.core.models import Category, Severity
from watchtower.core.pipeline.monitor import RoundResult
from watchtower.core.sources import PollResult
from watchtower.ui.messages import Polled


async def test_rows_arriving_in_empty_panes_leave_their_width_alone(tmp_path: Path) -> None:
    async with make_app(tmp_path).run_test(size=(160, 50)) as pilot:
        app = await ready_with_items(pilot, [])
        lists = [pane.list for pane in app.panes if pane.display]
        assert len(lists) >= 2  # the wide layout: Priority and the platforms at once
        widths = [lst.scrollable_content_region.width for lst in lists]
        batch = [_item(1000 + n, "News", "Forum", None, f"post {n}", n, Severity.HIGH if n % 3 else Severity.INFO,
                       Category.OTHER) for n in range(300)]
        app.post_message(Polled(RoundResult(PollResult("news", "News", batch, ok=True), batch)))
        news = app.panes[[p.pane_name for p in app.panes].index("News")]
        await wait_for(pilot, lambda: news.list.row_count == 300 and app.views_settled, what="the rows")
        assert app.panes[0].list.row_count > 0
        assert [lst.scrollable_content_region.width for lst in lists] == widths


async def test_a_row_looks_up_the_lists_style_once_per_style_change_not_per_line(tmp_path: Path, monkeypatch) -> None:
    """``rich_style`` walks every ancestor (~35 us); per line it was most of what drawing a
    row cost, and all of what redrawing a cached one did."""
    from textual.dom import DOMNode

    from watchtower.ui.widgets.pane import ItemList

    looked_up: list[int] = []

    def counting(self: ItemList):  # type: ignore[no-untyped-def]
        looked_up.append(1)
        return DOMNode.rich_style.fget(self)  # type: ignore[attr-defined]

    async with make_app(tmp_path).run_test(size=(160, 50)) as pilot:
        app = await ready_with_items(pilot, [])
        batch = [_item(1000 + n, "News", "Forum", None, f"post {n}", n, Severity.INFO, Category.OTHER) for n in range(200)]
        app.post_message(Polled(RoundResult(PollResult("news", "News", batch, ok=True), batch)))
        news = app.panes[[p.pane_name for p in app.panes].index("News")].list
        await wait_for(pilot, lambda: news.row_count == 200 and app.views_settled, what="the rows")
        monkeypatch.setattr(ItemList, "rich_style", property(counting))
        before = [news.render_line(y) for y in range(news.size.height)]
        assert len(looked_up) <= 1  # before: one per line
        # A new theme is a style change: the rows are drawn in its colours.
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await pilot.pause()
        after = [news.render_line(y) for y in range(news.size.height)]
        assert news.base_style == DOMNode.rich_style.fget(news)  # type: ignore[attr-defined]
        assert [s.text for s in after] == [s.text for s in before]
        assert {seg.style.bgcolor for seg in after[1]} != {seg.style.bgcolor for seg in before[1]}


async def test_a_title_line_is_drawn_without_working_out_its_cells(tmp_path: Path, monkeypatch) -> None:
    """Titles, health lines and the header find the cells that changed when a line changes;
    drawing them (every layout pass draws them all) needs no per-character pass."""
    from rich.text import Text

    from watchtower.ui.widgets.lines import TextLines

    async with make_app(tmp_path).run_test(size=(160, 50)) as pilot:
        app = await ready_with_items(pilot, [])
        title = app.panes[0].title_line
        title.render_line(0)
        worked: list[int] = []
        cells = TextLines._cells

        def counting(self: TextLines, text: Text, width: int):  # type: ignore[no-untyped-def]
            worked.append(width)
            return cells(self, text, width)

        monkeypatch.setattr(TextLines, "_cells", counting)
        for _ in range(5):
            title.render_line(0)
        assert worked == []  # before: one pass per draw
        # A change still repaints only the cells that differ.
        old = title.line(0).plain
        title.set_line(0, Text(old[:-1] + ("x" if old[-1:] != "x" else "y")))
        assert len(worked) == 2
