"""Bluesky: post search or one account's feed over XRPC, with follower counts.

- ``search`` calls ``app.bsky.feed.searchPosts`` (``sort=latest``); ``author`` calls
  ``app.bsky.feed.getAuthorFeed``.  Both read newest first and page on only while every
  post on a page is newer than the newest seen last poll, at most :data:`MAX_PAGES` pages,
  and stop when the cursor is missing, repeats, or stops changing, so a server that
  hands back the same cursor cannot keep us looping.
- With ``handle_env``/``password_env`` set, one session is made with
  ``com.atproto.server.createSession`` at ``auth_url`` and its access token reused (a
  redirect of the login to another origin is an error: the password stays there).  It
  is refreshed with ``refreshSession`` when a call says the token expired (401, or
  ``ExpiredToken``), and recreated only when the refresh fails: createSession is rate
  limited hard (30 per 5 minutes).  Tokens live on the connector object, never in the
  poll state, so they cannot leak into a dump of it.
- postViews carry no follower counts, so authors are looked up with
  ``app.bsky.actor.getProfiles`` (25 per call) and cached for an hour.  A failed lookup
  leaves ``author_followers`` unknown; it never fails the poll.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from ..fetch.http import Fetched, record_rate_limit
from ..models import Engagement, Item, utcnow
from ..text.safetext import one_line
from .base import Source, SourceError, SourceState
from .bluesky_sessions import SessionKey, Sessions, session_key
from .jsonapi import count_of, dedupe, error_message, load_json, text_of, time_of

if TYPE_CHECKING:
    from ..fetch.http import HttpFetcher

__all__ = ["BlueskySource", "post_to_item", "MAX_PAGES", "PROFILE_BATCH"]

MAX_PAGES = 3
PROFILE_BATCH = 25
#: At most this many getProfiles calls per poll; the rest wait for the next poll.
MAX_PROFILE_CALLS = 4
_PROFILE_TTL = 3600.0
_PROFILE_CACHE = 5000

_HANDLE_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z0-9-]{1,63}$")
_DID_RE = re.compile(r"^did:[a-z]+:[A-Za-z0-9._:%-]{1,2048}$")
_RKEY_RE = re.compile(r"^[A-Za-z0-9._:~-]{1,512}$")
_EXPIRED = ("ExpiredToken", "InvalidToken")


@dataclass
class _Session:
    access: str
    refresh: str
    did: str


class BlueskySource(Source):
    kind: ClassVar[str] = "bluesky"

    def __init__(self, spec: Any, *, env: Any = None) -> None:
        super().__init__(spec, env=env)
        #: Sessions by account; the monitor's store, shared with the poster, when it runs
        #: this source (see bluesky_sessions.py).
        self.sessions: Sessions = {}
        self._followers: OrderedDict[str, tuple[int | None, float]] = OrderedDict()
        self._last: Fetched | None = None
        self.clock = time.monotonic
        self.sessions_created = 0
        """How many times createSession was called (it is rate limited; tests check it)."""

    def describe(self) -> str:
        spec = self.spec
        what = f"search {spec.query!r}" if spec.mode == "search" else f"author {spec.actor}"
        return f"{spec.url} ({what})"

    # ------------------------------------------------------------------ auth

    @property
    def _wants_login(self) -> bool:
        return bool(self.spec.handle_env or self.spec.password_env)

    def _credentials(self) -> tuple[str, str]:
        spec = self.spec
        if not (spec.handle_env and spec.password_env):
            raise SourceError("Bluesky login needs both handle_env and password_env", permanent=True)
        handle = self.env.get(spec.handle_env, "").strip()
        if not handle:
            raise SourceError(f"environment variable {spec.handle_env} is not set (it should hold the Bluesky handle)", permanent=True)
        password = self.env.get(spec.password_env, "").strip()
        if not password:
            raise SourceError(
                f"environment variable {spec.password_env} is not set (it should hold a Bluesky app password)",
                permanent=True,
            )
        return handle, password

    @property
    def _session(self) -> _Session | None:
        if not self._wants_login:
            return None
        got = self.sessions.get(self._key())
        if not got or not got.get("accessJwt"):
            return None
        return _Session(access=got["accessJwt"], refresh=got.get("refreshJwt", ""), did=got.get("did", ""))

    @_session.setter
    def _session(self, value: _Session | None) -> None:
        key = self._key()
        if value is None:
            self.sessions.pop(key, None)
            return
        handle = key[1]
        self.sessions[key] = {"accessJwt": value.access, "refreshJwt": value.refresh, "did": value.did, "handle": handle}

    def _key(self) -> SessionKey:
        handle, password = self._credentials()
        return session_key(self.spec.auth_url, handle, password)

    def _base(self) -> str:
        """Where data calls go: a PDS proxies them for a session; the public AppView would refuse its token."""
        if self._wants_login and (urlsplit(self.spec.url).hostname or "") == "public.api.bsky.app":
            return self.spec.auth_url.rstrip("/")
        return self.spec.url.rstrip("/")

    async def _create_session(self, http: HttpFetcher) -> _Session:
        handle, password = self._credentials()
        self.sessions_created += 1
        got = await http.request(
            "POST",
            f"{self.spec.auth_url.rstrip('/')}/xrpc/com.atproto.server.createSession",
            json={"identifier": handle, "password": password},
            headers={"Accept": "application/json"},
            deadline=float(self.spec.timeout),
            raise_for_status=False,
            # A 307/308 re-sends this body: the app password goes nowhere but auth_url's origin.
            secret_in_body="the password",
            purpose="login",
        )
        if got.status in (400, 401):
            raise SourceError(
                f"Bluesky login failed: check the handle in {self.spec.handle_env} "
                f"and the app password in {self.spec.password_env}",
                permanent=True,
            )
        _raise_for_status(got)
        return self._session_from(got)

    async def _refresh_session(self, http: HttpFetcher, session: _Session) -> _Session | None:
        if not session.refresh:
            return None  # a session the poster made keeps no refresh token: log in again
        got = await http.request(
            "POST",
            f"{self.spec.auth_url.rstrip('/')}/xrpc/com.atproto.server.refreshSession",
            headers={"Accept": "application/json", "Authorization": f"Bearer {session.refresh}"},
            deadline=float(self.spec.timeout),
            raise_for_status=False,
        )
        if got.status in (400, 401):
            return None
        _raise_for_status(got)
        return self._session_from(got)

    @staticmethod
    def _session_from(got: Fetched) -> _Session:
        data = load_json(got.body, what="a Bluesky session (JSON)")
        if not isinstance(data, dict):
            raise SourceError("unexpected Bluesky session response")
        access, refresh = data.get("accessJwt"), data.get("refreshJwt")
        if not (_token_ok(access) and _token_ok(refresh)):
            raise SourceError("Bluesky session response has no usable tokens")
        return _Session(access=access, refresh=refresh, did=text_of(data.get("did")) or "")

    async def _xrpc(self, http: HttpFetcher, method: str, params: list[tuple[str, str]]) -> Any:
        """GET one XRPC query, logging in, refreshing or re-logging in as needed."""
        if self._wants_login and self._session is None:
            self._session = await self._create_session(http)
        url = f"{self._base()}/xrpc/{method}"
        for attempt in range(3):
            headers = {"Accept": "application/json", **self.spec.headers}
            if self._session is not None:
                headers["Authorization"] = f"Bearer {self._session.access}"
            got = await http.get(url, headers=headers, params=params, deadline=float(self.spec.timeout),
                                 raise_for_status=False)
            if self._session is not None and _expired(got) and attempt < 2:
                # First a refresh; only if that fails, a new session.
                if attempt == 0:
                    self._session = await self._refresh_session(http, self._session) or await self._create_session(http)
                else:
                    self._session = await self._create_session(http)
                continue
            self._last = got
            _raise_for_status(got)
            return load_json(got.body, what="a Bluesky API response (JSON)")
        raise SourceError("Bluesky kept refusing the session token")  # pragma: no cover - loop returns

    # ------------------------------------------------------------------ fetch

    async def fetch(self, http: HttpFetcher, state: SourceState) -> list[Item]:
        spec = self.spec
        newest_seen = _when(state.cursor.get("newest"))
        posts: list[dict[str, Any]] = []
        cursor: str | None = None
        cursors_seen: set[str] = set()
        for _page in range(MAX_PAGES):
            params: list[tuple[str, str]] = [("limit", str(spec.limit))]
            if spec.mode == "search":
                method = "app.bsky.feed.searchPosts"
                params += [("q", spec.query), ("sort", "latest")]
            else:
                method = "app.bsky.feed.getAuthorFeed"
                params += [("actor", spec.actor), ("filter", "posts_with_replies")]
            if cursor:
                params.append(("cursor", cursor))
            data = await self._xrpc(http, method, params)
            if self._last is not None:
                record_rate_limit(state, self._last)
            page_posts = _page_posts(data, spec.mode)
            posts.extend(page_posts)
            nxt = _cursor(data.get("cursor")) if isinstance(data, dict) else None
            if not nxt or nxt == cursor or nxt in cursors_seen or not page_posts:
                break
            cursors_seen.add(nxt)
            if newest_seen is None:
                break  # first poll: one page is the picture
            times = [_when(p.get("indexedAt")) for p in page_posts]
            if any(t is None or t <= newest_seen for t in times):
                break  # reached what we saw last time
            cursor = nxt
        followers = await self._follower_counts(http, posts)
        items = await asyncio.to_thread(self._items, posts, followers)
        # A post stamped in the future would pin the cursor there and stop paging for good.
        horizon = utcnow() + timedelta(days=1)
        stamps = [t for t in (_when(p.get("indexedAt")) for p in posts) if t is not None and t <= horizon]
        if stamps:
            newest = max(stamps)
            if newest_seen is None or newest > newest_seen:
                state.cursor["newest"] = newest.isoformat()
        return items

    def _items(self, posts: list[dict[str, Any]], followers: dict[str, int | None]) -> list[Item]:
        out = []
        for post in posts:
            item = post_to_item(post, platform=self.platform, source=self.name, followers=followers)
            if item is not None:
                out.append(item)
        return dedupe(out)

    async def _follower_counts(self, http: HttpFetcher, posts: list[dict[str, Any]]) -> dict[str, int | None]:
        now = self.clock()
        wanted: list[str] = []
        for post in posts:
            author = post.get("author")
            did = text_of(author.get("did")) if isinstance(author, dict) else None
            if did and _DID_RE.match(did) and did not in wanted:
                cached = self._followers.get(did)
                if cached is None or now - cached[1] > _PROFILE_TTL:
                    wanted.append(did)
        for start in range(0, min(len(wanted), PROFILE_BATCH * MAX_PROFILE_CALLS), PROFILE_BATCH):
            batch = wanted[start : start + PROFILE_BATCH]
            try:
                data = await self._xrpc(http, "app.bsky.actor.getProfiles", [("actors", d) for d in batch])
            except SourceError:
                break  # enrichment only: the posts still count
            profiles = data.get("profiles") if isinstance(data, dict) else None
            for did in batch:
                # Unknown until a profile says otherwise; cached so it is not asked again at once.
                self._followers[did] = (None, now)
            for profile in profiles if isinstance(profiles, list) else []:
                if isinstance(profile, dict) and text_of(profile.get("did")) in batch:
                    self._followers[profile["did"]] = (count_of(profile.get("followersCount")), now)
                    self._followers.move_to_end(profile["did"])
        while len(self._followers) > _PROFILE_CACHE:
            self._followers.popitem(last=False)
        return {did: count for did, (count, _) in self._followers.items()}


def _page_posts(data: Any, mode: str) -> list[dict[str, Any]]:
    if not isinstance(data, dict):
        raise SourceError("unexpected Bluesky response (expected an object)")
    if mode == "search":
        posts = data.get("posts")
        if not isinstance(posts, list):
            _raise_if_error(data)
            raise SourceError("unexpected Bluesky search response (no 'posts' list)")
        return [p for p in posts if isinstance(p, dict)]
    feed = data.get("feed")
    if not isinstance(feed, list):
        _raise_if_error(data)
        raise SourceError("unexpected Bluesky author feed (no 'feed' list)")
    return [f["post"] for f in feed if isinstance(f, dict) and isinstance(f.get("post"), dict)]


def post_to_item(post: Any, *, platform: str, source: str, followers: dict[str, int | None] | None = None) -> Item | None:
    """One ``app.bsky.feed.defs#postView`` as an item."""
    if not isinstance(post, dict):
        return None
    uri = text_of(post.get("uri"))
    if not uri or not uri.startswith("at://"):
        return None
    author = post.get("author") if isinstance(post.get("author"), dict) else {}
    record = post.get("record") if isinstance(post.get("record"), dict) else {}
    did = text_of(author.get("did")) or ""
    handle = text_of(author.get("handle")) or ""
    handle_ok = bool(_HANDLE_RE.match(handle)) and handle != "handle.invalid"
    parts = uri.split("/")
    rkey = parts[4] if len(parts) == 5 and parts[3] == "app.bsky.feed.post" else ""
    profile = handle if handle_ok else did if _DID_RE.match(did) else ""
    url = f"https://bsky.app/profile/{profile}/post/{rkey}" if profile and _RKEY_RE.match(rkey) else None
    reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
    parent = reply.get("parent") if isinstance(reply.get("parent"), dict) else {}
    reposts = count_of(post.get("repostCount"))
    quotes = count_of(post.get("quoteCount"))
    text = text_of(record.get("text")) or ""
    if not text.strip():
        # An image, link card or quote with no words of its own: show what it carries.
        text = _embed_text(post.get("embed")) or _embed_text(record.get("embed"))
    return Item.create(
        platform=platform,
        source=source,
        native_id=uri,
        author=f"@{handle}" if handle_ok else (did or None),
        author_name=text_of(author.get("displayName")) or None,
        author_followers=(followers or {}).get(did),
        text=text,
        url=url,
        published=time_of(record.get("createdAt")) or time_of(post.get("indexedAt")),
        language=_first_lang(record.get("langs")),
        engagement=Engagement(
            reposts=None if reposts is None and quotes is None else (reposts or 0) + (quotes or 0),
            likes=count_of(post.get("likeCount")),
            replies=count_of(post.get("replyCount")),
        ),
        in_reply_to=text_of(parent.get("uri")),
    )


