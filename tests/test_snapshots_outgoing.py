"""Snapshot of the response panel on our own post at 80x24 (issue 18): the title says it
was deleted, by whom and how, the formal apology is preselected for a grave slip, the
status line says which account a copy goes out as (in its colour) and offers D, C and L,
and the footer shows D.

Deterministic: a fixed clock, fixed items, the author's history answered before the
picture is taken.  Regenerate after an intended change with
``pytest tests/test_snapshots_outgoing.py --snapshot-update`` and look at the report.
"""

from __future__ import annotations

from pathlib import Path

from ui_support import _item, make_app, ready_with_items, sample_items, wait_for, wait_for_log

from watchtower.core.models import Category, Severity


def test_response_panel_on_our_deleted_post_80x24(snap_compare, tmp_path: Path) -> None:
    ours = _item(40, "Mastodon", "@riverside@social.example", 5000, "Borrel tonight at my place, everyone welcome!",
                 5, Severity.HIGH, Category.OWN_POST, reasons=["posted from our account", "private plans"])

    async def open_ours(pilot) -> None:
        app = await ready_with_items(pilot, [*sample_items(), ours])
        app.record("deleted", ours.text, item=ours, data={"how": "api", "account": "@riverside@social.example"})
        await wait_for_log(pilot, "deleted")
        app.open_response(ours)
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ResponseScreen", what="the response panel")
        await pilot.pause()
        history = app.screen.query_one("#history")
        await wait_for(pilot, lambda: "looking" not in str(history.render()), what="the author's history")
        await wait_for(pilot, lambda: "DELETED" in str(app.screen.query_one("#resp-title").render()), what="the mark")
        await pilot.pause()

    assert snap_compare(make_app(tmp_path), terminal_size=(80, 24), run_before=open_ours)
