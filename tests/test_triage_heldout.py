"""How well the shipped rules do on posts they were NOT written against.

``tests/fixtures/heldout_posts.jsonl`` holds 80 posts in English and Dutch about several
kinds of organisation (a library, a gemeente, a museum, a transport operator, a company),
labelled by hand with the category and severity a social-media officer would give them
*before* the rules were read.  The keyword rules may be improved in general ways (synonyms,
inflections, compound stems) when these posts show a gap, but never by adding the words of
one post; the labels are not changed to fit the rules.  The floors sit a little below the
measured figures, so a change that makes triage worse fails here.  Run with ``-s`` to see
the figures and every miss with its reasons.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from test_triage_accuracy import NOW, ORG_CONFIG

from watchtower.config import parse_config
from watchtower.core.lang import detect_language
from watchtower.core.models import Category, Item, Severity
from watchtower.core.triage import Triager

FIXTURE = Path(__file__).parent / "fixtures" / "heldout_posts.jsonl"

# Measured when the set was added, before any rule was changed for it (the honest unseen
# figure): 72.5% category, 60.0% exact, 90.0% within one level.  After general rule
# improvements prompted by its misses: 92.5%, 77.5%, 98.8%; so the set is no longer unseen,
# and new posts should be expected to land between the two.
CATEGORY_FLOOR = 0.88
SEVERITY_EXACT_FLOOR = 0.72
SEVERITY_WITHIN_ONE_FLOOR = 0.95


def _load() -> list[tuple[Item, Category, Severity]]:
    rows = []
    for line in FIXTURE.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        data = json.loads(line)
        rows.append((Item.from_json(data), Category(data["expected_category"]), Severity.parse(data["expected_severity"])))
    return rows


def test_the_heldout_set_is_broad() -> None:
    rows = _load()
    assert len(rows) >= 80
    assert len({i.id for i, _, _ in rows}) == len(rows)
    cats = Counter(c for _, c, _ in rows)
    assert set(cats) == set(Category), cats
    sevs = Counter(s for _, _, s in rows)
    assert set(sevs) == set(Severity), sevs
    langs = Counter(detect_language(i.title + " " + i.text) for i, _, _ in rows)
    assert langs["en"] >= 0.4 * len(rows) and langs["nl"] >= 0.35 * len(rows), langs
    followers = [i.author_followers for i, _, _ in rows if i.author_followers is not None]
    assert min(followers) == 0 and max(followers) >= 400_000


def test_default_rules_agree_with_the_officer_on_unseen_posts() -> None:
    rows = _load()
    triager = Triager(parse_config(json.loads(json.dumps(ORG_CONFIG))))
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
    print(f"\nheld-out posts: {n}")
    print(f"category accuracy:               {cat_acc:.1%} ({cat_ok}/{n})")
    print(f"severity exact:                  {exact_acc:.1%} ({sev_exact}/{n})")
    print(f"severity within one level:       {near_acc:.1%} ({sev_near}/{n})")
    print("misses (CAT: wrong category; sev1/SEV2: severity off by one / by two or more):")
    print("\n".join(misses) or "  none")
    assert cat_acc >= CATEGORY_FLOOR
    assert near_acc >= SEVERITY_WITHIN_ONE_FLOOR
    assert exact_acc >= SEVERITY_EXACT_FLOOR


def test_crisis_mode_never_lowers_a_heldout_post() -> None:
    rows = _load()
    base = Triager(parse_config(json.loads(json.dumps(ORG_CONFIG))))
    boosted = Triager(parse_config(json.loads(json.dumps(ORG_CONFIG))))
    for item, _, _ in rows:
        a = base.triage_one(Item.from_json(item.to_json()), now=NOW)
        b = boosted.triage_one(Item.from_json(item.to_json()), now=NOW, crisis=True)
        assert b.severity >= a.severity
        assert b.category == a.category
