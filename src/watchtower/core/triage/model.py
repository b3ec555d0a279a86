"""A learned second reading of each post, on top of the rules (issue 17).

The rules match words.  On posts about organisations they were not written against they
get about 69% of categories right, while a reader gets 97% (docs/triage-evaluation.md).  So
triage also reads a post with a small model learned from labelled posts, and a second
model weighs that reading against what the rules found and how many people will see it:

1. **Text models**: two linear classifiers (category; severity as the words alone suggest)
   over stems and stem pairs of the post, TF-IDF weighted.  Stems come from
   :func:`~watchtower.core.text.lang.stem` (Snowball), in English and Dutch alike.
2. **Stacker**: two linear classifiers (category; severity) over the text models'
   probabilities, the rules' category and severity, and the reach figures (followers,
   audience, engagement, source weight, our own account, a reply to us).  It learned, on
   organisations whose posts the rules were never tuned on, when to trust the rules and when
   the words.

The weights are trained by ``scripts/train_triage_model.py`` (scikit-learn, the ``train``
extra) and shipped as ``config/triage-model.json``; reading a post needs nothing but this
module, in pure Python (a post's few dozen features are a few thousand multiply-adds).
Everything the model uses is built by the functions here, in training and at run time
alike, so the two cannot drift apart; ``tests/test_triage_model.py`` checks that this
module reproduces scikit-learn's probabilities on the vectors the training script saved.
"""

from __future__ import annotations

import functools
import json
import math
import unicodedata
from dataclasses import dataclass
from operator import mul
from pathlib import Path
from typing import Any

from ...config import PACKAGE_CONFIG_DIR
from ..models import Category, Severity
from ..text.lang import normalise, stem, words

__all__ = [
    "ModelInput",
    "Reading",
    "TriageModel",
    "text_features",
    "stack_vector",
    "CATEGORIES",
    "LEVELS",
    "load_model",
    "shipped_model",
    "MODEL_PATH",
]

#: The order of the category and severity columns in every vector.
CATEGORIES: tuple[str, ...] = tuple(c.value for c in Category)
LEVELS: tuple[str, ...] = ("info", "low", "medium", "high", "critical")
FORMAT = 1
#: The shipped model (``config/triage-model.json``).
MODEL_PATH = PACKAGE_CONFIG_DIR / "triage-model.json"


def text_features(text: str) -> list[str]:
    """The text model's features: each word's stem (the shorter of its English and Dutch
    stems, so a language guess can't pick the wrong one), each pair of neighbouring stems,
    and each emoji or other symbol (an eye-roll, a heart, a siren say much in a post)."""
    stems = [_stem(w) for w in words(normalise(text))]
    symbols = [f"sym:{ch}" for ch in text if ch > "\u2000" and unicodedata.category(ch) == "So"]
    return stems + [f"{a}_{b}" for a, b in zip(stems, stems[1:])] + symbols


def _stem(word: str) -> str:
    en, nl = stem(word, "en"), stem(word, "nl")
    return nl if len(nl) < len(en) else en


@dataclass(frozen=True, slots=True)
class ModelInput:
    """What the rules saw of a post, as the stacker reads it."""

    text: str
    rules_category: str
    rules_level: int
    followers: int | None
    audience: int | None
    engagement: float
    weight: float | None
    own: bool
    reply: bool


#: The stacker's vector: text probabilities (categories, levels), the rules' one-hot
#: answers (categories, levels), then seven reach figures.
_VECTOR_WIDTH = 2 * (len(CATEGORIES) + len(LEVELS)) + 7
_ONEHOT = (len(CATEGORIES) + len(LEVELS), 2 * (len(CATEGORIES) + len(LEVELS)))


def stack_vector(cat_probs: list[float], sev_probs: list[float], inp: ModelInput) -> list[float]:
    """The stacker's input: text probabilities, the rules' one-hot answers, the reach figures."""
    rules_cat = [0.0] * len(CATEGORIES)
    if inp.rules_category in CATEGORIES:
        rules_cat[CATEGORIES.index(inp.rules_category)] = 1.0
    rules_sev = [0.0] * len(LEVELS)
    rules_sev[max(0, min(len(LEVELS) - 1, inp.rules_level))] = 1.0
    return [
        *cat_probs,
        *sev_probs,
        *rules_cat,
        *rules_sev,
        math.log10(1 + (inp.followers or 0)),
        0.0 if inp.followers is None else 1.0,
        math.log10(1 + (inp.audience or 0)),
        math.log10(1 + max(0.0, inp.engagement)),
        1.0 if inp.weight is None else inp.weight,
        1.0 if inp.own else 0.0,
        1.0 if inp.reply else 0.0,
    ]


@dataclass(frozen=True, slots=True)
class Reading:
    """The model's reading of a post."""

    category: Category
    level: int
    category_p: float
    high_p: float
    """The probability the stacker gives to high or critical."""


def _softmax(logits: list[float]) -> list[float]:
    top = max(logits)
    exps = [math.exp(x - top) for x in logits]
    total = sum(exps)
    return [e / total for e in exps]


