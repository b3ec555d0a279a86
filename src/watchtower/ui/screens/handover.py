"""The shift handover: a drafted summary, a note, hand over; the next person acknowledges.

The summary comes from the core (``watchtower.core.report.handover``) and is shown as the same
Markdown the export produces, rendered as plain text (never as markup, never as a
Markdown widget with live links: operators paste feed text into notes).  It reads what
``watchtower handover show`` reads: the whole log and the archive's items (not only the
ones held in memory), in a worker thread, so an old critical item that was pruned from
the panes is still listed as open, with the open-work section (time to first response,
what still needs a human, alerts not acknowledged, watched, muted, snoozed, overrides).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Markdown, Static

from ...core.text.safetext import clean, one_line
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
        #: Summaries drawn (tests wait on the count, never on a time).
        self.drawn = 0

    def compose(self) -> ComposeResult:
        yield Static(Text("Shift handover: what happened, what was answered, what is pending"), id="ho-title", markup=False)
        with VerticalScroll(id="ho-body"):
            # The export is Markdown with every piece of outside text escaped or fenced
            # (core.report.handover); links are never opened from here.
            yield Markdown("", id="ho-summary", open_links=False)
        yield KeysFooter()

    def on_mount(self) -> None:
        self.refresh_summary()
        self.query_one("#ho-body").focus()

    def log_changed(self) -> None:
        self.refresh_summary()

    def items_changed(self) -> None:
        pass

    def summary(self, entries: list[Any] | None = None, items: list[Any] | None = None):
        """The summary of ``entries`` (default: the log the app holds) and ``items``
        (default: the items held in memory)."""
        from ...core.record.decisions import crisis_state
        from ...core.report.handover import summarise

        app: Any = self.app
        entries = list(app.log_entries) if entries is None else entries
        return summarise(
            entries,
            list(app.items.values()) if items is None else items,
            now=app.clock(),
            tz=app.tz,
            crisis=crisis_state(entries),
        )

    def refresh_summary(self) -> None:
        app: Any = self.app
        self._build(list(app.items.values()), list(app.log_entries))

    @work(thread=True, exclusive=True, group="handover-summary", exit_on_error=False)
    def _build(self, held: list[Any], entries: list[Any]) -> None:
        """Blocking (the whole log, up to 100,000 archived items): the summary's Markdown."""
        from ...core.report.handover import to_markdown

        app: Any = self.app
        desk = app.desk
        try:
            if desk.log is not None:
                entries = desk.log.entries()
            items = held
            if desk.archive is not None:
                archived = desk.archive.recent(limit=100_000)
                have = {i.id for i in archived}
                items = archived + [i for i in held if i.id not in have]  # held but not archived (no data dir)
            markdown = to_markdown(self.summary(entries, items))
        except Exception as exc:  # noqa: BLE001
            markdown = f"Could not build the summary: {one_line(exc, limit=300)}"
        app.call_from_thread(self._show, markdown)

    def _show(self, markdown: str) -> None:
        self.markdown = markdown
        self.query_one("#ho-summary", Markdown).update(clean(self.markdown, limit=200_000))
        self.drawn += 1

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
        from ...core.record.decisions import last_handover

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
