"""The Desk: the live shift, without a screen.

Everything the live screen knows and decides lives here, Textual-free and testable
without Pilot; the App (:mod:`watchtower.ui.app`) only draws what the Desk answers and
turns the operator's keys into its commands.

- **Items held**, in memory, newest first per platform and worst first for the Priority
  pane (:class:`~watchtower.core.desk.index.ItemIndex`), bounded: at most
  ``max_items`` plus everything that still needs a human (:meth:`Desk.prune`); the
  archive keeps the rest, and :meth:`Desk.load_older` brings older ones back on request.
- **Decisions** derived from the handover log (:meth:`Desk.apply_log`), and the **one
  policy** over them (:mod:`watchtower.core.record.policy`): the row state, what needs a
  human, what is handled.
- **Alert routing**: which new items alert, overdue follow-ups, stale sources, the
  alerter's cooldowns (:meth:`Desk.alerts_for`, :meth:`Desk.tick`); who gets them, by the
  rota with its overrides, and the escalation of the ones nobody acknowledges
  (:meth:`Desk.page`, :meth:`Desk.run_due`, :mod:`watchtower.core.respond.escalation`).
- **The watch-list** (:mod:`watchtower.core.triage.watchlist`), folded from the log like the
  decisions: a watched author's posts lifted to at least medium and marked, muted ones
  out of the panes and the alerts (back, marked, with :meth:`Desk.set_show_muted`),
  snoozed items not alerted.  Rota overrides from the log reach the header and coverage.
- **Commands** (:meth:`Desk.record`, :meth:`Desk.claim`, :meth:`Desk.reply_data`,
  :meth:`Desk.followup`) and **queries** (:meth:`Desk.window`, :meth:`Desk.tally`,
  :meth:`Desk.header`, :meth:`Desk.source_health`).
- **Change notifications**: :meth:`Desk.subscribe` gets a :class:`Change` whenever what a
  view shows may have changed; the App turns each into a message.

Threading: the Desk is driven from one thread (the UI loop).  The only calls meant for a
worker thread are the blocking ones, each documented so: :meth:`record`,
:meth:`load_older`, :meth:`page`, :meth:`notify`, :meth:`run_due`, and :meth:`alerts_for`
on a big batch (the alerter has its own lock).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any

from ..models import Item, Severity, utcnow
from ..record import policy
from ..record.policy import RowState
from ..text.safetext import one_line
from ..triage.watchlist import WATCH_KINDS, Watchlist, watchlist_from_entries
from .index import PRIORITY, ItemIndex, ItemMap, Tally
from .outgoing import Outgoing

__all__ = [
    "LOAD_OLDER_STEP",
    "MAX_ITEMS_IN_MEMORY",
    "PRIORITY",
    "PRUNE_SLACK",
    "Change",
    "ClaimOutcome",
    "Desk",
    "Filters",
    "Header",
    "MAX_OVERRIDE",
    "Record",
    "RowState",
    "SourceHealth",
    "Tally",
]

#: Items held in memory for the panes; older ones stay in the archive.
MAX_ITEMS_IN_MEMORY = 5000
#: Prune again only after this many more items arrived (pruning sorts everything held).
PRUNE_SLACK = 1000
#: Items one request for older ones brings back from the archive.
LOAD_OLDER_STEP = 1000
#: A rota override is a swap, not a new rota (as ``watchtower rota override``).
MAX_OVERRIDE = timedelta(days=31)
_PUBLISHED = attrgetter("published")
#: Log kinds whose effect lasts however old they are (kept beyond the log's working set).
_LASTING_WATCH_KINDS = (*WATCH_KINDS, "rota_override")


@dataclass(frozen=True, slots=True)
class Filters:
    """What the operator chose to see: a minimum severity, only uncovered arrivals."""

    min_severity: Severity = Severity.INFO
    uncovered_only: bool = False


@dataclass(frozen=True, slots=True)
class Change:
    """What may have changed since the last notification.

    ``panes``: the panes (platform names, or :data:`PRIORITY`) whose rows or counts may
    differ; ``log``: the decisions changed (screens that show the log refresh);
    ``items``: items arrived or left (screens listing items refresh).
    """

    panes: frozenset[str] = frozenset()
    log: bool = False
    items: bool = False
    header: bool = False


@dataclass(frozen=True, slots=True)
class Record:
    """A command: one entry for the handover log (written by :meth:`Desk.record`)."""

    kind: str
    text: str = ""
    item: Item | None = None
    data: dict[str, Any] = field(default_factory=dict)
    item_id: str | None = None
    """An item that is not at hand (only its id is known: an old alert, a snooze)."""
    platform: str | None = None
    excerpt: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimOutcome:
    """What claiming an item means now: a record to write, or a question to ask first."""

    record: Record
    confirm_from: str | None = None
    """Someone else holds the item: take it over only after the operator says yes."""
    message: str = ""


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """One source's health, as data (the UI decides how it looks)."""

    name: str
    platform: str
    polled: bool
    error: str | None = None
    warning: str | None = None
    stale: bool = False
    last_new_at: datetime | None = None
    """When the last poll that brought something new ended (``None``: none yet)."""
    last_new: int = 0
    """How many that poll brought."""
    interval: float = 0.0
    rate_left: int | None = None


