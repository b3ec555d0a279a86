"""What the desk's answers look like: pane titles, health lines, tab labels, end notes.

Pure functions from the desk's data (:class:`~watchtower.core.desk.Tally`,
:class:`~watchtower.core.desk.SourceHealth`) to Rich ``Text``; no widget, no state.
"""

from __future__ import annotations

from rich.text import Text

from ..core.desk import Filters, SourceHealth, Tally
from ..core.models import Severity
from ..core.text.safetext import one_line
from . import render

__all__ = ["end_note", "pane_title", "platform_health", "priority_health", "priority_title", "tab_label"]


def _filters(t: Text, f: Filters) -> None:
    if f.min_severity > Severity.INFO:
        t.append(f"  [≥{f.min_severity.short}]", style="italic")
    if f.uncovered_only:
        t.append("  [uncovered only]", style="italic")


def priority_title(tally: Tally, spikes: list[str], f: Filters) -> Text:
    t = Text("Priority ", style="bold", no_wrap=True, end="")
    t.append(f"{tally.total} need a human", style="")
    if spikes:
        t.append("  ↑ SPIKE: " + ", ".join(one_line(p, limit=20) for p in spikes), style="bold reverse red")
    _filters(t, f)
    return t


def pane_title(platform: str, tally: Tally, spark: str, spike: bool, f: Filters) -> Text:
    t = Text(one_line(platform, limit=30), style="bold", no_wrap=True, end="")
    t.append(f"  {tally.total} items")
    if tally.new:
        t.append(f" · {tally.new} new")
    if spark:
        t.append(f"  {spark}", style="cyan")
    if spike:
        t.append("  ↑ SPIKE", style="bold reverse red")
    _filters(t, f)
    return t


def priority_health(tally: Tally) -> Text:
    t = Text(no_wrap=True, end="")
    counts = tally.by_severity
    for sev in sorted(Severity, reverse=True):
        if sev == Severity.INFO:
            continue
        t.append(f"{sev.symbol} {sev.short} {counts[sev]}", style=render.SEVERITY_STYLE[sev] if counts[sev] else "dim")
        t.append("  ")
    if tally.uncovered_all:
        t.append(f"⚠ {tally.uncovered_all} arrived uncovered", style="bold magenta")
    return t


def source_health(h: SourceHealth, tz: object) -> Text:
    """One source.  It changes when something happens (an error, a warning, new items,
    staleness), not at every quiet poll: an idle screen sends nothing to the terminal."""
    t = Text(no_wrap=True, end="")
    t.append(f"{one_line(h.name, limit=24)} ")
    if h.error:
        t.append("✗ ", style="bold red")
        t.append(one_line(h.error, limit=120), style="red")
    elif h.polled:
        t.append("✓ ok", style="green")
        if h.last_new_at is not None:
            t.append(f" · {h.last_new} new at {render.local_time(h.last_new_at, tz, '%H:%M')}")
        else:
            t.append(" · nothing new yet", style="dim")
        if h.warning:
            t.append(" ⚠ ", style="bold yellow")
            t.append(one_line(h.warning, limit=120), style="yellow")
    else:
        t.append("… waiting for first poll", style="dim")
    if h.stale:
        t.append(" ⚠ STALE", style="bold reverse yellow")
    if h.rate_left is not None and h.rate_left < 20:
        t.append(f" · rate {h.rate_left} left", style="dim")
    return t


def platform_health(healths: list[SourceHealth], tz: object) -> Text:
    if not healths:
        return Text("… starting", style="dim", no_wrap=True, end="")
    out = Text(no_wrap=True, end="")
    for i, h in enumerate(healths):
        if i:
            out.append(" │ ")
        out.append_text(source_health(h, tz))
    return out


def tab_label(name: str, tally: Tally, spike: bool) -> Text:
    """A tab's label, always the same width for a name (counts are padded), so a count
    going up never moves the tabs or their underline (and costs no layout pass)."""
    t = Text(one_line(name, limit=20))
    worst = tally.worst_unhandled
    new = tally.new
    t.append(f" {new if new < 1000 else '999+':>4}" if new else "     ")
    if worst is not None and worst >= Severity.MEDIUM:
        t.append(f" {worst.symbol:<3}", style=render.SEVERITY_STYLE[worst])
    else:
        t.append("    ")
    t.append(" ↑" if spike else "  ", style="bold red")
    return t


def end_note(shown: int, matching: int, held: int, *, filtered: bool, archive: bool, exhausted: bool) -> Text:
    """The last line of a list: how many it holds, and how to reach the rest."""
    t = Text(no_wrap=True, end="")
    if shown < matching:
        t.append(f"— {shown:,} of {matching:,} shown · o: show {min(matching - shown, 1000):,} more")
    elif filtered and matching < held:
        t.append(f"— {matching:,} of {held:,} held match the filter (s, u change it)")
    else:
        t.append(f"— all {held:,} held" if held else "— nothing here yet")
    if shown >= matching and archive:
        t.append(" · nothing older in the archive" if exhausted else " · o: load older ones from the archive")
    return t
