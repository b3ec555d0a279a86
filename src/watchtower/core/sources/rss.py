"""RSS, Atom and RDF feeds (news sites, blogs, Google Alerts) over conditional GET."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from ..fetch.http import record_rate_limit, safe_validator
from .base import (
    NOT_MODIFIED_UNASKED,
    Source,
    SourceState,
    asked_conditionally,
    cut_short_warning,
)

if TYPE_CHECKING:
    from ..fetch.http import HttpFetcher
    from ..fetch.parsepool import ParsePool
    from ..models import Item

__all__ = ["RssFeed"]


class RssFeed(Source):
    """One feed URL.  ETag/Last-Modified make an unchanged feed a cheap 304."""

    kind: ClassVar[str] = "rss"
    parser: str = "auto"
    """``auto``, ``fast`` or ``feedparser``; tests force one parser path."""
    parse_pool: ParsePool | None = None
    """Where documents are parsed (a thread, or a child process for big ones); the
    :class:`~watchtower.core.pipeline.monitor.Monitor` sets its own, else the shared one is used."""

    async def fetch(self, http: HttpFetcher, state: SourceState) -> list[Item]:
        fetched = await http.get(
            self.spec.url,
            headers={
                "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.1",
                **self.spec.headers,
            },
            etag=state.etag,
            last_modified=state.last_modified,
            deadline=float(self.spec.timeout),
        )
        record_rate_limit(state, fetched)
        if fetched.not_modified:
            state.not_modified = True
            if not asked_conditionally(state, self.spec.headers):
                state.warn(NOT_MODIFIED_UNASKED)  # "nothing changed" since nothing
            return []
        pool = self.parse_pool
        if pool is None:
            from ..fetch.parsepool import shared_pool

            pool = shared_pool()
        items = await pool.parse(fetched.body, fetched.headers, parser=self.parser,
                                 platform=self.platform, source=self.name)
        from ..fetch.feeds import cut_short

        if cut_short(fetched.body):
            # The complete items are kept, but say so, and keep no validators: a 304
            # to the next poll would hide the rest of the feed until it changes.
            state.warn(cut_short_warning(len(items)))
            state.etag = state.last_modified = None
            return items
        # Validators only after a good parse: a broken 200 must not turn into 304s later.
        state.etag = safe_validator(fetched.headers.get("etag"))
        state.last_modified = safe_validator(fetched.headers.get("last-modified"))
        return items
