"""Crisis mode: declare it, work the checklist from the seeds, end it. All in the log."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ...core.text.safetext import one_line
from .. import render
from ..widgets.keys import KeysFooter
from .modals import ConfirmScreen, PromptScreen


class CrisisScreen(Screen[None]):
    DEFAULT_CSS = """
    CrisisScreen #crisis-title { height: 1; background: $error; color: $text; text-style: bold; }
    CrisisScreen #crisis-info { height: auto; padding: 0 1; }
    CrisisScreen OptionList { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="crisis_back"),
        Binding("D", "declare", "Declare", id="crisis_declare", tooltip="Declare a crisis with a one-line description"),
        Binding("E", "end", "End crisis", id="crisis_end", tooltip="End the crisis (recorded with who and when)"),
        Binding("S", "staff_briefing", "Staff brief", id="crisis_staff",
                tooltip="The staff briefing: edit it, then copy or send it (ticks 'Employees informed')"),
    ]

    def compose(self) -> ComposeResult:
        yield Static("", id="crisis-title", markup=False)
        yield Static("", id="crisis-info", markup=False)
        yield OptionList(id="checklist")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.refresh_view()
        self.query_one(OptionList).focus()

    def log_changed(self) -> None:
        self.refresh_view()

    @property
    def state(self):
        return self.app.desk.crisis

    def refresh_view(self) -> None:
        from ...core.respond.crisis import checklist_progress

        st = self.state
        active = bool(getattr(st, "active", False))
        title = Text("⚠ CRISIS MODE" if active else "Crisis mode: off")
        self.query_one("#crisis-title", Static).update(title)
        info = Text()
        if active:
            info.append(one_line(getattr(st, "description", ""), limit=200), style="bold")
            started = getattr(st, "started_at", None)
            if started is not None:
                info.append(
                    f"\nsince {render.local_time(started, self.app.tz, '%a %H:%M')} by {one_line(getattr(st, 'started_by', ''), limit=30)}"
                )
            info.append("\nenter ticks a check · S drafts the staff briefing · E ends the crisis", style="dim")
        else:
            info.append("No crisis. D declares one: the header turns loud, thresholds tighten,\n"
                        "and the checklist below is tracked in the log.", style="dim")
        self.query_one("#crisis-info", Static).update(info)
        ol = self.query_one(OptionList)
        highlighted = ol.highlighted
        ol.clear_options()
        done = set(getattr(st, "checks_done", set()) or set())
        lang = self.app.config.organisation.default_language
        for check, ticked in checklist_progress(done):
            text = getattr(check, f"text_{lang}", None) or check.text
            label = Text("[x] " if ticked else "[ ] ", style="green" if ticked else "bold")
            label.append(one_line(text, limit=200))
            ol.add_option(Option(label, id=check.id, disabled=not active))
        if active and ol.option_count:
            ol.highlighted = highlighted if highlighted is not None and highlighted < ol.option_count else 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if not getattr(self.state, "active", False):
            return
        done = set(getattr(self.state, "checks_done", set()) or set())
        check_id = event.option.id
        if check_id in done:
            return
        self.app.record("crisis_check", str(event.option.prompt), data={"check": check_id})

    def action_declare(self) -> None:
        if getattr(self.state, "active", False):
            self.app.notify("A crisis is already declared.", markup=False)
            return

        from ...core.respond.crisis import crisis_alert, declare_crisis
        from .outgoing import in_thread

        app = self.app
        if app.desk.log is None:
            app.report_problem("No data directory: crisis mode lives in the log, so it cannot be declared here.")
            return

        def go(desc: str | None) -> None:
            if desc:
                # No item: the briefing links the worst crisis item from before it was declared
                # (the response panel's x declares one that started with its item).
                in_thread(app, lambda: declare_crisis(app.desk.log, desc, operator=app.operator),
                          lambda _entry: app.deliver_alert(crisis_alert(desc, app.operator)), what="declare the crisis")

        self.app.push_screen(PromptScreen("Declare a crisis: one line, what is happening?"), go)

    def action_end(self) -> None:
        if not getattr(self.state, "active", False):
            return

        def go(ok: bool | None) -> None:
            if ok:
                self.app.record("crisis_end", getattr(self.state, "description", ""))

        self.app.push_screen(ConfirmScreen("End the crisis?", yes="End crisis"), go)

    def action_staff_briefing(self) -> None:
        from .briefing import BriefingScreen

        self.app.push_screen(BriefingScreen(language=self.app.config.organisation.default_language))
