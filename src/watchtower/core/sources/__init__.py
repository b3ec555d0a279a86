"""Connectors: one module per kind of source, all built through :func:`build_source`."""

from __future__ import annotations

from typing import Any, Mapping

from .base import PollResult, Source, SourceError, SourceState

__all__ = ["Source", "SourceError", "SourceState", "PollResult", "build_source"]


def build_source(spec: Any, *, env: Mapping[str, str] | None = None, base_dir: Any = None) -> Source:
    """The connector for one ``[[sources]]`` entry of the config.

    ``base_dir`` (the config file's folder) anchors relative paths, such as an inbox's.
    """
    kind = spec.kind
    if kind == "rss":
        from .rss import RssFeed as cls
    elif kind == "mastodon":
        from .mastodon import MastodonSource as cls
    elif kind == "bluesky":
        from .bluesky import BlueskySource as cls
    elif kind == "reddit":
        from .reddit import RedditSource as cls
    elif kind == "json":
        from .jsonapi import MappedJsonSource as cls
    elif kind == "inbox":
        from .inbox import InboxSource as cls
    else:  # pragma: no cover - the config validator rejects unknown kinds
        raise ValueError(f"unknown source kind {kind!r}")
    if kind == "inbox" and base_dir is not None:
        return cls(spec, env=env, base_dir=base_dir)
    return cls(spec, env=env)
