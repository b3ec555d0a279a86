"""The watchtower App: one live pane per platform, a Priority pane, and the screens.

Layering: this module calls the core (``watchtower.core``) and owns the UI state.  IO
never runs on the message loop: polling runs in one async worker per source (httpx; the
connectors parse in threads), and every sqlite/TinyDB call runs in a thread worker.
Workers are started on the App, not on a pane, so they live as long as the app does,
and they use ``exit_on_error=False`` so a failing source is a status, never a crash.
"""

from __future__ import annotations

import asyncio
import os
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.widgets import Footer, Tab, Tabs
from textual.worker import Worker, WorkerState

from ..config import Config
from ..core.models import Item, Severity, utcnow
from ..core.monitor import Monitor, RoundResult
from ..core.safetext import one_line
from . import render
from .messages import LogChanged, Polled
from .widgets.header import StatusHeader
from .widgets.pane import FRAME, MAX_ROWS, ItemPane, ItemTable, RowState
from .itemindex import PRIORITY as _PRIO, ItemIndex, ItemMap, Tally
from time import monotonic, perf_counter, time as wall_time
from typing import Iterator
import gc
import threading
from textual import events
from functools import partial

PRIORITY = "Priority"
WIDE_MIN_WIDTH = 150
WIDE_MIN_HEIGHT = 36
LOG_POLL_SECONDS = 2.0
#: Items held in memory for the panes; older ones stay in the archive.
MAX_ITEMS_IN_MEMORY = 5000
#: Prune again only after this many more items arrived (pruning sorts everything held).
PRUNE_SLACK = 1000
#: Batches at least this big are checked for alerts in a thread, not on the loop.
ALERT_THREAD_ABOVE = 500
#: This many alerting items (or more) are handed to the alerter in a thread.
ALERT_EVALUATE_THREAD_ABOVE = 100
TICK_SECONDS = 15.0
#: Longest slice of refresh work done in one go on the UI loop (seconds); a frame is 16 ms.
REFRESH_SLICE = 0.004
#: Cyclic garbage collection.  A full collection scans every object the process holds
#: (items, rows, Textual's caches): with 10,000 items it held the loop for 100-200 ms at
#: whatever moment an allocation tripped it.  So full collections are rare (after this
#: many young-generation collections instead of 10), what is long-lived is frozen (moved
#: out of the collector's sight, O(1)) after start-up and after every big batch, and once
#: an hour everything is unfrozen and collected, so cyclic garbage cannot pile up.
GC_FULL_AFTER = 100
GC_FREEZE_AFTER_ITEMS = 1000
GC_FULL_SECONDS = 3600.0
#: An alert's toast stays until the operator has pressed a key or used the mouse since
#: it appeared (an alert that fades while nobody is at the desk is an alert missed),
#: then leaves this many seconds later.  At most ALERT_TOASTS_HELD wait; a newer alert
#: replaces the oldest (the Priority pane holds them all anyway).
ALERT_TOAST_SECONDS = 20.0
ALERT_TOASTS_HELD = 3
#: The timeout an alert's toast is raised with: "until the operator is back".
_HELD_TOAST = 7 * 86400.0


def _pane_id(index: int) -> str:
    return f"pane-{index}"


