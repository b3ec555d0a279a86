"""``watchtower rota show|override|export``: the rota as people use it, from a shell.

CliRunner runs the real command tree in-process with a real config file and a real
handover log in a tmp dir; "now" is pinned by replacing the command module's clock.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from watchtower.cli import cli
from watchtower.core.record.log import HandoverLog

UTC = timezone.utc
#: Tuesday 22 December 2026, 10:00 in Amsterdam.
NOW = datetime(2026, 12, 22, 9, 0, tzinfo=UTC)

CONFIG = """
[organisation]
name = "Riverside Library"
timezone = "Europe/Amsterdam"

[rota]
holidays = "NL"

[[rota.shift]]
name = "weekdays"
days = ["mon", "tue", "wed", "thu", "fri"]
start = "08:00"
end = "18:00"
on_call = "Sam"
backup = "Ann"

[[rota.shift]]
name = "weekend"
days = ["sat", "sun"]
start = "10:00"
end = "16:00"
on_call = "Robin"

[[rota.shift]]
name = "holiday-call"
days = ["holiday"]
start = "11:00"
end = "15:00"
on_call = "Robin"
"""


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import watchtower.cli_rota

    monkeypatch.setattr(watchtower.cli_rota, "_now", lambda: NOW)
    path = tmp_path / "watchtower.toml"
    path.write_text(CONFIG)
    return path


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_rota_show_week_names_who_when_with_gaps_and_holidays(cfg: Path, data_dir: Path) -> None:
    result = run("rota", "show", "--week", "--config", str(cfg), "--data-dir", str(data_dir))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Rota in Europe/Amsterdam, now Tue 22 Dec 10:00 CET" in out
    assert "On call now: Sam, weekdays until 18:00; backup Ann" in out
    assert "Tue 22 Dec\n  00:00-08:00       nobody on call\n  08:00-18:00       weekdays       Sam (backup Ann)" in out
    assert "Fri 25 Dec  ☼ Christmas Day (holiday: only holiday shifts start)" in out
    christmas = out.split("Fri 25 Dec")[1].split("\n\n")[0]
    assert "11:00-15:00       holiday-call   Robin" in christmas and "weekdays" not in christmas
    assert "Sat 26 Dec  ☼ Second Day of Christmas" in out  # a holiday on a Saturday: no weekend shift
    assert "Sun 27 Dec  (weekend)\n  10:00-16:00       weekend        Robin" in out


def test_rota_show_json_is_one_slot_per_line(cfg: Path, data_dir: Path) -> None:
    result = run("--config", str(cfg), "--data-dir", str(data_dir), "rota", "show", "--json")
    slots = [json.loads(line) for line in result.output.splitlines()]
    assert slots[0] == {
        "start": "2026-12-22T00:00:00+01:00", "end": "2026-12-22T08:00:00+01:00", "covered": False,
        "shift": None, "on_call": None, "scheduled": None, "backup": None, "override": None,
    }
    assert slots[1]["on_call"] == "Sam" and slots[1]["backup"] == "Ann"


def test_an_override_is_a_log_entry_the_rota_applies_and_can_be_withdrawn(cfg: Path, data_dir: Path) -> None:
    result = run("--operator", "Sam", "--config", str(cfg), "rota", "override", "--who", "Ann",
                 "--from", "wed 12:00", "--to", "wed 14:00", "--reason", "dentist", "--data-dir", str(data_dir))
    assert result.exit_code == 0, result.output
    assert "recorded: Ann on call Wed 23 Dec 12:00 - Wed 23 Dec 14:00 CET in place of Sam: dentist" in result.output
    [entry] = HandoverLog(data_dir).entries()
    assert entry.kind == "rota_override" and entry.operator == "Sam"
    assert entry.data["who"] == "Ann" and entry.data["start"] == "2026-12-23T11:00:00+00:00"
    shown = run("rota", "show", "--week", "--config", str(cfg), "--data-dir", str(data_dir)).output
    wed = shown.split("Wed 23 Dec")[1].split("\n\n")[0]
    assert "08:00-12:00       weekdays       Sam (backup Ann)" in wed
    assert f"12:00-14:00       weekdays       Ann  [override in place of Sam, set by Sam, id {entry.id[:8]}]" in wed
    assert "14:00-18:00       weekdays       Sam (backup Ann)" in wed
    assert "dentist" in shown.split("Overrides:")[1]
    withdrawn = run("rota", "override", "--cancel", entry.id[:6], "--config", str(cfg), "--data-dir", str(data_dir))
    assert withdrawn.exit_code == 0 and f"withdrew override {entry.id[:8]}" in withdrawn.output
    again = run("rota", "show", "--week", "--config", str(cfg), "--data-dir", str(data_dir)).output
    assert "override" not in again.split("Wed 23 Dec")[1].split("\n\n")[0]


def test_a_night_override_from_a_bare_evening_to_a_bare_morning(cfg: Path, data_dir: Path) -> None:
    result = run("rota", "override", "--who", "Robin", "--from", "22:00", "--to", "06:00",
                 "--config", str(cfg), "--data-dir", str(data_dir))
    assert "Robin on call Tue 22 Dec 22:00 - Wed 23 Dec 06:00 CET" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--who", "Ann", "--from", "wed 12:00", "--to", "2026-12-23 11:00"], "must be after --from"),
        (["--who", "Ann", "--from", "2026-12-01 10:00", "--to", "2026-12-02 10:00"], "ended already"),
        (["--who", "Ann", "--from", "now", "--to", "+40d"], "at most 31 days"),
        (["--who", "Ann", "--from", "soon", "--to", "+1h"], "Invalid value for --from"),
        (["--who", "Ann", "--from", "now"], "missing --to"),
        (["--cancel", "abcdef"], "no override in force with id 'abcdef'"),
    ],
)
def test_override_mistakes_are_one_clear_error_and_nothing_is_written(
    cfg: Path, data_dir: Path, args: list[str], message: str
) -> None:
    result = run("rota", "override", *args, "--config", str(cfg), "--data-dir", str(data_dir))
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert HandoverLog(data_dir).entries() == []


def test_an_unknown_person_is_recorded_with_a_warning_about_alerts(cfg: Path, data_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["rota", "override", "--who", "Zed", "--from", "now", "--to", "+2h",
                                      "--config", str(cfg), "--data-dir", str(data_dir)])
    assert result.exit_code == 0
    assert "Zed is not named in [rota]" in result.stderr


def test_rota_export_writes_an_ics_file_for_a_calendar(cfg: Path, data_dir: Path, tmp_path: Path) -> None:
    from icalendar import Calendar

    target = tmp_path / "rota.ics"
    result = run("rota", "export", "--format", "ics", "--weeks", "2", "--who", "robin", "-o", str(target),
                 "--config", str(cfg), "--data-dir", str(data_dir))
    assert result.exit_code == 0, result.output
    cal = Calendar.from_ical(target.read_bytes())
    assert str(cal["x-wr-calname"]) == "On call: Riverside Library (robin)"
    summaries = sorted(str(e["summary"]) for e in cal.walk("VEVENT"))
    # Dec 22 - Jan 4: weekends 27 Dec, 2 and 3 Jan (26 Dec is a holiday), holiday shifts
    # on 25 and 26 Dec and 1 Jan; plus the three holidays themselves.
    assert summaries.count("On call: Robin (weekend)") == 3
    assert summaries.count("On call: Robin (holiday-call)") == 3
    assert len([s for s in summaries if s.startswith("Holiday:")]) == 3
    assert all(not s.startswith("On call: Sam") for s in summaries)


def test_rota_commands_need_a_config_or_a_data_dir() -> None:
    result = run("rota", "show")
    assert result.exit_code == 2 and "pass --config, --data-dir or --demo" in result.output
