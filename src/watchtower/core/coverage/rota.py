"""Coverage: was someone on call when an item arrived?  Judged in the organisation's zone.

The rota in the config is a list of shifts, each with the days it *starts* on, a start and
an end time of day (local wall time) and who is on call::

    [[rota.shift]]
    name = "evening"
    days = ["mon", "tue", "wed", "thu", "fri"]
    start = "17:00"
    end = "23:00"
    on_call = "Sam"

Rules (each one tested in ``tests/test_rota.py``):

* A shift covers ``[start, end)``, starting on each day it lists.  When ``end`` is not
  after ``start`` it crosses midnight: a Friday ``22:00``-``06:00`` shift covers Saturday
  03:00.  ``start == end`` is a 24-hour shift.
* On a public holiday (the ``holidays`` package, country ``rota.holidays`` and the optional
  ``rota.subdivision``) the regular shifts do **not** start; only shifts that list
  ``"holiday"`` in their days do.  A shift that started the evening before a holiday still
  runs to its end.
* Where shifts overlap, the one that started last names the shift and the person on call.
* ``weekend`` means Saturday or Sunday in the organisation's zone.
* **No shifts configured at all means everything is covered.**  The organisation has not
  set up a rota, so flagging every item as ``UNCOVERED`` would only teach operators to
  ignore the badge.
* Times are wall times in the organisation's zone, turned into instants with ``zoneinfo``;
  all comparisons are between UTC instants.  So on the spring-forward night a ``22:00``-
  ``06:00`` shift lasts 7 real hours and in October 9, and a start inside the missing hour
  (02:30 in Europe/Amsterdam in March) begins at the first real instant after the gap.
  The server's own time zone never matters.

Overrides (swaps) come from the handover log, so every operator and every process sees
the same rota: ``watchtower rota override --who Ann --from ... --to ...`` writes a
``rota_override`` entry, :func:`overrides_from_entries` reads them back, and
:func:`rota_with_overrides` (the one function the header, coverage and alert routing
use) gives a :class:`Rota` that applies them:

* During an override's ``[start, end)`` its person is on call, whatever the shifts say,
  and that time counts as covered even where no shift is scheduled (someone agreed to
  check).  The shift's name stays what the schedule says (``"override"`` where there is
  no shift).
* Where overrides overlap, the one written last wins.  An entry with ``data.cancels``
  withdraws an earlier override.

Pure: no clock is read here; callers pass ``now``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ..models import Coverage, parse_iso

if TYPE_CHECKING:  # pragma: no cover
    from ...config import Config
    from ...config import Rota as RotaConfig

__all__ = [
    "Rota",
    "OnCall",
    "Override",
    "Slot",
    "OVERRIDE_KIND",
    "rota_from_config",
    "rota_with_overrides",
    "overrides_from_entries",
]

#: The log entry kind of a rota override (and of its cancellation, ``data.cancels``).
OVERRIDE_KIND = "rota_override"

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_UTC = timezone.utc


@dataclass(frozen=True, slots=True)
class Override:
    """``who`` is on call from ``start`` to ``end`` (UTC), recorded in the log by ``by``."""

    id: str
    """The id of the log entry that recorded it (``rota override --cancel ID``)."""
    who: str
    start: datetime
    end: datetime
    by: str = ""
    at: datetime | None = None
    """When it was recorded."""
    reason: str = ""

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True, slots=True)
class OnCall:
    """What the header shows: the shift now, who has it, when it ends, what comes next.

    ``override`` is the swap in force now (``on_call`` is then its person); ``backup`` the
    shift's backup (escalation's second step).
    """

    shift: str | None
    on_call: str | None
    ends_at_local: datetime | None
    next_shift_name: str | None
    next_start_local: datetime | None
    override: Override | None = None
    backup: str | None = None

    @property
    def covered(self) -> bool:
        return self.shift is not None


@dataclass(frozen=True, slots=True)
class Slot:
    """A stretch of time with one answer to "who is on call": a shift, an override or a gap.

    Times are in the organisation's zone.  ``scheduled`` is who the shifts name (before any
    override); ``on_call`` is who actually is.
    """

    start: datetime
    end: datetime
    shift: str | None
    on_call: str | None
    scheduled: str | None = None
    backup: str | None = None
    override: Override | None = None
    covered: bool = False


@dataclass(frozen=True, slots=True)
class _Shift:
    name: str
    days: frozenset[str]
    start: time
    end: time
    on_call: str
    backup: str = ""

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start


def _parse_hhmm(value: str) -> time:
    hh, mm = value.split(":")
    return time(int(hh), int(mm))


def _local_instant(day: date, t: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of wall time ``t`` on ``day`` in ``tz``.

    A wall time inside the spring-forward gap does not exist; ``fold=0`` maps it with the
    offset from before the gap, which lands after the gap (02:30 -> 03:30 CEST).  A time in
    the repeated autumn hour takes its first occurrence.  Both are what a person means by
    "the shift starts at 02:30".
    """
    return datetime.combine(day, t, tzinfo=tz).astimezone(_UTC)


