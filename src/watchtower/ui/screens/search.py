"""``/``: search everything held and the archive, like an inbox.

An input line over a pane of results.  Free words, plus ``author:`` ``platform:``
``severity:`` (at least) ``state:`` (new seen claimed replied ignored blocked escalated
open) ``since:`` ``until:`` (an age like 2d, today, or an ISO date); the line is read by
:func:`watchtower.core.desk.query.parse_search` and answered by the archive's full-text
index (:class:`watchtower.core.record.search.SearchIndex`) in a worker thread, never on the UI
loop.  Results are the pane's rows, newest first, with their state from the log (the
Desk's row state: the same words as the panes), a watched author marked, a muted post
dimmed with its mute.  ``enter`` opens the response panel; ``escape`` goes back.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Input, Static

from ...core.models import Item
from ...core.text.safetext import one_line
from ..widgets.keys import KeysFooter
from ..widgets.pane import ItemList, ItemPane

__all__ = ["SearchScreen", "elapsed_text"]

HELP = "words · author:@x platform:X severity:high state:open since:2d until:2026-11-20 · enter searches"


def elapsed_text(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


class SearchScreen(Screen[None]):
    DEFAULT_CSS = """
    SearchScreen #search-line { height: 1; background: $panel; }
    SearchScreen #search-prompt { width: 9; text-style: bold; }
    SearchScreen #search-input { width: 1fr; background: $panel; }
    SearchScreen #search-input:focus { text-style: bold; }
    """
    BINDINGS = [
        Binding("escape", "back", "Back", id="search_back", tooltip="Back to the panes"),
        Binding("slash", "edit_query", "New search", id="search_edit", tooltip="Edit the search line"),
        Binding("enter", "open_hit", "Respond", id="search_open", show=False, tooltip="Open the response panel"),
    ]
    AUTO_FOCUS = "#search-input"

    def __init__(self, query: str = "") -> None:
        super().__init__()
        self.query_text = query
        self.hits: list[Any] = []
        self.result: Any = None
        #: Searches started and answered (tests wait on the count, never on a time).
        self.searches = 0
        self.answered = 0

    def compose(self) -> ComposeResult:
        with Horizontal(id="search-line"):
            yield Static(Text("Search /", style="bold"), id="search-prompt", markup=False)
            yield Input(value=self.query_text, placeholder="words, author:, platform:, severity:, state:, since:",
                        id="search-input", compact=True)
        self.pane = ItemPane("Search", priority=True, pane_id="search-pane")
        yield self.pane
        yield KeysFooter()

    def on_mount(self) -> None:
        self.pane.set_title(Text("Search", style="bold"))
        self.pane.set_health(Text(HELP, style="dim"))
        if self.query_text:
            self.run_search(self.query_text)

    # -- searching ----------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.run_search(event.value)

    def run_search(self, text: str) -> None:
        from ...core.desk.query import parse_search

        app: Any = self.app
        self.query_text = text
        try:
            q = parse_search(text, now=app.clock(), tz=app.tz)
        except ValueError as exc:
            self.pane.set_health(Text(f"⚠ {one_line(exc, limit=300)}", style="bold"))
            return
        if app.data_dir is None:
            self.pane.set_health(Text("No data directory: nothing is archived, so there is nothing to search.",
                                      style="bold"))
            return
        self.searches += 1
        self.pane.set_title(Text("Search: searching…", style="bold"))
        desk = app.desk
        self._search(q, list(desk.log_entries), dict(desk.states))

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _search(self, q: Any, entries: list[Any], states: dict[str, Any]) -> None:
        app: Any = self.app
        try:
            with app.search_lock:
                index = app.search_index()
                if index is None:
                    result, problems = None, ["No archive yet: nothing to search."]
                else:
                    result = index.search(q, entries=entries, states=states, now=app.clock())
                    problems = list(index.problems)
        except Exception as exc:  # noqa: BLE001 - shown under the search line, never a crash
            result, problems = None, [f"search failed: {exc}"]
        app.call_from_thread(self._answered, result, problems)

    def _answered(self, result: Any, problems: list[str]) -> None:
        self.answered += 1
        self.result = result
        self.hits = list(result.hits) if result is not None else []
        t = Text("Search: ", style="bold", no_wrap=True, end="")
        if result is not None:
            t.append(f"{result.total:,} match{'es' if result.total != 1 else ''}, {elapsed_text(result.seconds)}")
            if result.total > len(self.hits):
                t.append(f" (newest {len(self.hits):,} shown)")
        self.pane.set_title(t)
        if problems and (result is None or not result.indexed):
            self.pane.set_health(Text(f"⚠ {one_line(problems[-1], limit=300)}", style="bold"))
        else:
            self.pane.set_health(Text(one_line(self.query_text, limit=200) or "(everything)", style="italic"))
        self.draw()
        if self.hits:
            self.pane.list.focus()

    def draw(self) -> None:
        app: Any = self.app
        items = [h.item for h in self.hits]
        note = Text("— no match" if not items else f"— {len(items):,} shown · enter opens · / searches again · escape back",
                    no_wrap=True, end="")
        self.pane.show_items(items, now=app.clock(), state_of=app.desk.row_state, end_note=note)

    def log_changed(self) -> None:
        """A decision changed: the rows' states follow (the same words as the panes)."""
        if self.hits:
            self.draw()

    def items_changed(self) -> None:
        pass

    # -- keys -----------------------------------------------------------------------------
    def highlighted_item(self) -> Item | None:
        item_id = self.pane.highlighted_id()
        return next((h.item for h in self.hits if h.item.id == item_id), None)

    def on_item_list_open_item(self, message: ItemList.OpenItem) -> None:
        message.stop()
        self.action_open_hit()

    def action_open_hit(self) -> None:
        item = self.highlighted_item()
        if item is not None:
            app: Any = self.app
            app.open_response(app.desk.items.get(item.id) or item)

    def action_edit_query(self) -> None:
        self.query_one("#search-input", Input).focus()

    def action_back(self) -> None:
        self.app.pop_screen()

    def on_key(self, event: Any) -> None:
        # From the search line, down goes to the results.
        if event.key == "down" and isinstance(self.focused, Input) and self.hits:
            event.stop()
            self.pane.list.focus()
