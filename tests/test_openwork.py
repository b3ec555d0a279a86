"""A handover that lists what is open (issue 19.5): every item that still needs a human
whatever its age, alerts nobody acknowledged, the watch-list, mutes, snoozes, overrides,
and the shift's time to first response.  A real HandoverLog (with a fake clock stamping
the entries) and archived items; the handover CLI end to end."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from watchtower.cli import cli
from watchtower.core.models import Coverage, Item, Severity
from watchtower.core.record.archive import Archive
from watchtower.core.record.log import HandoverLog
from watchtower.core.report.handover import summarise, to_json, to_markdown
from watchtower.core.report.openwork import open_work
from watchtower.core.respond.escalation import item_ref
from watchtower.core.respond.schedule import record_entry

UTC = timezone.utc
AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)
SHIFT = NOW - timedelta(hours=8)  # the shift began at 08:00 UTC


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def post(n: int, at: datetime, severity: Severity = Severity.HIGH, *, author: str = "@someone@x", text: str = "",
         covered: bool = True) -> Item:
    it = Item.create(platform="Mastodon", source="m", native_id=f"o{n}", author=author, text=text or f"post number {n}",
                     published=at)
    it.severity = severity
    it.coverage = Coverage(covered=covered)
    return it


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def log(data_dir: Path, clock: Clock) -> HandoverLog:
    return HandoverLog(data_dir, clock=clock)


def at(log: HandoverLog, clock: Clock, when: datetime, kind: str, item: Item | None = None, *, by: str = "ann",
       record: bool = False, **data: object) -> None:
    clock.now = when
    if record:
        record_entry(log, kind, "", operator=by, item_id=item.id if item else None, data=data)
    else:
        log.append(kind, "", operator=by, item=item, data=data or None)
    clock.now = NOW


def test_an_old_critical_item_nobody_answered_is_open_whatever_its_age(log: HandoverLog, clock: Clock) -> None:
    old = post(1, NOW - timedelta(days=3), Severity.CRITICAL, text="You leaked my data three days ago")
    answered = post(2, NOW - timedelta(days=2), Severity.CRITICAL)
    claimed = post(3, NOW - timedelta(days=1, hours=1), Severity.MEDIUM)
    low = post(4, NOW - timedelta(hours=2), Severity.LOW)
    uncovered_low = post(5, NOW - timedelta(hours=3), Severity.LOW, covered=False)
    at(log, clock, NOW - timedelta(days=1), "replied", answered)
    at(log, clock, NOW - timedelta(hours=20), "claimed", claimed, by="sam")
    summary = summarise(log.entries(), [old, answered, claimed, low, uncovered_low], now=NOW, tz=AMS)
    ow = summary.open_work
    assert [o.id for o in ow.items] == [old.id, claimed.id, uncovered_low.id]  # worst first, then longest waiting
    assert ow.items[0].waiting_s == 3 * 86400 and ow.items[1].claimed_by == "sam"
    assert summary.new_items == 2, "the 24-hour window still counts only what is new"
    md = to_markdown(summary)
    section = md.split("## Still needs a human, whatever its age (3)")[1].split("\n## ")[0]
    assert "You leaked my data three days ago" in section and "(waiting 3 d 0 h)" in section
    assert f"(ref {item_ref(old.id)})" in section and "claimed by sam" in section


def test_time_to_first_response_per_item_and_the_shifts_median_and_worst(log: HandoverLog, clock: Clock) -> None:
    a = post(1, SHIFT + timedelta(hours=1))
    b = post(2, SHIFT + timedelta(hours=2))
    c = post(3, SHIFT + timedelta(hours=3))
    d = post(4, SHIFT + timedelta(hours=4))
    before = post(5, SHIFT - timedelta(hours=1))  # of the previous shift
    at(log, clock, a.published + timedelta(minutes=2), "seen", a)  # opening it is not a response
    at(log, clock, a.published + timedelta(minutes=4), "claimed", a, by="sam")
    at(log, clock, b.published + timedelta(minutes=30), "replied", b)
    at(log, clock, c.published + timedelta(minutes=90), "ignored", c)
    at(log, clock, d.published + timedelta(minutes=1), "alert", d, by="watchtower")  # a page is not a response
    rt = open_work(log.entries(), [a, b, c, d, before], since=SHIFT, now=NOW, tz=AMS).response
    assert (rt.items, rt.answered) == (4, 3)
    assert rt.median_s == 30 * 60 and rt.worst_s == 90 * 60 and rt.worst_ref == item_ref(c.id)
    assert rt.waiting == 1 and rt.longest_wait_s == 4 * 3600
    assert [(r.seconds, r.kind, r.by) for r in rt.per_item] == [
        (240, "claimed", "sam"), (1800, "replied", "ann"), (5400, "ignored", "ann"), (None, None, None)]


def test_watched_muted_snoozed_overridden_and_unacknowledged_are_listed(log: HandoverLog, clock: Clock) -> None:
    watched_low = post(1, NOW - timedelta(hours=1), Severity.INFO, author="@troll@x")
    muted = post(2, NOW - timedelta(hours=1), Severity.CRITICAL, text="free books giveaway")
    paged = post(3, NOW - timedelta(hours=2), Severity.CRITICAL)
    at(log, clock, NOW - timedelta(hours=5), "watch", by="ann", record=True, author="@troll@x")
    at(log, clock, NOW - timedelta(hours=5), "mute", by="bo", record=True, keyword="free books",
       until=(NOW + timedelta(hours=1)).isoformat())
    at(log, clock, NOW - timedelta(hours=2), "alert", paged, by="watchtower",
       escalation=1, level=1, role="backup", to="Ann", items=[paged.id], severities=["critical"],
       lines=["!!! CRIT Mastodon @someone@x: post number 3"], sent=1)
    at(log, clock, NOW - timedelta(minutes=10), "snooze", paged, record=True, until=(NOW + timedelta(minutes=20)).isoformat())
    at(log, clock, NOW - timedelta(hours=3), "rota_override", by="sam", record=True, who="Robin",
       start=(NOW + timedelta(hours=2)).isoformat(), end=(NOW + timedelta(hours=6)).isoformat(), reason="swap")
    summary = summarise(log.entries(), [watched_low, muted, paged], now=NOW, tz=AMS)
    ow = summary.open_work
    assert [o.id for o in ow.items] == [paged.id, watched_low.id] and ow.muted_hidden == 1
    assert ow.items[1].watched and ow.items[1].severity == "medium"
    assert ow.items[0].alert == "backup Ann" and ow.items[0].snoozed_until == NOW + timedelta(minutes=20)
    assert [a["to"] for a in ow.alerts] == ["Ann"]
    md = to_markdown(summary)
    assert "## Alerts not acknowledged (1)" in md and f"`watchtower ack {item_ref(paged.id)}`" in md
    assert "## Watched authors (1)\n- @troll@x, by ann" in md
    assert "## Muted (1)\n- keyword 'free books', by bo" in md and " until Mon 07 Dec 18:00 CET" in md
    assert "## Snoozed alerts (1)" in md
    assert "## Rota overrides in force or coming (1)\n- Robin on call Mon 07 Dec 19:00 CET" in md
    doc = json.loads(json.dumps(to_json(summary)))
    assert doc["open_work"]["items"][0]["ref"] == item_ref(paged.id)
    assert doc["open_work"]["response"]["items"] == 2  # muted ones are not the shift's work


def test_hostile_text_in_the_open_list_stays_inert(log: HandoverLog, clock: Clock) -> None:
    evil = post(1, NOW - timedelta(hours=1), Severity.CRITICAL, author="[click](http://evil.example)",
                text="@everyone <!here> **urgent** # heading")
    md = to_markdown(summarise(log.entries(), [evil], now=NOW, tz=AMS))
    line = next(line for line in md.splitlines() if "urgent" in line and line.startswith("- !!!"))
    assert "\\[click\\]" in line and "@\u200beveryone" in line
    assert "<\u200b!here" in line or "\\<\u200b\\!here" in line
    assert "\\*\\*urgent\\*\\*" in line


def test_handover_show_lists_what_is_open_from_the_archive(data_dir: Path) -> None:
    old = post(9, datetime.now(UTC) - timedelta(days=4), Severity.CRITICAL, text="Still angry about last week")
    with Archive(data_dir) as a:
        a.add([old])
    HandoverLog(data_dir).append("handover", "all quiet", operator="ann")
    result = CliRunner().invoke(cli, ["handover", "show", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert "## Still needs a human, whatever its age (1)" in result.output
    assert "Still angry about last week" in result.output
    assert "## Time to first response (this shift)" in result.output
