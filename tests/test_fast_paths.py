"""The ingest fast paths give exactly what the general paths give.

Feeds arrive by the thousand, so the hot steps have cheap paths for the common case:
regex HTML-to-text for simple markup, ``str.isprintable()`` before the safe-text regexes,
a byte-table word splitter for ASCII text, a set-based keyword matcher, a direct ISO 8601
date parse.  Each must be invisible: these tests run the cheap path and the general one on
generated inputs (hostile characters, entities, Dutch compounds, phrases, diacritics)
and require the same answer.  No timings here; the benchmarks measure speed.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from hazards.corpus import BAD_URLS, ESCAPES, MARKUP, MULTILINGUAL, UNICODE_HAZARDS

from watchtower.core.fetch import feeds
from watchtower.core.models import parse_time
from watchtower.core.text import safetext
from watchtower.core.text.lang import _WORD_RE, count_words, guess_from_counts, guess_from_words, normalise, words
from watchtower.core.text.safetext import clean, one_line, safe_url
from watchtower.core.triage.rules import Matcher, Rule, _compile_term, _word_matches, load_rules, matcher_for


class _Str(str):
    """A str subclass: the fast paths take exact ``str`` only, so this forces the general path."""


# ---------------------------------------------------------------------------- safetext

_PIECES = [
    "plain words", " ", "  ", "\n", "\t", "\r\n", "\r", "-", "https://x.example/a?b=1#c", "é", "日本", "😀", "\u0301",
    "\u200d", "\u200c", "\ufffc", "\ufffd", "\xa0", "\u3000", "\u2000", *ESCAPES.values(), *UNICODE_HAZARDS.values(),
    *MARKUP[:6], *MULTILINGUAL[:4], "\x00", "\x7f", "\x85", "\x9b", "\ud800", "\ufffe", "\U0001fffe", "\U000e0041",
]


def _texts(seed: int, n: int = 3000) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 8))) for _ in range(n)]


def test_clean_fast_path_equals_the_regex_path(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = _texts(1)
    fast = [(clean(t), clean(t, limit=12), one_line(t), one_line(t, limit=10)) for t in texts]
    monkeypatch.setattr(safetext, "_needs_cleaning", lambda text: True)
    slow = [(clean(t), clean(t, limit=12), one_line(_Str(t)), one_line(_Str(t), limit=10)) for t in texts]
    for t, a, b in zip(texts, fast, slow):
        assert a == b, repr(t)


def test_printable_text_needs_no_cleaning() -> None:
    # What the fast path relies on: every character the regexes change is non-printable
    # (U+FFFC and U+FFFD are in the trigger set but are never changed).
    for cp in list(range(0x3000)) + list(range(0xF000, 0x10000)) + list(range(0xE0000, 0xE0080)) + [0x1FFFE, 0x10FFFF]:
        ch = chr(cp)
        if ch.isprintable():
            assert clean(f"a{ch}b") == f"a{ch}b", hex(cp)


@pytest.mark.parametrize("url", [
    *BAD_URLS, "https://ok.example", "HTTP://OK.example/", "https://a.b.c/x y", "https://a..b/", "https://a.b:80/x",
    "https://a.b:80@evil.example/", "https://user@a.b/", "https://a.b?x@y", "https://-/", "https://a_b.example/",
    "https://a.b./", "https://" + "a" * 70 + ".example/", "http://x/\x1b[31m", "https://x.example/\u202e",
    "https://[::1]/", "https://[::1", "https:///x", "https://:80/", "https://x.example/" + "p" * 5000,
])
def test_safe_url_fast_path_equals_the_general_path(url: str) -> None:
    assert safe_url(url) == safe_url(_Str(url))


def test_safe_url_fast_path_on_generated_urls() -> None:
    rng = random.Random(11)
    parts = ["http://", "https://", "HTTP://", "ftp://", "javascript:", "", "example.com", "EXAMPLE.com", "xn--bcher-kva.example",
             "bücher.example", "a..b", "user:pw@", "@", ":8080", ":", "/path", "?q=1", "#frag", " ", "\t", "\n", "[::1]", "[",
             "]", "%20", "\x1b", "\u200b", "-", ".", "_", "a" * 70, "/x y", "localhost", "\\", "<", "\x7f"]
    for _ in range(5000):
        url = "".join(rng.choice(parts) for _ in range(rng.randint(1, 6)))
        assert safe_url(url) == safe_url(_Str(url)), repr(url)


# ---------------------------------------------------------------------------- html_to_text

_HTML_WORDS = ["word", "Wörd", "x y", " ", "  ", "\t", "\n", "日本", "\u200b", "\u202e", "\xa0", "\u3000", "\u2028",
               "\ufeff", "\ufffe", "\ufdd0", "\U0001fffe", "😀", "\ud800", "a>b", ">", "\x85", "\u2000", ";", "/", "\r", "\x1b"]
_HTML_ENTITIES = ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&nbsp;", "&#39;", "&#x27;", "&#8217;", "&eacute;",
                  "&hellip;", "&bogus;", "&#0;", "&#7;", "&#128;", "&#x80;", "&#xD800;", "&#1114112;", "&#65534;",
                  "&#xFFFE;", "&#9;", "&#10;", "&#13;", "&#27;", "&AMP;", "&ampx;", "&lt", "&notit;", "&#x1F600;",
                  "&#55295;", "&#xd7ff;", "&#160;", "&#126;", "&#x7f;", "&#159;", "&#64976;", "&thinsp;", "&zwnj;"]
_HTML_TAGS = ["a", "b", "i", "em", "strong", "span", "code", "sub", "q", "br", "p", "P", "A", "Br", "div", "li", "ul",
              "blockquote", "h2", "pre", "script", "style", "img", "mark", "time", "table", "td"]
_HTML_ATTRS = ["", ' href="https://x/?a=1&amp;b=2"', " class=x", " title='a b'", " data-x", ' x = "y"', " /", ' t="a>b"']


def _fragment(rng: random.Random) -> str:
    out = []
    for _ in range(rng.randint(1, 12)):
        r = rng.random()
        if r < 0.3:
            out.append(rng.choice(_HTML_WORDS))
        elif r < 0.45:
            out.append(rng.choice(_HTML_ENTITIES))
        elif r < 0.65:
            tag, attrs = rng.choice(_HTML_TAGS), rng.choice(_HTML_ATTRS)
            out.append(rng.choice([f"<{tag}{attrs}>", f"</{tag}>", f"<{tag}{attrs}/>", f"</{tag} >"]))
        elif r < 0.85:
            inner = rng.choice(["", "<b>x</b>", "<br>", "&amp;", "<a href='u'>l</a> t"])
            out.append(f"<p>{rng.choice(_HTML_WORDS)}{inner}</p>")
        else:
            out.append("<!-- c -->" if r < 0.9 else rng.choice(_HTML_WORDS) + rng.choice(_HTML_WORDS))
    return "".join(out)


def test_html_regex_path_gives_lxmls_text() -> None:
    rng = random.Random(5)
    taken = 0
    for _ in range(20_000):
        value = _fragment(rng)
        if "<" in value and feeds._SIMPLE_HTML.fullmatch(value) is not None:
            taken += 1
            assert feeds.html_to_text(value) == feeds._tidy_lines(feeds._lxml_text(value)), repr(value)
    assert taken > 1500  # the generator reaches the regex path often enough to mean something


def test_html_regex_path_takes_typical_feed_markup() -> None:
    typical = [
        '<p>The library is <b>closed</b> today.</p><p><a href="https://x.example/a?b=1&amp;c=2">Read more</a> &hellip;</p>',
        "Opening hours changed<br/>See&nbsp;you <em>soon</em>!",
        "<p class=\"lead\">Caf&eacute; &amp; bieb &#8217;t Centrum</p>",
    ]
    for value in typical:
        assert feeds._SIMPLE_HTML.fullmatch(value) is not None, value
        assert feeds.html_to_text(value) == feeds._tidy_lines(feeds._lxml_text(value))
    assert feeds.html_to_text(typical[0]) == "The library is closed today.\n\nRead more …"


def test_html_outside_the_regex_path_still_goes_through_lxml() -> None:
    assert feeds.html_to_text("<p>a<script>alert(1)</script></p><ul><li>b</li></ul>") == "a\nb"
    assert feeds.html_to_text("<p>a<p>b") == "a\n\nb"


def test_html_regex_is_linear_on_hostile_input() -> None:
    # Possessive quantifiers: a near-miss of half a megabyte is rejected without backtracking
    # (this would not finish with a nested-quantifier pattern).
    hostile = "<p>" + "a <b>x</b> &amp; " * 20_000 + "<p"
    assert feeds._SIMPLE_HTML.fullmatch(hostile) is None
    assert feeds.html_to_text(hostile).startswith("a x & a x &")


# ---------------------------------------------------------------------------- words and language

def test_ascii_word_split_equals_the_regex() -> None:
    rng = random.Random(3)
    alphabet = list("abcXYZ019 '_-.,!?\n\t\"`") + ["don't", "''", "it's", "'s", "rock'n'roll", "é", "ß"]
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25)))
        assert words(text) == _WORD_RE.findall(text), repr(text)
    for c in range(128):
        text = f"ab{chr(c)}cd {chr(c)} x{chr(c)}"
        assert words(text) == _WORD_RE.findall(text), c


def test_guess_from_counts_equals_guess_from_words() -> None:
    rng = random.Random(4)
    vocab = ["the", "and", "de", "het", "niet", "you", "der", "und", "le", "la", "el", "y", "die", "is", "library", "x", "no"]
    for _ in range(3000):
        tokens = [rng.choice(vocab) for _ in range(rng.randint(0, 12))]
        expected = _reference_guess(tokens)
        assert guess_from_words(tokens) == expected
        assert guess_from_counts(count_words(tokens), len(tokens)) == expected


def _reference_guess(tokens: list[str], min_hits: int = 2) -> str | None:
    from watchtower.core.text.lang import _ALL_LANGS, _INDEX

    if not tokens:
        return None
    scores = dict.fromkeys(_ALL_LANGS, 0)
    for tok in tokens:
        for lang in _INDEX.get(tok, ()):
            scores[lang] += 1
    ranked = sorted(scores.values(), reverse=True)
    needed = 1 if len(tokens) <= 3 else min_hits
    if ranked[0] < needed or ranked[0] == ranked[1]:
        return None
    return max(_ALL_LANGS, key=scores.__getitem__)


# ---------------------------------------------------------------------------- the matcher

def _reference_find(m: Matcher, tokens: list[str], language: str | None) -> list[tuple[int, str, tuple[str, ...]]]:
    """The matcher without its automaton: every term of every rule at every place of every row.

    The rows (surface words; stems, with Dutch compounds split) come from the matcher's own
    word functions; what is checked here is that one automaton pass over the joined string
    finds the same terms at the same words as plain list comparison, and that the rule
    conditions (lang, context, weak, a match inside a longer one) apply the same way.
    """
    owners, compiled = _reference_terms(m)
    context_of = {}
    for i, r in enumerate(m.rules):
        if r.context:
            context_of[i] = len(m.rules) + len(context_of)
    langs = {"en": ["en"], "nl": ["nl"]}.get(language, ["en", "nl"])
    rows = {}
    for lang in langs:
        parts, owner_of = [], []
        for t_index, tok in enumerate(tokens):
            for part in m._row_word(tok, lang).split():
                parts.append(part)
                owner_of.append(t_index)
        rows[lang] = (parts, owner_of)
    events = []
    for owner, (_terms, lang_rule) in enumerate(owners):
        if not (lang_rule == "any" or language is None or lang_rule == language):
            continue
        for patterns, wants in compiled[owner]:
            if wants is None:
                for i in range(len(tokens) - len(patterns) + 1):
                    if all(_word_matches(p, tokens[i + k]) for k, p in enumerate(patterns)):
                        events.append((i, i + len(patterns) - 1, owner))
                continue
            for lang in langs:
                if lang not in wants:
                    continue
                want = wants[lang]
                parts, owner_of = rows[lang]
                if want[0] not in parts:
                    continue
                for j in range(len(parts) - len(want) + 1):
                    if parts[j : j + len(want)] == want:
                        events.append((owner_of[j], owner_of[j + len(want) - 1], owner))
    n = len(m.rules)
    events = sorted(set(events))
    kept = [
        (f, t, o) for f, t, o in events
        if not (o < n and any(o2 < n and f2 <= f and t <= t2 and t2 - f2 > t - f for f2, t2, o2 in events))
    ]
    seen: dict[int, list[str]] = {}
    present = {o for _f, _t, o in kept}
    for f, t, o in kept:
        if o >= n:
            continue
        text = " ".join(tokens[f : t + 1])
        texts = seen.setdefault(o, [])
        if text not in texts:
            texts.append(text)
    for i in list(seen):
        if i in context_of and context_of[i] not in present:
            del seen[i]
    by_cat: dict[str | None, list[int]] = {}
    for i in seen:
        by_cat.setdefault(m.rules[i].category, []).append(i)
    for cat, indices in by_cat.items():
        if cat is not None and all(m.rules[i].weak for i in indices):
            if len({t for i in indices for t in seen[i]}) < 2:
                for i in indices:
                    del seen[i]
    return [(i, t[0], tuple(t[1:])) for i, t in seen.items()]


_REFERENCE_TERMS: dict[int, tuple[Matcher, list, list]] = {}


def _reference_terms(m: Matcher) -> tuple[list, list]:
    """Each owner's terms as (surface word patterns, None) or (patterns, {lang: stem row words})."""
    found = _REFERENCE_TERMS.get(id(m))
    if found is not None and found[0] is m:
        return found[1], found[2]
    owners = [
        ([(t, None) for t in r.terms] + [(t, "en") for t in r.en] + [(t, "nl") for t in r.nl], r.lang) for r in m.rules
    ] + [([(t, None) for t in r.context], r.lang) for r in m.rules if r.context]
    compiled = []
    for terms, _lang in owners:
        entries = []
        for term, home in terms:
            exact = term.startswith("=")
            patterns = _compile_term(term[1:] if exact else term)
            if exact or any(kind != "=" for kind, _ in patterns):
                entries.append((patterns, None))
                continue
            langs = ("en", "nl")
            if home is not None and len(patterns) == 1:
                langs = (home,)
                entries.append((patterns, None))  # as written, in any post
            entries.append((patterns, {
                lang: " ".join(m._row_word(core, lang) for _kind, core in patterns).split() for lang in langs
            }))
        compiled.append(entries)
    _REFERENCE_TERMS[id(m)] = (m, owners, compiled)
    return owners, compiled


