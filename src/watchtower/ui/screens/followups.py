"""Follow-ups due and overdue, and the posts scheduled for later (issue 18.3, 18.10).

The correction to repost, the complainant to email: each follow-up closes on its own
(:func:`watchtower.core.respond.schedule.close_followup` names it by id).  Below them, every
scheduled post not sent yet (:func:`watchtower.core.respond.schedule.open_posts`): when it is due,
its state (``pending``, ``due now``, ``sending``, ``uncertain``, ``failed``, with the
reason), the account and the text; ``x`` cancels one, ``enter`` opens the item it is about.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from ...core.text.safetext import clean, one_line
from .. import render
from ..widgets.keys import KeysFooter
from .modals import ConfirmScreen
from .outgoing import account_line, in_thread

_STATE_STYLE = {"pending": "yellow", "due now": "bold reverse yellow", "sending": "bold cyan",
                "uncertain": "bold reverse red", "failed": "bold reverse red", "LATE": "bold reverse red"}


class FollowupsScreen(Screen[None]):
    DEFAULT_CSS = """
    FollowupsScreen #fu-title { height: 1; background: $panel; text-style: bold; }
    FollowupsScreen DataTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="followups_back"),
        Binding("d", "done", "Done", id="followup_done", tooltip="Mark the follow-up done"),
        Binding("x", "dismiss_followup", "Dismiss/cancel", id="followup_dismiss",
                tooltip="Dismiss the follow-up, or cancel the scheduled post"),
        Binding("enter", "open_item", "Open item", id="followup_open"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[Any] = []

    def compose(self) -> ComposeResult:
        yield Static(Text("Follow-ups (overdue first), then scheduled posts"), id="fu-title", markup=False)
        yield DataTable(cursor_type="row", id="fu-table")
        yield KeysFooter()

    def on_mount(self) -> None:
        t = self.query_one(DataTable)
        t.add_column("Due", key="due", width=12)
        t.add_column("State", key="state", width=9)
        t.add_column("Set by", key="by", width=12)
        t.add_column("What", key="what")
        self.refresh_rows()
        t.focus()

    def log_changed(self) -> None:
        self.refresh_rows()

    def refresh_rows(self) -> None:
        from ...core.record.decisions import followups
        from ...core.respond.schedule import is_late, open_posts

        app = self.app
        now = app.clock()
        fus = sorted(followups(app.log_entries, now), key=lambda f: f.due)
        posts = open_posts(app.log_entries, now)
        self._rows = [*fus, *posts]
        t = self.query_one(DataTable)
        row = t.cursor_row
        t.clear()
        for fu in fus:
            overdue = fu.due <= now
            state = Text("OVERDUE", style="bold reverse red") if overdue else Text("due", style="yellow")
            what = Text(one_line(getattr(fu, "text", ""), limit=200))
            excerpt = getattr(fu, "excerpt", None)
            if excerpt:
                what.append(f"  ({one_line(excerpt, limit=80)})", style="dim")
            t.add_row(
                Text(render.local_time(fu.due, app.tz, "%a %H:%M")),
                state,
                Text(one_line(getattr(fu, "set_by", ""), limit=20)),
                what,
                key=str(fu.id),
            )
        for post in posts:
            late = is_late(post, now)
            word = "LATE" if late else "due now" if post.state == "pending" and post.is_due(now) else post.state
            what = Text("⇪ ", style="bold")
            what.append(f"{one_line(post.platform, limit=20)} {one_line(post.account, limit=60)}: ", style="bold")
            what.append(one_line(post.text, limit=160))
            if post.state in ("failed", "uncertain") and post.error:
                what.append(f"  ({one_line(post.error, limit=160)})", style="red")
            if late:
                what.append(f"  (held, too late to send by itself: `watchtower schedule send {post.id[:8]}` "
                            "sends it, x cancels it)", style="bold")
            t.add_row(
                Text(render.local_time(post.due, app.tz, "%a %H:%M")),
                Text(word, style=_STATE_STYLE.get(word, "")),
                Text(one_line(post.set_by, limit=20)),
                what,
                key=f"scheduled:{post.id}",
            )
        if not self._rows:
            t.add_row(Text(""), Text(""), Text(""), Text("No open follow-ups, no scheduled posts.", style="dim"),
                      key="-none-")
        elif row:
            t.move_cursor(row=min(row, len(self._rows) - 1))

    def _current(self) -> Any:
        t = self.query_one(DataTable)
        if not self._rows or t.cursor_row >= len(self._rows):
            return None
        return self._rows[t.cursor_row]

    @staticmethod
    def _scheduled(row: Any) -> bool:
        from ...core.respond.schedule import ScheduledPost

        return isinstance(row, ScheduledPost)

    def _close(self, dismissed: bool) -> None:
        """Close the follow-up under the cursor, and only that one (18.10)."""
        from ...core.respond.schedule import close_followup

        app = self.app
        fu = self._current()
        if fu is None or self._scheduled(fu):
            return
        if app.desk.log is None:
            app.report_problem("No data directory: this decision was not recorded.")
            return
        in_thread(app, lambda: close_followup(app.desk.log, fu, operator=app.operator, dismissed=dismissed),
                  what="close the follow-up")

    def action_done(self) -> None:
        row = self._current()
        if row is not None and self._scheduled(row):
            self.app.notify("A scheduled post is done when it is sent; x cancels it.", markup=False)
            return
        self._close(dismissed=False)

    def action_dismiss_followup(self) -> None:
        row = self._current()
        if row is not None and self._scheduled(row):
            self._cancel(row)
            return
        self._close(dismissed=True)

    def _cancel(self, post: Any) -> None:
        from ...core.respond.replies import post_as
        from ...core.respond.schedule import cancel

        app = self.app
        account = app.desk.poster.account_by_handle(post.account, post.platform)
        detail = account_line(post_as(account, post.platform)) if account is not None else Text(
            f"{one_line(post.platform, limit=30)} {one_line(post.account, limit=60)}", style="bold")
        detail.append(f" at {render.local_time(post.due, app.tz, '%a %d %b %H:%M %Z')}", style="bold")
        detail.append("\n\n" + clean(post.text, limit=600))

        def confirmed(ok: bool | None) -> None:
            if not ok:
                return

            def work() -> Any:
                from ...core.respond.schedule import ScheduleError

                try:
                    return cancel(app.desk.log, post.id, operator=app.operator, tz=app.tz)
                except ScheduleError as exc:  # sent already, being sent: said, not a problem
                    return exc

            def done(result: Any) -> None:
                if isinstance(result, Exception):
                    app.notify(f"Not cancelled: {one_line(result, limit=300)}", markup=False, severity="warning",
                               timeout=8)
                else:
                    app.notify("Scheduled post cancelled.", markup=False, timeout=4)

            in_thread(app, work, done, what="cancel the scheduled post")

        app.push_screen(ConfirmScreen("Cancel this scheduled post?", yes="Cancel post", no="Keep it", detail=detail),
                        confirmed)

    def action_open_item(self) -> None:
        row = self._current()
        if row is None:
            return
        item_id = row.about if self._scheduled(row) else getattr(row, "item_id", None)
        if self._scheduled(row) and not item_id:
            self.app.notify("This scheduled post is about no item (a statement of its own).", markup=False)
            return
        item = self.app.items.get(item_id or "")
        if item is None:
            self.app.notify("That item is no longer in the archive.", markup=False, severity="warning")
            return
        self.app.open_response(item)