@dataclass(frozen=True, slots=True)
class HandoverInfo:
    at: datetime
    by: str
    acked_by: str | None


@dataclass(frozen=True, slots=True)
class CrisisInfo:
    description: str
    since: datetime | None
    by: str


@dataclass(frozen=True, slots=True)
class Header:
    """Everything the header says, as data."""

    now: datetime
    org: str
    timezone: str
    demo: bool
    on_call: str | None
    on_call_until: datetime | None
    next_shift: datetime | None
    rota_known: bool
    accounts: tuple[tuple[str, str], ...]
    """(name, colour) of each of our own accounts."""
    crisis: CrisisInfo | None
    handover: HandoverInfo | None
    worst: Item | None
    on_call_override: bool = False
    """The person on call is there by a rota override (a swap recorded in the log)."""
    backup: str | None = None
    """The shift's backup (who an unacknowledged alert escalates to)."""


@dataclass(slots=True)
class Opened:
    """What :meth:`Desk.open_stores` opened and read."""

    monitor: Any
    log: Any
    alerter: Any
    archive: Any
    items: list[Item]
    entries: list[Any]
    problems: list[str]


class Desk:
    """The live shift for one operator: items, decisions, policy, alerts."""

    def __init__(
        self,
        config: Any,
        *,
        operator: str,
        clock: Callable[[], datetime] = utcnow,
        max_items: int = MAX_ITEMS_IN_MEMORY,
        prune_slack: int = PRUNE_SLACK,
    ) -> None:
        self.config = config
        self.operator = operator
        self.clock = clock
        self.platforms: list[str] = list(config.platforms)
        self.max_items = max_items
        self.prune_slack = prune_slack
        self.items = ItemMap()
        self.index = ItemIndex(self.platforms, row_state=self.row_state, needs_human=self.needs_human, timed=self._timed,
                               view=self._view)
        self.states: dict[str, Any] = {}
        self.log_entries: list[Any] = []
        self.crisis: Any = None
        self.monitor: Any = None
        self.log: Any = None
        self.alerter: Any = None
        self.archive: Any = None
        #: Own posts deleted or corrected, replies our accounts made on the platforms.
        self.outgoing = Outgoing(config)
        #: The environment posting reads its tokens from (``None``: the process's).
        self.env: Any = None
        self._poster: Any = None
        self.escalator: Any = None
        #: What the log says is watched, muted and snoozed (folded in :meth:`apply_log`).
        self.watch: Watchlist = Watchlist(now=clock())
        self.show_muted = False
        self._watch_sig: tuple[Any, ...] = ((frozenset(), frozenset(), frozenset()), {})
        self._acknowledged: set[str] = set()
        self._listeners: list[Callable[[Change], None]] = []
        self._alert_lock = threading.Lock()
        self._alerted_followups: set[str] = set()
        #: Per platform: how many older items were brought back from the archive.
        self.loaded_older: dict[str, int] = {}
        #: Per platform: the archive has nothing older than what is held.
        self.archive_exhausted: set[str] = set()
        #: Per source: when a poll last brought something new.
        self._last_new_at: dict[str, tuple[datetime, int]] = {}

    # -- wiring ------------------------------------------------------------------------
    def attach(self, *, monitor: Any = None, log: Any = None, alerter: Any = None, archive: Any = None,
               escalator: Any = None) -> None:
        """The parts opened off the loop: the pipeline, the handover log, the alerter, and
        the :class:`~watchtower.core.respond.escalation.Escalator` over that log (made by the caller:
        escalation reads the desk's policy, so the desk does not import it back)."""
        self.monitor = monitor
        self.log = log
        self.alerter = alerter
        self.archive = archive if archive is not None else getattr(monitor, "archive", None)
        if escalator is not None:
            self.escalator = escalator

    def open_stores(self, data_dir: Any, *, env: Any = None, recent: int = MAX_ITEMS_IN_MEMORY) -> Opened:
        """Blocking (sqlite, TinyDB, a thread): open the archive, the log, the pipeline and
        the alerter, and read what to start with.  Never raises: what failed is in
        :attr:`Opened.problems`, in words.  Then, on the loop, :meth:`start` with it."""
        from ..alert.alerts import Alerter
        from ..pipeline.monitor import Monitor

        problems: list[str] = []
        archive = log = None
        cfg = self.config
        self.env = env
        if data_dir is not None:
            from ..record.archive import Archive
            from ..record.log import HandoverLog

            try:
                archive = Archive(data_dir, retention_days=cfg.data.retention_days, group_shared=cfg.data.group_shared)
            except Exception as exc:  # noqa: BLE001 - shown to the operator, never a crash
                problems.append(f"item archive: {one_line(exc, limit=300)}")
            try:
                log = HandoverLog(data_dir, group_shared=cfg.data.group_shared, clock=self.clock)
                problems.extend(one_line(p, limit=300) for p in getattr(log, "problems", []) or [])
            except Exception as exc:  # noqa: BLE001
                problems.append(f"handover log: {one_line(exc, limit=300)}")
        monitor = Monitor(cfg, archive=archive, env=env, clock=self.clock)
        items: list[Item] = []
        if archive is not None:
            try:
                items = archive.recent(limit=recent)
            except Exception as exc:  # noqa: BLE001
                problems.append(f"item archive: {one_line(exc, limit=300)}")
        entries: list[Any] = []
        if log is not None:
            try:
                entries = self._working_entries(log)
            except Exception as exc:  # noqa: BLE001
                problems.append(f"handover log: {one_line(exc, limit=300)}")
        import logging

        # Apprise logs through the logging module; a stderr handler would draw over the TUI.
        logging.getLogger("apprise").setLevel(logging.CRITICAL + 1)
        alerter = Alerter(cfg.alerts) if env is None else Alerter(cfg.alerts, env=env)
        problems.extend(f"alerts: {one_line(p, limit=300)}" for p in alerter.problems)
        return Opened(monitor, log, alerter, archive, items, entries, problems)

    def start(self, opened: Opened) -> None:
        """On the loop: attach what :meth:`open_stores` opened and hold what it read."""
        self.attach(monitor=opened.monitor, log=opened.log, alerter=opened.alerter, archive=opened.archive)
        self.hold(opened.items)
        self.apply_log(opened.entries)

    def subscribe(self, listener: Callable[[Change], None]) -> None:
        self._listeners.append(listener)

    def _changed(self, change: Change) -> None:
        for listener in list(self._listeners):
            listener(change)

    # -- the one policy ----------------------------------------------------------------
    def row_state(self, item: Item) -> RowState:
        # Asked for every item a batch brings (the index caches the answer): no kwargs
        # dict, no watch-list work when it is empty.
        out = self.outgoing
        state = policy.row_state(self.states.get(item.id), operator=self.operator, now=self.clock(),
                                 own=out.mark(item.id), on_platform=out.reply_to(item.id))
        note = self.note(item) if not self.watch.empty else ""
        return replace(state, note=note) if note else state

    def note(self, item: Item) -> str:
        """What the watch-list says about ``item``, in words (empty: nothing)."""
        watch = self.watch
        if watch.empty:
            return ""
        notes = []
        if watch.is_watched(item):
            notes.append("watched")
        muted = watch.muted(item)
        if muted:
            notes.append(muted)
        until = watch.snoozed_until(item.id, self.clock())
        if until is not None:
            notes.append(f"snoozed until {until.astimezone(self.config.organisation.tz):%H:%M}")
        return " · ".join(notes)

    def needs_human(self, item: Item) -> bool:
        watch, out = self.watch, self.outgoing
        return policy.needs_human(watch.apply(item) if watch.watched else item, self.states.get(item.id),
                                  own=out.mark(item.id), on_platform=out.reply_to(item.id))

    def _view(self, item: Item) -> Item | None:
        """``item`` as the panes show it: lifted when its author is watched; ``None`` when
        muted (unless muted items are shown)."""
        watch = self.watch
        if watch.empty:
            return item
        if not self.show_muted and watch.muted(item) is not None:
            return None
        return watch.apply(item)

    def _outgoing_of(self, item_id: str) -> dict[str, Any]:
        return {"own": self.outgoing.mark(item_id), "on_platform": self.outgoing.reply_to(item_id)}

    def handled(self, item_id: str) -> bool:
        return policy.handled(self.states.get(item_id), **self._outgoing_of(item_id))

    def _timed(self, item: Item) -> bool:
        return policy.timed(self.states.get(item.id))

    def state(self, item_id: str) -> Any:
        """The decisions on one item (``None``: nobody did anything yet)."""
        return self.states.get(item_id)

    @property
    def crisis_active(self) -> bool:
        return bool(getattr(self.crisis, "active", False))

    # -- items in ----------------------------------------------------------------------
    def hold(self, items: Iterable[Item]) -> None:
        """Items to hold (from the archive at start, a poll, an edit): shown once synced."""
        items = list(items)
        if not items:
            return
        self.items.put_many(items)
        self.index.touch(self.outgoing.held(items, self.items))
        self._changed(Change(panes=frozenset(self._panes_of(items)), items=True, header=True))

    def receive(self, result: Any) -> list[Item]:
        """One poll's :class:`~watchtower.core.pipeline.monitor.RoundResult`: hold what is new or
        changed; the new items (for :meth:`alerts_for`)."""
        new = list(getattr(result, "new", ()) or ())
        updated = list(getattr(result, "updated", ()) or ())
        if new or updated:
            self.hold(new + updated)
        poll = getattr(result, "poll", None)
        if poll is not None and getattr(poll, "ok", False) and self.alerter is not None:
            with self._alert_lock:
                self.alerter.source_recovered(poll.source)
        if poll is not None:
            self._changed(Change(panes=frozenset({poll.platform}) if poll.platform in self.platforms else frozenset()))
        return new

    def _panes_of(self, items: Sequence[Item]) -> set[str]:
        panes = {PRIORITY}
        panes.update(i.platform for i in items if i.platform in self.index.by_platform)
        return panes

    def pending(self) -> int:
        """Changes held but not yet in the panes' order (see :meth:`sync`)."""
        return self.index.pending(self.items)

    def sync(self, chunk: int | None = None) -> bool:
        """Put held changes in order, ``chunk`` ids at a time (all with ``None``);
        whether more are pending.  Bounded steps let a big batch share the loop."""
        if chunk is None:
            self.index.sync(self.items)
            return False
        steps = self.index.sync_steps(self.items, chunk=chunk)
        next(steps, None)
        return self.pending() > 0

    def take_dirty(self) -> set[str]:
        """The panes whose order or counts changed since the last call."""
        dirty, self.index.dirty = self.index.dirty, set()
        return dirty

    # -- pruning -----------------------------------------------------------------------
    def prune_due(self) -> bool:
        return len(self.items) > self.max_items + self.prune_slack

    def prune(self) -> int:
        """Keep the newest ``max_items`` and everything that still needs a human; the
        archive keeps the rest.  An open incident is never pruned out of sight."""
        return self.drop(self.prune_plan(list(self.items.values()), dict(self.states)))

    def prune_plan(self, held: list[Item], states: dict[str, Any]) -> list[Item]:
        """Which of ``held`` to drop (pure: a worker thread may work it out from a
        snapshot, since it sorts everything held); :meth:`drop` drops them."""
        if len(held) <= self.max_items:
            return []
        by_age = sorted(held, key=_PUBLISHED, reverse=True)
        keep = {i.id for i in by_age[: self.max_items]}
        # Only the older ones may go: the policy is asked about those alone (it runs
        # beside the UI loop, and every ms here is a ms the loop waits for the GIL).
        keep.update(i.id for i in by_age[self.max_items :] if policy.needs_human(i, states.get(i.id)))
        return [i for i in held if i.id not in keep]

    def drop(self, plan: list[Item]) -> int:
        """Drop what :meth:`prune_plan` picked; an item updated or reopened since stays."""
        dropped = 0
        items, cached = self.items, self.index.needs_human_cached
        for item in plan:
            if items.get(item.id) is not item:
                continue
            # What the last sync found (a dict read), else the policy (~4 us): dropping
            # 5,000 after a big batch took the loop 20 ms asking the policy for each.
            needs = cached(item.id, items)
            if not (self.needs_human(item) if needs is None else needs):
                del items[item.id]
                dropped += 1
        if dropped:
            self.archive_exhausted.clear()
            self._changed(Change(panes=frozenset([PRIORITY, *self.platforms]), items=True))
        return dropped

    def load_older(self, platform: str, n: int = LOAD_OLDER_STEP) -> list[Item]:
        """Blocking (sqlite: call it from a thread): up to ``n`` items of ``platform``
        older than every one held, from the archive.  Hand them to :meth:`hold_older`."""
        if self.archive is None:
            return []
        held = sum(1 for k in self.index.by_platform.get(platform, ()))
        rows = self.archive.recent(platform=platform, limit=held + n)
        return [i for i in rows if i.id not in self.items]

    def hold_older(self, platform: str, items: list[Item], asked: int = LOAD_OLDER_STEP) -> None:
        """Hold items :meth:`load_older` found; pruning keeps them (the cap grows)."""
        if len(items) < asked:
            self.archive_exhausted.add(platform)
        self.loaded_older[platform] = self.loaded_older.get(platform, 0) + len(items)
        self.max_items += len(items)
        self.hold(items)

    # -- the log -----------------------------------------------------------------------
    def apply_log(self, entries: list[Any]) -> None:
        """The handover log as it is now: decisions, crisis mode, acknowledgements."""
        from ..coverage.rota import overrides_from_entries
        from ..record.decisions import crisis_state, item_states

        self.log_entries = entries
        old, self.states = self.states, item_states(entries)
        self.index.touch(self.outgoing.apply_log(entries))
        # Only the items whose decisions changed get a new row state.
        self.index.touch(i for i in old.keys() | self.states.keys() if old.get(i) != self.states.get(i))
        self.crisis = crisis_state(entries)
        if self.monitor is not None:
            self.monitor.crisis = self.crisis_active
            # Swaps recorded in the log: the header, and the coverage of every new item.
            overrides = overrides_from_entries(entries)
            rota = getattr(self.monitor, "rota", None)  # the triager's too (Monitor.rota)
            if rota is not None:
                rota.use_overrides(overrides)
        self.refold_watch()
        acknowledged = {i for i, st in self.states.items() if policy.acknowledged(st)}
        if self.alerter is not None:
            with self._alert_lock:
                for item_id in acknowledged - self._acknowledged:
                    self.alerter.ack(item_id)
        self._acknowledged = acknowledged
        self._changed(Change(panes=frozenset([PRIORITY, *self.platforms]), log=True, header=True))

    def refold_watch(self) -> bool:
        """Fold the watch-list from the log again (on every log change, and on the tick, so
        a timed mute or a snooze ends on time); the rows it changes are drawn again.
        Whether anything changed."""
        watch = watchlist_from_entries(self.log_entries, self.clock())
        sig = (frozenset(watch.watched), frozenset(watch.muted_authors), frozenset(watch.muted_keywords))
        snoozes = {k: s.until for k, s in watch.snoozes.items()}
        old_sig, old_snoozes = self._watch_sig
        self.watch = watch
        self._watch_sig = (sig, snoozes)
        if sig != old_sig:
            self.index.touch(list(self.items))  # who is watched or muted changed: every row may
        elif snoozes != old_snoozes:
            self.index.touch(i for i in snoozes.keys() | old_snoozes.keys() if snoozes.get(i) != old_snoozes.get(i))
        else:
            return False
        self._changed(Change(panes=frozenset([PRIORITY, *self.platforms]), log=True))
        return True

    def set_show_muted(self, show: bool) -> None:
        """Show the items a mute hides (dimmed, with the reason), or hide them again."""
        if show != self.show_muted:
            self.show_muted = show
            if not self.watch.empty:
                self.index.touch(list(self.items))
            self._changed(Change(panes=frozenset([PRIORITY, *self.platforms])))

    def record(self, command: Record) -> Any:
        """Blocking (the log's lock and file): append ``command`` to the handover log.
        Raises what the log raises; with no log, ``RuntimeError`` in words."""
        if self.log is None:
            raise RuntimeError("No data directory: this decision was not recorded.")
        if command.item is None and command.item_id is not None:
            return self.log.append(command.kind, command.text, operator=self.operator, data=dict(command.data),
                                   item_id=command.item_id, platform=command.platform, excerpt=command.excerpt)
        return self.log.append(command.kind, command.text, operator=self.operator, item=command.item, data=dict(command.data))

    def read_log(self, days: float = 14) -> list[Any]:
        """Blocking: the working set of the log (two weeks plus what is still open, and
        every watch, mute, snooze and rota override however old)."""
        if self.log is None:
            return []
        return self._working_entries(self.log, days)

    def _working_entries(self, log: Any, days: float = 14) -> list[Any]:
        from ..record.decisions import working_entries
        from ..respond.schedule import SCHEDULE_KINDS, open_posts

        entries = working_entries(log, self.clock(), days=days)
        have = {e.id for e in entries}
        lasting = [e for e in log.entries(kinds=[*_LASTING_WATCH_KINDS, *SCHEDULE_KINDS]) if e.id not in have]
        # A post scheduled before the window and still not sent stays in sight (the
        # follow-ups screen, the ticker): its own entry and every attempt at it.
        scheduled = [e for e in lasting if e.kind in SCHEDULE_KINDS]
        still_open = {p.id for p in open_posts(scheduled, self.clock())} if scheduled else set()
        older = [e for e in lasting if e.kind in _LASTING_WATCH_KINDS
                 or e.id in still_open or e.data.get("schedule") in still_open]
        return sorted(older + entries, key=lambda e: e.seq) if older else entries

    # -- commands ------------------------------------------------------------------------
    def claim(self, item: Item) -> ClaimOutcome:
        """Claim ``item``, release it if it is ours, or ask before taking it over."""
        holder = getattr(self.states.get(item.id), "claimed_by", None)
        if holder == self.operator:
            return ClaimOutcome(Record("unclaimed", item=item), message="Unclaimed.")
        if holder:
            return ClaimOutcome(Record("claimed", f"taken over from {holder}", item=item), confirm_from=holder,
                                message=f"You took it over from {one_line(holder, limit=30)}.")
        return ClaimOutcome(Record("claimed", item=item), message="Claimed: the others see you are on it.")

    def seen(self, item: Item) -> Record | None:
        """Opening an item marks it seen, once per operator."""
        st = self.states.get(item.id)
        if st is not None and self.operator in (st.seen_by or ()):
            return None
        return Record("seen", item=item)

    def reply(self, kind: str, item: Item, text: str, *, template: str | None, language: str,
              second: bool = False, posted_url: str | None = None) -> Record:
        """A reply command: ``copied``, ``replied`` or ``posted``, with what the reply-once
        guard reads later (the author and thread it answered)."""
        from ..respond.replies import thread_key

        if kind not in ("copied", "replied", "posted"):
            raise ValueError(f"not a reply: {kind}")
        data: dict[str, Any] = {
            "author": item.author, "thread": thread_key(item), "platform": item.platform, "template": template,
            "language": language, "reply": text, "second_reply_confirmed": second,
        }
        if posted_url is not None:
            data["posted_url"] = posted_url
        return Record(kind, text[:200], item=item, data=data)

    def followup(self, item: Item | None, text: str, hours: float, preset: str) -> Record:
        due = self.clock() + timedelta(hours=hours)
        return Record("followup_set", text, item=item, data={"due": due.isoformat(), "preset": preset})

    # -- the watch-list (:mod:`watchtower.core.triage.watchlist`) ------------------------------
    def watch_author(self, item: Item, reason: str = "") -> Record:
        """Watch ``item``'s author, on every platform: their posts never below medium."""
        return Record("watch", one_line(reason, limit=300), data={"author": one_line(item.author, limit=200), "platform": None})

    def unwatch_author(self, author: str, platform: str | None = None) -> Record:
        return Record("unwatch", data={"author": one_line(author, limit=200), "platform": platform})

    def mute(self, *, author: str | None = None, keyword: str | None = None, platform: str | None = None,
             duration: timedelta | None = None, reason: str = "") -> Record:
        """Mute an author or a keyword (``platform``: only there); ``duration``: for a while.
        ``ValueError`` in words when neither or both are given, or nothing is left."""
        if bool(author) == bool(keyword):
            raise ValueError("mute an author or a keyword")
        what = one_line(author or keyword, limit=200)
        if not what.strip("@ "):
            raise ValueError("expected a handle or a word")
        data: dict[str, Any] = {"author": what} if author else {"keyword": what}
        data["platform"] = platform
        if duration is not None:
            if duration <= timedelta(0):
                raise ValueError("expected a duration longer than 0")
            data["until"] = (self.clock() + duration).isoformat()
        return Record("mute", one_line(reason, limit=300), data=data)

    def unmute(self, mute: Any) -> Record:
        """End a mute (a :class:`~watchtower.core.triage.watchlist.MuteEntry`)."""
        data: dict[str, Any] = {"author": mute.author} if mute.author else {"keyword": mute.keyword}
        data["platform"] = mute.platform
        return Record("unmute", data=data)

    def snooze(self, item: Item, duration: timedelta, reason: str = "") -> Record:
        """No alert and no escalation for ``item`` for ``duration``; ``timedelta(0)`` ends a snooze."""
        if duration < timedelta(0):
            raise ValueError("expected a duration of 0 or more")
        until = self.clock() + duration
        return Record("snooze", one_line(reason, limit=300), item=item, data={"until": until.isoformat()})

    def end_snooze(self, snooze: Any) -> Record:
        """End a :class:`~watchtower.core.triage.watchlist.Snooze` whose item may not be held."""
        item = self.items.get(snooze.item_id)
        if item is not None:
            return self.snooze(item, timedelta(0))
        return Record("snooze", data={"until": self.clock().isoformat()}, item_id=snooze.item_id,
                      platform=snooze.platform, excerpt=snooze.excerpt)

    # -- the rota ----------------------------------------------------------------------
    def rota_override(self, who: str, start: datetime, end: datetime, reason: str = "") -> tuple[Record, str | None]:
        """A swap: ``who`` on call from ``start`` to ``end``, and a warning when nobody by
        that name is in the rota.  ``ValueError`` in words for what ``watchtower rota
        override`` refuses (no name, end not after start, over already, over 31 days)."""
        tz = self.config.organisation.tz
        name = one_line(who, limit=64)
        if not name:
            raise ValueError("expected a name")
        if end <= start:
            raise ValueError(f"the end ({end.astimezone(tz):%a %d %b %H:%M}) must be after the start "
                             f"({start.astimezone(tz):%a %d %b %H:%M})")
        if end <= self.clock():
            raise ValueError(f"that override ended already ({end.astimezone(tz):%a %d %b %H:%M %Z})")
        if end - start > MAX_OVERRIDE:
            raise ValueError(f"an override is a swap of at most {MAX_OVERRIDE.days} days; "
                             "change [[rota.shift]] in the config for longer")
        rota = self.rota()
        replaced = sorted({s.on_call for s in rota.timeline(start, end) if s.on_call and s.on_call != name})
        text = (f"{name} on call {start.astimezone(tz):%a %d %b %H:%M} - {end.astimezone(tz):%a %d %b %H:%M %Z}"
                + (f" in place of {', '.join(replaced)}" if replaced else "")
                + (f": {one_line(reason, limit=300)}" if reason else ""))
        data = {"who": name, "start": start.isoformat(), "end": end.isoformat(), "reason": one_line(reason, limit=300)}
        warning = None
        if name not in set(rota.people()) | set(self.config.rota.people):
            warning = (f"{name} is not named in [rota] (shifts or [rota.people]): alerts while they are on call "
                       "go to the shift's targets or the fallback")
        return Record("rota_override", text, data=data), warning

    def cancel_override(self, override: Any) -> Record:
        return Record("rota_override", f"withdrew rota override {override.id[:8]}", data={"cancels": override.id})

    def rota(self) -> Any:
        """The rota with the log's overrides (the monitor's, else one made from the config)."""
        rota = getattr(self.monitor, "rota", None)
        if rota is None:
            from ..coverage.rota import overrides_from_entries, rota_from_config

            rota = rota_from_config(self.config)
            rota.use_overrides(overrides_from_entries(self.log_entries))
        return rota

    # -- posting (issue 18) -------------------------------------------------------------
    @property
    def poster(self) -> Any:
        """The one :class:`~watchtower.core.respond.posting.Poster` of the live screen (replies,
        statements, deletes; one Bluesky session per account).  Used on the UI's event
        loop only; ``await`` :meth:`aclose` on exit."""
        if self._poster is None:
            from ..respond.posting import Poster

            # The readers' Bluesky sessions too: one login per account (bluesky_sessions.py).
            sessions = getattr(self.monitor, "bluesky_sessions", None)
            self._poster = Poster(self.config, env=self.env, sessions=sessions)
        return self._poster

    async def aclose(self) -> None:
        """Close what posting opened (the HTTP client)."""
        if self._poster is not None:
            poster, self._poster = self._poster, None
            await poster.aclose()

    # -- alerts --------------------------------------------------------------------------
    def qualifying(self, items: Sequence[Item]) -> list[Item]:
        """The items bad enough to alert on (before cooldowns); cheap per item."""
        alerter = self.alerter
        if alerter is None:
            return []
        crisis = self.crisis_active
        return [i for i in items if alerter.qualifies(i, crisis=crisis)]

    def alerts_for(self, items: Sequence[Item]) -> list[Any]:
        """The alerts new ``items`` raise (the alerter's cooldowns and thresholds apply).
        Thread-safe: call it from a worker for a big batch."""
        alerter = self.alerter
        if alerter is None or not items:
            return []
        crisis = self.crisis_active
        watch, now = self.watch, self.clock()
        if not watch.empty:  # muted and snoozed items never alert; a watched author's post at least medium
            items = [watch.apply(i) for i in items if watch.muted(i) is None and watch.snoozed_until(i.id, now) is None]
        qualifying = [i for i in items if alerter.qualifies(i, crisis=crisis)]
        if not qualifying:
            return []
        with self._alert_lock:
            return list(alerter.evaluate(qualifying, crisis=crisis))

    def tick(self) -> list[Any]:
        """The periodic duties: held alerts whose cooldown ended, stale sources, overdue
        follow-ups, mutes and snoozes that ran out.  Returns the alerts to deliver."""
        out: list[Any] = []
        if not self.watch.empty:
            self.refold_watch()
        alerter = self.alerter
        if alerter is None:
            return out
        with self._alert_lock:
            out.extend(alerter.flush())
        stale = [(h.name, h.platform, self._last_success(h.name)) for h in self.all_health() if h.stale]
        if stale:
            with self._alert_lock:
                alert = alerter.stale_sources(stale)
            if alert is not None:
                out.append(alert)
        out.extend(self._overdue_followups())
        return out

    # -- paging (blocking: call these from a worker thread) ----------------------------
    @property
    def paging(self) -> bool:
        """Whether alerts go to people: a log to keep the chains in and at least one target
        configured (a shift's, a person's, the fallback or [alerts]).  Without any, paging
        would only log that nobody was alerted."""
        if self.escalator is None:
            return False
        cfg = self.config
        return bool(cfg.alerts.apprise_urls or cfg.alerts.apprise_url_envs or cfg.alerts.escalation.fallback_url_envs
                    or cfg.rota.people or any(s.apprise_url_envs for s in cfg.rota.shift))

    def page(self, alert: Any) -> Any:
        """Blocking: page who is on call about an item alert's items (the rota, overrides
        applied, else the fallback), which starts their escalation.  The escalator's
        :class:`~watchtower.core.respond.escalation.RunReport`; ``None`` when nothing is paged."""
        if not self.paging:
            return None
        items = [i for i in (self.items.get(item_id) for item_id in getattr(alert, "item_ids", ())) if i is not None]
        return self.escalator.page(items) if items else None

    def notify(self, alert: Any) -> Any:
        """Blocking: a notice that is not about items (a stale source, an overdue follow-up)
        to who is on call, else the fallback; not logged, no escalation."""
        return self.escalator.notify(alert) if self.paging else None

    def run_due(self) -> Any:
        """Blocking: escalate every chain whose time has come (what ``watchtower
        escalate-due`` does from cron; the file lock and the log keep the two from
        doubling a page).  ``None`` when nothing pages."""
        return self.escalator.run_due() if self.paging else None

    def _overdue_followups(self) -> list[Any]:
        from ..record.decisions import followups

        if self.alerter is None or not self.log_entries:
            return []
        now = self.clock()
        out = []
        for fu in followups(self.log_entries, now):
            if fu.due <= now:
                with self._alert_lock:
                    alert = self.alerter.overdue_followup(fu.text, fu.due, followup_id=str(fu.id))
                if alert is not None:
                    out.append(alert)
        return out

    # -- queries -------------------------------------------------------------------------
    def window(self, pane: str, filters: Filters = Filters(), limit: int | None = None) -> list[Item]:
        """The items of a pane in display order, filtered; at most ``limit``."""
        return self.index.window(pane, min_severity=int(filters.min_severity), uncovered_only=filters.uncovered_only,
                                 limit=limit)

    def tally(self, pane: str, filters: Filters = Filters()) -> Tally:
        return self.index.tally(pane, min_severity=int(filters.min_severity), uncovered_only=filters.uncovered_only)

    def held(self, pane: str) -> int:
        """Items held for a pane, filters ignored."""
        return len(self.index.prio if pane == PRIORITY else self.index.by_platform.get(pane, ()))

    def worst(self, filters: Filters = Filters()) -> Item | None:
        found = self.window(PRIORITY, filters, limit=1)
        return found[0] if found else None

    def priority_items(self, filters: Filters = Filters()) -> list[Item]:
        self.sync()
        return self.window(PRIORITY, filters)

    def header(self, filters: Filters = Filters()) -> Header:
        from ..record.decisions import last_handover

        now = self.clock()
        org = self.config.organisation
        on_call = until = nxt = backup = None
        override = False
        rota_known = False
        rota = getattr(self.monitor, "rota", None)
        if rota is not None:
            try:
                st = rota.status(now)
                rota_known = True
                if st.shift or st.override is not None:
                    on_call, until = (st.on_call or "?"), st.ends_at_local
                    override = st.override is not None
                    if st.override is not None:  # until the swap ends, whatever the shifts do
                        until = st.override.end.astimezone(org.tz)
                    backup = st.backup if st.backup and st.backup != st.on_call else None
                else:
                    nxt = st.next_start_local
            except Exception:  # noqa: BLE001 - a broken rota shows no on-call line, never a crash
                rota_known = False
        crisis = None
        if self.crisis_active:
            cs = self.crisis
            crisis = CrisisInfo(cs.description or "", cs.started_at, cs.started_by or "")
        handover = None
        try:
            ho, ack = last_handover(self.log_entries)
        except Exception:  # noqa: BLE001
            ho = ack = None
        if ho is not None:
            handover = HandoverInfo(ho.ts, ho.operator, ack.operator if ack is not None else None)
        return Header(
            now=now, org=org.name, timezone=org.timezone, demo=bool(self.config.demo),
            on_call=on_call, on_call_until=until, next_shift=nxt, rota_known=rota_known,
            accounts=tuple((a.name or a.handle, a.colour) for a in org.accounts),
            crisis=crisis, handover=handover, worst=self.worst(filters), on_call_override=override, backup=backup,
        )

    def sources_of(self, platform: str) -> list[str]:
        if self.monitor is None:
            return []
        return [s.name for s in self.monitor.sources if s.platform == platform]

    def _last_success(self, name: str) -> datetime | None:
        st = self.monitor.poller.states.get(name) if self.monitor is not None else None
        return getattr(st, "last_success", None)

    def source_health(self, name: str) -> SourceHealth | None:
        monitor = self.monitor
        if monitor is None:
            return None
        st = monitor.poller.states.get(name)
        if st is None:
            return None
        try:
            src = monitor.source(name)
        except KeyError:
            return None
        try:
            stale = monitor.poller.is_stale(name, self.config.alerts.stale_after_intervals)
        except Exception:  # noqa: BLE001
            stale = False
        if int(getattr(st, "last_new", 0) or 0) and st.last_success is not None:
            self._last_new_at[name] = (st.last_success, int(st.last_new))
        last_new_at, last_new = self._last_new_at.get(name, (None, 0))
        return SourceHealth(
            name=name, platform=src.platform, polled=st.last_success is not None or st.last_error is not None,
            error=st.last_error, warning=getattr(st, "warning", None), stale=stale,
            last_new_at=last_new_at, last_new=last_new,
            interval=float(getattr(src, "interval", 0) or 0), rate_left=st.rate_limit_remaining,
        )

    def platform_health(self, platform: str) -> list[SourceHealth]:
        return [h for h in (self.source_health(n) for n in self.sources_of(platform)) if h is not None]

    def all_health(self) -> list[SourceHealth]:
        if self.monitor is None:
            return []
        return [h for h in (self.source_health(s.name) for s in self.monitor.sources) if h is not None]

    def platform_failing(self, platform: str) -> bool:
        return any(h.error for h in self.platform_health(platform))
