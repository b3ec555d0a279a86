"""Reddit search and subreddit listings, shaped like the documented Listing/Thing JSON."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from watchtower.config import RedditSource as RedditSpec
from watchtower.core.fetch.http import USER_AGENT, HttpFetcher
from watchtower.core.sources import build_source
from watchtower.core.sources.base import SourceError, SourceState
from watchtower.core.sources.reddit import RedditSource

FIX = Path(__file__).parent / "fixtures" / "sources"


def _source(url: str, **kw: object) -> RedditSource:
    src = build_source(RedditSpec(kind="reddit", name="reddit", platform="Reddit", url=url, **kw), env={})
    assert isinstance(src, RedditSource)
    return src


async def test_search_listing(httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        "/search.json",
        query_string={"limit": "50", "raw_json": "1", "q": "library", "sort": "new", "type": "link"},
        headers={"User-Agent": USER_AGENT},
    ).respond_with_data((FIX / "reddit_search.json").read_bytes(), content_type="application/json")
    async with HttpFetcher() as http:
        items = await _source(httpserver.url_for("").rstrip("/"), query="library").fetch(http, SourceState())
    assert [i.native_id for i in items] == ["t3_1abcde", "t3_1abcdf", "t1_kx1"]
    post, link, comment = items
    assert post.title == "The library lost my reservation AGAIN"
    assert post.text == "Third time this month. **Unacceptable.**"
    assert post.author == "u/angry_patron" and post.author_name == "u/angry_patron in r/thenetherlands"
    assert post.author_followers is None  # subreddit_subscribers is not the author's audience
    assert post.url == httpserver.url_for("/r/thenetherlands/comments/1abcde/slug/")
    assert (post.engagement.likes, post.engagement.replies) == (42, 17)
    assert post.published.isoformat() == "2024-01-02T09:30:00+00:00"
    assert link.text == "https://news.example/library"
    assert comment.text == "They open at 9 > 10" and comment.in_reply_to == "t3_1abcde"


async def test_subreddit_new(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/r/Amsterdam/new.json").respond_with_data(
        (FIX / "reddit_sub_new.json").read_bytes(), content_type="application/json"
    )
    async with HttpFetcher() as http:
        items = await _source(httpserver.url_for("/"), mode="subreddit", subreddit="r/Amsterdam").fetch(http, SourceState())
    assert [i.title for i in items] == ["Weekly thread"]


async def test_bad_subreddit_name_makes_no_request(httpserver: HTTPServer) -> None:
    async with HttpFetcher() as http:
        with pytest.raises(SourceError, match="subreddit name"):
            await _source(httpserver.url_for("/"), mode="subreddit", subreddit="../../etc").fetch(http, SourceState())
    assert len(httpserver.log) == 0


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<html><body>blocked</body></html>", "expected a Reddit listing (JSON), got HTML"),
        (b'{"message": "Forbidden", "error": 403}', "Reddit returned an error"),
        (b'{"kind": "Listing", "data": {"children": "nope"}}', "without children"),
        (b"[]", ""),
    ],
)
async def test_bad_listings(httpserver: HTTPServer, body: bytes, words: str) -> None:
    httpserver.expect_request("/search.json").respond_with_data(body, content_type="application/json")
    async with HttpFetcher() as http:
        src = _source(httpserver.url_for("/"), query="x")
        if not words:
            assert await src.fetch(http, SourceState()) == []
            return
        with pytest.raises(SourceError) as err:
            await src.fetch(http, SourceState())
    assert words in str(err.value)


async def test_reddit_rate_limit_headers_reach_the_state(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/search.json").respond_with_data(
        (FIX / "reddit_sub_new.json").read_bytes(),
        content_type="application/json",
        headers={"x-ratelimit-remaining": "0.0", "x-ratelimit-reset": "120", "x-ratelimit-used": "100"},
    )
    state = SourceState()
    async with HttpFetcher() as http:
        await _source(httpserver.url_for("/"), query="x").fetch(http, state)
    assert state.rate_limit_remaining == 0 and state.rate_limit_reset is not None
