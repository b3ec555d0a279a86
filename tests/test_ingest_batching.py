"""What one poll costs the archive: a query per 500 items at most, never a read per item.

The archive is a real sqlite file in a tmp dir; a subclass counts the calls the monitor
makes (the public read methods), so a per-item read shows as thousands of calls.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from watchtower.config import parse_config
from watchtower.core.fetch.parsepool import PROCESS_THRESHOLD
from watchtower.core.models import NO_ENGAGEMENT, Item, SeenOn
from watchtower.core.pipeline.monitor import Monitor
from watchtower.core.record.archive import Archive

UTC = timezone.utc
WHEN = datetime(2024, 1, 2, 10, tzinfo=UTC)


class CountingArchive(Archive):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls: Counter[str] = Counter()

    def get(self, item_id: str) -> Item | None:
        self.calls["get"] += 1
        return super().get(item_id)

    def get_many(self, ids: Any) -> dict[str, Item]:
        self.calls["get_many"] += 1
        return super().get_many(ids)

    def sources_of(self, ids: Any) -> dict[str, str]:
        self.calls["sources_of"] += 1
        return super().sources_of(ids)


def _monitor(data: Path) -> tuple[Monitor, CountingArchive]:
    cfg = parse_config({"organisation": {"name": "Test Library", "timezone": "UTC"},
                        "alerts": {"bell": False, "desktop": False}, "sources": []})
    archive = CountingArchive(data)
    return Monitor(cfg, archive=archive, env={}), archive


def _items(source: str, n: int, *, site: str = "a.example", edited: datetime | None = None) -> list[Item]:
    return [
        Item.create(platform="News", source=source, native_id=str(i), author="a", text=f"text {i}",
                    title=f"story {i}", url=f"https://{site}/story/{i}", published=WHEN - timedelta(minutes=i),
                    edited_at=edited)
        for i in range(1, n + 1)
    ]


def test_upgrade_adopts_legacy_ids_without_reading_an_item_per_item(tmp_path: Path) -> None:
    """1,200 items the old version stored as ``News:<guid>`` (by "gazette"), and 30 legacy
    ids that another source ("wire") stored: gazette's keep their ids in one query per
    500 ids, wire's are not taken over (that collision is what per-source ids end)."""
    data = tmp_path / "data"
    old = _items("gazette", 1200)
    for item in old:
        item.id = item.legacy_id
    others = _items("wire", 30, site="w.example")
    for item in others:
        item.id = item.legacy_id.replace("News:", "News:w")  # no clash with gazette's
    with Archive(data) as archive:
        archive.add(old + others)
    m, archive = _monitor(data)
    try:
        polled = _items("gazette", 1200)
        assert m.ingest(polled) == []  # held already: nothing announced again
        assert {i.id for i in polled} == {f"News:{i}" for i in range(1, 1201)}
        # Before: one archive.get per adopted item (1,200 reads, ~30 ms per 1,000 items).
        assert archive.calls["get"] == 0
        assert archive.calls["sources_of"] == 1  # one call, 3 queries of 500 inside
        # Another source's copy of a legacy id is never adopted.
        courier = Item.create(platform="News", source="courier", native_id="w1", author="b", text="x", published=WHEN)
        assert courier.legacy_id == "News:w1" and [i.id for i in m.ingest([courier])] == ["News:courier:w1"]
        # Asked once per process: the second poll asks nothing.
        before = archive.calls["sources_of"]
        m.ingest(_items("gazette", 1200))
        assert archive.calls["sources_of"] == before
    finally:
        archive.close()


def test_a_mirror_of_600_links_is_folded_with_one_read_and_a_repoll_reads_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    m, archive = _monitor(data)
    assert len(m.ingest(_items("wire", 600))) == 600
    archive.close()
    # A restart: the links come from the archive; the mirror's copies fold onto wire's items.
    m, archive = _monitor(data)
    try:
        done = m.ingest_all(_items("mirror", 600))
        assert done.new == [] and done.also_seen == 600 and len(done.updated) == 600
        assert all(i.source == "wire" and list(i.also_seen_on) == [SeenOn("mirror", f"News:mirror:{n}")]
                   for n, i in enumerate(sorted(done.updated, key=lambda i: int(i.native_id)), start=1))
        assert archive.calls["get"] == 0  # before: 600 reads, one per host
        assert archive.calls["get_many"] == 1
        again = m.ingest_all(_items("mirror", 600))
        assert again.new == [] and again.updated == []
        assert archive.calls["get_many"] == 1  # linked already: nothing read
    finally:
        archive.close()


def test_300_edited_posts_read_their_held_copies_at_once(tmp_path: Path) -> None:
    m, archive = _monitor(tmp_path / "data")
    try:
        m.ingest(_items("masto", 300))
        done = m.ingest_all(_items("masto", 300, edited=WHEN + timedelta(hours=1)))
        assert done.new == [] and len(done.updated) == 300 and all(i.edited for i in done.updated)
        assert archive.calls["get"] == 0  # before: one read per edited post
        assert archive.get("News:masto:7").edited_at == WHEN + timedelta(hours=1)
        # The same edit polled again is known without reading anything.
        calls = dict(archive.calls)
        assert m.ingest_all(_items("masto", 300, edited=WHEN + timedelta(hours=1))).updated == []
        assert dict(archive.calls) == calls
    finally:
        archive.close()


