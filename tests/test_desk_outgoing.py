"""The Desk knows what our own accounts did (issue 18, points 1, 2 and 4), without a screen:
our post deleted or corrected (from a real handover log), and a reply our account made on
the platform itself (from the items the sources deliver), in the row state and out of the
Priority pane, computed when items arrive and never per row drawn."""

from __future__ import annotations

from pathlib import Path

from ui_support import NOW, _item, clock, sample_items, small_config

from watchtower.core.alert.alerts import Alerter
from watchtower.core.desk import PRIORITY, Desk
from watchtower.core.models import Category, Severity
from watchtower.core.record.log import HandoverLog
from watchtower.core.respond.ownposts import record_corrected, record_deleted
from watchtower.core.respond.replies import check_reply_once


def make_desk(tmp_path: Path) -> Desk:
    desk = Desk(small_config(), operator="alice", clock=clock)
    desk.attach(log=HandoverLog(tmp_path / "data", clock=clock), alerter=Alerter(small_config().alerts, env={}))
    desk.hold(sample_items())
    desk.sync()
    return desk


def _ours(n: int = 40, *, severity: Severity = Severity.HIGH, in_reply_to: str | None = None, text: str = "Oops"):
    return _item(n, "Mastodon", "@riverside@social.example", 5000, text, 5, severity, Category.OWN_POST,
                 in_reply_to=in_reply_to)


def test_our_deleted_and_corrected_post_reads_so_and_leaves_priority(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    post = _ours()
    desk.hold([post])
    desk.sync()
    assert post.id in {i.id for i in desk.window(PRIORITY)}
    record_deleted(desk.log, post, operator="ann", how="api")
    desk.apply_log(desk.read_log())
    desk.sync()
    state = desk.row_state(post)
    assert (state.label, state.tone) == ("deleted", "done")
    assert desk.handled(post.id) and post.id not in {i.id for i in desk.window(PRIORITY)}
    assert desk.index.state_of(post).label == "deleted"  # the cached row state follows the log
    record_corrected(desk.log, post, operator="ann", url="https://social.example/@riverside/2")
    desk.apply_log(desk.read_log())
    desk.sync()
    assert desk.index.state_of(post).label == "deleted + corrected"


def test_a_reply_our_account_made_on_the_platform_marks_the_post_it_answers(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    parent = next(i for i in desk.items.values() if i.author == "@jeroen@social.example")
    assert parent.id in {i.id for i in desk.window(PRIORITY)}
    assert desk.row_state(parent).label == "new"
    reply = _ours(41, severity=Severity.INFO, in_reply_to=parent.native_id, text="We are looking into it")
    desk.hold([reply])
    desk.sync()
    state = desk.index.state_of(parent)
    assert (state.label, state.tone) == ("replied", "done")
    assert parent.id not in {i.id for i in desk.window(PRIORITY)}
    ours = desk.outgoing.reply_to(parent.id)
    assert ours.on_platform and ours.author == parent.author and ours.url == reply.url
    # The guard knows it too: a reply from here would be our second word.
    warning = check_reply_once(parent, desk.outgoing.replies(), now=NOW, operator="alice")
    assert warning is not None and "on Mastodon itself" in warning.message


def test_a_parent_that_arrives_after_our_reply_is_marked_when_it_arrives(tmp_path: Path) -> None:
    desk = Desk(small_config(), operator="alice", clock=clock)
    parent = next(i for i in sample_items() if i.author == "@jeroen@social.example")
    desk.hold([_ours(42, severity=Severity.INFO, in_reply_to=parent.native_id)])
    desk.hold([parent])
    desk.sync()
    assert desk.index.state_of(parent).label == "replied"
    assert desk.outgoing.reply_to(parent.id).author == parent.author


def test_a_post_scheduled_weeks_ago_and_never_sent_stays_in_the_working_log(tmp_path: Path) -> None:
    """The live screen reads two weeks of the log plus what is still open: a post scheduled
    three weeks ago that never went out (the runner was down) is still open work, so the
    follow-ups screen and the ticker must still see it; one sent back then must not return."""
    from datetime import timedelta

    from watchtower.core.respond.schedule import POSTED, SCHEDULED, open_posts

    then = [NOW - timedelta(days=21)]
    log = HandoverLog(tmp_path / "data", clock=lambda: then[0])
    data = {"account": "@riverside@social.example", "platform": "Mastodon", "key": "k" * 40}
    stuck = log.append(SCHEDULED, "Correction: we are open on Sunday", operator="ann",
                       data={**data, "due": (NOW - timedelta(days=20)).isoformat()})
    sent = log.append(SCHEDULED, "Reminder: new hours", operator="ann",
                      data={**data, "key": "s" * 40, "due": (NOW - timedelta(days=20)).isoformat()})
    log.append(POSTED, "Reminder: new hours", operator="bob", data={"schedule": sent.id, "url": "https://x.example/1"})
    then[0] = NOW
    desk = Desk(small_config(), operator="alice", clock=clock)
    desk.attach(log=log, alerter=Alerter(small_config().alerts, env={}))
    entries = desk.read_log()
    assert [p.id for p in open_posts(entries, NOW)] == [stuck.id]
    assert sent.id not in {e.id for e in entries}
