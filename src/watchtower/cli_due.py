"""``watchtower due`` and ``watchtower schedule ...``: scheduled posts from a shell, cron or a timer.

``watchtower due`` sends every scheduled post that is due, exactly once, even while a TUI
or another ``due`` runs at the same moment (:mod:`watchtower.core.respond.schedule`).  Run it every
minute from cron (``* * * * * watchtower due --config /etc/watchtower.toml``) or a systemd
timer, so the correction goes out again three hours later when nobody has the TUI open.
It prints nothing when nothing is due (cron mails output); one line per post otherwise.

``watchtower schedule add|list|send|cancel`` sets, lists, sends and cancels them without
the TUI.  A post more than six hours past its time is *late*: ``due`` leaves it for an
operator to read and send (``schedule send ID``) or cancel, because after a weekend with
the machine off a correction may no longer be true.

``--config``, ``--data-dir`` and ``--operator`` are the global options of
:mod:`watchtower.cli_options` (before or after the command).  These commands need a real
config (the accounts that post and the env vars with their tokens): no config, or
``--demo``, is exit 2.  Exit status of ``due``: 0 everything due went out (or nothing
was due), 1 a post failed, may not have gone out or is late (held for an operator), 2 a mistake in the setup (config, data
directory, an env var with a token that is not set: those posts stay due).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import click

from .cli_options import GLOBALS_EPILOG, fail, global_options, global_settings, user_errors
from .config import Config, load_config, require_config

__all__ = ["due_command", "schedule_group"]

F = TypeVar("F", bound=Callable[..., Any])


_fail = fail
_user_errors = user_errors


class _Ctx:
    """The config, data dir, log and operator for one command."""

    def __init__(self, *, scan: bool = True) -> None:
        from .core.record.log import HandoverLog
        from .core.record.paths import resolve_data_dir, resolve_operator

        settings = global_settings()
        if settings.demo:
            _fail("scheduled posts go out through your own accounts; the demo has none (pass --config)")
        self.config: Config = load_config(require_config(settings.config_path))
        self.data_dir: Path = resolve_data_dir(settings.data_dir, self.config)
        self.tz = self.config.organisation.tz
        self.log = HandoverLog(self.data_dir, group_shared=self.config.data.group_shared, scan=scan)
        for problem in self.log.problems:
            click.echo(f"watchtower: warning: {problem}", err=True)
        self.operator = resolve_operator(settings.operator, self.config)


def _short(schedule_id: str) -> str:
    return schedule_id[:8]


# -- due ---------------------------------------------------------------------------------------


def _send_due(ctx: _Ctx, timeout: float, **kwargs: Any) -> list[Any]:
    """:func:`~watchtower.core.respond.schedule.send_due` with a poster of its own, closed after."""
    import asyncio

    from .core.respond.posting import Poster
    from .core.respond.schedule import send_due

    poster = Poster(ctx.config, timeout=timeout)

    async def go() -> list[Any]:
        try:
            return await send_due(ctx.log, ctx.config, operator=ctx.operator, poster=poster, **kwargs)
        finally:
            await poster.aclose()

    return asyncio.run(go())


@click.command("due", epilog=GLOBALS_EPILOG)
@click.option("--dry-run", is_flag=True, help="Say what would be sent; send nothing and write nothing.")
@click.option("--timeout", type=click.FloatRange(1, 3600), default=20.0, show_default=True,
              help="Seconds to wait for each request to a platform.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per post per line.")
@global_options
@_user_errors
def due_command(dry_run: bool, timeout: float, as_json: bool) -> None:
    """Send the scheduled posts that are due, each exactly once (for cron or a systemd timer).

    Safe while the TUI or another `watchtower due` runs: a post is taken under the log's
    lock before it is sent, and after an attempt whose outcome is unknown our own recent
    posts are checked before it is sent again.  Prints nothing when nothing is due.
    """
    outcomes = _send_due(_Ctx(), timeout, dry_run=dry_run)
    failed = 0
    setup = 0
    for o in outcomes:
        if o.action in ("failed", "uncertain", "late"):
            failed += 1
        if o.action == "held":
            setup += 1
        if as_json:
            click.echo(json.dumps({
                "id": o.post.id, "action": o.action, "message": o.message, "url": o.url,
                "account": o.post.account, "platform": o.post.platform, "due": o.post.due.isoformat(),
            }, ensure_ascii=False))
            continue
        stream_err = o.action in ("failed", "uncertain", "held", "late")
        click.echo(f"{o.action:<10} {_short(o.post.id)}  {o.message}", err=stream_err)
    sys.exit(2 if setup else 1 if failed else 0)


# -- schedule ----------------------------------------------------------------------------------


@click.group("schedule")
def schedule_group() -> None:
    """Set, list and cancel scheduled posts (sent by the TUI or by `watchtower due`)."""


def _parse_due(in_: str | None, at: str | None, tz: Any, now: datetime) -> datetime:
    from .cli_log import parse_when

    if (in_ is None) == (at is None):
        raise click.UsageError("give the time as --in 3h or as --at 2026-11-03T17:00 (one of them)")
    if in_ is not None:
        try:
            ago = parse_when(in_, now=now, tz=tz)
        except click.BadParameter:
            raise click.BadParameter(f"{in_!r}: expected a delay such as 30m, 3h or 1d", param_hint="--in") from None
        if "ago" in in_ or ago > now:
            raise click.BadParameter(f"{in_!r}: expected a delay such as 30m, 3h or 1d", param_hint="--in")
        return now + (now - ago)
    return parse_when(at or "", now=now, tz=tz)


@schedule_group.command("add", epilog=GLOBALS_EPILOG)
@click.argument("text")
@click.option("--account", "handle", required=True, help="Our account that posts it (its handle, as in the config).")
@click.option("--platform", default=None, help="The account's platform, when one handle is on several.")
@click.option("--in", "in_", default=None, help="When: in 30m, 3h, 1d.")
@click.option("--at", default=None, help="When: an ISO date and time (organisation time zone unless it has an offset).")
@click.option("--about", "about_id", default=None, help="The id of the item it is about (the post it corrects).")
@click.option("--language", default=None, help="The post's language (en, nl).")
@click.option("--yes", is_flag=True, help="Schedule it even without the Q&A link while crisis mode is on.")
@global_options
@_user_errors
def schedule_add(text: str, handle: str, platform: str | None, in_: str | None, at: str | None,
                 about_id: str | None, language: str | None, yes: bool) -> None:
    """Schedule TEXT (- reads stdin) to be posted as --account at --in/--at."""
    from .core.record.decisions import crisis_state
    from .core.respond.posting import account_by_handle
    from .core.respond.replies import post_as, qa_problem
    from .core.respond.schedule import schedule_post
    from .core.text.safetext import clean

    if text == "-":
        text = sys.stdin.read(1024 * 1024)
    text = clean(text, limit=None).strip()
    ctx = _Ctx()
    account = account_by_handle(ctx.config, handle, platform)
    if account is None:
        known = ", ".join(f"{a.handle} ({a.platform})" for a in ctx.config.organisation.accounts) or "none"
        raise click.BadParameter(f"{handle!r} is not one of our accounts in the config (ours: {known})", param_hint="--account")
    now = datetime.now(timezone.utc)
    due = _parse_due(in_, at, ctx.tz, now)
    crisis = crisis_state(ctx.log.entries(kinds=("crisis_start", "crisis_end", "crisis_check"))).active
    problem = qa_problem(text, ctx.config, crisis=crisis)
    if problem and not yes:
        if not sys.stdin.isatty():
            _fail(f"{problem} Add the link, or pass --yes to schedule it anyway (nothing was scheduled)")
        if not click.confirm(f"{problem} Schedule it anyway?", default=False):
            _fail("nothing was scheduled")
    post = schedule_post(ctx.log, account=account, text=text, due=due, operator=ctx.operator,
                         about_id=about_id, language=language)
    click.echo(f"scheduled {_short(post.id)} for {post.due.astimezone(ctx.tz):%a %d %b %H:%M %Z}: "
               f"{post_as(account).text}")
    click.echo(post.id)


@schedule_group.command("list", epilog=GLOBALS_EPILOG)
@click.option("--all", "show_all", is_flag=True, help="Sent and cancelled ones too.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per post per line.")
@global_options
@_user_errors
def schedule_list(show_all: bool, as_json: bool) -> None:
    """The scheduled posts, earliest due first: still to go (and with --all, done)."""
    from .core.respond.schedule import SCHEDULE_KINDS, describe, scheduled_posts

    ctx = _Ctx()
    now = datetime.now(timezone.utc)
    posts = scheduled_posts(ctx.log.entries(kinds=SCHEDULE_KINDS), now)
    for post in posts:
        if not show_all and not post.open:
            continue
        if as_json:
            click.echo(json.dumps({
                "id": post.id, "state": post.state, "due": post.due.isoformat(), "account": post.account,
                "platform": post.platform, "text": post.text, "key": post.key, "set_by": post.set_by,
                "attempts": post.attempts, "error": post.error or None, "url": post.url, "about": post.about,
            }, ensure_ascii=False))
        else:
            click.echo(f"{_short(post.id)}  {describe(post, ctx.tz, now=now)}")


@schedule_group.command("send", epilog=GLOBALS_EPILOG)
@click.argument("schedule_id")
@click.option("--timeout", type=click.FloatRange(1, 3600), default=20.0, show_default=True,
              help="Seconds to wait for each request to a platform.")
@global_options
@_user_errors
def schedule_send(schedule_id: str, timeout: float) -> None:
    """Send one scheduled post now, however late (its id, or the first 6+ characters).

    For a post that `watchtower due` held because it was late, once you have read it and
    it is still true.  Never twice: the same lock and checks as `watchtower due`.
    """
    outcomes = _send_due(_Ctx(), timeout, now=datetime.now(timezone.utc), only=schedule_id)
    if not outcomes:
        _fail(f"scheduled post {schedule_id[:64]!r} is not due yet, or already sent or cancelled "
              "(`watchtower schedule list --all`)")
    o = outcomes[0]
    click.echo(f"{o.action:<10} {_short(o.post.id)}  {o.message}", err=not o.ok)
    sys.exit(2 if o.action == "held" else 0 if o.ok else 1)


@schedule_group.command("cancel", epilog=GLOBALS_EPILOG)
@click.argument("schedule_id")
@global_options
@_user_errors
def schedule_cancel(schedule_id: str) -> None:
    """Cancel a scheduled post (its id, or the first 6+ characters of it)."""
    from .core.respond.schedule import cancel

    ctx = _Ctx()
    post = cancel(ctx.log, schedule_id, operator=ctx.operator, tz=ctx.tz)
    extra = " (an attempt may have posted it: check the account)" if post.ever_uncertain else ""
    click.echo(f"cancelled {_short(post.id)}: {post.platform} {post.account} at "
               f"{post.due.astimezone(ctx.tz):%a %d %b %H:%M %Z}{extra}")
