"""The one HTTP client: every connector fetches through :class:`HttpFetcher`.

httpx's defaults are not enough against a hostile or broken server (docs/threat-model.md,
T5): its timeouts are per socket operation (a 1-byte-per-2-s drip never trips
them), it has no body cap, and it inflates gzip in memory (a 261 KB bomb became 256 MiB).
So this module adds, per request:

- a total deadline (``asyncio.timeout``) around connect, redirects and body;
- a raw body cap (5 MiB) counted on ``iter_raw()`` and a decoded cap (20 MiB) enforced by
  our own ``zlib.decompressobj`` with ``max_length``, so a bomb never inflates past the cap;
- redirects followed by hand: at most 5, http/https only, credentials dropped when the
  redirect leaves the origin; a request whose *body* holds a secret (a login with the
  password) is never sent to another origin at all: its cross-origin redirect is an error
  (``secret_in_body``), since a 307/308 would re-send the body as it is;
- no cookies kept between requests (one source cannot set state for another);
- errors as :class:`~watchtower.errors.SourceError` in plain, safe words.

This module never imports :mod:`watchtower.core.sources`: the connectors sit above it
(docs/architecture.md).

One :class:`httpx.AsyncClient` is shared for the app's lifetime, so its connection pool
is also the global limit on concurrent connections.  Requests go straight to its
transport (this module already does redirects, timeouts and bodies, and wants no
cookies), and that transport runs httpcore on plain asyncio with a pool that gives each
connection to one request at a time (:mod:`watchtower.core.fetch.transport`): a warm round of
200 conditional GETs costs half the CPU it did through the stock stack.
"""

from __future__ import annotations

import asyncio
import errno
import http.cookiejar
import socket
import ssl
import time
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Mapping, Protocol

import httpx

from ... import __version__ as _version
from ...errors import SourceError
from ..models import utcnow
from ..text.safetext import one_line
from .httpx_compat import default_transport, transport_for

__all__ = [
    "HttpFetcher",
    "Fetched",
    "USER_AGENT",
    "MAX_BODY",
    "MAX_DECODED",
    "MAX_REDIRECTS",
    "parse_retry_after",
    "record_rate_limit",
    "safe_validator",
    "origin_label",
]

USER_AGENT = f"watchtower/{_version} (social-media incident monitor)"
MAX_BODY = 5 * 1024 * 1024
MAX_DECODED = 20 * 1024 * 1024
MAX_REDIRECTS = 5
#: A server cannot silence a source for longer than this with one Retry-After.
MAX_RETRY_AFTER = 6 * 3600.0

_REDIRECTS = (301, 302, 303, 307, 308)
#: Parsed URLs kept per fetcher (one per source, plus redirect targets).
_PARSED_URLS = 4096
_CHUNK = 64 * 1024


#: Request headers that may follow a redirect to another origin: none can carry a secret.
#: Everything else a caller set (Authorization, Cookie, X-Api-Key, a source's own
#: ``headers``) is dropped there.
_SAFE_ACROSS_ORIGINS = frozenset(
    {"accept", "accept-language", "if-none-match", "if-modified-since", "content-type", "user-agent"}
)


@dataclass(slots=True)
class Fetched:
    """A completed response whose body is already read, capped and decoded."""

    status: int
    headers: httpx.Headers
    body: bytes
    url: str
    """The final URL, after redirects."""
    elapsed: float
    reason: str = ""
    rate_limit_remaining: int | None = None
    rate_limit_reset: datetime | None = None
    redirects: list[str] = field(default_factory=list)

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):g} MiB"


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or utcnow())).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


def _parse_reset(value: str | None, now: datetime) -> datetime | None:
    """A rate-limit reset as Mastodon (ISO time), Reddit (seconds left) or epoch seconds."""
    if not value:
        return None
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
    if number != number or number < 0:
        return None
    try:
        if number > 1e9:
            return datetime.fromtimestamp(number, timezone.utc)
        return now + timedelta(seconds=min(number, MAX_RETRY_AFTER))
    except (OverflowError, OSError, ValueError):
        return None


