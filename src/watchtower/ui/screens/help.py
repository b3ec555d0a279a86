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
A row may say, before its text: [watched] (w: the author is watched, never below medium),
[snoozed until 14:30] (z: no alert, no escalation), [muted author @x] (!: shown only with M).
Alerts go to who is on call (R: the rota, with swaps); nobody acknowledging in time
escalates to the backup, then the fallback. A: the alerts waiting; c on an item = ack.
/ searches everything held and the archive: words, author:@x platform:X severity:high
state:open since:2d until:2026-11-20.
"""


class HelpScreen(Screen[None]):
    DEFAULT_CSS = """
    HelpScreen VerticalScroll { padding: 0 1; }
    """
    BINDINGS = [Binding("escape,question_mark,q", "app.pop_screen", "Back", id="help_back")]

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(self.help_text(), markup=False)
        yield KeysFooter()

    def help_text(self) -> Text:
        """Every key of every screen, with what it does (from the live bindings)."""
        from ..widgets.pane import ItemList
        from .crisis import CrisisScreen
        from .followups import FollowupsScreen
        from .handover import HandoverScreen
        from .response import ResponseScreen
        from .rota import RotaScreen
        from .search import SearchScreen
        from .waiting import AlertsWaitingScreen
        from .watchlist import WatchlistScreen

        t = Text(INTRO)
        sections = [
            ("Main screen (w ! z also act on the item of the response panel, a search hit or an alert)",
             type(self.app).BINDINGS),
            ("In a pane", ItemList.BINDINGS),
            ("Response panel", ResponseScreen.BINDINGS),
            ("Search (/)", SearchScreen.BINDINGS),
            ("Alerts waiting (A)", AlertsWaitingScreen.BINDINGS),
            ("Rota (R)", RotaScreen.BINDINGS),
            ("Watch-list (W)", WatchlistScreen.BINDINGS),
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
