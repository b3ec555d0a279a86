"""The shift handover log: every note and decision, in TinyDB, safe with several operators.

Everything an operator decides (a note, a reply, a claim, a follow-up, a handover) is one
:class:`LogEntry`.  Item state is derived from these entries
(:mod:`watchtower.core.decisions`), never stored a second time.

TinyDB alone is not safe here (HAZARDS §5.5, §6): its ``JSONStorage`` rewrites the file in
place, so two writers corrupt it and a failed write (disk full) loses every earlier entry.
So the log uses:

- :class:`AtomicJSONStorage`: each write goes to a temp file in the same directory, is
  fsynced, renamed over the old file with ``os.replace`` and the directory is fsynced.
  A reader (or a crash at any point) sees the old file or the new one, never half of one.
  Files are opened with ``O_NOFOLLOW`` and created 0600 (0660 when group-shared).
- a cross-process :class:`filelock.FileLock` around every read-modify-write, plus a
  ``threading.Lock`` because TinyDB is not thread-safe.  A lock held by someone else for
  more than 5 s raises :class:`StorageError`; an entry is never dropped silently.
- partitions: TinyDB rewrites its whole file on every insert (7 ms at 1k documents,
  160 ms at 20k), so entries go to ``log-YYYY-MM.NNNN.json`` files of at most
  :data:`PART_SIZE` entries.  An append reads and rewrites only the newest part, so it
  costs the same after a year as on day one (``bench/bench_store.py``).

On disk, in the data directory::

    log.lock                       the cross-process lock (empty)
    log-2026-11.0000.json          TinyDB documents, table "_default", <= PART_SIZE each
    log-2026-11.0001.json
    log-2026-11.0001.json.tmp.<pid>.<hex>      a write in progress (or a crashed one)
    log-2026-10.0000.json.corrupt-20261103T140203Z   an unreadable file, moved aside

Stale temp files are removed at start (under the lock, so never one that is being
written).  An unreadable file is moved aside with its bytes intact and reported in
:attr:`HandoverLog.problems`; it is never overwritten or reset.
"""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import stat
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from tinydb import TinyDB
from tinydb.storages import Storage

from .models import Item, utcnow
from .paths import StorageError, ensure_data_dir, file_mode, os_user
from .safetext import clean, one_line

__all__ = [
    "KINDS",
    "PART_SIZE",
    "LOCK_TIMEOUT",
    "LogEntry",
    "HandoverLog",
    "AtomicJSONStorage",
    "CorruptFileError",
    "StorageError",
    "atomic_write",
    "part_name",
]

#: Every kind of entry; anything else is refused, so a typo cannot create a silent kind.
KINDS = frozenset(
    {
        "note", "replied", "ignored", "blocked", "escalated", "claimed", "unclaimed",
        "followup_set", "followup_done", "followup_dismissed", "handover", "acknowledged",
        "crisis_start", "crisis_end", "crisis_check", "seen", "copied", "posted", "alert",
    }
)

#: Entries per partition file.  At ~300 bytes an entry a part stays ~150 KB, which TinyDB
#: reads and rewrites in about a millisecond.
PART_SIZE = 500
#: Seconds to wait for another process's write before telling the operator.
LOCK_TIMEOUT = 5.0
#: The TinyDB table inside each part.
TABLE = "_default"

MAX_NOTE = 16 * 1024
MAX_EXCERPT = 200

_PART_RE = re.compile(r"^log-(\d{4})-(\d{2})\.(\d{4,})\.json$")
_TMP_MARK = ".tmp."


