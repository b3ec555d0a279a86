"""The shift handover log: every note and decision, in TinyDB, safe with several operators.

Everything an operator decides (a note, a reply, a claim, a follow-up, a handover) is one
:class:`LogEntry`.  Item state is derived from these entries
(:mod:`watchtower.core.record.decisions`), never stored a second time.

TinyDB alone is not safe here (docs/threat-model.md, T6 and T7): its ``JSONStorage``
rewrites the file in place, so two writers corrupt it and a failed write (disk full) loses
every earlier entry.
So the log uses:

- :class:`AtomicJSONStorage`: each write goes to a temp file in the same directory, is
  fsynced, renamed over the old file with ``os.replace`` and the directory is fsynced.
  A reader (or a crash at any point) sees the old file or the new one, never half of one.
  Files are opened with ``O_NOFOLLOW`` and created 0600 (0660 when group-shared).
- a cross-process :class:`filelock.FileLock` around every append (read-modify-write of
  the newest part), plus a ``threading.Lock`` because TinyDB is not thread-safe.  A lock
  held by someone else for more than 5 s raises :class:`StorageError`; an entry is never
  dropped silently.  Nothing else holds the lock: reading never does (every file is
  replaced whole by ``os.replace``, so a lock-free reader sees the old or the new
  version), so eight writers on a 100k-entry log are never refused.
- partitions: TinyDB rewrites its whole file on every insert (7 ms at 1k documents,
  160 ms at 20k), so entries go to ``log-YYYY-MM.NNNN.json`` files of at most
  :data:`PART_SIZE` entries.  An append reads and rewrites only the newest part, so it
  costs the same after a year as on day one (``bench/bench_store.py``).
- order: every entry carries ``seq``, one more than the newest entry's, taken under the
  lock.  The log is ordered by ``seq`` (the order of writing), never by the clock: a
  clock set back, or an entry edited by hand into the year 2099, hides nothing and
  reorders nothing.  Such an entry is flagged (:attr:`LogEntry.clock_jump`).  An append
  goes to the newest part even when the clock says an earlier month, so a part named
  ``YYYY-MM`` never holds an entry stamped after that month.
- read-only: when the data directory cannot be written (a read-only mount, no write
  permission), the log opens read-only: everything can be read, :attr:`problems` says
  writes are off, and :meth:`HandoverLog.append` fails with one clear line.

On disk, in the data directory::

    log.lock                       the cross-process lock (empty)
    log-2026-11.0000.json          TinyDB documents, table "_default", <= PART_SIZE each
    log-2026-11.0001.json
    log-2026-11.0001.json.tmp.<pid>.<hex>      a write in progress (or a crashed one)
    log-2026-10.0000.json.corrupt-20261103T140203Z   an unreadable file, moved aside

Stale temp files are removed at start (under the lock, so never one that is being
written).  An unreadable file (not JSON, or JSON of the wrong shape: a list, a table
that is not an object, a document id that is not a number, a document that is not an
object, nesting too deep to parse) is moved aside with its bytes intact and reported in
:attr:`HandoverLog.problems` in one line; it is never overwritten or reset.
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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from operator import attrgetter
from pathlib import Path
from typing import Any, NamedTuple

from filelock import FileLock, Timeout
from tinydb.storages import Storage

from ...errors import AckRefused, CorruptFileError, ReadOnlyError, StorageError
from ..models import Item, utcnow
from ..text.safetext import clean, one_line
from .decisions import CLOCK_AHEAD_TOLERANCE, CLOCK_BACK_TOLERANCE
from .paths import ensure_data_dir, file_mode, os_user

__all__ = [
    "KINDS",
    "MODULE_KINDS",
    "ALL_KINDS",
    "PART_SIZE",
    "LOCK_TIMEOUT",
    "CLOCK_BACK_TOLERANCE",
    "CLOCK_AHEAD_TOLERANCE",
    "LogEntry",
    "HandoverLog",
    "AtomicJSONStorage",
    "CorruptFileError",
    "StorageError",
    "ReadOnlyError",
    "AckRefused",
    "Acknowledgement",
    "atomic_write",
    "flag_clock_jumps",
    "part_name",
]

#: The kinds an operator writes, one entry at a time (``watchtower log add --kind`` offers
#: these).  Together with :data:`MODULE_KINDS` they are every kind :meth:`HandoverLog.append`
#: accepts; anything else is refused, so a typo cannot create a silent kind.
KINDS = frozenset(
    {
        "note", "replied", "ignored", "blocked", "escalated", "claimed", "unclaimed",
        "followup_set", "followup_done", "followup_dismissed", "handover", "acknowledged",
        "crisis_start", "crisis_end", "crisis_check", "seen", "copied", "posted", "alert",
    }
)
#: Kinds that one module writes through its own functions, with ``data`` in its own shape
#: (and, for ``schedule_*``, under :meth:`HandoverLog.append_if`).  Accepted by
#: :meth:`HandoverLog.append`, but not offered to ``watchtower log add``: a hand-made one
#: would fold into that module's state half-formed.  Owners:
#: ``scheduled`` and ``schedule_*`` :mod:`watchtower.core.respond.schedule`; ``deleted``,
#: ``corrected`` :mod:`watchtower.core.respond.ownposts`; ``rota_override``
#: :mod:`watchtower.core.coverage.rota`; ``watch``, ``unwatch``, ``mute``, ``unmute``, ``snooze``
#: :mod:`watchtower.core.triage.watchlist`.  A new one is added here, next to its owner's name.
MODULE_KINDS = frozenset(
    {
        "scheduled", "schedule_sending", "schedule_failed", "schedule_cancelled",
        "deleted", "corrected",
        "rota_override",
        "watch", "unwatch", "mute", "unmute", "snooze",
    }
)
#: Every kind :meth:`HandoverLog.append` and :meth:`HandoverLog.append_if` accept.
ALL_KINDS = KINDS | MODULE_KINDS

#: Entries per partition file.  At ~300 bytes an entry a part stays ~150 KB, which TinyDB
#: reads and rewrites in about a millisecond.
PART_SIZE = 500
#: Seconds to wait for another process's write before telling the operator.
LOCK_TIMEOUT = 5.0
#: The TinyDB table inside each part.
TABLE = "_default"
#: When a stamp is a clock jump: CLOCK_BACK_TOLERANCE and CLOCK_AHEAD_TOLERANCE, from
#: :mod:`watchtower.core.record.decisions` (its windows use them too; it never imports this module).

MAX_NOTE = 16 * 1024
MAX_EXCERPT = 200

_PART_RE = re.compile(r"^log-(\d{4})-(\d{2})\.(\d{4,})\.json$")
_DOC_ID = re.compile(r"^[0-9]{1,18}$")
_TMP_MARK = ".tmp."
_MAX_SEQ = 2**62


class Acknowledgement(NamedTuple):
    handover: LogEntry
    entry: LogEntry


def part_name(year: int, month: int, index: int) -> str:
    return f"log-{year:04d}-{month:02d}.{index:04d}.json"


def _describe(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "disk full (no space left on the device)"
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


def _what(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"


def _parse(path: Path, raw: bytes) -> dict[str, dict[str, Any]]:
    """The TinyDB document in ``raw``, checked down to the shape of each entry.

    Anything TinyDB or :meth:`HandoverLog.append` would trip over later (a list where the
    tables should be, a document id that is not a number, a document that is a string)
    is :class:`CorruptFileError` here, with a one-line reason, so it is moved aside like
    any other unreadable file instead of raising deep inside an append.
    """
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise CorruptFileError(path, "not UTF-8 text") from None
    except RecursionError:
        raise CorruptFileError(path, "JSON nested too deeply to read") from None
    except ValueError as exc:
        raise CorruptFileError(path, f"not valid JSON ({one_line(exc, limit=120)})") from None
    if not isinstance(data, dict):
        raise CorruptFileError(path, f"not a TinyDB document (expected an object of tables, found {_what(data)})")
    for name, table in data.items():
        if not isinstance(table, dict):
            raise CorruptFileError(
                path, f"not a TinyDB document (table {one_line(repr(name), limit=40)} is {_what(table)}, not an object)"
            )
    for key, doc in data.get(TABLE, {}).items():
        if not _DOC_ID.match(key):
            raise CorruptFileError(path, f"not a TinyDB document (document id {one_line(repr(key), limit=40)} is not a number)")
        if not isinstance(doc, dict):
            raise CorruptFileError(path, f"not a TinyDB document (document {key} is {_what(doc)}, not an object)")
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
            try:
                return ts.replace(tzinfo=timezone.utc) if ts.tzinfo is None else ts.astimezone(timezone.utc)
            except (OverflowError, ValueError):  # year 1 or 9999 with an offset
                pass
    return datetime(1970, 1, 1, tzinfo=timezone.utc)


def _str(value: Any) -> str | None:
    """A stored string field: only a string counts (a hand-edited list or object does not)."""
    return value if isinstance(value, str) else None


def _seq_of(doc: dict[str, Any]) -> int:
    value = doc.get("seq")
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < _MAX_SEQ:
        return value
    return 0


@dataclass(slots=True)
class LogEntry:
    """One thing an operator did or wrote.  Every text field is already clean.

    ``seq`` is its place in the order of writing (0 for entries written before there was
    one; they come first, in file order).  ``clock_jump`` is not stored: it is set by
    :meth:`HandoverLog.entries` when ``ts`` cannot be right (see :func:`flag_clock_jumps`).
    """

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
    seq: int = 0
    clock_jump: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "seq": self.seq,
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
        so every field is cleaned again, a field of the wrong type counts as missing and a
        missing one gets a default."""
        data = doc.get("data")
        return cls(
            id=one_line(_str(doc.get("id")), limit=64) or uuid.uuid4().hex,
            kind=one_line(_str(doc.get("kind")), limit=32) or "note",
            operator=one_line(_str(doc.get("operator")), limit=64) or "unknown",
            os_user=one_line(_str(doc.get("os_user")), limit=64),
            ts=_parse_ts(doc.get("ts")),
            text=clean(_str(doc.get("text")), limit=MAX_NOTE),
            item_id=one_line(_str(doc.get("item_id")), limit=600) or None,
            platform=one_line(_str(doc.get("platform")), limit=64) or None,
            excerpt=one_line(_str(doc.get("excerpt")), limit=MAX_EXCERPT),
            data=_clean_data(data) if isinstance(data, dict) else {},
            seq=_seq_of(doc),
        )


