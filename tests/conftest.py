"""Shared fixtures.  An autouse fixture keeps the developer's own config and data out."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolate(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    for var in ("WATCHTOWER_CONFIG", "WATCHTOWER_DATA_DIR", "WATCHTOWER_OPERATOR", "TMUX"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir(mode=0o700)
    return d


FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


# ---------------------------------------------------------------------------- honest `slow`
#
# ``pytest -m "not slow"`` is the quick loop while developing; CI runs everything.  A test
# that starts a process (a subprocess, a pty, a fork, a parser or pool process) is slow by
# nature, and on a loaded 2-core machine most of its time goes to the child's start-up.
# This fixture keeps the marker honest: a test that starts one without ``@pytest.mark.slow``
# (on the test or its module) errors, naming what it started.  See docs/testing.md.


@pytest.fixture(autouse=True)
def _slow_marker_is_honest(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    if request.node.get_closest_marker("slow") is not None:
        yield
        return
    import multiprocessing.process
    import subprocess

    started: list[str] = []
    real_popen_init = subprocess.Popen.__init__
    real_fork = os.fork
    real_start = multiprocessing.process.BaseProcess.start

    def popen_init(self, args, *a, **kw):  # type: ignore[no-untyped-def]
        started.append(f"subprocess {str(args)[:120]}")
        return real_popen_init(self, args, *a, **kw)

    def fork() -> int:
        started.append("os.fork()")
        return real_fork()

    def start(self):  # type: ignore[no-untyped-def]
        started.append(f"multiprocessing {type(self).__name__}")
        return real_start(self)

    monkeypatch.setattr(subprocess.Popen, "__init__", popen_init)
    monkeypatch.setattr(os, "fork", fork)
    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", start)
    yield
    if started:
        pytest.fail(
            f"{request.node.nodeid} starts a process but is not marked @pytest.mark.slow: "
            + "; ".join(sorted(set(started))[:3]),
            pytrace=False,
        )
