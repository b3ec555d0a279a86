"""Issue 18 from the live screen, end to end: every key driven with Pilot against local
servers that speak the Mastodon and Bluesky APIs (pytest-httpserver, tests/fake_social.py),
with a real handover log and archive in a tmp dir.

D deletes our own post (a checklist step on X), C posts our own statement from a chosen
account, L schedules a post (listed and cancelled in the follow-ups screen; the running
app sends a due one, once), the reply-once guard knows our replies made on the platform
itself, y says which account to paste as, crisis mode asks before a text without the Q&A
link goes out, a grave own post starts with the formal apology, S drafts the staff
briefing to copy or send, follow-ups close one at a time, and the panel lists the
author's earlier posts.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fake_social import BSKY_HANDLE, ENV, FakeBluesky, FakeMastodon, social_config
from pytest_httpserver import HTTPServer
from textual.content import Content
from textual.widgets import TextArea
from ui_support import NOW, clock, wait_for, wait_for_log
from werkzeug import Request, Response

from watchtower.config import parse_config
from watchtower.core.models import Category, Engagement, Item, Reach, Severity
from watchtower.core.record.archive import Archive
from watchtower.core.record.log import HandoverLog
from watchtower.ui.app import WatchtowerApp
from watchtower.ui.screens.briefing import BriefingScreen
from watchtower.ui.screens.followups import FollowupsScreen
from watchtower.ui.screens.modals import ChoiceScreen, ConfirmScreen, PromptScreen, StepScreen
from watchtower.ui.screens.response import ResponseScreen
from watchtower.ui.widgets.keys import KeysFooter


def make_config(server: HTTPServer, **organisation: Any):  # type: ignore[no-untyped-def]
    data = social_config(server, **organisation)
    base = server.url_for("/").rstrip("/")
    data["sources"] = [
        {"kind": "mastodon", "name": "masto", "platform": "Mastodon", "url": base, "tag": "bieb", "interval": 300},
        {"kind": "json", "name": "x", "platform": "X", "url": base + "/x.json", "interval": 300},
    ]
    return parse_config(data)


def make_app(tmp_path: Path, server: HTTPServer, *, env: dict[str, str] | None = None, data_dir: Path | None = None,
             **organisation: Any) -> WatchtowerApp:
    return WatchtowerApp(make_config(server, **organisation), data_dir=data_dir or tmp_path / "data", operator="alice",
                         clock=clock, start_polling=False, env=dict(ENV if env is None else env))


def post(n: int, platform: str, author: str, text: str, *, severity: Severity = Severity.MEDIUM,
         category: Category = Category.OTHER, native_id: str | None = None, in_reply_to: str | None = None,
         url: str | None = None, minutes_ago: float = 10) -> Item:
    item = Item.create(
        platform=platform, source={"Mastodon": "masto", "X": "x"}[platform], native_id=native_id or f"n{n}",
        author=author, author_name=author, author_followers=500, text=text,
        url=url or f"https://{platform.lower()}.example/{n}", published=NOW - timedelta(minutes=minutes_ago),
        engagement=Engagement(), in_reply_to=in_reply_to,
    )
    item.severity, item.category, item.reasons = severity, category, [f"rule {n}"]
    item.reach = Reach(500, 70)
    return item


async def ready(pilot, items: list[Item]) -> WatchtowerApp:  # type: ignore[no-untyped-def]
    app = pilot.app
    await wait_for(pilot, lambda: app.monitor is not None, what="stores to open")
    app.desk.hold(items)
    app.refresh_views()
    await pilot.pause()
    return app


async def open_panel(pilot, item: Item) -> ResponseScreen:  # type: ignore[no-untyped-def]
    app = pilot.app
    app.open_response(item)
    await wait_for(pilot, lambda: isinstance(app.screen, ResponseScreen) and app.screen.item is item,
                   what="the response panel")
    await pilot.pause()
    return app.screen


async def screen_is(pilot, kind: type) -> Any:  # type: ignore[no-untyped-def]
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, kind), what=kind.__name__,
                   seen=lambda: type(pilot.app.screen).__name__)
    await pilot.pause()
    return pilot.app.screen


def spy_toasts(app: WatchtowerApp) -> list[tuple[str, dict[str, Any]]]:
    seen: list[tuple[str, dict[str, Any]]] = []
    real = app.notify

    def notify(message: str, **kw: Any) -> None:
        seen.append((message, kw))
        real(message, **kw)

    app.notify = notify  # type: ignore[method-assign]
    return seen


def toast_text(message: str, kw: dict[str, Any]) -> Content:
    return Content.from_markup(message) if kw.get("markup", True) else Content(message)


def footer(app: WatchtowerApp) -> str:
    return app.screen.query_one(KeysFooter).plain


# ---------------------------------------------------------------------------- D: delete


async def test_D_deletes_our_mastodon_post_after_showing_the_account_and_the_text(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    masto = FakeMastodon(httpserver)
    sid = masto.status("Vanavond borrel bij mij thuis!")["id"]
    ours = post(1, "Mastodon", "bieb", "Vanavond borrel bij mij thuis!", native_id=sid, severity=Severity.HIGH,
                category=Category.OWN_POST, url=httpserver.url_for(f"/@bieb/{sid}"))
    async with make_app(tmp_path, httpserver).run_test(size=(100, 30)) as pilot:
        app = await ready(pilot, [ours])
        await open_panel(pilot, ours)
        assert " D Delete " in footer(app)
        await pilot.press("D")
        confirm = await screen_is(pilot, ConfirmScreen)
        assert confirm.question == "Delete this post?"
        line = confirm.detail.plain.split("\n")[0]
        assert line == "● delete from Bieb Zuidstad @bieb@localhost on Mastodon"
        assert any("green" in str(span.style) for span in confirm.detail.spans)  # the account's colour
        assert "Vanavond borrel bij mij thuis!" in confirm.detail.plain
        await pilot.press("y")
        (entry,) = await wait_for_log(pilot, "deleted")
        assert masto.deleted == [sid]
        assert entry.item_id == ours.id and entry.operator == "alice" and entry.data["how"] == "api"
        await wait_for(pilot, lambda: "DELETED by alice" in str(app.screen.query_one("#resp-title").render()),
                       what="the panel title to say DELETED")
        assert app.desk.row_state(ours).label == "deleted" and not app.desk.needs_human(ours)


async def test_D_on_x_is_a_checklist_step_with_the_link_ticked_by_hand(httpserver: HTTPServer, tmp_path: Path) -> None:
    ours = post(2, "X", "@bibzuidstad", "Morgen gesloten (klopt niet)", severity=Severity.HIGH,
                category=Category.OWN_POST, url="https://x.com/bibzuidstad/status/2")
    async with make_app(tmp_path, httpserver).run_test(size=(100, 30)) as pilot:
        app = await ready(pilot, [ours])
        await open_panel(pilot, ours)
        await pilot.press("D")
        await screen_is(pilot, ConfirmScreen)
        await pilot.press("y")
        step = await screen_is(pilot, StepScreen)
        assert step.text == "Delete it on X now, logged in as @bibzuidstad; then tick this step"
        assert step.url == "https://x.com/bibzuidstad/status/2"
        assert not [e for e in app.log_entries if e.kind == "deleted"]  # nothing logged before the tick
        await pilot.press("y")
        (entry,) = await wait_for_log(pilot, "deleted")
        assert entry.data["how"] == "by hand" and entry.data["account"] == "@bibzuidstad"


async def test_D_on_someone_elses_post_is_hidden_and_says_why(httpserver: HTTPServer, tmp_path: Path) -> None:
    theirs = post(3, "Mastodon", "jan@social.example", "Wanneer gaat de bieb open?")
    async with make_app(tmp_path, httpserver).run_test(size=(100, 30)) as pilot:
        app = await ready(pilot, [theirs])
        toasts = spy_toasts(app)
        await open_panel(pilot, theirs)
        assert " D Delete " not in footer(app)
        await pilot.press("D")
        await wait_for(pilot, lambda: any("not a post of one of our accounts" in m for m, _ in toasts), what="the toast")
        assert isinstance(app.screen, ResponseScreen)


# ---------------------------------------------------------------------------- C: statement


async def test_C_posts_our_statement_from_a_chosen_account_and_marks_our_post_corrected(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    FakeMastodon(httpserver)
    bsky = FakeBluesky(httpserver)
    ours = post(4, "Mastodon", "bieb", "We zijn zondag open van 10 tot 17", category=Category.OWN_POST)
    async with make_app(tmp_path, httpserver).run_test(size=(100, 30)) as pilot:
        app = await ready(pilot, [ours])
        panel = await open_panel(pilot, ours)
        await pilot.press("C")
        accounts = await screen_is(pilot, ChoiceScreen)
        labels = [label.plain for _id, label in accounts.options]
        # Accounts that can post through an API, the item's platform first; X cannot.
        assert labels == ["● post as Bieb Zuidstad @bieb@localhost on Mastodon",
                          f"● post as Bibliotheek Zuidstad {BSKY_HANDLE} on Bluesky"]
        await pilot.press("down", "enter")
        kinds = await screen_is(pilot, ChoiceScreen)
        assert kinds.options[0][0] == "correction"  # our own wrong post: a correction first
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ResponseScreen) and panel.statement is not None,
                       what="the statement in the editor")
        status = str(panel.query_one("#reply-status").render())
        assert status.startswith(f"STATEMENT ● post as Bibliotheek Zuidstad {BSKY_HANDLE} on Bluesky")
        panel.query_one("#reply", TextArea).load_text("Correctie: zondag zijn we open van 12 tot 17.")
        await pilot.press("escape")  # out of the editor
        await pilot.press("P")
        confirm = await screen_is(pilot, ConfirmScreen)
        assert confirm.question == "Post this statement (a new post, not a reply)?"
        assert confirm.detail.plain.startswith(f"● post as Bibliotheek Zuidstad {BSKY_HANDLE} on Bluesky")
        await pilot.press("y")
        (corrected,) = await wait_for_log(pilot, "corrected")
        assert bsky.posts == ["Correctie: zondag zijn we open van 12 tot 17."]
        posted = [e for e in app.log_entries if e.kind == "posted"]
        assert len(posted) == 1 and posted[0].data["statement"] is True
        assert corrected.item_id == ours.id and corrected.data["url"]
        await wait_for(pilot, lambda: app.desk.row_state(ours).label == "corrected", what="the row to say corrected")
        assert panel.statement is None  # back to a reply


# ---------------------------------------------------------------------------- L: schedule


async def test_L_schedules_the_correction_repost_listed_and_cancelled_in_followups(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    masto = FakeMastodon(httpserver)
    wrong = post(5, "Mastodon", "jan@social.example", "The website says Sunday 10-17 but the sign says 12-17?",
                 category=Category.WRONG_INFO)
    async with make_app(tmp_path, httpserver).run_test(size=(100, 30)) as pilot:
        await ready(pilot, [wrong])
        panel = await open_panel(pilot, wrong)
        panel.query_one("#reply", TextArea).load_text("Correction: on Sunday we open 12-17. https://bibliotheekzuidstad.nl/qa")
        await pilot.press("L")
        when = await screen_is(pilot, ChoiceScreen)
        assert when.title_text.startswith("Post this text as post as Bieb Zuidstad @bieb@localhost on Mastodon")
        assert when.options[0][1] == "Repost the correction in 3 h"
        await pilot.press("enter")
        confirm = await screen_is(pilot, ConfirmScreen)
        assert confirm.question == "Schedule this post?"
        assert "at Sun 22 Nov 18:30 CET" in confirm.detail.plain  # 3 h after 15:30 local
        await pilot.press("y")
        (scheduled,) = await wait_for_log(pilot, "scheduled")
        assert scheduled.data["account"] == "@bieb@localhost" and scheduled.data["about"] == wrong.id
        assert scheduled.data["due"].startswith((NOW + timedelta(hours=3)).isoformat()[:16])
        await pilot.press("escape")
        await pilot.press("f")  # the follow-ups screen lists it
        fus = await screen_is(pilot, FollowupsScreen)
        table = fus.query_one("DataTable")
        await wait_for(pilot, lambda: table.row_count == 1 and "pending" in str(table.get_row_at(0)[1]),
                       what="the scheduled row")
        assert "⇪ Mastodon @bieb@localhost: Correction" in str(table.get_row_at(0)[3])
        await pilot.press("x")
        confirm = await screen_is(pilot, ConfirmScreen)
        assert confirm.question == "Cancel this scheduled post?"
        await pilot.press("y")
        await wait_for_log(pilot, "schedule_cancelled")
        await wait_for(pilot, lambda: "No open follow-ups" in str(table.get_row_at(0)[3]), what="the row gone")
        assert masto.posts == 0


async def test_L_on_x_offers_the_repost_follow_up_instead(httpserver: HTTPServer, tmp_path: Path) -> None:
    wrong = post(6, "X", "@sarah", "@bibzuidstad your site says Sunday 10-17?", category=Category.WRONG_INFO)
    async with make_app(tmp_path, httpserver).run_test(size=(100, 30)) as pilot:
        app = await ready(pilot, [wrong])
        await open_panel(pilot, wrong)
        await pilot.press("L")
        await screen_is(pilot, ChoiceScreen)
        await pilot.press("enter")
        await screen_is(pilot, ConfirmScreen)
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen) and "no posting API for X" in app.screen.question,
                       what="the offer of a follow-up")
        await pilot.press("y")
        (fu,) = await wait_for_log(pilot, "followup_set")
        assert fu.data["preset"] == "repost-correction" and fu.item_id == wrong.id
        assert not [e for e in app.log_entries if e.kind == "scheduled"]


async def test_the_running_app_sends_a_due_post_once(httpserver: HTTPServer, tmp_path: Path) -> None:
    from watchtower.core.respond.schedule import schedule_post

    masto = FakeMastodon(httpserver)
    config = make_config(httpserver)
    log = HandoverLog(tmp_path / "data", clock=clock)
    account = config.organisation.accounts[0]
    schedule_post(log, account=account, text="Nogmaals: zondag open van 12 tot 17.", due=NOW - timedelta(minutes=1),
                  operator="bob")
    async with make_app(tmp_path, httpserver).run_test(size=(100, 30)) as pilot:
        app = pilot.app
        toasts = spy_toasts(app)
        (sent,) = await wait_for_log(pilot, "posted")
        assert sent.operator == "alice" and masto.created == 1
        await wait_for(pilot, lambda: any(m.startswith("Scheduled post sent as @bieb@localhost") for m, _ in toasts),
                       what="the toast")
        ticker = app.due_ticker
        ticks = ticker.ticks
        ticker.poke()
        await wait_for(pilot, lambda: ticker.ticks > ticks, what="another tick")
        assert masto.created == 1 and sum(1 for e in app.log_entries if e.kind == "posted") == 1


# ---------------------------------------------------------------------------- reply once, copy, Q&A


async def test_a_reply_our_account_made_on_the_platform_counts_as_our_reply(httpserver: HTTPServer, tmp_path: Path) -> None:
    question = post(7, "Mastodon", "jan@social.example", "Is de bieb morgen open?", native_id="111",
                    category=Category.QUESTION)
    answer = post(8, "Mastodon", "bieb", "@jan Ja, van 10 tot 17!", native_id="112", in_reply_to="111",
                  severity=Severity.INFO, url="https://localhost/@bieb/112")
    async with make_app(tmp_path, httpserver).run_test(size=(100, 30)) as pilot:
        app = await ready(pilot, [question, answer])
        mastodon_pane = app.panes[1 + app.platforms.index("Mastodon")]
        await wait_for(pilot, lambda: "replied" in mastodon_pane.list.row_plain(mastodon_pane.order.index(question.id)),
                       what="the row to say replied")
        panel = await open_panel(pilot, question)
        thread = str(panel.query_one("#thread").render())
        assert "↩ our account @bieb@localhost replied on Mastodon at Sun 15:20 (https://localhost/@bieb/112)" in thread
        assert "⚠ replied before" in str(panel.query_one("#reply-status").render())
        await pilot.press("R")
        confirm = await screen_is(pilot, ConfirmScreen)
        assert "Our account @bieb@localhost replied to @jan@social.example in this thread on Mastodon itself" in confirm.question
        await pilot.press("n")


async def test_y_says_which_account_to_paste_as_in_its_colour(httpserver: HTTPServer, tmp_path: Path) -> None:
    tweet = post(9, "X", "@sarah", "The wifi in the library is slow again", category=Category.GRIEVANCE)
    async with make_app(tmp_path, httpserver).run_test(size=(100, 30)) as pilot:
        app = await ready(pilot, [tweet])
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        toasts = spy_toasts(app)
        panel = await open_panel(pilot, tweet)
        # Visible before y, above the editor.
        assert str(panel.query_one("#reply-status").render()).startswith("● post as Bieb on X @bibzuidstad on X")
        await pilot.press("y")
        await wait_for(pilot, lambda: copied and any(m.startswith("Copied.") for m, _ in toasts), what="the copy")
        message, kw = next((m, k) for m, k in toasts if m.startswith("Copied."))
        content = toast_text(message, kw)
        assert content.plain.startswith("Copied. Now post as Bieb on X @bibzuidstad on X (a browser logged in as that")
        assert any("magenta" in str(span.style) for span in content.spans)


async def test_in_crisis_mode_copy_and_schedule_ask_first_without_the_qa_link(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    FakeMastodon(httpserver)
    tweet = post(10, "Mastodon", "jan@social.example", "Wat is er aan de hand?", category=Category.QUESTION)
    async with make_app(tmp_path, httpserver).run_test(size=(100, 30)) as pilot:
        app = await ready(pilot, [tweet])
        app.record("crisis_start", "Datalek")
        await wait_for_log(pilot, "crisis_start")
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        panel = await open_panel(pilot, tweet)
        panel.query_one("#reply", TextArea).load_text("We kijken ernaar.")
        await pilot.press("y")
        confirm = await screen_is(pilot, ConfirmScreen)
        assert confirm.question.startswith("Crisis mode is on: this text has no link to the Q&A page")
        assert confirm.question.endswith("Send it anyway?")
        await pilot.press("n")
        await pilot.pause(0.2)
        assert copied == []
        await pilot.press("L")
        await screen_is(pilot, ChoiceScreen)
        await pilot.press("enter")
        confirm = await screen_is(pilot, ConfirmScreen)
        assert confirm.question.startswith("Crisis mode is on")
        await pilot.press("y")
        confirm = await screen_is(pilot, ConfirmScreen)
        assert confirm.question == "Schedule this post?"
        await pilot.press("n")
        panel.query_one("#reply", TextArea).load_text("We kijken ernaar: https://bibliotheekzuidstad.nl/qa")
        await pilot.press("y")
        await wait_for(pilot, lambda: copied == ["We kijken ernaar: https://bibliotheekzuidstad.nl/qa"], what="the copy")


@pytest.mark.parametrize(("severity", "kind"), [(Severity.HIGH, "apology-serious"), (Severity.LOW, "apology-light")])
async def test_the_apology_fits_the_gravity_of_our_post(
    httpserver: HTTPServer, tmp_path: Path, severity: Severity, kind: str
) -> None:
    ours = post(11, "Mastodon", "bieb", "Wat een rotdag, ik ben er klaar mee", severity=severity,
                category=Category.OWN_POST)
    async with make_app(tmp_path, httpserver).run_test(size=(100, 30)) as pilot:
        await ready(pilot, [ours])
        panel = await open_panel(pilot, ours)
        assert panel.kind == kind


# ---------------------------------------------------------------------------- S: staff briefing


async def test_S_drafts_the_briefing_for_the_crisis_declared_from_the_item_and_copy_ticks_it(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    leak = post(12, "Mastodon", "jan@social.example", "Was there a data leak at the library?", severity=Severity.CRITICAL,
                category=Category.CRISIS)
    other = post(13, "X", "@krant", "Bieb gehackt", severity=Severity.CRITICAL, category=Category.CRISIS, minutes_ago=90)
    async with make_app(tmp_path, httpserver).run_test(size=(100, 30)) as pilot:
        app = await ready(pilot, [leak, other])
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        await open_panel(pilot, leak)
        await pilot.press("x")  # declare the crisis from this item
        await screen_is(pilot, PromptScreen)
        await pilot.press(*"Member list leaked", "enter")
        (start,) = await wait_for_log(pilot, "crisis_start")
        assert start.item_id == leak.id
        await pilot.press("S")
        brief = await screen_is(pilot, BriefingScreen)
        text = brief.query_one("#brief-text", TextArea).text
        assert "What happened: Member list leaked" in text and leak.url in text and other.url not in text
        assert " s Send " not in footer(app)  # no staff target configured
        brief.query_one("#brief-text", TextArea).load_text(text + "\nPS: no interviews.")
        await pilot.press("y")
        (check,) = await wait_for_log(pilot, "crisis_check")
        assert copied and copied[0].endswith("PS: no interviews.")
        assert check.data["check"] == "employees-informed" and check.data["how"] == "copied"
        assert "employees-informed" in app.desk.crisis.checks_done


async def test_S_sends_the_briefing_through_apprise_from_the_crisis_screen(httpserver: HTTPServer, tmp_path: Path) -> None:
    received: list[dict[str, Any]] = []

    def receive(request: Request) -> Response:
        received.append(request.get_json())
        return Response("ok")

    httpserver.expect_request("/staff", method="POST").respond_with_handler(receive)
    env = {**ENV, "WT_STAFF": f"json://{httpserver.host}:{httpserver.port}/staff"}
    leak = post(14, "Mastodon", "jan@social.example", "Datalek?", severity=Severity.CRITICAL, category=Category.CRISIS)
    async with make_app(tmp_path, httpserver, env=env, staff_apprise_env="WT_STAFF").run_test(size=(100, 30)) as pilot:
        app = await ready(pilot, [leak])
        app.record("crisis_start", "Ledenbestand gelekt", data={"description": "Ledenbestand gelekt"})
        await wait_for_log(pilot, "crisis_start")
        await pilot.press("x")  # the crisis screen
        await wait_for(pilot, lambda: type(app.screen).__name__ == "CrisisScreen", what="the crisis screen")
        await pilot.press("S")
        await screen_is(pilot, BriefingScreen)
        assert " s Send " in footer(app)
        await pilot.press("s")
        confirm = await screen_is(pilot, ConfirmScreen)
        assert confirm.question == "Send the briefing to the staff?"
        assert f"json://{httpserver.host}" in confirm.detail.plain
        await pilot.press("y")
        (check,) = await wait_for_log(pilot, "crisis_check")
        assert check.data == {"check": "employees-informed", "how": "sent", "target": f"json://{httpserver.host}"}
        assert len(received) == 1 and "Ledenbestand gelekt" in received[0]["message"]


# ---------------------------------------------------------------------------- follow-ups


async def test_followups_close_one_at_a_time(httpserver: HTTPServer, tmp_path: Path) -> None:
    item = post(15, "X", "@klant", "Mijn boete klopt niet", category=Category.GRIEVANCE)
    async with make_app(tmp_path, httpserver).run_test(size=(100, 30)) as pilot:
        app = await ready(pilot, [item])
        app.run_command(app.desk.followup(item, "Repost the correction", 1, "repost-correction"))
        app.run_command(app.desk.followup(item, "E-mail the complainant", 2, "private-email"))
        await wait_for_log(pilot, "followup_set", 2)
        await pilot.press("f")
        fus = await screen_is(pilot, FollowupsScreen)
        table = fus.query_one("DataTable")
        await wait_for(pilot, lambda: table.row_count == 2, what="two follow-ups")
        await pilot.press("d")  # the first (earliest due) only
        (done,) = await wait_for_log(pilot, "followup_done")
        repost = next(e for e in app.log_entries if e.kind == "followup_set" and "Repost" in e.text)
        assert done.data == {"followup": repost.id} and done.item_id == item.id
        await wait_for(pilot, lambda: table.row_count == 1 and "E-mail" in str(table.get_row_at(0)[3]),
                       what="the e-mail follow-up still open")


# ---------------------------------------------------------------------------- author history


async def test_the_panel_lists_the_authors_earlier_posts_and_our_decisions(httpserver: HTTPServer, tmp_path: Path) -> None:
    data = tmp_path / "data"
    earlier = [post(20 + n, "Mastodon", "boos@social.example", f"Klacht nummer {n}", minutes_ago=600 + n)
               for n in range(3)]
    now = post(30, "Mastodon", "boos@social.example", "Weer dicht!", category=Category.GRIEVANCE)
    archive = Archive(data)
    archive.add([*earlier, now])
    archive.close()
    HandoverLog(data, clock=clock).append("replied", "Sorry!", operator="ann", item=earlier[0],
                                          data={"author": "boos@social.example", "thread": earlier[0].id})
    async with make_app(tmp_path, httpserver).run_test(size=(100, 40)) as pilot:
        app = await ready(pilot, [])
        await wait_for(pilot, lambda: now.id in app.items, what="the archive's items")
        panel = await open_panel(pilot, app.items[now.id])
        history = panel.query_one("#history")
        await wait_for(pilot, lambda: "Klacht nummer 0" in str(history.render()), what="the history",
                       seen=lambda: str(history.render()))
        text = str(history.render())
        assert text.startswith("Earlier from this author:")
        assert "Weer dicht" not in text  # not the item itself
        line = next(line for line in text.splitlines() if "Klacht nummer 0" in line)
        assert "[replied]" in line and "replied by ann" in text


async def test_without_an_archive_the_history_is_unavailable(httpserver: HTTPServer, tmp_path: Path) -> None:
    item = post(31, "Mastodon", "boos@social.example", "Weer dicht!")
    async with WatchtowerApp(make_config(httpserver), data_dir=None, operator="alice", clock=clock,
                             start_polling=False, env=dict(ENV)).run_test(size=(100, 30)) as pilot:
        await ready(pilot, [item])
        panel = await open_panel(pilot, item)
        history = panel.query_one("#history")
        await wait_for(pilot, lambda: "history unavailable" in str(history.render()), what="the history line",
                       seen=lambda: str(history.render()))


async def test_a_slow_history_says_unavailable_then_shows_when_it_comes(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from watchtower.ui.screens import response

    monkeypatch.setattr(response, "HISTORY_PATIENCE", 0.2)
    data = tmp_path / "data"
    earlier = post(40, "Mastodon", "boos@social.example", "Eerdere klacht", minutes_ago=900)
    item = post(41, "Mastodon", "boos@social.example", "Weer dicht!")
    archive = Archive(data)
    archive.add([earlier, item])
    archive.close()
    async with make_app(tmp_path, httpserver).run_test(size=(100, 30)) as pilot:
        app = await ready(pilot, [])
        await wait_for(pilot, lambda: item.id in app.items, what="the archive's items")
        app.install_screen(ResponseScreen(), "respond")
        panel = app.get_screen("respond")
        panel._history_lock.acquire()  # the archive is busy (another search, a big index build)
        try:
            await open_panel(pilot, app.items[item.id])
            history = panel.query_one("#history")
            await wait_for(pilot, lambda: "history unavailable (the archive is slow)" in str(history.render()),
                           what="the slow line", seen=lambda: str(history.render()))
        finally:
            panel._history_lock.release()
        await wait_for(pilot, lambda: "Eerdere klacht" in str(history.render()), what="the history after all",
                       seen=lambda: str(history.render()))


async def _said_then_tick_again(pilot: Any, toasts: list[Any], words: str) -> None:
    """Wait for the due-post ticker's toast with ``words``, then for one more tick (a post
    that is still held must not be said twice)."""
    app = pilot.app
    await wait_for(pilot, lambda: getattr(app, "due_ticker", None) is not None and app.due_ticker.ticks >= 1,
                   what="a tick")
    ticker = app.due_ticker
    await wait_for(pilot, lambda: any(words in m for m, _ in toasts), what=f"the toast {words!r}")
    ticks = ticker.ticks
    ticker.poke()
    await wait_for(pilot, lambda: ticker.ticks > ticks, what="another tick")
    await pilot.pause()


async def test_a_due_post_this_app_cannot_send_says_so_once(httpserver: HTTPServer, tmp_path: Path) -> None:
    from watchtower.core.respond.schedule import schedule_post

    masto = FakeMastodon(httpserver)
    config = make_config(httpserver)
    schedule_post(HandoverLog(tmp_path / "data", clock=clock), account=config.organisation.accounts[0],
                  text="Nogmaals: zondag open.", due=NOW - timedelta(minutes=1), operator="bob")
    async with make_app(tmp_path, httpserver, env={}).run_test(size=(100, 30)) as pilot:  # no token here
        app = pilot.app
        toasts = spy_toasts(app)
        await _said_then_tick_again(pilot, toasts, "cannot send it")
        held = [m for m, _ in toasts if "cannot send it" in m]
        assert len(held) == 1 and "WT_MASTODON_TOKEN is not set" in held[0]
        assert masto.posts == 0 and not [e for e in app.log_entries if e.kind == "schedule_sending"]


async def test_a_post_days_late_is_not_sent_by_the_app_and_says_so_once(httpserver: HTTPServer, tmp_path: Path) -> None:
    from watchtower.core.respond.schedule import schedule_post

    masto = FakeMastodon(httpserver)
    config = make_config(httpserver)
    schedule_post(HandoverLog(tmp_path / "data", clock=clock), account=config.organisation.accounts[0],
                  text="Vandaag weer open.", due=NOW - timedelta(days=2), operator="bob")
    async with make_app(tmp_path, httpserver).run_test(size=(100, 30)) as pilot:
        app = pilot.app
        toasts = spy_toasts(app)
        await _said_then_tick_again(pilot, toasts, "is late and was not sent")
        late = [m for m, _ in toasts if "is late and was not sent" in m]
        assert len(late) == 1 and "due 2 days ago" in late[0] and "watchtower schedule send" in late[0]
        await pilot.press("f")
        fus = await screen_is(pilot, FollowupsScreen)
        table = fus.query_one("DataTable")
        await wait_for(pilot, lambda: table.row_count == 1 and str(table.get_row_at(0)[1]) == "LATE",
                       what="the late row")
        assert "too late to send by itself" in str(table.get_row_at(0)[3])
        assert masto.posts == 0 and not [e for e in app.log_entries if e.kind == "schedule_sending"]


class _Closing:
    """The app as its workers see it once it has begun to close (``is_running`` is false)."""

    is_running = False

    def __init__(self, app: WatchtowerApp) -> None:
        self._app = app

    def __getattr__(self, name: str) -> Any:
        return getattr(self._app, name)


async def test_the_scheduled_posts_ticker_ends_when_the_app_closes(httpserver: HTTPServer, tmp_path: Path) -> None:
    """A ticker left looping keeps the app's exit waiting on its thread: quit hangs.

    Textual cancels the workers it knows when the app stops, but a ticker started by the
    stores opening just as the app closed was never cancelled; under load a quit hung on it.
    """
    from textual.worker import WorkerState

    from watchtower.ui.dueposts import start_due_ticker

    async with make_app(tmp_path, httpserver, env={}).run_test(size=(100, 30)) as pilot:
        app = pilot.app
        await wait_for(pilot, lambda: getattr(app, "due_ticker", None) is not None and app.due_ticker.ticks >= 1,
                       what="a tick")
        ticker = app.due_ticker
        (worker,) = [w for w in app.workers if w.group == "due-posts"]
        ticker.app = _Closing(app)  # the app closing, not the worker being cancelled
        ticker.poke()
        await wait_for(pilot, lambda: worker.state == WorkerState.SUCCESS, what="the ticker to end",
                       seen=lambda: worker.state)
        assert start_due_ticker(_Closing(app)) is None  # stores that open as it closes start none
        assert [w for w in app.workers if w.group == "due-posts" and not w.is_finished] == []


async def test_help_and_palette_list_the_new_keys(httpserver: HTTPServer, tmp_path: Path) -> None:
    from watchtower.ui.commands import palette_entries
    from watchtower.ui.screens.help import HelpScreen

    ours = post(42, "Mastodon", "bieb", "Oeps", category=Category.OWN_POST)
    async with make_app(tmp_path, httpserver).run_test(size=(100, 30)) as pilot:
        app = await ready(pilot, [ours])
        panel = await open_panel(pilot, ours)
        names = " ".join(name for name, _help, _action in palette_entries(app, panel))
        for name in ("Delete (D)", "Statement (C)", "Later (L)", "Staff brief (S)", "Crisis (x)"):
            assert name in names, name
        await pilot.press("question_mark")
        help_screen = await screen_is(pilot, HelpScreen)
        text = str(help_screen.query_one("Static").render())
        for line in ("D            Delete", "C            Statement", "L            Later"):
            assert line in text, line


async def test_flipping_through_panels_on_a_busy_archive_runs_one_history_thread(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    from textual.worker import WorkerState

    items = [post(50 + n, "Mastodon", f"user{n}@social.example", f"Post {n}") for n in range(8)]
    async with make_app(tmp_path, httpserver).run_test(size=(100, 30)) as pilot:
        app = await ready(pilot, items)
        app.install_screen(ResponseScreen(), "respond")
        panel = app.get_screen("respond")
        panel._history_lock.acquire()  # the archive is busy
        try:
            for item in items:
                await open_panel(pilot, item)
                await pilot.press("escape")
                await wait_for(pilot, lambda: not isinstance(app.screen, ResponseScreen), what="back on the panes")
            running = [w for w in app.workers if w.group == "author-history" and w.state in
                       (WorkerState.PENDING, WorkerState.RUNNING)]
            assert len(running) == 1
        finally:
            panel._history_lock.release()
        await open_panel(pilot, items[-1])
        history = panel.query_one("#history")
        await wait_for(pilot, lambda: "no earlier posts held" in str(history.render()), what="the last one's history",
                       seen=lambda: str(history.render()))
