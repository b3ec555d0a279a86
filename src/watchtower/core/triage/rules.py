"""Triage rules: loading, merging and validating the TOML, and compiling the keyword matcher.

The shipped defaults are ``config/rules.toml`` (the documented example of the format).
A user rules file (``[triage] rules = "my-rules.toml"``, relative to the config) is merged
over them:

* scalar settings in ``[reach]``, ``[engagement]``, ``[source_weight]``, ``[own_account]``,
  ``[spike]`` and each ``[category.NAME]`` table replace the default's value, key by key;
* ``[[rule]]`` entries are appended; one whose ``id`` matches a default rule replaces it,
  and ``enabled = false`` with that ``id`` switches the default off;
* ``replace_defaults = true`` at the top of the user file drops every default rule (the
  settings tables still start from the defaults).

Terms are matched on words, never inside a word ("class" never matches "ass"), after
case-folding and stripping accents on both sides, and on the words' Snowball stems
(:func:`watchtower.core.text.lang.stem`): ``evacuate`` matches evacuated and evacuation.  A term
of several words is a phrase (consecutive words).  ``*`` works on the words as written:
``hack*`` matches hack, hacked, hacker, hacking; ``*lek`` matches datalek and privacylek;
``*lek*`` matches datalekken.  A term starting with ``=`` is matched as written, without
stems (``=scandal`` is not "scandalous").  Hyphens and apostrophes other than inside a
word split words, so ``data-lek`` is the phrase ``data lek``.  Dutch compounds are read
by their known parts (see :class:`Matcher`).

Mistakes raise :class:`~watchtower.config.ConfigError` with the file and the key.
"""

# No ``from __future__ import annotations``: msgspec reads the models' annotations as
# objects instead of compiling each string on the first load (see watchtower.config).
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NamedTuple

import ahocorasick  # type: ignore[import-not-found]
import msgspec
from msgspec import Meta

from ...config import PACKAGE_CONFIG_DIR, Check, ConfigError, StrictModel, explain
from ..models import Category, Severity
from ..text.lang import normalise, stem, words

if TYPE_CHECKING:  # pragma: no cover
    from ...config import Config

__all__ = [
    "DEFAULT_RULES_PATH",
    "RuleSet",
    "Rule",
    "Match",
    "Matcher",
    "matcher_for",
    "load_rules",
    "parse_rules",
    "merge_rule_data",
    "SIGNALS",
]

#: The shipped default rules (``config/rules.toml``; ``src/watchtower/data`` links to ``config``).
DEFAULT_RULES_PATH = PACKAGE_CONFIG_DIR / "rules.toml"

Level = Literal["info", "low", "medium", "high", "critical"]
_CATEGORY_NAMES = tuple(c.value for c in Category)


def _check_category(value: str) -> str:
    if value not in _CATEGORY_NAMES:
        raise ValueError(f"a category, one of: {', '.join(_CATEGORY_NAMES)} (got {value!r})")
    return value


def _check_terms(value: list[str]) -> list[str]:
    for term in value:
        if not words(normalise(term.replace("*", ""))):
            raise ValueError(f"a word or phrase (got {term!r})")
        if "**" in term:
            raise ValueError(f"a single '*' per end of a word (got {term!r})")
    return value


def _check_category_names(value: dict[str, Any]) -> dict[str, Any]:
    for name in value:
        if name not in _CATEGORY_NAMES:
            raise ValueError(f"category names are: {', '.join(_CATEGORY_NAMES)} (got {name!r})")
    return value


#: What a signal rule (``signal = "..."``, no category) tells triage; see config/rules.toml.
SIGNALS = ("asks-others", "vulnerable", "addressed", "resolved")


class Rule(StrictModel):
    """One keyword rule: any of its terms in a post suggests its category and severity.

    A rule with ``signal`` instead of ``category`` votes for nothing: it tells triage
    something about the post (asked of other people, vulnerable people involved).
    """

    id: str | None = None
    """Optional; lets a user rules file replace or disable this rule."""
    category: Annotated[str, Check(_check_category)] | None = None
    signal: Literal["asks-others", "vulnerable", "addressed", "resolved"] | None = None
    """Instead of a category: what a match tells triage (see config/rules.toml)."""
    severity: Level | None = None
    """The severity a match suggests before reach and the rest; default: the category's."""
    weight: Annotated[float, Meta(gt=0, le=100)] | None = None
    """How strongly a match votes for the category; default: severity rank + 1."""
    floor: Level | None = None
    """Low reach never takes a match of this rule below this level (threats, for instance)."""
    lang: Literal["any", "en", "nl"] = "any"
    """Only in posts detected as this language (or undetected); for words that mean something
    else in the other language ("brand" is fire in Dutch)."""
    terms: Annotated[list[str], Meta(min_length=1), Check(_check_terms)]
    en: Annotated[list[str], Check(_check_terms)] = []
    """More terms, English words: stemmed as English only (and matched as written in a
    Dutch post), so "quits" never meets Dutch "quitte"."""
    nl: Annotated[list[str], Check(_check_terms)] = []
    """More terms, Dutch words: stemmed as Dutch only (and matched as written in an
    English post), so "storing" never meets English "store"."""
    weak: bool = False
    """An ambiguous word ("fire", "bom", "explosion"): it counts only in company, when
    another term of the same category is in the post too ("fire" and "smoke")."""
    context: Annotated[list[str], Check(_check_terms)] = []
    """When not empty, the rule counts only if one of these terms is in the post too."""
    note: str = ""
    """Why the rule exists; for people reading the file."""
    enabled: bool = True

    def _check(self) -> None:
        if (self.category is None) == (self.signal is None):
            raise ValueError("a rule has either category = \"...\" or signal = \"...\", not both or neither")

    @property
    def base_severity(self) -> Severity | None:
        return Severity.parse(self.severity) if self.severity else None

    def vote(self, category_default: Severity) -> float:
        if self.weight is not None:
            return self.weight
        return float((self.base_severity or category_default) + 1)


