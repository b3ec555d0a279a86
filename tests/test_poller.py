"""The Poller: backoff, Retry-After, 304s, health and overlap, with an injected clock (no sleeps)."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from watchtower.config import RssSource
from watchtower.core.fetch.http import HttpFetcher
from watchtower.core.models import Item
from watchtower.core.pipeline.poller import MAX_BACKOFF, Poller
from watchtower.core.sources import build_source
from watchtower.core.sources.base import Source, SourceError, SourceState

FIX = Path(__file__).parent / "fixtures" / "sources"
RSS = (FIX / "rss20.xml").read_bytes()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeWall:
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.start = datetime(2024, 1, 2, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=self.clock.now - 1000.0)


def _rss(url: str, name: str = "feed", interval: float = 60) -> Source:
    return build_source(RssSource(kind="rss", name=name, platform="News", url=url, interval=interval), env={})


def _poller(sources: list[Source], clock: FakeClock, http: HttpFetcher | None = None) -> Poller:
    return Poller(sources, http=http, clock=clock, wallclock=FakeWall(clock), rng=random.Random(7))


class Scripted(Source):
    """A source whose fetch runs a script, for cases no server is needed for."""

    kind = "scripted"

    def __init__(self, name: str, script: Any, interval: float = 60) -> None:
        class Spec:
            pass

        spec = Spec()
        spec.name, spec.platform, spec.interval = name, "Test", interval  # type: ignore[attr-defined]
        super().__init__(spec, env={})
        self.script = script
        self.calls = 0

    async def fetch(self, http: Any, state: SourceState) -> list[Item]:
        self.calls += 1
        return await self.script(self, state)


def _item(n: int) -> Item:
    return Item.create(platform="Test", source="s", native_id=str(n), author="a", text=f"t{n}", published=None)


async def test_retry_after_is_honoured_with_zero_early_requests(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/feed").respond_with_data("", status=429, headers={"Retry-After": "120"})
    httpserver.expect_request("/feed").respond_with_data(RSS, content_type="application/rss+xml")
    clock = FakeClock()
    poller = _poller([_rss(httpserver.url_for("/feed"))], clock)
    try:
        first = await poller.poll("feed")
        assert not first.ok and first.retry_after == 120
        assert first.error is not None and first.error.startswith("HTTP 429")
        assert poller.next_delay("feed") >= 120
        for step in (1, 30, 60, 119):
            clock.now = 1000.0 + step
            assert poller.next_delay("feed") >= 120 - step
            skipped = await poller.poll("feed")
            assert skipped.skipped and not skipped.ok and skipped.items == []
        assert len(httpserver.log) == 1  # nothing was sent while waiting
        clock.now = 1000.0 + 121
        assert poller.next_delay("feed") == 0 or poller.next_delay("feed") <= poller.states["feed"].backoff_seconds
        clock.advance(poller.next_delay("feed"))
        ok = await poller.poll("feed")
        assert ok.ok and len(ok.items) == 4
        assert poller.states["feed"].retry_at_monotonic is None
    finally:
        await poller.aclose()


async def test_500_backs_off_exponentially_then_resets(httpserver: HTTPServer) -> None:
    for _ in range(4):
        httpserver.expect_oneshot_request("/feed").respond_with_data("boom", status=500)
    httpserver.expect_request("/feed").respond_with_data(RSS, content_type="application/rss+xml")
    clock = FakeClock()
    poller = _poller([_rss(httpserver.url_for("/feed"), interval=60)], clock)
    delays = []
    try:
        for _ in range(4):
            result = await poller.poll("feed")
            assert not result.ok and result.error == "HTTP 500 INTERNAL SERVER ERROR"
            delays.append(poller.next_delay("feed"))
            clock.advance(delays[-1])
        state = poller.states["feed"]
        assert state.consecutive_failures == 4 and state.last_error == "HTTP 500 INTERNAL SERVER ERROR"
        assert delays == sorted(delays) and delays[-1] > delays[0] * 4
        ok = await poller.poll("feed")
        assert ok.ok
        assert state.consecutive_failures == 0 and state.last_error is None and state.backoff_seconds == 0
        assert poller.next_delay("feed") == 60
    finally:
        await poller.aclose()


async def test_backoff_is_capped_at_15_minutes() -> None:
    async def fail(src: Source, state: SourceState) -> list[Item]:
        raise SourceError("HTTP 502 Bad Gateway")

    clock = FakeClock()
    poller = _poller([Scripted("s", fail, interval=60)], clock)
    delays = []
    for _ in range(20):
        await poller.poll("s")
        delays.append(poller.next_delay("s"))
        clock.advance(delays[-1])
    assert max(delays) <= MAX_BACKOFF
    assert min(delays[-10:]) >= MAX_BACKOFF * 0.8
    await poller.aclose()


async def test_permanent_errors_wait_the_longest() -> None:
    async def fail(src: Source, state: SourceState) -> list[Item]:
        raise SourceError("environment variable X is not set", permanent=True)

    poller = _poller([Scripted("s", fail)], FakeClock())
    await poller.poll("s")
    assert poller.next_delay("s") >= MAX_BACKOFF * 0.8
    await poller.aclose()


async def test_304_costs_nothing_and_adds_nothing(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/feed").respond_with_data(RSS, headers={"ETag": '"e1"'})
    httpserver.expect_request("/feed", headers={"If-None-Match": '"e1"'}).respond_with_data("", status=304)
    clock = FakeClock()
    poller = _poller([_rss(httpserver.url_for("/feed"))], clock)
    try:
        await poller.poll("feed")
        state = poller.states["feed"]
        seen = state.items_seen
        for _ in range(3):
            clock.advance(poller.next_delay("feed"))
            result = await poller.poll("feed")
            assert result.ok and result.not_modified and result.items == [] and result.new_items == []
        assert state.items_seen == seen and state.consecutive_failures == 0 and state.etag == '"e1"'
        assert poller.next_delay("feed") == 60
    finally:
        await poller.aclose()


async def test_a_failed_poll_keeps_no_partial_state_and_the_next_works(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/feed").respond_with_data(RSS, headers={"ETag": '"good"'})
    httpserver.expect_oneshot_request("/feed").respond_with_data(
        b"<rss version='2.0'><channel><title>cut", headers={"ETag": '"broken"'}, content_type="text/html"
    )
    httpserver.expect_oneshot_request("/feed").respond_with_data((FIX / "login.html").read_bytes(), headers={"ETag": '"html"'})
    httpserver.expect_request("/feed").respond_with_data(RSS, headers={"ETag": '"good2"'})
    clock = FakeClock()
    poller = _poller([_rss(httpserver.url_for("/feed"))], clock)
    try:
        assert (await poller.poll("feed")).ok
        clock.advance(poller.next_delay("feed"))
        broken = await poller.poll("feed")
        assert not broken.ok and broken.error == "feed is malformed (no entries could be read)"
        assert poller.states["feed"].etag == '"good"'
        clock.advance(poller.next_delay("feed"))
        bad = await poller.poll("feed")
        assert not bad.ok and bad.items == [] and bad.error == "not a feed (looks like HTML)"
        assert poller.states["feed"].etag != '"html"'
        clock.advance(poller.next_delay("feed"))
        again = await poller.poll("feed")
        assert again.ok and poller.states["feed"].etag == '"good2"'
    finally:
        await poller.aclose()


async def test_cursor_is_restored_when_a_fetch_fails_halfway() -> None:
    async def half(src: Source, state: SourceState) -> list[Item]:
        if src.calls == 1:
            state.cursor["since_id"] = "10"
            return [_item(1)]
        state.cursor["since_id"] = "999"  # moved on before failing
        raise SourceError("the server broke the HTTP protocol (bad or truncated response)")

    poller = _poller([Scripted("s", half)], FakeClock())
    await poller.poll("s")
    result = await poller.poll("s")
    assert not result.ok and poller.states["s"].cursor == {"since_id": "10"}
    await poller.aclose()


async def test_duplicates_within_a_response_and_across_polls() -> None:
    async def dupes(src: Source, state: SourceState) -> list[Item]:
        return [_item(1), _item(2), _item(1)] + ([_item(3)] if src.calls > 1 else [])

    poller = _poller([Scripted("s", dupes)], FakeClock())
    first = await poller.poll("s")
    second = await poller.poll("s")
    assert [i.native_id for i in first.items] == ["1", "2"]
    assert [i.native_id for i in second.items] == ["1", "2", "3"]
    assert [i.native_id for i in second.new_items] == ["3"]
    assert poller.states["s"].items_seen == 3
    await poller.aclose()


async def test_polls_of_one_source_never_overlap() -> None:
    running = 0
    peak = 0
    gate = asyncio.Event()

    async def slow(src: Source, state: SourceState) -> list[Item]:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await gate.wait()
        running -= 1
        return []

    poller = _poller([Scripted("s", slow)], FakeClock())
    tasks = [asyncio.create_task(poller.poll("s")) for _ in range(3)]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*tasks)
    assert peak == 1 and all(r.ok for r in results)
    await poller.aclose()


async def test_poll_all_runs_sources_concurrently() -> None:
    started: list[str] = []
    both = asyncio.Event()

    async def wait_for_other(src: Source, state: SourceState) -> list[Item]:
        started.append(src.name)
        if len(started) == 2:
            both.set()
        await asyncio.wait_for(both.wait(), 5)
        return [_item(len(started))]

    poller = _poller([Scripted("a", wait_for_other), Scripted("b", wait_for_other)], FakeClock())
    results = await poller.poll_all()
    assert [r.source for r in results] == ["a", "b"] and all(r.ok for r in results)
    await poller.aclose()


async def test_a_connector_bug_becomes_an_error_not_a_crash() -> None:
    async def buggy(src: Source, state: SourceState) -> list[Item]:
        raise KeyError("secret-ish detail")

    poller = _poller([Scripted("s", buggy)], FakeClock())
    result = await poller.poll("s")
    assert not result.ok and result.error is not None
    assert "KeyError" in result.error and "secret-ish" not in result.error
    await poller.aclose()


async def test_unknown_source_is_a_result() -> None:
    poller = _poller([], FakeClock())
    result = await poller.poll("nope")
    assert not result.ok and result.error == "no source by that name"
    await poller.aclose()


async def test_staleness_follows_intervals() -> None:
    outcome = {"fail": False}

    async def maybe(src: Source, state: SourceState) -> list[Item]:
        if outcome["fail"]:
            raise SourceError("connection refused")
        return []

    clock = FakeClock()
    poller = _poller([Scripted("s", maybe, interval=60)], clock)
    assert not poller.is_stale("s")
    clock.advance(200)
    assert poller.is_stale("s")  # never succeeded for more than 3 intervals
    await poller.poll("s")
    assert not poller.is_stale("s")
    outcome["fail"] = True
    clock.advance(100)
    await poller.poll("s")
    assert not poller.is_stale("s")
    clock.advance(100)
    assert poller.is_stale("s") and not poller.is_stale("s", stale_after_intervals=5)
    await poller.aclose()


async def test_rate_limit_exhausted_delays_the_next_poll(httpserver: HTTPServer) -> None:
    clock = FakeClock()
    wall = FakeWall(clock)
    reset = (wall() + timedelta(seconds=600)).isoformat()
    httpserver.expect_request("/feed").respond_with_data(
        RSS, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
    )
    poller = Poller([_rss(httpserver.url_for("/feed"))], clock=clock, wallclock=wall, rng=random.Random(1))
    try:
        assert (await poller.poll("feed")).ok
        assert poller.next_delay("feed") == pytest.approx(600)
        assert poller.states["feed"].rate_limit_remaining == 0
    finally:
        await poller.aclose()


async def test_probe_fetches_everything_and_leaves_state_alone(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data(RSS, headers={"ETag": '"p"'})
    clock = FakeClock()
    poller = _poller([_rss(httpserver.url_for("/feed"))], clock)
    try:
        result = await poller.probe("feed")
        assert result.ok and len(result.items) == 4
        state = poller.states["feed"]
        assert state.etag is None and state.polls == 0 and state.last_success is None
        # And it does not send the validators a poll would.
        assert "If-None-Match" not in httpserver.log[-1][0].headers
    finally:
        await poller.aclose()


async def test_probe_honours_retry_after(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data("", status=503, headers={"Retry-After": "300"})
    clock = FakeClock()
    poller = _poller([_rss(httpserver.url_for("/feed"))], clock)
    try:
        first = await poller.probe("feed")
        assert not first.ok and first.retry_after == 300
        second = await poller.probe("feed")
        third = await poller.poll("feed")
        assert second.skipped and third.skipped and len(httpserver.log) == 1
        assert poller.next_delay("feed") >= 300
    finally:
        await poller.aclose()


async def test_shared_client_is_not_closed_by_the_poller() -> None:
    async with HttpFetcher() as http:
        poller = Poller([], http=http)
        await poller.aclose()
        assert not http.closed
    own = Poller([])
    await own.aclose()
    assert own.http.closed


async def test_a_connector_crash_names_the_file_its_traceback_is_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The TUI hides stderr, so 'internal error' must say where the details went."""
    import logging

    from watchtower.core.record import paths

    monkeypatch.setattr(paths, "error_log_path", None)
    logger = logging.getLogger("watchtower")
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(logger, "level", logger.level)
    path = paths.open_error_log(tmp_path)
    assert path == tmp_path / "watchtower.log" and (path.stat().st_mode & 0o777) == 0o600

    async def crash(source: Source, state: SourceState) -> list[Item]:
        raise AssertionError("a bug in the connector")

    poller = _poller([Scripted("buggy", crash)], FakeClock())
    try:
        result = await poller.poll("buggy")
    finally:
        await poller.aclose()
        for handler in logger.handlers:
            handler.flush()
            handler.close()
    assert not result.ok and result.error == (
        f"internal error in the scripted connector (AssertionError); details in {path}"
    )
    logged = path.read_text(encoding="utf-8")
    assert "poll of buggy failed" in logged and "AssertionError: a bug in the connector" in logged


def test_the_error_log_is_never_written_through_a_symlink(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from watchtower.core.record import paths

    monkeypatch.setattr(paths, "error_log_path", None)
    (tmp_path / "elsewhere").write_text("keep me")
    (tmp_path / "watchtower.log").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(paths.StorageError, match="cannot write the error log"):
        paths.open_error_log(tmp_path)
    assert (tmp_path / "elsewhere").read_text() == "keep me"
