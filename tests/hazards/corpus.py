"""The hazard corpus: hostile feed and API documents, built as bytes.

Every document is what a stranger's server could send to one watchtower source: RSS 2.0
and Atom (``kind = "rss"``), Mastodon-shaped and Reddit-shaped JSON, and JSON read
through a ``[sources.mapping]`` (``kind = "json"``).  Families (docs/threat-model.md, T1-T5):

- ``markup``: Textual/Rich console markup (``MARKUP``, 26 payloads) in every text field;
- ``escape``: raw ESC/C1/DEL/NUL sequences (``ESCAPES``), also as ``&#27;`` references
  in XML and ``\\u001b`` escapes in JSON;
- ``unicode``: bidi overrides and isolates, zero-width, TAG characters, U+2028/2029,
  lone surrogates, noncharacters (``UNICODE_HAZARDS``);
- ``html``: scripts, handlers, and ``javascript:``/``file:``/``data:``/relative links;
- ``huge``: a 1 MB title, 10,000 items, 100,000-deep JSON nesting;
- ``types``: missing fields, wrong types, impossible dates;
- ``encoding``: cp1252 declared as UTF-8, UTF-16, bytes that are not UTF-8;
- ``xml``: entity declarations (quadratic blowup, billion laughs, XXE), truncated XML;
- ``notafeed``: an HTML login page, empty bodies, hostile HTTP status lines;
- ``multilingual``: 12 legitimate scripts that must stay intact (``MULTILINGUAL``).

Each :class:`Doc` knows how it should come out (``expect``: ``items``, ``error`` or
``any``), so tests can assert "ingested or rejected with a clear error, never a crash".
Every escape payload carries a distinctive ``PWNED-…`` token after its introducer, so a
byte-stream check can tell content's sequences from the ones Textual writes itself.
Items whose text is safe carry ``SAFE-MARK`` tokens to wait for on screen.

``python -m hazards.corpus DIR`` (from ``tests/``) writes the documents out as files.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable
from xml.sax.saxutils import escape as xml_escape

# ---------------------------------------------------------------------------- payloads

#: Textual/Rich markup that must show literally, never run, never crash (≥ 20 distinct).
MARKUP: list[str] = [
    "[@click=app.quit]x[/]",
    "[@click=app.screenshot('wt-hazard-shot.svg','/tmp')]shot[/]",
    "[/]",
    "[/bold]",
    "[link=file:///etc/passwd]passwd[/link]",
    "[link='https://evil.example']evil[/link]",
    "[0]",
    "[bold",
    "[bold red]RED[/]",
    "[@click=app.pwned]pwn[/]",
    "[@click=app.simulate_key('q')]key[/]",
    "[@click=app.push_screen('help')]help[/]",
    "[@click=screen.add_class('pwned')]cls[/]",
    "[@click=app.claim]claim[/]",
    "[@click=app.toggle_dark]dark[/]",
    "[@click=]empty[/]",
    "[link=javascript:alert(1)]js[/link]",
    "[link=\"file:///etc/shadow\"]shadow[/link]",
    "[reverse blink]blink[/]",
    "[on red]bg[/on red]",
    "[b][i]nest[/b][/i]",
    "\\[escaped] and \\\\[bold]",
    "[[double]]",
    "[$accent]var[/]",
    "[@click=app.notify('pwned')]toast[/]",
    "[@click=app.bell]bell[/]",
    "[@mouse.down=app.quit]down[/]",
    "[@mouse.up=app.pwned]up[/]",
]

#: Raw escape sequences, each followed by a distinctive token.
ESCAPES: dict[str, str] = {
    "csi-clear": "\x1b[2JPWNED-CLEAR",
    "osc0-title-bel": "\x1b]0;PWNED-TITLE\x07",
    "osc2-title-st": "\x1b]2;PWNED-TITLE2\x1b\\",
    "osc52-bel": "\x1b]52;c;UFdORUQ=\x07PWNED-CLIP",
    "osc52-st": "\x1b]52;c;UFdORUQ=\x1b\\PWNED-CLIP2",
    "osc52-read": "\x1b]52;c;?\x07PWNED-CLIPREAD",
    "osc8-file": "\x1b]8;;file:///etc/passwd\x1b\\PWNED-LINK\x1b]8;;\x1b\\",
    "mouse": "\x1b[?1000hPWNED-MOUSE",
    "altscreen": "\x1b[?1049hPWNED-ALT",
    "c1-csi": "\x9b2JPWNED-C1",
    "c1-osc": "\x9d0;PWNED-C1OSC\x9c",
    "sgr": "\x1b[31mPWNED-RED\x1b[0m",
    "dcs": "\x1bPqPWNED-DCS\x1b\\",
    "dsr-query": "\x1b[6nPWNED-DSR",
    "del-nul": "A\x7fB\x00CPWNED-DEL",
    "bs-cr": "SAFE\rPWNED-CR\x08\x08",
    "truncated-osc": "\x1b]0;PWNED-TRUNC",
}

#: Text a content byte stream must never put on the terminal as a sequence.
ESCAPE_TOKENS = sorted({m for v in ESCAPES.values() for m in re.findall(r"PWNED-([A-Z0-9]+)", v)})

#: Invisible or reordering characters, and code points a terminal encoder may choke on.
UNICODE_HAZARDS: dict[str, str] = {
    "rlo": "invoice\u202efdp.exe",
    "lre-pdf": "a\u202ab\u202cc\u202bd\u202de",
    "isolates": "x\u2066y\u2067z\u2068w\u2069v",
    "marks": "l\u200er\u200fa\u061cm",
    "zero-width": "ze\u200bro\u2060wi\ufeffdth\u180e\u00ad",
    "tags": "tag\U000e0041\U000e0042\U000e007f end \U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
    "line-sep": "one\u2028two\u2029three\x85four",
    "nonchar": "non\ufffechar\uffff\ufdd0\U0001fffe end",
    "interlinear": "ann\ufff9ota\ufffate\ufffb",
}

#: Legitimate text that must come out exactly as it went in.
MULTILINGUAL: list[str] = [
    "图书馆今天关闭，明天重新开放。",
    "図書館は本日休館です。カタカナ",
    "도서관이 오늘 문을 닫습니다",
    "المكتبة مغلقة اليوم بسبب العطل",
    "הספרייה סגורה היום בגלל תקלה",
    "ห้องสมุดปิดวันนี้ ขออภัย",
    "पुस्तकालय आज बंद है। क्षमा करें",
    "family 👨\u200d👩\u200d👧\u200d👦 and 👩\u200d💻 at work",
    "thumbs 👍🏽 wave 👋🏿 ok 👌🏻",
    "Cafe\u0301 Zoe\u0308 n\u0303 Z\u0351\u0352a\u0310",
    "می\u200cخواهم کتاب بخوانم",
    "flags 🇳🇱 🇯🇵 keycap 1\ufe0f\u20e3 heart \u2764\ufe0f",
]

#: The lone surrogates JSON may carry legally (as escapes only).
LONE_SURROGATES_JSON = ['"\\ud83d lone high"', '"lone low \\udc00"', '"\\udfff\\ud800 reversed"']

HTML_BODIES: list[str] = [
    "<p>Hello</p><script>alert('PWNED-SCRIPT')</script><p>after script</p>",
    "<img src=x onerror=\"alert('PWNED-ONERROR')\"> image",
    "<a href=\"javascript:alert(1)\">js link</a> text",
    "<a href=\"file:///etc/passwd\">local file</a> text",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">data link</a>",
    "<a href=\"/relative/path\">relative</a> and <a href=\"//evil.example/x\">proto-relative</a>",
    "<form action=\"https://evil.example/login\"><input name=password></form> login here",
    "<style>body{display:none}</style><iframe src=\"https://evil.example\"></iframe>framed",
    "<p>para [@click=app.quit]x[/] in html</p>",
    "&lt;script&gt;escaped&lt;/script&gt; &amp;#27; &#27;[2JPWNED-HTMLREF",
]

#: URLs that must be refused (not http(s) with a host).
BAD_URLS: list[str] = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "file:///etc/passwd",
    "data:text/html,<script>alert(1)</script>",
    "/relative/path",
    "//evil.example/proto-relative",
    "relative.html",
    "http://",
    "https:///no-host",
    "vbscript:msgbox(1)",
    "ftp://evil.example/x",
]

SAFE_MARK = "SAFE-MARK"


# ---------------------------------------------------------------------------- documents


@dataclass
class Doc:
    name: str
    kind: str  # rss | mastodon | reddit | json
    family: str
    build: Callable[[], bytes] = field(repr=False)
    content_type: str = "application/xml"
    expect: str = "items"  # items | error | any
    status: int = 200
    reason: str | None = None
    min_items: int = 0
    error_words: tuple[str, ...] = ()
    """For ``expect == "error"``: one of these phrases is in the error."""
    big: bool = False
    """Slow to poll (10,000 items, 1 MB); UI tests may leave it out."""

    @cached_property
    def body(self) -> bytes:
        return self.build()


def _x(s: str) -> str:
    """Escape for XML text (keeps control characters: the parser's problem)."""
    return xml_escape(s)


def _rss(items: list[dict[str, str]], *, title: str = "Hazard feed", extra: str = "",
         prolog: str = '<?xml version="1.0" encoding="utf-8"?>\n', raw: bool = False) -> bytes:
    """An RSS 2.0 document; with ``raw`` the values are inserted unescaped."""
    esc = (lambda s: s) if raw else _x
    parts = [prolog, extra, '<rss version="2.0"><channel>',
             f"<title>{esc(title)}</title><link>https://feed.example/</link><description>d</description>"]
    for it in items:
        parts.append("<item>")
        for key, value in it.items():
            parts.append(f"<{key}>{esc(value)}</{key}>")
        parts.append("</item>")
    parts.append("</channel></rss>\n")
    return "".join(parts).encode("utf-8", "surrogatepass")


def _atom(entries: list[dict[str, str]], *, title: str = "Hazard atom", raw: bool = False) -> bytes:
    esc = (lambda s: s) if raw else _x
    parts = ['<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">',
             f"<title>{esc(title)}</title><id>urn:hazard:feed</id><updated>2024-01-02T00:00:00Z</updated>"]
    for e in entries:
        parts.append("<entry>")
        parts.append(f"<id>{esc(e['id'])}</id>")
        parts.append(f"<title type=\"text\">{esc(e.get('title', ''))}</title>")
        if "link" in e:
            parts.append(f"<link rel=\"alternate\" href=\"{esc(e['link'])}\"/>")
        if "author" in e:
            parts.append(f"<author><name>{esc(e['author'])}</name></author>")
        parts.append(f"<updated>{esc(e.get('updated', '2024-01-02T08:00:00Z'))}</updated>")
        if "summary" in e:
            parts.append(f"<summary type=\"html\">{esc(e['summary'])}</summary>")
        if "content" in e:
            parts.append(f"<content type=\"text\">{esc(e['content'])}</content>")
        parts.append("</entry>")
    parts.append("</feed>\n")
    return "".join(parts).encode("utf-8", "surrogatepass")


def _json(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=True).encode("ascii")


def _account(n: int, *, display: str = "", acct: str | None = None, url: str | None = None) -> dict[str, Any]:
    return {
        "id": str(1000 + n),
        "username": acct or f"user{n}",
        "acct": acct or f"user{n}@social.example",
        "display_name": display,
        "url": url or f"https://social.example/@user{n}",
        "followers_count": 10 + n,
    }


def _status(n: int, *, content: str, display: str = "", acct: str | None = None, url: str | None = None,
            spoiler: str = "", created: Any = "2024-01-02T08:00:00.000Z", **extra: Any) -> dict[str, Any]:
    s = {
        "id": str(110000000000000000 + n),
        "uri": f"https://social.example/users/user{n}/statuses/{n}",
        "url": url if url is not None else f"https://social.example/@user{n}/{n}",
        "created_at": created,
        "content": content,
        "spoiler_text": spoiler,
        "language": "en",
        "account": _account(n, display=display, acct=acct),
        "reblogs_count": 1,
        "favourites_count": 2,
        "replies_count": 0,
        "in_reply_to_id": None,
        "reblog": None,
    }
    s.update(extra)
    return s


def _reddit(children: list[dict[str, Any]]) -> bytes:
    return _json({"kind": "Listing", "data": {"after": None, "children": children}})


def _post(n: int, **d: Any) -> dict[str, Any]:
    data = {
        "name": f"t3_hz{n}",
        "id": f"hz{n}",
        "author": f"redditor{n}",
        "title": f"post {n}",
        "selftext": "",
        "permalink": f"/r/hazards/comments/hz{n}/post/",
        "subreddit": "hazards",
        "subreddit_name_prefixed": "r/hazards",
        "created_utc": 1704182400 + n,
        "score": 5,
        "num_comments": 1,
    }
    data.update(d)
    return {"kind": "t3", "data": data}


#: The mapping every ``kind = "json"`` document in the corpus is read with.
JSON_MAPPING = {
    "items": "data.posts",
    "id": "id",
    "author": "user.handle",
    "author_name": "user.name",
    "text": "body",
    "title": "title",
    "url": "link",
    "published": "ts",
    "followers": "user.followers",
    "language": "lang",
    "likes": "likes",
}


def _mapped(posts: list[Any]) -> bytes:
    return _json({"data": {"posts": posts}})


def _jpost(n: int, **kw: Any) -> dict[str, Any]:
    p = {"id": f"jp-{n}", "user": {"handle": f"@poster{n}", "name": f"Poster {n}", "followers": 100 + n},
         "body": f"body {n}", "title": None, "link": f"https://forum.example/t/{n}",
         "ts": "2024-01-02T08:00:00Z", "lang": "en", "likes": n}
    p.update(kw)
    return p


# -- builders -------------------------------------------------------------------------


def rss_markup() -> bytes:
    items = []
    for i, p in enumerate(MARKUP):
        items.append({
            "title": f"{p} {SAFE_MARK}-M{i}",
            "link": f"https://news.example/markup/{i}",
            "guid": f"markup-{i}",
            "author": f"{p} (author {i})",
            "description": f"body {i}: {p} end",
            "pubDate": "Tue, 02 Jan 2024 08:00:00 GMT",
        })
    return _rss(items, title="[@click=app.quit]FEED[/] [/] feed title")


def atom_markup() -> bytes:
    entries = [{"id": f"urn:hz:atom-markup:{i}", "title": p, "author": f"[b]{p}", "content": f"{p}\n{p}",
                "link": f"https://blog.example/m/{i}"} for i, p in enumerate(MARKUP)]
    # No author on one entry: the feed title (hostile) becomes the author.
    entries.append({"id": "urn:hz:atom-markup:noauthor", "title": "no author here", "content": "x"})
    return _atom(entries, title="[@click=app.screenshot('wt-hazard-shot.svg','/tmp')]FEED[/]")


def rss_escapes_raw() -> bytes:
    """Raw ESC/C1/NUL bytes in XML text: not well-formed, so parsers fall back or refuse."""
    items = [{"title": f"{v} {SAFE_MARK}-E{i}", "guid": f"esc-raw-{k}",
              "link": f"https://news.example/esc/{k}", "description": f"{k}: {v}"}
             for i, (k, v) in enumerate(ESCAPES.items())]
    return _rss(items, title="\x1b]0;PWNED-FEEDTITLE\x07 raw feed")


def _charrefs(s: str) -> str:
    out = []
    for ch in s:
        o = ord(ch)
        if o < 0x20 and ch not in "\t\n" or 0x7f <= o <= 0x9f:
            out.append(f"&#{o};")
        else:
            out.append(_x(ch))
    return "".join(out)


def rss_escapes_charrefs() -> bytes:
    """The same sequences as ``&#27;``-style numeric character references."""
    items = [{"title": _charrefs(v) + f" {SAFE_MARK}-R{i}", "guid": f"esc-ref-{k}",
              "link": f"https://news.example/ref/{k}", "author": _charrefs(f"\x1b]0;PWNED-AUTHOR\x07 {k}"),
              "description": _charrefs(f"{k} body {v}")} for i, (k, v) in enumerate(ESCAPES.items())]
    return _rss(items, title=_charrefs("\x1b]2;PWNED-FEEDREF\x07 feed"), raw=True)


def atom_escapes_hexrefs() -> bytes:
    """Hex references for C1 (legal XML 1.0) and ESC (illegal) in Atom."""
    entries = []
    for i, (k, v) in enumerate(ESCAPES.items()):
        ref = "".join(f"&#x{ord(c):x};" if ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f else _x(c) for c in v)
        entries.append({"id": f"urn:hz:hex:{k}", "title": f"{ref} {SAFE_MARK}-X{i}", "author": ref,
                        "content": ref, "link": f"https://blog.example/hex/{k}"})
    return _atom(entries, raw=True)


def rss_unicode() -> bytes:
    items = [{"title": f"{v} {SAFE_MARK}-U{i}", "guid": f"uni-{k}", "author": v,
              "link": f"https://news.example/uni/{k}", "description": f"{k}: {v}"}
             for i, (k, v) in enumerate(UNICODE_HAZARDS.items())]
    return _rss(items, title="feed \u202eeltit\u202c")


def atom_multilingual() -> bytes:
    entries = [{"id": f"urn:hz:ml:{i}", "title": s, "author": s.split()[0], "content": s,
                "link": f"https://intl.example/{i}"} for i, s in enumerate(MULTILINGUAL)]
    return _atom(entries, title="多言語 feed")


def rss_html() -> bytes:
    items = [{"title": f"html {i} {SAFE_MARK}-H{i}", "guid": f"html-{i}", "description": b,
              "link": BAD_URLS[i % len(BAD_URLS)]} for i, b in enumerate(HTML_BODIES)]
    return _rss(items)


def rss_bad_urls() -> bytes:
    items = [{"title": f"bad url {i} {SAFE_MARK}-L{i}", "guid": f"url-{i}", "link": u, "description": "x"}
             for i, u in enumerate(BAD_URLS)]
    items.append({"title": "ok url", "guid": "url-ok", "link": "https://ok.example/path?q=1", "description": "x"})
    return _rss(items)


def rss_huge_title() -> bytes:
    return _rss([{"title": "T" * 1_000_000 + "[/]", "guid": "huge-title", "description": "D" * 200_000}])


def rss_10k() -> bytes:
    items = [{"title": f"bulk {i}", "guid": f"bulk-{i}", "link": f"https://bulk.example/{i}",
              "description": f"item {i} [@click=app.quit]x[/]"} for i in range(10_000)]
    return _rss(items)


def rss_missing_fields() -> bytes:
    return _rss([
        {},
        {"title": ""},
        {"description": "only a description"},
        {"guid": "only-guid"},
        {"link": "https://x.example/only-link"},
        {"title": "no guid, no link"},
        {"title": "no guid, no link"},  # a duplicate with no identity
        {"title": "dup guid a", "guid": "dup"},
        {"title": "dup guid b", "guid": "dup"},
        {"title": "   \n\t  ", "description": "   "},
    ])


def rss_dates() -> bytes:
    dates = ["Mon, 01 Jan 0001 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT", "Fri, 30 Feb 2024 10:00:00 GMT",
             "-0001", "not a date", "", "Tue, 02 Jan 2024 08:00:00 +9999", "0001-01-01T00:00:00Z",
             "9999-12-31T23:59:59Z", "2024-02-30T10:00:00Z"]
    return _rss([{"title": f"date {i} {d}", "guid": f"date-{i}", "pubDate": d} for i, d in enumerate(dates)])


def atom_dates() -> bytes:
    dates = ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2024-02-30T10:00:00Z", "-0001-01-01T00:00:00Z",
             "2024-13-45T99:99:99Z", "1970-01-01T00:00:00Z"]
    return _atom([{"id": f"urn:hz:date:{i}", "title": f"date {d}", "updated": d} for i, d in enumerate(dates)])


