"""What ingest learned (issue 15, points 13-17) reaches the live screen, polled for real.

Feeds and a Mastodon timeline are served over HTTP on 127.0.0.1 (pytest-httpserver); the
app polls them through its real connectors, pipeline and Desk.  An edit replaces the item
held (row and panel), a feed cut short is a warning on the pane's health line, and the
response panel shows the content warning above the text, "edited", "date unknown" where
the time would be, and the other sources that delivered the same link.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pytest_httpserver import HTTPServer
from ui_support import clock, wait_for
from werkzeug import Response

from watchtower.config import parse_config
from watchtower.ui.app import WatchtowerApp
from watchtower.ui.screens.response import ResponseScreen


def rss(items: list[dict[str, str]], *, close: bool = True) -> bytes:
    parts = ["<item>" + "".join(f"<{k}>{v}</{k}>" for k, v in it.items()) + "</item>" for it in items]
    doc = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>' + "".join(parts)
    return (doc + ("</channel></rss>" if close else "")).encode()


def status(sid: str, content: str, *, edited_at: str | None = None, spoiler: str = "") -> dict[str, Any]:
    return {"id": sid, "uri": f"https://masto.example/users/x/statuses/{sid}", "url": f"https://masto.example/@x/{sid}",
            "content": content, "spoiler_text": spoiler, "created_at": "2026-11-22T14:00:00Z", "edited_at": edited_at,
            "account": {"acct": "x", "followers_count": 10}}


def app_for(server: HTTPServer, tmp_path: Path, *, paper_url: str | None = None) -> WatchtowerApp:
    base = server.url_for("/").rstrip("/")
    config = parse_config({
        "organisation": {"name": "Riverside Library", "timezone": "Europe/Amsterdam"},
        "alerts": {"bell": False, "desktop": False},
        "sources": [
            {"kind": "mastodon", "name": "masto", "platform": "Mastodon", "url": base, "tag": "library", "interval": 300},
            {"kind": "rss", "name": "paper", "platform": "News", "url": paper_url or base + "/paper.rss", "interval": 300},
            {"kind": "rss", "name": "blog", "platform": "News", "url": base + "/blog.rss", "interval": 300},
        ],
    })
    return WatchtowerApp(config, data_dir=tmp_path / "data", operator="alice", clock=clock, start_polling=False, env={})


def serve(server: HTTPServer, path: str, body: dict[str, Any]) -> None:
    """Serve ``body["now"]`` at ``path`` (changed by the test between polls)."""
    def handler(_request: Any) -> Response:
        data = body["now"]
        if isinstance(data, bytes):
            return Response(data, content_type="application/rss+xml")
        return Response(json.dumps(data), content_type="application/json")

    server.expect_request(path).respond_with_handler(handler)


async def poll(pilot) -> None:  # type: ignore[no-untyped-def]
    app = pilot.app
    await wait_for(pilot, lambda: app.monitor is not None, what="stores to open")
    await app.poll_everything_once()
    await pilot.pause()
    await wait_for(pilot, lambda: app.views_settled, what="the panes drawn")


async def panel_body(pilot, item: Any) -> Any:  # type: ignore[no-untyped-def]
    """Open the response panel on ``item``; its body widget once drawn."""
    app = pilot.app
    app.open_response(item)
    await wait_for(pilot, lambda: isinstance(app.screen, ResponseScreen) and app.screen.item is item
                   and bool(app.screen.query("#item-body")), what="the response panel")
    await pilot.pause()
    return app.screen.query_one("#item-body")


def pane(app: WatchtowerApp, platform: str) -> Any:
    return app.panes[1 + app.platforms.index(platform)]


def rows(p: Any) -> list[str]:
    return [p.list.row_plain(i) for i in range(p.list.row_count)]


async def test_an_edit_replaces_the_item_in_its_row_and_in_the_open_panel(httpserver: HTTPServer, tmp_path: Path) -> None:
    timeline: dict[str, Any] = {"now": [status("1", "<p>The library is open</p>")]}
    serve(httpserver, "/api/v1/timelines/tag/library", timeline)
    serve(httpserver, "/paper.rss", {"now": rss([])})
    serve(httpserver, "/blog.rss", {"now": rss([])})
    async with app_for(httpserver, tmp_path).run_test(size=(120, 40)) as pilot:
        app = pilot.app
        await poll(pilot)
        (item,) = app.items.values()
        body = await panel_body(pilot, item)
        assert "edited" not in str(body.render())
        timeline["now"] = [status("1", "<p>The library is CLOSED today</p>", edited_at="2026-11-22T14:05:00Z")]
        await poll(pilot)
        assert len(app.items) == 1 and app.items[item.id].edited
        await wait_for(pilot, lambda: "CLOSED" in str(body.render()), what="the panel to show the edit",
                       seen=lambda: str(body.render()))
        assert "✎ edited Sun 15:05" in str(body.render())
        await pilot.press("escape")
        await wait_for(pilot, lambda: any("✎ The library is CLOSED today" in r for r in rows(pane(app, "Mastodon"))),
                       what="the row to show the edit", seen=lambda: rows(pane(app, "Mastodon")))


async def test_the_panel_shows_the_content_warning_above_the_text_the_row_only_the_warning(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    serve(httpserver, "/api/v1/timelines/tag/library",
          {"now": [status("7", "<p>The director resigned</p>", spoiler="library politics")]})
    serve(httpserver, "/paper.rss", {"now": rss([])})
    serve(httpserver, "/blog.rss", {"now": rss([])})
    async with app_for(httpserver, tmp_path).run_test(size=(120, 40)) as pilot:
        app = pilot.app
        await poll(pilot)
        (row,) = rows(pane(app, "Mastodon"))
        assert "CW: library politics" in row and "resigned" not in row
        body = str((await panel_body(pilot, next(iter(app.items.values())))).render())
        assert "CW: library politics\nThe director resigned" in body and body.count("CW:") == 1


async def test_a_feed_cut_short_warns_on_the_health_line_and_dates_and_duplicates_show_in_the_panel(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    serve(httpserver, "/api/v1/timelines/tag/library", {"now": []})
    story = {"guid": "1", "title": "Library closes early", "link": "https://paper.example/story/1",
             "description": "The library closes at noon", "pubDate": "Sun, 22 Nov 2026 13:00:00 GMT"}
    undated = {"guid": "2", "title": "Library garden opens", "link": "https://paper.example/story/2",
               "description": "A new garden", "pubDate": "Mon, 01 Jan 0001 00:00:00 GMT"}
    whole = rss([story, undated, {**story, "guid": "3", "link": "https://paper.example/story/3"}])
    cut = whole[: whole.index(b"<item>", whole.index(b"story/2")) + 40]  # inside the third item
    serve(httpserver, "/paper.rss", {"now": cut})
    serve(httpserver, "/blog.rss", {"now": rss([{**story, "guid": "b1"}])})  # the same link, another source
    async with app_for(httpserver, tmp_path).run_test(size=(160, 40)) as pilot:
        app = pilot.app
        await poll(pilot)
        news = pane(app, "News")
        health = news.health_plain
        by_title = {i.title: i for i in app.items.values()}
        assert set(by_title) == {"Library closes early", "Library garden opens"}  # one item per link
        # The two sources are polled at once: whichever brought the shared link first holds
        # it, and the other counts it as "also seen", not as new.
        paper_new = 2 if by_title["Library closes early"].source == "paper" else 1
        assert f"paper ✓ ok · {paper_new} new at" in health and "⚠ " in health and "cut short" in health, health
        assert "blog ✓ ok" in health
        body = str((await panel_body(pilot, by_title["Library closes early"])).render())
        seen_on = {"blog", "paper"} - {by_title["Library closes early"].source}
        assert f"also seen on: {seen_on.pop()}" in body
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ResponseScreen), what="back on the panes")
        body = str((await panel_body(pilot, by_title["Library garden opens"])).render())
        assert body.splitlines()[1].startswith("date unknown"), body


async def test_a_shared_link_keeps_also_seen_on_when_the_later_listed_source_is_ingested_first(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    """``r`` polls every source at once.  Here the blog (listed after the paper) is served
    and ingested first, so it holds the link and the paper's copy folds into it; the
    paper's round then carries the blog's item with "also seen on: paper".  Delivered in
    the sources' order, the blog's older round came last and put back the copy without it.
    """
    from waiting import wait_until

    serve(httpserver, "/api/v1/timelines/tag/library", {"now": []})
    story = {"guid": "1", "title": "Library closes early", "link": "https://paper.example/story/1",
             "description": "The library closes at noon", "pubDate": "Sun, 22 Nov 2026 13:00:00 GMT"}
    serve(httpserver, "/blog.rss", {"now": rss([{**story, "guid": "b1"}])})
    # The paper has a server of its own, which answers only once the blog's round has been
    # through the pipeline (one server answers one request at a time).
    paper_server = HTTPServer(host="127.0.0.1", port=0)
    paper_server.start()
    app = app_for(httpserver, tmp_path, paper_url=paper_server.url_for("/paper.rss"))

    def paper(_request: Any) -> Response:
        states = app.desk.monitor.poller.states  # type: ignore[union-attr]
        wait_until(lambda: states.get("blog") is not None and states["blog"].last_new == 1,
                   what="the blog's round ingested", seen=lambda: states.get("blog"))
        return Response(rss([story]), content_type="application/rss+xml")

    paper_server.expect_request("/paper.rss").respond_with_handler(paper)
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            await poll(pilot)
            held = [i for i in app.items.values() if i.title == "Library closes early"]
            assert [(i.source, [s.source for s in i.also_seen_on]) for i in held] == [("blog", ["paper"])]
            body = str((await panel_body(pilot, held[0])).render())
            assert "also seen on: paper" in body
    finally:
        paper_server.clear()
        paper_server.stop()
