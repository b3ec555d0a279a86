"""Search over the archive (SQLite FTS5 inside archive.sqlite3) and ``watchtower search``.

Real archives in tmp dirs, written through :class:`Archive` as the TUI and ``fetch`` write
them; the state of items comes from a real HandoverLog.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from watchtower.cli import cli
from watchtower.core.models import Item, Severity
from watchtower.core.record.archive import ARCHIVE_NAME, Archive
from watchtower.core.record.log import HandoverLog
from watchtower.core.record.search import SearchIndex, SearchQuery, fts_query
from watchtower.core.respond.schedule import record_entry

UTC = timezone.utc
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def item(n: int, text: str, *, author: str = "@someone@social.example", platform: str = "Mastodon",
         severity: Severity = Severity.LOW, hours: float = 0, title: str | None = None) -> Item:
    it = Item.create(platform=platform, source="src", native_id=f"n{n}", author=author, text=text,
                     published=T0 + timedelta(hours=hours), title=title)
    it.severity = severity
    return it


ITEMS = [
    item(1, "The café on the ground floor is closed again", hours=1),
    item(2, "Refund please, the fine was wrong", author="@Angry@social.example", severity=Severity.HIGH, hours=2),
    item(3, "Second refund request, still waiting", author="angry@social.example", severity=Severity.MEDIUM, hours=3),
    item(4, "Lovely reading room", platform="Bluesky", author="fan.bsky.social", hours=4),
    item(5, "Opening hours are wrong on the website", platform="Bluesky", severity=Severity.CRITICAL, hours=5),
    item(6, "bibliotheek gesloten vandaag", platform="Reddit", hours=6, title="Library closed?"),
]


@pytest.fixture
def archive_dir(data_dir: Path) -> Path:
    with Archive(data_dir) as a:
        a.add(ITEMS)
    return data_dir


def ids(result) -> list[int]:  # type: ignore[no-untyped-def]
    return [int(h.item.native_id[1:]) for h in result.hits]


def find(d: Path, **kw) -> list[int]:  # type: ignore[no-untyped-def]
    with SearchIndex(d) as index:
        return ids(index.search(SearchQuery(**kw)))


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"words": "refund"}, [3, 2]),  # newest first
        ({"words": "REFUND wrong"}, [2]),  # every word, any case
        ({"words": "cafe"}, [1]),  # accents do not matter
        ({"words": '"opening hours"'}, [5]),
        ({"words": '"hours opening"'}, []),
        ({"words": "ref*"}, [3, 2]),
        ({"words": "refund -second"}, [2]),
        ({"words": "library"}, [6]),  # the title counts
        ({"words": "angry"}, [3, 2]),  # so does the author
        ({"author": "@ANGRY@social.example"}, [3, 2]),  # case and a leading @ do not matter
        ({"author": "angry"}, []),  # a handle, not a part of one
        ({"platform": "bluesky"}, [5, 4]),
        ({"platform": "Nowhere"}, []),
        ({"severity": Severity.HIGH}, [5, 2]),  # at least
        ({"since": T0 + timedelta(hours=4), "until": T0 + timedelta(hours=6)}, [5, 4]),
        ({"words": "wrong", "platform": "Bluesky"}, [5]),
        ({}, [6, 5, 4, 3, 2, 1]),
        ({"limit": 2}, [6, 5]),
    ],
)
def test_search_by_words_author_platform_severity_and_time(archive_dir: Path, kw: dict, expected: list[int]) -> None:
    assert find(archive_dir, **kw) == expected


@pytest.mark.parametrize("typed", ['"', 'NEAR(a b', "a OR", "*", "title:x", "-", "^x", "a AND NOT", "💥", "'; DROP TABLE items; --"])
def test_nothing_typed_is_fts_syntax_or_sql(archive_dir: Path, typed: str) -> None:
    with SearchIndex(archive_dir) as index:
        index.search(SearchQuery(words=typed))  # never raises
    assert Archive(archive_dir).count() == len(ITEMS)


def test_fts_query_quotes_every_term() -> None:
    assert fts_query('refund "opening hours" biblio* -closed') == '"refund" AND "opening hours" AND "biblio"* NOT "closed"'
    assert fts_query("-closed") is None and fts_query("  ") is None and fts_query("*") is None


def test_the_total_counts_every_match_and_the_hits_are_the_newest(archive_dir: Path) -> None:
    with SearchIndex(archive_dir) as index:
        result = index.search(SearchQuery(limit=2))
    assert result.total == 6 and ids(result) == [6, 5] and result.indexed


def test_state_filters_come_from_the_log(archive_dir: Path) -> None:
    log = HandoverLog(archive_dir)
    log.append("replied", "done", operator="ann", item_id=ITEMS[1].id)
    log.append("claimed", "", operator="sam", item_id=ITEMS[2].id)
    log.append("seen", "", operator="sam", item_id=ITEMS[4].id)
    entries = log.entries()
    with SearchIndex(archive_dir) as index:
        def by_state(state: str, **kw) -> list[int]:  # type: ignore[no-untyped-def]
            return ids(index.search(SearchQuery(state=state, **kw), entries=entries))

        assert by_state("replied") == [2]
        assert by_state("claimed") == [3]
        assert by_state("seen") == [5]
        assert by_state("new") == [6, 4, 1]
        assert by_state("open", words="refund") == [3]
        hit = index.search(SearchQuery(words="refund"), entries=entries).hits
        assert [h.state for h in hit] == ["claimed by sam", "replied"]
        assert hit[1].decisions[0].startswith("replied by ann")


def test_author_history_lists_earlier_posts_and_our_decisions(archive_dir: Path) -> None:
    log = HandoverLog(archive_dir)
    log.append("ignored", "prank", operator="bo", item_id=ITEMS[1].id)
    with SearchIndex(archive_dir) as index:
        history = index.author_history("angry@social.example", entries=log.entries(), exclude=[ITEMS[2].id])
    assert ids(history) == [2]
    assert history.hits[0].state == "ignored" and history.hits[0].decisions[0].startswith("ignored by bo")


def test_watched_and_muted_items_are_marked_and_watched_ones_lifted(archive_dir: Path) -> None:
    log = HandoverLog(archive_dir)
    record_entry(log, "watch", "keeps complaining", operator="ann", data={"author": "fan.bsky.social"})
    record_entry(log, "mute", "meme", operator="ann", data={"keyword": "reading room"})
    with SearchIndex(archive_dir) as index:
        [hit] = index.search(SearchQuery(words="lovely"), entries=log.entries()).hits
    assert hit.watched and hit.muted is None, "watching wins over a muted keyword"
    assert hit.item.severity == Severity.MEDIUM and "watched author (keeps complaining)" in hit.item.reasons
    record_entry(log, "unwatch", "", operator="ann", data={"author": "fan.bsky.social"})
    with SearchIndex(archive_dir) as index:
        [hit] = index.search(SearchQuery(words="lovely"), entries=log.entries()).hits
    assert not hit.watched and hit.muted == "muted keyword 'reading room'" and hit.item.severity == Severity.LOW


# -- the index follows the archive -----------------------------------------------------


def test_items_archived_later_edited_or_pruned_are_followed(archive_dir: Path) -> None:
    index = SearchIndex(archive_dir)
    clock = [datetime.now(UTC).timestamp()]
    with Archive(archive_dir, clock=lambda: clock[0]) as a:
        a.add([item(7, "A new complaint about the fine", hours=7)])
        assert ids(index.search(SearchQuery(words="fine"))) == [7, 2]  # indexed at this search
        edited = item(2, "Thanks, the refund arrived", author="@Angry@social.example", hours=2)
        a.update([edited])
        assert ids(index.search(SearchQuery(words="fine"))) == [7]
        assert ids(index.search(SearchQuery(words="arrived"))) == [2]
        clock[0] += 8 * 86400  # a week later nothing was seen in a feed: pruned
        a.add([item(8, "fresh fine post", hours=8)])
        a.prune()
        assert ids(index.search(SearchQuery(words="fine"))) == [8]
        assert index.search(SearchQuery()).total == 1
    index.close()


def test_an_archive_with_the_index_still_takes_writes_from_an_archive_that_never_heard_of_it(
    archive_dir: Path,
) -> None:
    SearchIndex(archive_dir).close()
    with Archive(archive_dir) as a:
        a.add([item(9, "written without search loaded", hours=9)])
        a.mark_seen([ITEMS[0].id])
        a.update([item(1, "edited text", hours=1)])
        # A row damaged by hand must never make a write fail because of the index.
        conn = sqlite3.connect(archive_dir / ARCHIVE_NAME)
        conn.execute("UPDATE items SET json = 'not json' WHERE id = ?", (ITEMS[3].id,))
        conn.commit()
        conn.close()
        a.prune()
    assert find(archive_dir, words="written") == [9]
    assert find(archive_dir, words="edited") == [1]
    assert 4 not in find(archive_dir)


def test_a_stale_or_foreign_index_version_is_rebuilt(archive_dir: Path) -> None:
    SearchIndex(archive_dir).close()
    conn = sqlite3.connect(archive_dir / ARCHIVE_NAME)
    conn.execute("UPDATE search_meta SET value = 0 WHERE key = 'version'")
    conn.execute("DELETE FROM items_fts")
    conn.commit()
    conn.close()
    assert find(archive_dir, words="refund") == [3, 2]


def test_without_the_index_a_scan_gives_the_same_answers(archive_dir: Path) -> None:
    queries = [SearchQuery(words="refund"), SearchQuery(author="ANGRY@social.example"),
               SearchQuery(platform="bluesky", severity=Severity.MEDIUM), SearchQuery(words="bibliotheek", limit=1)]
    with SearchIndex(archive_dir) as index:
        indexed = [ids(index.search(q)) for q in queries]
    with SearchIndex(archive_dir, build=False) as index:
        index.problems.append("pretend the archive is read-only")
        scanned = [ids(index.search(q)) for q in queries]
        assert not index.indexed
    assert scanned == indexed


def test_searching_while_another_thread_archives(archive_dir: Path) -> None:
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with Archive(archive_dir) as a:
                for n in range(100, 160):
                    a.add([item(n, f"stream word{n} refund", hours=10 + n)])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            stop.set()

    t = threading.Thread(target=writer)
    t.start()
    with SearchIndex(archive_dir) as index:
        while not stop.is_set():
            index.search(SearchQuery(words="refund"))
        t.join()
        assert not errors
        assert index.search(SearchQuery(words="stream")).total == 60


def test_no_archive_yet_is_no_results(data_dir: Path) -> None:
    with SearchIndex(data_dir) as index:
        assert index.search(SearchQuery(words="x")).hits == []


# -- watchtower search -----------------------------------------------------------------


def test_watchtower_search_prints_lines_and_json(archive_dir: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["search", "refund", "--data-dir", str(archive_dir)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and "Second refund request" in lines[0] and "[new]" in lines[0]
    assert "2 matches" in result.stderr
    as_json = runner.invoke(cli, ["--data-dir", str(archive_dir), "search", "--author", "@angry@social.example",
                                  "--severity", "high", "--json"])
    [doc] = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert doc["text"] == "Refund please, the fine was wrong" and doc["state"] == "new" and len(doc["ref"]) == 8


def test_watchtower_search_since_and_state(archive_dir: Path) -> None:
    HandoverLog(archive_dir).append("ignored", "", operator="bo", item_id=ITEMS[0].id)
    result = CliRunner().invoke(cli, ["search", "--state", "ignored", "--since", "2026-12-01", "--data-dir", str(archive_dir)])
    assert result.exit_code == 0 and "café" in result.stdout and "[ignored]" in result.stdout


def test_watchtower_search_mistakes_exit_2(archive_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["search", "--since", "soonish", "--data-dir", str(archive_dir)])
    assert result.exit_code == 2 and "Traceback" not in result.output
