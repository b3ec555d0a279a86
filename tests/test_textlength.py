"""Length counting per platform: what the server will accept, not what len() says."""

from __future__ import annotations

import pytest

from watchtower.core.text.textlength import check, count, graphemes, limit, platform_key, url_spans

FAMILY = "👩\u200d👩\u200d👧\u200d👦"  # one grapheme, 7 code points, 11 UTF-16 units
FLAG_NL = "🇳🇱"
LONG_URL = "https://www.bibliotheekzuidstad.nl/nieuws/2025/03/storing-catalogus-vragen-en-antwoorden?utm=x"


@pytest.mark.parametrize(
    ("name", "key", "lim"),
    [
        ("X", "x", 280), ("x", "x", 280), ("Twitter", "x", 280), ("X/Twitter", "x", 280), ("twitter/X", "x", 280),
        ("Mastodon", "mastodon", 500), ("Mastodon (social.example)", "mastodon", 500),
        ("Bluesky", "bluesky", 300), ("bsky", "bluesky", 300),
        ("Facebook", "facebook", 63206), ("Instagram", "instagram", 2200), ("LinkedIn", "linkedin", 3000),
        ("News/Web", None, None), ("Xing", None, None), ("", None, None), (None, None, None),
    ],
)
def test_platform_names_are_matched_loosely(name: str | None, key: str | None, lim: int | None) -> None:
    assert platform_key(name) == key
    assert limit(name) == lim


def test_bluesky_counts_graphemes() -> None:
    assert graphemes(FAMILY) == 1 and len(FAMILY) == 7
    assert count(FAMILY * 300, "Bluesky") == 300
    assert check(FAMILY * 301, "Bluesky").over == 1
    assert count(FLAG_NL + "e\u0301", "Bluesky") == 2  # a flag and a combining accent
    assert count(LONG_URL, "Bluesky") == len(LONG_URL)  # links count in full on Bluesky


def test_mastodon_urls_count_23_and_mentions_only_the_username() -> None:
    assert count(LONG_URL, "Mastodon") == 23
    assert count(f"See {LONG_URL}.", "Mastodon") == 4 + 23 + 1
    assert count("http://a.nl", "Mastodon") == 23  # short URLs count 23 too
    assert count("@jan@social.example hi", "Mastodon") == len("@jan hi")
    assert count("mail jan@social.example", "Mastodon") == len("mail jan@social.example")  # not a mention
    assert count("bibliotheek.nl", "Mastodon") == len("bibliotheek.nl")  # no scheme: plain text
    assert count(FAMILY, "Mastodon") == 1
    text = "x" * 476 + " " + LONG_URL
    assert check(text, "Mastodon").ok and check(text + "!", "Mastodon").over == 1


def test_x_weighting() -> None:
    assert count("hello", "X") == 5
    assert count("日本語のテキスト", "X") == 16  # CJK counts 2
    assert count("Привет", "X") == 6  # Cyrillic is in the light range (0-4351)
    assert count("“quotes” – and", "Twitter") == 14  # quotes and dashes are light (8208-8223)
    assert count("…", "X") == 2  # but the ellipsis (8230) is not
    assert count("안녕", "X") == 4
    assert count(LONG_URL, "X") == 23
    assert count(f"read {LONG_URL} now", "X") == 5 + 23 + 4
    assert count("see bibliotheekzuidstad.nl/qa today", "X") == 4 + 23 + 6  # bare domains are links on X
    assert count(FAMILY, "X") == 2 and count(FLAG_NL, "X") == 2 and count("👍🏽", "X") == 2
    assert count("©", "X") == 1
    assert count("e\u0301", "X") == 1  # NFC first
    assert check("日" * 140, "X").ok and check("日" * 141, "X").over == 2
    assert check("a" * 257 + " " + LONG_URL, "X").count == 281


def test_url_spans_leave_out_trailing_punctuation() -> None:
    text = "Q&A: https://example.nl/qa. Or (https://en.wikipedia.org/wiki/Foo_(bar))!"
    spans = [text[a:b] for a, b in url_spans(text, schemes_only=True)]
    assert spans == ["https://example.nl/qa", "https://en.wikipedia.org/wiki/Foo_(bar)"]


def test_unknown_platforms_have_no_limit() -> None:
    result = check("hello " + FAMILY, "News/Web")
    assert result.limit is None and result.ok and result.remaining is None and str(result) == "7"
    assert str(check("hi", "Bluesky")) == "2/300"
