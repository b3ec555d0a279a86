"""The one safe-text path (clean / one_line / safe_url) against every hazard family.

docs/threat-model.md, T2: Textual passes ESC, C1, DEL, bidi and TAG characters straight to the
pty, so ``watchtower.core.text.safetext`` is the only thing between a stranger's post and the
operator's terminal.  These tests pin what it removes, what it replaces and, as much,
what it must keep (letters of every script, combining marks, ZWJ emoji).
"""

from __future__ import annotations

import json
import re
import unicodedata

import pytest
from hazards.corpus import BAD_URLS, ESCAPES, MARKUP, MULTILINGUAL, UNICODE_HAZARDS

from watchtower.core.text import safetext
from watchtower.core.text.safetext import MAX_TEXT, MAX_TITLE, clean, clip, one_line, safe_url, url_host

#: Nothing a terminal could act on or that reorders/hides text may survive clean().
FORBIDDEN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u180e\u200b\u200e\u200f\u2028\u2029\u202a-\u202e"
    "\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
    "\U0001fffe\U0001ffff\U000e0000-\U000e007f]"
)
#: one_line() additionally has no line or tab characters.
FORBIDDEN_ONE_LINE = re.compile(FORBIDDEN.pattern[:-1] + "\t\n\r]")


def _visible(ch: str) -> bool:
    return not FORBIDDEN.match(ch)


# ---------------------------------------------------------------------------- escapes


@pytest.mark.parametrize("name", sorted(ESCAPES))
@pytest.mark.parametrize("fn", [clean, one_line], ids=["clean", "one_line"])
def test_escape_sequences_lose_every_control(name: str, fn) -> None:
    payload = ESCAPES[name]
    for text in (payload, f"before {payload} after", payload * 3):
        out = fn(text)
        assert FORBIDDEN.search(out) is None, (name, out)
        assert "\x1b" not in out and "\x9b" not in out and "\x07" not in out


@pytest.mark.parametrize(
    "payload, gone",
    [
        ("\x1b]0;PWNED-TITLE\x07", "PWNED-TITLE"),  # OSC payloads are removed whole
        ("\x1b]2;PWNED-TITLE2\x1b\\", "PWNED-TITLE2"),
        ("\x1b]52;c;UFdORUQ=\x07", "UFdORUQ="),
        ("\x1b]52;c;UFdORUQ=\x1b\\", "UFdORUQ="),
        ("\x1b]8;;file:///etc/passwd\x1b\\", "file:"),
        ("\x1bPqDCSDATA\x1b\\", "DCSDATA"),
        ("\x9d0;C1TITLE\x9c", "C1TITLE"),
        ("\x1b_APCDATA\x1b\\", "APCDATA"),
        ("\x1b^PMDATA\x1b\\", "PMDATA"),
        ("\x1bXSOSDATA\x1b\\", "SOSDATA"),
    ],
)
def test_string_sequences_leave_no_payload(payload: str, gone: str) -> None:
    assert gone not in clean(f"a{payload}b")
    assert clean(f"a{payload}b") == "ab"


@pytest.mark.parametrize(
    "payload, expected",
    [
        ("\x1b[2JPWNED-CLEAR", "PWNED-CLEAR"),
        ("\x1b[?1000hPWNED-MOUSE", "PWNED-MOUSE"),
        ("\x1b[?1049hALT", "ALT"),
        ("\x1b[31mRED\x1b[0m", "RED"),
        ("\x1b[6n", ""),
        ("\x9b2JC1", "C1"),
        ("\x1bcRIS", "RIS"),
        ("\x1b7save\x1b8", "save"),
        ("\x1b(0box", "box"),
        ("A\x7fB\x00C", "ABC"),
        ("bell\x07bs\x08vt\x0bff\x0c", "bellbsvtff"),
        # A truncated sequence loses its introducer; what is left is plain text.
        ("\x1b]0;PWNED-TRUNC", "0;PWNED-TRUNC"),
        ("\x1b[", ""),
        ("\x1b", ""),
        # Removing one control never forms a new sequence from its neighbours.
        ("\x1b\x00[2J", "[2J"),
        ("\x00\x1b\x00]0;x\x07", "]0;x"),
    ],
)
def test_csi_and_controls(payload: str, expected: str) -> None:
    assert clean(payload) == expected


