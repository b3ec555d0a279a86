"""The item archive under real faults: a full disk, a file size limit, read-only files and
mounts, a damaged file, one unreadable row (issue 15, points 3, 8 and 9).

Only a damaged file (failed integrity check, unreadable header) is moved aside; a healthy
archive that cannot be written is left exactly as it is, read, and the reason is said in
plain words ("disk full").  See ``tests/fault_support.py`` for how the faults are made.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from fault_support import fill_disk, is_root, read_only, run_python, small_tmpfs

from watchtower.cli_log import handover_group
from watchtower.core.models import Item
from watchtower.core.record.archive import ARCHIVE_NAME, Archive
from watchtower.core.record.paths import StorageError

NOW = datetime.now(timezone.utc)


def mk(n: int, text: str = "") -> Item:
    return Item.create(platform="Mastodon", source="m", native_id=f"n{n}", author="@pat",
                       text=text or f"item {n} " + "x" * 300, published=NOW - timedelta(minutes=n % 600))


def make_archive(data: Path, n: int = 200) -> str:
    """A healthy, cleanly closed archive of ``n`` items; returns the file's digest."""
    data.mkdir(mode=0o700, exist_ok=True)
    with Archive(data, retention_days=3650) as a:
        a.add([mk(i) for i in range(n)])
    return digest(data / ARCHIVE_NAME)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def moved_aside(data: Path) -> list[str]:
    return sorted(p.name for p in data.glob("*.corrupt-*"))


def open_or_error(data: Path) -> tuple[Archive | None, list[str]]:
    try:
        a = Archive(data, retention_days=3650)
    except StorageError as exc:
        return None, [str(exc)]
    return a, list(a.problems)


# -- a full disk and a file size limit (point 3) ----------------------------------------


@pytest.mark.slow  # mounts a tmpfs
def test_a_full_disk_at_open_leaves_a_healthy_archive_alone(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "disk", size_kb=1024) as disk:
        data = disk / "data"
        before = make_archive(data)
        filler = fill_disk(disk)

        a, messages = open_or_error(data)
        assert moved_aside(data) == [], messages  # the bug: a full disk counted as corruption
        assert digest(data / ARCHIVE_NAME) == before
        assert len(messages) == 1 and "disk full" in messages[0], messages
        assert "rollback" not in messages[0] and "unreadable" not in messages[0]
        # It still reads: the handover summary and the TUI see every item.
        assert a is not None and a.read_only and a.count() == 200
        a.close()

        filler.unlink()  # space freed: the same archive, whole, writable again
        with Archive(data, retention_days=3650) as again:
            assert again.problems == [] and not again.read_only
            assert again.count() == 200
            assert [i.id for i in again.add([mk(1000)])] == [mk(1000).id]


@pytest.mark.slow  # mounts a tmpfs
def test_a_full_disk_while_saving_says_disk_full_not_cannot_rollback(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "disk", size_kb=1024) as disk:
        data = disk / "data"
        make_archive(data, n=50)
        with Archive(data, retention_days=3650) as a:
            filler = fill_disk(disk)
            with pytest.raises(StorageError) as caught:
                a.add([mk(i, "y" * 2000) for i in range(100, 1100)])
            assert "disk full" in str(caught.value) and "rollback" not in str(caught.value), caught.value
            assert a.count() == 50  # the failed round left the earlier items as they were
            filler.unlink()
            assert len(a.add([mk(i) for i in range(100, 110)])) == 10


FSIZE_OPEN = textwrap.dedent(
    """
    import json, resource, signal, sys
    from watchtower.core.record.archive import Archive
    from watchtower.core.record.paths import StorageError
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1000, resource.RLIM_INFINITY))
    try:
        a = Archive(sys.argv[1], retention_days=3650)
    except StorageError as exc:
        print(json.dumps({"error": str(exc)}))
    else:
        print(json.dumps({"problems": a.problems, "count": a.count(), "read_only": a.read_only}))
    """
)


@pytest.mark.slow
def test_a_file_size_limit_at_open_leaves_a_healthy_archive_alone(data_dir: Path) -> None:
    before = make_archive(data_dir)
    out = run_python(FSIZE_OPEN, str(data_dir))
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert moved_aside(data_dir) == [], result
    assert digest(data_dir / ARCHIVE_NAME) == before
    assert result.get("count") == 200 and result["read_only"], result
    assert len(result["problems"]) == 1 and "file size limit" in result["problems"][0], result
    with Archive(data_dir, retention_days=3650) as again:
        assert again.problems == [] and again.count() == 200


# -- read-only files, directories and mounts (points 3 and 9) --------------------------

READ_ONLY_OPEN = textwrap.dedent(
    """
    import json, sys
    from watchtower.core.record.archive import Archive
    from watchtower.core.record.paths import StorageError
    try:
        a = Archive(sys.argv[1], retention_days=3650)
    except StorageError as exc:
        print(json.dumps({"error": str(exc)}))
    else:
        print(json.dumps({"problems": a.problems, "count": a.count(), "read_only": a.read_only}))
    """
)


def _crashed_archive(data: Path) -> None:
    """An archive whose process died (kill -9) with its -wal and -shm files still there."""
    data.mkdir(mode=0o700, exist_ok=True)
    code = textwrap.dedent(
        """
        import os, sys
        from datetime import datetime, timezone
        from watchtower.core.record.archive import Archive
        from watchtower.core.models import Item
        a = Archive(sys.argv[1], retention_days=3650)
        a.add([Item.create(platform="Mastodon", source="m", native_id=f"n{i}", author="@pat", text=f"item {i}",
                           published=datetime.now(timezone.utc)) for i in range(200)])
        os._exit(0)
        """
    )
    out = run_python(code, str(data))
    assert out.returncode == 0, out.stderr


