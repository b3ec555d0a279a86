"""App-wide messages (data flows up as messages, down as attributes)."""

from __future__ import annotations

from textual.message import Message

from ..core.pipeline.monitor import RoundResult


class Polled(Message):
    """A poll of one source finished (ok or not); posted by its worker."""

    def __init__(self, result: RoundResult) -> None:
        super().__init__()
        self.result = result


class LogChanged(Message):
    """The handover log changed on disk (this process or another operator's)."""

    def __init__(self, entries: list) -> None:
        super().__init__()
        self.entries = entries


class ViewsStale(Message):
    """The desk changed: draw the views (posted to the App itself, coalesced)."""
