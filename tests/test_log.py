"""The handover log in one process: files, modes, partitions, corruption, sanitising."""

from __future__ import annotations

import json
import os
import stat
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from filelock import FileLock

import watchtower.core.record.log as logmod
from watchtower.config import Config, WatchtowerError
from watchtower.core.models import Item
from watchtower.core.record.log import PART_SIZE, HandoverLog, LogEntry, StorageError, part_name
from watchtower.core.record.paths import resolve_data_dir, resolve_operator


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def tick(self, **kw: float) -> None:
        self.now += timedelta(**kw)


T0 = datetime(2026, 11, 3, 9, 0, tzinfo=timezone.utc)


def _item(text: str = "the library is on fire") -> Item:
    return Item.create(platform="Mastodon", source="m", native_id="42", author="@pat", text=text, published=T0)


def test_append_and_read_back(data_dir: Path) -> None:
    clock = Clock(T0)
    log = HandoverLog(data_dir, clock=clock)
    a = log.append("note", "hello", operator="ann")
    clock.tick(minutes=1)
    b = log.append("claimed", operator="bob", item=_item(), data={"why": "mine"})
    assert isinstance(a, LogEntry) and len(a.id) == 32
    again = HandoverLog(data_dir).entries()
    assert [e.id for e in again] == [a.id, b.id]
    assert again[1].item_id == "Mastodon:m:42" and again[1].platform == "Mastodon"
    assert again[1].excerpt == "the library is on fire"
    assert again[1].data == {"why": "mine"}
    assert again[1].ts == T0 + timedelta(minutes=1)
    assert again[0].os_user


def test_filters(data_dir: Path) -> None:
    clock = Clock(T0)
    log = HandoverLog(data_dir, clock=clock)
    log.append("note", "one", operator="ann")
    clock.tick(hours=1)
    log.append("claimed", operator="bob", item=_item())
    clock.tick(hours=1)
    log.append("note", "three", operator="bob")
    assert [e.text for e in log.entries(since=T0 + timedelta(minutes=30))] == ["", "three"]
    assert [e.text for e in log.entries(until=T0 + timedelta(hours=1))] == ["one"]
    assert [e.kind for e in log.entries(kinds=["claimed"])] == ["claimed"]
    assert [e.text for e in log.entries(operator="ann")] == ["one"]
    assert len(log.entries(item_id="Mastodon:m:42")) == 1
    assert len(log.entries(platform="Mastodon")) == 1


def test_unknown_kind_is_refused(data_dir: Path) -> None:
    with pytest.raises(ValueError):
        HandoverLog(data_dir).append("delete_everything", operator="ann")


def test_text_is_sanitised_before_storing(data_dir: Path) -> None:
    log = HandoverLog(data_dir)
    hostile = "pasted \x1b]52;c;ZXZpbA==\x07post \x1b[2J\u202eevil\u202c \ud800 end"
    log.append("note", hostile, operator="ann\x1b[31m", data={"author": "\x1b[1m@x", "n": [1, "\x9b2J"]})
    raw = b"".join(f.read_bytes() for f in data_dir.glob("log-*.json"))
    assert b"\x1b" not in raw and "\u202e".encode() not in raw and b"\\u001b" not in raw
    e = HandoverLog(data_dir).entries()[0]
    assert e.text == "pasted post evil \ufffd end"
    assert e.operator == "ann"
    assert e.data == {"author": "@x", "n": [1, ""]}


def test_files_are_0600_or_0660(tmp_path: Path) -> None:
    private = tmp_path / "private"
    HandoverLog(private).append("note", "x", operator="ann")
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    for f in private.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    shared = tmp_path / "shared"
    HandoverLog(shared, group_shared=True).append("note", "x", operator="ann")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o770
    for f in shared.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o660, f


def test_symlinked_data_dir_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(real)
    with pytest.raises(StorageError, match="symbolic link"):
        HandoverLog(link)
    with pytest.raises(StorageError, match="symbolic link"):
        resolve_data_dir(str(link), Config())


