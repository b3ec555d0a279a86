"""Every key, with what it does; built from the live bindings so it never goes stale."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from ..widgets.keys import KeysFooter

INTRO = """watchtower watches every platform where we are mentioned.
Severity is a symbol and a word: · INFO  ▽ LOW  ! MED  !! HIGH  !!! CRIT.
Coverage: ◇ WKND (weekend), ☼ HOL (public holiday), ⚠ UNCOVERED (nobody was on call).
The Priority pane shows what needs a human, worst first, then uncovered, then oldest.
Enter on an item opens the response panel: the playbook for that kind of incident,
a reply template (en/nl) to edit and copy, and the reply-once guard.
Each pane ends with a line that says how many items it holds; o shows more of them,
then older ones from the archive.
"""


class HelpScreen(Screen[None]):
    DEFAULT_CSS = """
    HelpScreen VerticalScroll { padding: 0 1; }
    """
    BINDINGS = [Binding("escape,question_mark,q", "app.pop_screen", "Back", id="help_back")]

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(self._text(), markup=False)
        yield KeysFooter()

    def _text(self) -> Text:
        from ..widgets.pane import ItemList
        from .crisis import CrisisScreen
        from .followups import FollowupsScreen
        from .handover import HandoverScreen
        from .response import ResponseScreen

        t = Text(INTRO)
        sections = [
            ("Main screen", type(self.app).BINDINGS),
            ("In a pane", ItemList.BINDINGS),
            ("Response panel", ResponseScreen.BINDINGS),
            ("Handover", HandoverScreen.BINDINGS),
            ("Follow-ups", FollowupsScreen.BINDINGS),
            ("Crisis", CrisisScreen.BINDINGS),
        ]
        for title, bindings in sections:
            t.append(f"\n{title}\n", style="bold underline")
            for b in bindings:
                if not isinstance(b, Binding) or b.action.startswith("goto_tab"):
                    continue
                keys = self.app.get_key_display(b) if hasattr(self.app, "get_key_display") else b.key
                t.append(f"  {keys:<12}", style="bold")
                t.append(f" {b.description or b.action}")
                if b.tooltip:
                    t.append(f" — {b.tooltip}", style="dim")
                t.append("\n")
        t.append("\n1-9 show pane 1-9 (in the tabs layout).  ctrl+p opens the command palette: every action "
                 "by name.  ctrl+q quits.\n", style="dim")
        return t
