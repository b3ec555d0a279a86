"""The one safe-text path: every string that came from outside passes through here.

Post text, author names, URLs, HTTP reason phrases and exception messages are written by
strangers and end up in a terminal, often over SSH. Textual passes ESC, C1 controls and
bidi controls straight to the pty even with ``markup=False`` (docs/threat-model.md, T2),
so they are removed here, before any widget, log entry, export or JSON line sees them.

What is removed or replaced:

- C0 controls except TAB and LF (both become a space in one-line contexts), DEL, C1
  (U+0080-U+009F): removed; ESC-introduced sequences are removed whole where they can
  be recognised (CSI, OSC, DCS, SOS, PM, APC), so ``ESC]0;title BEL`` leaves no payload;
- bidi embeddings, overrides, isolates and marks (U+200E/F, U+061C, U+202A-202E,
  U+2066-2069): removed, so the eye sees the logical order (Trojan Source);
- invisible characters (U+200B, U+2060-2064, U+FEFF, U+180E, U+00AD) and TAG characters
  (U+E0000-E007F; the subdivision flags that use them degrade to a plain black flag);
- U+2028/U+2029: a newline (or a space in one line);
- lone surrogates and noncharacters: U+FFFD.

Kept: letters of every script, combining marks, ZWJ (U+200D) and ZWNJ (U+200C), which
emoji sequences and Persian/Indic scripts need, and variation selectors.  Only a pile-up
of generic combining diacritics ("Zalgo" text, dozens of marks on one letter, which many
terminals draw over the rows above and below) is cut to the first four marks; accents,
IPA and the marks of scripts such as Hebrew or Devanagari (their own blocks) are kept.
"""

from __future__ import annotations

import re

__all__ = ["clean", "one_line", "clip", "safe_url", "url_host", "MAX_TITLE", "MAX_TEXT"]

#: Caps on what is stored for one item (docs/threat-model.md, T5).
MAX_TITLE = 2 * 1024
MAX_TEXT = 64 * 1024

# Whole escape sequences first, so their payload (a window title, a clipboard write)
# does not survive as visible text.  A truncated sequence loses only its introducer,
# which the character pass below removes.
_ESCAPE_SEQ = re.compile(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]                              # CSI
  | \x9b[0-?]*[ -/]*[@-~]                                # 8-bit CSI
  | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])              # OSC, DCS, SOS, PM, APC
    [^\x07\x1b\x9c]{0,4096}(?:\x07|\x1b\\|\x9c)          #   ... up to BEL or ST
  | \x1b[ -/]*[0-~]                                      # other two/three-byte escapes
    """,
    re.VERBOSE,
)

_REMOVE = (
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # C0 (not TAB, LF, CR), DEL, C1
    "\u200b\u200e\u200f\u061c\u202a-\u202e\u2060-\u2064\u2066-\u2069"  # zero-width, bidi
    "\u180e\u00ad\ufeff\ufff9-\ufffb"  # invisible formatting
    "\U000e0000-\U000e007f"  # TAG characters
    "]"
)
_REMOVE_RE = re.compile(_REMOVE)
# Lone surrogates and noncharacters become U+FFFD so the terminal encoder never fails.
_REPLACE_RE = re.compile("[\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
_ASTRAL_NONCHAR = re.compile("[\U0001fffe\U0001ffff\U0002fffe\U0002ffff\U0003fffe\U0003ffff"
                             "\U0010fffe\U0010ffff]")
_CR_LF = re.compile(r"\r\n?|[\u2028\u2029\x85]")
_WS_RUN = re.compile(r"[ \t\n]+")
_FAST_OK = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e"
                      r"\u2060-\u2069\ud800-\udfff\ufdd0-\ufdef\ufeff\ufff9-\uffff"
                      r"\U0001fffe-\U0001ffff\U0002fffe-\U0002ffff\U0003fffe-\U0003ffff"
                      r"\U000e0000-\U000e007f\U0010fffe-\U0010ffff]")


# Generic combining diacritics (not a script's own marks); more than four in a row on one
# letter is Zalgo text, never a language.
_DIACRITICS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_DIACRITIC_PILE = re.compile(f"([{_DIACRITICS}]{{4}})[{_DIACRITICS}]+")

# C0 controls other than TAB and LF, and DEL: in ASCII text these are the only hazards.
_ASCII_CONTROLS = bytes(c for c in range(0x20) if c not in (0x09, 0x0A)) + b"\x7f"


def _needs_cleaning(text: str) -> bool:
    """Whether any character the regexes below change is in ``text`` (cheap checks first).

    ``str.isprintable()`` is false for every such character (Cc, Cf, Cs, Cn, Zl, Zp), so
    printable text needs nothing; it is also false for TAB and LF, which are kept, so
    ASCII text is checked by deleting its controls, and other text by the one regex.
    """
    if text.isprintable():
        return False
    if text.isascii():
        return len(text.encode("ascii").translate(None, _ASCII_CONTROLS)) != len(text)
    return _FAST_OK.search(text) is not None


def clean(value: object, *, limit: int | None = MAX_TEXT) -> str:
    """Return ``value`` as text that is safe to show in a terminal.

    Newlines (LF) and tabs are kept; everything listed in the module docstring is removed
    or replaced.  ``limit`` clips the result to that many characters (with an ellipsis),
    so a 1 MB title cannot reach a widget.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if limit is not None and len(text) > limit * 2 + 64:
        # Cut hostile giants before the regexes run over them; escape sequences that
        # straddle the cut lose only their introducer.
        text = text[: limit * 2 + 64]
    if _needs_cleaning(text):
        text = _CR_LF.sub("\n", text)
        text = _ESCAPE_SEQ.sub("", text)
        text = _REMOVE_RE.sub("", text)
        text = _REPLACE_RE.sub("\ufffd", text)
        text = _ASTRAL_NONCHAR.sub("\ufffd", text)
    if not text.isascii() and _DIACRITIC_PILE.search(text) is not None:
        text = _DIACRITIC_PILE.sub(r"\1", text)
    if limit is not None and len(text) > limit:
        text = text[: max(0, limit - 1)] + "…"
    return text


