"""The handover export pasted into chat (issue 15, point 11): mass mentions must not ping,
URLs must still work, times are the organisation's.

What "does not ping" means is taken from the chat tools' own conventions:

- Discord pings ``@everyone`` and ``@here`` anywhere in a message, and ``<@id>``,
  ``<@!id>``, ``<@&role>`` (bots defuse them with a zero-width space after the ``@``);
- Slack turns ``@channel``, ``@here`` and ``@everyone`` typed or pasted into the composer
  into mentions, and ``<!channel>``, ``<!here>``, ``<!everyone>`` sent through its API;
- Teams, Mattermost and Rocket.Chat: ``@channel``, ``@here``, ``@all``, ``@team``.

A mention is live when that exact text is in the message; a zero-width space inside it
breaks the match for every one of them while it reads the same.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from html import unescape as html_unescape
from pathlib import Path
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from click.testing import CliRunner
from markdown_it import MarkdownIt

from watchtower.cli_log import handover_group, log_group
from watchtower.core.models import Item, Severity
from watchtower.core.record.log import HandoverLog
from watchtower.core.report.handover import summarise, to_json, to_markdown

AMS = ZoneInfo("Europe/Amsterdam")
T0 = datetime(2026, 11, 3, 9, 0, tzinfo=timezone.utc)
ZWSP = "\u200b"

MENTIONS = "@everyone @here @channel @all @Team @EVERYONE! (@here) <!here> <!channel> <!everyone|everyone> <@U024BE7LH> <@&123456789012345678> <@!98765>"

# What each tool would parse as a ping, if it appeared verbatim.
LIVE = [
    re.compile(r"@(?:everyone|here)", re.IGNORECASE),  # Discord
    re.compile(r"<@[!&]?\d+>"),  # Discord user and role mentions
    re.compile(r"(?<![\w])@(?:channel|here|everyone)\b", re.IGNORECASE),  # Slack composer
    re.compile(r"<!(?:channel|here|everyone)"),  # Slack API
    re.compile(r"\\?<\\?[!@]"),  # the same through a Markdown-escaped "<" ("\<\!here>")
    re.compile(r"@(?:channel|here|all|team)\b", re.IGNORECASE),  # Teams, Mattermost, Rocket.Chat
]

URLS = [
    "https://library.example/qa",
    "https://example.org/a_b/(c)?x=1&y=2#frag_1",
    "https://mastodon.social/@here/110000000000000001",
    "http://evil.example:8080/~user/*star*",
    "www.example.com/path/page.html",
]


def _item(text: str, author: str = "@pat") -> Item:
    it = Item.create(platform="Mastodon", source="m", native_id="1", author=author, text=text,
                     published=T0 + timedelta(minutes=30))
    it.severity = Severity.HIGH
    return it


def _seeded(data_dir: Path, text: str) -> str:
    clock_now = [T0]
    log = HandoverLog(data_dir, clock=lambda: clock_now[0])
    it = _item(text, author="@everyone")
    log.append("handover", text, operator="@here")
    log.append("acknowledged", operator="@channel")
    clock_now[0] = T0 + timedelta(hours=1)
    log.append("note", f"multi-line note\n{text}\nend", operator="ann")
    log.append("replied", text, operator="ann", item=it)
    log.append("escalated", text, operator="ann", item=it)
    log.append("claimed", operator="@all", item=it)
    log.append("crisis_start", text, operator="ann")
    log.append("followup_set", text, operator="ann", item=it, data={"due": (T0 + timedelta(hours=5)).isoformat()})
    it.coverage.covered = False
    s = summarise(log.entries(), [it], now=T0 + timedelta(hours=2), tz=AMS)
    return to_markdown(s)


def test_mass_mentions_in_the_export_cannot_ping(data_dir: Path) -> None:
    md = _seeded(data_dir, MENTIONS)
    for live in LIVE:
        assert live.search(md) is None, (live.pattern, live.search(md), md[max(0, live.search(md).start() - 80):][:200])
    # Every mention is still there to read, in every place it was written.
    readable = md.replace(ZWSP, "")
    assert readable.count("@everyone") >= 6 and readable.count("!here") >= 6
    fenced = md.split("```text\nmulti-line note\n")[1].split("\nend\n```")[0]
    assert fenced.replace(ZWSP, "") == MENTIONS  # inside the fence too, byte for byte but the ZWSPs


def test_urls_in_the_export_stay_intact(tmp_path: Path) -> None:
    for n, url in enumerate(URLS):
        md = _seeded(tmp_path / str(n), f"see {url}, thanks. ({url})")
        one_line_fields = [line for line in md.splitlines() if line.startswith("- ") and "see " in line]
        assert len(one_line_fields) == 5  # uncovered item, reply, escalation, claim, follow-up
        for line in one_line_fields:
            # No backslash inside, and the trailing "," and ")" stay outside the URL.
            assert f"see {url}, thanks. ({url})" in line, (url, line)
        fenced = md.split("```text\nmulti-line note\n")[1].split("\nend\n```")[0]
        assert fenced == f"see {url}, thanks. ({url})"
        assert "\\." not in md and "\\:" not in md
        # Rendered, a URL is at most a link to itself: nothing can disguise a link.
        html = MarkdownIt("gfm-like").render(md)
        for href, label in re.findall(r'<a href="([^"]*)">(.*?)</a>', html):
            href, label = unquote(html_unescape(href)), html_unescape(label)
            assert href.startswith(("http://", "https://")) and href in (label, "http://" + label), (href, label)


def test_markup_around_urls_is_still_inert(data_dir: Path) -> None:
    text = "[click](javascript:alert(1)) ![x](https://evil.example/x.png) <https://evil.example> **b** `c` # h"
    md = _seeded(data_dir, text)
    html = MarkdownIt("gfm-like").render(md)
    assert 'href="javascript' not in html and "<img" not in html and "<strong>b" not in html
    for href, label in re.findall(r'<a href="([^"]*)">(.*?)</a>', html):
        assert href == label, (href, label)


def test_the_cli_export_shows_times_in_the_organisations_zone(tmp_path: Path) -> None:
    data, config = tmp_path / "data", tmp_path / "watchtower.toml"
    config.write_text('[organisation]\nname = "Riverside"\ntimezone = "Europe/Amsterdam"\n')
    common = ["--data-dir", str(data), "--config", str(config)]
    runner = CliRunner()
    assert runner.invoke(log_group, ["add", "power cut", "--kind", "crisis_start", *common]).exit_code == 0
    assert runner.invoke(log_group, ["add", "generator on", *common]).exit_code == 0
    entries = HandoverLog(data).entries()
    local = [e.ts.astimezone(AMS) for e in entries]

    r = runner.invoke(handover_group, ["export", "--format", "json", *common])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    offset = local[0].strftime("%z")
    offset = offset[:3] + ":" + offset[3:]
    assert doc["tz"] == "Europe/Amsterdam"
    for value in (doc["since"], doc["now"], doc["crisis"]["started_at"], doc["notes"][0]["ts"]):
        assert value.endswith(offset), value  # the crisis too: it used to be UTC
    assert doc["crisis"]["started_at"] == local[0].isoformat()

    r = runner.invoke(handover_group, ["export", *common])
    md = r.stdout
    assert "Times in Europe/Amsterdam." in md
    assert f"**CRISIS MODE ON** since {local[0]:%a %d %b %H:%M %Z}" in md
    assert f"{local[1]:%a %d %b %H:%M %Z}, " in md
    assert "UTC" not in md


def test_the_json_export_keeps_every_time_in_the_zone(data_dir: Path) -> None:
    log = HandoverLog(data_dir, clock=lambda: T0)
    log.append("crisis_start", "x", operator="ann")
    log.append("crisis_end", operator="ann")
    doc = to_json(summarise(log.entries(), [], since=T0 - timedelta(hours=1), now=T0 + timedelta(hours=1), tz=AMS))
    assert doc["crisis"]["started_at"] == "2026-11-03T10:00:00+01:00"
    assert doc["crisis"]["ended_at"] == "2026-11-03T10:00:00+01:00"