class Rota:
    """Shifts, weekends and holidays in one organisation's time zone."""

    def __init__(self, rota_config: RotaConfig | None, tz: ZoneInfo | str = "UTC") -> None:
        self.tz = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        shifts = []
        country = None
        subdivision = None
        if rota_config is not None:
            country = rota_config.holidays
            subdivision = rota_config.subdivision
            for s in rota_config.shift:
                shifts.append(
                    _Shift(
                        name=s.name,
                        days=frozenset(s.days),
                        start=_parse_hhmm(s.start),
                        end=_parse_hhmm(s.end),
                        on_call=s.on_call,
                        backup=getattr(s, "backup", "") or "",
                    )
                )
        self.shifts: tuple[_Shift, ...] = tuple(shifts)
        self.country = country
        self.subdivision = subdivision
        self._holiday_years: dict[int, dict[date, str]] = {}
        self._day_cache: dict[date, tuple[tuple[_Shift, datetime, datetime], ...]] = {}
        self.overrides: tuple[Override, ...] = ()

    def use_overrides(self, overrides: Iterable[Override]) -> None:
        """Apply these overrides (in the order they were written: a later one wins)."""
        self.overrides = tuple(overrides)

    def _override_at(self, at: datetime) -> Override | None:
        for ov in reversed(self.overrides):
            if ov.covers(at):
                return ov
        return None

    # -- holidays -------------------------------------------------------------------
    def holiday(self, day: date) -> str | None:
        """The public holiday's name on ``day`` (local date), or ``None``."""
        if not self.country:
            return None
        table = self._holiday_years.get(day.year)
        if table is None:
            table = _holiday_table(self.country, self.subdivision, day.year)
            self._holiday_years[day.year] = table
        return table.get(day)

    def _starts_on(self, shift: _Shift, day: date) -> bool:
        if self.holiday(day):
            return "holiday" in shift.days
        return _DAY_NAMES[day.weekday()] in shift.days

    # -- occurrences ----------------------------------------------------------------
    def _occurrence(self, shift: _Shift, day: date) -> tuple[datetime, datetime]:
        start = _local_instant(day, shift.start, self.tz)
        end_day = day + timedelta(days=1) if shift.crosses_midnight else day
        end = _local_instant(end_day, shift.end, self.tz)
        if end <= start:  # only possible when a DST gap swallows a very short shift
            end = start
        return start, end

    def _occurrences_on(self, day: date) -> tuple[tuple[_Shift, datetime, datetime], ...]:
        """The shifts that start on a local date, as UTC instants (cached: triage asks a lot)."""
        cached = self._day_cache.get(day)
        if cached is None:
            cached = tuple(
                (shift, *self._occurrence(shift, day)) for shift in self.shifts if self._starts_on(shift, day)
            )
            if len(self._day_cache) > 4096:
                self._day_cache.clear()
            self._day_cache[day] = cached
        return cached

    def _active(self, at: datetime) -> list[tuple[_Shift, datetime, datetime]]:
        """Shifts whose occurrence contains the UTC instant ``at``.

        When shifts overlap, the one that started last comes first (the person who just
        came on has taken over); ties keep config order.
        """
        local_day = at.astimezone(self.tz).date()
        out = []
        # A shift is at most 24 h long, so only yesterday's and today's starts matter.
        for day in (local_day - timedelta(days=1), local_day):
            for shift, start, end in self._occurrences_on(day):
                if start <= at < end:
                    out.append((shift, start, end))
        out.sort(key=lambda entry: entry[1], reverse=True)  # stable: ties keep config order
        return out

    # -- public API -----------------------------------------------------------------
    def coverage_at(self, dt_utc: datetime) -> Coverage:
        """Coverage of an instant (naive datetimes are taken as UTC)."""
        at = _as_utc(dt_utc)
        local = at.astimezone(self.tz)
        weekend = local.weekday() >= 5
        holiday = self.holiday(local.date())
        override = self._override_at(at) if self.overrides else None
        if override is not None:
            active = self._active(at) if self.shifts else []
            return Coverage(
                covered=True,
                shift=active[0][0].name if active else "override",
                on_call=override.who,
                weekend=weekend,
                holiday=holiday,
            )
        if not self.shifts:
            return Coverage(covered=True, shift=None, on_call=None, weekend=weekend, holiday=holiday)
        active = self._active(at)
        if not active:
            return Coverage(covered=False, shift=None, on_call=None, weekend=weekend, holiday=holiday)
        shift = active[0][0]
        return Coverage(
            covered=True,
            shift=shift.name,
            on_call=shift.on_call or None,
            weekend=weekend,
            holiday=holiday,
        )

    def status(self, now_utc: datetime) -> OnCall:
        """Who is on call now, until when, and which shift starts next (local times)."""
        now = _as_utc(now_utc)
        if self.overrides:
            return self._status_with_overrides(now)
        active = self._active(now) if self.shifts else []
        shift_name = on_call = backup = None
        ends = None
        if active:
            shift, _start, end = active[0]
            shift_name, on_call, ends = shift.name, shift.on_call or None, end.astimezone(self.tz)
            backup = shift.backup or None
        nxt = self.next_start(now)
        return OnCall(
            shift=shift_name,
            on_call=on_call,
            ends_at_local=ends,
            next_shift_name=nxt[0] if nxt else None,
            next_start_local=nxt[1].astimezone(self.tz) if nxt else None,
            backup=backup,
        )

    def _status_with_overrides(self, now: datetime) -> OnCall:
        """:meth:`status` from the timeline: an override ends, or starts, like a shift."""
        slots = self.timeline(now, now + timedelta(days=22))
        current = slots[0] if slots and slots[0].start.astimezone(_UTC) <= now else None
        if current is not None and not (current.override is not None or (self.shifts and current.shift)):
            current = None
        nxt = next(
            (s for s in slots if s.start.astimezone(_UTC) > now and s.covered and s.on_call),
            None,
        )
        return OnCall(
            shift=current.shift if current else None,
            on_call=current.on_call if current else None,
            ends_at_local=current.end if current else None,
            next_shift_name=(nxt.shift or "override") if nxt else None,
            next_start_local=nxt.start if nxt else None,
            override=current.override if current else None,
            backup=current.backup if current else None,
        )

    # -- the timeline -----------------------------------------------------------------
    def _resolve(self, at: datetime) -> tuple[str | None, str | None, str | None, str | None, Override | None, bool]:
        """``(shift, on_call, scheduled, backup, override, covered)`` at the UTC instant ``at``."""
        active = self._active(at) if self.shifts else []
        shift = active[0][0] if active else None
        override = self._override_at(at) if self.overrides else None
        scheduled = (shift.on_call or None) if shift else None
        backup = (shift.backup or None) if shift else None
        if override is not None:
            return (shift.name if shift else "override"), override.who, scheduled, backup, override, True
        if shift is not None:
            return shift.name, scheduled, scheduled, backup, None, True
        return None, None, None, None, None, not self.shifts

    def timeline(self, start_utc: datetime, end_utc: datetime) -> list[Slot]:
        """Who is on call from ``start_utc`` to ``end_utc``: consecutive :class:`Slot`s
        (shifts, overrides and the gaps between them), times in the organisation's zone.

        The answer only changes where a shift or an override starts or ends, so it is
        worked out at those instants and stretches with the same answer are merged.
        """
        start, end = _as_utc(start_utc), _as_utc(end_utc)
        if end <= start:
            return []
        cuts = {start, end}
        first_day = start.astimezone(self.tz).date() - timedelta(days=1)
        last_day = end.astimezone(self.tz).date()
        day = first_day
        while day <= last_day:
            for _shift, s, e in self._occurrences_on(day):
                cuts.update(t for t in (s, e) if start < t < end)
            day += timedelta(days=1)
        for ov in self.overrides:
            cuts.update(t for t in (ov.start, ov.end) if start < t < end)
        points = sorted(cuts)
        slots: list[Slot] = []
        for a, b in zip(points, points[1:]):
            shift, on_call, scheduled, backup, override, covered = self._resolve(a)
            if slots:
                last = slots[-1]
                if (last.shift, last.on_call, last.scheduled, last.backup, last.override, last.covered) == (
                    shift, on_call, scheduled, backup, override, covered
                ):
                    slots[-1] = Slot(last.start, b.astimezone(self.tz), shift, on_call, scheduled, backup, override, covered)
                    continue
            slots.append(Slot(a.astimezone(self.tz), b.astimezone(self.tz), shift, on_call, scheduled, backup, override, covered))
        return slots

    def people(self) -> list[str]:
        """Everyone the shifts name (on call or backup), in config order, each once."""
        out: list[str] = []
        for shift in self.shifts:
            for name in (shift.on_call, shift.backup):
                if name and name not in out:
                    out.append(name)
        return out

    def next_start(self, now_utc: datetime, *, horizon_days: int = 21) -> tuple[str, datetime] | None:
        """The first shift start strictly after ``now_utc`` (UTC), or ``None``."""
        now = _as_utc(now_utc)
        first_day = now.astimezone(self.tz).date()
        best: tuple[datetime, int, str] | None = None
        for offset in range(horizon_days + 1):
            day = first_day + timedelta(days=offset)
            for index, shift in enumerate(self.shifts):
                if not self._starts_on(shift, day):
                    continue
                start, _end = self._occurrence(shift, day)
                if start > now and (best is None or (start, index) < best[:2]):
                    best = (start, index, shift.name)
            if best is not None:
                # Starts on later days are always later than one found today.
                return best[2], best[0]
        return None


