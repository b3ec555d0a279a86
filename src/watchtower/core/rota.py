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

Pure: no clock is read here; callers pass ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .models import Coverage

if TYPE_CHECKING:  # pragma: no cover
    from ..config import Config
    from ..config import Rota as RotaConfig

__all__ = ["Rota", "OnCall", "rota_from_config"]

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_UTC = timezone.utc


@dataclass(frozen=True, slots=True)
class OnCall:
    """What the header shows: the shift now, who has it, when it ends, what comes next."""

    shift: str | None
    on_call: str | None
    ends_at_local: datetime | None
    next_shift_name: str | None
    next_start_local: datetime | None

    @property
    def covered(self) -> bool:
        return self.shift is not None


@dataclass(frozen=True, slots=True)
class _Shift:
    name: str
    days: frozenset[str]
    start: time
    end: time
    on_call: str

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
                    )
                )
        self.shifts: tuple[_Shift, ...] = tuple(shifts)
        self.country = country
        self.subdivision = subdivision
        self._holiday_years: dict[int, dict[date, str]] = {}
        self._day_cache: dict[date, tuple[tuple[_Shift, datetime, datetime], ...]] = {}

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
        active = self._active(now) if self.shifts else []
        shift_name = on_call = None
        ends = None
        if active:
            shift, _start, end = active[0]
            shift_name, on_call, ends = shift.name, shift.on_call or None, end.astimezone(self.tz)
        nxt = self.next_start(now)
        return OnCall(
            shift=shift_name,
            on_call=on_call,
            ends_at_local=ends,
            next_shift_name=nxt[0] if nxt else None,
            next_start_local=nxt[1].astimezone(self.tz) if nxt else None,
        )

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
