"""Reddit: a site-wide search or a subreddit's newest posts, from the public JSON listings.

Listings (``{"kind": "Listing", "data": {"children": [{"kind": "t3", "data": {...}}]}}``)
are read newest first.  No ``before`` cursor: Reddit returns nothing for a ``before``
whose post was deleted, which would silence the source, so each poll reads the newest
page and the archive drops what it already has.  ``subreddit_subscribers`` is the
subreddit's audience, not the author's, so ``author_followers`` stays unknown.
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote, urlsplit

from ..fetch.http import record_rate_limit
from ..models import Engagement, Item
from .base import Source, SourceError, SourceState
from .jsonapi import count_of, dedupe, error_message, load_json, text_of, time_of

if TYPE_CHECKING:
    from ..fetch.http import HttpFetcher

__all__ = ["RedditSource", "listing_items"]

_SUB_RE = re.compile(r"^[A-Za-z0-9_]{2,21}$")
#: Thing kinds that are posts (t3) or comments (t1); "more" stubs, accounts (t2),
#: subreddits (t5) and the rest are not items.
_ITEM_KINDS = ("t1", "t3")
#: What Reddit puts in place of an author or a text that is gone.
_GONE = ("[deleted]", "[removed]")


class RedditSource(Source):
    kind: ClassVar[str] = "reddit"

    def describe(self) -> str:
        spec = self.spec
        return f"{spec.url} (r/{spec.subreddit})" if spec.mode == "subreddit" else f"{spec.url} (search {spec.query!r})"

    async def fetch(self, http: HttpFetcher, state: SourceState) -> list[Item]:
        spec = self.spec
        base = spec.url.rstrip("/")
        params: dict[str, str] = {"limit": str(spec.limit), "raw_json": "1"}
        if spec.mode == "subreddit":
            sub = spec.subreddit.strip().removeprefix("r/").removeprefix("/r/")
            if not _SUB_RE.match(sub):
                raise SourceError("subreddit name must be 2-21 letters, digits or _", permanent=True)
            url = f"{base}/r/{quote(sub)}/new.json"
        else:
            url = f"{base}/search.json"
            params.update(q=spec.query, sort="new", type="link")
        fetched = await http.get(
            url, headers={"Accept": "application/json", **spec.headers}, params=params, deadline=float(spec.timeout)
        )
        record_rate_limit(state, fetched)
        data = await asyncio.to_thread(load_json, fetched.body, what="a Reddit listing (JSON)")
        return await asyncio.to_thread(
            listing_items, data, platform=self.platform, source=self.name, site=_site(base)
        )


def _site(base: str) -> str:
    """Where permalinks point: people open www.reddit.com, not the API host."""
    host = urlsplit(base).hostname or ""
    if host in ("oauth.reddit.com", "api.reddit.com"):
        return "https://www.reddit.com"
    return base


def listing_items(data: Any, *, platform: str, source: str, site: str = "https://www.reddit.com") -> list[Item]:
    """Items from one Listing; posts (t3) and comments (t1) alike.

    A post's comment page is a list of listings; they are read one level deep only (a
    list of lists is not a listing, and nesting must not recurse).
    """
    if isinstance(data, list):
        listings = [part for part in data[:4] if isinstance(part, dict)]
        if data and not listings:
            raise SourceError("unexpected Reddit response (expected a Listing)")
        out: list[Item] = []
        for part in listings:
            out.extend(_listing(part, platform=platform, source=source, site=site))
        return dedupe(out)
    return dedupe(_listing(data, platform=platform, source=source, site=site))


def _listing(data: Any, *, platform: str, source: str, site: str) -> list[Item]:
    if not isinstance(data, dict) or not isinstance(data.get("data"), dict):
        message = error_message(data)
        if message is not None:
            raise SourceError("Reddit returned an error instead of a listing" + (f": {message}" if message else ""))
        raise SourceError("unexpected Reddit response (expected a Listing)")
    children = data["data"].get("children")
    if not isinstance(children, list):
        raise SourceError("unexpected Reddit response (a Listing without children)")
    items: list[Item] = []
    for child in children:
        if not isinstance(child, dict) or not isinstance(child.get("data"), dict):
            continue
        kind = child.get("kind")
        if isinstance(kind, str) and kind not in _ITEM_KINDS:
            continue
        item = _thing(kind, child["data"], platform=platform, source=source, site=site)
        if item is not None:
            items.append(item)
    return items


def _thing(kind: Any, d: dict[str, Any], *, platform: str, source: str, site: str) -> Item | None:
    name = text_of(d.get("name"))
    if not name:
        rid = text_of(d.get("id"))
        name = f"{kind}_{rid}" if rid and isinstance(kind, str) else rid
    if not name:
        return None
    author = text_of(d.get("author"))
    if author and author.strip() in _GONE:
        author = None  # "[deleted]" is not one person: unknown, not a user called that
    permalink = text_of(d.get("permalink"))
    url = f"{site.rstrip('/')}{permalink}" if permalink and permalink.startswith("/") else None
    if kind == "t1":
        title = text_of(d.get("link_title"))
        text = text_of(d.get("body"))
        reposts = None
        replies = None
    else:
        title = text_of(d.get("title"))
        text = text_of(d.get("selftext"))
        if not text:
            # A crosspost says what its original says; a link post, where it links.
            parents = d.get("crosspost_parent_list")
            parent = parents[0] if isinstance(parents, list) and parents and isinstance(parents[0], dict) else {}
            text = (
                text_of(parent.get("selftext"))
                or text_of(d.get("url_overridden_by_dest"))
                or text_of(d.get("url"))
            )
        reposts = count_of(d.get("num_crossposts"))
        replies = count_of(d.get("num_comments"))
    sub = text_of(d.get("subreddit_name_prefixed")) or (
        f"r/{text_of(d.get('subreddit'))}" if text_of(d.get("subreddit")) else ""
    )
    return Item.create(
        platform=platform,
        source=source,
        native_id=name,
        author=f"u/{author}" if author else None,
        author_name=f"u/{author} in {sub}" if author and sub else None,
        author_followers=None,
        text=text,
        title=title,
        url=url,
        published=time_of(d.get("created_utc")) or time_of(d.get("created")),
        language=None,
        engagement=Engagement(reposts=reposts, likes=count_of(d.get("score")), replies=replies),
        in_reply_to=text_of(d.get("parent_id")) if kind == "t1" else None,
    )
