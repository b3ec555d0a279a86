"""Hostile text made inert in Markdown and in chat (docs/threat-model.md, T10).

What an operator exports (the handover) is pasted into chat or a Markdown viewer:
:func:`md_escape` makes one line of outside text unable to build structure (links,
headings, HTML, emphasis) and defuses mass mentions while leaving URLs intact;
:func:`md_fence` puts multi-line text in a fence it cannot close.  Used by
:mod:`watchtower.core.report.handover` and :mod:`watchtower.core.report.openwork`, which re-export
nothing of each other (this module sits below both).
"""

from __future__ import annotations

import re

from .safetext import clean, one_line

__all__ = ["EXCERPT", "ZWSP", "md_escape", "md_fence", "defuse_mentions"]

#: The default length of one escaped line.
EXCERPT = 160

# Every ASCII punctuation character may be backslash-escaped in CommonMark; these are the
# ones that can start structure inside a line (emphasis, links, images, HTML, entities,
# tables, strikethrough, code; "#" a heading right after our "- ").  Line-start structure
# (lists, quotes) cannot happen: the text is one line after a prefix.  Not escaped, as
# they only matter next to one of these: "!" (an image needs "!["), "(" and ")" (a link
# needs "]("), and "." and ":", whose escaping only stopped autolinks and broke every
# URL pasted into chat.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~&])")
_BACKTICKS = re.compile(r"`+")
# A URL as chat and GFM see one, up to a character that could build Markdown structure
# around it (brackets, angle brackets, backticks, backslash, quotes, braces, pipes).
_URL = re.compile(r"(?:(?:https?|ftp)://|www\.)[^\s<>\[\]`\\\"'{}|^]+", re.IGNORECASE)
# Sentence punctuation after a URL is not part of it (as GFM and chat linkifiers decide);
# "*", "_" and "~" are kept: escaped, they would put a backslash at the URL's end.
_URL_TRAILING = ".,:;!?"
#: A zero-width space: the "@" and the word still read the same, but no chat parses a mention.
ZWSP = "\u200b"
_MASS_MENTION = re.compile(r"@(?=(?:everyone|here|channel|all|group|team)\b)", re.IGNORECASE)
# Slack's <!here> <!channel> <!everyone> <!subteam^..>, Discord's <@id> <@!id> <@&role> <#chan>;
# after md_escape they read "\<\!here>", and a chat API that ignores Markdown escapes still
# sees "<!here>" there, so the zero-width space goes after the "<" (escaped or not).
_ANGLE_MENTION = re.compile(r"(\\?<)(?=\\?[!@#])")


def _split_urls(text: str) -> list[tuple[bool, str]]:
    """``text`` as (is_url, piece) pairs; a URL loses trailing punctuation and an unmatched ``)``."""
    out: list[tuple[bool, str]] = []
    pos = 0
    for m in _URL.finditer(text):
        url = m.group()
        while url and (url[-1] in _URL_TRAILING or (url[-1] == ")" and url.count(")") > url.count("("))):
            url = url[:-1]
        if len(url) <= len("www."):
            continue
        if m.start() > pos:
            out.append((False, text[pos : m.start()]))
        out.append((True, url))
        pos = m.start() + len(url)
    if pos < len(text):
        out.append((False, text[pos:]))
    return out


def defuse_mentions(text: str) -> str:
    """``text`` with every mass mention (and Slack/Discord ``<!..>``/``<@..>`` syntax) made inert."""
    text = _MASS_MENTION.sub("@" + ZWSP, text)
    return _ANGLE_MENTION.sub(lambda m: m.group(1) + ZWSP, text)


def _defuse_outside_urls(text: str) -> str:
    return "".join(piece if is_url else defuse_mentions(piece) for is_url, piece in _split_urls(text))


def md_escape(value: object, limit: int | None = EXCERPT) -> str:
    """One line of hostile text, inert in Markdown and in chat (and still readable as plain
    text): punctuation that builds structure escaped, mass mentions defused, URLs intact."""
    out = []
    for is_url, piece in _split_urls(one_line(value, limit=limit)):
        out.append(piece if is_url else defuse_mentions(_MD_SPECIAL.sub(r"\\\1", piece)))
    return "".join(out)


def md_fence(value: object) -> str:
    """Multi-line hostile text in a fenced block that the text itself cannot close.

    Mass mentions are defused here too: a chat client may still parse them in a block.
    """
    text = _defuse_outside_urls(clean(value, limit=16 * 1024).replace("\t", "    ").rstrip())
    longest = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"
