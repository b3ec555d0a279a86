"""A local drop directory: other tools write ``*.jsonl`` files, watchtower reads each once.

One JSON object per line, mapped with the same :class:`~watchtower.config.JsonMapping` as
a JSON API.  Files are never moved or deleted (the tool that wrote them owns them); the
state remembers each file's name, mtime and size, so a file is read again only if it
changes.  Writers should drop files atomically (write a temp name, then rename): hidden
files (``.name``) and names not ending in ``.jsonl`` are ignored, and so are symlinks,
which on a shared box could point anywhere.  Bad lines are skipped and counted.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..models import Item
from .base import Source, SourceError, SourceState
from .jsonapi import dedupe, map_record

if TYPE_CHECKING:
    from ..fetch.http import HttpFetcher

__all__ = ["InboxSource", "MAX_FILE", "MAX_LINE"]

MAX_FILE = 20 * 1024 * 1024
MAX_LINE = 1024 * 1024
#: Files read per poll; the rest wait for the next poll, oldest first.
MAX_FILES_PER_POLL = 200


class InboxSource(Source):
    """Reads new or changed ``*.jsonl`` files from ``spec.path``."""

    kind: ClassVar[str] = "inbox"

    def __init__(self, spec: Any, *, env: Any = None, base_dir: Path | None = None) -> None:
        super().__init__(spec, env=env)
        path = Path(os.path.expanduser(spec.path))
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        self.path = path

    def describe(self) -> str:
        return str(self.path)

    async def fetch(self, http: HttpFetcher, state: SourceState) -> list[Item]:
        done = state.cursor.get("files")
        if not isinstance(done, dict):
            done = {}
        items, skipped, new_done = await asyncio.to_thread(self._scan, dict(done))
        state.cursor["files"] = new_done
        state.last_skipped = skipped
        state.cursor["bad_lines_total"] = int(state.cursor.get("bad_lines_total", 0)) + skipped
        return items

    def _scan(self, done: dict[str, list[int]]) -> tuple[list[Item], int, dict[str, list[int]]]:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise SourceError(f"inbox directory not found: {self.path}") from None
        except OSError as exc:
            raise SourceError(f"inbox directory cannot be read: {exc.strerror or 'error'}") from None
        if not stat.S_ISDIR(st.st_mode):
            raise SourceError(f"inbox path is not a directory: {self.path}", permanent=True)
        candidates: list[tuple[int, str, list[int]]] = []
        present: set[str] = set()
        try:
            with os.scandir(self.path) as it:
                for entry in it:
                    name = entry.name
                    if name.startswith(".") or not name.endswith(".jsonl"):
                        continue
                    try:
                        if entry.is_symlink() or not entry.is_file(follow_symlinks=False):
                            continue
                        est = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    present.add(name)
                    key = [est.st_mtime_ns, est.st_size]
                    if done.get(name) != key:
                        candidates.append((est.st_mtime_ns, name, key))
        except OSError as exc:
            raise SourceError(f"inbox directory cannot be read: {exc.strerror or 'error'}") from None
        # Forget files that are gone, so the state does not grow forever.
        done = {k: v for k, v in done.items() if k in present}
        candidates.sort()
        items: list[Item] = []
        skipped = 0
        for _, name, key in candidates[:MAX_FILES_PER_POLL]:
            got, bad = self._read_file(self.path / name, key[1])
            items.extend(got)
            skipped += bad
            done[name] = key
        return dedupe(items), skipped, done

    def _read_file(self, path: Path, size: int) -> tuple[list[Item], int]:
        """Items from one file and the number of lines that could not be used."""
        if size > MAX_FILE:
            return [], 1
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return [], 1
        with os.fdopen(fd, "rb") as fh:
            data = fh.read(MAX_FILE + 1)
        items: list[Item] = []
        bad = 0
        for raw in data.split(b"\n"):
            if not raw.strip():
                continue
            if len(raw) > MAX_LINE:
                bad += 1
                continue
            try:
                record = json.loads(raw)
            except (ValueError, RecursionError):
                bad += 1
                continue
            item = map_record(record, self.spec.mapping, platform=self.platform, source=self.name)
            if item is None:
                bad += 1
            else:
                items.append(item)
        return items, bad