def _span(delta: timedelta) -> str:
    """``3 h 05 min``, ``2 d 4 h``, ``73 years``: how far a clock was off, roughly."""
    secs = int(abs(delta.total_seconds()))
    if secs < 3600:
        return f"{max(secs // 60, 1)} min"
    if secs < 86400:
        return f"{secs // 3600} h {secs % 3600 // 60:02d} min"
    days = secs // 86400
    if days < 730:
        return f"{days} d {secs % 86400 // 3600} h"
    return f"{days // 365} years"


def flag_clock_jumps(entries: Sequence[LogEntry], now: datetime) -> datetime | None:
    """Set :attr:`LogEntry.clock_jump` on entries (in the order of writing) whose time is wrong.

    An entry stamped more than :data:`CLOCK_AHEAD_TOLERANCE` after ``now`` was written
    with a clock set ahead (or edited by hand).  An entry stamped more than
    :data:`CLOCK_BACK_TOLERANCE` before the latest one written before it (not counting
    entries in the future) was written after the clock went back.

    Returns the earliest time stamped in the future, if any: from then on (less the
    tolerance) the flags need working out again.
    """
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    ahead_limit = now + CLOCK_AHEAD_TOLERANCE
    back = CLOCK_BACK_TOLERANCE
    latest: datetime | None = None  # the latest believable stamp so far
    first_future: datetime | None = None
    for e in entries:
        ts = e.ts
        if ts > ahead_limit:
            e.clock_jump = f"stamped {_span(ts - now)} in the future (clock set ahead, or edited by hand)"
            if first_future is None or ts < first_future:
                first_future = ts
            continue
        if latest is None or ts >= latest:
            latest = ts
            if e.clock_jump:
                e.clock_jump = ""
        elif ts < latest - back:
            e.clock_jump = (
                f"clock went back {_span(latest - ts)}: written after an entry stamped "
                f"{latest.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC"
            )
        elif e.clock_jump:
            e.clock_jump = ""
    return first_future


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


