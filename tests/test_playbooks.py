"""Playbooks: one per category, both languages, and the seeds' advice is in them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from watchtower.config import parse_config
from watchtower.core.models import Category
from watchtower.core.respond.playbooks import (
    FOLLOWUP_PRESETS,
    FOLLOWUPS_BY_ID,
    PLAYBOOKS,
    followup_preset,
    playbook_for,
)
from watchtower.core.respond.replies import KINDS


def test_every_category_has_a_playbook_in_both_languages() -> None:
    assert set(PLAYBOOKS) == set(Category)
    for category in Category:
        en = playbook_for(category)
        nl = playbook_for(category, language="nl")
        assert en.title and en.summary and en.steps
        assert nl.title and nl.summary and nl.language == "nl"
        # Same steps, same buttons, translated text.
        assert [s.id for s in en.steps] == [s.id for s in nl.steps]
        assert [(s.template, s.followup) for s in en.steps] == [(s.template, s.followup) for s in nl.steps]
        assert len({s.id for s in en.steps}) == len(en.steps)


def test_steps_refer_only_to_real_templates_and_presets() -> None:
    for playbook in PLAYBOOKS.values():
        for kind in playbook.templates:
            assert kind in KINDS
        for step in playbook.steps:
            assert step.template is None or step.template in KINDS
            assert step.followup is None or step.followup in FOLLOWUPS_BY_ID


def test_seed_advice_is_in_the_playbooks() -> None:
    wrong = playbook_for(Category.WRONG_INFO)
    assert [s.id for s in wrong.steps][0] == "delete"
    assert "repost-correction" in wrong.followups
    assert wrong.templates == ["correction", "correction-repost"]

    slip = playbook_for(Category.OWN_POST)
    assert {"apology-light", "apology-serious"} <= set(slip.templates)
    assert any("pretend" in n for n in slip.notes)

    abuse = playbook_for(Category.ABUSE)
    assert abuse.templates == []  # ignore: nothing to post
    assert any("swearing" in s.text for s in abuse.steps)
    assert any("14%" in n for n in abuse.notes)

    grievance = playbook_for(Category.GRIEVANCE)
    assert grievance.templates == ["grievance-public"]
    assert "email-complainant" in grievance.followups

    crisis = playbook_for(Category.CRISIS)
    assert {"holding-statement", "staff-briefing"} <= set(crisis.templates)
    texts = " ".join(s.text for s in crisis.steps)
    assert "Q&A" in texts and "don't use" in texts and "ambassadors" in texts.lower()
    assert "check-other-platforms" in crisis.followups

    security = playbook_for(Category.SECURITY)
    assert {"holding-statement", "hacked-notice", "staff-briefing"} <= set(security.templates)

    assert playbook_for(Category.PRAISE).templates == ["thanks"]
    assert "spam-notice" in playbook_for(Category.SPAM).templates


def test_dutch_text_is_dutch() -> None:
    nl = playbook_for(Category.CRISIS, language="nl")
    assert "medewerkers" in " ".join(s.text for s in nl.steps)
    assert playbook_for("grievance", language="nl").title == "Een echte klacht"


def test_unknown_category_and_language_fall_back() -> None:
    assert playbook_for("no-such-thing").category is Category.OTHER
    assert playbook_for(Category.SPAM, language="fr").language == "en"


def test_repost_preset_uses_the_configured_delay() -> None:
    preset = followup_preset("repost-correction")
    assert preset.delay_for(None) == timedelta(hours=3)
    cfg = parse_config({"replies": {"correction_repost_hours": 4.5}})
    assert preset.delay_for(cfg) == timedelta(hours=4.5)
    assert preset.describe(cfg) == "Repost the correction in 4:30 h"
    assert preset.describe(None, "nl") == "Rectificatie opnieuw posten over 3 u"
    # A preset without a config setting keeps its own delay.
    assert followup_preset("email-complainant").delay_for(cfg) == timedelta(hours=1)
    with pytest.raises(KeyError, match="repost-correction"):
        followup_preset("nope")


def test_presets_are_a_menu_and_an_index() -> None:
    assert [p.id for p in FOLLOWUP_PRESETS] == list(FOLLOWUPS_BY_ID)
    assert FOLLOWUP_PRESETS[0].id == "repost-correction"
    for preset in FOLLOWUP_PRESETS:
        assert preset.label and preset.text and preset.label_nl and preset.text_nl
        assert preset.delay.total_seconds() > 0