def test_symlinked_log_file_is_refused(data_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "victim.txt"
    target.write_text("precious")
    log = HandoverLog(data_dir)
    (data_dir / part_name(T0.year, T0.month, 0)).symlink_to(target)
    with pytest.raises(StorageError):
        HandoverLog(data_dir, clock=lambda: T0).append("note", "x", operator="ann")
    assert target.read_text() == "precious"
    del log


def test_world_writable_dir_is_refused(tmp_path: Path) -> None:
    d = tmp_path / "open"
    d.mkdir()
    os.chmod(d, 0o777)
    with pytest.raises(StorageError, match="world-writable"):
        HandoverLog(d)
    assert issubclass(StorageError, WatchtowerError)


def test_data_dir_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = Config.model_validate({"data": {"dir": str(tmp_path / "from-config")}})
    assert resolve_data_dir(str(tmp_path / "cli"), cfg) == tmp_path / "cli"
    monkeypatch.setenv("WATCHTOWER_DATA_DIR", str(tmp_path / "env"))
    assert resolve_data_dir(None, cfg) == tmp_path / "env"
    monkeypatch.delenv("WATCHTOWER_DATA_DIR")
    assert resolve_data_dir(None, cfg) == tmp_path / "from-config"
    default = resolve_data_dir(None, Config())
    assert default.name == "watchtower" and default.is_dir()
    assert stat.S_IMODE(default.stat().st_mode) == 0o700


def test_operator_resolution_order(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = Config.model_validate({"operator": "cfg-op"})
    assert resolve_operator("cli-op", cfg) == "cli-op"
    monkeypatch.setenv("WATCHTOWER_OPERATOR", "env-op")
    assert resolve_operator(None, cfg) == "env-op"
    monkeypatch.delenv("WATCHTOWER_OPERATOR")
    assert resolve_operator(None, cfg) == "cfg-op"
    assert resolve_operator(None, Config())  # the OS user


def test_partitions_by_month_and_size(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logmod, "PART_SIZE", 3)
    clock = Clock(datetime(2026, 10, 31, 23, 0, tzinfo=timezone.utc))
    log = HandoverLog(data_dir, clock=clock)
    for i in range(8):
        log.append("note", str(i), operator="ann")
        clock.tick(minutes=20)
    names = sorted(f.name for f in data_dir.glob("log-*.json"))
    assert names == [
        "log-2026-10.0000.json",
        "log-2026-11.0000.json",
        "log-2026-11.0001.json",
    ]
    assert [len(json.loads((data_dir / n).read_bytes())["_default"]) for n in names] == [3, 3, 2]
    assert [e.text for e in HandoverLog(data_dir).entries()] == [str(i) for i in range(8)]
    # A month filter skips whole files.
    since = datetime(2026, 11, 1, tzinfo=timezone.utc)
    assert [e.text for e in log.entries(since=since)] == [str(i) for i in range(3, 8)]


def test_time_never_runs_backwards_within_a_part(data_dir: Path) -> None:
    clock = Clock(T0)
    log = HandoverLog(data_dir, clock=clock)
    log.append("note", "first", operator="ann")
    clock.tick(seconds=-30)  # the system clock stepped back (NTP)
    log.append("note", "second", operator="ann")
    assert [e.text for e in log.entries()] == ["first", "second"]


def test_version_changes_only_when_someone_writes(data_dir: Path) -> None:
    log = HandoverLog(data_dir)
    other = HandoverLog(data_dir)
    v0 = log.version()
    assert log.version() == v0
    other.append("note", "from another operator", operator="bob")
    v1 = log.version()
    assert v1 != v0
    assert [e.text for e in log.entries()] == ["from another operator"]
    assert log.version() == v1


def test_stale_temp_files_are_removed_at_start(data_dir: Path) -> None:
    HandoverLog(data_dir).append("note", "x", operator="ann")
    stale = data_dir / "log-2026-11.0000.json.tmp.99999.deadbeef"
    stale.write_text('{"_default": {"1": {')
    log = HandoverLog(data_dir)
    assert not stale.exists()
    assert log.problems == []
    assert len(log.entries()) == 1


@pytest.mark.parametrize(
    "garbage",
    [b'{"_default": {"1": {"id": "a", "te', b"\x00\x00\x00\x00", b"[1, 2, 3]", b"", b"\xff\xfe{}"],
)
def test_corrupt_file_is_moved_aside_and_reported(data_dir: Path, garbage: bytes) -> None:
    clock = Clock(T0)
    log = HandoverLog(data_dir, clock=clock)
    log.append("note", "good, earlier month", operator="ann")
    clock.tick(days=31)
    log.append("note", "in the file that will break", operator="ann")
    broken = data_dir / part_name(2026, 12, 0)
    assert broken.exists()
    broken.write_bytes(garbage)

    again = HandoverLog(data_dir, clock=clock)
    assert len(again.problems) == 1
    msg = again.problems[0]
    assert broken.name in msg and "moved aside" in msg and "corrupt-" in msg
    aside = list(data_dir.glob(broken.name + ".corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == garbage  # original bytes kept
    assert not broken.exists()
    assert [e.text for e in again.entries()] == ["good, earlier month"]
    # Writing goes on, and never into the bad file.
    again.append("note", "after", operator="ann")
    assert aside[0].read_bytes() == garbage
    assert [e.text for e in HandoverLog(data_dir).entries()] == ["good, earlier month", "after"]


def test_corrupt_file_found_later_is_also_moved_aside(data_dir: Path) -> None:
    log = HandoverLog(data_dir, clock=lambda: T0)
    log.append("note", "x", operator="ann")
    part = data_dir / part_name(2026, 11, 0)
    part.write_bytes(b"{not json")  # another tool wrote garbage while we run
    assert log.entries() == []
    assert len(log.problems) == 1 and "moved aside" in log.problems[0]
    assert list(data_dir.glob("*.corrupt-*"))[0].read_bytes() == b"{not json"


def test_lock_held_too_long_is_a_visible_error(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = HandoverLog(data_dir)
    log.append("note", "before", operator="ann")
    monkeypatch.setattr(logmod, "LOCK_TIMEOUT", 0.05)
    holder = FileLock(str(data_dir / "log.lock"), thread_local=False)
    with holder:
        # flock locks belong to the open file, so this process's other handle must wait.
        with pytest.raises(StorageError, match="locked by another process"):
            log.append("note", "while locked", operator="ann")
    assert [e.text for e in log.entries()] == ["before"]


def test_threads_share_one_log(data_dir: Path) -> None:
    log = HandoverLog(data_dir)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(50):
                log.append("note", f"{n}-{i}", operator=f"t{n}")
                log.entries()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(HandoverLog(data_dir).entries()) == 200


def test_part_file_is_plain_tinydb(data_dir: Path) -> None:
    """Files stay readable by stock TinyDB (for people who open them by hand)."""
    from tinydb import TinyDB

    HandoverLog(data_dir, clock=lambda: T0).append("note", "hi", operator="ann")
    path = data_dir / part_name(2026, 11, 0)
    db = TinyDB(path, access_mode="r")
    assert db.all()[0]["text"] == "hi"
    db.close()
    assert json.loads(path.read_bytes())["_default"]["1"]["kind"] == "note"
    assert PART_SIZE >= 500
