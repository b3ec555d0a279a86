"""Decisions derived from the log, the handover summary, and its hostile-safe Markdown."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from markdown_it import MarkdownIt

from watchtower.core.models import Coverage, Item, Severity
from watchtower.core.record.decisions import (
    crisis_state,
    followups,
    item_states,
    last_handover,
    last_reply_to,
)
from watchtower.core.record.log import HandoverLog
from watchtower.core.report.handover import md_escape, md_fence, summarise, to_json, to_markdown

AMS = ZoneInfo("Europe/Amsterdam")
T0 = datetime(2026, 11, 6, 8, 0, tzinfo=timezone.utc)  # Friday 09:00 in Amsterdam


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def at(self, **kw: float) -> Clock:
        self.now = T0 + timedelta(**kw)
        return self


def item(n: int, *, hours: float, sev: Severity, platform: str = "Mastodon", covered: bool = True,
         weekend: bool = False, author: str = "@pat", text: str = "") -> Item:
    it = Item.create(platform=platform, source="s", native_id=f"n{n}", author=author,
                     text=text or f"post {n}", published=T0 + timedelta(hours=hours))
    it.severity = sev
    it.coverage = Coverage(covered=covered, weekend=weekend)
    return it


def seeded(data_dir: Path) -> tuple[HandoverLog, list[Item], Clock]:
    clock = Clock()
    log = HandoverLog(data_dir, clock=clock)
    items = [
        item(1, hours=-30, sev=Severity.CRITICAL),  # before the shift
        item(2, hours=1, sev=Severity.HIGH, covered=False),
        item(3, hours=2, sev=Severity.MEDIUM, platform="Bluesky", weekend=True),
        item(4, hours=3, sev=Severity.HIGH, platform="Bluesky"),
        item(5, hours=4, sev=Severity.LOW, covered=False, platform="Reddit"),
    ]
    log.append("handover", "old handover", operator="zoe")  # 08:00Z
    clock.at(minutes=5)
    log.append("acknowledged", operator="ann", data={"handover": log.entries()[-1].id})
    clock.at(hours=1, minutes=10)
    log.append("claimed", operator="ann", item=items[1])
    log.append("replied", "We're sorry, we'll DM you", operator="ann", item=items[1],
               data={"author": "@pat", "thread": items[1].id})
    clock.at(hours=2)
    log.append("claimed", operator="bob", item=items[2])
    log.append("unclaimed", operator="bob", item=items[2])
    log.append("claimed", operator="bob", item=items[3])
    log.append("followup_set", "email the complainant", operator="ann", item=items[1],
               data={"due": (T0 + timedelta(hours=3)).isoformat()})
    log.append("followup_set", "repost the correction", operator="bob", item=items[3],
               data={"due": (T0 + timedelta(hours=9)).isoformat()})
    done = log.append("followup_set", "done already", operator="bob", item=items[3],
                      data={"due": (T0 + timedelta(hours=2)).isoformat()})
    log.append("followup_done", operator="bob", item=items[3], data={"followup": done.id})
    log.append("seen", operator="cem", item=items[4])
    log.append("escalated", "to comms lead", operator="bob", item=items[3])
    clock.at(hours=3)
    log.append("crisis_start", "outage rumour", operator="ann")
    log.append("crisis_check", operator="ann", data={"check": "Bluesky"})
    clock.at(hours=5)
    log.append("note", "Quiet afternoon. Watch the Bluesky thread.", operator="bob")
    clock.at(hours=6)
    return log, items, clock


def test_item_states(data_dir: Path) -> None:
    log, items, _ = seeded(data_dir)
    st = item_states(log.entries())
    assert st[items[1].id].claimed_by == "ann"
    assert st[items[1].id].replied[0].operator == "ann"
    assert st[items[1].id].replied[0].platform == "Mastodon"
    assert st[items[2].id].claimed_by is None  # unclaimed
    assert st[items[3].id].claimed_by == "bob"
    assert st[items[3].id].escalated and st[items[3].id].escalated.operator == "bob"
    assert [f.text for f in st[items[3].id].followups] == ["repost the correction"]
    assert st[items[4].id].seen_by == {"cem"} and st[items[4].id].label == "seen"
    assert items[0].id not in st


def test_followups_due_and_overdue(data_dir: Path) -> None:
    log, _, clock = seeded(data_dir)
    open_ = followups(log.entries(), clock.now)
    assert [(f.text, f.overdue) for f in open_] == [
        ("email the complainant", True),
        ("repost the correction", False),
    ]


def test_reply_once_guard(data_dir: Path) -> None:
    log, items, clock = seeded(data_dir)
    e = log.entries()
    assert last_reply_to(e, author="PAT", now=clock.now) is not None
    assert last_reply_to(e, thread=items[1].id, now=clock.now) is not None
    assert last_reply_to(e, author="@someone", now=clock.now) is None
    assert last_reply_to(e, author="@pat", within=timedelta(hours=1), now=clock.now) is None
    assert last_reply_to(e, now=clock.now) is None


def test_crisis_and_handover_state(data_dir: Path) -> None:
    log, _, clock = seeded(data_dir)
    c = crisis_state(log.entries())
    assert c.active and c.description == "outage rumour" and c.started_by == "ann"
    assert c.checks_done == {"Bluesky"}
    h, ack = last_handover(log.entries())
    assert h is not None and h.operator == "zoe" and ack is not None and ack.operator == "ann"
    log.append("crisis_end", operator="bob")
    log.append("handover", "over to you", operator="bob")
    assert not crisis_state(log.entries()).active
    h, ack = last_handover(log.entries())
    assert h is not None and h.operator == "bob" and ack is None


def test_the_next_person_sees_the_shift_handed_to_them_until_they_acknowledge(data_dir: Path) -> None:
    log, items, clock = seeded(data_dir)
    log.append("handover", "over to you, watch the Bluesky thread", operator="bob")  # T0 + 6 h
    handed = log.entries()[-1]
    clock.at(hours=6, minutes=20)
    s = summarise(log.entries(), items, now=clock.now, tz=AMS)
    # Not the 20 quiet minutes since bob's handover: zoe's handover onwards, bob's shift.
    assert s.since == T0.astimezone(AMS)
    assert s.new_items == 4 and [r.operator for r in s.replies] == ["ann"]
    assert s.acknowledged is None and s.last_handover is not None and s.last_handover.operator == "bob"
    md = to_markdown(s)
    assert "Covers the shift handed over (not acknowledged yet)" in md and "**not acknowledged**" in md

    log.append("acknowledged", operator="cem", data={"handover": handed.id})
    clock.at(hours=7)
    s = summarise(log.entries(), items, now=clock.now, tz=AMS)
    assert s.since == handed.ts.astimezone(AMS)  # cem's own shift from the handover on
    assert s.new_items == 0 and s.acknowledged is not None and s.acknowledged.operator == "cem"
    assert "Covers since the last handover (acknowledged)" in to_markdown(s)


def test_a_first_unacknowledged_handover_covers_the_day_before_it(data_dir: Path) -> None:
    clock = Clock()
    log = HandoverLog(data_dir, clock=clock)
    clock.at(hours=8)
    log.append("handover", "first shift with watchtower", operator="ann")
    clock.at(hours=9)
    s = summarise(log.entries(), [], now=clock.now, tz=AMS)
    assert s.since == (T0 - timedelta(hours=16)).astimezone(AMS)  # 24 h before ann's handover


def test_with_no_handover_the_summary_covers_a_day(data_dir: Path) -> None:
    clock = Clock()
    log = HandoverLog(data_dir, clock=clock)
    log.append("note", "hello", operator="ann")
    s = summarise(log.entries(), [], now=clock.now, tz=AMS)
    assert s.since == (T0 - timedelta(hours=24)).astimezone(AMS)
    assert "Covers the last 24 hours (no handover recorded yet)" in to_markdown(s)
    assert summarise(log.entries(), [], since=T0, now=clock.now, tz=AMS).period == ""


def test_summary_of_a_seeded_log(data_dir: Path) -> None:
    log, items, clock = seeded(data_dir)
    s = summarise(log.entries(), items, now=clock.now, tz=AMS)
    assert s.since == T0.astimezone(AMS)  # since the last handover
    assert s.new_items == 4
    assert s.by_severity == {"high": 2, "medium": 1, "low": 1}
    assert s.by_platform == {"Bluesky": 2, "Mastodon": 1, "Reddit": 1}
    assert [x.id for x in s.uncovered] == [items[1].id, items[4].id]  # worst first
    assert [x.id for x in s.weekend] == [items[2].id]
    assert [r.operator for r in s.replies] == ["ann"]
    assert sorted((c.operator, c.item_id) for c in s.open_claims) == [("ann", items[1].id), ("bob", items[3].id)]
    assert [f.text for f in s.followups_overdue] == ["email the complainant"]
    assert s.followups_overdue[0].due.tzinfo is AMS and s.followups_overdue[0].due.hour == 12
    assert [f.text for f in s.followups_due] == ["repost the correction"]
    assert s.crisis.active
    assert [n.text for n in s.notes] == ["Quiet afternoon. Watch the Bluesky thread."]
    assert s.last_handover is not None and s.last_handover.operator == "zoe"
    assert s.acknowledged is not None and s.acknowledged.operator == "ann"

    md = to_markdown(s)
    assert "**CRISIS MODE ON**" in md and "Europe/Amsterdam" in md
    assert "due **Fri 06 Nov 12:00 CET** (3 h 00 min overdue)" in md
    assert "Arrived uncovered (2)" in md
    data = json.loads(json.dumps(to_json(s)))
    assert data["new_items"] == 4 and data["followups_overdue"][0]["due"].endswith("+01:00")
    assert data["crisis"]["checks_done"] == ["Bluesky"]


HOSTILE = (
    "# heading\n"
    "[click me](javascript:alert(1)) ![img](http://evil/x.png)\n"
    "<script>alert(1)</script> <img src=x onerror=alert(1)>\n"
    "```\n</div># closed the fence?\n```\n"
    "~~~\n"
    "````` five\n"
    "&lt;b&gt; <https://evil.example> www.evil.example **bold** | a | b |\n"
    "---\nSetext\n===\n"
)


def _html(md: str) -> str:
    return MarkdownIt("gfm-like").render(md)


def test_markdown_export_keeps_hostile_content_inert(data_dir: Path) -> None:
    clock = Clock()
    log = HandoverLog(data_dir, clock=clock)
    evil_item = item(9, hours=1, sev=Severity.HIGH, covered=False,
                     author="@x](javascript:alert(1))", text=HOSTILE)
    clock.at(hours=1)
    log.append("note", HOSTILE, operator="bob")
    log.append("claimed", operator="<b>ann</b>", item=evil_item)
    log.append("replied", HOSTILE, operator="ann", item=evil_item)
    log.append("followup_set", HOSTILE, operator="ann", item=evil_item,
               data={"due": (T0 + timedelta(hours=2)).isoformat()})
    log.append("crisis_start", HOSTILE, operator="ann")
    clock.at(hours=3)
    md = to_markdown(summarise(log.entries(), [evil_item], since=T0, now=clock.now, tz=AMS))
    html = _html(md)
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    # No disguised link: a link can only be a URL shown as itself (chat and GFM link
    # bare URLs; the export keeps them intact so they still work when pasted).
    for href, text in re.findall(r'<a href="([^"]*)">(.*?)</a>', html):
        assert href.startswith(("http://", "https://")), href
        assert unquote(href) in (text, "http://" + text), (href, text)
    # The only headings are ours.
    headings = [line for line in html.splitlines() if line.startswith(("<h1", "<h2", "<h3"))]
    assert all("heading" not in h and "Setext" not in h for h in headings), headings
    assert "<hr" not in html and "<table" not in html and "<strong>bold" not in html
    # The note is shown whole, inside one code block that its own fences could not close.
    pre = html.split("<pre>")[1].split("</pre>")[0]
    assert "# heading" in pre and "closed the fence?" in pre and "Setext" in pre
    assert html.count("<pre>") == 1


def test_escape_helpers() -> None:
    assert md_escape("[a](b)") == r"\[a\](b)"  # no "](" so no link; "(" alone is nothing
    assert md_escape("line1\nline2") == "line1 line2"
    assert md_escape("\x1b[2Jx") == "x"
    fenced = md_fence("a\n``````\nb")
    assert fenced.startswith("```````text\n") and fenced.endswith("\n```````")


def test_a_live_screen_keeps_what_is_still_open_from_before_its_window(data_dir: Path) -> None:
    """Three weeks on, the screen shows two weeks of log, and still every open decision."""
    from watchtower.core.record.decisions import working_entries

    log, items, clock = seeded(data_dir)
    log.append("followup_set", "call back after the repairs", operator="ann", item=items[4],
               data={"due": (T0 + timedelta(days=30)).isoformat()})
    clock.at(days=21)
    log.append("note", "all quiet", operator="cem")
    kept = working_entries(log, clock.now, days=14)

    assert [e.text for e in kept if e.kind == "note"] == ["all quiet"]  # old notes are history
    assert [f.text for f in followups(kept, clock.now)] == [
        "email the complainant", "repost the correction", "call back after the repairs",
    ]
    assert {i: s.claimed_by for i, s in item_states(kept).items() if s.claimed_by} == {
        items[1].id: "ann", items[3].id: "bob",
    }
    assert crisis_state(kept).active and crisis_state(kept).checks_done == {"Bluesky"}
    h, ack = last_handover(kept)
    assert h is not None and h.operator == "zoe" and ack is not None and ack.operator == "ann"
    assert len(kept) < len(log.entries())  # the rest stays in the log, not on screen

    # Closing one inside the window closes it on screen too.
    fu = next(e for e in log.entries() if e.text == "call back after the repairs")
    log.append("followup_done", operator="cem", item=items[4], data={"followup": fu.id})
    log.append("crisis_end", operator="cem")
    kept = working_entries(log, clock.now, days=14)
    assert "call back after the repairs" not in {f.text for f in followups(kept, clock.now)}
    assert not crisis_state(kept).active
