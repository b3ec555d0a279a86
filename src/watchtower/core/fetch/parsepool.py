"""Feed parsing off the event loop, in child processes that contain a parser blow-up.

``asyncio.to_thread`` keeps parsing off the loop, but not off the GIL: lxml parses a
4 MB document in one C call that holds the GIL for 100-250 ms, and the loop cannot run
meanwhile.  So a document larger than :data:`PROCESS_THRESHOLD` is parsed in a child
process (``parse_feed`` and ``feed_items`` both), and the items come back in chunks of
:data:`CHUNK` compact rows, each unpickled and rebuilt in a few ms; the GIL is free in
between.  The child also contains a parser blow-up:

- it runs at a lower CPU priority (``nice``), so the UI process gets a core first;
- it may use :data:`MEMORY_HEADROOM` more address space than it had when it was ready
  (``RLIMIT_AS``); beyond that the parse fails with a ``MemoryError`` (or the process
  dies), and the poll fails with plain words;
- a parse that takes longer than :data:`PARSE_DEADLINE` seconds is killed.

Either way the poll becomes a :class:`SourceError`, the worker is replaced on the next
document, and the app keeps running.

Smaller documents are parsed in a thread: below 256 KB lxml holds the GIL for well under
a frame (about 6 ms at 180 KB), and a process costs more than it saves.  Measured on a
cold round of 200 feeds x 50 items (bench P10) on 2 CPUs: sending them to the workers
too cut the app's own CPU by a fifth but cost the workers more than that, and the
round's wall time did not improve (the feed server, the app and two workers share the
two cores).

Workers start lazily as ``python -c`` child processes (not a fork of a process with
running threads, and the app's ``__main__`` is never re-run in them), live across polls
and stop in :meth:`ParsePool.aclose` (``Monitor.aclose``).  A worker exits by itself when
the app's end of its socket closes, so one outlives neither a crash nor a forgotten
``aclose``; its CPU limit (``RLIMIT_CPU``) bounds a parse nobody waits for any more.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Mapping

from ...errors import ParserError, SourceError
from ..models import Item

__all__ = [
    "ParsePool",
    "PROCESS_THRESHOLD",
    "PARSE_DEADLINE",
    "MEMORY_HEADROOM",
    "CHUNK",
    "parse_items",
    "shared_pool",
]

log = logging.getLogger(__name__)

#: Bodies larger than this (bytes, decoded) are parsed in a child process.
PROCESS_THRESHOLD = 256 * 1024
#: Seconds a child may spend on one document before it is killed.
PARSE_DEADLINE = 20.0
#: Address space a child may add while parsing one document (bytes).
MEMORY_HEADROOM = 512 * 1024 * 1024
#: Items per message from a child: small enough that decoding one holds the GIL ~1 ms.
CHUNK = 500
#: CPU priority of the children relative to the app (``os.nice``).
NICENESS = 5
#: Seconds a new child may take to import the parsers and say it is ready.
_START_TIMEOUT = 20.0
#: After a child could not be started, parse in a thread for this long before retrying.
_START_RETRY = 300.0


def parse_items(body: bytes, headers: Mapping[str, str] | None, *, parser: str, platform: str,
                source: str) -> list[Item]:
    """``parse_feed`` then ``feed_items``, here (blocking: call it from a thread)."""
    from .feeds import feed_items, parse_feed

    return feed_items(parse_feed(body, headers, parser=parser), platform=platform, source=source)


# ---------------------------------------------------------------------- item rows

# What feed_items sets through Item.create travels as a plain tuple (pickled in C, about
# 15x cheaper to decode than a pickled slots dataclass); platform and source are the
# request's.  An item whose other fields are not the defaults travels whole.
_ROW = ("id", "author", "author_name", "text", "url", "published", "language", "title", "native_id")


def _defaults() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(Item):
        if f.name in _ROW or f.name in ("platform", "source"):
            continue
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
        else:
            out[f.name] = None  # required, but feed_items never sets it (author_followers)
    return out


_DEFAULTS = _defaults()


def encode_rows(items: list[Item], platform: str, source: str) -> list[Any]:
    rows: list[Any] = []
    for it in items:
        if it.platform == platform and it.source == source and all(
            getattr(it, name) == value for name, value in _DEFAULTS.items()
        ):
            rows.append(tuple(getattr(it, name) for name in _ROW))
        else:
            rows.append(it)
    return rows


def decode_rows(rows: list[Any], platform: str, source: str) -> list[Item]:
    out: list[Item] = []
    for row in rows:
        if isinstance(row, Item):
            out.append(row)
            continue
        i, author, author_name, text, url, published, language, title, native_id = row
        out.append(Item(
            id=i, platform=platform, source=source, author=author, author_name=author_name,
            author_followers=None, text=text, url=url, published=published, language=language,
            title=title, native_id=native_id,
        ))
    return out


# ---------------------------------------------------------------------- child side


def _child_entry() -> None:
    """``python -c`` entry of a parser process: ``argv`` is ``[fd, headroom, niceness]``."""
    import sys
    from multiprocessing.connection import Connection

    fd, headroom, niceness = (int(a) for a in sys.argv[1:4])
    _worker_main(Connection(fd), headroom, niceness)


def _worker_main(conn: Any, headroom: int, niceness: int) -> None:
    """A parser process: ``("ready", pid)``, then one reply stream per request.

    It exits when the app closes its end (EOF), also when the app died without a word.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the app's; the app stops us
    # Nothing a parser prints (warnings, a traceback) may reach the app's terminal.
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    if niceness:
        try:
            os.nice(niceness)
        except OSError:
            pass
    # Import everything before the limit and the first deadline: only parsing counts.
    import fastfeedparser  # noqa: F401
    import feedparser  # noqa: F401

    from .feeds import feed_items, parse_feed

    _limit_memory(headroom)
    try:
        conn.send(("ready", os.getpid()))
        while True:
            try:
                request = conn.recv()
            except MemoryError:  # the document alone does not fit
                conn.send(("memory",))
                return
            if request is None:
                return
            body, headers, parser, platform, source, chunk, deadline = request
            del request
            _limit_cpu(deadline)
            try:
                items = feed_items(parse_feed(body, headers, parser=parser), platform=platform, source=source)
                del body
                for start in range(0, len(items), chunk):
                    conn.send(("items", encode_rows(items[start:start + chunk], platform, source)))
                conn.send(("done", len(items)))
            except SourceError as exc:
                conn.send(("error", str(exc), exc.permanent))
            except MemoryError:
                items = body = None  # type: ignore[assignment]
                conn.send(("memory",))
                return  # a fresh process for the next document
            except RecursionError:
                conn.send(("error", "feed is nested too deeply to parse", False))
            except OSError:
                raise
            except Exception as exc:  # a parser bug: the poll reports it, the worker lives on
                import traceback

                conn.send(("internal", f"{type(exc).__name__}: {exc}"[:300], traceback.format_exc()[-4000:]))
    except (EOFError, OSError, MemoryError):
        return  # the app is gone or stopped listening


