"""The header: who we are, what time it is there, who is on call, crisis, the worst item.

It reads at a glance from across the desk: our own accounts always in the same colour
and name (the seed's wrong-account disaster), the last handover, and on its last line the
worst open item with its age, so it is visible at 80x24 without scrolling.  Each line is
clipped, never wrapped.  What must not be missed comes first on its line, so a narrow
terminal cuts the accounts, not the news: crisis mode, then an unacknowledged handover.

The Desk says what is true (:class:`watchtower.core.desk.Header`); this only draws it,
and repaints only the cells that changed (the clock: four characters a minute).
"""

from __future__ import annotations

from rich.text import Text

from ...core.desk import Header
from ...core.text.safetext import one_line
from .. import render
from .lines import TextLines

__all__ = ["StatusHeader", "header_lines"]


class StatusHeader(TextLines):
    """Three lines; the app hands it the desk's :class:`Header` (attributes down)."""

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
        super().__init__(3, id="status-header")

    def show(self, header: Header, tz: object) -> bool:
        self.set_class(header.crisis is not None, "-crisis")
        return self.set_lines(header_lines(header, tz, self.size.width or 80))


def header_lines(h: Header, tz: object, width: int = 80) -> list[Text]:
    """The three header lines for ``h`` (``width``: what fits decides the wording)."""
    now = h.now
    one = Text(no_wrap=True, end="")
    one.append("◉ ", style="bold")
    one.append(one_line(h.org, limit=40), style="bold")
    one.append(f" │ {render.local_time(now, tz, '%a %H:%M')} {h.timezone}")
    if h.rota_known:
        one.append(" │ ")
        if h.on_call:
            one.append("on call: ")
            one.append(one_line(h.on_call, limit=24), style="bold")
            if h.on_call_override:  # a swap from the log (R shows the rota)
                until = f", until {h.on_call_until.strftime('%H:%M')}" if h.on_call_until is not None else ""
                one.append(f" (override{until})")
            elif h.on_call_until is not None:
                one.append(f" until {h.on_call_until.strftime('%H:%M')}")
            if h.backup and width >= 120:
                one.append(f" · backup {one_line(h.backup, limit=24)}")
        else:
            one.append("NOBODY ON CALL", style="bold reverse magenta")
            if h.next_shift is not None:
                one.append(f" (next {h.next_shift.strftime('%a %H:%M')})")
    if h.demo:
        one.append(" │ DEMO", style="bold reverse")

    two = Text(no_wrap=True, end="")
    ho = h.handover
    unacked = ho is not None and ho.acked_by is None
    if h.crisis is not None:
        c = h.crisis
        two.append("⚠ CRISIS MODE ", style="bold reverse")
        # Narrow, with a handover waiting too: the crisis in short, so both fit.
        two.append(one_line(c.description, limit=24 if unacked and width < 120 else 60))
        if c.since is not None and not (unacked and width < 120):
            two.append(f" (since {render.local_time(c.since, tz, '%H:%M')}, {one_line(c.by, limit=20)})")
        two.append(" │ ")
    if unacked:
        # Before the accounts, so a narrow terminal cuts them, not this.
        two.append("✗ HANDOVER NOT ACKNOWLEDGED" if width >= 100 or h.crisis is None else "✗ HANDOVER NOT ACKED",
                   style="bold reverse yellow")
        two.append(f" {render.local_time(ho.at, tz, '%a %H:%M')} by {one_line(ho.by, limit=16)} (h)")
        two.append(" │ ")
    for name, colour in h.accounts:
        two.append("● ", style=f"bold {colour}")
        two.append(one_line(name, limit=30), style=f"bold {colour}")
        two.append(" ")
    if ho is None:
        two.append("│ no handover yet", style="dim")
    elif ho.acked_by is not None:
        two.append(f"│ handover {render.local_time(ho.at, tz, '%a %H:%M')} by {one_line(ho.by, limit=20)} ")
        two.append(f"✓ ack {one_line(ho.acked_by, limit=20)}", style="green")

    three = Text(no_wrap=True, end="")
    worst = h.worst
    if worst is not None:
        three.append("WORST ", style="bold")
        three.append_text(render.severity_badge(worst.severity))
        three.append(f" {'?' if worst.date_unknown else render.age(worst.published, now)} ")
        if not worst.coverage.covered:
            three.append("⚠ UNCOVERED ", style="bold magenta")
        three.append(one_line(worst.platform, limit=16), style="bold")
        three.append(" ")
        three.append(one_line(worst.author, limit=24))
        three.append(": ")
        three.append(one_line(worst.headline, limit=200))
    else:
        three.append("✓ Nothing needs a human right now.", style="green")
    return [one, two, three]
