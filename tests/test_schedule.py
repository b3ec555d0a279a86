"""Statements and scheduled posts (issue 18, points 2 and 3), in one process.

"Tweet the correction again a few hours later": a scheduled post is a log entry (text,
account, due time, idempotency key), listed, cancellable and sent exactly once.  Here the
runs share one process (threads, repeated calls); ``tests/test_due_cli.py`` races real
processes.  Servers are local fakes that speak the Mastodon and Bluesky APIs
(``tests/fake_social.py``); the log is a real TinyDB log in a tmp dir.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fake_social import ENV, FakeBluesky, FakeMastodon, social_config
from pytest_httpserver import HTTPServer
from waiting import wait_until

from watchtower.config import parse_config
from watchtower.core.models import Item
from watchtower.core.record.log import HandoverLog
from watchtower.core.report.handover import summarise, to_markdown
from watchtower.core.respond.ownposts import own_post_marks, post_statement
from watchtower.core.respond.posting import Poster
from watchtower.core.respond.schedule import (
    MAX_TRANSIENT,
    ScheduleError,
    cancel,
    describe,
    open_posts,
    schedule_post,
    scheduled_posts,
    send_due,
)

T0 = datetime(2026, 11, 3, 14, 0, tzinfo=timezone.utc)


@pytest.fixture
def config(httpserver: HTTPServer):  # type: ignore[no-untyped-def]
    return parse_config(social_config(httpserver))


def masto(config):  # type: ignore[no-untyped-def]
    return config.organisation.accounts[0]


def bsky(config):  # type: ignore[no-untyped-def]
    return config.organisation.accounts[1]


async def run(log: HandoverLog, config, now: datetime, **kw):  # type: ignore[no-untyped-def]
    poster = Poster(config, env=ENV)
    try:
        return await send_due(log, config, operator=kw.pop("operator", "cron"), poster=poster, now=now, **kw)
    finally:
        await poster.aclose()


def state(log: HandoverLog, now: datetime) -> list[str]:
    return [p.state for p in scheduled_posts(log.entries(), now)]


# -- the entry -----------------------------------------------------------------------------


def test_a_scheduled_post_is_a_log_entry_with_text_account_due_and_key(config, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    log = HandoverLog(data_dir)
    wrong = Item.create(platform="Mastodon", source="ours", native_id="77", author="bieb",
                        text="De bieb is morgen dicht", published=T0)
    post = schedule_post(log, account=masto(config), text="Nogmaals: de bieb is morgen gewoon open.",
                         due=T0 + timedelta(hours=3), operator="ann", about=wrong, language="nl",
                         template="correction-repost")
    [entry] = HandoverLog(data_dir).entries()
    assert entry.kind == "scheduled" and entry.operator == "ann" and entry.id == post.id
    assert entry.text == "Nogmaals: de bieb is morgen gewoon open."
    assert entry.data["account"] == "@bieb@localhost" and entry.data["platform"] == "Mastodon"
    assert entry.data["due"] == "2026-11-03T17:00:00+00:00"
    assert len(entry.data["key"]) == 40 and entry.data["key"] == post.key
    assert entry.data["about"] == wrong.id and entry.excerpt == "De bieb is morgen dicht"
    [listed] = open_posts(HandoverLog(data_dir).entries(), now=T0)
    assert (listed.state, listed.due, listed.set_by) == ("pending", T0 + timedelta(hours=3), "ann")
    line = describe(listed, config.organisation.tz, now=T0)
    assert line.startswith("2026-11-03 18:00 CET · pending · Mastodon @bieb@localhost · Nogmaals")


@pytest.mark.parametrize(
    ("account", "text", "message"),
    [
        (2, "Sorry!", "no posting API for X"),
        (0, "", "the post is empty"),
        (1, "x" * 301, "the post is 1 characters too long for Bluesky (301/300)"),
    ],
)
def test_what_cannot_be_sent_is_refused_when_scheduled(config, data_dir: Path, account: int, text: str, message: str) -> None:  # type: ignore[no-untyped-def]
    log = HandoverLog(data_dir)
    with pytest.raises(ScheduleError, match=message.replace("(", r"\(").replace(")", r"\)")):
        schedule_post(log, account=config.organisation.accounts[account], text=text, due=T0, operator="ann")
    assert log.entries() == []


# -- sending ---------------------------------------------------------------------------------


async def test_a_statement_is_a_new_post_not_a_reply_and_mentions_nobody(
    httpserver: HTTPServer, config, data_dir: Path  # type: ignore[no-untyped-def]
) -> None:
    mastodon, bluesky = FakeMastodon(httpserver), FakeBluesky(httpserver)
    log = HandoverLog(data_dir)
    text = "Correctie: we gaven eerder verkeerde openingstijden. Juist: https://bibliotheekzuidstad.nl/qa"
    m = schedule_post(log, account=masto(config), text=text, due=T0, operator="ann", language="nl")
    b = schedule_post(log, account=bsky(config), text=text, due=T0, operator="ann")
    outcomes = await run(log, config, T0)
    assert [o.action for o in outcomes] == ["sent", "sent"], outcomes
    assert mastodon.bodies == [{"status": text, "visibility": "public", "language": "nl"}]  # no in_reply_to_id, no @
    assert mastodon.keys == [m.key]
    [record] = [r["value"] for r in bluesky.records.values()]
    assert "reply" not in record and record["text"] == text
    assert record["facets"][0]["features"][0]["uri"] == "https://bibliotheekzuidstad.nl/qa"
    posted = log.entries(kinds=("posted",))
    assert [(e.data["schedule"], e.platform, e.data["statement"]) for e in posted] == [
        (m.id, "Mastodon", True), (b.id, "Bluesky", True),
    ]
    assert all(e.item_id is None for e in posted)  # not a reply to anything
    # In the handover export, with the text.
    md = to_markdown(summarise(log.entries(), [], now=T0 + timedelta(minutes=5), tz=config.organisation.tz))
    assert "Correctie: we gaven eerder verkeerde openingstijden" in md


async def test_a_post_goes_out_when_due_and_only_once(httpserver: HTTPServer, config, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    mastodon = FakeMastodon(httpserver)
    log = HandoverLog(data_dir)
    schedule_post(log, account=masto(config), text="Nogmaals de juiste tijden.", due=T0 + timedelta(hours=3), operator="ann")
    early = await run(log, config, T0 + timedelta(hours=2, minutes=59))
    assert early == [] and mastodon.posts == 0
    first = await run(log, config, T0 + timedelta(hours=3))
    again = await run(log, config, T0 + timedelta(hours=4))
    assert [o.action for o in first] == ["sent"] and again == []
    assert mastodon.posts == 1
    assert state(log, T0 + timedelta(hours=4)) == ["sent"]
    kinds = [e.kind for e in log.entries()]
    assert kinds == ["scheduled", "schedule_sending", "posted"]  # "sending" is written before the POST


async def test_dry_run_says_what_would_go_and_touches_nothing(httpserver: HTTPServer, config, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    mastodon = FakeMastodon(httpserver)
    log = HandoverLog(data_dir)
    schedule_post(log, account=masto(config), text="Nogmaals.", due=T0, operator="ann")
    outcomes = await run(log, config, T0, dry_run=True)
    assert [(o.action, o.message) for o in outcomes] == [("would-send", "would send as @bieb@localhost on Mastodon")]
    assert mastodon.posts == 0 and [e.kind for e in log.entries()] == ["scheduled"]


async def test_cancelled_posts_are_not_sent_and_sent_ones_cannot_be_cancelled(
    httpserver: HTTPServer, config, data_dir: Path  # type: ignore[no-untyped-def]
) -> None:
    mastodon = FakeMastodon(httpserver)
    log = HandoverLog(data_dir)
    keep = schedule_post(log, account=masto(config), text="Deze gaat wel.", due=T0, operator="ann")
    drop = schedule_post(log, account=masto(config), text="Deze niet.", due=T0, operator="ann")
    cancelled = cancel(log, drop.id[:8], operator="bob", now=T0)  # a unique prefix is enough
    assert (cancelled.id, cancelled.state, cancelled.cancelled_by) == (drop.id, "cancelled", "bob")
    with pytest.raises(ScheduleError, match="already cancelled by bob"):
        cancel(log, drop.id, operator="ann", now=T0)
    await run(log, config, T0)
    assert [b["status"] for b in mastodon.bodies] == ["Deze gaat wel."]
    with pytest.raises(ScheduleError, match="already sent by cron"):
        cancel(log, keep.id, operator="bob", now=T0)
    with pytest.raises(ScheduleError, match="no scheduled post with id nope"):
        cancel(log, "nope", operator="bob", now=T0)
    assert [p.id for p in open_posts(log.entries(), T0)] == []


async def test_a_post_being_sent_by_another_run_is_skipped_not_sent_again(
    httpserver: HTTPServer, config, data_dir: Path  # type: ignore[no-untyped-def]
) -> None:
    mastodon = FakeMastodon(httpserver)
    mastodon.hold = threading.Event()
    schedule_post(HandoverLog(data_dir), account=masto(config), text="Nogmaals.", due=T0, operator="ann")
    results: dict[str, object] = {}

    def first_run() -> None:  # another operator's TUI, with its own log object
        results["first"] = asyncio.run(run(HandoverLog(data_dir), config, T0, operator="tui-ann"))

    worker = threading.Thread(target=first_run)
    worker.start()
    try:
        wait_until(mastodon.holding.is_set, what="the first run's POST to reach the server")
        second = await run(HandoverLog(data_dir), config, T0, operator="cron")
        with pytest.raises(ScheduleError, match="tui-ann is sending it right now"):
            cancel(HandoverLog(data_dir), scheduled_posts(HandoverLog(data_dir).entries(), T0)[0].id, operator="bob", now=T0)
    finally:
        mastodon.hold.set()
        worker.join()
    assert [(o.action, o.message) for o in second] == [("skipped", "being sent by tui-ann (another run) right now")]
    assert [o.action for o in results["first"]] == ["sent"]  # type: ignore[attr-defined]
    assert mastodon.posts == 1


async def test_an_answer_lost_after_posting_is_found_among_our_posts_not_posted_again(
    httpserver: HTTPServer, config, data_dir: Path  # type: ignore[no-untyped-def]
) -> None:
    mastodon, bluesky = FakeMastodon(httpserver), FakeBluesky(httpserver)
    mastodon.lose_answer.append(504)  # the proxy timed out; the instance had posted it
    bluesky.lose_answer.append(502)
    log = HandoverLog(data_dir)
    text = "Nogmaals: morgen gewoon open. https://bibliotheekzuidstad.nl/qa"
    schedule_post(log, account=masto(config), text=text, due=T0, operator="ann")
    schedule_post(log, account=bsky(config), text=text, due=T0, operator="ann")
    first = await run(log, config, T0)
    assert [o.action for o in first] == ["uncertain", "uncertain"], first
    assert state(log, T0) == ["uncertain", "uncertain"]
    second = await run(log, config, T0 + timedelta(minutes=1))
    assert [o.action for o in second] == ["found", "found"], second
    assert mastodon.posts == 1 and bluesky.creates == 1  # looked, found, not posted again
    assert len(mastodon.statuses) == 1 and bluesky.posts == [text]
    found = log.entries(kinds=("posted",))
    assert [e.data["found"] for e in found] == [True, True]
    assert found[0].data["url"] == mastodon.statuses[0]["url"]
    assert await run(log, config, T0 + timedelta(minutes=2)) == []


async def test_an_uncertain_attempt_that_posted_nothing_is_retried_with_the_same_key(
    httpserver: HTTPServer, config, data_dir: Path  # type: ignore[no-untyped-def]
) -> None:
    mastodon = FakeMastodon(httpserver)
    mastodon.fail_next.append((503, {"error": "busy"}))  # refused before posting, but a 5xx says nothing for sure
    log = HandoverLog(data_dir)
    post = schedule_post(log, account=masto(config), text="Nogmaals.", due=T0, operator="ann")
    assert [o.action for o in await run(log, config, T0)] == ["uncertain"]
    assert [o.action for o in await run(log, config, T0)] == ["sent"]
    assert mastodon.keys == [post.key, post.key] and mastodon.created == 1
    assert [r.path for r, _ in httpserver.log].count("/api/v1/accounts/verify_credentials") == 1  # it looked first


async def test_an_attempt_that_outlived_its_lease_is_checked_before_sending_again(
    httpserver: HTTPServer, config, data_dir: Path  # type: ignore[no-untyped-def]
) -> None:
    bluesky = FakeBluesky(httpserver)
    log = HandoverLog(data_dir)
    post = schedule_post(log, account=bsky(config), text="Nogmaals: open.", due=T0, operator="ann")
    # A run took it (same process, so not "gone") and never came back; it posted though.
    from watchtower.core.respond.schedule import _claim, lease_for

    claim = _claim(log, post.id, "tui-ann", T0, lease_for(20))
    assert not isinstance(claim, str)
    bluesky.record("Nogmaals: open.")
    assert state(log, T0 + timedelta(minutes=1)) == ["sending"]
    [wait] = await run(log, config, T0 + timedelta(minutes=1))  # still within its lease
    assert (wait.action, wait.message) == ("skipped", "being sent by tui-ann (another run) right now")
    later = await run(log, config, T0 + timedelta(hours=1))
    assert [o.action for o in later] == ["found"] and bluesky.creates == 0


async def test_a_refusal_fails_the_post_and_a_rate_limit_keeps_it_due(
    httpserver: HTTPServer, config, data_dir: Path  # type: ignore[no-untyped-def]
) -> None:
    mastodon = FakeMastodon(httpserver)
    mastodon.fail_next += [(422, {"error": "Validation failed: Text character limit"}), (429, {"error": "Too many requests"})]
    log = HandoverLog(data_dir)
    refused = schedule_post(log, account=masto(config), text="Een.", due=T0, operator="ann")
    limited = schedule_post(log, account=masto(config), text="Twee.", due=T0 + timedelta(seconds=1), operator="ann")
    first = await run(log, config, T0 + timedelta(seconds=1))
    assert [(o.post.id, o.action) for o in first] == [(refused.id, "failed"), (limited.id, "failed")]
    assert state(log, T0 + timedelta(seconds=1)) == ["failed", "pending"]
    second = await run(log, config, T0 + timedelta(seconds=2))
    assert [(o.post.id, o.action) for o in second] == [(limited.id, "sent")]
    failed = scheduled_posts(log.entries(), T0)[0]
    assert "did not accept the post (HTTP 422): Validation failed" in failed.error
    # A rate limit again and again gives up after MAX_TRANSIENT tries.
    mastodon.fail_next += [(429, {"error": "slow down"})] * MAX_TRANSIENT
    third = schedule_post(log, account=masto(config), text="Drie.", due=T0, operator="ann")
    for n in range(MAX_TRANSIENT):
        await run(log, config, T0 + timedelta(minutes=n + 3))
    [gave_up] = [p for p in scheduled_posts(log.entries(), T0) if p.id == third.id]
    assert (gave_up.state, gave_up.transient_failures) == ("failed", MAX_TRANSIENT)
    assert await run(log, config, T0 + timedelta(hours=1)) == []


async def test_an_account_gone_from_the_config_fails_the_post_in_words(
    httpserver: HTTPServer, config, data_dir: Path  # type: ignore[no-untyped-def]
) -> None:
    log = HandoverLog(data_dir)
    schedule_post(log, account=masto(config), text="Een.", due=T0, operator="ann")
    other = parse_config(social_config(httpserver, accounts=[]))
    [outcome] = await run(log, other, T0)
    assert (outcome.action, outcome.message) == ("failed", "the account @bieb@localhost on Mastodon is no longer in the config")


# -- the statement from the response panel ------------------------------------------------------


async def test_our_statement_correcting_our_post_is_sent_logged_and_marks_the_post(
    httpserver: HTTPServer, config, data_dir: Path  # type: ignore[no-untyped-def]
) -> None:
    bluesky = FakeBluesky(httpserver)
    wrong_uri = bluesky.record("Morgen is de bieb dicht.")
    wrong = Item.create(platform="Bluesky", source="bsky-ours", native_id=wrong_uri, author="bibzuidstad.bsky.social",
                        text="Morgen is de bieb dicht.", published=T0)
    log = HandoverLog(data_dir)
    poster = Poster(config, env=ENV)
    try:
        outcome = await post_statement(
            log, config, account=bsky(config), text="Correctie: morgen zijn we gewoon open.", operator="ann",
            poster=poster, corrects=wrong, language="nl", template="correction",
        )
        twice = await post_statement(
            log, config, account=bsky(config), text="Correctie: morgen zijn we gewoon open.", operator="ann",
            poster=poster, language="nl",
        )
    finally:
        await poster.aclose()
    assert outcome.action == "sent" and outcome.url and outcome.url.startswith("https://bsky.app/profile/bibzuidstad.bsky.social/post/")
    assert twice.action == "sent"  # a second statement is a second, deliberate post
    [first, second] = [r["value"] for k, r in bluesky.records.items() if r["uri"] != wrong_uri]
    assert "reply" not in first and first["langs"] == ["nl"]
    mark = own_post_marks(log.entries())[wrong.id]
    assert (mark.label, mark.corrected_by, mark.statement_url) == ("corrected", "ann", outcome.url)
    kinds = [e.kind for e in log.entries()]
    assert kinds[:4] == ["scheduled", "schedule_sending", "posted", "corrected"]


def test_the_handover_lists_scheduled_posts_and_our_deleted_posts(config, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    from watchtower.core.report.handover import to_json
    from watchtower.core.respond.ownposts import record_corrected, record_deleted

    log = HandoverLog(data_dir)
    wrong = Item.create(platform="X", source="x", native_id="5", author="@bibzuidstad",
                        text="Morgen dicht (klopt niet)", published=T0)
    record_deleted(log, wrong, operator="ann", how="by hand")
    record_corrected(log, wrong, operator="ann")
    schedule_post(log, account=masto(config), text="Nogmaals: morgen gewoon open.", due=T0 + timedelta(hours=3), operator="ann")
    done = schedule_post(log, account=masto(config), text="Al weg.", due=T0, operator="ann")
    cancel(log, done.id, operator="ann", now=T0)
    summary = summarise(log.entries(), [], since=T0 - timedelta(days=400), now=T0, tz=config.organisation.tz)
    md = to_markdown(summary)
    assert "## Scheduled posts (1)\n- due **Tue 03 Nov 18:00 CET** · pending · Mastodon @bieb@localhost: Nogmaals: morgen gewoon open." in md
    assert "## Own posts deleted or corrected (2)" in md and ": deleted on X: Morgen dicht (klopt niet)" in md
    doc = to_json(summary)
    assert [p["text"] for p in doc["scheduled"]] == ["Nogmaals: morgen gewoon open."]
    assert doc["scheduled"][0]["due"] == "2026-11-03T18:00:00+01:00"


async def test_the_running_apps_runner_sends_when_due_and_never_overlaps(
    httpserver: HTTPServer, config, data_dir: Path  # type: ignore[no-untyped-def]
) -> None:
    from watchtower.core.respond.schedule import DueRunner

    mastodon = FakeMastodon(httpserver)
    mastodon.hold = threading.Event()
    log = HandoverLog(data_dir)
    schedule_post(log, account=masto(config), text="Nogmaals.", due=T0, operator="ann")
    runner = DueRunner(log, config, operator="tui-ann", env=ENV)
    try:
        first = asyncio.ensure_future(runner.tick(T0))
        await asyncio.to_thread(wait_until, mastodon.holding.is_set, what="the tick's POST to reach the server")
        assert await runner.tick(T0) == []  # the next tick while one runs: nothing
        mastodon.hold.set()
        assert [o.action for o in await first] == ["sent"]
        assert await runner.tick(T0 + timedelta(hours=1)) == []
    finally:
        mastodon.hold.set()
        await runner.aclose()
    assert mastodon.posts == 1
