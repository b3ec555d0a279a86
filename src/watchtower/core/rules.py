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
case-folding and stripping accents on both sides.  A term of several words is a phrase
(consecutive words).  ``*`` is a stem: ``hack*`` matches hack, hacked, hacker, hacking;
``*lek`` matches datalek and privacylek; ``*lek*`` matches datalekken.  Hyphens and
apostrophes other than inside a word split words, so ``data-lek`` is the phrase
``data lek``.

Mistakes raise :class:`~watchtower.config.ConfigError` with the file and the key.
"""

# No ``from __future__ import annotations``: msgspec reads the models' annotations as
# objects instead of compiling each string on the first load (see watchtower.config).
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec
from msgspec import Meta

from ..config import PACKAGE_CONFIG_DIR, Check, ConfigError, StrictModel, explain
from .lang import normalise, words
from .models import Category, Severity

if TYPE_CHECKING:  # pragma: no cover
    from ..config import Config

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


class Rule(StrictModel):
    """One keyword rule: any of its terms in a post suggests its category and severity."""

    id: str | None = None
    """Optional; lets a user rules file replace or disable this rule."""
    category: Annotated[str, Check(_check_category)]
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
    note: str = ""
    """Why the rule exists; for people reading the file."""
    enabled: bool = True

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


class ReachSettings(StrictModel):
    lower_below: Annotated[int, Meta(ge=0)] = 5
    """Estimated audience (followers x online fraction) under this: one level lower."""
    raise_at: Annotated[int, Meta(ge=1)] = 1000
    """Estimated audience at or above this: one level higher."""
    raise_twice_at: Annotated[int, Meta(ge=1)] = 50000


class EngagementSettings(StrictModel):
    repost_weight: Annotated[float, Meta(ge=0)] = 3
    reply_weight: Annotated[float, Meta(ge=0)] = 2
    like_weight: Annotated[float, Meta(ge=0)] = 1
    raise_at: Annotated[float, Meta(gt=0)] = 100
    """Weighted engagement at or above this: one level higher."""
    raise_twice_at: Annotated[float, Meta(gt=0)] = 2000


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
    off_shift: Level = "medium"
    """Our account posted while nobody was on shift."""
    foreign_language: Level = "medium"
    """Our account posted in a language not in ``organisation.post_languages``."""
    lookalike: Level = "high"
    """Same display name as one of ours, different handle: possible impersonation."""
    extra_signal_levels: Annotated[int, Meta(ge=0, le=2)] = 1
    """Added when two or more of the signals above fire together."""


class QuestionSettings(StrictModel):
    question_mark: bool = True
    """A post with no other category that contains '?' is a question."""


class RuleSet(StrictModel):
    """The merged rules: what :class:`~watchtower.core.triage.Triager` runs."""

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
    out: list[_Pattern] = []
    for raw in normalise(term).split():
        star_front, star_back = raw.startswith("*"), raw.endswith("*")
        parts = words(raw.strip("*"))
        for j, part in enumerate(parts):
            piece = ("*" if star_front and j == 0 else "") + part + ("*" if star_back and j == len(parts) - 1 else "")
            out.append(_word_pattern(piece))
    return tuple(out)


_Entry = tuple[tuple[_Pattern, ...], int]


class _Candidates:
    """What one word of a post can start: single-word terms, and phrases by their 2nd word."""

    __slots__ = ("singles", "by_second", "other", "seconds")

    def __init__(self) -> None:
        self.singles: list[int] = []
        self.by_second: dict[str, list[_Entry]] = {}
        """Phrases whose second word is exact, by that word."""
        self.other: list[_Entry] = []
        """Phrases whose second word is a stem."""
        self.seconds: frozenset[str] = frozenset()
        """The keys of ``by_second``, to check a post for them at once."""

    def add(self, entry: _Entry) -> None:
        patterns, index = entry
        if len(patterns) == 1:
            if index not in self.singles:
                self.singles.append(index)
        elif patterns[1][0] == "=":
            self.by_second.setdefault(patterns[1][1], []).append(entry)
        else:
            self.other.append(entry)

    def __bool__(self) -> bool:
        return bool(self.singles or self.by_second or self.other)


def _position(event: tuple[int, int, str]) -> int:
    return event[0]


class Matcher:
    """All terms of a rule set, indexed so a post is read once.

    Each distinct word is looked up against every term once and the answer cached (words
    repeat a lot across posts), and phrases are indexed by their second word.  A post's
    distinct words are checked against the cache with set operations, so only the words
    that start some term cost a Python step.
    """

    CACHE_SIZE = 50_000

    def __init__(self, rules: list[Rule]) -> None:
        self.exact: dict[str, list[_Entry]] = {}
        self.prefix: dict[str, list[_Entry]] = {}
        self.suffix: dict[str, list[_Entry]] = {}
        self.contains: list[tuple[str, _Entry]] = []
        self.rules = rules
        for index, rule in enumerate(rules):
            for term in rule.terms:
                patterns = _compile_term(term)
                if not patterns:
                    continue
                kind, core = patterns[0]
                entry = (patterns, index)
                if kind == "=":
                    self.exact.setdefault(core, []).append(entry)
                elif kind == ">":
                    self.prefix.setdefault(core, []).append(entry)
                elif kind == "<":
                    self.suffix.setdefault(core, []).append(entry)
                else:
                    self.contains.append((core, entry))
        self.prefix_lengths = sorted({len(k) for k in self.prefix})
        self.suffix_lengths = sorted({len(k) for k in self.suffix})
        # The second words of phrases that are stems ("scam mail*"): a post needs a word
        # that matches one of them before those phrases are looked for.
        self._stem_seconds = tuple(sorted({
            patterns[1]
            for table in (self.exact, self.prefix, self.suffix)
            for entries in table.values()
            for patterns, _index in entries
            if len(patterns) > 1 and patterns[1][0] != "="
        } | {
            patterns[1] for _core, (patterns, _index) in self.contains if len(patterns) > 1 and patterns[1][0] != "="
        }))
        # (word -> its candidates, the words that have any, the words that match a stem
        # second word): replaced as one when full.
        self._memo: tuple[dict[str, _Candidates], set[str], set[str]] = ({}, set(), set())
        self._allowed: dict[str | None, tuple[bool, ...]] = {}

    def _compute(self, tok: str) -> _Candidates:
        cands = _Candidates()
        for entry in self.exact.get(tok, ()):
            cands.add(entry)
        size = len(tok)
        for length in self.prefix_lengths:
            if length > size:
                break
            for entry in self.prefix.get(tok[:length], ()):
                cands.add(entry)
        for length in self.suffix_lengths:
            if length > size:
                break
            for entry in self.suffix.get(tok[-length:], ()):
                cands.add(entry)
        for core, entry in self.contains:
            if core in tok:
                cands.add(entry)
        cands.seconds = frozenset(cands.by_second)
        return cands if cands else _NOTHING

    def _remember(self, distinct: dict[str, Any]) -> tuple[dict[str, _Candidates], set[str], set[str]]:
        """The word cache and its sets, with every word of ``distinct`` in them.

        Thread-safe without a lock: the three are read as one tuple, a full cache is
        replaced (never cleared in place), and a word joins the sets before the cache, so
        a reader that finds a word in the cache also finds it in the sets.
        """
        memo = self._memo
        cache, starts, stems = memo
        if len(cache) + len(distinct) > self.CACHE_SIZE:
            memo = cache, starts, stems = {}, set(), set()
            self._memo = memo
        if not cache.keys() >= distinct.keys():
            stem_seconds = self._stem_seconds
            for tok in distinct.keys() - cache.keys():
                cands = self._compute(tok)
                if cands is not _NOTHING:
                    starts.add(tok)
                for pattern in stem_seconds:
                    if _word_matches(pattern, tok):
                        stems.add(tok)
                        break
                cache[tok] = cands
        return memo

    def _allowed_for(self, language: str | None) -> tuple[bool, ...]:
        """Per rule: may it match in a post of this language?"""
        allowed = self._allowed.get(language)
        if allowed is None:
            allowed = tuple(r.lang == "any" or language is None or r.lang == language for r in self.rules)
            self._allowed[language] = allowed
        return allowed

    def find(self, tokens: list[str], language: str | None) -> list[Match]:
        """Every rule that matched, once each, with the words that matched it."""
        rules = self.rules
        return [Match(rules[i], t[0], tuple(t[1:])) for i, t in self.find_indices(tokens, language).items()]

    def find_indices(
        self, tokens: list[str], language: str | None, distinct: dict[str, Any] | None = None
    ) -> dict[int, list[str]]:
        """:meth:`find` as ``{rule index: [words that matched it, in order]}``.

        The rules are in the order of their first match in the post.  ``distinct`` has the
        post's distinct words as keys, in order of first appearance, when the caller has them.
        """
        if not tokens:
            return {}
        if distinct is None:
            distinct = dict.fromkeys(tokens)
        cache, starts, stems = self._memo
        if not cache.keys() >= distinct.keys():
            cache, starts, stems = self._remember(distinct)
        hits = [tok for tok in distinct if tok in starts]
        if not hits:
            return {}
        allowed = self._allowed.get(language) or self._allowed_for(language)
        seen: dict[int, list[str]] = {}
        events: list[tuple[int, int, str]] | None = None
        n = len(tokens)
        present = distinct.keys()
        stem_in_post: bool | None = None
        for tok in hits:
            cands = cache[tok]
            other = cands.other
            if other:
                if stem_in_post is None:
                    stem_in_post = not present.isdisjoint(stems)
                if not stem_in_post:
                    other = []
            if other or (cands.seconds and not present.isdisjoint(cands.seconds)):
                # A phrase may start here (its second word is in the post): look at every
                # place the word occurs.
                found = self._phrases(tokens, tok, cands, allowed, n, other)
                if found:
                    if events is None:
                        events = []
                    if cands.singles:
                        first = tokens.index(tok)
                        events.extend((first, index, tok) for index in cands.singles if allowed[index])
                    events.extend(found)
                    continue
            if events is not None:
                if cands.singles:
                    first = tokens.index(tok)
                    events.extend((first, index, tok) for index in cands.singles if allowed[index])
                continue
            # Before any phrase, every text in ``seen`` is another distinct word: no
            # duplicate to check for.
            for index in cands.singles:
                if allowed[index]:
                    texts = seen.get(index)
                    if texts is None:
                        seen[index] = [tok]
                    else:
                        texts.append(tok)
        if events is None:
            return seen
        # A phrase matched: the matches from its first word on are replayed in the order
        # of the post (the ones before it are in ``seen`` already, in order).
        events.sort(key=_position)
        for _pos, index, text in events:
            texts = seen.get(index)
            if texts is None:
                seen[index] = [text]
            elif text not in texts:
                texts.append(text)
        return seen

    def _phrases(
        self, tokens: list[str], tok: str, cands: _Candidates, allowed: tuple[bool, ...], n: int,
        other: list[_Entry],
    ) -> list[tuple[int, int, str]]:
        """(position, rule index, words) of every phrase that starts with ``tok``.

        ``other`` is ``cands.other``, or empty when no word of the post matches a stem
        second word.
        """
        out: list[tuple[int, int, str]] = []
        by_second = cands.by_second
        i = tokens.index(tok)
        while i + 1 < n:
            nxt = tokens[i + 1]
            if by_second:
                for patterns, index in by_second.get(nxt, ()):
                    span = len(patterns)
                    if allowed[index] and (span == 2 or _rest_matches(patterns, tokens, i, 2, n)):
                        out.append((i, index, " ".join(tokens[i : i + span])))
            for patterns, index in other:
                if allowed[index] and _word_matches(patterns[1], nxt) and _rest_matches(patterns, tokens, i, 2, n):
                    out.append((i, index, " ".join(tokens[i : i + len(patterns)])))
            try:
                i = tokens.index(tok, i + 1)
            except ValueError:
                break
        return out


def _rest_matches(patterns: tuple[_Pattern, ...], tokens: list[str], i: int, start: int, n: int) -> bool:
    """Whether words ``start``.. of the phrase match the post from position ``i``."""
    span = len(patterns)
    if i + span > n:
        return False
    for k in range(start, span):
        if not _word_matches(patterns[k], tokens[i + k]):
            return False
    return True


_NOTHING = _Candidates()

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
