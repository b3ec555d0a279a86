"""Which language a post is in, cheaply: English, Dutch, or "can't tell".

Light stopword scoring, no dependency and no model: a post's words are counted against
short lists of the commonest words that belong to one language only ("the", "and", "you"
against "de", "het", "niet", ...).  Good enough to pick the reply template and to notice
when our own account posts in a language we never use; deliberately silent (``None``)
when a post is too short or too mixed to tell, so callers fall back to their default.

:func:`guess_language` also recognises German, French and Spanish so that "our account
posted in a language we don't post in" can be raised; :func:`detect_language` is the
en/nl answer the rest of the app wants.
"""

from __future__ import annotations

import re
import threading
import unicodedata

import Stemmer  # type: ignore[import-not-found]

try:  # the C helper behind collections.Counter: counts a list into a plain dict
    from collections import _count_elements  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - other Pythons

    def _count_elements(mapping: dict, iterable: list) -> None:  # type: ignore[misc]
        get = mapping.get
        for elem in iterable:
            mapping[elem] = get(elem, 0) + 1

__all__ = [
    "detect_language",
    "guess_language",
    "guess_from_counts",
    "normalise",
    "words",
    "count_words",
    "stem",
    "STEM_LANGUAGES",
    "STOPWORDS",
]

_WORD_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_COMBINING_RE = re.compile(r"[\u0300-\u036f]")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})


def normalise(text: str) -> str:
    """Case-folded, accents stripped, curly apostrophes straightened.

    ``"Géén ÉCHTE"`` -> ``"geen echte"``.  Letters of other scripts are kept.
    """
    folded = text.casefold()
    if not folded.isascii():
        folded = folded.translate(_APOSTROPHES)
        folded = _COMBINING_RE.sub("", unicodedata.normalize("NFKD", folded))
        folded = unicodedata.normalize("NFC", folded)
    return folded


# ASCII letters and digits stay, the apostrophe stays for a second look, every other byte
# separates words: the same words as _WORD_RE for ASCII text, several times faster.
_ASCII_WORD_BYTES = bytes(
    c if chr(c).isalnum() or c == 0x27 else 0x20 for c in range(128)
) + b" " * 128


def words(normalised: str) -> list[str]:
    """The words of an already-normalised text (``"don't"`` stays one word)."""
    if not normalised.isascii():
        return _WORD_RE.findall(normalised)
    tokens = normalised.encode("ascii").translate(_ASCII_WORD_BYTES).decode("ascii").split()
    if "'" in normalised:
        # An apostrophe joins letters only: "'quoted'" is one word, "a''b" two.
        tokens = [w for tok in tokens for w in ((tok,) if _plain_apostrophes(tok) else _WORD_RE.findall(tok))]
    return tokens


def _plain_apostrophes(token: str) -> bool:
    return "'" not in token or (token[0] != "'" and token[-1] != "'" and "''" not in token)


# Words common in one language and rare in the other.  Shared words ("in", "is", "was",
# "over", "of", "me", "we", "die" (en: to die)) are left out on purpose.
_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        """the and you your you're yours to of for with this that these those there their they
        them are not no yes be been being have has had do does did don't doesn't didn't can't
        cannot won't isn't aren't wasn't i'm it's its it my our us from at by on an a or but so
        if what when where why how who which will would should could just very really about
        all any some more than then thanks thank please still again today tonight tomorrow
        yesterday get got why's that's there's let's here now after before because into out
        up down off only also every new good bad great love hate people time library council
        i i've i'll we're we've you've""".split()
    ),
    "nl": frozenset(
        """de het een en van ik je jij jullie u uw zijn ze zij wij hij niet geen wel nog al ook
        maar als dan dat deze dit die daar hier er naar bij uit voor om op aan te tot
        heb hebt heeft hebben waren wordt worden werd kan kun kunnen moet moeten mag
        zou zouden wil willen gaat gaan ga weer nu toch echt heel erg veel meer dus omdat
        wat wie waar waarom hoe wanneer welke mijn onze ons jouw jullie bedankt dank dankjewel
        dankuwel alsjeblieft alstublieft vandaag morgen gisteren vanavond sinds graag
        goed slecht nieuwe mensen tijd bibliotheek gemeente dienst iets niets niks
        iemand niemand altijd nooit zo zelf""".split()
    ),
    "de": frozenset(
        """der die das und ist nicht ich du sie wir ihr ein eine einen mit auf für von zu den
        dem des sich auch noch nur schon aber wenn wie warum danke bitte heute""".split()
    ),
    "fr": frozenset(
        """le la les et est pas je tu nous vous ils elles un une des du au aux avec pour sur
        dans que qui mais ou très merci aujourd'hui c'est""".split()
    ),
    "es": frozenset(
        """el la los las y es no yo tu nosotros un una unos con para por que pero muy gracias
        hoy esta este está""".split()
    ),
}
# "die", "la", "no", "de" etc. appear in several lists; a word counts for every list it is
# in, so only the words unique to one language decide a close call.
_ALL_LANGS = tuple(_STOPWORDS)
_STOPWORDS = {
    lang: frozenset(normalise(w) for w in ws) for lang, ws in _STOPWORDS.items()
}
#: The commonest words that belong to one language (the language guess reads them).
STOPWORDS = _STOPWORDS


# word -> the languages it is a stopword of, so a post is read once.
_INDEX: dict[str, tuple[str, ...]] = {}
for _lang, _ws in _STOPWORDS.items():
    for _w in _ws:
        _INDEX[_w] = (*_INDEX.get(_w, ()), _lang)