def test_newlines_and_tabs() -> None:
    assert clean("a\r\nb\rc\nd\te") == "a\nb\nc\nd\te"
    assert clean("one\u2028two\u2029three\x85four") == "one\ntwo\nthree\nfour"
    assert one_line("  a\r\n b\t\tc \u2028 d\n") == "a b c d"
    assert FORBIDDEN_ONE_LINE.search(one_line("x\ny\tz\rw")) is None


# ---------------------------------------------------------------------------- unicode


@pytest.mark.parametrize("name", sorted(UNICODE_HAZARDS))
def test_unicode_hazards_removed_or_replaced(name: str) -> None:
    out = clean(UNICODE_HAZARDS[name])
    assert FORBIDDEN.search(out) is None, (name, ascii(out))
    # The visible letters around the hazards are all still there, in logical order.
    letters = "".join(ch for ch in UNICODE_HAZARDS[name] if ch.isascii() and ch.isalpha())
    assert "".join(ch for ch in out if ch.isascii() and ch.isalpha()) == letters


def test_bidi_shown_in_logical_order() -> None:
    assert clean("invoice\u202efdp.exe") == "invoicefdp.exe"
    assert clean("x\u2066y\u2067z\u2068w\u2069v") == "xyzwv"
    assert clean("l\u200er\u200fa\u061cm") == "lram"


def test_tag_characters_removed_flag_degrades() -> None:
    scotland = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
    assert clean(scotland) == "\U0001f3f4"
    assert clean("tag\U000e0041\U000e0042") == "tag"


def test_lone_surrogates_and_noncharacters_become_replacement() -> None:
    for raw in ('"\\ud83d"', '"\\udc00x"', '"\\udfff\\ud800"'):
        value = json.loads(raw)
        out = clean(value)
        assert FORBIDDEN.search(out) is None
        assert "\ufffd" in out
        out.encode("utf-8")  # the terminal encoder never fails
    assert clean("a\ufffeb\uffffc\ufdd0d\U0001fffee\U0010ffff") == "a\ufffdb\ufffdc\ufffdd\ufffde\ufffd"


def test_invisible_characters_removed() -> None:
    assert clean("ze\u200bro\u2060wi\ufeffdth\u180e\u00ad") == "zerowidth"
    assert clean("ann\ufff9ota\ufffate\ufffb") == "annotate"


@pytest.mark.parametrize("text", MULTILINGUAL, ids=[f"ml{i}" for i in range(len(MULTILINGUAL))])
def test_multilingual_text_intact(text: str) -> None:
    assert clean(text) == text
    assert one_line(text) == text
    assert clip(text, 1000) == text


def test_twelve_of_twelve_multilingual() -> None:
    intact = sum(1 for t in MULTILINGUAL if clean(t) == t and one_line(t) == t)
    assert intact == len(MULTILINGUAL) == 12


def test_combining_marks_and_emoji_sequences_kept() -> None:
    family = "👨\u200d👩\u200d👧\u200d👦"
    assert clean(family) == family and "\u200d" in clean(family)
    assert clean("👍🏽") == "👍🏽"  # skin-tone modifier
    assert clean("1\ufe0f\u20e3") == "1\ufe0f\u20e3"  # keycap: VS16 + combining enclosing keycap
    assert clean("e\u0301") == "e\u0301"
    zalgo = "Z\u0351\u0352\u0310a\u0300\u0301\u0302"
    assert clean(zalgo) == zalgo
    assert all(unicodedata.category(c) == "Mn" for c in clean(zalgo)[1:4])
    assert clean("می\u200cخواهم") == "می\u200cخواهم"  # ZWNJ in Persian


def test_zalgo_piles_are_cut_to_four_marks_a_letter() -> None:
    """Dozens of diacritics on one letter draw over the rows around it in many terminals."""
    pile = "\u0351\u0352\u0310\u0300\u0301\u0302\u0303\u0304" * 8
    text = f"H{pile}ELP w{pile}e are cl{pile}osed"
    for out in (clean(text), one_line(text)):
        assert unicodedata.normalize("NFD", out).replace("\u0351\u0352\u0310\u0300", "") == "HELP we are closed"
        assert max(len(run) for run in re.findall("[\u0300-\u036f]+", out)) == 4
    # Real accents, IPA and the marks of scripts in their own blocks are untouched.
    for fine in ("Vie\u0323\u0302t Nam", "Cafe\u0301 cre\u0300me", "\u05e9\u05c1\u05b8\u05dc\u05d5\u05b9\u05dd",
                 "\u0928\u092e\u0938\u094d\u0924\u0947", "a\u0303\u0300\u0304"):
        assert clean(fine) == fine and one_line(fine) == fine


