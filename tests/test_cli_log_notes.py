"""Long notes: refused with the limit named, never cut; ``-`` reads stdin, ``--file`` a file.

A note over 16,384 characters (``core.record.log.MAX_NOTE``) was cut without a word.  Issue 15,
point 10.  The log is real TinyDB files in a tmp dir; CliRunner feeds stdin.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from watchtower.cli import cli
from watchtower.core.record.log import MAX_NOTE, HandoverLog


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def _texts(data_dir: Path, kind: str = "note") -> list[str]:
    return [e.text for e in HandoverLog(data_dir).entries(kinds=(kind,))]


def _long_note(n: int) -> str:
    line = "Printer fire drill at 14:00, ignore the alarms; details follow.\n"
    return (line * (n // len(line) + 1))[:n]


def test_a_note_over_the_limit_is_refused_with_the_limit_named(data_dir: Path) -> None:
    result = run("log", "add", "x" * (MAX_NOTE + 1), "--data-dir", str(data_dir))
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "watchtower: the note is 16,385 characters; a log entry keeps at most 16,384 "
        "(nothing was written: shorten it or split it into several notes)"
    )
    assert _texts(data_dir) == []


def test_a_note_at_the_limit_is_kept_whole(data_dir: Path) -> None:
    note = _long_note(MAX_NOTE)
    result = run("log", "add", note, "--data-dir", str(data_dir))
    assert result.exit_code == 0, result.output
    assert _texts(data_dir) == [note.strip()]


def test_log_add_dash_reads_a_long_multiline_note_from_stdin(data_dir: Path) -> None:
    note = _long_note(12_000).strip()
    result = run("log", "add", "-", "--data-dir", str(data_dir), input=note + "\n")
    assert result.exit_code == 0, result.output
    assert _texts(data_dir) == [note]
    assert _texts(data_dir)[0].count("\n") > 100  # lines kept


def test_log_add_file_reads_the_note_from_a_file(data_dir: Path, tmp_path: Path) -> None:
    note = _long_note(9_000).strip()
    path = tmp_path / "note.txt"
    path.write_text(note + "\n", encoding="utf-8")
    result = run("log", "add", "--file", str(path), "--data-dir", str(data_dir), "--kind", "escalated")
    assert result.exit_code == 0, result.output
    assert _texts(data_dir, "escalated") == [note]


def test_a_note_over_the_limit_from_stdin_or_a_file_is_refused(data_dir: Path, tmp_path: Path) -> None:
    big = _long_note(MAX_NOTE + 500)
    result = run("log", "add", "-", "--data-dir", str(data_dir), input=big)
    assert result.exit_code == 2 and "a log entry keeps at most 16,384" in result.stderr
    path = tmp_path / "big.txt"
    path.write_text("y" * 5_000_000, encoding="utf-8")  # far over: not read whole either
    result = run("log", "add", "--file", str(path), "--data-dir", str(data_dir))
    assert result.exit_code == 2 and "a log entry keeps at most 16,384" in result.stderr
    assert _texts(data_dir) == []


def test_escape_sequences_do_not_count_and_the_visible_note_is_kept_whole(data_dir: Path) -> None:
    # 15,000 visible characters coloured with 5,000 SGR sequences (pasted terminal output):
    # 37,500 raw characters.  The log used to cut the raw text before cleaning it.
    words = [f"w{i:04d}" for i in range(2_500)]
    raw = " ".join(f"\x1b[31m{w}\x1b[0m" for w in words)
    visible = " ".join(words)
    assert len(raw) > 2 * MAX_NOTE + 64 and len(visible) < MAX_NOTE
    result = run("log", "add", "-", "--data-dir", str(data_dir), input=raw)
    assert result.exit_code == 0, result.output
    assert _texts(data_dir) == [visible]


def test_a_long_handover_note_from_stdin_is_kept_whole_and_an_oversized_one_refused(data_dir: Path) -> None:
    note = _long_note(MAX_NOTE - 10).strip()
    result = run("handover", "start", "-", "--data-dir", str(data_dir), "--operator", "ann", input=note)
    assert result.exit_code == 0, result.output
    assert _texts(data_dir, "handover") == [note]
    result = run("handover", "start", "-", "--data-dir", str(data_dir), input=note * 2)
    assert result.exit_code == 2 and "16,384" in result.stderr
    assert len(_texts(data_dir, "handover")) == 1


@pytest.mark.parametrize(
    "args",
    [["log", "add", "text", "--file", "{f}"], ["log", "add"]],
    ids=["text-and-file", "neither"],
)
def test_text_and_file_together_or_neither_is_a_usage_error(data_dir: Path, tmp_path: Path, args: list[str]) -> None:
    f = tmp_path / "n.txt"
    f.write_text("note")
    result = run(*(a.format(f=f) for a in args), "--data-dir", str(data_dir))
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert _texts(data_dir) == []
