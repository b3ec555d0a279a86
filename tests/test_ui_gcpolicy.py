"""The live screen takes a big batch in without a full garbage collection (bench P2).

CPython's full collection walks every tracked object with the GIL held: with Textual, the
rules and 10,000 items held, 50-100 ms during which the screen cannot draw or read a key.
Left to CPython's counters, it ran in the middle of taking a big poll in.
:mod:`watchtower.ui.gcpolicy` runs it when the screen has settled instead.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from watchtower.ui import gcpolicy

# A real app (headless) in its own process, so the collector's state is that of a fresh
# start and not of the test runner's heap; prints how many full collections ran while
# 10,000 items were taken in and put in order.
_PROBE = textwrap.dedent("""
    import asyncio, gc, json, sys, tempfile
    from datetime import datetime, timedelta, timezone
    from pathlib import Path

    async def main(n):
        from watchtower.config import parse_config
        from watchtower.core.models import Item
        from watchtower.ui.app import WatchtowerApp
        cfg = parse_config({"organisation": {"name": "T", "timezone": "UTC"}, "sources": [
            {"kind": "rss", "name": "feed", "platform": "News", "url": "http://127.0.0.1:9/x.xml"}]})
        now = datetime.now(timezone.utc)
        with tempfile.TemporaryDirectory() as tmp:
            app = WatchtowerApp(cfg, data_dir=Path(tmp) / "data", operator="t", start_polling=False)
            async with app.run_test(size=(160, 50)) as pilot:
                while app.monitor is None:
                    await asyncio.sleep(0.01)
                await pilot.pause()
                full = []
                def seen(phase, info):
                    if phase == "start" and info["generation"] == 2:
                        full.append(1)
                gc.callbacks.append(seen)
                app.desk.hold([Item.create(platform="News", source="feed", native_id=f"n{i}", author=f"@u{i % 500}",
                                           text=f"post {i} about the opening hours", url=f"https://x.example/{i}",
                                           published=now - timedelta(seconds=i)) for i in range(n)])
                while not app.views_settled:
                    await asyncio.sleep(0.01)
                gc.callbacks.remove(seen)
                rows = app.panes[1].list.row_count
            print(json.dumps({"full": len(full), "rows": rows, "frozen": gc.get_freeze_count()}))

    asyncio.run(main(int(sys.argv[1])))
""")


@pytest.mark.slow
def test_a_big_batch_is_taken_in_without_a_full_collection(tmp_path: Path) -> None:
    # Before: one full collection (two with 20,000) in the middle of it, on the UI loop.
    proc = subprocess.run([sys.executable, "-c", _PROBE, "10000"], capture_output=True, text=True, timeout=600,
                          check=False, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["rows"] > 0
    assert got["full"] == 0


class _App:
    """What :func:`gcpolicy.start` uses of the app: its settled flag and a timer."""

    def __init__(self) -> None:
        self.views_settled = False
        self.timers: list[tuple[float, object]] = []

    def set_interval(self, seconds: float, callback: object, *, name: str | None = None) -> None:
        self.timers.append((seconds, callback))


def test_full_collections_wait_for_a_settled_screen_and_the_policy_is_undone_on_exit() -> None:
    before = gc.get_threshold()
    app = _App()
    collector = gcpolicy.start(app)
    try:
        assert gc.get_freeze_count() > 0  # what start-up built is out of the collector's sight
        assert gc.get_threshold()[:2] == before[:2]  # the young generations as before
        assert gc.get_threshold()[2] > 10**6  # no full collection by the counters
        assert app.timers and app.timers[0][1] == collector.check
        while gc.get_count()[2] < gcpolicy.FULL_AFTER:
            gc.collect(1)  # as many young collections as make a full one due
        assert collector.check() is False and collector.deferred == 1  # the screen is busy: later
        app.views_settled = True
        assert collector.check() is True and collector.runs == 1
        assert gc.get_count()[2] == 0
        assert collector.check() is False  # not due again yet
    finally:
        gcpolicy.stop()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_a_due_collection_runs_after_waiting_long_enough_for_a_busy_screen() -> None:
    app = _App()
    collector = gcpolicy.start(app)
    try:
        for _ in range(gcpolicy.MAX_DEFER):
            while gc.get_count()[2] < gcpolicy.FULL_AFTER:
                gc.collect(1)
            assert collector.check() is False
        assert collector.check() is True  # never settled, but cyclic garbage is still freed
    finally:
        gcpolicy.stop()
