"""``watchtower search``: find what we hold, like an inbox, from a shell.

Words, author, platform, severity, state and time, over the item archive (what the TUI
and ``watchtower fetch`` stored) with the state of each item from the handover log.  The
index is SQLite FTS5 inside the archive (:mod:`watchtower.core.record.search`).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import click

from .cli_log import _Ctx, _user_errors, parse_when
from .cli_options import GLOBALS_EPILOG, global_options

__all__ = ["COMMANDS", "search_command"]

_SEVERITIES = ["info", "low", "medium", "high", "critical"]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _line(hit: Any, tz: Any) -> str:
    from .core.respond.escalation import item_ref
    from .core.text.safetext import one_line

    it = hit.item
    when = "date unknown   " if it.date_unknown else it.published.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    marks = [hit.state]
    if hit.watched:
        marks.append("watched")
    if hit.muted:
        marks.append(hit.muted)
    return (f"{when}  {' '.join(it.severity.badge.split()):<8} {one_line(it.platform, limit=12):<12} "
            f"{one_line(it.author, limit=40)}  [{', '.join(marks)}]  {one_line(it.headline, limit=160)}  "
            f"(ref {item_ref(it.id)})")


@click.command("search", epilog=GLOBALS_EPILOG)
@click.argument("query", nargs=-1)
@click.option("--author", default=None, help="Only this author's posts (the handle; case and a leading @ do not matter).")
@click.option("--platform", default=None, help="Only this platform (pane), e.g. Mastodon.")
@click.option("--severity", type=click.Choice(_SEVERITIES, case_sensitive=False), default=None,
              help="At least this severity.")
@click.option("--state", type=click.Choice(["new", "seen", "claimed", "replied", "ignored", "blocked", "escalated", "open"]),
              default=None, help="Only items in this state (from the handover log); open = not replied, ignored or blocked.")
@click.option("--since", default=None, help="Published at or after: an age (2h, 1d, 1w) or an ISO date/time.")
@click.option("--until", default=None, help="Published before: an age or an ISO date/time.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per item per line (the item, its state, ref).")
@global_options(operator=False)
@_user_errors
def search_command(query: tuple[str, ...], author: str | None, platform: str | None, severity: str | None,
                   state: str | None, since: str | None, until: str | None, limit: int, as_json: bool) -> None:
    """Search every archived item, newest first: words, author, platform, severity, state, time.

    QUERY words must all occur (text, title, content warning, author); "a phrase" in
    quotes, refund* for a prefix, -word to leave out.  Accents and case do not matter.
    Muted items are found too (marked); watched authors are marked.

    \b
      watchtower search refund
      watchtower search --author @angry@social.example        (every post by this author)
      watchtower search fire --severity high --since 1d --state open
    """
    from .core.models import Severity
    from .core.record.search import SearchIndex, SearchQuery

    ctx = _Ctx()
    now = _now()
    q = SearchQuery(
        words=" ".join(query),
        author=author,
        platform=platform,
        severity=Severity.parse(severity) if severity else None,
        state=state,
        since=parse_when(since, now=now, tz=ctx.tz) if since else None,
        until=parse_when(until, now=now, tz=ctx.tz) if until else None,
        limit=limit,
    )
    with SearchIndex(ctx.data_dir, group_shared=ctx.config.data.group_shared) as index:
        result = index.search(q, entries=ctx.log.entries(), now=now)
        for problem in index.problems:
            click.echo(f"watchtower: warning: {problem}", err=True)
    from .core.respond.escalation import item_ref

    for hit in result.hits:
        if as_json:
            doc = hit.item.to_json()
            doc.update({"ref": item_ref(hit.item.id), "state": hit.state, "decisions": hit.decisions,
                        "watched": hit.watched, "muted": hit.muted})
            click.echo(json.dumps(doc, ensure_ascii=False))
        else:
            click.echo(_line(hit, ctx.tz))
    if not as_json:
        shown = len(result.hits)
        more = f" (the newest {shown} shown; --limit for more)" if result.total > shown else ""
        click.echo(f"{result.total} match{'es' if result.total != 1 else ''}{more}; {result.seconds * 1000:.0f} ms",
                   err=True)


COMMANDS: dict[str, click.Command] = {"search": search_command}