def _limit_memory(headroom: int) -> None:
    """Address space: what the process has now, plus ``headroom`` (Linux)."""
    if headroom <= 0:
        return
    try:
        import resource

        with open("/proc/self/statm", "rb") as fh:
            size = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (ImportError, OSError, ValueError, IndexError):
        return  # not Linux: the deadline still applies
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    want = size + headroom
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    if soft == resource.RLIM_INFINITY or want < soft:
        resource.setrlimit(resource.RLIMIT_AS, (want, hard))


def _limit_cpu(deadline: float) -> None:
    """A backstop for an app that died mid-parse: the kernel stops a runaway parse."""
    try:
        import resource

        usage = resource.getrusage(resource.RUSAGE_SELF)
        used = usage.ru_utime + usage.ru_stime
        soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        want = int(used + 2 * deadline + 5)
        if hard != resource.RLIM_INFINITY:
            want = min(want, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (want, hard))
    except (ImportError, OSError, ValueError):
        pass


# ---------------------------------------------------------------------- parent side


def _package_root() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parents[3])


class _Worker:
    """One parser process (``python -c``, so the app's ``__main__`` is never re-run in it)."""

    def __init__(self, headroom: int, niceness: int) -> None:
        import socket
        import subprocess
        import sys
        from multiprocessing.connection import Connection

        if not sys.executable:
            raise OSError("no Python executable to start a parser process with")
        ours, theirs = socket.socketpair()
        try:
            code = (f"import sys; sys.path.insert(0, {_package_root()!r}); "
                    "from watchtower.core.fetch.parsepool import _child_entry; _child_entry()")
            self.proc = subprocess.Popen(
                [sys.executable, "-c", code, str(theirs.fileno()), str(headroom), str(niceness)],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())
        self.dead = False

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_exit(self, timeout: float) -> int | None:
        """Its exit code once it has exited (``None`` if it is still running)."""
        try:
            return self.proc.wait(timeout)
        except Exception:  # noqa: BLE001 - still running
            return None

    def wait_ready(self, timeout: float) -> None:
        if not self.conn.poll(timeout):
            raise OSError("the parser process did not start in time")
        msg = self.conn.recv()
        if not (isinstance(msg, tuple) and msg and msg[0] == "ready"):
            raise OSError("the parser process did not start")

    def alive(self) -> bool:
        return not self.dead and self.proc.poll() is None

    def kill(self) -> None:
        if not self.dead:
            self.dead = True
            try:
                self.proc.kill()
            except OSError:
                pass
            try:
                self.proc.wait(5)
            except Exception:  # noqa: BLE001 - it is being killed; the OS reaps it
                pass
        try:
            self.conn.close()
        except OSError:
            pass

    def stop(self) -> None:
        """Ask an idle worker to exit; kill it if it does not."""
        if self.dead:
            return
        try:
            self.conn.send(None)
            self.proc.wait(1)
        except Exception:  # noqa: BLE001 - busy or gone: kill below
            pass
        self.kill()