def _vocabulary(rules: list[Rule]) -> list[str]:
    vocab: set[str] = set()
    for rule in rules:
        for term in [*rule.terms, *rule.context]:
            for word in normalise(term).split():
                core = word.strip("*")
                vocab.update(words(core))
                if word.endswith("*"):
                    vocab.update(w + "en" for w in words(core))  # a stem's longer forms
                if word.startswith("*"):
                    vocab.update("data" + w for w in words(core))  # Dutch compounds: datalek
    return sorted(vocab)


@pytest.mark.parametrize("language", [None, "en", "nl"])
def test_matcher_equals_the_reference_on_the_default_rules(language: str | None) -> None:
    rules = load_rules().active_rules
    m = Matcher(rules)
    vocab = _vocabulary(rules) + [
        "the", "a", "library", "xyz", "gehackt", "datalekken", "privacylek", "hacked", "hacking", "nepaccounts",
        "gegevenslek", "stroomstoring", "werkplek", "storingswagen", "ontruimd", "evacuated", "brandjes",
    ]
    # Every one-word post, then random ones: a one-word post is where a Dutch compound is
    # a whole phrase ("nepaccounts" is "nep account"), and a shortcut once skipped it.
    for word in vocab:
        got = sorted((i, t[0], tuple(t[1:])) for i, t in m.find_indices([word], language).items())
        assert got == sorted(_reference_find(m, [word], language)), word
    # A fixed seed per language (hash() of a str changes per process): a failure repeats.
    rng = random.Random(f"matcher-{language}")
    for _ in range(1000):
        tokens = [rng.choice(vocab) for _ in range(rng.randint(0, 30))]
        got = sorted((i, t[0], tuple(t[1:])) for i, t in m.find_indices(tokens, language).items())
        assert got == sorted(_reference_find(m, tokens, language)), tokens
        assert sorted((rules.index(r.rule), r.text, r.also) for r in m.find(tokens, language)) == got


