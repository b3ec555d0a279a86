"""``watchtower log ...`` and ``watchtower handover ...``: the handover log from a shell.

The groups are attached to the main CLI in :mod:`watchtower.cli`; they also work alone
(``log_group.main(...)``) and in tests through click's ``CliRunner``.

Every error a user can cause (a bad config, an unusable data dir, a log locked for more
than 5 s, a full disk) is one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any, TypeVar

import click

from .config import Config, ConfigError, WatchtowerError, find_config, load_config

__all__ = ["log_group", "handover_group", "parse_when"]

F = TypeVar("F", bound=Callable[..., Any])

_REL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)\s*(?:ago)?\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_when(value: str, *, now: datetime, tz: tzinfo) -> datetime:
    """``2h``, ``30m``, ``1d``, ``1w`` before ``now``; or an ISO date/time (naive = org time zone)."""
    m = _REL.match(value)
    if m:
        return now - timedelta(seconds=float(m[1]) * _UNITS[m[2].lower()])
    text = value.strip()
    if text.lower() in ("today", "yesterday"):
        local = now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
        return (local - timedelta(days=1 if text.lower() == "yesterday" else 0)).astimezone(timezone.utc)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{value!r}: expected an ISO date or time (2026-11-03, 2026-11-03T14:00) or an age like 2h, 1d"
        ) from None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=tz)
    return ts.astimezone(timezone.utc)


def _fail(message: str) -> None:
    click.echo(f"watchtower: {message}", err=True)
    sys.exit(2)


def _user_errors(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ConfigError as exc:
            _fail(f"config error: {exc}")
        except WatchtowerError as exc:
            _fail(str(exc))
        except OSError as exc:
            _fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))

    return wrapper  # type: ignore[return-value]


def _common(fn: F) -> F:
    fn = click.option("--data-dir", "data_dir", type=click.Path(file_okay=False), default=None,
                      help="Where the log lives. Default: $WATCHTOWER_DATA_DIR, [data] dir, the user data dir.")(fn)
    fn = click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
                      help="Config file (TOML). Default: $WATCHTOWER_CONFIG, then the user config dir.")(fn)
    return fn


class _Ctx:
    """The config, the data dir and the log for one command."""

    def __init__(self, config_path: str | None, data_dir: str | None) -> None:
        from .core.log import HandoverLog
        from .core.paths import resolve_data_dir

        path = find_config(config_path)
        self.config = load_config(path) if path is not None else Config()
        self.data_dir: Path = resolve_data_dir(data_dir, self.config)
        self.tz = self.config.organisation.tz
        self.log = HandoverLog(self.data_dir, group_shared=self.config.data.group_shared)
        for problem in self.log.problems:
            click.echo(f"watchtower: warning: {problem}", err=True)

    def operator(self, cli_value: str | None) -> str:
        from .core.paths import resolve_operator

        return resolve_operator(cli_value, self.config)

    def items(self) -> list[Any]:
        """Archived items, for the handover summary; none when there is no archive yet."""
        from .core.archive import ARCHIVE_NAME, Archive

        if not (self.data_dir / ARCHIVE_NAME).exists():
            return []
        archive = Archive(
            self.data_dir,
            retention_days=self.config.data.retention_days,
            group_shared=self.config.data.group_shared,
        )
        try:
            for problem in archive.problems:
                click.echo(f"watchtower: warning: {problem}", err=True)
            return archive.recent(limit=100_000)
        finally:
            archive.close()


def _now() -> datetime:
    return datetime.now(timezone.utc)


# -- log ---------------------------------------------------------------------------------


@click.group("log")
def log_group() -> None:
    """Add to and read the shift handover log."""


@log_group.command("add")
@click.argument("text")
@click.option("--item", "item_id", default=None, help="The id of the item the note is about.")
@click.option("--platform", default=None, help="The item's platform (pane).")
@click.option("--operator", default=None, help="Who you are. Default: $WATCHTOWER_OPERATOR, config, OS user.")
@click.option("--kind", default="note", show_default=True, help="Entry kind (note, escalated, crisis_start, ...).")
@_common
@_user_errors
def log_add(text: str, item_id: str | None, platform: str | None, operator: str | None, kind: str,
            config_path: str | None, data_dir: str | None) -> None:
    """Add an entry (a note by default) to the log."""
    from .core.log import KINDS

    if kind not in KINDS:
        raise click.BadParameter(f"{kind!r} is not one of: {', '.join(sorted(KINDS))}", param_hint="--kind")
    ctx = _Ctx(config_path, data_dir)
    entry = ctx.log.append(kind, text, operator=ctx.operator(operator), item_id=item_id, platform=platform)
    click.echo(entry.id)


@log_group.command("list")
@click.option("--since", default=None, help="ISO date/time or an age: 2h, 1d, 1w. Default: everything.")
@click.option("--until", default=None, help="ISO date/time or an age.")
@click.option("--operator", default=None, help="Only this operator's entries.")
@click.option("--kind", "kinds", multiple=True, help="Only these kinds (repeatable).")
@click.option("--item", "item_id", default=None, help="Only entries about this item.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@_common
@_user_errors
def log_list(since: str | None, until: str | None, operator: str | None, kinds: tuple[str, ...],
             item_id: str | None, as_json: bool, config_path: str | None, data_dir: str | None) -> None:
    """List log entries, oldest first."""
    ctx = _Ctx(config_path, data_dir)
    now = _now()
    entries = ctx.log.entries(
        since=parse_when(since, now=now, tz=ctx.tz) if since else None,
        until=parse_when(until, now=now, tz=ctx.tz) if until else None,
        kinds=kinds or None,
        operator=operator,
        item_id=item_id,
    )
    for e in entries:
        if as_json:
            click.echo(json.dumps(e.to_json(), ensure_ascii=False))
            continue
        ts = e.ts.astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M %Z")
        about = f" [{e.platform or '?'} {e.item_id}]" if e.item_id else ""
        text = " ".join(e.text.split())
        click.echo(f"{ts}  {e.operator:<12} {e.kind:<12}{about} {text}".rstrip())


# -- handover ----------------------------------------------------------------------------


@click.group("handover")
def handover_group() -> None:
    """Show, export, hand over and acknowledge the shift."""


def _summary(ctx: _Ctx, since: str | None):  # type: ignore[no-untyped-def]
    from .core.handover import summarise

    now = _now()
    return summarise(
        ctx.log.entries(),
        ctx.items(),
        since=parse_when(since, now=now, tz=ctx.tz) if since else None,
        now=now,
        tz=ctx.tz,
    )


@handover_group.command("show")
@click.option("--since", default=None, help="Default: the shift handed over while the last handover is unacknowledged, then since the last handover (else the last 24 h).")
@_common
@_user_errors
def handover_show(since: str | None, config_path: str | None, data_dir: str | None) -> None:
    """The summary since the last handover."""
    from .core.handover import to_markdown

    ctx = _Ctx(config_path, data_dir)
    click.echo(to_markdown(_summary(ctx, since)))


@handover_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True)
@click.option("--since", default=None, help="Default: the shift handed over while the last handover is unacknowledged, then since the last handover (else the last 24 h).")
@_common
@_user_errors
def handover_export(fmt: str, since: str | None, config_path: str | None, data_dir: str | None) -> None:
    """The summary as Markdown (for email or chat) or JSON."""
    from .core.handover import to_json, to_markdown

    ctx = _Ctx(config_path, data_dir)
    summary = _summary(ctx, since)
    if fmt == "json":
        click.echo(json.dumps(to_json(summary), ensure_ascii=False, indent=2))
    else:
        click.echo(to_markdown(summary))


@handover_group.command("start")
@click.argument("note", default="")
@click.option("--operator", default=None, help="Who is handing over.")
@_common
@_user_errors
def handover_start(note: str, operator: str | None, config_path: str | None, data_dir: str | None) -> None:
    """Hand over the shift, with a note for the next person."""
    ctx = _Ctx(config_path, data_dir)
    entry = ctx.log.append("handover", note, operator=ctx.operator(operator))
    click.echo(f"handed over at {entry.ts.astimezone(ctx.tz):%H:%M %Z} ({entry.id})")


@handover_group.command("ack")
@click.option("--operator", default=None, help="Who is taking over.")
@_common
@_user_errors
def handover_ack(operator: str | None, config_path: str | None, data_dir: str | None) -> None:
    """Acknowledge the last handover."""
    from .core.decisions import last_handover

    ctx = _Ctx(config_path, data_dir)
    handover, ack = last_handover(ctx.log.entries(kinds=("handover", "acknowledged")))
    if handover is None:
        _fail("there is no handover to acknowledge")
        return
    if ack is not None:
        click.echo(
            f"already acknowledged by {ack.operator} at {ack.ts.astimezone(ctx.tz):%H:%M %Z}", err=True
        )
        return
    who = ctx.operator(operator)
    ctx.log.append("acknowledged", "", operator=who, data={"handover": handover.id})
    click.echo(f"acknowledged the handover by {handover.operator} at {handover.ts.astimezone(ctx.tz):%H:%M %Z}")
