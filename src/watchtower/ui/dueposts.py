"""The running app sends the scheduled posts that are due (issue 18.3).

One :class:`~watchtower.core.respond.schedule.DueRunner` for the app's life, ticking every
:data:`~watchtower.core.respond.schedule.TICK_SECONDS` in a worker thread with its own event loop
(and its own :class:`~watchtower.core.respond.posting.Poster`): nothing of it runs on the UI's
loop, so a slow instance or a log locked by ``watchtower due`` never stalls the screen.
"Never twice" needs nothing here: the runner, other operators' apps and ``watchtower
due`` from cron coordinate through the log (:mod:`watchtower.core.respond.schedule`).

What each tick did is shown: ``sent``/``found`` a toast, ``failed``/``uncertain`` a
problem, ``held`` (the token's env var is not set in this process; cron may have it) a
toast, each once per post and reason however many ticks repeat it; ``skipped`` nothing;
a tick that fails (the log locked, read-only) once until it works again.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from ..core.text.safetext import one_line

__all__ = ["DueTicker", "start_due_ticker"]


class DueTicker:
    """Ticks the app's :class:`~watchtower.core.respond.schedule.DueRunner` off the UI loop."""

    def __init__(self, app: Any, *, interval: float | None = None) -> None:
        from ..core.respond.schedule import TICK_SECONDS

        self.app = app
        self.interval = TICK_SECONDS if interval is None else interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        #: (post, action, message) already said: held and uncertain ones come back every tick.
        self._said: set[tuple[str, str, str]] = set()
        self._last_error: str | None = None
        self.ticks = 0
        """Ticks done (tests wait on it)."""

    def start(self) -> None:
        self.app.run_worker(self._run, thread=True, group="due-posts", name="scheduled posts", exit_on_error=False)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def poke(self) -> None:
        """Tick now (a post was scheduled for now, a test)."""
        self._wake.set()

    # -- the worker thread ----------------------------------------------------------------
    def _run(self) -> None:
        from textual.worker import get_current_worker

        asyncio.run(self._loop(get_current_worker()))

    def _stopped(self, worker: Any) -> bool:
        # The app closing ends the ticker too: a worker started while the app shut down is
        # never cancelled, and a loop left ticking keeps the app's exit waiting on this thread.
        return self._stop.is_set() or worker.is_cancelled or not self.app.is_running

    async def _loop(self, worker: Any) -> None:
        from ..core.respond.schedule import DueRunner

        desk = self.app.desk
        runner = DueRunner(desk.log, desk.config, operator=desk.operator, env=desk.env)
        try:
            while not self._stopped(worker):
                try:
                    outcomes = await runner.tick(now=desk.clock())  # the app's clock, as everywhere
                    self._last_error = None
                except Exception as exc:  # noqa: BLE001 - a locked log, a full disk: said once, tried again
                    message = f"scheduled posts: {one_line(exc, limit=300)}"
                    if message != self._last_error:
                        self._last_error = message
                        self._call(self.app.report_problem, message)
                    outcomes = []
                self.ticks += 1
                if outcomes:
                    self._call(self._show, outcomes)
                deadline = time.monotonic() + self.interval
                while not self._stopped(worker) and not self._wake.is_set() and time.monotonic() < deadline:
                    await asyncio.to_thread(self._wake.wait, min(1.0, max(0.0, deadline - time.monotonic())))
                self._wake.clear()
        finally:
            await runner.aclose()

    def _call(self, fn: Any, *args: Any) -> None:
        try:
            self.app.call_from_thread(fn, *args)
        except Exception:  # noqa: BLE001 - the app is gone: nobody to tell
            self._stop.set()

    # -- on the loop ------------------------------------------------------------------------
    def _show(self, outcomes: list[Any]) -> None:
        app = self.app
        for o in outcomes:
            message = one_line(o.message, limit=300)
            # What was said, once per post: a late post's message grows with its age.
            said = (o.post.id, o.action, "" if o.action == "late" else message)
            if o.action in ("sent", "found"):
                app.notify(f"Scheduled post {message}", markup=False, timeout=8)
            elif said in self._said:
                continue  # an uncertain post looked at every tick, a held one: said once
            elif o.action in ("failed", "uncertain"):
                self._said.add(said)
                app.report_problem(f"scheduled post ({one_line(o.post.account, limit=60)} on "
                                   f"{one_line(o.post.platform, limit=30)}): {message}")
            elif o.action == "held":
                self._said.add(said)
                app.notify(f"A scheduled post is due but this app cannot send it: {message} "
                           "(`watchtower due` from cron may have the token).", markup=False,
                           severity="warning", timeout=10)
            elif o.action == "late":
                self._said.add(said)
                app.notify(f"A scheduled post is late and was not sent ({one_line(o.post.account, limit=60)} on "
                           f"{one_line(o.post.platform, limit=30)}): {message}", markup=False,
                           severity="warning", timeout=15)


def start_due_ticker(app: Any) -> DueTicker | None:
    """Start sending due posts from ``app`` (nothing without a handover log)."""
    if app.desk.log is None or not app.is_running:
        return None  # no log, or the app is already closing: nothing would ever stop it
    ticker = DueTicker(app)
    app.due_ticker = ticker
    ticker.start()
    return ticker