def _first_lang(langs: Any) -> str | None:
    """The first usable tag of ``record.langs`` (a list; a bare string is taken too)."""
    if isinstance(langs, str):
        langs = [langs]
    if not isinstance(langs, list):
        return None
    for lang in langs[:8]:
        if isinstance(lang, str) and lang.strip():
            return lang
    return None


def _embed_text(embed: Any, depth: int = 0) -> str:
    """Words an embed carries: a quoted post's text, a link card, images' alt text.

    Covers the views (``app.bsky.embed.*#view``) and the records' own embeds; a quote of
    a quote is followed two levels deep at most.
    """
    if not isinstance(embed, dict) or depth > 2:
        return ""
    parts: list[str] = []
    quoted = embed.get("record")
    if isinstance(quoted, dict):
        # recordWithMedia nests the record#view one level further.
        inner = quoted.get("record")
        if isinstance(inner, dict) and not isinstance(quoted.get("value"), dict) and "uri" not in quoted:
            quoted = inner
        value = quoted.get("value")
        words = text_of(value.get("text")) if isinstance(value, dict) else None
        if words and words.strip():
            author = quoted.get("author") if isinstance(quoted.get("author"), dict) else {}
            handle = text_of(author.get("handle"))
            who = f"@{handle}" if handle and _HANDLE_RE.match(handle) else "a post"
            parts.append(f"(quoting {who}) {words}")
    external = embed.get("external")
    if isinstance(external, dict):
        parts += [text_of(external.get("title")) or "", text_of(external.get("description")) or ""]
    images = embed.get("images")
    if isinstance(images, list):
        parts += [text_of(img.get("alt")) or "" for img in images[:4] if isinstance(img, dict)]
    parts.append(_embed_text(embed.get("media"), depth + 1))
    return "\n".join(p.strip() for p in parts if p and p.strip())