class ParsePool:
    """Parses a feed body over ``threshold`` bytes in a worker process, a smaller one in a thread."""

    def __init__(
        self,
        *,
        workers: int | None = None,
        threshold: int = PROCESS_THRESHOLD,
        deadline: float = PARSE_DEADLINE,
        memory_headroom: int = MEMORY_HEADROOM,
        chunk: int = CHUNK,
        niceness: int = NICENESS,
    ) -> None:
        self.workers = workers or max(1, min(2, os.cpu_count() or 1))
        self.threshold = threshold
        self.deadline = deadline
        self.memory_headroom = memory_headroom
        self.chunk = chunk
        self.niceness = niceness
        self.remote_parses = 0
        """Documents parsed in a child process (for tests and diagnostics)."""
        self.local_parses = 0
        """Documents parsed in a thread of this process."""
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()  # ready workers, idle or busy
        self._busy: set[_Worker] = set()
        self._starting: set[_Worker] = set()
        self._executor: ThreadPoolExecutor | None = None
        self._no_process_until = 0.0
        self._closed = False

    # ------------------------------------------------------------------ API

    async def parse(self, body: bytes, headers: Mapping[str, str] | None = None, *, parser: str = "auto",
                    platform: str, source: str) -> list[Item]:
        """Items of one fetched document; raises :class:`SourceError` in plain words."""
        hdrs = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
        if len(body) <= self.threshold or self._closed:
            self.local_parses += 1
            return await asyncio.to_thread(parse_items, body, hdrs, parser=parser, platform=platform, source=source)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool(), self._parse_remote, bytes(body), hdrs, parser, platform, source)

    def worker_pids(self) -> list[int]:
        """Process ids of the live parser processes."""
        with self._lock:
            return [w.pid for w in self._all | self._starting if w.alive()]

    def busy_pids(self) -> list[int]:
        """Process ids of the parser processes parsing a document right now."""
        with self._lock:
            return [w.pid for w in self._busy if w.alive()]

    async def aclose(self) -> None:
        """Stop every parser process; a parse in flight fails with plain words."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            busy = [w for w in self._all | self._starting if w not in idle]
            self._all.clear()
            self._busy.clear()
            self._starting.clear()
            executor, self._executor = self._executor, None
        if busy or idle or executor is not None:
            await asyncio.to_thread(self._shutdown, busy, idle, executor)

    @staticmethod
    def _shutdown(busy: list[_Worker], idle: list[_Worker], executor: ThreadPoolExecutor | None) -> None:
        for w in busy:
            w.kill()  # its thread reads EOF and returns at once
        for w in idle:
            w.stop()
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    # ------------------------------------------------------------------ workers

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                # One thread per worker: a thread waits for its worker's replies.
                self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="watchtower-parse")
            return self._executor

    def _checkout(self) -> _Worker | None:
        """An idle worker, or a new one; ``None`` when no process can be started."""
        with self._lock:
            if self._closed:
                raise SourceError("feed parsing stopped: the app is shutting down")
            while self._idle:
                w = self._idle.pop()
                if w.alive():
                    return w
                self._all.discard(w)
                w.kill()
        return self._start()

    def _start(self) -> _Worker | None:
        """A new ready worker; ``None`` when no process can be started."""
        if time.monotonic() < self._no_process_until:
            return None
        try:
            w = _Worker(self.memory_headroom, self.niceness)
        except Exception as exc:  # noqa: BLE001 - no processes here: parse in a thread
            return self._cannot_start(exc)
        with self._lock:
            closed = self._closed
            if not closed:
                self._starting.add(w)
        if closed:
            w.kill()
            raise SourceError("feed parsing stopped: the app is shutting down")
        try:
            w.wait_ready(_START_TIMEOUT)
        except (OSError, EOFError) as exc:
            self._discard(w)
            if self._closed:
                raise SourceError("feed parsing stopped: the app is shutting down") from None
            return self._cannot_start(exc)
        with self._lock:
            self._starting.discard(w)
            if not self._closed:
                self._all.add(w)
                return w
        w.kill()
        raise SourceError("feed parsing stopped: the app is shutting down")

    def _cannot_start(self, exc: BaseException) -> None:
        log.warning("cannot start a feed parser process (%s); parsing feeds in a thread", exc)
        self._no_process_until = time.monotonic() + _START_RETRY
        return None

    def _checkin(self, w: _Worker) -> None:
        with self._lock:
            self._busy.discard(w)
            if not self._closed and w in self._all and w.alive():
                self._idle.append(w)
                return
        self._discard(w)

    def _discard(self, w: _Worker) -> None:
        with self._lock:
            self._all.discard(w)
            self._busy.discard(w)
            self._starting.discard(w)
        w.kill()

    # ------------------------------------------------------------------ one document

    def _parse_remote(self, body: bytes, headers: dict[str, str], parser: str, platform: str,
                      source: str) -> list[Item]:
        request = (body, headers, parser, platform, source, self.chunk, self.deadline)
        for attempt in range(2):
            w = self._checkout()
            if w is None:
                return parse_items(body, headers, parser=parser, platform=platform, source=source)
            try:
                w.conn.send(request)
                with self._lock:
                    self._busy.add(w)  # it has the whole document
                break
            except (OSError, ValueError):
                if self._reply_waiting(w) == "memory":  # the document alone did not fit
                    self._discard(w)
                    raise SourceError(self._memory_words()) from None
                # It died while idle (the OOM killer, a stray signal): one fresh worker.
                self._discard(w)
                if attempt:
                    raise SourceError("the feed parser process stopped before it could read the feed") from None
        del request
        self.remote_parses += 1
        return self._receive(w, platform, source)

    @staticmethod
    def _reply_waiting(w: _Worker) -> str | None:
        """The kind of a reply a worker sent before it stopped reading, if any."""
        try:
            if w.conn.poll(1.0):
                msg = w.conn.recv()
                return msg[0] if isinstance(msg, tuple) and msg else None
        except (OSError, EOFError, ValueError):
            pass
        return None

    def _receive(self, w: _Worker, platform: str, source: str) -> list[Item]:
        items: list[Item] = []
        deadline = time.monotonic() + self.deadline
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not w.conn.poll(remaining):
                    self._discard(w)
                    raise SourceError(f"feed took longer than {self.deadline:g} s to parse; parsing stopped")
                msg = w.conn.recv()
                kind = msg[0]
                if kind == "items":
                    items.extend(decode_rows(msg[1], platform, source))
                elif kind == "done":
                    self._checkin(w)
                    return items
                elif kind == "error":
                    self._checkin(w)
                    raise SourceError(msg[1], permanent=bool(msg[2]))
                elif kind == "internal":
                    self._checkin(w)
                    raise ParserError(f"feed parser failed: {msg[1]}\n{msg[2]}")
                elif kind == "memory":
                    self._discard(w)
                    raise SourceError(self._memory_words())
                else:
                    self._discard(w)
                    raise ParserError(f"feed parser sent an unknown reply {kind!r}")
        except (EOFError, OSError):
            if self._closed:
                self._discard(w)
                raise SourceError("feed parsing stopped: the app is shutting down") from None
            code = w.wait_exit(2)
            self._discard(w)
            if code == -9:  # SIGKILL, and not ours: the kernel's OOM killer, most likely
                raise SourceError(self._memory_words(killed=True)) from None
            how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            raise SourceError(
                f"feed parser crashed ({how}; out of memory or a parser bug); the next poll starts a new parser"
            ) from None
        except BaseException:
            # Still busy means a bug on this side (decoding a row): the worker's stream is
            # half read, so it cannot serve another document.
            with self._lock:
                half_read = w in self._busy
            if half_read:
                self._discard(w)
            raise

    def _memory_words(self, *, killed: bool = False) -> str:
        mib = max(1, self.memory_headroom // (1024 * 1024))
        if killed:
            return "feed parser was killed while reading this feed (out of memory?); the next poll starts a new parser"
        return f"feed needs more than {mib} MiB of memory to parse; parsing stopped"


_shared: ParsePool | None = None
_shared_lock = threading.Lock()


def shared_pool() -> ParsePool:
    """The process-wide pool for connectors used without a :class:`Monitor`."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared._closed:
            _shared = ParsePool()
        return _shared
