"""``watchtower.log``, where the TUI's tracebacks go (issue 15, points 9 and 12): its mode
survives rotation whatever the umask, and a read-only data directory does not stop the
TUI from starting because the error log cannot be created there.
"""

from __future__ import annotations

import stat
import textwrap
from pathlib import Path

import pytest
from fault_support import read_only, run_python


@pytest.mark.slow  # a read-only bind mount
def test_the_error_log_does_not_stop_a_read_only_start(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import logging

    from watchtower.core.record import paths

    monkeypatch.setattr(paths, "error_log_path", None)
    logger = logging.getLogger("watchtower")
    monkeypatch.setattr(logger, "handlers", [])
    with read_only(data_dir):
        where = paths.open_error_log(data_dir)
    try:
        assert where is not None and where.parent != data_dir and where.name == "watchtower.log"
        assert stat.S_IMODE(where.stat().st_mode) == 0o600
    finally:
        for handler in logger.handlers:
            handler.close()


# -- after rotation (point 12) ---------------------------------------------------------------

ROTATE = textwrap.dedent(
    """
    import logging, os, sys
    from pathlib import Path
    from watchtower.core.record import paths
    os.umask(0)
    paths.ERROR_LOG_MAX_BYTES = 4000
    data_dir = Path(sys.argv[1])
    where = paths.open_error_log(data_dir, group_shared=sys.argv[2] == "shared")
    logger = logging.getLogger("watchtower.test")
    written = 0
    while not (data_dir / "watchtower.log.2").exists() and written < 3_000_000:
        logger.warning("x" * 1000)
        written += 1000
    logger.warning("after the rotation")
    for h in logging.getLogger("watchtower").handlers:
        h.flush()
    """
)


@pytest.mark.slow
@pytest.mark.parametrize(("shared", "mode"), [("private", 0o600), ("shared", 0o660)])
def test_the_error_log_keeps_its_mode_after_rotation_whatever_the_umask(data_dir: Path, shared: str, mode: int) -> None:
    out = run_python(ROTATE, str(data_dir), shared)
    assert out.returncode == 0, out.stderr
    logs = sorted(data_dir.glob("watchtower.log*"))
    assert [p.name for p in logs][:3] == ["watchtower.log", "watchtower.log.1", "watchtower.log.2"]
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in logs} == {p.name: oct(mode) for p in logs}
    assert "after the rotation" in (data_dir / "watchtower.log").read_text()
