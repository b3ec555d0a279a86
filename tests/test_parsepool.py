"""Big feeds are parsed in a child process: every item arrives, and a blow-up is contained.

Feeds are served over real HTTP on 127.0.0.1 and polled through the Monitor (or the app),
as an operator's sources are.  A parse that overruns its deadline or its memory limit, or
a parser process that dies, becomes a plain-words source error; the next poll works.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from waiting import async_wait_until
from werkzeug import Request, Response

from watchtower.config import parse_config
from watchtower.core.fetch.feeds import feed_items, parse_feed
from watchtower.core.fetch.parsepool import PROCESS_THRESHOLD, ParsePool, decode_rows, encode_rows
from watchtower.core.models import Category, Engagement, Item, Severity
from watchtower.core.pipeline.monitor import Monitor

pytestmark = pytest.mark.slow  # starts parser processes

EPOCH = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


def big_feed(n: int = 3000) -> bytes:
    """An RSS document well over the process threshold, with HTML, non-ASCII and guid-less items."""
    parts = ['<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>',
             "<title>Gazette</title><link>https://gazette.example/</link><language>nl</language>"]
    for i in range(n):
        guid = f"<guid>gz-{i}</guid>" if i % 7 else ""
        html = f"<p>Item {i} over de bibliotheek — <b>opening</b> hours &amp; “quotes” [@click=app.quit]x[/]</p>"
        parts.append(
            f"<item><title>Headline {i} ✓</title><link>https://gazette.example/{i}</link>{guid}"
            f"<pubDate>{format_datetime(EPOCH - timedelta(minutes=i))}</pubDate>"
            f"<author>desk{i % 13}@gazette.example</author><description>{escape(html)}</description></item>"
        )
    parts.append("</channel></rss>\n")
    return "".join(parts).encode("utf-8")


def small_feed(tag: str = "ok") -> bytes:
    return (
        "<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>"
        f"<item><guid>{tag}-1</guid><title>Riverside Library opens late</title>"
        f"<link>https://news.example/{tag}</link><pubDate>{format_datetime(EPOCH)}</pubDate></item>"
        "</channel></rss>"
    ).encode()


def slow_feed() -> bytes:
    """Big, and slow to parse: bytes that are not UTF-8 send it to feedparser's fallback,
    whose sanitiser walks 50,000 nested <div>s (seconds of CPU)."""
    html = "<div>" * 50_000 + "deep text" + "</div>" * 50_000
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>Deep</title>'
        "<link>https://deep.example/</link><description>d</description>"
        f"<item><title>deep \x93html\x94</title><guid>deep</guid><description>{escape(html)}</description></item>"
        "</channel></rss>\n"
    ).encode("latin-1")


class Switch:
    """One URL whose document the test changes between polls."""

    def __init__(self, httpserver: HTTPServer, body: bytes) -> None:
        self.body = body
        httpserver.expect_request("/feed.xml").respond_with_handler(self._respond)
        self.url = httpserver.url_for("/feed.xml")

    def _respond(self, request: Request) -> Response:
        return Response(self.body, content_type="application/rss+xml; charset=utf-8")


def monitor_for(url: str, data_dir: Path) -> Monitor:
    config = parse_config({"sources": [{"kind": "rss", "name": "gazette", "platform": "News", "url": url}]})
    return Monitor(config, data_dir=data_dir)


def parsed(item: Item) -> tuple:
    return (item.id, item.platform, item.source, item.author, item.author_name, item.author_followers, item.text,
            item.url, item.published, item.language, item.title, item.native_id, item.in_reply_to, item.engagement)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_a_huge_feed_arrives_whole_from_a_child_process(httpserver: HTTPServer, tmp_path: Path) -> None:
    body = big_feed()
    assert len(body) > PROCESS_THRESHOLD
    feed = Switch(httpserver, body)
    expected = feed_items(parse_feed(body), platform="News", source="gazette")
    monitor = monitor_for(feed.url, tmp_path / "data")
    try:
        rr = await monitor.poll("gazette")
        assert rr.poll.ok, rr.poll.error
        assert monitor.parse_pool.remote_parses == 1
        # The same items, field for field, as parsing it here would give (before triage,
        # which the Monitor has run on them since).
        assert [parsed(i) for i in rr.poll.items] == [parsed(i) for i in expected] and len(expected) == 3000
        assert len(rr.new) == 3000 and monitor.archive.count() == 3000
        assert all(i.text.startswith("Item") and "<p>" not in i.text for i in rr.poll.items)
        pids = monitor.parse_pool.worker_pids()
        assert len(pids) == 1
        again = await monitor.poll("gazette")
        assert again.poll.ok and again.new == []
        assert monitor.parse_pool.worker_pids() == pids  # the worker lives across polls
    finally:
        await monitor.aclose()
    assert monitor.parse_pool.worker_pids() == []
    assert not alive(pids[0])


async def test_a_small_feed_stays_in_process(httpserver: HTTPServer, tmp_path: Path) -> None:
    feed = Switch(httpserver, small_feed())
    monitor = monitor_for(feed.url, tmp_path / "data")
    try:
        rr = await monitor.poll("gazette")
        assert rr.poll.ok and len(rr.new) == 1
        assert monitor.parse_pool.remote_parses == 0 and monitor.parse_pool.worker_pids() == []
    finally:
        await monitor.aclose()


async def test_a_parse_over_its_deadline_is_stopped_and_the_next_poll_works(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    feed = Switch(httpserver, slow_feed())
    monitor = monitor_for(feed.url, tmp_path / "data")
    monitor.parse_pool.deadline = 0.05  # the document needs seconds
    try:
        rr = await monitor.poll("gazette")
        assert not rr.poll.ok
        assert rr.poll.error == "feed took longer than 0.05 s to parse; parsing stopped"
        state = monitor.poller.states["gazette"]
        assert state.last_error == rr.poll.error and state.etag is None
        assert monitor.parse_pool.worker_pids() == []  # killed, not left running
        monitor.parse_pool.deadline = 60
        feed.body = big_feed()
        rr = await monitor.poll("gazette")
        assert rr.poll.ok, rr.poll.error
        assert len(rr.new) == 3000 and state.last_error is None
    finally:
        await monitor.aclose()


async def test_a_parse_over_its_memory_limit_fails_in_words_and_the_next_poll_works(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    feed = Switch(httpserver, big_feed())
    monitor = monitor_for(feed.url, tmp_path / "data")
    monitor.parse_pool.memory_headroom = 1024 * 1024  # less than the document itself
    try:
        rr = await monitor.poll("gazette")
        assert not rr.poll.ok
        assert rr.poll.error == "feed needs more than 1 MiB of memory to parse; parsing stopped"
        monitor.parse_pool.memory_headroom = 512 * 1024 * 1024
        rr = await monitor.poll("gazette")
        assert rr.poll.ok, rr.poll.error
        assert len(rr.new) == 3000
    finally:
        await monitor.aclose()


async def test_a_parser_process_that_dies_is_replaced(httpserver: HTTPServer, tmp_path: Path) -> None:
    feed = Switch(httpserver, big_feed())
    monitor = monitor_for(feed.url, tmp_path / "data")
    pool = monitor.parse_pool
    try:
        assert (await monitor.poll("gazette")).poll.ok
        # Killed while idle (the OOM killer, an operator's kill): the next poll does not notice.
        (pid,) = pool.worker_pids()
        os.kill(pid, signal.SIGKILL)
        feed.body = big_feed(3100)
        rr = await monitor.poll("gazette")
        assert rr.poll.ok, rr.poll.error
        assert len(rr.new) == 100
        assert pool.worker_pids() and pool.worker_pids() != [pid]
        # Killed in the middle of a parse: that poll fails in words, the next one works.
        feed.body = slow_feed()
        poll = asyncio.create_task(monitor.poll("gazette"))
        (busy,) = await async_wait_until(pool.busy_pids, what="a parser process busy with the slow feed",
                                         interval=0.005)
        os.kill(busy, signal.SIGKILL)
        rr = await poll
        assert not rr.poll.ok
        assert rr.poll.error.startswith("feed parser was killed while reading this feed")
        feed.body = big_feed(3200)
        rr = await monitor.poll("gazette")
        assert rr.poll.ok, rr.poll.error
        assert len(rr.new) == 100
    finally:
        await monitor.aclose()


async def test_a_document_that_is_not_a_feed_says_so_from_the_child(httpserver: HTTPServer, tmp_path: Path) -> None:
    api = json.dumps([{"id": i, "text": "an API answer, not a feed"} for i in range(12_000)]).encode()
    assert len(api) > PROCESS_THRESHOLD
    feed = Switch(httpserver, api)
    monitor = monitor_for(feed.url, tmp_path / "data")
    try:
        rr = await monitor.poll("gazette")
        assert not rr.poll.ok and rr.poll.error == "not a feed (looks like JSON)"
        assert monitor.parse_pool.remote_parses == 1
        feed.body = big_feed()
        assert (await monitor.poll("gazette")).poll.ok  # the worker lived on
    finally:
        await monitor.aclose()


async def test_parsing_after_close_still_works_in_a_thread() -> None:
    pool = ParsePool()
    await pool.aclose()
    items = await pool.parse(big_feed(100) + b" " * PROCESS_THRESHOLD, {}, platform="News", source="g")
    assert len(items) == 100 and pool.worker_pids() == []


def test_item_rows_rebuild_equal_items() -> None:
    items = feed_items(parse_feed(big_feed(50)), platform="News", source="gazette")
    odd = Item.create(platform="News", source="gazette", native_id="odd", author="a", text="t",
                      published=EPOCH, engagement=Engagement(likes=3))
    odd.severity, odd.category, odd.reasons = Severity.HIGH, Category.CRISIS, ["r"]
    other_source = Item.create(platform="Blog", source="elsewhere", native_id="x", author="b", text="u", published=EPOCH)
    batch = [*items, odd, other_source]
    rows = encode_rows(batch, "News", "gazette")
    assert sum(isinstance(r, tuple) for r in rows) == 50  # the plain ones travel as tuples
    assert decode_rows(rows, "News", "gazette") == batch


async def test_the_app_shows_a_parse_blow_up_in_the_pane_and_keeps_running(httpserver: HTTPServer, tmp_path: Path) -> None:
    from ui_support import small_config, wait_for

    from watchtower.ui.app import WatchtowerApp

    feed = Switch(httpserver, slow_feed())
    config = small_config(sources=[{"kind": "rss", "name": "gazette", "platform": "News", "url": feed.url,
                                    "interval": 300}])
    app = WatchtowerApp(config, data_dir=tmp_path / "data", operator="alice", start_polling=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: app.monitor is not None, what="the stores")
        app.monitor.parse_pool.deadline = 0.05
        await pilot.press("r")
        await wait_for(pilot, lambda: "took longer than" in app.panes[1].health_plain,
                       what="the deadline error in the News pane")
        assert app.return_code is None
        app.monitor.parse_pool.deadline = 60
        feed.body = big_feed()
        await pilot.press("r")
        await wait_for(pilot, lambda: app.panes[1].list.row_count > 0, what="the big feed's rows")
        await wait_for(pilot, lambda: "✓ ok" in app.panes[1].health_plain, what="the pane's health back to ok")
        assert app.return_code is None



async def test_a_bug_while_decoding_rows_costs_one_worker_not_the_pool(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import watchtower.core.fetch.parsepool as parsepool

    feed = Switch(httpserver, big_feed())
    monitor = monitor_for(feed.url, tmp_path / "data")
    real = parsepool.decode_rows

    def broken(rows, platform, source):
        raise TypeError("a field was added to Item")

    try:
        monkeypatch.setattr(parsepool, "decode_rows", broken)
        rr = await monitor.poll("gazette")
        assert not rr.poll.ok and rr.poll.error.startswith("internal error in the rss connector (TypeError)")
        assert monitor.parse_pool.worker_pids() == [] and monitor.parse_pool.busy_pids() == []
        monkeypatch.setattr(parsepool, "decode_rows", real)
        rr = await monitor.poll("gazette")
        assert rr.poll.ok and len(rr.new) == 3000
    finally:
        await monitor.aclose()
