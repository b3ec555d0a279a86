"""A local feed server for the benchmarks: N generated feeds on 127.0.0.1, with ETags.

    python bench/feedserver.py --feeds 200 --items 50      # prints its base URL, serves until stdin closes

Paths: ``/feed/<i>.xml`` (RSS 2.0 for even ``i``, Atom for odd ``i``), ``/big.xml``
(one RSS feed of ``big_items`` items), ``/urls.txt`` (every feed URL, for newsboat) and
``/stats`` (``<requests> <304s> <connections>`` so far).
Every document is generated once, from a fixed seed, before the first request, so the
server spends its time on HTTP and not on XML.  ``If-None-Match`` with the current ETag
gets a ``304`` with an empty body, which is what a warm poll round measures.

The listen backlog is 256 and every accepted socket gets ``TCP_NODELAY``: with the
stdlib default backlog (5), 200 clients connecting at once see SYN retries of a second
or more, and without ``TCP_NODELAY`` small responses wait for delayed ACKs (40 ms).
Either would make the benchmark measure the kernel instead of the code.

Run it in a subprocess (``spawn()``) when the client's CPU time is measured, so the
server's threads are not counted against the client.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import socket
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape

__all__ = ["FeedServer", "rss_feed", "atom_feed", "spawn", "SEED"]

SEED = 20261115
#: Items are dated back from here, so every run generates the same bytes.
EPOCH = datetime(2026, 11, 15, 12, 0, tzinfo=timezone.utc)

_WORDS = (
    "library opening hours changed again today the branch closed for repairs why is nobody "
    "answering the phone great event last night thanks staff wifi broken since monday "
    "bibliotheek openingstijden weer veranderd vandaag gesloten waarom neemt niemand op "
    "prachtige avond bedankt personeel complaint refund card blocked login problem account "
    "hacked scam giveaway verify password urgent fire evacuation delayed books overdue fine"
).split()


def _sentence(rng: random.Random, lo: int, hi: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(lo, hi)))


def _entries(feed: int, n: int, seed: int, lean: bool = False) -> list[dict[str, Any]]:
    rng = random.Random(seed * 1_000_003 + feed)
    out = []
    for k in range(n):
        when = EPOCH - timedelta(minutes=7 * k + rng.randint(0, 6), seconds=rng.randint(0, 59))
        out.append({
            "guid": f"urn:bench:{seed}:{feed}:{k}",
            "title": _sentence(rng, 4, 10).capitalize(),
            "link": f"https://news.example/{feed}/{k}",
            "author": f"reporter{rng.randint(1, 40)}@news.example",
            "when": when,
            # HTML in the body, as real feeds have it: html_to_text has work to do.
            "html": "<p>" + _sentence(rng, 6, 14) + "</p>" if lean else
                    "<p>" + _sentence(rng, 15, 40) + "</p><p><a href=\"https://news.example/x\">"
                    + _sentence(rng, 2, 5) + "</a> " + _sentence(rng, 5, 20) + "</p>",
        })
    return out


def rss_feed(feed: int, n: int, seed: int = SEED, *, lean: bool = False) -> bytes:
    """An RSS 2.0 document with ``n`` items (deterministic for ``feed`` and ``seed``).

    ``lean`` items have one short paragraph, so 10,000 of them stay under the fetcher's
    5 MiB body cap (about 3.5 MB).
    """
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>',
        f"<title>Bench feed {feed}</title><link>https://news.example/{feed}</link>",
        "<description>generated</description><language>en</language>",
    ]
    for e in _entries(feed, n, seed, lean):
        parts.append(
            "<item>"
            f"<title>{escape(e['title'])}</title><link>{e['link']}</link>"
            f'<guid isPermaLink="false">{e["guid"]}</guid>'
            f"<pubDate>{format_datetime(e['when'])}</pubDate>"
            f"<author>{e['author']}</author>"
            f"<description>{escape(e['html'])}</description>"
            "</item>"
        )
    parts.append("</channel></rss>\n")
    return "".join(parts).encode("utf-8")


def atom_feed(feed: int, n: int, seed: int = SEED) -> bytes:
    """An Atom 1.0 document with ``n`` entries (deterministic for ``feed`` and ``seed``)."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">',
        f"<title>Bench feed {feed}</title><id>urn:bench:feed:{feed}</id>",
        f"<updated>{EPOCH.isoformat()}</updated><link href=\"https://news.example/{feed}\"/>",
    ]
    for e in _entries(feed, n, seed):
        parts.append(
            "<entry>"
            f"<title>{escape(e['title'])}</title><link href=\"{e['link']}\"/>"
            f"<id>{e['guid']}</id><updated>{e['when'].isoformat()}</updated>"
            f"<author><name>{e['author']}</name></author>"
            f"<summary type=\"html\">{escape(e['html'])}</summary>"
            "</entry>"
        )
    parts.append("</feed>\n")
    return "".join(parts).encode("utf-8")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # listen() backlog: 200 clients may connect at once
    docs: dict[str, tuple[bytes, str, str]]
    requests = 0
    not_modified = 0
    connections = 0

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        self.connections += 1
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up mid-response is normal at the end of a round


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "watchtower-bench/1"
    sys_version = ""
    timeout = 30

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        srv = self.server
        srv.requests += 1
        path = self.path.split("?", 1)[0]
        if path == "/stats":
            self._send(200, f"{srv.requests - 1} {srv.not_modified} {srv.connections}\n".encode(), "text/plain", None)
            return
        found = srv.docs.get(path)
        if found is None:
            self._send(404, b"not found\n", "text/plain", None)
            return
        body, ctype, etag = found
        inm = self.headers.get("If-None-Match")
        if inm and etag in {t.strip().removeprefix("W/") for t in inm.split(",")}:
            srv.not_modified += 1
            self._send(304, b"", ctype, etag)
            return
        self._send(200, body, ctype, etag)

    def _send(self, status: int, body: bytes, ctype: str, etag: str | None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if etag:
            self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)


