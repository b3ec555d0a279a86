"""The one place watchtower uses a private part of fastfeedparser.

The fast path (fastfeedparser) and the fallback (feedparser) must date an entry the same
way: feedparser reads a zone it does not know (CEST, BST...) as UTC, hours off what
fastfeedparser gives for the same document.  So the fallback reads the entry's date text
with fastfeedparser's own date parser, ``fastfeedparser.main._parse_date``, which it does
not export.  Stock fallback: ``None``, and the fallback path keeps feedparser's own date.

Used only on the releases in :data:`WRITTEN_FOR`; ``tests/test_feeds_compat.py`` is pinned
to them and fails on an upgrade, so whoever upgrades checks the helper is still there and
still returns an ISO string before widening it.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any, Callable

__all__ = ["WRITTEN_FOR", "fast_date_parser"]

#: fastfeedparser releases (major.minor) whose ``main._parse_date`` this was checked against.
WRITTEN_FOR = ("0.6",)


def installed_minor() -> str | None:
    try:
        return ".".join(version("fastfeedparser").split(".")[:2])
    except PackageNotFoundError:
        return None


def fast_date_parser() -> Callable[[str], Any] | None:
    """fastfeedparser's date parser (text -> ISO string, or None), or ``None`` on a
    release it was not checked against or without it."""
    if installed_minor() not in WRITTEN_FOR:
        return None
    try:
        from fastfeedparser.main import _parse_date
    except ImportError:
        return None
    return _parse_date if callable(_parse_date) else None