_STOPWORD_SET = frozenset(_INDEX)
# The same, with each language as its position in _ALL_LANGS.
_INDEX_POS: dict[str, tuple[int, ...]] = {w: tuple(_ALL_LANGS.index(lang) for lang in ls) for w, ls in _INDEX.items()}


def count_words(tokens: list[str]) -> dict[str, int]:
    """``{word: times}`` for the words of a text, in order of first appearance."""
    counts: dict[str, int] = {}
    _count_elements(counts, tokens)
    return counts


def guess_language(text: str, *, min_hits: int = 2) -> str | None:
    """``'en'``, ``'nl'``, ``'de'``, ``'fr'``, ``'es'`` or ``None`` when it can't tell.

    A language needs ``min_hits`` stopword hits (one for a post of three words or fewer)
    and a clear lead (more than the runner-up).
    """
    tokens = words(normalise(text))
    return guess_from_words(tokens, min_hits=min_hits)


def guess_from_words(tokens: list[str], *, min_hits: int = 2) -> str | None:
    """:func:`guess_language` for a text already split by :func:`words`."""
    if not tokens:
        return None
    counts: dict[str, int] = {}
    _count_elements(counts, tokens)
    return guess_from_counts(counts, len(tokens), min_hits=min_hits)


def guess_from_counts(counts: dict[str, int], n_tokens: int, *, min_hits: int = 2) -> str | None:
    """:func:`guess_from_words` for word counts (``{word: times}``) of ``n_tokens`` words."""
    if not n_tokens:
        return None
    scores = [0] * len(_ALL_LANGS)
    index = _INDEX_POS
    for tok in _STOPWORD_SET.intersection(counts):
        n = counts[tok]
        for pos in index[tok]:
            scores[pos] += n
    top = max(scores)
    # A clear lead: the runner-up (which may tie with the top) has fewer hits.
    if top < (1 if n_tokens <= 3 else min_hits) or scores.count(top) > 1:
        return None
    return _ALL_LANGS[scores.index(top)]


def detect_language(text: str) -> str | None:
    """``'en'``, ``'nl'`` or ``None`` (too short, mixed, or another language)."""
    lang = guess_language(text)
    return lang if lang in ("en", "nl") else None


# -- stems ------------------------------------------------------------------------------
#
# Triage matches words on their Snowball stems (PyStemmer), so one term covers a word's
# forms: "evacuate" matches evacuated, evacuating, evacuation; "lekken" matches lekt,
# gelekt, lekken.  Snowball leaves a few regular Dutch endings apart that a reader takes
# for one word (ontruimd / ontruiming, annuleer / annuleren): :func:`stem` joins those by
# two spelling rules of Dutch, applied to every word alike, so a term and a post always
# meet on the same form.

#: The languages :func:`stem` has a stemmer for.
STEM_LANGUAGES = ("en", "nl")
_SNOWBALL = {"en": "english", "nl": "dutch"}
_STEMMERS: dict[str, Stemmer.Stemmer] = {}
# A Stemmer must not be called from two threads at once (its docs); the cache below makes
# calls rare, so one lock is enough.
_STEM_LOCK = threading.Lock()
_STEM_CACHE: dict[str, dict[str, str]] = {lang: {} for lang in STEM_LANGUAGES}
_STEM_CACHE_SIZE = 100_000
_DUTCH_VOWELS = "aeiouy"
_MIN_STEM = 4


def _dutch_canonical(stem: str) -> str:
    """Dutch spelling folded the way Snowball leaves it apart.

    * A plural ``-ts`` Snowball keeps (accounts, tickets) loses its ``s``.
    * A final ``d``/``t`` after a consonant is the past participle or the 3rd person
      (ontruimd, bedreigd, vertraagd): dropped when four letters stay.
    * A doubled vowel in the last syllable is the open syllable of the other forms
      (vertraag / vertraging -> vertrag, annuleer / annuleren -> annuler): made single.
    """
    if len(stem) >= 5 and stem.endswith("ts"):
        stem = stem[:-1]
    if len(stem) >= 5 and stem[-1] in "dt" and stem[-2] not in _DUTCH_VOWELS and stem[-2] not in "dt":
        stem = stem[:-1]
    n = len(stem)
    if n >= 4 and stem[-1] not in _DUTCH_VOWELS and stem[-2] == stem[-3] and stem[-2] in "aeou":
        stem = stem[:-2] + stem[-1]
    return stem


def stem(word: str, lang: str) -> str:
    """The stem of a normalised word (see :func:`normalise`) in ``'en'`` or ``'nl'``.

    Snowball's stem, and for Dutch the spelling folds of :func:`_dutch_canonical`; a stem
    of fewer than four letters is replaced by the word itself.  Cached; safe from several
    threads.
    """
    cache = _STEM_CACHE[lang]
    found = cache.get(word)
    if found is not None:
        return found
    with _STEM_LOCK:
        stemmer = _STEMMERS.get(lang)
        if stemmer is None:
            stemmer = _STEMMERS[lang] = Stemmer.Stemmer(_SNOWBALL[lang])
        out = stemmer.stemWord(word)
    if lang == "nl":
        out = _dutch_canonical(out)
    if len(out) < _MIN_STEM and out != word:
        # Two or three letters are too few to stand for a word's family: "pers" is not
        # "per", "gewond" is not "won", "sued" is not "su".
        out = word
    if len(cache) >= _STEM_CACHE_SIZE:
        cache = _STEM_CACHE[lang] = {}
    cache[word] = out
    return out
