"""An alert's toast waits for the operator: it does not fade while nobody is at the desk."""

from __future__ import annotations

from pathlib import Path

from watchtower.core.alerts import Alert
from watchtower.core.models import Severity
from watchtower.ui import app as app_module

from ui_support import make_app, ready_with_items, wait_for


def _alert(n: int) -> Alert:
    return Alert(key="items:*", title=f"{n} new mentions need attention", body=f"worst: number {n}",
                 severity=Severity.HIGH, item_ids=(f"x{n}",), count=1)


async def test_alert_toasts_wait_for_the_operator_then_leave(tmp_path: Path) -> None:
    async with make_app(tmp_path).run_test(size=(100, 30), notifications=True) as pilot:
        app = await ready_with_items(pilot)
        app.deliver_alert(_alert(1))
        await wait_for(pilot, lambda: len(app._held_toasts()) == 1, what="the alert's toast")
        toast = app._held_toasts()[0]
        assert toast.time_left > 24 * 3600  # nobody pressed anything: it stays
        await pilot.press("down")  # the operator is back
        assert not app._held_toasts()
        assert 0 < toast.time_left <= app_module.ALERT_TOAST_SECONDS
        assert toast in app._notifications  # still on screen for now


async def test_at_most_a_few_alert_toasts_wait(tmp_path: Path) -> None:
    async with make_app(tmp_path).run_test(size=(100, 30), notifications=True) as pilot:
        app = await ready_with_items(pilot)
        for n in range(app_module.ALERT_TOASTS_HELD + 2):
            app.deliver_alert(_alert(n))
        await pilot.pause()
        await wait_for(pilot, lambda: len(app._held_toasts()) == app_module.ALERT_TOASTS_HELD, what="the oldest dropped")
        messages = [t.message for t in app._held_toasts()]
        assert messages[-1].endswith(f"number {app_module.ALERT_TOASTS_HELD + 1}")  # the newest stays
        assert not any(m.endswith("number 0") for m in messages)


async def test_other_toasts_keep_their_timeout(tmp_path: Path) -> None:
    async with make_app(tmp_path).run_test(size=(100, 30), notifications=True) as pilot:
        app = await ready_with_items(pilot)
        app.report_problem("the log is on fire")
        await wait_for(pilot, lambda: len(app._notifications) == 1, what="the problem's toast")
        assert not app._held_toasts()