class CorruptFileError(StorageError):
    """A log file exists but is not a TinyDB JSON document."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"log file {path.name} is unreadable: {reason}")


def part_name(year: int, month: int, index: int) -> str:
    return f"log-{year:04d}-{month:02d}.{index:04d}.json"


def _describe(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno == errno.EDQUOT:
        return "the disk quota is exhausted"
    if exc.errno == errno.EFBIG:
        return "the file size limit was reached"
    if exc.errno == errno.EROFS:
        return "the file system is read-only"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.ELOOP:
        return "it is a symbolic link (refused)"
    return exc.strerror or str(exc)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, payload: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``payload`` so that a crash leaves the old or the new bytes.

    temp file in the same directory (``O_EXCL|O_NOFOLLOW``) -> write -> fsync ->
    ``os.replace`` -> fsync the directory.  On any OSError the temp file is removed, the
    old file is untouched and :class:`StorageError` says why (disk full, ...).
    """
    tmp = path.with_name(f"{path.name}{_TMP_MARK}{os.getpid()}.{secrets.token_hex(4)}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = -1
    try:
        fd = os.open(tmp, flags, mode)
        os.fchmod(fd, mode)  # the umask may have masked the group bits
        view = memoryview(payload)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
        os.close(fd)
        fd = -1
        if os.path.islink(path):
            raise OSError(errno.ELOOP, "symbolic link", str(path))
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except OSError as exc:
        if fd >= 0:
            os.close(fd)
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise StorageError(f"could not save {path.name}: {_describe(exc)}; the previous data is intact") from None


def _read_bytes(path: Path) -> tuple[tuple[int, int, int], bytes] | None:
    """``(stat key, bytes)`` of a file opened without following symlinks; ``None`` if missing."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StorageError(f"cannot read {path.name}: {_describe(exc)}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise StorageError(f"{path.name} is not a regular file; refusing to read it")
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    except OSError as exc:
        raise StorageError(f"cannot read {path.name}: {_describe(exc)}") from None
    finally:
        os.close(fd)
    return (st.st_mtime_ns, st.st_size, st.st_ino), b"".join(chunks)


def _parse(path: Path, raw: bytes) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise CorruptFileError(path, "not UTF-8 text") from None
    except ValueError as exc:
        raise CorruptFileError(path, f"not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not all(isinstance(t, dict) for t in data.values()):
        raise CorruptFileError(path, "not a TinyDB document (expected an object of tables)")
    return data


class AtomicJSONStorage(Storage):
    """A TinyDB storage that never leaves a half-written file (see :func:`atomic_write`).

    It does no locking of its own: :class:`HandoverLog` holds the cross-process lock
    around each read-modify-write.  The last parsed document is reused while the file's
    (mtime, size, inode) is unchanged, because TinyDB reads the storage two or three times
    per insert.
    """

    def __init__(self, path: str | os.PathLike[str], mode: int = 0o600) -> None:
        self.path = Path(path)
        self.mode = mode
        self._cached: tuple[tuple[int, int, int], dict[str, dict[str, Any]]] | None = None

    def read(self) -> dict[str, dict[str, Any]] | None:
        got = _read_bytes(self.path)
        if got is None:
            self._cached = None
            return None
        key, raw = got
        if self._cached is not None and self._cached[0] == key:
            return self._cached[1]
        data = _parse(self.path, raw)
        self._cached = (key, data)
        return data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        self._cached = None  # TinyDB mutates what read() returned; never reuse it
        payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
        atomic_write(self.path, payload, self.mode)


def _clean_data(value: Any, depth: int = 0) -> Any:
    """Make ``data`` JSON-safe and terminal-safe: strings cleaned, depth and size bounded."""
    if depth > 6:
        return None
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, str):
        return clean(value, limit=4096)
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_clean_data(v, depth + 1) for v in list(value)[:500]]
    if isinstance(value, dict):
        return {one_line(k, limit=128): _clean_data(v, depth + 1) for k, v in list(value.items())[:200]}
    return clean(str(value), limit=4096)


def _iso(ts: datetime) -> str:
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    return ts.astimezone(timezone.utc).isoformat()


def _parse_ts(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            ts = datetime.fromisoformat(value)
        except ValueError:
            ts = None
        if ts is not None:
            return ts.replace(tzinfo=timezone.utc) if ts.tzinfo is None else ts.astimezone(timezone.utc)
    return datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(slots=True)
class LogEntry:
    """One thing an operator did or wrote.  Every text field is already clean."""

    id: str
    kind: str
    operator: str
    os_user: str
    ts: datetime
    text: str = ""
    item_id: str | None = None
    platform: str | None = None
    excerpt: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "operator": self.operator,
            "os_user": self.os_user,
            "ts": _iso(self.ts),
            "text": self.text,
            "item_id": self.item_id,
            "platform": self.platform,
            "excerpt": self.excerpt,
            "data": self.data,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> LogEntry:
        """Rebuild an entry from a stored document.  The file may have been edited by hand,
        so every field is cleaned again and a missing one gets a default."""
        data = doc.get("data")
        return cls(
            id=one_line(doc.get("id"), limit=64) or uuid.uuid4().hex,
            kind=one_line(doc.get("kind"), limit=32) or "note",
            operator=one_line(doc.get("operator"), limit=64) or "unknown",
            os_user=one_line(doc.get("os_user"), limit=64),
            ts=_parse_ts(doc.get("ts")),
            text=clean(doc.get("text"), limit=MAX_NOTE),
            item_id=one_line(doc.get("item_id"), limit=600) or None,
            platform=one_line(doc.get("platform"), limit=64) or None,
            excerpt=one_line(doc.get("excerpt"), limit=MAX_EXCERPT),
            data=_clean_data(data) if isinstance(data, dict) else {},
        )


@dataclass(slots=True)
class _Part:
    data_dir: Path
    name: str
    year: int
    month: int
    index: int

    @property
    def path(self) -> Path:
        return self.data_dir / self.name

    @property
    def order(self) -> tuple[int, int, int]:
        return (self.year, self.month, self.index)


class HandoverLog:
    """The handover log in ``data_dir``; safe to share between threads and processes.

    ``problems`` lists what went wrong reading the log (a corrupt file moved aside), in
    words the UI can show; it only grows.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        *,
        group_shared: bool = False,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.data_dir = ensure_data_dir(Path(data_dir), group_shared=group_shared)
        self.mode = file_mode(group_shared)
        self._clock = clock
        self._tlock = threading.RLock()
        self._lock_path = self.data_dir / "log.lock"
        # A short poll: filelock polls a non-blocking flock, and with the default 50 ms a
        # process that appends in a loop can starve another for seconds.
        self._flock = FileLock(str(self._lock_path), timeout=LOCK_TIMEOUT, mode=self.mode, poll_interval=0.001)
        self._os_user = os_user()
        # path name -> (stat key, entries in write order)
        self._cache: dict[str, tuple[tuple[int, int, int], list[LogEntry]]] = {}
        self.problems: list[str] = []
        self._startup()

    # -- locking -----------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            st = os.lstat(self._lock_path)
        except FileNotFoundError:
            st = None
        if st is not None and stat.S_ISLNK(st.st_mode):
            raise StorageError(f"{self._lock_path} is a symbolic link; refusing to use it")
        try:
            self._flock.acquire(timeout=LOCK_TIMEOUT)
        except Timeout:
            raise StorageError(
                f"log is locked by another process for >{LOCK_TIMEOUT:.0f} s ({self._lock_path}); "
                "nothing was written, try again"
            ) from None
        except OSError as exc:
            raise StorageError(f"cannot lock the log ({self._lock_path}): {_describe(exc)}") from None
        try:
            yield
        finally:
            self._flock.release()

    # -- files -------------------------------------------------------------------------

    def _parts(self) -> list[_Part]:
        parts: list[_Part] = []
        try:
            names = os.listdir(self.data_dir)
        except OSError as exc:
            raise StorageError(f"cannot list {self.data_dir}: {_describe(exc)}") from None
        for name in names:
            m = _PART_RE.match(name)
            if m:
                parts.append(_Part(self.data_dir, name, int(m[1]), int(m[2]), int(m[3])))
        parts.sort(key=lambda p: p.order)
        return parts

    def _startup(self) -> None:
        with self._tlock, self._locked():
            # Under the lock no one is writing, so every temp file is a crashed write.
            for name in os.listdir(self.data_dir):
                if name.startswith("log-") and _TMP_MARK in name:
                    try:
                        os.unlink(self.data_dir / name)
                    except FileNotFoundError:
                        pass
                    except OSError as exc:
                        self.problems.append(f"could not remove the stale temp file {name}: {_describe(exc)}")
            # Every part is parsed once, so a corrupt one is found now and not in the
            # middle of a shift; entries are built lazily by entries() (parsing 100k
            # entries takes ~0.3 s, building them ~1.3 s).
            for part in self._parts():
                got = _read_bytes(part.path)
                if got is None:
                    continue
                try:
                    _parse(part.path, got[1])
                except CorruptFileError as exc:
                    self._quarantine(part.path, exc.reason)

    def _quarantine(self, path: Path, reason: str) -> None:
        """Move an unreadable file aside, bytes intact, and say so.  Caller holds the lock."""
        stamp = self._clock().astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        target = path.with_name(f"{path.name}.corrupt-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        try:
            os.rename(path, target)
            _fsync_dir(path.parent)
        except OSError as exc:
            raise StorageError(
                f"log file {path.name} is unreadable ({reason}) and could not be moved aside: {_describe(exc)}"
            ) from None
        self._cache.pop(path.name, None)
        self.problems.append(
            f"log file {path.name} was unreadable ({reason}); it was moved aside to {target.name} "
            "with its bytes intact. Its entries are not shown; restore them by hand."
        )

    def _load(self, part: _Part, *, locked: bool) -> list[LogEntry]:
        """The entries of one part, from the cache while the file is unchanged."""
        got = _read_bytes(part.path)
        if got is None:
            self._cache.pop(part.path.name, None)
            return []
        key, raw = got
        cached = self._cache.get(part.path.name)
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            tables = _parse(part.path, raw)
        except CorruptFileError as exc:
            if locked:
                self._quarantine(part.path, exc.reason)
                return []
            with self._locked():
                # Look again under the lock: only a file that is still bad is moved.
                return self._load(part, locked=True)
        docs = tables.get(TABLE, {})
        ordered = sorted(docs.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 0)
        entries = [LogEntry.from_json(doc) for _, doc in ordered if isinstance(doc, dict)]
        self._cache[part.path.name] = (key, entries)
        return entries

    # -- public API --------------------------------------------------------------------

    def append(
        self,
        kind: str,
        text: str = "",
        *,
        operator: str,
        item: Item | None = None,
        data: dict[str, Any] | None = None,
        item_id: str | None = None,
        platform: str | None = None,
    ) -> LogEntry:
        """Record one entry; it is on disk (fsynced and renamed) when this returns.

        ``item_id``/``platform`` name an item without an :class:`Item` at hand (the CLI).
        Raises :class:`StorageError` if the log is locked for more than 5 s or cannot be
        written; the earlier entries are intact either way.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown log entry kind {kind!r}; one of: {', '.join(sorted(KINDS))}")
        entry = LogEntry(
            id=uuid.uuid4().hex,
            kind=kind,
            operator=one_line(operator, limit=64) or self._os_user,
            os_user=self._os_user,
            ts=self._clock(),
            text=clean(text, limit=MAX_NOTE).strip(),
            item_id=one_line(item.id if item is not None else item_id, limit=600) or None,
            platform=one_line(item.platform if item is not None else platform, limit=64) or None,
            excerpt=one_line(item.headline, limit=MAX_EXCERPT) if item is not None else "",
            data=_clean_data(data or {}),
        )
        with self._tlock, self._locked():
            # The time is read under the lock and never runs backwards within a part, so
            # the order by time is the order of writing (last writer wins, across processes).
            entry.ts = self._clock()
            if entry.ts.tzinfo is None:
                entry.ts = entry.ts.replace(tzinfo=timezone.utc)
            entry.ts = entry.ts.astimezone(timezone.utc)
            self._write(entry)
        return entry

    def _newest_index(self, year: int, month: int) -> int:
        """The index of the newest part of a month (0 if none): names only, no Path objects,
        so this stays cheap with hundreds of files."""
        prefix = f"log-{year:04d}-{month:02d}."
        newest = 0
        try:
            names = os.listdir(self.data_dir)
        except OSError as exc:
            raise StorageError(f"cannot list {self.data_dir}: {_describe(exc)}") from None
        for name in names:
            if name.startswith(prefix) and name.endswith(".json"):
                m = _PART_RE.match(name)
                if m:
                    newest = max(newest, int(m[3]))
        return newest

    def _write(self, entry: LogEntry) -> None:
        year, month = entry.ts.year, entry.ts.month
        while True:
            index = self._newest_index(year, month)
            path = self.data_dir / part_name(year, month, index)
            storage = AtomicJSONStorage(path, self.mode)
            try:
                raw = storage.read() or {}
            except CorruptFileError as exc:
                self._quarantine(path, exc.reason)
                continue
            docs = raw.get(TABLE, {})
            if len(docs) >= PART_SIZE:
                storage = AtomicJSONStorage(self.data_dir / part_name(year, month, index + 1), self.mode)
                docs = {}
            if docs:
                last = max(docs, key=lambda k: int(k) if k.isdigit() else 0)
                last_ts = _parse_ts(docs[last].get("ts"))
                if last_ts > entry.ts:
                    entry.ts = last_ts
            # The storage has the part parsed already; TinyDB reuses it for the insert.
            db = TinyDB(storage=lambda: storage)
            db.table(TABLE).insert(entry.to_json())
            return

    def entries(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        kinds: Iterable[str] | None = None,
        operator: str | None = None,
        platform: str | None = None,
        item_id: str | None = None,
    ) -> list[LogEntry]:
        """Entries sorted by time (then by order of writing); ``since`` inclusive, ``until`` exclusive.

        Only parts that changed since the last call are read again, and parts from months
        outside ``since``/``until`` are skipped, so polling this is cheap.
        """
        since_u = _aware(since)
        until_u = _aware(until)
        kind_set = set(kinds) if kinds is not None else None
        out: list[LogEntry] = []
        with self._tlock:
            for part in self._parts():
                if since_u is not None and (part.year, part.month) < (since_u.year, since_u.month):
                    continue
                if until_u is not None and (part.year, part.month) > (until_u.year, until_u.month):
                    continue
                for e in self._load(part, locked=False):
                    if since_u is not None and e.ts < since_u:
                        continue
                    if until_u is not None and e.ts >= until_u:
                        continue
                    if kind_set is not None and e.kind not in kind_set:
                        continue
                    if operator is not None and e.operator != operator:
                        continue
                    if platform is not None and e.platform != platform:
                        continue
                    if item_id is not None and e.item_id != item_id:
                        continue
                    out.append(e)
        out.sort(key=lambda e: e.ts)  # stable: ties keep the order of writing
        return out

    def version(self) -> tuple[tuple[str, int, int, int], ...]:
        """A cheap fingerprint of the log files: it changes whenever any process writes.

        A UI polls this every couple of seconds and calls :meth:`entries` only on change.
        """
        out = []
        with self._tlock:
            try:
                with os.scandir(self.data_dir) as it:
                    for de in it:
                        if _PART_RE.match(de.name):
                            try:
                                st = de.stat(follow_symlinks=False)
                            except FileNotFoundError:
                                continue
                            out.append((de.name, st.st_mtime_ns, st.st_size, st.st_ino))
            except OSError as exc:
                raise StorageError(f"cannot list {self.data_dir}: {_describe(exc)}") from None
        out.sort()
        return tuple(out)

    def close(self) -> None:
        """Nothing stays open between calls; kept for symmetry with the archive."""
        with self._tlock:
            self._cache.clear()


def _aware(ts: datetime | None) -> datetime | None:
    if ts is None:
        return None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    return ts.astimezone(timezone.utc)
