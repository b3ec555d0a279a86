"""The pipeline both the CLI and the UI run: poll, dedupe, judge coverage, triage, archive.

``Monitor`` wires the core pieces together and nothing else; it owns no UI state.  Its
async methods are safe to call from the UI's event loop: network IO is async (httpx),
and everything that blocks (parsing inside the connectors, sqlite, triage of a large
batch) runs in a thread via ``asyncio.to_thread``; a big feed is parsed in a child
process (:mod:`watchtower.core.parsepool`), so its parser never holds the GIL.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Mapping

from ..config import Config
from .models import Item, utcnow
from .sources import PollResult, Source, build_source

__all__ = ["Monitor", "RoundResult"]


@dataclass
class RoundResult:
    """One poll of one source, after the pipeline: ``new`` holds only unseen items."""

    poll: PollResult
    new: list[Item] = field(default_factory=list)


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
        from .poller import Poller
        from .rota import Rota
        from .triage import Triager

        self.config = config
        self.clock = clock
        self.sources: list[Source] = [
            build_source(s, env=env, base_dir=config.base_dir) for s in config.sources if s.enabled
        ]
        self.poller = Poller(self.sources)
        from .parsepool import ParsePool

        # Big feeds are parsed in a child process (killable, memory-capped); it starts
        # on the first big document and stops in aclose().
        self.parse_pool = ParsePool()
        for s in self.sources:
            if hasattr(s, "parse_pool"):
                s.parse_pool = self.parse_pool
        self.rota = Rota(config.rota, config.organisation.tz)
        self.triager = Triager(config, source_weights={s.name: s.weight for s in self.sources})
        if archive is None and data_dir is not None:
            from .archive import Archive

            archive = Archive(
                data_dir,
                retention_days=config.data.retention_days,
                group_shared=config.data.group_shared,
            )
        self.archive = archive
        self.crisis = False
        self._seen_ids: set[str] = set()  # when there is no archive (fetch without a data dir)

    def source(self, name: str) -> Source:
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)

    async def poll(self, name: str) -> RoundResult:
        result = await self.poller.poll(name)
        if not result.items:
            return RoundResult(result)
        new = await asyncio.to_thread(self.ingest, result.items)
        return RoundResult(result, new)

    async def poll_all(self) -> list[RoundResult]:
        return list(await asyncio.gather(*(self.poll(s.name) for s in self.sources)))

    def ingest(self, items: list[Item], *, now: datetime | None = None) -> list[Item]:
        """Dedupe, judge coverage and triage; return only the items never seen before.

        Blocking (sqlite, regexes over a batch): call it from a thread.
        """
        now = now or self.clock()
        if self.archive is not None:
            known = self.archive.known([i.id for i in items])
        else:
            known = self._seen_ids
        fresh: list[Item] = []
        batch_ids: set[str] = set()
        for item in items:
            if item.id in known or item.id in batch_ids:
                continue
            batch_ids.add(item.id)
            fresh.append(item)
        if not fresh:
            return []
        # Triage judges coverage too (from the same rota), so it is not set here.
        self.triager.triage(fresh, now=now, crisis=self.crisis)
        if self.archive is not None:
            fresh = self.archive.add(fresh)
        else:
            self._seen_ids.update(batch_ids)
        return fresh

    async def aclose(self) -> None:
        await self.parse_pool.aclose()
        await self.poller.aclose()
        if self.archive is not None:
            await asyncio.to_thread(self.archive.close)
