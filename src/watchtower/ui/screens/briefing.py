"""The staff briefing as a preview to edit, then copy or send (issue 18.9).

"Inform your employees immediately": they get questions on their own accounts.  The
briefing (:func:`watchtower.core.respond.crisis.staff_briefing`) has the crisis description the
operator typed and the link to the item the crisis started with
(:func:`~watchtower.core.respond.crisis.crisis_item`); outside a crisis, the item the response
panel shows.  The operator edits it here, then copies it (``y``) or sends it to the staff
target (``s``: ``organisation.staff_apprise_env``, an Apprise URL such as ``mailto://`` or
a Teams or Slack webhook, in a worker thread).  Either ticks "Employees informed" in the
crisis checklist (:func:`~watchtower.core.respond.crisis.record_staff_informed`).
"""

from __future__ import annotations

import os
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static, TextArea

from ...core.models import Item
from ...core.text.safetext import clean, one_line
from ..widgets.keys import KeysFooter
from .modals import ConfirmScreen
from .outgoing import in_thread

__all__ = ["BriefingScreen"]


class BriefingScreen(Screen[None]):
    """Edit the staff briefing; ``y`` copies it, ``s`` sends it (when a target is set)."""

    AUTO_FOCUS = ""  # nothing focused: keys act on the briefing; tab goes into the editor
    DEFAULT_CSS = """
    BriefingScreen #brief-title { height: 1; background: $panel; text-style: bold; }
    BriefingScreen #brief-info { height: auto; padding: 0 1; }
    BriefingScreen #brief-text { height: 1fr; border: round $accent; }
    BriefingScreen #brief-text:focus { border: round $success; }
    """
    BINDINGS = [
        Binding("escape", "back", "Back", id="brief_back"),
        Binding("tab", "edit", "Edit", id="brief_edit", show=False),
        Binding("y", "copy", "Copy", id="brief_copy", tooltip="Copy the briefing and tick 'Employees informed'"),
        Binding("s", "send", "Send", id="brief_send",
                tooltip="Send the briefing to the staff target (organisation.staff_apprise_env)"),
        Binding("E", "external_editor", "$EDITOR", id="brief_editor", show=False),
    ]

    def __init__(self, *, item: Item | None = None, language: str | None = None) -> None:
        super().__init__()
        self.item = item
        self.language = language
        self.briefing: Any = None

    def compose(self) -> ComposeResult:
        yield Static(Text("Staff briefing"), id="brief-title", markup=False)
        yield Static("", id="brief-info", markup=False)
        yield TextArea("", id="brief-text", soft_wrap=True, show_line_numbers=False)
        yield KeysFooter()

    def on_mount(self) -> None:
        from ...core.respond.crisis import crisis_item, staff_briefing

        app = self.app
        desk = app.desk
        item = self.item
        if desk.crisis_active or item is None:
            # The item the crisis started with (named when declared, else the worst before it).
            item = crisis_item(desk.crisis, desk.log_entries, desk.items.values()) or item
        text = ""
        try:
            self.briefing = staff_briefing(app.config, desk.crisis, item, language=self.language)
            text = self.briefing.text
        except Exception as exc:  # noqa: BLE001 - a broken template is a message
            app.report_problem(f"staff briefing: {one_line(exc, limit=300)}")
        self.query_one("#brief-text", TextArea).load_text(text)
        info = Text()
        if item is not None:
            info.append("About: ", style="dim")
            info.append(one_line(item.headline, limit=120))
            info.append("\n")
        if self.target_env:
            info.append(f"y copies it · s sends it to the staff target (${self.target_env}) · tab edits", style="dim")
        else:
            info.append("y copies it (send it to every employee now) · tab edits · no staff target configured "
                        "(organisation.staff_apprise_env)", style="dim")
        self.query_one("#brief-info", Static).update(info)

    @property
    def target_env(self) -> str | None:
        return self.app.config.organisation.staff_apprise_env

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "send":
            return bool(self.target_env)
        return True

    def text(self) -> str:
        return clean(self.query_one("#brief-text", TextArea).text, limit=20000).strip()

    # -- actions ------------------------------------------------------------------------
    def action_back(self) -> None:
        area = self.query_one("#brief-text", TextArea)
        if area.has_focus:
            self.set_focus(None)
            return
        self.dismiss()

    def action_edit(self) -> None:
        self.query_one("#brief-text", TextArea).focus()

    def action_copy(self) -> None:
        from ...core.respond.crisis import record_staff_informed

        app = self.app
        text = self.text()
        if not text:
            app.notify("Nothing to copy: the briefing is empty.", markup=False, severity="warning")
            return
        app.copy_to_clipboard(text)
        app.notify("Staff briefing copied: send it to every employee now.", markup=False, timeout=6)
        if app.desk.log is not None:
            in_thread(app, lambda: record_staff_informed(app.desk.log, operator=app.operator, how="copied"),
                      what="tick 'Employees informed'")

    def action_send(self) -> None:
        from ...core.alert.alerts import describe_url

        app = self.app
        name = self.target_env
        text = self.text()
        if not name or not text:
            return
        env = app.env if app.env is not None else os.environ
        url = (env.get(name) or "").strip()
        detail = Text("to ")
        detail.append(describe_url(url) if url else f"${name} (not set in this process)", style="bold")
        detail.append("\nsubject: ")
        detail.append(one_line(text.partition("\n")[0], limit=200))

        def confirmed(ok: bool | None) -> None:
            if ok:
                self._send(text)

        app.push_screen(ConfirmScreen("Send the briefing to the staff?", yes="Send", detail=detail), confirmed)

    def _send(self, text: str) -> None:
        from ...core.respond.crisis import record_staff_informed, send_staff_briefing

        app = self.app

        def work() -> Any:  # Apprise blocks: a worker thread
            sent = send_staff_briefing(app.config, text, env=app.env)
            if sent.ok and app.desk.log is not None:
                record_staff_informed(app.desk.log, operator=app.operator, how="sent", target=sent.target)
            return sent

        def done(sent: Any) -> None:
            if sent.ok:
                app.notify(one_line(sent.message, limit=300), markup=False, timeout=6)
                if self.is_attached and app.screen is self:
                    self.dismiss()
            else:  # the preview stays: copy still works
                app.report_problem(sent.message)

        in_thread(app, work, done, what="send the staff briefing")

    def action_external_editor(self) -> None:
        from .outgoing import edit_externally

        edited = edit_externally(self.app, self.text())
        if edited is not None:
            self.query_one("#brief-text", TextArea).load_text(edited)