def rss_cp1252() -> bytes:
    text = "Caf\xe9 \u201cquoted\u201d \u2013 na\xefve \u20ac5"
    body = _rss([{"title": text, "guid": "cp1252", "description": text}]).decode("utf-8")
    return body.encode("cp1252")  # declared utf-8


def rss_utf16() -> bytes:
    body = _rss([{"title": "utf-16 title \u202e reversed", "guid": "u16", "description": "x"}])
    return body.decode("utf-8").replace('encoding="utf-8"', 'encoding="utf-16"').encode("utf-16")


def rss_quadratic() -> bytes:
    ent = "A" * 20_000
    refs = "&a;" * 1000
    return (f'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY a "{ent}">]>\n<rss version="2.0"><channel>'
            f"<title>q</title><item><title>quad</title><description>{refs}</description></item>"
            "</channel></rss>").encode()


def rss_billion_laughs() -> bytes:
    decl = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">' for i in range(1, 10))
    return (f'<?xml version="1.0"?>\n<!DOCTYPE rss [{decl}]>\n<rss version="2.0"><channel><title>b</title>'
            "<item><title>&lol9;</title></item></channel></rss>").encode()


def rss_xxe() -> bytes:
    return ('<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
            '<rss version="2.0"><channel><title>x</title><item><title>&xxe;</title></item></channel></rss>').encode()


