"""Posting a reply through the platform's API, where we have one (Mastodon, Bluesky).

Everywhere else the response panel copies the text and opens the post (:func:`can_post`
is False).  Every function here returns a :class:`PostResult` and never raises for a
network or server problem; ``PostResult.error`` is plain words, safe to show, and never
contains the token or password.

Mastodon
--------
``POST {api_url}/api/v1/statuses`` with ``status``, ``in_reply_to_id``, ``language`` and
``visibility="public"``, a Bearer token read from the env var the account's ``token_env``
names, and an ``Idempotency-Key`` derived from the account, the item and the text, so a
retry after a timeout never posts twice.  The author's ``@acct`` is put in front of the
text if the text doesn't mention them already (on Mastodon a reply without the mention
does not notify them).

What we need from the item: ``native_id`` is the status id *on the instance it was
fetched from*.  Ids are per instance, so when that is not our account's instance (see
:class:`Poster`, which knows the sources) the status is looked up on ours first with
``GET /api/v2/search?q={item.url}&resolve=true&type=statuses``.

Bluesky
-------
``com.atproto.server.createSession`` once per account (identifier = the account handle,
password from ``password_env``; an app password, not the main one), reused for every
post and re-created once if the server says the token expired; then
``com.atproto.repo.createRecord`` with an ``app.bsky.feed.post`` record: ``text``,
``createdAt``, ``langs``, ``reply {root, parent}`` (strong refs: uri and cid) and link
facets with UTF-8 *byte* offsets, so the Q&A URL is clickable.

Both POSTs follow a 307/308 only on the PDS's own origin, by hand: a redirect to another
origin is an error ("login redirected to another host (X); not sending the password
there"), since a 307/308 re-sends the body, and the login body holds the app password.

What we need from the item: the post's ``at://`` uri and its cid.  Pass them as a
:class:`ReplyTarget` if the connector has them (``root_*`` when the post is itself a
reply); otherwise the uri is taken from ``item.native_id`` (if it is an ``at://`` uri) or
from a ``https://bsky.app/profile/{actor}/post/{rkey}`` ``item.url``, and the cid and the
thread root are looked up with ``app.bsky.feed.getPosts`` through our PDS.

Statements, deletes and our own recent posts
--------------------------------------------
A *statement* is a post of our own, not a reply: no ``in_reply_to_id`` / ``reply`` and no
mention put in front (:meth:`Poster.statement`).  It carries an ``Idempotency-Key`` on
Mastodon too, the caller's (a scheduled post keeps one key for every attempt).

*Deleting* our own post: Mastodon ``DELETE /api/v1/statuses/:id`` (the id looked up on our
instance as for replies); Bluesky ``com.atproto.repo.deleteRecord`` with our DID, the
collection and the rkey of the post's ``at://`` uri, refused here when the uri names
another account (:meth:`Poster.delete`).

*Did it go out after all?*  After an attempt whose outcome is unknown (a timeout, a 5xx),
:meth:`Poster.find_own_post` looks through our account's recent posts for the same
text: Bluesky ``com.atproto.repo.listRecords`` on our repo; Mastodon
``verify_credentials`` then ``/api/v1/accounts/:id/statuses`` (HTML content compared as
text).

Every failure says whether the post may have gone out (:attr:`PostResult.uncertain`: a
timeout after the request was sent, a dropped connection, a 5xx, a 200 without an id)
and whether trying again later may work (:attr:`PostResult.transient`: no connection,
a rate limit); :mod:`watchtower.core.respond.schedule` decides retries on these.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Mapping
from urllib.parse import urlsplit

import httpx

from ... import __version__ as _version
from ...errors import PostingError
from ..fetch.http import origin_label
from ..models import Item, parse_iso
from ..sources.bluesky_sessions import Sessions, session_key
from ..text.safetext import one_line
from ..text.textlength import check as length_check
from ..text.textlength import platform_key, url_spans

if TYPE_CHECKING:
    from ...config import Account, Config

__all__ = [
    "PostResult",
    "FoundPost",
    "ReplyTarget",
    "Poster",
    "BlueskyPoster",
    "can_post",
    "why_cannot_post",
    "post_mastodon",
    "account_by_handle",
    "mastodon_status",
    "mastodon_delete",
    "mastodon_statement",
    "html_text",
    "idempotency_key",
    "link_facets",
    "DEFAULT_BLUESKY_PDS",
]

DEFAULT_BLUESKY_PDS = "https://bsky.social"
DEFAULT_TIMEOUT = 20.0
_USER_AGENT = f"watchtower/{_version} (social-media incident monitor)"


@dataclass(frozen=True, slots=True)
class PostResult:
    """What happened.  ``url`` and ``id`` are the new (or deleted) post's; ``error`` is safe to show.

    On a failure, ``uncertain`` says the post may have gone out anyway (the request was
    sent and no clear answer came back: look before trying again), and ``transient``
    that nothing went out and trying again later may work (no connection, rate limit).
    Neither: the server refused, and the same request will be refused again.
    """

    ok: bool
    url: str | None = None
    id: str | None = None
    error: str | None = None
    uncertain: bool = False
    transient: bool = False


@dataclass(frozen=True, slots=True)
class FoundPost:
    """The answer of :meth:`Poster.find_own_post`.

    ``checked`` False: we could not look (``error`` says why), so nobody knows whether
    the post is there.  ``checked`` and ``id`` set: it is there.
    """

    checked: bool
    id: str | None = None
    url: str | None = None
    error: str | None = None

    @property
    def found(self) -> bool:
        return self.checked and self.id is not None


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    """The Bluesky post we reply to, as strong refs.  ``root_*`` unset: the parent is the root."""

    uri: str
    cid: str
    root_uri: str | None = None
    root_cid: str | None = None


# --- can we post at all ----------------------------------------------------------------


def why_cannot_post(platform: str | None, account: Account | None, env: Mapping[str, str] | None = None) -> str | None:
    """``None`` if :func:`can_post`, else the reason in words (for a tooltip)."""
    env = os.environ if env is None else env
    key = platform_key(platform)
    if key not in ("mastodon", "bluesky"):
        return f"no posting API for {platform or 'this platform'}: copy the reply and post it by hand"
    if account is None:
        return f"no account of ours on {platform} in the config"
    if key == "mastodon":
        if not account.api_url:
            return f"the {platform} account {account.handle} has no api_url (the instance to post through)"
        if not account.token_env:
            return f"the {platform} account {account.handle} has no token_env"
        if not env.get(account.token_env):
            return f"the environment variable {account.token_env} is not set"
        return None
    if not account.password_env:
        return f"the {platform} account {account.handle} has no password_env"
    if not env.get(account.password_env):
        return f"the environment variable {account.password_env} is not set"
    return None


def can_post(platform: str | None, account: Account | None, env: Mapping[str, str] | None = None) -> bool:
    """True when a reply on ``platform`` can go out through the API with ``account``:
    Mastodon with ``api_url`` and a set ``token_env``, Bluesky with a set ``password_env``."""
    return why_cannot_post(platform, account, env) is None


# --- shared helpers --------------------------------------------------------------------


def idempotency_key(account_handle: str, item_id: str, text: str) -> str:
    """Stable for the same reply to the same item, so a retry is recognised as one."""
    raw = "\x1f".join((account_handle, item_id, text)).encode("utf-8", "surrogatepass")
    return hashlib.sha256(raw).hexdigest()[:40]


def _scrub(message: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            message = message.replace(secret, "***")
    return one_line(message, limit=400)


def _too_long(length: Any, service: str) -> str:
    unit = "character" if length.over == 1 else "characters"
    return f"the reply is {length.over} {unit} too long for {service} ({length})"


def _host(url: str | None) -> str:
    try:
        return (urlsplit(url or "").hostname or "").lower()
    except ValueError:
        return ""


def _network_error(exc: httpx.HTTPError, service: str, url: str, timeout: float, what: str = "the reply") -> str:
    host = _host(url) or service
    if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)):
        return f"could not connect to {host} within {timeout:g} s"
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer from {host} within {timeout:g} s; {what} may or may not have gone through, check before retrying"
    if isinstance(exc, httpx.ConnectError):
        return f"could not connect to {host}"
    return f"network problem talking to {host} ({type(exc).__name__})"


def _network_failure(
    exc: httpx.HTTPError, service: str, url: str, timeout: float, secrets: list[str], what: str = "the reply"
) -> PostResult:
    """A :class:`PostResult` for a network error: never sent (no connection) is transient,
    anything after the request may have left is uncertain."""
    not_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
    return PostResult(
        False,
        error=_scrub(_network_error(exc, service, url, timeout, what), secrets),
        uncertain=not not_sent,
        transient=not_sent,
    )


def _http_failure(code: int, message: str, secrets: list[str]) -> PostResult:
    """A :class:`PostResult` for an HTTP error answer: 5xx may hide a post that went out
    (a proxy timing out in front of a busy server); 429 is worth trying again later."""
    return PostResult(False, error=_scrub(message, secrets), uncertain=code >= 500, transient=code == 429)


def _json(resp: httpx.Response) -> dict[str, Any]:
    try:
        data = resp.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _server_says(resp: httpx.Response) -> str:
    data = _json(resp)
    parts = [str(data.get(k)) for k in ("error", "message", "error_description") if data.get(k)]
    return ": ".join(dict.fromkeys(parts))


def _client(client: httpx.AsyncClient | None, timeout: float) -> tuple[httpx.AsyncClient, bool]:
    if client is not None:
        return client, False
    return (
        httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            headers={"User-Agent": _USER_AGENT},
        ),
        True,
    )


# --- Mastodon --------------------------------------------------------------------------


def _mastodon_mention(item: Item, api_url: str) -> str:
    acct = item.author.strip().lstrip("@")
    if not acct or acct == "unknown" or any(ch.isspace() for ch in acct):
        return ""
    if "@" not in acct:
        # A local account on the instance the item came from: qualify it unless that is ours.
        origin = _host(item.url)
        if origin and origin != _host(api_url):
            acct = f"{acct}@{origin}"
    return "@" + acct


def mastodon_status(item: Item, text: str, api_url: str) -> str:
    """The status text as posted: the author's mention first, if it is not in the text."""
    mention = _mastodon_mention(item, api_url)
    if not mention:
        return text
    user = mention.split("@")[1]
    pattern = re.compile(r"(?<![\w@])@" + re.escape(user) + r"(?:@[\w.\-]+)?(?![\w@])", re.IGNORECASE)
    return text if pattern.search(text) else f"{mention} {text}"


