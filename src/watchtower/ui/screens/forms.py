"""Small forms for the watch-list and the rota: a reason (may be empty), mute, snooze, a
rota override and a file name.  One line per field, so each fits 80x24 with room to spare;
``tab`` moves between fields, ``enter`` in a field saves, ``escape`` cancels.

What a field does not read (a duration, a time) is said under the form in one line and
nothing is saved.  Every label that quotes outside text (an author's handle) is ``Text``,
never markup.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Select, Static

from ...core.coverage.when import DURATION_HELP, parse_moment, parse_span
from ...core.text.safetext import one_line

__all__ = ["FileForm", "MuteForm", "OverrideForm", "ReasonForm", "SnoozeForm"]

_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 76; max-width: 100%; height: auto; max-height: 100%;
    border: thick $accent; background: $surface; padding: 0 1;
}}
{name} .form-title {{ text-style: bold; margin-bottom: 1; }}
{name} Horizontal {{ height: 1; margin-bottom: 1; }}
{name} .form-label {{ width: 12; }}
{name} Input {{ width: 1fr; padding: 0 1; background: $boost; }}
{name} Input:focus {{ text-style: bold; }}
{name} Select {{ width: 1fr; }}
{name} .form-error {{ height: auto; }}
{name} .form-hint {{ height: 1; color: $text-muted; }}
"""

HINT = "enter saves · tab next field · escape cancels"


class _Form(ModalScreen[Any]):
    """A title, fields made by :meth:`fields`, an error line and the keys."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="form_cancel")]

    def __init__(self, title: str | Text) -> None:
        super().__init__()
        self.title_text = title if isinstance(title, Text) else Text(title)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, classes="form-title", markup=False)
            yield from self.fields()
            yield Static(Text(""), id="form-error", classes="form-error", markup=False)
            yield Static(Text(HINT), classes="form-hint", markup=False)

    def fields(self) -> ComposeResult:
        yield from ()

    @staticmethod
    def row(label: str, widget: Any) -> Horizontal:
        return Horizontal(Static(Text(label), classes="form-label", markup=False), widget)

    def value(self, field_id: str) -> str:
        return self.query_one(f"#{field_id}", Input).value.strip()

    @staticmethod
    def field(field_id: str, *, value: str = "", placeholder: str = "") -> Input:
        """A one-line text field (compact: no border, so the text shows on its one line)."""
        return Input(value=value, placeholder=placeholder, id=field_id, compact=True)

    @staticmethod
    def choice(field_id: str, options: list[tuple[str, Any]], value: Any) -> Select[Any]:
        """A choice shown as the words of the one chosen (never a dot that differs only
        in colour): ``enter`` opens the list, arrows pick, ``enter`` takes it."""
        return Select([(Text(label), v) for label, v in options], value=value, allow_blank=False, id=field_id,
                      compact=True)

    def error(self, message: str) -> None:
        """Say what did not read, under the form (``⚠`` and the words: never colour alone)."""
        self.query_one("#form-error", Static).update(Text(f"⚠ {one_line(message, limit=300)}", style="bold"))

    @property
    def error_text(self) -> str:
        return str(self.query_one("#form-error", Static).render())

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    def submit(self) -> None:  # pragma: no cover - every form has its own
        self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ReasonForm(_Form):
    """One line of text that may be empty (a reason is optional); ``None``: cancelled."""

    DEFAULT_CSS = _CSS.format(name="ReasonForm")
    AUTO_FOCUS = "#reason"

    def __init__(self, title: str | Text, *, label: str = "Why", value: str = "", placeholder: str = "optional") -> None:
        super().__init__(title)
        self.label, self.initial, self.placeholder = label, value, placeholder

    def fields(self) -> ComposeResult:
        yield self.row(self.label, self.field("reason", value=self.initial, placeholder=self.placeholder))

    def submit(self) -> None:
        self.dismiss(self.value("reason"))


class FileForm(ReasonForm):
    """A file name (not empty)."""

    DEFAULT_CSS = _CSS.format(name="FileForm")

    def submit(self) -> None:
        name = self.value("reason")
        if not name:
            self.error("expected a file name")
            return
        self.dismiss(name)


def _duration(text: str, *, empty_ok: bool) -> timedelta | None:
    if not text:
        if empty_ok:
            return None
        raise ValueError(f"expected {DURATION_HELP}")
    return parse_span(text)


class SnoozeForm(_Form):
    """How long to snooze an item's alerts (``30m`` prefilled) and why: ``(delta, reason)``."""

    DEFAULT_CSS = _CSS.format(name="SnoozeForm")
    AUTO_FOCUS = "#snooze-for"

    def fields(self) -> ComposeResult:
        yield self.row("For", self.field("snooze-for", value="30m", placeholder="30m, 2h, 1d"))
        yield self.row("Why", self.field("snooze-why", placeholder="optional"))

    def submit(self) -> None:
        try:
            delta = _duration(self.value("snooze-for"), empty_ok=False)
        except ValueError as exc:
            self.error(f"For: {exc}")
            return
        self.dismiss((delta, self.value("snooze-why")))


