"""The playbooks, follow-up presets and crisis checklist come from the files under config/.

A communications team edits them next to its reply templates; a mistake in one is a single
line naming the file and the key, never a traceback.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from watchtower.config import PACKAGE_CONFIG_DIR
from watchtower.core.models import Category
from watchtower.core.respond import crisis, playbooks
from watchtower.core.respond.playbook_files import LANGUAGES, builtin, load_playbook_files
from watchtower.core.respond.replies import KINDS
from watchtower.errors import ConfigError

FILES = ("playbooks/en.toml", "playbooks/nl.toml", "followups.toml", "crisis/en.toml", "crisis/nl.toml")


@pytest.fixture()
def config_copy(tmp_path: Path) -> Path:
    """The shipped files (and the templates the template ids name) in a directory of our own."""
    root = tmp_path / "config"
    for name in (*FILES, "templates"):
        src, dst = PACKAGE_CONFIG_DIR / name, root / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copyfile(src, dst)
    return root


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not once in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _error(root: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_playbook_files(root)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    return message


# -- the shipped files ---------------------------------------------------------------------


def test_the_shipped_files_are_there_and_pass_every_check() -> None:
    for name in FILES:
        assert (PACKAGE_CONFIG_DIR / name).is_file(), name
        assert (PACKAGE_CONFIG_DIR / name).read_text(encoding="utf-8").startswith("# "), f"{name} has no header comment"
    data = load_playbook_files(PACKAGE_CONFIG_DIR)
    ids = [f.id for f in data.followups]
    for language in LANGUAGES:
        assert set(data.playbooks[language]) == set(Category)
        for spec in data.playbooks[language].values():
            assert set(spec.templates) <= set(KINDS)
            for step in spec.steps:
                assert step.template is None or step.template in KINDS
                assert step.followup is None or step.followup in ids
        assert list(data.checklist_text[language]) == [c.id for c in data.checklist.check]
    assert "employees-informed" in crisis.CHECK_IDS


def test_the_python_api_is_built_from_the_shipped_files() -> None:
    data = builtin()
    for language in LANGUAGES:
        for category in Category:
            spec, book = data.playbooks[language][category], playbooks.playbook_for(category, language)
            assert book.title == spec.title and book.summary == spec.summary and book.notes == spec.notes
            assert [(s.id, s.text, s.template, s.followup) for s in book.steps] == [
                (s.id, s.text, s.template, s.followup) for s in spec.steps
            ]
    assert [p.id for p in playbooks.FOLLOWUP_PRESETS] == [f.id for f in data.followups]
    assert [c.text_nl for c in crisis.CHECKLIST] == list(data.checklist_text["nl"].values())
    assert crisis.CHECKLIST[1].describe("nl") == f"{crisis.CHECKLIST[1].text_nl} ({data.missing_qa_url['nl']})"


# -- a broken file is one line naming the file and the key -----------------------------------


def test_a_missing_dutch_step_names_the_file_and_the_steps(config_copy: Path) -> None:
    nl = config_copy / "playbooks" / "nl.toml"
    text = nl.read_text(encoding="utf-8")
    block = re.search(r'\n\[\[wrong-info\.steps\]\]\nid = "right-info"\n.*?\n\n', text, re.S)
    assert block is not None
    nl.write_text(text.replace(block.group(0), "\n"), encoding="utf-8")
    message = _error(config_copy)
    assert message.startswith(f"{nl}: wrong-info.steps[2].id: ")
    assert "'repost'" in message and "en.toml" in message


def test_a_dutch_playbook_without_its_last_step_says_how_many_were_expected(config_copy: Path) -> None:
    nl = config_copy / "playbooks" / "nl.toml"
    text = nl.read_text(encoding="utf-8")
    block = re.search(r'\n\[\[other\.steps\]\]\nid = "mark"\n.*?\n(?=\n|$)', text, re.S)
    assert block is not None
    nl.write_text(text.replace(block.group(0), ""), encoding="utf-8")
    message = _error(config_copy)
    assert message.startswith(f"{nl}: other.steps: expected 2 steps, as in en.toml (read, mark); got 1")


def test_an_unknown_followup_id_names_the_step(config_copy: Path) -> None:
    en = config_copy / "playbooks" / "en.toml"
    _edit(en, 'followup = "repost-correction"', 'followup = "repost-corection"')
    message = _error(config_copy)
    assert message.startswith(f"{en}: wrong-info.steps[3].followup: expected a follow-up id from followups.toml")
    assert "'repost-corection'" in message


def test_an_unknown_template_id_names_the_step(config_copy: Path) -> None:
    en = config_copy / "playbooks" / "en.toml"
    _edit(en, 'template = "thanks"', 'template = "thank-you"')
    assert _error(config_copy).startswith(f"{en}: praise.steps[0].template: expected a reply template, got 'thank-you'")


@pytest.mark.parametrize(
    ("name", "old", "new", "key"),
    [
        ("playbooks/en.toml", "[spam]\n", "[spam]\ntittle = \"Spam\"\n", "spam.tittle"),
        ("playbooks/nl.toml", 'id = "thank"\n', 'id = "thank"\nfollow_up = "watch-author"\n', "praise.steps[0].follow_up"),
        ("followups.toml", 'label.nl = "Klager privé mailen"\n', 'label.nl = "Klager privé mailen"\nlabel.fr = "x"\n', "followup[1].label.fr"),
        ("crisis/en.toml", 'id = "reply-once"\n', 'id = "reply-once"\nwhy_nl = "x"\n', "check[4].why_nl"),
        ("crisis/nl.toml", 'id = "qa-page"\n', 'id = "qa-page"\nwhy = "x"\n', "check[1].why"),
        ("playbooks/en.toml", "[crisis]\n", "[crisiss]\n", "crisiss"),
    ],
)
def test_an_unknown_key_is_named_with_its_file(config_copy: Path, name: str, old: str, new: str, key: str) -> None:
    _edit(config_copy / name, old, new)
    message = _error(config_copy)
    assert message.startswith(f"{config_copy / name}: {key}: "), message
    assert "unknown" in message


@pytest.mark.parametrize(
    ("name", "old", "new", "key", "words"),
    [
        ("followups.toml", "delay_minutes = 30 ", 'delay_minutes = "30"', "followup[2].delay_minutes", "expected an integer"),
        ("followups.toml", "delay_minutes = 30 ", "delay_minutes = 0 ", "followup[2].delay_minutes", "greater than or equal to 1"),
        ("followups.toml", 'hours_setting = "correction_repost_hours"', 'hours_setting = "repost_hours"',
         "followup[0].hours_setting", "expected a [replies] setting"),
        ("crisis/nl.toml", 'id = "follow-ups"', 'id = "follow-up"', "check", "expected the ids of en.toml"),
        ("crisis/en.toml", 'id = "employees-informed"', 'id = "staff-informed"', "check", "'employees-informed'"),
        ("playbooks/nl.toml", 'templates = ["thanks"]', "templates = []", "praise.templates", "the same templates as en.toml"),
    ],
)
def test_a_wrong_value_is_named_with_its_file(config_copy: Path, name: str, old: str, new: str, key: str, words: str) -> None:
    _edit(config_copy / name, old, new)
    message = _error(config_copy)
    assert message.startswith(f"{config_copy / name}: {key}: "), message
    assert words in message


def test_invalid_toml_names_the_file_and_the_line(config_copy: Path) -> None:
    nl = config_copy / "crisis" / "nl.toml"
    _edit(nl, 'id = "reply-once"', 'id = "reply-once')
    message = _error(config_copy)
    assert message.startswith(f"{nl}: TOML syntax error: ")
    assert re.search(r"line \d+", message)


# -- the data really comes from the files ----------------------------------------------------

_READ_API = """
    import json, sys
    from pathlib import Path
    import watchtower.config
    watchtower.config.PACKAGE_CONFIG_DIR = Path(sys.argv[1])  # before the core reads it
    from watchtower.errors import ConfigError
    try:
        from watchtower.core.respond.playbooks import FOLLOWUPS_BY_ID, playbook_for
        from watchtower.core.respond.crisis import CHECKLIST
    except ConfigError as exc:
        print(json.dumps({"error": str(exc)}))
        raise SystemExit(0)
    print(json.dumps({
        "title": playbook_for("spam", "nl").title,
        "step": playbook_for("crisis").steps[4].text,
        "delay": FOLLOWUPS_BY_ID["watch-author"].delay.total_seconds(),
        "check": CHECKLIST[2].describe("nl"),
    }))
