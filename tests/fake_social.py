"""Local servers that speak the parts of the Mastodon and Bluesky APIs watchtower posts through.

They run on pytest-httpserver (127.0.0.1) and behave like the real services where it
matters for "never twice": Mastodon answers a repeated ``Idempotency-Key`` with the status
it already made, every status and record is kept and listed back (newest first), and
every request is counted.  ``hold`` makes a POST wait (after the status was made) until a
test releases it, to freeze a sender mid-request.
"""

from __future__ import annotations

import html
import itertools
import json
import re
import threading
from datetime import datetime, timezone
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

TOKEN = "s3cret-mastodon-token-1234"
PASSWORD = "abcd-efgh-ijkl-mnop"
JWT = "eyJ.access.jwt-5678"
DID = "did:plc:ourlibrary"
BSKY_HANDLE = "bibzuidstad.bsky.social"
ENV = {"WT_MASTODON_TOKEN": TOKEN, "WT_BSKY_PASSWORD": PASSWORD}


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status, content_type="application/json")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_URL = re.compile(r"https?://\S+")


def mastodon_html(text: str) -> str:
    """Status text as Mastodon renders ``content``: paragraphs, <br />, links cut with spans."""

    def link(url: str) -> str:
        scheme, _, rest = url.partition("://")
        return (
            f'<a href="{html.escape(url)}" rel="nofollow noopener" target="_blank">'
            f'<span class="invisible">{scheme}://</span><span class="ellipsis">{html.escape(rest[:20])}</span>'
            f'<span class="invisible">{html.escape(rest[20:])}</span></a>'
        )

    def para(raw: str) -> str:
        out, pos = [], 0
        for m in _URL.finditer(raw):
            out.append(html.escape(raw[pos : m.start()]))
            out.append(link(m.group()))
            pos = m.end()
        out.append(html.escape(raw[pos:]))
        return "<p>" + "".join(out).replace("\n", "<br />") + "</p>"

    return "".join(para(p) for p in text.split("\n\n"))


