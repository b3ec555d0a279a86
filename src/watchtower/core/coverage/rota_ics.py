"""The rota as an iCalendar file (the ``icalendar`` package), so people see their shifts
in their own calendar.

One ``VEVENT`` per on-call stretch of :meth:`Rota.timeline <watchtower.core.coverage.rota.Rota.timeline>`
(overrides applied; the gaps are not events), in the organisation's zone with its
``VTIMEZONE``, and one all-day ``TRANSPARENT`` event per public holiday.  ``UID``\\s are
derived from the stretch (shift, person, start, end), so importing a newer export
replaces the same events instead of adding copies; a stretch that changed (an override)
is a new event.

Names and reasons come from the config and the log: they are one-lined and bounded; the
library escapes them for the format.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from typing import Any

from ..text.safetext import one_line

__all__ = ["rota_ics"]

PRODID = "-//watchtower//rota//EN"


def _uid(*parts: object) -> str:
    digest = hashlib.sha1("\x1f".join(str(p) for p in parts).encode("utf-8", "surrogatepass")).hexdigest()[:24]
    return f"{digest}@watchtower"


def rota_ics(rota: Any, start_utc: datetime, end_utc: datetime, *, now: datetime, who: str | None = None,
             name: str = "") -> bytes:
    """The rota from ``start_utc`` to ``end_utc`` as iCalendar bytes.

    ``who``: only the stretches where that person is on call or the backup (compared
    without case).
    """
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    title = f"On call: {one_line(name, limit=80)}" if name else "On call"
    if who:
        title += f" ({one_line(who, limit=64)})"
    cal.add("x-wr-calname", title)
    cal.add("x-wr-timezone", rota.tz.key)
    want = who.strip().casefold() if who else None
    for slot in rota.timeline(start_utc, end_utc):
        if not slot.covered or not slot.on_call:
            continue
        on_call = one_line(slot.on_call, limit=64)
        backup = one_line(slot.backup, limit=64) if slot.backup and slot.backup != slot.on_call else ""
        role = "on call"
        if want is not None:
            if on_call.casefold() == want:
                role = "on call"
            elif backup and backup.casefold() == want:
                role = "backup"
            else:
                continue
        shift = one_line(slot.shift or "", limit=64)
        ev = Event()
        ev.add("uid", _uid(shift, on_call, backup, role, slot.start.isoformat(), slot.end.isoformat()))
        ev.add("dtstamp", now)
        ev.add("dtstart", slot.start)
        ev.add("dtend", slot.end)
        if role == "backup":
            ev.add("summary", f"Backup: {backup} ({shift}; on call: {on_call})")
        else:
            ev.add("summary", f"On call: {on_call} ({shift})" if shift else f"On call: {on_call}")
        lines = []
        if backup:
            lines.append(f"Backup: {backup}")
        if slot.override is not None:
            instead = f" in place of {one_line(slot.scheduled, limit=64)}" if slot.scheduled else ""
            why = f": {one_line(slot.override.reason, limit=200)}" if slot.override.reason else ""
            lines.append(f"Override{instead}, set by {one_line(slot.override.by, limit=64)}{why}")
        if lines:
            ev.add("description", "\n".join(lines))
        ev.add("categories", ["on-call"])
        cal.add_component(ev)
    first: date = start_utc.astimezone(rota.tz).date()
    last: date = end_utc.astimezone(rota.tz).date()
    day = first
    while day < last:
        holiday = rota.holiday(day)
        if holiday:
            ev = Event()
            ev.add("uid", _uid("holiday", day.isoformat(), holiday))
            ev.add("dtstamp", now)
            ev.add("dtstart", day)
            ev.add("dtend", day + timedelta(days=1))
            ev.add("summary", f"Holiday: {one_line(holiday, limit=80)} (only holiday shifts)")
            ev.add("transp", "TRANSPARENT")
            cal.add_component(ev)
        day += timedelta(days=1)
    # The zone's rules for the span the file covers (not 1970-2038 for every export).
    cal.add_missing_timezones(first_date=first - timedelta(days=366), last_date=last + timedelta(days=366))
    return cal.to_ical()  # type: ignore[no-any-return]
