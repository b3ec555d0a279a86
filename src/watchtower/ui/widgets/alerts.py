"""Alerts that wait for the operator, on the main screen, above the footer.

An alert that fades while nobody is at the desk is an alert missed, so an alert stays
until the operator has pressed a key or used the mouse since it came, then leaves
``LEAVE_SECONDS`` later.  At most ``HELD`` wait (a newer alert replaces the oldest; the
Priority pane holds every item anyway).  It is a line of the main screen, not a toast
floating over whatever is open: it never covers the reply being written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from time import monotonic
from typing import Any

from rich.text import Text

from ...core.models import Severity
from ...core.text.safetext import one_line
from .. import render
from .lines import TextLines

__all__ = ["HELD", "LEAVE_SECONDS", "AlertShelf"]

HELD = 3
LEAVE_SECONDS = 8.0


@dataclass(slots=True)
class Held:
    alert: Any
    at: datetime
    leave_at: float | None = None  # monotonic; None: until the operator is back


class AlertShelf(TextLines):
    DEFAULT_CSS = """
    AlertShelf {
        layer: alerts;
        dock: bottom;
        margin-bottom: 1;
        height: auto;
        background: $error 25%;
        display: none;
    }
    """

    def __init__(self) -> None:
        super().__init__(HELD, id="alert-shelf")
        self.held: list[Held] = []

    def add(self, alert: Any, at: datetime, tz: object) -> None:
        self.held.append(Held(alert, at))
        del self.held[: max(0, len(self.held) - HELD)]
        self._draw(tz)

    def operator_is_back(self, tz: object) -> None:
        """The operator pressed a key or used the mouse: waiting alerts leave
        ``LEAVE_SECONDS`` from now."""
        now = monotonic()
        waiting = [h for h in self.held if h.leave_at is None]
        for h in waiting:
            h.leave_at = now + LEAVE_SECONDS
        if waiting:
            self.set_timer(LEAVE_SECONDS + 0.05, lambda: self.expire(monotonic(), tz))

    def expire(self, now: float, tz: object) -> None:
        before = len(self.held)
        self.held = [h for h in self.held if h.leave_at is None or h.leave_at > now]
        if len(self.held) != before:
            self._draw(tz)

    @property
    def waiting(self) -> list[Held]:
        """Alerts still waiting for the operator."""
        return [h for h in self.held if h.leave_at is None]

    def _draw(self, tz: object) -> None:
        self.count = max(1, len(self.held))
        lines = [alert_line(h.alert, h.at, tz) for h in reversed(self.held)]
        self._texts = [Text("") for _ in range(self.count)]
        self._drawn = [None] * self.count
        self.set_lines(lines or [Text("")])
        self.display = bool(self.held)


def alert_line(alert: Any, at: datetime, tz: object) -> Text:
    sev = getattr(alert, "severity", Severity.HIGH)
    t = Text(no_wrap=True, end="")
    t.append(f"⚠ {render.local_time(at, tz, '%H:%M')} ", style="bold")
    t.append_text(render.severity_badge(sev))
    t.append(" ")
    t.append(one_line(getattr(alert, "title", ""), limit=120), style="bold")
    body = one_line(getattr(alert, "body", ""), limit=300)
    if body:
        t.append(f" · {body}")
    return t
