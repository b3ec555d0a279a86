"""The rota as people use it: overrides (swaps) from the log, the timeline, the calendar.

Instants are given in UTC and judged in Europe/Amsterdam, with the machine's zone forced
to UTC, as in test_rota.py.  Overrides are real log entries (a HandoverLog on a tmp dir)
where the log is the point; LogEntry objects where only the folding is.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from watchtower.config import parse_config
from watchtower.core.coverage.rota import OVERRIDE_KIND, overrides_from_entries, rota_from_config, rota_with_overrides
from watchtower.core.coverage.when import parse_duration, parse_moment
from watchtower.core.record.log import LogEntry

AMS = ZoneInfo("Europe/Amsterdam")
UTC = timezone.utc
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
CONFIG = {
    "organisation": {"timezone": "Europe/Amsterdam", "name": "Riverside"},
    "rota": {
        "holidays": "NL",
        "shift": [
            {"name": "day", "days": WEEKDAYS, "start": "08:00", "end": "17:00", "on_call": "Ada", "backup": "Bo"},
            {"name": "night", "days": ["fri"], "start": "22:00", "end": "06:00", "on_call": "Cas"},
            {"name": "weekend", "days": ["sat", "sun"], "start": "10:00", "end": "18:00", "on_call": "Dee"},
        ],
    },
}


@pytest.fixture(autouse=True)
def _machine_in_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


_seq = iter(range(1, 10**6))


def entry(data: dict, *, operator: str = "ops", kind: str = OVERRIDE_KIND) -> LogEntry:
    return LogEntry(id=uuid.uuid4().hex, kind=kind, operator=operator, os_user="u", ts=utc(2025, 3, 1),
                    data=data, seq=next(_seq))


def swap(who: str, start: datetime, end: datetime, **kw: str) -> LogEntry:
    return entry({"who": who, "start": start.isoformat(), "end": end.isoformat(), **kw})


def rota(*entries: LogEntry):  # type: ignore[no-untyped-def]
    return rota_with_overrides(parse_config(CONFIG), entries)


# -- overrides -------------------------------------------------------------------------


def test_an_override_puts_its_person_on_call_and_keeps_the_shift_name() -> None:
    # Wednesday 5 March 2025: the day shift is 07:00-16:00 UTC.  Eve takes 12:00-14:00 local.
    r = rota(swap("Eve", utc(2025, 3, 5, 11), utc(2025, 3, 5, 13)))
    before = r.coverage_at(utc(2025, 3, 5, 10, 59))
    during = r.coverage_at(utc(2025, 3, 5, 11, 0))
    after = r.coverage_at(utc(2025, 3, 5, 13, 0))
    assert (before.on_call, during.on_call, after.on_call) == ("Ada", "Eve", "Ada")
    assert during.covered and during.shift == "day"


def test_an_override_covers_hours_no_shift_covers() -> None:
    # Wednesday 23:00 local is uncovered; Fay agreed to check that night.
    plain = rota()
    assert not plain.coverage_at(utc(2025, 3, 5, 22)).covered
    r = rota(swap("Fay", utc(2025, 3, 5, 21), utc(2025, 3, 6, 5)))
    cov = r.coverage_at(utc(2025, 3, 5, 22))
    assert cov.covered and cov.on_call == "Fay" and cov.shift == "override"
    assert cov.badge != "⚠ UNCOVERED"


def test_the_override_written_last_wins_and_a_cancel_withdraws_it() -> None:
    first = swap("Eve", utc(2025, 3, 5, 8), utc(2025, 3, 5, 14))
    second = swap("Gus", utc(2025, 3, 5, 10), utc(2025, 3, 5, 12))
    r = rota(first, second)
    assert r.coverage_at(utc(2025, 3, 5, 9)).on_call == "Eve"
    assert r.coverage_at(utc(2025, 3, 5, 11)).on_call == "Gus"
    assert r.coverage_at(utc(2025, 3, 5, 13)).on_call == "Eve"
    cancelled = rota(first, second, entry({"cancels": second.id}))
    assert cancelled.coverage_at(utc(2025, 3, 5, 11)).on_call == "Eve"
    assert [o.who for o in cancelled.overrides] == ["Eve"]


def test_entries_edited_into_nonsense_are_ignored() -> None:
    bad = [
        entry({"who": "X", "start": "yesterday", "end": "2025-03-05T12:00:00+00:00"}),
        entry({"who": "X", "start": "2025-03-05T12:00:00+00:00", "end": "2025-03-05T11:00:00+00:00"}),
        entry({"who": ["X"], "start": "2025-03-05T10:00:00+00:00", "end": "2025-03-05T11:00:00+00:00"}),
        entry({"who": "  ", "start": "2025-03-05T10:00:00+00:00", "end": "2025-03-05T11:00:00+00:00"}),
        entry({"who": "X", "start": "2025-03-05T10:00:00+00:00", "end": "2025-03-05T11:00:00+00:00"}, kind="note"),
    ]
    assert overrides_from_entries(bad) == []


def test_status_with_an_override_says_when_it_ends_and_what_comes_next() -> None:
    r = rota(swap("Eve", utc(2025, 3, 5, 11), utc(2025, 3, 5, 13), reason="dentist"))
    st = r.status(utc(2025, 3, 5, 12))
    assert st.on_call == "Eve" and st.shift == "day" and st.override is not None
    assert st.override.reason == "dentist"
    assert st.ends_at_local == datetime(2025, 3, 5, 14, 0, tzinfo=AMS)
    assert st.next_start_local == datetime(2025, 3, 5, 14, 0, tzinfo=AMS)  # Ada again
    assert st.backup == "Bo"
    # Without overrides the header's answer is what it always was.
    plain = rota().status(utc(2025, 3, 5, 12))
    assert plain.on_call == "Ada" and plain.ends_at_local == datetime(2025, 3, 5, 17, 0, tzinfo=AMS)
    assert plain.backup == "Bo"


# -- the timeline ----------------------------------------------------------------------


def _spans(slots) -> list[tuple[str, str, str | None, bool]]:  # type: ignore[no-untyped-def]
    return [(f"{s.start:%a %H:%M}", f"{s.end:%a %H:%M}", s.on_call, s.covered) for s in slots]


def test_the_timeline_names_shifts_gaps_and_nights_across_midnight() -> None:
    # Friday 7 March 2025 00:00 local -> Sunday 00:00 local.
    slots = rota().timeline(utc(2025, 3, 6, 23), utc(2025, 3, 8, 23))
    assert _spans(slots) == [
        ("Fri 00:00", "Fri 08:00", None, False),
        ("Fri 08:00", "Fri 17:00", "Ada", True),
        ("Fri 17:00", "Fri 22:00", None, False),
        ("Fri 22:00", "Sat 06:00", "Cas", True),
        ("Sat 06:00", "Sat 10:00", None, False),
        ("Sat 10:00", "Sat 18:00", "Dee", True),
        ("Sat 18:00", "Sun 00:00", None, False),
    ]
    assert slots[1].backup == "Bo" and slots[3].backup is None


def test_the_timeline_splits_a_shift_around_an_override_and_says_whom_it_replaced() -> None:
    ov = swap("Eve", utc(2025, 3, 5, 11), utc(2025, 3, 5, 13))
    slots = rota(ov).timeline(utc(2025, 3, 5, 7), utc(2025, 3, 5, 16))
    assert _spans(slots) == [
        ("Wed 08:00", "Wed 12:00", "Ada", True),
        ("Wed 12:00", "Wed 14:00", "Eve", True),
        ("Wed 14:00", "Wed 17:00", "Ada", True),
    ]
    assert slots[1].scheduled == "Ada" and slots[1].override is not None and slots[1].override.id == ov.id


def test_the_timeline_on_the_spring_forward_night() -> None:
    # Sunday 30 March 2025: the clocks go 02:00 -> 03:00.  A Saturday night shift that
    # starts 29 March 22:00 CET ends Sunday 06:00 CEST: 7 real hours.
    cfg = {**CONFIG, "rota": {"shift": [{"name": "n", "days": ["sat"], "start": "22:00", "end": "06:00", "on_call": "N"}]}}
    r = rota_from_config(parse_config(cfg))
    slots = [s for s in r.timeline(utc(2025, 3, 29, 12), utc(2025, 3, 30, 12)) if s.covered]
    assert len(slots) == 1
    assert slots[0].end.astimezone(UTC) - slots[0].start.astimezone(UTC) == timedelta(hours=7)
    assert slots[0].end.utcoffset() == timedelta(hours=2)


def test_the_timeline_on_a_holiday_runs_only_holiday_shifts() -> None:
    # King's Day 2026 (Monday 27 April): the Monday day shift does not start.
    slots = rota().timeline(utc(2026, 4, 26, 22), utc(2026, 4, 27, 22))
    assert [s for s in slots if s.covered] == []
    assert rota().holiday(datetime(2026, 4, 27).date()) == "King's Day"


def test_no_shifts_means_everything_is_covered_in_the_timeline_too() -> None:
    r = rota_from_config(parse_config({"organisation": {"timezone": "Europe/Amsterdam"}}))
    slots = r.timeline(utc(2025, 3, 5), utc(2025, 3, 6))
    assert len(slots) == 1 and slots[0].covered and slots[0].on_call is None


# -- the calendar ----------------------------------------------------------------------


def _calendar(payload: bytes):  # type: ignore[no-untyped-def]
    from icalendar import Calendar

    return Calendar.from_ical(payload)


def test_the_ics_export_reads_back_with_the_zone_and_stable_ids() -> None:
    from watchtower.core.coverage.rota_ics import rota_ics

    r = rota(swap("Eve", utc(2025, 3, 5, 11), utc(2025, 3, 5, 13), reason="dentist"))
    start, end = utc(2025, 3, 2, 23), utc(2025, 3, 9, 23)  # Mon 3 - Sun 9 March local
    payload = rota_ics(r, start, end, now=utc(2025, 3, 1), name="Riverside")
    cal = _calendar(payload)
    assert str(cal["x-wr-calname"]) == "On call: Riverside"
    assert any(c.name == "VTIMEZONE" and str(c["tzid"]) == "Europe/Amsterdam" for c in cal.subcomponents)
    events = [c for c in cal.walk("VEVENT")]
    summaries = [str(e["summary"]) for e in events]
    # 5 weekdays (Wednesday split in three by the override), 1 night, 2 weekend days.
    assert summaries.count("On call: Ada (day)") == 6
    assert summaries.count("On call: Eve (day)") == 1
    assert summaries.count("On call: Cas (night)") == 1 and summaries.count("On call: Dee (weekend)") == 2
    eve = next(e for e in events if str(e["summary"]) == "On call: Eve (day)")
    assert eve.decoded("dtstart") == datetime(2025, 3, 5, 12, 0, tzinfo=AMS)
    assert eve["dtstart"].params["TZID"] == "Europe/Amsterdam"
    assert "in place of Ada" in str(eve["description"]) and "dentist" in str(eve["description"])
    again = _calendar(rota_ics(r, start, end, now=utc(2025, 3, 2), name="Riverside"))
    assert {str(e["uid"]) for e in again.walk("VEVENT")} == {str(e["uid"]) for e in events}


def test_the_ics_export_for_one_person_has_their_shifts_and_backup_duty_and_holidays() -> None:
    from watchtower.core.coverage.rota_ics import rota_ics

    start, end = utc(2026, 4, 19, 22), utc(2026, 5, 3, 22)  # two weeks around King's Day
    cal = _calendar(rota_ics(rota(), start, end, now=utc(2026, 4, 1), who="bo"))
    summaries = [str(e["summary"]) for e in cal.walk("VEVENT")]
    assert all(s.startswith(("Backup: Bo", "Holiday:")) for s in summaries), summaries
    assert summaries.count("Backup: Bo (day; on call: Ada)") == 9  # 10 weekdays minus King's Day
    holiday = next(e for e in cal.walk("VEVENT") if str(e["summary"]).startswith("Holiday: King"))
    assert str(holiday["transp"]) == "TRANSPARENT"
    assert holiday.decoded("dtstart") == datetime(2026, 4, 27).date()


# -- times as people type them ---------------------------------------------------------


NOW = utc(2025, 3, 5, 9, 30)  # Wednesday 10:30 in Amsterdam


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("+2h", NOW + timedelta(hours=2)),
        ("in 30m", NOW + timedelta(minutes=30)),
        ("22:00", datetime(2025, 3, 5, 22, 0, tzinfo=AMS)),
        ("08:00", datetime(2025, 3, 5, 8, 0, tzinfo=AMS)),  # today's, even if it passed
        ("tomorrow 08:00", datetime(2025, 3, 6, 8, 0, tzinfo=AMS)),
        ("sat 10:00", datetime(2025, 3, 8, 10, 0, tzinfo=AMS)),
        ("sat", datetime(2025, 3, 8, 0, 0, tzinfo=AMS)),
        ("Wednesday 18:00", datetime(2025, 3, 5, 18, 0, tzinfo=AMS)),  # today counts
        ("tue 09:00", datetime(2025, 3, 11, 9, 0, tzinfo=AMS)),
        ("2025-03-30 02:30", datetime(2025, 3, 30, 3, 30, tzinfo=AMS)),  # in the DST gap: after it
        ("2025-03-08", datetime(2025, 3, 8, 0, 0, tzinfo=AMS)),
        ("2025-03-08T10:00Z", utc(2025, 3, 8, 10)),
    ],
)
def test_moments_are_read_in_the_organisations_zone(text: str, expected: datetime) -> None:
    assert parse_moment(text, now=NOW, tz=AMS) == expected


def test_a_bare_end_time_before_the_start_is_the_next_day() -> None:
    start = parse_moment("22:00", now=NOW, tz=AMS)
    assert parse_moment("06:00", now=NOW, tz=AMS, after=start) == datetime(2025, 3, 6, 6, 0, tzinfo=AMS)


@pytest.mark.parametrize("text", ["", "soon", "sat 25:00", "25:00", "2025-13-01", "+forever", "tomorrow noon"])
def test_unreadable_moments_say_what_was_expected(text: str) -> None:
    with pytest.raises(ValueError, match="expected"):
        parse_moment(text, now=NOW, tz=AMS)


@pytest.mark.parametrize(
    ("text", "minutes"), [("30m", 30), ("2h", 120), ("1h30m", 90), ("1d", 1440), ("45", 45), ("90 min", 90)]
)
def test_durations(text: str, minutes: int) -> None:
    assert parse_duration(text) == timedelta(minutes=minutes)


@pytest.mark.parametrize("text", ["", "soon", "-5m", "2y", "999999h"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)
