"""``watchtower triage`` adds fields and changes none (issue 17, point 7).

Scripts join triage's output on their own ids, so every field of an input line comes back
as given, ``id`` included; the internal key goes in its own field, ``key``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CONFIG = """
[organisation]
name = "Rivierland Ziekenhuis"
timezone = "Europe/Amsterdam"

[[organisation.accounts]]
platform = "X"
handle = "@rivierland"
name = "Rivierland Ziekenhuis"

[[sources]]
name = "x-mentions"
platform = "X"
kind = "rss"
url = "https://feeds.example/x.rss"
"""

LINES = [
    # A script's own id (not "platform:..."), its own fields, nulls and a nested object.
    {"id": "row-17", "platform": "X", "source": "x-mentions", "author": "@jan", "author_followers": 300,
     "text": "Mijn afspraak is weer geannuleerd zonder uitleg, belachelijk", "published": "2026-05-04T09:00:00Z",
     "engagement": {"reposts": None, "likes": 3, "replies": None}, "language": None, "label": {"category": "grievance"},
     "my_join_key": 17},
    # An id that looks like ours, and no source.
    {"id": "X:abc", "platform": "X", "author": "@piet", "author_followers": 12, "text": "Thanks!",
     "published": "2026-05-04T09:00:00Z"},
    # No id at all.
    {"platform": "Mastodon", "source": "m", "author": "@a@b.example", "text": "Hoe laat zijn jullie open?",
     "published": "2026-05-04T09:00:00Z", "in_reply_to": "99"},
]


def _run(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "watchtower", *args], capture_output=True, text=True, timeout=120, input=stdin,
    )


@pytest.mark.slow  # starts a process
def test_triage_keeps_every_input_field_and_adds_its_own(tmp_path: Path) -> None:
    cfg = tmp_path / "org.toml"
    cfg.write_text(CONFIG, encoding="utf-8")
    out = _run("triage", "--config", str(cfg), "-", stdin="\n".join(json.dumps(line) for line in LINES))
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == len(LINES)
    for given, row in zip(LINES, rows):
        for name, value in given.items():
            assert row[name] == value, name  # id, nulls, unknown fields: exactly as given
        for name in ("severity", "category", "reasons", "reach", "coverage", "key"):
            assert name in row
    assert rows[0]["key"] == "X:x-mentions:row-17" and rows[0]["id"] == "row-17"
    assert rows[0]["category"] == "grievance"
    assert rows[1]["id"] == "X:abc"
    assert "id" not in LINES[2] and rows[2]["key"].startswith("Mastodon:m:")
    assert rows[2]["category"] == "question"  # a reply is put to us


def test_triaged_record_never_rewrites_a_given_field() -> None:
    from watchtower.config import parse_config
    from watchtower.core.models import Item
    from watchtower.core.triage.engine import Triager, triaged_record

    data = {"id": "7", "platform": "X", "source": "s", "author": "@x", "text": "data breach!", "severity": "info",
            "language": "en", "native_id": "n-7"}
    item = Item.from_json(data)
    Triager(parse_config({})).triage([item])
    record = triaged_record(data, item)
    assert record["id"] == "7" and record["native_id"] == "n-7" and record["language"] == "en"
    assert record["severity"] != "info"  # triage's own fields are the fresh ones
    assert record["key"] == item.id
