"""A few fixed lines of Rich ``Text`` that repaint only the cells that changed.

The header, pane titles and health lines change a few characters at a time (a clock
turning from 14:31 to 14:32, a count going up).  A ``Static`` repaints its whole region
for that, which over SSH is the whole line with its colours, every minute, per line.
This widget renders each line itself (Textual's public Line API: ``render_line``) and,
when a line changes, marks as dirty only the span of cells from the first to the last
that differ, so the terminal gets the changed characters, not the line.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

__all__ = ["TextLines"]


class TextLines(Widget):
    """``count`` one-line rows of ``Text``, set with :meth:`set_line`; never wrapped,
    cut with an ellipsis at the widget's width."""

    DEFAULT_CSS = """
    TextLines {
        height: auto;
        width: 1fr;
    }
    """

    def __init__(self, count: int = 1, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.count = count
        self._texts: list[Text] = [Text("") for _ in range(count)]
        #: Per line: (width, the text) last drawn; its cells are worked out only when the
        #: line changes (to find which differ), never on every draw.
        self._drawn: list[tuple[int, Text] | None] = [None] * count

    def get_content_height(self, container, viewport, width: int) -> int:
        return self.count

    @property
    def plain(self) -> str:
        return "\n".join(t.plain for t in self._texts)

    def line(self, i: int) -> Text:
        return self._texts[i]

    def set_line(self, i: int, text: Text) -> bool:
        """Show ``text`` on line ``i``; repaint only the cells that differ.  Whether it changed."""
        old = self._texts[i]
        if old.plain == text.plain and old.spans == text.spans and old.style == text.style:
            return False
        self._texts[i] = text
        drawn = self._drawn[i]
        width = self.size.width
        if drawn is None or drawn[0] != width or not width:
            self.refresh(Region(0, i, max(width, 1), 1))
            return True
        new = self._cells(text, width)
        before = self._cells(drawn[1], width)
        first = next((x for x in range(width) if new[x] != before[x]), None)
        if first is None:
            return True
        last = next(x for x in range(width - 1, -1, -1) if new[x] != before[x])
        self.refresh(Region(first, i, last - first + 1, 1))
        return True

    def set_lines(self, texts: list[Text]) -> bool:
        changed = False
        for i, t in enumerate(texts[: self.count]):
            changed = self.set_line(i, t) or changed
        return changed

    def _strip(self, text: Text, width: int) -> Strip:
        t = text.copy()
        t.no_wrap = True
        t.overflow = "ellipsis"
        t.end = ""
        t.truncate(width, overflow="ellipsis", pad=True)
        segments = list(t.render(self.app.console))
        return Strip(segments, width).crop_extend(0, width, None)

    def _cells(self, text: Text, width: int) -> list[tuple[str, Style | None]]:
        cells: list[tuple[str, Style | None]] = []
        for seg in self._strip(text, width):
            for ch in seg.text:
                cells.append((ch, seg.style))
                if cell_len(ch) == 2:
                    cells.append(("", seg.style))
        cells.extend([(" ", None)] * (width - len(cells)))
        return cells[:width]

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y >= self.count or width <= 0:
            return Strip.blank(width, self.rich_style)
        text = self._texts[y]
        strip = self._strip(text, width)
        self._drawn[y] = (width, text)
        base = self.rich_style
        return strip.apply_style(base) if base else strip

    def on_resize(self) -> None:
        self._drawn = [None] * self.count