class MuteForm(_Form):
    """Mute the item's author or a keyword, on its platform only or everywhere, for a while
    or until unmuted: a dict for :meth:`watchtower.core.desk.Desk.mute`."""

    DEFAULT_CSS = _CSS.format(name="MuteForm")
    AUTO_FOCUS = "#mute-what"

    def __init__(self, author: str, platform: str) -> None:
        super().__init__(Text("Mute: hidden from the panes and from alerts, still archived and found by search"))
        self.author = one_line(author, limit=200)
        self.platform = one_line(platform, limit=40)

    def fields(self) -> ComposeResult:
        yield self.row("Mute", self.choice("mute-kind", [("the author", "author"), ("a keyword", "keyword")], "author"))
        yield self.row("What", self.field("mute-what", value=self.author, placeholder="a handle"))
        yield self.row("Where", self.choice("mute-platform", [("every platform", False),
                                                              (f"only on {self.platform}", True)], False))
        yield self.row("For", self.field("mute-for", placeholder="empty: until unmuted; or 30m, 2h, 1d"))
        yield self.row("Why", self.field("mute-why", placeholder="optional"))

    @property
    def keyword(self) -> bool:
        return self.query_one("#mute-kind", Select).value == "keyword"

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id != "mute-kind":
            return
        what = self.query_one("#mute-what", Input)
        if self.keyword:
            if what.value == self.author:
                what.value = ""
            what.placeholder = "a word or phrase (whole words, any case)"
        else:
            what.value = what.value or self.author
            what.placeholder = "a handle"

    def submit(self) -> None:
        what = self.value("mute-what")
        if not what.strip("@ "):
            self.error("What: expected a word or phrase" if self.keyword else "What: expected a handle")
            return
        try:
            delta = _duration(self.value("mute-for"), empty_ok=True)
        except ValueError as exc:
            self.error(f"For: {exc}")
            return
        self.dismiss({
            "author": None if self.keyword else what,
            "keyword": what if self.keyword else None,
            "platform": self.platform if self.query_one("#mute-platform", Select).value is True else None,
            "duration": delta,
            "reason": self.value("mute-why"),
        })


class OverrideForm(_Form):
    """A rota swap: who, from, to, why.  ``check(who, start, end, reason)`` returns the
    error in words (the desk's checks) or ``None``; the form then closes with the tuple."""

    DEFAULT_CSS = _CSS.format(name="OverrideForm")
    AUTO_FOCUS = "#ov-who"

    def __init__(self, *, now: datetime, tz: tzinfo,
                 check: Callable[[str, datetime, datetime, str], str | None] | None = None) -> None:
        super().__init__(Text("Rota override: who is on call instead, from when to when"))
        self.now, self.tz, self.check = now, tz, check

    def fields(self) -> ComposeResult:
        yield self.row("Who", self.field("ov-who", placeholder="a name from the rota"))
        yield self.row("From", self.field("ov-from", value="now", placeholder="now, +2h, 22:00, tomorrow 08:00, sat 10:00"))
        yield self.row("To", self.field("ov-to", placeholder="18:00, +4h, mon 08:00 (06:00 after 22:00: next day)"))
        yield self.row("Why", self.field("ov-why", placeholder="optional"))

    def submit(self) -> None:
        who = one_line(self.value("ov-who"), limit=64)
        if not who:
            self.error("Who: expected a name")
            return
        try:
            start = parse_moment(self.value("ov-from"), now=self.now, tz=self.tz)
        except ValueError as exc:
            self.error(f"From: {exc}")
            return
        try:
            end = parse_moment(self.value("ov-to"), now=self.now, tz=self.tz, after=start)
        except ValueError as exc:
            self.error(f"To: {exc}")
            return
        reason = self.value("ov-why")
        problem = self.check(who, start, end, reason) if self.check is not None else None
        if problem:
            self.error(problem)
            return
        self.dismiss((who, start, end, reason))