def test_items_without_engagement_or_links_elsewhere_share_their_empty_parts() -> None:
    """An RSS item has no engagement counts and is seen on no other source: ten thousand of
    them carry no ten thousand objects for the cyclic collector to walk (bench P2)."""
    a, b = _items("gazette", 2)
    assert a.engagement is b.engagement is NO_ENGAGEMENT
    assert a.also_seen_on == () and not gc.is_tracked(a.also_seen_on)
    back = Item.from_json(a.to_json())
    assert back.engagement == NO_ENGAGEMENT and back.also_seen_on == ()


_FIRST_POLL = textwrap.dedent("""
    import asyncio, json, sys, threading
    from watchtower.config import parse_config
    from watchtower.core.pipeline.monitor import Monitor

    LAZY = ("watchtower.core.fetch.feeds", "anyio._core._synchronization", "anyio._backends._asyncio")
    where = {}

    class Watch:  # consulted for every module not imported yet, then leaves it to the others
        @staticmethod
        def find_spec(name, path=None, target=None):
            if name in LAZY:
                where.setdefault(name, threading.current_thread().name)
            return None

    sys.meta_path.insert(0, Watch)

    async def main(url, data):
        cfg = parse_config({"organisation": {"name": "T", "timezone": "UTC"}, "alerts": {"bell": False, "desktop": False},
                            "sources": [{"kind": "rss", "name": "big", "platform": "News", "url": url}]})
        m = Monitor(cfg, data_dir=data, env={})
        loop_thread = threading.current_thread().name
        try:
            rr = await m.poll("big")
        finally:
            await m.aclose()
        print(json.dumps({"new": len(rr.new), "error": rr.poll.error,
                          "on_loop": sorted(m for m, t in where.items() if t == loop_thread),
                          "imported": sorted(where)}))

    asyncio.run(main(sys.argv[1], sys.argv[2]))
""")


@pytest.mark.slow
def test_a_big_first_poll_imports_the_feed_parsers_off_the_loop(httpserver: HTTPServer, tmp_path: Path) -> None:
    """A feed over 256 KB is parsed in a child process; the connector then imports the
    parsers' module itself, on the loop (10-15 ms of the UI's time, once), and the HTTP
    pool's first request imports anyio's backend there (about 35 ms).  Not any more."""
    items = "".join(
        f"<item><guid>g{i}</guid><title>Story {i}</title><link>https://a.example/{i}</link>"
        f"<description>{'opening hours changed again ' * 8}</description>"
        f"<pubDate>Tue, 02 Jan 2024 10:00:00 GMT</pubDate></item>"
        for i in range(1200)
    )
    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()
    assert len(body) > PROCESS_THRESHOLD
    httpserver.expect_request("/big.xml").respond_with_data(body, content_type="application/rss+xml")
    proc = subprocess.run([sys.executable, "-c", _FIRST_POLL, httpserver.url_for("/big.xml"), str(tmp_path / "data")],
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["error"] is None and got["new"] == 1200
    assert got["imported"] == ["anyio._backends._asyncio", "anyio._core._synchronization", "watchtower.core.fetch.feeds"]
    assert got["on_loop"] == []


def _burst(source: str, n: int, now: datetime) -> list[Item]:
    """``n`` posts within the last half hour, most of them a burst in the last five minutes."""
    words = ["the library is closed", "fire alarm at the branch", "great event, thanks", "my card is blocked",
             "refund please", "opening hours changed again"]
    return [
        Item.create(platform="News", source=source, native_id=f"b{k}", author=f"@u{k % 37}", text=f"{words[k % 6]} #{k}",
                    url=f"https://b.example/{k}", published=now - timedelta(seconds=(k * 7) % 1800 if k % 4 else k % 300))
        for k in range(n)
    ]


def _verdicts(items: list[Item]) -> list[tuple[Any, ...]]:
    return [(i.id, i.severity, i.category, list(i.reasons), i.spike, i.reach, i.coverage) for i in items]


def test_a_big_batch_is_triaged_in_slices_that_let_the_gil_go_and_judge_alike(monkeypatch) -> None:
    """A 10,000-item batch was triaged in one call, the GIL let go only when CPython forced
    it (every 5 ms); now every TRIAGE_SLICE items.  The verdicts, spikes included, are what
    one Triager.triage call over the whole batch gives."""
    from watchtower.core.pipeline import monitor as monitor_module
    from watchtower.core.pipeline.monitor import TRIAGE_SLICE
    from watchtower.core.triage.engine import Triager

    now = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
    cfg = parse_config({"organisation": {"name": "Riverside Library", "timezone": "UTC"},
                        "alerts": {"bell": False, "desktop": False}, "sources": []})
    whole = _burst("feed", 7 * TRIAGE_SLICE + 31, now)
    Triager(cfg).triage(whole, now=now)
    assert any(i.spike for i in whole)  # the burst is a spike: the volume matters here

    let_go: list[float] = []
    real_sleep = monitor_module.time.sleep
    monkeypatch.setattr(monitor_module.time, "sleep", lambda s: (let_go.append(s), real_sleep(s)))
    m = Monitor(cfg, env={}, clock=lambda: now)
    sliced = _burst("feed", len(whole), now)
    assert m.ingest(sliced) == sliced
    assert _verdicts(sliced) == _verdicts(whole)
    assert let_go.count(0) >= len(whole) // TRIAGE_SLICE - 1  # before: never
