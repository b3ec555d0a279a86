"""The playbooks, follow-up presets and crisis checklist as files a communications team edits.

They live next to the reply templates, under ``config/`` (shipped as
:data:`~watchtower.config.PACKAGE_CONFIG_DIR`):

==============================  ====================================================
file                            what
==============================  ====================================================
``playbooks/en.toml``, ``nl``   one playbook per category: title, summary, steps,
                                reply templates, notes (:mod:`.playbooks`)
``followups.toml``              the follow-up presets: delays, en/nl labels and texts
``crisis/en.toml``, ``nl``      the crisis checklist (:mod:`.crisis`)
==============================  ====================================================

:func:`load_playbook_files` reads a directory laid out like that, checks every file
strictly (msgspec models: unknown keys are errors) and across files: every category has
a playbook in both languages, both languages have the same steps in the same order,
every ``followup`` a step names exists, every ``template`` is a template file of that
language, both checklists have the same ids.  A mistake is one
:class:`~watchtower.errors.ConfigError` naming the file, the key and what was expected.

:mod:`.playbooks` and :mod:`.crisis` build their constants from :func:`builtin` (read once).
This module imports neither textual nor rich, nor Jinja2 (the template check looks for
the files).
"""

# No ``from __future__ import annotations``: msgspec reads real annotation objects for free
# (see config.py).
import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from ...config import PACKAGE_CONFIG_DIR, ConfigError, Replies, StrictModel, explain
from ..models import Category

__all__ = [
    "LANGUAGES",
    "PlaybookData",
    "StepSpec",
    "PlaybookSpec",
    "FollowupSpec",
    "CheckSpec",
    "ChecklistSpec",
    "REQUIRED_FOLLOWUPS",
    "REQUIRED_CHECKS",
    "load_playbook_files",
    "builtin",
]

#: Languages every playbook, preset and checklist is written in.
LANGUAGES = ("en", "nl")

_Id = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
_Text = Annotated[str, Meta(min_length=1, max_length=2000)]


class StepSpec(StrictModel):
    id: _Id
    text: _Text
    template: _Id | None = None
    followup: _Id | None = None


class PlaybookSpec(StrictModel):
    title: _Text
    summary: _Text
    steps: Annotated[list[StepSpec], Meta(min_length=1)]
    templates: list[_Id] = []
    notes: list[_Text] = []


class _Languages(StrictModel):
    en: _Text
    nl: _Text


class FollowupSpec(StrictModel):
    id: _Id
    delay_minutes: Annotated[int, Meta(gt=0, le=60 * 24 * 31)]
    label: _Languages
    text: _Languages
    hours_setting: str | None = None


class _FollowupFile(StrictModel):
    followup: Annotated[list[FollowupSpec], Meta(min_length=1)]


class CheckSpec(StrictModel):
    id: _Id
    text: _Text
    why: str = ""
    uses_qa_url: bool = False


class _CheckNl(StrictModel):
    id: _Id
    text: _Text


class ChecklistSpec(StrictModel):
    missing_qa_url: _Text
    check: Annotated[list[CheckSpec], Meta(min_length=1)]


class _ChecklistNl(StrictModel):
    missing_qa_url: _Text
    check: Annotated[list[_CheckNl], Meta(min_length=1)]


@dataclass(frozen=True, slots=True)
class PlaybookData:
    """Everything the files say, checked."""

    directory: Path
    playbooks: dict[str, dict[Category, PlaybookSpec]]
    """Per language, per category (every category)."""
    followups: list[FollowupSpec]
    """In menu order."""
    checklist: ChecklistSpec
    """The English checklist: order, ``why``, ``uses_qa_url``."""
    checklist_text: dict[str, dict[str, str]]
    """Per language, check id -> text."""
    missing_qa_url: dict[str, str]
    """Per language: said instead of the Q&A URL when none is configured."""


#: Ids the code relies on: the response panel's correction sets "repost-correction"; the
#: staff briefing ticks "employees-informed".
REQUIRED_FOLLOWUPS = ("repost-correction",)
REQUIRED_CHECKS = ("employees-informed",)

_UNKNOWN = "unknown key (check the spelling; the comment at the top of the file lists the keys)"


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(path, None, "file not found") from None
    except OSError as exc:
        raise ConfigError(path, None, f"cannot be read: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(path, None, "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, None, f"TOML syntax error: {exc}") from None


def _convert(path: Path, data: Any, model: type, prefix: str = "") -> Any:
    try:
        return msgspec.convert(data, model, strict=True)
    except msgspec.ValidationError as exc:
        key, expected = explain(exc, data, model, unknown_key=_UNKNOWN)
        key = f"{prefix}.{key}" if prefix and key else (prefix or key)
        raise ConfigError(path, key or None, expected) from None


def _unique(path: Path, ids: list[str], key: str) -> None:
    seen: set[str] = set()
    for i, one in enumerate(ids):
        if one in seen:
            raise ConfigError(path, f"{key}[{i}].id", f"expected a new id ({one!r} is used twice)")
        seen.add(one)


def _load_playbooks(path: Path) -> dict[Category, PlaybookSpec]:
    data = _read(path)
    known = [c.value for c in Category]
    for key in data:
        if key not in known:
            raise ConfigError(path, key, f"unknown category; expected one of: {', '.join(known)}")
    out: dict[Category, PlaybookSpec] = {}
    for category in Category:
        if category.value not in data:
            raise ConfigError(path, category.value, "missing: every category needs a playbook table")
        spec: PlaybookSpec = _convert(path, data[category.value], PlaybookSpec, category.value)
        _unique(path, [s.id for s in spec.steps], f"{category.value}.steps")
        out[category] = spec
    return out


