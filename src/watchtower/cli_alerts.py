"""``watchtower ack`` and ``watchtower escalate-due``: on-call alerting without the TUI.

``escalate-due``  page who is on call about new alerting items in the archive (what
                  ``watchtower fetch`` stored) and escalate every unacknowledged alert
                  whose time has come (backup, then fallback).  Run it from cron every
                  minute, next to ``fetch``; it is safe alongside running TUIs.
``ack [ITEM]``    acknowledge an alert (stops its escalation); without ITEM, list the
                  alerts nobody has acknowledged, with the short ref each page shows.

See :mod:`watchtower.core.respond.escalation` for the rules.  Exit status of ``escalate-due``:
0 fine, 1 a page reached nobody, 2 a mistake in the config or the data dir.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

import click

from .cli_log import _Ctx, _fail, _user_errors
from .cli_options import GLOBALS_EPILOG, global_options

__all__ = ["COMMANDS", "ack_command", "escalate_due_command"]

#: How many archived items ``escalate-due`` looks at (newest first) for first pages.
CANDIDATES = 20_000


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _archive_items(ctx: _Ctx, limit: int = CANDIDATES) -> list[Any]:
    from .core.record.archive import ARCHIVE_NAME, Archive

    if not (ctx.data_dir / ARCHIVE_NAME).exists():
        return []
    archive = Archive(ctx.data_dir, retention_days=ctx.config.data.retention_days,
                      group_shared=ctx.config.data.group_shared)
    try:
        for problem in archive.problems:
            click.echo(f"watchtower: warning: {problem}", err=True)
        return archive.recent(limit=limit)
    finally:
        archive.close()


def _age(delta: timedelta) -> str:
    mins = max(0, int(delta.total_seconds() // 60))
    return f"{mins} min" if mins < 120 else f"{mins // 60} h {mins % 60:02d} min"


@click.command("escalate-due", epilog=GLOBALS_EPILOG)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per page sent.")
@global_options
@_user_errors
def escalate_due_command(as_json: bool) -> None:
    """Page who is on call about new alerting items, and escalate unacknowledged alerts.

    New items: those in the archive (stored by `watchtower fetch` or the TUI) published
    within [alerts.escalation] page_within_hours that reach the alert thresholds and
    nobody was alerted about.  Escalation: an alerted item nobody acknowledged within
    [alerts.escalation.after_minutes] goes to the shift's backup, then the fallback.
    Every page is an `alert` entry in the handover log.  Run it every minute from cron;
    running TUIs and other operators share the log and never double a page.
    """
    from .core.respond.escalation import Escalator

    ctx = _Ctx()
    if ctx.config.path is None and not ctx.config.demo:
        _fail("escalate-due needs a config (the rota and the alert targets): pass --config or --demo")
    escalator = Escalator(ctx.config, ctx.log, clock=_now)
    report = escalator.run_due(_archive_items(ctx))
    failed = False
    for step in report.steps:
        if as_json:
            click.echo(json.dumps({
                "level": step.level, "role": step.role, "to": step.to, "items": step.items,
                "sent": step.result.sent, "failed": step.result.failed, "message": step.result.message,
                "reason": step.reason, "targets": step.targets,
            }, ensure_ascii=False))
        else:
            who = step.to or "the fallback"
            why = f" ({step.reason})" if step.reason else ""
            click.echo(f"{step.role:<8} {who}: {len(step.items)} item(s); {step.result.message}{why}")
        if step.result.sent == 0 and step.level == 2:
            failed = True
    for problem in dict.fromkeys(report.problems):
        click.echo(f"watchtower: warning: {problem}", err=True)
    if not as_json and not report.steps:
        nxt = ""
        if report.next_due is not None:
            nxt = f"; next escalation due {report.next_due.astimezone(ctx.tz):%H:%M %Z}"
        click.echo(f"nothing to page ({report.waiting} alert(s) waiting for acknowledgement{nxt})")
    sys.exit(1 if failed else 0)


def _open_chains(ctx: _Ctx, entries: list[Any]) -> list[Any]:
    from .core.record.decisions import item_states
    from .core.respond.escalation import chains_from_entries, is_acknowledged

    states = item_states(entries)
    chains = chains_from_entries(entries)
    return sorted((c for c in chains.values() if not is_acknowledged(states.get(c.item_id))),
                  key=lambda c: c.first_at)


def _resolve(ctx: _Ctx, entries: list[Any], wanted: str) -> tuple[str, str | None, str]:
    """``(item id, platform, line)`` for an id or a short ref (at least 4 characters)."""
    from .core.respond.escalation import chains_from_entries, item_line, item_ref

    wanted = wanted.strip()
    chains = chains_from_entries(entries)
    if wanted in chains:
        c = chains[wanted]
        return c.item_id, c.platform, c.line
    if len(wanted) >= 4:
        found = {c.item_id: c for c in chains.values() if item_ref(c.item_id).startswith(wanted.lower())}
        if len(found) == 1:
            c = next(iter(found.values()))
            return c.item_id, c.platform, c.line
        if len(found) > 1:
            _fail(f"{wanted!r} matches {len(found)} alerts; give more of it or the item id")
    items = _archive_items(ctx, limit=200_000)
    exact = [i for i in items if i.id == wanted]
    if not exact and len(wanted) >= 4:
        exact = [i for i in items if item_ref(i.id).startswith(wanted.lower())]
    if len(exact) == 1:
        return exact[0].id, exact[0].platform, item_line(exact[0])
    if len(exact) > 1:
        _fail(f"{wanted!r} matches {len(exact)} items; give more of it or the item id")
    _fail(f"no alert or archived item {wanted!r} (`watchtower ack` lists the alerts waiting, with their refs)")
    raise AssertionError  # pragma: no cover - _fail exits


@click.command("ack", epilog=GLOBALS_EPILOG)
@click.argument("item", required=False)
@click.option("--json", "as_json", is_flag=True, help="Listing: one JSON object per alert.")
@global_options
@_user_errors
def ack_command(item: str | None, as_json: bool) -> None:
    """Acknowledge an alert: you take the item on (a claim in the log), its escalation stops.

    ITEM is the short ref a page shows (`watchtower ack 3f9a2c1b`) or the item id.
    Without ITEM: the alerts nobody has acknowledged yet, oldest first.  Acknowledging in
    the TUI (claim, reply, ignore, block, escalate) stops the chain just the same.
    """
    from filelock import FileLock, Timeout

    from .core.record.decisions import item_states
    from .core.respond.escalation import LOCK_TIMEOUT, is_acknowledged, item_ref

    ctx = _Ctx()
    entries = ctx.log.entries()
    if item is None:
        now = _now()
        chains = _open_chains(ctx, entries)
        for c in chains:
            if as_json:
                click.echo(json.dumps({"ref": item_ref(c.item_id), "item_id": c.item_id, "level": c.level,
                                       "role": c.role, "to": c.to, "first_alerted": c.first_at.isoformat(),
                                       "last_alerted": c.last_at.isoformat(), "line": c.line}, ensure_ascii=False))
            else:
                who = c.to or "the fallback"
                click.echo(f"{item_ref(c.item_id)}  {c.role:<8} {who:<12} alerted {_age(now - c.first_at)} ago  {c.line}")
        if not chains and not as_json:
            click.echo("no alert is waiting for acknowledgement")
        return
    item_id, platform, line = _resolve(ctx, entries, item)
    lock = FileLock(str(ctx.data_dir / "escalation.lock"), timeout=LOCK_TIMEOUT, mode=ctx.log.mode)
    try:
        lock.acquire()
    except Timeout:
        _fail("escalation is busy (locked for more than 30 s); try again")
    try:  # under the escalation lock: no page is decided between the check and the claim
        state = item_states(ctx.log.entries(item_id=item_id)).get(item_id)
        if state is not None and is_acknowledged(state):
            click.echo(f"already acknowledged ({state.label}): {line}")
            return
        ctx.log.append("claimed", "acknowledged the alert", operator=ctx.operator(), item_id=item_id,
                       platform=platform, data={"ack": True})
    finally:
        lock.release()
    click.echo(f"acknowledged: {line} (escalation stopped; claimed by {ctx.operator()})")


COMMANDS: dict[str, click.Command] = {"ack": ack_command, "escalate-due": escalate_due_command}