def rss_xxe_utf16() -> bytes:
    return rss_xxe().decode().replace('version="1.0"?', 'version="1.0" encoding="utf-16"?').encode("utf-16")


def rss_external_dtd() -> bytes:
    return ('<?xml version="1.0"?>\n<!DOCTYPE rss SYSTEM "http://127.0.0.1:9/evil.dtd">\n'
            '<rss version="2.0"><channel><title>dtd</title><item><title>external dtd</title><guid>dtd-1</guid>'
            "</item></channel></rss>").encode()


def rss_truncated() -> bytes:
    full = _rss([{"title": f"complete {i}", "guid": f"trunc-{i}", "description": "done"} for i in range(3)]
                + [{"title": "cut off [@click=app.quit]x", "guid": "trunc-cut", "description": "never finished"}])
    return full[: full.rindex(b"never") + 5]


def html_login() -> bytes:
    return (b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>"
            b"<form action='/login' method='post'><input name='user'><input type='password' name='pw'>"
            b"<button>[@click=app.quit]Sign in[/]</button></form></body></html>")


def rss_deep_html() -> bytes:
    html = "<div>" * 50_000 + "deep text" + "</div>" * 50_000
    return _rss([{"title": "deep html", "guid": "deep-html", "description": html}])


def mastodon_markup() -> bytes:
    statuses = [_status(i, content=f"<p>{xml_escape(p)} {SAFE_MARK}-T{i}</p>", display=p,
                        acct=f"[b]u{i}@evil.example", spoiler=p if i % 3 == 0 else "")
                for i, p in enumerate(MARKUP)]
    return _json(statuses)


