"""``watchtower watch``, ``mute`` and ``snooze``: keep an eye on someone, quiet the noise.

``watch AUTHOR``                   their posts never below medium, badged, listed at handover
``watch --off AUTHOR``             stop watching
``mute --author A | --keyword K``  hidden from panes and alerts, still archived and searchable
``mute --off ...``                 unmute; ``--for 2h`` mutes for a while
``snooze ITEM --for 30m``          no alert and no escalation for the item until then
``watch`` / ``mute`` / ``snooze``  without arguments: what is watched, muted, snoozed now

Each is an entry in the handover log, so every operator, the TUI and ``escalate-due`` see
it (:mod:`watchtower.core.triage.watchlist`).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import click

from .cli_log import _Ctx, _fail, _user_errors
from .cli_options import GLOBALS_EPILOG, global_options

__all__ = ["COMMANDS", "watch_command", "mute_command", "snooze_command"]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _record(ctx: _Ctx, kind: str, text: str, data: dict[str, Any], *, item_id: str | None = None,
            platform: str | None = None, excerpt: str = "") -> Any:
    """Append a ``watch``/``mute``/``snooze`` entry (the watchlist's kinds, among the log's
    ``MODULE_KINDS``)."""
    return ctx.log.append(kind, text, operator=ctx.operator(), item_id=item_id, platform=platform,
                          excerpt=excerpt, data=data)


def _watchlist(ctx: _Ctx, now: datetime) -> Any:
    from .core.triage.watchlist import WATCH_KINDS, watchlist_from_entries

    return watchlist_from_entries(ctx.log.entries(kinds=WATCH_KINDS), now)


def _duration(value: str | None, param: str) -> timedelta | None:
    if value is None:
        return None
    from .core.coverage.when import parse_span

    try:
        return parse_span(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=param) from None


def _when(ts: datetime, tz: Any) -> str:
    return ts.astimezone(tz).strftime("%a %d %b %H:%M %Z")


def _on(platform: str | None) -> str:
    return f" on {platform}" if platform else ""


_PLATFORM = click.option("--platform", default=None, help="Only on this platform (pane); default: every platform.")
_REASON = click.option("--reason", default="", help="Why (shown in the log and at handover).")
_JSON = click.option("--json", "as_json", is_flag=True, help="Listing: one JSON object per line.")


@click.command("watch", epilog=GLOBALS_EPILOG)
@click.argument("author", required=False)
@_PLATFORM
@_REASON
@click.option("--off", is_flag=True, help="Stop watching AUTHOR.")
@_JSON
@global_options
@_user_errors
def watch_command(author: str | None, platform: str | None, reason: str, off: bool, as_json: bool) -> None:
    """Keep an eye on AUTHOR instead of blocking them: their posts are never below medium,
    carry a 'watched author' badge and are listed at every handover.

    Without AUTHOR: who is watched, by whom and why.
    """
    from .core.text.safetext import one_line
    from .core.triage.watchlist import norm_author

    ctx = _Ctx()
    now = _now()
    if author is None:
        if off:
            raise click.UsageError("--off needs the AUTHOR to stop watching")
        wl = _watchlist(ctx, now)
        for w in sorted(wl.watched.values(), key=lambda w: w.at):
            if as_json:
                click.echo(json.dumps({"author": w.author, "platform": w.platform, "by": w.by,
                                       "since": w.at.isoformat(), "reason": w.reason}, ensure_ascii=False))
            else:
                why = f": {w.reason}" if w.reason else ""
                click.echo(f"{w.author}{_on(w.platform)}  watched by {w.by} since {_when(w.at, ctx.tz)}{why}")
        if not wl.watched and not as_json:
            click.echo("nobody is watched")
        return
    name = one_line(author, limit=200)
    if not norm_author(name):
        raise click.BadParameter("expected an author's handle", param_hint="AUTHOR")
    data = {"author": name, "platform": platform}
    if off:
        if _watchlist(ctx, now).watch_of(name, platform) is None:
            _fail(f"{name}{_on(platform)} is not watched")
        _record(ctx, "unwatch", reason, data)
        click.echo(f"stopped watching {name}{_on(platform)}")
        return
    _record(ctx, "watch", one_line(reason, limit=300), data)
    click.echo(f"watching {name}{_on(platform)}: never below medium, listed at handover")


@click.command("mute", epilog=GLOBALS_EPILOG)
@click.option("--author", default=None, help="Mute this author (the handle).")
@click.option("--keyword", default=None, help="Mute posts with this word or phrase (whole words, any case).")
@_PLATFORM
@click.option("--for", "for_", default=None, metavar="DURATION", help="Only for a while: 30m, 2h, 1d.")
@_REASON
@click.option("--off", is_flag=True, help="Unmute the author or keyword.")
@_JSON
@global_options
@_user_errors
def mute_command(author: str | None, keyword: str | None, platform: str | None, for_: str | None, reason: str,
                 off: bool, as_json: bool) -> None:
    """Mute an author or a keyword: hidden from the panes and from alerts (no page, no
    escalation), still archived and found by `watchtower search`, listed at handover.
    A watched author is never muted.

    Without --author or --keyword: what is muted now.
    """
    from .core.text.safetext import one_line

    ctx = _Ctx()
    now = _now()
    if author and keyword:
        raise click.UsageError("give --author or --keyword, not both")
    if not author and not keyword:
        if off or for_:
            raise click.UsageError("--off and --for need --author or --keyword")
        wl = _watchlist(ctx, now)
        mutes = sorted([*wl.muted_authors.values(), *wl.muted_keywords.values()], key=lambda m: m.at)
        for m in mutes:
            if as_json:
                click.echo(json.dumps({"author": m.author, "keyword": m.keyword, "platform": m.platform, "by": m.by,
                                       "since": m.at.isoformat(), "until": m.until.isoformat() if m.until else None,
                                       "reason": m.reason}, ensure_ascii=False))
            else:
                until = f" until {_when(m.until, ctx.tz)}" if m.until else ""
                why = f": {m.reason}" if m.reason else ""
                click.echo(f"{m.what}{_on(m.platform)}  muted by {m.by} since {_when(m.at, ctx.tz)}{until}{why}")
        if not mutes and not as_json:
            click.echo("nothing is muted")
        return
    what = one_line(author or keyword, limit=200)
    if not what.strip("@ "):
        raise click.BadParameter("expected a handle or a word", param_hint="--author" if author else "--keyword")
    data: dict[str, Any] = {"author": what} if author else {"keyword": what}
    data["platform"] = platform
    label = f"author {what}" if author else f"keyword {what!r}"
    if off:
        _record(ctx, "unmute", reason, data)
        click.echo(f"unmuted {label}{_on(platform)}")
        return
    delta = _duration(for_, "--for")
    if delta is not None:
        data["until"] = (now + delta).isoformat()
    _record(ctx, "mute", one_line(reason, limit=300), data)
    until = f" until {_when(now + delta, ctx.tz)}" if delta is not None else ""
    click.echo(f"muted {label}{_on(platform)}{until}: hidden from panes and alerts, still archived")


@click.command("snooze", epilog=GLOBALS_EPILOG)
@click.argument("item", required=False)
@click.option("--for", "for_", default="30m", show_default=True, metavar="DURATION", help="How long: 30m, 2h, 1d.")
@_REASON
@click.option("--off", is_flag=True, help="End the snooze now.")
@_JSON
@global_options
@_user_errors
def snooze_command(item: str | None, for_: str, reason: str, off: bool, as_json: bool) -> None:
    """Snooze an item's alerts: no page and no escalation for it until the time is up
    (then escalation goes on where it was).  ITEM is the short ref a page shows or the id.

    Without ITEM: the snoozes running now.
    """
    from .cli_alerts import _resolve
    from .core.text.safetext import one_line

    ctx = _Ctx()
    now = _now()
    if item is None:
        if off:
            raise click.UsageError("--off needs the ITEM")
        snoozes = _watchlist(ctx, now).active_snoozes()
        for s in snoozes:
            if as_json:
                click.echo(json.dumps({"item_id": s.item_id, "until": s.until.isoformat(), "by": s.by,
                                       "reason": s.reason, "excerpt": s.excerpt}, ensure_ascii=False))
            else:
                why = f": {s.reason}" if s.reason else ""
                click.echo(f"until {_when(s.until, ctx.tz)}  {s.excerpt or s.item_id}  (snoozed by {s.by}{why})")
        if not snoozes and not as_json:
            click.echo("no item is snoozed")
        return
    item_id, platform, line = _resolve(ctx, ctx.log.entries(), item)
    until = now if off else now + (_duration(for_, "--for") or timedelta(minutes=30))
    _record(ctx, "snooze", one_line(reason, limit=300), {"until": until.isoformat()}, item_id=item_id,
            platform=platform, excerpt=one_line(line, limit=200))
    if off:
        click.echo(f"snooze ended: {line}")
    else:
        click.echo(f"snoozed until {_when(until, ctx.tz)}: {line}")


COMMANDS: dict[str, click.Command] = {"watch": watch_command, "mute": mute_command, "snooze": snooze_command}
