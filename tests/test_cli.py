"""The scriptable side: fetch, check, triage, --version, as a cron job would run them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def _run(*args: str, cwd: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "watchtower", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        input=stdin,
    )


@pytest.mark.slow  # starts a process
def test_fetch_demo_prints_item_lines_from_at_least_five_platforms() -> None:
    out = _run("fetch", "--demo", "--json")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len({r["platform"] for r in rows}) >= 5
    for r in rows:
        for key in ("id", "platform", "source", "author", "author_name", "author_followers", "text", "url",
                    "published", "language", "engagement", "in_reply_to", "severity", "category", "reasons",
                    "reach", "coverage", "spike", "ambassador"):
            assert key in r
        assert r["published"].endswith("Z")
    assert any(r["author_followers"] == 14 for r in rows)  # the 14-follower grumble
    assert any(not r["coverage"]["covered"] for r in rows)  # something arrived overnight


@pytest.mark.slow  # starts a process
def test_fetch_reports_failing_sources_on_stderr_and_exits_1(tmp_path: Path, httpserver) -> None:
    httpserver.expect_request("/feed").respond_with_data("<html><body>Login</body></html>", content_type="text/html")
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[[sources]]\nname = "n"\nplatform = "News"\nkind = "rss"\nurl = "{httpserver.url_for("/feed")}"\n')
    out = _run("fetch", "--config", str(cfg), "--json")
    assert out.returncode == 1
    assert out.stdout == ""
    assert out.stderr.startswith("watchtower: n: ") and "Traceback" not in out.stderr


@pytest.mark.slow  # starts a process
def test_check_demo_probes_every_source() -> None:
    out = _run("check", "--demo")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "config OK" in out.stdout
    assert out.stdout.count("✓") >= 7


@pytest.mark.slow  # starts a process
def test_triage_adds_fields_and_skips_bad_lines(tmp_path: Path) -> None:
    lines = "\n".join(
        [
            json.dumps({"platform": "X", "source": "x", "id": "1", "author": "@a", "author_followers": 48000,
                        "text": "Our account got hacked? There is a data breach at the library", "published": "2026-11-22T03:00:00Z"}),
            "{not json",
            json.dumps({"platform": "X", "source": "x", "id": "2", "author": "@b", "author_followers": 14,
                        "text": "the wifi is slow again", "published": "2026-11-22T12:00:00Z"}),
        ]
    )
    cfg = tmp_path / "defaults.toml"  # triage needs a config now (no config is exit 2); an empty one is all defaults
    cfg.write_text("")
    out = _run("triage", "--config", str(cfg), "-", stdin=lines)
    assert out.returncode == 1  # one bad line
    assert "line 2" in out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert rows[0]["category"] == "security" and rows[0]["severity"] in ("high", "critical")
    assert rows[0]["reasons"]
    assert rows[1]["severity"] in ("info", "low")


@pytest.mark.slow  # starts a process
def test_version_and_help() -> None:
    out = _run("--version")
    assert out.returncode == 0 and "watchtower" in out.stdout
    for cmd in ([], ["check"], ["fetch"], ["triage"], ["log"], ["handover"], ["serve"]):
        res = _run(*cmd, "--help")
        assert res.returncode == 0 and "Usage" in res.stdout


@pytest.mark.slow  # starts a process
def test_inbox_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "drop").mkdir()
    (tmp_path / "drop" / "a.jsonl").write_text(json.dumps({"id": "1", "user": "@a", "caption": "hello"}) + "\n")
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[[sources]]\nname = "inbox"\nplatform = "Instagram"\nkind = "inbox"\npath = "drop"\n'
        '[sources.mapping]\nauthor = "user"\ntext = "caption"\n'
    )
    out = _run("fetch", "--config", str(cfg), "--json", cwd=Path("/"))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["text"] == "hello"
