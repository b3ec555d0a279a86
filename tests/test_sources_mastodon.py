"""Mastodon tag timeline, search and mentions, over fixtures shaped like the documented entities."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from watchtower.config import MastodonSource as MastodonSpec
from watchtower.core.fetch.http import HttpFetcher
from watchtower.core.pipeline.poller import Poller
from watchtower.core.sources import build_source
from watchtower.core.sources.base import SourceError, SourceState
from watchtower.core.sources.mastodon import MastodonSource

FIX = Path(__file__).parent / "fixtures" / "sources"
ENV = {"MASTO_TOKEN": "secret-token-value"}


def _source(url: str, **kw: object) -> MastodonSource:
    spec = MastodonSpec(kind="mastodon", name="masto", platform="Mastodon", url=url, **kw)
    src = build_source(spec, env=ENV)
    assert isinstance(src, MastodonSource)
    return src


async def test_tag_timeline_maps_status_and_account(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/v1/timelines/tag/library", query_string="limit=40").respond_with_data(
        (FIX / "mastodon_tag.json").read_bytes(), content_type="application/json"
    )
    state = SourceState()
    async with HttpFetcher() as http:
        items = await _source(httpserver.url_for("/"), tag="#library").fetch(http, state)
    assert len(items) == 2  # the id listed twice appears once
    critic, reader = items
    assert critic.native_id == "https://other.example/users/critic/statuses/111000000000000003"
    assert critic.author == "@critic@other.example" and critic.author_name == "A. Critic"
    assert critic.author_followers == 12000
    assert critic.text == "Is the #library lying about the closure?\n\nSecond paragraph"
    assert critic.url == "https://other.example/@critic/111000000000000003"
    assert (critic.engagement.reposts, critic.engagement.likes, critic.engagement.replies) == (3, 40, 1)
    assert critic.published.isoformat() == "2024-01-02T09:30:00+00:00" and critic.language == "en"
    # A local account gets its instance's domain; bidi controls in the name are gone.
    assert reader.author == "@reader@social.example"
    assert "\u202e" not in reader.author_name and reader.author_name == "Local Reader"
    assert reader.in_reply_to == "110999999999999999" and reader.language == "nl"
    assert reader.text.startswith("CW: politics\n")
    assert state.cursor["since_id"] == "111000000000000003"


async def test_next_poll_asks_only_for_newer_statuses(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/api/v1/timelines/tag/library").respond_with_data(
        (FIX / "mastodon_tag.json").read_bytes(), content_type="application/json"
    )
    httpserver.expect_ordered_request(
        "/api/v1/timelines/tag/library", query_string="limit=40&since_id=111000000000000003"
    ).respond_with_data((FIX / "mastodon_tag_page2.json").read_bytes(), content_type="application/json")
    httpserver.expect_ordered_request(
        "/api/v1/timelines/tag/library", query_string="limit=40&since_id=111000000000000009"
    ).respond_with_json([])
    poller = Poller([_source(httpserver.url_for("/"), tag="library")])
    try:
        results = [await poller.poll("masto") for _ in range(3)]
    finally:
        await poller.aclose()
    assert [len(r.items) for r in results] == [2, 1, 0]
    assert all(r.ok for r in results)
    assert poller.states["masto"].cursor["since_id"] == "111000000000000009"


async def test_search_uses_token_and_min_id(httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        "/api/v2/search",
        query_string="limit=40&type=statuses&q=city+library&resolve=false",
        headers={"Authorization": "Bearer secret-token-value"},
    ).respond_with_data((FIX / "mastodon_search.json").read_bytes(), content_type="application/json")
    state = SourceState()
    async with HttpFetcher() as http:
        items = await _source(httpserver.url_for("/"), mode="search", query="city library", token_env="MASTO_TOKEN").fetch(http, state)
    assert [i.author for i in items] == ["@critic@other.example"]
    assert state.cursor["since_id"] == "111000000000000003"


async def test_mentions_keep_only_mentions(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/v1/notifications", query_string="limit=40&types%5B%5D=mention").respond_with_data(
        (FIX / "mastodon_notifications.json").read_bytes(), content_type="application/json"
    )
    state = SourceState()
    async with HttpFetcher() as http:
        items = await _source(httpserver.url_for("/"), mode="mentions", token_env="MASTO_TOKEN").fetch(http, state)
    assert len(items) == 1
    assert items[0].text == "@library when do you open?"
    # The cursor is the notification id, not the status id.
    assert state.cursor["since_id"] == "500"


async def test_missing_token_env_never_shows_a_value(httpserver: HTTPServer) -> None:
    spec = MastodonSpec(kind="mastodon", name="m", platform="Mastodon", url=httpserver.url_for("/"),
                        mode="mentions", token_env="MASTO_MISSING")
    src = build_source(spec, env=ENV)
    async with HttpFetcher() as http:
        with pytest.raises(SourceError) as err:
            await src.fetch(http, SourceState())
    assert "MASTO_MISSING" in str(err.value) and "secret-token-value" not in str(err.value)


async def test_401_is_plain_words_without_the_token(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/v1/notifications").respond_with_json({"error": "The access token is invalid"}, status=401)
    poller = Poller([_source(httpserver.url_for("/"), mode="mentions", token_env="MASTO_TOKEN")])
    try:
        result = await poller.poll("masto")
    finally:
        await poller.aclose()
    assert not result.ok and result.error is not None
    assert result.error.startswith("HTTP 401") and "secret-token-value" not in result.error


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<!DOCTYPE html><html><body>Maintenance</body></html>", "got HTML"),
        (b'{"error": "Record not found"}', "Mastodon said: Record not found"),
        (b'{"statuses": 5}', "expected a list"),
        (b"[" * 100_000, "nested too deeply"),
    ],
)
async def test_bad_responses_are_clear_errors(httpserver: HTTPServer, body: bytes, words: str) -> None:
    httpserver.expect_request("/api/v1/timelines/tag/library").respond_with_data(body, content_type="application/json")
    async with HttpFetcher() as http:
        with pytest.raises(SourceError) as err:
            await _source(httpserver.url_for("/"), tag="library").fetch(http, SourceState())
    assert words in str(err.value)


async def test_garbage_records_are_skipped_not_fatal(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/v1/timelines/tag/library").respond_with_json(
        [None, 5, "x", {"id": "7", "account": "not an object", "content": ["list"], "reblogs_count": "many"},
         {"no": "id"}]
    )
    async with HttpFetcher() as http:
        items = await _source(httpserver.url_for("/"), tag="library").fetch(http, SourceState())
    assert len(items) == 1 and items[0].native_id == "7" and items[0].author == "unknown"
    assert items[0].engagement.reposts is None