def one_line(value: object, *, limit: int | None = MAX_TITLE) -> str:
    """Like :func:`clean`, but newlines and tabs collapse to single spaces."""
    if (
        type(value) is str
        and (limit is None or len(value) <= limit)
        and value.isprintable()
        and "  " not in value
        and (value.isascii() or _DIACRITIC_PILE.search(value) is None)
    ):
        # Nothing to remove and no run of spaces, tabs or newlines to collapse.
        return value.strip()
    text = clean(value, limit=None if limit is None else limit * 4)
    text = _WS_RUN.sub(" ", text).strip()
    if limit is not None and len(text) > limit:
        text = text[: max(0, limit - 1)] + "…"
    return text


def clip(text: str, width: int) -> str:
    """Clip already-clean text to ``width`` characters with an ellipsis."""
    if len(text) <= width:
        return text
    return text[: max(0, width - 1)] + "…"


_SAFE_SCHEMES = ("http://", "https://")


# An absolute http(s) URL whose host is plain ASCII letters, digits, '-' and '_' labels,
# with an optional port and only printable ASCII after it: safe as it is, with a host.
_PLAIN_URL = re.compile(r"[hH][tT][tT][pP][sS]?://[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*(?::[0-9]*)?(?:[/?#][!-~]*)?")


def safe_url(value: object) -> str | None:
    """Return the URL if it is an absolute http(s) URL with a host, else ``None``.

    ``javascript:``, ``file:``, ``data:`` and relative URLs are never opened, linked or
    copied as links (docs/threat-model.md, T3).
    """
    if not value:
        return None
    if type(value) is str and len(value) <= 4096 and _PLAIN_URL.fullmatch(value) is not None:
        return value
    url = one_line(value, limit=4096)
    if not url.lower().startswith(_SAFE_SCHEMES):
        return None
    if any(ch.isspace() for ch in url):
        return None
    if not url_host(url):
        return None
    return url


def url_host(url: str) -> str:
    """The host of an http(s) URL, lower-cased and without credentials or port."""
    from urllib.parse import urlsplit

    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    try:
        # Show the ASCII (punycode) form, so a look-alike host is visible as such.
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host