def test_matcher_equals_the_reference_on_stems_and_phrases() -> None:
    rules = [
        Rule(category="security", terms=["hack*", "*lek", "*lek*", "data breach", "*phish*", "data lek", "hack* attempt"]),
        Rule(category="grievance", terms=["not working", "not working again", "niet *", "wrong", "is * wrong"], lang="en"),
        Rule(category="crisis", terms=["brand", "brand alarm", "fire", "fire*"], lang="nl", weak=True),
        Rule(category="crisis", terms=["smoke"], weak=True),
        Rule(category="security", terms=["password"], context=["asking", "asked"]),
        Rule(category="grievance", terms=["never again"], en=["quits", "stores"], nl=["storing", "quitte"]),
        Rule(category="other", terms=["=fire alarm", "fire brigade"], weight=0.1),
    ]
    m = Matcher(rules)
    vocab = ["hack", "hacked", "hacker", "shack", "datalek", "privacylek", "datalekken", "data", "breach", "lek", "phishing",
             "antiphishing", "not", "working", "again", "niet", "wrong", "is", "it", "brand", "alarm", "fire", "fired",
             "attempt", "smoke", "password", "passwords", "asked", "asking", "quits", "quit", "quite", "quitte", "store",
             "stores", "storing", "storingen", "stroomstoring", "never", "brigade"]
    rng = random.Random(8)
    for _ in range(5000):
        tokens = [rng.choice(vocab) for _ in range(rng.randint(0, 14))]
        for language in (None, "en", "nl"):
            got = sorted((i, t[0], tuple(t[1:])) for i, t in m.find_indices(tokens, language).items())
            assert got == sorted(_reference_find(m, tokens, language)), (tokens, language)