def mastodon_escapes() -> bytes:
    statuses = [_status(100 + i, content=f"<p>{xml_escape(v)} {SAFE_MARK}-J{i}</p>", display=v,
                        url=f"https://social.example/@x/{i}\x1b]8;;file:///etc/passwd\x07")
                for i, (k, v) in enumerate(ESCAPES.items())]
    return _json(statuses)


def mastodon_unicode() -> bytes:
    statuses = [_status(200 + i, content=f"<p>{xml_escape(v)}</p>", display=v) for i, v in enumerate(UNICODE_HAZARDS.values())]
    statuses += [_status(300 + i, content=s, display=s) for i, s in enumerate(MULTILINGUAL)]
    body = _json(statuses).decode("ascii")
    # Lone surrogates, legal as JSON escapes: json.loads gives a str with surrogates.
    extra = ", ".join(
        f'{{"id": "{120000000000000000 + i}", "uri": "https://social.example/s/lone{i}", "content": {lone}, '
        f'"account": {{"acct": {lone}, "display_name": {lone}}}, "url": {lone}, "created_at": {lone}}}'
        for i, lone in enumerate(LONE_SURROGATES_JSON))
    return (body[:-1] + ", " + extra + "]").encode("ascii")


def mastodon_types() -> bytes:
    return _json([
        None, 1, "string", [],
        {"id": True},
        {"id": "1", "uri": None, "content": None},
        {"id": ["x"], "uri": {"a": 1}, "content": 5},
        _status(401, content=["not", "a", "string"], display=None, created=["2024"]),
        _status(402, content="<p>ok</p>", display={"x": 1}, created=10**20),
        _status(403, content="<p>nan</p>", created="9999-12-31T23:59:59Z", favourites_count=float("inf")),
        _status(404, content="<p>neg</p>", created="0001-01-01T00:00:00Z", reblogs_count=-5, account=None),
        _status(405, content="<p>reblog</p>", reblog="not a dict"),
        _status(406, content="<p>reblog of hostile</p>", reblog=_status(407, content="<p>[/] orig</p>", display="[/]")),
        {"reblog": {"id": "99", "content": "orphan reblog"}},
    ]).replace(b"Infinity", b"1e999")


