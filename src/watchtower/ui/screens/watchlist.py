"""``W``: who is watched, what is muted, which items are snoozed; end any of them.

Three lists from the watch-list the Desk folds from the log (every operator's, so this is
the team's list): watched authors, muted authors and keywords (with until when), and the
snoozes running now.  ``delete`` on a line ends it (after a yes): an ``unwatch``,
``unmute`` or a snooze that ends now, written to the log like everything else.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ...core.text.safetext import one_line
from .. import render
from ..widgets.keys import KeysFooter

__all__ = ["WatchlistScreen"]


def _on(platform: str | None) -> str:
    return f" on {platform}" if platform else ""


def _why(reason: str) -> str:
    return f": {one_line(reason, limit=120)}" if reason else ""


class WatchlistScreen(Screen[None]):
    DEFAULT_CSS = """
    WatchlistScreen #wl-title { height: 1; background: $panel; text-style: bold; }
    WatchlistScreen OptionList { height: 1fr; border: none; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="watchlist_back"),
        Binding("delete", "end_line", "End it", id="watchlist_end",
                tooltip="Stop watching, unmute, or end the snooze on the highlighted line"),
    ]

    def __init__(self) -> None:
        super().__init__()
        #: Per line: (what it ends: "watch"/"mute"/"snooze", the entry) or None for headings.
        self.lines: list[tuple[Text, tuple[str, Any] | None]] = []

    def compose(self) -> ComposeResult:
        yield Static(Text("Watch-list: watched, muted, snoozed (shared by every operator)"), id="wl-title", markup=False)
        yield OptionList(id="wl-list", compact=True)
        yield KeysFooter()

    def on_mount(self) -> None:
        self.refresh_list()
        self.query_one(OptionList).focus()

    def log_changed(self) -> None:
        self.refresh_list()

    def items_changed(self) -> None:
        pass

    def refresh_list(self) -> None:
        app: Any = self.app
        wl = app.desk.watch
        tz = app.tz
        lines: list[tuple[Text, tuple[str, Any] | None]] = []

        def when(ts: Any) -> str:
            return render.local_time(ts, tz, "%a %d %b %H:%M")

        lines.append((Text(f"Watched authors ({len(wl.watched)}): never below medium, listed at handover",
                           style="bold underline"), None))
        for w in sorted(wl.watched.values(), key=lambda w: w.at):
            lines.append((Text(f"  ◉ {one_line(w.author, limit=60)}{_on(w.platform)} · by {one_line(w.by, limit=20)} "
                               f"since {when(w.at)}{_why(w.reason)}"), ("watch", w)))
        mutes = sorted([*wl.muted_authors.values(), *wl.muted_keywords.values()], key=lambda m: m.at)
        lines.append((Text(f"Muted ({len(mutes)}): hidden from panes and alerts (M shows them)", style="bold underline"),
                      None))
        for m in mutes:
            until = f" until {when(m.until)}" if m.until else " until unmuted"
            lines.append((Text(f"  {one_line(m.what, limit=60)}{_on(m.platform)}{until} · by {one_line(m.by, limit=20)}"
                               f"{_why(m.reason)}"), ("mute", m)))
        snoozes = wl.active_snoozes()
        lines.append((Text(f"Snoozed items ({len(snoozes)}): no alert, no escalation", style="bold underline"), None))
        for s in snoozes:
            lines.append((Text(f"  until {when(s.until)} · {one_line(s.excerpt or s.item_id, limit=80)} · "
                               f"by {one_line(s.by, limit=20)}{_why(s.reason)}"), ("snooze", s)))
        self.lines = lines
        ol = self.query_one(OptionList)
        keep = ol.highlighted
        ol.clear_options()
        ol.add_options([Option(text, id=f"wl-{n}", disabled=what is None) for n, (text, what) in enumerate(lines)])
        ends = [n for n, (_t, what) in enumerate(lines) if what is not None]
        if ends:
            ol.highlighted = keep if keep in ends else ends[0]

    @property
    def list_text(self) -> str:
        return "\n".join(t.plain for t, _ in self.lines)

    def action_end_line(self) -> None:
        from .modals import ConfirmScreen

        ol = self.query_one(OptionList)
        app: Any = self.app
        if ol.highlighted is None or not 0 <= ol.highlighted < len(self.lines) or self.lines[ol.highlighted][1] is None:
            app.notify("Nothing to end on this line.", markup=False, timeout=3)
            return
        kind, entry = self.lines[ol.highlighted][1]  # type: ignore[misc]
        desk = app.desk
        if kind == "watch":
            question, command = f"Stop watching {one_line(entry.author, limit=40)}?", desk.unwatch_author(entry.author, entry.platform)
        elif kind == "mute":
            question, command = f"Unmute {one_line(entry.what, limit=40)}?", desk.unmute(entry)
        else:
            question, command = "End this snooze? The item alerts and escalates again.", desk.end_snooze(entry)

        def go(ok: bool | None) -> None:
            if ok:
                app.run_command(command, lambda _e: app.notify("Done.", markup=False, timeout=3))

        app.push_screen(ConfirmScreen(question, yes="Yes"), go)
