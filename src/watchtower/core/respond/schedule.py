"""Scheduled posts: "tweet the correction again a few hours later", sent exactly once.

A scheduled post is an entry in the handover log, so every operator, the TUI and
``watchtower due`` (a cron job or a systemd timer) see the same list, and the handover
shows it.  Whoever runs when it is due sends it; it is never sent twice.

Entries (in the order written; see :func:`scheduled_posts` for the fold):

======================  ==================================================================
kind                    meaning, ``data``
======================  ==================================================================
``scheduled``           the post: ``text`` is the post; ``account`` (handle),
                        ``platform``, ``due`` (ISO, UTC), ``key`` (idempotency key),
                        ``language``, ``about`` (the item it is about), ``template``
``schedule_sending``    a run took it: ``schedule`` (the ``scheduled`` entry's id),
                        ``attempt``, ``lease_until`` (ISO), ``runner`` (host, pid)
``posted``              it went out: ``schedule``, ``attempt``, ``url``, ``post_id``,
                        ``account``, ``statement`` (true), ``found`` (true when an
                        uncertain attempt turned out to have posted it)
``schedule_failed``     an attempt failed: ``schedule``, ``attempt``, ``error``,
                        ``uncertain``, ``transient``
``schedule_cancelled``  cancelled before it went out: ``schedule``
======================  ==================================================================

Never twice
-----------
1. **Check-and-set under the log's lock.**  A run takes a post by writing
   ``schedule_sending`` while it holds the log's cross-process lock, after reading the
   post's state under that same lock.  Of several runs at once (two ``watchtower due``, the
   TUI and a cron job) exactly one takes it; the others see it taken and skip it.
2. **Write before posting.**  The ``schedule_sending`` entry is on disk before the
   request leaves, so a run that dies mid-request leaves a trace.  Its lease
   (:func:`lease_for`) says how long the attempt may take; after it (or at once, when the
   runner was a process on this host that is gone) the attempt is *uncertain*.
3. **Look before re-sending.**  An uncertain attempt (a timeout, a dropped connection,
   a 5xx, a run that died) is followed by a look at our account's recent posts
   (:meth:`~watchtower.core.respond.posting.Poster.find_own_post`: Bluesky ``listRecords``,
   Mastodon our statuses); if the post is there it is recorded as sent, not sent again.
   If we cannot look, it waits.
4. **The same idempotency key for every attempt**, sent as ``Idempotency-Key`` on
   Mastodon, so the instance answers a retry with the status it already made.

A failure that surely posted nothing and may pass (no connection, a rate limit) leaves
the post due, up to :data:`MAX_TRANSIENT` times; a refusal (bad token, text refused) marks
it failed for the operator to cancel or schedule again.

Every entry is written with the log's public API: :meth:`~watchtower.core.record.log.HandoverLog.append`
(these kinds are among its :data:`~watchtower.core.record.log.MODULE_KINDS`) and, for taking and
cancelling, its check-and-set :meth:`~watchtower.core.record.log.HandoverLog.append_if`.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Any, Literal

from ...errors import ScheduleError
from ..models import Item, parse_iso, utcnow
from ..text.safetext import clean, one_line
from ..text.textlength import check as length_check
from ..text.textlength import platform_key

if TYPE_CHECKING:
    from ...config import Account, Config
    from ..record.log import HandoverLog, LogEntry
    from .posting import Poster

__all__ = [
    "SCHEDULED",
    "SENDING",
    "CANCELLED",
    "FAILED",
    "POSTED",
    "SCHEDULE_KINDS",
    "MAX_TRANSIENT",
    "MAX_LATE",
    "is_late",
    "ScheduleError",
    "ScheduledPost",
    "Outcome",
    "State",
    "scheduled_posts",
    "open_posts",
    "schedule_post",
    "cancel",
    "send_due",
    "send_now",
    "lease_for",
    "describe",
    "record_entry",
    "close_followup",
    "DueRunner",
    "TICK_SECONDS",
]

SCHEDULED = "scheduled"
SENDING = "schedule_sending"
CANCELLED = "schedule_cancelled"
FAILED = "schedule_failed"
POSTED = "posted"
#: Every kind this module writes or reads.
SCHEDULE_KINDS = frozenset({SCHEDULED, SENDING, CANCELLED, FAILED, POSTED})

#: Failures that surely posted nothing (no connection, rate limit) before a post is failed.
MAX_TRANSIENT = 5
#: The shortest lease an attempt gets; see :func:`lease_for`.
MIN_LEASE = timedelta(minutes=3)

State = Literal["pending", "sending", "uncertain", "sent", "failed", "cancelled"]


def lease_for(timeout: float) -> timedelta:
    """How long one attempt may take before another run treats it as uncertain: every
    request of an attempt (login, look-up, post) at its full timeout, and a margin."""
    return max(MIN_LEASE, timedelta(seconds=4 * timeout + 60))


@dataclass(slots=True)
class ScheduledPost:
    """A scheduled post as the log says now."""

    id: str
    text: str
    account: str
    """Our account's handle, as in the config."""
    platform: str
    due: datetime
    key: str
    """The idempotency key, the same for every attempt."""
    set_by: str
    set_at: datetime
    language: str | None = None
    about: str | None = None
    """The id of the item it is about (the incorrect post), if any."""
    template: str | None = None
    state: State = "pending"
    attempts: int = 0
    transient_failures: int = 0
    ever_uncertain: bool = False
    """An attempt's outcome was unknown: look at our posts before sending again."""
    first_attempt_at: datetime | None = None
    lease_until: datetime | None = None
    runner: dict[str, Any] = field(default_factory=dict)
    taken_by: str | None = None
    error: str = ""
    url: str | None = None
    post_id: str | None = None
    sent_at: datetime | None = None
    sent_by: str | None = None
    cancelled_by: str | None = None
    cancelled_at: datetime | None = None

    @property
    def open(self) -> bool:
        """Still to do something about: not sent and not cancelled."""
        return self.state not in ("sent", "cancelled")

    def is_due(self, now: datetime) -> bool:
        return self.due <= now


