"""Ingest correctness under hostile feeds and servers (issue 15, points 13-17, 19, 20).

Every feed and API is served over real HTTP on 127.0.0.1 (pytest-httpserver); the archive
and the handover log are real files in tmp dirs; ``watchtower check`` and ``fetch`` run
as real processes.  Time for the alerter comes from a fake clock.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from watchtower.config import Alerts, parse_config
from watchtower.core.alert.alerts import Alerter
from watchtower.core.models import NO_TEXT, Item, SeenOn, Severity, utcnow
from watchtower.core.pipeline.monitor import Monitor
from watchtower.core.record.archive import Archive

UTC = timezone.utc


# ---------------------------------------------------------------------------- helpers


def rss(items: list[dict[str, str]], *, close: bool = True) -> bytes:
    """An RSS 2.0 document; ``close=False`` cuts it off before its end tags."""
    parts = []
    for it in items:
        fields = "".join(f"<{k}>{v}</{k}>" for k, v in it.items())
        parts.append(f"<item>{fields}</item>")
    doc = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>' + "".join(parts)
    if close:
        doc += "</channel></rss>"
    return doc.encode()


def numbered(n: int, site: str, *, date: str = "Tue, 02 Jan 2024 10:00:00 GMT") -> list[dict[str, str]]:
    """``n`` items with guids ``1..n`` (numeric, as many real feeds have) and links on ``site``."""
    return [
        {"guid": str(i), "title": f"{site} story {i}", "link": f"https://{site}/story/{i}",
         "description": f"text {i} from {site}", "pubDate": date}
        for i in range(1, n + 1)
    ]


def config(sources: list[dict[str, Any]], **top: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "organisation": {"name": "Test Library", "timezone": "UTC"},
        "alerts": {"bell": False, "desktop": False},
        "sources": sources,
    }
    cfg.update(top)
    return cfg


def rss_source(name: str, url: str, platform: str = "News") -> dict[str, Any]:
    return {"kind": "rss", "name": name, "platform": platform, "url": url, "interval": 60}


def toml(cfg: dict[str, Any]) -> str:
    """The few shapes these tests use, as TOML."""
    lines = []
    for src in cfg["sources"]:
        lines.append("[[sources]]")
        mapping = src.get("mapping")
        for k, v in src.items():
            if k != "mapping":
                lines.append(f"{k} = {json.dumps(v)}")
        if mapping:
            lines.append("[sources.mapping]")
            lines += [f"{k} = {json.dumps(v)}" for k, v in mapping.items()]
    return "\n".join(lines) + "\n"


def monitor(cfg: dict[str, Any], data_dir: Path | None = None) -> Monitor:
    return Monitor(parse_config(cfg), data_dir=data_dir, env={})


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "watchtower", *args], capture_output=True, text=True, timeout=120, check=False,
    )


# ---------------------------------------------------------------------------- 13: identity


async def test_two_feeds_with_equal_numeric_guids_keep_every_item(httpserver: HTTPServer, tmp_path: Path) -> None:
    """Guids 1..14 on two feeds of one platform: 28 items, and each health count is what shows."""
    httpserver.expect_request("/a.xml").respond_with_data(rss(numbered(14, "a.example")), content_type="application/rss+xml")
    httpserver.expect_request("/b.xml").respond_with_data(rss(numbered(14, "b.example")), content_type="application/rss+xml")
    m = monitor(config([rss_source("gazette", httpserver.url_for("/a.xml")),
                        rss_source("courier", httpserver.url_for("/b.xml"))]), tmp_path / "data")
    try:
        first = await m.poll("gazette")
        second = await m.poll("courier")
        assert len(first.new) == 14 and len(second.new) == 14
        assert {i.source for i in second.new} == {"courier"}
        assert len({i.id for i in first.new} | {i.id for i in second.new}) == 28
        for rr in (first, second):
            state = m.poller.states[rr.poll.source]
            # The health line's count and what the pane holds agree.
            assert state.last_count == state.last_new == len(rr.new) == 14
        stored = m.archive.recent(limit=100)
        assert sorted(i.source for i in stored) == ["courier"] * 14 + ["gazette"] * 14
        # Re-polls add nothing.
        assert (await m.poll("courier")).new == [] and (await m.poll("gazette")).new == []
        assert m.poller.states["courier"].last_new == 0
    finally:
        await m.aclose()


async def test_one_link_from_two_sources_is_one_item_also_seen_on_the_other(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    shared = {"guid": "wire-77", "title": "Library closes", "link": "https://wire.example/77",
              "description": "the same story", "pubDate": "Tue, 02 Jan 2024 10:00:00 GMT"}
    own = numbered(2, "b.example")
    httpserver.expect_request("/a.xml").respond_with_data(rss([shared]), content_type="application/rss+xml")
    httpserver.expect_request("/b.xml").respond_with_data(
        rss([{**shared, "guid": "b-77", "link": "https://wire.example/77#top"}, *own]), content_type="application/rss+xml"
    )
    data = tmp_path / "data"
    m = monitor(config([rss_source("wire", httpserver.url_for("/a.xml")),
                        rss_source("courier", httpserver.url_for("/b.xml"))]), data)
    try:
        (held,) = (await m.poll("wire")).new
        rr = await m.poll("courier")
        assert [i.title for i in rr.new] == ["b.example story 1", "b.example story 2"]  # not shown twice...
        (linked,) = rr.updated  # ...but visibly linked on the item that shows
        assert linked.id == held.id and linked.also_seen_on == [SeenOn("courier", "News:courier:b-77")]
        assert m.poller.states["courier"].last_also_seen == 1 and m.poller.states["courier"].last_new == 2
        assert m.archive.get(held.id).also_seen_on == linked.also_seen_on
        assert linked.to_json()["also_seen_on"] == [{"source": "courier", "id": "News:courier:b-77"}]
        again = await m.poll("courier")
        assert again.new == [] and again.updated == []  # linked once
    finally:
        await m.aclose()
    # After a restart the link is still known: no second row, no second link.
    m2 = monitor(config([rss_source("wire", httpserver.url_for("/a.xml")),
                         rss_source("courier", httpserver.url_for("/b.xml"))]), data)
    try:
        rr = await m2.poll("courier")
        assert rr.new == [] and rr.updated == []
    finally:
        await m2.aclose()


async def test_upgrade_keeps_items_and_decisions_stored_under_legacy_ids(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    """An archive and a handover log written when ids were ``platform:guid``.

    The items the old version stored (for the source that stored them) keep their ids:
    they are not announced again, and a claim made on one still shows.  The other
    source's items, which the old ids swallowed, now appear.
    """
    from watchtower.core.record.decisions import item_states
    from watchtower.core.record.log import HandoverLog

    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    old = []
    for entry in numbered(3, "a.example"):
        item = Item.create(platform="News", source="gazette", native_id=entry["guid"], author="a",
                           text=entry["description"], title=entry["title"], url=entry["link"],
                           published=datetime(2024, 1, 2, 10, tzinfo=UTC))
        item.id = item.legacy_id  # as the old version stored it: "News:1"
        old.append(item)
    with Archive(data) as archive:
        archive.add(old)
        archive.mark_seen(["News:2"])
    HandoverLog(data).append("claimed", operator="ann", item_id="News:1", platform="News")

    httpserver.expect_request("/a.xml").respond_with_data(rss(numbered(3, "a.example")), content_type="application/rss+xml")
    httpserver.expect_request("/b.xml").respond_with_data(rss(numbered(3, "b.example")), content_type="application/rss+xml")
    m = monitor(config([rss_source("gazette", httpserver.url_for("/a.xml")),
                        rss_source("courier", httpserver.url_for("/b.xml"))]), data)
    try:
        gazette = await m.poll("gazette")
        courier = await m.poll("courier")
        assert gazette.new == []  # held already: no second announcement
        assert sorted(i.id for i in gazette.poll.items) == ["News:1", "News:2", "News:3"]
        assert sorted(i.id for i in courier.new) == ["News:courier:1", "News:courier:2", "News:courier:3"]
        assert m.archive.seen_ids() == {"News:2"}
        states = item_states(HandoverLog(data).entries())
        assert states["News:1"].claimed_by == "ann"
        assert (await m.poll("gazette")).new == []  # remembered, also without the archive read
    finally:
        await m.aclose()


def test_reply_once_guard_knows_the_parent_under_its_per_source_id() -> None:
    """We replied to a post (thread = its id); a comment on it is the same thread."""
    from watchtower.core.respond.replies import PreviousReply, check_reply_once, thread_key

    when = datetime(2024, 1, 2, 10, tzinfo=UTC)
    post = Item.create(platform="Reddit", source="r-library", native_id="t3_abc", author="u/a", text="post", published=when)
    comment = Item.create(platform="Reddit", source="r-library", native_id="t1_xyz", author="u/b", text="reply",
                          published=when, in_reply_to="t3_abc")
    ours = PreviousReply("ann", when, author="u/a", thread=thread_key(post), platform="Reddit")
    warning = check_reply_once(comment, [ours], now=when + timedelta(hours=1))
    assert warning is not None and warning.reason == "thread"


@pytest.mark.slow
def test_check_and_fetch_json_show_both_feeds_with_equal_guids(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/a.xml").respond_with_data(rss(numbered(14, "a.example")), content_type="application/rss+xml")
    httpserver.expect_request("/b.xml").respond_with_data(rss(numbered(14, "b.example")), content_type="application/rss+xml")
    cfg = tmp_path / "c.toml"
    cfg.write_text(toml(config([rss_source("gazette", httpserver.url_for("/a.xml")),
                                rss_source("courier", httpserver.url_for("/b.xml"))])))
    check = run_cli("check", "--config", str(cfg))
    assert check.returncode == 0, check.stdout + check.stderr
    lines = [line for line in check.stdout.splitlines() if "gazette" in line or "courier" in line]
    assert len(lines) == 2 and all("14 items" in line for line in lines), check.stdout
    fetched = run_cli("fetch", "--config", str(cfg), "--json")
    assert fetched.returncode == 0, fetched.stderr
    rows = [json.loads(line) for line in fetched.stdout.splitlines()]
    assert sum(r["source"] == "gazette" for r in rows) == 14
    assert sum(r["source"] == "courier" for r in rows) == 14
    assert len({r["id"] for r in rows}) == 28


# ---------------------------------------------------------------------------- 14: warnings


def _not_modified(request: Request) -> Response:
    return Response(status=304)


@pytest.mark.parametrize("kind", ["rss", "json"])
async def test_304_to_a_plain_request_is_a_warning_not_health(httpserver: HTTPServer, kind: str) -> None:
    httpserver.expect_request("/feed").respond_with_handler(_not_modified)
    src: dict[str, Any] = {"kind": kind, "name": "lazy", "platform": "News", "url": httpserver.url_for("/feed")}
    m = monitor(config([src]))
    try:
        rr = await m.poll("lazy")
        probe = await m.poller.probe("lazy")
    finally:
        await m.aclose()
    assert rr.poll.ok and rr.poll.items == []
    assert rr.poll.warnings and "304" in rr.poll.warnings[0] and "no items" in rr.poll.warnings[0]
    assert m.poller.states["lazy"].warning == rr.poll.warnings[0]
    assert probe.warnings == rr.poll.warnings  # `watchtower check` probes


async def test_304_to_a_conditional_request_is_no_warning(httpserver: HTTPServer) -> None:
    body = rss(numbered(2, "a.example"))

    def handler(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response(body, headers={"ETag": '"v1"', "Content-Type": "application/rss+xml"})

    httpserver.expect_request("/feed").respond_with_handler(handler)
    m = monitor(config([rss_source("ok", httpserver.url_for("/feed"))]))
    try:
        first = await m.poll("ok")
        second = await m.poll("ok")
    finally:
        await m.aclose()
    assert len(first.new) == 2 and first.poll.warnings == []
    assert second.poll.not_modified and second.poll.warnings == []


async def test_truncated_feed_keeps_its_complete_items_and_says_so(httpserver: HTTPServer) -> None:
    whole = rss(numbered(5, "a.example"))
    cut = whole[: whole.index(b"<item>", whole.index(b"story 4")) - 200]  # inside item 3
    assert b"</rss>" not in cut

    def handler(request: Request) -> Response:
        return Response(cut, headers={"ETag": '"cut"', "Content-Type": "application/rss+xml"})

    httpserver.expect_request("/feed").respond_with_handler(handler)
    m = monitor(config([rss_source("cut", httpserver.url_for("/feed"))]))
    try:
        rr = await m.poll("cut")
    finally:
        await m.aclose()
    assert rr.poll.ok and [i.native_id for i in rr.poll.items] == ["1", "2"]
    (warning,) = rr.poll.warnings
    assert "cut short" in warning and "2 complete items" in warning
    # No validators from a cut document: the next poll fetches the whole feed again.
    assert m.poller.states["cut"].etag is None


def test_end_tag_before_trailing_junk_is_not_cut_short() -> None:
    from watchtower.core.fetch.feeds import cut_short

    whole = rss(numbered(2, "a.example"))
    assert not cut_short(whole) and cut_short(whole[:-20])
    assert not cut_short(whole + b"<!-- " + b"x" * 4000 + b" -->")
    assert not cut_short(b'{"version": "https://jsonfeed.org/version/1.1", "items": [')  # JSON: not judged here


@pytest.mark.slow
def test_check_prints_both_warnings(httpserver: HTTPServer, tmp_path: Path) -> None:
    whole = rss(numbered(3, "a.example"))
    httpserver.expect_request("/cut").respond_with_data(whole[:-40], content_type="application/rss+xml")
    httpserver.expect_request("/lazy").respond_with_handler(_not_modified)
    cfg = tmp_path / "c.toml"
    cfg.write_text(toml(config([rss_source("cut", httpserver.url_for("/cut")),
                                rss_source("lazy", httpserver.url_for("/lazy"))])))
    out = run_cli("check", "--config", str(cfg))
    assert "Traceback" not in out.stderr
    text = out.stdout
    assert "⚠ cut" in text and "cut short" in text, text
    assert "⚠ lazy" in text and "304 Not Modified" in text, text


# ---------------------------------------------------------------------------- 15: dates


ABSURD = {
    "year-1": "Mon, 01 Jan 0001 00:00:00 GMT",
    "year-9999": "Fri, 31 Dec 9999 23:59:59 GMT",
    "epoch-0": "Thu, 01 Jan 1970 00:00:00 GMT",
    "far-future": "2090-06-01T00:00:00Z",
    "garbage": "yesterday-ish",
    "none": "",
}


@pytest.mark.parametrize("parser", ["fast", "feedparser"])
async def test_absurd_dates_are_unknown_sorted_by_arrival_and_not_a_spike(
    httpserver: HTTPServer, tmp_path: Path, parser: str
) -> None:
    entries = [{"guid": name, "title": f"story {name}", "link": f"https://a.example/{name}",
                "description": "x", **({"pubDate": date} if date else {})} for name, date in ABSURD.items()]
    # Enough undated items to make a spike (min_count 5, nothing before) if they counted as "now".
    entries += [{"guid": f"undated-{i}", "title": f"undated {i}", "link": f"https://a.example/u{i}",
                 "description": "x", "pubDate": "garbage"} for i in range(10)]
    entries.append({"guid": "dated", "title": "dated", "link": "https://a.example/d", "description": "x",
                    "pubDate": "Tue, 02 Jan 2024 10:00:00 GMT"})
    httpserver.expect_request("/feed").respond_with_data(rss(entries), content_type="application/rss+xml")
    m = monitor(config([rss_source("odd", httpserver.url_for("/feed"))]), tmp_path / "data")
    m.source("odd").parser = parser
    before = utcnow()
    try:
        rr = await m.poll("odd")
        after = utcnow()
        by_guid = {i.native_id: i for i in rr.new}
        for name in [*ABSURD, *(f"undated-{i}" for i in range(10))]:
            item = by_guid[name]
            assert item.date_unknown and item.published_known is None, (name, item.published)
            assert before <= item.published <= after  # arrival: sorts where it came in
            assert not item.spike and not any("baseline" in r for r in item.reasons)
        dated = by_guid["dated"]
        assert not dated.date_unknown and dated.published_known == datetime(2024, 1, 2, 10, tzinfo=UTC)
        # Not counted in the volume as "now".
        assert m.triager.volume("News")[-1] == 0
        assert not m.triager.spike_status("News").active
        # Stored and read back with the flag (and its arrival time).
        again = {i.native_id: i for i in m.archive.recent(limit=100)}
        assert again["year-9999"].date_unknown and again["year-9999"].published == by_guid["year-9999"].published
        assert by_guid["epoch-0"].to_json()["date_unknown"] is True
    finally:
        await m.aclose()


async def test_absurd_dates_from_json_apis_are_unknown(httpserver: HTTPServer) -> None:
    posts = [{"id": str(i), "text": f"post {i}", "published": ts}
             for i, ts in enumerate(["0001-01-01T00:00:00Z", "9999-12-31T00:00:00Z", 0, "not a date",
                                     "2024-01-02T10:00:00Z"])]
    httpserver.expect_request("/api").respond_with_json(posts)
    m = monitor(config([{"kind": "json", "name": "api", "platform": "Forum", "url": httpserver.url_for("/api")}]))
    try:
        rr = await m.poll("api")
    finally:
        await m.aclose()
    assert [i.date_unknown for i in rr.new] == [True, True, True, True, False]


# ---------------------------------------------------------------------------- 16: empty rows


async def test_item_without_title_or_text_gets_a_placeholder_with_its_host(httpserver: HTTPServer) -> None:
    entries = [{"guid": "bare", "link": "https://bare.example/p/1"}, {"guid": "ok", "title": "fine", "link": "https://x.example/"}]
    httpserver.expect_request("/feed").respond_with_data(rss(entries), content_type="application/rss+xml")
    httpserver.expect_request("/api/v1/timelines/tag/library").respond_with_json(
        [{"id": "1", "uri": "https://masto.example/s/1", "url": "https://masto.example/@x/1", "content": "",
          "created_at": "2024-01-02T10:00:00Z", "account": {"acct": "x"}}]
    )
    m = monitor(config([rss_source("bare", httpserver.url_for("/feed")),
                        {"kind": "mastodon", "name": "masto", "platform": "Mastodon",
                         "url": httpserver.url_for("/").rstrip("/"), "tag": "library"}]))
    try:
        feed = await m.poll("bare")
        masto = await m.poll("masto")
    finally:
        await m.aclose()
    bare, ok = feed.new
    assert bare.headline == f"{NO_TEXT} bare.example" and ok.headline == "fine"
    assert masto.new[0].headline == f"{NO_TEXT} masto.example"
    assert Item.create(platform="X", source="x", native_id="1", author="a", text="", published=None).headline == NO_TEXT


# ---------------------------------------------------------------------------- 17: Mastodon


def _status(sid: str, content: str, *, edited_at: str | None = None, spoiler: str = "") -> dict[str, Any]:
    return {"id": sid, "uri": f"https://masto.example/users/x/statuses/{sid}", "url": f"https://masto.example/@x/{sid}",
            "content": content, "spoiler_text": spoiler, "created_at": "2024-01-02T10:00:00Z", "edited_at": edited_at,
            "account": {"acct": "x", "followers_count": 10}}


async def test_mastodon_edit_replaces_the_held_status_and_is_marked(httpserver: HTTPServer, tmp_path: Path) -> None:
    timeline: dict[str, list[dict[str, Any]]] = {"now": [_status("1", "<p>The library is open</p>")]}
    # A server that ignores since_id, like the newest page read after a restart.
    httpserver.expect_request("/api/v1/timelines/tag/library").respond_with_handler(
        lambda request: Response(json.dumps(timeline["now"]), content_type="application/json")
    )
    src = {"kind": "mastodon", "name": "masto", "platform": "Mastodon",
           "url": httpserver.url_for("/").rstrip("/"), "tag": "library"}
    data = tmp_path / "data"
    m = monitor(config([src]), data)
    try:
        (first,) = (await m.poll("masto")).new
        assert not first.edited
        timeline["now"] = [_status("1", "<p>The library is CLOSED today</p>", edited_at="2024-01-02T10:05:00Z")]
        rr = await m.poll("masto")
        assert rr.new == []
        (edited,) = rr.updated
        assert edited.id == first.id and edited.edited and "CLOSED" in edited.text
        assert edited.to_json()["edited_at"] == "2024-01-02T10:05:00Z"
        assert "CLOSED" in m.archive.get(first.id).text
        assert (await m.poll("masto")).updated == []  # the same edit once
    finally:
        await m.aclose()
    # After a restart: an older version (or the same edit) changes nothing, a later one does.
    m2 = monitor(config([src]), data)
    try:
        timeline["now"] = [_status("1", "<p>stale copy</p>", edited_at="2024-01-02T10:01:00Z")]
        assert (await m2.poll("masto")).updated == []
        timeline["now"] = [_status("1", "<p>open again</p>", edited_at="2024-01-02T11:00:00Z"),
                           _status("1", "<p>an older copy in the same page</p>", edited_at="2024-01-02T10:30:00Z")]
        (latest,) = (await m2.poll("masto")).updated
        assert latest.text == "open again" and m2.archive.get(first.id).text == "open again"
    finally:
        await m2.aclose()


async def test_content_warning_row_shows_the_warning_and_the_panel_the_text(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/v1/timelines/tag/library").respond_with_json(
        [_status("7", "<p>The director resigned</p>", spoiler="library politics")]
    )
    m = monitor(config([{"kind": "mastodon", "name": "masto", "platform": "Mastodon",
                         "url": httpserver.url_for("/").rstrip("/"), "tag": "library"}]))
    try:
        (item,) = (await m.poll("masto")).new
    finally:
        await m.aclose()
    assert item.content_warning == "library politics"
    assert item.headline == "CW: library politics" and "resigned" not in item.headline
    assert "The director resigned" in item.text
    assert item.to_json()["content_warning"] == "library politics"
    assert Item.from_json(item.to_json()).headline == "CW: library politics"


# ---------------------------------------------------------------------------- 19: stale alerts


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_many_stale_sources_make_one_alert_under_the_cooldown() -> None:
    clock = FakeClock()
    alerter = Alerter(Alerts(min_severity="high", cooldown_seconds=300), clock=clock, env={})
    t0 = datetime(2024, 5, 4, 3, 0, tzinfo=UTC)
    names = [f"src{i:02d}" for i in range(21)]
    # The UI notes each stale source as its health line is drawn...
    noted = [alerter.stale_source(n, "News" if i % 2 else "Mastodon", t0 - timedelta(minutes=30), now=t0)
             for i, n in enumerate(names)]
    assert noted == [None] * 21
    # ...and the next flush says it once.
    (alert,) = alerter.flush()
    assert alert.kind == "stale" and alert.count == 21 and alert.severity is Severity.HIGH
    assert alert.title == "21 sources stale: src00, src01, src02 and 18 more"
    assert "Mastodon" in alert.body and "News" in alert.body
    assert alerter.flush() == []
    # More go silent inside the cooldown: held (not a toast each), then one summary.
    late = alerter.stale_sources([("late1", "Reddit", None), ("late2", "Reddit", None)])
    assert late is None and alerter.stale_held == 2
    assert alerter.next_due() == pytest.approx(300.0)
    clock.now += 299
    assert alerter.flush() == []
    clock.now += 1
    (second,) = alerter.flush()
    assert second.count == 2 and second.title == "2 sources stale: late1, late2"
    # A recovered source is dropped from what is held, and alerts again after a new outage.
    alerter.stale_source("late1", "Reddit", None)  # already alerted: nothing
    alerter.source_recovered("late2")
    assert alerter.stale_held == 0
    clock.now += 300
    single = alerter.stale_sources([("late2", "Reddit", None)])
    assert single is not None and single.count == 1 and "late2" in single.title


# ---------------------------------------------------------------------------- 20: HTML in JSON


HTML_BODY = '<p>Library <span class="h">closed</span> &amp; locked</p><ul><li>one</li><li>two</li></ul>'


@pytest.mark.parametrize(
    ("html", "body", "expected"),
    [
        (True, HTML_BODY, "Library closed & locked\none\ntwo"),
        (None, HTML_BODY, "Library closed & locked\none\ntwo"),  # obvious HTML, unset: converted
        (None, "I <3 the <b> key & more", "I <3 the <b> key & more"),  # not obvious: kept
        (False, HTML_BODY, HTML_BODY),  # said to be plain: kept as sent
    ],
)
async def test_mapped_json_html_goes_through_the_feed_html_path(
    httpserver: HTTPServer, html: bool | None, body: str, expected: str
) -> None:
    httpserver.expect_request("/api").respond_with_json({"posts": [{"id": "1", "body": body, "headline": "<b>Hi</b>"}]})
    mapping: dict[str, Any] = {"items": "posts", "text": "body", "title": "headline"}
    if html is not None:
        mapping["html"] = html
    m = monitor(config([{"kind": "json", "name": "api", "platform": "Forum",
                         "url": httpserver.url_for("/api"), "mapping": mapping}]))
    try:
        (item,) = (await m.poll("api")).new
    finally:
        await m.aclose()
    assert item.text == expected
    assert item.title == ("<b>Hi</b>" if html is False else "Hi")


def test_mapping_html_key_in_a_toml_config(tmp_path: Path) -> None:
    from watchtower.config import load_config

    path = tmp_path / "c.toml"
    path.write_text(toml(config([{"kind": "json", "name": "api", "platform": "Forum", "url": "https://api.example/x",
                                  "mapping": {"items": "posts", "html": True}}])))
    assert load_config(path).sources[0].mapping.html is True
