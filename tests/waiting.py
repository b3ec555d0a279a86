"""Waiting in tests: for a condition, never for a time.

Every test that waits for something another thread, process or terminal does (a claim
another operator wrote, a marker on a pty, a server coming up) polls a condition with a
deadline from :data:`DEADLINE`.  The wait ends the moment the condition holds, so a
generous deadline costs nothing on a fast machine; it only decides how long a *broken*
build takes to fail.  It is sized for the slowest place the suite runs: a 2-core CI box
that is also running other work (see ``docs/testing.md``).

``WATCHTOWER_TEST_DEADLINE`` (seconds) overrides it, e.g. to make a hung test fail fast
while debugging.  When a wait gives up, the message says what was awaited and what was
seen last, so a failure under load can be told from a real bug.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

#: Seconds any cross-thread, cross-process or pty wait may take before the test fails.
DEADLINE = float(os.environ.get("WATCHTOWER_TEST_DEADLINE", "120"))

#: How often a condition is polled.
INTERVAL = 0.05


class WaitTimeout(AssertionError):
    """A condition did not hold within its deadline."""


def _describe(seen: Callable[[], Any] | None) -> str:
    if seen is None:
        return ""
    try:
        value = seen()
    except Exception as exc:  # the report must not hide the timeout
        value = f"<could not describe the state: {exc!r}>"
    text = repr(value) if not isinstance(value, str) else value
    return f"; last seen: {text[-1500:]}"


class _Poll:
    """One wait: :meth:`done` checks the condition, and raises once the deadline has passed."""

    def __init__(self, condition: Callable[[], Any], *, what: str, timeout: float | None,
                 seen: Callable[[], Any] | None) -> None:
        self.condition, self.what, self.seen = condition, what, seen
        self.limit = DEADLINE if timeout is None else timeout
        self.start = time.monotonic()
        self.result: Any = None

    def done(self) -> bool:
        self.result = self.condition()
        if self.result:
            return True
        waited = time.monotonic() - self.start
        if waited > self.limit:
            raise WaitTimeout(f"timed out after {waited:.1f} s waiting for {self.what}{_describe(self.seen)}")
        return False


def wait_until(
    condition: Callable[[], Any],
    *,
    what: str,
    timeout: float | None = None,
    seen: Callable[[], Any] | None = None,
    interval: float = INTERVAL,
) -> Any:
    """Poll ``condition`` until it returns something truthy, and return that.

    ``seen`` describes the state for the failure message (what the test saw instead).
    """
    poll = _Poll(condition, what=what, timeout=timeout, seen=seen)
    while not poll.done():
        time.sleep(interval)
    return poll.result


async def async_wait_until(
    condition: Callable[[], Any],
    *,
    what: str,
    timeout: float | None = None,
    seen: Callable[[], Any] | None = None,
    pause: Callable[[], Any] | None = None,
    interval: float = INTERVAL,
) -> Any:
    """:func:`wait_until` for asyncio tests: ``pause`` (default ``asyncio.sleep``) yields between polls."""
    import asyncio

    poll = _Poll(condition, what=what, timeout=timeout, seen=seen)
    while not poll.done():
        if pause is None:
            await asyncio.sleep(interval)
        else:
            await pause()
    return poll.result