_ts = parse_iso  # our own stamps read back (core/models.py)


def _runner() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid()}


def _runner_gone(runner: Mapping[str, Any]) -> bool:
    """True when the run that took a post was a process on this host that no longer exists."""
    if runner.get("host") != socket.gethostname():
        return False
    pid = runner.get("pid")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # PermissionError: someone else's process, alive
        return False
    return False


def scheduled_posts(
    entries: Iterable[LogEntry],
    now: datetime | None = None,
    *,
    alive: Callable[[Mapping[str, Any]], bool] | None = None,
) -> list[ScheduledPost]:
    """Every scheduled post in ``entries`` (the log, in the order written), earliest due first.

    ``now`` decides whether an attempt still running has outlived its lease (then it is
    ``uncertain``).  ``alive(runner)`` may say a runner is gone sooner (default: a
    process on this host that no longer exists).
    """
    now = now or utcnow()
    gone = (lambda r: not alive(r)) if alive is not None else _runner_gone
    posts: dict[str, ScheduledPost] = {}
    for e in sorted(entries, key=lambda e: e.seq):
        if e.kind == SCHEDULED:
            d = e.data
            due = _ts(d.get("due")) or e.ts
            posts[e.id] = ScheduledPost(
                id=e.id,
                text=e.text,
                account=one_line(d.get("account"), limit=200),
                platform=one_line(d.get("platform") or e.platform, limit=64),
                due=due,
                key=one_line(d.get("key"), limit=128),
                set_by=e.operator,
                set_at=e.ts,
                language=one_line(d.get("language"), limit=16) or None,
                about=one_line(d.get("about") or e.item_id, limit=600) or None,
                template=one_line(d.get("template"), limit=64) or None,
            )
            continue
        if e.kind not in SCHEDULE_KINDS:
            continue
        ref = e.data.get("schedule")
        post = posts.get(ref) if isinstance(ref, str) else None
        if post is None or post.state in ("sent", "cancelled"):
            continue
        if e.kind == SENDING:
            post.state = "sending"
            post.attempts = max(post.attempts + 1, _int(e.data.get("attempt")))
            post.first_attempt_at = post.first_attempt_at or e.ts
            post.lease_until = _ts(e.data.get("lease_until")) or e.ts + MIN_LEASE
            runner = e.data.get("runner")
            post.runner = dict(runner) if isinstance(runner, dict) else {}
            post.taken_by = e.operator
        elif e.kind == POSTED:
            post.state = "sent"
            post.url = one_line(e.data.get("url"), limit=2048) or None
            post.post_id = one_line(e.data.get("post_id"), limit=512) or None
            post.sent_at, post.sent_by = e.ts, e.operator
            post.error = ""
        elif e.kind == FAILED:
            post.error = one_line(e.data.get("error") or e.text, limit=400)
            if e.data.get("uncertain"):
                post.state = "uncertain"
                post.ever_uncertain = True
            elif e.data.get("transient"):
                post.transient_failures += 1
                post.state = "failed" if post.transient_failures >= MAX_TRANSIENT else "pending"
            else:
                post.state = "failed"
        elif e.kind == CANCELLED:
            post.state = "cancelled"
            post.cancelled_by, post.cancelled_at = e.operator, e.ts
    for post in posts.values():
        if post.state == "sending" and (
            (post.lease_until is not None and now > post.lease_until) or gone(post.runner)
        ):
            post.state = "uncertain"
            post.ever_uncertain = True
            post.error = post.error or "an attempt did not finish (the run stopped or timed out)"
    return sorted(posts.values(), key=lambda p: (p.due, p.set_at))


