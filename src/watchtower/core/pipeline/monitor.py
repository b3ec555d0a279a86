"""The pipeline both the CLI and the UI run: poll, dedupe, judge coverage, triage, archive.

``Monitor`` wires the core pieces together and nothing else; it owns no UI state.  Its
async methods are safe to call from the UI's event loop: network IO is async (httpx),
and everything that blocks (parsing inside the connectors, sqlite, triage of a large
batch) runs in a thread via ``asyncio.to_thread``; a big feed is parsed in a child
process (:mod:`watchtower.core.fetch.parsepool`), so its parser never holds the GIL.

What :meth:`Monitor.ingest` decides about each polled item:

- **new**: never seen from this source: triaged, archived, returned in ``new``;
- **held**: seen before: dropped, unless it is an **edit** (a later ``edited_at``), which
  replaces the held copy and comes back in ``updated``;
- **also seen on**: its link is one another source delivered first: it is folded into
  that item (:attr:`Item.also_seen_on <watchtower.core.models.Item.also_seen_on>`), which
  comes back in ``updated``, instead of showing the same post twice;
- **legacy id**: an item archived before identity was per source (id
  ``platform:native-id``, :attr:`Item.legacy_id`) by the same source keeps that id, so
  the archive, its seen flag and the handover log's decisions keyed by it still apply.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping

from ...config import Config
from ..models import Item, SeenOn, utcnow
from ..sources import PollResult, Source, build_source
from ..sources.bluesky_sessions import Sessions

__all__ = ["Monitor", "RoundResult", "Ingested", "TRIAGE_SLICE"]

#: Links remembered to find cross-source duplicates.
_URL_MEMORY = 50_000
#: Legacy-id lookups remembered (new id -> the archived legacy id, or None).
_LEGACY_MEMORY = 50_000
#: Items triaged between two points where the ingest thread lets the GIL go (about 3 ms
#: of triage).  Left to CPython it holds the GIL 5 ms at a time, and a UI loop waiting
#: behind it and another thread missed frames while a 10,000-item batch was triaged
#: (bench P2: loop lags of 11-18 ms then, 7 ms with this).
TRIAGE_SLICE = 100


@dataclass
class RoundResult:
    """One poll of one source, after the pipeline.

    ``new`` holds only items never seen before; ``updated`` holds items seen before that
    changed: an edited post (``edited_at``), or an item another source also delivered
    (``also_seen_on`` grew).  A UI replaces its copy of each (same ``id``).
    """

    poll: PollResult
    new: list[Item] = field(default_factory=list)
    updated: list[Item] = field(default_factory=list)
    seq: int = 0
    """The order this round's items went through the pipeline (0: none did).  Rounds
    must reach a UI in this order: one round's ``updated`` may hold an item another
    round brought as ``new`` (a link the other source delivered first), and applying
    the older round last would undo the newer copy."""


@dataclass
class Ingested:
    """What :meth:`Monitor.ingest_all` made of one batch."""

    new: list[Item] = field(default_factory=list)
    updated: list[Item] = field(default_factory=list)
    also_seen: int = 0
    """Items folded into an item another source delivered first."""
    seq: int = 0
    """Which batch through the pipeline this was (1, 2, ...; see RoundResult.seq)."""


class Monitor:
    def __init__(
        self,
        config: Config,
        *,
        data_dir: Path | None = None,
        env: Mapping[str, str] | None = None,
        archive: object | None = None,
        clock=utcnow,
    ) -> None:
        from ..triage.engine import Triager
        from .poller import Poller

        self.config = config
        self.clock = clock
        self.sources: list[Source] = [
            build_source(s, env=env, base_dir=config.base_dir) for s in config.sources if s.enabled
        ]
        self.poller = Poller(self.sources)
        from ..fetch.parsepool import ParsePool

        # Big feeds are parsed in a child process (killable, memory-capped); it starts
        # on the first big document and stops in aclose().
        self.parse_pool = ParsePool()
        for s in self.sources:
            if hasattr(s, "parse_pool"):
                s.parse_pool = self.parse_pool
        # One Bluesky session per account for every reader here and the Desk's poster.
        self.bluesky_sessions: Sessions = {}
        for s in self.sources:
            if hasattr(s, "sessions"):
                s.sessions = self.bluesky_sessions
        self.triager = Triager(config, source_weights={s.name: s.weight for s in self.sources})
        # One rota: the triager judges each item's coverage with it, and the header, the
        # rota screen and the log's overrides use the same one.
        self.rota = self.triager.rota
        if archive is None and data_dir is not None:
            from ..record.archive import Archive

            archive = Archive(
                data_dir,
                retention_days=config.data.retention_days,
                group_shared=config.data.group_shared,
            )
        self.archive: Any = archive  # an Archive, or a stand-in with its methods (tests)
        self.crisis = False
        # When there is no archive (fetch without a data dir): every item held, by id.
        self._held_items: dict[str, Item] = {}
        # With an archive: the newest edited_at known per id, so an unchanged edited
        # post costs no archive read on every poll.
        self._edits: OrderedDict[str, datetime | None] = OrderedDict()
        # The first holder of each link (normalised by _url_key), for "also seen on".
        self._by_url: OrderedDict[str, Item] = OrderedDict()
        self._url_seeded = archive is None
        self._legacy: OrderedDict[str, str | None] = OrderedDict()
        self._warm = False
        # Polls of different sources ingest in parallel threads; cross-source decisions
        # (which copy of a link came first) need one at a time.
        self._ingest_lock = threading.Lock()
        self._ingest_seq = 0

    def source(self, name: str) -> Source:
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)

    async def poll(self, name: str) -> RoundResult:
        if not self._warm:
            # The first poll would import 40-60 ms of modules on the caller's loop (the
            # UI's): the first polls import them in a thread instead (see _warm_imports;
            # a second poll meanwhile waits for the import lock there too, not on the loop).
            await asyncio.to_thread(_warm_imports)
            self._warm = True
        result = await self.poller.poll(name)
        state = self.poller.states.get(name)
        if not result.items:
            if state is not None and result.ok:
                state.last_new = state.last_also_seen = 0
            return RoundResult(result)
        done = await asyncio.to_thread(self.ingest_all, result.items)
        if state is not None:
            state.last_new = len(done.new)
            state.last_also_seen = done.also_seen
        return RoundResult(result, done.new, done.updated, done.seq)

    async def poll_all(self) -> list[RoundResult]:
        return list(await asyncio.gather(*(self.poll(s.name) for s in self.sources)))

    def ingest(self, items: list[Item], *, now: datetime | None = None) -> list[Item]:
        """Dedupe, judge coverage and triage; return only the items never seen before.

        Blocking (sqlite, regexes over a batch): call it from a thread.  Edits and
        cross-source links are applied too; :meth:`ingest_all` also returns those.
        """
        return self.ingest_all(items, now=now).new

    def ingest_all(self, items: list[Item], *, now: datetime | None = None) -> Ingested:
        """:meth:`ingest`, with the held items that changed (see the module docstring)."""
        with self._ingest_lock:
            done = self._ingest(items, now or self.clock())
            self._ingest_seq += 1
            done.seq = self._ingest_seq
            return done

    def _ingest(self, items: list[Item], now: datetime) -> Ingested:
        archive = self.archive
        if archive is not None:
            self._adopt_legacy_ids(items)
            known: set[str] | dict[str, Item] = archive.known([i.id for i in items])
        else:
            known = self._held_items
        fresh: list[Item] = []
        edits: list[Item] = []
        batch_ids: set[str] = set()
        for item in items:
            if item.id in batch_ids:
                continue
            batch_ids.add(item.id)
            if item.id not in known:
                fresh.append(item)
            elif item.edited_at is not None:
                edits.append(item)
        fresh, hosts = self._fold_duplicates(fresh)
        also_seen = len(batch_ids) - len(fresh) - sum(1 for i in batch_ids if i in known)
        edited = self._edited(edits)
        if fresh:
            self._triage(fresh, now)
            if archive is not None:
                fresh = archive.add(fresh)
            else:
                self._held_items.update((i.id, i) for i in fresh)
        if edited:
            self._triage(edited, now, spikes=False)
            if archive is not None:
                archive.update(edited)
            else:
                self._held_items.update((i.id, i) for i in edited)
        for item in (*fresh, *edited):
            self._remember_url(item)
        if hosts and archive is not None:
            archive.update(hosts.values())
        updated = {i.id: i for i in edited}
        for host_id, host in hosts.items():
            updated.setdefault(host_id, host)
        return Ingested(new=fresh, updated=list(updated.values()), also_seen=also_seen)

    # -- the steps ---------------------------------------------------------------------

    def _triage(self, items: list[Item], now: datetime, *, spikes: bool = True) -> None:
        """Triage (which judges coverage too); items of unknown date do not feed the spikes.

        An item without a usable date carries the time it arrived; counting it in the
        volume would turn a feed of undated items into a "spike" now, and marking it as
        part of one would claim a time nobody knows.  An edit is no new mention either
        (``spikes=False``: judged against the current volume, not added to it).
        """
        triager = self.triager
        counted = [i for i in items if spikes and not i.date_unknown]
        if len(counted) > TRIAGE_SLICE:
            # A slice at a time, the GIL let go between slices (see TRIAGE_SLICE).  The
            # whole batch feeds the spike detector first, as one triage() call would; the
            # slices' own feeding then counts nothing twice (the same item id is counted
            # once), so every item is judged against the same volume as before.
            for item in counted:
                triager.spikes.add(item.platform, item.published, now, item_id=item.id)
        for start in range(0, len(counted), TRIAGE_SLICE):
            if start:
                time.sleep(0)
            triager.triage(counted[start : start + TRIAGE_SLICE], now=now, crisis=self.crisis)
        rest = [i for i in items if not spikes or i.date_unknown]
        if rest:
            from ..triage.engine import SpikeStatus

            quiet = SpikeStatus(active=False, count=0, baseline=0.0, ratio=0.0)
            for n, item in enumerate(rest, start=1):
                triager.triage_one(item, now=now, crisis=self.crisis, spike=quiet if item.date_unknown else None)
                if n % TRIAGE_SLICE == 0:
                    time.sleep(0)

    def _adopt_legacy_ids(self, items: list[Item]) -> None:
        """Items archived under their legacy id by this same source keep that id.

        Before identity was per source, an item's id was ``platform:native-id``; the
        archive and the handover log (claims, replies, seen flags) hold those.  Only a
        row of the *same* source is taken over: the same legacy id from another source
        is the collision per-source ids exist to end.  The ids this process has not
        asked about yet cost one archive query per 500 (their sources, no item decoded),
        never one read per item; the answers are remembered.
        """
        archive = self.archive
        if archive is None:
            return
        ask: dict[str, Item] = {}
        for item in items:
            lid = item.legacy_id
            if lid != item.id and item.id not in self._legacy:
                ask.setdefault(lid, item)
        if ask:
            stored_by = archive.sources_of(ask)
            for lid, item in ask.items():
                self._legacy[item.id] = lid if stored_by.get(lid) == item.source else None
            while len(self._legacy) > _LEGACY_MEMORY:
                self._legacy.popitem(last=False)
        for item in items:
            adopted = self._legacy.get(item.id)
            if adopted is not None:
                item.id = adopted

    def _edited(self, candidates: list[Item]) -> list[Item]:
        """The new versions of held items that these are later edits of."""
        out: list[Item] = []
        ask: list[Item] = []
        for item in candidates:
            if item.edited_at is None:
                continue
            if self.archive is not None:
                known_edit = self._edits.get(item.id)
                if known_edit is not None and item.edited_at <= known_edit:
                    continue  # this edit, or an older one, is stored already
            ask.append(item)
        # The held copies in one archive read per 500, not one per edited post.
        if not ask:
            return out
        held_by_id = self._held_items if self.archive is None else self.archive.get_many(i.id for i in ask)
        for item in ask:
            held = held_by_id.get(item.id)
            if held is None or item.edited_at is None:
                continue
            if held.edited_at is not None and item.edited_at <= held.edited_at:
                self._remember_edit(item.id, held.edited_at)
                continue
            # What the pipeline added to the held copy stays with the new version (the
            # sequence itself: it is replaced, never changed in place).
            item.also_seen_on = held.also_seen_on
            if held.date_unknown or item.date_unknown:
                item.published, item.date_unknown = held.published, held.date_unknown
            self._remember_edit(item.id, item.edited_at)
            out.append(item)
        return out

    def _remember_edit(self, item_id: str, edited_at: datetime | None) -> None:
        if self.archive is None:
            return
        self._edits[item_id] = edited_at
        self._edits.move_to_end(item_id)
        while len(self._edits) > _LEGACY_MEMORY:
            self._edits.popitem(last=False)

    # -- links seen on several sources -------------------------------------------------

    def _fold_duplicates(self, fresh: list[Item]) -> tuple[list[Item], dict[str, Item]]:
        """Fresh items whose link another source delivered first go onto that item.

        Returns the items still fresh and the held items that gained an "also seen on"
        (with an archive: as stored there now, so nothing else written meanwhile is lost).
        Items of one source that share a link are all kept (a feed may list one page
        under two guids), and an item whose first holder has left the archive is fresh.
        """
        self._seed_urls()
        keep: list[Item] = []
        hosts: dict[str, Item] = {}
        # The archive's copies of the hosts this batch may fold into, in one read per 500
        # (a feed re-listing a mirror's 10,000 links must not cost 10,000 reads).
        stored_hosts = self._stored_hosts(fresh)
        for item in fresh:
            key = _url_key(item.url)
            host = None if key is None else self._by_url.get(key)
            if host is None or host.source == item.source or host.id == item.id:
                keep.append(item)
                continue
            host = hosts.get(host.id, host)
            if any(s.source == item.source for s in host.also_seen_on):
                continue  # linked already (a re-poll): nothing changed
            if self.archive is not None and host.id not in hosts:
                stored = stored_hosts.get(host.id)
                if stored is None:  # pruned from the archive: this copy is the one now
                    self._by_url.pop(key, None)  # type: ignore[arg-type]
                    keep.append(item)
                    continue
                host = stored
                if any(s.source == item.source for s in host.also_seen_on):
                    self._by_url[key] = host  # type: ignore[index]
                    continue
            # A new list, never an append: a UI may be reading the one it holds.
            host.also_seen_on = [*host.also_seen_on, SeenOn(item.source, item.id)]
            hosts[host.id] = host
            self._by_url[key] = host  # type: ignore[index]
        return keep, hosts

    def _stored_hosts(self, fresh: list[Item]) -> dict[str, Item]:
        """As stored now, the held items whose links these fresh items (of other sources)
        share; only what :meth:`_fold_duplicates` may read, read at once."""
        if self.archive is None:
            return {}
        ids: dict[str, None] = {}
        for item in fresh:
            key = _url_key(item.url)
            host = None if key is None else self._by_url.get(key)
            if host is None or host.source == item.source or host.id == item.id:
                continue
            if not any(s.source == item.source for s in host.also_seen_on):  # else linked already
                ids[host.id] = None
        return self.archive.get_many(ids) if ids else {}

    def _remember_url(self, item: Item) -> None:
        key = _url_key(item.url)
        if key is None:
            return
        held = self._by_url.get(key)
        if held is not None and held.id != item.id:
            return  # the first holder stays the host
        self._by_url[key] = item
        self._by_url.move_to_end(key)
        while len(self._by_url) > _URL_MEMORY:
            self._by_url.popitem(last=False)

    def _seed_urls(self) -> None:
        """Once: links of the archive's newest items, so a restart still folds duplicates."""
        if self._url_seeded or self.archive is None:
            return
        self._url_seeded = True
        for item in reversed(self.archive.recent(limit=5000)):  # oldest first: first holder wins
            key = _url_key(item.url)
            if key is not None and key not in self._by_url:
                self._by_url[key] = item

    async def aclose(self) -> None:
        await self.parse_pool.aclose()
        await self.poller.aclose()
        if self.archive is not None:
            await asyncio.to_thread(self.archive.close)


def _warm_imports() -> None:
    """Import what the first poll imports lazily, wherever it runs: the feed parsers, which
    the rss connector imports for a document parsed in a child process (lxml and their
    patterns, 10-15 ms), and anyio's lock and event types and its asyncio backend, which
    the HTTP pool's first request imports (about 35 ms)."""
    import anyio

    from ..fetch import feeds  # noqa: F401 - imported for its side effect: loaded once, here

    anyio.run(anyio.sleep, 0)  # anyio imports its backend on first use: this is that use


def _url_key(url: str | None) -> str | None:
    """The link as compared across sources: without its fragment (``#comments``)."""
    if not url:
        return None
    return url.split("#", 1)[0] or None
