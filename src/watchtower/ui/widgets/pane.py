"""One pane of items: a title with counts and a sparkline, a health line, a bounded table.

A pane never holds one widget per item (a ListView slows with every item already in
it); it is a ``DataTable`` with at most ``MAX_ROWS`` rows, updated in place: new items
become new rows, rows that fell out of the window are dropped, and only the cells whose
text changed are replaced.  Cells are Rich ``Text`` built by :mod:`watchtower.ui.render`,
never ``str`` (a ``str`` cell is parsed as markup).

Every change is bounded: :meth:`ItemPane.update_steps` yields between slices of work
(and yields :data:`FRAME` when the rows it added should be drawn before it adds more),
so the app can give the loop back to key presses and frames in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterator

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.geometry import Size
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static
from textual.widgets.data_table import RowKey

from ...core.models import Item
from .. import render

MAX_ROWS = 500
#: Below this width a pane drops the State column and shows coverage as its symbol.
COMPACT_BELOW = 72
#: Yielded by :meth:`ItemPane.update_steps`: draw what changed before going on.
FRAME = "frame"
#: Rows added per step while they land on screen (each costs a render of its cells in
#: the next frame), and below it (they cost only their width measurement).
ROWS_PER_FRAME = 3
ROWS_PER_STEP = 32
#: Rows inserted above others per step (each slice of them redraws the whole pane).
INSERT_STEP = 64
#: Rows whose static cells (badges, author, sanitised text) are built per step.
BUILD_STEP = 24
#: Above this many new rows (of a full pane) it is cheaper to start from an empty table.
REBUILD_ABOVE = MAX_ROWS // 2


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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Before DataTable.__init__, whose watchers already clear the caches.
        self._rendered_cells: dict[tuple, tuple[Any, Any]] = {}
        self._rendered_lines: dict[tuple, tuple[Any, Any]] = {}
        self._pass_style: Any = None
        self._pass_ctx: tuple | None = None
        self._in_pass = False
        self._sized: tuple | None = None
        #: While set, rows added do not resize the table yet (see _update_dimensions).
        self.defer_dimensions = False
        super().__init__(*args, **kwargs)

    def action_open_item(self) -> None:
        if self.row_count == 0:
            return
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:  # noqa: BLE001 - an empty or shrinking table
            return
        if key.value:
            self.post_message(self.OpenItem(key.value))

    def grow_columns(self, row_key: str) -> None:
        """Widen the auto-width column for one new row at once (while the resize of the
        table is deferred, a row drawn meanwhile must not have its text cut short)."""
        data = self._data.get(row_key)
        if data is None:
            return
        for key, column in self.columns.items():
            if column.auto_width:
                cell = data.get(key)
                if isinstance(cell, Text):
                    column.content_width = max(column.content_width, _text_width(cell))

    def catch_up(self) -> None:
        """Stop deferring (see ``defer_dimensions``): resize for every row added meanwhile."""
        if self.defer_dimensions:
            self.defer_dimensions = False
            self._require_update_dimensions = True
            self.check_idle()

    def remove_rows(self, keys: set[str]) -> None:
        """Remove many rows at once.

        ``DataTable.remove_row`` rebuilds the whole row index for every row it removes
        (about a millisecond each at 500 rows); this does what it does, once.
        """
        if not keys:
            return
        for key in keys:
            columns = self._data.pop(key, None)
            if columns is None:
                continue
            self.rows.pop(key, None)
            self._new_rows.discard(key)
            for column_key in columns:
                self._updated_cells.discard((key, column_key))  # CellKey compares as a tuple
        order = sorted(self._data, key=self._row_locations.get)
        self._row_locations = type(self._row_locations)({k: i for i, k in enumerate(order)})
        self._require_update_dimensions = True
        self.check_idle()
        self.cursor_coordinate = self.cursor_coordinate  # clamped to the rows left
        self.hover_coordinate = self.hover_coordinate
        self._update_count += 1
        self.refresh(layout=True)

    # -- fewer repaints ----------------------------------------------------------------
    def _render_cell(self, row_index: int, column_index: int, base_style: Any, width: int, cursor: bool = False, hover: bool = False) -> Any:
        """DataTable re-renders every visible cell after any change to any cell (its
        cache is keyed by a table-wide update count): an age turning from 3m to 4m cost a
        render of the whole pane.  Here a rendered cell is reused for as long as the cell
        object, its place and its looks are the same."""
        if column_index < 0:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        column_key = self._column_locations.get_key(column_index)
        if row_index < 0:  # the header: the column's label
            row_key = self._header_row_key
            column = self.columns.get(column_key) if column_key is not None else None
            cell = column.label if column is not None else None
        else:
            row_key = self._row_locations.get_key(row_index)
            row = self._data.get(row_key) if row_key is not None else None
            cell = row.get(column_key) if row is not None else None
        if cell is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        key = (
            row_index, column_index, row_key, column_key, id(cell), base_style, width, cursor, hover,
            self._show_hover_cursor, self.show_cursor, self._pseudo_class_state,
        )
        hit = self._rendered_cells.get(key)
        if hit is not None and hit[0] is cell:
            return hit[1]
        lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        if len(self._rendered_cells) > 8000:
            self._rendered_cells.clear()
        self._rendered_cells[key] = (cell, lines)
        return lines

    def _render_line(self, y: int, x1: int, x2: int, base_style: Any) -> Any:
        """One screen line of a row, reused while that row's cells, place, width and
        cursor/hover state are the same (DataTable keys its line cache on the table-wide
        update count, so adding one row re-rendered every visible line)."""
        try:
            row_key, line_no = self._get_offsets(y)
        except LookupError:
            return super()._render_line(y, x1, x2, base_style)
        ctx = self._pass_ctx
        if ctx is None or ctx[0] != (x1, x2, base_style):
            ctx = self._line_context(x1, x2, base_style)
        _, common, cursor_row, hover_row, header = ctx
        if row_key is self._header_row_key:
            cells, row_index = header, -1
        else:
            data = self._data.get(row_key)
            row_index = self._row_locations.get(row_key) if data is not None else None
            cells = tuple(data.values()) if data is not None else ()
        if row_index is None or self.cursor_type != "row":
            return super()._render_line(y, x1, x2, base_style)
        key = (
            common, row_key, line_no, row_index, row_index == cursor_row, row_index == hover_row,
            tuple(map(id, cells)),
        )
        hit = self._rendered_lines.get(key)
        if hit is not None:
            return hit[1]
        strip = super()._render_line(y, x1, x2, base_style)
        if len(self._rendered_lines) > 2000:
            self._rendered_lines.clear()
        self._rendered_lines[key] = (cells, strip)  # holds the cells: their ids stay theirs
        return strip

    def _line_context(self, x1: int, x2: int, base_style: Any) -> tuple:
        """What every line of one render pass shares (worked out once per pass)."""
        columns = self.ordered_columns
        # Where the columns show between x1 and x2.  The last column (the text) is
        # only blank padding past its text, so its own width does not count: it grows
        # with every longer headline, and that must not re-render every line.
        spans = []
        start = 0
        for column in columns[:-1]:
            width = column.get_render_width(self)
            spans.append(max(0, min(start + width, x2) - max(start, x1)))
            start += width
        common = (
            x1, x2, self.size.width, base_style, self._show_hover_cursor, self.show_cursor,
            self._pseudo_class_state, tuple(spans), start,
        )
        ctx = ((x1, x2, base_style), common, self.cursor_coordinate.row, self.hover_coordinate.row,
               tuple(c.label for c in columns))
        if self._in_pass:
            self._pass_ctx = ctx
        return ctx

    def _update_dimensions(self, new_rows: Any) -> None:
        """Column widths and the scrollable size after rows were added.

        DataTable measures every cell of every new row (about 0.1 ms a row, all in one
        idle callback); here rows are one line high and only the auto-width column (the
        text) has a width to learn, which for a one-line ``Text`` is its cell length.

        While ``defer_dimensions`` is set (rows are being added below the visible part
        in slices), nothing is resized: a new size repaints the whole pane, once per
        slice; the pane clears it and the table catches up once.
        """
        if self.defer_dimensions:
            self._new_rows.update(new_rows)
            self._require_update_dimensions = True
            return
        auto = [(key, column) for key, column in self.columns.items() if column.auto_width]
        widths: list[int] = [0] * len(auto)
        for row_key in new_rows:
            row = self.rows.get(row_key)
            data = self._data.get(row_key)
            if row is None or data is None:
                continue
            if row.height != 1 or row.label is not None:
                return super()._update_dimensions(new_rows)
            for i, (key, _) in enumerate(auto):
                cell = data.get(key)
                if not isinstance(cell, Text):
                    return super()._update_dimensions(new_rows)
                width = _text_width(cell)
                if width > widths[i]:
                    widths[i] = width
        for (_, column), width in zip(auto, widths):
            column.content_width = max(column.content_width, width)
        data_cells_width = sum(column.get_render_width(self) for column in self.columns.values())
        header_height = self.header_height if self.show_header else 0
        self.virtual_size = Size(data_cells_width + self._row_label_column_width, self._total_row_height + header_height)

    def render_lines(self, crop: Any) -> Any:
        # DataTable asks for the widget's style once per line, and DOMNode.rich_style
        # walks the ancestors every time; within one pass it cannot change.
        self._in_pass, self._pass_style, self._pass_ctx = True, None, None
        try:
            return super().render_lines(crop)
        finally:
            self._in_pass, self._pass_style, self._pass_ctx = False, None, None

    @property
    def rich_style(self) -> Any:
        if not self._in_pass:
            return super().rich_style
        if self._pass_style is None:
            self._pass_style = super().rich_style
        return self._pass_style

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._rendered_cells.clear()
        self._rendered_lines.clear()

    def notify_style_update(self) -> None:
        self._rendered_cells.clear()
        self._rendered_lines.clear()
        super().notify_style_update()

    def _size_updated(self, size: Any, virtual_size: Any, container_size: Any, layout: bool = True) -> bool:
        """ScrollView compares the container size it is given (its parent's) with its own
        inner size, which always differ, so every layout pass anywhere on the screen (a
        toast leaving, a tab label changing width) repainted both scrollbars of every
        pane: kilobytes to the terminal for nothing.  Only pass on real changes."""
        key = (size, virtual_size, container_size, self.virtual_size)
        if key == self._sized:
            return False
        self._sized = key
        return super()._size_updated(size, virtual_size, container_size, layout)


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
        #: Row ids in table order (what the table shows).
        self._order: list[str] = []
        #: Per shown row: the item it was built from, its static cells (all but age and
        #: state) and the age and state text on screen.
        self._rows: dict[str, _Row] = {}
        self._title_plain = ""
        self._health_plain = ""
        self.compact = False
        self._columns_version = 0
        self._last: tuple | None = None
        self.redrawn = False

    def compose(self) -> ComposeResult:
        yield self._title
        yield self._health
        yield self.table

    def on_mount(self) -> None:
        self._setup_columns()
        self.set_title(Text(self.pane_name, style="bold"))

    class NeedsRows(Message):
        """The pane lost its rows (its columns changed with its width); the app refills it."""

        def __init__(self, pane: ItemPane) -> None:
            super().__init__()
            self.pane = pane

    def on_resize(self) -> None:
        compact = self.size.width < COMPACT_BELOW
        if compact != self.compact:
            self.compact = compact
            self._setup_columns()
            self.post_message(self.NeedsRows(self))

    def _setup_columns(self) -> None:
        """Full columns, or (in a narrow pane) age, badge, coverage symbol, author, text."""
        t = self.table
        t.clear(columns=True)
        self._order = []
        self._rows = {}
        self._columns_version += 1
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

    # -- attributes down ----------------------------------------------------------
    def set_title(self, title: Text) -> bool:
        """Show ``title`` if its text changed; whether it did."""
        if title.plain == self._title_plain:
            return False
        self._title_plain = title.plain
        self._title.update(title, layout=False)  # height 1, width 1fr: size never changes
        return True

    def set_health(self, health: Text, *, failing: bool = False) -> bool:
        """Show ``health`` if its text changed; whether it did."""
        self.set_class(failing, "-failing")
        if health.plain == self._health_plain:
            return False
        self._health_plain = health.plain
        self._health.update(health, layout=False)
        return True

    def show_items(
        self,
        items: list[Item],
        *,
        now: datetime,
        state_of: Callable[[Item], RowState],
    ) -> None:
        """Show ``items`` (already sorted, best first) at once; see :meth:`update_steps`."""
        for _ in self.update_steps(items, now=now, state_of=state_of):
            pass

    def update_steps(
        self,
        items: list[Item],
        *,
        now: datetime,
        state_of: Callable[[Item], RowState],
    ) -> Iterator[str | None]:
        """Show ``items`` (already sorted, best first), keeping the cursor on its item.

        A generator: each step does a bounded amount of work and the table is
        consistent between steps.  Rows already shown keep their cells; only an age or
        state that changed is replaced, so an idle screen sends almost nothing to the
        terminal.  It stops early if the columns change under it (the app refills).
        Afterwards ``redrawn`` says whether anything on the table changed.
        """
        self.redrawn = False
        items = items[:MAX_ROWS]
        self._last = (items, now, state_of)
        version = self._columns_version
        t = self.table
        rows = self._rows
        # 1. The costly part, sanitising and styling text, for rows not built yet.
        built: dict[str, _Row] = {}
        fresh = 0
        for item in items:
            row = rows.get(item.id)
            if row is None or row.item is not item:
                row = built.get(item.id)
                if row is None:
                    row = self._build_row(item)
                    fresh += 1
                    if fresh % BUILD_STEP == 0:
                        yield None
                        if version != self._columns_version:
                            return
            built[item.id] = row
        order = list(built)
        # 2. Rows that left, rows that changed item, rows that arrived.
        current = self.highlighted_id()
        keep = {rid for rid in self._order if rid in built and rows[rid] is built[rid]}
        gone = set(self._order) - keep
        added = [rid for rid in order if rid not in keep]
        if len(added) > REBUILD_ABOVE or (len(keep) < len(added) and added):
            t.clear()
            self._order = []
            rows.clear()
            keep, gone, added = set(), set(), list(order)
        if gone or added:
            self.redrawn = True
        if gone:
            t.remove_rows(gone)
            self._order = [rid for rid in self._order if rid in keep]
            for rid in gone:
                rows.pop(rid, None)
            self._restore_cursor(current)
        # 3. Ages and states of the rows that stay.  The rows to add are settled: the
        #    steps below may pause, but the table is consistent at every pause.
        for i, rid in enumerate(list(self._order)):
            if self._update_dynamic(rid, rows[rid], now, state_of):
                self.redrawn = True
            if i % 128 == 127:
                yield None
                if version != self._columns_version:
                    return
        if added:
            yield None
            if version != self._columns_version:
                return
        # 4. New rows, a slice at a time, each slice drawn before the next is added.
        #    Rows inserted above others shift every row below them, so the whole pane
        #    is drawn again anyway: they go in large slices.  Rows appended to a pane that
        #    is filling go in small slices while they land on screen (each costs a
        #    render of its cells) and in larger ones below (each costs a measurement of
        #    its cells when the table is next idle).
        position = {rid: i for i, rid in enumerate(order)}
        added.sort(key=position.__getitem__)
        self._restore_cursor(current)
        settled = t.cursor_row
        try:
            while added:
                first = position[added[0]]
                inserting = first < len(self._order)
                on_screen = first < round(t.scroll_y) + max(1, t.size.height)
                n = INSERT_STEP if inserting else ROWS_PER_STEP if not on_screen else ROWS_PER_FRAME
                # Appended rows change nothing on screen but their own lines (and the
                # scrollbar): the table is resized once, after the last slice, and only
                # the new lines that show are redrawn.  Rows inserted above others
                # move every row below them: the whole pane is redrawn.
                t.defer_dimensions = not inserting
                batch, added = added[:n], added[n:]
                if t.row_count and t.cursor_row != settled:
                    current = self.highlighted_id()  # the operator moved it since the last slice
                for rid in batch:
                    row = built[rid]
                    t.add_row(*self._cells(row, now, state_of), key=rid)
                    if not inserting:
                        t.grow_columns(rid)
                    rows[rid] = row
                self._order.extend(batch)
                if inserting:
                    self._order.sort(key=position.__getitem__)
                    self._sort_table()
                elif on_screen:
                    for rid in batch:
                        t.refresh_row(t.get_row_index(rid))
                self._restore_cursor(current)
                settled = t.cursor_row
                if added:
                    yield FRAME if on_screen or inserting else None
                    if version != self._columns_version:
                        return
        finally:
            t.catch_up()

    def _build_row(self, item: Item) -> _Row:
        cov = render.coverage_badge(item)
        static = [render.severity_badge(item.severity), cov[:1] if self.compact else cov]
        if self.priority:
            static.append(render.safe(render.clip(item.platform, 7), limit=40))
        static.append(render.author_cell(item, 11 if self.compact else 13))
        text = render.safe(item.headline, limit=300)
        if item.spike:
            text = Text("↑spike ", style="bold red") + text
        return _Row(item, static, text)

    def _cells(self, row: _Row, now: datetime, state_of: Callable[[Item], RowState]) -> list[Text]:
        """All cells of a new row, in column order; remembers the age and state shown."""
        item = row.item
        row.age = render.age(item.published, now)
        st = state_of(item)
        row.state = (st.label, st.style)
        cells = [Text(row.age, no_wrap=True), *row.static]
        if not self.compact:
            cells.append(Text(render.clip(st.label, 10), style=st.style, no_wrap=True))
        cells.append(row.text)
        return cells

    def _update_dynamic(self, rid: str, row: _Row, now: datetime, state_of: Callable[[Item], RowState]) -> bool:
        """Replace the age and state cells of a row if their text changed; whether any did."""
        t = self.table
        changed = False
        age = render.age(row.item.published, now)
        if age != row.age:
            row.age = age
            t.update_cell(rid, "age", Text(age, no_wrap=True))
            changed = True
        if not self.compact:
            st = state_of(row.item)
            if (st.label, st.style) != row.state:
                row.state = (st.label, st.style)
                t.update_cell(rid, "state", Text(render.clip(st.label, 10), style=st.style, no_wrap=True))
                changed = True
        return changed

    def _sort_table(self) -> None:
        """Put the table's rows in ``self._order`` (DataTable.sort hands the key only cells:
        each row's text cell is its own object, so it names the row)."""
        rank = {id(self._rows[rid].text): i for i, rid in enumerate(self._order)}
        self.table.sort(key=lambda cells: rank.get(id(cells[-1]), len(rank)))

    def _restore_cursor(self, current: str | None) -> None:
        t = self.table
        if current is None or not t.row_count:
            return
        try:
            index = t.get_row_index(current)
        except Exception:  # noqa: BLE001 - the item left the pane
            return
        if index != t.cursor_row:
            t.move_cursor(row=index, animate=False)

    def highlighted_id(self) -> str | None:
        t = self.table
        if not t.row_count:
            return None
        try:
            return t.coordinate_to_cell_key(t.cursor_coordinate).row_key.value
        except Exception:  # noqa: BLE001
            return None


def _text_width(cell: Text) -> int:
    """The cells a one-line (or few-line) ``Text`` needs: what DataTable measures."""
    plain = cell.plain
    return max(map(cell_len, plain.split("\n"))) if "\n" in plain else cell_len(plain)


@dataclass(slots=True, eq=False)
class _Row:
    item: Item
    static: list[Text]
    text: Text
    age: str = ""
    state: tuple[str, str] = ("", "")


