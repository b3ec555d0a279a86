"""The Desk's part of issue 19, without a screen: the watch-list folded from a real log
(watch floor, mute hiding, snoozes, the 'show muted' filter, alerts), rota overrides in the
header and the coverage of new items, the override command's checks, and the search line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from ui_support import NOW, _item, sample_items, small_config

from watchtower.core.alert.alerts import Alerter
from watchtower.core.desk import PRIORITY, Desk, Record
from watchtower.core.desk.query import parse_search
from watchtower.core.models import Category, Severity
from watchtower.core.record.log import HandoverLog

AMS = ZoneInfo("Europe/Amsterdam")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make_desk(tmp_path: Path, clock: Clock | None = None) -> Desk:
    clock = clock or Clock(NOW)
    desk = Desk(small_config(), operator="alice", clock=clock)
    desk.attach(log=HandoverLog(tmp_path / "data", clock=clock), alerter=Alerter(small_config().alerts, env={}))
    desk.hold(sample_items())
    desk.apply_log(desk.read_log())
    desk.sync()
    return desk


def decide(desk: Desk, *records: Record) -> None:
    for r in records:
        desk.record(r)
    desk.apply_log(desk.read_log())
    desk.sync()


def _ids(desk: Desk, pane: str) -> list[str]:
    return [i.id for i in desk.window(pane)]


def grumble(desk: Desk):  # the 14-follower LOW wifi grumble on X: not in Priority
    return next(i for i in desk.items.values() if "wifi" in i.text)


def test_a_watched_author_is_never_below_medium_and_is_marked_until_unwatched(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    post = grumble(desk)
    assert post.id not in _ids(desk, PRIORITY)
    decide(desk, desk.watch_author(post, "keeps complaining; may escalate"))
    shown = next(i for i in desk.window("X") if i.id == post.id)
    assert shown.severity == Severity.MEDIUM and any(r.startswith("watched author") for r in shown.reasons)
    assert post.id in _ids(desk, PRIORITY)  # medium: a human looks
    assert desk.row_state(shown).note == "watched"
    assert desk.items[post.id].severity == Severity.LOW  # an overlay, never the stored item
    decide(desk, desk.unwatch_author(post.author))
    assert post.id not in _ids(desk, PRIORITY)
    assert next(i for i in desk.window("X") if i.id == post.id).severity == Severity.LOW


def test_a_muted_author_leaves_the_panes_counts_and_alerts_and_the_filter_brings_them_back(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    crit = desk.window(PRIORITY)[0]
    before = desk.tally("News").total
    assert desk.alerts_for([crit])
    decide(desk, desk.mute(author=crit.author, duration=timedelta(hours=2), reason="a known crank"))
    assert crit.id not in _ids(desk, PRIORITY) and crit.id not in _ids(desk, "News")
    assert desk.tally("News").total == before - 1
    assert desk.alerts_for([crit]) == []  # still held, never alerted
    desk.set_show_muted(True)
    desk.sync()
    assert crit.id in _ids(desk, "News")
    assert desk.row_state(crit).note == f"muted author {crit.author}"
    desk.set_show_muted(False)
    desk.sync()
    assert crit.id not in _ids(desk, "News")


def test_a_timed_mute_ends_on_the_tick(tmp_path: Path) -> None:
    clock = Clock(NOW)
    desk = make_desk(tmp_path, clock)
    crit = desk.window(PRIORITY)[0]
    decide(desk, desk.mute(author=crit.author, duration=timedelta(minutes=30)))
    assert crit.id not in _ids(desk, PRIORITY)
    clock.now = NOW + timedelta(minutes=31)
    desk.tick()
    desk.sync()
    assert crit.id in _ids(desk, PRIORITY)


def test_a_keyword_mute_hides_matching_posts_but_never_a_watched_author(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    decide(desk, desk.mute(keyword="wifi"))
    post = grumble(desk)
    assert post.id not in _ids(desk, "X")
    decide(desk, desk.watch_author(post))
    assert post.id in _ids(desk, "X")


def test_a_snoozed_item_does_not_alert_and_its_row_says_until_when(tmp_path: Path) -> None:
    clock = Clock(NOW)
    desk = make_desk(tmp_path, clock)
    crit = desk.window(PRIORITY)[0]
    decide(desk, desk.snooze(crit, timedelta(minutes=30), "on the phone with them"))
    entry = [e for e in desk.log_entries if e.kind == "snooze"][-1]
    assert entry.item_id == crit.id and entry.platform == crit.platform
    assert desk.alerts_for([crit]) == []
    assert desk.row_state(crit).note == "snoozed until 16:00"  # 15:30 in Amsterdam + 30 min
    assert crit.id in _ids(desk, PRIORITY)  # snoozing is about alerts, not the pane
    clock.now = NOW + timedelta(minutes=31)
    desk.tick()
    desk.sync()
    assert desk.row_state(crit).note == ""
    decide(desk, desk.snooze(crit, timedelta(minutes=30)), desk.snooze(crit, timedelta(0)))
    assert desk.row_state(crit).note == ""  # ended by hand


def test_a_watch_older_than_the_logs_working_set_still_counts(tmp_path: Path) -> None:
    """The screen folds two weeks of the log; a watch (or mute, or override) from a month
    ago lasts until someone ends it, as `watchtower watch` and escalation see it."""
    then = Clock(NOW - timedelta(days=30))
    log = HandoverLog(tmp_path / "data", clock=then)
    post = next(i for i in sample_items() if "wifi" in i.text)
    log.append("watch", "old grudge", operator="sam", data={"author": post.author, "platform": None})
    desk = make_desk(tmp_path)
    assert desk.watch.is_watched(post)
    assert next(i for i in desk.window("X") if i.id == post.id).severity == Severity.MEDIUM


def test_rota_overrides_reach_the_header_and_the_coverage_of_new_items(tmp_path: Path) -> None:
    clock = Clock(NOW)  # Sunday 15:30 in Amsterdam: Robin's weekend shift, until 16:00
    cfg = small_config(rota={"shift": [{"name": "weekend", "days": ["sat", "sun"], "start": "10:00", "end": "16:00",
                                         "on_call": "Robin", "backup": "Bo"}]})
    desk = Desk(cfg, operator="alice", clock=clock)
    desk.start(desk.open_stores(tmp_path / "data", env={}))
    h = desk.header()
    assert (h.on_call, h.on_call_override, h.backup) == ("Robin", False, "Bo")
    start, end = NOW - timedelta(minutes=30), NOW + timedelta(hours=3)
    cmd, warning = desk.rota_override("Ann", start, end, "Robin is ill")
    assert "in place of Robin" in cmd.text and "Ann is not named" in (warning or "")
    decide(desk, cmd)
    h = desk.header()
    assert (h.on_call, h.on_call_override) == ("Ann", True)
    assert h.on_call_until is not None and h.on_call_until.astimezone(AMS).strftime("%H:%M") == "18:30"
    # A new item at 17:00 local (after the shift) is covered by the swap.
    late = _item(990, "X", "@late", 5, "still open?", -90, Severity.MEDIUM, Category.QUESTION)
    cov = desk.monitor.triager.rota.coverage_at(late.published)
    assert cov.covered and cov.on_call == "Ann"
    override = desk.rota().overrides[0]
    decide(desk, desk.cancel_override(override))
    assert desk.header().on_call == "Robin"
    desk.monitor.archive.close()


@pytest.mark.parametrize(("start", "end", "words"), [
    (0, -1, "must be after"),
    (-5, -1, "ended already"),
    (0, 24 * 40, "at most 31 days"),
])
def test_the_override_command_refuses_what_the_cli_refuses(tmp_path: Path, start: int, end: int, words: str) -> None:
    desk = make_desk(tmp_path)
    with pytest.raises(ValueError, match=words):
        desk.rota_override("Ann", NOW + timedelta(hours=start), NOW + timedelta(hours=end))


def test_the_search_line_reads_words_and_filters() -> None:
    q = parse_search('"fire alarm" refund* -spam author:@ann@x.example platform:Mastodon sev:high state:open since:2d',
                     now=NOW, tz=AMS)
    assert q.words == '"fire alarm" refund* -spam'
    assert (q.author, q.platform, q.severity, q.state) == ("@ann@x.example", "Mastodon", Severity.HIGH, "open")
    assert q.since == NOW - timedelta(days=2)
    q = parse_search("until:2026-11-20 re:refund", now=NOW, tz=AMS)
    assert q.until == datetime(2026, 11, 19, 23, 0, tzinfo=UTC) and q.words == "re:refund"
    assert parse_search("since:today", now=NOW, tz=AMS).since == datetime(2026, 11, 21, 23, 0, tzinfo=UTC)
    for bad, words in (("severity:urgent", "one of info"), ("state:done", "one of new"), ("since:soon", "since:")):
        with pytest.raises(ValueError, match=words):
            parse_search(bad, now=NOW, tz=AMS)
