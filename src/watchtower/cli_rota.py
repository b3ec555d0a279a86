"""``watchtower rota ...``: who is on call when, swaps, and the rota in a calendar.

``rota show [--week]``            who is on call when (holidays marked, gaps named), in the org's zone
``rota override --who --from --to``  record a swap in the handover log (everyone sees it)
``rota override --cancel ID``     withdraw one
``rota export --format ics``      the coming weeks as an iCalendar file

The rota is the config's ``[rota]``; overrides are ``rota_override`` entries in the log
(:mod:`watchtower.core.coverage.rota`).  ``--config``, ``--data-dir``, ``--operator`` and ``--demo``
work before or after the command.  Every mistake is one line on stderr and exit 2.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

import click

from .cli_log import _Ctx, _fail, _user_errors
from .cli_options import GLOBALS_EPILOG, global_options

__all__ = ["rota_group", "COMMANDS"]

#: An override is a swap, not a new rota: longer than this belongs in the config.
MAX_OVERRIDE = timedelta(days=31)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _record(ctx: _Ctx, kind: str, text: str, data: dict[str, Any]) -> Any:
    """Append an entry of the rota's own kind (``rota_override``, one of the log's
    ``MODULE_KINDS``)."""
    return ctx.log.append(kind, text, operator=ctx.operator(), data=data)


def _rota(ctx: _Ctx):  # type: ignore[no-untyped-def]
    from .core.coverage.rota import OVERRIDE_KIND, rota_with_overrides

    return rota_with_overrides(ctx.config, ctx.log.entries(kinds=[OVERRIDE_KIND]))


def _moment(value: str, param: str, *, now: datetime, tz: tzinfo, after: datetime | None = None) -> datetime:
    from .core.coverage.when import parse_moment

    try:
        return parse_moment(value, now=now, tz=tz, after=after)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=param) from None


def _t(ts: datetime, ref: datetime | None = None) -> str:
    """``10:00``, or ``Sat 10:00`` when it is on another day than ``ref``."""
    if ref is not None and ts.date() != ref.date():
        return ts.strftime("%a %H:%M")
    return ts.strftime("%H:%M")


def _day_start(now: datetime, tz: tzinfo) -> datetime:
    local = now.astimezone(tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(timezone.utc)


def _slot_line(slot: Any) -> str:
    span = f"{_t(slot.start)}-{_t(slot.end, slot.start)}"
    if not slot.covered:
        return f"  {span:<17} nobody on call"
    if slot.on_call is None and slot.shift is None:
        return f"  {span:<17} covered (no shifts configured)"
    who = slot.on_call or "(nobody named)"
    line = f"  {span:<17} {slot.shift or '':<14} {who}"
    if slot.backup and slot.backup != slot.on_call:
        line += f" (backup {slot.backup})"
    if slot.override is not None:
        was = f" in place of {slot.scheduled}" if slot.scheduled and slot.scheduled != slot.on_call else ""
        line += f"  [override{was}, set by {slot.override.by}, id {slot.override.id[:8]}]"
    return line


def _slot_json(slot: Any) -> dict[str, Any]:
    return {
        "start": slot.start.isoformat(),
        "end": slot.end.isoformat(),
        "covered": slot.covered,
        "shift": slot.shift,
        "on_call": slot.on_call,
        "scheduled": slot.scheduled,
        "backup": slot.backup,
        "override": None if slot.override is None else {
            "id": slot.override.id, "who": slot.override.who, "by": slot.override.by, "reason": slot.override.reason,
        },
    }


@click.group("rota")
def rota_group() -> None:
    """Who is on call when: show the rota, record a swap, export it to a calendar."""


@rota_group.command("show", epilog=GLOBALS_EPILOG)
@click.option("--week", is_flag=True, help="Seven days from today (default: today and tomorrow).")
@click.option("--days", type=click.IntRange(1, 92), default=None, help="This many days from today.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per slot per line.")
@global_options
@_user_errors
def rota_show(week: bool, days: int | None, as_json: bool) -> None:
    """Who is on call when, today and tomorrow (--week: seven days), overrides applied.

    Times are in the organisation's zone; public holidays are marked (regular shifts do
    not start on them) and every stretch with nobody on call is named.
    """
    ctx = _Ctx()
    tz = ctx.config.organisation.tz
    rota = _rota(ctx)
    now = _now()
    span = days or (7 if week else 2)
    start = _day_start(now, tz)
    end = (start.astimezone(tz) + timedelta(days=span)).replace(hour=0, minute=0).astimezone(timezone.utc)
    slots = rota.timeline(start, end)
    if as_json:
        for slot in slots:
            click.echo(json.dumps(_slot_json(slot), ensure_ascii=False))
        return
    local_now = now.astimezone(tz)
    click.echo(f"Rota in {tz.key}, now {local_now:%a %d %b %H:%M %Z}")
    if not rota.shifts and not rota.overrides:
        click.echo("No shifts configured ([[rota.shift]] in the config): every hour counts as covered.")
    st = rota.status(now)
    if st.on_call:
        until = f" until {_t(st.ends_at_local, local_now)}" if st.ends_at_local else ""
        backup = f"; backup {st.backup}" if st.backup and st.backup != st.on_call else ""
        swap = " (override)" if st.override is not None else ""
        click.echo(f"On call now: {st.on_call}{swap}, {st.shift}{until}{backup}")
    elif rota.shifts:
        nxt = f"; next: {st.next_shift_name} at {_t(st.next_start_local, local_now)}" if st.next_start_local else ""
        click.echo(f"On call now: nobody{nxt}")
    day = start.astimezone(tz).date()
    by_day: dict[Any, list[Any]] = {}
    for slot in slots:
        by_day.setdefault(slot.start.date(), []).append(slot)
    for offset in range(span):
        d = day + timedelta(days=offset)
        holiday = rota.holiday(d)
        mark = f"  ☼ {holiday} (holiday: only holiday shifts start)" if holiday else ""
        weekend = "  (weekend)" if d.weekday() >= 5 and not holiday else ""
        click.echo(f"\n{d:%a %d %b}{mark}{weekend}")
        for slot in by_day.get(d, []):
            click.echo(_slot_line(slot))
    shown = [ov for ov in rota.overrides if ov.end > start and ov.start < end]
    if shown:
        click.echo("\nOverrides:")
        for ov in shown:
            why = f": {ov.reason}" if ov.reason else ""
            click.echo(
                f"  {ov.id[:8]}  {ov.who} {ov.start.astimezone(tz):%a %d %b %H:%M} - "
                f"{ov.end.astimezone(tz):%a %d %b %H:%M %Z}, set by {ov.by}{why}"
            )


def _resolve_override_id(ctx: _Ctx, prefix: str) -> str:
    from .core.coverage.rota import OVERRIDE_KIND, overrides_from_entries

    live = overrides_from_entries(ctx.log.entries(kinds=[OVERRIDE_KIND]))
    found = [ov for ov in live if ov.id.startswith(prefix.strip())] if len(prefix.strip()) >= 4 else []
    if not found:
        _fail(f"no override in force with id {prefix!r} (rota show lists them; give at least 4 characters)")
    if len(found) > 1:
        _fail(f"{prefix!r} matches {len(found)} overrides; give more of the id")
    return found[0].id


@rota_group.command("override", epilog=GLOBALS_EPILOG)
@click.option("--who", default=None, help="Who is on call instead.")
@click.option("--from", "from_", default=None, help="From when. now, +2h, 22:00, tomorrow 08:00, sat 10:00, 2026-12-12 10:00.")
@click.option("--to", default=None, help="Until when (exclusive); a bare 06:00 before --from is the next morning.")
@click.option("--reason", default="", help="Why (shown in the log and the rota).")
@click.option("--cancel", "cancel", default=None, metavar="ID", help="Withdraw the override with this id (rota show lists them).")
@global_options
@_user_errors
def rota_override(who: str | None, from_: str | None, to: str | None, reason: str, cancel: str | None) -> None:
    """Record a swap: WHO is on call from --from to --to, whatever the shifts say.

    It goes in the handover log, so every operator, the header, coverage and alert
    routing see it.  Where overrides overlap, the one recorded last wins.
    """
    from .core.coverage.rota import OVERRIDE_KIND
    from .core.text.safetext import one_line

    ctx = _Ctx()
    tz = ctx.config.organisation.tz
    if cancel is not None:
        if who or from_ or to:
            raise click.UsageError("--cancel takes no --who, --from or --to")
        target = _resolve_override_id(ctx, cancel)
        _record(ctx, OVERRIDE_KIND, f"withdrew rota override {target[:8]}", {"cancels": target})
        click.echo(f"withdrew override {target[:8]}")
        return
    missing = [name for name, v in (("--who", who), ("--from", from_), ("--to", to)) if not v]
    if missing:
        raise click.UsageError(f"missing {', '.join(missing)} (or --cancel ID)")
    name = one_line(who, limit=64)
    if not name:
        raise click.BadParameter("expected a name", param_hint="--who")
    now = _now()
    start = _moment(from_ or "", "--from", now=now, tz=tz)
    end = _moment(to or "", "--to", now=now, tz=tz, after=start)
    if end <= start:
        _fail(f"--to ({end.astimezone(tz):%a %d %b %H:%M}) must be after --from ({start.astimezone(tz):%a %d %b %H:%M})")
    if end <= now:
        _fail(f"that override ended already ({end.astimezone(tz):%a %d %b %H:%M %Z}); nothing was recorded")
    if end - start > MAX_OVERRIDE:
        _fail(f"an override is a swap of at most {MAX_OVERRIDE.days} days; change [[rota.shift]] in the config for longer")
    rota = _rota(ctx)
    replaced = sorted({s.on_call for s in rota.timeline(start, end) if s.on_call and s.on_call != name})
    known = set(rota.people()) | set(ctx.config.rota.people)
    text = (
        f"{name} on call {start.astimezone(tz):%a %d %b %H:%M} - {end.astimezone(tz):%a %d %b %H:%M %Z}"
        + (f" in place of {', '.join(replaced)}" if replaced else "")
        + (f": {one_line(reason, limit=300)}" if reason else "")
    )
    entry = _record(ctx, OVERRIDE_KIND, text,
                    {"who": name, "start": start.isoformat(), "end": end.isoformat(), "reason": one_line(reason, limit=300)})
    click.echo(f"recorded: {text} (id {entry.id[:8]})")
    if name not in known:
        click.echo(
            f"watchtower: warning: {name} is not named in [rota] (shifts or [rota.people]): "
            "alerts while they are on call go to the shift's targets or the fallback",
            err=True,
        )


@rota_group.command("export", epilog=GLOBALS_EPILOG)
@click.option("--format", "fmt", type=click.Choice(["ics"]), default="ics", show_default=True)
@click.option("--weeks", type=click.IntRange(1, 26), default=4, show_default=True, help="How many weeks from today.")
@click.option("--who", default=None, help="Only this person's shifts (on call or backup).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default="-",
              help="Write to this file (default: stdout).")
@global_options
@_user_errors
def rota_export(fmt: str, weeks: int, who: str | None, output: str) -> None:
    """The coming weeks as an iCalendar (.ics) file, overrides applied, for your own calendar.

    One event per on-call stretch (the backup named in it), one all-day event per public
    holiday.  Event ids are stable, so importing a newer export updates the events.
    """
    from .core.coverage.rota_ics import rota_ics

    ctx = _Ctx()
    rota = _rota(ctx)
    now = _now()
    start = _day_start(now, ctx.config.organisation.tz)
    payload = rota_ics(rota, start, start + timedelta(weeks=weeks), now=now, who=who,
                       name=ctx.config.organisation.name)
    with click.open_file(output, "wb", atomic=output != "-") as out:
        out.write(payload)
    if output != "-":
        click.echo(f"wrote {output}", err=True)


COMMANDS: dict[str, click.Command] = {"rota": rota_group}
