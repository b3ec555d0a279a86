"""End to end in a real pseudo-terminal: hostile content never writes its own escapes.

watchtower runs as a real process (``python -m watchtower``) on a pty (TERM=xterm-256color,
100x30), with a config whose sources point at the hazard corpus served from this test
process (pytest-httpserver's thread on 127.0.0.1).  The test waits for corpus markers to
appear on screen, visits the panes and opens the response panel, quits with ctrl+q and
scans every byte the app wrote to the terminal (docs/threat-model.md, T2):

- every escape sequence in the stream is one Textual writes itself (SGR, cursor, erase,
  its own private modes, each toggled the way Textual toggles them), so nothing a post
  carried reached the terminal as a sequence;
- none of the corpus payloads' distinctive sequences appear: no OSC 52 (clipboard),
  OSC 0/2 (window title), OSC 8 (hyperlink), ``ESC[2J``/mouse/alt-screen next to their
  ``PWNED-…`` tokens, no 8-bit CSI, DCS or stray ESC;
- the decoded text holds no C1, bidi override/isolate, zero-width or TAG character.
"""

from __future__ import annotations

import codecs
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pyte
import pytest
from hazard_server import config_dict, serve, to_toml
from hazards.corpus import BY_NAME, ESCAPES
from pytest_httpserver import HTTPServer
from waiting import DEADLINE

pytestmark = pytest.mark.slow

COLS, ROWS = 100, 30

PTY_DOCS = [
    "rss-escapes-raw", "rss-escapes-charrefs", "atom-escapes-hexrefs", "mastodon-escapes",
    "reddit-escapes", "json-escapes", "rss-markup", "mastodon-markup", "rss-unicode",
    "json-unicode", "atom-multilingual", "mastodon-error", "http-500-hostile-reason",
]
PLATFORM = {
    "rss-escapes-raw": "esc-xml", "rss-escapes-charrefs": "esc-xml", "atom-escapes-hexrefs": "esc-xml",
    "mastodon-escapes": "esc-json", "reddit-escapes": "esc-json", "json-escapes": "esc-json",
    "rss-markup": "markup", "mastodon-markup": "markup", "rss-unicode": "unicode", "json-unicode": "unicode",
    "atom-multilingual": "unicode", "mastodon-error": "errors", "http-500-hostile-reason": "errors",
}
# The tab key of each platform pane (Priority is 1; panes follow the sources' order) and the
# SAFE-MARK prefixes its documents carry: a pane is visited only once its rows are drawn, so
# a poll that is late on a loaded machine delays the test instead of failing it.
MAIN = "Respond"  # the main screen's footer ("⏎ Respond  c Claim ..."), not the panel's
PANE_MARKS = {
    "2": ("SAFE-MARK-E", "SAFE-MARK-R", "SAFE-MARK-X"),
    "3": ("SAFE-MARK-J", "SAFE-MARK-Q", "SAFE-MARK-K"),
    "4": ("SAFE-MARK-M", "SAFE-MARK-T"),
    "5": ("SAFE-MARK-U",),
}

# ---------------------------------------------------------------------------- scanning

ESC_SEQ = re.compile(
    rb"""
    \x1b\[(?P<csi_params>[0-?]*)(?P<csi_inter>[ -/]*)(?P<csi_final>[@-~])   # CSI
  | \x1b\](?P<osc>[^\x07\x1b]*)(?:\x07|\x1b\\)                              # OSC
  | \x1b(?P<str>[P_^X])[^\x1b]*\x1b\\                                       # DCS/APC/PM/SOS
  | \x1b(?P<other>[ -/]*[0-~])                                              # other escapes
  | (?P<bad>\x1b)                                                           # a stray ESC
    """,
    re.VERBOSE,
)
#: CSI final bytes Textual's driver and compositor write: SGR, cursor moves, erase, modes.
TEXTUAL_CSI_FINALS = set("mHJKABCDGfhlrstXPu@~SLMnq")
#: Two-byte escapes: keypad modes and cursor save/restore at most.  ``ESC c`` (full
#: reset) or charset switches would come from content.
TEXTUAL_OTHER_ESC = {b"\x1b=", b"\x1b>", b"\x1b7", b"\x1b8"}
#: Private modes Textual sets on start and resets on exit (alt screen, cursor, mouse,
#: focus, bracketed paste, sync output, kitty keys / in-band resize if queried).
TEXTUAL_PRIVATE_MODES = {"1049", "25", "1000", "1002", "1003", "1015", "1006", "1004", "2004", "2026", "2048", "7"}

