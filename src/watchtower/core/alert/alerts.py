"""Alerts that reach the on-call person, without burying them.

The seeds (docs/product.md) are blunt: monitoring is useless unless it alerts and somebody acts on it,
24/7, weekends included.  An alert that fires 300 times during a pile-on is as useless
as none, so :class:`Alerter` decides *when* to alert and *what one alert says*:

- **Rules.**  An item alerts when its severity is at least ``min_severity``, or when it
  arrived while nobody was on call (``not item.coverage.covered``) and its severity is at
  least ``uncovered_min_severity``.  While a crisis lasts both thresholds drop one level
  (:func:`crisis_threshold`).
- **Once per item.**  An item id alerts at most once; the memory of ids is bounded.
  An item that does not qualify is not remembered, so one that grows (a re-poll with a
  higher severity) can still alert later.
- **One alert per batch.**  Everything that qualifies in one call becomes ONE alert per
  class that says the count and the worst item: ``300 new mentions need attention`` /
  ``worst: !!! CRIT Mastodon @x: ...``.
- **Cooldown per class** (``cooldown_seconds``; the class is global or per platform,
  ``cooldown_scope``).  Items that arrive during the cooldown are held and summarised in
  the next alert, never dropped.  An item *worse* than anything in the last alert breaks
  through the cooldown at once: a critical "we've been hacked" must not wait five minutes
  behind a high one.  That can happen at most once per severity level per cooldown.
- **Acknowledging** an item (``acknowledged=`` or :meth:`Alerter.ack`) removes it from
  held alerts and stops its reminders (``remind_after_seconds``, off by default).
- **Operational alerts**: a source that went stale and an overdue follow-up alert once
  each until they recover or are dealt with.  Stale sources are one class under the same
  cooldown: sources that go silent together (a network outage takes all 21 at once) make
  ONE alert, ``21 sources stale: a, b, c and 18 more``; more that go silent during the
  cooldown are held and summarised when it ends.

Time comes only from the injected ``clock`` (monotonic seconds), so tests drive it.

Channels: :class:`ApprisePush` (phone, chat, e-mail through Apprise; **blocking**, run it
in a worker thread) and :meth:`Alerter.terminal_output` (bell and OSC desktop
notification bytes, see :mod:`watchtower.core.alert.termnotify`; written by the UI thread).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal
from urllib.parse import urlsplit

from ..models import Item, Severity
from ..text.safetext import one_line
from . import termnotify

__all__ = [
    "Alert",
    "AlertKind",
    "Alerter",
    "ApprisePush",
    "SendResult",
    "crisis_threshold",
    "describe_url",
    "TITLE_LIMIT",
    "BODY_LIMIT",
]

AlertKind = Literal["items", "stale", "followup", "crisis"]

#: Push services and phone lock screens show little; a long body is noise.
TITLE_LIMIT = 120
BODY_LIMIT = 600

#: How many alerted (and acknowledged) item ids are remembered.  Far more than a shift
#: sees; the archive dedupes re-polled items long before this matters.
MEMORY = 20_000
#: How many unacknowledged alerted items are tracked for reminders.
REMIND_MEMORY = 2_000


@dataclass(frozen=True, slots=True)
class Alert:
    """One notification for the on-call person.

    ``title`` and ``body`` are cleaned with :func:`~watchtower.core.text.safetext.one_line` and
    clipped on construction, whoever builds the alert: they quote strangers.
    ``key`` names the alert's class (``items:*``, ``items:Mastodon``, ``stale``,
    ``followup:<id>``, ``crisis``), so a UI can replace an older toast of the same class.
    """

    key: str
    title: str
    body: str
    severity: Severity
    item_ids: tuple[str, ...] = ()
    count: int = 0
    kind: AlertKind = "items"

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", one_line(self.key, limit=300))
        object.__setattr__(self, "title", one_line(self.title, limit=TITLE_LIMIT))
        object.__setattr__(self, "body", one_line(self.body, limit=BODY_LIMIT))
        object.__setattr__(self, "item_ids", tuple(self.item_ids))


def crisis_threshold(severity: Severity) -> Severity:
    """The alert threshold while a crisis lasts: one level lower, never below INFO.

    This is only about *alerting*; triage owns any boost of the items' own severity.
    """
    return Severity(max(Severity.INFO, severity - 1))


# --------------------------------------------------------------------------- items


@dataclass(slots=True)
class _Class:
    """The state of one alert class: when it last fired and what is waiting."""

    last_sent: float | None = None
    last_worst: Severity = Severity.INFO
    pending: dict[str, Item] = field(default_factory=dict)


@dataclass(slots=True)
class _Unacked:
    line: str
    severity: Severity
    alerted_at: float
    reminded_at: float


def _worst_key(item: Item) -> tuple[int, int, int]:
    return (int(item.severity), 0 if item.coverage.covered else 1, item.author_followers or 0)


def _item_line(item: Item) -> str:
    """``!!! CRIT Mastodon @x: text``, the line that names an item in an alert."""
    badge = " ".join(item.severity.badge.split())
    return f"{badge} {item.platform} {item.author}: {item.headline}"


class Alerter:
    """Decides which items alert, batches and rate-limits them.  Not thread-safe: call it
    from one thread (the UI thread), and hand the returned alerts to the channels."""

    def __init__(
        self,
        alerts_config: Any,
        *,
        clock: Callable[[], float] = time.monotonic,
        env: Mapping[str, str] = os.environ,
    ) -> None:
        self.config = alerts_config
        self._clock = clock
        self._env = env
        self.min_severity = Severity.parse(alerts_config.min_severity)
        self.uncovered_min_severity = Severity.parse(alerts_config.uncovered_min_severity)
        self.cooldown = float(alerts_config.cooldown_seconds)
        self.scope: str = getattr(alerts_config, "cooldown_scope", "global")
        self.remind_after = float(getattr(alerts_config, "remind_after_seconds", 0) or 0)
        self._classes: dict[str, _Class] = {}
        self._alerted: OrderedDict[str, None] = OrderedDict()
        self._acked: OrderedDict[str, None] = OrderedDict()
        self._unacked: OrderedDict[str, _Unacked] = OrderedDict()
        self._stale: set[str] = set()
        self._stale_pending: dict[str, tuple[str, datetime | None, datetime | None]] = {}
        self._stale_last_sent: float | None = None
        self._followups: OrderedDict[str, None] = OrderedDict()
        self._push: ApprisePush | None = None
        self._push_built = False

    # -- rules -------------------------------------------------------------

    def thresholds(self, *, crisis: bool = False) -> tuple[Severity, Severity]:
        """``(min_severity, uncovered_min_severity)`` in force, lowered during a crisis."""
        if crisis:
            return crisis_threshold(self.min_severity), crisis_threshold(self.uncovered_min_severity)
        return self.min_severity, self.uncovered_min_severity

    def qualifies(self, item: Item, *, crisis: bool = False) -> bool:
        """Whether ``item`` is bad enough to alert (ignoring dedupe and acknowledgement)."""
        always, uncovered = self.thresholds(crisis=crisis)
        if item.severity >= always:
            return True
        return not item.coverage.covered and item.severity >= uncovered

    # -- items -------------------------------------------------------------

    def evaluate(
        self,
        items: Iterable[Item],
        *,
        acknowledged: Iterable[str] = frozenset(),
        crisis: bool = False,
    ) -> list[Alert]:
        """Take a batch of triaged items; return the alerts to send now (often none).

        Call it with every poll's new or updated items, and also with ``[]`` from a timer
        (see :meth:`next_due`), so alerts held by the cooldown go out when it ends even if
        nothing new arrives.  ``acknowledged`` holds ids the operators have dealt with
        (seen, claimed, replied, ignored); it is remembered, so passing each id once is
        enough.
        """
        for item_id in acknowledged:
            self.ack(item_id)
        for item in items:
            if item.id in self._alerted or item.id in self._acked:
                continue
            if not self.qualifies(item, crisis=crisis):
                continue
            self._remember(self._alerted, item.id)
            self._class(self._class_key(item)).pending[item.id] = item
        return self.flush()

    def flush(self) -> list[Alert]:
        """The held alerts whose cooldown has ended, plus any due reminders."""
        now = self._clock()
        out: list[Alert] = []
        for key, cls in self._classes.items():
            if not cls.pending:
                continue
            worst = max(cls.pending.values(), key=_worst_key)
            cooled = cls.last_sent is None or now - cls.last_sent >= self.cooldown
            if cooled or worst.severity > cls.last_worst:
                out.append(self._items_alert(key, list(cls.pending.values()), worst))
                for item in cls.pending.values():
                    self._track_unacked(item, now)
                # A break-through raises the bar for the rest of this cooldown; a fresh
                # cooldown starts from this alert's worst item.
                cls.last_worst = worst.severity if cooled else max(cls.last_worst, worst.severity)
                cls.last_sent = now
                cls.pending.clear()
        stale = self._flush_stale(now)
        if stale is not None:
            out.append(stale)
        reminder = self._reminder(now)
        if reminder is not None:
            out.append(reminder)
        return out

    def next_due(self) -> float | None:
        """Seconds until :meth:`flush` could return something, or ``None`` if nothing waits.

        The UI can arm a one-shot timer with this instead of polling.
        """
        now = self._clock()
        waits: list[float] = []
        for cls in self._classes.values():
            if cls.pending:
                if cls.last_sent is None:
                    waits.append(0.0)
                else:
                    waits.append(max(0.0, cls.last_sent + self.cooldown - now))
        if self._stale_pending:
            last = self._stale_last_sent
            waits.append(0.0 if last is None else max(0.0, last + self.cooldown - now))
        if self.remind_after > 0 and self._unacked:
            oldest = min(u.reminded_at for u in self._unacked.values())
            waits.append(max(0.0, oldest + self.remind_after - now))
        return min(waits) if waits else None

    def ack(self, item_id: str) -> None:
        """An operator dealt with this item: no alert, no held summary, no reminder for it."""
        self._remember(self._acked, item_id)
        self._unacked.pop(item_id, None)
        for cls in self._classes.values():
            cls.pending.pop(item_id, None)

    @property
    def held(self) -> int:
        """How many alerting items wait for a cooldown to end (for a status line)."""
        return sum(len(c.pending) for c in self._classes.values())

    @property
    def stale_held(self) -> int:
        """How many stale sources wait for the cooldown to end before they are alerted."""
        return len(self._stale_pending)

    def _class_key(self, item: Item) -> str:
        return f"items:{item.platform}" if self.scope == "platform" else "items:*"

    def _class(self, key: str) -> _Class:
        cls = self._classes.get(key)
        if cls is None:
            cls = self._classes[key] = _Class()
        return cls

    @staticmethod
    def _remember(memory: OrderedDict[str, None], key: str) -> None:
        memory[key] = None
        memory.move_to_end(key)
        while len(memory) > MEMORY:
            memory.popitem(last=False)

    def _items_alert(self, key: str, items: Sequence[Item], worst: Item) -> Alert:
        count = len(items)
        uncovered = sum(1 for i in items if not i.coverage.covered)
        if count == 1:
            title = f"{' '.join(worst.severity.badge.split())} {worst.platform} {worst.author}"
            body = worst.headline
            if uncovered:
                body = f"{body} [arrived uncovered]"
            if worst.url:
                body = f"{body} {worst.url}"
        else:
            title = f"{count} new mentions need attention"
            parts = [f"worst: {_item_line(worst)}"]
            if uncovered:
                parts.append(f"{uncovered} arrived uncovered")
            per_platform: dict[str, int] = {}
            for i in items:
                per_platform[i.platform] = per_platform.get(i.platform, 0) + 1
            if len(per_platform) > 1:
                ranked = sorted(per_platform.items(), key=lambda kv: (-kv[1], kv[0]))
                parts.append("on " + ", ".join(f"{p} {n}" for p, n in ranked[:6]))
            body = "; ".join(parts)
        return Alert(
            key=key,
            title=title,
            body=body,
            severity=worst.severity,
            item_ids=tuple(i.id for i in items),
            count=count,
            kind="items",
        )

    # -- reminders ---------------------------------------------------------

    def _track_unacked(self, item: Item, now: float) -> None:
        if self.remind_after <= 0:
            return
        self._unacked[item.id] = _Unacked(_item_line(item), item.severity, now, now)
        while len(self._unacked) > REMIND_MEMORY:
            self._unacked.popitem(last=False)

    def _reminder(self, now: float) -> Alert | None:
        if self.remind_after <= 0 or not self._unacked:
            return None
        due = [
            (item_id, u) for item_id, u in self._unacked.items() if now - u.reminded_at >= self.remind_after
        ]
        if not due:
            return None
        for _, u in due:
            u.reminded_at = now
        worst_id, worst = max(due, key=lambda d: (int(d[1].severity), -d[1].alerted_at))
        minutes = int((now - min(u.alerted_at for _, u in due)) // 60)
        n = len(due)
        return Alert(
            key="items:reminder",
            title=f"Still unacknowledged: {n} alert{'s' if n != 1 else ''}",
            body=f"oldest {minutes} min ago; worst: {worst.line}",
            severity=worst.severity,
            item_ids=tuple(item_id for item_id, _ in due),
            count=n,
            kind="items",
        )

    # -- operational alerts ------------------------------------------------

    def stale_source(
        self,
        name: str,
        platform: str,
        last_success: datetime | None,
        *,
        now: datetime | None = None,
    ) -> Alert | None:
        """A source stopped delivering: note it; it alerts once, until :meth:`source_recovered`.

        Returns ``None``: the alert is one summary of every source noted, and comes from
        the next :meth:`flush` (or at once from :meth:`stale_sources`, which takes all of
        a round's stale sources together), under the cooldown.  A caller that notes 21
        sources one by one gets one alert, not 21.  The caller decides staleness (no
        success for ``stale_after_intervals`` poll intervals; the poller's ``is_stale`` decides).
        """
        self._note_stale(name, platform, last_success, now)
        return None

    def stale_sources(
        self,
        stale: Iterable[tuple[str, str, datetime | None]],
        *,
        now: datetime | None = None,
    ) -> Alert | None:
        """Every source found stale this round, as ``(name, platform, last_success)``: at
        most one alert for all of them (``None`` when they all alerted already, or while
        the cooldown holds them; :meth:`flush` sends them when it ends).
        """
        for name, platform, last_success in stale:
            self._note_stale(name, platform, last_success, now)
        return self._flush_stale(self._clock())

    def _note_stale(self, name: str, platform: str, last_success: datetime | None, now: datetime | None) -> None:
        key = f"stale:{name}"
        if key in self._stale:
            return
        self._stale.add(key)
        self._stale_pending[name] = (platform, last_success, now)

    def _flush_stale(self, now: float) -> Alert | None:
        if not self._stale_pending:
            return None
        last = self._stale_last_sent
        if last is not None and now - last < self.cooldown:
            return None
        pending, self._stale_pending = self._stale_pending, {}
        self._stale_last_sent = now
        return _stale_alert(pending)

    def source_recovered(self, name: str) -> None:
        """The source fetched again: a later outage alerts again (and a held one does not)."""
        self._stale.discard(f"stale:{name}")
        self._stale_pending.pop(name, None)

    def overdue_followup(self, text: str, due: datetime, *, followup_id: str | None = None) -> Alert | None:
        """A follow-up (repost the correction, e-mail the complainant) is overdue: alert once.

        Deduplicated by ``followup_id`` when the log gives one, else by text and due time.
        Returns ``None`` when it already alerted.
        """
        ident = followup_id or hashlib.sha1(
            f"{text}\x1f{due.isoformat()}".encode("utf-8", "surrogatepass")
        ).hexdigest()[:16]
        key = f"followup:{ident}"
        if key in self._followups:
            return None
        self._remember(self._followups, key)
        ts = due.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        return Alert(
            key=key,
            title="Follow-up overdue",
            body=f"due {ts}: {text}",
            severity=Severity.MEDIUM,
            count=1,
            kind="followup",
        )

    # -- channels ----------------------------------------------------------

    @property
    def push(self) -> ApprisePush | None:
        """The Apprise channel from the config, or ``None`` when no URL is configured."""
        if not self._push_built:
            self._push_built = True
            push = ApprisePush.from_config(self.config, env=self._env)
            self._push = push if (push.urls or push.problems) else None
        return self._push

    @property
    def problems(self) -> list[str]:
        """Configuration problems with the alert channels, for ``watchtower check`` and the UI."""
        return list(self.push.problems) if self.push is not None else []

    def terminal_output(self, alert: Alert) -> str:
        """What to write to the terminal for ``alert``: a bell and/or a desktop notification,
        as the config asks (``bell``, ``desktop``).  Empty when both are off."""
        out = ""
        if self.config.bell:
            out += termnotify.bell()
        if self.config.desktop:
            out += termnotify.desktop_notification(alert.title, alert.body, env=self._env)
        return out


def _stale_alert(pending: Mapping[str, tuple[str, datetime | None, datetime | None]]) -> Alert:
    """One alert for every source in ``pending`` (name -> platform, last success, now)."""
    names = list(pending)
    platforms = sorted({platform for platform, _, _ in pending.values()})
    n = len(names)
    if n == 1:
        name = names[0]
        platform, last_success, now = pending[name]
        if last_success is None:
            since = "no successful fetch yet"
        else:
            ts = last_success.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            since = f"last successful fetch {ts}"
            if now is not None:
                minutes = max(0, int((now - last_success).total_seconds() // 60))
                since += f" ({minutes} min ago)"
        return Alert(
            key="stale",
            title=f"Source silent: {name} ({platform})",
            body=f"{since}; mentions on {platform} may be missed. Check the source health.",
            severity=Severity.HIGH,
            count=1,
            kind="stale",
        )
    shown = ", ".join(names[:3])
    title = f"{n} sources stale: {shown}" + (f" and {n - 3} more" if n > 3 else "")
    never = sum(1 for _, last, _ in pending.values() if last is None)
    where = ", ".join(platforms[:6]) + (f" and {len(platforms) - 6} more" if len(platforms) > 6 else "")
    body = f"mentions on {where} may be missed"
    if never:
        body += f"; {never} never fetched successfully"
    body += f". Check the source health ({', '.join(names)})."
    return Alert(key="stale", title=title, body=body, severity=Severity.HIGH, count=n, kind="stale")


# --------------------------------------------------------------------------- Apprise


@dataclass(frozen=True, slots=True)
class SendResult:
    """What happened to one push.  ``message`` is safe to show (no secrets, one line)."""

    ok: bool
    sent: int
    failed: int
    message: str

    @property
    def error(self) -> str:
        """The message when something failed, else ``""`` (for callers that only report errors)."""
        return "" if self.ok else self.message


def describe_url(url: str) -> str:
    """``scheme://host`` for a status line, never the secret.

    Many Apprise URLs keep their secret where a host would be (``tgram://BOTTOKEN/...``,
    ``discord://WEBHOOK_ID/TOKEN``), so the host is shown only when it looks like a host
    name (has a dot, or is ``localhost``); otherwise ``scheme://…``.  Paths, users,
    passwords and query strings (the ntfy topic, the Slack tokens) are never shown.
    """
    try:
        parts = urlsplit(url)
        scheme = parts.scheme
        host = parts.hostname or ""
    except ValueError:
        return "(unparseable URL)"
    scheme = one_line(scheme, limit=20) or "?"
    host = one_line(host, limit=80)
    if host and ("." in host or host == "localhost" or ":" in host):
        return f"{scheme}://{host}"
    return f"{scheme}://…"


class ApprisePush:
    """Push alerts to phones and chat through Apprise (ntfy, Slack, Teams, Matrix, e-mail).

    :meth:`send` is **blocking**: it makes one network request per URL, each bounded by
    Apprise's socket timeouts (about 4 s connect + 4 s read).  Run it in a worker thread
    (``@work(thread=True, exit_on_error=False)``), never on the UI thread or the event loop.
    Failures are returned as :class:`SendResult`, never raised.  Safe to call from several
    threads (sends are serialised).  Apprise logs through the ``apprise`` logger; a UI that
    attaches a stderr handler to the root logger should silence it, or it draws over the
    screen.
    """

    def __init__(self, urls: Sequence[str], *, problems: Sequence[str] = ()) -> None:
        self.urls: list[str] = [u for u in urls if u]
        if self.urls:
            import apprise  # here, and only with a URL: the core and a start-up without push do not pay for it

            self._apprise = apprise
        self.problems: list[str] = list(problems)
        self._targets: list[tuple[str, Any]] = []
        # Two workers pushing at once would interleave; one at a time keeps alerts in order.
        self._lock = threading.Lock()
        for n, url in enumerate(self.urls, 1):
            target = apprise.Apprise()
            try:
                added = target.add(url)
            except Exception:  # noqa: BLE001 - a plugin's parser must not crash the app
                added = False
            if added:
                self._targets.append((describe_url(url), target))
            else:
                self.problems.append(
                    f"alerts: Apprise URL #{n} ({describe_url(url)}) is not a URL Apprise understands"
                )

    @classmethod
    def from_config(cls, alerts_config: Any, *, env: Mapping[str, str] = os.environ) -> ApprisePush:
        """URLs from ``apprise_urls`` plus the values of the env vars in ``apprise_url_envs``.

        A variable that is missing or empty becomes a problem message naming it (the
        value, a secret, is never shown).
        """
        urls = list(alerts_config.apprise_urls)
        problems: list[str] = []
        for name in alerts_config.apprise_url_envs:
            value = (env.get(name) or "").strip()
            if value:
                urls.append(value)
            else:
                problems.append(
                    f"alerts.apprise_url_envs: environment variable {name} is not set (or empty);"
                    " alerts will not be pushed to it"
                )
        return cls(urls, problems=problems)

    @property
    def targets(self) -> list[str]:
        """The usable URLs, described safely (``ntfy://ntfy.sh``)."""
        return [label for label, _ in self._targets]

    def send(self, alert: Alert) -> SendResult:
        """Push ``alert`` to every URL.  Blocking; see the class docstring."""
        if not self._targets:
            return SendResult(False, 0, 0, "no push targets configured")
        with self._lock:
            return self._send(alert)

    def _send(self, alert: Alert) -> SendResult:
        notify_type = self._notify_type(alert.severity)
        sent = 0
        failures: list[str] = []
        for label, target in self._targets:
            try:
                ok = target.notify(
                    title=alert.title,
                    body=alert.body or alert.title,
                    notify_type=notify_type,
                    body_format=self._apprise.NotifyFormat.TEXT,
                )
            except Exception as exc:  # noqa: BLE001 - failures are results
                ok = False
                label = f"{label} ({type(exc).__name__})"
            if ok:
                sent += 1
            else:
                failures.append(label)
        if failures:
            message = f"push failed for {', '.join(failures)}"
            if sent:
                message += f"; sent to {sent}"
        else:
            message = f"pushed to {sent} target{'s' if sent != 1 else ''}"
        return SendResult(not failures, sent, len(failures), one_line(message, limit=300))

    def _notify_type(self, severity: Severity) -> Any:
        nt = self._apprise.NotifyType
        if severity >= Severity.CRITICAL:
            return nt.FAILURE
        if severity >= Severity.MEDIUM:
            return nt.WARNING
        return nt.INFO
