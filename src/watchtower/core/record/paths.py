"""Where the data lives and who is writing: the data directory and the operator name.

The data directory holds the handover log and the item archive.  Several operators may
share it on one box, so it is checked before anything is written there
(docs/threat-model.md, T7):

- a symlinked data directory is refused: another local user could point our writes at
  a file of their choosing;
- a world-writable directory is refused for the same reason (anyone could plant a
  symlink or a fake log file in it);
- a directory we create is 0700, or 0770 when ``[data] group_shared`` is on.

Which directory wins, first match:

==============================  ===================================
``--data-dir PATH``             the command line
``$WATCHTOWER_DATA_DIR``        the environment
``[data] dir``                  the config file
platformdirs user data dir      ``~/.local/share/watchtower`` on Linux
==============================  ===================================
"""

from __future__ import annotations

import getpass
import os
import stat
from pathlib import Path
from typing import Any

from ...errors import StorageError
from ..text.safetext import one_line

__all__ = [
    "StorageError",
    "resolve_data_dir",
    "resolve_operator",
    "ensure_data_dir",
    "dir_mode",
    "file_mode",
    "os_user",
    "open_error_log",
    "ERROR_LOG",
]


def dir_mode(group_shared: bool) -> int:
    return 0o770 if group_shared else 0o700


def file_mode(group_shared: bool) -> int:
    return 0o660 if group_shared else 0o600


def resolve_data_dir(cli_value: str | os.PathLike[str] | None, config: Any = None) -> Path:
    """The data directory to use, created if missing and checked for safety."""
    group_shared = bool(getattr(getattr(config, "data", None), "group_shared", False))
    raw: str | os.PathLike[str] | None = cli_value or os.environ.get("WATCHTOWER_DATA_DIR") or None
    if not raw and config is not None:
        configured = getattr(getattr(config, "data", None), "dir", None)
        if configured:
            # Relative to the config file's folder, like every other path in the config.
            resolver = getattr(config, "resolve", None)
            has_file = getattr(config, "path", None) is not None
            raw = resolver(configured) if callable(resolver) and has_file else configured
    if not raw:
        from platformdirs import user_data_dir

        raw = user_data_dir("watchtower")
    path = Path(os.path.expanduser(os.fspath(raw)))
    return ensure_data_dir(path, group_shared=group_shared)


def ensure_data_dir(path: Path, *, group_shared: bool = False) -> Path:
    """Create ``path`` (0700/0770) or check an existing one; raise :class:`StorageError`."""
    path = Path(os.path.abspath(path))
    if path.is_symlink():
        raise StorageError(
            f"data directory {path} is a symbolic link; refusing to use it "
            "(point --data-dir at the real directory)"
        )
    mode = dir_mode(group_shared)
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.mkdir(mode=mode)
            # mkdir's mode is masked by the umask; set it exactly.
            os.chmod(path, mode)
        except FileExistsError:
            pass  # another process created it first; checked below
        except OSError as exc:
            raise StorageError(f"cannot create data directory {path}: {exc.strerror or exc}") from None
    try:
        st = os.lstat(path)
    except OSError as exc:
        raise StorageError(f"cannot use data directory {path}: {exc.strerror or exc}") from None
    if stat.S_ISLNK(st.st_mode):
        raise StorageError(f"data directory {path} is a symbolic link; refusing to use it")
    if not stat.S_ISDIR(st.st_mode):
        raise StorageError(f"data directory {path} is not a directory")
    if st.st_mode & stat.S_IWOTH:
        raise StorageError(
            f"data directory {path} is world-writable; refusing to keep the log there "
            f"(run: chmod o-w {path})"
        )
    return path


#: The file that :func:`open_error_log` writes to, once it has been opened.
error_log_path: Path | None = None

#: Its name in the data directory.
ERROR_LOG = "watchtower.log"
#: It rotates at this size, keeping :data:`ERROR_LOG_BACKUPS` old copies.
ERROR_LOG_MAX_BYTES = 1_000_000
ERROR_LOG_BACKUPS = 3


def _open_private(path: Path, mode: int) -> int:
    """``path`` opened for appending: created with ``mode``, never through a symlink, and
    set to ``mode`` when it is ours (the umask, or an older run, may have left it wider)."""
    fd = os.open(
        path,
        os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0),
        mode,
    )
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(f"{path} is not a regular file")
        if st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) != mode:
            os.fchmod(fd, mode)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _handler_class() -> type:
    """A :class:`logging.handlers.RotatingFileHandler` whose every open, the one after each
    rotation included, goes through :func:`_open_private` (the stock one opens with the
    umask's mode, 0666 under umask 000, and follows symlinks)."""
    import logging.handlers

    class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
        file_mode = 0o600

        def _open(self):  # type: ignore[no-untyped-def]
            fd = _open_private(Path(self.baseFilename), self.file_mode)
            return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)

    return PrivateRotatingFileHandler


def open_error_log(data_dir: Path, *, group_shared: bool = False) -> Path | None:
    """Send warnings and tracebacks of the ``watchtower`` loggers to ``data_dir/watchtower.log``.

    A full-screen UI has nowhere else to show them: "internal error ...; details in" names
    this file.  It is created 0600 (0660 shared), never through a symbolic link, and
    rotates at 1 MB with three old copies kept; the file started after a rotation gets the
    same mode, whatever the umask.  Calling it again for the same file does nothing.

    A data directory that cannot be written (read-only: the log is still read) is no
    reason to refuse to start: then the file goes to the user state directory, and if
    that cannot be written either there is no file (``None``; errors go to stderr).
    :class:`StorageError` for anything else (a symlink in the file's place, ...).
    """
    import errno
    import logging

    global error_log_path
    path = Path(data_dir) / ERROR_LOG
    if error_log_path == path:
        return path
    mode = file_mode(group_shared)
    try:
        os.close(_open_private(path, mode))
    except OSError as exc:
        if exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise StorageError(f"cannot write the error log {path}: {exc.strerror or exc}") from None
        fallback = _fallback_error_log(mode)
        if fallback is None:
            return None
        path = fallback
        if error_log_path == path:
            return path
    handler = _handler_class()(path, maxBytes=ERROR_LOG_MAX_BYTES, backupCount=ERROR_LOG_BACKUPS,
                               encoding="utf-8", delay=True)
    handler.file_mode = mode
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("watchtower")
    for old in [h for h in logger.handlers if getattr(h, "_watchtower_error_log", False)]:
        logger.removeHandler(old)
        old.close()
    handler._watchtower_error_log = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > logging.WARNING:
        logger.setLevel(logging.WARNING)
    error_log_path = path
    return path


def _fallback_error_log(mode: int) -> Path | None:
    """``watchtower.log`` in the user state directory (0700), or ``None`` if that fails too."""
    from platformdirs import user_state_dir

    try:
        where = ensure_data_dir(Path(user_state_dir("watchtower")))
        path = where / ERROR_LOG
        os.close(_open_private(path, mode))
    except (OSError, StorageError):
        return None
    return path


def os_user() -> str:
    try:
        return one_line(getpass.getuser(), limit=64) or f"uid{os.getuid()}"
    except Exception:  # getpass raises OSError/KeyError when no name is known
        return f"uid{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def resolve_operator(cli_value: str | None, config: Any = None) -> str:
    """Who is acting: ``--operator``, ``$WATCHTOWER_OPERATOR``, ``operator`` in the config, the OS user."""
    for candidate in (cli_value, os.environ.get("WATCHTOWER_OPERATOR"), getattr(config, "operator", None)):
        name = one_line(candidate, limit=64) if candidate else ""
        if name:
            return name
    return os_user()
