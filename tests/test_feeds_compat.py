"""fetch/feeds_compat.py: fastfeedparser's private date parser, pinned to its release."""

from __future__ import annotations

import pytest

from watchtower.core.fetch import feeds, feeds_compat


def test_the_installed_fastfeedparser_is_a_release_the_compat_module_was_checked_against() -> None:
    assert feeds_compat.installed_minor() in feeds_compat.WRITTEN_FOR, (
        "fastfeedparser moved: re-read core/fetch/feeds_compat.py before widening WRITTEN_FOR"
    )
    parse = feeds_compat.fast_date_parser()
    assert parse is not None
    assert parse("Sun, 22 Nov 2026 14:00:00 +0100").startswith("2026-11-22T13:00:00")


@pytest.mark.parametrize("path", ["private", "stock"])
def test_a_feedparser_entry_is_dated_on_either_path(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback parser's entries get a date either way; with the private helper, a
    zone feedparser does not know (CEST) is read as fastfeedparser reads it."""
    monkeypatch.setattr(feeds, "_fast_date", False)
    if path == "stock":
        monkeypatch.setattr(feeds_compat, "WRITTEN_FOR", ())
    raw = {"published": "Sun, 22 Nov 2026 14:00:00 GMT", "published_parsed": (2026, 11, 22, 14, 0, 0, 6, 326, 0)}
    got = feeds._feedparser_time(raw)
    assert got is not None and got.isoformat().startswith("2026-11-22T14:00:00")