class CategorySettings(StrictModel):
    severity: Level = "info"
    """Where an item of this category starts when its rule names no severity."""
    amplify: bool = True
    """Reach, engagement and a heavy source raise it."""
    dampen: bool = True
    """A tiny audience, a light source or an ambassador lowers it."""
    min: Level = "info"
    max: Level = "critical"
    max_up: Annotated[int, Meta(ge=0, le=4)] | None = None
    """Reach, engagement and source weight raise this category at most this much (default:
    ``[amplify] max_levels``)."""
    corroborate: Annotated[int, Meta(ge=0, le=2)] = 0
    """Levels added when two or more (not weak) rules of this category match: separate
    signs of the same thing corroborate each other."""


class ReachSettings(StrictModel):
    lower_below: Annotated[int, Meta(ge=0)] = 5
    """Estimated audience (followers x online fraction) under this: one level lower."""
    raise_at: Annotated[int, Meta(ge=1)] = 1000
    """Estimated audience at or above this: one level higher."""
    raise_twice_at: Annotated[int, Meta(ge=1)] = 50000
    floor_medium_at: Annotated[int, Meta(ge=0)] = 10000
    """An item about us this many people will see is at least medium, even with no keyword
    (0: off).  A source with a weight of ``[source_weight] raise_at`` or more is too."""
    floor_high_at: Annotated[int, Meta(ge=0)] = 100000
    """... and at least high from this many (0: off)."""
    floor_skips: list[str] = msgspec.field(default_factory=lambda: ["praise", "spam", "own-post"])
    """Categories the large-audience floor leaves alone."""


class EngagementSettings(StrictModel):
    repost_weight: Annotated[float, Meta(ge=0)] = 3
    reply_weight: Annotated[float, Meta(ge=0)] = 2
    like_weight: Annotated[float, Meta(ge=0)] = 1
    raise_at: Annotated[float, Meta(gt=0)] = 100
    """Weighted engagement at or above this: one level higher."""
    raise_twice_at: Annotated[float, Meta(gt=0)] = 2000
    floor_medium_at: Annotated[float, Meta(ge=0)] = 2000
    """Weighted engagement at or above this: at least medium, like a large audience (0: off)."""
    floor_high_at: Annotated[float, Meta(ge=0)] = 10000
    """... and at least high from this much (0: off)."""


class SourceWeightSettings(StrictModel):
    raise_at: Annotated[float, Meta(gt=0)] = 2
    raise_twice_at: Annotated[float, Meta(gt=0)] = 5
    lower_at: Annotated[float, Meta(ge=0)] = 0.5
    """A source weight at or below this lowers dampened categories one level."""


class AmplifySettings(StrictModel):
    max_levels: Annotated[int, Meta(ge=0, le=4)] = 2
    """Reach, engagement and source weight together raise an item at most this much."""


class SpikeSettings(StrictModel):
    levels: Annotated[int, Meta(ge=0, le=4)] = 1
    """Levels added to items that arrive during a volume spike on their platform."""


class OwnAccountSettings(StrictModel):
    routine: Level = "info"
    offbrand: Level = "high"
    """Swearing or abuse terms in our own post: a wrong-account slip until shown otherwise."""
    offbrand_categories: list[str] = msgspec.field(default_factory=lambda: ["abuse"])
    personal: Level = "medium"
    """A match of an ``own-post`` rule (private chatter, personal opinion)."""
    suspicious: Level = "high"
    """Spam-like content (crypto, login links) in our own post: compromised?"""
    suspicious_categories: list[str] = msgspec.field(default_factory=lambda: ["spam"])
    suspicious_rules: list[str] = []
    """Rule ids whose match in our own post is suspicious too (besides the categories)."""
    off_shift: Level = "medium"
    """Our account posted while nobody was on shift."""
    foreign_language: Level = "medium"
    """Our account posted in a language not in ``organisation.post_languages``."""
    lookalike: Level = "high"
    """Same display name as one of ours, different handle: possible impersonation."""
    posing: Level = "medium"
    """A handle, e-mail or web address named in a post that borrows our name."""
    extra_signal_levels: Annotated[int, Meta(ge=0, le=2)] = 1
    """Added when two or more of the signals above fire together."""


class QuestionSettings(StrictModel):
    question_mark: bool = True
    """A post with no other category that contains '?' is a question."""


