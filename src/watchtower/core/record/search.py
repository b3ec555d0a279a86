"""Search everything held, like an inbox: words, author, platform, severity, state, time.

The index lives in the archive that exists (``archive.sqlite3``, :mod:`watchtower.core.record.archive`):
an SQLite FTS5 table ``items_fts`` (title, text and content warning as ``body``; handle
and display name as ``author``) plus an index on the normalised author handle, both kept
in step with ``items`` by **triggers**.  So every writer of the archive, in any process
(``watchtower fetch`` from cron, the TUI, an older watchtower that knows nothing about
search), keeps the index current, and a pruned item leaves the index with its row.
:meth:`SearchIndex.ensure` creates the table, the triggers and the index once (under the
archive's own file lock) and fills the table from the rows already there; it rebuilds it
when the count of indexed rows and stored rows ever differ.

What a query means:

- **words**: every word must occur (in the text, the title, the content warning, or the
  author's handle or name), without case or accents (``cafe`` finds ``café``);
  ``"exact phrase"``, ``refund*`` (a prefix) and ``-word`` (must not occur) work.  The
  words are quoted before they reach FTS5, so no input is FTS5 syntax.
- **author**: the handle, without case and without a leading ``@``.
- **platform**: the pane name, without case.  **severity**: at least this one.
- **since / until**: publication time, ``[since, until)``.
- **state**: from the handover log (:mod:`watchtower.core.record.decisions`): ``new``, ``seen``,
  ``claimed``, ``replied``, ``ignored``, ``blocked``, ``escalated``, or ``open`` (nobody
  replied, ignored or blocked it yet).

Results are newest first.  A read-only archive (a read-only mount) cannot take the index:
it is searched by a plain scan instead, slower but the same answers.  ``bench/bench_search.py``
measures the index at 50,000 items.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..models import Item, Severity
from .paths import StorageError
from .policy import handled

__all__ = [
    "SearchIndex",
    "SearchQuery",
    "SearchResult",
    "Hit",
    "STATES",
    "fts_query",
    "author_key",
]

FTS_TABLE = "items_fts"
ROWS_TABLE = "search_rows"
#: Bumped when the index's shape changes: the tables and triggers are made again.
INDEX_VERSION = 2
_BUSY_MS = 5000
STATES = ("new", "seen", "claimed", "replied", "ignored", "blocked", "escalated", "open")

# The same expressions in the triggers, the catch-up and the queries.  json_valid first: a
# row that is not JSON (damaged by hand) must never make an archive write fail.
_BODY = ("CASE WHEN json_valid({r}.json) THEN trim(coalesce(json_extract({r}.json, '$.title'), '') || ' ' || "
         "coalesce(json_extract({r}.json, '$.text'), '') || ' ' || "
         "coalesce(json_extract({r}.json, '$.content_warning'), '')) ELSE '' END")
_AUTHOR = ("CASE WHEN json_valid({r}.json) THEN coalesce(json_extract({r}.json, '$.author'), '') || ' ' || "
           "coalesce(json_extract({r}.json, '$.author_name'), '') ELSE '' END")
_AUTHOR_KEY = "CASE WHEN json_valid({r}.json) THEN lower(ltrim(json_extract({r}.json, '$.author'), '@')) ELSE '' END"
_UPTO = "(SELECT value FROM search_meta WHERE key = 'upto')"


def _fts_insert(r: str, where: str = "") -> str:
    if r == "new":
        return (f"INSERT INTO {FTS_TABLE} (rowid, body, author) "
                f"VALUES (new.rowid, {_BODY.format(r=r)}, {_AUTHOR.format(r=r)})")
    return (f"INSERT INTO {FTS_TABLE} (rowid, body, author) "
            f"SELECT {r}.rowid, {_BODY.format(r=r)}, {_AUTHOR.format(r=r)} FROM items {r} {where}")


def _rows_insert(r: str, where: str = "") -> str:
    cols = f"{r}.rowid, {r}.id, {r}.published, {r}.severity, {r}.platform, {_AUTHOR_KEY.format(r=r)}"
    head = f"INSERT INTO {ROWS_TABLE} (rowid, item_id, published, severity, platform, author_key) "
    if r == "new":
        return head + f"VALUES ({cols})"
    return head + f"SELECT {cols} FROM items {r} {where}"


def _schema() -> list[str]:
    forget = (f"DELETE FROM {FTS_TABLE} WHERE rowid = old.rowid; "
              f"DELETE FROM {ROWS_TABLE} WHERE rowid = old.rowid;")
    return [
        "CREATE TABLE IF NOT EXISTS search_meta (key TEXT PRIMARY KEY, value)",
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(body, author, tokenize = 'unicode61')",
        f"CREATE TABLE IF NOT EXISTS {ROWS_TABLE} (rowid INTEGER PRIMARY KEY, item_id TEXT NOT NULL, "
        "published REAL, severity INTEGER, platform TEXT, author_key TEXT)",
        f"CREATE INDEX IF NOT EXISTS {ROWS_TABLE}_published ON {ROWS_TABLE} (published)",
        f"CREATE INDEX IF NOT EXISTS {ROWS_TABLE}_author ON {ROWS_TABLE} (author_key, published)",
        f"CREATE INDEX IF NOT EXISTS {ROWS_TABLE}_platform ON {ROWS_TABLE} (platform, published)",
        # New rows are indexed by the next search (:meth:`SearchIndex.sync`), so an archive
        # write pays nothing for search; a row already indexed follows its edits and goes
        # with its row.
        f"CREATE TRIGGER IF NOT EXISTS items_search_delete AFTER DELETE ON items BEGIN {forget} END",
        "CREATE TRIGGER IF NOT EXISTS items_search_update AFTER UPDATE OF id, platform, published, severity, json "
        f"ON items WHEN old.rowid <= {_UPTO} BEGIN {forget} {_fts_insert('new')}; {_rows_insert('new')}; END",
    ]


_DROP = [
    "DROP TRIGGER IF EXISTS items_search_delete",
    "DROP TRIGGER IF EXISTS items_search_update",
    "DROP TRIGGER IF EXISTS items_fts_insert",
    "DROP TRIGGER IF EXISTS items_fts_delete",
    "DROP TRIGGER IF EXISTS items_fts_update",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
    f"DROP TABLE IF EXISTS {ROWS_TABLE}",
    "DROP INDEX IF EXISTS items_author_key",
]


def author_key(author: object) -> str:
    """A handle as the index compares it: no leading ``@``, lower case."""
    return str(author or "").strip().lstrip("@").lower()


_TOKEN = re.compile(r'(-?)"([^"]*)"|(-?)(\S+)')
_WORD_CHARS = re.compile(r"[^\w@.#'\-]+", re.UNICODE)


def fts_query(words: str) -> str | None:
    """The FTS5 MATCH expression for what a person typed, or ``None`` when there is nothing
    to look for.  Every term is a quoted string, so nothing typed is FTS5 syntax."""
    positive: list[str] = []
    negative: list[str] = []
    for m in _TOKEN.finditer(words or ""):
        if m.group(2) is not None:
            neg, text, prefix = bool(m.group(1)), m.group(2), False
        else:
            neg, text = bool(m.group(3)), m.group(4)
            prefix = text.endswith("*")
            text = text.rstrip("*")
        text = " ".join(_WORD_CHARS.sub(" ", text).split())
        if not any(ch.isalnum() for ch in text):
            continue
        term = '"' + text.replace('"', '""') + '"' + ("*" if prefix else "")
        (negative if neg else positive).append(term)
    if not positive:
        return None
    expr = " AND ".join(positive)
    for term in negative:
        expr += f" NOT {term}"
    return expr


@dataclass(slots=True)
class SearchQuery:
    words: str = ""
    author: str | None = None
    platform: str | None = None
    severity: Severity | None = None
    """At least this severity."""
    state: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 50
    exclude: Sequence[str] = ()
    """Item ids to leave out (the item whose author's history is shown)."""


@dataclass(slots=True)
class Hit:
    item: Item
    state: str
    """``new``, ``claimed by ann``, ``replied``, ... (:attr:`ItemState.label`)."""
    decisions: list[str] = field(default_factory=list)
    """What the team did about it, oldest first: ``replied by ann 14:02``."""
    muted: str | None = None
    watched: bool = False


@dataclass(slots=True)
class SearchResult:
    hits: list[Hit]
    total: int
    """Matches before ``limit``."""
    seconds: float
    indexed: bool
    """False when the archive could not take the index and was scanned."""


def _epoch(ts: datetime) -> float:
    return (ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)).timestamp()


