"""Real faults for the storage tests: a disk that fills up, a read-only mount, a process
for which ``chmod`` bites even when the tests run as root.

- :func:`small_tmpfs` mounts a tmpfs of a few hundred KB: writing past it is a real
  ``ENOSPC`` from the kernel, the "disk full" an operator meets.  Needs root (else skip).
- :func:`read_only` makes a directory read-only for everyone, root included: a
  read-only bind mount of itself (``EROFS``), or ``chmod a-w`` when not root.
- :func:`run_python` runs code in a fresh interpreter; ``plain_user=True`` drops root's
  permission override (``CAP_DAC_OVERRIDE``) in that child, so a ``chmod 0400`` file is
  read-only to it as it would be to any operator.

Every mount is undone (lazily, ``MNT_DETACH``) when its ``with`` block ends.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from waiting import DEADLINE

_libc = ctypes.CDLL(None, use_errno=True)
_MS_RDONLY = 1
_MS_REMOUNT = 32
_MS_BIND = 4096
_MNT_DETACH = 2
_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE = 1
_CAP_DAC_READ_SEARCH = 2


def is_root() -> bool:
    return os.geteuid() == 0


def _mount(source: bytes | None, target: Path, fstype: bytes | None, flags: int, data: bytes | None) -> None:
    if _libc.mount(source, os.fsencode(target), fstype, flags, data) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), str(target))


def _umount(target: Path) -> None:
    _libc.umount2(os.fsencode(target), _MNT_DETACH)


@contextlib.contextmanager
def small_tmpfs(path: Path, size_kb: int = 512) -> Iterator[Path]:
    """``path`` as a tmpfs of ``size_kb`` KB: a real disk that fills up."""
    if not is_root():
        pytest.skip("mounting a small tmpfs needs root")
    path.mkdir(exist_ok=True)
    try:
        _mount(b"tmpfs", path, b"tmpfs", 0, f"size={size_kb}k,mode=0700".encode())
    except OSError as exc:
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
    try:
        yield path
    finally:
        _umount(path)


def fill_disk(where: Path) -> Path:
    """Write to a file in ``where`` until the file system is full; unlink it to free the space."""
    filler = where / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (1 << 16, 4096, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
    finally:
        os.close(fd)
    return filler


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[Path]:
    """The directory ``path`` read-only to this process and its children, root included."""
    if is_root():
        try:
            _mount(os.fsencode(path), path, None, _MS_BIND, None)
        except OSError as exc:
            pytest.skip(f"cannot bind-mount here: {exc}")
        try:
            _mount(None, path, None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY, None)
            yield path
        finally:
            _umount(path)
        return
    before = stat.S_IMODE(path.stat().st_mode)
    os.chmod(path, before & ~0o222)
    try:
        yield path
    finally:
        os.chmod(path, before)


def _drop_root_override() -> None:  # runs in the child, between fork and exec
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        _libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)


def run_python(code: str, *args: str, plain_user: bool = False, env: dict[str, str] | None = None,
               timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    """``python -c code args...``; ``plain_user``: file permissions apply to it even as root."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout or DEADLINE,
        env=env,
        preexec_fn=_drop_root_override if plain_user and is_root() else None,
    )
