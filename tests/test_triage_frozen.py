"""Triage on the frozen evaluation set: posts written and labelled by three authors who
never saw the rules (a hospital, a municipality, a transport operator; half English, half
Dutch), scored through ``watchtower triage`` as a user runs it.

The set is scored, never tuned on (docs/triage-evaluation.md): its digest is pinned here,
so a change to a post or a label fails this file.  The floors are the goals the on-call
team asked for; run ``.venv/bin/python tests/triage_eval.py`` to see every figure.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from triage_eval import score_sets, set_digest

FROZEN = Path(__file__).parent / "fixtures" / "eval_frozen"
FROZEN_SHA256 = "4a5281bf659d6be42bc22006e4c3ce88dcfb541384f695fb6f435afbffdf6e4b"

# Floors on the whole frozen set: the goals the on-call team asked for, met by the rules
# and the triage model together (86.7% / 90.9% / 98.9% / 96.0% with the model retrained on 24
# organisations; 82.4% / 88.5% / 96.7% / 96.0% with the first one, on 12;
# docs/triage-evaluation.md).  Never lowered to pass.
CATEGORY_FLOOR = 0.80
BAND_FLOOR = 0.85
HIGH_RECALL_FLOOR = 0.95
TINY_KEPT_LOW_FLOOR = 0.90


def test_the_frozen_set_is_unchanged() -> None:
    assert set_digest(FROZEN) == FROZEN_SHA256, "the frozen evaluation set was edited: it must not be"


@pytest.fixture(scope="module")
def scores():
    return score_sets(FROZEN)


def test_each_organisation_is_half_english_half_dutch(scores) -> None:
    import json

    for org in ("hospital", "municipality", "transport"):
        langs = [json.loads(line)["label"]["lang"] for line in (FROZEN / org / "posts.jsonl").read_text().splitlines()]
        assert len(langs) >= 100 and langs.count("en") == langs.count("nl"), org


def test_category_floor(scores) -> None:
    assert scores["all"].category >= CATEGORY_FLOOR, scores["all"].table()


def test_severity_within_band_floor(scores) -> None:
    assert scores["all"].band >= BAND_FLOOR, scores["all"].table()


def test_high_and_critical_are_found(scores) -> None:
    assert scores["all"].recall >= HIGH_RECALL_FLOOR, scores["all"].table()


def test_tiny_reach_grumbles_stay_low(scores) -> None:
    assert scores["all"].tiny_low >= TINY_KEPT_LOW_FLOOR, scores["all"].table()
