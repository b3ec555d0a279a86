"""``watchtower check`` loads the ``[triage] rules`` file the way the triage does.

A mistake in the rules file is a config error: one line on stderr naming the rules file,
the key in that file (``rule[1].category``, counted in the user's file, not after the
default rules) and what was expected; exit status 2; no traceback; no source probed.
The TUI, ``fetch`` and ``triage`` refuse the same file with the same line.
"""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest
from test_cli import _run

from watchtower.core.triage.rules import DEFAULT_RULES_PATH

pytestmark = pytest.mark.slow  # every test here starts a process

GOOD_RULE = '[[rule]]\nid = "bookmobile"\ncategory = "crisis"\nseverity = "high"\nterms = ["bookmobile*"]\n'


def _default_rules() -> list[dict]:
    return tomllib.loads(DEFAULT_RULES_PATH.read_text(encoding="utf-8"))["rule"]


def _config(tmp_path: Path, rules: str | None = "rules.toml", extra: str = "") -> Path:
    cfg = tmp_path / "config.toml"
    triage = f'[triage]\nrules = "{rules}"\n' if rules is not None else ""
    cfg.write_text(extra + triage, encoding="utf-8")
    return cfg


def _rules(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "rules.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _assert_one_clean_error(out: subprocess.CompletedProcess[str], *parts: str) -> str:
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    assert "Traceback" not in out.stderr and "Traceback" not in out.stdout
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    line = lines[0]
    assert line.startswith("watchtower: config error: "), line
    for part in parts:
        assert part in line, (part, line)
    return line


def test_check_reports_the_merged_rules(tmp_path: Path) -> None:
    rules = _rules(tmp_path, GOOD_RULE)
    out = _run("check", "--config", str(_config(tmp_path)))
    assert out.returncode == 0, out.stdout + out.stderr
    defaults = sum(1 for r in _default_rules() if r.get("enabled", True))
    lines = out.stdout.splitlines()
    assert lines[0].startswith("config OK: ")
    assert lines[1] == f"rules OK: {rules} merged over the defaults ({defaults + 1} active rules)"


def test_check_without_a_rules_file_reports_the_defaults(tmp_path: Path) -> None:
    out = _run("check", "--config", str(_config(tmp_path, rules=None)))
    assert out.returncode == 0, out.stdout + out.stderr
    defaults = sum(1 for r in _default_rules() if r.get("enabled", True))
    assert f"rules OK: built-in defaults ({defaults} active rules)" in out.stdout.splitlines()


def test_check_reports_replace_defaults(tmp_path: Path) -> None:
    _rules(tmp_path, "replace_defaults = true\n" + GOOD_RULE)
    out = _run("check", "--config", str(_config(tmp_path)))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "(replacing the default rules) (1 active rule)" in out.stdout


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        # The second [[rule]] of the user's file is rule[1], however many defaults precede it.
        (GOOD_RULE + '[[rule]]\ncategory = "panic"\nterms = ["x"]\n',
         "rule[1].category", "expected a category, one of: "),
        (GOOD_RULE + '[[rule]]\ncategory = "panic"\nterms = ["x"]\n', "rule[1].category", "(got 'panic')"),
        ('[[rule]]\ncategory = "spam"\nterms = []\n', "rule[0].terms", "expected a list of at least 1 item"),
        ('[[rule]]\ncategory = "spam"\nterms = ["hack**"]\n', "rule[0].terms", "a single '*'"),
        ('[[rule]]\ncategory = "spam"\nterms = ["x"]\nweight = "heavy"\n', "rule[0].weight", "expected a number"),
        ('[[rule]]\ncategory = "spam"\n', "rule[0].terms", "required key is missing"),
        ('[[rule]]\ncategory = "spam"\nterms = ["x"]\ncolour = "red"\n', "rule[0].colour", "unknown key"),
        ("[reach]\nraise_att = 3\n", "reach.raise_att", "unknown key"),
        ('[reach]\nraise_at = "often"\n', "reach.raise_at", "expected an integer"),
        ('[category.spam]\nseverity = "urgent"\n', "category.spam.severity", "expected 'info', 'low'"),
    ],
    ids=["second-rule-category", "second-rule-got", "empty-terms", "double-star", "weight-type", "no-terms",
         "rule-unknown-key", "table-unknown-key", "table-type", "category-severity"],
)
def test_check_names_the_rules_file_and_key(tmp_path: Path, text: str, key: str, words: str) -> None:
    rules = _rules(tmp_path, text)
    out = _run("check", "--config", str(_config(tmp_path)))
    _assert_one_clean_error(out, f"{rules}: {key}: ", words)
    assert "config OK" not in out.stdout and "✓" not in out.stdout and "✗" not in out.stdout


