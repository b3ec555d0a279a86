"""How long a reply is, the way each platform counts it.

Each platform counts differently, and a reply that is one character over is refused, so
the response panel shows ``count / limit`` as the operator edits:

==========  =====  ===================================================================
platform    limit  how it counts
==========  =====  ===================================================================
X/Twitter   280    twitter-text v3 weighting: code points in the Latin ranges count
                   1, everything else 2; every URL counts 23; an emoji sequence
                   (including ZWJ families and flags) counts 2.  Text is NFC first.
Mastodon    500    grapheme clusters; every URL counts 23; a ``@user@domain`` mention
                   counts only as ``@user``.
Bluesky     300    grapheme clusters, URLs in full.
Threads     500    characters (grapheme clusters).
Facebook    63206  grapheme clusters (the real limit is generous; this is the one
                   Facebook documents for posts).
Instagram   2200   grapheme clusters (captions and comments).
LinkedIn    3000   grapheme clusters (posts; comments are shorter, 1250).
Reddit      10000  grapheme clusters (comments).
others      none   :func:`limit` returns ``None`` and :func:`count` counts graphemes.
==========  =====  ===================================================================

Platform names come free-form from the config (``"X"``, ``"Twitter"``, ``"X/Twitter"``,
``"Mastodon (social.example)"``): :func:`platform_key` maps them case-insensitively.

The X weighting is the published twitter-text v3 configuration (``v3.json``:
``scale 100``, ``defaultWeight 200``, ``transformedURLLength 23``, ranges
``0-4351``, ``8192-8205``, ``8208-8223``, ``8242-8247`` at weight 100, emoji parsing on),
implemented here because it is small; URL detection is simpler than twitter-text's
(scheme URLs, ``www.`` and bare domains with common top-level domains), which errs on
the side of counting a URL as 23 rather than its full length only for odd cases.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import regex

__all__ = ["count", "limit", "check", "platform_key", "LengthCheck", "graphemes", "url_spans", "URL_LENGTH"]

#: What a URL counts as on X and Mastodon.
URL_LENGTH = 23

_LIMITS: dict[str, int] = {
    "x": 280,
    "mastodon": 500,
    "bluesky": 300,
    "threads": 500,
    "facebook": 63206,
    "instagram": 2200,
    "linkedin": 3000,
    "reddit": 10000,
}

_ALIASES: dict[str, str] = {
    "x": "x",
    "twitter": "x",
    "x.com": "x",
    "twitter.com": "x",
    "tweet": "x",
    "mastodon": "mastodon",
    "fediverse": "mastodon",
    "bluesky": "bluesky",
    "bsky": "bluesky",
    "bsky.app": "bluesky",
    "threads": "threads",
    "facebook": "facebook",
    "fb": "facebook",
    "instagram": "instagram",
    "ig": "instagram",
    "insta": "instagram",
    "linkedin": "linkedin",
    "reddit": "reddit",
}

_TOKEN_RE = regex.compile(r"[a-z0-9.]+")


def platform_key(platform: str | None) -> str | None:
    """A canonical key (``"x"``, ``"mastodon"``, ``"bluesky"``, ...) or ``None`` if unknown.

    ``"X/Twitter"``, ``"twitter"`` and ``"X"`` all give ``"x"``; ``"Mastodon (social.example)"``
    gives ``"mastodon"``.  Matching is on whole words, so ``"Xing"`` is not X.
    """
    if not platform:
        return None
    name = platform.casefold().strip()
    if name in _ALIASES:
        return _ALIASES[name]
    for token in _TOKEN_RE.findall(name):
        if token in _ALIASES:
            return _ALIASES[token]
        stripped = token.strip(".")
        if stripped in _ALIASES:
            return _ALIASES[stripped]
    return None


def limit(platform: str | None) -> int | None:
    """The platform's reply length limit, or ``None`` when we don't know one."""
    key = platform_key(platform)
    return _LIMITS.get(key) if key else None


def graphemes(text: str) -> int:
    """User-perceived characters (extended grapheme clusters): 👩‍👩‍👧 counts 1."""
    return len(regex.findall(r"\X", text))


# URLs: a scheme URL, a www. host, or a bare domain with a common TLD, each with an
# optional path; trailing sentence punctuation is not part of the URL.
_TLDS = (
    "com|org|net|edu|gov|info|io|nl|be|de|fr|uk|eu|app|dev|social|me|co|ly|tv|us|ca|au|"
    "ch|at|es|it|se|no|dk|fi|pl|ie|nz|news|online|site|club|blog|page"
)
_URL_RE = regex.compile(
    r"(?<![\w@.\-/])"
    r"(?:https?://[^\s<>\"]+"
    r"|www\.[^\s<>\"]+"
    r"|(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+(?:" + _TLDS + r")(?![\w\-])(?:/[^\s<>\"]*)?)",
    regex.IGNORECASE,
)
_TRAILING = ".,:;!?'\")]}…"

# A Mastodon mention: @user@domain (the domain part is not counted).
_MASTODON_MENTION_RE = regex.compile(
    r"(?<![\w/@])@([a-z0-9_]+(?:[a-z0-9_.\-]*[a-z0-9_])?)@[a-z0-9.\-]+[a-z0-9]", regex.IGNORECASE
)


_SCHEME_URL_RE = regex.compile(r"(?<![\w@.\-/])https?://[^\s<>\"]+", regex.IGNORECASE)


def _url_spans(text: str, *, schemes_only: bool = False) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for m in (_SCHEME_URL_RE if schemes_only else _URL_RE).finditer(text):
        start, end = m.span()
        while end > start and text[end - 1] in _TRAILING:
            # Keep a closing bracket that has its opening one inside the URL (Wikipedia links).
            ch = text[end - 1]
            if ch == ")" and text.count("(", start, end) >= text.count(")", start, end):
                break
            end -= 1
        if end > start:
            spans.append((start, end))
    return spans


def url_spans(text: str, *, schemes_only: bool = False) -> list[tuple[int, int]]:
    """``(start, end)`` character offsets of URLs in ``text``.

    By default this is what X links (bare domains too); ``schemes_only`` finds only
    ``http(s)://`` URLs, which is what Mastodon counts as 23 and Bluesky links.
    """
    return _url_spans(text, schemes_only=schemes_only)


# twitter-text v3: code points in these ranges weigh 100 (1 char), all others 200.
_X_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
_X_SCALE = 100
_X_DEFAULT_WEIGHT = 200
_EMOJI_RE = regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}")


def _x_weight_char(ch: str) -> int:
    cp = ord(ch)
    for lo, hi in _X_LIGHT_RANGES:
        if lo <= cp <= hi:
            return 100
    return _X_DEFAULT_WEIGHT


def _is_emoji_cluster(cluster: str) -> bool:
    """True for a cluster twitter-text parses as one emoji (weight 200 as a whole)."""
    if "\u20e3" in cluster:
        return True  # a keycap such as 1️⃣ has no pictographic code point
    if not _EMOJI_RE.search(cluster):
        return False
    if len(cluster) == 1:
        # A bare ©, ® or ‼ is text presentation in the Latin range; the rest are emoji.
        return ord(cluster) > 0x10FF
    return True


def _count_x(text: str) -> int:
    text = unicodedata.normalize("NFC", text)
    weight = 0
    pos = 0
    for start, end in _url_spans(text) + [(len(text), len(text))]:
        for cluster in regex.findall(r"\X", text[pos:start]):
            if _is_emoji_cluster(cluster):
                weight += _X_DEFAULT_WEIGHT
            else:
                weight += sum(_x_weight_char(ch) for ch in cluster)
        if end > start:
            weight += URL_LENGTH * _X_SCALE
        pos = end
    return weight // _X_SCALE


def _count_mastodon(text: str) -> int:
    total = 0
    pos = 0
    for start, end in _url_spans(text, schemes_only=True) + [(len(text), len(text))]:
        chunk = _MASTODON_MENTION_RE.sub(lambda m: "@" + m.group(1), text[pos:start])
        total += graphemes(chunk)
        if end > start:
            total += URL_LENGTH
        pos = end
    return total


def count(text: str, platform: str | None) -> int:
    """The length of ``text`` as ``platform`` counts it against :func:`limit`."""
    key = platform_key(platform)
    if key == "x":
        return _count_x(text)
    if key == "mastodon":
        return _count_mastodon(text)
    return graphemes(text)


@dataclass(frozen=True, slots=True)
class LengthCheck:
    count: int
    limit: int | None

    @property
    def over(self) -> int:
        """How many characters too long (0 when it fits or there is no limit)."""
        return max(0, self.count - self.limit) if self.limit is not None else 0

    @property
    def ok(self) -> bool:
        return self.over == 0

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else self.limit - self.count

    def __str__(self) -> str:
        return f"{self.count}" if self.limit is None else f"{self.count}/{self.limit}"


def check(text: str, platform: str | None) -> LengthCheck:
    """Count and limit in one value, for a ``123/280`` counter in the editor."""
    return LengthCheck(count(text, platform), limit(platform))
