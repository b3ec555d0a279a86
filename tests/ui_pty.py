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
import json
import os
import random
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

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


def deadline() -> float:
    """The generous ceiling of every wait (tests/waiting.py), also when a bench runs this."""
    return float(os.environ.get("WATCHTOWER_TEST_DEADLINE", "120"))


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

    def wait_for(self, predicate: Callable[[str], bool], *, timeout: float | None = None, what: str = "the screen") -> float:
        """Poll the screen until ``predicate(text)`` holds; the seconds it took.  Raises
        with the screen's text after ``timeout`` (a ceiling, never a delay)."""
        if timeout is None:
            timeout = deadline()
        start = time.monotonic()
        end = start + timeout
        while True:
            text = self.text()
            if predicate(text):
                return time.monotonic() - start
            if not self.alive():
                raise AssertionError(f"the app exited ({self.proc.returncode}) waiting for {what}:\n{text}")
            if time.monotonic() > end:
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


# ------------------------------------------------------------- a quiet inbox config

TZ = ZoneInfo("Europe/Amsterdam")
INBOX_INTERVAL = 5.0


def write_config(home: Path, *, interval: float = INBOX_INTERVAL, platforms: int = 1) -> tuple[Path, Path]:
    inbox = home / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    lines = ['[organisation]\nname = "Pty library"\ntimezone = "Europe/Amsterdam"\n']
    for p in range(platforms):
        d = inbox if p == 0 else home / f"inbox{p}"
        d.mkdir(exist_ok=True)
        lines.append(f'[[sources]]\nkind = "inbox"\nname = "drops{p}"\nplatform = "Tips{p}"\npath = "{d}"\n'
                     f'interval = {interval}\n[sources.mapping]\nid = "id"\nauthor = "author"\ntext = "text"\n'
                     'url = "url"\npublished = "published"\n')
    cfg = home / "config.toml"
    cfg.write_text("\n".join(lines))
    return cfg, inbox


def drop(inbox: Path, name: str, records: list[dict]) -> None:
    """Drop a file the way a tool should: a hidden temp name, then a rename."""
    tmp = inbox / f".{name}.jsonl"
    tmp.write_text("".join(json.dumps(r) + "\n" for r in records))
    os.replace(tmp, inbox / f"{name}.jsonl")


def record(n: int, text: str) -> dict:
    return {"id": f"r{n}", "author": f"tipster{n}", "text": text, "url": f"https://tips.example/{n}",
            "published": datetime.now(UTC).isoformat()}


def start(home: Path, cfg: Path, cols: int, rows: int) -> PtyApp:
    return PtyApp(["--config", str(cfg), "--data-dir", str(home / "data"), "--operator", "pty"],
                  cols=cols, rows=rows, env=clean_env(home))


def on_main(text: str) -> bool:
    return text.lstrip().startswith("◉")


def header_minute(app: PtyApp) -> str | None:
    m = re.search(r"│ \w{3} (\d\d:\d\d) Europe/Amsterdam", app.lines()[0])
    return m.group(1) if m else None


def cycle_panel(app: PtyApp, rng: random.Random, *, limit: float | None = None) -> None:
    """One open/close of the response panel at an operator's pace (0.2-1 s each way)."""
    limit = deadline() if limit is None else limit
    app.send("enter")
    app.wait_for(lambda t: "tab: edit" in t or "playbook: no reply" in t, timeout=limit, what="the response panel")
    time.sleep(rng.uniform(0.2, 1.0))
    app.send("escape")
    app.wait_for(on_main, timeout=limit, what="the main screen after escape")
    time.sleep(rng.uniform(0.2, 1.0))


def live_screen_through_cycles(tmp_path: Path, cycles: int, *, drop_every: int = 3, seed: int = 16) -> dict:
    """The measurement behind the test and bench P12: ``cycles`` panel open/closes while
    items are dropped into three inbox sources (one every ``drop_every`` cycles, in turn),
    so polls land while the panel is open and while it closes.  Per drop, the seconds
    until it was on the main screen; the header clock at the start and at the end."""
    home = tmp_path
    cfg, inbox = write_config(home, platforms=3)
    dirs = [inbox, home / "inbox1", home / "inbox2"]
    drop(inbox, "seed", [record(i, f"Seed tip {i}: the library wifi is down again") for i in range(5)])
    rng = random.Random(seed)
    latencies: list[float] = []
    pending: dict[str, float] = {}
    with start(home, cfg, 160, 40) as app:
        app.wait_for(lambda t: "Seed tip 4" in t, timeout=deadline(), what="the seed items on screen")
        app.send("2")  # the first inbox pane: its rows are what enter opens
        first_minute = header_minute(app)
        started = time.monotonic()
        for n in range(cycles):
            if n % drop_every == 0:
                token = f"DROP-{n}-TOKEN"
                drop(dirs[(n // drop_every) % 3], f"drop{n}", [record(1000 + n, f"{token} a new tip arrives mid-cycle")])
                pending[token] = time.monotonic()
            cycle_panel(app, rng)
            text = app.text()
            for token in [t for t in pending if t in text]:
                latencies.append(time.monotonic() - pending.pop(token))
        for token, at in list(pending.items()):
            app.wait_for(lambda t, token=token: token in t, timeout=deadline(), what=f"{token} on the main screen")
            latencies.append(time.monotonic() - at)

        # The clock: the header shows the current minute (it ticks every 15 s at most).
        def clock_current(_t: str) -> bool:
            return header_minute(app) == datetime.now(TZ).strftime("%H:%M")

        app.wait_for(clock_current, timeout=deadline(), what="the header clock to show the current minute")
        return {"latencies": latencies, "drops": len(latencies), "first_minute": first_minute,
                "last_minute": header_minute(app), "seconds": time.monotonic() - started, "alive": app.alive()}


def layout_of(text: str) -> str:
    lines = text.split("\n")
    if any(line.startswith("╭") for line in lines[3:5]):
        return "wide"
    if "Priority" in lines[3]:
        return "tabs"
    return "?"