UNSAFE_TEXT = re.compile(
    "[\x80-\x9f\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
    "\U000e0000-\U000e007f]"
)


def scan(raw: bytes) -> tuple[list[str], str]:
    """Problems found in a terminal byte stream, and the decoded text without sequences."""
    problems: list[str] = []
    text_parts: list[bytes] = []
    pos = 0
    mode_sets: dict[str, int] = {}
    for m in ESC_SEQ.finditer(raw):
        text_parts.append(raw[pos : m.start()])
        pos = m.end()
        seq = m.group(0)
        if m.group("bad") is not None:
            problems.append(f"stray ESC at {m.start()}: {raw[m.start():m.start() + 24]!r}")
        elif m.group("osc") is not None:
            # Textual sets the mouse pointer shape (OSC 22 ; name); nothing else is an OSC.
            if not re.fullmatch(rb"22;[a-z-]+", m.group("osc")):
                problems.append(f"OSC: {seq[:60]!r}")
        elif m.group("str") is not None:
            problems.append(f"DCS/APC/PM/SOS: {seq[:60]!r}")
        elif m.group("other") is not None:
            if seq not in TEXTUAL_OTHER_ESC:
                problems.append(f"escape {seq!r} (not one Textual writes)")
        elif m.group("csi_final") is not None:
            params = m.group("csi_params").decode("latin-1")
            final = m.group("csi_final").decode("latin-1")
            inter = m.group("csi_inter").decode("latin-1")
            if final == "p" and inter == "$" and params in ("?2026", "?2048"):
                pass  # Textual asks whether sync output / in-band resize are supported (DECRQM)
            elif final not in TEXTUAL_CSI_FINALS or inter:
                problems.append(f"unexpected CSI {seq[:40]!r}")
            if params.startswith("?") and final in "hl":
                for mode in params[1:].split(";"):
                    if mode not in TEXTUAL_PRIVATE_MODES:
                        problems.append(f"private mode {mode} toggled: {seq!r}")
                    if final == "h":
                        mode_sets[mode] = mode_sets.get(mode, 0) + 1
            elif final == "n" and params not in ("6", "?6", "5"):
                problems.append(f"unexpected DSR {seq!r}")
    text_parts.append(raw[pos:])
    for mode, n in mode_sets.items():
        if n > 2:
            problems.append(f"private mode {mode} set {n} times (content toggling it?)")
    text = b"".join(text_parts).decode("utf-8", "replace")
    bad = UNSAFE_TEXT.search(text)
    if bad:
        problems.append(f"U+{ord(bad.group()):04X} in the terminal text near {text[max(0, bad.start() - 20):bad.end() + 20]!r}")
    # Control bytes outside sequences: only CR, LF, BS, TAB (and BEL: the bell is off here).
    ctl = re.search(r"[\x00-\x07\x0b\x0c\x0e-\x1f\x7f]", text)
    if ctl:
        problems.append(f"control 0x{ord(ctl.group()):02x} in the terminal text near {text[max(0, ctl.start() - 20):ctl.end() + 20]!r}")
    return problems, text


def payload_hits(raw: bytes) -> list[str]:
    """The corpus payloads' own sequences, found anywhere in the raw stream."""
    hits = []
    needles = {
        "OSC 52 clipboard": b"\x1b]52",
        "OSC 0 title": b"\x1b]0;",
        "OSC 2 title": b"\x1b]2;",
        "OSC 8 link": b"\x1b]8;",
        "8-bit CSI (UTF-8)": b"\xc2\x9b",
        "8-bit OSC (UTF-8)": b"\xc2\x9d",
        "DCS": b"\x1bPq",
        "DSR query": b"\x1b[6nPWNED",
    }
    for name, needle in needles.items():
        if needle in raw:
            hits.append(name)
    for name, payload in ESCAPES.items():
        token = re.search(r"PWNED-[A-Z0-9]+", payload)
        assert token is not None
        head = payload[: token.end()].encode("utf-8")
        if head in raw and head != token.group().encode():
            hits.append(f"{name}: {head!r}")
    if re.search(rb"\x1b\[2J(?:\x1b\[[0-9;]*[A-Za-z])*PWNED", raw):
        hits.append("ESC[2J followed by a payload")
    if re.search(rb"\x1b\[\?(?:1000|1049)h(?:\x1b\[[0-9;]*[A-Za-z])*PWNED", raw):
        hits.append("mouse/alt-screen mode followed by a payload")
    return hits


