"""Watch, mute and snooze: log entries shared by every operator, applied to panes, alerts
and escalation.  Real HandoverLogs in tmp dirs; escalation against a local HTTP target per
person with a fake clock (as in test_escalation.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alert_targets import alert_targets, counts, env_for
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from watchtower.cli import cli
from watchtower.config import parse_config
from watchtower.core.models import Item, Severity
from watchtower.core.record.log import HandoverLog
from watchtower.core.respond.escalation import Escalator
from watchtower.core.respond.schedule import record_entry
from watchtower.core.triage.watchlist import watchlist_from_entries

UTC = timezone.utc
WED_10 = datetime(2025, 3, 5, 9, 0, tzinfo=UTC)  # Wednesday 10:00 in Amsterdam


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(WED_10)


@pytest.fixture
def log(data_dir: Path, clock: Clock) -> HandoverLog:
    return HandoverLog(data_dir, clock=clock)


def post(n: int, text: str = "a post", *, author: str = "@someone@social.example", platform: str = "Mastodon",
         severity: Severity = Severity.LOW, title: str = "") -> Item:
    it = Item.create(platform=platform, source="m", native_id=f"w{n}", author=author, text=text, published=WED_10,
                     title=title or None)
    it.severity = severity
    return it


def note(log: HandoverLog, kind: str, text: str = "", **data: object) -> None:
    item_id = data.pop("item_id", None)
    record_entry(log, kind, text, operator="ann", data=data, item_id=item_id)  # type: ignore[arg-type]


def wl(log: HandoverLog, clock: Clock):  # type: ignore[no-untyped-def]
    return watchlist_from_entries(log.entries(), clock.now)


# -- the rules -------------------------------------------------------------------------


def test_a_watched_author_is_never_below_medium_and_badged_until_unwatched(log: HandoverLog, clock: Clock) -> None:
    note(log, "watch", "keeps complaining about fines", author="@Troll@X.social")
    lists = wl(log, clock)
    low = post(1, author="troll@x.social", severity=Severity.INFO)
    shown = lists.apply(low)
    assert shown.severity == Severity.MEDIUM and shown.reasons[-1] == "watched author (keeps complaining about fines)"
    assert low.severity == Severity.INFO, "the stored item is not changed"
    assert lists.apply(post(2, author="troll@x.social", severity=Severity.CRITICAL)).severity == Severity.CRITICAL
    assert lists.apply(post(3, author="someone.else")).severity == Severity.LOW
    note(log, "unwatch", author="@troll@x.social")
    assert wl(log, clock).apply(low).severity == Severity.INFO


def test_mutes_by_author_and_keyword_hide_from_panes_but_watching_wins(log: HandoverLog, clock: Clock) -> None:
    note(log, "mute", "spam bot", author="spam.bsky.social")
    note(log, "mute", "meme of the day", keyword="free books")
    note(log, "watch", author="@fan@social.example")
    lists = wl(log, clock)
    spam = post(1, author="Spam.bsky.social", platform="Bluesky")
    meme = post(2, "FREE   Books for everyone!")
    part = post(3, "freebooks and bookshelves")  # not the phrase as whole words
    fan = post(4, "free books!", author="fan@social.example")
    assert lists.muted(spam) == "muted author spam.bsky.social"
    assert lists.muted(meme) == "muted keyword 'free books'"
    assert lists.muted(part) is None and lists.muted(fan) is None
    assert [i.id for i in lists.visible([spam, meme, part, fan])] == [part.id, fan.id]
    note(log, "unmute", keyword="Free Books")
    assert wl(log, clock).muted(meme) is None


def test_a_mute_for_a_while_ends_by_itself_and_a_platform_mute_stays_on_its_platform(
    log: HandoverLog, clock: Clock
) -> None:
    note(log, "mute", keyword="quiz", until=(WED_10 + timedelta(hours=2)).isoformat())
    note(log, "mute", author="loud@x", platform="reddit")
    assert wl(log, clock).muted(post(1, "pub quiz tonight")) is not None
    assert wl(log, clock).muted(post(2, author="loud@x", platform="Reddit")) is not None
    assert wl(log, clock).muted(post(3, author="loud@x", platform="Mastodon")) is None
    clock.now += timedelta(hours=2)
    assert wl(log, clock).muted(post(1, "pub quiz tonight")) is None


def test_snoozes_end_and_can_be_ended(log: HandoverLog, clock: Clock) -> None:
    it = post(1)
    note(log, "snooze", item_id=it.id, until=(WED_10 + timedelta(minutes=30)).isoformat())
    assert wl(log, clock).snoozed_until(it.id) == WED_10 + timedelta(minutes=30)
    clock.now += timedelta(minutes=30)
    assert wl(log, clock).snoozed_until(it.id) is None
    note(log, "snooze", item_id=it.id, until=(clock.now + timedelta(hours=1)).isoformat())
    note(log, "snooze", item_id=it.id, until=clock.now.isoformat())  # --off
    assert wl(log, clock).snoozed_until(it.id) is None


# -- alerts and escalation ---------------------------------------------------------------


@pytest.fixture
def people() -> Iterator[dict[str, HTTPServer]]:
    with alert_targets("sam", "ann", "fallback") as servers:
        yield servers


def escalator(log: HandoverLog, clock: Clock, people: dict[str, HTTPServer]) -> Escalator:
    cfg = parse_config({
        "organisation": {"timezone": "Europe/Amsterdam"},
        "rota": {"people": {"Sam": ["WT_SAM"], "Ann": ["WT_ANN"]},
                 "shift": [{"name": "day", "days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00",
                            "end": "17:00", "on_call": "Sam", "backup": "Ann"}]},
        "alerts": {"escalation": {"fallback_url_envs": ["WT_FALLBACK"]}},
    })
    return Escalator(cfg, log, clock=clock, env=env_for(people))


def test_a_muted_item_is_never_paged_and_a_mute_after_the_page_stops_the_escalation(
    log: HandoverLog, clock: Clock, people: dict[str, HTTPServer]
) -> None:
    note(log, "mute", keyword="free books")
    esc = escalator(log, clock, people)
    meme = post(1, "free books!!!", severity=Severity.CRITICAL)
    real = post(2, "you leaked my data", author="@angry@x", severity=Severity.CRITICAL)
    assert esc.run_due([meme]).paged == 0
    assert esc.page([real]).paged == 1
    note(log, "mute", author="@angry@x")
    clock.now += timedelta(hours=1)
    esc.run_due()
    assert counts(people) == {"sam": 1, "ann": 0, "fallback": 0}


def test_a_snoozed_alert_escalates_when_the_snooze_ends_not_before(
    log: HandoverLog, clock: Clock, people: dict[str, HTTPServer]
) -> None:
    esc = escalator(log, clock, people)
    it = post(1, "critical thing", severity=Severity.CRITICAL)
    esc.page([it])
    note(log, "snooze", "on the phone with them", item_id=it.id, until=(WED_10 + timedelta(minutes=45)).isoformat())
    clock.now = WED_10 + timedelta(minutes=44)
    report = esc.run_due()
    assert report.escalated == 0 and report.next_due == WED_10 + timedelta(minutes=45)
    clock.now = WED_10 + timedelta(minutes=45)
    assert esc.run_due().escalated == 1
    assert counts(people) == {"sam": 1, "ann": 1, "fallback": 0}


def test_a_watched_authors_low_post_is_lifted_but_pages_only_at_the_alert_threshold(
    log: HandoverLog, clock: Clock, people: dict[str, HTTPServer]
) -> None:
    note(log, "watch", author="@troll@x")
    esc = escalator(log, clock, people)
    # Medium is below the default alert threshold (high) while someone is on call.
    assert esc.run_due([post(1, author="@troll@x", severity=Severity.INFO)]).paged == 0


# -- the commands ------------------------------------------------------------------------


def run(data_dir: Path, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, [*args, "--data-dir", str(data_dir), "--operator", "ann"], catch_exceptions=False)


def test_watch_mute_snooze_from_the_shell_are_log_entries_every_operator_sees(data_dir: Path) -> None:
    from watchtower.core.record.archive import Archive
    from watchtower.core.respond.escalation import item_ref

    it = Item.create(platform="Mastodon", source="m", native_id="x1", author="@a@b", text="hello",
                     published=datetime.now(UTC))
    with Archive(data_dir) as a:
        a.add([it])
    assert run(data_dir, "watch", "@Troll@x.social", "--reason", "fines").exit_code == 0
    assert run(data_dir, "mute", "--keyword", "free books", "--for", "2h").exit_code == 0
    assert run(data_dir, "mute", "--author", "spam.bsky.social", "--platform", "Bluesky").exit_code == 0
    snoozed = run(data_dir, "snooze", item_ref(it.id), "--for", "45m")
    assert snoozed.exit_code == 0 and snoozed.output.startswith("snoozed until")
    entries = HandoverLog(data_dir).entries()
    assert [e.kind for e in entries] == ["watch", "mute", "mute", "snooze"]
    assert all(e.operator == "ann" for e in entries)
    assert "@Troll@x.social  watched by ann since" in run(data_dir, "watch").output
    mutes = run(data_dir, "mute").output.splitlines()
    assert mutes[0].startswith("keyword 'free books'  muted by ann") and " until " in mutes[0]
    assert mutes[1].startswith("author spam.bsky.social on Bluesky  muted by ann")
    assert "hello" in run(data_dir, "snooze").output
    assert run(data_dir, "watch", "--off", "@troll@x.social").output.startswith("stopped watching")
    assert run(data_dir, "watch").output.strip() == "nobody is watched"
    run(data_dir, "snooze", it.id, "--off")
    assert run(data_dir, "snooze").output.strip() == "no item is snoozed"


@pytest.mark.parametrize(
    "args",
    [["watch", "--off"], ["mute", "--author", "a", "--keyword", "b"], ["mute", "--keyword", "x", "--for", "soon"],
     ["snooze", "nope-not-there"], ["watch", "--off", "never@watched"], ["mute", "--off"]],
)
def test_mistakes_are_one_line_exit_2_and_write_nothing(data_dir: Path, args: list[str]) -> None:
    result = run(data_dir, *args)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert HandoverLog(data_dir).entries() == []