def _statvfs_readonly(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & getattr(os, "ST_RDONLY", 1))
    except OSError:
        return False


class HandoverLog:
    """The handover log in ``data_dir``; safe to share between threads and processes.

    ``problems`` lists what went wrong reading the log (a corrupt file moved aside, a
    read-only data directory), in words the UI can show; it only grows.

    ``scan`` (default on) reads every part once at start, outside the lock, so a corrupt
    file is found now and not in the middle of a shift.  A command that only appends
    (``watchtower log add``) passes ``scan=False`` and touches the newest part alone.

    ``read_only`` is true when the data directory cannot be written: everything reads,
    :meth:`append` raises :class:`ReadOnlyError` (until the directory is writable again).
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        *,
        group_shared: bool = False,
        clock: Callable[[], datetime] = utcnow,
        scan: bool = True,
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
        # path name -> (stat key, entries in file order)
        self._cache: dict[str, tuple[tuple[int, int, int], list[LogEntry]]] = {}
        # the last _ordered(): (the part lists it was built from, the entries in order,
        # the earliest stamp in the future or None); reused while _load returns the very
        # same lists, i.e. while no part changed
        self._memo: tuple[tuple[list[LogEntry], ...], list[LogEntry], datetime | None] | None = None
        # (name, stat key) of unreadable files already reported in read-only mode
        self._reported: set[tuple[str, tuple[int, int, int]]] = set()
        self.problems: list[str] = []
        self.read_only = False
        self.read_only_reason = ""
        why = self._unwritable()
        if why:
            self.read_only, self.read_only_reason = True, why
            self.problems.append(
                f"the data directory {self.data_dir} is read-only ({why}): the log is shown, but writes are off "
                "(nothing can be noted, claimed or handed over until it is writable)"
            )
        self._startup(scan)

    # -- read-only ---------------------------------------------------------------------

    def _unwritable(self) -> str:
        """Why the data directory cannot be written, or ``""`` if it can."""
        if _statvfs_readonly(self.data_dir):
            return "the file system is mounted read-only"
        if not os.access(self.data_dir, os.W_OK | os.X_OK):
            return "no write permission"
        try:
            st = os.lstat(self._lock_path)
        except OSError:
            return ""
        if stat.S_ISREG(st.st_mode) and not os.access(self._lock_path, os.W_OK):
            return f"no write permission on {self._lock_path.name}"
        return ""

    def _check_writable(self) -> None:
        if not self.read_only:
            return
        why = self._unwritable()
        if why:
            self.read_only_reason = why
            raise ReadOnlyError(
                f"writes are off: the data directory {self.data_dir} is read-only ({why}); nothing was recorded"
            )
        self.read_only = False  # remounted read-write since we started
        self.read_only_reason = ""

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

    def _startup(self, scan: bool) -> None:
        if not self.read_only:
            self._remove_stale_temp_files()
        # Every part is parsed once, without the lock (files are only ever replaced
        # whole), so a corrupt one is found now and not in the middle of a shift; entries
        # are built lazily by entries() (parsing 100k entries takes ~0.3 s, building
        # them ~1.3 s).  Without ``scan``, only the newest part, the one an append touches.
        with self._tlock:
            parts = self._parts()
            for part in parts if scan else parts[-1:]:
                got = _read_bytes(part.path)
                if got is None:
                    continue
                try:
                    _parse(part.path, got[1])
                except CorruptFileError as exc:
                    self._unreadable(part, got[0], exc, locked=False)

    def _remove_stale_temp_files(self) -> None:
        """Remove the temp files of crashed writes, if nobody is writing right now.

        Only under the lock is every temp file a crashed write, and only names are looked
        at while it is held.  If someone holds it, start without waiting (reading needs no
        lock): a later start cleans up.
        """
        with self._tlock:
            try:
                st = os.lstat(self._lock_path)
            except FileNotFoundError:
                st = None
            if st is not None and stat.S_ISLNK(st.st_mode):
                raise StorageError(f"{self._lock_path} is a symbolic link; refusing to use it")
            try:
                self._flock.acquire(timeout=0)
            except Timeout:
                return
            except OSError as exc:
                raise StorageError(f"cannot lock the log ({self._lock_path}): {_describe(exc)}") from None
            try:
                for name in os.listdir(self.data_dir):
                    if name.startswith("log-") and _TMP_MARK in name:
                        try:
                            os.unlink(self.data_dir / name)
                        except FileNotFoundError:
                            pass
                        except OSError as exc:
                            self.problems.append(f"could not remove the stale temp file {name}: {_describe(exc)}")
            finally:
                self._flock.release()

    def _unreadable(self, part: _Part, key: tuple[int, int, int], exc: CorruptFileError, *, locked: bool) -> None:
        """Deal with a part that does not parse: move it aside (or, read-only, report it)."""
        if self.read_only:
            if (part.name, key) not in self._reported:
                self._reported.add((part.name, key))
                self.problems.append(
                    f"log file {part.name} is unreadable ({exc.reason}); it was left in place because the data "
                    "directory is read-only, and its entries are not shown"
                )
            return
        if locked:
            self._quarantine(part.path, exc.reason)
            return
        with self._locked():
            # Look again under the lock: only a file that is still bad is moved.
            got = _read_bytes(part.path)
            if got is None:
                return
            try:
                _parse(part.path, got[1])
            except CorruptFileError as again:
                self._quarantine(part.path, again.reason)

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

    def _load(self, part: _Part) -> list[LogEntry]:
        """The entries of one part in file order, from the cache while the file is unchanged.

        Lock-free: files are only ever replaced whole, so this sees one version or the next.
        """
        cached = self._cache.get(part.path.name)
        if cached is not None:
            # Unchanged (same mtime, size and inode): no need to read 150 KB to know it.
            try:
                st = os.lstat(part.path)
            except FileNotFoundError:
                self._cache.pop(part.path.name, None)
                return []
            except OSError:
                st = None
            if st is not None and stat.S_ISREG(st.st_mode) and (st.st_mtime_ns, st.st_size, st.st_ino) == cached[0]:
                return cached[1]
        got = _read_bytes(part.path)
        if got is None:
            self._cache.pop(part.path.name, None)
            return []
        key, raw = got
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            tables = _parse(part.path, raw)
        except CorruptFileError as exc:
            self._unreadable(part, key, exc, locked=False)
            return []
        docs = tables.get(TABLE, {})
        ordered = sorted(docs.items(), key=lambda kv: int(kv[0]))
        entries = [LogEntry.from_json(doc) for _, doc in ordered]
        self._cache[part.path.name] = (key, entries)
        return entries

    def _ordered(self, since: datetime | None = None) -> list[LogEntry]:
        """Every entry in the order of writing (parts from before ``since``'s month skipped),
        with :attr:`LogEntry.clock_jump` set.  Caller holds ``_tlock``."""
        lists: list[list[LogEntry]] = []
        live: set[str] = set()
        for part in self._parts():
            live.add(part.name)
            # A part named YYYY-MM never holds an entry stamped after that month (appends
            # go to the newest part and a new month starts a new part), so an older part
            # has nothing at or after ``since``.
            if since is not None and (part.year, part.month) < (since.year, since.month):
                continue
            lists.append(self._load(part))
        for gone in [name for name in self._cache if name not in live]:
            del self._cache[gone]
        now = _aware(self._clock()) or utcnow()
        # The same part lists as last time: the same order, and the flags still hold
        # unless an entry stamped in the future has come within reach of the clock.
        memo = self._memo
        if memo is not None and len(memo[0]) == len(lists) and all(a is b for a, b in zip(memo[0], lists)):
            out, recheck = memo[1], memo[2]
            if recheck is None or now + CLOCK_AHEAD_TOLERANCE < recheck:
                return out
        else:
            out = [e for lst in lists for e in lst]
            # Stable: entries without a seq (written before there was one) keep file order.
            out.sort(key=_by_seq)
        self._memo = (tuple(lists), out, flag_clock_jumps(out, now))
        return out

    # -- public API --------------------------------------------------------------------

    def _new_entry(
        self,
        kind: str,
        text: str,
        *,
        operator: str,
        item: Item | None,
        data: Mapping[str, Any] | None,
        item_id: str | None,
        platform: str | None,
        excerpt: str | None,
        entry_id: str | None,
    ) -> LogEntry:
        """The entry to write, every field cleaned; refused (``ValueError``) for an unknown
        kind and (:class:`ReadOnlyError`) when writes are off."""
        if kind not in ALL_KINDS:
            raise ValueError(f"unknown log entry kind {kind!r}; one of: {', '.join(sorted(ALL_KINDS))}")
        self._check_writable()
        if excerpt is None:
            excerpt = item.headline if item is not None else ""
        return LogEntry(
            id=one_line(entry_id, limit=64) or uuid.uuid4().hex,
            kind=kind,
            operator=one_line(operator, limit=64) or self._os_user,
            os_user=self._os_user,
            ts=self._clock(),
            text=clean(text, limit=MAX_NOTE).strip(),
            item_id=one_line(item.id if item is not None else item_id, limit=600) or None,
            platform=one_line(item.platform if item is not None else platform, limit=64) or None,
            excerpt=one_line(excerpt, limit=MAX_EXCERPT),
            data=_clean_data(dict(data or {})),
        )

    def append(
        self,
        kind: str,
        text: str = "",
        *,
        operator: str,
        item: Item | None = None,
        data: Mapping[str, Any] | None = None,
        item_id: str | None = None,
        platform: str | None = None,
        excerpt: str | None = None,
        entry_id: str | None = None,
    ) -> LogEntry:
        """Record one entry; it is on disk (fsynced and renamed) when this returns.

        ``kind`` is one of :data:`ALL_KINDS` (``ValueError`` otherwise).
        ``item_id``/``platform`` name an item without an :class:`Item` at hand (the CLI).
        ``excerpt`` is the item's headline by default.  ``entry_id`` is the entry's id when
        the caller needs it before writing (a uuid4 hex it made; the schedule module
        derives the post's idempotency key from it); a new one by default.
        Raises :class:`StorageError` if the log is locked for more than 5 s or cannot be
        written (:class:`ReadOnlyError` when it is open read-only); the earlier entries
        are intact either way.

        ``acknowledged`` is a check-and-set under the lock (see :meth:`acknowledge`): of
        several people acknowledging the same handover at once, one is recorded and the
        others get :class:`AckRefused` naming who acknowledged it and when.
        """
        entry = self._new_entry(
            kind, text, operator=operator, item=item, data=data, item_id=item_id, platform=platform,
            excerpt=excerpt, entry_id=entry_id,
        )
        if kind == "acknowledged":
            return self._acknowledge(entry).entry
        with self._tlock, self._locked():
            self._write(entry)
        return entry

    def append_if(
        self,
        check: Callable[[list[LogEntry]], Mapping[str, Any] | bool | None],
        kind: str,
        text: str = "",
        *,
        operator: str,
        kinds: Iterable[str] | None = None,
        item: Item | None = None,
        data: Mapping[str, Any] | None = None,
        item_id: str | None = None,
        platform: str | None = None,
        excerpt: str | None = None,
        entry_id: str | None = None,
    ) -> LogEntry | None:
        """Check-and-set: append one entry only if ``check`` holds for the log as it is now.

        ``check(entries)`` runs while this process holds the log's cross-process lock, with
        the log's entries (only those of ``kinds``, if given) in the order of writing, so no
        other writer, in any process, can append between the check and the write.  It says:

        - ``False`` or ``None``: write nothing; ``append_if`` returns ``None``;
        - ``True``: write the entry as given;
        - a mapping (even an empty one): write the entry with the mapping merged into its
          ``data`` (what the check found under the lock, e.g. the id of what it took).

        A check may also raise (say, an error naming who got there first): nothing is
        written and the exception propagates.  Returns the entry written, on disk.  The
        other arguments and errors are those of :meth:`append`.  Keep the check quick: every
        other writer waits for it (a writer waiting more than :data:`LOCK_TIMEOUT` gives up).

        ``acknowledged`` is refused (``ValueError``): :meth:`acknowledge` writes it, with
        its own check.
        """
        if kind == "acknowledged":
            raise ValueError("acknowledged entries are written by HandoverLog.acknowledge(), which checks the handover")
        entry = self._new_entry(
            kind, text, operator=operator, item=item, data=data, item_id=item_id, platform=platform,
            excerpt=excerpt, entry_id=entry_id,
        )
        return self._check_and_set(entry, check, kinds)

    def _check_and_set(
        self,
        entry: LogEntry,
        check: Callable[[list[LogEntry]], Mapping[str, Any] | bool | None],
        kinds: Iterable[str] | None,
    ) -> LogEntry | None:
        """Write ``entry`` if ``check`` holds, deciding under the lock (see :meth:`append_if`)."""
        wanted = tuple(kinds) if kinds is not None else None
        with self._tlock:
            # Read everything once without the lock, so that under it only the parts
            # written since (the newest one, normally) are parsed again.
            self.entries(kinds=wanted)
            with self._locked():
                verdict = check(self.entries(kinds=wanted))
                if verdict is None or verdict is False:
                    return None
                if verdict is not True:
                    entry.data = _clean_data({**entry.data, **verdict})
                self._write(entry)
        return entry

    def acknowledge(self, operator: str, text: str = "", *, handover_id: str | None = None) -> Acknowledgement:
        """Acknowledge the last handover, atomically: check and write under one lock.

        Raises :class:`AckRefused` when there is no handover, when it is acknowledged
        already (``exc.ack`` says by whom and when), or when ``handover_id`` is given and
        a newer handover has been made since (look at that one first).
        """
        entry = self._new_entry(
            "acknowledged", text, operator=operator, item=None, data={"handover": handover_id} if handover_id else {},
            item_id=None, platform=None, excerpt=None, entry_id=None,
        )
        return self._acknowledge(entry)

    def _acknowledge(self, entry: LogEntry) -> Acknowledgement:
        """Write the ``acknowledged`` entry if the handover rule allows it (:meth:`_check_and_set`)."""
        from .decisions import last_handover

        wanted = entry.data.get("handover") or entry.data.get("handover_id")
        acked: list[LogEntry] = []

        def check(entries: list[LogEntry]) -> dict[str, Any]:
            handover, ack = last_handover(entries)
            if handover is None:
                raise AckRefused("there is no handover to acknowledge")
            if ack is not None:
                raise AckRefused(
                    f"the handover by {handover.operator} is already acknowledged by {ack.operator} at "
                    f"{ack.ts.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC",
                    handover,
                    ack,
                )
            if isinstance(wanted, str) and wanted != handover.id:
                raise AckRefused(
                    f"a newer handover was made by {handover.operator} at "
                    f"{handover.ts.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC; read it before acknowledging",
                    handover,
                )
            acked.append(handover)
            return {"handover": handover.id}

        self._check_and_set(entry, check, ("handover", "acknowledged"))
        return Acknowledgement(acked[0], entry)

    def _write(self, entry: LogEntry) -> None:
        """Append ``entry`` to the newest part (or start the next one).  Caller holds the lock.

        Only the newest part is read and rewritten.  Its newest ``seq`` + 1 is the entry's
        ``seq``; the time is read here, under the lock, and stored as the clock says.
        """
        ts = _aware(self._clock()) or utcnow()
        entry.ts = ts
        while True:
            parts = self._parts()
            newest = parts[-1] if parts else None
            if newest is None:
                path, raw, docs, last_seq = self.data_dir / part_name(ts.year, ts.month, 0), {}, {}, 0
                break
            storage = AtomicJSONStorage(newest.path, self.mode)
            try:
                raw = storage.read() or {}
            except CorruptFileError as exc:
                self._quarantine(newest.path, exc.reason)
                continue
            docs = raw.get(TABLE, {})
            last_seq = max((_seq_of(d) for d in docs.values()), default=0)
            if not docs and len(parts) > 1:
                # An empty newest part (emptied by hand): the seq goes on from the one before.
                earlier = AtomicJSONStorage(parts[-2].path, self.mode)
                try:
                    before = (earlier.read() or {}).get(TABLE, {})
                except CorruptFileError:
                    before = {}
                last_seq = max((_seq_of(d) for d in before.values()), default=0)
            if (ts.year, ts.month) > (newest.year, newest.month):
                path, raw, docs = self.data_dir / part_name(ts.year, ts.month, 0), {}, {}
            elif len(docs) >= PART_SIZE:
                path, raw, docs = self.data_dir / part_name(newest.year, newest.month, newest.index + 1), {}, {}
            else:
                # The clock may say an earlier month than the newest part: the entry still
                # goes here, so the order of the files stays the order of writing.
                path = newest.path
            break
        entry.seq = last_seq + 1
        doc_id = max((int(k) for k in docs), default=0) + 1
        tables = dict(raw)  # other tables, if someone added one, are kept as they are
        tables[TABLE] = {**docs, str(doc_id): entry.to_json()}
        AtomicJSONStorage(path, self.mode).write(tables)

    def entries(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        kinds: Iterable[str] | None = None,
        operator: str | None = None,
        platform: str | None = None,
        item_id: str | None = None,
    ) -> list[LogEntry]:
        """Entries in the order they were written; ``since`` inclusive, ``until`` exclusive.

        The order is the append order (``seq``), whatever the clock said: an entry
        written after the clock was set back comes after the entries before it, and is
        flagged (``clock_jump``).  ``since``/``until`` select by the entry's time.

        Only parts that changed since the last call are read again, and parts from months
        before ``since`` are skipped, so polling this is cheap.  No lock is taken.
        """
        since_u = _aware(since)
        until_u = _aware(until)
        kind_set = set(kinds) if kinds is not None else None
        out: list[LogEntry] = []
        with self._tlock:
            for e in self._ordered(since_u):
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
            self._memo = None


_by_seq = attrgetter("seq")


def _aware(ts: datetime | None) -> datetime | None:
    if ts is None:
        return None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    return ts.astimezone(timezone.utc)