# ---------------------------------------------------------------------------- the pty


class Term:
    """watchtower on a real pty; every byte it writes is kept."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))

        def controlling_tty() -> None:
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd,
            start_new_session=True, preexec_fn=controlling_tty, close_fds=True,
        )
        os.close(slave)
        self.raw = bytearray()
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.text = ""
        # What a person would see right now: waits look at the screen, not at the stream
        # (a repaint that only touches changed cells never writes an unchanged word again).
        self.screen = pyte.Screen(COLS, ROWS)
        self._stream = pyte.ByteStream(self.screen)

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: the child closed the pty
            return False
        if not chunk:
            return False
        self.raw += chunk
        self.text += self._decoder.decode(chunk)
        self._stream.feed(chunk)
        return True

    def shown(self) -> str:
        """The screen as it stands, one line per row."""
        return "\n".join(self.screen.display)

    def wait_for(self, what: str | tuple[str, ...], *, absent: tuple[str, ...] = (),
                 deadline: float = DEADLINE) -> None:
        """Read until ``what`` (or one of them) is on the screen, and none of ``absent`` is."""
        end = time.monotonic() + deadline
        options = (what,) if isinstance(what, str) else what

        def holds() -> bool:
            screen = self.shown()
            return any(w in screen for w in options) and not any(a in screen for a in absent)

        while not holds():
            if time.monotonic() > end:
                raise AssertionError(f"{what!r} never on the screen (absent: {absent!r}); it shows:\n{self.shown()}")
            if not self._read(0.2) and self.proc.poll() is not None:
                raise AssertionError(f"watchtower exited ({self.proc.returncode}) before {what!r}:\n{self.shown()}")

    def wait_in_stream(self, what: str, *, deadline: float = DEADLINE) -> None:
        """Read until ``what`` has been written at all: for an app whose own output clears
        the screen (the unsafe app below), so the screen may never show it."""
        end = time.monotonic() + deadline
        while what not in _plain(self.text):
            if time.monotonic() > end:
                raise AssertionError(f"{what!r} was never written; last output: {_plain(self.text[-1500:])!r}")
            if not self._read(0.2) and self.proc.poll() is not None:
                raise AssertionError(f"the app exited ({self.proc.returncode}) before writing {what!r}")

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def finish(self, deadline: float = DEADLINE) -> int | None:
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            alive = self._read(0.1)
            if self.proc.poll() is not None and not alive:
                break
            if self.proc.poll() is not None:
                # drain what is left
                while self._read(0.05) and select.select([self.master], [], [], 0)[0]:
                    pass
                break
        return self.proc.poll()

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)
        try:
            os.close(self.master)
        except OSError:
            pass


_CSI_STRIP = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


def _plain(text: str) -> str:
    return _CSI_STRIP.sub("", text)


@pytest.fixture
def pty_run(httpserver: HTTPServer, tmp_path: Path):
    docs = [BY_NAME[n] for n in PTY_DOCS]
    urls = serve(httpserver, docs)
    cfg = config_dict(docs, urls, platform_of=lambda d: PLATFORM[d.name])
    config = tmp_path / "config.toml"
    config.write_text(to_toml(cfg), encoding="utf-8")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TEXTUAL", "SSH_", "TMUX", "NO_COLOR", "PYTEST", "COLUMNS", "LINES"))}
    env.update(TERM="xterm-256color", COLORTERM="truecolor", LANG="C.UTF-8", LC_ALL="C.UTF-8",
               PYTHONIOENCODING="utf-8")
    argv = [sys.executable, "-m", "watchtower", "--config", str(config), "--data-dir", str(tmp_path / "data"),
            "--operator", "pty-op"]
    term = Term(argv, env, tmp_path)
    try:
        yield term
    finally:
        term.kill()


def test_no_content_escape_reaches_the_terminal(pty_run: Term) -> None:
    term = pty_run
    # The app is up: the main screen's footer is drawn.  Each pane is visited once its own rows are drawn (PANE_MARKS), so
    # nothing here depends on which corpus items triage puts in Priority.
    term.wait_for(MAIN)
    # Every platform pane, then the response panel for its first item.
    panel = ("Why this badge", "Playbook:", "The thread as we know it")
    for key, marks in PANE_MARKS.items():
        term.send(key.encode())
        term.wait_for(marks)  # its rows are on screen: enter has an item to open
        term.send(b"\x1b[6~")  # page down: more rows rendered
        term.send(b"\r")
        term.wait_for(panel)
        term.send(b"\x1b")
        term.wait_for(MAIN, absent=panel)
    term.send(b"6")  # the errors pane: hostile error messages in its health line
    term.wait_for("Mastodon said")
    term.send(b"\x11")  # ctrl+q
    code = term.finish()
    assert code == 0, (code, _plain(term.text[-1500:]))

    raw = bytes(term.raw)
    hits = payload_hits(raw)
    assert not hits, hits
    problems, text = scan(raw)
    assert not problems, problems[:10]
    # The payloads' visible remains were on screen, as text.
    assert "PWNED-CLEAR" in text and "PWNED-MOUSE" in text
    assert "[@click=app.quit]" in text or "[@click=app.quit]" in text.replace("\n", "")


# ---------------------------------------------------------------------------- sanity


def test_scanner_catches_unsafe_output() -> None:
    """The detectors fire on what an unsafe app would write (docs/threat-model.md, T2)."""
    samples = {
        "osc52": b"\x1b[1;1HAAA\x1b]52;c;UFdORUQ=\x07BBB",
        "title": b"\x1b]0;PWNED-TITLE\x07",
        "clear": b"AAA\x1b[2JPWNED-CLEAR",
        "mouse": b"\x1b[?1000hPWNED-MOUSE",
        "c1": "x\x9b2JPWNED-C1".encode(),
        "osc8": b"\x1b]8;;file:///etc/passwd\x1b\\x\x1b]8;;\x1b\\",
        "rlo": "invoice\u202efdp.exe".encode(),
        "tag": "t\U000e0041".encode(),
        "stray": b"a\x1b",
        "reset": b"a\x1bcb",
        "charset": b"\x1b(0lqk",
        "dcs": b"\x1bPqPWNED-DCS\x1b\\",
        "bel": b"ring\x07",
    }
    for name, raw in samples.items():
        problems, _ = scan(raw)
        assert problems or payload_hits(raw), name
    clean = b"\x1b[?1049h\x1b[?25l\x1b[1;1H\x1b[38;2;1;2;3mhello [@click=app.quit]x[/]\x1b[0m\r\n\x1b[?1049l"
    assert scan(clean)[0] == [] and payload_hits(clean) == []


UNSAFE_APP = r"""
from textual.app import App
from textual.widgets import Static

class Unsafe(App):
    def compose(self):
        # markup=False stops markup, not escapes (docs/threat-model.md, T2).
        yield Static("AAA\x1b]52;c;UFdORUQ=\x1b\\BBB \x1b[2JPWNED-CLEAR \u202eevil READY-MARK", markup=False)

Unsafe().run()
"""


def test_sanity_pty_catches_a_real_unsafe_app(tmp_path: Path) -> None:
    """The same pty + scanner, on a Textual app that shows content without safetext."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTUAL", "NO_COLOR"))}
    env.update(TERM="xterm-256color", LANG="C.UTF-8", LC_ALL="C.UTF-8")
    term = Term([sys.executable, "-c", UNSAFE_APP], env, tmp_path)
    try:
        term.wait_in_stream("READY-MARK")  # its payload clears the screen: look at the stream
        term.send(b"\x11")
        term.finish()
    finally:
        term.kill()
    raw = bytes(term.raw)
    hits = payload_hits(raw)
    problems, _ = scan(raw)
    assert "OSC 52 clipboard" in hits and "ESC[2J followed by a payload" in hits, hits
    assert any("U+202E" in p for p in problems), problems