class SearchIndex:
    """Search over ``data_dir/archive.sqlite3``.  Opens its own connection; one thread at a time
    (a UI runs it in a worker).  ``problems`` lists what went wrong, in words."""

    def __init__(self, data_dir: str | Path, *, group_shared: bool = False, build: bool = True) -> None:
        from .archive import ARCHIVE_NAME

        self.data_dir = Path(data_dir)
        self.path = self.data_dir / ARCHIVE_NAME
        self.group_shared = group_shared
        self.problems: list[str] = []
        self.indexed = False
        self._conn: sqlite3.Connection | None = None
        self._platforms: dict[str, str] | None = None
        if not self.path.is_file():
            return
        try:
            self._conn = sqlite3.connect(str(self.path), timeout=_BUSY_MS / 1000, isolation_level=None,
                                         check_same_thread=False)
            self._conn.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the archive {self.path} for search: {exc}") from None
        if build:
            self.ensure()

    # -- the index ---------------------------------------------------------------------

    def ensure(self) -> bool:
        """Create the index if needed and index the rows stored since the last search.

        ``False`` when the archive cannot take it (a read-only file or mount): searches
        then scan the archive instead, with the same answers.
        """
        conn = self._conn
        if conn is None:
            return False
        try:
            if self._fresh(conn):
                self.indexed = True
                return True
        except sqlite3.Error:
            pass
        try:
            self._sync(conn)
        except sqlite3.Error as exc:
            self.indexed = False
            problem = f"the search index could not be brought up to date ({exc}); searching by scan (slower)"
            if problem not in self.problems:
                self.problems.append(problem)
            return False
        self.indexed = True
        return True

    def sync(self) -> bool:
        """Index what was archived since the last call (cheap when nothing was)."""
        return self.ensure()

    @staticmethod
    def _meta(conn: sqlite3.Connection) -> tuple[Any, int]:
        row = conn.execute(
            "SELECT (SELECT value FROM search_meta WHERE key = 'version'), "
            "(SELECT value FROM search_meta WHERE key = 'upto')"
        ).fetchone()
        return row[0], int(row[1] or 0)

    def _fresh(self, conn: sqlite3.Connection) -> bool:
        version, upto = self._meta(conn)
        top = conn.execute("SELECT coalesce(max(rowid), 0) FROM items").fetchone()[0]
        return bool(version == INDEX_VERSION and upto == top)

    def _sync(self, conn: sqlite3.Connection) -> None:
        """Under ``BEGIN IMMEDIATE`` (one writer at a time, any process): make the tables if
        they are missing or of another version, then index the rows past ``upto``."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'items'").fetchone():
                conn.execute("ROLLBACK")
                return
            try:
                version, upto = self._meta(conn)
            except sqlite3.Error:
                version, upto = None, 0
            if version != INDEX_VERSION:
                for statement in _DROP + _schema():
                    conn.execute(statement)
                upto = 0
                conn.execute("INSERT OR REPLACE INTO search_meta (key, value) VALUES ('version', ?)", (INDEX_VERSION,))
            top = conn.execute("SELECT coalesce(max(rowid), 0) FROM items").fetchone()[0]
            if top > upto:
                conn.execute(_fts_insert("i", "WHERE i.rowid > ?"), (upto,))
                conn.execute(_rows_insert("i", "WHERE i.rowid > ?"), (upto,))
            # top < upto: the newest rows were deleted (their index rows went with them);
            # the rowids after top will be used again, and indexed then.
            conn.execute("INSERT OR REPLACE INTO search_meta (key, value) VALUES ('upto', ?)", (top,))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self._platforms = None

    # -- searching ---------------------------------------------------------------------

    def _platform(self, conn: sqlite3.Connection, name: str) -> str | None:
        if self._platforms is None:
            table = ROWS_TABLE if self.indexed else "items"
            self._platforms = {p.casefold(): p for (p,) in conn.execute(f"SELECT DISTINCT platform FROM {table}")}
        return self._platforms.get(name.strip().casefold())

    def _where(self, q: SearchQuery, conn: sqlite3.Connection) -> tuple[str, list[Any]] | None:
        """The FROM/WHERE of a query over ``s`` (the narrow rows, or the items when there
        is no index); ``None`` when nothing can match."""
        where: list[str] = []
        params: list[Any] = []
        match = fts_query(q.words)
        if self.indexed:
            source = f"{ROWS_TABLE} s"
            if match is not None:
                where.append(f"s.rowid IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ?)")
                params.append(match)
            author = "s.author_key"
            item_id = "s.item_id"
        else:
            source = "items s"
            if match is not None:  # no index: a scan, every word in the stored JSON
                for word in _scan_words(q.words):
                    where.append("instr(lower(s.json), ?) > 0")
                    params.append(word)
            author = f"({_AUTHOR_KEY.format(r='s')})"
            item_id = "s.id"
        if q.platform:
            platform = self._platform(conn, q.platform)
            if platform is None:
                return None
            where.append("s.platform = ?")
            params.append(platform)
        if q.severity is not None:
            where.append("s.severity >= ?")
            params.append(int(q.severity))
        if q.since is not None:
            where.append("s.published >= ?")
            params.append(_epoch(q.since))
        if q.until is not None:
            where.append("s.published < ?")
            params.append(_epoch(q.until))
        if q.author:
            where.append(f"{author} = ?")
            params.append(author_key(q.author))
        if q.exclude:
            where.append(f"{item_id} NOT IN ({','.join('?' * len(q.exclude))})")
            params.extend(q.exclude)
        sql = f" FROM {source}" + (" WHERE " + " AND ".join(where) if where else "")
        return sql, params

    def _ids(self, q: SearchQuery, *, only: set[str] | None = None, skip: set[str] | None = None) -> tuple[list[str], int]:
        """The ids of the newest ``q.limit`` matches, and how many match.  ``only``/``skip``:
        ids to keep to, or to leave out (a state from the log)."""
        conn = self._conn
        assert conn is not None
        built = self._where(q, conn)
        if built is None:
            return [], 0
        body, params = built
        item_id = "s.item_id" if self.indexed else "s.id"
        if only is not None or skip is not None:
            # One JSON array parameter: no temp table to write, SQLite makes it a set.
            test = "IN" if only is not None else "NOT IN"
            body += (" AND " if " WHERE " in body else " WHERE ") + f"{item_id} {test} (SELECT value FROM json_each(?))"
            params = [*params, json.dumps(sorted(only if only is not None else skip or ()))]
        ids = [r[0] for r in conn.execute(f"SELECT {item_id}{body} ORDER BY s.published DESC LIMIT ?",
                                          [*params, max(0, q.limit)])]
        if len(ids) < q.limit:
            return ids, len(ids)
        total = conn.execute(f"SELECT count(*){body}", params).fetchone()[0]
        return ids, int(total)

    def _items(self, ids: Sequence[str]) -> dict[str, Item]:
        conn = self._conn
        assert conn is not None
        out: dict[str, Item] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            for item_id, raw in conn.execute(
                f"SELECT id, json FROM items WHERE id IN ({','.join('?' * len(chunk))})", chunk
            ):
                try:
                    data = json.loads(raw)
                    if not isinstance(data, dict):
                        raise TypeError("not a JSON object")
                    out[item_id] = Item.from_json(data)
                except Exception:  # noqa: BLE001 - one damaged row must not cost the search
                    self.problems.append(f"an archived item could not be read and is left out ({str(item_id)[:80]!r})")
        return out

    def search(self, q: SearchQuery, *, entries: Iterable[Any] = (), now: datetime | None = None,
               states: Mapping[str, Any] | None = None) -> SearchResult:
        """The items matching ``q``, newest first, with their state from the log ``entries``.

        Watched authors' items come back lifted to medium (as the panes show them), muted
        ones marked (search shows what a mute hides).  ``states``: the item states already
        folded from the log (a UI keeps them); otherwise they are folded from ``entries``,
        all of them for a ``state`` filter and only the hits' otherwise.
        """
        started = time.perf_counter()
        if self._conn is None:
            return SearchResult([], 0, 0.0, False)
        from ..triage.watchlist import WATCH_KINDS, watchlist_from_entries
        from .decisions import item_states

        entries = list(entries)
        watch = watchlist_from_entries([e for e in entries if e.kind in WATCH_KINDS],
                                       now or datetime.now(timezone.utc))
        if self.indexed or not self.problems:
            self.ensure()
        try:
            if q.state:
                if states is None:
                    states = item_states(entries)
                only, skip = _state_sets(states, q.state)
                top, total = self._ids(q, only=only, skip=skip)
            else:
                top, total = self._ids(q)
        except sqlite3.Error as exc:
            raise StorageError(f"could not search the archive: {exc}") from None
        if states is None:
            wanted = set(top)
            states = item_states(e for e in entries if e.item_id in wanted)
        items = self._items(top)
        hits: list[Hit] = []
        for item_id in top:
            item = items.get(item_id)
            if item is None:
                continue
            st = states.get(item_id)
            hits.append(Hit(
                item=watch.apply(item),
                state=st.label if st is not None else "new",
                decisions=_decisions(st),
                muted=watch.muted(item),
                watched=watch.is_watched(item),
            ))
        return SearchResult(hits, total, time.perf_counter() - started, self.indexed)

    def author_history(self, author: str, *, entries: Iterable[Any] = (), exclude: Sequence[str] = (),
                       limit: int = 20, now: datetime | None = None) -> SearchResult:
        """The author's earlier posts that we hold, newest first, with our decisions on them
        (the response panel's "earlier from this author")."""
        return self.search(SearchQuery(author=author, exclude=exclude, limit=limit), entries=entries, now=now)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _scan_words(words: str) -> list[str]:
    out = []
    for m in _TOKEN.finditer(words or ""):
        if m.group(1) or m.group(3):
            continue  # exclusions are not applied by the scan
        text = (m.group(2) if m.group(2) is not None else m.group(4)).rstrip("*").lower()
        if text:
            out.append(text)
    return out


def _state_sets(states: Mapping[str, Any], wanted: str) -> tuple[set[str] | None, set[str] | None]:
    """``(only, skip)`` for a state filter: the ids in that state, or (for ``new`` and
    ``open``, which most items are) the ids that are not."""
    if wanted == "open":
        return None, {i for i, st in states.items() if handled(st)}  # the one rule (policy)
    if wanted == "new":
        return None, {i for i, st in states.items() if st.label != "new"}
    if wanted == "claimed":
        return {i for i, st in states.items() if st.claimed_by}, None
    if wanted == "escalated":
        return {i for i, st in states.items() if st.escalated is not None}, None
    return {i for i, st in states.items() if st.label == wanted}, None


def _decisions(state: Any) -> list[str]:
    if state is None:
        return []
    out: list[tuple[datetime, str]] = []
    for reply in state.replied:
        out.append((reply.ts, f"replied by {reply.operator}"))
    for name, mark in (("ignored", state.ignored), ("blocked", state.blocked), ("escalated", state.escalated)):
        if mark is not None:
            out.append((mark.ts, f"{name} by {mark.operator}"))
    if state.claimed_by and state.claimed_at is not None:
        out.append((state.claimed_at, f"claimed by {state.claimed_by}"))
    out.sort(key=lambda kv: kv[0])
    return [f"{text} {ts.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC" for ts, text in out]
