"""Response playbooks: what to do about an item, per category, straight from the seeds.

The two source texts (the seeds, docs/product.md) are the playbooks; each step below is one piece of
their advice, phrased as something the on-call person can tick off:

- *tweeting from the wrong account*: delete, then one apology with the right gravity;
  never pretend it didn't happen (:attr:`Category.OWN_POST`, there is no separate
  "wrong account" category: a slip is always one of our own posts);
- *incorrect information*: delete, an explicit correction that refers to the mistake,
  and the correction again a few hours later;
- *abuse*: ignore; block only if personal or truly offensive; weigh the audience;
- *a proper grievance*: one public reply, then a private email;
- *a crisis*: answer at once on the platform where it started, link the Q&A page, reply
  only once per thread, check the other platforms, brief the staff, let ambassadors help.

The data lives in text files a communications team edits next to its reply templates:
``config/playbooks/en.toml`` and ``nl.toml`` (the playbooks) and ``config/followups.toml``
(the follow-up presets, their delays and en/nl labels).  They are read and checked once,
at import, by :mod:`watchtower.core.respond.playbook_files`; a broken file is a
:class:`~watchtower.errors.ConfigError` naming the file and the key.

Every text exists in English and Dutch: :func:`playbook_for` takes ``language``.
A step may name the reply template to use (``template``, a kind from
:mod:`watchtower.core.respond.replies`) and/or a follow-up preset (``followup``, an id in
:data:`FOLLOWUPS_BY_ID`); the response panel turns those into buttons.

This module never imports textual or rich.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from ..models import Category, Severity
from .playbook_files import LANGUAGES, builtin

if TYPE_CHECKING:
    from ...config import Config

__all__ = [
    "Step",
    "Playbook",
    "FollowupPreset",
    "PLAYBOOKS",
    "FOLLOWUP_PRESETS",
    "FOLLOWUPS_BY_ID",
    "LANGUAGES",
    "playbook_for",
    "followup_preset",
    "GRAVE_OWN_POST",
    "templates_for",
    "preselected_template",
    "preselected_for",
]

@dataclass(frozen=True, slots=True)
class Step:
    """One thing to do.  ``template`` and ``followup`` are ids, not text."""

    id: str
    text: str
    template: str | None = None
    """A reply kind (``"correction"``) that this step uses, if any."""
    followup: str | None = None
    """A follow-up preset id (``"repost-correction"``, see :func:`followup_preset`) this step sets, if any."""


@dataclass(frozen=True, slots=True)
class Playbook:
    category: Category
    title: str
    summary: str
    """One line, for the top of the response panel."""
    steps: list[Step]
    templates: list[str]
    """Reply kinds that fit, best first."""
    notes: list[str] = field(default_factory=list)
    """Guidance: the why behind the steps, and what not to do."""
    language: str = "en"

    @property
    def followups(self) -> list[str]:
        """Follow-up preset ids the steps use, in step order, each once."""
        out: list[str] = []
        for step in self.steps:
            if step.followup and step.followup not in out:
                out.append(step.followup)
        return out


@dataclass(frozen=True, slots=True)
class FollowupPreset:
    """A reminder the response panel can set with one key."""

    id: str
    label: str
    delay: timedelta
    """The default delay; see :meth:`delay_for` for the configured one."""
    text: str
    label_nl: str = ""
    text_nl: str = ""
    config_hours: str | None = None
    """A ``[replies]`` setting (hours) that overrides :attr:`delay` when a config is given."""

    def delay_for(self, config: Config | None = None) -> timedelta:
        if config is not None and self.config_hours:
            hours = getattr(config.replies, self.config_hours, None)
            if isinstance(hours, (int, float)) and hours > 0:
                return timedelta(hours=float(hours))
        return self.delay

    def label_in(self, language: str = "en") -> str:
        return self.label_nl if language == "nl" and self.label_nl else self.label

    def text_in(self, language: str = "en") -> str:
        return self.text_nl if language == "nl" and self.text_nl else self.text

    def describe(self, config: Config | None = None, language: str = "en") -> str:
        """``"Repost the correction in 3 h"`` with the configured delay."""
        word = "over" if language == "nl" else "in"
        return f"{self.label_in(language)} {word} {_format_delay(self.delay_for(config), language)}"


def _format_delay(delay: timedelta, language: str) -> str:
    minutes = int(round(delay.total_seconds() / 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if rest == 0:
        return f"{hours} {'u' if language == 'nl' else 'h'}"
    return f"{hours}:{rest:02d} {'u' if language == 'nl' else 'h'}"


_PRESETS = [
    FollowupPreset(
        id=spec.id,
        label=spec.label.en,
        delay=timedelta(minutes=spec.delay_minutes),
        text=spec.text.en,
        label_nl=spec.label.nl,
        text_nl=spec.text.nl,
        config_hours=spec.hours_setting,
    )
    for spec in builtin().followups
]

#: Every follow-up preset, in menu order (the UI iterates these).
FOLLOWUP_PRESETS: tuple[FollowupPreset, ...] = tuple(_PRESETS)
#: The same presets by id.
FOLLOWUPS_BY_ID: dict[str, FollowupPreset] = {p.id: p for p in _PRESETS}


def followup_preset(preset_id: str) -> FollowupPreset:
    """The preset with that id; ``KeyError`` names the known ones."""
    try:
        return FOLLOWUPS_BY_ID[preset_id]
    except KeyError:
        raise KeyError(f"unknown follow-up preset {preset_id!r}; known: {', '.join(FOLLOWUPS_BY_ID)}") from None


# --- the playbooks, from config/playbooks/{en,nl}.toml ----------------------------------


def _build(language: str) -> dict[Category, Playbook]:
    out: dict[Category, Playbook] = {}
    for category, spec in builtin().playbooks[language].items():
        out[category] = Playbook(
            category=category,
            title=spec.title,
            summary=spec.summary,
            steps=[Step(s.id, s.text, s.template, s.followup) for s in spec.steps],
            templates=list(spec.templates),
            notes=list(spec.notes),
            language=language,
        )
    return out


#: The English playbooks, one per category.
PLAYBOOKS: dict[Category, Playbook] = _build("en")
_BY_LANGUAGE: dict[str, dict[Category, Playbook]] = {"en": PLAYBOOKS, "nl": _build("nl")}


def playbook_for(category: Category | str, language: str = "en") -> Playbook:
    """The playbook for ``category`` in ``language`` (``"en"`` or ``"nl"``; others: English).

    An unknown category string gets the "other" playbook rather than an error, so an item
    from a newer triage never leaves the response panel empty.
    """
    try:
        cat = Category(category)
    except ValueError:
        cat = Category.OTHER
    return _BY_LANGUAGE.get(language, PLAYBOOKS)[cat]


#: From this severity an own post is a grave slip (swearing, a compromised account, several
#: warning signs at once: see ``[own_account]`` in the rules) and the apology is the formal one.
GRAVE_OWN_POST = Severity.HIGH


def templates_for(category: Category | str, severity: Severity | int | None = None) -> list[str]:
    """The reply kinds that fit, best first: the playbook's, with the apology matched to the
    gravity of our own post ("one immediate, sincere apology with the appropriate level of
    gravitas; a harmless comment only requires a quick informal sorry")."""
    kinds = list(playbook_for(category).templates)
    try:
        cat = Category(category)
    except ValueError:
        return kinds
    if cat is Category.OWN_POST and severity is not None and int(severity) >= GRAVE_OWN_POST:
        kinds.sort(key=lambda k: k != "apology-serious")
    return kinds


def preselected_template(
    category: Category | str,
    severity: Severity | int | None = None,
    available: list[str] | None = None,
) -> str | None:
    """The template the response panel starts with (``None``: the playbook says don't reply).

    A critical or high own post (wrong account, compromised) starts with the formal
    ``apology-serious``, a harmless one with ``apology-light``.  ``available``: the kinds
    the template directory has; others are skipped.
    """
    for kind in templates_for(category, severity):
        if available is None or kind in available:
            return kind
    return None


def preselected_for(item: object, available: list[str] | None = None) -> str | None:
    """:func:`preselected_template` for a triaged item (its ``category`` and ``severity``)."""
    return preselected_template(
        getattr(item, "category", Category.OTHER), getattr(item, "severity", None), available
    )

