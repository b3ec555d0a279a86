"""Follow-ups due and overdue: the correction to repost, the complainant to email."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from ...core.safetext import one_line
from .. import render
from ..widgets.keys import KeysFooter


class FollowupsScreen(Screen[None]):
    DEFAULT_CSS = """
    FollowupsScreen #fu-title { height: 1; background: $panel; text-style: bold; }
    FollowupsScreen DataTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="followups_back"),
        Binding("d", "done", "Done", id="followup_done", tooltip="Mark the follow-up done"),
        Binding("x", "dismiss_followup", "Dismiss", id="followup_dismiss", tooltip="Dismiss the follow-up"),
        Binding("enter", "open_item", "Open item", id="followup_open"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._rows: list = []

    def compose(self) -> ComposeResult:
        yield Static(Text("Follow-ups (overdue first)"), id="fu-title", markup=False)
        yield DataTable(cursor_type="row", id="fu-table")
        yield KeysFooter()

    def on_mount(self) -> None:
        t = self.query_one(DataTable)
        t.add_column("Due", key="due", width=12)
        t.add_column("State", key="state", width=9)
        t.add_column("Set by", key="by", width=12)
        t.add_column("What", key="what")
        self.refresh_rows()
        t.focus()

    def log_changed(self) -> None:
        self.refresh_rows()

    def refresh_rows(self) -> None:
        from ...core.decisions import followups

        app = self.app
        now = app.clock()
        rows = sorted(followups(app.log_entries, now), key=lambda f: f.due)
        self._rows = rows
        t = self.query_one(DataTable)
        t.clear()
        for fu in rows:
            overdue = fu.due <= now
            state = Text("OVERDUE", style="bold reverse red") if overdue else Text("due", style="yellow")
            what = Text(one_line(getattr(fu, "text", ""), limit=200))
            excerpt = getattr(fu, "excerpt", None)
            if excerpt:
                what.append(f"  ({one_line(excerpt, limit=80)})", style="dim")
            t.add_row(
                Text(render.local_time(fu.due, app.tz, "%a %H:%M")),
                state,
                Text(one_line(getattr(fu, "set_by", ""), limit=20)),
                what,
                key=str(fu.id),
            )
        if not rows:
            t.add_row(Text(""), Text(""), Text(""), Text("No open follow-ups.", style="dim"), key="-none-")

    def _current(self):
        t = self.query_one(DataTable)
        if not self._rows or t.cursor_row >= len(self._rows):
            return None
        return self._rows[t.cursor_row]

    def _close(self, kind: str) -> None:
        fu = self._current()
        if fu is None:
            return
        item = self.app.items.get(getattr(fu, "item_id", None) or "")
        self.app.record(kind, getattr(fu, "text", ""), item=item, data={"followup_id": fu.id})

    def action_done(self) -> None:
        self._close("followup_done")

    def action_dismiss_followup(self) -> None:
        self._close("followup_dismissed")

    def action_open_item(self) -> None:
        fu = self._current()
        if fu is None:
            return
        item = self.app.items.get(getattr(fu, "item_id", None) or "")
        if item is None:
            self.app.notify("That item is no longer in the archive.", markup=False, severity="warning")
            return
        self.app.open_response(item)
