"""The triage model (issue 17): the pure-Python reading matches what was trained, and it
is wired in as documented (docs/triage-evaluation.md)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from watchtower.config import parse_config
from watchtower.core.models import Category, Item, Severity
from watchtower.core.triage.engine import Triager
from watchtower.core.triage.model import MODEL_PATH, ModelInput, Reading, TriageModel, load_model, shipped_model

NOW = datetime(2026, 5, 6, 10, 0, tzinfo=timezone.utc)
CONFIG = {
    "organisation": {
        "name": "Rivierland Ziekenhuis", "timezone": "Europe/Amsterdam", "post_languages": ["nl", "en"],
        "accounts": [{"platform": "X", "handle": "@rivierland", "name": "Rivierland Ziekenhuis"}],
    },
    "sources": [{"name": "x", "kind": "rss", "platform": "X", "url": "https://feeds.example/x.rss"}],
}


def _checks() -> list[dict]:
    return json.loads(MODEL_PATH.read_text(encoding="utf-8"))["checks"]


def test_the_shipped_model_reads_as_scikit_learn_did_when_it_was_trained() -> None:
    """One truth: the training script saved scikit-learn's probabilities for sample posts;
    the pure-Python reading the app runs must give the same numbers."""
    model = shipped_model()
    checks = _checks()
    assert len(checks) >= 20
    for check in checks:
        inp = ModelInput(**check["input"])
        cat, sev = model.text_proba(inp.text)
        assert cat == pytest.approx(check["text_category"], abs=1e-6)
        assert sev == pytest.approx(check["text_severity"], abs=1e-6)
        xs = model.vectors([inp])
        assert model.stack_category.proba_many(xs)[0].tolist() == pytest.approx(check["stack_category"], abs=1e-6)
        assert model.stack_severity.proba_many(xs)[0].tolist() == pytest.approx(check["stack_severity"], abs=1e-6)


def test_a_batch_reads_each_post_as_it_would_be_read_alone() -> None:
    """Triage reads a poll's posts at once; no post's reading may depend on its neighbours."""
    model = shipped_model()
    inputs = [ModelInput(**check["input"]) for check in _checks()]
    inputs += [ModelInput("", "other", 1, None, None, 0.0, None, False, False),
               ModelInput("🔥🔥🔥", "other", 1, 10, 1, 0.0, 1.0, False, False)]
    together = model.read_many(inputs)
    alone = [model.read(inp) for inp in inputs]
    # (the sums may differ in the last bit: a matrix product adds in its own order)
    assert [(r.category, r.level) for r in together] == [(r.category, r.level) for r in alone]
    assert [p for r in together for p in (r.category_p, r.high_p)] == pytest.approx(
        [p for r in alone for p in (r.category_p, r.high_p)], abs=1e-12)
    assert model.read_many([]) == []


def _item(text: str, *, followers: int = 300, author: str = "@iemand") -> Item:
    return Item(id="1", platform="X", source="x", author=author, author_name=author.lstrip("@"),
                author_followers=followers, text=text, url="https://x.example/1", published=NOW)


def test_the_model_can_be_switched_off_in_the_config() -> None:
    text = "De parkeergarage bij de poli is al drie weken kapot en niemand doet er iets aan"
    with_model = Triager(parse_config(json.loads(json.dumps(CONFIG))))
    config = json.loads(json.dumps(CONFIG))
    config["triage"] = {"model": False}
    rules_only = Triager(parse_config(config))
    assert with_model.model is not None and rules_only.model is None
    a = rules_only.triage_one(_item(text), now=NOW)
    assert not any(r.startswith("read as") for r in a.reasons)
    # The rules' reading is what the model is given, and the reasons say when it differs.
    b = with_model.triage_one(_item(text), now=NOW)
    assert with_model.last_model_input is not None
    assert with_model.last_model_input.rules_category == a.category.value
    if b.category is not a.category:
        assert f"the rules alone: {a.category.value}" in b.reasons[0]


def test_a_lookalike_author_stays_high_whatever_the_model_reads() -> None:
    """The rules' hard floors (an account posing as ours) hold under the model."""
    triager = Triager(parse_config(json.loads(json.dumps(CONFIG))))
    item = triager.triage_one(_item("Mooie dag vandaag, fijne collega's 🙂", followers=12, author="@rivierland_official"), now=NOW)
    assert item.severity >= Severity.HIGH
    assert item.category is Category.SECURITY


def test_a_broken_model_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "triage-model.json"
    bad.write_text('{"format": 1, "text": {}}', encoding="utf-8")
    with pytest.raises(ValueError, match="is not a triage model"):
        load_model(bad)
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="cannot read the triage model"):
        load_model(bad)


def test_an_item_without_a_known_reach_is_never_read_below_the_rules() -> None:
    """The model learned from posts whose reach was known; an RSS item's is not (no
    followers), so its reading may raise the rules' level but never lower it."""
    config = parse_config(json.loads(json.dumps(CONFIG)))
    text = "The hospital is on fire, patients evacuated"
    rss = Item(id="9", platform="X", source="x", author="Local news", author_name="Local news",
               author_followers=None, text=text, url="https://x.example/9", published=NOW)
    rules_only = Triager(config, model=False).triage_one(Item.from_json(rss.to_json()), now=NOW)
    read = Triager(config).triage_one(Item.from_json(rss.to_json()), now=NOW)
    assert rules_only.severity == Severity.CRITICAL
    assert read.severity >= rules_only.severity


