"""Terminal notification bytes: hostile alert text must not add a single ESC or BEL."""

from __future__ import annotations

import re

import pytest

from watchtower.core.alert.termnotify import (
    bell,
    desktop_notification,
    osc9,
    osc777,
    wrap_for_tmux,
)

HOSTILE = [
    "clip\x1b]52;c;ZWNobyBwd25lZA==\x07board",  # OSC 52 clipboard write, BEL-terminated
    "clip\x1b]52;c;ZWNobyBwd25lZA==\x1b\\board",  # ... ST-terminated
    "csi\x9b2Jeight-bit",  # 8-bit CSI
    "osc\x9d0;title\x9cc1",  # 8-bit OSC and ST
    "bidi \u202egnp.exe\u202c \u2066iso\u2069",
    "semi;colon;notify;evil",
    "bell\a\a\x07",
    "esc\x1b\\end",  # a bare ST
    "half \x1b]777;notify;fake;",  # an unterminated OSC of our own kind
    "tmux\x1bPtmux;\x1b\x1b]52;c;eA==\x07\x1b\\",  # a passthrough of its own
    "nul\x00del\x7fnl\nr\rtab\t",
]

# A field may hold anything except C0, DEL, C1, bidi controls and ';'.
FIELD = r"[^\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069;]*"
OSC777 = re.compile(rf"\x1b\]777;notify;{FIELD};{FIELD}\x1b\\")
OSC9 = re.compile(rf"\x1b\]9;{FIELD}\x1b\\")


def test_bell_is_just_bel() -> None:
    assert bell() == "\a"


@pytest.mark.parametrize("text", HOSTILE)
def test_osc777_has_only_framing_controls(text: str) -> None:
    seq = osc777(text, text)
    assert OSC777.fullmatch(seq), repr(seq)
    assert seq.count("\x1b") == 2 and "\a" not in seq


@pytest.mark.parametrize("text", HOSTILE)
def test_osc9_has_only_framing_controls(text: str) -> None:
    seq = osc9(text)
    assert OSC9.fullmatch(seq), repr(seq)
    assert seq.count("\x1b") == 2 and "\a" not in seq


def test_payloads_of_escape_sequences_do_not_survive_as_text() -> None:
    seq = osc777("t", HOSTILE[0])
    assert "ZWNobyBwd25lZA" not in seq
    assert seq == "\x1b]777;notify;t;clipboard\x1b\\"


def test_semicolons_cannot_add_fields() -> None:
    seq = osc777("a;b", "c;d;e")
    assert seq.count(";") == 3  # 777 ; notify ; title ; body


def test_empty_title_gets_a_name_and_long_text_is_clipped() -> None:
    seq = osc777("\x1b]0;x\x07", "y" * 10_000)
    assert seq.startswith("\x1b]777;notify;watchtower;")
    assert len(seq) < 400


def test_tmux_wrapping_doubles_every_esc() -> None:
    inner = osc777("title", "body")
    wrapped = wrap_for_tmux(inner)
    assert wrapped == "\x1bPtmux;\x1b\x1b]777;notify;title;body\x1b\x1b\\\x1b\\"
    body = wrapped[len("\x1bPtmux;") : -2]
    assert re.fullmatch(r"(?:[^\x1b]|\x1b\x1b)*", body)


@pytest.mark.parametrize("text", HOSTILE)
def test_tmux_wrapped_hostile_text_has_only_framing_escs(text: str) -> None:
    wrapped = desktop_notification(text, text, tmux=True, env={})
    m = re.fullmatch(r"\x1bPtmux;\x1b\x1b\]777;notify;(" + FIELD + r");(" + FIELD + r")\x1b\x1b\\\x1b\\", wrapped)
    assert m, repr(wrapped)


def test_desktop_notification_detects_tmux_from_env() -> None:
    assert desktop_notification("t", "b", env={"TMUX": "/tmp/tmux-1000/default,123,0"}).startswith("\x1bPtmux;")
    assert desktop_notification("t", "b", env={}) == "\x1b]777;notify;t;b\x1b\\"
    assert desktop_notification("t", "b", tmux=False, env={"TMUX": "x"}) == "\x1b]777;notify;t;b\x1b\\"


def test_desktop_notification_uses_osc9_where_only_that_works() -> None:
    seq = desktop_notification("Crisis; hacked", "body\x1b]52;c;eA==\x07", env={"LC_TERMINAL": "iTerm2"})
    assert OSC9.fullmatch(seq)
    assert seq == "\x1b]9;Crisis, hacked: body\x1b\\"
