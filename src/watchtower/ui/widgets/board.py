"""The panes and their tabs: which layout fits the terminal, and drawing the desk into them.

Two layouts.  **Wide** (a grid of bordered panes, the Priority pane across the top) when
the terminal is big enough for every platform pane to show at least ``WIDE_MIN_ROWS``
rows; otherwise **tabs** (one pane at a time, 1-9 and ``[`` ``]`` switch).  The layout is
decided from the size a resize event carries, so it is never one step behind.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Container, Vertical
from textual.widgets import Tab, Tabs

from ...core.desk import LOAD_OLDER_STEP, PRIORITY, Desk, Filters
from .. import render, views
from .pane import ItemPane

__all__ = ["PANE_WINDOW", "WIDE_MIN_HEIGHT", "WIDE_MIN_ROWS", "WIDE_MIN_WIDTH", "PaneBoard", "layout_for"]

WIDE_MIN_WIDTH = 150
WIDE_MIN_HEIGHT = 36
#: In the wide layout every platform pane must show at least this many rows.
WIDE_MIN_ROWS = 3
#: Rows a pane lists at first; ``o`` shows this many more.
PANE_WINDOW = 1000
#: Screen lines that are not the board: the header (3) and the footer (1).
CHROME = 4


def layout_for(width: int, height: int, platforms: int) -> tuple[bool, int, int]:
    """(wide, columns, platform grid rows) for a terminal of that size."""
    if width < WIDE_MIN_WIDTH or height < WIDE_MIN_HEIGHT or not platforms:
        return False, 1, 0
    for cols in ((4, 3) if width >= 220 else (3, 4) if width >= 200 else (3,)):
        rows = -(-platforms // cols)
        unit = (height - CHROME) // (2 + rows)  # the Priority pane takes 2fr
        if unit - 2 - 2 >= WIDE_MIN_ROWS:  # its border, and the title and health lines
            return True, cols, rows
    return False, 1, 0


class PaneBoard(Vertical):
    DEFAULT_CSS = """
    PaneBoard {
        height: 1fr;
    }
    """

    def __init__(self, platforms: list[str]) -> None:
        super().__init__(id="board")
        self.platforms = platforms
        self.wide = False
        self.active = 0
        #: Per pane: rows it lists (grows with ``o``).
        self.windows: dict[str, int] = {}
        self._spikes: dict[str, tuple[str, bool]] = {}

    def compose(self) -> ComposeResult:
        tabs = Tabs(*[Tab(Text(name), id=f"tab-{i}") for i, name in enumerate([PRIORITY, *self.platforms])], id="pane-tabs")
        tabs.can_focus = False  # the panes have the keys; 1-9 and [ ] switch panes
        yield tabs
        with Container(id="panes"):
            yield ItemPane(PRIORITY, priority=True, pane_id="pane-0")
            for i, platform in enumerate(self.platforms, start=1):
                yield ItemPane(platform, pane_id=f"pane-{i}")

    @property
    def panes(self) -> list[ItemPane]:
        return list(self.query(ItemPane))

    def current(self, focused: Any) -> ItemPane:
        """The pane that has the focus, else the one shown (in tabs)."""
        node = focused
        while node is not None:
            if isinstance(node, ItemPane):
                return node
            node = node.parent
        return self.panes[self.active]

    def key_of(self, index: int) -> str:
        return PRIORITY if index == 0 else self.platforms[index - 1]

    # -- layout ------------------------------------------------------------------------------
    def lay_out(self, width: int, height: int) -> None:
        wide, cols, rows = layout_for(width, height, len(self.platforms))
        self.wide = wide
        box = self.query_one("#panes")
        box.set_class(wide, "-wide")
        panes = self.panes
        if wide:
            box.styles.grid_size_columns = cols
            box.styles.grid_rows = " ".join(["2fr"] + ["1fr"] * rows)
            panes[0].styles.column_span = cols
        self.query_one(Tabs).display = not wide
        for i, pane in enumerate(panes):
            pane.display = wide or i == self.active
        focused = self.screen.focused
        if focused is None or not _shown(focused):
            panes[self.active].list.focus()

    def show_pane(self, index: int, width: int, height: int) -> None:
        if 0 <= index < len(self.platforms) + 1:
            self.active = index
            self.query_one(Tabs).active = f"tab-{index}"
            self.lay_out(width, height)
            self.panes[index].list.focus()

    # -- drawing -----------------------------------------------------------------------------
    def draw(self, desk: Desk, filters: Filters, *, now: datetime, tz: object, panes: set[str] | None) -> None:
        """Draw the desk: the rows of ``panes`` (``None``: all), every title, health line
        and tab label (which repaint only if their text changed)."""
        spikes = self._spike_state(desk, now, panes)
        labels: list[Text] = []
        for i, pane in enumerate(self.panes):
            key = self.key_of(i)
            tally = desk.tally(key, filters)
            if panes is None or key in panes:
                self._draw_rows(desk, pane, key, tally.total, filters, now)
            if i == 0:
                hot = [p for p, (_spark, spike) in spikes.items() if spike]
                pane.set_title(views.priority_title(tally, hot, filters))
                pane.set_class(bool(hot), "-spike")
                pane.set_health(views.priority_health(tally))
            else:
                spark, spike = spikes.get(key, ("", False))
                pane.set_title(views.pane_title(key, tally, spark, spike, filters))
                pane.set_class(spike, "-spike")
                pane.set_health(views.platform_health(desk.platform_health(key), tz), failing=desk.platform_failing(key))
            labels.append(views.tab_label(pane.pane_name, tally, i > 0 and spikes.get(key, ("", False))[1]))
        self._relabel(labels)

    def _draw_rows(self, desk: Desk, pane: ItemPane, key: str, matching: int, filters: Filters, now: datetime) -> None:
        limit = self.windows.get(key, PANE_WINDOW)
        rows = desk.window(key, filters, limit=limit)
        filtered = filters != Filters()
        held = desk.held(key)
        note = views.end_note(len(rows), matching if (filtered or key == PRIORITY) else held, held, filtered=filtered,
                              archive=key != PRIORITY and desk.archive is not None,
                              exhausted=key in desk.archive_exhausted)
        pane.show_items(rows, now=now, state_of=desk.index.state_of, end_note=note)

    def _spike_state(self, desk: Desk, now: datetime, panes: set[str] | None) -> dict[str, tuple[str, bool]]:
        """Sparkline and spike per platform, looked up again for the panes that changed
        (and all of them on the tick); the triager's counts are not free."""
        triager = getattr(desk.monitor, "triager", None)
        for p in self.platforms:
            if panes is not None and p not in panes and p in self._spikes:
                continue
            try:
                spark = render.sparkline(list(triager.volume(p, now, buckets=12))) if triager else ""
                spike = bool(triager.spike_status(p, now).active) if triager else False
            except Exception:  # noqa: BLE001 - a sparkline is never worth a crash
                spark, spike = "", False
            self._spikes[p] = (spark, spike)
        return self._spikes

    def _relabel(self, labels: list[Text]) -> None:
        tabs = self.query_one(Tabs)
        if not tabs.display:
            return  # hidden in the wide layout
        for i, label in enumerate(labels):
            tab = tabs.query(f"#tab-{i}").first(Tab)
            if tab.label.plain != label.plain:
                tab.label = label

    def more(self, desk: Desk, pane: ItemPane, filters: Filters) -> None:
        """``o``: list more of what the pane holds; once it lists everything, bring older
        items back from the archive (in a thread)."""
        key = PRIORITY if pane.priority else pane.pane_name
        limit = self.windows.get(key, PANE_WINDOW)
        total = desk.tally(key, filters).total if (filters != Filters() or key == PRIORITY) else desk.held(key)
        if total > limit:
            self.windows[key] = limit + PANE_WINDOW
        elif key != PRIORITY and key not in desk.archive_exhausted and desk.archive is not None:
            self._load_older(desk, key)

    @work(thread=True, group="older", exit_on_error=False)
    def _load_older(self, desk: Desk, platform: str) -> None:
        items = desk.load_older(platform, LOAD_OLDER_STEP)
        self.app.call_from_thread(self._older_loaded, desk, platform, items)

    def _older_loaded(self, desk: Desk, platform: str, items: list[Any]) -> None:
        self.windows[platform] = self.windows.get(platform, PANE_WINDOW) + len(items)
        desk.hold_older(platform, items, LOAD_OLDER_STEP)
        self.notify(f"{len(items):,} older items from the archive." if items else "Nothing older in the archive.",
                    markup=False, timeout=3)


def _shown(widget: Any) -> bool:
    node = widget
    while node is not None:
        if not getattr(node, "display", True):
            return False
        node = node.parent
    return True