def test_a_post_is_read_as_a_question_only_when_it_is_put_to_us() -> None:
    """Issue 17: a question is one put to us (a reply, a mention, our name with a '?').
    The reading knows what a question looks like; the rules know whom it is put to."""
    model = shipped_model()
    text = "hoe laat gaan jullie open morgen"
    put_to_us = ModelInput(text, "question", 1, 300, 40, 0.0, 1.0, False, False, asks_us=True)
    not_to_us = ModelInput(text, "other", 1, 300, 40, 0.0, 1.0, False, False, asks_us=False)
    assert model.read(put_to_us).category is Category.QUESTION
    assert model.read(not_to_us).category is not Category.QUESTION


def test_an_unsure_reading_leaves_the_rules_their_category() -> None:
    """Below the sure threshold the reading keeps the rules' category: a blunt "jullie
    website is gehackt!" has too few words for the text models, and stays security."""
    model = shipped_model()
    assert model.sure_threshold > 0
    triager = Triager(parse_config(json.loads(json.dumps(CONFIG))))
    item = triager.triage_one(_item("Jullie website is gehackt!"), now=NOW)
    assert item.category is Category.SECURITY and item.severity >= Severity.HIGH
    assert not any("sure); the rules alone" in r for r in item.reasons)


class _Raises:
    """The shipped model, except that it reads every post one level higher."""

    def __init__(self, model: TriageModel) -> None:
        self.model = model

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)

    def read_many(self, inputs: Sequence[ModelInput]) -> list[Reading]:
        return [Reading(r.category, min(r.level + 1, 4), r.category_p, 0.9) for r in self.model.read_many(inputs)]


def test_when_the_reading_changes_the_level_its_reason_is_the_first_line() -> None:
    """The panel shows the first four reasons at 80x24: what raised the badge is one of them."""
    raises: Any = _Raises(shipped_model())
    config = parse_config(json.loads(json.dumps(CONFIG)))
    rules = Triager(config, model=False).triage_one(
        _item("@Rivierland wanneer gaat de bieb weer open? al een week dicht en niks op de site", followers=1204), now=NOW)
    item = Triager(config, model=raises).triage([
        _item("@Rivierland wanneer gaat de bieb weer open? al een week dicht en niks op de site", followers=1204)], now=NOW)[0]
    assert len(rules.reasons) >= 4
    changed = [i for i, r in enumerate(item.reasons) if r.startswith(f"read as {item.severity.label}")]
    assert changed and changed[0] <= (1 if "sure); the rules alone" in item.reasons[0] else 0), item.reasons


class _Dismissive(_Raises):
    """A model sure that every post is nothing: other, info."""

    def read_many(self, inputs: Sequence[ModelInput]) -> list[Reading]:
        return [Reading(Category.OTHER, 0, 0.9, 0.01) for _ in inputs]


@pytest.mark.parametrize("text, category", [
    ("Datalek bij de bieb!", Category.SECURITY),
    ("Your website has been hacked!", Category.SECURITY),
    ("Bieb ontruimd!", Category.CRISIS),
])
def test_a_short_post_keeps_the_rules_reading_of_an_incident(text: str, category: Category) -> None:
    """Three words are too few for the text models; the rules' incident stands."""
    config = parse_config(json.loads(json.dumps(CONFIG)))
    rules = Triager(config, model=False).triage_one(_item(text), now=NOW)
    assert rules.category is category and rules.severity >= Severity.HIGH
    item = Triager(config, model=_Dismissive(shipped_model())).triage([_item(text)], now=NOW)[0]
    assert (item.category, item.severity) == (rules.category, rules.severity)
    assert any(r.startswith("a short post") for r in item.reasons)
    longer = f"{text} Zegt mijn buurman tenminste, maar die verzint wel vaker van alles als het zo uitkomt."
    dismissed = Triager(config, model=_Dismissive(shipped_model())).triage([_item(longer)], now=NOW)[0]
    assert dismissed.category is Category.OTHER  # with words to read, the reading decides


def test_a_large_poll_is_read_as_each_post_would_be_alone() -> None:
    """A first poll can bring thousands of items; triage reads them in chunks, and every
    post must get the mark it would get on its own."""
    from datetime import timedelta

    texts = [check["input"]["text"] for check in _checks()]
    items = [
        Item(id=str(k), platform="X", source="x", author=f"@user{k}", author_name="u",
             author_followers=[12, 300, 40_000][k % 3], text=texts[k % len(texts)],
             url=f"https://x.example/{k}", published=NOW - timedelta(hours=k))
        for k in range(600)
    ]
    config = parse_config(json.loads(json.dumps(CONFIG)))
    batch = Triager(config).triage([Item.from_json(i.to_json()) for i in items], now=NOW)
    alone = Triager(config)
    single = [alone.triage_one(Item.from_json(i.to_json()), now=NOW) for i in items]
    assert [(i.category, i.severity) for i in batch] == [(i.category, i.severity) for i in single]
    assert len({i.category for i in batch}) > 3  # the posts differ: the check can fail
