"""The bytes that make a terminal ring or show a desktop notification, built safely.

watchtower often runs over SSH inside tmux on a box nobody sits at, so the only way to
reach the on-call person's own desktop is through their terminal: a bell, or an OSC
notification sequence that their terminal emulator turns into a desktop pop-up.

Alert text comes from strangers (a post's text, an author's name).  Inside an OSC, one
stray ``ESC \\``, BEL or ``;`` would end the notification early and let the rest of the
text run as a new escape sequence on the operator's terminal (``ESC ] 52`` writes their
clipboard; docs/threat-model.md, T2).  So every title and body passes through
:func:`watchtower.core.text.safetext.one_line` and then loses ``;`` and any control character
that is left, so the only ESC and BEL bytes in the result are the framing ones built here.

This module only builds strings.  The UI writes them to the terminal driver (on the UI
thread, like any other terminal output); it never prints them itself.

Which sequence a terminal understands:

- ``OSC 777 ; notify ; title ; body ST``: foot, rxvt-unicode (with its notify
  extension), WezTerm, Ghostty, VTE-based terminals that carry the patch.
- ``OSC 9 ; body ST``: iTerm2, Windows Terminal, ConEmu, kitty, WezTerm.
- Terminals that know neither ignore both (an OSC is skipped whole).
- Inside tmux, an OSC reaches the outer terminal only through DCS passthrough, and only
  when tmux has ``set -g allow-passthrough on`` (tmux 3.3 or later).  The bell needs no
  passthrough: tmux forwards it according to its ``bell-action``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from ..text.safetext import one_line

__all__ = [
    "bell",
    "osc777",
    "osc9",
    "wrap_for_tmux",
    "desktop_notification",
    "notification_text",
    "TITLE_LIMIT",
    "BODY_LIMIT",
]

ESC = "\x1b"
ST = ESC + "\\"
BEL = "\a"

#: Desktop notifications show a line or two; long OSC payloads are cut by some terminals.
TITLE_LIMIT = 80
BODY_LIMIT = 240

# Whatever one_line left that could still end or extend an OSC: C0, DEL, C1, and ';'
# (the OSC 777 field separator).  one_line already removes the controls; this is the
# second lock on the door, because the cost of a miss here is code running on a terminal.
_UNSAFE_IN_OSC = re.compile(r"[\x00-\x1f\x7f-\x9f;]")


def notification_text(value: object, limit: int) -> str:
    """``value`` as one safe line for an OSC field: no controls, no ``;``, clipped."""
    text = one_line(value, limit=limit)
    text = _UNSAFE_IN_OSC.sub(lambda m: "," if m.group() == ";" else "", text)
    return text.strip()


def bell() -> str:
    """The terminal bell.  It carries no content, so it is safe as it is."""
    return BEL


def osc777(title: object, body: object) -> str:
    """``ESC ] 777 ; notify ; title ; body ESC \\`` with both fields made safe."""
    t = notification_text(title, TITLE_LIMIT) or "watchtower"
    b = notification_text(body, BODY_LIMIT)
    return f"{ESC}]777;notify;{t};{b}{ST}"


def osc9(body: object) -> str:
    """``ESC ] 9 ; body ESC \\`` with the body made safe.

    A body that starts with digits and ``;`` would be read by ConEmu as a sub-command
    (``OSC 9 ; 4 ; ...`` is a progress bar); ``;`` is removed, so that cannot happen.
    """
    b = notification_text(body, TITLE_LIMIT + BODY_LIMIT) or "watchtower"
    return f"{ESC}]9;{b}{ST}"


def wrap_for_tmux(seq: str) -> str:
    """Wrap ``seq`` in tmux's DCS passthrough: ``ESC P tmux; `` + seq (ESCs doubled) + ``ESC \\``.

    tmux passes the inner sequence to the outer terminal only with ``allow-passthrough on``;
    without it the whole DCS is swallowed, which is harmless.
    """
    return f"{ESC}Ptmux;{seq.replace(ESC, ESC + ESC)}{ST}"


def _in_tmux(env: Mapping[str, str]) -> bool:
    return bool(env.get("TMUX"))


def _prefers_osc9(env: Mapping[str, str]) -> bool:
    """Terminals that show OSC 9 but not OSC 777.

    Over SSH these variables are often missing; ``LC_TERMINAL`` is the one iTerm2 sets that
    OpenSSH forwards by default (``SendEnv LC_*``).
    """
    term_program = env.get("TERM_PROGRAM", "")
    return (
        term_program in ("iTerm.app", "WindowsTerminal")
        or env.get("LC_TERMINAL", "") == "iTerm2"
        or bool(env.get("WT_SESSION"))
        or bool(env.get("ConEmuPID"))
        or bool(env.get("KITTY_WINDOW_ID"))
    )


def desktop_notification(
    title: object,
    body: object,
    *,
    tmux: bool | None = None,
    env: Mapping[str, str] = os.environ,
) -> str:
    """The sequence that asks the operator's terminal for a desktop notification.

    One protocol, not both: terminals that understand both (WezTerm, Ghostty) would
    otherwise pop up two notifications for one alert.  OSC 9 for the terminals that only
    know it (see :func:`_prefers_osc9`), OSC 777 otherwise.  ``tmux`` defaults to whether
    ``$TMUX`` is set in ``env``; inside tmux the sequence is wrapped for passthrough.
    """
    if _prefers_osc9(env):
        t = notification_text(title, TITLE_LIMIT)
        b = notification_text(body, BODY_LIMIT)
        seq = osc9(f"{t}: {b}" if t and b else (t or b))
    else:
        seq = osc777(title, body)
    if tmux is None:
        tmux = _in_tmux(env)
    return wrap_for_tmux(seq) if tmux else seq
