"""Language detection: English, Dutch, or an honest "can't tell"."""

from __future__ import annotations

import pytest

from watchtower.core.text.lang import detect_language, guess_language, normalise, words


@pytest.mark.parametrize(
    "text, lang",
    [
        ("Why is the library closed again on a Tuesday? This is the third time.", "en"),
        ("Thanks for the help with my account today!", "en"),
        ("Your website has been hacked, you should check it", "en"),
        ("I've been waiting for an answer since Monday", "en"),
        ("Waarom is de bibliotheek vandaag weer dicht?", "nl"),
        ("Bedankt voor de snelle hulp!", "nl"),
        ("Jullie website is gehackt, ik krijg rare mails", "nl"),
        ("Ik wacht al twee weken op een antwoord van de gemeente", "nl"),
        ("Heel erg teleurgesteld in jullie service", "nl"),
        ("Wéér geen antwoord. Dit is echt niet oké", "nl"),
        ("THE LIBRARY IS CLOSED AND NOBODY TOLD US", "en"),
    ],
)
def test_detects_english_and_dutch(text: str, lang: str) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize("text", ["", "   ", "👍👍", "lol", "#2025", "https://example.org", "ok ok"])
def test_too_little_to_tell(text: str) -> None:
    assert detect_language(text) is None


def test_other_languages_are_not_english_or_dutch() -> None:
    assert guess_language("Gagnez des bitcoins avec nous, c'est très facile et pour tout le monde") == "fr"
    assert detect_language("Gagnez des bitcoins avec nous, c'est très facile et pour tout le monde") is None
    assert guess_language("Ich habe heute nicht gewusst, dass die Bibliothek auf ist") == "de"
    assert guess_language("Gracias por todo, es muy bueno para la gente") == "es"


def test_normalise_folds_case_and_accents() -> None:
    assert normalise("Géén ÉCHTE Reactie") == "geen echte reactie"
    assert normalise("Don\u2019t") == "don't"
    assert words(normalise("Don’t hack-me, ok?")) == ["don't", "hack", "me", "ok"]


# -- stems ----------------------------------------------------------------------------------

from watchtower.core.text.lang import stem  # noqa: E402


@pytest.mark.parametrize(
    "lang, forms",
    [
        ("en", ["evacuate", "evacuated", "evacuating", "evacuation"]),
        ("en", ["leak", "leaked", "leaking", "leaks"]),
        ("en", ["impersonate", "impersonating", "impersonation"]),
        ("nl", ["ontruimen", "ontruimd", "ontruiming"]),
        ("nl", ["uitlekken", "uitgelekt", "uitlekt"]),
        ("nl", ["staken", "gestaakt", "staking", "stakingen"]),
        ("nl", ["vertragen", "vertraagd", "vertraging"]),
        ("nl", ["annuleren", "geannuleerd"]),
        ("nl", ["bedreigen", "bedreigd", "bedreiging"]),
        ("nl", ["account", "accounts"]),
    ],
)
def test_word_forms_share_a_stem(lang: str, forms: list[str]) -> None:
    assert len({stem(w, lang) for w in forms}) == 1, {w: stem(w, lang) for w in forms}


@pytest.mark.parametrize("lang, a, b", [("en", "pers", "per"), ("nl", "gewond", "won"), ("en", "sued", "su"), ("nl", "lekker", "lek")])
def test_words_that_only_look_alike_keep_apart(lang: str, a: str, b: str) -> None:
    # A stem of two or three letters says too little ("gewond" is not "won").
    assert stem(a, lang) != stem(b, lang)


def test_stemming_from_threads_gives_the_same_answers() -> None:
    from concurrent.futures import ThreadPoolExecutor

    words_ = [f"{base}{end}" for base in ("ontruim", "vertraag", "evacuat", "lekk", "hack") for end in ("", "en", "ed", "ing", "d", "t")]
    expected = {(w, lang): stem(w, lang) for w in words_ for lang in ("en", "nl")}
    import watchtower.core.text.lang as lang_mod

    for cache in lang_mod._STEM_CACHE.values():
        cache.clear()
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda key: (key, stem(*key)), list(expected) * 20))
    assert all(expected[key] == value for key, value in got)