class _Linear:
    """A multinomial logistic regression over :func:`stack_vector`'s vectors.

    The scaler is folded into the weights once (``w / scale``, ``b - sum(w * mean / scale)``),
    and the two one-hot blocks (the rules' category and severity) are read as a column each
    rather than multiplied: a post costs one short dot product per class.
    """

    __slots__ = ("classes", "_dense", "_onehot", "_bias")

    def __init__(self, data: dict[str, Any]) -> None:
        self.classes: list[str] = list(data["classes"])
        coef = [list(map(float, row)) for row in data["coef"]]
        intercept = list(map(float, data["intercept"]))
        if len(coef) != len(self.classes) or len(intercept) != len(self.classes):
            raise ValueError("classes, coef and intercept differ in length")
        width = _VECTOR_WIDTH
        if any(len(row) != width for row in coef):
            raise ValueError(f"stacker rows of {width} weights expected")
        mean = list(map(float, data.get("mean") or [0.0] * width))
        scale = [float(x) or 1.0 for x in (data.get("scale") or [1.0] * width)]
        folded = [[w / sc for w, sc in zip(row, scale)] for row in coef]
        self._bias = [b - sum(w * m for w, m in zip(row, mean)) for row, b in zip(folded, intercept)]
        lo, hi = _ONEHOT
        self._dense = [row[:lo] + row[hi:] for row in folded]
        self._onehot = [row[lo:hi] for row in folded]

    def proba(self, x: list[float]) -> list[float]:
        lo, hi = _ONEHOT
        dense = x[:lo] + x[hi:]
        hot = [i for i, v in enumerate(x[lo:hi]) if v]
        logits = []
        for b, row, ones in zip(self._bias, self._dense, self._onehot):
            total = b + sum(map(mul, row, dense))
            for i in hot:
                total += ones[i]
            logits.append(total)
        return _softmax(logits)


class TriageModel:
    """The shipped model: text models over sparse features, stackers over dense vectors."""

    def __init__(self, data: dict[str, Any]) -> None:
        if data.get("format") != FORMAT:
            raise ValueError(f"a triage model of format {FORMAT} (got {data.get('format')!r})")
        text = data["text"]
        self.idf: dict[str, float] = {}
        #: feature -> its category weights then its severity weights, in one tuple
        self.rows: dict[str, tuple[float, ...]] = {}
        self.cat_classes: list[str] = list(text["category_classes"])
        self.sev_classes: list[str] = list(text["severity_classes"])
        # Columns in CATEGORIES then LEVELS order, so a reading needs no reordering.
        cat_at = [self.cat_classes.index(c) if c in self.cat_classes else None for c in CATEGORIES]
        sev_at = [self.sev_classes.index(c) if c in self.sev_classes else None for c in LEVELS]
        for feature, (idf, cat_w, sev_w) in text["features"].items():
            self.idf[feature] = float(idf)
            self.rows[feature] = (*_pick(cat_w, cat_at, 0.0), *_pick(sev_w, sev_at, 0.0))
        # A class the training data lacked can never be read: its logit is -inf.
        self.cat_intercept: list[float] = _pick(text["category_intercept"], cat_at, -math.inf)
        self.sev_intercept: list[float] = _pick(text["severity_intercept"], sev_at, -math.inf)
        self.stack_category = _Linear(data["stack"]["category"])
        self.stack_severity = _Linear(data["stack"]["severity"])
        self.high_threshold: float = float(data["stack"]["high_threshold"])
        self.about: dict[str, Any] = dict(data.get("about") or {})

    # -- the text models ----------------------------------------------------------------
    def text_proba(self, text: str) -> tuple[list[float], list[float]]:
        """Category and severity probabilities from the words alone, in CATEGORIES/LEVELS order."""
        counts: dict[str, int] = {}
        for f in text_features(text):
            if f in self.idf:
                counts[f] = counts.get(f, 0) + 1
        weights = {f: (1.0 + math.log(n)) * self.idf[f] for f, n in counts.items()}
        norm = math.sqrt(sum(v * v for v in weights.values())) or 1.0
        acc = [*self.cat_intercept, *self.sev_intercept]
        if weights:
            rows = self.rows
            values = [v / norm for v in weights.values()]
            columns = zip(*[rows[f] for f in weights])  # one column of weights per class
            acc = [b + sum(map(mul, col, values)) for b, col in zip(acc, columns)]
        n = len(CATEGORIES)
        return _softmax(acc[:n]), _softmax(acc[n:])

    # -- the stacker --------------------------------------------------------------------
    def vector(self, inp: ModelInput) -> list[float]:
        cat, sev = self.text_proba(inp.text)
        return stack_vector(cat, sev, inp)

    def read(self, inp: ModelInput) -> Reading:
        x = self.vector(inp)
        pc = _in_order(self.stack_category.proba(x), self.stack_category.classes, CATEGORIES)
        ps = _in_order(self.stack_severity.proba(x), self.stack_severity.classes, LEVELS)
        best = max(range(len(pc)), key=pc.__getitem__)
        level = max(range(len(ps)), key=ps.__getitem__)
        high_p = ps[3] + ps[4]
        if high_p >= self.high_threshold:
            level = max(level, int(Severity.HIGH))
        return Reading(Category(CATEGORIES[best]), level, pc[best], high_p)


def _pick(values: list[Any], at: list[int | None], missing: float) -> list[float]:
    return [missing if i is None else float(values[i]) for i in at]


def _in_order(probs: list[float], classes: list[str], order: tuple[str, ...]) -> list[float]:
    out = [0.0] * len(order)
    for p, c in zip(probs, classes):
        out[order.index(c)] = p
    return out


def load_model(path: Path) -> TriageModel:
    """The model in ``path`` (``config/triage-model.json``); ``ValueError`` if it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read the triage model {path}: {exc}") from exc
    try:
        return TriageModel(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path} is not a triage model: {exc}") from exc


@functools.cache
def shipped_model() -> TriageModel:
    """The shipped model, read once per process (``ValueError`` if it is missing or broken)."""
    return load_model(MODEL_PATH)