class FakeMastodon:
    """``/api/v1/statuses`` (POST, DELETE), ``verify_credentials``, our account's statuses."""

    def __init__(self, server: HTTPServer, *, token: str = TOKEN, account_id: str = "42", username: str = "bieb") -> None:
        self.server = server
        self.token = token
        self.account_id = account_id
        self.username = username
        self.base = server.url_for("/").rstrip("/")
        self.lock = threading.Lock()
        self.statuses: list[dict[str, Any]] = []
        self.by_key: dict[str, dict[str, Any]] = {}
        self.posts = 0
        """POST /api/v1/statuses requests received (a repeated key is counted too)."""
        self.bodies: list[dict[str, Any]] = []
        self.keys: list[str | None] = []
        self.deleted: list[str] = []
        self.hold: threading.Event | None = None
        self.holding = threading.Event()
        """Set while a POST is held (the status is made, the answer not sent)."""
        self.fail_next: list[tuple[int, dict[str, Any]]] = []
        """Answers for the next POSTs, given before any status is made (nothing posted)."""
        self.lose_answer: list[int] = []
        """HTTP codes for the next POSTs, given *after* the status is made (a proxy timing out)."""
        self._ids = itertools.count(1000)
        server.expect_request("/api/v1/statuses", method="POST").respond_with_handler(self._post)
        server.expect_request(re.compile(r"^/api/v1/statuses/[^/]+$"), method="DELETE").respond_with_handler(self._delete)
        server.expect_request("/api/v1/accounts/verify_credentials", method="GET").respond_with_handler(self._me)
        server.expect_request(re.compile(r"^/api/v1/accounts/[^/]+/statuses$"), method="GET").respond_with_handler(self._list)

    def _authorised(self, request: Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    def status(self, text: str, *, sid: str | None = None, created_at: str | None = None) -> dict[str, Any]:
        """Add a status of ours as if posted elsewhere (in the web UI)."""
        sid = sid or str(next(self._ids))
        status = {
            "id": sid,
            "created_at": created_at or _now(),
            "content": mastodon_html(text),
            "url": f"{self.base}/@{self.username}/{sid}",
            "uri": f"{self.base}/users/{self.username}/statuses/{sid}",
            "account": {"id": self.account_id, "acct": self.username},
        }
        with self.lock:
            self.statuses.append(status)
        return status

    def _post(self, request: Request) -> Response:
        if not self._authorised(request):
            return _json({"error": "The access token is invalid"}, 401)
        body = json.loads(request.data)
        key = request.headers.get("Idempotency-Key")
        with self.lock:
            self.posts += 1
            self.bodies.append(body)
            self.keys.append(key)
            if self.fail_next:
                code, answer = self.fail_next.pop(0)
                return _json(answer, code)
            existing = self.by_key.get(key) if key else None
        if existing is not None:
            return _json(existing)
        status = self.status(body["status"])
        status["in_reply_to_id"] = body.get("in_reply_to_id")
        if key:
            with self.lock:
                self.by_key[key] = status
        if self.hold is not None:
            self.holding.set()
            self.hold.wait(timeout=300)
        with self.lock:
            lost = self.lose_answer.pop(0) if self.lose_answer else None
        if lost is not None:
            return Response("<html>Gateway Timeout</html>", lost, content_type="text/html")
        return _json(status)

    def _delete(self, request: Request) -> Response:
        if not self._authorised(request):
            return _json({"error": "The access token is invalid"}, 401)
        sid = request.path.rsplit("/", 1)[-1]
        with self.lock:
            found = next((s for s in self.statuses if s["id"] == sid), None)
            if found is None:
                return _json({"error": "Record not found"}, 404)
            self.statuses.remove(found)
            self.deleted.append(sid)
        return _json({**found, "text": html.unescape(re.sub(r"<[^>]+>", "", found["content"]))})

    def _me(self, request: Request) -> Response:
        if not self._authorised(request):
            return _json({"error": "The access token is invalid"}, 401)
        return _json({"id": self.account_id, "username": self.username, "acct": self.username})

    def _list(self, request: Request) -> Response:
        if not self._authorised(request):
            return _json({"error": "The access token is invalid"}, 401)
        if request.path.split("/")[-2] != self.account_id:
            return _json([])
        with self.lock:
            return _json(list(reversed(self.statuses))[: int(request.args.get("limit", "20"))])

    @property
    def created(self) -> int:
        """Statuses made by POSTs (a repeated idempotency key makes none)."""
        with self.lock:
            return len(self.by_key) + sum(1 for k in self.keys if k is None)


class FakeBluesky:
    """A PDS: createSession, createRecord, deleteRecord, listRecords, getPosts."""

    def __init__(self, server: HTTPServer, *, did: str = DID, handle: str = BSKY_HANDLE, password: str = PASSWORD) -> None:
        self.did = did
        self.handle = handle
        self.password = password
        self.lock = threading.Lock()
        self.records: dict[str, dict[str, Any]] = {}
        self.order: list[str] = []
        self.creates = 0
        self.deletes: list[dict[str, Any]] = []
        self.sessions = 0
        self.hold: threading.Event | None = None
        self.holding = threading.Event()
        self.lose_answer: list[int] = []
        """HTTP codes for the next createRecords, given after the record is made."""
        self._rkeys = itertools.count(1)
        server.expect_request("/xrpc/com.atproto.server.createSession", method="POST").respond_with_handler(self._session)
        server.expect_request("/xrpc/com.atproto.repo.createRecord", method="POST").respond_with_handler(self._create)
        server.expect_request("/xrpc/com.atproto.repo.deleteRecord", method="POST").respond_with_handler(self._delete)
        server.expect_request("/xrpc/com.atproto.repo.listRecords", method="GET").respond_with_handler(self._list)

    def _authorised(self, request: Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {JWT}"

    def _session(self, request: Request) -> Response:
        body = json.loads(request.data)
        if body.get("identifier") != self.handle or body.get("password") != self.password:
            return _json({"error": "AuthenticationRequired", "message": "Invalid identifier or password"}, 401)
        with self.lock:
            self.sessions += 1
        return _json({"accessJwt": JWT, "refreshJwt": "r", "did": self.did, "handle": self.handle})

    def record(self, text: str, *, created_at: str | None = None, rkey: str | None = None) -> str:
        """Add a post of ours as if posted in the app; returns its at:// uri."""
        rkey = rkey or f"3k{next(self._rkeys):04d}"
        uri = f"at://{self.did}/app.bsky.feed.post/{rkey}"
        with self.lock:
            self.records[rkey] = {
                "uri": uri,
                "cid": f"bafy{rkey}",
                "value": {"$type": "app.bsky.feed.post", "text": text, "createdAt": created_at or _now()},
            }
            self.order.append(rkey)
        return uri

    def _create(self, request: Request) -> Response:
        if not self._authorised(request):
            return _json({"error": "InvalidToken"}, 401)
        body = json.loads(request.data)
        if body.get("repo") != self.did or body.get("collection") != "app.bsky.feed.post":
            return _json({"error": "InvalidRequest", "message": "wrong repo or collection"}, 400)
        with self.lock:
            self.creates += 1
        rkey = f"3k{next(self._rkeys):04d}"
        uri = f"at://{self.did}/app.bsky.feed.post/{rkey}"
        with self.lock:
            self.records[rkey] = {"uri": uri, "cid": f"bafy{rkey}", "value": body["record"]}
            self.order.append(rkey)
        if self.hold is not None:
            self.holding.set()
            self.hold.wait(timeout=300)
        with self.lock:
            lost = self.lose_answer.pop(0) if self.lose_answer else None
        if lost is not None:
            return Response("<html>Bad Gateway</html>", lost, content_type="text/html")
        return _json({"uri": uri, "cid": f"bafy{rkey}"})

    def _delete(self, request: Request) -> Response:
        if not self._authorised(request):
            return _json({"error": "InvalidToken"}, 401)
        body = json.loads(request.data)
        with self.lock:
            self.deletes.append(body)
            if body.get("repo") == self.did:
                self.records.pop(body.get("rkey"), None)
        return _json({"commit": {"cid": "bafycommit", "rev": "3rev"}})

    def _list(self, request: Request) -> Response:
        if not self._authorised(request):
            return _json({"error": "InvalidToken"}, 401)
        if request.args.get("repo") != self.did:
            return _json({"records": []})
        limit = int(request.args.get("limit", "50"))
        with self.lock:
            newest = [self.records[k] for k in reversed(self.order) if k in self.records][:limit]
        return _json({"records": newest})

    @property
    def posts(self) -> list[str]:
        with self.lock:
            return [self.records[k]["value"]["text"] for k in self.order if k in self.records]


def social_config(server: HTTPServer, **organisation: Any) -> dict[str, Any]:
    """A config document with our Mastodon, Bluesky and X accounts on ``server``."""
    base = server.url_for("/").rstrip("/")
    org: dict[str, Any] = {
        "name": "Bibliotheek Zuidstad",
        "timezone": "Europe/Amsterdam",
        "qa_url": "https://bibliotheekzuidstad.nl/qa",
        "accounts": [
            {"platform": "Mastodon", "handle": "@bieb@localhost", "name": "Bieb Zuidstad", "colour": "green",
             "token_env": "WT_MASTODON_TOKEN", "api_url": base},
            {"platform": "Bluesky", "handle": BSKY_HANDLE, "name": "Bibliotheek Zuidstad", "colour": "blue",
             "password_env": "WT_BSKY_PASSWORD", "api_url": base},
            {"platform": "X", "handle": "@bibzuidstad", "name": "Bieb on X", "colour": "magenta"},
        ],
    }
    org.update(organisation)
    return {"organisation": org}