def open_posts(entries: Iterable[LogEntry], now: datetime | None = None) -> list[ScheduledPost]:
    """Scheduled posts not sent and not cancelled, earliest due first (the follow-ups list)."""
    return [p for p in scheduled_posts(entries, now) if p.open]


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


# -- writing ------------------------------------------------------------------------------


def record_entry(
    log: HandoverLog,
    kind: str,
    text: str = "",
    *,
    operator: str,
    item_id: str | None = None,
    platform: str | None = None,
    excerpt: str = "",
    data: Mapping[str, Any] | None = None,
    check: Callable[[list[LogEntry]], Mapping[str, Any] | None] | None = None,
    check_kinds: Iterable[str] | None = None,
    entry_id: str | None = None,
) -> LogEntry:
    """Append one entry; with ``check``, as a check-and-set.  Kept for existing callers:
    new code calls :meth:`HandoverLog.append` or :meth:`HandoverLog.append_if` itself.

    ``kind`` is one the log accepts (:data:`~watchtower.core.record.log.ALL_KINDS`).
    ``check(entries)`` runs under the log's cross-process lock with the log's entries (of
    ``check_kinds``, if given) as they are at that moment.  It raises (a
    :class:`ScheduleError`, say) to write nothing, or returns more ``data`` for the entry
    (``None``: none).  The entry is on disk when this returns.
    """
    if check is None:
        return log.append(
            kind, text, operator=operator, item_id=item_id, platform=platform, excerpt=excerpt, data=data,
            entry_id=entry_id,
        )
    extra = check
    entry = log.append_if(
        lambda entries: extra(entries) or {}, kind, text, kinds=check_kinds, operator=operator, item_id=item_id,
        platform=platform, excerpt=excerpt, data=data, entry_id=entry_id,
    )
    assert entry is not None  # this check never says no; it raises
    return entry


# -- scheduling and cancelling -------------------------------------------------------------


def _api_problem(account: Account) -> str | None:
    key = platform_key(account.platform)
    if key not in ("mastodon", "bluesky"):
        return (
            f"no posting API for {account.platform}: a scheduled post needs Mastodon or Bluesky "
            "(set a follow-up to post it by hand instead)"
        )
    if key == "mastodon" and not (account.api_url and account.token_env):
        return f"the {account.platform} account {account.handle} needs api_url and token_env to post"
    if key == "bluesky" and not account.password_env:
        return f"the {account.platform} account {account.handle} needs password_env to post"
    return None


