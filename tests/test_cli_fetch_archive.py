"""``watchtower fetch`` stores what it fetches in the archive (issue 19.3), so what cron
fetched is searchable, can be paged by ``escalate-due`` and is known to the TUI; ``--no-archive``
stores nothing.  A real local feed (pytest-httpserver) and a real archive in a tmp dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from watchtower.cli import cli
from watchtower.core.record.archive import ARCHIVE_NAME, Archive

RSS = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Local</title>'
    "<link>http://127.0.0.1/</link>"
    '<item><title>Our library from the local feed</title><link>http://127.0.0.1/a</link><guid>a-1</guid>'
    "<pubDate>Mon, 02 Nov 2026 10:00:00 +0000</pubDate></item>"
    "</channel></rss>"
)


@pytest.fixture
def feed_config(tmp_path: Path, httpserver) -> Path:  # type: ignore[no-untyped-def]
    httpserver.expect_request("/feed").respond_with_data(RSS, content_type="application/rss+xml")
    cfg = tmp_path / "prod.toml"
    cfg.write_text(f'[[sources]]\nname = "local"\nplatform = "News"\nkind = "rss"\nurl = "{httpserver.url_for("/feed")}"\n')
    return cfg


def rows(result: Result) -> list[dict]:
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def fetch(cfg: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["fetch", "--json", "--config", str(cfg), *args], env=env, catch_exceptions=False)


def test_fetch_archives_in_the_data_dir_from_the_environment_and_prints_each_item_once(
    feed_config: Path, tmp_path: Path
) -> None:
    d = tmp_path / "data"
    env = {"WATCHTOWER_DATA_DIR": str(d)}
    assert len(rows(fetch(feed_config, env=env))) == 1
    with Archive(d) as archive:
        assert [i.text for i in archive.recent()] == ["Our library from the local feed"]
    assert rows(fetch(feed_config, env=env)) == [], "archived already: a cron job sees each item once"


def test_fetch_without_any_data_dir_archives_in_the_user_data_dir(feed_config: Path) -> None:
    from platformdirs import user_data_dir

    rows(fetch(feed_config))
    assert (Path(user_data_dir("watchtower")) / ARCHIVE_NAME).is_file()


def test_no_archive_stores_nothing_and_prints_everything(feed_config: Path, tmp_path: Path) -> None:
    d = tmp_path / "data"
    assert len(rows(fetch(feed_config, "--no-archive", "--data-dir", str(d)))) == 1
    assert len(rows(fetch(feed_config, "--no-archive", "--data-dir", str(d)))) == 1
    assert not (d / ARCHIVE_NAME).exists()


def test_a_rota_override_in_the_log_counts_for_the_coverage_of_what_fetch_judges(tmp_path: Path, httpserver) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime, timedelta, timezone
    from email.utils import format_datetime

    from watchtower.core.record.log import HandoverLog
    from watchtower.core.respond.schedule import record_entry

    now = datetime.now(timezone.utc)
    httpserver.expect_request("/now").respond_with_data(
        RSS.replace("Mon, 02 Nov 2026 10:00:00 +0000", format_datetime(now)), content_type="application/rss+xml")
    cfg = tmp_path / "c.toml"
    # A shift that never starts (only on holidays, and no holiday country): nobody is ever on call.
    cfg.write_text('[[rota.shift]]\nname = "never"\ndays = ["holiday"]\nstart = "10:00"\nend = "11:00"\non_call = "X"\n'
                   f'[[sources]]\nname = "local"\nplatform = "News"\nkind = "rss"\nurl = "{httpserver.url_for("/now")}"\n')
    d = tmp_path / "data"
    [before] = rows(fetch(cfg, "--no-archive", "--data-dir", str(d)))
    assert before["coverage"]["covered"] is False
    # What `watchtower rota override --who Ann --from ... --to ...` records.
    record_entry(HandoverLog(d), "rota_override", "Ann this afternoon", operator="sam",
                 data={"who": "Ann", "start": (now - timedelta(hours=1)).isoformat(),
                       "end": (now + timedelta(hours=1)).isoformat()})
    [after] = rows(fetch(cfg, "--data-dir", str(d)))
    assert after["coverage"]["covered"] is True and after["coverage"]["on_call"] == "Ann"