def test_matcher_word_cache_is_bounded_and_stays_correct(monkeypatch: pytest.MonkeyPatch) -> None:
    rule = Rule(category="security", terms=["hack*", "data breach"])
    m = Matcher([rule])
    monkeypatch.setattr(Matcher, "CACHE_SIZE", 5)
    for k in range(50):
        tokens = [f"w{k}", f"v{k}", "data", "breach", "hacked"]
        found = m.find_indices(tokens, None)
        assert found == {0: ["data breach", "hacked"]}
        assert all(len(cache) <= 5 for cache in m._row_cache.values())
        assert all(len(cache) <= 5 for cache, _hot in m._word_cache.values())


def test_one_matcher_per_rule_set() -> None:
    rules = load_rules().active_rules
    assert matcher_for(rules) is matcher_for(list(rules))
    assert load_rules() is load_rules()


# ---------------------------------------------------------------------------- dates

def test_iso_fast_path_equals_the_general_path() -> None:
    now = datetime(2026, 11, 15, 12, 0, tzinfo=timezone.utc)
    values = [
        "2026-11-15T11:54:00+00:00", "2026-11-15T11:54:00Z", "2026-11-15T11:54:00z", "2026-11-15 11:54:00+00:00",
        "2026-11-15T11:54:00+01:00", "2026-11-15T11:54:00-00:00", "2026-11-15T11:54:00", "2026-11-15", " 2026-11-15T11:54:00Z",
        "2026-11-15T11:54:00Z ", "20261115T115400Z", "2026-11-17T11:54:00+00:00", "1989-12-31T23:59:59+00:00",
        "0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00", "Sun, 15 Nov 2026 11:54:00 GMT", "garbage", "",
        (now + timedelta(hours=23, minutes=59)).isoformat(), (now + timedelta(days=1, seconds=1)).isoformat(),
    ]
    for value in values:
        assert parse_time(value, now=now) == parse_time(_Str(value), now=now), value


