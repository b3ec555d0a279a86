"""Polling: one fetch per source at a time, backoff on failure, health for the header.

The :class:`Poller` owns a :class:`~watchtower.core.sources.base.SourceState` per source
and decides *when* a source may be fetched again; the UI (or ``watchtower fetch``) decides
*that* it is time, by asking :meth:`Poller.next_delay`.  Rules:

- :meth:`Poller.poll` never raises (except cancellation): failures become a
  :class:`PollResult` with ``ok=False`` and plain words in ``error``;
- polls of one source never overlap (a per-source lock); different sources run
  concurrently, bounded by the shared client's connection pool;
- a failed poll restores the validators and cursor it started with, so a half-read
  response leaves no partial state, and the last good items stay where they are;
- consecutive failures back off exponentially with jitter, capped at 15 minutes, and
  reset on the next success; a server's ``Retry-After`` is a floor, and :meth:`poll`
  makes no request before it has passed;
- a 304 counts as a success with no items and no cost.

Clocks and randomness are injected so tests need no sleeps.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import random
import time
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Callable, Iterable

from ..fetch.http import HttpFetcher
from ..models import Item, dedupe, utcnow
from ..sources.base import PollResult, Source, SourceError, SourceState
from ..text.safetext import one_line

__all__ = ["Poller", "MAX_BACKOFF"]

log = logging.getLogger(__name__)

#: The longest a failing source waits between attempts (unless a server asks for more).
MAX_BACKOFF = 15 * 60.0
#: How long a rate-limit reset may hold a source back.
_MAX_RATE_WAIT = 3600.0
#: Ids remembered per source to tell new items from re-polled ones.
_SEEN_LIMIT = 5000


class Poller:
    """Polls a fixed set of sources through one shared :class:`HttpFetcher`."""

    def __init__(
        self,
        sources: Iterable[Source],
        *,
        http: HttpFetcher | None = None,
        clock: Callable[[], float] = time.monotonic,
        wallclock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        max_backoff: float = MAX_BACKOFF,
    ) -> None:
        self.sources: dict[str, Source] = {}
        for source in sources:
            if source.name in self.sources:
                raise ValueError(f"two sources are named {source.name!r}")
            self.sources[source.name] = source
        self.states: dict[str, SourceState] = {name: SourceState() for name in self.sources}
        self._owns_http = http is None
        self.http = http if http is not None else HttpFetcher()
        self.clock = clock
        self.wallclock = wallclock
        self.rng = rng if rng is not None else random.Random()
        self.max_backoff = max_backoff
        self._locks: dict[str, asyncio.Lock] = {name: asyncio.Lock() for name in self.sources}
        self._seen: dict[str, OrderedDict[str, None]] = {name: OrderedDict() for name in self.sources}
        self._last_ok_mono: dict[str, float | None] = {name: None for name in self.sources}
        self._started = clock()

    # ------------------------------------------------------------------ polling

    async def poll(self, name: str) -> PollResult:
        """Fetch one source now, unless a server's Retry-After has not passed yet."""
        source = self.sources.get(name)
        if source is None:
            return PollResult(source=name, platform="", items=[], ok=False, error="no source by that name")
        async with self._locks[name]:
            state = self.states[name]
            waiting = self._retry_remaining(state)
            if waiting > 0:
                return self._skipped(source, state, waiting)
            return await self._run(source, state)

    async def poll_all(self) -> list[PollResult]:
        """Poll every source concurrently; results in source order."""
        return list(await asyncio.gather(*(self.poll(name) for name in self.sources)))

    async def probe(self, name: str) -> PollResult:
        """A one-off full fetch for ``watchtower check``.

        It ignores validators and cursors (so it shows what the source returns right
        now) and leaves the poll state alone, except that it honours and records a
        server's Retry-After.
        """
        source = self.sources.get(name)
        if source is None:
            return PollResult(source=name, platform="", items=[], ok=False, error="no source by that name")
        async with self._locks[name]:
            state = self.states[name]
            waiting = self._retry_remaining(state)
            if waiting > 0:
                return self._skipped(source, state, waiting)
            scratch = SourceState()
            start = self.clock()
            try:
                items = _dedupe(await source.fetch(self.http, scratch))
            except SourceError as exc:
                if exc.retry_after is not None:
                    self._set_retry(state, exc.retry_after)
                return PollResult(
                    source=name, platform=source.platform, items=[], ok=False,
                    error=_words(exc), duration=self.clock() - start, state=scratch,
                    retry_after=exc.retry_after,
                )
            except Exception as exc:
                log.exception("probe of %s failed", name)
                return PollResult(
                    source=name, platform=source.platform, items=[], ok=False,
                    error=_internal(source, exc), duration=self.clock() - start, state=scratch,
                )
            return PollResult(
                source=name, platform=source.platform, items=items, ok=True,
                not_modified=scratch.not_modified, duration=self.clock() - start, state=scratch,
                new_items=list(items), warnings=list(scratch.warnings),
            )

    async def _run(self, source: Source, state: SourceState) -> PollResult:
        name = source.name
        snapshot = (state.etag, state.last_modified, copy.deepcopy(state.cursor) if state.cursor else {})
        state.not_modified = False
        state.last_skipped = 0
        state.warnings = []
        state.last_attempt = self.wallclock()
        state.polls += 1
        start = self.clock()
        error: str | None = None
        retry_after: float | None = None
        permanent = False
        items: list[Item] = []
        try:
            got = await source.fetch(self.http, state)
            items = _dedupe(got if isinstance(got, list) else [])
        except asyncio.CancelledError:
            state.etag, state.last_modified, state.cursor = snapshot
            raise
        except SourceError as exc:
            error, retry_after, permanent = _words(exc), exc.retry_after, exc.permanent
        except Exception as exc:  # a connector bug must not take the app down
            log.exception("poll of %s failed", name)
            error = _internal(source, exc)
        now = self.clock()
        duration = now - start
        state.last_duration = duration
        if error is not None:
            # Keep nothing from a failed poll: validators and cursor as they were.
            state.etag, state.last_modified, state.cursor = snapshot
            state.not_modified = False
            state.warnings = []
            state.last_error = error
            state.consecutive_failures += 1
            state.backoff_seconds = self._backoff(source, state.consecutive_failures, permanent)
            delay = state.backoff_seconds
            if retry_after is not None:
                self._set_retry(state, retry_after)
                delay = max(delay, retry_after)
            self._schedule(state, delay)
            return PollResult(
                source=name, platform=source.platform, items=[], ok=False, error=error,
                duration=duration, state=state, retry_after=retry_after,
            )
        new_items = self._remember(name, items)
        state.last_success = self.wallclock()
        self._last_ok_mono[name] = now
        state.last_error = None
        state.consecutive_failures = 0
        state.backoff_seconds = 0.0
        state.retry_at_monotonic = None
        state.retry_after_seconds = None
        state.last_count = len(items)
        state.items_seen += len(new_items)
        self._schedule(state, max(source.interval, self._rate_limit_wait(state)))
        return PollResult(
            source=name, platform=source.platform, items=items, ok=True,
            not_modified=state.not_modified, duration=duration, state=state, new_items=new_items,
            warnings=list(state.warnings),
        )

    # ------------------------------------------------------------------ timing

    def next_delay(self, name: str) -> float:
        """Seconds until ``name`` should be polled again (0 for now).

        Never less than what is left of a server's Retry-After, so a caller that waits
        this long makes no request the server asked us not to make.
        """
        state = self.states[name]
        now = self.clock()
        delay = 0.0 if state.next_poll_monotonic is None else state.next_poll_monotonic - now
        return max(0.0, delay, self._retry_remaining(state))

    def is_stale(self, name: str, stale_after_intervals: int = 3) -> bool:
        """True when ``name`` has had no successful poll for that many intervals."""
        source = self.sources[name]
        last = self._last_ok_mono[name]
        since = self.clock() - (last if last is not None else self._started)
        return since > stale_after_intervals * source.interval

    def _backoff(self, source: Source, failures: int, permanent: bool) -> float:
        if permanent:
            base = self.max_backoff
        else:
            base = min(self.max_backoff, source.interval * (2.0 ** min(failures, 30)))
        # Jitter downwards by up to 20 %: failing sources spread out, the cap holds.
        return max(source.interval, base * (0.8 + 0.2 * self.rng.random()))

    def _rate_limit_wait(self, state: SourceState) -> float:
        if state.rate_limit_remaining == 0 and state.rate_limit_reset is not None:
            wait = (state.rate_limit_reset - self.wallclock()).total_seconds()
            return min(max(0.0, wait), _MAX_RATE_WAIT)
        return 0.0

    def _retry_remaining(self, state: SourceState) -> float:
        if state.retry_at_monotonic is None:
            return 0.0
        return max(0.0, state.retry_at_monotonic - self.clock())

    def _set_retry(self, state: SourceState, seconds: float) -> None:
        state.retry_after_seconds = seconds
        state.retry_at_monotonic = self.clock() + seconds
        if state.next_poll_monotonic is None or state.next_poll_monotonic < state.retry_at_monotonic:
            self._schedule(state, seconds)

    def _schedule(self, state: SourceState, delay: float) -> None:
        state.next_poll_monotonic = self.clock() + delay
        state.next_poll_at = self.wallclock() + timedelta(seconds=delay)

    def _skipped(self, source: Source, state: SourceState, waiting: float) -> PollResult:
        return PollResult(
            source=source.name, platform=source.platform, items=[], ok=False, skipped=True,
            error=state.last_error or f"waiting {waiting:.0f} s as the server asked",
            state=state, retry_after=waiting,
        )

    def _remember(self, name: str, items: list[Item]) -> list[Item]:
        seen = self._seen[name]
        new: list[Item] = []
        for item in items:
            if item.id in seen:
                seen.move_to_end(item.id)
            else:
                seen[item.id] = None
                new.append(item)
        while len(seen) > _SEEN_LIMIT:
            seen.popitem(last=False)
        return new

    # ------------------------------------------------------------------ lifetime

    async def aclose(self) -> None:
        """Close the HTTP client if this poller created it."""
        if self._owns_http:
            await self.http.aclose()

    async def __aenter__(self) -> Poller:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _dedupe(items: list[Item]) -> list[Item]:
    """One item per id, in first-seen order; of two versions, the later edit."""
    return dedupe(item for item in items if isinstance(item, Item))


def _words(exc: SourceError) -> str:
    return one_line(str(exc), limit=300) or "the fetch failed"


def _internal(source: Source, exc: BaseException) -> str:
    from ..record import paths

    where = f"details in {paths.error_log_path}" if paths.error_log_path else "details on stderr"
    return f"internal error in the {source.kind or 'source'} connector ({type(exc).__name__}); {where}"
