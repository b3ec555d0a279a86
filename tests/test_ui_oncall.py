"""Issue 19 from the live screen, driven with Pilot at 80x24, keyboard only: search (/),
watch (w), mute (!), show muted (M), snooze (z), the watch-list (W), the rota and its
overrides (R), alerts that follow the rota and escalate while the TUI is open, proven
against a local HTTP target per person (Apprise json:// to pytest-httpserver) with a fake
clock, the alerts waiting (A) and their acknowledgement, the handover's open work from the
archive, and the palette and ? carrying every key.

Real parts throughout: the handover log and the item archive in tmp dirs, other operators
and cron as plain writes to the same files.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alert_targets import alert_targets, counts, env_for, pushes
from ui_support import NOW, _item, make_app, ready_with_items, sample_items, small_config, wait_for, wait_for_log

from watchtower.core.models import Category, Severity
from watchtower.core.pipeline.monitor import RoundResult
from watchtower.core.record.archive import Archive
from watchtower.core.record.log import HandoverLog
from watchtower.core.sources import PollResult
from watchtower.ui.app import WatchtowerApp
from watchtower.ui.messages import Polled
from watchtower.ui.screens.modals import ConfirmScreen
from watchtower.ui.screens.response import ResponseScreen
from watchtower.ui.widgets.header import StatusHeader

SIZE = (80, 24)


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _rows(pane: Any) -> list[str]:
    return [pane.list.row_plain(i) for i in range(pane.list.row_count)]


def _archive(data: Path, items: list) -> None:
    """What `watchtower fetch` from cron (or another TUI) stored: the same archive file."""
    archive = Archive(data)
    try:
        archive.add(items)
    finally:
        archive.close()


async def _type(pilot: Any, text: str) -> None:
    await pilot.press(*["space" if ch == " " else ch for ch in text])


async def _focus_row(pilot: Any, pane_index: int, item_id: str) -> None:
    app = pilot.app
    await pilot.press(str(pane_index + 1))
    pane = app.panes[pane_index]
    await wait_for(pilot, lambda: item_id in pane.order, what="the item in its pane", seen=lambda: pane.order)
    pane.list.move_cursor(pane.order.index(item_id))
    pane.list.focus()
    await pilot.pause()


# -- search ---------------------------------------------------------------------------


async def test_slash_searches_the_archive_in_a_worker_and_enter_opens_the_hit(tmp_path: Path, monkeypatch) -> None:
    from watchtower.core.record.search import SearchIndex

    data = tmp_path / "data"
    _archive(data, sample_items())
    threads: list[str] = []
    real = SearchIndex.search

    def spy(self, *a, **kw):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread().name)
        return real(self, *a, **kw)

    monkeypatch.setattr(SearchIndex, "search", spy)
    async with make_app(tmp_path, data_dir=data).run_test(size=SIZE) as pilot:
        app = await ready_with_items(pilot, [])
        # Stored by cron after the app started: in the archive, not held by the app.
        old = _item(40, "Mastodon", "@sarah", 740, "Still no answer about the opening hours?", 60 * 24 * 3,
                    Severity.MEDIUM, Category.QUESTION)
        _archive(data, [old])
        await pilot.press("slash")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "SearchScreen", what="the search screen")
        screen = app.screen
        await _type(pilot, "author:@sarah")
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.answered == 1, what="the search's answer")
        assert threads and threading.main_thread().name not in threads, threads
        assert screen.pane.title_plain.startswith("Search: 2 matches, ")
        rows = _rows(screen.pane)
        assert len(rows) == 2 and "opening hours" in rows[1] and old.id not in app.items
        # Filters: words and a state, and a filter that does not read says so.
        await pilot.press("slash")  # back to the search line
        assert screen.focused is screen.query_one("#search-input")
        screen.focused.value = ""
        await _type(pilot, "severity:urgent")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "⚠ severity:urgent" in screen.pane.health_plain, what="the filter's error")
        assert screen.answered == 1  # nothing was searched
        screen.query_one("#search-input").value = "hours state:new"
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.answered == 2, what="the second answer")
        assert [h.item.id for h in screen.hits] == [old.id]
        # enter on the hit: the response panel of the archived item.
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ResponseScreen), what="the response panel")
        assert app.screen.item.id == old.id
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="back to the results")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main_screen, what="back to the panes")
        index = app.search_index()
        assert index._conn is not None  # the sqlite connection the searches used
    assert index._conn is None  # closed when the app exits, not left to the garbage collector


# -- watch, mute, snooze -------------------------------------------------------------------


async def test_w_watches_the_highlighted_author_for_everyone_and_w_again_stops(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with make_app(tmp_path, data_dir=data).run_test(size=SIZE) as pilot:
        app = await ready_with_items(pilot)
        grumble = next(i for i in app.items.values() if "wifi" in i.text)
        await _focus_row(pilot, 3, grumble.id)  # the X pane
        await pilot.press("w")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ReasonForm", what="the reason prompt")
        await _type(pilot, "complains daily")
        await pilot.press("enter")
        watch = (await wait_for_log(pilot, "watch"))[0]
        assert watch.data == {"author": "@grumpy", "platform": None} and watch.text == "complains daily"
        x = app.panes[3]
        await wait_for(pilot, lambda: any("[watched]" in r and "MED" in r for r in _rows(x)),
                       what="the row lifted to medium and marked", seen=lambda: _rows(x))
        assert grumble.id in app.panes[0].order  # medium: in Priority
        # Another operator (their TUI or `watchtower watch`) sees the same log.
        other = HandoverLog(data)
        assert [e.kind for e in other.entries(kinds=["watch"])] == ["watch"]
        await pilot.press("w")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="stop watching?")
        assert "Stop watching @grumpy?" == app.screen.question
        await pilot.press("y")
        await wait_for_log(pilot, "unwatch")
        await wait_for(pilot, lambda: not any("[watched]" in r for r in _rows(x)), what="the mark gone")
        assert grumble.id not in app.panes[0].order


async def test_mute_from_the_response_panel_hides_the_author_m_shows_them_w_unmutes(tmp_path: Path) -> None:
    async with make_app(tmp_path).run_test(size=SIZE) as pilot:
        app = await ready_with_items(pilot)
        crit = app.priority_items()[0]
        app.panes[0].list.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ResponseScreen), what="the response panel")
        await pilot.press("exclamation_mark")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "MuteForm", what="the mute form")
        form = app.screen
        assert form.query_one("#mute-what").value == crit.author
        form.query_one("#mute-for").value = "soon"
        form.query_one("#mute-what").focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: "For:" in form.error_text, what="the duration's error")
        assert app.screen is form and not [e for e in app.log_entries if e.kind == "mute"]
        form.query_one("#mute-for").value = "2h"
        form.query_one("#mute-why").value = "a hoax account"
        await pilot.press("enter")
        mute = (await wait_for_log(pilot, "mute"))[0]
        assert mute.data["author"] == crit.author and mute.data["platform"] is None
        assert mute.data["until"].startswith((NOW + timedelta(hours=2)).isoformat()[:16])
        await pilot.press("escape")
        await wait_for(pilot, lambda: crit.id not in app.panes[0].order, what="the muted item out of Priority")
        assert "WORST !!! CRIT" not in app.query_one(StatusHeader).plain
        await pilot.press("M")  # show muted
        await wait_for(pilot, lambda: crit.id in app.panes[0].order, what="muted items back")
        row = _rows(app.panes[0])[app.panes[0].order.index(crit.id)]
        assert f"[muted author {crit.author}]" in row
        await pilot.press("M")
        await wait_for(pilot, lambda: crit.id not in app.panes[0].order, what="hidden again")
        await pilot.press("W")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "WatchlistScreen", what="the watch-list")
        assert f"author {crit.author} until Sun 22 Nov 17:30" in app.screen.list_text
        await pilot.press("delete")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="unmute?")
        await pilot.press("y")
        await wait_for_log(pilot, "unmute")
        await pilot.press("escape")
        await wait_for(pilot, lambda: crit.id in app.panes[0].order, what="the unmuted item back")


async def test_z_snoozes_the_item_and_z_again_ends_the_snooze(tmp_path: Path) -> None:
    async with make_app(tmp_path).run_test(size=SIZE) as pilot:
        app = await ready_with_items(pilot)
        crit = app.priority_items()[0]
        app.panes[0].list.focus()
        await pilot.press("z")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "SnoozeForm", what="the snooze form")
        assert app.screen.query_one("#snooze-for").value == "30m"
        await pilot.press("enter")
        snooze = (await wait_for_log(pilot, "snooze"))[0]
        assert snooze.item_id == crit.id and snooze.data["until"].startswith((NOW + timedelta(minutes=30)).isoformat()[:16])
        await wait_for(pilot, lambda: "[snoozed until 16:00]" in _rows(app.panes[0])[0], what="the row says until when",
                       seen=lambda: _rows(app.panes[0])[0])
        assert app.desk.alerts_for([crit]) == []
        await pilot.press("z")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="end the snooze?")
        await pilot.press("y")
        await wait_for_log(pilot, "snooze", 2)
        await wait_for(pilot, lambda: "snoozed" not in _rows(app.panes[0])[0], what="the snooze gone")


# -- the rota ---------------------------------------------------------------------------


def _rota_config():  # type: ignore[no-untyped-def]
    return small_config(
        rota={"people": {"Robin": ["WT_ROBIN"], "Bo": ["WT_BO"]},
              "shift": [{"name": "weekend", "days": ["sat", "sun"], "start": "10:00", "end": "16:00",
                         "on_call": "Robin", "backup": "Bo"}]},
        alerts={"escalation": {"fallback_url_envs": ["WT_FALLBACK"]}},
    )


async def test_r_shows_the_rota_records_a_swap_the_header_follows_and_delete_withdraws_it(tmp_path: Path) -> None:
    out = tmp_path / "rota.ics"
    app = make_app(tmp_path, config=_rota_config())
    async with app.run_test(size=(160, 48)) as pilot:
        await ready_with_items(pilot)
        header = app.query_one(StatusHeader)
        await wait_for(pilot, lambda: "on call: Robin until 16:00 · backup Bo" in header.plain, what="the on-call line")
        await pilot.press("R")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RotaScreen", what="the rota")
        rota = app.screen
        assert "Now Sun 22 Nov 15:30 CET: Robin until 16:00 · backup Bo" in rota.rota_text
        assert "Sun 22 Nov  (weekend)" in rota.rota_text and "⚠ nobody on call" in rota.rota_text
        await pilot.press("o")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "OverrideForm", what="the override form")
        form = app.screen
        await _type(pilot, "Ann")
        form.query_one("#ov-to").value = "whenever"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "To:" in form.error_text, what="the time's error")
        form.query_one("#ov-to").value = "+3h"
        form.query_one("#ov-why").value = "Robin is ill"
        await pilot.press("enter")
        override = (await wait_for_log(pilot, "rota_override"))[0]
        assert override.data["who"] == "Ann" and override.data["reason"] == "Robin is ill"
        assert "in place of Robin" in override.text
        await wait_for(pilot, lambda: "[override in place of Robin, set by alice]" in rota.rota_text,
                       what="the swap in the rota", seen=lambda: rota.rota_text)
        assert "Now Sun 22 Nov 15:30 CET: Ann (override, until 18:30)" in rota.rota_text
        await wait_for(pilot, lambda: "on call: Ann (override, until 18:30) · backup Bo" in header.plain,
                       what="the header to follow the swap", seen=lambda: header.plain)
        # Export the coming weeks as iCalendar.
        await pilot.press("e")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "FileForm", what="the export prompt")
        app.screen.query_one("#reason").value = str(out)
        await pilot.press("enter")
        await wait_for(pilot, lambda: out.is_file() and b"END:VCALENDAR" in out.read_bytes(), what="the .ics file")
        assert b"Ann" in out.read_bytes()
        # Withdraw it from its line.
        line = next(n for n, (_t, ov) in enumerate(rota.lines) if ov == override.id)
        rota.query_one("OptionList").highlighted = line
        await pilot.press("delete")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="withdraw?")
        await pilot.press("y")
        cancel = (await wait_for_log(pilot, "rota_override", 2))[-1]
        assert cancel.data == {"cancels": override.id}
        await wait_for(pilot, lambda: "on call: Robin until 16:00" in header.plain, what="Robin again")


async def test_the_header_at_80_columns_names_the_override_and_leaves_the_backup_out(tmp_path: Path) -> None:
    data = tmp_path / "data"
    HandoverLog(data, clock=lambda: NOW).append("rota_override", "swap", operator="sam", data={
        "who": "Ann", "start": NOW.isoformat(), "end": (NOW + timedelta(hours=2)).isoformat(), "reason": ""})
    async with make_app(tmp_path, config=_rota_config(), data_dir=data).run_test(size=SIZE) as pilot:
        app = await ready_with_items(pilot)
        header = app.query_one(StatusHeader)
        await wait_for(pilot, lambda: "on call: Ann (override, until 17:30)" in header.plain, what="the swap in the header",
                       seen=lambda: header.plain)
        assert "backup" not in header.plain.splitlines()[0]


# -- alerts follow the rota and escalate -------------------------------------------------


async def test_alerts_page_who_is_on_call_escalate_every_minute_and_a_claim_stops_them(tmp_path: Path, monkeypatch) -> None:
    """Robin (on call), Bo (backup) and the fallback each have a local HTTP target; the app's
    clock is a fake one the test moves.  The app pages Robin through the rota, its own
    minute timer (made quick here) escalates to Bo when nobody acknowledged within the
    critical delay, A lists the chain, c acknowledges it and nothing more is sent."""
    from watchtower.ui import shift

    monkeypatch.setattr(shift, "ESCALATE_SECONDS", 0.1)
    clock = Clock()
    with alert_targets("robin", "bo", "fallback") as people:
        app = WatchtowerApp(_rota_config(), data_dir=tmp_path / "data", operator="alice", clock=clock,
                            start_polling=False, env=env_for(people))
        async with app.run_test(size=SIZE) as pilot:
            await ready_with_items(pilot, [])
            fire = _item(77, "News", "Dagblad", None, "Brand in de bibliotheek, iedereen naar buiten", 1,
                         Severity.CRITICAL, Category.CRISIS)
            app.post_message(Polled(RoundResult(PollResult("news", "News", [fire], ok=True), new=[fire])))
            await wait_for(pilot, lambda: counts(people)["robin"] == 1, what="Robin paged", seen=lambda: counts(people))
            assert "Brand in de bibliotheek" in pushes(people["robin"])[0]["message"]
            page = (await wait_for_log(pilot, "alert"))[0]
            assert (page.data["level"], page.data["to"], page.item_id) == (0, "Robin", fire.id)
            clock.now = NOW + timedelta(minutes=9)
            await pilot.press("A")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "AlertsWaitingScreen", what="alerts waiting")
            waiting = app.screen
            assert [c.item_id for c in waiting.chains] == [fire.id]
            assert counts(people) == {"robin": 1, "bo": 0, "fallback": 0}
            clock.now = NOW + timedelta(minutes=10)  # critical: escalate after 10 minutes
            await wait_for(pilot, lambda: counts(people)["bo"] == 1, what="Bo paged by the app's own timer",
                           seen=lambda: counts(people))
            assert "not acknowledged 10 min after Robin was alerted" in pushes(people["bo"])[0]["message"]
            await wait_for(pilot, lambda: waiting.chains and waiting.chains[0].role == "backup",
                           what="the chain at the backup")
            table = waiting.query_one("DataTable")
            assert "backup Bo" in str(table.get_row_at(0)[1])
            await pilot.press("c")  # claim = acknowledge
            claim = (await wait_for_log(pilot, "claimed"))[0]
            assert claim.item_id == fire.id and claim.operator == "alice"
            await wait_for(pilot, lambda: not waiting.chains, what="nothing waiting")
            clock.now = NOW + timedelta(minutes=40)
            await wait_for(pilot, lambda: app.desk.escalator is not None, what="the escalator")
            report = app.desk.run_due()
            assert report.escalated == 0 and counts(people) == {"robin": 1, "bo": 1, "fallback": 0}


async def test_a_muted_authors_post_is_never_paged(tmp_path: Path) -> None:
    clock = Clock()
    with alert_targets("robin", "bo", "fallback") as people:
        data = tmp_path / "data"
        HandoverLog(data, clock=clock).append("mute", "crank", operator="sam", data={"author": "Dagblad", "platform": None})
        app = WatchtowerApp(_rota_config(), data_dir=data, operator="alice", clock=clock, start_polling=False,
                            env=env_for(people))
        async with app.run_test(size=SIZE) as pilot:
            await ready_with_items(pilot, [])
            fire = _item(78, "News", "Dagblad", None, "Brand!", 1, Severity.CRITICAL, Category.CRISIS)
            loud = _item(79, "News", "Omroep", None, "Brand bij de bibliotheek", 1, Severity.CRITICAL, Category.CRISIS)
            app.post_message(Polled(RoundResult(PollResult("news", "News", [fire, loud], ok=True), new=[fire, loud])))
            await wait_for(pilot, lambda: counts(people)["robin"] == 1, what="one page")
            page = (await wait_for_log(pilot, "alert"))[0]
            assert page.data["items"] == [loud.id]


# -- the handover lists what is open ------------------------------------------------------


async def test_the_handover_lists_an_old_open_item_that_only_the_archive_holds(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with make_app(tmp_path, data_dir=data).run_test(size=SIZE) as pilot:
        app = await ready_with_items(pilot)
        old = _item(50, "X", "@angry", 5000, "Three days and still no answer about my stolen card", 60 * 24 * 3,
                    Severity.CRITICAL, Category.SECURITY)
        _archive(data, [old])  # cron's fetch stored it; this app never held it
        assert old.id not in app.items
        await pilot.press("h")
        await wait_for(pilot, lambda: getattr(app.screen, "drawn", 0) > 0, what="the summary")
        md = app.screen.markdown
        assert "stolen card" in md
        assert "Open work" in md or "open" in md.lower()


# -- the palette, the footer, ? -----------------------------------------------------------


async def test_the_palette_carries_every_new_action_and_runs_it(tmp_path: Path) -> None:
    from watchtower.ui.commands import palette_entries

    async with make_app(tmp_path).run_test(size=SIZE) as pilot:
        app = await ready_with_items(pilot)
        names = [name for name, _help, _action in palette_entries(app, app.screen)]
        for name in ("Search (/)", "Alerts (A)", "Rota (R)", "Watch-list (W)", "Watch author (w)", "Mute… (!)",
                     "Snooze alerts… (z)", "Show muted (M)"):
            assert name in names, (name, names)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await _type(pilot, "rota")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RotaScreen", what="the rota from the palette")


async def test_question_mark_lists_every_key(tmp_path: Path) -> None:
    from watchtower.ui.screens.help import HelpScreen
    from watchtower.ui.screens.rota import RotaScreen
    from watchtower.ui.screens.search import SearchScreen
    from watchtower.ui.screens.waiting import AlertsWaitingScreen
    from watchtower.ui.screens.watchlist import WatchlistScreen

    async with make_app(tmp_path).run_test(size=SIZE) as pilot:
        app = await ready_with_items(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        text = app.screen.help_text().plain
        bindings = [b for b in WatchtowerApp.BINDINGS if not b.action.startswith("goto_tab")]
        for screen in (SearchScreen, AlertsWaitingScreen, RotaScreen, WatchlistScreen):
            bindings += screen.BINDINGS
        for b in bindings:
            line = f"{app.get_key_display(b):<12} {b.description}"
            assert line in text, line
        assert "[watched]" in text and "[snoozed until 14:30]" in text


@pytest.mark.parametrize("key", ["w", "exclamation_mark", "z"])
async def test_an_item_key_with_nothing_highlighted_says_so(tmp_path: Path, key: str) -> None:
    async with make_app(tmp_path).run_test(size=SIZE) as pilot:
        app = await ready_with_items(pilot, [])
        said: list[str] = []
        real = app.notify
        app.notify = lambda message, **kw: (said.append(str(message)), real(message, **kw))[1]  # type: ignore[method-assign]
        await pilot.press(key)
        await pilot.pause()
        assert app.screen is app.main_screen
        assert "Highlight an item first." in said


async def test_an_authors_markup_is_shown_literally_in_every_new_screen(tmp_path: Path) -> None:
    hostile = "[@click=app.quit]x[/]"
    data = tmp_path / "data"
    post = _item(60, "X", hostile, 3, "[bold]refund[/bold] now [link=http://evil.example]here[/link]", 5,
                 Severity.HIGH, Category.GRIEVANCE)
    _archive(data, [post])
    async with make_app(tmp_path, data_dir=data).run_test(size=SIZE) as pilot:
        app = await ready_with_items(pilot, [])
        await _focus_row(pilot, 0, post.id)
        await pilot.press("w")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ReasonForm", what="the reason prompt")
        assert hostile in app.screen.title_text.plain
        await pilot.press("enter")
        await wait_for_log(pilot, "watch")
        await pilot.press("W")
        await wait_for(pilot, lambda: hostile in getattr(app.screen, "list_text", ""), what="the watch-list",
                       seen=lambda: getattr(app.screen, "list_text", ""))
        await pilot.press("escape")
        await pilot.press("exclamation_mark")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "MuteForm", what="the mute form")
        assert app.screen.query_one("#mute-what").value == hostile
        await pilot.press("escape")
        await pilot.press("slash")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "SearchScreen", what="search")
        await _type(pilot, "refund")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.answered == 1, what="the answer")
        assert "[bold]refund[/bold]" in _rows(app.screen.pane)[0] and hostile[:9] in _rows(app.screen.pane)[0]
        assert app.return_code is None and app.is_running


async def test_a_keyword_mute_on_one_platform_by_keys_alone(tmp_path: Path) -> None:
    """The mute form's choices are words (never a dot told apart by colour) and reachable
    with tab, enter and the arrows."""
    async with make_app(tmp_path).run_test(size=SIZE) as pilot:
        app = await ready_with_items(pilot)
        crit = app.priority_items()[0]  # News: "Datalek bij Riverside Library"
        app.panes[0].list.focus()
        await pilot.press("exclamation_mark")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "MuteForm", what="the mute form")
        form = app.screen
        await pilot.press("shift+tab", "enter")  # the "Mute" choice: open it
        await pilot.pause()
        await pilot.press("down", "enter")  # "a keyword"
        await wait_for(pilot, lambda: form.keyword, what="the keyword choice")
        await pilot.press("tab")
        assert form.query_one("#mute-what").value == ""  # the author's handle is not a keyword
        await _type(pilot, "datalek")
        await pilot.press("tab", "enter")  # the "Where" choice
        await pilot.pause()
        await pilot.press("down", "enter")  # "only on News"
        await pilot.pause()
        await pilot.press("tab")
        await _type(pilot, "1h")
        await pilot.press("enter")
        mute = (await wait_for_log(pilot, "mute"))[0]
        assert mute.data["keyword"] == "datalek" and mute.data["platform"] == "News" and "author" not in mute.data
        await wait_for(pilot, lambda: crit.id not in app.panes[0].order, what="the keyword's post hidden")
