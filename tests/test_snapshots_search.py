"""Snapshot of the search screen (``/``) at 80x24: the search line, the results as a pane
(newest first, state from the log, a watched author marked), the footer's keys.

Deterministic: a fixed clock, fixed items in a real archive, and the elapsed time shown as
a fixed figure (it is measured, so it differs per run).  Regenerate after an intended
change with ``pytest tests/test_snapshots_search.py --snapshot-update``.
"""

from __future__ import annotations

from pathlib import Path

from ui_support import make_app, ready_with_items, sample_items, wait_for, wait_for_log

from watchtower.core.record.archive import Archive
from watchtower.ui.screens import search as search_screen


def test_search_screen_80x24(snap_compare, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(search_screen, "elapsed_text", lambda _seconds: "4 ms")
    data = tmp_path / "data"
    archive = Archive(data)
    archive.add(sample_items())
    archive.close()

    async def search(pilot) -> None:
        app = await ready_with_items(pilot, [])
        sarah = next(i for i in app.items.values() if i.author == "@sarah")
        app.record("watch", "asks a lot", data={"author": "@sarah", "platform": None})
        app.record("claimed", item=sarah)
        await wait_for_log(pilot, "claimed")
        await pilot.press("slash")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "SearchScreen", what="the search screen")
        await pilot.press(*"riverside*")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.answered == 1, what="the results")
        await pilot.pause()

    assert snap_compare(make_app(tmp_path, data_dir=data), terminal_size=(80, 24), run_before=search)
