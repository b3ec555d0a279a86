"""Our own posts: delete one, mark one corrected, post our own statement.

The seeds (docs/product.md): posted from the wrong account, or posted the wrong information? "Delete it and
apologise right away"; "delete the original as soon as possible, but don't pretend it
never existed", then "a separate post with the right info", "preferably your own post"
rather than a reply.

- :func:`delete_own_post` deletes through the platform's API (Mastodon, Bluesky: see
  :meth:`~watchtower.core.respond.posting.Poster.delete`) and logs ``deleted`` with who and when.
  Where we have no API (X, Facebook, Instagram, ...) :func:`manual_delete_step` is the
  checklist step ("Delete it on X now", the link, the account to be logged in as); the
  operator does it and ticks it, and :func:`record_deleted` logs it the same way.
- :func:`post_statement` posts a statement (not a reply, nobody mentioned) from a chosen
  account, through the never-twice path of :mod:`watchtower.core.respond.schedule`, and marks the
  post it corrects (:func:`record_corrected`).
- :func:`own_post_marks` folds the log into what a row shows: ``deleted``, ``corrected``.

Log entries: ``deleted`` (``item_id``; ``data``: ``account``, ``how`` = ``"api"`` or
``"by hand"``, ``post_id``, ``url``) and ``corrected`` (``item_id``; ``data``:
``statement``, the ``scheduled`` entry of the statement, and its ``url``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from ..models import Item
from ..text.safetext import one_line
from ..text.textlength import platform_key

if TYPE_CHECKING:
    from ...config import Account, Config
    from ..record.log import HandoverLog, LogEntry
    from .posting import Poster
    from .schedule import Outcome

__all__ = [
    "DELETED",
    "CORRECTED",
    "OwnMark",
    "ManualStep",
    "DeleteOutcome",
    "our_account_for",
    "manual_delete_step",
    "delete_own_post",
    "record_deleted",
    "record_corrected",
    "own_post_marks",
    "post_statement",
]

DELETED = "deleted"
CORRECTED = "corrected"


def _norm(handle: str | None) -> str:
    return (handle or "").strip().lstrip("@").casefold()


def _same_platform(a: str | None, b: str | None) -> bool:
    ka, kb = platform_key(a), platform_key(b)
    if ka and kb:
        return ka == kb
    return (a or "").casefold().strip() == (b or "").casefold().strip()


def our_account_for(item: Item, config: Config) -> Account | None:
    """The account of ours that posted ``item``, or ``None`` when it is not ours.

    Ours when triage marked it (``own_account``) or its author is one of our handles on
    that platform (``bieb`` and ``@bieb@social.example`` are the same local account).
    """
    author, own = _norm(item.author), _norm(item.own_account)
    for account in config.organisation.accounts:
        if not _same_platform(account.platform, item.platform):
            continue
        handle = _norm(account.handle)
        # "bieb" on an item from our instance is the local form of "bieb@social.example".
        if handle in (author, own) or ("@" not in author and author == handle.split("@")[0]):
            return account
    return None


@dataclass(frozen=True, slots=True)
class ManualStep:
    """A checklist step for a platform we cannot act on through an API."""

    text: str
    """``"Delete it on X now, logged in as @bibzuidstad"``."""
    url: str | None
    """The post to open (``None`` when the item has no link)."""
    account: str | None
    platform: str


def manual_delete_step(item: Item, config: Config) -> ManualStep:
    """"Delete it on <platform> now", with the link and the account to be logged in as."""
    account = our_account_for(item, config)
    platform = one_line(item.platform, limit=40) or "the platform"
    who = f", logged in as {one_line(account.handle, limit=100)}" if account else ""
    return ManualStep(
        text=f"Delete it on {platform} now{who}; then tick this step",
        url=item.url,
        account=account.handle if account else None,
        platform=item.platform,
    )


@dataclass(frozen=True, slots=True)
class DeleteOutcome:
    """What :func:`delete_own_post` did.  ``message`` is one line, safe to show."""

    ok: bool
    message: str
    entry: LogEntry | None = None
    manual: ManualStep | None = None
    """Set when there is no API here: show the step, and :func:`record_deleted` when ticked."""


def record_deleted(
    log: HandoverLog,
    item: Item,
    *,
    operator: str,
    how: Literal["api", "by hand"] = "by hand",
    account: Account | None = None,
    post_id: str | None = None,
    url: str | None = None,
) -> LogEntry:
    """Log that our post ``item`` was deleted (by the API, or by hand on the platform)."""
    return log.append(
        DELETED,
        item.text,
        operator=operator,
        item=item,
        data={
            "account": account.handle if account else item.own_account or item.author,
            "how": how,
            "post_id": post_id or item.native_id,
            "url": url or item.url,
        },
    )


async def delete_own_post(
    log: HandoverLog,
    config: Config,
    item: Item,
    *,
    operator: str,
    poster: Poster,
    entries: Iterable[LogEntry] | None = None,
) -> DeleteOutcome:
    """Delete our post ``item`` and log it, or say why not (never raises for the network).

    Not ours: refused.  Deleted already (the log says so): refused, naming who.  No API
    on its platform, or no token: the :class:`ManualStep` to show instead.
    """
    account = our_account_for(item, config)
    if account is None:
        return DeleteOutcome(False, "this is not a post of one of our accounts; only our own posts can be deleted")
    marks = own_post_marks(entries if entries is not None else await asyncio.to_thread(log.entries, kinds=(DELETED,)))
    done = marks.get(item.id)
    if done is not None and done.deleted_by:
        return DeleteOutcome(False, f"already deleted by {done.deleted_by} ({done.how})")
    if poster.why_cannot(account, item.platform) is not None:
        step = manual_delete_step(item, config)
        return DeleteOutcome(False, step.text, manual=step)
    result = await poster.delete(item, account=account)
    if not result.ok:
        return DeleteOutcome(False, f"not deleted: {result.error}")
    # The log write (a file lock, an fsync) in a thread: the caller may be a UI's loop.
    entry = await asyncio.to_thread(
        lambda: record_deleted(log, item, operator=operator, how="api", account=account, post_id=result.id, url=result.url)
    )
    return DeleteOutcome(True, f"deleted from {account.platform} ({account.handle}) and logged", entry)


def record_corrected(
    log: HandoverLog,
    item: Item,
    *,
    operator: str,
    statement: str | None = None,
    url: str | None = None,
    text: str = "",
) -> LogEntry:
    """Log that our incorrect post ``item`` is corrected (by the statement ``statement``)."""
    return log.append(
        CORRECTED,
        text,
        operator=operator,
        item=item,
        data={"statement": statement, "url": url},
    )


@dataclass(slots=True)
class OwnMark:
    """What the log says about one of our posts."""

    deleted_by: str | None = None
    deleted_at: datetime | None = None
    how: str = ""
    corrected_by: str | None = None
    corrected_at: datetime | None = None
    statement_url: str | None = None

    @property
    def label(self) -> str:
        """The row state: ``deleted``, ``corrected``, or both."""
        words = [w for w, on in (("deleted", self.deleted_by), ("corrected", self.corrected_by)) if on]
        return " + ".join(words)


def own_post_marks(entries: Iterable[LogEntry]) -> dict[str, OwnMark]:
    """``item id -> OwnMark`` for our posts the log says were deleted or corrected."""
    out: dict[str, OwnMark] = {}
    for e in sorted(entries, key=lambda e: e.seq):
        if e.kind not in (DELETED, CORRECTED) or not e.item_id:
            continue
        mark = out.setdefault(e.item_id, OwnMark())
        if e.kind == DELETED and mark.deleted_by is None:
            mark.deleted_by, mark.deleted_at = e.operator, e.ts
            mark.how = one_line(e.data.get("how"), limit=16) or "by hand"
        elif e.kind == CORRECTED:
            mark.corrected_by, mark.corrected_at = e.operator, e.ts
            mark.statement_url = one_line(e.data.get("url"), limit=2048) or None
    return out


async def post_statement(
    log: HandoverLog,
    config: Config,
    *,
    account: Account,
    text: str,
    operator: str,
    poster: Poster,
    corrects: Item | None = None,
    language: str | None = None,
    template: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Outcome:
    """Post our own statement now, as ``account`` (a new post: not a reply, no mention).

    Sent through :func:`watchtower.core.respond.schedule.send_now` (never twice, logged as
    ``posted``).  With ``corrects`` (our incorrect post), that post is logged
    ``corrected`` once the statement is out.
    """
    from .schedule import send_now

    outcome = await send_now(
        log, config, account=account, text=text, operator=operator, poster=poster, about=corrects,
        language=language, template=template, env=env,
    )
    if corrects is not None and outcome.action in ("sent", "found"):
        await asyncio.to_thread(
            lambda: record_corrected(
                log, corrects, operator=operator, statement=outcome.post.id, url=outcome.url, text=text,
            )
        )
    return outcome