def _mastodon_error(resp: httpx.Response, env_name: str, what: str = "the reply") -> str:
    said = _server_says(resp)
    code = resp.status_code
    if code in (401, 403):
        return f"Mastodon refused the access token (HTTP {code}); check ${env_name} (it needs the write:statuses scope)"
    if code == 404:
        return "Mastodon could not find the post to reply to (HTTP 404); it may have been deleted"
    if code == 422:
        return f"Mastodon did not accept {what} (HTTP 422){': ' + said if said else ''}"
    if code == 429:
        return "Mastodon's rate limit was reached (HTTP 429); wait a few minutes and try again"
    if code >= 500:
        return f"the Mastodon server had a problem (HTTP {code}); try again shortly"
    return f"Mastodon answered HTTP {code}{': ' + said if said else ''}"


async def _mastodon_resolve(
    client: httpx.AsyncClient, base: str, token: str, url: str
) -> str | None:
    resp = await client.get(
        f"{base}/api/v2/search",
        params={"q": url, "resolve": "true", "type": "statuses", "limit": "1"},
        headers={"Authorization": f"Bearer {token}"},
    )
    if resp.status_code != 200:
        return None
    statuses = _json(resp).get("statuses")
    if isinstance(statuses, list) and statuses and isinstance(statuses[0], dict):
        sid = statuses[0].get("id")
        return str(sid) if sid else None
    return None


