"""``watchtower log`` and ``watchtower handover``: CliRunner for behaviour, real processes for sharing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import pytest
from click.testing import CliRunner

from watchtower.cli_log import handover_group, log_group, parse_when
from watchtower.core.record.log import HandoverLog


def run(group: click.Group, *args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(group, list(args), env=env, catch_exceptions=False)


def test_add_and_list(data_dir: Path) -> None:
    d = str(data_dir)
    r = run(log_group, "add", "first note", "--operator", "ann", "--data-dir", d)
    assert r.exit_code == 0, r.output
    entry_id = r.output.strip()
    assert len(entry_id) == 32
    r = run(log_group, "add", "claiming", "--kind", "claimed", "--item", "Mastodon:1", "--data-dir", d,
            env={"WATCHTOWER_OPERATOR": "bob"})
    assert r.exit_code == 0
    r = run(log_group, "list", "--data-dir", d)
    assert "ann" in r.output and "first note" in r.output and "bob" in r.output and "Mastodon:1" in r.output
    r = run(log_group, "list", "--json", "--kind", "claimed", "--data-dir", d)
    rows = [json.loads(line) for line in r.output.splitlines()]
    assert [(x["kind"], x["operator"], x["item_id"]) for x in rows] == [("claimed", "bob", "Mastodon:1")]
    r = run(log_group, "list", "--operator", "ann", "--since", "1h", "--data-dir", d)
    assert r.output.count("\n") == 1


def test_hostile_note_is_cleaned(data_dir: Path) -> None:
    run(log_group, "add", "evil \x1b]0;pwned\x07title \x1b[2J", "--data-dir", str(data_dir))
    r = run(log_group, "list", "--data-dir", str(data_dir))
    assert "\x1b" not in r.output and "evil title" in r.output


def test_handover_start_ack_show_export(data_dir: Path) -> None:
    d = str(data_dir)
    r = run(handover_group, "ack", "--data-dir", d)
    assert r.exit_code == 2 and "no handover to acknowledge" in r.output
    run(log_group, "add", "# not a heading [x](javascript:alert(1))", "--operator", "ann", "--data-dir", d)
    r = run(handover_group, "start", "all quiet", "--operator", "ann", "--data-dir", d)
    assert r.exit_code == 0 and "handed over" in r.output
    r = run(handover_group, "show", "--data-dir", d)
    assert "**not acknowledged**" in r.output
    r = run(handover_group, "ack", "--operator", "bob", "--data-dir", d)
    assert r.exit_code == 0 and "acknowledged the handover by ann" in r.output
    r = run(handover_group, "ack", "--operator", "cem", "--data-dir", d)
    assert "already acknowledged by bob" in r.output
    r = run(handover_group, "export", "--format", "md", "--since", "1d", "--data-dir", d)
    assert "acknowledged by bob" in r.output
    assert "```text\n# not a heading" in r.output  # the note is fenced
    assert "```text\nall quiet\n```" in r.output  # and so is the handover note
    r = run(handover_group, "export", "--format", "json", "--since", "2026-01-01", "--data-dir", d)
    data = json.loads(r.output)
    assert data["acknowledged"]["operator"] == "bob" and data["notes"][0]["operator"] == "ann"


def test_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    r = run(log_group, "list", "--config", str(tmp_path / "missing.toml"), "--data-dir", str(tmp_path / "d"))
    assert r.exit_code == 2
    assert r.output.strip().startswith("watchtower: config error:") and "Traceback" not in r.output
    bad = tmp_path / "bad.toml"
    bad.write_text("[data]\nretention_days = 'a week'\n")
    r = run(log_group, "list", "--config", str(bad), "--data-dir", str(tmp_path / "d"))
    assert r.exit_code == 2 and "data.retention_days" in r.output
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    r = run(log_group, "add", "x", "--data-dir", str(tmp_path / "link"))
    assert r.exit_code == 2 and r.output.count("\n") == 1 and "symbolic link" in r.output
    r = run(log_group, "add", "x", "--kind", "nonsense", "--data-dir", str(real))
    assert r.exit_code == 2


def test_config_supplies_data_dir_operator_and_zone(tmp_path: Path) -> None:
    cfg = tmp_path / "wt.toml"
    cfg.write_text(
        'operator = "from-config"\n[organisation]\ntimezone = "Asia/Tokyo"\n[data]\ndir = "team-data"\n'
    )
    r = run(log_group, "add", "hello", "--config", str(cfg))
    assert r.exit_code == 0, r.output
    assert (tmp_path / "team-data").is_dir()  # relative to the config file
    r = run(log_group, "list", "--config", str(cfg))
    assert "from-config" in r.output and "JST" in r.output


def test_parse_when() -> None:
    now = datetime(2026, 11, 6, 12, 0, tzinfo=timezone.utc)
    ams = ZoneInfo("Europe/Amsterdam")
    assert parse_when("2h", now=now, tz=ams) == now - timedelta(hours=2)
    assert parse_when("1d", now=now, tz=ams) == now - timedelta(days=1)
    assert parse_when("30m", now=now, tz=ams) == now - timedelta(minutes=30)
    assert parse_when("2026-11-06", now=now, tz=ams) == datetime(2026, 11, 5, 23, 0, tzinfo=timezone.utc)
    assert parse_when("2026-11-06T10:00Z", now=now, tz=ams) == datetime(2026, 11, 6, 10, tzinfo=timezone.utc)
    with pytest.raises(click.BadParameter):
        parse_when("next tuesday", now=now, tz=ams)


CLI_LOOP = textwrap.dedent(
    """
    import sys
    from watchtower.cli_log import log_group
    sys.stdin.readline()
    for i in range(int(sys.argv[2])):
        try:
            log_group.main(["add", f"{sys.argv[1]} {i}", "--operator", sys.argv[1]], standalone_mode=False)
        except SystemExit as exc:
            if exc.code:
                raise
    """
)


@pytest.mark.slow
def test_cli_and_another_process_write_at_once(data_dir: Path) -> None:
    """Two real CLI processes (each invoking ``log add`` 100 times) share one data dir."""
    env = {**os.environ, "WATCHTOWER_DATA_DIR": str(data_dir)}
    procs = [
        subprocess.Popen([sys.executable, "-c", CLI_LOOP, name, "100"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for name in ("ann", "bob")
    ]
    for p in procs:
        p.stdin.write("go\n")  # type: ignore[union-attr]
        p.stdin.flush()  # type: ignore[union-attr]
    ids: list[str] = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        ids += out.split()
    assert len(ids) == 200
    assert {e.id for e in HandoverLog(data_dir).entries()} == set(ids)


@pytest.mark.slow
def test_real_command_line_errors_have_no_traceback(tmp_path: Path) -> None:
    code = "import sys; from watchtower.cli_log import log_group; log_group.main(sys.argv[1:], prog_name='watchtower log')"
    out = subprocess.run(
        [sys.executable, "-c", code, "list", "--config", str(tmp_path / "nope.toml")],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and out.stderr.count("\n") == 1