class FeedServer:
    """``feeds`` generated feeds of ``items`` items each, plus ``/big.xml``, on 127.0.0.1."""

    def __init__(self, feeds: int = 200, items: int = 50, *, big_items: int = 0, seed: int = SEED) -> None:
        self.feeds = feeds
        self.items = items
        self.base_url = ""
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.docs: dict[str, tuple[bytes, str, str]] = {}
        for i in range(feeds):
            if i % 2:
                self._put(f"/feed/{i}.xml", atom_feed(i, items, seed), "application/atom+xml")
            else:
                self._put(f"/feed/{i}.xml", rss_feed(i, items, seed), "application/rss+xml")
        if big_items:
            self._put("/big.xml", rss_feed(999_999, big_items, seed, lean=True), "application/rss+xml")

    def _put(self, path: str, body: bytes, ctype: str) -> None:
        self.docs[path] = (body, ctype, '"' + hashlib.sha1(body).hexdigest()[:20] + '"')

    def urls(self) -> list[str]:
        return [f"{self.base_url}/feed/{i}.xml" for i in range(self.feeds)]

    def start(self) -> str:
        server = _Server(("127.0.0.1", 0), _Handler)
        self._server = server
        self.base_url = f"http://127.0.0.1:{server.server_address[1]}"
        self._put("/urls.txt", ("\n".join(self.urls()) + "\n").encode(), "text/plain")
        server.docs = self.docs
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self.base_url

    @property
    def requests(self) -> int:
        return self._server.requests if self._server else 0

    @property
    def not_modified(self) -> int:
        return self._server.not_modified if self._server else 0

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def __enter__(self) -> FeedServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Spawned:
    """A feed server in a child process; ``base_url`` is ready when the constructor returns."""

    def __init__(self, feeds: int, items: int, big_items: int = 0) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--feeds", str(feeds), "--items", str(items), "--big", str(big_items)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        assert self.proc.stdout is not None
        self.base_url = self.proc.stdout.readline().strip()
        if not self.base_url.startswith("http://127.0.0.1:"):
            self.close()
            raise RuntimeError("the feed server did not start")
        self.feeds = feeds

    def urls(self) -> list[str]:
        return [f"{self.base_url}/feed/{i}.xml" for i in range(self.feeds)]

    def stats(self) -> tuple[int, int, int]:
        """(requests, 304 answers, TCP connections) so far, not counting this question."""
        import urllib.request

        with urllib.request.urlopen(self.base_url + "/stats", timeout=5) as resp:
            requests, not_modified, connections = resp.read().split()
        return int(requests), int(not_modified), int(connections) - 1

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> Spawned:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def spawn(feeds: int, items: int, big_items: int = 0) -> Spawned:
    return Spawned(feeds, items, big_items)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=200)
    ap.add_argument("--items", type=int, default=50)
    ap.add_argument("--big", type=int, default=0, help="items in /big.xml (0: none)")
    args = ap.parse_args(argv)
    server = FeedServer(args.feeds, args.items, big_items=args.big)
    print(server.start(), flush=True)
    try:
        sys.stdin.read()  # serve until the parent closes our stdin (or dies)
    except KeyboardInterrupt:
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
