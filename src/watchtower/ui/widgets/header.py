"""The header: who we are, what time it is there, who is on call, crisis, the worst item.

It reads at a glance from across the desk: our own accounts always in the same colour
and name (the seed's wrong-account disaster), the last handover, and on its last line the
worst open item with its age, so it is visible at 80x24 without scrolling.  Each line is
clipped, never wrapped, so a long name cannot push the worst item off the screen.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static


class StatusHeader(Vertical):
    """Three one-line Statics; the app sets their content (attributes down)."""

    DEFAULT_CSS = """
    StatusHeader {
        height: 3;
        background: $panel;
        color: $foreground;
        padding: 0 1;
    }
    StatusHeader > Static {
        height: 1;
        width: 1fr;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    StatusHeader.-crisis {
        background: $error;
        color: $text;
        text-style: bold;
    }
    """

    def __init__(self) -> None:
        super().__init__(id="status-header")
        self._lines = [Static("", markup=False, classes=f"header-line-{i}") for i in range(3)]
        self._plain = ["", "", ""]

    def compose(self) -> ComposeResult:
        yield from self._lines

    def show(self, text: Text, *, crisis: bool) -> None:
        self.set_class(crisis, "-crisis")
        for i, line in enumerate(text.split("\n")[:3]):
            if line.plain != self._plain[i]:
                self._plain[i] = line.plain
                # One line, fixed height and width: no layout pass (a layout repaints
                # every scrollbar on the screen, kilobytes for a clock that ticked).
                self._lines[i].update(line, layout=False)

    @property
    def plain(self) -> str:
        return "\n".join(self._plain)
