"""Snapshots of the key screens: main at 80x24 and 160x48, response panel, crisis mode.

Deterministic by construction: a fixed clock (a Sunday afternoon in Amsterdam), fixed
items, no polling.  Regenerate after an intended change with
``pytest tests/test_snapshots.py --snapshot-update`` and look at the report.
"""

from __future__ import annotations

from pathlib import Path

from ui_support import make_app, ready_with_items, wait_for, wait_for_log

from watchtower.ui.widgets.header import StatusHeader


async def _ready(pilot) -> None:
    await ready_with_items(pilot)
    pilot.app.panes[0].list.focus()
    await pilot.pause()
    await _underline_settled(pilot)


async def _underline_settled(pilot) -> None:
    """Tab labels keep their width (counts are padded), so the underline never lags; one
    pause lets the last layout land."""
    await pilot.pause()


def test_main_screen_80x24(snap_compare, tmp_path: Path) -> None:
    assert snap_compare(make_app(tmp_path), terminal_size=(80, 24), run_before=_ready)


def test_main_screen_wide_160x48(snap_compare, tmp_path: Path) -> None:
    assert snap_compare(make_app(tmp_path), terminal_size=(160, 48), run_before=_ready)


def test_response_panel_80x24(snap_compare, tmp_path: Path) -> None:
    async def open_item(pilot) -> None:
        await _ready(pilot)
        await pilot.press("enter")
        await pilot.pause()
        history = pilot.app.screen.query_one("#history")  # answered in a worker thread
        await wait_for(pilot, lambda: "looking" not in str(history.render()), what="the author's history")
        await pilot.pause()

    assert snap_compare(make_app(tmp_path), terminal_size=(80, 24), run_before=open_item)


def test_crisis_mode_80x24(snap_compare, tmp_path: Path) -> None:
    async def declare(pilot) -> None:
        await _ready(pilot)
        pilot.app.record("crisis_start", "Data breach story in the national press")
        await wait_for_log(pilot, "crisis_start")
        await pilot.press("x")
        await pilot.pause()
        await wait_for(pilot, lambda: pilot.app.screen.query("OptionList").first().option_count > 0, what="checklist")
        await pilot.pause()

    assert snap_compare(make_app(tmp_path), terminal_size=(80, 24), run_before=declare)


def test_crisis_header_on_main_screen_80x24(snap_compare, tmp_path: Path) -> None:
    async def declare(pilot) -> None:
        await _ready(pilot)
        pilot.app.record("crisis_start", "Data breach story in the national press")
        await wait_for_log(pilot, "crisis_start")
        header = pilot.app.query_one(StatusHeader)
        await wait_for(pilot, lambda: "CRISIS MODE" in header.plain and header.has_class("-crisis"), what="loud header")
        await pilot.pause()
        await _underline_settled(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=(80, 24), run_before=declare)