def _cursor(value: Any) -> str | None:
    """A page cursor worth sending back: printable and bounded.

    One with a lone surrogate cannot even be encoded into a URL, and a huge one would
    make the next request fail; either way paging just stops, the posts already read stay.
    """
    cursor = text_of(value)
    if cursor and len(cursor) <= 1024 and cursor.isprintable():
        return cursor
    return None


def _raise_if_error(data: Any) -> None:
    message = error_message(data)
    if message is not None:
        raise SourceError("Bluesky returned an error instead of posts" + (f": {message}" if message else ""))


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else None


def _token_ok(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) < 16384 and value.isascii() and value.isprintable()


def _xrpc_error(got: Fetched) -> str:
    try:
        data = load_json(got.body)
    except SourceError:
        return ""
    if isinstance(data, dict):
        return one_line(text_of(data.get("error")) or "", limit=60)
    return ""


def _expired(got: Fetched) -> bool:
    if got.status == 401:
        return True
    return got.status == 400 and _xrpc_error(got) in _EXPIRED


def _raise_for_status(got: Fetched) -> None:
    if 200 <= got.status < 300:
        return
    name = _xrpc_error(got)
    label = f"HTTP {got.status} {got.reason}".rstrip()
    if name:
        label += f" ({name})"
    raise SourceError(label, permanent=got.status in (401, 403, 404))
