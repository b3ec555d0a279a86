"""Language detection: English, Dutch, or an honest "can't tell"."""

from __future__ import annotations

import pytest

from watchtower.core.lang import detect_language, guess_language, normalise, words


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
