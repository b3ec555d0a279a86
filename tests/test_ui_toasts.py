"""Alerts wait for the operator on the main screen; toasts never cover the reply being
written; the palette and the footer offer watchtower's own actions."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import TextArea
from ui_support import make_app, ready_with_items, wait_for

from watchtower.core.alert.alerts import Alert
from watchtower.core.models import Severity
from watchtower.ui.widgets import alerts as shelf_module
from watchtower.ui.widgets.alerts import AlertShelf


def _alert(n: int) -> Alert:
    return Alert(key="items:*", title=f"{n} new mentions need attention", body=f"worst: number {n}",
                 severity=Severity.HIGH, item_ids=(f"x{n}",), count=1)


async def test_alerts_wait_for_the_operator_then_leave(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(shelf_module, "LEAVE_SECONDS", 0.3)
    async with make_app(tmp_path).run_test(size=(100, 30)) as pilot:
        app = await ready_with_items(pilot)
        shelf = app.query_one(AlertShelf)
        app.deliver_alert(_alert(1))
        await pilot.pause()
        assert shelf.display and "1 new mentions need attention" in shelf.plain
        assert len(shelf.waiting) == 1  # nobody pressed anything: it stays
        await pilot.press("down")  # the operator is back
        assert not shelf.waiting and len(shelf.held) == 1  # still shown, for a moment
        await wait_for(pilot, lambda: not shelf.held and not shelf.display, what="the alert to leave")


async def test_at_most_a_few_alerts_wait(tmp_path: Path) -> None:
    async with make_app(tmp_path).run_test(size=(100, 30)) as pilot:
        app = await ready_with_items(pilot)
        for n in range(shelf_module.HELD + 2):
            app.deliver_alert(_alert(n))
        await pilot.pause()
        shelf = app.query_one(AlertShelf)
        assert len(shelf.held) == shelf_module.HELD
        assert "number 0" not in shelf.plain and f"number {shelf_module.HELD + 1}" in shelf.plain.split("\n")[0]


async def test_toasts_on_the_response_panel_leave_the_reply_visible_at_80x24(tmp_path: Path) -> None:
    """Issue 16.8: an alert (or any toast) must not cover the reply text at 80x24."""
    from watchtower.ui.screens.response import ResponseScreen

    async with make_app(tmp_path).run_test(size=(80, 24), notifications=True) as pilot:
        app = await ready_with_items(pilot)
        app.open_response(app.priority_items()[0])
        await wait_for(pilot, lambda: isinstance(app.screen, ResponseScreen), what="the response panel")
        await pilot.pause()
        app.deliver_alert(_alert(1))
        app.report_problem("the log is on fire")
        await pilot.pause(0.3)
        reply = app.screen.query_one("#reply", TextArea).region
        toasts = [t.region for t in app.screen.query("Toast")]
        assert toasts, "the toasts are shown"
        assert not any(t.overlaps(reply) for t in toasts), (toasts, reply)


async def test_the_palette_offers_every_watchtower_action(tmp_path: Path) -> None:
    from watchtower.ui.commands import palette_entries

    async with make_app(tmp_path).run_test(size=(100, 30)) as pilot:
        app = await ready_with_items(pilot)
        names = " ".join(name for name, _help, _action in palette_entries(app, app.screen))
        for word in ("Claim", "Handover", "Follow-ups", "Log", "Crisis", "Min sev", "Uncovered", "Seen", "Note",
                     "Poll now", "Help", "Respond", "More rows"):
            assert word in names, word
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"handover")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HandoverScreen", what="the handover screen from the palette")


@pytest.mark.parametrize("size", [(160, 48), (80, 24)])
async def test_the_footer_shows_the_main_keys(tmp_path: Path, size: tuple[int, int]) -> None:
    """Issue 19.6: at 80 columns the footer shows the main keys, Help last; ? and the
    palette list the rest."""
    from watchtower.ui.widgets.keys import KeysFooter

    async with make_app(tmp_path).run_test(size=size) as pilot:
        await ready_with_items(pilot)
        await pilot.pause()
        footer = pilot.app.screen.query_one(KeysFooter)
        shown = footer.plain[: footer.size.width]
        words = ("Respond", "Claim", "Handover", "Search", "Alerts", "Help", "palette")
        assert [w for w in words if w in shown] == list(words), shown
        assert shown.index("Alerts") < shown.index("Help")
        await pilot.click(KeysFooter, offset=(shown.index("Handover") + 1, 0))
        await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "HandoverScreen", what="a click on a key")
