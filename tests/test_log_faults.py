"""The handover log under faults (issue 15): clocks that jump, lock contention on a big
log, racing acknowledgements, wrongly shaped files, a read-only data directory, and the
error log's mode after rotation.

Races use real processes released together by a "go" line on stdin; waits poll a
condition (``tests/waiting.py``), never sleep.  Faults are real: see ``fault_support``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from fault_support import read_only, run_python
from filelock import FileLock
from waiting import DEADLINE

import watchtower.core.record.log as logmod
from watchtower.cli_log import handover_group, log_group
from watchtower.core.record.decisions import item_states, last_handover
from watchtower.core.record.log import PART_SIZE, HandoverLog, StorageError, part_name
from watchtower.core.report.handover import summarise, to_markdown

AMS = ZoneInfo("Europe/Amsterdam")
T0 = datetime(2026, 11, 3, 9, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def run(group, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(group, list(args))


def _start(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", code, *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _run_together(procs: list[subprocess.Popen[str]]) -> list[tuple[str, str]]:
    """Wait until each process says "ready", release all at once, return (stdout, stderr)s."""
    for p in procs:
        assert p.stdout is not None
        line = p.stdout.readline()
        assert line.strip() == "ready", (p.stderr.read() if p.stderr else "") + line
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=DEADLINE * 3)
        assert p.returncode == 0, err
        outs.append((out, err))
    return outs


# -- 5. clock jumps ---------------------------------------------------------------------


def test_a_clock_set_back_hides_no_notes(data_dir: Path) -> None:
    """The box's clock ran two days fast; the admin corrected it.  Nothing written after
    the correction may vanish from the handover (it took the fast time and was in the future)."""
    clock = Clock(T0 + timedelta(days=2))
    log = HandoverLog(data_dir, clock=clock)
    log.append("note", "written while the clock ran fast", operator="ann")
    log.append("handover", "over to bob", operator="ann")
    clock.now = T0 + timedelta(minutes=5)  # corrected
    log.append("acknowledged", operator="bob")
    clock.now = T0 + timedelta(minutes=10)
    log.append("note", "bob: the first note after the correction", operator="bob")

    now = T0 + timedelta(hours=1)
    entries = HandoverLog(data_dir, clock=lambda: now).entries()
    assert [e.text for e in entries] == [
        "written while the clock ran fast", "over to bob", "", "bob: the first note after the correction",
    ]
    bobs = entries[-1]
    assert bobs.ts == T0 + timedelta(minutes=10)  # stored as the clock said, not pushed two days on
    assert [e.seq for e in entries] == [1, 2, 3, 4]

    s = summarise(entries, [], now=now, tz=AMS)
    assert s.acknowledged is not None and s.acknowledged.operator == "bob"
    assert [n.text for n in s.notes] == ["bob: the first note after the correction"]
    # The two entries stamped two days ahead are flagged, the rest are not.
    assert ["in the future" in e.clock_jump for e in entries] == [True, True, False, False]
    md = to_markdown(s)
    assert "## Clock warnings (1)" in md  # the handover; the earlier note is not in this shift
    assert "bob: the first note after the correction" in md


def test_one_far_future_entry_hides_nothing_after_it(data_dir: Path) -> None:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    clock = Clock(now - timedelta(hours=2))
    log = HandoverLog(data_dir, clock=clock)
    log.append("note", "before", operator="ann")
    log.append("note", "edited by hand", operator="ann")
    part = next(data_dir.glob("log-*.json"))
    doc = json.loads(part.read_bytes())
    doc["_default"]["2"]["ts"] = "2099-01-01T00:00:00+00:00"
    part.write_text(json.dumps(doc))
    clock.now = now - timedelta(hours=1)
    log.append("note", "after one", operator="bob")
    clock.now = now - timedelta(minutes=30)
    log.append("note", "after two", operator="bob")

    entries = HandoverLog(data_dir).entries()
    assert [e.text for e in entries] == ["before", "edited by hand", "after one", "after two"]
    assert [e.ts for e in entries[2:]] == [now - timedelta(hours=1), now - timedelta(minutes=30)]
    assert ["in the future" in e.clock_jump for e in entries] == [False, True, False, False]
    # Written inside the shift, so shown whatever its stamp (and flagged), and so is all after it.
    s = summarise(entries, [], now=now, tz=AMS)
    assert [n.text for n in s.notes] == ["before", "edited by hand", "after one", "after two"]
    assert [a.text for a in s.clock_jumps] == ["edited by hand"]
    assert "(clock warning: this time cannot be right)" in to_markdown(s)

    d = str(data_dir)
    r = run(log_group, "list", "--data-dir", d)
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert [line.split()[-1] for line in lines if "[clock" not in line] == ["before", "one", "two"]
    assert len(lines) == 4 and "edited by hand  [clock warning: stamped" in lines[1]
    r = run(log_group, "list", "--json", "--data-dir", d)
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [row.get("clock_jump", "")[:7] for row in rows] == ["", "stamped", "", ""]
    r = run(handover_group, "show", "--data-dir", d)
    assert r.exit_code == 0 and "after one" in r.stdout and "after two" in r.stdout


def test_a_clock_set_back_within_a_shift_flags_the_entry_and_keeps_the_order(data_dir: Path) -> None:
    clock = Clock(T0)
    log = HandoverLog(data_dir, clock=clock)
    log.append("claimed", operator="ann", item_id="Mastodon:m:1", platform="Mastodon")
    clock.now = T0 - timedelta(hours=3)  # stepped back three hours
    log.append("unclaimed", operator="ann", item_id="Mastodon:m:1", platform="Mastodon")
    log.append("note", "written after the step", operator="ann")
    entries = HandoverLog(data_dir, clock=lambda: T0 + timedelta(minutes=5)).entries()  # read once corrected
    assert [e.kind for e in entries] == ["claimed", "unclaimed", "note"]
    assert entries[1].clock_jump.startswith("clock went back 3 h 00 min")
    assert entries[2].clock_jump.startswith("clock went back")
    # Last writer wins in the order written, whatever the stamps say.
    assert item_states(entries)["Mastodon:m:1"].claimed_by is None
    # A window from before the step still holds the note, though it is stamped earlier.
    s = summarise(entries, [], since=T0 - timedelta(minutes=30), now=T0 + timedelta(minutes=5), tz=AMS)
    assert [n.text for n in s.notes] == ["written after the step"]


def test_entries_written_before_there_was_a_seq_keep_their_order(data_dir: Path) -> None:
    legacy = {str(i + 1): {"id": f"old{i}", "kind": "note", "operator": "ann", "os_user": "ann",
                           "ts": (T0 + timedelta(minutes=i)).isoformat(), "text": f"old {i}",
                           "item_id": None, "platform": None, "excerpt": "", "data": {}} for i in range(3)}
    (data_dir / part_name(2026, 11, 0)).write_text(json.dumps({"_default": legacy}))
    log = HandoverLog(data_dir, clock=lambda: T0 + timedelta(hours=1))
    log.append("note", "new", operator="bob")
    entries = log.entries()
    assert [(e.text, e.seq) for e in entries] == [("old 0", 0), ("old 1", 0), ("old 2", 0), ("new", 1)]


def test_the_newest_part_takes_every_append_whatever_month_the_clock_says(data_dir: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logmod, "PART_SIZE", 2)
    clock = Clock(datetime(2026, 12, 1, 0, 5, tzinfo=timezone.utc))
    log = HandoverLog(data_dir, clock=clock)
    log.append("note", "december", operator="ann")
    clock.now = datetime(2026, 11, 30, 23, 59, tzinfo=timezone.utc)  # set back into November
    log.append("note", "stamped november", operator="ann")
    log.append("note", "next part, still december's name", operator="ann")
    assert sorted(p.name for p in data_dir.glob("log-*.json")) == [part_name(2026, 12, 0), part_name(2026, 12, 1)]
    since = datetime(2026, 11, 30, tzinfo=timezone.utc)
    assert [e.text for e in log.entries(since=since)] == [
        "december", "stamped november", "next part, still december's name",
    ]


# -- 6. lock contention -----------------------------------------------------------------

LIST = textwrap.dedent(
    """
    import sys
    from watchtower.cli_log import handover_group, log_group
    group = {"log": log_group, "handover": handover_group}[sys.argv[1]]
    group.main(sys.argv[2:], prog_name="watchtower " + sys.argv[1])
    """
)


@pytest.mark.slow
def test_reading_never_waits_for_the_lock(data_dir: Path) -> None:
    log = HandoverLog(data_dir)
    for i in range(3):
        log.append("note", f"note {i}", operator="ann")
    holder = FileLock(str(data_dir / "log.lock"), thread_local=False)
    with holder:  # another process is writing, for as long as it likes
        for args in (["log", "list"], ["handover", "show"], ["handover", "export", "--format", "json"]):
            out = run_python(LIST, *args, "--data-dir", str(data_dir))
            assert out.returncode == 0, (args, out.stderr)
            assert "locked" not in out.stderr
        assert "note 2" in run_python(LIST, "log", "list", "--data-dir", str(data_dir)).stdout


def test_an_append_reads_only_the_newest_part(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logmod, "PART_SIZE", 5)
    log = HandoverLog(data_dir, clock=lambda: T0)
    for i in range(23):
        log.append("note", f"n{i}", operator="ann")
    parts = sorted(p.name for p in data_dir.glob("log-*.json"))
    assert len(parts) == 5
    read: list[str] = []
    real = logmod._read_bytes
    monkeypatch.setattr(logmod, "_read_bytes", lambda path: read.append(Path(path).name) or real(path))
    r = run(log_group, "add", "one more", "--data-dir", str(data_dir))  # what `watchtower log add` does
    assert r.exit_code == 0, r.output
    assert set(read) == {parts[-1]}


# Appends through the CLI's own code, as `watchtower log add` does, once per "call".
CLI_WRITER = textwrap.dedent(
    """
    import sys
    from watchtower.cli_log import log_group
    data_dir, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(n):
        try:
            log_group.main(["add", f"{name} {i}", "--operator", name, "--data-dir", data_dir],
                           prog_name="watchtower log", standalone_mode=False)
        except SystemExit as exc:
            print("refused", exc.code, flush=True)
    """
)


def _big_log(data_dir: Path, entries: int) -> None:
    """``entries`` entries in full parts, written directly (as a year of use would leave them)."""
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    seq = 0
    for index in range(entries // PART_SIZE):
        docs = {}
        for k in range(PART_SIZE):
            seq += 1
            docs[str(k + 1)] = {
                "id": f"{seq:032x}", "seq": seq, "kind": "note", "operator": "old", "os_user": "old",
                "ts": (base + timedelta(seconds=seq)).isoformat(), "text": f"old note {seq} " + "z" * 120,
                "item_id": None, "platform": None, "excerpt": "", "data": {},
            }
        (data_dir / part_name(2026, 1, index)).write_text(json.dumps({"_default": docs}), encoding="utf-8")


@pytest.mark.slow
def test_eight_writers_on_a_100k_entry_log_are_never_refused(data_dir: Path) -> None:
    _big_log(data_dir, 100_000)
    writers, each = 8, 15
    procs = [_start(CLI_WRITER, str(data_dir), f"w{n}", str(each)) for n in range(writers)]
    outs = _run_together(procs)
    refused = [line for out, _ in outs for line in out.splitlines() if line.startswith("refused")]
    assert refused == [], (refused, [err for _, err in outs if err][:2])
    ids = [line for out, _ in outs for line in out.splitlines() if len(line) == 32]
    assert len(ids) == writers * each
    log = HandoverLog(data_dir, scan=False)
    new = [e for e in log.entries(since=datetime(2026, 2, 1, tzinfo=timezone.utc))]
    assert {e.id for e in new} == set(ids)
    seqs = [e.seq for e in new]
    assert sorted(seqs) == list(range(100_001, 100_001 + writers * each))  # one order, no gaps, no twins


# -- 7. racing acknowledgements ----------------------------------------------------------

CLI_ACK = textwrap.dedent(
    """
    import sys
    from watchtower.cli_log import handover_group
    data_dir, name = sys.argv[1], sys.argv[2]
    print("ready", flush=True)
    sys.stdin.readline()
    handover_group.main(["ack", "--operator", name, "--data-dir", data_dir], prog_name="watchtower handover",
                        standalone_mode=False)
    """
)


@pytest.mark.slow
def test_of_six_concurrent_acks_exactly_one_wins_and_the_rest_are_told_who(data_dir: Path) -> None:
    _big_log(data_dir, 10_000)  # a few months of log: reading it takes a moment, as in real use
    for round_ in range(3):  # each round is a fresh handover and a fresh race
        HandoverLog(data_dir).append("handover", f"round {round_}", operator=f"ann{round_}")
        names = [f"op{round_}{n}" for n in range(6)]
        outs = _run_together([_start(CLI_ACK, str(data_dir), name) for name in names])
        winners = [name for name, (out, _) in zip(names, outs) if f"acknowledged the handover by ann{round_}" in out]
        assert len(winners) == 1, (round_, outs)
        acks = [a for a in HandoverLog(data_dir).entries(kinds=["acknowledged"]) if a.operator in names]
        assert [a.operator for a in acks] == winners
        at = acks[0].ts.astimezone(timezone.utc).strftime("%H:%M")
        for name, (out, err) in zip(names, outs):
            if name != winners[0]:
                assert out == "" and f"already acknowledged by {winners[0]} at {at}" in err, (name, out, err)


CORE_ACK = textwrap.dedent(
    """
    import sys
    from watchtower.core.record.log import AckRefused, HandoverLog
    log = HandoverLog(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        got = log.acknowledge(sys.argv[2])
        print("won", got.handover.operator, got.entry.id)
    except AckRefused as exc:
        print("lost", exc.ack.operator, exc.ack.ts.isoformat())
    """
)


@pytest.mark.slow
def test_acknowledge_is_a_check_and_set_across_processes(data_dir: Path) -> None:
    HandoverLog(data_dir).append("handover", operator="ann")
    outs = [out.split() for out, _ in _run_together([_start(CORE_ACK, str(data_dir), f"op{n}") for n in range(6)])]
    won = [o for o in outs if o[0] == "won"]
    assert len(won) == 1
    ack = HandoverLog(data_dir).entries(kinds=["acknowledged"])
    assert len(ack) == 1 and ack[0].id == won[0][2]
    assert all(o == ["lost", ack[0].operator, ack[0].ts.isoformat()] for o in outs if o[0] == "lost")


def test_an_ack_of_a_handover_that_is_no_longer_the_last_is_refused(data_dir: Path) -> None:
    from watchtower.core.record.log import AckRefused

    log = HandoverLog(data_dir)
    first = log.append("handover", "first", operator="ann")
    log.append("handover", "second, with more news", operator="cem")
    # The TUI acknowledges what it showed; by now a newer handover exists.
    with pytest.raises(AckRefused, match="newer handover was made by cem"):
        log.append("acknowledged", operator="bob", data={"handover_id": first.id})
    got = log.acknowledge("bob")
    assert got.handover.text == "second, with more news" and got.entry.data["handover"] == got.handover.id
    with pytest.raises(AckRefused, match="already acknowledged by bob") as caught:
        log.acknowledge("dan")
    assert caught.value.ack is not None and caught.value.ack.operator == "bob"
    h, ack = last_handover(log.entries())
    assert h is not None and ack is not None and ack.operator == "bob"


# -- 8. valid JSON of the wrong shape ----------------------------------------------------

SHAPES = {
    "a list": b"[]",
    "a table that is a list": b'{"_default": []}',
    "a document that is a string": b'{"_default": {"1": "x"}}',
    "a document that is null": b'{"_default": {"1": null}}',
    "a document id that is a word": b'{"_default": {"a": {"kind": "note"}}}',
    "a document id that is a superscript digit": '{"_default": {"²": {"kind": "note"}}}'.encode(),
    "nesting too deep to parse": b"[" * 100_000 + b"]" * 100_000,
    "nesting too deep inside a document": b'{"_default": {"1": {"id": ' + b"[" * 50_000 + b"]" * 50_000 + b"}}}",
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_valid_json_of_the_wrong_shape_is_moved_aside_with_one_line(data_dir: Path, shape: str) -> None:
    log = HandoverLog(data_dir, clock=lambda: T0)
    log.append("note", "earlier month", operator="ann")
    bad = data_dir / part_name(2026, 12, 0)
    bad.write_bytes(SHAPES[shape])

    d = str(data_dir)
    r = run(log_group, "add", "after", "--operator", "ann", "--data-dir", d)
    assert r.exit_code == 0, (r.output, r.exception)
    assert r.exception is None
    warnings = [line for line in r.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and bad.name in warnings[0] and "moved aside" in warnings[0], r.stderr
    aside = list(data_dir.glob(bad.name + ".corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == SHAPES[shape]
    for group, args in ((log_group, ["list"]), (handover_group, ["show"])):
        r = run(group, *args, "--data-dir", d)
        assert r.exit_code == 0 and r.exception is None, (args, r.output)
    texts = [e.text for e in HandoverLog(data_dir).entries()]
    assert texts == ["earlier month", "after"]


def test_a_wrongly_shaped_file_found_while_running_is_moved_aside_too(data_dir: Path) -> None:
    log = HandoverLog(data_dir, clock=lambda: T0)
    log.append("note", "x", operator="ann")
    part = data_dir / part_name(2026, 11, 0)
    part.write_bytes(b'{"_default": {"1": "x"}}')  # another tool wrote it while we run
    assert log.entries() == []
    log.append("note", "y", operator="ann")
    assert [e.text for e in log.entries()] == ["y"]
    assert len(log.problems) == 1 and "\n" not in log.problems[0] and "is a string" in log.problems[0]


# -- 9. a read-only data directory -------------------------------------------------------


def _seed(data_dir: Path, now: datetime | None = None) -> None:
    now = now or datetime.now(timezone.utc)
    log = HandoverLog(data_dir, clock=lambda: now - timedelta(hours=2))
    log.append("note", "seen on the read-only box", operator="ann")
    log.append("handover", "over to bob", operator="ann")


@pytest.mark.slow  # a read-only bind mount
def test_a_read_only_data_dir_still_reads_and_says_writes_are_off(data_dir: Path) -> None:
    _seed(data_dir)
    before = sorted((p.name, p.read_bytes()) for p in data_dir.iterdir())
    d = str(data_dir)
    with read_only(data_dir):
        for group, args, want in (
            (log_group, ["list"], "seen on the read-only box"),
            (handover_group, ["show"], "seen on the read-only box"),
            (handover_group, ["export", "--format", "json"], "over to bob"),
        ):
            r = run(group, *args, "--data-dir", d)
            assert r.exit_code == 0, (args, r.output, r.exception)
            assert want in r.stdout
            assert "writes are off" in r.stderr and "read-only" in r.stderr
        for group, args in ((log_group, ["add", "x"]), (handover_group, ["start", "x"]), (handover_group, ["ack"])):
            r = run(group, *args, "--data-dir", d)
            assert r.exit_code == 2 and r.exception is not None and isinstance(r.exception, SystemExit), args
            errors = [line for line in r.stderr.splitlines() if "warning" not in line]
            assert len(errors) == 1 and "writes are off" in errors[0] and "nothing was recorded" in errors[0]
        log = HandoverLog(data_dir)
        assert log.read_only and len(log.entries()) == 2
        with pytest.raises(StorageError, match="writes are off"):
            log.append("note", "nope", operator="bob")
    assert sorted((p.name, p.read_bytes()) for p in data_dir.iterdir()) == before


@pytest.mark.slow  # a read-only bind mount
async def test_the_tui_opens_a_read_only_data_dir_and_says_writes_are_off(data_dir: Path) -> None:
    from ui_support import NOW, make_app, wait_for

    _seed(data_dir, NOW)
    with read_only(data_dir):
        app = make_app(data_dir.parent, data_dir=data_dir)
        problems: list[str] = []
        app.report_problem = problems.append  # type: ignore[method-assign]
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: app.monitor is not None, what="the stores to open")
            assert app.handover_log is not None and app.handover_log.read_only
            assert {e.text for e in app.log_entries} >= {"seen on the read-only box", "over to bob"}
            assert any("writes are off" in p for p in problems), problems
            app.record("note", "will not be kept")
            await wait_for(pilot, lambda: any("Could not record 'note'" in p for p in problems),
                           what="the refused write to be reported", seen=lambda: problems)
            assert any("writes are off" in p for p in problems if "Could not record" in p)
