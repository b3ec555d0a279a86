"""A wrong config is one clear line (file, key, what was expected) and exit 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from watchtower.config import PACKAGE_CONFIG_DIR, ConfigError, load_config

EXAMPLE = PACKAGE_CONFIG_DIR / "watchtower.example.toml"

GOOD_SOURCE = """
[[sources]]
name = "news"
platform = "News"
kind = "rss"
url = "http://127.0.0.1:9/feed.xml"
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_example_config_covers_and_validates() -> None:
    cfg = load_config(EXAMPLE)
    kinds = {s.kind for s in cfg.sources}
    assert kinds == {"rss", "mastodon", "bluesky", "reddit", "json", "inbox"}
    assert cfg.organisation.timezone == "Europe/Amsterdam"
    assert len(cfg.rota.shift) >= 3 and cfg.rota.holidays == "NL"


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        (GOOD_SOURCE + 'colour = "red"\n', "sources[0].colour", "unknown key"),
        (GOOD_SOURCE.replace('url = "http://127.0.0.1:9/feed.xml"', 'url = "ftp://example.org/x"'), "sources[0].url", "http"),
        (GOOD_SOURCE + "interval = \"fast\"\n", "sources[0].interval", "number"),
        (GOOD_SOURCE + "interval = 1\n", "sources[0].interval", "greater than or equal to 5"),
        ('[organisation]\ntimezone = "Mars/Olympus"\n', "organisation.timezone", "IANA"),
        ('[[rota.shift]]\nname = "x"\ndays = ["mon"]\nstart = "8am"\nend = "18:00"\n', "rota.shift[0].start", "HH:MM"),
        ('[alerts]\nmin_severity = "urgent"\n', "alerts.min_severity", "'critical'"),
        (GOOD_SOURCE.replace('kind = "rss"', 'kind = "myspace"'), "sources[0]", "kind must be one of"),
        ('[alerts]\napprise_url_envs = ["ntfy://secret@host"]\n', "alerts.apprise_url_envs", "environment variable"),
    ],
)
def test_bad_values_name_file_key_and_expectation(tmp_path: Path, text: str, key: str, words: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    message = str(exc.value)
    assert str(path) in message
    assert exc.value.key == key
    assert words in message


def test_syntax_error_and_missing_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "[organisation\nname = 'x'\n")
    with pytest.raises(ConfigError, match="TOML syntax error"):
        load_config(path)
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml")


@pytest.mark.slow  # starts a process
@pytest.mark.parametrize("command", [[], ["check"], ["fetch", "--json"]])
def test_cli_reports_config_errors_without_traceback(tmp_path: Path, command: list[str]) -> None:
    path = _write(tmp_path, GOOD_SOURCE + "bogus = 1\n")
    out = subprocess.run(
        [sys.executable, "-m", "watchtower", *command, "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert f"{path}: sources[0].bogus: unknown key" in out.stderr


@pytest.mark.slow  # starts a process
def test_cli_missing_config_file(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "watchtower", "check", "--config", str(tmp_path / "missing.toml")],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert out.returncode == 2
    assert "file not found" in out.stderr and "Traceback" not in out.stderr


def test_config_from_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from watchtower.config import find_config

    path = _write(tmp_path, GOOD_SOURCE)
    monkeypatch.setenv("WATCHTOWER_CONFIG", str(path))
    assert find_config(None) == path
    assert find_config(tmp_path / "explicit.toml") == tmp_path / "explicit.toml"
    monkeypatch.delenv("WATCHTOWER_CONFIG")
    assert find_config(None) is None  # no user config in the isolated HOME: the demo runs
