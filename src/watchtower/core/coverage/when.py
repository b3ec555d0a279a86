"""Times and durations as people type them: ``sat 10:00``, ``tomorrow 08:00``, ``+2h``, ``30m``.

Used by ``watchtower rota override --from/--to``, ``snooze --for`` and ``mute --for`` (and
by the UI's dialogs for the same things).  A time without a zone is a wall time in the
organisation's zone (the rota's), never the server's.  Every mistake is a
:class:`ValueError` whose message says what was expected, for a one-line error.

Pure: ``now`` is passed in.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta, timezone, tzinfo

__all__ = ["parse_moment", "parse_duration", "parse_span", "MOMENT_HELP", "DURATION_HELP"]

MOMENT_HELP = (
    "now, +2h, HH:MM (today), today/tomorrow HH:MM, a weekday (sat 10:00: this week's, today counts), "
    "or an ISO date/time (2026-12-12 10:00); in the organisation's time zone"
)
DURATION_HELP = "a duration such as 30m, 2h, 1h30m, 1d or 45 (minutes)"

_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(s|sec|min|m|hr|h|d|w)", re.IGNORECASE)
_DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)|((?:\d+(?:\.\d+)?\s*(?:s|sec|min|m|hr|h|d|w)\s*)+))\s*$", re.IGNORECASE)
_HHMM = re.compile(r"^([01]?\d|2[0-3])[:.h]?([0-5]\d)$")
_DAYS = {
    "mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1, "wed": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3, "fri": 4, "friday": 4,
    "sat": 5, "saturday": 5, "sun": 6, "sunday": 6,
}
#: Longer than any swap or snooze anyone means; catches "2026" typed as minutes.
MAX_DURATION = timedelta(days=366)


def parse_duration(value: str) -> timedelta:
    """``30m``, ``2h``, ``1h30m``, ``1d``; a bare number is minutes."""
    m = _DURATION.match(value or "")
    if not m:
        raise ValueError(f"{value!r}: expected {DURATION_HELP}")
    if m.group(1) is not None:
        seconds = float(m.group(1)) * 60
    else:
        seconds = sum(float(n) * _UNITS[u.lower()] for n, u in _PART.findall(m.group(2)))
    delta = timedelta(seconds=seconds)
    if delta > MAX_DURATION:
        raise ValueError(f"{value!r}: at most {MAX_DURATION.days} days")
    return delta


def parse_span(value: str) -> timedelta:
    """:func:`parse_duration` for how long something lasts (a snooze, a mute): longer than 0."""
    delta = parse_duration(value)
    if delta <= timedelta(0):
        raise ValueError("expected a duration longer than 0")
    return delta


def _hhmm(text: str) -> time | None:
    m = _HHMM.match(text.strip())
    return time(int(m[1]), int(m[2])) if m else None


def _wall(day: datetime, at: time, tz: tzinfo) -> datetime:
    """``at`` on ``day``'s local date, as an aware time in ``tz`` (a time in the spring-forward
    gap lands after it, as the rota's shift starts do)."""
    local = datetime.combine(day.date(), at, tzinfo=tz)
    return local.astimezone(timezone.utc).astimezone(tz)


def parse_moment(value: str, *, now: datetime, tz: tzinfo, after: datetime | None = None) -> datetime:
    """An instant (UTC) from what a person types; see :data:`MOMENT_HELP`.

    ``after``: a bare ``HH:MM`` that is not after it means that time the next day
    (``--from 22:00 --to 06:00`` is a night).
    """
    text = " ".join((value or "").strip().lower().split())
    if not text:
        raise ValueError(f"expected a time: {MOMENT_HELP}")
    local_now = now.astimezone(tz)
    if text == "now":
        return now.astimezone(timezone.utc)
    rel = re.match(r"^(?:\+|in )\s*(.+)$", text)
    if rel:
        return (now + parse_duration(rel.group(1))).astimezone(timezone.utc)
    at = _hhmm(text)
    if at is not None:
        out = _wall(local_now, at, tz)
        if after is not None and out <= after:
            out = _wall(local_now + timedelta(days=1), at, tz)
            while out <= after:
                out = _wall(out + timedelta(days=1), at, tz)
        return out.astimezone(timezone.utc)
    words = text.split(" ", 1)
    day_word = words[0].rstrip(",")
    rest = words[1] if len(words) > 1 else "00:00"
    if day_word in ("today", "tomorrow") or day_word in _DAYS:
        at = _hhmm(rest)
        if at is None:
            raise ValueError(f"{value!r}: expected a time of day after {words[0]!r}, such as 10:00")
        if day_word == "today":
            offset = 0
        elif day_word == "tomorrow":
            offset = 1
        else:
            offset = (_DAYS[day_word] - local_now.weekday()) % 7
        return _wall(local_now + timedelta(days=offset), at, tz).astimezone(timezone.utc)
    iso = text.upper().replace(" ", "T", 1)
    if iso.endswith("Z"):
        iso = iso[:-1] + "+00:00"
    try:
        ts = datetime.fromisoformat(iso)
    except ValueError:
        raise ValueError(f"{value!r}: expected {MOMENT_HELP}") from None
    if ts.tzinfo is None:
        return _wall(ts, ts.time(), tz).astimezone(timezone.utc)
    return ts.astimezone(timezone.utc)
