"""How well the shipped default rules agree with a social-media officer's labels.

``tests/fixtures/labelled_posts.jsonl`` holds realistic posts in English and Dutch, each
labelled with the category and severity an officer would give it (written as labels, not
to fit the rules: some are hard on purpose, and the misses are printed).  Run with ``-s``
to see the figures and every miss.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest

from watchtower.config import parse_config
from watchtower.core.lang import detect_language
from watchtower.core.models import Category, Item, Severity
from watchtower.core.triage import Triager

FIXTURE = Path(__file__).parent / "fixtures" / "labelled_posts.jsonl"
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

CATEGORY_FLOOR = 0.85
SEVERITY_WITHIN_ONE_FLOOR = 0.95
SEVERITY_EXACT_FLOOR = 0.75


def _load() -> list[tuple[Item, Category, Severity]]:
    rows = []
    for line in FIXTURE.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        data = json.loads(line)
        rows.append((Item.from_json(data), Category(data["expected_category"]), Severity.parse(data["expected_severity"])))
    return rows


def test_the_labelled_set_is_broad() -> None:
    rows = _load()
    assert len(rows) >= 100
    cats = Counter(c for _, c, _ in rows)
    assert set(cats) == set(Category), cats
    sevs = Counter(s for _, _, s in rows)
    assert set(sevs) == set(Severity), sevs
    langs = Counter(detect_language(i.title + " " + i.text) for i, _, _ in rows)
    assert langs["en"] >= 0.35 * len(rows) and langs["nl"] >= 0.35 * len(rows), langs
    followers = [i.author_followers for i, _, _ in rows if i.author_followers is not None]
    assert min(followers) <= 3 and max(followers) >= 500_000


def test_default_rules_agree_with_the_officer() -> None:
    rows = _load()
    triager = Triager(parse_config(json.loads(json.dumps(ORG_CONFIG))))
    cat_ok = sev_exact = sev_near = 0
    misses = []
    for item, want_cat, want_sev in rows:
        triager.triage([item], now=NOW)
        cat_ok += item.category == want_cat
        sev_exact += item.severity == want_sev
        sev_near += abs(item.severity - want_sev) <= 1
        if item.category != want_cat or abs(item.severity - want_sev) > 1:
            misses.append(
                f"  {want_cat.value:>10}/{want_sev.label:<8} got {item.category.value:>10}/{item.severity.label:<8} "
                f"{item.headline[:70]!r}"
            )
    n = len(rows)
    cat_acc, exact_acc, near_acc = cat_ok / n, sev_exact / n, sev_near / n
    print(f"\nlabelled posts: {n}")
    print(f"category accuracy:               {cat_acc:.1%} ({cat_ok}/{n})")
    print(f"severity exact:                  {exact_acc:.1%} ({sev_exact}/{n})")
    print(f"severity within one level:       {near_acc:.1%} ({sev_near}/{n})")
    print("misses (wrong category, or severity off by two or more):")
    print("\n".join(misses) or "  none")
    assert cat_acc >= CATEGORY_FLOOR
    assert near_acc >= SEVERITY_WITHIN_ONE_FLOOR
    assert exact_acc >= SEVERITY_EXACT_FLOOR


@pytest.mark.parametrize("crisis", [False, True])
def test_crisis_mode_never_lowers_anything(crisis: bool) -> None:
    rows = _load()
    base = Triager(parse_config(json.loads(json.dumps(ORG_CONFIG))))
    boosted = Triager(parse_config(json.loads(json.dumps(ORG_CONFIG))))
    for item, _, _ in rows:
        a = base.triage_one(Item.from_json(item.to_json()), now=NOW)
        b = boosted.triage_one(Item.from_json(item.to_json()), now=NOW, crisis=crisis)
        assert b.severity >= a.severity
        assert b.category == a.category
