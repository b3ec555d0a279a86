"""The sqlite item archive: dedupe (across restarts and processes), seen flags, retention."""

from __future__ import annotations

import stat
import subprocess
import sys
import textwrap
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from watchtower.core.models import Item, Severity
from watchtower.core.record.archive import ARCHIVE_NAME, Archive
from watchtower.core.record.paths import StorageError

T0 = datetime(2026, 11, 3, 9, 0, tzinfo=timezone.utc)


def mk(i: int, platform: str = "Mastodon") -> Item:
    return Item.create(
        platform=platform, source="m", native_id=f"n{i}", author=f"@a{i}", text=f"post {i}",
        published=T0 + timedelta(minutes=i),
    )


def test_add_returns_only_new_items_and_survives_a_restart(data_dir: Path) -> None:
    a = Archive(data_dir)
    first = a.add([mk(1), mk(2), mk(2)])
    assert [i.id for i in first] == ["Mastodon:m:n1", "Mastodon:m:n2"]
    assert a.add([mk(1), mk(2)]) == []
    a.close()
    b = Archive(data_dir)  # the restart
    assert [i.id for i in b.add([mk(2), mk(3)])] == ["Mastodon:m:n3"]
    assert b.count() == 3
    assert b.known(["Mastodon:m:n1", "Mastodon:m:n9"]) == {"Mastodon:m:n1"}
    b.close()


def test_items_round_trip(data_dir: Path) -> None:
    a = Archive(data_dir)
    item = mk(5)
    item.severity = Severity.HIGH
    item.reasons = ["keyword: hacked"]
    item.coverage.covered = False
    a.add([item])
    got = a.get(item.id)
    assert got is not None and got.to_json() == item.to_json()
    assert a.get("nope") is None


def test_update_recent_and_seen(data_dir: Path) -> None:
    a = Archive(data_dir)
    a.add([mk(i) for i in range(5)] + [mk(10, "Bluesky")])
    assert [i.id for i in a.recent(limit=3)] == ["Bluesky:m:n10", "Mastodon:m:n4", "Mastodon:m:n3"]
    assert [i.id for i in a.recent("Mastodon", limit=2)] == ["Mastodon:m:n4", "Mastodon:m:n3"]
    changed = mk(3)
    changed.severity = Severity.CRITICAL
    assert a.update([changed]) == 1
    assert a.get(changed.id).severity is Severity.CRITICAL  # type: ignore[union-attr]
    a.mark_seen(["Mastodon:m:n1", "Mastodon:m:n2", "unknown"])
    assert a.seen_ids() == {"Mastodon:m:n1", "Mastodon:m:n2"}
    a.close()
    assert Archive(data_dir).seen_ids() == {"Mastodon:m:n1", "Mastodon:m:n2"}


def test_retention_prunes_items_not_seen_in_the_window(data_dir: Path) -> None:
    now = [T0.timestamp()]
    a = Archive(data_dir, retention_days=7, clock=lambda: now[0])
    a.add([mk(1), mk(2)])
    now[0] += 5 * 86400
    a.add([mk(2)])  # still in the feed: its clock restarts
    now[0] += 3 * 86400
    assert a.prune() == 1
    assert a.known(["Mastodon:m:n1", "Mastodon:m:n2"]) == {"Mastodon:m:n2"}
    a.close()


def test_file_modes_and_symlink_refusal(tmp_path: Path) -> None:
    d = tmp_path / "d"
    Archive(d).add([mk(1)])
    for f in d.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    shared = tmp_path / "shared"
    a = Archive(shared, group_shared=True)
    a.add([mk(1)])
    assert stat.S_IMODE((shared / ARCHIVE_NAME).stat().st_mode) == 0o660
    a.close()

    evil = tmp_path / "evil"
    evil.mkdir(mode=0o700)
    (evil / ARCHIVE_NAME).symlink_to(tmp_path / "elsewhere.db")
    with pytest.raises(StorageError, match="symbolic link"):
        Archive(evil)
    assert not (tmp_path / "elsewhere.db").exists()


def test_corrupt_archive_is_moved_aside(data_dir: Path) -> None:
    garbage = b"this is not a database, it is a feed someone saved here" * 100
    (data_dir / ARCHIVE_NAME).write_bytes(garbage)
    a = Archive(data_dir)
    assert len(a.problems) == 1 and "moved aside" in a.problems[0]
    aside = list(data_dir.glob(ARCHIVE_NAME + ".corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == garbage
    assert [i.id for i in a.add([mk(1)])] == ["Mastodon:m:n1"]


def test_threads(data_dir: Path) -> None:
    a = Archive(data_dir)
    new: list[list[Item]] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        got = a.add([mk(i) for i in range(n, n + 100)])
        a.recent(limit=50)
        with lock:
            new.append(got)

    threads = [threading.Thread(target=work, args=(k * 50,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [i.id for batch in new for i in batch]
    assert len(ids) == len(set(ids)) == 250  # each item is new exactly once
    assert a.count() == 250


ADDER = textwrap.dedent(
    """
    import sys
    from datetime import datetime, timezone
    from watchtower.core.record.archive import Archive
    from watchtower.core.models import Item
    a = Archive(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.readline()
    t = datetime(2026, 11, 3, tzinfo=timezone.utc)
    new = 0
    for start in range(0, 1000, 50):
        batch = [Item.create(platform="M", source="m", native_id=f"n{i}", author="a", text="t", published=t)
                 for i in range(start, start + 50)]
        new += len(a.add(batch))
    print(new, flush=True)
    """
)


@pytest.mark.slow
def test_two_processes_polling_the_same_feed_report_each_item_once(data_dir: Path) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", ADDER, str(data_dir)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"  # type: ignore[union-attr]
    for p in procs:
        p.stdin.write("go\n")  # type: ignore[union-attr]
        p.stdin.flush()  # type: ignore[union-attr]
    counts = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        counts.append(int(out.strip()))
    assert sum(counts) == 1000
    assert Archive(data_dir).count() == 1000