def test_a_rule_replacing_a_default_is_named_by_its_place_in_the_users_file(tmp_path: Path) -> None:
    defaults = _default_rules()
    target = defaults[-1]["id"]  # far from the top: its merged index is not 0
    assert len(defaults) > 1 and target
    rules = _rules(tmp_path, f'[[rule]]\nid = "{target}"\ncategory = "spam"\nterms = ["x"]\nseverity = "huge"\n')
    out = _run("check", "--config", str(_config(tmp_path)))
    _assert_one_clean_error(out, f"{rules}: rule[0].severity: expected ")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[[rule]\ncategory = 'spam'\n", "TOML syntax error"),
        (b"\xff\xfe[[rule]]\n", "is not UTF-8 text"),
    ],
    ids=["toml-syntax", "not-utf8"],
)
def test_check_reports_an_unreadable_rules_file(tmp_path: Path, text: str | bytes, words: str) -> None:
    rules = _rules(tmp_path, text)
    out = _run("check", "--config", str(_config(tmp_path)))
    _assert_one_clean_error(out, f"{rules}: {words}")


def test_check_reports_a_missing_rules_file_as_the_configs_key(tmp_path: Path) -> None:
    cfg = _config(tmp_path, rules="nope.toml")
    out = _run("check", "--config", str(cfg))
    _assert_one_clean_error(out, f"{cfg}: triage.rules: file not found: {tmp_path / 'nope.toml'}")


def test_check_reports_a_directory_as_rules_file(tmp_path: Path) -> None:
    (tmp_path / "rules.d").mkdir()
    cfg = _config(tmp_path, rules="rules.d")
    out = _run("check", "--config", str(cfg))
    _assert_one_clean_error(out, f"{cfg}: triage.rules: expected a rules file (TOML), not a directory")


def test_check_stops_before_probing_when_the_rules_are_broken(tmp_path: Path) -> None:
    rules = _rules(tmp_path, '[[rule]]\ncategory = "panic"\nterms = ["x"]\n')
    source = '[[sources]]\nname = "local"\nplatform = "News"\nkind = "rss"\nurl = "http://127.0.0.1:9/feed"\n'
    out = _run("check", "--config", str(_config(tmp_path, extra=source)))
    _assert_one_clean_error(out, f"{rules}: rule[0].category")
    assert "local" not in out.stdout


@pytest.mark.parametrize(
    "command",
    [[], ["fetch", "--json"], ["triage", "-"]],
    ids=["tui", "fetch", "triage"],
)
def test_other_commands_refuse_the_same_rules_file(tmp_path: Path, command: list[str]) -> None:
    rules = _rules(tmp_path, GOOD_RULE + '[[rule]]\ncategory = "panic"\nterms = ["x"]\n')
    cfg = _config(tmp_path)
    out = _run(*command, "--config", str(cfg), *(["--data-dir", str(tmp_path / "data")] if not command else []),
               stdin="")
    _assert_one_clean_error(out, f"{rules}: rule[1].category: expected a category")


def test_an_empty_config_path_is_an_error_not_the_demo() -> None:
    # ``--config "$CFG"`` with CFG unset must not check (or run) the demo instead.
    out = _run("check", "--config", "")
    _assert_one_clean_error(out, "--config: expected the path of a config file, got an empty string")
    assert "demo" not in out.stdout


def test_check_reads_the_playbook_files_too(tmp_path: Path) -> None:
    """The playbooks, follow-up presets and crisis checklist are files (config/): check
    reads and cross-checks them, so a mistake shows here and not when the panel opens."""
    out = _run("check", "--config", str(_config(tmp_path, rules=None)))
    assert out.returncode == 0, out.stdout + out.stderr
    line = next(x for x in out.stdout.splitlines() if x.startswith("playbooks OK: "))
    assert "2 languages" in line and "follow-up presets" in line and "crisis checks" in line
