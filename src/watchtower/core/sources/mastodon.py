"""Mastodon: a hashtag timeline, a status search, or the account's mentions.

Each poll asks only for what is newer than the last status seen (``since_id``, or
``min_id`` for search, which has no ``since_id``), kept in ``state.cursor``.  Status and
Account entities are mapped field by field; ``content`` is HTML and becomes plain text.
The access token comes from the env var named by ``token_env`` and is never shown.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from ..fetch.http import record_rate_limit
from ..models import Engagement, Item
from ..text.safetext import one_line, safe_url, url_host
from .base import Source, SourceError, SourceState
from .jsonapi import bearer_headers, count_of, dedupe, error_message, html_text, load_json, text_of, time_of

if TYPE_CHECKING:
    from ..fetch.http import HttpFetcher

__all__ = ["MastodonSource", "status_to_item"]


def _id_key(value: str) -> tuple[int, str]:
    """Mastodon ids are numeric strings (snowflakes): compare by length, then text."""
    return (len(value), value)


def _cursor_id(value: Any) -> str | None:
    """An id usable as ``since_id``: ASCII digits, at most 20 (a 64-bit snowflake).

    ``str.isdigit()`` alone also passes "²" and "١٢٣", and a thousand-digit id would
    compare above every real one and silence the source for good.
    """
    rid = text_of(value)
    if rid and len(rid) <= 20 and rid.isascii() and rid.isdigit():
        return rid
    return None


class MastodonSource(Source):
    kind: ClassVar[str] = "mastodon"

    def describe(self) -> str:
        spec = self.spec
        what = {"tag": f"#{spec.tag}", "search": f"search {spec.query!r}", "mentions": "mentions"}[spec.mode]
        return f"{spec.url} ({what})"

    def _request(self, cursor: str | None) -> tuple[str, list[tuple[str, str]]]:
        spec = self.spec
        base = spec.url.rstrip("/")
        params: list[tuple[str, str]] = [("limit", str(spec.limit))]
        if spec.mode == "tag":
            url = f"{base}/api/v1/timelines/tag/{quote(spec.tag.lstrip('#'), safe='')}"
            if cursor:
                params.append(("since_id", cursor))
        elif spec.mode == "search":
            url = f"{base}/api/v2/search"
            params += [("type", "statuses"), ("q", spec.query), ("resolve", "false")]
            if cursor:
                params.append(("min_id", cursor))
        else:
            url = f"{base}/api/v1/notifications"
            params.append(("types[]", "mention"))
            if cursor:
                params.append(("since_id", cursor))
        return url, params

    async def fetch(self, http: HttpFetcher, state: SourceState) -> list[Item]:
        headers = {"Accept": "application/json", **self.spec.headers}
        headers.update(bearer_headers(self.env, self.spec.token_env))
        cursor = _cursor_id(state.cursor.get("since_id"))
        url, params = self._request(cursor)
        fetched = await http.get(url, headers=headers, params=params, deadline=float(self.spec.timeout))
        record_rate_limit(state, fetched)
        data = await asyncio.to_thread(load_json, fetched.body, what="a Mastodon API response (JSON)")
        items, newest = await asyncio.to_thread(self._map, data)
        if newest and (cursor is None or _id_key(newest) > _id_key(cursor)):
            state.cursor["since_id"] = newest
        return items

    def _map(self, data: Any) -> tuple[list[Item], str | None]:
        mode = self.spec.mode
        if mode == "search":
            if not isinstance(data, dict):
                raise SourceError("unexpected Mastodon search response (expected an object with 'statuses')")
            records = data.get("statuses")
        else:
            records = data
        if not isinstance(records, list):
            message = error_message(data)
            if message:
                raise SourceError(f"Mastodon said: {one_line(message, limit=200)}")
            raise SourceError("unexpected Mastodon response (expected a list of statuses)")
        items: list[Item] = []
        newest: str | None = None
        host = url_host(self.spec.url)
        for record in records:
            if not isinstance(record, dict):
                continue
            rid = _cursor_id(record.get("id"))
            if rid and (newest is None or _id_key(rid) > _id_key(newest)):
                newest = rid
            status = record
            if mode == "mentions":
                if record.get("type") != "mention":
                    continue
                status = record.get("status")
            item = status_to_item(status, platform=self.platform, source=self.name, instance_host=host)
            if item is not None:
                items.append(item)
        return dedupe(items), newest


def status_to_item(status: Any, *, platform: str, source: str, instance_host: str = "") -> Item | None:
    """One Mastodon Status entity as an item; a reblog maps to the original post."""
    if not isinstance(status, dict):
        return None
    reblog = status.get("reblog")
    if isinstance(reblog, dict) and (text_of(reblog.get("id")) or text_of(reblog.get("uri"))):
        status = reblog
    sid = text_of(status.get("id"))
    uri = text_of(status.get("uri"))
    if not (sid or uri):
        return None
    account = status.get("account") if isinstance(status.get("account"), dict) else {}
    acct = text_of(account.get("acct")) or text_of(account.get("username")) or ""
    if acct and "@" not in acct:
        # Local accounts have no domain in acct; add it so "@name@host" matches own accounts.
        home = url_host(text_of(account.get("url")) or "") or instance_host
        acct = f"{acct}@{home}" if home else acct
    text = html_text(text_of(status.get("content")))
    if not text.strip():
        text = _attachment_text(status)
    spoiler = (text_of(status.get("spoiler_text")) or "").strip()
    if spoiler:
        # The list row shows the warning only (Item.headline); the text keeps it on top,
        # as Mastodon clients show it, and for triage.
        text = f"CW: {spoiler}\n{text}"
    return Item.create(
        platform=platform,
        source=source,
        # The URI is the same on every instance; the id is only local.
        native_id=uri or sid,
        author=f"@{acct}" if acct else None,
        author_name=text_of(account.get("display_name")) or None,
        author_followers=count_of(account.get("followers_count")),
        text=text,
        # The first link that may be opened: a javascript: url must not hide a good uri.
        url=safe_url(text_of(status.get("url"))) or safe_url(uri),
        published=time_of(status.get("created_at")),
        language=text_of(status.get("language")),
        engagement=Engagement(
            reposts=count_of(status.get("reblogs_count")),
            likes=count_of(status.get("favourites_count")),
            replies=count_of(status.get("replies_count")),
        ),
        in_reply_to=text_of(status.get("in_reply_to_id")),
        content_warning=spoiler or None,
        # An edit of a status we hold replaces it (Monitor.ingest); edited_at says which is newer.
        edited_at=time_of(status.get("edited_at")),
    )


def _attachment_text(status: dict[str, Any]) -> str:
    """What a post without words shows: its link card's title, or its media descriptions."""
    parts: list[str] = []
    card = status.get("card")
    if isinstance(card, dict):
        parts += [text_of(card.get("title")) or "", text_of(card.get("description")) or ""]
    media = status.get("media_attachments")
    if isinstance(media, list):
        parts += [text_of(m.get("description")) or "" for m in media[:4] if isinstance(m, dict)]
    return "\n".join(p.strip() for p in parts if p and p.strip())
