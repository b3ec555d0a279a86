"""How well the shipped default rules agree with a social-media officer's labels.

``tests/fixtures/labelled_posts.jsonl`` holds realistic posts in English and Dutch, each
labelled with the category and severity an officer would give it (written as labels, not
to fit the rules: some are hard on purpose, and the misses are printed).  Run with ``-s``
to see the figures and every miss.

``tests/fixtures/heldout_posts.jsonl`` holds 80 more, about several kinds of organisation
(a library, a gemeente, a museum, a transport operator, a company), labelled *before* the
rules were read.  Before any rule changed for them the shipped rules scored 72.5% category,
60.0% exact and 90.0% within one level on them (the honest unseen figure); after general
improvements their misses prompted (synonyms, inflections, compound stems, never the words
of one post) 92.5%, 77.5% and 98.8%.  So that set is no longer unseen either: expect new
posts to land between the two.  Labels are never changed to fit the rules.

Issue 17 changed what some of these labels ask for, on purpose, and the figures moved with
it (labelled 94.9% -> 91.5% category, 88.1% -> 77.1% exact; heldout 92.5% -> 90.0%
category, 77.5% -> 81.2% exact): a question counts only when it is put to us ("Is the
library open on Easter Monday?" to nobody in particular is 'other' now), spam is info, and
crypto from our own account is a security matter (the account may be taken over), not an
own-post.  The floors were not lowered for it (heldout's exact floor went up).

The development set of the triage evaluation (``tests/fixtures/eval_dev``, see
docs/triage-evaluation.md) is scored here too, through ``watchtower triage`` as a user
runs it; it was tuned on, so its floors guard against regressions and say nothing about
posts nobody tuned on.  The frozen set is the lead's to score.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

import pytest
from triage_eval import score_sets

from watchtower.config import parse_config
from watchtower.core.models import Category, Item, Severity
from watchtower.core.text.lang import detect_language
from watchtower.core.triage.engine import Triager

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2025, 3, 10, 9, 0, tzinfo=timezone.utc)

ORG_CONFIG = {
    "organisation": {
        "name": "Stadsbibliotheek Haarlem",
        "timezone": "Europe/Amsterdam",
        "post_languages": ["nl", "en"],
        "accounts": [
            {"platform": "Mastodon", "handle": "@bieb@social.example", "name": "Stadsbibliotheek Haarlem"},
            {"platform": "Bluesky", "handle": "stadsbieb.bsky.social", "name": "Stadsbibliotheek Haarlem"},
            {"platform": "X", "handle": "@stadsbieb", "name": "Stadsbibliotheek Haarlem"},
        ],
    },
    "rota": {
        "holidays": "NL",
        "shift": [
            {"name": "day", "days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "22:00", "on_call": "Ada"},
            {"name": "weekend", "days": ["sat", "sun"], "start": "10:00", "end": "18:00", "on_call": "Bo"},
        ],
    },
    "triage": {"ambassadors": ["@trouwe_lezer@social.example", "boekenwurm.bsky.social"]},
    "sources": [
        {"name": "nos", "kind": "rss", "platform": "News", "url": "https://nos.example/rss", "weight": 3},
        {"name": "haarlemsdagblad", "kind": "rss", "platform": "News", "url": "https://hd.example/rss", "weight": 2},
        {"name": "forum", "kind": "rss", "platform": "Forum", "url": "https://forum.example/rss", "weight": 0.5},
    ],
}

class LabelledSet(NamedTuple):
    file: str
    size: int
    category_floor: float
    exact_floor: float
    within_one_floor: float
    english_share: float
    fewest_followers: int
    most_followers: int


SETS = {
    # The floors sit a little below the measured figures, so a change that makes triage
    # worse fails here.
    "labelled": LabelledSet("labelled_posts.jsonl", 100, 0.85, 0.75, 0.95, 0.35, 3, 500_000),
    "heldout": LabelledSet("heldout_posts.jsonl", 80, 0.88, 0.78, 0.95, 0.4, 0, 400_000),
}


def _load(name: str) -> list[tuple[Item, Category, Severity]]:
    rows = []
    for line in (FIXTURES / SETS[name].file).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        data = json.loads(line)
        rows.append((Item.from_json(data), Category(data["expected_category"]), Severity.parse(data["expected_severity"])))
    return rows


@pytest.mark.parametrize("name", SETS)
def test_the_labelled_set_is_broad(name: str) -> None:
    spec, rows = SETS[name], _load(name)
    assert len(rows) >= spec.size
    assert len({i.id for i, _, _ in rows}) == len(rows)
    cats = Counter(c for _, c, _ in rows)
    assert set(cats) == set(Category), cats
    sevs = Counter(s for _, _, s in rows)
    assert set(sevs) == set(Severity), sevs
    langs = Counter(detect_language(i.title + " " + i.text) for i, _, _ in rows)
    assert langs["en"] >= spec.english_share * len(rows) and langs["nl"] >= 0.35 * len(rows), langs
    followers = [i.author_followers for i, _, _ in rows if i.author_followers is not None]
    assert min(followers) <= spec.fewest_followers and max(followers) >= spec.most_followers


@pytest.mark.parametrize("name", SETS)
def test_default_rules_agree_with_the_officer(name: str) -> None:
    spec, rows = SETS[name], _load(name)
    triager = Triager(parse_config(json.loads(json.dumps(ORG_CONFIG))), model=False)  # the rules' own sets
    cat_ok = sev_exact = sev_near = 0
    misses = []
    for item, want_cat, want_sev in rows:
        triager.triage([item], now=NOW)
        cat_ok += item.category == want_cat
        sev_exact += item.severity == want_sev
        sev_near += abs(item.severity - want_sev) <= 1
        if item.category != want_cat or item.severity != want_sev:
            mark = "CAT" if item.category != want_cat else "   "
            mark += " SEV2" if abs(item.severity - want_sev) > 1 else " sev1" if item.severity != want_sev else "     "
            misses.append(
                f"  {mark} {want_cat.value:>10}/{want_sev.label:<8} got {item.category.value:>10}/{item.severity.label:<8} "
                f"{item.headline[:70]!r}\n           {'; '.join(item.reasons)}"
            )
    n = len(rows)
    cat_acc, exact_acc, near_acc = cat_ok / n, sev_exact / n, sev_near / n
    print(f"\n{name} posts: {n}")
    print(f"category accuracy:               {cat_acc:.1%} ({cat_ok}/{n})")
    print(f"severity exact:                  {exact_acc:.1%} ({sev_exact}/{n})")
    print(f"severity within one level:       {near_acc:.1%} ({sev_near}/{n})")
    print("misses (CAT: wrong category; sev1/SEV2: severity off by one / by two or more):")
    print("\n".join(misses) or "  none")
    assert cat_acc >= spec.category_floor
    assert near_acc >= spec.within_one_floor
    assert exact_acc >= spec.exact_floor


@pytest.mark.parametrize("name", SETS)
@pytest.mark.parametrize("crisis", [False, True])
def test_crisis_mode_never_lowers_anything(name: str, crisis: bool) -> None:
    rows = _load(name)
    base = Triager(parse_config(json.loads(json.dumps(ORG_CONFIG))))
    boosted = Triager(parse_config(json.loads(json.dumps(ORG_CONFIG))))
    for item, _, _ in rows:
        a = base.triage_one(Item.from_json(item.to_json()), now=NOW)
        b = boosted.triage_one(Item.from_json(item.to_json()), now=NOW, crisis=crisis)
        assert b.severity >= a.severity
        assert b.category == a.category


# The development set (30 organisations, 3,300 posts) is what the triage model was trained
# on, so its figures say the model is loaded and wired in, not how good it is (that is the
# frozen set's job, tests/test_triage_frozen.py).  With the model it scores category 99.8%,
# within the band 94.8%, high/critical found 99.8%, tiny grumbles low 97.6%.
DEV_FLOORS = {"category": 0.95, "band": 0.90, "recall": 0.98, "tiny_low": 0.94}


def test_the_development_set_keeps_its_figures() -> None:
    score = score_sets(FIXTURES / "eval_dev")["all"]
    print(f"\ndevelopment set\n{score.table()}")
    for name, floor in DEV_FLOORS.items():
        assert getattr(score, name) >= floor, (name, score.table())
