"""One pane of items: a title with counts, a health line, column names, and the list.

The list (:class:`ItemList`) is a ``ScrollView`` on Textual's public Line API, as
Textual's own ``Log`` is: it holds the pane's window of items (a list, bounded by the
desk) and renders only the lines on screen, each from a cache keyed on what the line
shows.  So showing 5,000 items costs what showing the 30 on screen costs, adding rows
costs nothing until they scroll into view, and when a row's age turns from 3m to 4m
only those four cells are repainted, not the pane.

Cells are built from Rich ``Text`` by :mod:`watchtower.ui.render` (never parsed as
markup); the list has no horizontal scrolling: the text column takes what is left and
is cut with an ellipsis.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ...core.models import Item
from ...core.record.policy import STATE_NEW, RowState
from .. import render
from .lines import TextLines

__all__ = ["COMPACT_BELOW", "Column", "ItemList", "ItemPane", "RowState"]

#: Below this width a pane drops the State column and shows coverage as its symbol.
COMPACT_BELOW = 72
#: Rendered lines kept per list (a screenful or two of every recent state).
LINE_CACHE = 1500


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    width: int  # 0: the rest of the line


def columns_for(*, compact: bool, priority: bool) -> list[Column]:
    cols = [Column("age", "Age", 4), Column("sev", "Severity", 9)]
    cols.append(Column("cov", "C", 2) if compact else Column("cov", "Cover", 12))
    if priority:
        cols.append(Column("plat", "Where", 8))
    cols.append(Column("author", "Author", 12 if compact else 14))
    if not compact:
        cols.append(Column("state", "State", 11))
    cols.append(Column("text", "Text", 0))
    return cols


@dataclass(slots=True, eq=False)
class _Shown:
    """What a row showed when it was last drawn (to repaint only what changed)."""

    item: Item
    age: str
    state: RowState


class ItemList(ScrollView, can_focus=True):
    """The rows of a pane; ``enter`` (or a double click) opens the highlighted item.

    The cursor follows its item as rows come and go.  Until the operator moves it, it
    stays on the first row (the worst open item in the Priority pane, the newest in a
    platform pane), so rows arriving above do not carry the view away.
    """

    COMPONENT_CLASSES = {"item-list--cursor", "item-list--end"}

    DEFAULT_CSS = """
    /* The scrollbar is always there: when the first rows arrive, a scrollbar that
       appears narrows the list, so the screen is laid out twice and every row on it is
       drawn again at the new width (bench P2, ~10 ms each time). */
    ItemList {
        height: 1fr;
        overflow-x: hidden;
        overflow-y: scroll;
        scrollbar-size-vertical: 1;
    }
    ItemList > .item-list--cursor {
        text-style: bold reverse;
    }
    ItemList:blur > .item-list--cursor {
        text-style: reverse;
    }
    ItemList > .item-list--end {
        color: $text-muted;
        text-style: italic;
    }
    """

    BINDINGS = [
        Binding("enter", "open_item", "Respond", id="respond", tooltip="Open the response panel"),
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,ctrl+home", "first", "First", show=False),
        Binding("end,ctrl+end", "last", "Last", show=False),
    ]

    class OpenItem(Message):
        """The operator asks to respond to an item; handled by the app."""

        def __init__(self, item_id: str) -> None:
            super().__init__()
            self.item_id = item_id

    class Moved(Message):
        """The operator moved the cursor (the app may load more at the end)."""

        def __init__(self, item_list: ItemList, at_end: bool) -> None:
            super().__init__()
            self.item_list = item_list
            self.at_end = at_end

    def __init__(self, *, priority: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.priority = priority
        self.compact = False
        self.columns = columns_for(compact=False, priority=priority)
        self.items: list[Item] = []
        self._pos: dict[str, int] = {}
        self.cursor_row = 0
        #: Until the operator moves the cursor, it stays on the first row.
        self.follow_top = True
        self.end_note: Text | None = None
        self._now: datetime | None = None
        self._state_of: Callable[[Item], RowState] = lambda _item: STATE_NEW
        self._shown: dict[str, _Shown] = {}
        self._cache: dict[tuple, Strip] = {}
        self._base: Style | None = None

    # -- data in ---------------------------------------------------------------------------
    def show(self, items: list[Item], *, now: datetime, state_of: Callable[[Item], RowState],
             end_note: Text | None = None) -> bool:
        """Show ``items`` (in display order); repaint only the lines, or cells, that
        changed.  The cursor stays on its item.  Whether anything on screen changed."""
        current = self.highlighted_id()
        old_ids = [i.id for i in self.items]
        self._now, self._state_of = now, state_of
        self.items = items
        self._pos = {item.id: n for n, item in enumerate(items)}
        note_changed = (end_note.plain if end_note else None) != (self.end_note.plain if self.end_note else None)
        self.end_note = end_note
        if self.follow_top or current is None:
            self.cursor_row = 0
        else:
            self.cursor_row = self._pos.get(current, min(self.cursor_row, max(0, len(items) - 1)))
        self.virtual_size = Size(self.row_width, self.line_count)
        if self.follow_top:
            self.scroll_to(y=0, animate=False, immediate=True)
        else:
            self._scroll_to_cursor()
        return self._repaint_changed(old_ids, note_changed)

    @property
    def line_count(self) -> int:
        return len(self.items) + (1 if self.end_note is not None else 0)

    @property
    def row_count(self) -> int:
        return len(self.items)

    def _repaint_changed(self, old_ids: list[str], note_changed: bool) -> bool:
        top = round(self.scroll_y)
        height = self.size.height
        changed = False
        widths = self._widths()
        for y in range(top, min(top + height, max(len(old_ids), self.line_count))):
            if y >= len(self.items):
                if y < len(old_ids) or (note_changed and y == len(self.items)):
                    self.refresh_lines(y)
                    changed = True
                continue
            item = self.items[y]
            before = self._shown.get(item.id) if y < len(old_ids) and old_ids[y] == item.id else None
            age = self._age(item)
            state = self._state_of(item)
            if before is None or before.item is not item:
                self.refresh_lines(y)
                changed = True
                continue
            if before.age != age:
                self._refresh_cell(y, "age", widths)
                changed = True
            if before.state != state and not self.compact:
                self._refresh_cell(y, "state", widths)
                changed = True
        return changed

    def _refresh_cell(self, y: int, key: str, widths: dict[str, tuple[int, int]]) -> None:
        x, w = widths.get(key, (0, self.row_width))
        self.refresh(Region(x, y - round(self.scroll_y), w, 1))

    def _widths(self) -> dict[str, tuple[int, int]]:
        out: dict[str, tuple[int, int]] = {}
        x = 0
        for col in self.columns:
            w = col.width or max(0, self.row_width - x)
            out[col.key] = (x, w)
            x += w
        return out

    def _age(self, item: Item) -> str:
        if item.date_unknown:
            return "?"
        return render.age(item.published, self._now) if self._now is not None else ""

    # -- cursor ----------------------------------------------------------------------------
    def highlighted_id(self) -> str | None:
        if 0 <= self.cursor_row < len(self.items):
            return self.items[self.cursor_row].id
        return None

    def move_cursor(self, row: int, *, animate: bool = False, by_operator: bool = True) -> None:
        if not self.items:
            return
        row = max(0, min(row, len(self.items) - 1))
        if by_operator:
            self.follow_top = False
        if row == self.cursor_row:
            self._scroll_to_cursor()
            return
        before = self.cursor_row
        self.cursor_row = row
        self.refresh_lines(before)
        self.refresh_lines(row)
        self._scroll_to_cursor()
        if by_operator:
            self.post_message(self.Moved(self, at_end=row >= len(self.items) - 1))

    def _scroll_to_cursor(self) -> None:
        top = round(self.scroll_y)
        height = max(1, self.size.height)
        row = self.cursor_row
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + height:
            # Keep the end note in view when the cursor is on the last row.
            bottom = row + (2 if row == len(self.items) - 1 and self.end_note is not None else 1)
            self.scroll_to(y=bottom - height, animate=False, immediate=True)

    def action_cursor(self, delta: int) -> None:
        self.move_cursor(self.cursor_row + delta)

    def action_page(self, delta: int) -> None:
        self.move_cursor(self.cursor_row + delta * max(1, self.size.height - 1))

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self.items) - 1)
        if self.end_note is not None:
            self.scroll_to(y=max(0, self.line_count - self.size.height), animate=False, immediate=True)

    def action_open_item(self) -> None:
        item_id = self.highlighted_id()
        if item_id:
            self.post_message(self.OpenItem(item_id))

    def on_click(self, event: events.Click) -> None:
        row = round(self.scroll_y) + event.y
        if 0 <= row < len(self.items):
            self.focus()
            self.move_cursor(row)
            if event.chain >= 2:
                self.action_open_item()

    # -- rendering ------------------------------------------------------------------------
    def on_resize(self) -> None:
        compact = self.size.width < COMPACT_BELOW
        if compact != self.compact:
            self.compact = compact
            self.columns = columns_for(compact=compact, priority=self.priority)
        self._cache.clear()
        self.virtual_size = Size(self.row_width, self.line_count)

    def on_focus(self) -> None:
        self._base = None
        self.refresh_lines(self.cursor_row)

    def on_blur(self) -> None:
        self._base = None
        self.refresh_lines(self.cursor_row)

    def notify_style_update(self) -> None:
        # Textual calls this when this list's own rules change (a theme, a class, focus).
        # An ancestor's class changes only borders here (watchtower.tcss), never the
        # background a list inherits, which would leave the cached style behind.
        self._base = None
        super().notify_style_update()

    @property
    def base_style(self) -> Style:
        """``rich_style``, worked out once per style change: it walks every ancestor
        (~35 us), which per line was most of what drawing a row cost, cached or not."""
        base = self._base
        if base is None:
            base = self._base = self.rich_style
        return base

    @property
    def row_width(self) -> int:
        """Cells a row has: the list's width less its scrollbar, which is always there."""
        return self.scrollable_content_region.width

    def render_line(self, y: int) -> Strip:
        width = self.row_width
        row = round(self.scroll_y) + y
        base = self.base_style
        if row >= len(self.items):
            if row == len(self.items) and self.end_note is not None:
                text = self.end_note.copy()
                text.stylize(self.get_component_rich_style("item-list--end"))
                return self._fit(text, width, base)
            return Strip.blank(width, base)
        item = self.items[row]
        age = self._age(item)
        state = self._state_of(item)
        self._shown[item.id] = _Shown(item, age, state)
        cursor = row == self.cursor_row
        # The looks are in the key (a style update elsewhere need not draw every row again).
        key = (item.id, id(item), age, state, width, self.compact, cursor, cursor and self.has_focus, base)
        strip = self._cache.get(key)
        if strip is None:
            text = self.row_text(item, age, state)
            if cursor:
                text.stylize(self.get_component_rich_style("item-list--cursor"))
            strip = self._fit(text, width, base)
            if len(self._cache) >= LINE_CACHE:
                self._cache.clear()
            self._cache[key] = strip
        if len(self._shown) > 4 * LINE_CACHE:
            self._shown = {i.id: self._shown[i.id] for i in self.items[max(0, row - 200): row + 200] if i.id in self._shown}
        return strip

    def _fit(self, text: Text, width: int, base: Style) -> Strip:
        text.no_wrap = True
        text.end = ""
        text.truncate(width, overflow="ellipsis", pad=True)
        return Strip(list(text.render(self.app.console)), width).crop_extend(0, width, None).apply_style(base)

    def row_text(self, item: Item, age: str, state: RowState) -> Text:
        """One row as ``Text``, column by column (each cut to its width)."""
        t = Text(no_wrap=True, end="")
        for col in self.columns:
            if col.key == "text":
                cell = render.headline_cell(item)
                if state.note:  # the watch-list, in words: [watched], [snoozed until 14:30], [muted ...]
                    cell = Text(f"[{state.note}] ", style="italic", no_wrap=True, end="") + cell
            elif col.key == "age":
                cell = Text(age)
            elif col.key == "sev":
                cell = render.severity_badge(item.severity)
            elif col.key == "cov":
                cov = render.coverage_badge(item)
                cell = cov[:1] if self.compact else cov
            elif col.key == "plat":
                cell = render.safe(render.clip(item.platform, col.width - 1), limit=40)
            elif col.key == "author":
                cell = render.author_cell(item, col.width - 1)
            else:  # state
                cell = Text(render.clip(state.label, col.width - 1), style=render.TONE_STYLE.get(state.tone, ""))
            if col.width:
                cell.truncate(col.width - (1 if col.key not in ("age", "sev") else 0), overflow="ellipsis")
                cell.pad_right(col.width - cell.cell_len)
            t.append_text(cell)
        if "muted " in state.note:
            t.stylize("dim")
        return t

    def header_text(self) -> Text:
        t = Text(no_wrap=True, end="", style="bold")
        for col in self.columns:
            t.append(col.label.ljust(col.width) if col.width else col.label)
        return t

    def row_plain(self, row: int) -> str:
        """The text of a row as shown (for tests and the log)."""
        item = self.items[row]
        return self.row_text(item, self._age(item), self._state_of(item)).plain.rstrip()

    def column_x(self, key: str) -> int:
        return self._widths().get(key, (0, 0))[0]


