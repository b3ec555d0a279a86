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
import gc
from datetime import datetime
from pathlib import Path
from time import monotonic
from typing import Any, Callable

from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.message import Message
from textual.widgets import Footer, Tab, Tabs

from ..config import Config
from ..core.desk import LOAD_OLDER_STEP, PRIORITY, Change, Desk, Filters, Record
from ..core.models import Item, Severity, utcnow
from ..core.monitor import RoundResult
from ..core.safetext import one_line
from . import render, views
from .commands import WatchtowerCommands
from .messages import LogChanged, Polled
from .textual_compat import write_to_terminal
from .widgets.alerts import AlertShelf
from .widgets.header import StatusHeader
from .widgets.pane import ItemList, ItemPane

WIDE_MIN_WIDTH = 150
WIDE_MIN_HEIGHT = 36
#: In the wide layout every platform pane must show at least this many rows.
WIDE_MIN_ROWS = 3
LOG_POLL_SECONDS = 2.0
TICK_SECONDS = 15.0
#: Rows a pane lists at first; ``o`` shows this many more.
PANE_WINDOW = 1000
#: Changes above this many are put in order by a worker, a slice at a time.
SYNC_IN_SLICES_ABOVE = 512
SYNC_SLICE = 256
#: Batches at least this big have their alerts worked out in a thread.
ALERT_THREAD_ABOVE = 100


class ViewsStale(Message):
    """The desk changed: draw the views (posted to the App, coalesced)."""