async def post_mastodon(
    account: Account,
    item: Item,
    text: str,
    *,
    language: str | None = None,
    resolve: bool | None = None,
    client: httpx.AsyncClient | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> PostResult:
    """Reply to ``item`` on Mastodon as ``account``.

    ``resolve``: look the status up on our instance by ``item.url`` first (True), use
    ``item.native_id`` as is (False), or decide by whether ``item.url`` is on our
    instance (None).  A failed lookup falls back to ``native_id``.
    """
    env = os.environ if env is None else env
    reason = why_cannot_post(account.platform, account, env)
    if reason:
        return PostResult(False, error=reason)
    assert account.api_url and account.token_env
    token = env[account.token_env]
    base = account.api_url.rstrip("/")
    status = mastodon_status(item, text, base)
    length = length_check(status, "mastodon")
    if not length.ok:
        return PostResult(False, error=_too_long(length, "Mastodon"))
    http, owned = _client(client, timeout)
    try:
        try:
            reply_to = await _mastodon_status_id(http, base, token, item, resolve)
        except httpx.HTTPError as exc:
            return _network_failure(exc, "Mastodon", base, timeout, [token])
        body: dict[str, Any] = {"status": status, "visibility": "public"}
        if reply_to:
            body["in_reply_to_id"] = reply_to
        if language:
            body["language"] = language
        return await _mastodon_create(
            http, account, token, body, idempotency_key(account.handle, item.id, status), timeout, "the reply"
        )
    finally:
        if owned:
            await http.aclose()


async def _mastodon_status_id(
    http: httpx.AsyncClient, base: str, token: str, item: Item, resolve: bool | None
) -> str:
    """The item's status id on our instance (see :func:`post_mastodon` for ``resolve``)."""
    status_id = item.native_id
    if resolve is None:
        resolve = bool(item.url) and _host(item.url) != _host(base)
    if resolve and item.url:
        status_id = await _mastodon_resolve(http, base, token, item.url) or status_id
    return status_id


async def _mastodon_create(
    http: httpx.AsyncClient, account: Account, token: str, body: dict[str, Any], key: str, timeout: float, what: str
) -> PostResult:
    """``POST /api/v1/statuses`` with ``body`` and the ``Idempotency-Key``."""
    base = (account.api_url or "").rstrip("/")
    url = f"{base}/api/v1/statuses"
    try:
        resp = await http.post(
            url,
            json=body,
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        return _network_failure(exc, "Mastodon", url, timeout, [token], what)
    if resp.status_code != 200:
        return _http_failure(resp.status_code, _mastodon_error(resp, account.token_env or "", what), [token])
    data = _json(resp)
    if not data.get("id"):
        return PostResult(
            False, error="Mastodon answered without a post id; check the account before retrying", uncertain=True
        )
    return PostResult(True, url=one_line(data.get("url") or data.get("uri"), limit=2048) or None, id=one_line(data["id"], limit=128))


async def mastodon_statement(
    account: Account,
    text: str,
    *,
    key: str,
    language: str | None = None,
    client: httpx.AsyncClient | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> PostResult:
    """Post ``text`` on Mastodon as ``account``: our own post, not a reply, nobody mentioned.

    ``key`` is the ``Idempotency-Key``: the same key for every attempt at the same post,
    so the instance answers a retry with the post it already made.
    """
    env = os.environ if env is None else env
    reason = why_cannot_post(account.platform, account, env)
    if reason:
        return PostResult(False, error=reason)
    assert account.api_url and account.token_env
    token = env[account.token_env]
    length = length_check(text, "mastodon")
    if not length.ok:
        return PostResult(False, error=_too_long(length, "Mastodon").replace("the reply", "the post"))
    body: dict[str, Any] = {"status": text, "visibility": "public"}
    if language:
        body["language"] = language
    http, owned = _client(client, timeout)
    try:
        return await _mastodon_create(http, account, token, body, key, timeout, "the post")
    finally:
        if owned:
            await http.aclose()


async def mastodon_delete(
    account: Account,
    item: Item,
    *,
    resolve: bool | None = None,
    client: httpx.AsyncClient | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> PostResult:
    """Delete our own status ``item`` on Mastodon (``DELETE /api/v1/statuses/:id``).

    The id is looked up on our instance as for a reply (``resolve``).  ``ok`` with the
    deleted status's id; a 404 is an error ("not found: deleted already?").
    """
    env = os.environ if env is None else env
    reason = why_cannot_post(account.platform, account, env)
    if reason:
        return PostResult(False, error=reason.replace("copy the reply and post it by hand", "delete it by hand"))
    assert account.api_url and account.token_env
    token = env[account.token_env]
    base = account.api_url.rstrip("/")
    http, owned = _client(client, timeout)
    try:
        try:
            status_id = await _mastodon_status_id(http, base, token, item, resolve)
        except httpx.HTTPError as exc:
            return _network_failure(exc, "Mastodon", base, timeout, [token], "the delete")
        if not status_id or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", status_id):
            return PostResult(False, error="this item has no Mastodon status id to delete")
        url = f"{base}/api/v1/statuses/{status_id}"
        try:
            resp = await http.delete(url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout)
        except httpx.HTTPError as exc:
            return _network_failure(exc, "Mastodon", url, timeout, [token], "the delete")
    finally:
        if owned:
            await http.aclose()
    if resp.status_code != 200:
        if resp.status_code == 404:
            return PostResult(False, error="Mastodon could not find the post to delete (HTTP 404); was it deleted already?")
        return _http_failure(resp.status_code, _mastodon_error(resp, account.token_env, "the delete"), [token])
    data = _json(resp)
    return PostResult(
        True,
        url=one_line(data.get("url") or item.url, limit=2048) or None,
        id=one_line(data.get("id") or status_id, limit=128),
    )


_TAG_RE = re.compile(r"<[^>]*>")
_BREAK_RE = re.compile(r"<br\s*/?>|</p>\s*<p[^>]*>", re.IGNORECASE)
_SPACE_RE = re.compile(r"\s+")


def html_text(content: str) -> str:
    """Mastodon's HTML ``content`` as plain text (tags dropped, entities decoded)."""
    return html.unescape(_TAG_RE.sub("", _BREAK_RE.sub("\n", content or "")))


def _same_text(a: str, b: str) -> bool:
    return _SPACE_RE.sub(" ", a).strip() == _SPACE_RE.sub(" ", b).strip()


_parse_iso = parse_iso  # our own stamps read back (core/models.py)


#: Posts stamped this long before ``since`` still count (the server's clock is not ours).
CLOCK_SLACK = timedelta(minutes=2)


async def mastodon_find_own(
    account: Account,
    text: str,
    since: datetime,
    *,
    client: httpx.AsyncClient | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> FoundPost:
    """Our account's recent status with this text, created after ``since`` (give or take
    :data:`CLOCK_SLACK`), if there is one."""
    env = os.environ if env is None else env
    reason = why_cannot_post(account.platform, account, env)
    if reason:
        return FoundPost(False, error=reason)
    assert account.api_url and account.token_env
    token = env[account.token_env]
    base = account.api_url.rstrip("/")
    auth = {"Authorization": f"Bearer {token}"}
    http, owned = _client(client, timeout)
    try:
        me = await http.get(f"{base}/api/v1/accounts/verify_credentials", headers=auth, timeout=timeout)
        if me.status_code != 200 or not _json(me).get("id"):
            return FoundPost(False, error=f"could not look up our Mastodon account (HTTP {me.status_code})")
        account_id = str(_json(me)["id"])
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", account_id):
            return FoundPost(False, error="Mastodon answered with an odd account id")
        resp = await http.get(
            f"{base}/api/v1/accounts/{account_id}/statuses", params={"limit": "40"}, headers=auth, timeout=timeout
        )
    except httpx.HTTPError as exc:
        return FoundPost(False, error=_scrub(_network_error(exc, "Mastodon", base, timeout, "the lookup"), [token]))
    finally:
        if owned:
            await http.aclose()
    if resp.status_code != 200:
        return FoundPost(False, error=f"could not list our recent Mastodon posts (HTTP {resp.status_code})")
    try:
        statuses = resp.json()
    except ValueError:
        statuses = None
    if not isinstance(statuses, list):
        return FoundPost(False, error="Mastodon's list of our posts was not a list")
    for status in statuses:
        if not isinstance(status, dict) or not status.get("id"):
            continue
        created = _parse_iso(status.get("created_at"))
        if created is None or created < since - CLOCK_SLACK:
            continue
        if _same_text(html_text(str(status.get("content") or "")), text):
            return FoundPost(
                True,
                id=one_line(status["id"], limit=128),
                url=one_line(status.get("url") or status.get("uri"), limit=2048) or None,
            )
    return FoundPost(True)


# --- Bluesky ---------------------------------------------------------------------------


def link_facets(text: str) -> list[dict[str, Any]]:
    """``app.bsky.richtext.facet#link`` facets for the http(s) URLs in ``text``.

    Offsets are UTF-8 *byte* offsets (``byteStart`` inclusive, ``byteEnd`` exclusive), as
    the lexicon requires: an emoji or an accented letter before the link shifts them.
    """
    facets: list[dict[str, Any]] = []
    for start, end in url_spans(text, schemes_only=True):
        byte_start = len(text[:start].encode("utf-8"))
        byte_end = byte_start + len(text[start:end].encode("utf-8"))
        facets.append(
            {
                "$type": "app.bsky.richtext.facet",
                "index": {"byteStart": byte_start, "byteEnd": byte_end},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": text[start:end]}],
            }
        )
    return facets


_BSKY_WEB_POST = re.compile(r"^https://(?:www\.)?bsky\.app/profile/([^/?#]+)/post/([A-Za-z0-9._~:-]+)")


def _bluesky_uri(item: Item) -> str | None:
    if item.native_id.startswith("at://"):
        return item.native_id
    m = _BSKY_WEB_POST.match(item.url or "")
    if m:
        return f"at://{m.group(1)}/app.bsky.feed.post/{m.group(2)}"
    return None


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _SessionError(PostingError):
    pass


_REDIRECTS = (301, 302, 303, 307, 308)
_MAX_REDIRECTS = 5


class BlueskyPoster:
    """Posts replies as one Bluesky account, keeping one session for all of them."""

    def __init__(
        self,
        account: Account,
        *,
        client: httpx.AsyncClient | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        sessions: Sessions | None = None,
    ) -> None:
        self.account = account
        self.base = (account.api_url or DEFAULT_BLUESKY_PDS).rstrip("/")
        self.timeout = timeout
        self._env = os.environ if env is None else env
        self._client, self._owned = _client(client, timeout)
        # Sessions live in a store the caller may share between posters (Poster keeps one per account).
        self._sessions: Sessions = {} if sessions is None else sessions
        self._key = session_key(self.base, account.handle, self._password)
        self._lock = asyncio.Lock()

    @property
    def _session(self) -> dict[str, str] | None:
        return self._sessions.get(self._key)

    @_session.setter
    def _session(self, value: dict[str, str] | None) -> None:
        if value is None:
            self._sessions.pop(self._key, None)
        else:
            self._sessions[self._key] = value

    @property
    def _password(self) -> str:
        return self._env.get(self.account.password_env or "", "")

    async def aclose(self) -> None:
        if self._owned:
            await self._client.aclose()

    async def _post_on_origin(
        self, url: str, body: dict[str, Any], *, headers: Mapping[str, str] | None = None, purpose: str, secret: str
    ) -> httpx.Response:
        """POST ``body``, following a 307/308 only while it stays on ``url``'s origin.

        The client never follows redirects itself here (even one passed in with
        ``follow_redirects=True``): httpx drops the Authorization header on a cross-origin
        redirect but re-sends a 307/308's body, and the login body is the password.  A
        redirect elsewhere raises :class:`_SessionError` naming ``purpose`` and ``secret``;
        any other redirect (301/302/303 would turn the POST into a GET) comes back as is.
        """
        origin = current = httpx.URL(url)
        for _ in range(_MAX_REDIRECTS + 1):
            resp = await self._client.post(
                current, json=body, headers=headers, timeout=self.timeout, follow_redirects=False
            )
            location = resp.headers.get("location")
            if resp.status_code not in _REDIRECTS or not location:
                return resp
            try:
                target = current.join(location.strip())
            except (httpx.InvalidURL, ValueError):
                raise _SessionError(f"Bluesky redirected the {purpose} to an invalid address") from None
            if (target.scheme, target.host, target.port) != (origin.scheme, origin.host, origin.port):
                raise _SessionError(
                    f"{purpose} redirected to another host ({origin_label(target, origin)}); not sending {secret} there"
                )
            if resp.status_code not in (307, 308):
                return resp
            current = target
        raise _SessionError(f"Bluesky redirected the {purpose} too many times")

    async def _ensure_session(self) -> dict[str, str]:
        async with self._lock:
            if self._session is not None:
                return self._session
            identifier = self.account.handle.strip().lstrip("@")
            resp = await self._post_on_origin(
                f"{self.base}/xrpc/com.atproto.server.createSession",
                {"identifier": identifier, "password": self._password},
                purpose="login",
                secret="the password",
            )
            if resp.status_code != 200:
                said = _server_says(resp)
                if resp.status_code == 401:
                    raise _SessionError(
                        f"Bluesky refused the login for {identifier} (HTTP 401{', ' + said if said else ''}); "
                        f"check the app password in ${self.account.password_env}"
                    )
                if resp.status_code == 429:
                    raise _SessionError("Bluesky's login rate limit was reached (HTTP 429); wait and try again")
                raise _SessionError(f"Bluesky login failed (HTTP {resp.status_code}{': ' + said if said else ''})")
            data = _json(resp)
            if not data.get("accessJwt") or not data.get("did"):
                raise _SessionError("Bluesky login answered without a session; is api_url a PDS?")
            self._session = {
                "accessJwt": str(data["accessJwt"]),
                "refreshJwt": str(data.get("refreshJwt") or ""),
                "did": str(data["did"]),
                "handle": str(data.get("handle") or identifier),
            }
            return self._session

    def _secrets(self) -> list[str]:
        out = [self._password]
        if self._session:
            out.append(self._session["accessJwt"])
        return out

    async def _target(self, item: Item, session: dict[str, str]) -> ReplyTarget | str:
        uri = _bluesky_uri(item)
        if uri is None:
            return "this item has no Bluesky post address (at:// uri or bsky.app link) to reply to"
        resp = await self._client.get(
            f"{self.base}/xrpc/app.bsky.feed.getPosts",
            params={"uris": uri},
            headers={"Authorization": f"Bearer {session['accessJwt']}"},
            timeout=self.timeout,
            follow_redirects=False,
        )
        if resp.status_code != 200:
            return f"could not look up the post to reply to (HTTP {resp.status_code})"
        posts = _json(resp).get("posts")
        if not isinstance(posts, list) or not posts or not isinstance(posts[0], dict):
            return "the post to reply to was not found; it may have been deleted"
        post = posts[0]
        root_uri = root_cid = None
        record = post.get("record") if isinstance(post.get("record"), dict) else {}
        reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
        root = reply.get("root") if isinstance(reply.get("root"), dict) else {}
        if root.get("uri") and root.get("cid"):
            root_uri, root_cid = str(root["uri"]), str(root["cid"])
        if not post.get("uri") or not post.get("cid"):
            return "the post to reply to came back without its cid"
        return ReplyTarget(str(post["uri"]), str(post["cid"]), root_uri, root_cid)

    def record(self, text: str, target: ReplyTarget | None, language: str | None = None) -> dict[str, Any]:
        """The ``app.bsky.feed.post`` record that :meth:`post` creates (``target`` None: a
        statement, not a reply)."""
        record: dict[str, Any] = {
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": _now_iso(),
        }
        if target is not None:
            record["reply"] = {
                "root": {"uri": target.root_uri or target.uri, "cid": target.root_cid or target.cid},
                "parent": {"uri": target.uri, "cid": target.cid},
            }
        if language:
            record["langs"] = [language]
        facets = link_facets(text)
        if facets:
            record["facets"] = facets
        return record

    async def post(
        self, item: Item, text: str, *, language: str | None = None, target: ReplyTarget | None = None
    ) -> PostResult:
        """Reply to ``item`` (or to ``target``) with ``text``."""
        return await self._create(item, text, language=language, target=target, reply=True)

    async def statement(self, text: str, *, language: str | None = None) -> PostResult:
        """Post ``text`` as our own post: not a reply, nobody mentioned."""
        return await self._create(None, text, language=language, target=None, reply=False)

    async def _create(
        self, item: Item | None, text: str, *, language: str | None, target: ReplyTarget | None, reply: bool
    ) -> PostResult:
        what = "the reply" if reply else "the post"
        reason = why_cannot_post(self.account.platform, self.account, self._env)
        if reason:
            return PostResult(False, error=reason)
        length = length_check(text, "bluesky")
        if not length.ok:
            return PostResult(False, error=_too_long(length, "Bluesky").replace("the reply", what))
        url = f"{self.base}/xrpc/com.atproto.repo.createRecord"
        try:
            for attempt in (1, 2):
                session = await self._ensure_session()
                if reply and target is None:
                    assert item is not None
                    found = await self._target(item, session)
                    if isinstance(found, str):
                        return PostResult(False, error=_scrub(found, self._secrets()))
                    target = found
                resp = await self._post_on_origin(
                    url,
                    {
                        "repo": session["did"],
                        "collection": "app.bsky.feed.post",
                        "record": self.record(text, target if reply else None, language),
                    },
                    headers={"Authorization": f"Bearer {session['accessJwt']}"},
                    purpose="reply" if reply else "post",
                    secret="the session token",
                )
                if await self._expired(resp) and attempt == 1:
                    continue
                break
        except _SessionError as exc:
            return PostResult(False, error=_scrub(str(exc), self._secrets()))
        except httpx.HTTPError as exc:
            return _network_failure(exc, "Bluesky", self.base, self.timeout, self._secrets(), what)
        if resp.status_code != 200:
            return _http_failure(resp.status_code, self._error(resp, what), self._secrets())
        data = _json(resp)
        uri = str(data.get("uri") or "")
        if not uri:
            return PostResult(
                False, error="Bluesky answered without the new post's address; check before retrying", uncertain=True
            )
        return PostResult(True, url=self._web_url(session, uri), id=one_line(uri, limit=512))

    async def _expired(self, resp: httpx.Response) -> bool:
        """True (and the session dropped) when the server says the token expired."""
        expired = resp.status_code in (400, 401) and _json(resp).get("error") in ("ExpiredToken", "InvalidToken")
        if expired:
            async with self._lock:
                self._session = None
        return expired

    @staticmethod
    def _web_url(session: Mapping[str, str], uri: str) -> str:
        rkey = uri.rsplit("/", 1)[-1]
        return one_line(f"https://bsky.app/profile/{session.get('handle') or session['did']}/post/{rkey}", limit=2048)

    def _ours(self, authority: str, session: Mapping[str, str]) -> bool:
        mine = {
            session.get("did", ""),
            session.get("handle", "").casefold(),
            self.account.handle.strip().lstrip("@").casefold(),
        }
        return authority.casefold() in mine or authority in mine

    async def delete(self, item: Item) -> PostResult:
        """Delete our own post ``item`` (``com.atproto.repo.deleteRecord``).

        Refused without a request when the post's ``at://`` uri names another account:
        a PDS only deletes from its own repo anyway, and the message should say why.
        """
        reason = why_cannot_post(self.account.platform, self.account, self._env)
        if reason:
            return PostResult(False, error=reason.replace("copy the reply and post it by hand", "delete it by hand"))
        uri = _bluesky_uri(item)
        m = re.match(r"^at://([^/]+)/([^/]+)/([A-Za-z0-9._~:-]+)$", uri or "")
        if m is None:
            return PostResult(False, error="this item has no Bluesky post address (at:// uri or bsky.app link) to delete")
        authority, collection, rkey = m.groups()
        url = f"{self.base}/xrpc/com.atproto.repo.deleteRecord"
        try:
            for attempt in (1, 2):
                session = await self._ensure_session()
                if not self._ours(authority, session):
                    return PostResult(
                        False,
                        error=f"this post is not from our account {one_line(self.account.handle, limit=100)}; "
                        "only our own posts can be deleted",
                    )
                resp = await self._post_on_origin(
                    url,
                    {"repo": session["did"], "collection": collection, "rkey": rkey},
                    headers={"Authorization": f"Bearer {session['accessJwt']}"},
                    purpose="delete",
                    secret="the session token",
                )
                if await self._expired(resp) and attempt == 1:
                    continue
                break
        except _SessionError as exc:
            return PostResult(False, error=_scrub(str(exc), self._secrets()))
        except httpx.HTTPError as exc:
            return _network_failure(exc, "Bluesky", self.base, self.timeout, self._secrets(), "the delete")
        if resp.status_code != 200:
            return _http_failure(resp.status_code, self._error(resp, "the delete"), self._secrets())
        return PostResult(True, url=self._web_url(session, uri or ""), id=one_line(uri, limit=512))

    async def find_own_post(self, text: str, since: datetime) -> FoundPost:
        """Our recent post with exactly this text, created after ``since`` (give or take
        :data:`CLOCK_SLACK`): ``com.atproto.repo.listRecords`` on our repo."""
        reason = why_cannot_post(self.account.platform, self.account, self._env)
        if reason:
            return FoundPost(False, error=reason)
        try:
            for attempt in (1, 2):
                session = await self._ensure_session()
                resp = await self._client.get(
                    f"{self.base}/xrpc/com.atproto.repo.listRecords",
                    params={"repo": session["did"], "collection": "app.bsky.feed.post", "limit": "50"},
                    headers={"Authorization": f"Bearer {session['accessJwt']}"},
                    timeout=self.timeout,
                    follow_redirects=False,
                )
                if await self._expired(resp) and attempt == 1:
                    continue
                break
        except _SessionError as exc:
            return FoundPost(False, error=_scrub(str(exc), self._secrets()))
        except httpx.HTTPError as exc:
            return FoundPost(
                False, error=_scrub(_network_error(exc, "Bluesky", self.base, self.timeout, "the lookup"), self._secrets())
            )
        if resp.status_code != 200:
            return FoundPost(False, error=f"could not list our recent Bluesky posts (HTTP {resp.status_code})")
        records = _json(resp).get("records")
        if not isinstance(records, list):
            return FoundPost(False, error="Bluesky's list of our posts was not a list")
        for rec in records:
            value = rec.get("value") if isinstance(rec, dict) else None
            if not isinstance(value, dict) or not rec.get("uri"):
                continue
            created = _parse_iso(value.get("createdAt"))
            if created is None or created < since - CLOCK_SLACK:
                continue
            if value.get("text") == text:
                uri = one_line(rec["uri"], limit=512)
                return FoundPost(True, id=uri, url=self._web_url(session, uri))
        return FoundPost(True)

    def _error(self, resp: httpx.Response, what: str = "the reply") -> str:
        said = _server_says(resp)
        code = resp.status_code
        if code == 401:
            return f"Bluesky refused the session (HTTP 401{', ' + said if said else ''}); check ${self.account.password_env}"
        if code == 429:
            return "Bluesky's rate limit was reached (HTTP 429); wait a few minutes and try again"
        if code >= 500:
            return f"the Bluesky server had a problem (HTTP {code}); try again shortly"
        return f"Bluesky did not accept {what} (HTTP {code}{': ' + said if said else ''})"


def account_by_handle(config: Config, handle: str, platform: str | None = None) -> Account | None:
    """Our configured account with this handle (``@`` and case aside), on ``platform`` if given."""
    want = handle.strip().lstrip("@").casefold()
    for account in config.organisation.accounts:
        if account.handle.strip().lstrip("@").casefold() != want:
            continue
        if platform is None or (platform_key(account.platform) or account.platform.casefold()) == (
            platform_key(platform) or platform.casefold()
        ):
            return account
    return None



class Poster:
    """Posts replies for the whole app: picks our account on the item's platform, keeps
    one Bluesky session per account, and knows which Mastodon ids are ours.

    Use one per app (``await poster.aclose()`` on exit).  Every method returns a
    :class:`PostResult`; nothing here raises for network or server trouble.
    """

    def __init__(
        self,
        config: Config,
        *,
        client: httpx.AsyncClient | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        sessions: Sessions | None = None,
    ) -> None:
        self.config = config
        self.timeout = timeout
        self._env = os.environ if env is None else env
        self._client, self._owned = _client(client, timeout)
        self._bluesky: dict[str, BlueskyPoster] = {}
        #: Bluesky sessions, per account; the monitor's store when reading shares them.
        self.sessions: Sessions = {} if sessions is None else sessions

    def account(self, item: Item) -> Account | None:
        from .replies import account_for

        return account_for(item, self.config)

    def can_post(self, item: Item) -> bool:
        return can_post(item.platform, self.account(item), self._env)

    def why_not(self, item: Item) -> str | None:
        return why_cannot_post(item.platform, self.account(item), self._env)

    def why_cannot(self, account: Account | None, platform: str | None = None) -> str | None:
        """Why ``account`` cannot post (or delete) through an API here, or ``None``."""
        return why_cannot_post(platform or (account.platform if account else None), account, self._env)

    def _source_host(self, item: Item) -> str:
        for source in self.config.sources:
            if source.name == item.source:
                return _host(getattr(source, "url", None))
        return ""

    async def reply(
        self,
        item: Item,
        text: str,
        *,
        account: Account | None = None,
        language: str | None = None,
        target: ReplyTarget | None = None,
    ) -> PostResult:
        account = account or self.account(item)
        platform = account.platform if account else item.platform
        reason = why_cannot_post(platform, account, self._env)
        if reason:
            return PostResult(False, error=reason)
        assert account is not None
        key = platform_key(platform)
        if key == "mastodon":
            source_host = self._source_host(item)
            resolve = None if not source_host else source_host != _host(account.api_url)
            return await post_mastodon(
                account, item, text, language=language, resolve=resolve,
                client=self._client, env=self._env, timeout=self.timeout,
            )
        return await self._bluesky_poster(account).post(item, text, language=language, target=target)

    def _bluesky_poster(self, account: Account) -> BlueskyPoster:
        poster = self._bluesky.get(account.handle)
        if poster is None:
            poster = BlueskyPoster(account, client=self._client, env=self._env, timeout=self.timeout,
                                   sessions=self.sessions)
            self._bluesky[account.handle] = poster
        return poster

    def account_by_handle(self, handle: str, platform: str | None = None) -> Account | None:
        """Our configured account with this handle (and platform, when given)."""
        return account_by_handle(self.config, handle, platform)

    async def statement(
        self, account: Account, text: str, *, key: str, language: str | None = None
    ) -> PostResult:
        """Post ``text`` as ``account``'s own post (not a reply, no mention).

        ``key``: the idempotency key, the same for every attempt at this post (see
        :func:`idempotency_key`); Mastodon gets it as ``Idempotency-Key``.
        """
        reason = why_cannot_post(account.platform, account, self._env)
        if reason:
            return PostResult(False, error=reason)
        if platform_key(account.platform) == "mastodon":
            return await mastodon_statement(
                account, text, key=key, language=language, client=self._client, env=self._env, timeout=self.timeout
            )
        return await self._bluesky_poster(account).statement(text, language=language)

    async def delete(self, item: Item, *, account: Account | None = None) -> PostResult:
        """Delete our own post ``item`` through ``account`` (default: ours on its platform)."""
        account = account or self.account(item)
        platform = account.platform if account else item.platform
        reason = why_cannot_post(platform, account, self._env)
        if reason:
            return PostResult(False, error=reason.replace("copy the reply and post it by hand", "delete it by hand"))
        assert account is not None
        if platform_key(platform) == "mastodon":
            source_host = self._source_host(item)
            resolve = None if not source_host else source_host != _host(account.api_url)
            return await mastodon_delete(
                account, item, resolve=resolve, client=self._client, env=self._env, timeout=self.timeout
            )
        return await self._bluesky_poster(account).delete(item)

    async def find_own_post(self, account: Account, text: str, since: datetime) -> FoundPost:
        """Whether ``account`` posted exactly ``text`` after ``since`` (see :class:`FoundPost`)."""
        reason = why_cannot_post(account.platform, account, self._env)
        if reason:
            return FoundPost(False, error=reason)
        if platform_key(account.platform) == "mastodon":
            return await mastodon_find_own(
                account, text, since, client=self._client, env=self._env, timeout=self.timeout
            )
        return await self._bluesky_poster(account).find_own_post(text, since)

    async def aclose(self) -> None:
        if self._owned:
            await self._client.aclose()