# ---------------------------------------------------------------------------- markup


@pytest.mark.parametrize("payload", MARKUP)
def test_markup_is_text_to_safetext(payload: str) -> None:
    # safetext does not escape markup (widgets get Text/Content): brackets pass unchanged.
    assert clean(payload) == payload
    assert one_line(payload) == payload


# ---------------------------------------------------------------------------- size


class _Recorder:
    """Wraps a compiled regex and records the length of every string it is run over."""

    def __init__(self, pattern: re.Pattern[str], sizes: list[int]) -> None:
        self._p = pattern
        self._sizes = sizes

    def sub(self, repl, text):
        self._sizes.append(len(text))
        return self._p.sub(repl, text)

    def search(self, text):
        self._sizes.append(len(text))
        return self._p.search(text)


def test_one_megabyte_is_clipped_before_the_regexes(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes: list[int] = []
    for name in ("_ESCAPE_SEQ", "_REMOVE_RE", "_FAST_OK"):
        monkeypatch.setattr(safetext, name, _Recorder(getattr(safetext, name), sizes))
    huge = ("\x1b[2J" + "T" * 1000 + "\u202e") * 1000  # ~1 MB with hazards throughout
    title = one_line(huge, limit=MAX_TITLE)
    text = clean(huge, limit=MAX_TEXT)
    assert len(title) <= MAX_TITLE and title.endswith("…")
    assert len(text) <= MAX_TEXT and text.endswith("…")
    assert FORBIDDEN.search(title) is None and FORBIDDEN.search(text) is None
    # No regex ever scanned more than a bounded prefix of the megabyte.
    assert sizes and max(sizes) <= MAX_TEXT * 2 + 64


def test_limits_and_clip() -> None:
    assert len(clean("x" * 100_000)) == MAX_TEXT
    assert clean("x" * 100, limit=10) == "x" * 9 + "…"
    assert clean("x" * 100, limit=None) == "x" * 100
    assert one_line("y" * 5000) == "y" * (MAX_TITLE - 1) + "…"
    assert clip("abcdef", 4) == "abc…" and clip("abc", 4) == "abc"
    assert clean(None) == "" and one_line(None) == ""
    assert clean(42) == "42" and one_line(["[/]"]) == "['[/]']"


def test_clean_is_idempotent_on_the_corpus() -> None:
    samples = [*MARKUP, *ESCAPES.values(), *UNICODE_HAZARDS.values(), *MULTILINGUAL]
    for s in samples:
        assert clean(clean(s)) == clean(s)
        assert one_line(one_line(s)) == one_line(s)


# ---------------------------------------------------------------------------- URLs


@pytest.mark.parametrize("url", BAD_URLS)
def test_unsafe_urls_refused(url: str) -> None:
    assert safe_url(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/a b",
        "https://evil.example/\x1b]8;;file:///etc/passwd\x07",  # cleaned, then still http: see below
        "javascript://evil.example/%0Aalert(1)",
        "https://[::1",
        "",
        None,
        "\u202ehttps://evil.example",
    ],
)
def test_more_urls(url) -> None:
    out = safe_url(url)
    if out is not None:
        assert out.startswith(("http://", "https://")) and FORBIDDEN.search(out) is None
        assert " " not in out
    if url in ("https://evil.example/a b", "javascript://evil.example/%0Aalert(1)", "https://[::1", "", None):
        assert out is None


def test_good_urls_kept_with_host_shown() -> None:
    assert safe_url("https://ok.example/path?q=1#f") == "https://ok.example/path?q=1#f"
    assert safe_url("HTTP://OK.example/") == "HTTP://OK.example/"
    assert url_host("https://user:pw@Sub.Example.COM:8443/x") == "sub.example.com"
    # A look-alike host is shown in its punycode form.
    assert url_host("https://аpple.example/") == "xn--pple-43d.example"