def mastodon_deep() -> bytes:
    return b"[" * 100_000 + b"]" * 100_000


def mastodon_error() -> bytes:
    return _json({"error": "[@click=app.quit]x[/] \x1b]0;PWNED-MASTOERR\x07 token revoked"})


def mastodon_search_shape() -> bytes:
    # A tag source receiving a search response (an object): a clear error, not a crash.
    return _json({"statuses": [], "accounts": [], "hashtags": []})


def reddit_markup() -> bytes:
    children = [_post(i, title=f"{p} {SAFE_MARK}-D{i}", selftext=p, author=f"{p}x"[:40],
                      subreddit_name_prefixed=f"r/[@click=app.quit]{i}[/]") for i, p in enumerate(MARKUP)]
    children.append({"kind": "t1", "data": {"name": "t1_c1", "author": "[/]", "body": "[/bold] comment",
                                            "link_title": "[link=file:///x]t[/link]", "parent_id": "t3_hz1",
                                            "permalink": "/r/hazards/comments/hz1/post/c1/", "created_utc": 1704182400}})
    return _reddit(children)


def reddit_escapes() -> bytes:
    children = [_post(100 + i, title=f"{v} {SAFE_MARK}-Q{i}", selftext=v, author=f"a{i}\x1b[2J", url="\x1b]52;c;UFdORUQ=\x07")
                for i, v in enumerate(ESCAPES.values())]
    return _reddit(children)


