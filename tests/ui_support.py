"""Builders for UI tests: a fixed clock, a small config, deterministic items, waiting helpers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from watchtower.config import Config, parse_config
from watchtower.core.models import Category, Coverage, Engagement, Item, Reach, Severity
from watchtower.ui.app import WatchtowerApp

#: Sunday 22 November 2026, 14:30 UTC (15:30 in Amsterdam): the weekend shift is on.
NOW = datetime(2026, 11, 22, 14, 30, tzinfo=UTC)


def clock() -> datetime:
    return NOW


def small_config(**over) -> Config:
    data = {
        "organisation": {
            "name": "Riverside Library",
            "timezone": "Europe/Amsterdam",
            "qa_url": "https://library.example/qa",
            "contact_email": "social@library.example",
            "accounts": [
                {"platform": "Mastodon", "handle": "@riverside@social.example", "name": "Riverside (Mastodon)", "colour": "green"},
                {"platform": "X", "handle": "@RiversideLib", "name": "Riverside (X)", "colour": "cyan"},
            ],
        },
        "sources": [
            {"kind": "rss", "name": "news", "platform": "News", "url": "http://127.0.0.1:9/news.rss", "interval": 300, "weight": 3},
            {"kind": "mastodon", "name": "masto", "platform": "Mastodon", "url": "http://127.0.0.1:9", "tag": "riverside", "interval": 300},
            {"kind": "json", "name": "x", "platform": "X", "url": "http://127.0.0.1:9/x.json", "interval": 300},
        ],
        "rota": {
            "holidays": "NL",
            "shift": [
                {"name": "weekdays", "days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00", "on_call": "Sam"},
                {"name": "weekend", "days": ["sat", "sun"], "start": "10:00", "end": "16:00", "on_call": "Robin"},
            ],
        },
    }
    data.update(over)
    return parse_config(data)


def _item(n: int, platform: str, author: str, followers: int | None, text: str, minutes_ago: float,
          severity: Severity, category: Category, *, covered: bool = True, weekend: bool = True,
          reasons: list[str] | None = None, language: str = "en", in_reply_to: str | None = None,
          title: str = "") -> Item:
    item = Item.create(
        platform=platform,
        source={"News": "news", "Mastodon": "masto", "X": "x"}[platform],
        native_id=f"n{n}",
        author=author,
        author_name=author.strip("@").split("@")[0].title(),
        author_followers=followers,
        text=text,
        title=title,
        url=f"https://{platform.lower()}.example/{n}",
        published=NOW - timedelta(minutes=minutes_ago),
        language=language,
        engagement=Engagement(reposts=n, likes=n * 3, replies=n % 4),
        in_reply_to=in_reply_to,
    )
    item.severity = severity
    item.category = category
    item.reasons = reasons or [f"rule {n}"]
    item.reach = Reach(followers, round(followers * 0.14) if followers is not None else None)
    item.coverage = Coverage(
        covered=covered,
        shift="weekend" if covered else None,
        on_call="Robin" if covered else None,
        weekend=weekend,
    )
    return item


def sample_items() -> list[Item]:
    return [
        _item(1, "News", "Dagblad", None, "Datalek bij Riverside Library: 40.000 leden getroffen", 50,
              Severity.CRITICAL, Category.CRISIS, reasons=["keyword 'datalek' (security)", "source weight 3"],
              language="nl", title="Datalek bij Riverside Library"),
        _item(2, "Mastodon", "@jeroen@social.example", 880, "Is @riverside gehackt? Ik kreeg een DM met een inloglink", 400,
              Severity.HIGH, Category.SECURITY, covered=False, reasons=["keyword 'gehackt' (security)"], language="nl"),
        _item(3, "X", "@sarah", 740, "@RiversideLib your Facebook says Sunday 10-17 but the sign says 12-17. Wrong information?", 20,
              Severity.MEDIUM, Category.WRONG_INFO, reasons=["keyword 'wrong information' (wrong-info)"]),
        _item(4, "X", "@grumpy", 14, "the wifi at the library is slow again", 35,
              Severity.LOW, Category.GRIEVANCE, reasons=["author has 14 followers", "about 2 people likely to see this"]),
        _item(5, "Mastodon", "@troll@bad.example", 23, "[@click=app.quit]lol[/] your library sucks [bold]x", 90,
              Severity.LOW, Category.ABUSE, reasons=["keyword 'sucks' (abuse)"]),
        _item(6, "X", "@fan", 3100, "Huge thanks to the staff for helping me print my visa forms!", 10,
              Severity.INFO, Category.PRAISE),
        _item(7, "News", "Forum", None, "Weet iemand of de parkeergarage naast de bieb open is?", 600,
              Severity.LOW, Category.QUESTION, covered=False, language="nl"),
    ]


def make_app(tmp_path: Path, *, config: Config | None = None, operator: str = "alice", data_dir: Path | None = None) -> WatchtowerApp:
    return WatchtowerApp(
        config or small_config(),
        data_dir=data_dir or (tmp_path / "data"),
        operator=operator,
        clock=clock,
        start_polling=False,
    )


async def wait_for(
    pilot,
    condition: Callable[[], bool],
    *,
    timeout: float | None = None,
    what: str = "condition",
    seen: Callable[[], object] | None = None,
) -> None:
    """Pump the app until ``condition`` holds; fail after ``timeout`` (a ceiling, not a delay).

    The default ceiling is :data:`waiting.DEADLINE`, sized for a loaded CI box; ``seen``
    describes what the test saw instead, for the failure message.
    """
    from waiting import async_wait_until

    await async_wait_until(condition, what=what, timeout=timeout, seen=seen, pause=lambda: pilot.pause(0.05))


async def ready_with_items(pilot, items: list[Item] | None = None) -> WatchtowerApp:
    """Wait for the stores to open, then show ``items`` (default: :func:`sample_items`)."""
    app = pilot.app
    await wait_for(pilot, lambda: app.monitor is not None, what="stores to open")
    app.desk.hold(sample_items() if items is None else items)
    app.refresh_views()
    await pilot.pause()
    return app


async def wait_for_log(pilot, kind: str, count: int = 1) -> list:
    app = pilot.app
    await wait_for(pilot, lambda: sum(1 for e in app.log_entries if e.kind == kind) >= count, what=f"{count} '{kind}' log entries")
    return [e for e in app.log_entries if e.kind == kind]
