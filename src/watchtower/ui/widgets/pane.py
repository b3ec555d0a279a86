"""One pane of items: a title with counts and a sparkline, a health line, a bounded table.

A pane never holds one widget per item (a ListView slows with every item already in
it); it is a ``DataTable`` with at most ``MAX_ROWS`` rows, rebuilt only when the order
or contents change.  Cells are Rich ``Text`` built by :mod:`watchtower.ui.render`, never
``str`` (a ``str`` cell is parsed as markup).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from ...core.models import Item, Severity
from .. import render

MAX_ROWS = 500
#: Below this width a pane drops the State column and shows coverage as its symbol.
COMPACT_BELOW = 72


@dataclass
class RowState:
    """What the State column says about an item (derived from the log)."""

    label: str = "new"
    style: str = "bold"


class ItemTable(DataTable):
    """The table inside a pane; Enter opens the response panel for the highlighted row."""

    BINDINGS = [
        Binding("enter", "open_item", "Respond", id="respond", tooltip="Open the response panel"),
    ]

    class OpenItem(Message):
        """Posted when the operator asks to respond to an item; handled by the app."""

        def __init__(self, item_id: str) -> None:
            super().__init__()
            self.item_id = item_id

    def action_open_item(self) -> None:
        if self.row_count == 0:
            return
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:  # noqa: BLE001 - an empty or shrinking table
            return
        if key.value:
            self.post_message(self.OpenItem(key.value))


class ItemPane(Vertical):
    """A platform's live pane, or the Priority pane when ``priority`` is set."""

    DEFAULT_CSS = """
    ItemPane {
        height: 1fr;
        width: 1fr;
        padding: 0;
    }
    ItemPane > .pane-title {
        height: 1;
        text-style: bold;
        background: $boost;
    }
    ItemPane.-spike > .pane-title {
        background: $error 40%;
    }
    ItemPane > .pane-health {
        height: 1;
        color: $text-muted;
    }
    ItemPane > ItemTable {
        height: 1fr;
        scrollbar-size-vertical: 1;
    }
    """

    def __init__(self, name: str, *, priority: bool = False, pane_id: str | None = None) -> None:
        super().__init__(id=pane_id)
        self.pane_name = name
        self.priority = priority
        self._title = Static("", classes="pane-title", markup=False)
        self._health = Static("", classes="pane-health", markup=False)
        # No cell padding: at 80 columns every cell counts; widths below include a gap.
        self.table = ItemTable(cursor_type="row", zebra_stripes=False, show_cursor=True, cell_padding=0)
        self._order: list[str] = []
        self._cells: dict[str, tuple[str, ...]] = {}
        self._title_plain = ""
        self._health_plain = ""
        self.compact = False
        self._last: tuple | None = None

    def compose(self) -> ComposeResult:
        yield self._title
        yield self._health
        yield self.table

    def on_mount(self) -> None:
        self._setup_columns()
        self.set_title(Text(self.pane_name, style="bold"))

    def on_resize(self) -> None:
        compact = self.size.width < COMPACT_BELOW
        if compact != self.compact:
            self.compact = compact
            self._setup_columns()
            self._rerender()

    def _setup_columns(self) -> None:
        """Full columns, or (in a narrow pane) age, badge, coverage symbol, author, text."""
        t = self.table
        t.clear(columns=True)
        self._order = []
        t.add_column("Age", key="age", width=4)
        t.add_column("Severity", key="sev", width=9)
        if self.compact:
            t.add_column("C", key="cov", width=2)
        else:
            t.add_column("Cover", key="cov", width=12)
        if self.priority:
            t.add_column("Where", key="plat", width=8)
        t.add_column("Author", key="author", width=12 if self.compact else 14)
        if not self.compact:
            t.add_column("State", key="state", width=11)
        t.add_column("Text", key="text")

    def _rerender(self) -> None:
        if self._last is not None:
            items, now, state_of = self._last
            self.show_items(items, now=now, state_of=state_of)

    # -- attributes down ----------------------------------------------------------
    def set_title(self, title: Text) -> None:
        if title.plain != self._title_plain:
            self._title_plain = title.plain
            self._title.update(title)

    def set_health(self, health: Text, *, failing: bool = False) -> None:
        self.set_class(failing, "-failing")
        if health.plain != self._health_plain:
            self._health_plain = health.plain
            self._health.update(health)

    def show_items(
        self,
        items: list[Item],
        *,
        now: datetime,
        state_of: Callable[[Item], RowState],
    ) -> None:
        """Show ``items`` (already sorted, best first) keeping the cursor on its item.

        Only cells whose text changed are touched when the order is unchanged, so an
        idle screen sends almost nothing to the terminal.
        """
        items = items[:MAX_ROWS]
        self._last = (items, now, state_of)
        t = self.table
        rows: list[tuple[str, list[Text]]] = []
        for item in items:
            st = state_of(item)
            cov = render.coverage_badge(item)
            cells = [
                Text(render.age(item.published, now), no_wrap=True),
                render.severity_badge(item.severity),
                cov[:1] if self.compact else cov,
            ]
            if self.priority:
                cells.append(render.safe(render.clip(item.platform, 7), limit=40))
            cells.append(render.author_cell(item, 11 if self.compact else 13))
            if not self.compact:
                cells.append(Text(render.clip(st.label, 10), style=st.style, no_wrap=True))
            text = render.safe(item.headline, limit=300)
            if item.spike:
                text = Text("↑spike ", style="bold red") + text
            cells.append(text)
            rows.append((item.id, cells))
        order = [rid for rid, _ in rows]
        if order == self._order:
            keys = [c.key for c in t.ordered_columns]
            for rid, cells in rows:
                plain = tuple(c.plain for c in cells)
                old = self._cells.get(rid)
                if old == plain:
                    continue
                for i, cell in enumerate(cells):
                    if old is None or old[i] != plain[i]:
                        t.update_cell(rid, keys[i], cell)
                self._cells[rid] = plain
            return
        current = None
        if t.row_count:
            try:
                current = t.coordinate_to_cell_key(t.cursor_coordinate).row_key.value
            except Exception:  # noqa: BLE001
                current = None
        t.clear()
        for rid, cells in rows:
            t.add_row(*cells, key=rid)
        self._order = order
        self._cells = {rid: tuple(c.plain for c in cells) for rid, cells in rows}
        if current in self._order:
            t.move_cursor(row=self._order.index(current), animate=False)

    def highlighted_id(self) -> str | None:
        t = self.table
        if not t.row_count:
            return None
        try:
            return t.coordinate_to_cell_key(t.cursor_coordinate).row_key.value
        except Exception:  # noqa: BLE001
            return None


def severity_counts(items: list[Item]) -> dict[Severity, int]:
    counts = {s: 0 for s in Severity}
    for i in items:
        counts[i.severity] += 1
    return counts