@lru_cache(maxsize=64)
def _holiday_table(country: str, subdivision: str | None, year: int) -> dict[date, str]:
    import holidays

    try:
        # The names in English whatever the machine's locale: without ``language`` the
        # library picks it from LANG, so the same rota read "Koningsdag" on one box and
        # "King's Day" on the next.  A country with no English names keeps its own.
        table = holidays.country_holidays(country, subdiv=subdivision, years=year, language="en_US")
    except (NotImplementedError, KeyError, ValueError):
        return {}
    return dict(table.items())


def _as_utc(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        return dt.replace(tzinfo=_UTC)
    return dt.astimezone(_UTC)


def rota_from_config(config: Config) -> Rota:
    """The rota of a loaded config, in the organisation's zone."""
    return Rota(config.rota, config.organisation.tz)


def rota_with_overrides(config: Config, entries: Iterable[Any]) -> Rota:
    """The rota of ``config`` with the overrides recorded in the log ``entries`` applied.

    The one call the header, coverage and alert routing need: ``entries`` is the log
    (``HandoverLog.entries(kinds=[OVERRIDE_KIND])`` is enough).  A long-running process
    keeps its :class:`Rota` and calls :meth:`Rota.use_overrides` with
    :func:`overrides_from_entries` when the log changes.
    """
    rota = rota_from_config(config)
    rota.use_overrides(overrides_from_entries(entries))
    return rota


_ts = parse_iso  # our own stamps read back (core/models.py)


def overrides_from_entries(entries: Iterable[Any]) -> list[Override]:
    """The overrides in force, in the order they were written (a later one wins).

    ``entries`` are log entries of any kinds (only ``rota_override`` ones count):
    ``data = {"who", "start", "end", "reason"}`` records one, ``data = {"cancels": ID}``
    withdraws the one recorded by entry ``ID``.  An entry whose times do not read, or whose
    end is not after its start (edited by hand), is ignored.
    """
    out: dict[str, Override] = {}
    ordered: Sequence[Any] = sorted((e for e in entries if getattr(e, "kind", None) == OVERRIDE_KIND),
                                    key=lambda e: getattr(e, "seq", 0))
    for e in ordered:
        data = e.data if isinstance(getattr(e, "data", None), dict) else {}
        cancels = data.get("cancels")
        if isinstance(cancels, str):
            out.pop(cancels, None)
            continue
        who = data.get("who")
        start, end = _ts(data.get("start")), _ts(data.get("end"))
        if not isinstance(who, str) or not who.strip() or start is None or end is None or end <= start:
            continue
        reason = data.get("reason")
        out[e.id] = Override(
            id=e.id, who=who.strip(), start=start, end=end, by=e.operator, at=e.ts,
            reason=reason if isinstance(reason, str) else "",
        )
    return list(out.values())
