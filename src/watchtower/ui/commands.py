"""Every watchtower action in the command palette (ctrl+p), found by name.

Built from the bindings of the main screen and of the screen on top, so the palette and
the keys can never disagree: whatever a key does, its name does too.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

__all__ = ["WatchtowerCommands", "palette_entries"]


def palette_entries(app: Any, screen: Any) -> Iterator[tuple[str, str, str]]:
    """(name, help, action) for every action of the app and of ``screen`` (the one the
    palette was opened on)."""
    seen: set[str] = set()
    sources: list[tuple[str, list[Any]]] = [("app", list(type(app).BINDINGS))]
    if screen is not None and type(screen).BINDINGS:
        sources.insert(0, ("screen", list(type(screen).BINDINGS)))
    for namespace, bindings in sources:
        for b in bindings:
            if not isinstance(b, Binding) or not b.description or b.action in seen:
                continue
            if b.action.startswith("goto_tab"):
                continue  # nine "Pane n" entries say nothing the palette's search needs
            seen.add(b.action)
            action = b.action if "." in b.action else f"{namespace}.{b.action}"
            key = app.get_key_display(b)
            yield f"{b.description} ({key})", b.tooltip or b.description, action


class WatchtowerCommands(Provider):
    async def discover(self) -> Hits:
        for name, help_text, action in palette_entries(self.app, self.screen):
            yield DiscoveryHit(name, partial(self._run, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, action in palette_entries(self.app, self.screen):
            score = max(matcher.match(name), matcher.match(help_text) * 0.8)
            if score > 0:
                yield Hit(score, matcher.highlight(name), partial(self._run, action), help=help_text)

    async def _run(self, action: str) -> None:
        namespace, _, name = action.partition(".")
        target = self.app if namespace == "app" else self.screen
        await self.app.run_action(name, target)
