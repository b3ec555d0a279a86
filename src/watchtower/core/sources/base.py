"""The connector contract: what every source module implements and what the poller keeps.

A :class:`Source` turns one configured source into :class:`~watchtower.core.models.Item`
objects.  It never raises anything but :class:`SourceError` (with a message in plain
words that is safe to show) and never blocks the event loop: network IO goes through the
shared :class:`~watchtower.core.fetch.http.HttpFetcher`, parsing runs in a thread (feeds: in a
parser process, see :mod:`watchtower.core.fetch.parsepool`).

The poller owns a :class:`SourceState` per source (conditional-request validators,
cursors, backoff, health) and hands it to ``fetch`` so a connector can read and update
its cursor (``since_id``, Bluesky ``cursor``) and the HTTP validators.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Mapping

from ...errors import SourceError

if TYPE_CHECKING:
    from ..fetch.http import HttpFetcher
    from ..models import Item

__all__ = [
    "Source",
    "SourceError",
    "SourceState",
    "PollResult",
    "NOT_MODIFIED_UNASKED",
    "cut_short_warning",
    "asked_conditionally",
]

#: The warning for a 304 to a request that carried no validators: nothing was sent.
NOT_MODIFIED_UNASKED = (
    "the server answered 304 Not Modified to a request that asked for the full feed "
    "(no ETag or Last-Modified was sent): it sent no items"
)


def cut_short_warning(kept: int) -> str:
    """The warning for a document that ends before its closing tag."""
    return (
        f"the feed was cut short (no closing tag): {kept} complete "
        f"item{'' if kept == 1 else 's'} kept, the rest may be missing"
    )


def asked_conditionally(state: SourceState, headers: Mapping[str, str] | None = None) -> bool:
    """Whether a request carried validators, so that a 304 to it means "nothing new"."""
    if state.etag or state.last_modified:
        return True
    return any(str(k).lower() in ("if-none-match", "if-modified-since") for k in (headers or {}))


@dataclass
class SourceState:
    """What the poller remembers about one source between polls (in memory)."""

    etag: str | None = None
    last_modified: str | None = None
    cursor: dict[str, Any] = field(default_factory=dict)
    """Connector-owned: ``since_id``, pagination cursors, session tokens' expiry..."""
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    backoff_seconds: float = 0.0
    retry_at_monotonic: float | None = None
    next_poll_monotonic: float | None = None
    next_poll_at: datetime | None = None
    last_duration: float | None = None
    last_count: int = 0
    items_seen: int = 0
    rate_limit_remaining: int | None = None
    rate_limit_reset: datetime | None = None
    polls: int = 0
    not_modified: bool = False
    """Set by a connector when its last fetch was a 304 (nothing changed, not an error)."""
    last_skipped: int = 0
    """Records the connector could not read in the last poll (bad JSONL lines, ...)."""
    retry_after_seconds: float | None = None
    """The wait the server last asked for (429/503), for display."""
    warnings: list[str] = field(default_factory=list)
    """What was wrong with the last poll that did not fail it, in plain words (a 304 to a
    request without validators, a feed cut short).  Reset at every poll."""
    last_new: int = 0
    """Items of the last poll that were new to the pipeline (archive and all), set by
    :class:`~watchtower.core.pipeline.monitor.Monitor`; ``last_count`` is what the source sent."""
    last_also_seen: int = 0
    """Items of the last poll already held from another source (the same link): folded
    into that item as "also seen on", not shown twice.  Set by the Monitor."""

    @property
    def healthy(self) -> bool:
        return self.last_error is None

    @property
    def warning(self) -> str | None:
        """The warnings of the last poll as one line, or ``None`` (for a health line)."""
        return "; ".join(self.warnings) if self.warnings else None

    def warn(self, message: str) -> None:
        """A connector notes something wrong that does not fail the poll."""
        if message not in self.warnings:
            self.warnings.append(message)


@dataclass
class PollResult:
    """The outcome of one poll of one source; the poller never raises."""

    source: str
    platform: str
    items: list[Item]
    ok: bool
    not_modified: bool = False
    error: str | None = None
    duration: float = 0.0
    state: SourceState | None = None
    new_items: list[Item] = field(default_factory=list)
    """The subset of ``items`` this poller has not returned before (in this process)."""
    skipped: bool = False
    """No request was made: the source is waiting out a server's Retry-After."""
    retry_after: float | None = None
    """Seconds the server asked us to wait, when it did."""
    warnings: list[str] = field(default_factory=list)
    """What was wrong with a successful poll (see :attr:`SourceState.warnings`)."""


class Source(ABC):
    """One configured source.  Subclasses set ``kind`` and implement :meth:`fetch`."""

    kind: ClassVar[str] = ""

    def __init__(self, spec: Any, *, env: Mapping[str, str] | None = None) -> None:
        import os

        self.spec = spec
        self.name: str = spec.name
        self.platform: str = spec.platform
        self.interval: float = float(spec.interval)
        self.weight: float = float(getattr(spec, "weight", 1.0))
        self.env: Mapping[str, str] = os.environ if env is None else env

    @abstractmethod
    async def fetch(self, http: HttpFetcher, state: SourceState) -> list[Item]:
        """Fetch what is new.  Return ``[]`` for "nothing new" (including a 304)."""

    def describe(self) -> str:
        """One line for ``watchtower check``: where this source reads from (no secrets)."""
        return getattr(self.spec, "url", None) or getattr(self.spec, "path", "") or self.kind
