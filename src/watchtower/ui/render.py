"""Turning core objects into Rich ``Text`` that is safe to hand to any widget.

Every string that came from outside passes :func:`watchtower.core.text.safetext.clean` and is
wrapped in ``Text`` here, never parsed as markup (a plain ``str``
given to ``DataTable.add_row``, ``Static`` or a tab label is parsed, and ``[@click=...]``
runs actions).  Widgets get the objects this module returns, nothing else.

Severity is always a symbol plus a word (``!!! CRIT``), coverage always a symbol plus a
word (``⚠ UNCOVERED``), so nothing depends on colour (NO_COLOR, 16 colours, colour
blindness).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rich.text import Text

from ..core.models import Item, Severity
from ..core.text.safetext import clean, clip, one_line, url_host

__all__ = ["clip"]  # re-exported for widgets

SEVERITY_STYLE = {
    Severity.INFO: "dim",
    Severity.LOW: "",
    Severity.MEDIUM: "bold yellow",
    Severity.HIGH: "bold red",
    Severity.CRITICAL: "bold reverse red",
}

#: The style of each row-state tone (:mod:`watchtower.core.record.policy`).
TONE_STYLE = {
    "new": "bold",
    "seen": "",
    "due": "bold reverse yellow",
    "done": "green",
    "muted": "dim",
    "alarm": "bold red",
    "claimed": "bold cyan",
    "pending": "yellow",
}

SPARK = "▁▂▃▄▅▆▇█"


def safe(value: object, style: str = "", *, limit: int | None = 4000, oneline: bool = True) -> Text:
    """Untrusted text as a literal, clean ``Text``."""
    s = one_line(value, limit=limit) if oneline else clean(value, limit=limit)
    return Text(s, style=style, no_wrap=oneline, end="")


def severity_badge(sev: Severity) -> Text:
    return Text(sev.badge, style=SEVERITY_STYLE[sev], no_wrap=True, end="")


def coverage_badge(item: Item) -> Text:
    badge = item.coverage.badge
    style = "bold magenta" if not item.coverage.covered else "cyan"
    return Text(badge, style=style, no_wrap=True, end="")


def age(published: datetime, now: datetime) -> str:
    """Compact age: ``now``, ``42s``, ``7m``, ``3h``, ``2d``."""
    secs = (now - published).total_seconds()
    secs = max(secs, 0)
    if secs < 45:
        return "now"
    if secs < 3600:
        return f"{int(secs // 60) or 1}m"
    if secs < 86400 * 2:
        return f"{int(secs // 3600)}h"
    days = int(secs // 86400)
    return f"{days}d" if days < 100 else "99d+"  # the Age column is 4 cells


def headline_cell(item: Item) -> Text:
    """The Text column of a row: the headline (a content warning, never the text behind
    it), marked when the author edited the post or it is part of a spike."""
    t = Text(no_wrap=True, end="")
    if item.spike:
        t.append("↑spike ", style="bold red")
    if item.edited:
        t.append("✎ ", style="italic")
    t.append_text(safe(item.headline, limit=300))
    return t


def human_count(n: int | None) -> str:
    if n is None:
        return "?"
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 10_000:
        return f"{n // 1000}k"
    if n >= 1000:
        return f"{n / 1000:.1f}k"
    return str(n)


def author_cell(item: Item, width: int = 18) -> Text:
    reach = f" {human_count(item.author_followers)}" if item.author_followers is not None else ""
    star = 1 if item.ambassador else 0
    name = clip(one_line(item.author, limit=200), max(4, width - len(reach) - star))
    t = Text(name, no_wrap=True, end="")
    if item.ambassador:
        t = Text("★", style="green", end="") + t
    if item.own_account:
        t.stylize("bold")
    t.append(reach, style="dim")
    return t


def sparkline(values: list[int]) -> str:
    if not values:
        return ""
    top = max(values)
    if top <= 0:
        return SPARK[0] * len(values)
    return "".join(SPARK[min(len(SPARK) - 1, int(v * (len(SPARK) - 1) / top))] for v in values)


def link_line(url: str | None) -> Text:
    """A link is shown with its full host first and never made clickable."""
    if not url:
        return Text("(no link)", style="dim")
    host = url_host(url)
    t = Text("host ", style="dim")
    t.append(host, style="bold")
    t.append("  ")
    t.append(one_line(url, limit=300), style="underline")
    return t


def local_time(dt: datetime, tz, fmt: str = "%a %H:%M") -> str:
    return dt.astimezone(tz).strftime(fmt)


def utc(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def duration(td: timedelta) -> str:
    secs = int(td.total_seconds())
    if secs < 60:
        return f"{max(secs, 0)} s"
    if secs < 3600:
        return f"{secs // 60} min"
    return f"{secs // 3600} h {secs % 3600 // 60:02d} min"
