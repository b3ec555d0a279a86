"""The header: who we are, what time it is there, who is on call, crisis, the worst item.

It reads at a glance from across the desk: our own accounts always in the same colour
and name (the seed's wrong-account disaster), severity counts as symbols and numbers,
and on its last line the worst open item with its age, so it is visible at 80x24
without scrolling.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class StatusHeader(Static):
    """Three lines of status; the app sets its content (attributes down)."""

    DEFAULT_CSS = """
    StatusHeader {
        height: 3;
        background: $panel;
        color: $foreground;
        padding: 0 1;
    }
    StatusHeader.-crisis {
        background: $error;
        color: $text;
        text-style: bold;
    }
    """

    def __init__(self) -> None:
        super().__init__("", markup=False, id="status-header")
        self._plain = ""

    def show(self, text: Text, *, crisis: bool) -> None:
        self.set_class(crisis, "-crisis")
        if text.plain != self._plain:
            self._plain = text.plain
            self.update(text)