"""


def _api_from(root: Path) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_READ_API), str(root)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_an_edited_text_shows_through_playbook_for_and_the_checklist(config_copy: Path) -> None:
    _edit(config_copy / "playbooks" / "nl.toml", 'title = "Spam"', 'title = "Ongewenste reclame"')
    _edit(config_copy / "playbooks" / "en.toml", "Let our ambassadors help", "Ask our ambassadors to help")
    _edit(config_copy / "followups.toml", 'id = "watch-author"\ndelay_minutes = 120', 'id = "watch-author"\ndelay_minutes = 45')
    _edit(config_copy / "crisis" / "nl.toml", "Andere platforms gecheckt", "Alle andere platforms gecheckt")
    got = _api_from(config_copy)
    assert got == {
        "title": "Ongewenste reclame",
        "step": "Ask our ambassadors to help: they often correct unfair statements themselves.",
        "delay": 45 * 60.0,
        "check": "Alle andere platforms gecheckt, ook die we zelf niet gebruiken",
    }


@pytest.mark.slow
def test_a_broken_builtin_file_stops_the_import_with_one_line(config_copy: Path) -> None:
    _edit(config_copy / "playbooks" / "en.toml", "[question]\n", "[question]\nsumary = \"typo\"\n")
    got = _api_from(config_copy)
    assert got == {"error": f"{config_copy / 'playbooks' / 'en.toml'}: question.sumary: unknown key "
                            "(check the spelling; the comment at the top of the file lists the keys)"}
