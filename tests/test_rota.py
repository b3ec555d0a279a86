"""Coverage from the rota: midnight, weekends, holidays and both DST switches.

The machine's zone is forced to UTC so nothing here leans on the developer's clock; every
instant is given in UTC and judged in Europe/Amsterdam.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from watchtower.config import parse_config
from watchtower.core.coverage.rota import Rota, rota_from_config

AMS = ZoneInfo("Europe/Amsterdam")
UTC = timezone.utc


@pytest.fixture(autouse=True)
def _machine_in_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _rota(shifts: list[dict], holidays: str | None = "NL") -> Rota:
    cfg = parse_config(
        {
            "organisation": {"timezone": "Europe/Amsterdam"},
            "rota": {"holidays": holidays, "shift": shifts} if holidays else {"shift": shifts},
        }
    )
    return rota_from_config(cfg)


WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
STANDARD = [
    {"name": "day", "days": WEEKDAYS, "start": "08:00", "end": "17:00", "on_call": "Ada"},
    {"name": "late", "days": WEEKDAYS, "start": "17:00", "end": "23:00", "on_call": "Bo"},
    {"name": "night", "days": ["fri"], "start": "22:00", "end": "06:00", "on_call": "Cas"},
    {"name": "weekend", "days": ["sat", "sun"], "start": "10:00", "end": "18:00", "on_call": "Dee"},
    {"name": "holiday", "days": ["holiday"], "start": "12:00", "end": "16:00", "on_call": "Eve"},
]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_machine_zone_is_utc() -> None:
    assert time.localtime(0).tm_hour == 0


def test_weekday_shift_boundaries_are_half_open() -> None:
    rota = _rota(STANDARD)
    # Wednesday 5 March 2025, CET = UTC+1.  08:00 local = 07:00 UTC.
    assert not rota.coverage_at(utc(2025, 3, 5, 6, 59)).covered
    cov = rota.coverage_at(utc(2025, 3, 5, 7, 0))
    assert cov.covered and cov.shift == "day" and cov.on_call == "Ada"
    assert not cov.weekend and cov.holiday is None
    # 17:00 local belongs to the late shift, not the day shift.
    assert rota.coverage_at(utc(2025, 3, 5, 16, 0)).shift == "late"
    # 23:00 local is the end of the late shift: uncovered on a Wednesday.
    assert not rota.coverage_at(utc(2025, 3, 5, 22, 0)).covered
    assert rota.coverage_at(utc(2025, 3, 5, 21, 59)).shift == "late"


def test_around_midnight_on_a_weekday_is_uncovered() -> None:
    rota = _rota(STANDARD)
    for minute in (-1, 0, 1):
        # Thursday 00:00 local = Wednesday 23:00 UTC.
        cov = rota.coverage_at(utc(2025, 3, 5, 23, 0) + timedelta(minutes=minute))
        assert not cov.covered
        assert cov.badge == "⚠ UNCOVERED"


def test_shift_crossing_midnight_covers_the_next_morning() -> None:
    rota = _rota(STANDARD)
    # Friday 7 March 2025 22:00 - Saturday 06:00 local.
    assert rota.coverage_at(utc(2025, 3, 7, 21, 0)).shift == "night"  # Fri 22:00
    sat_3am = rota.coverage_at(utc(2025, 3, 8, 2, 0))  # Sat 03:00 local
    assert sat_3am.covered and sat_3am.shift == "night" and sat_3am.on_call == "Cas"
    assert sat_3am.weekend
    assert not rota.coverage_at(utc(2025, 3, 8, 5, 0)).covered  # Sat 06:00 local
    # The night shift only starts on Fridays: Thursday night stays uncovered.
    assert not rota.coverage_at(utc(2025, 3, 7, 2, 0)).covered


def test_weekend_is_judged_in_the_org_zone_not_utc() -> None:
    rota = _rota(STANDARD)
    # Sunday 9 March 23:30 UTC is already Monday 00:30 in Amsterdam.
    cov = rota.coverage_at(utc(2025, 3, 9, 23, 30))
    assert not cov.weekend
    # Saturday 00:30 Amsterdam is still Friday 23:30 UTC.
    assert rota.coverage_at(utc(2025, 3, 7, 23, 30)).weekend
    sunday_23 = rota.coverage_at(utc(2025, 3, 9, 22, 0))  # Sun 23:00 local
    assert sunday_23.weekend and not sunday_23.covered


def test_kings_day_drops_regular_shifts() -> None:
    rota = _rota(STANDARD)
    # Koningsdag: 27 April 2026 is a Monday.  10:00 local (CEST) = 08:00 UTC.
    cov = rota.coverage_at(utc(2026, 4, 27, 8, 0))
    assert cov.holiday and "King" in cov.holiday
    assert not cov.covered, "the Monday day shift does not run on a holiday"
    assert cov.badge == "⚠ UNCOVERED"
    holiday_noon = rota.coverage_at(utc(2026, 4, 27, 11, 0))  # 13:00 local
    assert holiday_noon.covered and holiday_noon.shift == "holiday" and holiday_noon.on_call == "Eve"
    assert holiday_noon.badge == "☼ HOL"
    # In 2025 the 27th is a Sunday, so King's Day moves to Saturday the 26th.
    assert rota.coverage_at(utc(2025, 4, 26, 11, 0)).holiday
    assert rota.coverage_at(utc(2025, 4, 27, 11, 0)).holiday is None


@pytest.mark.parametrize("lang", ["nl_NL.UTF-8", "de_DE.UTF-8", ""])
def test_holiday_names_do_not_depend_on_the_machines_locale(lang: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from watchtower.core.coverage.rota import _holiday_table

    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.setenv(var, lang)
    _holiday_table.cache_clear()
    try:
        assert _rota(STANDARD).coverage_at(utc(2025, 12, 25, 8, 0)).holiday == "Christmas Day"
    finally:
        _holiday_table.cache_clear()


def test_christmas_is_a_holiday_and_the_day_after_is_too() -> None:
    rota = _rota(STANDARD)
    # Thursday 25 December 2025, 09:00 local = 08:00 UTC.
    cov = rota.coverage_at(utc(2025, 12, 25, 8, 0))
    assert cov.holiday == "Christmas Day" and not cov.covered
    assert rota.coverage_at(utc(2025, 12, 26, 8, 0)).holiday
    assert rota.coverage_at(utc(2025, 12, 29, 8, 0)).shift == "day"  # Monday after


def test_a_shift_started_before_a_holiday_runs_to_its_end() -> None:
    rota = _rota([{"name": "night", "days": WEEKDAYS, "start": "22:00", "end": "06:00", "on_call": "N"}])
    # Wednesday 24 Dec 2025 22:00 local -> Christmas morning 05:00 local (04:00 UTC).
    assert rota.coverage_at(utc(2025, 12, 25, 4, 0)).shift == "night"
    # It does not start again on Christmas evening.
    assert not rota.coverage_at(utc(2025, 12, 25, 22, 0)).covered


def test_spring_forward_night_in_amsterdam() -> None:
    # Sunday 30 March 2025: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
    rota = _rota([{"name": "night", "days": ["sat"], "start": "22:00", "end": "06:00", "on_call": "N"}])
    assert rota.coverage_at(utc(2025, 3, 29, 21, 0)).covered  # Sat 22:00 CET
    assert rota.coverage_at(utc(2025, 3, 30, 0, 59)).covered  # 01:59 CET
    assert rota.coverage_at(utc(2025, 3, 30, 1, 0)).covered  # 03:00 CEST
    assert rota.coverage_at(utc(2025, 3, 30, 3, 59)).covered  # 05:59 CEST
    assert not rota.coverage_at(utc(2025, 3, 30, 4, 0)).covered  # 06:00 CEST
    status = rota.status(utc(2025, 3, 29, 23, 0))
    assert status.shift == "night"
    assert status.ends_at_local == datetime(2025, 3, 30, 6, 0, tzinfo=AMS)
    assert status.ends_at_local.utcoffset() == timedelta(hours=2)


def test_shift_starting_inside_the_missing_hour() -> None:
    rota = _rota([{"name": "odd", "days": ["sun"], "start": "02:30", "end": "04:00", "on_call": ""}])
    # 02:30 does not exist on 30 March 2025; the shift starts at 03:30 CEST (01:30 UTC).
    assert not rota.coverage_at(utc(2025, 3, 30, 1, 15)).covered
    assert rota.coverage_at(utc(2025, 3, 30, 1, 30)).covered
    assert not rota.coverage_at(utc(2025, 3, 30, 2, 0)).covered  # 04:00 CEST
    # A week later it is an ordinary 90 minutes.
    assert rota.coverage_at(utc(2025, 4, 6, 0, 30)).covered  # 02:30 CEST


def test_fall_back_night_in_amsterdam_covers_the_repeated_hour() -> None:
    # Sunday 26 October 2025: 03:00 CEST falls back to 02:00 CET (01:00 UTC).
    rota = _rota([{"name": "night", "days": ["sat"], "start": "22:00", "end": "06:00", "on_call": "N"}])
    for hour_utc in (20, 21, 22, 23):
        assert rota.coverage_at(utc(2025, 10, 25, hour_utc, 0)).covered
    # 02:30 happens twice: 00:30 UTC (CEST) and 01:30 UTC (CET).  Both are covered.
    assert rota.coverage_at(utc(2025, 10, 26, 0, 30)).covered
    assert rota.coverage_at(utc(2025, 10, 26, 1, 30)).covered
    assert rota.coverage_at(utc(2025, 10, 26, 4, 59)).covered  # 05:59 CET
    assert not rota.coverage_at(utc(2025, 10, 26, 5, 0)).covered  # 06:00 CET
    assert not rota.coverage_at(utc(2025, 10, 25, 19, 59)).covered  # 21:59 CEST


def test_shift_ending_inside_the_repeated_hour_ends_at_its_first_occurrence() -> None:
    rota = _rota([{"name": "x", "days": ["sun"], "start": "00:00", "end": "02:30", "on_call": ""}])
    assert rota.coverage_at(utc(2025, 10, 26, 0, 15)).covered  # 02:15 CEST
    assert not rota.coverage_at(utc(2025, 10, 26, 0, 30)).covered  # 02:30 CEST
    assert not rota.coverage_at(utc(2025, 10, 26, 1, 15)).covered  # 02:15 CET, the second time


def test_no_shifts_means_covered_everywhere() -> None:
    rota = Rota(None, AMS)
    cov = rota.coverage_at(utc(2025, 12, 25, 3, 0))
    assert cov.covered and cov.shift is None and cov.holiday is None
    rota2 = _rota([], holidays="NL")
    cov2 = rota2.coverage_at(utc(2025, 12, 25, 3, 0))
    assert cov2.covered and cov2.holiday == "Christmas Day"
    assert rota2.status(utc(2025, 12, 25, 3, 0)).next_shift_name is None


def test_naive_datetimes_are_utc() -> None:
    rota = _rota(STANDARD)
    assert rota.coverage_at(datetime(2025, 3, 5, 7, 0)).shift == "day"


def test_status_for_the_header() -> None:
    rota = _rota(STANDARD)
    # Wednesday 5 March 2025 12:00 local.
    st = rota.status(utc(2025, 3, 5, 11, 0))
    assert (st.shift, st.on_call) == ("day", "Ada")
    assert st.ends_at_local == datetime(2025, 3, 5, 17, 0, tzinfo=AMS)
    assert st.next_shift_name == "late"
    assert st.next_start_local == datetime(2025, 3, 5, 17, 0, tzinfo=AMS)
    # Wednesday 23:30 local: nobody, next is Thursday's day shift.
    off = rota.status(utc(2025, 3, 5, 22, 30))
    assert off.shift is None and off.on_call is None and off.ends_at_local is None
    assert not off.covered
    assert off.next_shift_name == "day"
    assert off.next_start_local == datetime(2025, 3, 6, 8, 0, tzinfo=AMS)
    # Sunday 26 April 2026 20:00 local, the eve of King's Day (a Monday): the next shift is
    # the holiday shift at noon, not the Monday day shift.
    eve = rota.status(utc(2026, 4, 26, 18, 0))
    assert eve.next_shift_name == "holiday"
    assert eve.next_start_local == datetime(2026, 4, 27, 12, 0, tzinfo=AMS)


def test_subdivision_holidays() -> None:
    cfg = parse_config(
        {
            "organisation": {"timezone": "Europe/Berlin"},
            "rota": {"holidays": "DE", "subdivision": "BY", "shift": STANDARD[:1]},
        }
    )
    rota = rota_from_config(cfg)
    # 6 January (Epiphany) is a holiday in Bavaria; Tuesday 6 Jan 2026.
    assert rota.coverage_at(utc(2026, 1, 6, 9, 0)).holiday
    assert not rota.coverage_at(utc(2026, 1, 6, 9, 0)).covered
