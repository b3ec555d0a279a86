"""On call from the live screen (issue 19): search, watch/mute/snooze, alerts waiting, the
rota, and alerts that follow the rota and escalate while the TUI is open.

A mixin of :class:`~watchtower.ui.app.WatchtowerApp` (its keys are in :data:`SHIFT_BINDINGS`,
which the App's ``BINDINGS`` include, so they are in the footer, ``?`` and the command
palette like every other key).  It holds no state of the shift: the Desk folds the
watch-list and the overrides from the log, the core's
:class:`~watchtower.core.respond.escalation.Escalator` pages and escalates, and this turns keys
into the Desk's commands and runs everything that blocks (the log, sqlite, pushes) in a
worker thread.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from textual import work
from textual.binding import Binding

from ..core.desk import Record
from ..core.models import Item
from ..core.text.safetext import one_line

__all__ = ["ESCALATE_SECONDS", "SHIFT_BINDINGS", "ShiftActions"]

#: How often the running app escalates what nobody acknowledged (as cron's escalate-due).
ESCALATE_SECONDS = 60.0

SHIFT_BINDINGS = [
    Binding("slash", "search", "Search", id="search", tooltip="Search everything held and the archive"),
    Binding("A", "alerts_waiting", "Alerts", id="alerts_waiting",
            tooltip="Alerts nobody has acknowledged, and where they are in the escalation"),
    Binding("R", "rota", "Rota", id="rota", show=False, tooltip="Who is on call when; record a swap"),
    Binding("W", "watchlist", "Watch-list", id="watchlist", show=False,
            tooltip="Who is watched, what is muted, which items are snoozed; end any of them"),
    Binding("w", "watch", "Watch author", id="watch", show=False,
            tooltip="Keep an eye on this author: never below medium, listed at handover (again: stop)"),
    Binding("exclamation_mark", "mute", "Mute…", id="mute", show=False,
            tooltip="Hide this author or a word from panes and alerts; still archived"),
    Binding("z", "snooze", "Snooze alerts…", id="snooze", show=False,
            tooltip="No alert or escalation for this item for a while (again: end the snooze)"),
    Binding("M", "toggle_muted", "Show muted", id="show_muted", show=False, tooltip="Show the posts hidden by a mute"),
]


class ShiftActions:
    """The actions and workers of issue 19, on the App (``self`` is the App)."""

    desk: Any
    config: Any
    clock: Any
    env: Any
    data_dir: Any
    operator: str
    tz: Any
    screen: Any
    main_screen: Any
    _search_index: Any = None
    _reported: set[str] | None = None

    # -- the item a key is about ----------------------------------------------------------
    def target_item(self) -> Item | None:
        """The item on screen: the response panel's, the highlighted search hit or alert,
        else the highlighted row of the pane."""
        screen = self.screen
        if screen is not self.main_screen:
            picked = getattr(screen, "highlighted_item", None)
            if callable(picked):
                return picked()  # type: ignore[no-any-return]
            item = getattr(screen, "item", None)
            return item if isinstance(item, Item) else None
        return self.current_item()  # type: ignore[attr-defined,no-any-return]

    def _item_or_say(self) -> Item | None:
        item = self.target_item()
        if item is None:
            self.notify("Highlight an item first.", markup=False, timeout=3)  # type: ignore[attr-defined]
        return item

    def _do(self, command: Record, message: str = "") -> None:
        """Write ``command`` to the log in a thread; toast ``message`` once it is on disk."""
        done = (lambda _entry: self.notify(message, markup=False, timeout=4)) if message else None  # type: ignore[attr-defined]
        self.run_command(command, done)  # type: ignore[attr-defined]

    # -- search ---------------------------------------------------------------------------
    def action_search(self, query: str = "") -> None:
        from .screens.search import SearchScreen

        self.push_screen(SearchScreen(query))  # type: ignore[attr-defined]

    def search_index(self) -> Any:
        """Blocking (sqlite): the app's one :class:`~watchtower.core.record.search.SearchIndex`
        (``None`` without a data directory).  Use it under :attr:`search_lock`."""
        if self._search_index is None and self.data_dir is not None:
            from ..core.record.search import SearchIndex

            self._search_index = SearchIndex(self.data_dir, group_shared=self.config.data.group_shared)
        return self._search_index

    search_lock = threading.Lock()

    def close_search_index(self) -> None:
        """Blocking: close the index's sqlite connection on exit (a search still running
        after 5 s keeps it; the process is ending anyway)."""
        if self._search_index is not None and self.search_lock.acquire(timeout=5.0):
            try:
                self._search_index.close()
                self._search_index = None
            finally:
                self.search_lock.release()

    # -- watch, mute, snooze ----------------------------------------------------------------
    def action_watch(self) -> None:
        item = self._item_or_say()
        if item is None:
            return
        author = one_line(item.author, limit=60)
        from .screens.forms import ReasonForm
        from .screens.modals import ConfirmScreen

        watched = self.desk.watch.watch_of(item.author, item.platform)
        if watched is not None:
            def stop(ok: bool | None) -> None:
                if ok:
                    self._do(self.desk.unwatch_author(watched.author, watched.platform), f"Stopped watching {author}.")

            self.push_screen(ConfirmScreen(f"Stop watching {author}?", yes="Stop watching"), stop)  # type: ignore[attr-defined]
            return

        def save(reason: str | None) -> None:
            if reason is not None:
                self._do(self.desk.watch_author(item, reason), f"Watching {author}: never below medium, listed at handover.")

        self.push_screen(ReasonForm(f"Watch {author}: why? (optional)"), save)  # type: ignore[attr-defined]

    def action_mute(self) -> None:
        item = self._item_or_say()
        if item is None:
            return
        from .screens.forms import MuteForm

        def save(form: dict[str, Any] | None) -> None:
            if form is None:
                return
            try:
                command = self.desk.mute(**form)
            except ValueError as exc:
                self.report_problem(f"Not muted: {exc}")  # type: ignore[attr-defined]
                return
            what = f"author {form['author']}" if form["author"] else f"keyword '{form['keyword']}'"
            self._do(command, f"Muted {one_line(what, limit=80)}: hidden from panes and alerts (M shows them, W unmutes).")

        self.push_screen(MuteForm(item.author, item.platform), save)  # type: ignore[attr-defined]

    def action_snooze(self) -> None:
        item = self._item_or_say()
        if item is None:
            return
        from .screens.forms import SnoozeForm
        from .screens.modals import ConfirmScreen

        until = self.desk.watch.snoozed_until(item.id, self.clock())
        if until is not None:
            def end(ok: bool | None) -> None:
                if ok:
                    self._do(self.desk.snooze(item, timedelta(0)), "Snooze ended: this item alerts and escalates again.")

            when = until.astimezone(self.tz).strftime("%H:%M")
            self.push_screen(ConfirmScreen(f"Snoozed until {when}. End the snooze?", yes="End the snooze"), end)  # type: ignore[attr-defined]
            return

        def save(answer: tuple[timedelta, str] | None) -> None:
            if answer is None:
                return
            delta, reason = answer
            at = (self.clock() + delta).astimezone(self.tz).strftime("%a %H:%M")
            self._do(self.desk.snooze(item, delta, reason), f"Snoozed until {at}: no alert, no escalation.")

        self.push_screen(SnoozeForm("Snooze this item's alerts and escalation"), save)  # type: ignore[attr-defined]

    def action_toggle_muted(self) -> None:
        show = not self.desk.show_muted
        self.desk.set_show_muted(show)
        self.notify("Showing muted posts (dimmed, with the mute)." if show else "Muted posts hidden again.",  # type: ignore[attr-defined]
                    markup=False, timeout=3)

    # -- screens ----------------------------------------------------------------------------
    def action_alerts_waiting(self) -> None:
        from .screens.waiting import AlertsWaitingScreen

        self.push_screen(AlertsWaitingScreen())  # type: ignore[attr-defined]

    def action_rota(self) -> None:
        from .screens.rota import RotaScreen

        self.push_screen(RotaScreen())  # type: ignore[attr-defined]

    def action_watchlist(self) -> None:
        from .screens.watchlist import WatchlistScreen

        self.push_screen(WatchlistScreen())  # type: ignore[attr-defined]

    def open_by_id(self, item_id: str, then: Any = None) -> None:
        """The response panel (or ``then(item)``) for an item that may no longer be held:
        looked up in the archive in a thread."""
        item = self.desk.items.get(item_id)
        if item is not None:
            (then or self.open_response)(item)  # type: ignore[attr-defined]
            return
        self._archived(item_id, then)

    @work(thread=True, group="archive-get", exit_on_error=False)
    def _archived(self, item_id: str, then: Any) -> None:
        archive = self.desk.archive
        item = archive.get(item_id) if archive is not None else None
        if item is None:
            self.call_from_thread(self.notify, "That item is no longer held nor in the archive.",  # type: ignore[attr-defined]
                                  markup=False, severity="warning")
            return
        self.call_from_thread(then or self.open_response, item)  # type: ignore[attr-defined]

    # -- alerts follow the rota and escalate --------------------------------------------------
    def start_escalation(self) -> None:
        """Once the log is open: page through the rota, and escalate every minute."""
        desk = self.desk
        if desk.log is None:
            return
        from ..core.respond.escalation import Escalator

        desk.escalator = Escalator(self.config, desk.log, clock=self.clock, env=self.env)
        if desk.paging:
            self.set_interval(ESCALATE_SECONDS, self.escalate_due)  # type: ignore[attr-defined]

    def push_alert(self, alert: Any) -> None:
        """Push an alert: item alerts to who is on call (a chain that escalates), notices
        to who is on call or the fallback; without a rota target, to [alerts] as before."""
        desk = self.desk
        if desk.paging:
            self._page(alert)
        elif desk.alerter is not None and desk.alerter.push is not None:
            self._push_plain(alert)

    @work(thread=True, group="push", exit_on_error=False)
    def _page(self, alert: Any) -> None:
        try:
            if getattr(alert, "kind", "items") == "items":
                report = self.desk.page(alert)
                problems = list(report.problems) if report is not None else []
            else:
                result = self.desk.notify(alert)
                problems = [] if result is None or result.ok else [f"push alert failed: {result.message}"]
        except Exception as exc:  # noqa: BLE001 - a failed page is shown, never a crash
            problems = [f"paging failed: {exc}"]
        self._problems(problems)

    @work(thread=True, group="push", exit_on_error=False)
    def _push_plain(self, alert: Any) -> None:
        result = self.desk.alerter.push.send(alert)
        if not getattr(result, "ok", True):
            self._problems([f"push alert failed: {getattr(result, 'error', '')}"])

    @work(thread=True, exclusive=True, group="escalate", exit_on_error=False)
    def escalate_due(self) -> None:
        """Escalate every chain whose time has come (blocking; a worker every minute)."""
        try:
            report = self.desk.run_due()
        except Exception as exc:  # noqa: BLE001
            self._problems([f"escalation: {exc}"])
            return
        if report is not None:
            self._problems(report.problems)
            if report.steps:
                self.call_from_thread(self._reload_log, True)  # type: ignore[attr-defined]

    def _problems(self, problems: list[str]) -> None:
        """Each distinct problem once a session (an unset env var would toast every minute)."""
        if self._reported is None:
            self._reported = set()
        for p in dict.fromkeys(one_line(p, limit=300) for p in problems):
            if p not in self._reported:
                self._reported.add(p)
                self.call_from_thread(self.report_problem, p)  # type: ignore[attr-defined]
