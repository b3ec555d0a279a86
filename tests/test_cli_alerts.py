"""``watchtower escalate-due`` and ``watchtower ack``: on-call alerting headless, from cron.

A local HTTP target per person (Apprise ``json://`` to pytest-httpserver), a real config
file, archive and handover log in tmp dirs.  In-process tests move "now" by replacing the
command module's clock; the cron test runs the real ``watchtower`` processes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest
from alert_targets import alert_targets, counts, env_for, failing, pushes
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer

from watchtower.cli import cli
from watchtower.core.models import Item, Severity
from watchtower.core.record.archive import Archive
from watchtower.core.record.log import HandoverLog
from watchtower.core.respond.escalation import item_ref

UTC = timezone.utc

CONFIG = """
[organisation]
timezone = "Europe/Amsterdam"

[rota.people]
Sam = ["WT_SAM"]
Ann = ["WT_ANN"]

[[rota.shift]]                 # start == end: a 24-hour shift, every day, so "now" is always covered
name = "all-day"
days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday"]
start = "00:00"
end = "00:00"
on_call = "Sam"
backup = "Ann"

[alerts.escalation]
fallback_url_envs = ["WT_FALLBACK"]
"""


@pytest.fixture
def people() -> Iterator[dict[str, HTTPServer]]:
    with alert_targets("sam", "ann", "fallback") as servers:
        yield servers


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    path = tmp_path / "watchtower.toml"
    path.write_text(CONFIG)
    return path


class Now:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import watchtower.cli_alerts

        self.at = datetime.now(UTC)
        monkeypatch.setattr(watchtower.cli_alerts, "_now", lambda: self.at)

    def advance(self, **kw: float) -> None:
        self.at += timedelta(**kw)


def critical_item(n: int = 1) -> Item:
    it = Item.create(platform="Mastodon", source="masto", native_id=f"p{n}", author="@reader@social.example",
                     text=f"The library is on fire, people evacuated #{n}", published=datetime.now(UTC))
    it.severity = Severity.CRITICAL
    return it


def archive(data_dir: Path, *items: Item) -> None:
    with Archive(data_dir) as a:
        a.add(items)


def run(cfg: Path, data_dir: Path, people: dict[str, HTTPServer], *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--config", str(cfg), "--data-dir", str(data_dir)],
                              env=env_for(people), catch_exceptions=False)


def test_escalate_due_pages_on_call_escalates_to_the_backup_and_ack_stops_it(
    cfg: Path, data_dir: Path, people: dict[str, HTTPServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = Now(monkeypatch)
    it = critical_item()
    archive(data_dir, it)
    first = run(cfg, data_dir, people, "escalate-due")
    assert first.exit_code == 0, first.output
    assert "on_call  Sam: 1 item(s); pushed to 1 target" in first.output
    assert counts(people) == {"sam": 1, "ann": 0, "fallback": 0}
    assert f"watchtower ack {item_ref(it.id)}" in pushes(people["sam"])[0]["message"]

    listing = run(cfg, data_dir, people, "ack")
    assert listing.output.startswith(f"{item_ref(it.id)}  on_call  Sam")

    now.advance(minutes=5)
    assert "nothing to page (1 alert(s) waiting for acknowledgement; next escalation due" in \
        run(cfg, data_dir, people, "escalate-due").output
    now.advance(minutes=5, seconds=30)  # the log stamps entries with the real clock, a moment after "now"
    second = run(cfg, data_dir, people, "escalate-due")
    assert "backup   Ann: 1 item(s); pushed to 1 target (not acknowledged 10 min after Sam was alerted)" in second.output
    assert counts(people) == {"sam": 1, "ann": 1, "fallback": 0}

    acked = run(cfg, data_dir, people, "ack", item_ref(it.id), "--operator", "Ann")
    assert acked.exit_code == 0, acked.output
    assert "acknowledged: !!! CRIT Mastodon @reader@social.example" in acked.output
    claim = HandoverLog(data_dir).entries(kinds=["claimed"])
    assert [(e.operator, e.item_id) for e in claim] == [("Ann", it.id)]

    now.advance(hours=2)
    assert "nothing to page (0 alert(s)" in run(cfg, data_dir, people, "escalate-due").output
    assert counts(people) == {"sam": 1, "ann": 1, "fallback": 0}
    assert run(cfg, data_dir, people, "ack").output.strip() == "no alert is waiting for acknowledgement"
    again = run(cfg, data_dir, people, "ack", it.id)
    assert "already acknowledged (claimed by Ann)" in again.output


def test_escalate_due_exits_1_and_says_so_when_nobody_could_be_reached(
    cfg: Path, data_dir: Path, people: dict[str, HTTPServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    Now(monkeypatch)
    for server in people.values():
        failing(server)
    archive(data_dir, critical_item())
    result = CliRunner().invoke(cli, ["escalate-due", "--config", str(cfg), "--data-dir", str(data_dir)],
                                env=env_for(people))
    assert result.exit_code == 1
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == ["on_call  Sam", "backup   Ann", "fallback the fallback"]
    assert counts(people) == {"sam": 1, "ann": 1, "fallback": 1}


def test_an_unset_env_var_is_a_warning_and_the_next_level_gets_the_page(
    cfg: Path, data_dir: Path, people: dict[str, HTTPServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    Now(monkeypatch)
    archive(data_dir, critical_item())
    env = {k: v for k, v in env_for(people).items() if k != "WT_SAM"}
    result = CliRunner().invoke(cli, ["escalate-due", "--config", str(cfg), "--data-dir", str(data_dir)], env=env)
    assert result.exit_code == 0
    assert "environment variable WT_SAM is not set" in result.stderr
    assert counts(people) == {"sam": 0, "ann": 1, "fallback": 0}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ack", "deadbeef"], "no alert or archived item 'deadbeef'"),
        (["escalate-due", "--data-dir", "{d}"], "escalate-due needs a config"),
    ],
)
def test_mistakes_are_one_line_and_exit_2(data_dir: Path, cfg: Path, args: list[str], message: str) -> None:
    args = [a.replace("{d}", str(data_dir)) for a in args]
    if args[0] == "ack":
        args += ["--config", str(cfg), "--data-dir", str(data_dir)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


RSS = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Local news</title>'
    "<link>http://127.0.0.1/</link>"
    "<item><title>The library is on fire, people evacuated</title><link>http://127.0.0.1/fire</link>"
    "<guid>fire-1</guid><pubDate>{date}</pubDate></item>"
    "</channel></rss>"
)


@pytest.mark.slow  # runs the real watchtower processes, as cron does
def test_cron_fetch_then_escalate_due_pages_the_person_on_call_and_ack_stops_it(
    tmp_path: Path, cfg: Path, people: dict[str, HTTPServer], httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/feed").respond_with_data(
        RSS.format(date=format_datetime(datetime.now(UTC))), content_type="application/rss+xml")
    cfg.write_text(CONFIG + f'\n[[sources]]\nname = "news"\nplatform = "News"\nkind = "rss"\nurl = "{httpserver.url_for("/feed")}"\n')
    env = {**os.environ, **env_for(people), "WATCHTOWER_CONFIG": str(cfg),
           "WATCHTOWER_DATA_DIR": str(tmp_path / "data")}

    def watchtower(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "watchtower", *args], env=env, capture_output=True,
                              text=True, timeout=120)

    fetched = watchtower("fetch", "--json")
    assert fetched.returncode == 0, fetched.stderr
    assert '"severity": "critical"' in fetched.stdout
    paged = watchtower("escalate-due")
    assert paged.returncode == 0, paged.stderr
    assert counts(people) == {"sam": 1, "ann": 0, "fallback": 0}
    assert "The library is on fire" in pushes(people["sam"])[0]["message"]
    assert watchtower("escalate-due").stdout.startswith("nothing to page"), "paged once, not every minute"
    ref = watchtower("ack").stdout.split()[0]
    acked = watchtower("ack", ref, "--operator", "Sam")
    assert acked.returncode == 0 and acked.stdout.startswith("acknowledged:"), acked.stderr
