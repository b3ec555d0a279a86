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
extra) and shipped as ``config/triage-model.json``; reading needs this module and numpy,
no scikit-learn.  Triage reads a poll's posts as one batch: the Python work per post is
looking its words up; the multiply-adds run in numpy, a few calls for the whole batch.
Everything the model uses is built by the functions here, in training and at run time
alike, so the two cannot drift apart; ``tests/test_triage_model.py`` checks that this
module reproduces scikit-learn's probabilities on the vectors the training script saved.
"""

from __future__ import annotations

import functools
import json
import math
import re
import unicodedata
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np

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
_QUESTION_COLUMN = CATEGORIES.index(Category.QUESTION.value)
FORMAT = 1
#: The shipped model (``config/triage-model.json``).
MODEL_PATH = PACKAGE_CONFIG_DIR / "triage-model.json"


def text_features(text: str) -> list[str]:
    """The text model's features: each word's stem (the shorter of its English and Dutch
    stems, so a language guess can't pick the wrong one), each pair of neighbouring stems,
    and each emoji or other symbol (an eye-roll, a heart, a siren say much in a post).

    Training names the features with these strings; reading looks the same stems, pairs and
    symbols up by value (:meth:`TriageModel.text_proba_many`), so both see the same features.
    """
    stems = _stems(text)
    return stems + [f"{a}_{b}" for a, b in zip(stems, stems[1:])] + [f"sym:{ch}" for ch in _symbols(text)]


#: word -> the shorter of its English and Dutch stems (bounded like lang.stem's caches)
_BOTH_STEMS: dict[str, str] = {}
_BOTH_STEMS_SIZE = 50_000
_HIGH_CHARS = re.compile("[\u2001-\U0010ffff]")


def _stems(text: str) -> list[str]:
    ws = words(normalise(text))
    cache = _BOTH_STEMS
    for w in ws:
        if w not in cache:
            if len(cache) >= _BOTH_STEMS_SIZE:
                cache.clear()
            cache[w] = _stem(w)
    get = cache.get
    return [get(w) or _stem(w) for w in ws]  # (_stem only if another thread just cleared it)


def _stem(word: str) -> str:
    en, nl = stem(word, "en"), stem(word, "nl")
    return nl if len(nl) < len(en) else en


def _symbols(text: str) -> list[str]:
    """The emoji and other symbols (Unicode category So) of ``text``, in order."""
    if text.isascii():
        return []
    return [ch for ch in _HIGH_CHARS.findall(text) if unicodedata.category(ch) == "So"]


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
    asks_us: bool = True
    """The rules found a question put to us (a reply, a mention, our name with a '?'): a
    post may be read as a question only then.  Not a stacker input."""


#: The stacker's vector: text probabilities (categories, levels), the rules' one-hot
#: answers (categories, levels), then seven reach figures.
_VECTOR_WIDTH = 2 * (len(CATEGORIES) + len(LEVELS)) + 7


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


class _Linear:
    """A multinomial logistic regression over :func:`stack_vector`'s vectors, with its
    columns in a fixed order (CATEGORIES or LEVELS; a class it never learned reads 0).

    The scaler is folded into the weights once: ``w / scale``, ``b - sum(w * mean / scale)``.
    """

    __slots__ = ("classes", "_weights", "_bias", "_columns", "_width")

    def __init__(self, data: dict[str, Any], order: tuple[str, ...]) -> None:
        self.classes: list[str] = list(data["classes"])
        coef = np.array(data["coef"], dtype=np.float64)
        intercept = np.array(data["intercept"], dtype=np.float64)
        if coef.shape != (len(self.classes), _VECTOR_WIDTH) or intercept.shape != (len(self.classes),):
            raise ValueError(f"stacker of {len(self.classes)} classes x {_VECTOR_WIDTH} weights expected")
        unknown = [c for c in self.classes if c not in order]
        if unknown:
            raise ValueError(f"stacker classes {unknown} are not among {list(order)}")
        mean = np.array(data.get("mean") or [0.0] * _VECTOR_WIDTH, dtype=np.float64)
        scale = np.array(data.get("scale") or [1.0] * _VECTOR_WIDTH, dtype=np.float64)
        folded = coef / np.where(scale == 0, 1.0, scale)
        self._weights = folded.T  # width x classes
        self._bias = intercept - folded @ mean
        self._columns = [order.index(c) for c in self.classes]
        self._width = len(order)

    def proba_many(self, xs: np.ndarray) -> np.ndarray:
        """Probabilities, one row per vector of ``xs``, in the fixed order."""
        probs = _softmax_rows(xs @ self._weights + self._bias)
        out = np.zeros((len(xs), self._width), dtype=np.float64)
        out[:, self._columns] = probs
        return out


class TriageModel:
    """The shipped model: text models over sparse features, stackers over dense vectors."""

    def __init__(self, data: dict[str, Any]) -> None:
        if data.get("format") != FORMAT:
            raise ValueError(f"a triage model of format {FORMAT} (got {data.get('format')!r})")
        text = data["text"]
        self.cat_classes: list[str] = list(text["category_classes"])
        self.sev_classes: list[str] = list(text["severity_classes"])
        # Columns in CATEGORIES then LEVELS order, so a reading needs no reordering.
        cat_at = [self.cat_classes.index(c) if c in self.cat_classes else None for c in CATEGORIES]
        sev_at = [self.sev_classes.index(c) if c in self.sev_classes else None for c in LEVELS]
        # Each feature gets a row number, looked up by what text_features names: a stem, a
        # pair of stems ("a_b": words never hold "_") or a symbol ("sym:X").
        self._stem_row: dict[str, int] = {}
        self._pair_row: dict[tuple[str, str], int] = {}
        self._symbol_row: dict[str, int] = {}
        idf: list[float] = []
        rows: list[list[float]] = []
        for feature, (f_idf, cat_w, sev_w) in text["features"].items():
            row = len(rows)
            if feature.startswith("sym:"):
                self._symbol_row[feature[4:]] = row
            elif "_" in feature:
                first, _, second = feature.partition("_")
                self._pair_row[(first, second)] = row
            else:
                self._stem_row[feature] = row
            idf.append(float(f_idf))
            rows.append([*_pick(cat_w, cat_at, 0.0), *_pick(sev_w, sev_at, 0.0)])
        width = len(CATEGORIES) + len(LEVELS)
        self._idf = np.array(idf, dtype=np.float64)
        self._weights = np.array(rows, dtype=np.float64).reshape(len(rows), width)
        # A class the training data lacked can never be read: its logit is -inf.
        self.cat_intercept: list[float] = _pick(text["category_intercept"], cat_at, -math.inf)
        self.sev_intercept: list[float] = _pick(text["severity_intercept"], sev_at, -math.inf)
        self._intercept = np.array([*self.cat_intercept, *self.sev_intercept], dtype=np.float64)
        self.stack_category = _Linear(data["stack"]["category"], CATEGORIES)
        self.stack_severity = _Linear(data["stack"]["severity"], LEVELS)
        self.high_threshold: float = float(data["stack"]["high_threshold"])
        #: Below this probability for its best category the stacker is unsure, and the
        #: reading keeps the rules' category (a short "your site is hacked!" stays security).
        self.sure_threshold: float = float(data["stack"].get("sure_threshold", 0.0))
        self.about: dict[str, Any] = dict(data.get("about") or {})

    # -- the text models ----------------------------------------------------------------
    def _rows_of(self, text: str) -> list[int]:
        """The row of each of ``text_features(text)`` the model knows (-1: unknown), in
        the same order, looked up by value rather than by building each feature's name."""
        stems = _stems(text)
        rows = [*map(self._stem_row.get, stems, repeat(-1)), *map(self._pair_row.get, zip(stems, stems[1:]), repeat(-1))]
        symbols = _symbols(text)
        if symbols:
            rows += map(self._symbol_row.get, symbols, repeat(-1))
        return rows

    def text_proba_many(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Category and severity probabilities from the words alone, one row per text, in
        CATEGORIES and LEVELS order: sublinear TF-IDF, L2-normalised, as scikit-learn's
        ``TfidfVectorizer(sublinear_tf=True)`` and ``LogisticRegression`` read them.

        A batch is read at once (numpy): the Python work per post is looking its words up.
        """
        n = len(texts)
        lengths = []
        found: list[int] = []
        for text in texts:
            rows = self._rows_of(text)
            found += rows
            lengths.append(len(rows))
        logits = np.tile(self._intercept, (n, 1))
        if found:
            feature = np.array(found, dtype=np.int64)
            post = np.repeat(np.arange(n, dtype=np.int64), lengths)
            known = feature >= 0
            feature, post = feature[known], post[known]
            # Count each (post, feature) once: sorted by post, then feature.
            keys, counts = np.unique(post * len(self._idf) + feature, return_counts=True)
            if keys.size:
                post, feature = np.divmod(keys, len(self._idf))
                tfidf = (1.0 + np.log(counts)) * self._idf[feature]
                norm = np.sqrt(np.bincount(post, weights=tfidf * tfidf, minlength=n))
                values = tfidf / np.where(norm > 0, norm, 1.0)[post]
                posts, starts = np.unique(post, return_index=True)
                logits[posts] += np.add.reduceat(self._weights[feature] * values[:, None], starts, axis=0)
        k = len(CATEGORIES)
        return _softmax_rows(logits[:, :k]), _softmax_rows(logits[:, k:])

    def text_proba(self, text: str) -> tuple[list[float], list[float]]:
        """:meth:`text_proba_many` for one text, as lists."""
        cat, sev = self.text_proba_many([text])
        return cat[0].tolist(), sev[0].tolist()

    # -- the stacker --------------------------------------------------------------------
    def vectors(self, inputs: list[ModelInput]) -> np.ndarray:
        """The stacker's input for each post, one row each (the text models read them all at once)."""
        cat, sev = self.text_proba_many([inp.text for inp in inputs])
        return np.array(
            [stack_vector(c, s, inp) for c, s, inp in zip(cat.tolist(), sev.tolist(), inputs)],
            dtype=np.float64,
        ).reshape(len(inputs), _VECTOR_WIDTH)

    def read_many(self, inputs: list[ModelInput]) -> list[Reading]:
        """The reading of each post, a batch at once."""
        if not inputs:
            return []
        xs = self.vectors(inputs)
        pc = self.stack_category.proba_many(xs)
        ps = self.stack_severity.proba_many(xs)
        best = pc.argmax(axis=1).tolist()
        levels = ps.argmax(axis=1).tolist()
        high = (ps[:, 3] + ps[:, 4]).tolist()
        sure = pc.max(axis=1).tolist()
        readings = []
        for row, (b, level, high_p, p, inp) in enumerate(zip(best, levels, high, sure, inputs)):
            if b == _QUESTION_COLUMN and not inp.asks_us:
                # A question is one put to us (issue 17); otherwise the next best reading.
                others = pc[row].copy()
                others[_QUESTION_COLUMN] = -1.0
                b = int(others.argmax())
                p = float(pc[row, b])
            if p < self.sure_threshold and inp.rules_category in CATEGORIES:
                b = CATEGORIES.index(inp.rules_category)
                p = float(pc[row, b])
            if high_p >= self.high_threshold:
                level = max(level, int(Severity.HIGH))
            readings.append(Reading(Category(CATEGORIES[b]), level, p, high_p))
        return readings

    def read(self, inp: ModelInput) -> Reading:
        """The reading of one post."""
        return self.read_many([inp])[0]


def _softmax_rows(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax; a class whose logit is -inf gets 0."""
    top = logits.max(axis=1, keepdims=True)
    exps = np.exp(logits - top)
    out: np.ndarray = exps / exps.sum(axis=1, keepdims=True)
    return out


def _pick(values: list[Any], at: list[int | None], missing: float) -> list[float]:
    return [missing if i is None else float(values[i]) for i in at]


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
