"""The first big batch into empty panes: drawn once, at the width the panes already had.

With the list's scrollbar shown only when needed, the rows arriving made it appear: the
list narrowed by a column, the screen was laid out a second time and every row on it was
drawn again at the new width, ~10 ms of the UI loop each (bench P2).
"""

from __future__ import annotations

from pathlib import Path

from ui_support import _item, make_app, ready_with_items, wait_for

from watchtower.core.models import Category, Severity
from watchtower.core.monitor import RoundResult
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