# ---------------------------------------------------------------------------- archive rows

def test_archive_encoder_writes_what_json_dumps_writes() -> None:
    import json

    from watchtower.core.models import Item
    from watchtower.core.record.archive import _encode

    samples = [*MARKUP[:5], *ESCAPES.values(), *MULTILINGUAL, "\ud800 lone", "quote \" and \\ backslash", ""]
    for k, text in enumerate(samples):
        item = Item.create(platform="News", source="s", native_id=str(k), author="a", text=text, published=None,
                           url="https://x.example/", title=text[:10])
        item.reasons = [text, "keyword 'x' (spam)"]
        data = item.to_json()
        written = _encode(data)
        assert json.loads(written) == data and written == json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def test_tidy_lines_shortcut_equals_the_line_by_line_path() -> None:
    rng = random.Random(6)
    pieces = ["a", "bc", " ", "  ", "\n", "\n\n", "\n\n\n", "\t", "\r", "\x0b", "\x1c", "\xa0", "é", "\u2003", "x y"]
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        lines = [" ".join(line.split()) for line in text.replace("\xa0", " ").split("\n")]
        out: list[str] = []
        for line in lines:
            if line or (out and out[-1]):
                out.append(line)
        assert feeds._tidy_lines(text) == "\n".join(out).strip(), repr(text)
