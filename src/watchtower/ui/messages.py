"""App-wide messages (data flows up as messages, down as attributes)."""

from __future__ import annotations

from textual.message import Message

from ..core.monitor import RoundResult


class Polled(Message):
    """A poll of one source finished (ok or not); posted by its worker.

    ``alertable``: the new items bad enough to alert, when the worker already sorted
    them out (off the loop, for big batches); ``None`` leaves that to the app.
    """

    def __init__(self, result: RoundResult, alertable: list | None = None) -> None:
        super().__init__()
        self.result = result
        self.alertable = alertable


class LogChanged(Message):
    """The handover log changed on disk (this process or another operator's)."""

    def __init__(self, entries: list) -> None:
        super().__init__()
        self.entries = entries