@pytest.mark.slow
@pytest.mark.parametrize("what", ["file", "directory", "wal-and-shm"])
def test_a_read_only_archive_is_read_and_left_alone(data_dir: Path, what: str) -> None:
    """chmod'ed read-only (to a process without root's override): read, never moved aside."""
    if what == "wal-and-shm":
        _crashed_archive(data_dir)
        for side in ("-wal", "-shm"):
            (data_dir / (ARCHIVE_NAME + side)).chmod(0o400)
    else:
        make_archive(data_dir)
        (data_dir / ARCHIVE_NAME if what == "file" else data_dir).chmod(0o400 if what == "file" else 0o500)
    before = digest(data_dir / ARCHIVE_NAME)
    try:
        out = run_python(READ_ONLY_OPEN, str(data_dir), plain_user=True)
    finally:
        data_dir.chmod(0o700)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert moved_aside(data_dir) == [], result
    assert digest(data_dir / ARCHIVE_NAME) == before
    assert result.get("count") == 200 and result["read_only"], result
    assert len(result["problems"]) == 1 and "read-only" in result["problems"][0], result
    assert "unreadable" not in result["problems"][0]


@pytest.mark.slow  # a read-only bind mount (root) or chmod
def test_an_archive_on_a_read_only_mount_is_read(data_dir: Path) -> None:
    before = make_archive(data_dir)
    with read_only(data_dir):
        a, messages = open_or_error(data_dir)
        assert a is not None, messages
        assert a.read_only and a.count() == 200
        assert len(messages) == 1 and "read-only" in messages[0] and "left as it is" in messages[0]
        # New items of this session are kept in memory; the file is not touched.
        assert [i.id for i in a.add([mk(5000)])] == [mk(5000).id]
        assert a.count() == 201
        a.close()
        assert digest(data_dir / ARCHIVE_NAME) == before
    assert moved_aside(data_dir) == []


# -- what is still moved aside ---------------------------------------------------------


def test_a_damaged_archive_is_still_moved_aside(data_dir: Path) -> None:
    make_archive(data_dir, n=400)
    path = data_dir / ARCHIVE_NAME
    raw = bytearray(path.read_bytes())
    page = 4096
    assert len(raw) > 6 * page
    raw[3 * page : 5 * page] = b"\xa5" * (2 * page)  # two b-tree pages overwritten; the header is fine
    path.write_bytes(bytes(raw))

    a = Archive(data_dir, retention_days=3650)
    assert len(a.problems) == 1 and "moved aside" in a.problems[0], a.problems
    aside = [p for p in data_dir.glob(ARCHIVE_NAME + ".corrupt-*") if not p.name.endswith(("-wal", "-shm"))]
    assert len(aside) == 1 and aside[0].read_bytes() == bytes(raw)
    assert a.count() == 0 and not a.read_only
    a.close()


# -- one bad row (point 8) ---------------------------------------------------------------


def _plant_bad_rows(data: Path) -> None:
    conn = sqlite3.connect(data / ARCHIVE_NAME)
    rows = [
        ("Mastodon:bad1", "{not json"),
        ("Mastodon:bad2", "[]"),
        ("Mastodon:bad3", "[" * 100_000 + "]" * 100_000),
        ("Mastodon:bad4", '{"published": {"year": 2026}, "engagement": [1, 2]}'),
    ]
    now = datetime.now(timezone.utc).timestamp()
    with conn:
        conn.executemany(
            "INSERT INTO items (id, platform, source, published, first_seen, last_seen, severity, json, seen)"
            " VALUES (?, 'Mastodon', 'm', ?, ?, ?, 1, ?, 0)",
            [(rid, now + 60, now, now, raw) for rid, raw in rows],  # the newest, so read first
        )
    conn.close()


def test_one_unreadable_row_is_skipped_not_fatal(data_dir: Path) -> None:
    make_archive(data_dir, n=20)
    _plant_bad_rows(data_dir)
    with Archive(data_dir, retention_days=3650) as a:
        got = a.recent(limit=1000)
        assert len(got) in (20, 21)  # bad4 is an object and may well be read as a (poor) item
        assert {mk(i).id for i in range(20)} <= {i.id for i in got}
        assert a.get("Mastodon:bad1") is None
        assert any("could not be read and are skipped" in p for p in a.problems)
        assert all("\n" not in p for p in a.problems)


def test_one_unreadable_row_does_not_break_handover_show_or_export(data_dir: Path) -> None:
    make_archive(data_dir, n=20)
    _plant_bad_rows(data_dir)
    runner = CliRunner()
    for args in (["show"], ["export"], ["export", "--format", "json"]):
        r = runner.invoke(handover_group, [*args, "--since", "1d", "--data-dir", str(data_dir)])
        assert r.exit_code == 0, (args, r.output, r.exception)
        assert "Traceback" not in r.output
        if args[-1] == "json":
            assert json.loads(r.stdout)["new_items"] >= 20
        else:
            assert "## New items: 2" in r.stdout


@pytest.mark.slow
def test_read_only_checks_run_as_root_too() -> None:
    """The chmod cases above are only meaningful if the child really lost root's override."""
    if not is_root():
        pytest.skip("not root: chmod applies anyway")
    code = "import os, sys; print(os.access(sys.argv[1], os.W_OK))"
    import tempfile

    with tempfile.NamedTemporaryFile() as f:
        Path(f.name).chmod(0o400)
        out = run_python(code, f.name, plain_user=True)
    assert out.stdout.strip() == "False", out.stderr
