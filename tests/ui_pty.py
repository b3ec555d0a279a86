"""Drive the real ``watchtower`` process in a pseudo-terminal and read its screen.

The process runs on a pty (``os.openpty`` + ``subprocess``), a reader thread feeds every
byte it writes into a ``pyte`` terminal emulator and counts the bytes, so a test (or a
bench) can ask what is on the screen, send keys, resize the terminal and measure what
an idle screen costs on the wire.  Used by the slow pty tests and by ``bench/bench_ui.py``.

No fixed sleeps to assert anything: :meth:`PtyApp.wait_for` polls a condition until a
generous deadline.
"""

from __future__ import annotations

import fcntl
import os
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pyte

KEYS = {
    "enter": b"\r",
    "escape": b"\x1b",
    "tab": b"\t",
    "ctrl+q": b"\x11",
    "down": b"\x1b[B",
    "up": b"\x1b[A",
    "home": b"\x1b[H",
    "end": b"\x1b[F",
    "ctrl+end": b"\x1b[1;5F",
    "ctrl+home": b"\x1b[1;5H",
    "ctrl+p": b"\x10",
}


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """An environment that keeps the app away from the user's own config and data."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WATCHTOWER_", "COLUMNS", "LINES", "TEXTUAL"))}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "c"), XDG_DATA_HOME=str(home / "d"),
               XDG_STATE_HOME=str(home / "s"), XDG_CACHE_HOME=str(home / "k"),
               TERM="xterm-256color", COLORTERM="truecolor", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


class PtyApp:
    """One ``python -m watchtower ...`` on a pty of ``cols`` x ``rows``."""

    def __init__(self, args: Sequence[str], *, cols: int, rows: int, env: dict[str, str], cwd: Path | None = None) -> None:
        self.cols, self.rows = cols, rows
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.lock = threading.Lock()
        #: (monotonic time, bytes) of every read from the terminal.
        self.received: list[tuple[float, int]] = []
        self.master, slave = os.openpty()
        self._set_size(slave, cols, rows)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "watchtower", *args],
            stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd, start_new_session=True, close_fds=True,
        )
        os.close(slave)
        self._stop = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    # -- io ------------------------------------------------------------------------------
    @staticmethod
    def _set_size(fd: int, cols: int, rows: int) -> None:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self.lock:
                self.received.append((time.monotonic(), len(chunk)))
                try:
                    self.stream.feed(chunk)
                except Exception:  # noqa: BLE001 - an emulator hiccup must not stop the count
                    pass

    def send(self, *keys: str) -> None:
        for key in keys:
            os.write(self.master, KEYS.get(key, key.encode()))

    def resize(self, cols: int, rows: int) -> None:
        with self.lock:
            self.cols, self.rows = cols, rows
            self.screen.resize(rows, cols)
        self._set_size(self.master, cols, rows)
        os.kill(self.proc.pid, signal.SIGWINCH)

    # -- reading the screen --------------------------------------------------------------
    def lines(self) -> list[str]:
        with self.lock:
            return list(self.screen.display)

    def text(self) -> str:
        return "\n".join(self.lines())

    def bytes_between(self, t0: float, t1: float) -> int:
        with self.lock:
            return sum(n for t, n in self.received if t0 <= t < t1)

    def last_write(self) -> float:
        with self.lock:
            return self.received[-1][0] if self.received else 0.0

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_for(self, predicate: Callable[[str], bool], *, timeout: float = 60.0, what: str = "the screen") -> float:
        """Poll the screen until ``predicate(text)`` holds; the seconds it took.  Raises
        with the screen's text after ``timeout`` (a ceiling, never a delay)."""
        start = time.monotonic()
        deadline = start + timeout
        while True:
            text = self.text()
            if predicate(text):
                return time.monotonic() - start
            if not self.alive():
                raise AssertionError(f"the app exited ({self.proc.returncode}) waiting for {what}:\n{text}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; the screen:\n{text}")
            time.sleep(0.02)

    def rss_kib(self) -> int:
        with open(f"/proc/{self.proc.pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def close(self) -> None:
        try:
            if self.alive():
                self.send("ctrl+q")
                self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        self._stop.set()
        try:
            os.close(self.master)
        except OSError:
            pass
        self._reader.join(timeout=2)

    def __enter__(self) -> PtyApp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
