"""``watchtower log ...`` and ``watchtower handover ...``: the handover log from a shell.

The groups are attached to the main CLI in :mod:`watchtower.cli`; they also work alone
(``log_group.main(...)``) and in tests through click's ``CliRunner``.

Every error a user can cause (a bad config, an unusable data dir, a log locked for more
than 5 s, a full disk, a note too long to keep) is one line on stderr and exit status 2,
never a traceback.

``--config``, ``--data-dir``, ``--operator`` and ``--demo`` are the global options of
:mod:`watchtower.cli_options` (``watchtower --data-dir D log add`` = ``watchtower log add
--data-dir D``).  With no config anywhere, these commands need ``--data-dir`` (or
``$WATCHTOWER_DATA_DIR``) to know where the log is; ``--demo`` is the demo's own log.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any, TypeVar

import click

from .cli_options import GLOBALS_EPILOG, fail, global_options, global_settings, user_errors
from .config import (
    Config,
    find_config,
    load_config,
    require_config,
)

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


_fail = fail
_user_errors = user_errors


#: The global options; ``--operator`` is who is writing (see :func:`_common_filter` for ``log list``).
_common = global_options
#: The global options but ``--operator``, which ``log list`` uses as a filter.
_common_filter = global_options(operator=False)


def _load_config() -> Config:
    """The config named by the global options; the demo's with ``--demo``.

    No config anywhere is fine when ``--data-dir`` (or ``$WATCHTOWER_DATA_DIR``) says where
    the log is; with neither, the command would silently use the default data dir, so it
    stops with exit 2.
    """
    settings = global_settings()
    if settings.demo:
        from .demo import demo_config

        return demo_config("http://127.0.0.1")  # its zone and data dir; nothing is fetched
    path = find_config(settings.config_path)
    if path is None:
        if settings.data_dir or os.environ.get("WATCHTOWER_DATA_DIR"):
            return Config()
        require_config(None, hint="pass --config, --data-dir or --demo")
    return load_config(path)  # type: ignore[arg-type]


class _Ctx:
    """The config, the data dir and the log for one command (from the global options)."""

    def __init__(self, *, scan: bool = True) -> None:
        from .core.record.log import HandoverLog
        from .core.record.paths import ensure_data_dir, resolve_data_dir

        self.settings = global_settings()
        self.config = _load_config()
        self.data_dir: Path = resolve_data_dir(self.settings.data_dir, self.config)
        if self.config.demo:  # the demo TUI's own log, never the real one
            self.data_dir = ensure_data_dir(self.data_dir / "demo", group_shared=self.config.data.group_shared)
        self.tz = self.config.organisation.tz
        # scan=False: a command that only appends reads the newest part alone (issue 15.6).
        self.log = HandoverLog(self.data_dir, group_shared=self.config.data.group_shared, scan=scan)
        for problem in self.log.problems:
            click.echo(f"watchtower: warning: {problem}", err=True)

    def operator(self) -> str:
        from .core.record.paths import resolve_operator

        return resolve_operator(self.settings.operator, self.config)

    def items(self) -> list[Any]:
        """Archived items, for the handover summary; none when there is no archive yet."""
        from .core.record.archive import ARCHIVE_NAME, Archive

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


#: Read at most this many characters of a note from stdin or a file: far over the limit,
#: so a note is measured after cleaning, yet a mistaken multi-gigabyte file is not slurped.
_NOTE_READ_CAP = 1024 * 1024


def _note_text(text: str | None, file: Any, *, required: bool = True) -> str:
    """The note from TEXT, ``-`` (stdin) or ``--file``, cleaned as the log keeps it.

    A note longer than the log keeps (``MAX_NOTE``, 16,384 characters) is refused with the
    limit named, exit 2: the log used to cut it without a word.
    """
    from .core.record.log import MAX_NOTE
    from .core.text.safetext import clean

    if file is not None and text is not None:
        raise click.UsageError("give the note as TEXT, as - (read stdin) or with --file, not two of them")
    if file is not None:
        raw = file.read(_NOTE_READ_CAP + 1)
    elif text == "-":
        with click.open_file("-", "r", encoding="utf-8", errors="replace") as stdin:
            raw = stdin.read(_NOTE_READ_CAP + 1)
    elif text is None:
        if required:
            raise click.UsageError("missing the note: give TEXT, - to read it from stdin, or --file FILE")
        raw = ""
    else:
        raw = text
    if len(raw) > _NOTE_READ_CAP:
        _fail(f"the note is over {_NOTE_READ_CAP:,} characters; a log entry keeps at most {MAX_NOTE:,} (nothing was written)")
    note = clean(raw, limit=None).strip()
    if len(note) > MAX_NOTE:
        _fail(f"the note is {len(note):,} characters; a log entry keeps at most {MAX_NOTE:,} "
              "(nothing was written: shorten it or split it into several notes)")
    return note


_NOTE_FILE = click.option("--file", "note_file", type=click.File("r", encoding="utf-8", errors="replace"),
                          default=None, help="Read the note from this file (UTF-8) instead of TEXT.")


@log_group.command("add", epilog=GLOBALS_EPILOG)
@click.argument("text", required=False)
@_NOTE_FILE
@click.option("--item", "item_id", default=None, help="The id of the item the note is about.")
@click.option("--platform", default=None, help="The item's platform (pane).")
@click.option("--kind", default="note", show_default=True, help="Entry kind (note, escalated, crisis_start, ...).")
@_common
@_user_errors
def log_add(text: str | None, note_file: Any, item_id: str | None, platform: str | None, kind: str) -> None:
    """Add an entry (a note by default) to the log.

    TEXT is the note; - reads it from stdin, --file FILE from a file.  A note over
    16,384 characters is refused (exit 2), never cut.
    """
    from .core.record.log import KINDS

    if kind not in KINDS:
        raise click.BadParameter(f"{kind!r} is not one of: {', '.join(sorted(KINDS))}", param_hint="--kind")
    note = _note_text(text, note_file)
    ctx = _Ctx(scan=False)
    entry = ctx.log.append(kind, note, operator=ctx.operator(), item_id=item_id, platform=platform)
    click.echo(entry.id)


@log_group.command("list", epilog=GLOBALS_EPILOG)
@click.option("--since", default=None, help="ISO date/time or an age: 2h, 1d, 1w. Default: everything.")
@click.option("--until", default=None, help="ISO date/time or an age.")
@click.option("--operator", default=None, help="Only this operator's entries.")
@click.option("--kind", "kinds", multiple=True, help="Only these kinds (repeatable).")
@click.option("--item", "item_id", default=None, help="Only entries about this item.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@_common_filter
@_user_errors
def log_list(since: str | None, until: str | None, operator: str | None, kinds: tuple[str, ...],
             item_id: str | None, as_json: bool) -> None:
    """List log entries, oldest first."""
    ctx = _Ctx()
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
            doc = e.to_json()
            if e.clock_jump:
                doc["clock_jump"] = e.clock_jump
            click.echo(json.dumps(doc, ensure_ascii=False))
            continue
        ts = e.ts.astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M %Z")
        about = f" [{e.platform or '?'} {e.item_id}]" if e.item_id else ""
        text = " ".join(e.text.split())
        # In the order written; a time that cannot be right is said so (issue 15.5).
        jump = f"  [clock warning: {e.clock_jump}]" if e.clock_jump else ""
        click.echo(f"{ts}  {e.operator:<12} {e.kind:<12}{about} {text}".rstrip() + jump)


# -- handover ----------------------------------------------------------------------------


@click.group("handover")
def handover_group() -> None:
    """Show, export, hand over and acknowledge the shift."""


def _summary(ctx: _Ctx, since: str | None):  # type: ignore[no-untyped-def]
    from .core.report.handover import summarise

    now = _now()
    return summarise(
        ctx.log.entries(),
        ctx.items(),
        since=parse_when(since, now=now, tz=ctx.tz) if since else None,
        now=now,
        tz=ctx.tz,
    )


@handover_group.command("show", epilog=GLOBALS_EPILOG)
@click.option("--since", default=None, help="Default: the shift handed over while the last handover is unacknowledged, then since the last handover (else the last 24 h).")
@_common
@_user_errors
def handover_show(since: str | None) -> None:
    """The summary since the last handover."""
    from .core.report.handover import to_markdown

    ctx = _Ctx()
    click.echo(to_markdown(_summary(ctx, since)))


@handover_group.command("export", epilog=GLOBALS_EPILOG)
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True)
@click.option("--since", default=None, help="Default: the shift handed over while the last handover is unacknowledged, then since the last handover (else the last 24 h).")
@_common
@_user_errors
def handover_export(fmt: str, since: str | None) -> None:
    """The summary as Markdown (for email or chat) or JSON."""
    from .core.report.handover import to_json, to_markdown

    ctx = _Ctx()
    summary = _summary(ctx, since)
    if fmt == "json":
        click.echo(json.dumps(to_json(summary), ensure_ascii=False, indent=2))
    else:
        click.echo(to_markdown(summary))


@handover_group.command("start", epilog=GLOBALS_EPILOG)
@click.argument("note", required=False)
@_NOTE_FILE
@_common
@_user_errors
def handover_start(note: str | None, note_file: Any) -> None:
    """Hand over the shift, with a note for the next person.

    NOTE is the note; - reads it from stdin, --file FILE from a file.  A note over
    16,384 characters is refused (exit 2), never cut.  --operator: who is handing over.
    """
    text = _note_text(note, note_file, required=False)
    ctx = _Ctx(scan=False)
    entry = ctx.log.append("handover", text, operator=ctx.operator())
    click.echo(f"handed over at {entry.ts.astimezone(ctx.tz):%H:%M %Z} ({entry.id})")


@handover_group.command("ack", epilog=GLOBALS_EPILOG)
@_common
@_user_errors
def handover_ack() -> None:
    """Acknowledge the last handover (--operator: who is taking over)."""
    from .core.record.decisions import last_handover

    ctx = _Ctx()
    handover, ack = last_handover(ctx.log.entries(kinds=("handover", "acknowledged")))
    if handover is None:
        _fail("there is no handover to acknowledge")
        return
    if ack is not None:
        click.echo(
            f"already acknowledged by {ack.operator} at {ack.ts.astimezone(ctx.tz):%H:%M %Z}", err=True
        )
        return
    from .core.record.log import AckRefused

    who = ctx.operator()
    try:  # check-and-set under the log's lock: of several at once, one wins (issue 15.7)
        ctx.log.append("acknowledged", "", operator=who, data={"handover": handover.id})
    except AckRefused as exc:
        if exc.ack is None:
            raise
        click.echo(
            f"already acknowledged by {exc.ack.operator} at {exc.ack.ts.astimezone(ctx.tz):%H:%M %Z}", err=True
        )
        return
    click.echo(f"acknowledged the handover by {handover.operator} at {handover.ts.astimezone(ctx.tz):%H:%M %Z}")
