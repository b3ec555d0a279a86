"""HandoverLog's public write API: the kinds other modules write, and ``append_if``, the
check-and-set that scheduled posts and acknowledgements are built on.

The guarantee across real processes (of several racing writers exactly one wins) is
proved end to end by ``test_log_faults.py::test_acknowledge_is_a_check_and_set_across_processes``
and the race tests in ``test_schedule.py`` and ``test_due_cli.py``; here, what the API
promises: the check sees the log under the cross-process lock, says yes, no or adds data,
and nothing but ``log.py`` touches the log's internals.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fault_support import run_python

import watchtower
from watchtower.cli_log import log_group
from watchtower.core.coverage import rota
from watchtower.core.record.log import ALL_KINDS, KINDS, MODULE_KINDS, HandoverLog, LogEntry
from watchtower.core.respond import escalation, ownposts, schedule
from watchtower.core.triage import watchlist


def test_append_if_writes_only_when_the_check_holds(data_dir: Path) -> None:
    log = HandoverLog(data_dir)
    first = log.append("note", "one", operator="ann")
    log.append("claimed", operator="ann", item_id="i1")
    seen: list[list[tuple[str, str]]] = []

    def says(verdict: Any) -> Callable[[list[LogEntry]], Any]:
        def check(entries: list[LogEntry]) -> Any:
            seen.append([(e.kind, e.text) for e in entries])
            return verdict

        return check

    assert log.append_if(says(False), "note", "no", operator="bob") is None
    assert log.append_if(says(None), "note", "nor this", operator="bob") is None
    assert [e.text for e in log.entries()] == ["one", ""]
    # Only the kinds asked for, in the order of writing.
    assert seen == [[("note", "one"), ("claimed", "")]] * 2

    yes = log.append_if(says(True), "note", "yes", operator="bob", kinds=["note"], data={"a": 1})
    assert yes is not None and yes.data == {"a": 1}
    assert seen[-1] == [("note", "one")]

    # A mapping (even an empty one) writes, merged into data and cleaned like any data.
    found = log.append_if(says({"took": first.id, "why": "\x1b[31mred\x1b[0m"}), "note", "found",
                          operator="bob", data={"a": 1})
    assert found is not None and found.data == {"a": 1, "took": first.id, "why": "red"}
    assert log.append_if(says({}), "note", "empty", operator="bob") is not None
    stored = {e.text: e for e in HandoverLog(data_dir).entries()}
    assert stored["found"].data == found.data and stored["found"].seq == found.seq
    assert [e.text for e in log.entries()] == ["one", "", "yes", "found", "empty"]


def test_a_check_that_raises_writes_nothing_and_leaves_the_lock_free(data_dir: Path) -> None:
    log = HandoverLog(data_dir)
    log.append("note", "one", operator="ann")

    class Taken(Exception):
        pass

    def check(entries: list[LogEntry]) -> bool:
        raise Taken("cem got there first")

    with pytest.raises(Taken, match="cem got there first"):
        log.append_if(check, "note", "mine", operator="bob")
    assert [e.text for e in log.entries()] == ["one"]
    # The lock was released: another log object (as another process would) writes at once.
    HandoverLog(data_dir).append("note", "two", operator="cem")
    assert [e.text for e in log.entries()] == ["one", "two"]


PROBE = textwrap.dedent(
    """
    import sys
    from filelock import FileLock, Timeout
    try:
        FileLock(sys.argv[1], timeout=0).acquire()
    except Timeout:
        print("held")
    else:
        print("free")
    """
)


@pytest.mark.slow  # a probe process
def test_the_check_runs_while_the_cross_process_lock_is_held(data_dir: Path) -> None:
    log = HandoverLog(data_dir)
    lock = str(data_dir / "log.lock")
    during: list[str] = []

    def check(entries: list[LogEntry]) -> bool:
        during.append(run_python(PROBE, lock).stdout.strip())
        return True

    assert log.append_if(check, "note", "x", operator="ann") is not None
    assert during == ["held"]
    assert run_python(PROBE, lock).stdout.strip() == "free"


def test_the_kinds_other_modules_write_are_accepted_and_typos_still_refused(data_dir: Path) -> None:
    owned = {
        *schedule.SCHEDULE_KINDS, ownposts.DELETED, ownposts.CORRECTED, rota.OVERRIDE_KIND,
        *watchlist.WATCH_KINDS, escalation.ESCALATION_KIND,
    }
    assert owned <= ALL_KINDS and ALL_KINDS == KINDS | MODULE_KINDS
    log = HandoverLog(data_dir)
    for kind in sorted(owned):
        assert log.append(kind, operator="ann", data={"k": kind}).kind == kind
    assert sorted(e.kind for e in log.entries()) == sorted(owned)
    with pytest.raises(ValueError, match="unknown log entry kind 'schedule_sent'"):
        log.append("schedule_sent", operator="ann")
    with pytest.raises(ValueError, match="unknown log entry kind"):
        log.append_if(lambda entries: True, "shceduled", operator="ann")
    with pytest.raises(ValueError, match="acknowledge"):
        log.append_if(lambda entries: True, "acknowledged", operator="ann")
    assert len(log.entries()) == len(owned)
    # An operator still cannot hand-write a module's entry from the command line.
    r = CliRunner().invoke(log_group, ["add", "x", "--kind", "scheduled", "--data-dir", str(data_dir)])
    assert r.exit_code == 2 and "'scheduled' is not one of" in r.output


def test_append_keeps_an_id_chosen_beforehand_and_an_excerpt(data_dir: Path) -> None:
    log = HandoverLog(data_dir)
    got = log.append("scheduled", "post", operator="ann", entry_id="ab" * 16, excerpt="the \x07 headline",
                     platform="mastodon")
    again = HandoverLog(data_dir).entries()[0]
    assert got.id == again.id == "ab" * 16
    assert again.excerpt == got.excerpt == "the headline"
    assert again.platform == "mastodon" and again.item_id is None


def test_nothing_outside_the_log_module_touches_its_internals() -> None:
    src = Path(watchtower.__file__).parent
    pattern = re.compile(r"\b\w*log\._[a-z]\w*")
    found = [
        f"{path.relative_to(src)}:{n}: {line.strip()}"
        for path in sorted(src.rglob("*.py"))
        if path != src / "core" / "record" / "log.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == []
