"""The shift handover: a drafted summary, a note, hand over; the next person acknowledges.

The summary comes from the core (``watchtower.core.handover``) and is shown as the same
Markdown the export produces, rendered as plain text (never as markup, never as a
Markdown widget with live links: operators paste feed text into notes).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Markdown, Static

from ...core.safetext import clean, one_line
from ..widgets.keys import KeysFooter
from .modals import PromptScreen


class HandoverScreen(Screen[None]):
    """``H`` hands over with a note, ``a`` acknowledges, ``y`` copies the Markdown."""

    DEFAULT_CSS = """
    HandoverScreen #ho-title { height: 1; background: $panel; text-style: bold; }
    HandoverScreen #ho-body { height: 1fr; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="handover_back"),
        Binding("H", "hand_over", "Hand over", id="hand_over", tooltip="Write a note and hand over the shift"),
        Binding("a", "acknowledge", "Acknowledge", id="acknowledge", tooltip="Acknowledge the last handover"),
        Binding("y", "copy_markdown", "Copy MD", id="copy_markdown", tooltip="Copy the summary as Markdown"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.markdown = ""

    def compose(self) -> ComposeResult:
        yield Static(Text("Shift handover: what happened, what was answered, what is pending"), id="ho-title", markup=False)
        with VerticalScroll(id="ho-body"):
            # The export is Markdown with every piece of outside text escaped or fenced
            # (core.handover); links are never opened from here.
            yield Markdown("", id="ho-summary", open_links=False)
        yield KeysFooter()

    def on_mount(self) -> None:
        self.refresh_summary()
        self.query_one("#ho-body").focus()

    def log_changed(self) -> None:
        self.refresh_summary()

    def items_changed(self) -> None:
        pass

    def summary(self):
        from ...core.decisions import crisis_state
        from ...core.handover import summarise

        app = self.app
        entries = app.log_entries
        return summarise(
            entries,
            list(app.items.values()),
            now=app.clock(),
            tz=app.tz,
            crisis=crisis_state(entries),
        )

    def refresh_summary(self) -> None:
        from ...core.handover import to_markdown

        try:
            self.markdown = to_markdown(self.summary())
        except Exception as exc:  # noqa: BLE001
            self.markdown = f"Could not build the summary: {one_line(exc, limit=300)}"
        self.query_one("#ho-summary", Markdown).update(clean(self.markdown, limit=200_000))

    def action_hand_over(self) -> None:
        def go(note: str | None) -> None:
            if note is None:
                return
            self.app.record("handover", note, data={"summary": self.markdown[:20000]})
            self.app.notify("Handed over. The next person acknowledges with 'a' here.", markup=False, timeout=5)

        self.app.push_screen(
            PromptScreen("Hand over: your note for the next person (what's pending, what to watch)"), go
        )

    def action_acknowledge(self) -> None:
        from ...core.decisions import last_handover

        ho, ack = last_handover(self.app.log_entries)
        if ho is None:
            self.app.notify("There is no handover to acknowledge yet.", markup=False, severity="warning")
            return
        if ack is not None:
            self.app.notify(f"Already acknowledged by {one_line(ack.operator, limit=30)}.", markup=False)
            return
        self.app.record("acknowledged", f"handover from {ho.operator}", data={"handover_id": ho.id})
        self.app.notify("Handover acknowledged.", markup=False, timeout=4)

    def action_copy_markdown(self) -> None:
        self.app.copy_to_clipboard(self.markdown)
        self.app.notify("Summary copied as Markdown.", markup=False, timeout=3)
