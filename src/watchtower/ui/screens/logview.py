"""Every log entry, newest first, filterable by operator, kind, platform and text."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from ...core.text.safetext import one_line
from .. import render
from ..widgets.keys import KeysFooter

MAX_ROWS = 2000


class LogScreen(Screen[None]):
    DEFAULT_CSS = """
    LogScreen #log-title { height: 1; background: $panel; text-style: bold; }
    LogScreen Input { height: 3; }
    LogScreen DataTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape", "back", "Back", id="log_back"),
        Binding("slash", "filter", "Filter", id="log_filter", tooltip="Filter: words, op:NAME, kind:KIND, on:PLATFORM"),
    ]

    def compose(self) -> ComposeResult:
        yield Static(Text("Handover log (newest first)"), id="log-title", markup=False)
        yield Input(placeholder="filter: words  op:sam  kind:replied  on:mastodon", id="log-filter")
        yield DataTable(cursor_type="row", id="log-table")
        yield KeysFooter()

    def on_mount(self) -> None:
        t = self.query_one(DataTable)
        t.add_column("When", key="when", width=10)
        t.add_column("Who", key="who", width=10)
        t.add_column("Kind", key="kind", width=12)
        t.add_column("Where", key="where", width=9)
        t.add_column("What", key="what")
        self.refresh_rows()
        t.focus()

    def log_changed(self) -> None:
        self.refresh_rows()

    @on(Input.Changed, "#log-filter")
    def _filter_changed(self) -> None:
        self.refresh_rows()

    @on(Input.Submitted, "#log-filter")
    def _filter_done(self) -> None:
        self.query_one(DataTable).focus()

    def action_filter(self) -> None:
        self.query_one(Input).focus()

    def action_back(self) -> None:
        if self.query_one(Input).has_focus:
            self.query_one(DataTable).focus()
        else:
            self.app.pop_screen()

    def _matches(self, e, terms: list[str]) -> bool:
        for term in terms:
            key, _, value = term.partition(":")
            if value and key in ("op", "kind", "on"):
                field = {"op": e.operator, "kind": e.kind, "on": e.platform or ""}[key]
                if value.lower() not in (field or "").lower():
                    return False
            elif term.lower() not in f"{e.text} {e.excerpt or ''} {e.operator} {e.kind}".lower():
                return False
        return True

    def refresh_rows(self) -> None:
        app = self.app
        terms = self.query_one(Input).value.split()
        t = self.query_one(DataTable)
        t.clear()
        shown = 0
        for e in reversed(app.log_entries):
            if e.kind == "seen" and not any(x.startswith("kind:") for x in terms):
                continue
            if not self._matches(e, terms):
                continue
            what = Text(one_line(e.text, limit=300))
            if e.excerpt:
                what.append(("  " if e.text else "") + "“" + one_line(e.excerpt, limit=120) + "”", style="dim")
            t.add_row(
                Text(render.local_time(e.ts, app.tz, "%a %H:%M")),
                Text(one_line(e.operator, limit=20)),
                Text(one_line(e.kind, limit=20)),
                Text(one_line(e.platform or "", limit=20)),
                what,
                key=e.id,
            )
            shown += 1
            if shown >= MAX_ROWS:
                break
