"""Serve the hazard corpus over real local HTTP and build the watchtower config that reads it.

One document per URL prefix (``/<doc-name>/...``), so every connector can build its own
paths under its base URL: Mastodon asks ``/<name>/api/v1/timelines/tag/hz``, Reddit
``/<name>/r/hazards/new.json``, RSS and mapped JSON the URL they are given.  The server is
pytest-httpserver's (a werkzeug thread in the test process, bound to 127.0.0.1), so the
connectors go through the real :class:`~watchtower.core.fetch.http.HttpFetcher`.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable

from hazards.corpus import DOCS, JSON_MAPPING, Doc
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

__all__ = ["serve", "source_entry", "config_dict", "to_toml", "DOCS"]


def serve(httpserver: HTTPServer, docs: Iterable[Doc] = DOCS) -> dict[str, str]:
    """Register every document; return ``{name: base URL}`` (all on 127.0.0.1)."""
    assert httpserver.host in ("127.0.0.1", "localhost", "::1"), "the corpus is served on loopback only"
    urls: dict[str, str] = {}
    for doc in docs:
        def handler(request: Request, doc: Doc = doc) -> Response:
            status: Any = doc.status if doc.reason is None else f"{doc.status} {doc.reason}"
            return Response(doc.body, status=status, content_type=doc.content_type)

        httpserver.expect_request(re.compile(rf"^/{re.escape(doc.name)}(/.*)?$")).respond_with_handler(handler)
        urls[doc.name] = httpserver.url_for(f"/{doc.name}")
    return urls


def source_entry(doc: Doc, base: str, *, platform: str | None = None, interval: float = 3600) -> dict[str, Any]:
    """The ``[[sources]]`` table that reads ``doc`` from ``base`` (its URL prefix)."""
    entry: dict[str, Any] = {
        "name": doc.name,
        "platform": platform or f"hz-{doc.kind}",
        "kind": doc.kind,
        "interval": interval,
        "timeout": 60.0,
    }
    if doc.kind == "rss":
        entry["url"] = f"{base}/feed.xml"
    elif doc.kind == "json":
        entry["url"] = f"{base}/api/posts"
        entry["mapping"] = dict(JSON_MAPPING)
    elif doc.kind == "mastodon":
        entry.update(url=base, mode="tag", tag="hz")
    elif doc.kind == "reddit":
        entry.update(url=base, mode="subreddit", subreddit="hazards")
    else:  # pragma: no cover
        raise ValueError(doc.kind)
    return entry


def config_dict(docs: Iterable[Doc], urls: dict[str, str], *, platform_of=None, **top: Any) -> dict[str, Any]:
    """A config document (as :func:`watchtower.config.parse_config` takes it) for ``docs``."""
    sources = [source_entry(d, urls[d.name], platform=platform_of(d) if platform_of else None) for d in docs]
    cfg: dict[str, Any] = {
        "organisation": {"name": "Hazard Library", "timezone": "UTC"},
        "alerts": {"bell": False, "desktop": False},
        "sources": sources,
    }
    cfg.update(top)
    return cfg


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string of ASCII/escapes is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(type(value))


def to_toml(cfg: dict[str, Any]) -> str:
    """Just enough TOML for :func:`config_dict` output (tables of scalars, arrays of tables)."""
    lines: list[str] = []
    for key, value in cfg.items():
        if key == "sources":
            continue
        if isinstance(value, dict):
            lines.append(f"[{key}]")
            lines += [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()]
        else:
            lines.insert(0, f"{json.dumps(key)} = {_toml_value(value)}")
    for src in cfg.get("sources", []):
        lines.append("[[sources]]")
        lines += [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in src.items()]
    return "\n".join(lines) + "\n"