def schedule_post(
    log: HandoverLog,
    *,
    account: Account,
    text: str,
    due: datetime,
    operator: str,
    about: Item | None = None,
    about_id: str | None = None,
    language: str | None = None,
    template: str | None = None,
) -> ScheduledPost:
    """Put a post in the log, to be sent as ``account`` at ``due``.

    Refused (:class:`ScheduleError`) when the text is empty or too long for the platform,
    or the account cannot post through an API.  The env var with the token need not be set
    here: the run that sends it (perhaps a cron job) needs it.
    """
    from .posting import idempotency_key

    body = clean(text, limit=16 * 1024).strip()
    if not body:
        raise ScheduleError("the post is empty")
    problem = _api_problem(account)
    if problem:
        raise ScheduleError(problem)
    length = length_check(body, account.platform)
    if not length.ok:
        raise ScheduleError(f"the post is {length.over} characters too long for {account.platform} ({length})")
    if due.tzinfo is None:
        raise ScheduleError("the due time needs a time zone")
    sid = uuid.uuid4().hex
    key = idempotency_key(account.handle, f"schedule:{sid}", body)
    item_id = about.id if about is not None else about_id
    entry = log.append(
        SCHEDULED,
        body,
        operator=operator,
        platform=account.platform,
        excerpt=one_line(about.headline, limit=200) if about is not None else "",
        data={
            "account": account.handle,
            "platform": account.platform,
            "due": due.astimezone(timezone.utc).isoformat(),
            "key": key,
            "language": language,
            "about": item_id,
            "template": template,
        },
        entry_id=sid,
    )
    return ScheduledPost(
        id=entry.id, text=entry.text, account=account.handle, platform=account.platform,
        due=due.astimezone(timezone.utc), key=key, set_by=entry.operator, set_at=entry.ts,
        language=language, about=item_id, template=template,
    )


def _find(posts: Sequence[ScheduledPost], schedule_id: str) -> ScheduledPost:
    matches = [p for p in posts if p.id == schedule_id]
    if not matches and len(schedule_id) >= 6:
        matches = [p for p in posts if p.id.startswith(schedule_id)]
    if not matches:
        raise ScheduleError(f"no scheduled post with id {one_line(schedule_id, limit=64)}")
    if len(matches) > 1:
        raise ScheduleError(f"the id {one_line(schedule_id, limit=64)} matches {len(matches)} scheduled posts; give more of it")
    return matches[0]


#: A scheduled post this far past its time is not sent by ``watchtower due`` or the app's
#: ticker: after a machine was off for a weekend, "the library is open again today" would
#: be wrong.  An operator reads it and sends it by hand or cancels it (README, "Scheduled posts").
MAX_LATE = timedelta(hours=6)


def is_late(post: ScheduledPost, now: datetime) -> bool:
    """Still to go and more than :data:`MAX_LATE` past its time: held for an operator."""
    return post.open and post.state != "sending" and now - post.due > MAX_LATE


def _late_message(post: ScheduledPost, now: datetime) -> str:
    return (f"not sent: it was due {_ago(now - post.due)} ago, more than {_ago(MAX_LATE)} late, and may no longer "
            f"be true. Read it, then `watchtower schedule send {post.id[:8]}` or cancel it")


