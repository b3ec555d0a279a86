"""The TUI driven with Pilot: what an operator sees and what the log records."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from ui_support import (
    NOW,
    make_app,
    ready_with_items,
    small_config,
    wait_for,
    wait_for_log,
)

from watchtower.core.models import Severity
from watchtower.demo import DemoServer, demo_config
from watchtower.ui.app import WatchtowerApp
from watchtower.ui.screens.modals import ChoiceScreen, ConfirmScreen, PromptScreen
from watchtower.ui.screens.response import ResponseScreen
from watchtower.ui.widgets.header import StatusHeader


def _rows(pane) -> list[str]:
    return [pane.list.row_plain(i) for i in range(pane.list.row_count)]


async def test_demo_fills_platform_panes_through_the_real_connectors(tmp_path: Path) -> None:
    with DemoServer(reveal_all=True) as server:
        config = demo_config(server.base_url)
        app = WatchtowerApp(config, data_dir=tmp_path / "data", operator="alice")
        async with app.run_test(size=(80, 24)) as pilot:
            def filled() -> int:
                return sum(1 for pane in app.panes[1:] if pane.list.row_count > 0)

            await wait_for(pilot, lambda: filled() >= 5, what="5 platform panes with rows")
            assert len(app.panes) == 1 + len(config.platforms) >= 6
            assert app.panes[0].list.row_count > 0  # the Priority pane gathers what needs a human
            header = app.query_one(StatusHeader).plain
            assert "Bibliotheek Rivierstad" in header and "Europe/Amsterdam" in header
            assert "WORST" in header


async def test_priority_is_worst_first_with_badges_in_words(tmp_path: Path) -> None:
    async with make_app(tmp_path).run_test(size=(80, 24)) as pilot:
        app = await ready_with_items(pilot)
        rows = _rows(app.panes[0])
        assert rows[0].startswith("50m !!! CRIT")
        assert "!!  HIGH" in rows[1] and "⚠ UNCOVERED" in rows[1]
        # The 14-follower grumble (low, arrived while covered) and praise don't need a
        # human: they stay in their platform pane, out of Priority.
        assert not any("wifi" in r or "thanks" in r for r in rows)
        x_rows = _rows(app.panes[3])
        assert [r for r in x_rows if "wifi" in r][0].split()[1:3] == ["▽", "LOW"]
        header = app.query_one(StatusHeader).plain
        assert "WORST !!! CRIT" in header and "Datalek" in header
        assert "on call: Robin until 16:00" in header


async def test_markup_in_posts_is_shown_literally(tmp_path: Path) -> None:
    async with make_app(tmp_path).run_test(size=(80, 24)) as pilot:
        app = await ready_with_items(pilot)
        await pilot.press("3")  # the Mastodon tab
        await pilot.pause()
        rows = _rows(app.panes[2])
        assert any("[@click=app.quit]lol[/]" in r and "[bold]x" in r for r in rows)
        assert app.return_code is None


async def test_filters_by_severity_and_coverage(tmp_path: Path) -> None:
    async with make_app(tmp_path).run_test(size=(80, 24)) as pilot:
        app = await ready_with_items(pilot)
        await pilot.press("4")  # X
        await pilot.pause()
        assert app.panes[3].list.row_count == 3
        await pilot.press("s", "s")  # low, then medium and up
        await wait_for(pilot, lambda: app.panes[3].list.row_count == 1, what="the X pane filtered to medium and up",
                       seen=lambda: app.panes[3].list.row_count)
        assert app.min_severity == Severity.MEDIUM
        assert "[≥MED]" in app.panes[3].title_plain
        await pilot.press("s", "s", "s")  # high, critical, and back to everything
        await pilot.press("u")
        await wait_for(pilot, lambda: app.panes[0].list.row_count > 0 and all("UNCOVERED" in r for r in _rows(app.panes[0])),
                       what="only uncovered rows in Priority", seen=lambda: _rows(app.panes[0]))


async def test_correction_in_a_few_keystrokes_and_reply_once(tmp_path: Path) -> None:
    """Enter → correction template (en/nl) → copy → replied → repost follow-up; twice warns."""
    async with make_app(tmp_path).run_test(size=(80, 24)) as pilot:
        app = await ready_with_items(pilot)
        wrong_info = next(i for i in app.items.values() if i.category.value == "wrong-info")
        app.panes[0].list.move_cursor(app.panes[0].order.index(wrong_info.id))
        app.panes[0].list.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ResponseScreen), what="the response panel")
        await pilot.pause()
        screen = app.screen
        assert screen.kind == "correction"
        english = screen.reply_text()
        assert english and "Riverside Library" in english or english
        await pilot.press("g")  # Dutch
        await pilot.pause()
        assert screen.language == "nl" and screen.reply_text() != english
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        await pilot.press("y")
        await wait_for_log(pilot, "copied")
        assert copied == [screen.reply_text()]
        await pilot.press("R")
        replied = await wait_for_log(pilot, "replied")
        assert replied[0].item_id == wrong_info.id and replied[0].operator == "alice"
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), what="the follow-up menu")
        await pilot.press("enter")  # the first preset: the playbook's "repost the correction"
        fu = (await wait_for_log(pilot, "followup_set"))[0]
        assert fu.data["preset"] == "repost-correction"
        assert fu.data["due"].startswith((NOW + timedelta(hours=3)).isoformat()[:16])
        # A second reply in the same thread asks first, and "no" records nothing.
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the reply-once warning")
        assert "second reply" in app.screen.question.lower() or "discussion" in app.screen.question.lower()
        await pilot.press("n")
        await pilot.pause(0.3)
        assert sum(1 for e in app.log_entries if e.kind == "replied") == 1
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ResponseScreen)
        x_pane = app.panes[3]
        await wait_for(pilot, lambda: "replied" in x_pane.list.row_plain(x_pane.order.index(wrong_info.id)),
                       what="the X row to say replied", seen=lambda: _rows(x_pane))


async def test_playbook_and_reasons_are_shown(tmp_path: Path) -> None:
    async with make_app(tmp_path).run_test(size=(100, 40)) as pilot:
        app = await ready_with_items(pilot)
        grumble = next(i for i in app.items.values() if "wifi" in i.text)
        app.open_response(grumble)
        await wait_for(pilot, lambda: isinstance(app.screen, ResponseScreen), what="the response panel")
        await pilot.pause()
        body = str(app.screen.query_one("#item-body").render())
        assert "about 2 people likely to see this" in body
        assert "author has 14 followers" in body
        playbook = str(app.screen.query_one("#playbook").render())
        assert "once" in playbook.lower() and "email" in playbook.lower()


async def test_another_operators_claim_shows_within_seconds(tmp_path: Path) -> None:
    """Bob's running UI sees a claim Alice's instance wrote to the shared data dir."""
    from watchtower.core.record.log import HandoverLog

    shared = tmp_path / "shared"
    bob = make_app(tmp_path, operator="bob", data_dir=shared)
    async with bob.run_test(size=(80, 24)) as pilot:
        await ready_with_items(pilot)
        item = bob.priority_items()[0]
        assert bob.row_state(item).label == "new"
        # Another process (Alice's UI, or `watchtower log` from cron) writes to the log.
        HandoverLog(shared).append("claimed", operator="alice", item=item)
        await wait_for(pilot, lambda: bob.row_state(item).label == "@alice", what="bob to see alice's claim",
                       seen=lambda: bob.row_state(item).label)
        # Taking it over must be confirmed.
        bob.toggle_claim(item)
        await wait_for(pilot, lambda: isinstance(bob.screen, ConfirmScreen), what="the take-over question")
        assert "alice" in bob.screen.question
        await pilot.press("y")
        await wait_for(pilot, lambda: bob.row_state(item).label == "mine", what="bob's claim")


async def test_handover_and_acknowledge(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    async with make_app(tmp_path, operator="alice", data_dir=shared).run_test(size=(80, 24)) as pilot:
        app = await ready_with_items(pilot)
        await pilot.press("h")
        await wait_for(pilot, lambda: getattr(app.screen, "drawn", 0) > 0, what="the handover summary")
        summary = app.screen.markdown
        assert "uncovered" in summary.lower() and "Datalek" in summary
        await pilot.press("H")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), what="the handover note prompt")
        await pilot.press(*"Watch the datalek story")
        await pilot.press("enter")
        handover = (await wait_for_log(pilot, "handover"))[0]
        assert handover.text == "Watch the datalek story" and handover.operator == "alice"
    async with make_app(tmp_path, operator="bob", data_dir=shared).run_test(size=(80, 24)) as pilot:
        app = await ready_with_items(pilot)
        assert "NOT ACKNOWLEDGED" in app.query_one(StatusHeader).plain
        await pilot.press("h")
        await pilot.pause()
        await pilot.press("a")
        ack = (await wait_for_log(pilot, "acknowledged"))[0]
        assert ack.operator == "bob"
        await pilot.press("escape")
        await wait_for(pilot, lambda: "ack bob" in app.query_one(StatusHeader).plain, what="the header to show the ack")


async def test_crisis_mode_start_checklist_end(tmp_path: Path) -> None:
    async with make_app(tmp_path).run_test(size=(80, 24)) as pilot:
        app = await ready_with_items(pilot)
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), what="the crisis prompt")
        await pilot.press(*"Data breach story")
        await pilot.press("enter")
        await wait_for_log(pilot, "crisis_start")
        await wait_for(pilot, lambda: "CRISIS MODE" in app.query_one(StatusHeader).plain, what="a loud header")
        assert app.query_one(StatusHeader).has_class("-crisis")
        await pilot.press("enter")  # tick the first check
        check = (await wait_for_log(pilot, "crisis_check"))[0]
        assert check.data["check"] == "holding-statement"
        await pilot.press("E")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the end-crisis question")
        await pilot.press("y")
        end = (await wait_for_log(pilot, "crisis_end"))[0]
        assert end.operator == "alice"
        await wait_for(pilot, lambda: "CRISIS MODE" not in app.query_one(StatusHeader).plain, what="crisis off")


async def test_a_failing_source_shows_its_error_and_the_app_keeps_running(tmp_path: Path, httpserver) -> None:
    httpserver.expect_request("/bad.rss").respond_with_data("oops", status=503)
    httpserver.expect_request("/good.rss").respond_with_data(
        "<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>"
        "<item><guid>g1</guid><title>Riverside Library opens late</title><link>https://news.example/1</link></item>"
        "</channel></rss>",
        content_type="application/rss+xml",
    )
    config = small_config(
        sources=[
            {"kind": "rss", "name": "bad", "platform": "News", "url": httpserver.url_for("/bad.rss"), "interval": 300},
            {"kind": "rss", "name": "good", "platform": "Blog", "url": httpserver.url_for("/good.rss"), "interval": 300},
        ]
    )
    app = WatchtowerApp(config, data_dir=tmp_path / "data", operator="alice")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.panes[2].list.row_count == 1, what="the good source's item")
        await wait_for(pilot, lambda: "503" in app.panes[1].health_plain, what="the error in the News pane")
        assert app.panes[1].has_class("-failing")
        assert app.return_code is None


async def test_items_survive_a_restart(tmp_path: Path) -> None:
    with DemoServer(reveal_all=True) as server:
        config = demo_config(server.base_url)
        data = tmp_path / "data"
        app = WatchtowerApp(config, data_dir=data, operator="alice")
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: len(app.items) >= 30, what="the demo items")
            seen = set(app.items)
        again = WatchtowerApp(config, data_dir=data, operator="alice", start_polling=False)
        async with again.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: again.monitor is not None, what="stores")
            assert seen <= set(again.items)


async def test_help_lists_every_key(tmp_path: Path) -> None:
    async with make_app(tmp_path).run_test(size=(80, 24)) as pilot:
        await ready_with_items(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        text = str(pilot.app.screen.query_one("Static").render())
        for word in ("Claim", "Handover", "Respond", "Copy", "Follow-up", "Acknowledge", "End crisis", "More rows", "Page down", "Last"):
            assert word in text


async def test_the_collector_paused_for_start_up_runs_again_after_the_first_frame(tmp_path: Path) -> None:
    """`watchtower` pauses the cyclic GC while Textual starts (bench P8); it must come back."""
    import gc

    from watchtower.cli import pause_gc_for_startup

    pause_gc_for_startup()
    try:
        assert not gc.isenabled()
        app = make_app(tmp_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, gc.isenabled, what="the collector back on")
    finally:
        gc.enable()


def test_commands_other_than_the_tui_run_with_the_collector_on(tmp_path: Path) -> None:
    import gc

    from click.testing import CliRunner

    from watchtower.cli import cli, pause_gc_for_startup

    pause_gc_for_startup()
    try:
        result = CliRunner().invoke(cli, ["log", "list", "--data-dir", str(tmp_path / "d")])
        assert result.exit_code == 0, result.output
        assert gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize("crisis", [False, True], ids=["handover", "handover-and-crisis"])
async def test_an_unacknowledged_handover_is_visible_at_80x24(tmp_path: Path, crisis: bool) -> None:
    """Issue 16.8: at 80x24 the accounts pushed it off the header; at 160 it read '✗ …'."""
    from watchtower.core.record.log import HandoverLog

    shared = tmp_path / "shared"
    log = HandoverLog(shared)
    log.append("handover", "watch the datalek story", operator="sam")
    if crisis:
        log.append("crisis_start", "Data breach story in the national press and on every channel", operator="sam")
    for size in ((80, 24), (160, 48)):
        async with make_app(tmp_path, operator="bob", data_dir=shared).run_test(size=size) as pilot:
            app = await ready_with_items(pilot)
            header = app.query_one(StatusHeader)
            await wait_for(pilot, lambda header=header: "HANDOVER NOT" in header.plain, what="the handover in the header")
            shown = header.line(1).plain[: header.size.width]
            assert "✗ HANDOVER NOT ACK" in shown and "by sam" in shown, (size, shown)
            if crisis:
                assert "CRISIS MODE" in shown, shown


async def test_a_big_pane_says_how_many_it_holds_and_how_to_reach_the_rest(tmp_path: Path) -> None:
    """Issue 15.18: a 10,000-item feed showed '4829 items' and stopped at item 482 on
    ctrl+end, with neither cap said.  The pane says what it holds and 'o' reaches more:
    first the rest of what is held, then older items from the archive."""
    from ui_support import _item

    from watchtower.core.models import Category
    from watchtower.core.record.archive import Archive

    data = tmp_path / "data"
    archive = Archive(data)
    archive.add([_item(n, "News", "Forum", None, f"archived {n}", n * 0.5, Severity.INFO, Category.OTHER)
                 for n in range(5300)])
    archive.close()
    async with make_app(tmp_path, data_dir=data).run_test(size=(100, 30)) as pilot:
        app = await ready_with_items(pilot, [])
        await pilot.press("2")  # the News pane
        news = app.panes[1]
        await wait_for(pilot, lambda: news.list.row_count == 1000, what="the first window", seen=lambda: news.list.row_count)
        assert "5000 items" in news.title_plain  # what it holds (the newest 5000 of the archive)
        assert "1,000 of 5,000 shown · o: show 1,000 more" in news.list.end_note.plain
        await pilot.press("ctrl+end")
        assert news.list.cursor_row == 999
        await pilot.press("o", "o", "o", "o")
        await wait_for(pilot, lambda: news.list.row_count == 5000, what="every held row", seen=lambda: news.list.row_count)
        assert "o: load older ones from the archive" in news.list.end_note.plain
        await pilot.press("o")
        await wait_for(pilot, lambda: news.list.row_count == 5300, what="older items from the archive",
                       seen=lambda: (news.list.row_count, app.desk.held("News")))
        assert "nothing older in the archive" in news.list.end_note.plain
        assert "5300 items" in news.title_plain


async def test_in_the_wide_layout_the_keys_reach_a_pane_at_once(tmp_path: Path) -> None:
    """Issue 16.3: the focus sat on the hidden tab bar and the arrows did nothing until tab."""
    from watchtower.ui.widgets.pane import ItemList

    async with make_app(tmp_path).run_test(size=(160, 48)) as pilot:
        app = await ready_with_items(pilot)
        assert app.wide and isinstance(app.focused, ItemList)
        prio = app.panes[0].list
        await pilot.press("down")
        assert prio.cursor_row == 1
        await pilot.resize_terminal(80, 24)
        await wait_for(pilot, lambda: not app.wide, what="the tabs layout")
        assert isinstance(app.focused, ItemList) and app.focused.display
        await pilot.resize_terminal(160, 48)
        await wait_for(pilot, lambda: app.wide, what="the wide layout")
        assert isinstance(app.focused, ItemList)
