"""Alerts follow the rota, and escalate when nobody acknowledges them.

The seeds (docs/product.md) ask for agreements on who checks when, weekends included,
and an alert that reaches that person.  So an alert about an item is routed, not broadcast:

1. **On call** (level 0): whoever :mod:`watchtower.core.coverage.rota` says is on call at that moment,
   overrides applied.  Their targets are the shift's ``apprise_url_envs`` plus the
   person's own (``[rota.people] NAME = ["ENV", ...]``).
2. **Backup** (level 1): the shift's ``backup``, when the item is still not acknowledged
   ``[alerts.escalation.after_minutes]`` minutes (per severity; 0 = never) after level 0.
3. **Fallback** (level 2): ``[alerts.escalation] fallback_url_envs`` (empty: the
   ``[alerts]`` ``apprise_urls``/``apprise_url_envs``, today's targets), the same delay
   after the backup.  While nobody is on call an alert goes straight here.

A level with no usable target (nobody named, no URL configured, an env var unset) is
skipped at once, and so is a level whose push reached nobody (every target failed): the
next level is paged in the same run, never N minutes later.  So with no per-person
targets configured, everything goes to the fallback, which is what alerts did before.

**Acknowledged** means someone took it on or dealt with it: a ``claimed`` entry (the
TUI's claim, ``watchtower ack ITEM``), ``replied``/``posted``, ``ignored``, ``blocked``
or a manual ``escalated``, by anyone, anywhere.  Any of them stops the chain.  A muted
item is not paged; a snoozed one waits until the snooze ends
(:mod:`watchtower.core.triage.watchlist`).

**The log is the state.**  Every page is one ``alert`` entry in the handover log
(``data.escalation`` = 1; ``level``, ``role``, ``to``, ``items``, ``severities``,
``lines``, ``sent``/``failed``), so each step is logged, every process sees the same
chains, and ``watchtower escalate-due`` from cron, the TUI and another operator's TUI can
all run it: a file lock (``escalation.lock`` in the data directory) makes one of them
decide and send at a time, and the next one reads what it logged.  A crash between the
push and the log entry pages once more at the next run: twice rather than never.

Time comes from the injected ``clock`` (aware datetimes), so tests drive it.  Pushes go
through :class:`~watchtower.core.alert.alerts.ApprisePush` (blocking: run this in a thread).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from filelock import FileLock, Timeout

from ..alert.alerts import Alert, ApprisePush, SendResult, describe_url
from ..models import Item, Severity, utcnow
from ..record.decisions import crisis_state, item_states
from ..record.paths import StorageError
from ..text.safetext import one_line

__all__ = [
    "ESCALATION_KIND",
    "LEVELS",
    "Chain",
    "Step",
    "RunReport",
    "Escalator",
    "chains_from_entries",
    "is_acknowledged",
    "item_ref",
]

#: The log kind of every page (an existing kind; ``data.escalation`` marks ours).
ESCALATION_KIND = "alert"
LEVELS: tuple[str, ...] = ("on_call", "backup", "fallback")
Role = Literal["on_call", "backup", "fallback"]
#: Items per log entry (the log keeps lists of at most 500).
_PER_ENTRY = 200
LOCK_TIMEOUT = 30.0
#: Entry kinds that mean a human took the item on or dealt with it.
_ACK_KINDS = ("claimed", "replied", "posted", "ignored", "blocked", "escalated")


def item_ref(item_id: str) -> str:
    """A short, stable handle for an item (``3f9a2c1b``), for ``watchtower ack`` and phone screens."""
    return hashlib.sha1(item_id.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def item_line(item: Item) -> str:
    badge = " ".join(item.severity.badge.split())
    return one_line(f"{badge} {item.platform} {item.author}: {item.headline}", limit=200)


def is_acknowledged(state: Any) -> bool:
    """Someone took the item on or dealt with it (the desk's rule,
    :func:`watchtower.core.record.policy.acknowledged`: claimed, replied, ignored, blocked),
    or escalated it by hand: a person passed it on, so no page follows it."""
    from ..record.policy import acknowledged

    return acknowledged(state) or bool(state is not None and getattr(state, "escalated", None))


@dataclass(slots=True)
class Chain:
    """Where one alerted item is in its escalation, from the log."""

    item_id: str
    severity: Severity
    line: str
    level: int
    """The level of the last page: 0 on call, 1 backup, 2 fallback."""
    role: str
    to: str | None
    last_at: datetime
    first_at: datetime
    reached: bool
    """Whether the last page reached at least one target."""
    shift: str | None = None
    backup: str | None = None
    platform: str | None = None
    author: str = ""


@dataclass(slots=True)
class Step:
    """One page sent (or tried) in a run: logged as one ``alert`` entry per 200 items."""

    level: int
    role: str
    to: str | None
    items: list[str]
    result: SendResult
    reason: str
    targets: list[str] = field(default_factory=list)


@dataclass(slots=True)
class RunReport:
    paged: int = 0
    """Items alerted for the first time."""
    escalated: int = 0
    """Items moved to the next level."""
    steps: list[Step] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    waiting: int = 0
    """Unacknowledged chains that will escalate later."""
    next_due: datetime | None = None


@dataclass(slots=True)
class _Targets:
    role: Role
    who: str | None
    urls: list[str]
    problems: list[str]

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.role, self.who)


def chains_from_entries(entries: Iterable[Any]) -> dict[str, Chain]:
    """Every item's chain: the last page that named it (in the order of writing)."""
    out: dict[str, Chain] = {}
    for e in sorted(entries, key=lambda e: e.seq):
        if e.kind != ESCALATION_KIND or not isinstance(e.data, dict) or e.data.get("escalation") != 1:
            continue
        d = e.data
        ids, sevs, lines, authors = d.get("items"), d.get("severities"), d.get("lines"), d.get("authors")
        if not isinstance(ids, list):
            continue
        raw_level = d.get("level")
        level: int = min(max(raw_level, 0), 2) if isinstance(raw_level, int) else 0
        raw_role = d.get("role")
        role: str = raw_role if isinstance(raw_role, str) and raw_role in LEVELS else LEVELS[level]
        reached = isinstance(d.get("sent"), int) and d["sent"] > 0
        for i, item_id in enumerate(ids):
            if not isinstance(item_id, str):
                continue
            try:
                sev = Severity.parse(sevs[i]) if isinstance(sevs, list) and i < len(sevs) else Severity.HIGH
            except (KeyError, ValueError, TypeError):
                sev = Severity.HIGH
            line = lines[i] if isinstance(lines, list) and i < len(lines) and isinstance(lines[i], str) else item_id
            before = out.get(item_id)
            out[item_id] = Chain(
                item_id=item_id,
                severity=sev,
                line=line,
                level=level,
                role=role,
                to=d.get("to") if isinstance(d.get("to"), str) else None,
                last_at=e.ts,
                first_at=before.first_at if before is not None else e.ts,
                reached=reached,
                shift=d.get("shift") if isinstance(d.get("shift"), str) else (before.shift if before else None),
                backup=d.get("backup") if isinstance(d.get("backup"), str) else (before.backup if before else None),
                platform=e.platform or (before.platform if before else None),
                author=authors[i] if isinstance(authors, list) and i < len(authors) and isinstance(authors[i], str)
                else (before.author if before else ""),
            )
    return out


