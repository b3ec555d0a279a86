"""Small modal dialogs: confirm, prompt for a line of text, choose from a list, tick a
checklist step; and :func:`open_link`, the one way a link leaves the app.

Messages shown here may carry outside text (an author's handle), so they are always
built as ``Text``/``Content`` with markup off.
"""

from __future__ import annotations

import os
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from ...core.text.safetext import clean, one_line, safe_url, url_host
from .. import render

_CSS = """
{name} {{
    align: center middle;
}}
{name} > Vertical {{
    width: 70;
    max-width: 95%;
    height: auto;
    max-height: 90%;
    border: thick $accent;
    background: $surface;
    padding: 1 2;
}}
{name} Horizontal {{
    height: auto;
    align-horizontal: right;
}}
{name} Button {{
    margin-left: 2;
}}
"""


class ConfirmScreen(ModalScreen[bool]):
    """Ask a yes/no question; ``y``/``enter`` confirms, ``n``/``escape`` cancels."""

    DEFAULT_CSS = _CSS.format(name="ConfirmScreen")
    AUTO_FOCUS = "#yes"
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm_yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm_no"),
    ]

    def __init__(self, question: str, *, yes: str = "Yes", no: str = "Cancel", detail: Text | None = None) -> None:
        super().__init__()
        self.question = question
        self.yes = yes
        self.no = no
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(clean(self.question), style="bold"), markup=False)
            if self.detail is not None:
                yield Static(self.detail, markup=False)
            with Horizontal():
                yield Button(Text(self.no), id="no")
                yield Button(Text(f"{self.yes} (y)"), id="yes", variant="warning")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class PromptScreen(ModalScreen[str | None]):
    """Ask for one line of text; ``enter`` saves, ``escape`` cancels."""

    DEFAULT_CSS = _CSS.format(name="PromptScreen")
    AUTO_FOCUS = "Input"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt_cancel")]

    def __init__(self, title: str, *, placeholder: str = "", value: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.placeholder = placeholder
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.title_text, style="bold"), markup=False)
            yield Input(value=self.value, placeholder=self.placeholder, id="prompt-input")
            yield Static(Text("enter saves · escape cancels", style="dim"), markup=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ChoiceScreen(ModalScreen[str | None]):
    """Pick one of several options by id."""

    DEFAULT_CSS = _CSS.format(name="ChoiceScreen")
    AUTO_FOCUS = "OptionList"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="choice_cancel")]

    def __init__(self, title: str, options: list[tuple[str, str | Text]]) -> None:
        super().__init__()
        self.title_text = title
        self.options = options

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.title_text, style="bold"), markup=False)
            yield OptionList(*[Option(label if isinstance(label, Text) else Text(label), id=oid)
                               for oid, label in self.options], id="choices")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class StepScreen(ModalScreen[bool]):
    """A checklist step to do by hand on a platform (delete our post on X): what to do,
    the link, ``o`` to open it, ``enter``/``y`` once it is done, ``escape`` for later."""

    DEFAULT_CSS = _CSS.format(name="StepScreen")
    AUTO_FOCUS = "#done"
    BINDINGS = [
        Binding("y", "answer(True)", "Done", id="step_done"),
        Binding("o", "open_link", "Open link", id="step_open"),
        Binding("n,escape", "answer(False)", "Later", id="step_later"),
    ]

    def __init__(self, title: str, text: str, url: str | None, *, detail: Text | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.text = text
        self.url = url
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(clean(self.title_text), style="bold"), markup=False)
            if self.detail is not None:
                yield Static(self.detail, markup=False)
            yield Static(Text("☐ " + one_line(self.text, limit=300), style="bold"), markup=False)
            yield Static(render.link_line(self.url), markup=False)
            yield Static(Text("o opens the link · enter or y ticks the step once it is done · escape: later",
                              style="dim"), markup=False)
            with Horizontal():
                yield Button(Text("Later"), id="later")
                yield Button(Text("Done, tick it (y)"), id="done", variant="warning")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "done")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)

    def action_open_link(self) -> None:
        open_link(self.app, self.url)


def open_link(app: Any, url: str | None) -> None:
    """Open ``url`` in a browser after saying which host it goes to; over SSH (where the
    browser would open on the server) copy it instead.  Only http(s) links leave."""
    safe = safe_url(url)
    if safe is None:
        app.notify("There is no http(s) link to open.", markup=False, severity="warning")
        return
    host = url_host(safe)
    if os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_TTY"):
        app.copy_to_clipboard(safe)
        app.notify(
            f"Over SSH a browser would open on the server, not on your machine. Link copied instead: {host}",
            markup=False,
            timeout=8,
        )
        return
    detail = Text("host: ")
    detail.append(host, style="bold")
    detail.append("\n" + one_line(safe, limit=500))

    def go(ok: bool | None) -> None:
        if ok:
            app.open_url(safe)

    app.push_screen(ConfirmScreen(f"Open a browser at {host}?", yes="Open", detail=detail), go)