class WatchtowerApp(App[None]):
    """The on-call monitor."""

    TITLE = "watchtower"
    CSS_PATH = "watchtower.tcss"
    COMMANDS = App.COMMANDS | {WatchtowerCommands}

    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="quit", tooltip="Quit watchtower", priority=True),
        Binding("question_mark", "help", "Help", id="help", tooltip="Every key, explained"),
        Binding("enter", "respond", "Respond", id="respond", tooltip="Open the response panel for the highlighted item"),
        Binding("c", "claim", "Claim", id="claim", tooltip="Claim the highlighted item (or unclaim it)"),
        Binding("h", "handover", "Handover", id="handover", tooltip="Open the shift handover screen"),
        Binding("f", "followups", "Follow-ups", id="followups", tooltip="Follow-ups due and overdue"),
        Binding("l", "log", "Log", id="log", tooltip="The handover log, filterable"),
        Binding("x", "crisis", "Crisis", id="crisis", tooltip="Declare or manage a crisis"),
        Binding("s", "cycle_severity", "Min sev", id="min_severity", tooltip="Filter panes by minimum severity"),
        Binding("u", "toggle_uncovered", "Uncovered", id="uncovered", show=False, tooltip="Show only items that arrived uncovered"),
        Binding("m", "mark_seen", "Seen", id="seen", show=False, tooltip="Mark the highlighted item as seen"),
        Binding("n", "note", "Note", id="note", show=False, tooltip="Add a note to the handover log"),
        Binding("o", "older", "More rows", id="older", show=False, tooltip="Show more rows of this pane, then older items from the archive"),
        Binding("r", "refresh_now", "Poll now", id="poll_now", show=False, tooltip="Poll every source now"),
        Binding("right_square_bracket", "next_tab", "Next pane", id="next_pane", show=False, tooltip="The next pane"),
        Binding("left_square_bracket", "prev_tab", "Prev pane", id="prev_pane", show=False, tooltip="The previous pane"),
    ] + [
        Binding(str(i), f"goto_tab({i - 1})", f"Pane {i}", id=f"pane_{i}", show=False) for i in range(1, 10)
    ]

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
        self.wide = False
        self.active_tab = 0
        self.windows: dict[str, int] = {}
        self.problems: list[str] = []
        self.alert_log: list[Any] = []
        self._stale_posted = False
        self._draw_all = True
        self._changes = Change()
        self._log_version: Any = None
        self._pruning = False
        self.set_keymap(dict(config.ui.keymap))

    # -- what screens and tests read ----------------------------------------------------
    @property
    def items(self) -> dict[str, Item]:
        return self.desk.items

    @property
    def item_states(self) -> dict[str, Any]:
        return self.desk.states

    @property
    def log_entries(self) -> list[Any]:
        return self.desk.log_entries

    @property
    def crisis_state(self) -> Any:
        return self.desk.crisis

    @property
    def monitor(self) -> Any:
        return self.desk.monitor

    @property
    def handover_log(self) -> Any:
        return self.desk.log

    @property
    def min_severity(self) -> Severity:
        return self.filters.min_severity

    @property
    def uncovered_only(self) -> bool:
        return self.filters.uncovered_only

    @property
    def views_settled(self) -> bool:
        """Nothing waits to be drawn."""
        return not self._stale_posted and not self.desk.pending() and not self.desk.index.dirty

    def row_state(self, item: Item) -> Any:
        return self.desk.row_state(item)

    def needs_human(self, item: Item) -> bool:
        return self.desk.needs_human(item)

    def priority_items(self) -> list[Item]:
        return self.desk.priority_items(self.filters)

    # -- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield StatusHeader()
        tabs = Tabs(*[Tab(Text(name), id=f"tab-{i}") for i, name in enumerate([PRIORITY, *self.platforms])], id="pane-tabs")
        tabs.can_focus = False  # the panes have the keys; 1-9 and [ ] switch tabs
        yield tabs
        with Container(id="panes"):
            yield ItemPane(PRIORITY, priority=True, pane_id="pane-0")
            for i, platform in enumerate(self.platforms, start=1):
                yield ItemPane(platform, pane_id=f"pane-{i}")
        yield AlertShelf()
        yield Footer()

    @property
    def panes(self) -> list[ItemPane]:
        screen = self.main_screen
        return list(screen.query(ItemPane)) if screen is not None else []

    @property
    def main_screen(self) -> Any:
        """The screen with the panes (under any other); ``None`` while shutting down."""
        stack = self.screen_stack
        return stack[0] if stack else None

    def on_mount(self) -> None:
        if self.config.ui.theme in self.available_themes:
            self.theme = self.config.ui.theme
        else:
            self.problems.append(f"unknown theme '{one_line(self.config.ui.theme, limit=40)}' in [ui] theme; using the default")
        self.sub_title = one_line(self.config.organisation.name, limit=80)
        self.apply_layout(self.size.width, self.size.height)
        self._open_stores()
        self.set_interval(TICK_SECONDS, self._tick)
        self.refresh_views()

    def on_ready(self) -> None:
        gc.enable()  # paused for start-up by cli.pause_gc_for_startup

    def on_resize(self, event: events.Resize) -> None:
        self.apply_layout(event.size.width, event.size.height)

    def layout_for(self, width: int, height: int) -> tuple[bool, int, int]:
        """(wide, columns, platform grid rows) for a terminal of that size."""
        n = len(self.platforms)
        if width < WIDE_MIN_WIDTH or height < WIDE_MIN_HEIGHT or not n:
            return False, 1, 0
        for cols in ((4, 3) if width >= 220 else (3, 4) if width >= 200 else (3,)):
            rows = -(-n // cols)
            unit = (height - 3 - 1) / (2 + rows)  # header 3, footer 1; Priority 2fr
            if int(unit) - 2 - 2 >= WIDE_MIN_ROWS:  # border, title and health lines
                return True, cols, rows
        return False, 1, 0

    def apply_layout(self, width: int, height: int) -> None:
        wide, cols, rows = self.layout_for(width, height)
        self.wide = wide
        box = self.main_screen.query_one("#panes")
        box.set_class(wide, "-wide")
        panes = self.panes
        if wide:
            box.styles.grid_size_columns = cols
            box.styles.grid_rows = " ".join(["2fr"] + ["1fr"] * rows)
            panes[0].styles.column_span = cols
        self.main_screen.query_one(Tabs).display = not wide
        for i, pane in enumerate(panes):
            pane.display = wide or i == self.active_tab
        focused = self.main_screen.focused
        if focused is None or not focused.display or not all(a.display for a in focused.ancestors if hasattr(a, "display")):
            panes[self.active_tab].list.focus()
        self.refresh(layout=True)

    @on(Tabs.TabActivated)
    def _tab_activated(self, event: Tabs.TabActivated) -> None:
        if event.tab is None or event.tab.id is None:
            return
        self.active_tab = int(event.tab.id.removeprefix("tab-"))
        self.apply_layout(self.size.width, self.size.height)
        self.panes[self.active_tab].list.focus()

    def action_goto_tab(self, index: int) -> None:
        if index < len(self.panes):
            self.active_tab = index
            self.main_screen.query_one(Tabs).active = f"tab-{index}"
            self.apply_layout(self.size.width, self.size.height)
            self.panes[index].list.focus()

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
        for p in self.problems + opened.problems:
            self.report_problem(p)
        if opened.log is not None:
            self.set_interval(LOG_POLL_SECONDS, self._reload_log)
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
            for rr in await self.desk.monitor.poll_all():
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
        # Bell / OSC 777 bytes from watchtower.core.termnotify, stripped of everything else.
        write_to_terminal(self, alerter.terminal_output(alert))
        if alerter.push is not None:
            self._push(alert)

    @work(thread=True, group="push", exit_on_error=False)
    def _push(self, alert: Any) -> None:
        result = self.desk.alerter.push.send(alert)
        if not getattr(result, "ok", True):
            self.call_from_thread(self.report_problem, f"push alert failed: {one_line(getattr(result, 'error', ''), limit=200)}")

    async def on_event(self, event: events.Event) -> None:
        if (isinstance(event, (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp))
                and not event.is_forwarded and self.main_screen is not None):
            shelf = self.main_screen.query_one(AlertShelf)
            leave = shelf.operator_is_back(monotonic())
            if leave is not None:
                self.set_timer(leave - monotonic() + 0.05, lambda: shelf.expire(monotonic(), self.tz))
        await super().on_event(event)

    # -- periodic -------------------------------------------------------------------------
    def _tick(self) -> None:
        """Held alerts, stale sources, follow-ups coming due, ages and the clock."""
        self._deliver_all(self.desk.tick())
        self._draw_all = True
        self._post_stale()

    # -- drawing --------------------------------------------------------------------------
    def _desk_changed(self, change: Change) -> None:
        c = self._changes
        self._changes = Change(c.panes | change.panes, c.log or change.log, c.items or change.items, True)
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
        panes = self.panes
        if len(panes) != len(self.platforms) + 1 or not panes[0].is_attached:
            return
        dirty = desk.take_dirty()
        draw_all, self._draw_all = self._draw_all, False
        change, self._changes = self._changes, Change()
        now = self.clock()
        f = self.filters
        header = desk.header(f)
        self.main_screen.query_one(StatusHeader).show(header, self.tz)
        spikes = self._spikes(now)
        labels = []
        for i, pane in enumerate(panes):
            key = PRIORITY if i == 0 else self.platforms[i - 1]
            tally = desk.tally(key, f)
            if draw_all or key in dirty or key in change.panes:
                limit = self.windows.get(key, PANE_WINDOW)
                rows = desk.window(key, f, limit=limit + 1)
                filtered = f != Filters()
                matching = tally.total if (filtered or i == 0) else desk.held(key)
                note = views.end_note(min(len(rows), limit), matching, desk.held(key), filtered=filtered,
                                      archive=i > 0 and desk.archive is not None,
                                      exhausted=key in desk.archive_exhausted)
                pane.show_items(rows[:limit], now=now, state_of=desk.index.state_of, end_note=note)
            if i == 0:
                pane.set_title(views.priority_title(tally, [p for p, (_s, sp) in spikes.items() if sp], f))
                pane.set_class(any(sp for _s, sp in spikes.values()), "-spike")
                pane.set_health(views.priority_health(tally))
            else:
                spark, spike = spikes.get(key, ("", False))
                pane.set_title(views.pane_title(key, tally, spark, spike, f))
                pane.set_class(spike, "-spike")
                pane.set_health(views.platform_health(desk.platform_health(key), self.tz), failing=desk.platform_failing(key))
            labels.append(views.tab_label(pane.pane_name, tally, i > 0 and spikes.get(key, ("", False))[1]))
        self._relabel_tabs(labels)
        for screen in self.screen_stack[1:]:
            if change.log and hasattr(screen, "log_changed"):
                screen.log_changed()
            if (change.items or change.panes) and hasattr(screen, "items_changed"):
                screen.items_changed()
        if desk.prune_due() and not self._pruning:
            self._pruning = True
            self._plan_prune(_Batch(list(desk.items.values())), _Batch(dict(desk.states)))

    def _spikes(self, now: datetime) -> dict[str, tuple[str, bool]]:
        triager = getattr(self.desk.monitor, "triager", None)
        out: dict[str, tuple[str, bool]] = {}
        for p in self.platforms:
            try:
                spark = render.sparkline(list(triager.volume(p, now, buckets=12))) if triager else ""
                spike = bool(triager.spike_status(p, now).active) if triager else False
            except Exception:  # noqa: BLE001
                spark, spike = "", False
            out[p] = (spark, spike)
        return out

    def _relabel_tabs(self, labels: list[Text]) -> None:
        tabs = self.main_screen.query_one(Tabs)
        if not tabs.display:
            return  # hidden in the wide layout: a label changing width costs a layout pass
        for i, label in enumerate(labels):
            tab = tabs.query(f"#tab-{i}").first(Tab)
            if tab.label.plain != label.plain:
                tab.label = label

    @work(thread=True, exclusive=True, group="prune", exit_on_error=False)
    def _plan_prune(self, held: _Batch, states: _Batch) -> None:
        """Which items to drop is worked out here (it sorts everything held)."""
        try:
            plan = self.desk.prune_plan(held.value, states.value)
        finally:
            self.call_from_thread(self._pruned, plan if "plan" in locals() else [])

    def _pruned(self, plan: list[Item]) -> None:
        self._pruning = False
        self.desk.drop(plan)

    # -- actions --------------------------------------------------------------------------
    def current_pane(self) -> ItemPane:
        node = self.main_screen.focused
        while node is not None:
            if isinstance(node, ItemPane):
                return node
            node = node.parent
        return self.panes[self.active_tab]

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
        from .screens.response import ResponseScreen

        seen = self.desk.seen(item)
        if seen is not None:
            self.run_command(seen)
        self.push_screen(ResponseScreen(item))

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

    def action_handover(self) -> None:
        from .screens.handover import HandoverScreen

        self.push_screen(HandoverScreen())

    def action_followups(self) -> None:
        from .screens.followups import FollowupsScreen

        self.push_screen(FollowupsScreen())

    def action_log(self) -> None:
        from .screens.logview import LogScreen

        self.push_screen(LogScreen())

    def action_crisis(self) -> None:
        from .screens.crisis import CrisisScreen

        self.push_screen(CrisisScreen())

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def action_cycle_severity(self) -> None:
        order = list(Severity)
        sev = order[(order.index(self.filters.min_severity) + 1) % len(order)]
        self.filters = Filters(sev, self.filters.uncovered_only)
        self.notify(f"Showing {sev.label} and above.", markup=False, timeout=3)
        self._draw_all = True
        self._post_stale()

    def action_toggle_uncovered(self) -> None:
        self.filters = Filters(self.filters.min_severity, not self.filters.uncovered_only)
        self.notify("Only items that arrived uncovered." if self.filters.uncovered_only else "All items.", markup=False, timeout=3)
        self._draw_all = True
        self._post_stale()

    def action_older(self) -> None:
        """More rows of the current pane; once all it holds show, older ones from the archive."""
        pane = self.current_pane()
        key = pane.pane_name if not pane.priority else PRIORITY
        limit = self.windows.get(key, PANE_WINDOW)
        if self.desk.tally(key, self.filters).total > limit or (pane.priority and self.desk.held(key) > limit):
            self.windows[key] = limit + PANE_WINDOW
            self._draw_all = True
            self._post_stale()
        elif not pane.priority and key not in self.desk.archive_exhausted:
            self._load_older(key)

    @work(thread=True, group="older", exit_on_error=False)
    def _load_older(self, platform: str) -> None:
        items = self.desk.load_older(platform, LOAD_OLDER_STEP)
        self.call_from_thread(self._older_loaded, platform, items)

    def _older_loaded(self, platform: str, items: list[Item]) -> None:
        self.windows[platform] = self.windows.get(platform, PANE_WINDOW) + len(items)
        self.desk.hold_older(platform, items, LOAD_OLDER_STEP)
        self.notify(f"{len(items):,} older items from the archive." if items else "Nothing older in the archive.",
                    markup=False, timeout=3)

    def action_refresh_now(self) -> None:
        self.run_worker(self.poll_everything_once(), group="poll-now", exclusive=True, exit_on_error=False)

    async def on_unmount(self) -> None:
        if self.desk.monitor is not None:
            await self.desk.monitor.aclose()
        if self.demo_server is not None:
            self.demo_server.stop()


class _Batch:
    """A big argument for a ``@work`` method: Textual names each worker after the
    ``repr`` of its arguments, and the repr of 10,000 items held the loop for 600 ms."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"<{len(self.value)} items>"
