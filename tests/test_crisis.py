"""The crisis checklist from the seeds, its progress, and the crisis alert."""

from __future__ import annotations

import re

from watchtower.core.alert.alerts import Alerter
from watchtower.core.models import Severity
from watchtower.core.respond.crisis import CHECK_IDS, CHECKLIST, checklist_progress, crisis_alert, crisis_threshold


def test_checklist_covers_the_seed_steps_in_both_languages() -> None:
    ids = [c.id for c in CHECKLIST]
    assert ids == [
        "holding-statement",
        "qa-page",
        "other-platforms",
        "employees-informed",
        "reply-once",
        "follow-ups",
    ]
    assert len(CHECK_IDS) == len(ids)
    by_id = {c.id: c for c in CHECKLIST}
    assert "platform where it started" in by_id["holding-statement"].text
    assert "Employees informed" in by_id["employees-informed"].text
    assert "once per thread" in by_id["reply-once"].text
    for c in CHECKLIST:
        assert c.text and c.text_nl and c.text != c.text_nl
    assert "Medewerkers" in by_id["employees-informed"].describe("nl")


def test_qa_step_names_the_configured_url_or_its_absence() -> None:
    qa = next(c for c in CHECKLIST if c.id == "qa-page")
    assert "https://example.org/qa" in qa.describe(qa_url="https://example.org/qa")
    assert "organisation.qa_url" in qa.describe()
    assert "organisation.qa_url" in qa.describe("nl")


def test_checklist_progress_marks_done_checks_in_order() -> None:
    progress = checklist_progress({"qa-page", "employees-informed", "from-a-newer-version"})
    assert [c.id for c, _ in progress] == [c.id for c in CHECKLIST]
    assert [done for _, done in progress] == [False, True, False, True, False, False]
    assert all(not done for _, done in checklist_progress(set()))
    assert all(done for _, done in checklist_progress(CHECK_IDS))


def test_crisis_alert_is_critical_and_clean() -> None:
    a = crisis_alert("Account hacked\x1b]52;c;eA==\x07 \u202eon X", "ann\nbob")
    assert a.kind == "crisis" and a.severity is Severity.CRITICAL and a.key == "crisis"
    assert a.title == "CRISIS MODE: Account hacked on X"
    assert "Started by ann bob" in a.body and "platform where it started" in a.body
    assert not re.search(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e]", a.title + a.body)


def test_crisis_threshold_is_one_level_lower() -> None:
    assert crisis_threshold(Severity.HIGH) is Severity.MEDIUM
    assert crisis_threshold(Severity.INFO) is Severity.INFO


def test_crisis_mode_lowers_alert_thresholds() -> None:
    from watchtower.config import Alerts

    alerter = Alerter(Alerts(min_severity="critical", uncovered_min_severity="high"), clock=lambda: 0.0, env={})
    assert alerter.thresholds() == (Severity.CRITICAL, Severity.HIGH)
    assert alerter.thresholds(crisis=True) == (Severity.HIGH, Severity.MEDIUM)