def reddit_types() -> bytes:
    children: list[Any] = [
        None, 1, "x", {"kind": "t3"}, {"kind": "t3", "data": []},
        _post(401, title=["list"], selftext={"o": 1}, author=None, created_utc="yesterday"),
        _post(402, created_utc=1e20, score=-3),
        _post(403, created_utc=-1e12, num_comments="12"),
        _post(404, created_utc=float("nan")),
        _post(405, permalink="javascript:alert(1)", url="file:///etc/passwd", selftext=""),
        _post(406, permalink="//evil.example/x", name=None, id=None),
        {"kind": None, "data": {"id": "noname", "title": "kind is null"}},
    ]
    return _reddit(children).replace(b"NaN", b"NaN")


def reddit_not_listing() -> bytes:
    return _json({"message": "Too Many Requests [@click=app.quit]x[/]", "error": 429})


def reddit_comment_page() -> bytes:
    return _json([json.loads(reddit_markup()), {"kind": "Listing", "data": {"children": "oops"}}])


def json_markup() -> bytes:
    posts = [_jpost(i, title=p, body=f"{p} {SAFE_MARK}-G{i}", user={"handle": p, "name": p, "followers": "12"})
             for i, p in enumerate(MARKUP)]
    return _mapped(posts)


def json_escapes() -> bytes:
    posts = [_jpost(100 + i, title=v, body=f"{v} {SAFE_MARK}-K{i}", link=f"https://ok.example/{i}\x1b[2J",
                    user={"handle": v, "name": v}) for i, v in enumerate(ESCAPES.values())]
    return _mapped(posts)


