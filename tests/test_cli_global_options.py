"""Global options (--config, --data-dir, --operator, --demo) before or after the command.

``watchtower --config prod.toml fetch --json`` printed the demo's items, and
``watchtower --data-dir D --operator Sam log add ...`` wrote to the default data dir as the
OS user: options before the command were parsed and dropped.  And a command a cron job
runs printed the demo's items when it found no config.  Issue 15, point 4.

CliRunner runs the real click command tree in-process; the sources are a real local HTTP
server (pytest-httpserver), the log and archive real files in tmp dirs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from watchtower.cli import cli
from watchtower.core.record.log import HandoverLog

RSS = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Local</title>'
    "<link>http://127.0.0.1/</link>"
    '<item><title>Our library from the local feed</title><link>http://127.0.0.1/a</link><guid>a-1</guid>'
    "<pubDate>Mon, 02 Nov 2026 10:00:00 +0000</pubDate></item>"
    "</channel></rss>"
)


def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, env=env, catch_exceptions=False)


@pytest.fixture
def feed_config(tmp_path: Path, httpserver) -> Path:  # type: ignore[no-untyped-def]
    httpserver.expect_request("/feed").respond_with_data(RSS, content_type="application/rss+xml")
    cfg = tmp_path / "prod.toml"
    cfg.write_text(
        '[[sources]]\nname = "local"\nplatform = "News"\nkind = "rss"\n'
        f'url = "{httpserver.url_for("/feed")}"\n'
    )
    return cfg


def _rows(result: Result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def _default_data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("watchtower"))


@pytest.mark.parametrize("where", ["before", "after"])
def test_config_before_or_after_fetch_is_the_config_fetch_polls(feed_config: Path, where: str) -> None:
    args = ["--config", str(feed_config), "fetch", "--json"] if where == "before" else ["fetch", "--json", "--config", str(feed_config)]
    result = run(*args)
    assert result.exit_code == 0, result.output
    rows = _rows(result)
    assert [(r["source"], r["platform"]) for r in rows] == [("local", "News")]  # not the demo's 45 items


@pytest.mark.parametrize(
    "layout",
    [
        ["--data-dir", "{d}", "--operator", "Sam", "log", "add", "hello"],
        ["log", "add", "hello", "--data-dir", "{d}", "--operator", "Sam"],
        ["--data-dir", "{d}", "log", "add", "hello", "--operator", "Sam"],
    ],
    ids=["before", "after", "mixed"],
)
def test_data_dir_and_operator_reach_log_add_wherever_they_are(tmp_path: Path, layout: list[str]) -> None:
    data = tmp_path / "team"
    result = run(*(a.format(d=data) for a in layout))
    assert result.exit_code == 0, result.output
    entries = HandoverLog(data).entries()
    assert [(e.operator, e.text) for e in entries] == [("Sam", "hello")]
    assert not (_default_data_dir() / "log.lock").exists()  # nothing went to the default data dir


def test_the_option_after_the_command_wins_and_help_says_so(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    result = run("--data-dir", str(a), "--operator", "Ann", "log", "add", "x", "--data-dir", str(b), "--operator", "Bob")
    assert result.exit_code == 0, result.output
    assert [(e.operator, e.text) for e in HandoverLog(b).entries()] == [("Bob", "x")]
    assert not a.exists() or not HandoverLog(a).entries()
    for args in ([], ["fetch"], ["log", "add"]):
        text = " ".join(run(*args, "--help").output.split())
        assert "before or after the command" in text and "the one after the command wins" in text, args


def test_operator_before_log_list_is_who_you_are_and_after_it_a_filter(tmp_path: Path) -> None:
    d = str(tmp_path / "d")
    run("--data-dir", d, "--operator", "ann", "log", "add", "from ann")
    run("--data-dir", d, "--operator", "bob", "log", "add", "from bob")
    result = run("--operator", "cem", "--data-dir", d, "log", "list", "--operator", "ann", "--json")
    assert result.exit_code == 0, result.output
    assert [r["text"] for r in _rows(result)] == ["from ann"]


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["fetch", "--json"], "pass --config or --demo"),
        (["check"], "pass --config or --demo"),
        (["triage", "-"], "pass --config or --demo"),
        (["log", "list"], "pass --config, --data-dir or --demo"),
        (["log", "add", "a note"], "pass --config, --data-dir or --demo"),
        (["handover", "show"], "pass --config, --data-dir or --demo"),
    ],
    ids=["fetch", "check", "triage", "log-list", "log-add", "handover-show"],
)
def test_no_config_anywhere_is_exit_2_never_the_demo(args: list[str], hint: str) -> None:
    from platformdirs import user_config_dir

    result = run(*args, input="")
    assert result.exit_code == 2, result.output
    assert result.stdout == ""  # no demo items, no "checking the built-in demo"
    message = result.stderr.strip()
    assert message.count("\n") == 0 and "Traceback" not in message
    assert message.startswith("watchtower: no config found (looked in $WATCHTOWER_CONFIG")
    assert str(Path(user_config_dir("watchtower")) / "config.toml") in message and message.endswith(hint)
    assert not (_default_data_dir() / "log.lock").exists()


@pytest.mark.parametrize("where", ["before", "after"])
def test_demo_wins_over_a_user_config_before_or_after_fetch(feed_config: Path, where: str) -> None:
    from platformdirs import user_config_dir

    user_cfg = Path(user_config_dir("watchtower")) / "config.toml"
    user_cfg.parent.mkdir(parents=True)
    user_cfg.write_text(feed_config.read_text())
    args = ["--demo", "fetch", "--json"] if where == "before" else ["fetch", "--json", "--demo"]
    result = run(*args)
    assert result.exit_code == 0, result.output
    rows = _rows(result)
    assert len({r["platform"] for r in rows}) >= 5 and "local" not in {r["source"] for r in rows}
    assert run("fetch", "--json").stdout.count("\n") == 1  # without --demo: the user's config


def test_demo_before_log_add_uses_the_demos_own_log(tmp_path: Path) -> None:
    d = tmp_path / "d"
    result = run("--demo", "--data-dir", str(d), "log", "add", "demo note")
    assert result.exit_code == 0, result.output
    assert [e.text for e in HandoverLog(d / "demo").entries()] == ["demo note"]
    assert not (d / "log.lock").exists()  # the real log is untouched


def test_fetch_with_a_data_dir_before_it_archives_and_prints_only_new_items(feed_config: Path, tmp_path: Path) -> None:
    d = tmp_path / "archive"
    first = run("--data-dir", str(d), "--config", str(feed_config), "fetch", "--json")
    assert first.exit_code == 0, first.output
    assert len(_rows(first)) == 1
    assert any(d.iterdir())  # the archive is there
    second = run("fetch", "--json", "--data-dir", str(d), "--config", str(feed_config))
    assert second.exit_code == 0, second.output
    assert _rows(second) == []  # already archived: a cron job sees each item once
    assert len(_rows(run("fetch", "--json", "--no-archive", "--config", str(feed_config)))) == 1  # stores nothing
