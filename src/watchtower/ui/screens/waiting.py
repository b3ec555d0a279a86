"""``A``: the alerts nobody has acknowledged yet, and where each is in its escalation.

One row per alerted item whose chain (:func:`watchtower.core.respond.escalation.chains_from_entries`,
read from the log every operator shares) is not acknowledged, oldest first: its short ref
(what ``watchtower ack`` takes), the level it reached (on call, backup, fallback) and who
that was, when it was first and last paged (organisation time), ``NOT REACHED`` when the
last page reached nobody, and the item.  ``enter`` opens the item; ``c`` claims it, which
acknowledges it and stops the chain (so do a reply, ignore, block or escalate).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from ...core.models import Item
from ...core.text.safetext import one_line
from .. import render
from ..widgets.keys import KeysFooter

__all__ = ["AlertsWaitingScreen", "waiting_chains"]

LEVEL_WORDS = {"on_call": "on call", "backup": "backup", "fallback": "fallback"}


def waiting_chains(entries: list[Any], states: dict[str, Any]) -> list[Any]:
    """The chains of the log ``entries`` whose item nobody acknowledged, oldest first."""
    from ...core.respond.escalation import chains_from_entries, is_acknowledged

    chains = chains_from_entries(entries)
    return sorted((c for c in chains.values() if not is_acknowledged(states.get(c.item_id))), key=lambda c: c.first_at)


class AlertsWaitingScreen(Screen[None]):
    DEFAULT_CSS = """
    AlertsWaitingScreen #aw-title { height: 1; background: $panel; text-style: bold; }
    AlertsWaitingScreen DataTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="alerts_back"),
        Binding("enter", "open_alert", "Open item", id="alerts_open", tooltip="Open the response panel of the item"),
        Binding("c", "claim_alert", "Claim = ack", id="alerts_claim",
                tooltip="Claim the item: acknowledges the alert and stops its escalation"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.chains: list[Any] = []

    def compose(self) -> ComposeResult:
        yield Static(Text("Alerts waiting for acknowledgement"), id="aw-title", markup=False)
        yield DataTable(cursor_type="row", id="aw-table")
        yield KeysFooter()

    def on_mount(self) -> None:
        t = self.query_one(DataTable)
        t.add_column("Ref", key="ref", width=8)
        t.add_column("Level", key="level", width=18)
        t.add_column("Paged", key="paged", width=11)
        t.add_column("Alert", key="what")
        self.refresh_rows()
        t.focus()

    def log_changed(self) -> None:
        self.refresh_rows()

    def items_changed(self) -> None:
        pass

    def refresh_rows(self) -> None:
        from ...core.respond.escalation import item_ref

        app: Any = self.app
        desk = app.desk
        self.chains = waiting_chains(desk.log_entries, desk.states)
        t = self.query_one(DataTable)
        keep = t.cursor_row
        t.clear()
        for c in self.chains:
            level = Text(LEVEL_WORDS.get(c.role, c.role), style="bold" if c.level else "")
            if c.to:
                level.append(f" {one_line(c.to, limit=12)}")
            first = render.local_time(c.first_at, app.tz, "%H:%M")
            last = render.local_time(c.last_at, app.tz, "%H:%M")
            what = Text(no_wrap=True, end="")
            if not c.reached:
                what.append("NOT REACHED ", style="bold reverse")
            what.append_text(render.safe(c.line, limit=300))
            t.add_row(Text(item_ref(c.item_id)), level, Text(first if first == last else f"{first}-{last}"), what,
                      key=c.item_id)
        if self.chains:
            t.move_cursor(row=min(keep, len(self.chains) - 1))
            title = f"Alerts waiting for acknowledgement: {len(self.chains)}, oldest first"
        else:
            title = "✓ No alert is waiting: every page was acknowledged"
        self.query_one("#aw-title", Static).update(Text(title))

    def _current(self) -> Any:
        t = self.query_one(DataTable)
        if not self.chains or not 0 <= t.cursor_row < len(self.chains):
            return None
        return self.chains[t.cursor_row]

    def highlighted_item(self) -> Item | None:
        """The held item of the highlighted alert (``w``, ``!``, ``z`` act on it)."""
        chain = self._current()
        app: Any = self.app
        return app.desk.items.get(chain.item_id) if chain is not None else None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_alert()

    def action_open_alert(self) -> None:
        chain = self._current()
        if chain is not None:
            app: Any = self.app
            app.open_by_id(chain.item_id)

    def action_claim_alert(self) -> None:
        chain = self._current()
        if chain is not None:
            app: Any = self.app
            app.open_by_id(chain.item_id, app.toggle_claim)