def _default_sender(urls: Sequence[str], alert: Alert) -> SendResult:
    return ApprisePush(urls).send(alert)


class Escalator:
    """Routes item alerts to who is on call and escalates the unacknowledged ones.

    ``log`` is a :class:`~watchtower.core.record.log.HandoverLog`; ``clock`` returns aware UTC
    datetimes (give the log the same one in tests).  ``sender(urls, alert)`` pushes one
    alert to those Apprise URLs (default :class:`ApprisePush`); ``watchlist`` is a
    callable ``entries, now -> Watchlist`` (:func:`watchtower.core.triage.watchlist.watchlist_from_entries`)
    or ``None``.
    """

    def __init__(
        self,
        config: Any,
        log: Any,
        *,
        clock: Callable[[], datetime] = utcnow,
        env: Mapping[str, str] | None = None,
        sender: Callable[[Sequence[str], Alert], SendResult] = _default_sender,
        operator: str = "watchtower",
    ) -> None:
        self.config = config
        self.log = log
        self.clock = clock
        self.env = os.environ if env is None else env
        self.sender = sender
        self.operator = operator
        self.esc = config.alerts.escalation
        self._lock = FileLock(str(Path(log.data_dir) / "escalation.lock"), timeout=LOCK_TIMEOUT,
                              mode=getattr(log, "mode", 0o600))

    # -- targets -----------------------------------------------------------------------

    def _urls(self, envs: Iterable[str], what: str, problems: list[str]) -> list[str]:
        urls = []
        for name in envs:
            value = (self.env.get(name) or "").strip()
            if value:
                urls.append(value)
            else:
                problems.append(f"{what}: environment variable {name} is not set (or empty)")
        return urls

    def _person_envs(self, name: str | None) -> list[str]:
        if not name:
            return []
        people = self.config.rota.people
        if name in people:
            return list(people[name])
        folded = name.casefold()
        for person, envs in people.items():
            if person.casefold() == folded:
                return list(envs)
        return []

    def _shift_envs(self, shift: str | None) -> list[str]:
        for s in self.config.rota.shift:
            if s.name == shift:
                return list(s.apprise_url_envs)
        return []

    def targets(self, role: Role, who: str | None, shift: str | None = None) -> _Targets:
        """The Apprise URLs for one level (secrets: never logged, never shown)."""
        problems: list[str] = []
        if role == "fallback":
            alerts = self.config.alerts
            if self.esc.fallback_url_envs:
                urls = self._urls(self.esc.fallback_url_envs, "alerts.escalation.fallback_url_envs", problems)
            else:
                urls = list(alerts.apprise_urls) + self._urls(alerts.apprise_url_envs, "alerts.apprise_url_envs", problems)
            return _Targets(role, None, urls, problems)
        envs = self._person_envs(who)
        if role == "on_call":
            envs = self._shift_envs(shift) + [e for e in envs if e not in self._shift_envs(shift)]
        urls = self._urls(envs, f"alert targets of {who or 'the shift'}", problems)
        return _Targets(role, who, list(dict.fromkeys(urls)), problems)

    def _rota(self, entries: Sequence[Any]) -> Any:
        from ..coverage.rota import rota_with_overrides

        return rota_with_overrides(self.config, entries)

    # -- the state ---------------------------------------------------------------------

    def _delay(self, severity: Severity) -> timedelta | None:
        minutes = float(getattr(self.esc.after_minutes, severity.label, 0) or 0)
        return timedelta(minutes=minutes) if minutes > 0 else None

    def _watch(self, entries: Sequence[Any], now: datetime) -> Any:
        from ..triage.watchlist import watchlist_from_entries

        return watchlist_from_entries(entries, now)

    def chains(self) -> dict[str, Chain]:
        return chains_from_entries(self.log.entries(kinds=[ESCALATION_KIND]))

    # -- running -----------------------------------------------------------------------

    def page(self, items: Iterable[Item]) -> RunReport:
        """Alert whoever is on call now about ``items`` (the running app's alerts).

        Items already paged (by any process), acknowledged, muted or snoozed are left
        out; the rest get level 0 and their chains start.
        """
        return self._run(list(items), only_page=True)

    def run_due(self, candidates: Iterable[Item] = ()) -> RunReport:
        """Page ``candidates`` that qualify and were never paged, then escalate every
        chain whose time has come.  What ``watchtower escalate-due`` runs from cron."""
        return self._run(list(candidates), only_page=False)

    def _run(self, candidates: list[Item], *, only_page: bool) -> RunReport:
        try:
            self._lock.acquire()
        except Timeout:
            raise StorageError(
                f"escalation is locked by another process for >{LOCK_TIMEOUT:.0f} s ({self._lock.lock_file}); try again"
            ) from None
        try:
            return self._run_locked(candidates, only_page=only_page)
        finally:
            self._lock.release()

    def _run_locked(self, candidates: list[Item], *, only_page: bool) -> RunReport:
        now = self.clock()
        entries = self.log.entries()
        states = item_states(entries)
        chains = chains_from_entries(entries)
        watch = self._watch(entries, now)
        report = RunReport()
        rota = self._rota(entries)

        # 1. First pages.
        fresh: list[Item] = []
        if candidates:
            from ..alert.alerts import Alerter

            qualifies = Alerter(self.config.alerts, env=self.env).qualifies
            crisis = crisis_state(entries).active
            horizon = now - timedelta(hours=float(self.esc.page_within_hours))
            seen: set[str] = set()
            for item in candidates:
                item = watch.apply(item)
                if item.id in chains or item.id in seen or is_acknowledged(states.get(item.id)):
                    continue
                if watch.muted(item) or watch.snoozed_until(item.id, now) is not None:
                    continue
                if not only_page and (not qualifies(item, crisis=crisis) or item.published < horizon):
                    continue
                seen.add(item.id)
                fresh.append(item)
        if fresh:
            st = rota.status(now)
            if st.on_call and (st.covered or st.override is not None):
                first = self._targets_or_next(0, st.on_call, st.shift, st.backup, report)
            else:
                first = (2, self.targets("fallback", None), "nobody is on call")
            level, targets, reason = first
            self._send(level, targets, fresh, reason, report, shift=st.shift, backup=st.backup,
                       on_call=st.on_call, first=True)
            report.paged += len(fresh)
        if only_page:
            return report

        # 2. Escalations.
        due: dict[tuple[int, str | None], tuple[_Targets, list[Chain], str]] = {}
        for chain in chains.values():
            if chain.item_id in states and is_acknowledged(states[chain.item_id]):
                continue
            if chain.level >= 2:
                continue
            if watch.mute_reason(chain.author, chain.line, chain.platform):
                continue
            delay = self._delay(chain.severity)
            if chain.reached:
                if delay is None:
                    continue
                when = chain.last_at + delay
            else:
                when = chain.last_at  # nobody got it: the next level now
            snooze = watch.snoozed_until(chain.item_id, now)
            if snooze is not None:
                when = max(when, snooze)
            if when > now:
                report.waiting += 1
                report.next_due = when if report.next_due is None else min(report.next_due, when)
                continue
            if chain.level == 0:
                nxt = self._targets_or_next(1, chain.backup if chain.backup != chain.to else None, chain.shift, None, report)
            else:
                nxt = (2, self.targets("fallback", None), "")
            level, targets, skipped = nxt
            if not chain.reached:
                why = f"{chain.to or 'the ' + chain.role.replace('_', ' ')} could not be reached"
            else:
                mins = int(delay.total_seconds() // 60) if delay else 0
                why = f"not acknowledged {mins} min after {chain.to or chain.role.replace('_', ' ')} was alerted"
            if skipped:
                why = f"{why}; {skipped}"
            key = (level, targets.who)
            if key in due:
                due[key][1].append(chain)
            else:
                due[key] = (targets, [chain], why)
        for (level, _who), (targets, group, why) in sorted(due.items(), key=lambda kv: kv[0][0]):
            first_chain = group[0]
            self._send_escalation(level, targets, group, why, report, shift=first_chain.shift,
                                  backup=first_chain.backup)
            report.escalated += len(group)
        return report

    def _targets_or_next(
        self, level: int, who: str | None, shift: str | None, backup: str | None, report: RunReport
    ) -> tuple[int, _Targets, str]:
        """The first level from ``level`` on that has a usable target (the fallback last)."""
        skipped: list[str] = []
        if level == 0:
            targets = self.targets("on_call", who, shift)
            if targets.urls:
                return 0, targets, ""
            report.problems.extend(targets.problems)
            skipped.append(f"no alert target for {who} (on call)")
            level, who = 1, (backup if backup != who else None)
        if level == 1 and who:
            targets = self.targets("backup", who)
            if targets.urls:
                return 1, targets, "; ".join(skipped)
            report.problems.extend(targets.problems)
            skipped.append(f"no alert target for {who} (backup)")
        elif level == 1:
            skipped.append("the shift names no backup")
        return 2, self.targets("fallback", None), "; ".join(skipped)

    # -- sending and logging -----------------------------------------------------------

    def _send(self, level: int, targets: _Targets, items: list[Item], reason: str, report: RunReport, *,
              shift: str | None, backup: str | None, on_call: str | None, first: bool) -> None:
        worst = max(items, key=lambda i: (int(i.severity), i.author_followers or 0))
        if len(items) == 1:
            it = items[0]
            title = f"{' '.join(it.severity.badge.split())} {it.platform} {it.author}"
            body = it.headline + (f" {it.url}" if it.url else "")
        else:
            title = f"{len(items)} new mentions need attention"
            body = f"worst: {item_line(worst)}"
        body += f" · ack: watchtower ack {item_ref(worst.id)}"
        if level > 0 and reason:
            body = f"({reason}) {body}"
        alert = Alert(key="items:page", title=title, body=body, severity=worst.severity,
                      item_ids=tuple(i.id for i in items), count=len(items), kind="items")
        rows = [(i.id, i.severity.label, item_line(i), i.platform, i.author) for i in items]
        self._chain_on(level, targets, alert, rows, reason, report, shift=shift, backup=backup)

    def _send_escalation(self, level: int, targets: _Targets, chains: list[Chain], why: str, report: RunReport, *,
                         shift: str | None, backup: str | None) -> None:
        worst = max(chains, key=lambda c: int(c.severity))
        if len(chains) == 1:
            title = f"Escalated: {worst.line}"
        else:
            title = f"Escalated: {len(chains)} alerts not acknowledged"
        body = f"{why}. {'worst: ' if len(chains) > 1 else ''}{worst.line} · ack: watchtower ack {item_ref(worst.item_id)}"
        alert = Alert(key="items:escalation", title=title, body=body, severity=worst.severity,
                      item_ids=tuple(c.item_id for c in chains), count=len(chains), kind="items")
        rows = [(c.item_id, c.severity.label, c.line, c.platform, c.author) for c in chains]
        self._chain_on(level, targets, alert, rows, why, report, shift=shift, backup=backup)

    def _chain_on(self, level: int, targets: _Targets, alert: Alert, rows: Sequence[tuple[str, str, str, str | None, str]],
                  reason: str, report: RunReport, *, shift: str | None, backup: str | None) -> None:
        """Page ``level``; while a page reaches nobody, page the next level at once (saying why)."""
        body = alert.body
        while True:
            step = self._deliver(level, targets, alert, rows, reason, report, shift=shift, backup=backup)
            if step.result.sent > 0 or level >= 2:
                return
            reason = f"{targets.who or LEVELS[level].replace('_', ' ')} could not be reached"
            if level == 0:
                level, targets, skipped = self._targets_or_next(
                    1, backup if backup != targets.who else None, shift, None, report)
            else:
                level, targets, skipped = 2, self.targets("fallback", None), ""
            if skipped:
                reason = f"{reason}; {skipped}"
            alert = replace(alert, body=f"({reason}) {body}")

    def _deliver(self, level: int, targets: _Targets, alert: Alert, rows: Sequence[tuple[str, str, str, str | None, str]],
                 reason: str, report: RunReport, *, shift: str | None, backup: str | None) -> Step:
        report.problems.extend(targets.problems)
        if targets.urls:
            try:
                result = self.sender(targets.urls, alert)
            except Exception as exc:  # noqa: BLE001 - a failed push is a result, never a crash
                result = SendResult(False, 0, len(targets.urls), one_line(f"push failed ({type(exc).__name__})", limit=200))
        else:
            result = SendResult(False, 0, 0, "no alert target configured")
            report.problems.append(f"{LEVELS[level]}: no alert target configured; nobody was alerted")
        labels = [describe_url(u) for u in targets.urls]
        step = Step(level, LEVELS[level], targets.who, [r[0] for r in rows], result, reason, labels)
        report.steps.append(step)
        whom = {"on_call": f"{targets.who} (on call{', ' + shift if shift else ''})",
                "backup": f"{targets.who} (backup)", "fallback": "the fallback"}[LEVELS[level]]
        n = len(rows)
        text = f"alerted {whom}: {n} item{'s' if n != 1 else ''}; {result.message}"
        if reason:
            text += f" ({reason})"
        for start in range(0, n, _PER_ENTRY):
            chunk = rows[start : start + _PER_ENTRY]
            platforms = {r[3] for r in chunk}
            self.log.append(
                ESCALATION_KIND,
                text,
                operator=self.operator,
                item_id=chunk[0][0] if len(chunk) == 1 else None,
                platform=platforms.pop() if len(platforms) == 1 else None,
                data={
                    "escalation": 1,
                    "level": level,
                    "role": LEVELS[level],
                    "to": targets.who,
                    "shift": shift,
                    "backup": backup,
                    "items": [r[0] for r in chunk],
                    "severities": [r[1] for r in chunk],
                    "lines": [r[2] for r in chunk],
                    "authors": [r[4] for r in chunk],
                    "sent": result.sent,
                    "failed": result.failed,
                    "targets": labels,
                    "reason": reason,
                },
            )
        return step

    # -- notices that are not items ------------------------------------------------------

    def notify(self, alert: Alert) -> SendResult:
        """Send a non-item alert (a stale source, an overdue follow-up) to whoever is on call
        now, else the fallback.  Not a chain; not logged."""
        now = self.clock()
        entries = self.log.entries(kinds=["rota_override"])
        st = self._rota(entries).status(now)
        report = RunReport()
        if st.on_call:
            _level, targets, _ = self._targets_or_next(0, st.on_call, st.shift, st.backup, report)
        else:
            targets = self.targets("fallback", None)
        if not targets.urls:
            return SendResult(False, 0, 0, "no alert target configured")
        return self.sender(targets.urls, alert)
