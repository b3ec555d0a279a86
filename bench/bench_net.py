"""P9 and P10: whole poll rounds over 200 local feeds, through ``Monitor.poll_all``.

The feed server runs in a child process, so this process's CPU time is the client's
alone.  Our round is the real pipeline: ``Monitor`` (Poller, the shared ``HttpFetcher``
with its 8 connections, the RSS connector, parsing in threads, dedupe, coverage, triage,
the sqlite archive).

- P9 warm: every feed answers 304 to its ETag.  CPU is compared with a bare asyncio
  HTTP/1.1 client (8 kept-alive connections, the same conditional GETs, nothing else);
  wall time with newsboat's warm ``-x reload`` (full mode, if newsboat is installed).
- P10 cold: 200 feeds x 50 items into an empty data dir, against newsboat's cold reload.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench_common import Metric, compare, skipped
from feedserver import spawn

__all__ = ["run", "bare_round", "newsboat_rounds"]

FEEDS = 200
ITEMS = 50


def _config(urls: list[str]) -> Any:
    from watchtower.config import parse_config

    return parse_config({
        "organisation": {"name": "Bench library", "timezone": "Europe/Amsterdam"},
        "sources": [
            {"kind": "rss", "name": f"feed{i}", "platform": "News" if i % 2 else "Blogs", "url": u, "interval": 300}
            for i, u in enumerate(urls)
        ],
    })


async def _monitor_round(monitor: Any) -> tuple[float, float, list[Any]]:
    """(wall ms, CPU ms of this process, results) of one ``poll_all``."""
    c0, t0 = time.process_time(), time.perf_counter()
    results = await monitor.poll_all()
    return (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000, results


# ------------------------------------------------------------------ the bare client


async def _bare_get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, path: str,
                    etag: str | None) -> tuple[int, str | None]:
    req = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: identity\r\n"
    if etag:
        req += f"If-None-Match: {etag}\r\n"
    writer.write((req + "\r\n").encode())
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length, got_etag = 0, None
    for line in lines[1:]:
        k, _, v = line.partition(":")
        k = k.strip().lower()
        if k == "content-length":
            length = int(v)
        elif k == "etag":
            got_etag = v.strip()
    if length:
        await reader.readexactly(length)
    return status, got_etag


async def bare_round(urls: list[str], etags: dict[str, str], connections: int = 8) -> dict[str, int]:
    """GET every URL over ``connections`` kept-alive connections; fills ``etags``; status counts."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for u in urls:
        queue.put_nowait(u)
    counts: dict[str, int] = {}
    parts = urlsplit(urls[0])
    host = parts.netloc

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            while not queue.empty():
                u = queue.get_nowait()
                status, etag = await _bare_get(reader, writer, host, urlsplit(u).path, etags.get(u))
                if etag:
                    etags[u] = etag
                counts[str(status)] = counts.get(str(status), 0) + 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return counts


# ------------------------------------------------------------------ newsboat


def newsboat_rounds(base_url: str, cold_reps: int, warm_reps: int) -> dict[str, Any] | None:
    """Wall ms of newsboat's cold and warm ``-x reload`` against the same server, or None."""
    exe = shutil.which("newsboat")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        urls = home / "urls"
        import urllib.request

        with urllib.request.urlopen(base_url + "/urls.txt", timeout=5) as resp:
            urls.write_bytes(resp.read())
        conf = home / "config"
        conf.write_text("reload-threads 20\ndownload-timeout 30\n")
        env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
               "XDG_DATA_HOME": str(home / ".local/share"), "XDG_CACHE_HOME": str(home / ".cache"), "TERM": "dumb"}

        def reload(cache: Path) -> float:
            t = time.perf_counter()
            proc = subprocess.run([exe, "-u", str(urls), "-c", str(cache), "-C", str(conf), "-x", "reload"],
                                  env=env, capture_output=True, timeout=300)
            ms = (time.perf_counter() - t) * 1000
            if proc.returncode != 0:
                raise RuntimeError(f"newsboat failed: {proc.stderr.decode(errors='replace')[:200]}")
            return ms

        cold, warm = [], []
        for r in range(cold_reps):
            cache = home / f"cache{r}.db"
            cold.append(reload(cache))
        cache = home / "cache0.db"
        for _ in range(warm_reps):
            warm.append(reload(cache))
        version = subprocess.run([exe, "-v"], capture_output=True, text=True, env=env).stdout.split("\n")[0]
        return {"cold": cold, "warm": warm, "version": version.strip()}


# ------------------------------------------------------------------ run