def json_unicode() -> bytes:
    posts = [_jpost(200 + i, body=v, title=v, user={"handle": f"u{i}", "name": v}) for i, v in enumerate(UNICODE_HAZARDS.values())]
    posts += [_jpost(300 + i, body=s, title=s) for i, s in enumerate(MULTILINGUAL)]
    body = _mapped(posts).decode("ascii")
    lone = ", ".join(f'{{"id": "lone-{i}", "body": {s}, "title": {s}, "user": {{"handle": {s}, "name": {s}}}, '
                     f'"link": {s}, "ts": {s}, "lang": {s}}}' for i, s in enumerate(LONE_SURROGATES_JSON))
    return (body[:-3] + ", " + lone + "]}}").encode("ascii")


def json_types() -> bytes:
    posts: list[Any] = [
        None, 1, "x", [], {},
        {"id": None, "body": None, "title": None},
        {"id": True, "body": ["a"], "title": {"b": 1}},
        _jpost(401, body=12345, title=6.5, user="not an object"),
        _jpost(402, ts=10**20, likes="1.2k", user={"handle": ["x"], "followers": -7}),
        _jpost(403, ts=-10**15, likes=float("nan")),
        _jpost(404, ts="0001-01-01T00:00:00Z", link="javascript:alert(1)"),
        _jpost(405, ts="9999-12-31T23:59:59Z", link="file:///etc/passwd"),
        _jpost(406, ts="2024-02-30T00:00:00Z", link="data:text/html,x"),
        _jpost(407, ts="-0001", link="/relative"),
        _jpost(408, ts=True, lang=["en"], id=8),
        _jpost(409, id=9.5, body="x" * 1_000_000),
        _jpost(410, title="t" * 100_000, user={"handle": "h" * 10_000}),
    ]
    return _mapped(posts).replace(b"NaN", b"NaN")


def json_deep() -> bytes:
    return b'{"data": {"posts": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}"


def json_deep_object() -> bytes:
    return b'{"a":' * 100_000 + b"1" + b"}" * 100_000


def json_not_utf8() -> bytes:
    return _mapped([_jpost(1)]).replace(b"body 1", b"caf\xe9 \xff\xfe")


def json_invalid() -> bytes:
    return b'{"data": {"posts": [{"id": "x", "body": "unterminated'


def json_wrong_root() -> bytes:
    return _json({"data": {"posts": "[@click=app.quit]x[/] not a list"}})


def json_many_fields() -> bytes:
    p = _jpost(600)
    p.update({f"k{i}": "[/]" for i in range(20_000)})
    return _mapped([p])


def empty() -> bytes:
    return b""


def hostile_reason() -> bytes:
    return b"<html>oops</html>"