def load_playbook_files(directory: str | Path = PACKAGE_CONFIG_DIR) -> PlaybookData:
    """Read and check the playbook, follow-up and checklist files under ``directory``
    (laid out as ``config/``; the template check looks in its ``templates/``)."""
    root = Path(directory)
    followups_path = root / "followups.toml"
    followups: list[FollowupSpec] = _convert(followups_path, _read(followups_path), _FollowupFile).followup
    _unique(followups_path, [f.id for f in followups], "followup")
    settings = set(Replies.__struct_fields__)
    for i, preset in enumerate(followups):
        if preset.hours_setting is not None and preset.hours_setting not in settings:
            hours = sorted(s for s in settings if s.endswith("_hours"))
            raise ConfigError(followups_path, f"followup[{i}].hours_setting",
                              f"expected a [replies] setting in hours ({', '.join(hours)}), got {preset.hours_setting!r}")
    followup_ids = [f.id for f in followups]
    for needed in REQUIRED_FOLLOWUPS:
        if needed not in followup_ids:
            raise ConfigError(followups_path, "followup", f"expected a [[followup]] with id {needed!r} (watchtower uses it)")

    playbooks: dict[str, dict[Category, PlaybookSpec]] = {}
    for language in LANGUAGES:
        path = root / "playbooks" / f"{language}.toml"
        books = playbooks[language] = _load_playbooks(path)
        templates = root / "templates" / language
        for category, spec in books.items():
            where = category.value
            for i, kind in enumerate(spec.templates):
                if not (templates / f"{kind}.j2").is_file():
                    raise ConfigError(path, f"{where}.templates[{i}]",
                                      f"expected a reply template, got {kind!r} (no {templates / kind}.j2)")
            for i, step in enumerate(spec.steps):
                if step.template is not None and not (templates / f"{step.template}.j2").is_file():
                    raise ConfigError(path, f"{where}.steps[{i}].template",
                                      f"expected a reply template, got {step.template!r} (no {templates / step.template}.j2)")
                if step.followup is not None and step.followup not in followup_ids:
                    raise ConfigError(path, f"{where}.steps[{i}].followup",
                                      f"expected a follow-up id from {followups_path.name} "
                                      f"({', '.join(followup_ids)}), got {step.followup!r}")
    en_path = root / "playbooks" / "en.toml"
    for language in LANGUAGES[1:]:
        path = root / "playbooks" / f"{language}.toml"
        for category in Category:
            en, other = playbooks["en"][category], playbooks[language][category]
            where = category.value
            shape = [(s.id, s.template, s.followup) for s in en.steps]
            if [(s.id, s.template, s.followup) for s in other.steps] != shape:
                key, expected = _differs(en.steps, other.steps, en_path.name)
                raise ConfigError(path, f"{where}.steps{key}", expected)
            if other.templates != en.templates:
                raise ConfigError(path, f"{where}.templates",
                                  f"expected the same templates as {en_path.name} ({', '.join(en.templates) or 'none'})")

    checklist_path = root / "crisis" / "en.toml"
    checklist: ChecklistSpec = _convert(checklist_path, _read(checklist_path), ChecklistSpec)
    _unique(checklist_path, [c.id for c in checklist.check], "check")
    ids = [c.id for c in checklist.check]
    for needed in REQUIRED_CHECKS:
        if needed not in ids:
            raise ConfigError(checklist_path, "check", f"expected a [[check]] with id {needed!r} (watchtower uses it)")
    texts = {"en": {c.id: c.text for c in checklist.check}}
    missing = {"en": checklist.missing_qa_url}
    for language in LANGUAGES[1:]:
        path = root / "crisis" / f"{language}.toml"
        translated: _ChecklistNl = _convert(path, _read(path), _ChecklistNl)
        theirs = [c.id for c in translated.check]
        if theirs != ids:
            raise ConfigError(path, "check", f"expected the ids of {checklist_path.name}, in its order: "
                                             f"{', '.join(ids)} (got {', '.join(theirs)})")
        texts[language] = {c.id: c.text for c in translated.check}
        missing[language] = translated.missing_qa_url
    return PlaybookData(root, playbooks, followups, checklist, texts, missing)


def _differs(en: list[StepSpec], other: list[StepSpec], en_name: str) -> tuple[str, str]:
    """Where a translation's steps differ from the English ones (a key under ``steps``), and how."""
    for i, (a, b) in enumerate(zip(en, other)):
        for name in ("id", "template", "followup"):
            want, got = getattr(a, name), getattr(b, name)
            if want != got:
                return f"[{i}].{name}", f"expected {_shown(want, name)}, as in {en_name} (got {_shown(got, name)})"
    ids = ", ".join(s.id for s in en)
    return "", f"expected {len(en)} steps, as in {en_name} ({ids}); got {len(other)}"


def _shown(value: str | None, name: str) -> str:
    return repr(value) if value is not None else f"no {name}"


@functools.cache
def builtin() -> PlaybookData:
    """The shipped files (``config/``), read and checked once."""
    return load_playbook_files(PACKAGE_CONFIG_DIR)
