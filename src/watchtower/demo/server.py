"""The demo's local HTTP server: each platform's document, shaped like the real API's
response, rendered from the entries of :mod:`.script` visible now, on ``127.0.0.1``.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import socket
import threading
import time
from datetime import datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, quote, urlsplit
from xml.sax.saxutils import escape as xml_escape
from zoneinfo import ZoneInfo

from .script import (
    _SCRIPT,
    LOOP_PERIOD,
    MASTODON_TAG,
    MAX_PER_DOC,
    OWN_BLUESKY,
    SCRIPT_END,
    SUBREDDIT,
    TIMEZONE,
    _Entry,
    _loop_entry,
    _place,
)

__all__ = ["DemoServer"]

# --------------------------------------------------------------------------------------
# Platform-shaped ids and helpers


def _h(text: str, n: int = 12) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:n]


_B32 = "234567abcdefghijklmnopqrstuvwxyz"


def _b32(num: int, width: int) -> str:
    out = ""
    for _ in range(width):
        out = _B32[num % 32] + out
        num //= 32
    return out


def _b36(num: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        num, r = divmod(num, 36)
        out = digits[r] + out
        if not num:
            return out


def _x_id(seq: int) -> str:
    return str(1_790_000_000_000_000_000 + seq * 1000)


def _mastodon_id(seq: int) -> str:
    return str(113_500_000_000_000_000 + seq * 1000)


def _bsky_did(handle: str) -> str:
    return "did:plc:" + _b32(int(_h(handle, 30), 16), 24)


def _bsky_uri(e: _Entry) -> str:
    return f"at://{_bsky_did(e.author)}/app.bsky.feed.post/3l{_b32(1_000_000 + e.seq, 11)}"


def _bsky_cid(e: _Entry) -> str:
    return "bafyrei" + _b32(int(_h("cid" + e.key, 50), 16), 52)


def _reddit_id(seq: int) -> str:
    return "1e" + _b36(50_000 + seq)


def _iso_ms(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _iso_fb(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:40] or "post"


_MENTION_RE = re.compile(r"(?<![\w@])@([\w.]+@[\w.-]+\w|[\w.]+)|#(\w+)|(https?://\S+)")


def _mastodon_html(e: _Entry) -> str:
    """Mastodon renders plain text as HTML: paragraphs, h-card mentions, tag links."""
    if e.html:
        return e.html
    domain = e.author.split("@", 1)[1] if "@" in e.author else "mastodon.example"

    def sub(m: re.Match[str]) -> str:
        if m.group(1):
            acct = m.group(1)
            user, _, host = acct.partition("@")
            host = host or domain
            return (f'<span class="h-card"><a href="https://{html.escape(host)}/@{html.escape(user)}" '
                    f'class="u-url mention">@<span>{html.escape(user)}</span></a></span>')
        if m.group(2):
            tag = m.group(2)
            return (f'<a href="https://{domain}/tags/{html.escape(tag.lower())}" class="mention hashtag" '
                    f'rel="tag">#<span>{html.escape(tag)}</span></a>')
        url = m.group(3)
        return f'<a href="{html.escape(url)}" rel="nofollow noopener noreferrer" target="_blank">{html.escape(url)}</a>'

    parts: list[str] = []
    pos = 0
    for m in _MENTION_RE.finditer(e.text):
        parts.append(html.escape(e.text[pos:m.start()], quote=False))
        parts.append(sub(m))
        pos = m.end()
    parts.append(html.escape(e.text[pos:], quote=False))
    return "<p>" + "".join(parts).replace("\n", "<br>") + "</p>"


# --------------------------------------------------------------------------------------
# Document renderers: one per platform, each shaped like the real API's response.


class _Docs:
    """Builds each platform's document from the entries visible now."""

    def __init__(self, entries: list[_Entry], by_key: dict[str, _Entry], base_url: str) -> None:
        self.entries = entries
        self.by_key = by_key
        self.base_url = base_url
        self.all_bluesky = [e for e in entries if e.platform == "Bluesky"]

    def _of(self, platform: str, feed: str | None = None) -> list[_Entry]:
        out = [e for e in self.entries if e.platform == platform and (feed is None or e.feed == feed)]
        out.sort(key=lambda e: (e.published, e.seq), reverse=True)
        return out[:MAX_PER_DOC]

    # ---- X (mapped JSON) ----
    def x(self) -> dict[str, Any]:
        data = []
        for e in self._of("X"):
            tid = _x_id(e.seq)
            tweet: dict[str, Any] = {
                "id": tid,
                "text": e.text,
                "created_at": _iso_ms(e.published),
                "lang": e.lang,
                "author_id": _h("x" + e.author, 10),
                "author": {
                    "id": _h("x" + e.author, 10),
                    "username": e.author,
                    "name": e.name,
                    "public_metrics": {"followers_count": e.followers, "following_count": 300},
                },
                "public_metrics": {
                    "retweet_count": e.reposts, "reply_count": e.replies,
                    "like_count": e.likes, "quote_count": e.reposts // 4,
                },
                "url": f"https://x.example/{e.author}/status/{tid}",
            }
            parent = self.by_key.get(e.reply_to or "")
            if parent is not None:
                tweet["in_reply_to_tweet_id"] = _x_id(parent.seq)
            data.append(tweet)
        meta: dict[str, Any] = {"result_count": len(data)}
        if data:
            meta.update(newest_id=data[0]["id"], oldest_id=data[-1]["id"])
        return {"data": data, "meta": meta}

    # ---- Facebook (mapped JSON) ----
    def facebook(self) -> dict[str, Any]:
        page = "104728391002"
        data = []
        for e in self._of("Facebook"):
            fid = f"{page}_{7_700_000 + e.seq}"
            post: dict[str, Any] = {
                "id": fid,
                "message": e.text,
                "created_time": _iso_fb(e.published),
                "from": {"id": _h("fb" + e.author, 15), "name": e.author, "followers_count": e.followers},
                "permalink_url": f"https://www.facebook.example/{page}/posts/{7_700_000 + e.seq}",
                "reactions": {"summary": {"total_count": e.likes}},
                "comments": {"summary": {"total_count": e.replies}},
                "shares": {"count": e.reposts},
            }
            parent = self.by_key.get(e.reply_to or "")
            if parent is not None:
                post["parent_id"] = f"{page}_{7_700_000 + parent.seq}"
            data.append(post)
        return {"data": data, "paging": {"cursors": {"before": "QVFIUk", "after": "QVFIUl"}}}

    # ---- Instagram (mapped JSON) ----
    def instagram(self) -> dict[str, Any]:
        data = []
        for e in self._of("Instagram"):
            code = _b32(int(_h("ig" + e.key, 20), 16), 11)
            data.append({
                "id": str(17_900_000_000_000_000 + e.seq),
                "caption": e.text,
                "media_type": "IMAGE",
                "timestamp": _iso_fb(e.published),
                "username": e.author,
                "owner": {"id": _h("ig" + e.author, 17), "name": e.name, "followers_count": e.followers},
                "permalink": f"https://www.instagram.example/p/{code}/",
                "like_count": e.likes,
                "comments_count": e.replies,
            })
        return {"data": data, "paging": {"cursors": {"before": "MTc5", "after": "MTc4"}}}

    # ---- Mastodon ----
    def mastodon_status(self, e: _Entry) -> dict[str, Any]:
        user, _, host = e.author.partition("@")
        sid = _mastodon_id(e.seq)
        acc_id = str(109_000_000_000_000_000 + int(_h("m" + e.author, 8), 16) % 1_000_000)
        parent = self.by_key.get(e.reply_to or "")
        mentions = [
            {"id": str(109_100_000_000_000_000 + i), "username": m.split("@")[0], "acct": m,
             "url": f"https://{m.split('@')[1]}/@{m.split('@')[0]}"}
            for i, m in enumerate(re.findall(r"(?<![\w@])@([\w.]+@[\w.-]+\w)", e.text))
        ]
        tags = [{"name": t.lower(), "url": f"https://{host}/tags/{t.lower()}"}
                for t in re.findall(r"#(\w+)", e.text)]
        return {
            "id": sid,
            "created_at": _iso_ms(e.published),
            "in_reply_to_id": _mastodon_id(parent.seq) if parent else None,
            "in_reply_to_account_id": None,
            "sensitive": False,
            "spoiler_text": "",
            "visibility": "public",
            "language": e.lang,
            "uri": f"https://{host}/users/{user}/statuses/{sid}",
            "url": f"https://{host}/@{user}/{sid}",
            "replies_count": e.replies,
            "reblogs_count": e.reposts,
            "favourites_count": e.likes,
            "edited_at": None,
            "content": _mastodon_html(e),
            "reblog": None,
            "application": None,
            "account": {
                "id": acc_id,
                "username": user,
                "acct": e.author,
                "display_name": e.name,
                "locked": False,
                "bot": False,
                "discoverable": True,
                "group": False,
                "created_at": "2022-11-08T00:00:00.000Z",
                "note": "",
                "url": f"https://{host}/@{user}",
                "avatar": f"https://{host}/avatars/original/missing.png",
                "avatar_static": f"https://{host}/avatars/original/missing.png",
                "header": f"https://{host}/headers/original/missing.png",
                "header_static": f"https://{host}/headers/original/missing.png",
                "followers_count": e.followers or 0,
                "following_count": 180,
                "statuses_count": 1200,
                "last_status_at": e.published.astimezone(timezone.utc).date().isoformat(),
                "emojis": [],
                "fields": [],
            },
            "media_attachments": [],
            "mentions": mentions,
            "tags": tags,
            "emojis": [],
            "card": None,
            "poll": None,
        }

    def mastodon(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        entries = [e for e in self.entries if e.platform == "Mastodon"]
        entries.sort(key=lambda e: e.seq)

        def num(name: str) -> int | None:
            v = (query.get(name) or [""])[0]
            return int(v) if v.isdigit() else None

        since, min_id, max_id = num("since_id"), num("min_id"), num("max_id")
        limit = max(1, min(40, num("limit") or 20))
        lower = max(x for x in (since, min_id, -1) if x is not None)
        picked = [e for e in entries if int(_mastodon_id(e.seq)) > lower
                  and (max_id is None or int(_mastodon_id(e.seq)) < max_id)]
        # min_id pages forward from the oldest; since_id/none give the newest page.
        picked = picked[:limit] if min_id is not None else picked[-limit:]
        return [self.mastodon_status(e) for e in reversed(picked)]

    # ---- Bluesky ----
    def bsky_post(self, e: _Entry) -> dict[str, Any]:
        record: dict[str, Any] = {
            "$type": "app.bsky.feed.post",
            "text": e.text,
            "createdAt": _iso_ms(e.published),
            "langs": [e.lang],
        }
        parent = self.by_key.get(e.reply_to or "")
        if parent is not None:
            ref = {"uri": _bsky_uri(parent), "cid": _bsky_cid(parent)}
            record["reply"] = {"root": ref, "parent": ref}
        return {
            "uri": _bsky_uri(e),
            "cid": _bsky_cid(e),
            "author": {
                "did": _bsky_did(e.author),
                "handle": e.author,
                "displayName": e.name,
                "avatar": f"https://cdn.bsky.example/img/avatar/plain/{_bsky_did(e.author)}/x@jpeg",
                "labels": [],
                "createdAt": "2023-06-01T10:00:00.000Z",
            },
            "record": record,
            "replyCount": e.replies,
            "repostCount": e.reposts,
            "likeCount": e.likes,
            "quoteCount": e.reposts // 5,
            "indexedAt": _iso_ms(e.published),
            "labels": [],
        }

    def _bsky_limit(self, query: dict[str, list[str]], default: int) -> int:
        v = (query.get("limit") or [""])[0]
        return max(1, min(100, int(v))) if v.isdigit() else default

    def bsky_search(self, query: dict[str, list[str]]) -> dict[str, Any]:
        if query.get("cursor"):
            # Everything fits in the first page; a cursor means "older than that": none.
            return {"posts": [], "hitsTotal": 0}
        posts = self._of("Bluesky")[: self._bsky_limit(query, 25)]
        return {"posts": [self.bsky_post(e) for e in posts], "hitsTotal": len(posts)}

    def bsky_author_feed(self, query: dict[str, list[str]]) -> dict[str, Any]:
        actor = (query.get("actor") or [""])[0]
        posts = [e for e in self._of("Bluesky") if actor in (e.author, _bsky_did(e.author))]
        return {"feed": [{"post": self.bsky_post(e)} for e in posts[: self._bsky_limit(query, 50)]]}

    def bsky_profiles(self, query: dict[str, list[str]]) -> dict[str, Any]:
        actors = [a for v in query.get("actors", []) + query.get("actors[]", []) for a in v.split(",")]
        known: dict[str, _Entry] = {}
        for e in self.all_bluesky:
            known.setdefault(e.author, e)
            known.setdefault(_bsky_did(e.author), e)
        profiles = []
        for actor in actors[:25]:
            e = known.get(actor.strip())
            if e is None:
                continue  # the real API silently leaves out unknown actors
            profiles.append({
                "did": _bsky_did(e.author),
                "handle": e.author,
                "displayName": e.name,
                "description": "",
                "avatar": f"https://cdn.bsky.example/img/avatar/plain/{_bsky_did(e.author)}/x@jpeg",
                "followersCount": e.followers or 0,
                "followsCount": 150,
                "postsCount": 900,
                "indexedAt": "2024-01-01T00:00:00.000Z",
                "createdAt": "2023-06-01T10:00:00.000Z",
                "labels": [],
            })
        return {"profiles": profiles}

    # ---- Reddit ----
    def reddit(self, query: dict[str, list[str]]) -> dict[str, Any]:
        v = (query.get("limit") or [""])[0]
        limit = max(1, min(100, int(v))) if v.isdigit() else 25
        children = []
        for e in self._of("Reddit")[:limit]:
            rid = _reddit_id(e.seq)
            permalink = f"/r/{SUBREDDIT}/comments/{rid}/{_slug(e.title)}/"
            children.append({"kind": "t3", "data": {
                "id": rid,
                "name": f"t3_{rid}",
                "title": e.title,
                "selftext": e.text,
                "selftext_html": "&lt;!-- SC_OFF --&gt;&lt;div class=\"md\"&gt;&lt;p&gt;"
                                 + html.escape(html.escape(e.text)) + "&lt;/p&gt;&lt;/div&gt;",
                "author": e.author,
                "author_fullname": "t2_" + _h("r" + e.author, 8),
                "subreddit": SUBREDDIT,
                "subreddit_name_prefixed": f"r/{SUBREDDIT}",
                "permalink": permalink,
                "url": f"https://www.reddit.example{permalink}",
                "created_utc": float(int(e.published.timestamp())),
                "score": e.likes,
                "ups": e.likes,
                "upvote_ratio": 0.91,
                "num_comments": e.replies,
                "over_18": False,
                "is_self": True,
                "stickied": False,
                "link_flair_text": None,
            }})
        return {"kind": "Listing", "data": {
            "after": None, "before": None, "dist": len(children), "modhash": "",
            "geo_filter": "", "children": children,
        }}

    # ---- News ----
    def rss(self) -> str:
        items = []
        for e in self._of("News", "dagblad"):
            link = f"https://dagblad.example/regio/{_slug(e.title)}-{e.seq}"
            desc = e.html or html.escape(e.text)
            items.append(
                "    <item>\n"
                f"      <title>{xml_escape(e.title)}</title>\n"
                f"      <link>{xml_escape(link)}</link>\n"
                f"      <description>{xml_escape(desc)}</description>\n"
                f"      <dc:creator>{xml_escape(e.author)}</dc:creator>\n"
                f"      <pubDate>{format_datetime(e.published.astimezone(timezone.utc), usegmt=True)}</pubDate>\n"
                f'      <guid isPermaLink="false">dagblad-{e.key}</guid>\n'
                "    </item>\n"
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:atom="http://www.w3.org/2005/Atom">\n'
            "  <channel>\n"
            "    <title>Dagblad Nederland - Binnenland</title>\n"
            "    <link>https://dagblad.example/binnenland</link>\n"
            f'    <atom:link href="{xml_escape(self.base_url)}/news/dagblad.rss" rel="self" '
            'type="application/rss+xml"/>\n'
            "    <description>Nieuws uit binnen- en buitenland</description>\n"
            "    <language>nl-nl</language>\n"
            + "".join(items)
            + "  </channel>\n</rss>\n"
        )

    def atom(self) -> str:
        entries = self._of("News", "forum")
        updated = _iso_ms(entries[0].published) if entries else "2024-01-01T00:00:00.000Z"
        out = []
        for e in entries:
            link = f"https://forum.rivierstad.example/t/{_slug(e.title)}/{e.seq}"
            content = e.html or f"<p>{html.escape(e.text)}</p>"
            out.append(
                "  <entry>\n"
                f"    <title>{xml_escape(e.title)}</title>\n"
                f'    <link rel="alternate" href="{xml_escape(link)}"/>\n'
                f"    <id>tag:forum.rivierstad.example,2024:{e.key}</id>\n"
                f"    <published>{_iso_ms(e.published)}</published>\n"
                f"    <updated>{_iso_ms(e.published)}</updated>\n"
                f"    <author><name>{xml_escape(e.author)}</name></author>\n"
                f'    <content type="html">{xml_escape(content)}</content>\n'
                "  </entry>\n"
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="nl">\n'
            "  <title>Rivierstad Forum - Bibliotheek</title>\n"
            "  <id>tag:forum.rivierstad.example,2024:bibliotheek</id>\n"
            f'  <link rel="self" href="{xml_escape(self.base_url)}/news/forum.atom"/>\n'
            f"  <updated>{updated}</updated>\n"
            + "".join(out)
            + "</feed>\n"
        )


_QA_PAGE = """<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8"><title>Q&amp;A datalek - Bibliotheek Rivierstad</title></head>
<body>
<h1>Vragen en antwoorden: datalek / Questions and answers: data breach</h1>
<p><em>Dit is de demo-Q&amp;A van watchtower. This is watchtower's demo Q&amp;A page.</em></p>
<h2>Wat is er gebeurd? / What happened?</h2>
<p>Door een fout in ons uitleensysteem waren gegevens van leden in te zien. We hebben het lek
gedicht en de Autoriteit Persoonsgegevens ingelicht.</p>
<p>A fault in our lending system exposed member details. We have closed the leak and informed
the Dutch Data Protection Authority.</p>
<h2>Moet ik iets doen? / Do I need to do anything?</h2>
<p>Wij vragen u nooit om in te loggen via een link in een DM. We ask you never to log in through
a link in a direct message: our accounts never send those.</p>
<p>Contact: <a href="mailto:webcare@bieb-rivierstad.example">webcare@bieb-rivierstad.example</a></p>
</body></html>
"""


# --------------------------------------------------------------------------------------
# The server


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True
    demo: DemoServer

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # pragma: no cover - not every platform allows it
            pass
        with self._open_lock:
            self._open.add(sock)
        return sock, addr

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End kept-alive connections, so a stopped server answers nothing more."""
        with self._open_lock:
            socks, self._open = list(self._open), set()
        for sock in socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Never print a traceback to stderr: the TUI owns the terminal.  A client that
        # disconnects mid-response is normal for a poller that is being stopped.
        self.demo.errors += 1


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "watchtower-demo/1"
    sys_version = ""
    timeout = 30  # an idle kept-alive connection frees its thread after this long

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # quiet: stderr belongs to the TUI

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self._respond(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._respond(head=True)

    def _other(self) -> None:
        self.close_connection = True  # the unread body must not be taken for the next request
        self._send(405, b'{"error":"method not allowed"}\n', "application/json", extra={"Allow": "GET, HEAD"})

    do_POST = do_PUT = do_DELETE = do_PATCH = _other  # noqa: N815

    def _send(self, status: int, body: bytes, ctype: str, *, etag: str | None = None,
              head: bool = False, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Cache-Control", "no-cache")
        if etag:
            self.send_header("ETag", etag)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", "0" if status == 304 else str(len(body)))
        self.end_headers()
        if not head and status != 304:
            self.wfile.write(body)

    def _respond(self, *, head: bool) -> None:
        demo = self.server.demo
        demo.requests += 1
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=False)
        try:
            found = demo.render(parts.path, query)
        except Exception:  # a bug here must not kill the thread noisily
            demo.errors += 1
            self._send(500, b'{"error":"demo server error"}\n', "application/json", head=head)
            return
        if found is None:
            self._send(404, b'{"error":"not found"}\n', "application/json", head=head)
            return
        body, ctype = found
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        inm = self.headers.get("If-None-Match")
        if inm:
            tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
            if etag in tags or "*" in tags:
                demo.not_modified += 1
                self._send(304, b"", ctype, etag=etag, head=True)
                return
        self._send(200, body, ctype, etag=etag, head=head)


class DemoServer:
    """The scripted incident, served on ``127.0.0.1`` at a random free port.

    ``clock``: monotonic seconds since start (default: real time since :meth:`start`).
    ``speed``: scenario seconds per clock second (``1e9`` reveals the script at once).
    ``reveal_all``: every scripted item is visible from the start (no loop items).
    ``loop``: after the script, trickle ordinary mentions with fresh ids (see the module doc).
    ``now``: the wall-clock start (UTC), which dates the backlog; default: now.

    ``start()`` returns the base URL; ``stop()`` shuts down; ``with DemoServer() as demo:``
    starts and stops it (``demo.base_url``).
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] | None = None,
        speed: float = 1.0,
        reveal_all: bool = False,
        loop: bool = True,
        now: datetime | None = None,
        timezone_name: str = TIMEZONE,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = float(speed)
        self.reveal_all = reveal_all
        self.loop = loop
        self._clock = clock
        self._t0: float | None = None
        self._now = now
        self.tz = ZoneInfo(timezone_name)
        self.start_wall: datetime = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""
        self.requests = 0
        self.not_modified = 0
        self.errors = 0
        self._build()

    def _build(self) -> None:
        # Revealed all at once, live items are published at the start, never in the future.
        speed = float("inf") if self.reveal_all else self.speed
        self._script = [_place(p, self.start_wall, speed, self.tz) for p in _SCRIPT]
        self._by_key = {e.key: e for e in self._script}

    # ---- lifecycle ----
    def start(self) -> str:
        if self._server is not None:
            return self.base_url
        if self._now is None:
            # Date the backlog from the real start, not from construction.
            self.start_wall = datetime.now(timezone.utc)
            self._build()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.demo = self
        self._server = server
        host, port = server.server_address[:2]
        self.base_url = f"http://127.0.0.1:{port}"
        self._t0 = time.monotonic()
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.2},
            name="watchtower-demo-server", daemon=True,
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> DemoServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- the timeline ----
    def scenario_time(self) -> float:
        """Scenario seconds elapsed (``clock() * speed``)."""
        if self._clock is not None:
            elapsed = float(self._clock())
        elif self._t0 is not None:
            elapsed = time.monotonic() - self._t0
        else:
            elapsed = 0.0
        return max(0.0, elapsed) * self.speed

    def visible(self, t: float | None = None) -> list[_Entry]:
        """The entries revealed at scenario time ``t`` (default: now), oldest first."""
        if t is None:
            t = self.scenario_time()
        if self.reveal_all:
            return list(self._script)
        out = [e for e in self._script if e.reveal <= t]
        if self.loop and t >= SCRIPT_END + LOOP_PERIOD:
            last = int((t - SCRIPT_END) // LOOP_PERIOD)
            first = max(1, last - MAX_PER_DOC * 2)  # older loop items fall off the documents anyway
            out.extend(_loop_entry(k, self.start_wall, self.speed) for k in range(first, last + 1))
        return out

    def urls(self) -> dict[str, str]:
        """Every document URL (for ``watchtower check`` and the tests)."""
        b = self.base_url
        return {
            "X": f"{b}/x/mentions.json",
            "Facebook": f"{b}/facebook/mentions.json",
            "Instagram": f"{b}/instagram/mentions.json",
            "Mastodon": f"{b}/api/v1/timelines/tag/{MASTODON_TAG}?limit=40",
            "Mastodon search": f"{b}/api/v2/search?q=rivierstad&type=statuses",
            "Bluesky": f"{b}/xrpc/app.bsky.feed.searchPosts?q=rivierstad&sort=latest",
            "Bluesky profiles": f"{b}/xrpc/app.bsky.actor.getProfiles?actors={quote(OWN_BLUESKY)}",
            "Reddit": f"{b}/search.json?q=rivierstad&sort=new",
            "Reddit subreddit": f"{b}/r/{SUBREDDIT}/new.json",
            "News (RSS)": f"{b}/news/dagblad.rss",
            "News (Atom)": f"{b}/news/forum.atom",
            "Q&A": f"{b}/qa",
        }

    def render(self, path: str, query: dict[str, list[str]]) -> tuple[bytes, str] | None:
        """The body and content type for ``path`` now, or ``None`` (404)."""
        path = path.rstrip("/") or "/"
        if path == "/qa":
            return _QA_PAGE.encode("utf-8"), "text/html; charset=utf-8"
        entries = self.visible()
        docs = _Docs(entries, {**self._by_key, **{e.key: e for e in entries}}, self.base_url)
        doc: Any
        if path == "/x/mentions.json":
            doc = docs.x()
        elif path == "/facebook/mentions.json":
            doc = docs.facebook()
        elif path == "/instagram/mentions.json":
            doc = docs.instagram()
        elif path.startswith("/api/v1/timelines/tag/"):
            tag = path.rsplit("/", 1)[1].lower()
            doc = docs.mastodon(query) if tag == MASTODON_TAG else []
        elif path == "/api/v2/search":
            doc = {"accounts": [], "statuses": docs.mastodon(query), "hashtags": []}
        elif path == "/xrpc/app.bsky.feed.searchPosts":
            doc = docs.bsky_search(query)
        elif path == "/xrpc/app.bsky.feed.getAuthorFeed":
            doc = docs.bsky_author_feed(query)
        elif path == "/xrpc/app.bsky.actor.getProfiles":
            doc = docs.bsky_profiles(query)
        elif path in ("/search.json", f"/r/{SUBREDDIT}/new.json", f"/r/{SUBREDDIT}/search.json"):
            doc = docs.reddit(query)
        elif path == "/news/dagblad.rss":
            return docs.rss().encode("utf-8"), "application/rss+xml; charset=utf-8"
        elif path == "/news/forum.atom":
            return docs.atom().encode("utf-8"), "application/atom+xml; charset=utf-8"
        else:
            return None
        return json.dumps(doc, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8"


