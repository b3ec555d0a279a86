"""The footer: the keys of the screen it is on, one line, clickable, ``?`` Help last.

Only the bindings with ``show=True`` are here (on the main screen: enter, c, h, /, A and
?, which fit 80 columns; on a screen over it, that screen's keys and ?); ``?`` and the
command palette (ctrl+p) list every key.

Textual's ``Footer`` rebuilds one widget per key whenever the bindings change (every
focus change, every screen pushed or popped), and each of those widgets stays referenced
by the footer's data-binding watchers for as long as the footer lives: on the main screen
that is the whole session (issue 16.6: RSS grew ~0.5 MB per panel open).  This footer is
one line of text drawn from ``Screen.active_bindings`` (public), so nothing accumulates,
and it repaints only the cells that changed.
"""

from __future__ import annotations

from rich.text import Text
from textual import events

from .lines import TextLines

__all__ = ["HELP_ACTIONS", "KeysFooter"]

HELP_ACTIONS = ("help", "app.help")


class KeysFooter(TextLines):
    DEFAULT_CSS = """
    KeysFooter {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
    }
    """

    def __init__(self) -> None:
        super().__init__(1, classes="keys-footer")
        #: (start, end, action, namespace) of each key shown, for clicks.
        self._spans: list[tuple[int, int, str, object]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, *_: object) -> None:
        t = Text(no_wrap=True, end="")
        spans: list[tuple[int, int, str, object]] = []
        seen: set[str] = set()
        shown = []
        stack = self.app.screen_stack
        # On a screen over the panes, its own keys and Help: the app's keys still work
        # there, and ? lists them, but they would crowd out what this screen is for.
        over = bool(stack) and self.screen is not stack[0]
        for active in self.screen.active_bindings.values():
            b = active.binding
            if not b.show or b.action in seen:
                continue
            if over and active.node is self.app and b.action not in HELP_ACTIONS:
                continue
            seen.add(b.action)
            shown.append(active)
        # Help is always the last key: where to find every other one.
        shown.sort(key=lambda a: a.binding.action in HELP_ACTIONS)
        for active in shown:
            b = active.binding
            start = t.cell_len
            t.append(f" {self.app.get_key_display(b)}", style="bold" if active.enabled else "dim")
            t.append(f" {b.description} ", style="" if active.enabled else "dim")
            spans.append((start, t.cell_len, b.action, active.node))
        t.append(" ^p palette", style="dim")
        self._spans = spans
        self.set_line(0, t)

    @property
    def keys(self) -> list[str]:
        """The descriptions of the keys shown."""
        return [s for s in self.plain.split("  ") if s]

    async def on_click(self, event: events.Click) -> None:
        for start, end, action, node in self._spans:
            if start <= event.x < end:
                await self.app.run_action(action, node)  # type: ignore[arg-type]
                return