def _ago(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h"
    days = hours // 24
    return f"{days} days" if days < 14 else f"{days // 7} weeks"


def _when(ts: datetime | None, tz: tzinfo | None = None) -> str:
    if ts is None:
        return "?"
    return ts.astimezone(tz or timezone.utc).strftime("%Y-%m-%d %H:%M %Z")


def cancel(
    log: HandoverLog,
    schedule_id: str,
    *,
    operator: str,
    now: datetime | None = None,
    tz: tzinfo | None = None,
) -> ScheduledPost:
    """Cancel a scheduled post (an id or a unique prefix of at least 6 characters).

    A check-and-set: refused when it was sent already, or a run is sending it right now.
    An *uncertain* one may be cancelled (it may have gone out: look at the account).
    Returns the post as it was when cancelled.
    """
    found: list[ScheduledPost] = []

    def check(entries: list[LogEntry]) -> dict[str, Any]:
        post = _find(scheduled_posts(entries, now or utcnow()), schedule_id)
        if post.state == "sent":
            raise ScheduleError(f"already sent by {post.sent_by} at {_when(post.sent_at, tz)}: {post.url or ''}".rstrip(": "))
        if post.state == "cancelled":
            raise ScheduleError(f"already cancelled by {post.cancelled_by} at {_when(post.cancelled_at, tz)}")
        if post.state == "sending":
            raise ScheduleError(f"{post.taken_by} is sending it right now; it cannot be cancelled")
        found.append(post)
        return {"schedule": post.id}

    entry = log.append_if(check, CANCELLED, operator=operator, kinds=SCHEDULE_KINDS)
    assert entry is not None  # the check says no by raising
    post = found[0]
    post.state, post.cancelled_by, post.cancelled_at = "cancelled", entry.operator, entry.ts
    return post


# -- sending ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Outcome:
    """What one run did about one post.  ``message`` is one line, safe to show."""

    post: ScheduledPost
    action: Literal["sent", "found", "failed", "uncertain", "skipped", "would-send", "held", "late"]
    """``held``: not sent and nothing written, because of the setup here (an env var with
    the token is not set): it stays due for a run that has it.  ``late``: not sent and
    nothing written, because it is more than :data:`MAX_LATE` past its time; only an
    operator sends it (``watchtower schedule send ID``) or cancels it."""
    message: str
    url: str | None = None
    """The post's address, when it went out (``sent``, ``found``)."""

    @property
    def ok(self) -> bool:
        return self.action in ("sent", "found", "skipped", "would-send")


@dataclass(slots=True)
class _Claim:
    post: ScheduledPost
    attempt: int
    verify: bool


def _claim(log: HandoverLog, schedule_id: str, operator: str, now: datetime, lease: timedelta) -> _Claim | str:
    """Take the post under the lock, or say (a string) why not."""
    got: list[_Claim] = []
    why: list[str] = []

    def check(entries: list[LogEntry]) -> dict[str, Any] | None:
        post = next((p for p in scheduled_posts(entries, now) if p.id == schedule_id), None)
        if post is None:
            why.append("no longer in the log")
            return None
        if post.state not in ("pending", "uncertain") or not post.is_due(now):
            why.append(_skip_reason(post))
            return None
        attempt = post.attempts + 1
        got.append(_Claim(post, attempt, verify=post.ever_uncertain or post.state == "uncertain"))
        return {
            "schedule": post.id,
            "attempt": attempt,
            "lease_until": (now + lease).isoformat(),
            "runner": _runner(),
            "key": post.key,
        }

    if log.append_if(check, SENDING, operator=operator, kinds=SCHEDULE_KINDS) is None:
        return why[0] if why else "not due"
    return got[0]


def _skip_reason(post: ScheduledPost) -> str:
    if post.state == "sending":
        return f"being sent by {post.taken_by} (another run) right now"
    if post.state == "sent":
        return f"already sent by {post.sent_by}"
    if post.state == "cancelled":
        return f"cancelled by {post.cancelled_by}"
    if post.state == "failed":
        return f"failed: {post.error}"
    return "not due yet"


def _result(log: HandoverLog, post: ScheduledPost, kind: str, operator: str, data: dict[str, Any], text: str = "") -> None:
    log.append(
        kind, text, operator=operator, platform=post.platform if kind == POSTED else None,
        data={"schedule": post.id, **data},
    )


async def _attempt(
    log: HandoverLog, config: Config, poster: Poster, claim: _Claim, operator: str
) -> Outcome:
    post = claim.post
    base = {"attempt": claim.attempt}
    account = poster.account_by_handle(post.account, post.platform)
    if account is None:
        msg = f"the account {post.account} on {post.platform} is no longer in the config"
        await asyncio.to_thread(_result, log, post, FAILED, operator, {**base, "error": msg})
        return Outcome(post, "failed", msg)
    if claim.verify:
        since = post.first_attempt_at or post.set_at
        found = await poster.find_own_post(account, post.text, since)
        if not found.checked:
            msg = f"an earlier attempt may have posted it and we could not check: {found.error}"
            await asyncio.to_thread(_result, log, post, FAILED, operator, {**base, "error": msg, "uncertain": True})
            return Outcome(post, "uncertain", msg)
        if found.found:
            data = {**base, "url": found.url, "post_id": found.id, "account": account.handle,
                    "statement": True, "found": True, "about": post.about}
            await asyncio.to_thread(_result, log, post, POSTED, operator, data, post.text)
            return Outcome(post, "found", f"an earlier attempt had posted it: {found.url or found.id}", found.url)
    result = await poster.statement(account, post.text, key=post.key, language=post.language)
    if result.ok:
        data = {**base, "url": result.url, "post_id": result.id, "account": account.handle,
                "statement": True, "about": post.about}
        await asyncio.to_thread(_result, log, post, POSTED, operator, data, post.text)
        return Outcome(post, "sent", f"sent as {account.handle} on {account.platform}: {result.url or result.id}", result.url)
    data = {**base, "error": result.error or "failed", "uncertain": result.uncertain, "transient": result.transient}
    await asyncio.to_thread(_result, log, post, FAILED, operator, data)
    if result.uncertain:
        return Outcome(post, "uncertain", f"may or may not have gone out: {result.error}")
    return Outcome(post, "failed", result.error or "failed")


async def send_due(
    log: HandoverLog,
    config: Config,
    *,
    operator: str,
    poster: Poster | None = None,
    now: datetime | None = None,
    dry_run: bool = False,
    only: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> list[Outcome]:
    """Send every scheduled post that is due (or only the one with id ``only``).

    Safe to run from several processes at once (see the module docstring).  ``dry_run``
    takes nothing and sends nothing: it says what would be sent.  Never raises for a
    network or server problem (they are outcomes); a log that cannot be written raises
    :class:`~watchtower.core.record.paths.StorageError`.
    """
    from .posting import DEFAULT_TIMEOUT, Poster

    fixed = now
    now = now or utcnow()
    entries = await asyncio.to_thread(log.entries, None, None, SCHEDULE_KINDS)
    posts = scheduled_posts(entries, now)
    if only is not None:
        posts = [_find(posts, only)]
    # Taken by another run (its lease still running): reported, not touched.
    due = [p for p in posts if p.state in ("pending", "uncertain", "sending") and p.is_due(now)]
    outcomes: list[Outcome] = []
    if only is None:  # named by an operator: sent however late
        outcomes = [Outcome(p, "late", _late_message(p, now)) for p in due if is_late(p, now)]
        due = [p for p in due if not is_late(p, now)]
    if dry_run:
        return outcomes + [
            Outcome(p, "would-send", f"would {'check our posts, then ' if p.state == 'uncertain' or p.ever_uncertain else ''}"
                    f"send as {p.account} on {p.platform}")
            if p.state != "sending"
            else Outcome(p, "skipped", _skip_reason(p))
            for p in due
        ]
    own = poster is None
    if poster is None:
        poster = Poster(config, env=env, timeout=timeout or DEFAULT_TIMEOUT)
    lease = lease_for(poster.timeout)
    try:
        for post in due:
            if post.state == "sending":
                outcomes.append(Outcome(post, "skipped", _skip_reason(post)))
                continue
            account = poster.account_by_handle(post.account, post.platform)
            setup = poster.why_cannot(account, post.platform) if account is not None else None
            if setup is not None:
                outcomes.append(Outcome(post, "held", f"not sent, still due: {setup}"))
                continue
            at = fixed or utcnow()
            claim = await asyncio.to_thread(_claim, log, post.id, operator, at, lease)
            if isinstance(claim, str):
                outcomes.append(Outcome(post, "skipped", claim))
                continue
            try:
                outcomes.append(await _attempt(log, config, poster, claim, operator))
            except Exception as exc:  # noqa: BLE001 - the attempt is recorded, whatever broke
                msg = f"the attempt stopped with an internal error ({type(exc).__name__}); it may or may not have gone out"
                await asyncio.to_thread(
                    _result, log, claim.post, FAILED, operator, {"attempt": claim.attempt, "error": msg, "uncertain": True}
                )
                outcomes.append(Outcome(claim.post, "uncertain", msg))
    finally:
        if own:
            await poster.aclose()
    return outcomes


async def send_now(
    log: HandoverLog,
    config: Config,
    *,
    account: Account,
    text: str,
    operator: str,
    poster: Poster | None = None,
    about: Item | None = None,
    language: str | None = None,
    template: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Outcome:
    """Post a statement now (our own post, not a reply), through the same never-twice path:
    it is scheduled for now and sent at once, so a double key press, a crash or a
    timeout cannot post it twice, and the log has it like any other post."""
    now = utcnow()
    post = await asyncio.to_thread(
        lambda: schedule_post(
            log, account=account, text=text, due=now, operator=operator, about=about,
            language=language, template=template,
        )
    )
    outcomes = await send_due(log, config, operator=operator, poster=poster, now=now, only=post.id, env=env)
    return outcomes[0] if outcomes else Outcome(post, "skipped", "not sent")


def describe(post: ScheduledPost, tz: tzinfo | None = None, *, now: datetime | None = None) -> str:
    """One line for a list: ``due Tue 14 Nov 17:05 CET · pending · Mastodon @bieb · text``."""
    state: str = post.state
    if post.state == "pending" and now is not None and post.is_due(now):
        state = f"late, held ({_ago(now - post.due)}): send or cancel by hand" if is_late(post, now) else "due now"
    extra = ""
    if post.state == "sent":
        extra = f" by {post.sent_by} {_when(post.sent_at, tz)}{' ' + post.url if post.url else ''}"
    elif post.state == "cancelled":
        extra = f" by {post.cancelled_by}"
    elif post.state in ("failed", "uncertain") and post.error:
        extra = f" ({one_line(post.error, limit=160)})"
    return (
        f"{_when(post.due, tz)} · {state}{extra} · {one_line(post.platform, limit=32)} "
        f"{one_line(post.account, limit=64)} · {one_line(post.text, limit=120)}"
    )


#: How often the running app looks for due posts (``watchtower due`` from cron: every minute).
TICK_SECONDS = 30.0


class DueRunner:
    """What the running app calls every :data:`TICK_SECONDS`: send what is due, one run at a time.

    Keeps one :class:`~watchtower.core.respond.posting.Poster` (one Bluesky session per account)
    for the app's life.  A tick while the previous one still runs returns ``[]`` at once.
    ``await runner.aclose()`` on exit.  Safe next to ``watchtower due`` and other
    operators' apps: see the module docstring.
    """

    def __init__(self, log: HandoverLog, config: Config, *, operator: str, poster: Poster | None = None,
                 env: Mapping[str, str] | None = None) -> None:
        from .posting import Poster as _Poster

        self.log = log
        self.config = config
        self.operator = operator
        self._own = poster is None
        self.poster = poster or _Poster(config, env=env)
        self._busy = False

    async def tick(self, now: datetime | None = None) -> list[Outcome]:
        """Send what is due now; the outcomes to show (``held`` ones once per post and reason)."""
        if self._busy:
            return []
        self._busy = True
        try:
            return await send_due(self.log, self.config, operator=self.operator, poster=self.poster, now=now)
        finally:
            self._busy = False

    async def aclose(self) -> None:
        if self._own:
            await self.poster.aclose()


# -- the follow-ups screen -------------------------------------------------------------------


def close_followup(
    log: HandoverLog,
    followup: Any,
    *,
    operator: str,
    dismissed: bool = False,
    text: str | None = None,
) -> LogEntry:
    """Mark one follow-up done (or dismissed), and only that one.

    ``followup`` is a :class:`~watchtower.core.record.decisions.FollowUp`.  The entry names it by
    id (``data["followup"]``), so another follow-up of the same item stays open, and it
    carries the follow-up's item id and platform itself, so one whose item has left
    memory (or the archive) closes all the same.
    """
    return log.append(
        "followup_dismissed" if dismissed else "followup_done",
        text if text is not None else getattr(followup, "text", ""),
        operator=operator,
        item_id=getattr(followup, "item_id", None),
        platform=getattr(followup, "platform", None),
        data={"followup": followup.id},
    )

