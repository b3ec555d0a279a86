"""The watchtower App: one live pane per platform, a Priority pane, and the screens.

A thin shell over the :class:`~watchtower.core.desk.Desk`, which holds the live shift
(items, decisions, the policy, alerts).  The App composes widgets, binds keys to the
desk's commands, runs the IO in workers (one async poll loop per source; every sqlite and
TinyDB call in a thread) and draws what the desk answers when it says something changed.

Drawing is cheap by construction, so there is no frame scheduling here: a change posts
one :class:`ViewsStale` message to the App itself (never to whatever screen is on top);
its handler draws the panes, whose lists render only the lines on screen.  A big batch
is put in order a slice at a time by an async worker that yields between slices.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Tabs

from ..config import Config
from ..core.desk import Change, Desk, Filters, Record
from ..core.models import Item, Severity, utcnow
from ..core.pipeline.monitor import RoundResult
from ..core.text.safetext import one_line
from . import gcpolicy
from .commands import WatchtowerCommands
from .dueposts import start_due_ticker
from .messages import LogChanged, Polled, ViewsStale
from .shift import SHIFT_BINDINGS, ShiftActions
from .textual_compat import write_to_terminal
from .widgets.alerts import AlertShelf
from .widgets.board import PaneBoard
from .widgets.header import StatusHeader
from .widgets.keys import KeysFooter
from .widgets.pane import ItemList, ItemPane

LOG_POLL_SECONDS = 2.0
TICK_SECONDS = 15.0
#: Changes above this many are put in order by a worker, a slice at a time.
SYNC_IN_SLICES_ABOVE = 512
SYNC_SLICE = 256
#: Batches at least this big have their alerts worked out in a thread.
ALERT_THREAD_ABOVE = 100


class WatchtowerApp(ShiftActions, App[None]):
    """The on-call monitor."""

    TITLE = "watchtower"
    CSS_PATH = "watchtower.tcss"
    COMMANDS = App.COMMANDS | {WatchtowerCommands}

    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="quit", show=False, tooltip="Quit watchtower", priority=True),
        Binding("question_mark", "help", "Help", id="help", tooltip="Every key, explained"),
        Binding("enter", "respond", "Respond", id="respond", tooltip="Open the response panel for the highlighted item"),
        Binding("c", "claim", "Claim", id="claim", tooltip="Claim the highlighted item (or unclaim it)"),
        Binding("h", "handover", "Handover", id="handover", tooltip="Open the shift handover screen"),
        Binding("f", "followups", "Follow-ups", id="followups", show=False, tooltip="Follow-ups due and overdue"),
        Binding("l", "log", "Log", id="log", show=False, tooltip="The handover log, filterable"),
        Binding("x", "crisis", "Crisis", id="crisis", show=False, tooltip="Declare or manage a crisis"),
        Binding("s", "cycle_severity", "Min sev", id="min_severity", show=False, tooltip="Filter panes by minimum severity"),
        Binding("u", "toggle_uncovered", "Uncovered", id="uncovered", show=False, tooltip="Show only items that arrived uncovered"),
        Binding("m", "mark_seen", "Seen", id="seen", show=False, tooltip="Mark the highlighted item as seen"),
        Binding("n", "note", "Note", id="note", show=False, tooltip="Add a note to the handover log"),
        Binding("o", "older", "More rows", id="older", show=False, tooltip="Show more rows of this pane, then older items from the archive"),
        Binding("r", "refresh_now", "Poll now", id="poll_now", show=False, tooltip="Poll every source now"),
        Binding("right_square_bracket", "next_tab", "Next pane", id="next_pane", show=False, tooltip="The next pane"),
        Binding("left_square_bracket", "prev_tab", "Prev pane", id="prev_pane", show=False, tooltip="The previous pane"),
    ] + [
        Binding(str(i), f"goto_tab({i - 1})", f"Pane {i}", id=f"pane_{i}", show=False) for i in range(1, 10)
    ] + SHIFT_BINDINGS

    def __init__(self, config: Config, *, data_dir: Path | None, operator: str, demo_server: Any = None,
                 clock: Callable[[], datetime] = utcnow, start_polling: bool = True,
                 env: dict[str, str] | None = None) -> None:
        super().__init__()
        # Nothing moves unless something changed: every animation frame is bytes over SSH.
        self.animation_level = "none"
        self.config = config
        self.data_dir = data_dir
        self.operator = operator
        self.demo_server = demo_server
        self.clock = clock
        self.start_polling = start_polling
        self.env = env
        self.tz = config.organisation.tz
        self.platforms = config.platforms
        self.desk = Desk(config, operator=operator, clock=clock)
        self.desk.subscribe(self._desk_changed)
        self.filters = Filters()
        self.problems: list[str] = []
        self.alert_log: list[Any] = []
        self._stale_posted = False
        self._draw_all = True
        self._changes = Change()
        self._log_version: Any = None
        self._pruning = False
        self.set_keymap(dict(config.ui.keymap))

    # -- what screens and tests read (the desk's, attributes down) --------------------------
    items = property(lambda self: self.desk.items)
    log_entries = property(lambda self: self.desk.log_entries)
    monitor = property(lambda self: self.desk.monitor)
    handover_log = property(lambda self: self.desk.log)
    min_severity = property(lambda self: self.filters.min_severity)

    @property
    def views_settled(self) -> bool:  # nothing waits to be drawn
        return not self._stale_posted and not self.desk.pending() and not self.desk.index.dirty

    row_state = property(lambda self: self.desk.row_state)

    def priority_items(self) -> list[Item]:
        return self.desk.priority_items(self.filters)

    # -- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield StatusHeader()
        yield PaneBoard(self.platforms)
        yield AlertShelf()
        yield KeysFooter()

    @property
    def main_screen(self) -> Any:
        """The screen with the panes (under any other); ``None`` while shutting down."""
        stack = self.screen_stack
        return stack[0] if stack else None

    @property
    def board(self) -> PaneBoard:
        return self.main_screen.query_one(PaneBoard)

    @property
    def panes(self) -> list[ItemPane]:
        return self.board.panes if self.main_screen is not None else []

    wide = property(lambda self: self.board.wide)
    active_tab = property(lambda self: self.board.active)

    def on_mount(self) -> None:
        if self.config.ui.theme in self.available_themes:
            self.theme = self.config.ui.theme
        else:
            self.problems.append(f"unknown theme '{one_line(self.config.ui.theme, limit=40)}' in [ui] theme; using the default")
        self.sub_title = one_line(self.config.organisation.name, limit=80)
        self.board.lay_out(self.size.width, self.size.height)
        self._open_stores()
        self.set_interval(TICK_SECONDS, self._tick)
        self.refresh_views()

    def on_ready(self) -> None:
        gcpolicy.start(self)  # paused for start-up by cli.pause_gc_for_startup; no full pass mid-batch

    def on_resize(self, event: events.Resize) -> None:
        # The size the event carries: the layout is never one resize behind.
        self.board.lay_out(event.size.width, event.size.height)

    @on(Tabs.TabActivated)
    def _tab_activated(self, event: Tabs.TabActivated) -> None:
        if event.tab is not None and event.tab.id is not None:
            self.board.show_pane(int(event.tab.id.removeprefix("tab-")), self.size.width, self.size.height)

    def action_goto_tab(self, index: int) -> None:
        self.board.show_pane(index, self.size.width, self.size.height)

    def action_next_tab(self) -> None:
        self.action_goto_tab((self.active_tab + 1) % len(self.panes))

    def action_prev_tab(self) -> None:
        self.action_goto_tab((self.active_tab - 1) % len(self.panes))

    # -- stores and polling ---------------------------------------------------------------
    @work(thread=True, exclusive=True, group="open-stores", exit_on_error=False)
    def _open_stores(self) -> None:
        opened = self.desk.open_stores(self.data_dir, env=self.env)
        self.call_from_thread(self._stores_ready, opened)

    def _stores_ready(self, opened: Any) -> None:
        self.desk.start(opened)
        if not self.is_running:
            return  # quit while the stores opened: start nothing that would outlive the app
        for p in self.problems + opened.problems:
            self.report_problem(p)
        if opened.log is not None:
            self.set_interval(LOG_POLL_SECONDS, self._reload_log)
            start_due_ticker(self)  # scheduled posts, off the UI loop
        self.start_escalation()
        if self.start_polling:
            for source in opened.monitor.sources:
                self.run_worker(self._poll_loop(source.name), name=f"poll {source.name}",
                                group=f"poll:{source.name}", exclusive=True, exit_on_error=False)

    async def _poll_loop(self, name: str) -> None:
        """Poll one source forever; the next poll is armed only after this one ends."""
        monitor = self.desk.monitor
        while True:
            try:
                result = await monitor.poll(name)
            except Exception as exc:  # noqa: BLE001 - the pipeline failing is a status too
                from ..core.sources import PollResult

                src = monitor.source(name)
                result = RoundResult(PollResult(name, src.platform, [], ok=False, error=f"internal error: {one_line(exc, limit=200)}"))
            self.post_message(Polled(result))
            await asyncio.sleep(max(1.0, monitor.poller.next_delay(name)))

    async def poll_everything_once(self) -> None:
        """One round over every source (``r``, and tests)."""
        if self.desk.monitor is not None:
            # In the order the pipeline saw them, not the sources' order (RoundResult.seq).
            for rr in sorted(await self.desk.monitor.poll_all(), key=lambda rr: rr.seq):
                self.post_message(Polled(rr))

    def on_polled(self, message: Polled) -> None:
        new = self.desk.receive(message.result)
        if len(new) >= ALERT_THREAD_ABOVE:
            self._alerts_in_thread(_Batch(new))
        elif new:
            self._deliver_all(self.desk.alerts_for(new))

    @work(thread=True, group="alerts", exit_on_error=False)
    def _alerts_in_thread(self, batch: _Batch) -> None:
        alerts = self.desk.alerts_for(batch.value)
        if alerts:
            self.call_from_thread(self._deliver_all, alerts)

    # -- the log --------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="log-read", exit_on_error=False)
    def _reload_log(self, force: bool = False) -> None:
        log = self.desk.log
        try:
            version = log.version()
            if version == self._log_version and not force:
                return
            self._log_version = version
            entries = self.desk.read_log()
        except Exception as exc:  # noqa: BLE001
            self.call_from_thread(self.report_problem, f"handover log: {one_line(exc, limit=300)}")
            return
        self.post_message(LogChanged(entries))

    def on_log_changed(self, message: LogChanged) -> None:
        self.desk.apply_log(message.entries)

    def record(self, kind: str, text: str = "", *, item: Item | None = None, data: dict | None = None,
               done: Callable[[Any], None] | None = None) -> None:
        """Append a decision to the handover log (in a thread); errors are shown, never lost."""
        self.run_command(Record(kind, text, item, dict(data or {})), done)

    @work(thread=True, group="log-write", exit_on_error=False)
    def run_command(self, command: Record, done: Callable[[Any], None] | None = None) -> None:
        try:
            entry = self.desk.record(command)
        except Exception as exc:  # noqa: BLE001
            self.call_from_thread(self.report_problem, f"Could not record '{command.kind}': {one_line(exc, limit=300)}")
            return
        if done is not None:
            self.call_from_thread(done, entry)
        self._reload_log(force=True)

    def on_worker_state_changed(self, event: Any) -> None:
        """Workers never end the app (exit_on_error=False); their failures are shown."""
        from textual.worker import WorkerState

        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.report_problem(f"{event.worker.name or 'background task'} failed: {type(error).__name__}: {one_line(error, limit=300)}")

    def report_problem(self, text: str) -> None:
        self.notify(one_line(text, limit=500), title="Problem", severity="error", timeout=15, markup=False)

    # -- alerts ---------------------------------------------------------------------------
    def _deliver_all(self, alerts: list[Any]) -> None:
        for alert in alerts:
            self.deliver_alert(alert)

    def deliver_alert(self, alert: Any) -> None:
        """The alert shelf on the main screen, a short toast on any other screen, the
        bell or desktop notification (sanitised bytes from the core), push in a thread."""
        self.alert_log.append(alert)
        if self.main_screen is None:
            return
        self.main_screen.query_one(AlertShelf).add(alert, self.clock(), self.tz)
        if self.screen is not self.main_screen:
            sev = "error" if getattr(alert, "severity", Severity.HIGH) >= Severity.HIGH else "warning"
            self.notify(one_line(alert.body, limit=200), title=one_line(alert.title, limit=120), severity=sev,
                        timeout=8, markup=False)
        alerter = self.desk.alerter
        if alerter is None:
            return
        # Bell / OSC 777 bytes from watchtower.core.alert.termnotify, stripped of everything else.
        write_to_terminal(self, alerter.terminal_output(alert))
        self.push_alert(alert)  # the rota's person, escalating (ui/shift.py)

    async def on_event(self, event: events.Event) -> None:
        if (isinstance(event, (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp))
                and not event.is_forwarded and self.main_screen is not None):
            self.main_screen.query_one(AlertShelf).operator_is_back(self.tz)
        await super().on_event(event)

    # -- periodic -------------------------------------------------------------------------
    def _tick(self) -> None:
        """Held alerts, stale sources, follow-ups coming due, ages and the clock."""
        self._deliver_all(self.desk.tick())
        self._redraw()

    # -- drawing --------------------------------------------------------------------------
    def _desk_changed(self, change: Change) -> None:
        c = self._changes
        self._changes = Change(c.panes | change.panes, c.log or change.log, c.items or change.items, True)
        self._post_stale()

    def _redraw(self) -> None:
        self._draw_all = True
        self._post_stale()

    def _post_stale(self) -> None:
        if not self._stale_posted:
            self._stale_posted = True
            self.post_message(ViewsStale())

    def on_views_stale(self, _message: ViewsStale) -> None:
        self._stale_posted = False
        if self.desk.pending() > SYNC_IN_SLICES_ABOVE:
            self._sync_in_slices()
            return
        self.refresh_views()

    @work(exclusive=True, group="sync", exit_on_error=False)
    async def _sync_in_slices(self) -> None:
        while self.desk.sync(chunk=SYNC_SLICE):
            await asyncio.sleep(0)
        self.refresh_views()

    def refresh_views(self) -> None:
        """Bring every view up to date now (cheap: the lists render only what shows)."""
        desk = self.desk
        desk.sync()
        if self.main_screen is None or not self.board.is_attached:
            return
        dirty = desk.take_dirty()
        draw_all, self._draw_all = self._draw_all, False
        change, self._changes = self._changes, Change()
        self.main_screen.query_one(StatusHeader).show(desk.header(self.filters), self.tz)
        self.board.draw(desk, self.filters, now=self.clock(), tz=self.tz,
                        panes=None if draw_all else dirty | set(change.panes))
        for screen in self.screen_stack[1:]:
            if change.log and hasattr(screen, "log_changed"):
                screen.log_changed()
            if (change.items or change.panes) and hasattr(screen, "items_changed"):
                screen.items_changed()
        if desk.prune_due() and not self._pruning:
            self._pruning = True
            self._plan_prune(_Batch(list(desk.items.values())), _Batch(dict(desk.states)))

    @work(thread=True, exclusive=True, group="prune", exit_on_error=False)
    def _plan_prune(self, held: _Batch, states: _Batch) -> None:
        """Which items to drop is worked out here (it sorts everything held)."""
        plan: list[Item] = []
        try:
            plan = self.desk.prune_plan(held.value, states.value)
        finally:
            self.call_from_thread(self._pruned, plan)

    def _pruned(self, plan: list[Item]) -> None:
        self._pruning = False
        self.desk.drop(plan)

    # -- actions --------------------------------------------------------------------------
    def current_pane(self) -> ItemPane:
        return self.board.current(self.main_screen.focused)

    def current_item(self) -> Item | None:
        item_id = self.current_pane().highlighted_id()
        return self.desk.items.get(item_id) if item_id else None

    @on(ItemList.OpenItem)
    def _open_item(self, message: ItemList.OpenItem) -> None:
        item = self.desk.items.get(message.item_id)
        if item is not None:
            self.open_response(item)

    def action_respond(self) -> None:
        item = self.current_item()
        if item is not None:
            self.open_response(item)

    def open_response(self, item: Item) -> None:
        """The response panel for ``item`` (one panel, shown again: screens/response.py)."""
        from .screens.response import open_response

        open_response(self, item)

    def action_claim(self) -> None:
        item = self.current_item()
        if item is not None:
            self.toggle_claim(item)

    def toggle_claim(self, item: Item) -> None:
        outcome = self.desk.claim(item)
        if outcome.confirm_from is None:
            self.run_command(outcome.record)
            self.notify(outcome.message, markup=False, timeout=3)
            return
        from .screens.modals import ConfirmScreen

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.run_command(outcome.record)

        self.push_screen(ConfirmScreen(f"{outcome.confirm_from} has claimed this item. Take it over?", yes="Take over"), confirmed)

    def action_mark_seen(self) -> None:
        item = self.current_item()
        if item is not None:
            self.record("seen", item=item)

    def action_note(self) -> None:
        from .screens.modals import PromptScreen

        def save(text: str | None) -> None:
            if text:
                self.record("note", text)

        self.push_screen(PromptScreen("Note for the handover log", placeholder="What happened, what is pending…"), save)

    def _open(self, module: str, name: str) -> None:
        from importlib import import_module
        self.push_screen(getattr(import_module(f".screens.{module}", __package__), name)())

    def action_handover(self) -> None:
        self._open("handover", "HandoverScreen")

    def action_followups(self) -> None:
        self._open("followups", "FollowupsScreen")

    def action_log(self) -> None:
        self._open("logview", "LogScreen")

    def action_crisis(self) -> None:
        self._open("crisis", "CrisisScreen")

    def action_help(self) -> None:
        self._open("help", "HelpScreen")

    def action_cycle_severity(self) -> None:
        order = list(Severity)
        sev = order[(order.index(self.filters.min_severity) + 1) % len(order)]
        self.filters = Filters(sev, self.filters.uncovered_only)
        self.notify(f"Showing {sev.label} and above.", markup=False, timeout=3)
        self._redraw()

    def action_toggle_uncovered(self) -> None:
        self.filters = Filters(self.filters.min_severity, not self.filters.uncovered_only)
        self.notify("Only items that arrived uncovered." if self.filters.uncovered_only else "All items.", markup=False, timeout=3)
        self._redraw()

    def action_older(self) -> None:
        """More rows of the current pane; once all it holds show, older ones from the archive."""
        self.board.more(self.desk, self.current_pane(), self.filters)
        self._redraw()

    def action_refresh_now(self) -> None:
        self.run_worker(self.poll_everything_once(), group="poll-now", exclusive=True, exit_on_error=False)

    async def on_unmount(self) -> None:
        gcpolicy.stop()
        ticker = getattr(self, "due_ticker", None)
        if ticker is not None:
            ticker.stop()  # its thread loops until told: the app's exit waits for that thread
        if self.desk.monitor is not None:
            await self.desk.monitor.aclose()
        await self.desk.aclose()  # the poster of replies, statements and deletes
        await asyncio.to_thread(self.close_search_index)
        if self.demo_server is not None:
            self.demo_server.stop()


class _Batch:
    """A big ``@work`` argument: a worker's name is its arguments' repr (600 ms for 10k items)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"<{len(self.value)} items>"