def _parse_remaining(value: str | None) -> int | None:
    if not value:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    if number != number or number < 0 or number > 1e12:
        return None
    return int(number)


class RateLimitState(Protocol):
    """Where :func:`record_rate_limit` writes: the poller's
    :class:`~watchtower.core.sources.base.SourceState` (named by shape, so that this
    module does not import the connectors)."""

    rate_limit_remaining: int | None
    rate_limit_reset: datetime | None


def record_rate_limit(state: RateLimitState, fetched: Fetched) -> None:
    """Copy a response's rate-limit headers into the poller's state for that source."""
    if fetched.rate_limit_remaining is not None:
        state.rate_limit_remaining = fetched.rate_limit_remaining
        state.rate_limit_reset = fetched.rate_limit_reset


def safe_validator(value: str | None) -> str | None:
    """An ETag/Last-Modified we can send back: printable ASCII and bounded.

    It comes from the server; one with a newline would make every later request fail.
    """
    if not value or len(value) > 512 or not all(" " <= ch <= "~" for ch in value):
        return None
    return value


class _Decoder:
    """Content-Encoding decoding with a hard cap on the decoded size."""

    def __init__(self, encoding: str, cap: int) -> None:
        codings = [c.strip().lower() for c in encoding.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        if len(codings) > 1:
            raise SourceError("response uses stacked content encodings, which are not supported")
        self.coding = codings[0] if codings else ""
        if self.coding not in ("", "gzip", "x-gzip", "deflate"):
            raise SourceError(f"response uses unsupported content encoding {one_line(self.coding, limit=40)!r}")
        self.cap = cap
        self.out = bytearray()
        self._z: Any = None
        self._raw_deflate_tried = False
        if self.coding:
            # 47 = 32 + 15: accept both gzip and zlib headers.
            self._z = zlib.decompressobj(wbits=47)

    def _too_big(self) -> SourceError:
        return SourceError(f"response larger than {_mib(self.cap)} once decompressed")

    def feed(self, chunk: bytes) -> None:
        if self._z is None:
            self.out += chunk
            if len(self.out) > self.cap:
                raise self._too_big()
            return
        data = chunk
        while data:
            try:
                piece = self._z.decompress(data, self.cap - len(self.out) + 1)
            except zlib.error:
                if self.coding == "deflate" and not self._raw_deflate_tried and not self.out:
                    # Some servers send raw deflate without the zlib header.
                    self._raw_deflate_tried = True
                    self._z = zlib.decompressobj(wbits=-15)
                    continue
                raise SourceError("response body is corrupt (bad compressed data)") from None
            self.out += piece
            if len(self.out) > self.cap:
                raise self._too_big()
            if self._z.unconsumed_tail:
                data = self._z.unconsumed_tail
            elif self._z.eof and self._z.unused_data:
                # Concatenated gzip members: start the next one.
                data = self._z.unused_data
                self._z = zlib.decompressobj(wbits=47)
            else:
                data = b""

    def finish(self) -> bytes:
        if self._z is not None:
            try:
                self.out += self._z.flush()
            except zlib.error:
                raise SourceError("response body is corrupt (bad compressed data)") from None
            if len(self.out) > self.cap:
                raise self._too_big()
        return bytes(self.out)


_REASONS: dict[str, str] = {}


def _reason(phrase: str) -> str:
    """The server's reason phrase, cleaned (it is shown); the few common ones are cached."""
    clean = _REASONS.get(phrase)
    if clean is None:
        clean = one_line(phrase, limit=80)
        if len(_REASONS) < 64:
            _REASONS[phrase] = clean
    return clean


def _connect_words(exc: BaseException) -> str:
    """Turn a connect failure into words; never the raw exception text (it may hold URLs)."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, ConnectionRefusedError) or getattr(cur, "errno", None) == errno.ECONNREFUSED:
            return "connection refused"
        if isinstance(cur, socket.gaierror):
            return "host not found (DNS lookup failed)"
        if isinstance(cur, ssl.SSLCertVerificationError):
            return "TLS certificate not trusted"
        if isinstance(cur, ssl.SSLError):
            return "TLS handshake failed"
        cur = cur.__cause__ or cur.__context__
    text = str(exc).lower()
    if "refused" in text:
        return "connection refused"
    if "name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
        return "host not found (DNS lookup failed)"
    if "certificate" in text:
        return "TLS certificate not trusted"
    if "ssl" in text or "tls" in text:
        return "TLS handshake failed"
    return "could not connect"


def _check_scheme(url: httpx.URL, *, redirect: bool) -> None:
    if url.scheme not in ("http", "https") or not url.host:
        if redirect:
            raise SourceError("redirect to a non-http(s) URL refused", permanent=True)
        raise SourceError("only http:// and https:// URLs can be fetched", permanent=True)


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


def origin_label(target: httpx.URL, origin: httpx.URL) -> str:
    """Where a redirect went, for an error line: ``host[:port]``, with the scheme if it changed."""
    label = target.host + (f":{target.port}" if target.port is not None else "")
    if target.scheme != origin.scheme:
        label = f"{target.scheme}://{label}"
    return one_line(label, limit=120)


class HttpFetcher:
    """One shared, bounded HTTP client for every source.

    Use as ``async with HttpFetcher() as http:`` or call :meth:`aclose` at shutdown.
    The caps are constructor arguments so tests can use small ones.
    """

    def __init__(
        self,
        *,
        max_connections: int = 8,
        max_body: int = MAX_BODY,
        max_decoded: int = MAX_DECODED,
        max_redirects: int = MAX_REDIRECTS,
        timeout: httpx.Timeout | None = None,
        user_agent: str = USER_AGENT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.max_body = max_body
        self._slots = asyncio.Semaphore(max_connections)
        self.max_decoded = max_decoded
        self.max_redirects = max_redirects
        self.user_agent = user_agent
        # No pool timeout: with many sources a poll may queue for a connection; the
        # per-request deadline bounds that wait instead of a spurious PoolTimeout.
        timeout = timeout or httpx.Timeout(10.0, connect=5.0, pool=None)
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        # The client holds the transports and closes them: its default one, and one per
        # proxy from the environment (HTTP_PROXY, NO_PROXY...; only when no transport is
        # given, as httpx does).  Requests skip its send machinery (see _one), so its
        # cookie jar, which accepts nothing anyway, never even sees a response.
        jar = http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        self._client = httpx.AsyncClient(
            timeout=timeout, limits=limits, follow_redirects=False, cookies=jar, transport=transport
        )
        stock = default_transport(self._client) if transport is None else None
        if stock is not None:
            from .transport import use_asyncio_pool

            # httpx's default transport, on our asyncio backend and pool (fetch/transport.py,
            # fetch/httpx_compat.py).
            use_asyncio_pool(stock, limits)
        self._extensions = {"timeout": timeout.as_dict()}
        # What httpx would send by default, with our User-Agent and the encodings _Decoder reads.
        self._base_headers = {
            "accept": ("Accept", "*/*"),
            "accept-encoding": ("Accept-Encoding", "gzip, deflate"),
            "connection": ("Connection", "keep-alive"),
            "user-agent": ("User-Agent", user_agent),
        }
        # Sources poll the same URLs again and again; httpx's URL parser is not cheap.
        self._parsed: dict[str, httpx.URL] = {}
        self.requests = 0
        """How many requests went out (each redirect hop counts); tests use it."""

    async def __aenter__(self) -> HttpFetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    @property
    def closed(self) -> bool:
        return self._client.is_closed

    async def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        deadline: float = 30.0,
        params: Any = None,
        raise_for_status: bool = True,
    ) -> Fetched:
        """GET ``url`` within ``deadline`` seconds; a 304 comes back as a normal result."""
        hdrs = dict(headers or {})
        if etag:
            hdrs["If-None-Match"] = etag
        if last_modified:
            hdrs["If-Modified-Since"] = last_modified
        return await self.request(
            "GET", url, headers=hdrs, deadline=deadline, params=params, raise_for_status=raise_for_status
        )

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        params: Any = None,
        deadline: float = 30.0,
        raise_for_status: bool = True,
        secret_in_body: str | None = None,
        purpose: str = "request",
    ) -> Fetched:
        """Send one request (redirects included) under every limit in the module docstring.

        With ``raise_for_status=False`` an error status comes back as a :class:`Fetched`
        (the body still capped), for APIs whose error bodies say what went wrong; 429 and
        503 with ``Retry-After`` always raise, so the wait is never lost.

        ``secret_in_body`` names what the body carries (``"the password"``): a redirect
        to another origin then raises ``"{purpose} redirected to another host (X); not
        sending {secret_in_body} there"`` instead of being followed.  Dropping headers is
        not enough for such a request: a 307/308 re-sends the body unchanged.
        """
        # Wait for a free slot before the deadline starts: with many sources polling at
        # once, httpcore's own queue grows costly to manage (measured: ~30 % of a warm
        # round of 200 feeds), and waiting for a slot is not the server's slowness.
        async with self._slots:
            start = time.monotonic()
            try:
                async with asyncio.timeout(deadline):
                    return await self._request(
                        method, url, headers, json, params, start, raise_for_status, secret_in_body, purpose
                    )
            except TimeoutError:
                raise SourceError(f"timed out after {deadline:g} s") from None

    async def _request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        json: Any,
        params: Any,
        start: float,
        raise_for_status: bool,
        secret_in_body: str | None = None,
        purpose: str = "request",
    ) -> Fetched:
        try:
            current = self._parsed.get(url) if isinstance(url, str) else None
            if current is None:
                current = httpx.URL(url)
                if isinstance(url, str):
                    if len(self._parsed) >= _PARSED_URLS:
                        self._parsed.clear()
                    self._parsed[url] = current
        except (httpx.InvalidURL, TypeError, ValueError):
            raise SourceError("the URL is not valid", permanent=True) from None
        if params is not None:
            try:
                current = current.copy_merge_params(params)
            except (httpx.InvalidURL, TypeError, ValueError):
                # Parameters can carry what a server sent (a paging cursor): not the
                # config's fault, so the next poll, with fresh state, may well work.
                raise SourceError("a request parameter is not valid text") from None
        _check_scheme(current, redirect=False)
        origin = current
        hdrs = dict(headers or {})
        body_json = json
        hops: list[str] = []
        while True:
            self.requests += 1
            try:
                result = await self._one(method, current, hdrs, body_json, start)
            except httpx.PoolTimeout:
                raise SourceError("timed out waiting for a free connection (too many sources at once)") from None
            except httpx.TimeoutException as exc:
                what = "connecting" if isinstance(exc, httpx.ConnectTimeout) else "waiting for data"
                raise SourceError(f"timed out {what} (no response from the server)") from None
            except httpx.ConnectError as exc:
                raise SourceError(_connect_words(exc)) from None
            except httpx.UnsupportedProtocol:
                raise SourceError("only http:// and https:// URLs can be fetched", permanent=True) from None
            except httpx.RemoteProtocolError:
                raise SourceError("the server broke the HTTP protocol (bad or truncated response)") from None
            except httpx.TransportError as exc:
                raise SourceError(f"network error ({type(exc).__name__})") from None
            if result.status in _REDIRECTS and "location" in result.headers:
                if len(hops) >= self.max_redirects:
                    raise SourceError("too many redirects")
                try:
                    target = current.join(result.headers["location"].strip())
                except (httpx.InvalidURL, ValueError):
                    raise SourceError("redirect to an invalid URL refused") from None
                _check_scheme(target, redirect=True)
                if not _same_origin(origin, target):
                    if secret_in_body is not None:
                        raise SourceError(
                            f"{purpose} redirected to another host ({origin_label(target, origin)}); "
                            f"not sending {secret_in_body} there",
                            permanent=True,
                        )
                    # Never hand a token meant for one host to another: of the caller's
                    # headers only those that cannot carry one go on (a source's own
                    # headers, an API key under any name, stay with the host they were for).
                    hdrs = {k: v for k, v in hdrs.items() if k.lower() in _SAFE_ACROSS_ORIGINS}
                if result.status == 303 or (result.status in (301, 302) and method != "GET"):
                    method, body_json = "GET", None
                hops.append(str(target))
                current = target
                continue
            result.redirects = hops
            return self._check_status(result, raise_for_status)

    async def _one(
        self, method: str, url: httpx.URL, headers: Mapping[str, str], json: Any, start: float
    ) -> Fetched:
        # Straight to the transport: redirects, cookies (none), timeouts and the body are
        # handled here, so httpx's client layer (auth flow, redirect loop, cookie
        # extraction through urllib's request and email objects) would only add cost:
        # about a tenth of a warm round of 200 conditional GETs.
        if self._client.is_closed:  # as httpx's send would: a closed pool must not reconnect
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        merged = self._base_headers
        if headers:
            merged = dict(merged)
            for key, value in headers.items():
                merged[key.lower()] = (key, value)
        request = httpx.Request(method, url, headers=list(merged.values()), json=json, extensions=self._extensions)
        transport = transport_for(self._client, url)
        if transport is not None:
            resp = await transport.handle_async_request(request)
        else:  # httpx_compat's stock path
            resp = await self._client.send(request, stream=True)
        try:
            status = resp.status_code
            if status in _REDIRECTS or status == 304 or method == "HEAD":
                body = b""
                # Drain the (tiny, bounded) body so the connection goes back to the pool;
                # leaving the stream unread made httpcore close it, and a warm round of
                # 304s opened a new TCP connection per feed.
                drained = 0
                async for chunk in resp.aiter_raw(_CHUNK):
                    drained += len(chunk)
                    if drained > 64 * 1024:
                        break
            else:
                length = resp.headers.get("content-length")
                if length and length.strip().isdigit() and int(length) > self.max_body:
                    raise SourceError(f"response larger than {_mib(self.max_body)}")
                decoder = _Decoder(resp.headers.get("content-encoding", ""), self.max_decoded)
                raw = 0
                async for chunk in resp.aiter_raw(_CHUNK):
                    raw += len(chunk)
                    if raw > self.max_body:
                        raise SourceError(f"response larger than {_mib(self.max_body)}")
                    decoder.feed(chunk)
                body = decoder.finish()
            remaining = _parse_remaining(resp.headers.get("x-ratelimit-remaining"))
            return Fetched(
                status=status,
                headers=resp.headers,
                body=body,
                url=str(url),
                elapsed=time.monotonic() - start,
                reason=_reason(resp.reason_phrase),
                rate_limit_remaining=remaining,
                rate_limit_reset=_parse_reset(resp.headers.get("x-ratelimit-reset"), utcnow())
                if remaining is not None
                else None,
            )
        finally:
            await resp.aclose()

    def _check_status(self, result: Fetched, raise_for_status: bool) -> Fetched:
        status = result.status
        if status == 304 or 200 <= status < 300:
            return result
        label = f"HTTP {status} {result.reason}".rstrip()
        if status in (429, 503):
            wait = parse_retry_after(result.headers.get("retry-after"))
            if wait is None and status == 429 and result.rate_limit_reset is not None:
                wait = max(0.0, (result.rate_limit_reset - utcnow()).total_seconds())
            if wait is not None:
                raise SourceError(f"{label} (server asked to wait {wait:.0f} s)", retry_after=wait)
        if not raise_for_status:
            return result
        if status in (401, 403):
            raise SourceError(f"{label} (check the token or permissions)", permanent=True)
        if status in (404, 410):
            raise SourceError(f"{label} (check the URL)", permanent=True)
        raise SourceError(label)
