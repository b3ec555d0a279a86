"""The item archive: every item seen in the retention window, with dedupe and seen flags.

Items churn (50 per poll per source, all day), so they are not kept in TinyDB, which
rewrites its whole file per write (160 ms per insert at 20k documents, docs/architecture.md).  They
live in stdlib ``sqlite3`` in WAL mode: one small transaction per poll round, readers
never block the writer, several processes can share the file.

On disk: ``archive.sqlite3`` (+ ``-wal`` and ``-shm`` while open) in the data directory,
0600 (0660 when group-shared; sqlite gives the side files the main file's mode).

What a decision about an item is (claimed, replied, ...) is *not* here: it is derived
from the handover log.  Only the item itself and its "seen" flag are stored.

Durability: ``synchronous=NORMAL`` in WAL mode survives a crash of watchtower (or a
``kill -9``); a power cut may lose the last poll round, which the next poll fetches again.

A damaged archive and an archive that cannot be written are told apart, because one is
moved aside and the other must not be (docs/threat-model.md, T6):

- damaged: the header is unreadable (``SQLITE_NOTADB``/``SQLITE_CORRUPT``) or
  ``PRAGMA quick_check`` fails and ``PRAGMA integrity_check`` confirms it.  Moved aside
  with its bytes intact (``archive.sqlite3.corrupt-<time>``), a new one is started and
  :attr:`Archive.problems` says so.
- not writable: a full disk, a file size limit, a read-only file, directory or mount.
  The file is left exactly as it is.  It is read into memory (read-only, from the file
  as it is on disk) and :attr:`Archive.problems` says why in plain words ("disk full",
  not sqlite's "cannot rollback - no transaction is active"): the items are shown, and
  new ones are kept for this session only.  Only when even that fails does opening raise
  :class:`StorageError`, still leaving the file alone.

One unreadable row (a stored item that no longer parses) is skipped and counted in
:attr:`Archive.problems`; it never costs a whole read (the handover summary, the TUI).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import msgspec
from filelock import FileLock, Timeout

from ..models import Item
from .paths import StorageError, ensure_data_dir, file_mode

__all__ = ["Archive", "ARCHIVE_NAME", "StorageError"]

ARCHIVE_NAME = "archive.sqlite3"
_BUSY_MS = 5000
#: A read-only (or full-disk) archive bigger than this is not copied into memory; it is
#: read from the file directly and new items are not kept at all.
MAX_MEMORY_COPY = 512 * 1024 * 1024
#: Less free space than this where the archive lives, and an I/O error is a full disk.
_NEARLY_FULL = 1024 * 1024

_log = logging.getLogger(__name__)

# SQLite primary result codes (``sqlite3.Error.sqlite_errorcode & 0xFF``).
_SQLITE_PERM = 3
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_READONLY = 8
_SQLITE_IOERR = 10
_SQLITE_CORRUPT = 11
_SQLITE_FULL = 13
_SQLITE_CANTOPEN = 14
_SQLITE_NOTADB = 26


class _Damaged(sqlite3.DatabaseError):
    """``PRAGMA integrity_check`` found the database damaged."""
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


_FAST = msgspec.json.Encoder()


def _encode(obj: object) -> str:
    """An item's JSON for its row: msgspec's encoder (about 8x ``json``'s), the same
    document ``_ENCODER`` writes.  A string msgspec refuses (a lone surrogate from a
    hostile feed's ``\\ud800`` escape) goes through ``_ENCODER``, which writes it escaped."""
    try:
        return _FAST.encode(obj).decode()
    except (UnicodeEncodeError, TypeError, msgspec.EncodeError):
        return _ENCODER.encode(obj)
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

    ``problems`` says what went wrong (a corrupt file moved aside, an archive that cannot
    be written, a row that could not be read), for the UI.  ``read_only`` is true when the
    file cannot be written: it was read as it is, and nothing is saved to it.
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
        self.read_only = False
        self.read_only_reason = ""
        self._bad_rows: set[str] = set()
        self._last_prune = 0.0
        self._conn: sqlite3.Connection | None = None
        why = self._unwritable()
        if why:
            self._conn = self._open_read_only(why)
        else:
            lock = FileLock(str(self.data_dir / "archive.lock"), timeout=_BUSY_MS / 1000, mode=self.mode)
            try:
                with lock:
                    self._conn = self._open()
            except Timeout:
                raise StorageError("archive is locked by another process for >5 s; try again") from None
        try:
            self.prune()
        except StorageError as exc:  # a full disk: the archive still reads
            self.problems.append(f"the item archive could not be pruned: {exc}")

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
                raise sqlite3.OperationalError(f"cannot switch to WAL mode (got {mode})")
            conn.execute("PRAGMA synchronous = NORMAL")
            _check_integrity(conn)
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
            if not _damaged(exc):
                # Healthy as far as anyone can tell, but not writable now (disk full, a
                # read-only file, locked): leave it exactly as it is.
                return self._open_read_only(_why(exc, self.data_dir))
            self._quarantine(_reason(exc))
        self._create_file()
        try:
            return self._connect()
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the archive {self.path}: {_why(exc, self.data_dir)}") from None

    def _unwritable(self) -> str:
        """Why the archive cannot be written, or ``""``: checked before sqlite touches it."""
        try:
            if os.statvfs(self.data_dir).f_flag & getattr(os, "ST_RDONLY", 1):
                return "the file system is mounted read-only"
        except OSError:
            pass
        if not os.access(self.data_dir, os.W_OK | os.X_OK):
            return "no write permission on the data directory"
        for side in ("", "-wal", "-shm"):
            p = Path(str(self.path) + side)
            if p.exists() and not p.is_symlink() and not os.access(p, os.W_OK):
                return f"{p.name} is read-only"
        return ""

    def _open_read_only(self, why: str) -> sqlite3.Connection:
        """The archive as it is on disk, never written: a copy in memory (new items live
        there for this session) or, for a giant file, the file itself read-only."""
        self.read_only, self.read_only_reason = True, why
        for side in ("", "-wal", "-shm"):
            if Path(str(self.path) + side).is_symlink():
                raise StorageError(f"{self.path}{side} is a symbolic link; refusing to use it")
        memory = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        if not self.path.exists():
            memory.executescript(_SCHEMA)
            self.problems.append(
                f"the item archive cannot be created: {why}. Items are kept in memory for this session only."
            )
            return memory
        src = None
        # mode=ro reads the WAL too, but needs the -shm file; immutable=1 reads the main
        # file alone (after a clean close the WAL is empty anyway).
        for params in ("mode=ro", "mode=ro&immutable=1"):
            try:
                src = sqlite3.connect(
                    f"file:{quote(str(self.path))}?{params}", uri=True, timeout=_BUSY_MS / 1000,
                    check_same_thread=False, isolation_level=None,
                )
                _check_integrity(src)
                has_items = src.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='items'").fetchone()
                break
            except sqlite3.Error as exc:
                if src is not None:
                    src.close()
                    src = None
                if _damaged(exc):
                    memory.close()
                    raise StorageError(
                        f"the archive {self.path.name} is damaged ({_reason(exc)}) and cannot be moved aside "
                        f"({why}); it was left as it is"
                    ) from None
        if src is None:
            memory.close()
            raise StorageError(f"cannot open the archive {self.path}: {why}; the file was left as it is") from None
        try:
            size = self.path.stat().st_size
            if has_items and size <= MAX_MEMORY_COPY:
                src.backup(memory)
                src.close()
                conn, kept = memory, "new items are kept in memory for this session only"
            elif has_items:
                memory.close()
                conn, kept = src, "new items are not kept"
            else:
                src.close()
                memory.executescript(_SCHEMA)
                conn, kept = memory, "new items are kept in memory for this session only"
        except sqlite3.Error as exc:
            src.close()
            memory.close()
            raise StorageError(f"cannot read the archive {self.path}: {_why(exc, self.data_dir)}") from None
        self.problems.append(
            f"the item archive {self.path.name} cannot be written: {why}. It was left as it is and is shown "
            f"read-only; {kept}."
        )
        return conn

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
                    # After SQLITE_FULL sqlite may have rolled back already; a second
                    # ROLLBACK would replace "disk full" with "no transaction is active".
                    if conn.in_transaction:
                        try:
                            conn.execute("ROLLBACK")
                        except sqlite3.Error:
                            pass
                    raise
            except sqlite3.Error as exc:
                raise StorageError(f"{failure}: {_why(exc, self.data_dir)}") from None

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
                raise StorageError(f"could not prune the archive: {_why(exc, self.data_dir)}") from None
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
            rows = self._query("SELECT id, json FROM items ORDER BY published DESC LIMIT ?", (limit,))
        else:
            rows = self._query(
                "SELECT id, json FROM items WHERE platform = ? ORDER BY published DESC LIMIT ?", (platform, limit)
            )
        return [it for it in (self._row(r[0], r[1]) for r in rows) if it is not None]

    def get(self, item_id: str) -> Item | None:
        rows = self._query("SELECT id, json FROM items WHERE id = ?", (item_id,))
        return self._row(rows[0][0], rows[0][1]) if rows else None

    def get_many(self, ids: Iterable[str]) -> dict[str, Item]:
        """The stored items among ``ids``, by id: one query per 500 ids, not one per item
        (a poll may ask about thousands).  Unreadable rows are skipped, as in :meth:`get`."""
        out: dict[str, Item] = {}
        for row_id, raw in self._in_chunks("id, json", ids):
            item = self._row(row_id, raw)
            if item is not None:
                out[str(row_id)] = item
        return out

    def sources_of(self, ids: Iterable[str]) -> dict[str, str]:
        """The source of each stored item among ``ids``: one query per 500 ids, and no
        item is decoded (what the monitor needs to adopt legacy ids)."""
        return {str(row_id): str(source) for row_id, source in self._in_chunks("id, source", ids)}

    def _in_chunks(self, columns: str, ids: Iterable[str]) -> list[tuple]:
        rows: list[tuple] = []
        with self._lock:
            conn = self._guard()
            try:
                for chunk in _chunks(list(dict.fromkeys(ids))):
                    sql = f"SELECT {columns} FROM items WHERE id IN ({','.join('?' * len(chunk))})"
                    rows.extend(conn.execute(sql, chunk).fetchall())
            except sqlite3.Error as exc:
                raise StorageError(f"could not read the archive: {exc}") from None
        return rows

    def _row(self, row_id: object, raw: object) -> Item | None:
        """One stored item, or ``None`` (skipped, counted in ``problems``) if it does not parse."""
        try:
            return _item(raw)
        except Exception as exc:  # noqa: BLE001 - one bad row must not cost the whole read
            key = str(row_id)[:200]
            if key not in self._bad_rows:
                self._bad_rows.add(key)
                _log.warning("archive row %r is unreadable and was skipped: %s", key, type(exc).__name__)
                self.problems.append(
                    f"{len(self._bad_rows)} row(s) of the item archive could not be read and are skipped "
                    f"(the latest: {key!r}, {type(exc).__name__})"
                )
            return None

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


def _item(raw: object) -> Item:
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    if not isinstance(raw, str):
        raise TypeError(f"stored item is {type(raw).__name__}, not JSON text")
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise TypeError(f"stored item is a JSON {type(data).__name__}, not an object")
    return Item.from_json(data)


def _check_integrity(conn: sqlite3.Connection) -> None:
    """Raise :class:`_Damaged` if the database is damaged.  ``quick_check`` first (fast);
    only when it complains does the full ``integrity_check`` decide."""
    ok = conn.execute("PRAGMA quick_check").fetchone()[0]
    if ok == "ok":
        return
    rows = conn.execute("PRAGMA integrity_check").fetchall()
    if rows and rows[0][0] == "ok":
        return
    raise _Damaged(" ".join(str(r[0]) for r in rows[:3])[:300] or str(ok))


def _primary(exc: BaseException) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def _damaged(exc: sqlite3.Error) -> bool:
    """A failed integrity check or an unreadable header: the only reasons to move a file aside."""
    return isinstance(exc, _Damaged) or _primary(exc) in (_SQLITE_CORRUPT, _SQLITE_NOTADB)


def _reason(exc: sqlite3.Error) -> str:
    if isinstance(exc, _Damaged):
        return f"integrity check failed: {exc}"
    return str(exc)


def _why(exc: sqlite3.Error, where: Path) -> str:
    """A sqlite error in the operator's words: "disk full", not "database or disk is full"
    and never "cannot rollback - no transaction is active"."""
    primary = _primary(exc)
    if primary == _SQLITE_FULL:
        return "disk full (no space left on the device)"
    if primary == _SQLITE_IOERR:
        try:
            st = os.statvfs(where)
            if st.f_bavail * st.f_frsize < _NEARLY_FULL:
                return "disk full (no space left on the device)"
        except OSError:
            pass
        try:
            import resource

            if resource.getrlimit(resource.RLIMIT_FSIZE)[0] != resource.RLIM_INFINITY:
                return "disk I/O error (the file size limit, ulimit -f, may have been reached)"
        except (ImportError, OSError, ValueError):
            pass
        return f"disk I/O error ({exc})"
    if primary == _SQLITE_READONLY:
        return f"the file is read-only ({exc})"
    if primary in (_SQLITE_PERM, _SQLITE_CANTOPEN):
        return f"cannot open the file: permission denied or not a file ({exc})"
    if primary in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return f"locked by another process ({exc})"
    return str(exc)
