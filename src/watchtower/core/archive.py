"""The item archive: every item seen in the retention window, with dedupe and seen flags.

Items churn (50 per poll per source, all day), so they are not kept in TinyDB, which
rewrites its whole file per write (160 ms per insert at 20k documents, STYLE.md).  They
live in stdlib ``sqlite3`` in WAL mode: one small transaction per poll round, readers
never block the writer, several processes can share the file.

On disk: ``archive.sqlite3`` (+ ``-wal`` and ``-shm`` while open) in the data directory,
0600 (0660 when group-shared; sqlite gives the side files the main file's mode).

What a decision about an item is (claimed, replied, ...) is *not* here: it is derived
from the handover log.  Only the item itself and its "seen" flag are stored.

Durability: ``synchronous=NORMAL`` in WAL mode survives a crash of watchtower (or a
``kill -9``); a power cut may lose the last poll round, which the next poll fetches again.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from .models import Item
from .paths import StorageError, ensure_data_dir, file_mode

__all__ = ["Archive", "ARCHIVE_NAME", "StorageError"]

ARCHIVE_NAME = "archive.sqlite3"
_BUSY_MS = 5000
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _make_encode() -> Callable[[object], str]:
    """``_ENCODER.encode`` without its per-call setup (about 2 us an item).

    The item JSON is built here from plain values, with no cycles, so the C encoder runs
    without the circular-reference check; where it is missing, ``_ENCODER`` does the work.
    """
    try:
        from json.encoder import c_make_encoder, encode_basestring

        if c_make_encoder is None:
            raise ImportError
        step = c_make_encoder(None, _ENCODER.default, encode_basestring, None, ":", ",", False, False, True)
    except (ImportError, TypeError):  # pragma: no cover - other Pythons
        return _ENCODER.encode
    join = "".join
    return lambda obj: join(step(obj, 0))


_encode = _make_encode()
# SQLite's limit on host parameters is 32766 since 3.32; stay far below it.
_CHUNK = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id         TEXT PRIMARY KEY,
    platform   TEXT NOT NULL,
    source     TEXT NOT NULL,
    published  REAL NOT NULL,
    first_seen REAL NOT NULL,
    last_seen  REAL NOT NULL,
    severity   INTEGER NOT NULL,
    json       TEXT NOT NULL,
    seen       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS items_platform_published ON items (platform, published);
CREATE INDEX IF NOT EXISTS items_published ON items (published);
CREATE INDEX IF NOT EXISTS items_last_seen ON items (last_seen);
"""


def _chunks(seq: list[str], size: int = _CHUNK) -> Iterable[list[str]]:
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