async def _ours(server: Any, data_root: Path, cold_reps: int, warm_reps: int) -> dict[str, Any]:
    from watchtower.core.pipeline.monitor import Monitor

    urls = server.urls()
    config = _config(urls)
    cold_wall: list[float] = []
    cold_cpu: list[float] = []
    new_counts: list[int] = []
    for r in range(cold_reps):
        monitor = Monitor(config, data_dir=data_root / f"cold{r}")
        try:
            wall, cpu, results = await _monitor_round(monitor)
        finally:
            await monitor.aclose()
        bad = [rr.poll.error for rr in results if not rr.poll.ok]
        if bad:
            raise RuntimeError(f"{len(bad)} cold polls failed, first: {bad[0]}")
        cold_wall.append(wall)
        cold_cpu.append(cpu)
        new_counts.append(sum(len(rr.new) for rr in results))
    monitor = Monitor(config, data_dir=data_root / "warm")
    warm_wall: list[float] = []
    warm_cpu: list[float] = []
    try:
        await monitor.poll_all()  # fills the ETags
        conns0 = server.stats()[2]
        for _ in range(warm_reps):
            for st in monitor.poller.states.values():
                st.next_poll_monotonic = None
            wall, cpu, results = await _monitor_round(monitor)
            not_mod = sum(1 for rr in results if rr.poll.ok and rr.poll.not_modified)
            if not_mod != len(urls):
                raise RuntimeError(f"warm round: only {not_mod}/{len(urls)} answered 304")
            warm_wall.append(wall)
            warm_cpu.append(cpu)
        warm_conns = server.stats()[2] - conns0
    finally:
        await monitor.aclose()
    return {"warm_connections": warm_conns, "cold_wall": cold_wall, "cold_cpu": cold_cpu, "new": new_counts, "warm_wall": warm_wall, "warm_cpu": warm_cpu}


async def _bare(urls: list[str], reps: int) -> tuple[list[float], list[float]]:
    etags: dict[str, str] = {}
    await bare_round(urls, etags)
    cpu, wall = [], []
    for _ in range(reps):
        c0, t0 = time.process_time(), time.perf_counter()
        counts = await bare_round(urls, etags)
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - t0) * 1000)
        if counts.get("304") != len(urls):
            raise RuntimeError(f"bare client: not all 304: {counts}")
    return cpu, wall


def run(quick: bool = False) -> list[Metric]:
    warm_reps = 5 if quick else 10
    cold_reps = 1 if quick else 5
    out: list[Metric] = []
    with spawn(FEEDS, ITEMS) as server, tempfile.TemporaryDirectory() as tmp:
        urls = server.urls()
        ours = asyncio.run(_ours(server, Path(tmp), cold_reps, warm_reps))
        c0 = server.stats()[2]
        bare_cpu, bare_wall = asyncio.run(_bare(urls, warm_reps))
        bare_conns = server.stats()[2] - c0
        nb = None if quick else newsboat_rounds(server.base_url, 5, 5)
        requests, not_modified, _ = server.stats()

    out.append(compare(
        "P9a", "warm-304-round-cpu", "ms", ours["warm_cpu"], "bare-asyncio-cpu", bare_cpu, 10.0,
        note=f"{FEEDS} feeds all 304; our wall {min(ours['warm_wall']):.0f}..{max(ours['warm_wall']):.0f} ms, "
             f"bare wall {min(bare_wall):.0f}..{max(bare_wall):.0f} ms; new TCP connections per warm round: "
             f"ours {ours['warm_connections'] / warm_reps:.0f}, bare {bare_conns / (warm_reps + 1):.0f}",
        extra={"our_wall_ms": ours["warm_wall"], "bare_wall_ms": bare_wall, "server_requests": requests,
               "server_304": not_modified},
    ))
    if quick:
        reason = "newsboat runs in --full mode only"
    elif nb is None:
        reason = "newsboat not installed"
    else:
        reason = ""
    if reason:
        out.append(skipped("P9b", "warm-304-round-wall", reason, goal="<=0.5x", unit="ms", samples=ours["warm_wall"]))
        out.append(skipped("P10", "cold-200x50-round-wall", reason, goal="<=1x", unit="ms", samples=ours["cold_wall"],
                           extra={"cpu_ms": ours["cold_cpu"], "new_items": ours["new"]}))
    else:
        out.append(compare("P9b", "warm-304-round-wall", "ms", ours["warm_wall"], "newsboat-warm", nb["warm"], 0.5,
                           note=nb["version"]))
        out.append(compare(
            "P10", "cold-200x50-round-wall", "ms", ours["cold_wall"], "newsboat-cold", nb["cold"], 1.0,
            note=f"{ours['new'][0]} new items per round; our CPU {min(ours['cold_cpu']):.0f} ms; {nb['version']}",
            extra={"cpu_ms": ours["cold_cpu"], "new_items": ours["new"]},
        ))
    return out


if __name__ == "__main__":
    from bench_common import format_line

    for m in run(quick="--quick" in sys.argv):
        print(format_line(m))
        if m.note:
            print("     ", m.note)
