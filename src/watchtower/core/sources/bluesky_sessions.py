"""Bluesky sessions, one per account, shared by reading and posting.

The connector (:mod:`.bluesky`) logs in to read a search or a feed; the poster
(:mod:`watchtower.core.respond.posting`) logs in to reply, post and delete.  When both use
the same account (the usual setup: one app password for the organisation), two separate
sessions meant two logins against a rate-limited endpoint (createSession) and two sets of
tokens to keep fresh.  A :data:`Sessions` store, made once per process by whoever owns both
(the :class:`~watchtower.core.pipeline.monitor.Monitor`, which the Desk hands to its
poster), holds one session per account for both.

A session is keyed by the PDS it was made on, the handle and a digest of the password:
another app password for the same handle is another session, and no password is ever a
key.  The values are the server's own words (``accessJwt``, ``refreshJwt``, ``did``,
``handle``).
"""

from __future__ import annotations

import hashlib

__all__ = ["SessionKey", "Sessions", "session_key"]

SessionKey = tuple[str, str, str]
Sessions = dict[SessionKey, dict[str, str]]


def session_key(pds: str, handle: str, password: str) -> SessionKey:
    """The store's key for ``handle`` on ``pds`` with this password."""
    return (
        pds.rstrip("/"),
        handle.strip().lstrip("@").casefold(),
        hashlib.sha256(password.encode("utf-8", "surrogatepass")).hexdigest()[:16],
    )