class RuleSet(StrictModel):
    """The merged rules: what :class:`~watchtower.core.triage.engine.Triager` runs."""

    replace_defaults: bool = False
    reach: ReachSettings = msgspec.field(default_factory=ReachSettings)
    engagement: EngagementSettings = msgspec.field(default_factory=EngagementSettings)
    source_weight: SourceWeightSettings = msgspec.field(default_factory=SourceWeightSettings)
    amplify: AmplifySettings = msgspec.field(default_factory=AmplifySettings)
    spike: SpikeSettings = msgspec.field(default_factory=SpikeSettings)
    own_account: OwnAccountSettings = msgspec.field(default_factory=OwnAccountSettings)
    question: QuestionSettings = msgspec.field(default_factory=QuestionSettings)
    category: Annotated[dict[str, CategorySettings], Check(_check_category_names)] = {}
    rule: list[Rule] = []

    def settings_for(self, category: Category) -> CategorySettings:
        return self.category.get(category.value) or CategorySettings()

    @property
    def active_rules(self) -> list[Rule]:
        return [r for r in self.rule if r.enabled]


# -- loading and merging -------------------------------------------------------------

_TABLES = ("reach", "engagement", "source_weight", "amplify", "spike", "own_account", "question")


def merge_rule_data(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Merge a user rules document over the defaults (both already parsed TOML)."""
    out: dict[str, Any] = {k: v for k, v in base.items() if k != "rule"}
    for table in _TABLES:
        if table in extra:
            merged = dict(base.get(table) or {})
            if isinstance(extra[table], dict):
                merged.update(extra[table])
                out[table] = merged
            else:
                out[table] = extra[table]  # let validation name the mistake
    cats = {k: dict(v) for k, v in (base.get("category") or {}).items() if isinstance(v, dict)}
    extra_cats = extra.get("category", {})
    if isinstance(extra_cats, dict):
        for name, table in extra_cats.items():
            if isinstance(table, dict):
                cats[name] = {**cats.get(name, {}), **table}
            else:
                cats[name] = table
    else:
        cats = extra_cats
    out["category"] = cats
    rules = [] if extra.get("replace_defaults") else list(base.get("rule") or [])
    extra_rules = extra.get("rule", [])
    if not isinstance(extra_rules, list):
        out["rule"] = extra_rules
        return out
    for rule in extra_rules:
        rid = rule.get("id") if isinstance(rule, dict) else None
        if rid:
            for i, existing in enumerate(rules):
                if isinstance(existing, dict) and existing.get("id") == rid:
                    if rule.get("enabled") is False and "terms" not in rule:
                        rules[i] = {**existing, "enabled": False}
                    else:
                        rules[i] = rule
                    break
            else:
                rules.append(rule)
        else:
            rules.append(rule)
    out["rule"] = rules
    for key, value in extra.items():
        if key not in _TABLES and key not in ("category", "rule"):
            out[key] = value
    return out


def parse_rules(
    data: dict[str, Any], *, path: str | Path | None = None, user: dict[str, Any] | None = None
) -> RuleSet:
    """Validate a (merged) rules document; errors name the key, like the config's.

    ``user``: the user rules document ``data`` was merged from (:func:`merge_rule_data`),
    so that a bad ``[[rule]]`` is named by its place in that file (``rule[0]``), not by its
    place after the default rules.
    """
    try:
        ruleset: RuleSet = msgspec.convert(data, RuleSet, strict=True)
    except msgspec.ValidationError as exc:
        key, expected = explain(exc, data, RuleSet, unknown_key="unknown key (see config/rules.toml for the format)")
        if user is not None:
            key = _key_in_user_file(key, data, user)
        raise ConfigError(path, key, expected) from None
    return ruleset


_RULE_KEY = re.compile(r"rule\[(\d+)\]")


def _key_in_user_file(key: str, merged: dict[str, Any], user: dict[str, Any]) -> str:
    """``rule[N]...`` of the merged document as the same rule's key in the user's file.

    The merge keeps the user's rule tables themselves (appended, or in the place of the
    default rule with the same ``id``), so the rule is found by identity.
    """
    m = _RULE_KEY.match(key)
    merged_rules, user_rules = merged.get("rule"), user.get("rule")
    if m is None or not isinstance(merged_rules, list) or not isinstance(user_rules, list):
        return key
    index = int(m.group(1))
    if index >= len(merged_rules):
        return key
    rule = merged_rules[index]
    for j, candidate in enumerate(user_rules):
        if candidate is rule:
            return f"rule[{j}]" + key[m.end():]
    return key


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise ConfigError(path, None, "rules file not found")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(path, None, "is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(path, None, f"cannot be read: {exc.strerror or exc}") from None


def _parse_toml(path: Path, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, None, f"TOML syntax error: {exc}") from None


# Validated rule sets by the text of the files they came from: every Triager (one per
# monitor, per CLI run, per test) would otherwise parse and validate the same TOML again.
# A RuleSet is never changed after validation, so sharing one is safe.
_RULESET_CACHE: dict[tuple[str, str, str | None], RuleSet] = {}
_RULESET_CACHE_SIZE = 8


def load_rules(config: "Config | None" = None, *, extra: str | Path | None = None) -> RuleSet:
    """The default rules merged with ``config.triage.rules`` (or ``extra``), validated."""
    base_text = _read_text(DEFAULT_RULES_PATH)
    user_path: Path | None = Path(extra) if extra else None
    if user_path is None and config is not None:
        user_path = config.resolve(config.triage.rules)
    user_text = _read_text(user_path) if user_path is not None else None
    key = (str(user_path), base_text, user_text)
    cached = _RULESET_CACHE.get(key)
    if cached is not None:
        return cached
    base = _parse_toml(DEFAULT_RULES_PATH, base_text)
    if user_path is None or user_text is None:
        result = parse_rules(base, path=DEFAULT_RULES_PATH)
    else:
        user = _parse_toml(user_path, user_text)
        merged = merge_rule_data(base, user)
        result = parse_rules(merged, path=user_path, user=user)
    if len(_RULESET_CACHE) >= _RULESET_CACHE_SIZE:
        _RULESET_CACHE.clear()
    _RULESET_CACHE[key] = result
    return result


# -- the matcher -----------------------------------------------------------------------
#
# One Aho-Corasick automaton (pyahocorasick) holds every term of every rule.  A post is
# turned into one string of sections, each a space-separated row of words with a space
# at both ends:
#
#   surface  the normalised words as written          -> terms with '*' (hack*, *lek, *phish*)
#   en / nl  the words' stems in the post's language   -> every other term, stemmed the same way
#            (both for a post whose language is unknown)
#
# A term's pattern is its words (or stems) with a space on each side that is not a '*', so
# a term never matches inside a word unless it says so.  In the Dutch row a compound is
# split where it ends in a known head ("stroomstoring" -> "stroom storing": a storing) or
# is made of two known words ("nepaccount" -> "nep account", "gegevenslek" -> "gegevens
# lek"): every Dutch word a rule names is known, nothing else is.  One pass of the
# automaton over the string finds every term; what each hit means (which rule, which
# words of the post) is looked up only for the hits.


@dataclass(frozen=True, slots=True)
class Match:
    rule: Rule
    text: str
    """The first words that matched, as normalised (``'gehackt'``, ``'data breach'``)."""
    also: tuple[str, ...] = ()
    """Other distinct terms of the same rule in the post (a rule votes once)."""


# A word pattern: (kind, text) with kind "=" exact, ">" prefix, "<" suffix, "~" contains.
_Pattern = tuple[str, str]


def _word_pattern(word: str) -> _Pattern:
    starts, ends = word.startswith("*"), word.endswith("*")
    core = word.strip("*")
    if starts and ends:
        return ("~", core)
    if ends:
        return (">", core)
    if starts:
        return ("<", core)
    return ("=", core)


def _word_matches(pattern: _Pattern, token: str) -> bool:
    kind, core = pattern
    if kind == "=":
        return token == core
    if kind == ">":
        return token.startswith(core)
    if kind == "<":
        return token.endswith(core)
    return core in token


def _compile_term(term: str) -> tuple[_Pattern, ...]:
    """A term as word patterns: ``"data breach*"`` -> ``(("=", "data"), (">", "breach"))``."""
    out: list[_Pattern] = []
    for raw in normalise(term).split():
        star_front, star_back = raw.startswith("*"), raw.endswith("*")
        parts = words(raw.strip("*"))
        for j, part in enumerate(parts):
            piece = ("*" if star_front and j == 0 else "") + part + ("*" if star_back and j == len(parts) - 1 else "")
            out.append(_word_pattern(piece))
    return tuple(out)


_SURFACE = "s"
_LANGS = ("en", "nl")
_SECTION_NAMES = (_SURFACE, *_LANGS)
_SECTION_INDEX = {name: i for i, name in enumerate(_SECTION_NAMES)}
_NO_RULES: frozenset[int] = frozenset()
# Each row joins its words with its own separator, so a key of one row never matches in
# another (a stem key in the surface row would be a wasted hit).
_SEPARATORS = {_SURFACE: "\t", "en": " ", "nl": "\v"}
# A key that lies within one word is looked for in that word alone, once per distinct
# word (cached), between these marks; the parts of a Dutch compound are marked apart.
_WORD = "\x01"
_SECTIONS_FOR: dict[str | None, tuple[str, ...]] = {
    "en": (_SURFACE, "en"),
    "nl": (_SURFACE, "nl"),
    None: (_SURFACE, "en", "nl"),
}
# Dutch compounds: letters a modifier needs before a known head ("stroom|storing", not
# "ver|storing"), and the linking letters between two parts (gegevens|lek, pannen|koek).
_MIN_MODIFIER = 4
_MIN_PART = 3
_MIN_HEAD = 4
_MIN_HEAD_WORD = 5  # letters of the head as written: "storingsw|agen" is no "agenten"
_LINKS = ("s", "en", "e")
# The categories whose one-word terms make a compound what it is when they end it (an
# incident: stroomstoring, woningbrand, bankfraude).  Praise or insult words are left out:
# "tentoonstelling" is no "stelletje".
_HEAD_CATEGORIES = ("crisis", "security", "grievance")
# Words that join others in a phrase ("brand in", "op straat") but are no part of a compound.
_DUTCH_FUNCTION_STEMS = frozenset(
    stem(w, "nl") for w in (
        "aan af als bij dat de die dit door een en er het hier in is ik je jij jullie maar met na naar "
        "niet nog of om onder op over te tot u uit van voor we wel wij ze zij zijn"
    ).split()
)


class _Hit(NamedTuple):
    """What one automaton key means: a term of an owner in a section."""

    section: str
    owner: int
    """Index of the rule (or of a hidden context rule, after the real ones)."""
    parts: int
    """Words (stems, compound parts) the key spans."""
    key_len: int
    rest: tuple[_Pattern, ...] = ()
    """Surface words to check after the key (a '*' inside a phrase: ``hack* attempt``)."""
    word: bool = False
    """A word key: it lies within one word of the post."""


class Matcher:
    """Every term of a rule set in one automaton; see the notes above.

    :meth:`find_indices` returns ``{rule index: [words that matched, in order]}`` with the
    rule conditions applied: ``lang``, ``context`` (another term must be there too) and
    ``weak`` (an ambiguous word counts only beside another term of its category).
    """

    CACHE_SIZE = 50_000

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = list(rules)
        # Per owner: its terms with their home language (None: both), and its lang.
        owners: list[tuple[list[tuple[str, str | None]], str]] = [(_terms_with_home(r), r.lang) for r in self.rules]
        self._context_owner: dict[int, int] = {}
        for index, rule in enumerate(self.rules):
            if rule.context:
                self._context_owner[index] = len(owners)
                owners.append(([(t, None) for t in rule.context], rule.lang))
        self._n_rules = len(self.rules)
        self._owner_lang = tuple(lang for _terms, lang in owners)
        # Dutch compounds are split into parts the rules know: two words that stand side by
        # side in a term ("nep account" -> nepaccount), or a word that is a term on its own
        # at the end ("storing" -> stroomstoring: a storing).  Function words never count.
        self._pairs_nl: set[tuple[str, str]] = set()
        self._heads_nl: set[str] = set()
        self._head_words: dict[str, set[str]] = {}
        """Per head stem, the words it was written as: a compound must end in one of them."""
        for owner, (terms, _lang) in enumerate(owners):
            heads_ok = owner < len(self.rules) and self.rules[owner].category in _HEAD_CATEGORIES
            for term, home in terms:
                if "*" in term or term.startswith("=") or home == "en":
                    continue
                term_words = words(normalise(term))
                stems = [stem(w, "nl") for w in term_words]
                if heads_ok and len(stems) == 1 and len(stems[0]) >= _MIN_HEAD and stems[0] not in _DUTCH_FUNCTION_STEMS:
                    self._heads_nl.add(stems[0])
                    self._head_words.setdefault(stems[0], set()).add(term_words[0])
                for a, b in zip(stems, stems[1:]):
                    if len(a) >= _MIN_PART and len(b) >= _MIN_PART and not {a, b} & _DUTCH_FUNCTION_STEMS:
                        self._pairs_nl.add((a, b))
        self._modifiers_nl = {a for a, _b in self._pairs_nl}
        self._known_nl = self._heads_nl | {b for _a, b in self._pairs_nl}
        # A compound's head starts like its stem (storingen / stor): the first letters of the
        # known heads let most words skip the search.
        self._known_starts = {s[:_MIN_PART] for s in self._known_nl}
        self._split_cache: dict[str, str] = {}
        self._row_cache: dict[str, dict[str, str]] = {"en": {}, "nl": {}}
        table: dict[str, list[_Hit]] = {}
        for owner, (terms, _lang) in enumerate(owners):
            for term, home in terms:
                for key, hit in self._keys(term, owner, home):
                    entries = table.setdefault(key, [])
                    if hit not in entries:
                        entries.append(hit)
        self._automaton = ahocorasick.Automaton()
        # The first words of row keys, per section: a post with none of them needs no row pass.
        # The first two words of each phrase (is there any phrase at all), and the first word
        # patterns of surface phrases (rare: a '*' in a phrase), looked for only when a word
        # of the post can start one.
        self._row_pairs: dict[str, set[tuple[str, str]]] = {sec: set() for sec in _SECTION_NAMES}
        self._row_start_patterns: list[_Pattern] = []
        for key, entries in table.items():
            word_entries = tuple(
                tuple(dict.fromkeys(h.owner for h in entries if h.word and h.section == sec)) for sec in _SECTION_NAMES
            )
            row_entries = tuple((h.owner, h.parts, h.key_len, h.rest) for h in entries if not h.word)
            # (owners of a word key, per section; row keys: (owner, row words, key length, words to check after))
            self._automaton.add_word(key, (word_entries, row_entries))
            for h in entries:
                if h.word:
                    continue
                if h.section == _SURFACE:
                    self._row_start_patterns.append(_word_pattern_of_key(key))
                else:
                    row_words = key.strip(_SEPARATORS[h.section]).split(_SEPARATORS[h.section])
                    self._row_pairs[h.section].add((row_words[0], row_words[1]))
        # Per section: word -> (owners of word keys in it, may it start a row key), and the
        # words of the cache for which either is so (replaced together when full).
        self._word_cache: dict[str, tuple[dict[str, tuple[tuple[int, ...], bool]], set[str]]] = {
            sec: ({}, set()) for sec in _SECTION_NAMES
        }
        if table:
            self._automaton.make_automaton()
        self._empty = not table
        self._weak = tuple(r.weak for r in self.rules)
        self._category = tuple(r.category for r in self.rules)
        self._any_weak = any(self._weak)
        self._weak_rules = frozenset(i for i, w in enumerate(self._weak) if w)
        self._strong_by_category: dict[str | None, frozenset[int]] = {}
        for i, rule in enumerate(self.rules):
            if not rule.weak and rule.category is not None:
                self._strong_by_category[rule.category] = self._strong_by_category.get(rule.category, _NO_RULES) | {i}
        self._allowed: dict[str | None, tuple[bool, ...]] = {}

    # -- compiling ----------------------------------------------------------------------
    def _keys(self, term: str, owner: int, home: str | None = None) -> list[tuple[str, _Hit]]:
        """The automaton keys of a term: one per stem row for a plain term, one surface key
        for a term with '*' or '='.  A key that fits inside one word is a word key (between
        ``_WORD`` marks, looked up once per distinct word); a longer one is a row key.

        A one-word term of a home language (a rule's ``en``/``nl`` list) is stemmed in that
        language's row only, and matched as written everywhere (the surface row)."""
        exact = term.startswith("=")
        patterns = _compile_term(term[1:] if exact else term)
        if not patterns:
            return []
        if exact or any(kind != "=" for kind, _core in patterns):
            return [self._surface_key(patterns, owner)]
        out = []
        langs: tuple[str, ...] = _LANGS
        if home is not None and len(patterns) == 1:
            langs = (home,)
            out.append(self._surface_key(patterns, owner))
        for lang in langs:
            row = " ".join(self._row_word(core, lang) for _kind, core in patterns)
            parts = row.count(" ") + 1
            if parts == 1:
                key = f"{_WORD}{row}{_WORD}"
                out.append((key, _Hit(lang, owner, 1, len(key), (), True)))
            else:
                sep = _SEPARATORS[lang]
                key = f"{sep}{row.replace(' ', sep)}{sep}"
                out.append((key, _Hit(lang, owner, parts, len(key))))
        return out

    @staticmethod
    def _surface_key(patterns: tuple[_Pattern, ...], owner: int) -> tuple[str, _Hit]:
        """One key for as many words from the first as it can hold; the rest are checked after.

        A word can follow in the same key when the one before ends the word (``=``, ``<``)
        and it starts one (``=``, ``>``): ``"data breach*"`` is the key ``" data breach"``.
        """
        used = 1
        while used < len(patterns) and patterns[used - 1][0] in "=<" and patterns[used][0] in "=>":
            used += 1
        word_key = used == 1 and len(patterns) == 1
        sep = _WORD if word_key else _SEPARATORS[_SURFACE]
        key = sep.join(core for _kind, core in patterns[:used])
        if patterns[0][0] in "=>":
            key = sep + key
        if patterns[used - 1][0] in "=<":
            key += sep
        return key, _Hit(_SURFACE, owner, used, len(key), patterns[used:], word_key)

    def _row_word(self, word: str, lang: str) -> str:
        """A word as the stem row holds it: its stem, or for Dutch its compound's parts."""
        cache = self._row_cache[lang]
        found = cache.get(word)
        if found is None:
            found = stem(word, lang) if lang == "en" else self._dutch_parts(word)
            if len(cache) >= self.CACHE_SIZE:
                cache = self._row_cache[lang] = {}
            cache[word] = found
        return found

    def _known(self, s: str, known: set[str]) -> str | None:
        """``s`` if it is in ``known``, or its singular (loanwords keep an -s: accounts,
        mails), else ``None``."""
        if s in known:
            return s
        if len(s) > _MIN_PART + 1 and s[-1] == "s" and s[:-1] in known:
            return s[:-1]
        return None

    def _dutch_parts(self, word: str) -> str:
        """The stem of a Dutch word; for a compound of known parts, ``"modifier head"``
        (a known pair) or the head alone (a term on its own: the compound is one)."""
        whole = stem(word, "nl")
        if len(word) < _MIN_PART * 2 or whole in self._heads_nl:
            return whole
        starts = self._known_starts
        for i in range(_MIN_PART, len(word) - _MIN_PART + 1):
            if word[i : i + _MIN_PART] not in starts:
                continue
            head = self._known(stem(word[i:], "nl"), self._known_nl)
            if head is None:
                continue
            modifier = word[:i]
            mod = self._modifier_stem(modifier, head)
            if mod is not None:
                return f"{mod} {head}"
            if (
                head in self._heads_nl and len(modifier) >= _MIN_MODIFIER and len(word) - i >= _MIN_HEAD_WORD
                and any(word.startswith(w, i) for w in self._head_words[head])
            ):
                return head
        return whole

    def _modifier_stem(self, modifier: str, head: str) -> str | None:
        """The stem a compound's first part stands for when it pairs with ``head`` in a term
        (with a linking s/en/e: gegevens|lek), if any."""
        for candidate in (modifier, *(modifier[: -len(link)] for link in _LINKS if modifier.endswith(link))):
            if len(candidate) >= _MIN_PART:
                s = self._known(stem(candidate, "nl"), self._modifiers_nl)
                if s is not None and (s, head) in self._pairs_nl:
                    return s
        return None

    def _allowed_for(self, language: str | None) -> tuple[bool, ...]:
        """Per owner: may it match in a post of this language?"""
        allowed = self._allowed.get(language)
        if allowed is None:
            allowed = tuple(lang == "any" or language is None or lang == language for lang in self._owner_lang)
            self._allowed[language] = allowed
        return allowed

    # -- matching -----------------------------------------------------------------------
    def find(self, tokens: list[str], language: str | None) -> list[Match]:
        """Every rule that matched, once each, with the words that matched it."""
        rules = self.rules
        return [Match(rules[i], t[0], tuple(t[1:])) for i, t in self.find_indices(tokens, language).items()]

    def _row(self, tokens: list[str], lang: str) -> tuple[str, list[int] | None]:
        """The stem row of a post, and the token of each row word when compounds were split."""
        try:
            row = " ".join(map(self._row_cache[lang].__getitem__, tokens))
        except KeyError:
            row = " ".join([self._row_word(t, lang) for t in tokens])
        if lang == "nl" and row.count(" ") != len(tokens) - 1:
            owner_of: list[int] = []
            for t_index, t in enumerate(tokens):
                owner_of.extend([t_index] * (self._row_word(t, lang).count(" ") + 1))
            return row, owner_of
        return row, None

    def _word_hits(self, token: str, section: str, sec: int) -> tuple[tuple[int, ...], bool]:
        """The owners of word keys found in one word, and whether it may start a surface phrase."""
        starts = False
        if section == _SURFACE:
            word = token
            starts = any(_word_matches(p, token) for p in self._row_start_patterns)
        else:
            word = self._row_word(token, section)
        owners: dict[int, None] = {}
        for _end, (word_entries, _row_entries) in self._automaton.iter(f"{_WORD}{word.replace(' ', _WORD)}{_WORD}"):
            for owner in word_entries[sec]:
                owners[owner] = None
        return (tuple(owners), starts)

    def _hot_words(self, distinct: Any, section: str) -> tuple[dict[str, tuple[tuple[int, ...], bool]], set[str]]:
        """The section's word cache with every word of the post in it, and the post's words
        that have word keys or may start a row key.

        Thread-safe without a lock: the cache and its set are read as one tuple, a full
        cache is replaced (never cleared in place), and a word joins the set before the
        cache, so a reader that finds a word in the cache also finds it in the set.
        """
        cache, hot = self._word_cache[section]
        if not cache.keys() >= distinct.keys():
            missing = distinct.keys() - cache.keys()
            if len(cache) + len(missing) > self.CACHE_SIZE:
                cache, hot = {}, set()
                self._word_cache[section] = (cache, hot)
                missing = distinct.keys()
            sec = _SECTION_INDEX[section]
            for tok in missing:
                found = self._word_hits(tok, section, sec)
                if found[0] or found[1]:
                    hot.add(tok)
                cache[tok] = found
        return cache, hot.intersection(distinct)

    def _row_events(self, tokens: list[str], section: str, allowed: tuple[bool, ...]) -> list[tuple[int, int, int]]:
        """(first token, last token, owner) of every row key (a phrase) in the post."""
        sep = _SEPARATORS[section]
        if section == _SURFACE:
            row, owner_of = sep.join(tokens), None
        else:
            row, owner_of = self._row(tokens, section)
            row = row.replace(" ", sep)
        row = f"{sep}{row}{sep}"
        count = row.count
        n_tokens = len(tokens)
        events = []
        for end, (_word_entries, row_entries) in self._automaton.iter(row):
            for owner, parts, key_len, rest in row_entries:
                if not allowed[owner]:
                    continue
                first = count(sep, 0, end - key_len + 2) - 1
                last = first + parts - 1
                if owner_of is not None:
                    first, last = owner_of[first], owner_of[last]
                if rest:
                    span = len(rest)
                    if last + span >= n_tokens or not all(
                        _word_matches(p, tokens[last + 1 + k]) for k, p in enumerate(rest)
                    ):
                        continue
                    last += span
                events.append((first, last, owner))
        return events

    def find_indices(
        self, tokens: list[str], language: str | None, distinct: dict[str, Any] | None = None
    ) -> dict[int, list[str]]:
        """:meth:`find` as ``{rule index: [words that matched it, in order]}``.

        The rules are in the order of their first match in the post.  ``distinct`` has the
        post's distinct words as keys, in order of first appearance, when the caller has them.
        """
        if not tokens or self._empty:
            return {}
        if distinct is None:
            distinct = dict.fromkeys(tokens)
        if language not in _SECTIONS_FOR:
            language = None
        allowed = self._allowed.get(language) or self._allowed_for(language)
        singles: list[tuple[str, int]] = []  # (word, owner) of word keys
        rows: list[tuple[int, int, int]] = []
        for section in _SECTIONS_FOR[language]:
            cache, hot = self._hot_words(distinct, section)
            need_row = False
            for tok in hot:
                owners, starts = cache[tok]
                if starts:
                    need_row = True
                for owner in owners:
                    if allowed[owner]:
                        singles.append((tok, owner))
            if section != _SURFACE and self._row_pairs[section]:
                # Phrases start with common words ("is er", "i heard"): look.  Even in a
                # one-word post: a Dutch compound ("nepaccounts") is a phrase in one word.
                need_row = True
            if need_row:
                rows.extend(self._row_events(tokens, section, allowed))
        if not singles and not rows:
            return {}
        n_rules = self._n_rules
        covered: set[int] = set()
        if rows:
            rows.sort()
            if any(first != last for first, last, _o in rows):
                rows = _drop_contained(rows, n_rules)
            for first, last, owner in rows:
                if last > first and owner < n_rules:
                    covered.update(range(first, last + 1))
        # A word key counts at its first place outside every phrase match (a word inside a
        # longer match is hidden only where it is inside one).
        first_at: dict[str, int] = {}
        for tok, _owner in singles:
            if tok not in first_at:
                at = tokens.index(tok)
                while at in covered:
                    try:
                        at = tokens.index(tok, at + 1)
                    except ValueError:
                        at = -1
                        break
                first_at[tok] = at
        events = rows + [
            (first_at[tok], first_at[tok], owner) if owner < n_rules else (tokens.index(tok),) * 2 + (owner,)
            for tok, owner in singles
            if first_at[tok] >= 0 or owner >= n_rules
        ]
        events.sort()
        found: dict[int, list[str]] = {}
        context_seen: set[int] = set()
        for first, last, owner in events:
            if owner >= n_rules:
                context_seen.add(owner)
                continue
            words_ = tokens[first] if first == last else " ".join(tokens[first : last + 1])
            texts = found.get(owner)
            if texts is None:
                found[owner] = [words_]
            elif words_ not in texts:
                texts.append(words_)
        if self._context_owner:
            for index_ in [i for i in found if i in self._context_owner]:
                if self._context_owner[index_] not in context_seen:
                    del found[index_]
        if self._any_weak and not self._weak_rules.isdisjoint(found):
            self._drop_lonely_weak(found)
        return found

    def _drop_lonely_weak(self, found: dict[int, list[str]]) -> None:
        """Weak matches need company: another rule of their category, or two weak words."""
        by_cat: dict[str | None, list[int]] = {}
        category = self._category
        for index in self._weak_rules.intersection(found):
            by_cat.setdefault(category[index], []).append(index)
        for cat, indices in by_cat.items():
            if not self._strong_by_category.get(cat, _NO_RULES).isdisjoint(found):
                continue
            if len({text for i in indices for text in found[i]}) < 2:
                for i in indices:
                    del found[i]


def _terms_with_home(rule: Rule) -> list[tuple[str, str | None]]:
    """A rule's terms with their home language (``None``: both)."""
    out: list[tuple[str, str | None]] = [(t, None) for t in rule.terms]
    out += [(t, "en") for t in rule.en]
    out += [(t, "nl") for t in rule.nl]
    return out


def _word_pattern_of_key(key: str) -> _Pattern:
    """The first word of a surface row key as a word pattern (the post words it may start at)."""
    sep = _SEPARATORS[_SURFACE]
    front, body = key.startswith(sep), key.strip(sep)
    first = body.split(sep)[0]
    whole = sep in body or key.endswith(sep)
    if front:
        return ("=", first) if whole else (">", first)
    return ("<", first) if whole else ("~", first)


def _drop_contained(events: list[tuple[int, int, int]], n_rules: int) -> list[tuple[int, int, int]]:
    """Without the matches that lie inside a longer match of a rule.

    The longer phrase says what the words mean: "fire" in "fire alarm", "thanks" in "no
    thanks", "ambulance" in "leaving in an ambulance" (and "outage" in "power outage" is
    not a second word of its rule).  Context terms neither hide nor are hidden.
    """
    longer = [(f, t) for f, t, o in events if t > f and o < n_rules]
    if not longer:
        return events
    return [
        (first, last, owner) for first, last, owner in events
        if owner >= n_rules or not any(f <= first and last <= t and t - f > last - first for f, t in longer)
    ]


# Compiled matchers by the rules they were built from (see matcher_for).
_MATCHERS: dict[tuple[int, ...], tuple[list[Rule], Matcher]] = {}


def matcher_for(rules: list[Rule]) -> Matcher:
    """A :class:`Matcher` for these rules, shared by every caller that passes the same ones.

    The rule objects come from a cached :class:`RuleSet` (see :func:`load_rules`), so every
    Triager of the same rules shares one compiled matcher and its word cache.  The cache
    entry keeps the rules alive, so their ids are not reused while it exists.
    """
    key = tuple(id(r) for r in rules)
    found = _MATCHERS.get(key)
    if found is not None:
        return found[1]
    matcher = Matcher(list(rules))
    if len(_MATCHERS) >= 8:
        _MATCHERS.clear()
    _MATCHERS[key] = (list(rules), matcher)
    return matcher