class ItemPane(Vertical):
    """A platform's live pane, or the Priority pane when ``priority`` is set."""

    DEFAULT_CSS = """
    ItemPane {
        height: 1fr;
        width: 1fr;
        padding: 0;
    }
    ItemPane > .pane-title {
        background: $boost;
        text-style: bold;
    }
    ItemPane.-spike > .pane-title {
        background: $error 40%;
    }
    ItemPane > .pane-health {
        color: $text-muted;
    }
    ItemPane > .pane-columns {
        color: $text-muted;
    }
    ItemPane.-short > .pane-columns {
        display: none;
    }
    """

    def __init__(self, name: str, *, priority: bool = False, pane_id: str | None = None) -> None:
        super().__init__(id=pane_id)
        self.pane_name = name
        self.priority = priority
        self.title_line = TextLines(1, classes="pane-title")
        self.health_line = TextLines(1, classes="pane-health")
        self.columns_line = TextLines(1, classes="pane-columns")
        self.list = ItemList(priority=priority)

    def compose(self) -> ComposeResult:
        yield self.title_line
        yield self.health_line
        yield self.columns_line
        yield self.list

    def on_mount(self) -> None:
        self.set_title(Text(self.pane_name, style="bold"))

    def on_resize(self) -> None:
        # A pane a few lines high keeps its rows and drops the column names.
        self.set_class(self.size.height < 7, "-short")
        self.columns_line.set_line(0, self.list.header_text())

    @property
    def title_plain(self) -> str:
        return self.title_line.plain

    @property
    def health_plain(self) -> str:
        return self.health_line.plain

    def set_title(self, title: Text) -> bool:
        return self.title_line.set_line(0, title)

    def set_health(self, health: Text, *, failing: bool = False) -> bool:
        self.set_class(failing, "-failing")
        return self.health_line.set_line(0, health)

    def show_items(self, items: list[Item], *, now: datetime, state_of: Callable[[Item], RowState],
                   end_note: Text | None = None) -> bool:
        changed = self.list.show(items, now=now, state_of=state_of, end_note=end_note)
        self.columns_line.set_line(0, self.list.header_text())
        return changed

    def highlighted_id(self) -> str | None:
        return self.list.highlighted_id()

    @property
    def order(self) -> list[str]:
        """The item ids in the order shown."""
        return [i.id for i in self.list.items]
