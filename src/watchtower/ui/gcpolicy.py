"""The cyclic garbage collector in the live screen: never a full pass in the middle of a batch.

CPython's full (oldest-generation) collection walks every object the collector tracks and
holds the GIL while it does.  In the live screen that is Textual's widgets and styles, the
triage rules and every item held, 150,000 objects or more, 50-100 ms on these machines
(bench P2).  CPython starts one when enough new objects have survived, and a poll that brings
10,000 items is exactly that, so the collection ran in the middle of taking the batch in, on
whichever thread allocated next, and the screen froze then and there.  So, from the first
frame (:func:`start`, called where start-up turns the collector back on):

- one collection of the young generations clears what start-up left (with the collector
  paused for start-up, :func:`watchtower.cli.pause_gc_for_startup`, that is all of it: the
  same pause turning the collector back on cost before), then :func:`gc.freeze` moves every
  object alive at that point (modules, Textual's widgets and styles) out of the collector's
  sight: they live as long as the app;
- the collector no longer starts full collections by itself (the oldest generation's
  threshold is out of reach); the young generations are collected as before, a few ms at a
  time, on the same counts;
- every :data:`CHECK_SECONDS` the app runs the full collection itself once as many young
  collections as CPython would wait for (:data:`FULL_AFTER`) have happened, and only when
  nothing waits to be drawn (``views_settled``); after :data:`MAX_DEFER` checks it runs
  anyway, so cyclic garbage is always freed.  It walks what arrived since the first frame
  only (about 10 ms with 5,000 items held).

Reference counting does not depend on any of this: an item (no cycles) goes the moment the
last reference does, frozen or not.  :func:`stop` (on unmount) undoes it all, so a process
that runs several apps one after another (the tests) keeps no frozen objects of old ones.
"""

from __future__ import annotations

import gc
from typing import Any

__all__ = ["CHECK_SECONDS", "FULL_AFTER", "MAX_DEFER", "Collector", "start", "stop"]

#: How often the app looks whether a full collection is due.
CHECK_SECONDS = 5.0
#: Young (generation 1) collections since the last full one before another is due;
#: CPython's own default for its oldest generation.
FULL_AFTER = 10
#: Checks a due collection may wait for a settled screen before it runs anyway.
MAX_DEFER = 12
#: The oldest generation's threshold while the policy holds: never reached.
_NEVER = 1 << 30

_saved: tuple[int, int, int] | None = None
_holders = 0


class Collector:
    """The app's timer side: a full collection when one is due and the screen is settled."""

    def __init__(self, settled: Any) -> None:
        self._settled = settled
        self.deferred = 0
        self.runs = 0

    def check(self) -> bool:
        """Run a full collection if one is due (and the screen is settled, or waited long
        enough); whether it ran."""
        if gc.get_count()[2] < FULL_AFTER:
            return False
        if not self._settled() and self.deferred < MAX_DEFER:
            self.deferred += 1
            return False
        self.deferred = 0
        self.runs += 1
        gc.collect()
        return True


def start(app: Any) -> Collector:
    """From the first frame on (``App.on_ready``): freeze what start-up built, take full
    collections off the allocation counters and check for them on a timer of ``app``."""
    global _saved, _holders
    gc.collect(1)
    gc.freeze()
    if _holders == 0:
        _saved = gc.get_threshold()
    _holders += 1
    young, middle, _old = _saved or gc.get_threshold()
    gc.set_threshold(young, middle, _NEVER)
    gc.enable()
    collector = Collector(lambda: app.views_settled)
    app.set_interval(CHECK_SECONDS, collector.check, name="full garbage collection")
    return collector


def stop() -> None:
    """Undo :func:`start` (``App.on_unmount``): the frozen objects are the collector's again
    and it starts full collections by itself as before."""
    global _saved, _holders
    if _holders == 0:
        return
    _holders -= 1
    if _holders == 0:
        gc.unfreeze()
        if _saved is not None:
            gc.set_threshold(*_saved)
        _saved = None