DOCS: list[Doc] = [
    # markup
    Doc("rss-markup", "rss", "markup", rss_markup, min_items=len(MARKUP)),
    Doc("atom-markup", "rss", "markup", atom_markup, "application/atom+xml", min_items=len(MARKUP)),
    Doc("mastodon-markup", "mastodon", "markup", mastodon_markup, "application/json", min_items=len(MARKUP)),
    Doc("reddit-markup", "reddit", "markup", reddit_markup, "application/json", min_items=len(MARKUP)),
    Doc("json-markup", "json", "markup", json_markup, "application/json", min_items=len(MARKUP)),
    # escapes
    Doc("rss-escapes-raw", "rss", "escape", rss_escapes_raw, expect="any"),
    Doc("rss-escapes-charrefs", "rss", "escape", rss_escapes_charrefs, expect="any"),
    Doc("atom-escapes-hexrefs", "rss", "escape", atom_escapes_hexrefs, "application/atom+xml", expect="any"),
    Doc("mastodon-escapes", "mastodon", "escape", mastodon_escapes, "application/json", min_items=len(ESCAPES)),
    Doc("reddit-escapes", "reddit", "escape", reddit_escapes, "application/json", min_items=len(ESCAPES)),
    Doc("json-escapes", "json", "escape", json_escapes, "application/json", min_items=len(ESCAPES)),
    # unicode and multilingual
    Doc("rss-unicode", "rss", "unicode", rss_unicode, min_items=len(UNICODE_HAZARDS)),
    Doc("mastodon-unicode", "mastodon", "unicode", mastodon_unicode, "application/json", min_items=len(MULTILINGUAL)),
    Doc("json-unicode", "json", "unicode", json_unicode, "application/json", min_items=len(MULTILINGUAL)),
    Doc("atom-multilingual", "rss", "multilingual", atom_multilingual, "application/atom+xml", min_items=len(MULTILINGUAL)),
    # html and links
    Doc("rss-html", "rss", "html", rss_html, min_items=len(HTML_BODIES)),
    Doc("rss-bad-urls", "rss", "html", rss_bad_urls, min_items=len(BAD_URLS)),
    # huge
    Doc("rss-huge-title", "rss", "huge", rss_huge_title, min_items=1, big=True),
    Doc("rss-10k-items", "rss", "huge", rss_10k, min_items=10_000, big=True),
    Doc("rss-deep-html", "rss", "huge", rss_deep_html, expect="any"),
    Doc("mastodon-deep", "mastodon", "huge", mastodon_deep, "application/json", expect="error",
        error_words=("nested too deeply",)),
    Doc("json-deep", "json", "huge", json_deep, "application/json", expect="error", error_words=("nested too deeply",)),
    Doc("json-deep-object", "json", "huge", json_deep_object, "application/json", expect="error",
        error_words=("nested too deeply",)),
    Doc("json-many-fields", "json", "huge", json_many_fields, "application/json", min_items=1),
    # types and dates
    Doc("rss-missing-fields", "rss", "types", rss_missing_fields, expect="any"),
    Doc("rss-dates", "rss", "types", rss_dates, min_items=10),
    Doc("atom-dates", "rss", "types", atom_dates, "application/atom+xml", min_items=6),
    Doc("mastodon-types", "mastodon", "types", mastodon_types, "application/json", min_items=3),
    Doc("reddit-types", "reddit", "types", reddit_types, "application/json", min_items=3),
    Doc("reddit-not-listing", "reddit", "types", reddit_not_listing, "application/json", expect="error",
        error_words=("Reddit",)),
    Doc("reddit-comment-page", "reddit", "types", reddit_comment_page, "application/json", expect="any"),
    Doc("json-types", "json", "types", json_types, "application/json", min_items=5),
    Doc("json-wrong-root", "json", "types", json_wrong_root, "application/json", expect="error",
        error_words=("expected a list",)),
    Doc("mastodon-error", "mastodon", "types", mastodon_error, "application/json", expect="error",
        error_words=("Mastodon said",)),
    Doc("mastodon-search-shape", "mastodon", "types", mastodon_search_shape, "application/json", expect="error",
        error_words=("unexpected Mastodon response",)),
    # encoding
    Doc("rss-cp1252-as-utf8", "rss", "encoding", rss_cp1252, "application/rss+xml; charset=utf-8", min_items=1),
    Doc("rss-utf16", "rss", "encoding", rss_utf16, "application/rss+xml", expect="any"),
    # One stray Latin-1 byte in one post must not cost every other post of the response:
    # it is read as U+FFFD (jsonapi.load_json), like a browser would.
    Doc("json-not-utf8", "json", "encoding", json_not_utf8, "application/json", min_items=1),
    # xml
    Doc("rss-quadratic-blowup", "rss", "xml", rss_quadratic, expect="error", error_words=("ENTITY",)),
    Doc("rss-billion-laughs", "rss", "xml", rss_billion_laughs, expect="error", error_words=("ENTITY",)),
    Doc("rss-xxe", "rss", "xml", rss_xxe, expect="error", error_words=("ENTITY",)),
    Doc("rss-xxe-utf16", "rss", "xml", rss_xxe_utf16, expect="error", error_words=("ENTITY",)),
    Doc("rss-external-dtd", "rss", "xml", rss_external_dtd, expect="any"),
    Doc("rss-truncated", "rss", "xml", rss_truncated, min_items=3),
    # not a feed
    Doc("html-login-as-rss", "rss", "notafeed", html_login, "text/html", expect="error", error_words=("HTML",)),
    Doc("html-login-as-json", "json", "notafeed", html_login, "text/html", expect="error", error_words=("HTML",)),
    Doc("html-login-as-mastodon", "mastodon", "notafeed", html_login, "text/html", expect="error",
        error_words=("HTML",)),
    Doc("empty-rss", "rss", "notafeed", empty, expect="error", error_words=("empty",)),
    Doc("empty-json", "json", "notafeed", empty, "application/json", expect="error", error_words=("empty",)),
    Doc("json-invalid", "json", "notafeed", json_invalid, "application/json", expect="error",
        error_words=("invalid",)),
    Doc("http-500-hostile-reason", "rss", "notafeed", hostile_reason, "text/html", expect="error", status=500,
        reason="[@click=app.quit]x[/] [/] PWNED-REASON", error_words=("HTTP 500",)),
]

BY_NAME = {d.name: d for d in DOCS}
assert len(BY_NAME) == len(DOCS)


def write_corpus(directory: str) -> None:
    """Write every document to ``directory`` (for eyes and other tools)."""
    from pathlib import Path

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    ext = {"rss": "xml", "mastodon": "json", "reddit": "json", "json": "json"}
    for d in DOCS:
        (out / f"{d.name}.{ext[d.kind]}").write_bytes(d.body)


if __name__ == "__main__":  # pragma: no cover
    import sys

    write_corpus(sys.argv[1])
