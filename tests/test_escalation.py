"""Alerts follow the rota and escalate, proven against a local HTTP target per person.

Sam (on call on weekdays), Ann (the backup) and the fallback each have their own
pytest-httpserver on 127.0.0.1; their Apprise URLs (``json://``) are in env vars, as in
production.  Real Apprise pushes, a real HandoverLog in a tmp dir, and a fake clock that
both the log and the escalator read, so "ten minutes later" is one assignment.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alert_targets import alert_targets, counts, env_for, failing, pushes
from pytest_httpserver import HTTPServer

from watchtower.config import parse_config
from watchtower.core.models import Item, Severity
from watchtower.core.record.log import HandoverLog
from watchtower.core.respond.escalation import Escalator, chains_from_entries, item_ref
from watchtower.core.respond.schedule import record_entry

UTC = timezone.utc
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
#: Wednesday 5 March 2025, 10:00 in Amsterdam (09:00 UTC): Sam's day shift.
WED_10 = datetime(2025, 3, 5, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def people() -> Iterator[dict[str, HTTPServer]]:
    with alert_targets("sam", "ann", "fallback") as servers:
        yield servers


def config(**escalation: Any):  # type: ignore[no-untyped-def]
    return parse_config({
        "organisation": {"timezone": "Europe/Amsterdam"},
        "rota": {
            "people": {"Sam": ["WT_SAM"], "Ann": ["WT_ANN"]},
            "shift": [{"name": "day", "days": WEEKDAYS, "start": "08:00", "end": "17:00",
                       "on_call": "Sam", "backup": "Ann"}],
        },
        "alerts": {"escalation": {"fallback_url_envs": ["WT_FALLBACK"], **escalation}},
    })


def item(n: int = 1, severity: Severity = Severity.CRITICAL, *, author: str = "@angry@social.example",
         published: datetime = WED_10, text: str = "you leaked my data") -> Item:
    it = Item.create(platform="Mastodon", source="masto", native_id=f"p{n}", author=author,
                     text=f"{text} #{n}", published=published, url=f"https://social.example/@angry/{n}")
    it.severity = severity
    return it


@pytest.fixture
def clock() -> Clock:
    return Clock(WED_10)


@pytest.fixture
def log(data_dir: Path, clock: Clock) -> HandoverLog:
    return HandoverLog(data_dir, clock=clock)


def escalator(log: HandoverLog, clock: Clock, people: dict[str, HTTPServer], cfg: Any = None) -> Escalator:
    return Escalator(cfg or config(), log, clock=clock, env=env_for(people))


def levels(log: HandoverLog) -> list[tuple[int, str | None, int]]:
    return [(e.data["level"], e.data["to"], e.data["sent"]) for e in log.entries(kinds=["alert"])]


# -- routing and the chain -------------------------------------------------------------


def test_a_critical_alert_goes_to_who_is_on_call_then_the_backup_then_the_fallback(
    log: HandoverLog, clock: Clock, people: dict[str, HTTPServer]
) -> None:
    esc = escalator(log, clock, people)
    report = esc.page([item()])
    assert report.paged == 1
    assert counts(people) == {"sam": 1, "ann": 0, "fallback": 0}
    sam = pushes(people["sam"])[0]
    assert "Mastodon @angry@social.example" in sam["title"]
    assert f"watchtower ack {item_ref(item().id)}" in sam["message"]

    clock.advance(minutes=9, seconds=59)
    assert esc.run_due().escalated == 0
    assert counts(people) == {"sam": 1, "ann": 0, "fallback": 0}

    clock.advance(seconds=1)  # 10 minutes, critical's delay
    assert esc.run_due().escalated == 1
    assert counts(people) == {"sam": 1, "ann": 1, "fallback": 0}
    assert "not acknowledged 10 min after Sam was alerted" in pushes(people["ann"])[0]["message"]

    clock.advance(minutes=10)
    esc.run_due()
    assert counts(people) == {"sam": 1, "ann": 1, "fallback": 1}

    clock.advance(hours=5)
    esc.run_due()
    assert counts(people) == {"sam": 1, "ann": 1, "fallback": 1}, "the fallback is the last step"
    assert levels(log) == [(0, "Sam", 1), (1, "Ann", 1), (2, None, 1)]
    first = log.entries(kinds=["alert"])[0]
    assert first.item_id == item().id and "alerted Sam (on call, day)" in first.text


def test_acknowledging_stops_the_chain(log: HandoverLog, clock: Clock, people: dict[str, HTTPServer]) -> None:
    esc = escalator(log, clock, people)
    esc.page([item(1), item(2)])
    assert counts(people)["sam"] == 1  # one push for the batch
    clock.advance(minutes=4)
    log.append("claimed", "acknowledged the alert", operator="Sam", item_id=item(1).id, platform="Mastodon")
    clock.advance(minutes=6)
    report = esc.run_due()
    assert report.escalated == 1  # only the item nobody took on
    ann = pushes(people["ann"])
    assert len(ann) == 1 and "#2" in ann[0]["title"] and "#1" not in ann[0]["message"]


@pytest.mark.parametrize("kind", ["replied", "ignored", "blocked", "escalated"])
def test_dealing_with_the_item_in_any_way_stops_the_chain(
    kind: str, log: HandoverLog, clock: Clock, people: dict[str, HTTPServer]
) -> None:
    esc = escalator(log, clock, people)
    esc.page([item()])
    log.append(kind, "", operator="Bo", item_id=item().id)
    clock.advance(hours=3)
    esc.run_due()
    assert counts(people) == {"sam": 1, "ann": 0, "fallback": 0}


def test_while_nobody_is_on_call_the_fallback_is_alerted_and_that_is_the_end(
    log: HandoverLog, clock: Clock, people: dict[str, HTTPServer]
) -> None:
    clock.now = datetime(2025, 3, 5, 21, 0, tzinfo=UTC)  # Wednesday 22:00 local
    esc = escalator(log, clock, people)
    esc.page([item()])
    assert counts(people) == {"sam": 0, "ann": 0, "fallback": 1}
    assert "nobody is on call" in pushes(people["fallback"])[0]["message"]
    clock.advance(hours=2)
    esc.run_due()
    assert counts(people) == {"sam": 0, "ann": 0, "fallback": 1}


def test_an_override_routes_to_its_person_and_skips_a_backup_who_is_that_person(
    log: HandoverLog, clock: Clock, people: dict[str, HTTPServer]
) -> None:
    record_entry(log, "rota_override", "Ann for Sam", operator="Sam",
                 data={"who": "Ann", "start": (WED_10 - timedelta(hours=1)).isoformat(),
                       "end": (WED_10 + timedelta(hours=2)).isoformat()})
    esc = escalator(log, clock, people)
    esc.page([item()])
    assert counts(people) == {"sam": 0, "ann": 1, "fallback": 0}
    clock.advance(minutes=10)
    esc.run_due()
    assert counts(people) == {"sam": 0, "ann": 1, "fallback": 1}
    assert levels(log) == [(0, "Ann", 1), (2, None, 1)]


def test_high_waits_its_own_delay_and_medium_never_escalates(
    log: HandoverLog, clock: Clock, people: dict[str, HTTPServer]
) -> None:
    esc = escalator(log, clock, people, config(after_minutes={"high": 20}))
    esc.page([item(1, Severity.HIGH), item(2, Severity.MEDIUM)])
    clock.advance(minutes=19)
    assert esc.run_due().escalated == 0
    clock.advance(minutes=1)
    report = esc.run_due()
    assert report.escalated == 1 and "#1" in pushes(people["ann"])[0]["title"]
    clock.advance(hours=6)
    esc.run_due()
    assert [e.data["items"] for e in log.entries(kinds=["alert"])][1:] == [[item(1).id], [item(1).id]]


def test_a_target_that_fails_hands_over_to_the_next_level_at_once(
    log: HandoverLog, clock: Clock, people: dict[str, HTTPServer]
) -> None:
    failing(people["sam"])
    esc = escalator(log, clock, people)
    report = esc.page([item()])
    assert counts(people)["ann"] == 1, "Sam's phone failed: Ann now, not in ten minutes"
    assert [(s.role, s.result.sent) for s in report.steps] == [("on_call", 0), ("backup", 1)]
    assert levels(log) == [(0, "Sam", 0), (1, "Ann", 1)]
    assert "Sam could not be reached" in pushes(people["ann"])[0]["message"]


def test_without_personal_targets_everything_goes_to_the_fallback_as_before(
    log: HandoverLog, clock: Clock, people: dict[str, HTTPServer]
) -> None:
    cfg = parse_config({
        "organisation": {"timezone": "Europe/Amsterdam"},
        "rota": {"shift": [{"name": "day", "days": WEEKDAYS, "start": "08:00", "end": "17:00", "on_call": "Sam"}]},
        "alerts": {"apprise_url_envs": ["WT_FALLBACK"]},
    })
    esc = escalator(log, clock, people, cfg)
    esc.page([item()])
    assert counts(people) == {"sam": 0, "ann": 0, "fallback": 1}
    assert "no alert target for Sam" in log.entries(kinds=["alert"])[0].text


def test_run_due_pages_new_items_that_qualify_once_and_never_old_ones(
    log: HandoverLog, clock: Clock, people: dict[str, HTTPServer]
) -> None:
    esc = escalator(log, clock, people)
    fresh, low, old = item(1), item(2, Severity.LOW), item(3, published=WED_10 - timedelta(days=3))
    report = esc.run_due([fresh, low, old])
    assert report.paged == 1
    assert esc.run_due([fresh, low, old]).paged == 0, "paged already: never twice"
    assert set(chains_from_entries(log.entries())) == {fresh.id}


def test_the_running_app_and_cron_never_both_page_or_escalate_the_same_item(
    data_dir: Path, clock: Clock, people: dict[str, HTTPServer]
) -> None:
    # Two escalators with their own log objects on one data dir, as two processes have.
    a = escalator(HandoverLog(data_dir, clock=clock), clock, people)
    b = escalator(HandoverLog(data_dir, clock=clock), clock, people)
    a.page([item()])
    clock.advance(minutes=10)
    barrier = threading.Barrier(2)
    reports = []

    def run(esc: Escalator) -> None:
        barrier.wait()
        reports.append(esc.run_due([item()]))

    threads = [threading.Thread(target=run, args=(e,)) for e in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.escalated for r in reports) == [0, 1]
    assert counts(people) == {"sam": 1, "ann": 1, "fallback": 0}
