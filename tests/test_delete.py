"""Deleting our own post (issue 18, point 1), against local Mastodon and Bluesky servers.

"Delete it and apologise right away": Mastodon ``DELETE /api/v1/statuses/:id``, Bluesky
``com.atproto.repo.deleteRecord``; a checklist step where we have no API (X, Facebook,
Instagram).  Either way the log says "deleted" with who and when, and the item is marked.
The log is a real TinyDB log in a tmp dir.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from fake_social import DID, ENV, TOKEN, FakeBluesky, FakeMastodon, social_config
from pytest_httpserver import HTTPServer

from watchtower.config import parse_config
from watchtower.core.models import Item
from watchtower.core.record.log import HandoverLog
from watchtower.core.respond.ownposts import (
    delete_own_post,
    manual_delete_step,
    our_account_for,
    own_post_marks,
    record_deleted,
)
from watchtower.core.respond.posting import Poster

WHEN = datetime(2025, 3, 14, 13, 2, tzinfo=timezone.utc)


def our_mastodon_post(server: HTTPServer, sid: str, **kw: object) -> Item:
    fields: dict[str, object] = dict(
        platform="Mastodon", source="our-timeline", native_id=sid, author="bieb",
        text="Vanavond borrel bij mij thuis!", published=WHEN, url=server.url_for(f"/@bieb/{sid}"),
    )
    fields.update(kw)
    return Item.create(**fields)  # type: ignore[arg-type]


def our_bluesky_post(uri: str, **kw: object) -> Item:
    fields: dict[str, object] = dict(
        platform="Bluesky", source="bsky-ours", native_id=uri, author="bibzuidstad.bsky.social",
        text="Morgen gesloten (klopt niet)", published=WHEN,
    )
    fields.update(kw)
    return Item.create(**fields)  # type: ignore[arg-type]


@pytest.fixture
def config(httpserver: HTTPServer):  # type: ignore[no-untyped-def]
    return parse_config(social_config(httpserver))


async def test_mastodon_delete_is_a_DELETE_of_our_status(httpserver: HTTPServer, config) -> None:  # type: ignore[no-untyped-def]
    masto = FakeMastodon(httpserver)
    status = masto.status("Vanavond borrel bij mij thuis!")
    poster = Poster(config, env=ENV)
    try:
        result = await poster.delete(our_mastodon_post(httpserver, status["id"]))
    finally:
        await poster.aclose()
    assert result.ok, result.error
    assert result.id == status["id"]
    assert masto.deleted == [status["id"]]
    delete = next(r for r, _ in httpserver.log if r.method == "DELETE")
    assert delete.path == f"/api/v1/statuses/{status['id']}"
    assert delete.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_mastodon_delete_looks_up_a_status_seen_on_another_instance(httpserver: HTTPServer, config) -> None:  # type: ignore[no-untyped-def]
    masto = FakeMastodon(httpserver)
    ours = masto.status("Vanavond borrel bij mij thuis!")
    seen_at = "https://social.example/@bieb@localhost/99999"
    httpserver.expect_request(
        "/api/v2/search", method="GET", query_string={"q": seen_at, "resolve": "true", "type": "statuses", "limit": "1"},
    ).respond_with_json({"statuses": [{"id": ours["id"]}]})
    item = our_mastodon_post(httpserver, "99999", url=seen_at, author="bieb@localhost")
    poster = Poster(config, env=ENV)
    try:
        result = await poster.delete(item)
    finally:
        await poster.aclose()
    assert result.ok, result.error
    assert masto.deleted == [ours["id"]]  # our instance's id, not the other instance's


async def test_mastodon_delete_errors_are_plain_and_keep_the_token_out(httpserver: HTTPServer, config) -> None:  # type: ignore[no-untyped-def]
    FakeMastodon(httpserver, token="another-token")
    poster = Poster(config, env=ENV)
    try:
        refused = await poster.delete(our_mastodon_post(httpserver, "1000"))
    finally:
        await poster.aclose()
    assert not refused.ok and refused.error is not None
    assert "refused the access token (HTTP 401)" in refused.error and TOKEN not in refused.error


async def test_mastodon_delete_of_a_missing_status_says_so(httpserver: HTTPServer, config) -> None:  # type: ignore[no-untyped-def]
    FakeMastodon(httpserver)
    poster = Poster(config, env=ENV)
    try:
        gone = await poster.delete(our_mastodon_post(httpserver, "4242"))
    finally:
        await poster.aclose()
    assert not gone.ok and "was it deleted already?" in (gone.error or "")


async def test_bluesky_delete_is_deleteRecord_in_our_repo(httpserver: HTTPServer, config) -> None:  # type: ignore[no-untyped-def]
    bsky = FakeBluesky(httpserver)
    uri = bsky.record("Morgen gesloten (klopt niet)", rkey="3kwrong")
    poster = Poster(config, env=ENV)
    try:
        by_uri = await poster.delete(our_bluesky_post(uri))
        # An item known only by its bsky.app link (handle, not DID) is ours too.
        by_link = await poster.delete(
            our_bluesky_post("h:x", url="https://bsky.app/profile/bibzuidstad.bsky.social/post/3kother")
        )
    finally:
        await poster.aclose()
    assert by_uri.ok and by_link.ok, (by_uri, by_link)
    assert bsky.deletes == [
        {"repo": DID, "collection": "app.bsky.feed.post", "rkey": "3kwrong"},
        {"repo": DID, "collection": "app.bsky.feed.post", "rkey": "3kother"},
    ]
    assert bsky.posts == []


async def test_bluesky_refuses_to_delete_someone_elses_post(httpserver: HTTPServer, config) -> None:  # type: ignore[no-untyped-def]
    bsky = FakeBluesky(httpserver)
    theirs = Item.create(
        platform="Bluesky", source="bsky-search", native_id="at://did:plc:jan/app.bsky.feed.post/3kjan",
        author="jan.bsky.social", text="De bieb is dicht!", published=WHEN,
    )
    poster = Poster(config, env=ENV)
    try:
        result = await poster.delete(theirs, account=config.organisation.accounts[1])
    finally:
        await poster.aclose()
    assert not result.ok and "not from our account" in (result.error or "")
    assert bsky.deletes == []


async def test_deleting_our_post_logs_who_and_when_and_marks_the_item(
    httpserver: HTTPServer, config, data_dir: Path  # type: ignore[no-untyped-def]
) -> None:
    masto = FakeMastodon(httpserver)
    status = masto.status("Vanavond borrel bij mij thuis!")
    item = our_mastodon_post(httpserver, status["id"])
    log = HandoverLog(data_dir)
    poster = Poster(config, env=ENV)
    try:
        done = await delete_own_post(log, config, item, operator="ann", poster=poster)
        again = await delete_own_post(log, config, item, operator="bob", poster=poster)
    finally:
        await poster.aclose()
    assert done.ok, done.message
    assert "deleted from Mastodon (@bieb@localhost)" in done.message
    assert not again.ok and again.message == "already deleted by ann (api)"
    assert masto.deleted == [status["id"]]  # the second press sent nothing
    [entry] = HandoverLog(data_dir).entries(kinds=("deleted",))
    assert (entry.operator, entry.item_id, entry.platform) == ("ann", item.id, "Mastodon")
    assert entry.data["how"] == "api" and entry.data["account"] == "@bieb@localhost"
    assert entry.data["post_id"] == status["id"] and entry.text == item.text
    assert abs((entry.ts - datetime.now(timezone.utc)).total_seconds()) < 3600
    mark = own_post_marks(HandoverLog(data_dir).entries())[item.id]
    assert mark.label == "deleted" and mark.deleted_by == "ann"


async def test_the_delete_reads_and_writes_the_log_off_the_callers_loop(
    httpserver: HTTPServer, config, data_dir: Path, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    """The TUI deletes from a worker on its own loop: the log's file lock and fsync must
    not hold that loop (the screen would stop while another operator holds the lock)."""
    import threading

    masto = FakeMastodon(httpserver)
    item = our_mastodon_post(httpserver, masto.status("Vanavond borrel bij mij thuis!")["id"])
    log = HandoverLog(data_dir)
    threads: list[str] = []
    for name in ("append", "entries"):
        real = getattr(log, name)

        def spy(*args, _real=real, _name=name, **kwargs):  # type: ignore[no-untyped-def]
            threads.append(f"{_name}:{threading.current_thread() is threading.main_thread()}")
            return _real(*args, **kwargs)

        monkeypatch.setattr(log, name, spy)
    poster = Poster(config, env=ENV)
    try:
        done = await delete_own_post(log, config, item, operator="ann", poster=poster)
    finally:
        await poster.aclose()
    assert done.ok, done.message
    assert threads and all(t.endswith(":False") for t in threads), threads


async def test_a_post_that_is_not_ours_is_not_deleted(httpserver: HTTPServer, config, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    masto = FakeMastodon(httpserver)
    theirs = our_mastodon_post(httpserver, "1000", author="jan@social.example")
    poster = Poster(config, env=ENV)
    try:
        outcome = await delete_own_post(HandoverLog(data_dir), config, theirs, operator="ann", poster=poster)
    finally:
        await poster.aclose()
    assert not outcome.ok and "not a post of one of our accounts" in outcome.message
    assert masto.deleted == [] and not any(r.method == "DELETE" for r, _ in httpserver.log)


async def test_without_an_api_the_delete_is_a_checklist_step_logged_the_same_way(
    httpserver: HTTPServer, config, data_dir: Path  # type: ignore[no-untyped-def]
) -> None:
    tweet = Item.create(
        platform="X", source="x-search", native_id="1766", author="@bibzuidstad",
        text="Oeps, verkeerd account", published=WHEN, url="https://x.com/bibzuidstad/status/1766",
    )
    assert our_account_for(tweet, config) is not None
    step = manual_delete_step(tweet, config)
    assert step.text == "Delete it on X now, logged in as @bibzuidstad; then tick this step"
    assert step.url == "https://x.com/bibzuidstad/status/1766"
    log = HandoverLog(data_dir)
    poster = Poster(config, env=ENV)
    try:
        outcome = await delete_own_post(log, config, tweet, operator="ann", poster=poster)
    finally:
        await poster.aclose()
    assert not outcome.ok and outcome.manual == step  # the UI shows the step
    # The operator deletes it on X and ticks the step:
    record_deleted(log, tweet, operator="ann", how="by hand", account=config.organisation.accounts[2])
    [entry] = log.entries(kinds=("deleted",))
    assert entry.data["how"] == "by hand" and entry.data["url"] == tweet.url
    assert own_post_marks(log.entries())[tweet.id].label == "deleted"
    assert httpserver.log == []  # nothing was sent anywhere


async def test_a_mastodon_account_without_its_token_gets_the_checklist_step(
    httpserver: HTTPServer, config, data_dir: Path  # type: ignore[no-untyped-def]
) -> None:
    item = our_mastodon_post(httpserver, "1000")
    poster = Poster(config, env={})
    try:
        outcome = await delete_own_post(HandoverLog(data_dir), config, item, operator="ann", poster=poster)
    finally:
        await poster.aclose()
    assert outcome.manual is not None and outcome.manual.text.startswith("Delete it on Mastodon now, logged in as @bieb@localhost")