class WatchtowerApp(App[None]):
    """The on-call monitor."""

    TITLE = "watchtower"
    CSS_PATH = "watchtower.tcss"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="quit", tooltip="Quit watchtower", priority=True),
        Binding("question_mark", "help", "Help", id="help", tooltip="Every key, explained"),
        Binding("enter", "respond", "Respond", id="respond", show=False),
        Binding("c", "claim", "Claim", id="claim", tooltip="Claim the highlighted item (or unclaim it)"),
        Binding("h", "handover", "Handover", id="handover", tooltip="Open the shift handover screen"),
        Binding("f", "followups", "Follow-ups", id="followups", tooltip="Follow-ups due and overdue"),
        Binding("l", "log", "Log", id="log", show=False, tooltip="The handover log, filterable"),
        Binding("x", "crisis", "Crisis", id="crisis", tooltip="Declare or manage a crisis"),
        Binding("s", "cycle_severity", "Min sev", id="min_severity", show=False, tooltip="Filter panes by minimum severity"),
        Binding("u", "toggle_uncovered", "Uncovered", id="uncovered", show=False, tooltip="Show only items that arrived uncovered"),
        Binding("m", "mark_seen", "Seen", id="seen", show=False, tooltip="Mark the highlighted item as seen"),
        Binding("n", "note", "Note", id="note", show=False, tooltip="Add a note to the handover log"),
        Binding("r", "refresh_now", "Poll now", id="poll_now", show=False, tooltip="Poll every source now"),
        Binding("right_square_bracket", "next_tab", "Next pane", id="next_pane", show=False),
        Binding("left_square_bracket", "prev_tab", "Prev pane", id="prev_pane", show=False),
    ] + [
        Binding(str(i), f"goto_tab({i - 1})", f"Pane {i}", id=f"pane_{i}", show=False) for i in range(1, 10)
    ]

    def __init__(
        self,
        config: Config,
        *,
        data_dir: Path | None,
        operator: str,
        demo_server: Any = None,
        clock: Callable[[], datetime] = utcnow,
        start_polling: bool = True,
        env: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        # No animations: nothing should move unless something changed, and every frame
        # of a sliding tab underline is bytes over a slow SSH link.
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
        # What the panes show, kept in order as items and decisions change.
        self._index = ItemIndex(
            self.platforms, row_state=self.row_state, needs_human=self.needs_human, timed=self._state_is_timed
        )
        self._items = ItemMap()
        self._refresh_job: Iterator[str | None] | None = None
        self._refresh_chain = 0
        self._refresh_all = True
        self._prune_at = MAX_ITEMS_IN_MEMORY
        self._pruning = False
        self._acknowledged: set[str] = set()
        self._gc_saved: tuple[int, int, int] | None = None
        self._panes: list[ItemPane] = []
        self._labels: list[Text] = []
        #: Per platform: (sparkline, spike), recomputed when the platform's pane changed
        #: or on the tick (both read the triager's counts).
        self._volume: dict[str, tuple[str, bool]] = {}
        #: The alerter is not thread-safe; big batches are evaluated in a thread, so every
        #: call that changes its state holds this.
        self._alerter_lock = threading.Lock()
        self._gc_full_at = 0.0
        self.log_entries: list = []
        self.item_states: dict[str, Any] = {}
        self.crisis_state: Any = None
        self.min_severity = Severity.INFO
        self.uncovered_only = False
        self.wide = False
        self.active_tab = 0
        self.health: dict[str, Text] = {}
        self.monitor: Monitor | None = None
        self.handover_log: Any = None
        self.alerter: Any = None
        self.problems: list[str] = []
        self.alert_log: list = []
        self._refresh_pending = False
        self._log_version: Any = None
        self.set_keymap(dict(config.ui.keymap))

    @property
    def items(self) -> ItemMap:
        """Every item held in memory, by id (the archive holds the rest)."""
        return self._items

    @items.setter
    def items(self, value: dict[str, Item]) -> None:
        self._items = value if isinstance(value, ItemMap) else ItemMap(value)
        self._index.reset(self._items)
        self.schedule_refresh()

    # -- layout ---------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield StatusHeader()
        yield Tabs(*self._tab_labels(), id="pane-tabs")
        with Container(id="panes"):
            yield ItemPane(PRIORITY, priority=True, pane_id=_pane_id(0))
            for i, platform in enumerate(self.platforms, start=1):
                yield ItemPane(platform, pane_id=_pane_id(i))
        yield Footer()

    def _tab_labels(self) -> list[Tab]:
        return [_PaneTab(Text(name), id=f"tab-{i}") for i, name in enumerate([PRIORITY, *self.platforms])]

    @property
    def panes(self) -> list[ItemPane]:
        # Found once (a DOM query per refresh was half its cost) and on the main screen,
        # so the panes stay current while a modal screen is on top.
        cached = self._panes
        if cached and cached[0].is_attached:
            return cached
        found = list(self.query(ItemPane))
        if len(found) == len(self.platforms) + 1:
            self._panes = found
        return found

    def on_mount(self) -> None:
        if self.config.ui.theme in self.available_themes:
            self.theme = self.config.ui.theme
        else:
            self.problems.append(f"unknown theme '{one_line(self.config.ui.theme, limit=40)}' in [ui] theme; using the default")
        self.sub_title = one_line(self.config.organisation.name, limit=80)
        self._apply_layout()
        self._open_stores()
        self.set_interval(TICK_SECONDS, self._tick)
        self._update_header()

    def on_ready(self) -> None:
        # The first frame is up: the collector paused for start-up (cli.pause_gc_for_startup)
        # runs again; _gc_start tunes it once the stores are open.
        gc.enable()

    def on_resize(self) -> None:
        self._apply_layout()

    def _apply_layout(self) -> None:
        wide = self.size.width >= WIDE_MIN_WIDTH and self.size.height >= WIDE_MIN_HEIGHT
        self.wide = wide
        panes_box = self.query_one("#panes")
        panes_box.set_class(wide, "-wide")
        if wide:
            # Priority takes the whole top row (and more height); platforms share the rest.
            cols = 4 if self.size.width >= 220 else 3
            rows = max(1, -(-len(self.platforms) // cols))
            panes_box.styles.grid_size_columns = cols
            panes_box.styles.grid_rows = " ".join(["2fr"] + ["1fr"] * rows)
            self.panes[0].styles.column_span = cols
        tabs = self.query_one(Tabs)
        tabs.display = not wide
        if not wide:
            self._relabel_tabs()
        for i, pane in enumerate(self.panes):
            pane.display = wide or i == self.active_tab

    @on(Tabs.TabActivated)
    def _tab_activated(self, event: Tabs.TabActivated) -> None:
        if event.tab is None or event.tab.id is None:
            return
        self.active_tab = int(event.tab.id.removeprefix("tab-"))
        self._apply_layout()
        pane = self.panes[self.active_tab]
        if not self.wide:
            pane.table.focus()

    def action_goto_tab(self, index: int) -> None:
        if index < len(self.panes):
            self.query_one(Tabs).active = f"tab-{index}"
            self.panes[index].table.focus()

    def action_next_tab(self) -> None:
        self.action_goto_tab((self.active_tab + 1) % len(self.panes))

    def action_prev_tab(self) -> None:
        self.action_goto_tab((self.active_tab - 1) % len(self.panes))

    # -- stores and workers ---------------------------------------------------------
    @work(thread=True, exclusive=True, group="open-stores", exit_on_error=False)
    def _open_stores(self) -> None:
        """Open the archive and the log off the loop, then start polling."""
        from ..core.alerts import Alerter

        problems: list[str] = []
        archive = log = None
        if self.data_dir is not None:
            from ..core.archive import Archive
            from ..core.log import HandoverLog

            try:
                archive = Archive(
                    self.data_dir,
                    retention_days=self.config.data.retention_days,
                    group_shared=self.config.data.group_shared,
                )
            except Exception as exc:  # noqa: BLE001 - shown to the operator, never a crash
                problems.append(f"item archive: {one_line(exc, limit=300)}")
            try:
                log = HandoverLog(self.data_dir, group_shared=self.config.data.group_shared, clock=self.clock)
                problems.extend(one_line(p, limit=300) for p in getattr(log, "problems", []) or [])
            except Exception as exc:  # noqa: BLE001
                problems.append(f"handover log: {one_line(exc, limit=300)}")
        monitor = Monitor(self.config, archive=archive, env=self.env, clock=self.clock)
        recent: list[Item] = []
        if archive is not None:
            try:
                recent = archive.recent(limit=5000)
            except Exception as exc:  # noqa: BLE001
                problems.append(f"item archive: {one_line(exc, limit=300)}")
        entries = self._read_log(log)
        import logging

        # Apprise logs through the logging module; a stderr handler would draw over the TUI.
        logging.getLogger("apprise").setLevel(logging.CRITICAL + 1)
        alerter = Alerter(self.config.alerts) if self.env is None else Alerter(self.config.alerts, env=self.env)
        problems.extend(f"alerts: {one_line(p, limit=300)}" for p in alerter.problems)
        self.call_from_thread(self._stores_ready, monitor, log, alerter, recent, entries, problems)

    def _read_log(self, log: Any) -> list:
        if log is None:
            return []
        try:
            from ..core.decisions import working_entries

            # Two weeks of history, plus whatever is still open from before them.
            return working_entries(log, self.clock(), days=14)
        except Exception as exc:  # noqa: BLE001
            self.call_from_thread(self.report_problem, f"handover log: {one_line(exc, limit=300)}")
            return []

    def _stores_ready(self, monitor: Monitor, log: Any, alerter: Any, recent: list[Item], entries: list, problems: list[str]) -> None:
        self.monitor = monitor
        self.handover_log = log
        self.alerter = alerter
        for item in recent:
            self.items[item.id] = item
        self._gc_start()
        self._start_threads()
        for p in self.problems + problems:
            self.report_problem(p)
        self._apply_log(entries)
        if log is not None:
            self.set_interval(LOG_POLL_SECONDS, self._check_log)
        if self.start_polling:
            for source in monitor.sources:
                self.run_worker(
                    self._poll_loop(source.name),
                    name=f"poll {source.name}",
                    group=f"poll:{source.name}",
                    exclusive=True,
                    exit_on_error=False,
                )
        self.schedule_refresh()

    async def _poll_loop(self, name: str) -> None:
        """Poll one source forever; the next poll is armed only after this one ends."""
        assert self.monitor is not None
        while True:
            try:
                result = await self.monitor.poll(name)
            except Exception as exc:  # noqa: BLE001 - the pipeline failing is a status too
                from ..core.sources import PollResult

                src = self.monitor.source(name)
                result = RoundResult(PollResult(name, src.platform, [], ok=False, error=f"internal error: {one_line(exc, limit=200)}"))
            self.post_message(Polled(result, alertable=await self._alertable(result.new)))
            await asyncio.sleep(max(1.0, self.monitor.poller.next_delay(name)))

    async def _alertable(self, items: list[Item]) -> list[Item] | None:
        """The items of a big batch that are bad enough to alert, sorted out a slice at a
        time between other tasks (10,000 at once took the loop 12 ms; a thread for it
        took longer to start than that); ``None`` for small batches."""
        alerter = self.alerter
        if alerter is None or len(items) < ALERT_THREAD_ABOVE:
            return None
        crisis = bool(getattr(self.crisis_state, "active", False))
        out: list[Item] = []
        for start in range(0, len(items), 1000):
            out.extend(i for i in items[start : start + 1000] if alerter.qualifies(i, crisis=crisis))
            await asyncio.sleep(0)
        return out

    async def poll_everything_once(self) -> None:
        """One round over every source (used by ``r`` and by tests)."""
        if self.monitor is None:
            return
        for rr in await self.monitor.poll_all():
            self.post_message(Polled(rr, alertable=await self._alertable(rr.new)))

    def on_polled(self, message: Polled) -> None:
        rr = message.result
        if len(rr.new) >= GC_FREEZE_AFTER_ITEMS and self._gc_saved is not None:
            gc.freeze()  # the batch will be held: young collections need not scan it
        self.items.put_many(rr.new)
        self._update_health(rr.poll.source)
        if rr.poll.ok and self.alerter is not None:
            with self._alerter_lock:
                self.alerter.source_recovered(rr.poll.source)
        if rr.new:
            if message.alertable is not None:
                self._alert(message.alertable, prefiltered=True)
            elif len(rr.new) >= ALERT_THREAD_ABOVE and self.alerter is not None:
                self._alert_big_batch(_Batch(list(rr.new)))
            else:
                self._alert(rr.new)
        self.schedule_refresh()

    @work(thread=True, group="alert-filter", exit_on_error=False)
    def _alert_big_batch(self, batch: _Batch) -> None:
        alerter = self.alerter
        if alerter is None:
            return
        crisis = bool(getattr(self.crisis_state, "active", False))
        alertable = [i for i in batch.value if alerter.qualifies(i, crisis=crisis)]
        self._evaluate(alertable, crisis)

    def _evaluate(self, items: list[Item], crisis: bool) -> None:
        """In a thread: the alerter's decisions on a big batch; the alerts go out on the loop."""
        with self._alerter_lock:
            alerts = self.alerter.evaluate(items, crisis=crisis) if self.alerter is not None else []
        if alerts:
            self.call_from_thread(self._deliver_all, alerts)

    def _deliver_all(self, alerts: list[Any]) -> None:
        for alert in alerts:
            self.deliver_alert(alert)

    def _prune_items(self) -> None:
        """Keep the newest items in memory; the archive (sqlite) keeps the rest.

        Items that still need a human stay whatever their age, so pruning can never hide
        an open incident.  Which items to drop is worked out in a thread (it sorts
        everything held); only dropping them happens on the loop.
        """
        if self._pruning:
            return
        self._pruning = True
        self._prune_worker(_Batch(list(self.items.items())), _Batch(self.item_states))

    @work(thread=True, exclusive=True, group="prune", exit_on_error=False)
    def _prune_worker(self, batch: _Batch, decisions: _Batch) -> None:
        held: list[tuple[str, Item]] = batch.value
        states: dict[str, Any] = decisions.value
        try:
            keep_open = {i for i, item in held if not _handled(states.get(i)) and _needs_attention(item)}
            by_age = sorted(held, key=lambda kv: kv[1].published, reverse=True)
            keep = {i for i, _ in by_age[:MAX_ITEMS_IN_MEMORY]} | keep_open
            drop = [(i, item) for i, item in held if i not in keep]
        except Exception:
            self.call_from_thread(self._pruned, [])
            raise
        self.call_from_thread(self._pruned, drop)

    def _pruned(self, drop: list[tuple[str, Item]], start: int = 0) -> None:
        """Drop what the worker picked, 2,000 at a time between other tasks."""
        items = self.items
        end = min(len(drop), start + 2000)
        for item_id, item in drop[start:end]:
            # Only what was judged: an item updated (or reopened) since stays.
            if items.get(item_id) is item and not self.needs_human(item):
                del items[item_id]
        if end < len(drop):
            asyncio.get_running_loop().call_soon(self.call_later, self._pruned, drop, end)
            return
        self._pruning = False
        self._prune_at = max(MAX_ITEMS_IN_MEMORY, len(items)) + PRUNE_SLACK
        self.schedule_refresh()

    # -- the log ----------------------------------------------------------------------
    def _check_log(self) -> None:
        self._reload_log_if_changed()

    @work(thread=True, exclusive=True, group="log-read", exit_on_error=False)
    def _reload_log_if_changed(self, force: bool = False) -> None:
        log = self.handover_log
        if log is None:
            return
        try:
            version = log.version()
        except Exception as exc:  # noqa: BLE001
            self.call_from_thread(self.report_problem, f"handover log: {one_line(exc, limit=300)}")
            return
        if version == self._log_version and not force:
            return
        self._log_version = version
        entries = self._read_log(log)
        self.post_message(LogChanged(entries))

    def on_log_changed(self, message: LogChanged) -> None:
        self._apply_log(message.entries)

    def _apply_log(self, entries: list) -> None:
        from ..core.decisions import crisis_state, item_states

        self.log_entries = entries
        old_states, self.item_states = self.item_states, item_states(entries)
        # Only the items whose decisions changed get a new row state.
        self._index.touch(
            i for i in old_states.keys() | self.item_states.keys() if old_states.get(i) != self.item_states.get(i)
        )
        self.crisis_state = crisis_state(entries)
        active = bool(getattr(self.crisis_state, "active", False))
        if self.monitor is not None:
            self.monitor.crisis = active
        acknowledged = self.acknowledged_ids()
        if self.alerter is not None:
            # The alerter remembers them: hand over only the new ones.
            with self._alerter_lock:
                for item_id in acknowledged - self._acknowledged:
                    self.alerter.ack(item_id)
            self._acknowledged = acknowledged
        self.schedule_refresh()
        for screen in self.screen_stack:
            if hasattr(screen, "log_changed"):
                screen.log_changed()

    def record(self, kind: str, text: str = "", *, item: Item | None = None, data: dict | None = None, done: Callable[[Any], None] | None = None) -> None:
        """Append a decision to the handover log (in a thread); errors are shown, never lost silently."""
        self._record(kind, text, item, data, done)

    @work(thread=True, group="log-write", exit_on_error=False)
    def _record(self, kind: str, text: str, item: Item | None, data: dict | None, done: Callable[[Any], None] | None) -> None:
        log = self.handover_log
        if log is None:
            self.call_from_thread(self.report_problem, "No data directory: this decision was not recorded.")
            return
        try:
            entry = log.append(kind, text, operator=self.operator, item=item, data=data or {})
        except Exception as exc:  # noqa: BLE001
            self.call_from_thread(self.report_problem, f"Could not record '{kind}': {one_line(exc, limit=300)}")
            return
        if done is not None:
            self.call_from_thread(done, entry)
        self._reload_log_if_changed(force=True)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Workers never end the app (exit_on_error=False); their failures are shown."""
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.report_problem(f"{event.worker.name or 'background task'} failed: {type(error).__name__}: {one_line(error, limit=300)}")

    def report_problem(self, text: str) -> None:
        self.notify(one_line(text, limit=500), title="Problem", severity="error", timeout=15, markup=False)

    # -- alerts -------------------------------------------------------------------------
    def _alert(self, new_items: list[Item], *, prefiltered: bool = False) -> None:
        """Alert on new items.  ``prefiltered``: only the items that qualify were passed
        (sorted out in a thread), which leaves the alerter the same decisions to make."""
        if self.alerter is None:
            return
        crisis = bool(getattr(self.crisis_state, "active", False))
        if not prefiltered:
            new_items = [i for i in new_items if self.alerter.qualifies(i, crisis=crisis)]
        if len(new_items) >= ALERT_EVALUATE_THREAD_ABOVE:
            self._evaluate_in_thread(_Batch(new_items), crisis)
            return
        # Acknowledged ids were handed to the alerter when the log changed (_apply_log).
        with self._alerter_lock:
            alerts = self.alerter.evaluate(new_items, crisis=crisis)
        self._deliver_all(alerts)

    @work(thread=True, group="alerts", exit_on_error=False)
    def _evaluate_in_thread(self, batch: _Batch, crisis: bool) -> None:
        self._evaluate(batch.value, crisis)

    def acknowledged_ids(self) -> set[str]:
        """Items someone has dealt with or taken on: their alerts stop repeating."""
        return {i for i, st in self.item_states.items() if _handled(st) or getattr(st, "claimed_by", None)}

    def deliver_alert(self, alert: Any) -> None:
        """Toast, bell/desktop notification (sanitised bytes from the core), push in a thread."""
        sev = "error" if getattr(alert, "severity", Severity.HIGH) >= Severity.HIGH else "warning"
        self.notify(one_line(alert.body, limit=400), title=one_line(alert.title, limit=120), severity=sev, timeout=self._alert_toast_timeout(), markup=False)
        self.alert_log.append(alert)
        if self.alerter is None:
            return
        out = self.alerter.terminal_output(alert)
        if out and self._driver is not None:
            # The driver is the only way to the terminal; the bytes come from
            # watchtower.core.termnotify, which strips everything but the framing.
            self._driver.write(out)
        if self.alerter.push is not None:
            self._push(alert)

    # -- alert toasts wait for the operator (see ALERT_TOAST_SECONDS) ------------------------
    def _alert_toast_timeout(self) -> float:
        if not hasattr(self, "_notifications") or not hasattr(self, "_unnotify"):
            return ALERT_TOAST_SECONDS  # Textual changed: plain timed toasts
        # Once the toasts raised now are in the collection (a Notify message away).
        self.set_timer(0.05, self._trim_held_toasts)
        return _HELD_TOAST

    def _held_toasts(self) -> list[Any]:
        notes = getattr(self, "_notifications", None)
        return [n for n in notes if n.timeout == _HELD_TOAST] if notes is not None else []

    def _trim_held_toasts(self) -> None:
        held = self._held_toasts()
        for note in held[: max(0, len(held) - ALERT_TOASTS_HELD)]:
            self._unnotify(note)

    def _operator_is_here(self) -> None:
        """The operator pressed a key or used the mouse: waiting alert toasts may go."""
        held = self._held_toasts()
        if not held:
            return
        now = wall_time()
        for note in held:
            note.timeout = now - note.raised_at + ALERT_TOAST_SECONDS
            self.set_timer(ALERT_TOAST_SECONDS, partial(self._unnotify, note))

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp)) and not event.is_forwarded:
            self._operator_is_here()
        await super().on_event(event)

    @work(thread=True, group="push", exit_on_error=False)
    def _push(self, alert: Any) -> None:
        result = self.alerter.push.send(alert)
        if not getattr(result, "ok", True):
            self.call_from_thread(self.report_problem, f"push alert failed: {one_line(getattr(result, 'error', ''), limit=200)}")

    # -- periodic -------------------------------------------------------------------------
    def _tick(self) -> None:
        if self.alerter is not None:
            with self._alerter_lock:
                alerts = self.alerter.flush()
            self._deliver_all(alerts)
        if self.monitor is not None:
            for source in self.monitor.sources:
                self._update_health(source.name)
        self._check_followups()
        self._gc_full()
        # Ages, follow-ups coming due, spikes and the clock: every pane, once.
        self._refresh_all = True
        self.schedule_refresh()

    def _start_threads(self, n: int = 4) -> None:
        """Start the default executor's threads now, while nothing else runs.

        Thread workers and ``asyncio.to_thread`` start a thread when none is idle, and
        ``Thread.start`` waits for the new thread to run, which takes as long as another
        thread holds the GIL: 30-40 ms of loop time when a big batch arrived."""
        barrier = threading.Barrier(n, timeout=0.5)  # never holds a thread for long

        def meet() -> None:
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                pass

        loop = asyncio.get_running_loop()
        for _ in range(n):
            loop.run_in_executor(None, meet)

    # -- garbage collection (see GC_FULL_AFTER) -------------------------------------------
    def _gc_start(self) -> None:
        if self._gc_saved is None:
            self._gc_saved = gc.get_threshold()
            young, middle, _ = self._gc_saved
            gc.set_threshold(young, middle, GC_FULL_AFTER)
        gc.freeze()
        self._gc_full_at = monotonic() + GC_FULL_SECONDS

    def _gc_full(self) -> None:
        """Once an hour (from the tick): collect everything, then freeze what is left."""
        if self._gc_saved is not None and monotonic() >= self._gc_full_at:
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            self._gc_full_at = monotonic() + GC_FULL_SECONDS

    def _gc_stop(self) -> None:
        if self._gc_saved is not None:
            gc.unfreeze()
            gc.set_threshold(*self._gc_saved)
            self._gc_saved = None

    def _check_followups(self) -> None:
        if self.alerter is None or not self.log_entries:
            return
        from ..core.decisions import followups

        now = self.clock()
        for fu in followups(self.log_entries, now):
            if fu.due <= now:
                with self._alerter_lock:
                    alert = self.alerter.overdue_followup(getattr(fu, "text", ""), fu.due, followup_id=str(fu.id))
                if alert is not None:
                    self.deliver_alert(alert)

    def _update_health(self, source_name: str) -> None:
        if self.monitor is None:
            return
        st = self.monitor.poller.states.get(source_name)
        if st is None:
            return
        now = self.clock()
        t = Text(no_wrap=True, end="")
        t.append(f"{one_line(source_name, limit=24)} ")
        stale = False
        try:
            stale = self.monitor.poller.is_stale(source_name, self.config.alerts.stale_after_intervals)
        except Exception:  # noqa: BLE001
            stale = False
        if st.last_error:
            t.append("✗ ", style="bold red")
            t.append(one_line(st.last_error, limit=120), style="red")
        elif st.last_success is not None:
            t.append("✓ ", style="green")
            t.append(f"ok {render.local_time(st.last_success, self.tz, '%H:%M:%S')}")
            t.append(f" · {st.last_count} new")
        else:
            t.append("… waiting for first poll", style="dim")
        if stale:
            t.append(" ⚠ STALE", style="bold reverse yellow")
            if self.alerter is not None:
                src = self.monitor.source(source_name)
                with self._alerter_lock:
                    alert = self.alerter.stale_source(source_name, src.platform, st.last_success)
                if alert is not None:
                    self.deliver_alert(alert)
        if st.next_poll_at is not None:
            # An absolute time, not a countdown: it changes only when a poll happens, so
            # an idle screen sends nothing to the terminal between polls.
            t.append(f" · next {render.local_time(st.next_poll_at, self.tz, '%H:%M:%S')}", style="dim")
        if st.rate_limit_remaining is not None:
            t.append(f" · rate {st.rate_limit_remaining} left", style="dim")
        self.health[source_name] = t

    # -- views -----------------------------------------------------------------------------
    def schedule_refresh(self) -> None:
        """Bring the views up to date as soon as the loop is free; changes that arrive
        meanwhile are folded into the same refresh."""
        if not self._refresh_pending:
            self._refresh_pending = True
            self._refresh_chain += 1
            self.call_later(self._refresh_views, REFRESH_SLICE, self._refresh_chain)

    def row_state(self, item: Item) -> RowState:
        st = self.item_states.get(item.id)
        if st is not None:
            if getattr(st, "followups", None):
                now = self.clock()
                if any(f.due <= now for f in st.followups):
                    return RowState("FOLLOW-UP!", "bold reverse yellow")
            if getattr(st, "replied", None):
                return RowState("replied", "green")
            if getattr(st, "ignored", False):
                return RowState("ignored", "dim")
            if getattr(st, "blocked", False):
                return RowState("blocked", "dim")
            if getattr(st, "escalated", False):
                return RowState("escalated", "bold red")
            if getattr(st, "claimed_by", None):
                who = one_line(st.claimed_by, limit=20)
                return RowState("mine" if who == self.operator else f"@{who}", "bold cyan")
            if getattr(st, "followups", None):
                return RowState("follow-up", "yellow")
            if getattr(st, "seen_by", None):
                return _SEEN
        return _NEW

    def needs_human(self, item: Item) -> bool:
        st = self.item_states.get(item.id)
        if st is not None and _handled(st):
            return False
        return _needs_attention(item)

    def _state_is_timed(self, item: Item) -> bool:
        """Whether the row state of ``item`` depends on the clock (an open follow-up)."""
        st = self.item_states.get(item.id)
        return bool(st is not None and getattr(st, "followups", None))

    def _visible(self, item: Item) -> bool:
        if item.severity < self.min_severity:
            return False
        if self.uncovered_only and item.coverage.covered:
            return False
        return True

    def priority_items(self) -> list[Item]:
        """Everything that needs a human and passes the filters, worst first."""
        self._index.sync(self.items)
        return self._index.window(_PRIO, min_severity=int(self.min_severity), uncovered_only=self.uncovered_only)

    def _views_dirty(self) -> bool:
        return bool(self._refresh_all or self._index.pending(self.items) or self._index.dirty)

    def _refresh_views(self, budget: float | None = None, chain: int | None = None) -> None:
        """Bring every view up to date.

        With a ``budget`` (seconds) it works in slices: after about that much work, or
        when rows were added that should be drawn first, it hands the loop back and
        continues on a later turn, so no key press or frame waits on a big refresh.
        Without one (a direct call) it finishes everything now.
        """
        if budget is None:
            self._refresh_chain += 1  # any slice still scheduled is stale now
            while True:
                job, self._refresh_job = self._refresh_job or self._refresh_steps(), None
                for _ in job:
                    pass
                if not self._views_dirty():
                    break
            self._refresh_pending = False
            return
        if chain != self._refresh_chain:
            return  # a direct call finished this refresh meanwhile
        if self._refresh_job is None:
            self._refresh_job = self._refresh_steps()
        started = last = perf_counter()
        deadline = started + budget
        for step in self._refresh_job:
            if step == FRAME:
                # After the frame that draws what was added, and not in the same turn
                # of the event loop as that frame.
                self.call_after_refresh(self._continue_refresh, budget, chain)
                return
            now = perf_counter()
            step_time, last = now - last, now
            if now + step_time >= deadline:  # stop before a step like the last would overrun
                self._continue_refresh(budget, chain)
                return
        self._refresh_job = None
        self._refresh_pending = False
        if self._views_dirty():
            self.schedule_refresh()
        elif len(self.items) > self._prune_at:
            # Once the views are current: pruning sorts everything held (in a thread, but
            # a thread holding the GIL still slows the loop's slices).
            self._prune_items()

    def _continue_refresh(self, budget: float, chain: int) -> None:
        """The next slice, on a later turn of the event loop.

        Not call_later alone: the message pump takes queued messages without going back
        to the event loop, so slices posted that way ran back to back.  call_soon lets
        every other task (input, the frame timer) run first."""
        asyncio.get_running_loop().call_soon(self.call_later, self._refresh_views, budget, chain)

    def _refresh_steps(self) -> Iterator[str | None]:
        """The work of one refresh, as bounded steps (see :meth:`_refresh_views`)."""
        panes = self.panes
        if len(panes) != len(self.platforms) + 1 or not panes[0].is_attached:
            return  # shutting down (or not composed yet): nothing to draw into
        index = self._index
        synced = index.pending(self.items)
        yield from index.sync_steps(self.items)
        if synced >= GC_FREEZE_AFTER_ITEMS and self._gc_saved is not None:
            gc.freeze()  # a big batch is long-lived now: out of the collector's sight
        refresh_all, self._refresh_all = self._refresh_all, False
        dirty, index.dirty = index.dirty, set()
        now = self.clock()
        min_sev, uncovered = int(self.min_severity), self.uncovered_only
        # The header first: its last line is the worst open item, what matters most.
        self._update_header(index.window(_PRIO, min_severity=min_sev, uncovered_only=uncovered, limit=1))
        state_of = index.state_of
        for i, pane in enumerate(panes):
            key = _PRIO if i == 0 else self.platforms[i - 1]
            if not (refresh_all or key in dirty):
                continue
            rows = index.window(key, min_severity=min_sev, uncovered_only=uncovered, limit=MAX_ROWS)
            yield None
            if not pane.is_attached:
                return
            yield from pane.update_steps(rows, now=now, state_of=state_of)
            if pane.redrawn:
                yield FRAME  # one pane redrawn per frame
        yield from self._title_steps(self.clock(), refresh_all or dirty)
        for screen in self.screen_stack:
            if hasattr(screen, "items_changed"):
                screen.items_changed()

    def _title_steps(self, now: datetime, changed: bool | set = True) -> Iterator[str | None]:
        """Pane titles and health lines, tab labels, the header: all from the counts.
        Yields a frame after each pane whose lines changed (each line is a render).

        ``changed``: True, or the platforms whose items changed (their sparkline and
        spike are looked up again; the others keep theirs until the tick)."""
        panes = self.panes
        if len(panes) != len(self.platforms) + 1 or not panes[0].is_attached:
            return
        for platform in self.platforms:
            if changed is True or platform in changed or platform not in self._volume:
                self._volume[platform] = (self._sparkline(platform, now), self._spike(platform, now))
        index = self._index
        min_sev, uncovered = int(self.min_severity), self.uncovered_only
        prio = index.tally(_PRIO, min_severity=min_sev, uncovered_only=uncovered)
        title = Text(f"{PRIORITY} ", style="bold")
        title.append(f"{prio.total} need a human", style="")
        spikes = [p for p in self.platforms if self._volume[p][1]]
        if spikes:
            title.append("  ↑ SPIKE: " + ", ".join(one_line(p, limit=20) for p in spikes), style="bold reverse red")
        self._filters_suffix(title)
        redrawn = panes[0].set_title(title)
        panes[0].set_class(bool(spikes), "-spike")
        redrawn = panes[0].set_health(self._priority_health(prio)) or redrawn
        labels: list[Text] = [self._tab_label(PRIORITY, prio, bool(spikes))]
        for i, platform in enumerate(self.platforms, start=1):
            tally = index.tally(platform, min_severity=min_sev, uncovered_only=uncovered)
            pane = panes[i]
            spike = platform in spikes
            title = Text(one_line(platform, limit=30), style="bold")
            title.append(f"  {tally.total} items")
            if tally.new:
                title.append(f" · {tally.new} new")
            spark = self._volume[platform][0]
            if spark:
                title.append(f"  {spark}", style="cyan")
            if spike:
                title.append("  ↑ SPIKE", style="bold reverse red")
            if redrawn:
                yield FRAME
            self._filters_suffix(title)
            redrawn = pane.set_title(title)
            pane.set_class(spike, "-spike")
            redrawn = pane.set_health(self._platform_health(platform), failing=self._platform_failing(platform)) or redrawn
            labels.append(self._tab_label(platform, tally, spike))
        if redrawn:
            yield FRAME
        self._labels = labels
        self._relabel_tabs()

    def _relabel_tabs(self) -> None:
        """Put the latest counts on the tabs, if they are shown (in the wide layout they
        are hidden, and a label changing width costs a layout pass of the whole screen)."""
        tabs = self.query_one(Tabs)
        if not tabs.display:
            return
        relabelled = False
        for i, label in enumerate(self._labels):
            try:
                tab = tabs.query_one(f"#tab-{i}", Tab)
            except Exception:  # noqa: BLE001
                continue
            if tab.label.plain != label.plain:
                tab.label = label
                relabelled = True
        if relabelled and hasattr(tabs, "_highlight_active"):
            # Tabs moves its underline only when the active tab changes, not when a
            # label (with its counts) changes width; without this it underlines the
            # wrong span.
            # After a refresh, so the new label widths are laid out first.
            self.call_after_refresh(tabs._highlight_active, False)

    def _filters_suffix(self, title: Text) -> None:
        if self.min_severity > Severity.INFO:
            title.append(f"  [≥{self.min_severity.short}]", style="italic")
        if self.uncovered_only:
            title.append("  [uncovered only]", style="italic")

    def _tab_label(self, name: str, tally: Tally, spike: bool) -> Text:
        t = Text(one_line(name, limit=20))
        worst = tally.worst_unhandled
        if tally.new:
            t.append(f" {tally.new}")
        if worst is not None and worst >= Severity.MEDIUM:
            t.append(f" {worst.symbol}", style=render.SEVERITY_STYLE[worst])
        if spike:
            t.append(" ↑", style="bold red")
        return t

    def _spike(self, platform: str, now: datetime) -> bool:
        if self.monitor is None:
            return False
        try:
            return bool(self.monitor.triager.spike_status(platform, now).active)
        except Exception:  # noqa: BLE001
            return False

    def _sparkline(self, platform: str, now: datetime) -> str:
        if self.monitor is None:
            return ""
        try:
            return render.sparkline(list(self.monitor.triager.volume(platform, now, buckets=12)))
        except Exception:  # noqa: BLE001
            return ""

    def _platform_sources(self, platform: str) -> list[str]:
        if self.monitor is None:
            return []
        return [s.name for s in self.monitor.sources if s.platform == platform]

    def _platform_failing(self, platform: str) -> bool:
        if self.monitor is None:
            return False
        return any(self.monitor.poller.states[n].last_error for n in self._platform_sources(platform) if n in self.monitor.poller.states)

    def _platform_health(self, platform: str) -> Text:
        parts = [self.health.get(n) for n in self._platform_sources(platform)]
        parts = [p for p in parts if p is not None]
        if not parts:
            return Text("… starting", style="dim")
        out = Text(no_wrap=True, end="")
        for i, p in enumerate(parts):
            if i:
                out.append(" │ ")
            out.append_text(p)
        return out

    def _priority_health(self, tally: Tally) -> Text:
        t = Text(no_wrap=True, end="")
        counts = tally.by_severity
        for sev in sorted(Severity, reverse=True):
            if sev == Severity.INFO:
                continue
            t.append(f"{sev.symbol} {sev.short} {counts[sev]}", style=render.SEVERITY_STYLE[sev] if counts[sev] else "dim")
            t.append("  ")
        uncovered = tally.uncovered_all
        if uncovered:
            t.append(f"⚠ {uncovered} arrived uncovered", style="bold magenta")
        return t

    def _update_header(self, prio: list[Item] | None = None) -> None:
        try:
            header = self.query_one(StatusHeader)
        except Exception:  # noqa: BLE001
            return
        now = self.clock()
        org = self.config.organisation
        crisis = bool(getattr(self.crisis_state, "active", False))
        t = Text(no_wrap=True, end="", overflow="ellipsis")
        t.append("◉ ", style="bold")
        t.append(one_line(org.name, limit=40), style="bold")
        t.append(f" │ {render.local_time(now, self.tz, '%a %H:%M')} {org.timezone}")
        t.append(" │ ")
        t.append_text(self._on_call_text(now))
        if self.config.demo:
            t.append(" │ DEMO", style="bold reverse")
        t.append("\n")
        if crisis:
            cs = self.crisis_state
            t.append("⚠ CRISIS MODE ", style="bold reverse")
            t.append(one_line(getattr(cs, "description", ""), limit=60))
            started = getattr(cs, "started_at", None)
            if started is not None:
                t.append(f" (since {render.local_time(started, self.tz, '%H:%M')}, {one_line(getattr(cs, 'started_by', ''), limit=20)})")
            t.append(" │ ")
        for acc in org.accounts:
            t.append("● ", style=f"bold {acc.colour}")
            t.append(one_line(acc.name or acc.handle, limit=30), style=f"bold {acc.colour}")
            t.append(" ")
        t.append_text(self._handover_text())
        t.append("\n")
        prio = self.priority_items() if prio is None else prio
        if prio:
            worst = prio[0]
            t.append("WORST ", style="bold")
            t.append_text(render.severity_badge(worst.severity))
            t.append(f" {render.age(worst.published, now)} ")
            if not worst.coverage.covered:
                t.append("⚠ UNCOVERED ", style="bold magenta")
            t.append(one_line(worst.platform, limit=16), style="bold")
            t.append(" ")
            t.append(one_line(worst.author, limit=24))
            t.append(": ")
            t.append(one_line(worst.headline, limit=200))
        else:
            t.append("✓ Nothing needs a human right now.", style="green")
        header.show(t, crisis=crisis)

    def _on_call_text(self, now: datetime) -> Text:
        t = Text()
        if self.monitor is None:
            return t
        try:
            st = self.monitor.rota.status(now)
        except Exception:  # noqa: BLE001
            return t
        if getattr(st, "shift", None):
            t.append("on call: ")
            t.append(one_line(st.on_call or "?", limit=24), style="bold")
            ends = getattr(st, "ends_at_local", None)
            if ends is not None:
                t.append(f" until {ends.strftime('%H:%M')}")
        else:
            t.append("NOBODY ON CALL", style="bold reverse magenta")
            nxt = getattr(st, "next_start_local", None)
            if nxt is not None:
                t.append(f" (next {nxt.strftime('%a %H:%M')})")
        return t

    def _handover_text(self) -> Text:
        from ..core.decisions import last_handover

        t = Text()
        try:
            ho, ack = last_handover(self.log_entries)
        except Exception:  # noqa: BLE001
            return t
        if ho is None:
            t.append("│ no handover yet", style="dim")
            return t
        t.append(f"│ handover {render.local_time(ho.ts, self.tz, '%a %H:%M')} by {one_line(ho.operator, limit=20)} ")
        if ack is not None:
            t.append(f"✓ ack {one_line(ack.operator, limit=20)}", style="green")
        else:
            t.append("✗ NOT ACKNOWLEDGED", style="bold yellow")
        return t

    # -- actions ------------------------------------------------------------------------
    def current_pane(self) -> ItemPane:
        focused = self.focused
        node = focused
        while node is not None:
            if isinstance(node, ItemPane):
                return node
            node = node.parent
        return self.panes[self.active_tab]

    def current_item(self) -> Item | None:
        item_id = self.current_pane().highlighted_id()
        return self.items.get(item_id) if item_id else None

    @on(ItemPane.NeedsRows)
    def _pane_needs_rows(self, message: ItemPane.NeedsRows) -> None:
        panes = self.panes
        if message.pane in panes:
            i = panes.index(message.pane)
            self._index.dirty.add(_PRIO if i == 0 else self.platforms[i - 1])
            self.schedule_refresh()

    @on(ItemTable.OpenItem)
    def _open_item(self, message: ItemTable.OpenItem) -> None:
        item = self.items.get(message.item_id)
        if item is not None:
            self.open_response(item)

    def action_respond(self) -> None:
        item = self.current_item()
        if item is not None:
            self.open_response(item)

    def open_response(self, item: Item) -> None:
        from .screens.response import ResponseScreen

        st = self.item_states.get(item.id)
        if st is None or not getattr(st, "seen_by", None):
            self.record("seen", item=item)
        self.push_screen(ResponseScreen(item))

    def action_claim(self) -> None:
        item = self.current_item()
        if item is None:
            return
        self.toggle_claim(item)

    def toggle_claim(self, item: Item) -> None:
        st = self.item_states.get(item.id)
        holder = getattr(st, "claimed_by", None) if st else None
        if holder == self.operator:
            self.record("unclaimed", item=item)
            self.notify("Unclaimed.", markup=False, timeout=3)
            return
        if holder:
            from .screens.modals import ConfirmScreen

            def confirmed(ok: bool | None) -> None:
                if ok:
                    self.record("claimed", f"taken over from {holder}", item=item)

            self.push_screen(
                ConfirmScreen(f"{holder} has claimed this item. Take it over?", yes="Take over"),
                confirmed,
            )
            return
        self.record("claimed", item=item)
        self.notify("Claimed: the others see you are on it.", markup=False, timeout=3)

    def action_mark_seen(self) -> None:
        item = self.current_item()
        if item is not None:
            self.record("seen", item=item)

    def action_note(self) -> None:
        from .screens.modals import PromptScreen

        item = self.current_item()

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
        self.min_severity = order[(order.index(self.min_severity) + 1) % len(order)]
        self.notify(f"Showing {self.min_severity.label} and above.", markup=False, timeout=3)
        self._refresh_all = True
        self.schedule_refresh()

    def action_toggle_uncovered(self) -> None:
        self.uncovered_only = not self.uncovered_only
        self.notify("Only items that arrived uncovered." if self.uncovered_only else "All items.", markup=False, timeout=3)
        self._refresh_all = True
        self.schedule_refresh()

    def action_refresh_now(self) -> None:
        self.run_worker(self.poll_everything_once(), group="poll-now", exclusive=True, exit_on_error=False)

    async def on_unmount(self) -> None:
        self._gc_stop()
        if self.monitor is not None:
            await self.monitor.aclose()
        if self.demo_server is not None:
            self.demo_server.stop()


class _PaneTab(Tab):
    """A pane's tab.  Its label carries counts, so it changes width; Tabs moves its
    underline only when the active tab changes, so it would underline the old span.
    When a tab's size changed (after the layout that placed it), the underline follows."""

    def on_resize(self) -> None:
        try:
            tabs = self.query_ancestor(Tabs)
        except Exception:  # noqa: BLE001 - not in a Tabs (yet)
            return
        if hasattr(tabs, "_highlight_active"):
            tabs._highlight_active(animate=False)


class _Batch:
    """A big argument for a ``@work`` method: Textual names each worker after the
    ``repr`` of its arguments, and the repr of 10,000 items held the loop for 600 ms."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"<{len(self.value)} items>"


#: The two states most items are in, shared (a week of items held one each).
_NEW = RowState("new", "bold")
_SEEN = RowState("seen", "")


def _needs_attention(item: Item) -> bool:
    """Bad enough for a human, before anyone acted on it."""
    if item.severity >= Severity.MEDIUM:
        return True
    return not item.coverage.covered and item.severity >= Severity.LOW


def _handled(state: Any) -> bool:
    """An item no longer needs a human once it was replied to, ignored or blocked."""
    return bool(getattr(state, "replied", None) or getattr(state, "ignored", False) or getattr(state, "blocked", False))
