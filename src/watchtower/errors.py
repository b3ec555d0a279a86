"""watchtower's own errors, all in one tree.

Every error watchtower raises on purpose is a :class:`WatchtowerError`, and ``str(err)``
is one line in plain words meant for the operator: the file, key or source it is about,
and what was expected.  The CLI prints it after ``watchtower:`` and exits 2; no traceback
reaches the user.  The TUI shows it as a toast or on the pane's health line.

The tree::

    WatchtowerError                 the root; catch this to catch all of watchtower's own
    ├── ConfigError                 a config, rules or data file: which file, which key, what
    │                               was expected (file, key, expected)
    ├── NoConfigError               no config anywhere, for a command that must not fall back
    │                               to the demo
    ├── StorageError                the handover log or the archive cannot be read or written
    │   ├── CorruptFileError        a log partition is not a TinyDB JSON document (path, reason)
    │   ├── ReadOnlyError           the log is open read-only; nothing was recorded
    │   └── AckRefused              a handover acknowledgement lost the check-and-set
    │                               (handover, ack)
    ├── SourceError                 one fetch or parse of a source failed (retry_after,
    │                               permanent); the poller shows it as the source's health
    ├── ParserError                 a bug in the feed parser process, not in the document
    │                               (also a RuntimeError; the poller logs it as internal)
    ├── TemplateError               a reply template could not be rendered (file, line)
    ├── ScheduleError               a scheduled post could not be set, cancelled or taken
    ├── PostingError                a post, delete or login on a platform failed
    └── ServeRefused                ``watchtower serve`` will not start as asked

``NoConfigError`` sits beside ``ConfigError``, not under it: the CLI prefixes a
``ConfigError`` with "config error:", and "no config found (looked in ...)" reads better
without it.

Where they are raised: ``config.py`` (config), ``core/record/paths.py``, ``core/record/log.py``,
``core/record/archive.py`` (storage), ``core/fetch/http.py``, ``core/fetch/feeds.py``, ``core/sources/``
(sources), ``core/fetch/parsepool.py`` (parser), ``core/respond/replies.py`` (templates),
``core/respond/schedule.py``, ``core/respond/posting.py``, ``serve.py``.  Those modules still export the
names they used to define, so ``from watchtower.core.record.log import AckRefused`` keeps working.

Not in the tree, on purpose: ``config.FieldProblem`` is a ``ValueError`` that a config
check raises for msgspec to report as a ConfigError; private helpers such as the
archive's ``_Damaged`` never leave their module.

This module imports nothing from watchtower: everything may import it
(docs/architecture.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = [
    "WatchtowerError",
    "ConfigError",
    "NoConfigError",
    "StorageError",
    "CorruptFileError",
    "ReadOnlyError",
    "AckRefused",
    "SourceError",
    "ParserError",
    "TemplateError",
    "ScheduleError",
    "PostingError",
    "ServeRefused",
]


class WatchtowerError(Exception):
    """The root of watchtower's own errors; the CLI turns these into messages, not tracebacks."""


# ------------------------------------------------------------------------------ config


class ConfigError(WatchtowerError):
    """A config problem: which file, which key, what was expected."""

    def __init__(self, file: str | Path | None, key: str | None, expected: str) -> None:
        self.file = str(file) if file else "<config>"
        self.key = key or ""
        self.expected = expected
        where = f"{self.file}: {self.key}" if self.key else self.file
        super().__init__(f"{where}: {expected}")


class NoConfigError(WatchtowerError):
    """No config anywhere, for a command that must not fall back to the demo."""


# ----------------------------------------------------------------------------- storage


class StorageError(WatchtowerError):
    """The log or the archive cannot be read or written; the message is meant for the operator."""


class CorruptFileError(StorageError):
    """A log file exists but is not a TinyDB JSON document."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"log file {path.name} is unreadable: {reason}")


class ReadOnlyError(StorageError):
    """The log is open read-only (the data directory cannot be written); nothing was recorded."""


class AckRefused(StorageError):
    """``acknowledged`` was refused: no handover, already acknowledged, or a newer one exists.

    ``handover`` is the last handover (``None`` if there is none); ``ack`` the entry that
    acknowledged it first, when that is the reason.  Both are
    :class:`~watchtower.core.record.log.LogEntry` objects (typed ``Any`` here so that this module
    imports nothing from the core).
    """

    def __init__(self, message: str, handover: Any = None, ack: Any = None) -> None:
        super().__init__(message)
        self.handover = handover
        self.ack = ack


# ------------------------------------------------------------------------- the outside


class SourceError(WatchtowerError):
    """A fetch or parse failed; ``str(err)`` is plain words, already safe to display.

    ``retry_after`` (seconds) is set when the server asked us to wait (429/503).
    """

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


class ParserError(WatchtowerError, RuntimeError):
    """A bug in the parsing code (not in the document): the poller logs it as internal."""


# ---------------------------------------------------------------------------- respond


class TemplateError(WatchtowerError):
    """A reply template could not be rendered; ``str(err)`` names the file and says why."""

    def __init__(self, file: str | Path | None, message: str, *, line: int | None = None) -> None:
        self.file = str(file) if file else "<template>"
        self.line = line
        self.message = message
        where = f"{self.file}, line {line}" if line else self.file
        super().__init__(f"{where}: {message}")


class ScheduleError(WatchtowerError):
    """A scheduled post could not be set, cancelled or taken; the message says why."""


class PostingError(WatchtowerError):
    """A post, a delete or a platform login failed; the message says why in plain words."""


# ------------------------------------------------------------------------------- serve


class ServeRefused(WatchtowerError):
    """``serve`` will not start as asked; the message says why and what to do instead."""