class Archive:
    """Items in ``data_dir/archive.sqlite3``.  Thread-safe (one connection, one lock).

    ``problems`` says what went wrong at open (a corrupt file moved aside), for the UI.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        *,
        retention_days: float = 7,
        group_shared: bool = False,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.data_dir = ensure_data_dir(Path(data_dir), group_shared=group_shared)
        self.path = self.data_dir / ARCHIVE_NAME
        self.mode = file_mode(group_shared)
        self.retention_days = float(retention_days)
        self._now = clock or time.time
        self._lock = threading.Lock()
        self.problems: list[str] = []
        self._last_prune = 0.0
        lock = FileLock(str(self.data_dir / "archive.lock"), timeout=_BUSY_MS / 1000, mode=self.mode)
        try:
            with lock:
                self._conn = self._open()
        except Timeout:
            raise StorageError("archive is locked by another process for >5 s; try again") from None
        self.prune()

    # -- opening -----------------------------------------------------------------------

    def _create_file(self) -> None:
        """Create (or check) the database file ourselves: no symlinks, our mode."""
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        for side in ("", "-wal", "-shm"):
            p = Path(str(self.path) + side)
            if p.is_symlink():
                raise StorageError(f"{p} is a symbolic link; refusing to use it")
        try:
            fd = os.open(self.path, flags, self.mode)
        except OSError as exc:
            raise StorageError(f"cannot open {self.path}: {exc.strerror or exc}") from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise StorageError(f"{self.path} is not a regular file")
            if st.st_size == 0 or st.st_uid == os.getuid():
                os.fchmod(fd, self.mode)
        finally:
            os.close(fd)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            str(self.path), timeout=_BUSY_MS / 1000, check_same_thread=False, isolation_level=None
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise sqlite3.DatabaseError(f"cannot switch to WAL mode (got {mode})")
            conn.execute("PRAGMA synchronous = NORMAL")
            ok = conn.execute("PRAGMA quick_check").fetchone()[0]
            if ok != "ok":
                raise sqlite3.DatabaseError(str(ok))
            conn.executescript(_SCHEMA)
        except BaseException:
            conn.close()
            raise
        return conn

    def _open(self) -> sqlite3.Connection:
        self._create_file()
        try:
            return self._connect()
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise StorageError(f"archive {self.path.name} is locked by another process: {exc}") from None
            self._quarantine(str(exc))
        self._create_file()
        try:
            return self._connect()
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the archive {self.path}: {exc}") from None

    def _quarantine(self, reason: str) -> None:
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(self._now()))
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
        try:
            for side in ("-wal", "-shm", ""):
                src = Path(str(self.path) + side)
                if src.exists():
                    os.rename(src, Path(str(target) + side))
        except OSError as exc:
            raise StorageError(
                f"the archive {self.path.name} is unreadable ({reason}) and could not be moved aside: "
                f"{exc.strerror or exc}"
            ) from None
        self.problems.append(
            f"the item archive {self.path.name} was unreadable ({reason}); it was moved aside to "
            f"{target.name} with its bytes intact and a new, empty archive was started."
        )

    def _guard(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StorageError("the archive is closed")
        return self._conn

    # -- writing -----------------------------------------------------------------------

    @contextmanager
    def _write(self, failure: str) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction under the lock; rolled back on any error.

        ``failure`` names the operation in the :class:`StorageError` a sqlite error becomes.
        """
        with self._lock:
            conn = self._guard()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise StorageError(f"{failure}: {exc}") from None

    def add(self, items: Iterable[Item]) -> list[Item]:
        """Store the items not stored yet and return exactly those, in input order.

        One transaction; ``BEGIN IMMEDIATE`` so two processes adding the same item cannot
        both report it as new.  Known items get their ``last_seen`` bumped, so an item that
        stays in a feed is not pruned and then reported as new again.
        """
        batch: dict[str, Item] = {}
        for item in items:
            batch.setdefault(item.id, item)
        if not batch:
            return []
        now = self._now()
        with self._write("could not save items to the archive") as conn:
            known = self._known_locked(conn, list(batch))
            new = [it for iid, it in batch.items() if iid not in known]
            # In chunks: rows are encoded as they are written, and no single call works
            # through a 10,000-item batch at once.
            for start in range(0, len(new), _CHUNK):
                conn.executemany(
                    "INSERT OR IGNORE INTO items (id, platform, source, published, first_seen, last_seen,"
                    " severity, json, seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
                    [
                        (it.id, it.platform, it.source, _epoch(it), now, now, int(it.severity), _encode(it.to_json()))
                        for it in new[start : start + _CHUNK]
                    ],
                )
            for chunk in _chunks(sorted(known)):
                conn.execute(
                    f"UPDATE items SET last_seen = ? WHERE id IN ({','.join('?' * len(chunk))})",
                    [now, *chunk],
                )
        return new

    def update(self, items: Iterable[Item]) -> int:
        """Store re-triaged fields (severity, category, coverage, ...) of known items."""
        rows = [(int(it.severity), _encode(it.to_json()), it.id) for it in items]
        if not rows:
            return 0
        with self._write("could not update items in the archive") as conn:
            cur = conn.executemany("UPDATE items SET severity = ?, json = ? WHERE id = ?", rows)
        return cur.rowcount

    def mark_seen(self, ids: Iterable[str]) -> None:
        id_list = list(dict.fromkeys(ids))
        if not id_list:
            return
        with self._write("could not mark items seen") as conn:
            for chunk in _chunks(id_list):
                conn.execute(f"UPDATE items SET seen = 1 WHERE id IN ({','.join('?' * len(chunk))})", chunk)

    def prune(self) -> int:
        """Drop items not seen in a feed for ``retention_days``; returns how many went."""
        cutoff = self._now() - self.retention_days * 86400
        with self._lock:
            conn = self._guard()
            try:
                cur = conn.execute("DELETE FROM items WHERE last_seen < ?", (cutoff,))
            except sqlite3.Error as exc:
                raise StorageError(f"could not prune the archive: {exc}") from None
            self._last_prune = self._now()
        return cur.rowcount

    def maybe_prune(self, every_seconds: float = 3600) -> int:
        """Prune at most once per ``every_seconds``; cheap to call after every poll."""
        if self._now() - self._last_prune < every_seconds:
            return 0
        return self.prune()

    # -- reading -----------------------------------------------------------------------

    def _known_locked(self, conn: sqlite3.Connection, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(ids):
            rows = conn.execute(f"SELECT id FROM items WHERE id IN ({','.join('?' * len(chunk))})", chunk)
            found.update(r[0] for r in rows)
        return found

    def known(self, ids: Iterable[str]) -> set[str]:
        """Which of ``ids`` are stored already (a fast dedupe check, one query per 500)."""
        id_list = list(dict.fromkeys(ids))
        with self._lock:
            conn = self._guard()
            try:
                return self._known_locked(conn, id_list)
            except sqlite3.Error as exc:
                raise StorageError(f"could not read the archive: {exc}") from None

    def _query(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        with self._lock:
            conn = self._guard()
            try:
                return conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StorageError(f"could not read the archive: {exc}") from None

    def recent(self, platform: str | None = None, limit: int = 2000) -> list[Item]:
        """Items newest first (by publication time)."""
        if platform is None:
            rows = self._query("SELECT json FROM items ORDER BY published DESC LIMIT ?", (limit,))
        else:
            rows = self._query(
                "SELECT json FROM items WHERE platform = ? ORDER BY published DESC LIMIT ?", (platform, limit)
            )
        return [_item(r[0]) for r in rows]

    def get(self, item_id: str) -> Item | None:
        rows = self._query("SELECT json FROM items WHERE id = ?", (item_id,))
        return _item(rows[0][0]) if rows else None

    def seen_ids(self) -> set[str]:
        return {r[0] for r in self._query("SELECT id FROM items WHERE seen = 1")}

    def count(self) -> int:
        return int(self._query("SELECT COUNT(*) FROM items")[0][0])

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                finally:
                    self._conn = None

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _epoch(item: Item) -> float:
    return item.published.timestamp()  # naive counts as local time, as astimezone() would


def _item(raw: str) -> Item:
    return Item.from_json(json.loads(raw))
