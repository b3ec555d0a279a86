"""The Desk without a screen: the one policy, items held and pruned, decisions from a real
handover log, alert routing through a real Alerter, the archive behind 'older'."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from ui_support import NOW, _item, clock, sample_items, small_config

from watchtower.core.alert.alerts import Alerter
from watchtower.core.desk import PRIORITY, Change, Desk, Filters, Record
from watchtower.core.models import Category, Severity
from watchtower.core.record import policy
from watchtower.core.record.archive import Archive
from watchtower.core.record.log import HandoverLog


def make_desk(tmp_path: Path, *, operator: str = "alice") -> tuple[Desk, list[Change]]:
    desk = Desk(small_config(), operator=operator, clock=clock)
    changes: list[Change] = []
    desk.subscribe(changes.append)
    log = HandoverLog(tmp_path / "data", clock=clock)
    desk.attach(log=log, alerter=Alerter(small_config().alerts, env={}))
    desk.hold(sample_items())
    desk.sync()
    return desk, changes


def decide(desk: Desk, *records: Record, operator: str | None = None) -> None:
    for r in records:
        desk.log.append(r.kind, r.text, operator=operator or desk.operator, item=r.item, data=dict(r.data))
    desk.apply_log(desk.read_log())
    desk.sync()


def test_the_row_state_order_is_one_policy(tmp_path: Path) -> None:
    """Issue 16: app.row_state and ItemState.label disagreed on ignored/blocked/escalated."""
    desk, _ = make_desk(tmp_path)
    crit = desk.window(PRIORITY)[0]
    assert desk.row_state(crit) == policy.STATE_NEW
    decide(desk, Record("seen", item=crit))
    assert desk.row_state(crit).label == "seen"
    decide(desk, Record("claimed", item=crit))
    assert desk.row_state(crit).label == "mine"
    decide(desk, Record("escalated", "to the director", item=crit))
    assert desk.row_state(crit).label == "escalated" and desk.needs_human(crit)
    decide(desk, Record("blocked", item=crit))
    assert desk.row_state(crit).label == "blocked" and not desk.needs_human(crit)
    decide(desk, Record("ignored", item=crit))
    assert desk.row_state(crit).label == "ignored"  # ignored outranks blocked
    decide(desk, Record("replied", "done", item=crit, data={"author": crit.author}))
    assert desk.row_state(crit).label == "replied" and desk.handled(crit.id)
    assert crit.id not in {i.id for i in desk.window(PRIORITY)}  # handled: out of Priority


def test_another_operators_claim_reads_as_theirs(tmp_path: Path) -> None:
    desk, _ = make_desk(tmp_path, operator="bob")
    item = desk.window(PRIORITY)[0]
    decide(desk, Record("claimed", item=item), operator="alice")
    assert desk.row_state(item).label == "@alice"
    outcome = desk.claim(item)
    assert outcome.confirm_from == "alice" and outcome.record.kind == "claimed"
    decide(desk, outcome.record)
    assert desk.row_state(item).label == "mine"
    assert desk.claim(item).record.kind == "unclaimed"


def test_a_due_follow_up_outranks_everything_and_depends_on_the_clock(tmp_path: Path) -> None:
    desk, _ = make_desk(tmp_path)
    item = desk.window("X")[0]
    decide(desk, desk.followup(item, "call back", hours=1, preset="custom"))
    assert desk.row_state(item).label == "follow-up"
    later = Desk(small_config(), operator="alice", clock=lambda: NOW + timedelta(hours=2))
    later.hold([item])
    later.apply_log(desk.log_entries)
    assert later.row_state(item).label == "FOLLOW-UP!"


def test_windows_and_tallies_follow_the_filters(tmp_path: Path) -> None:
    desk, _ = make_desk(tmp_path)
    assert [i.severity for i in desk.window(PRIORITY)] == sorted((i.severity for i in desk.window(PRIORITY)), reverse=True)
    assert desk.tally("X").total == 3
    medium = Filters(Severity.MEDIUM)
    assert desk.tally("X", medium).total == 1
    assert all(not i.coverage.covered for i in desk.window(PRIORITY, Filters(uncovered_only=True)))
    assert desk.window("X", limit=2) == desk.window("X")[:2]


def test_an_edit_replaces_the_held_item_and_notifies(tmp_path: Path) -> None:
    from watchtower.core.pipeline.monitor import RoundResult
    from watchtower.core.sources import PollResult

    desk, changes = make_desk(tmp_path)
    held = desk.window("Mastodon")[0]
    edited = _item(int(held.native_id[1:]), "Mastodon", held.author, 880, "edited text", 400, held.severity,
                   held.category, covered=held.coverage.covered)
    edited.edited_at = NOW
    changes.clear()
    new = desk.receive(RoundResult(PollResult("masto", "Mastodon", [edited], ok=True), [], [edited]))
    assert new == []  # an edit is not a new item: no alert
    desk.sync()
    assert desk.items[held.id] is edited and edited in desk.window("Mastodon")
    assert any("Mastodon" in c.panes for c in changes)


def test_pruning_keeps_the_newest_and_every_open_item(tmp_path: Path) -> None:
    desk = Desk(small_config(), operator="alice", clock=clock, max_items=3, prune_slack=0)
    quiet = [_item(200 + n, "News", "Forum", None, f"chatter {n}", 600 + n, Severity.INFO, Category.OTHER) for n in range(6)]
    fire = _item(300, "News", "Dagblad", None, "an old fire", 5000, Severity.CRITICAL, Category.CRISIS)
    fresh = [_item(400 + n, "News", "Forum", None, f"new {n}", n, Severity.INFO, Category.OTHER) for n in range(3)]
    desk.hold(quiet + [fire] + fresh)
    assert desk.prune_due()
    assert desk.prune() == 6
    assert set(desk.items) == {fire.id, *(i.id for i in fresh)}


def test_older_items_come_back_from_the_archive(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "data")
    old = [_item(600 + n, "News", "Forum", None, f"archived {n}", 3000 + n, Severity.INFO, Category.OTHER) for n in range(7)]
    archive.add(old)
    desk = Desk(small_config(), operator="alice", clock=clock)
    desk.attach(archive=archive)
    desk.hold(old[:2])
    desk.sync()
    found = desk.load_older("News", 3)
    assert len(found) == 3 and not {i.id for i in found} & {i.id for i in old[:2]}
    desk.hold_older("News", found, 3)
    desk.sync()
    assert desk.held("News") == 5 and "News" not in desk.archive_exhausted
    rest = desk.load_older("News", 3)
    desk.hold_older("News", rest, 3)
    assert len(rest) == 2 and "News" in desk.archive_exhausted
    archive.close()


def test_alerts_route_through_the_alerter_and_stop_once_acknowledged(tmp_path: Path) -> None:
    desk, _ = make_desk(tmp_path)
    fire = _item(900, "News", "Dagblad", None, "Brand in de bieb", 1, Severity.CRITICAL, Category.CRISIS)
    alerts = desk.alerts_for([fire])
    assert alerts and fire.id in alerts[0].item_ids
    decide(desk, Record("claimed", item=fire))
    assert fire.id in desk._acknowledged
    quiet = _item(901, "X", "@fan", 10, "thanks", 1, Severity.INFO, Category.PRAISE)
    assert desk.alerts_for([quiet]) == []


def test_an_overdue_follow_up_alerts_on_the_tick(tmp_path: Path) -> None:
    desk, _ = make_desk(tmp_path)
    item = desk.window("X")[0]
    decide(desk, Record("followup_set", "call back", item=item, data={"due": (NOW - timedelta(minutes=5)).isoformat()}))
    alerts = desk.tick()
    assert any("call back" in (a.title + a.body) for a in alerts)


def test_the_header_says_what_matters_as_data(tmp_path: Path) -> None:
    desk, _ = make_desk(tmp_path)
    h = desk.header()
    assert h.worst is not None and h.worst.severity == Severity.CRITICAL
    assert h.handover is None and h.crisis is None and h.org == "Riverside Library"
    decide(desk, Record("handover", "watch the datalek story"), operator="sam")
    assert desk.header().handover.acked_by is None
    decide(desk, Record("crisis_start", "Data breach"))
    h = desk.header()
    assert h.crisis is not None and h.crisis.description == "Data breach"


def test_change_notifications_name_the_panes(tmp_path: Path) -> None:
    desk, changes = make_desk(tmp_path)
    changes.clear()
    desk.hold([_item(950, "X", "@new", 5, "hello", 0, Severity.LOW, Category.OTHER)])
    assert changes and {"X", PRIORITY} <= changes[-1].panes and changes[-1].items
    changes.clear()
    desk.apply_log(desk.log_entries)
    assert changes[-1].log


def test_the_log_and_the_screen_name_a_state_the_same_way(tmp_path: Path) -> None:
    """Issue 16: ItemState.label (CLI, search) and the row state (screen) disagreed on
    ignored/blocked/escalated; both read the one order now."""
    from itertools import combinations

    desk, _ = make_desk(tmp_path)
    kinds = ["escalated", "blocked", "ignored", "claimed", "seen"]
    for n, combo in enumerate(c for r in (1, 2, 3) for c in combinations(kinds, r)):
        item = _item(700 + n, "X", f"@p{n}", 5, f"post {n}", 1, Severity.HIGH, Category.GRIEVANCE)
        desk.hold([item])
        decide(desk, *(Record(k, item=item) for k in combo), operator="ann")
        st = desk.state(item.id)
        screen = desk.row_state(item).label
        assert st.label == ("claimed by ann" if screen == "@ann" else screen), combo


def test_reply_commands_carry_what_the_reply_once_guard_reads(tmp_path: Path) -> None:
    from watchtower.core.record.decisions import last_reply_to

    desk, _ = make_desk(tmp_path)
    item = desk.window("X")[0]
    cmd = desk.reply("replied", item, "Thanks, fixed!", template="correction", language="en")
    assert cmd.kind == "replied" and cmd.data["author"] == item.author and cmd.data["template"] == "correction"
    decide(desk, cmd)
    assert last_reply_to(desk.log_entries, author=item.author, now=NOW) is not None
    assert desk.row_state(item).label == "replied"
    posted = desk.reply("posted", item, "x", template=None, language="nl", posted_url="https://x.example/1")
    assert posted.data["posted_url"] == "https://x.example/1"
