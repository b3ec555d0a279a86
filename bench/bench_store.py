"""Storage figures: handover-log append cost vs. history size, archive save and dedupe cost.

    python bench/bench_store.py            # full run, prints a table and JSON
    python bench/bench_store.py --quick    # a few seconds; what CI runs

Each ``bench_*`` function returns a dict of figures (milliseconds unless the key says
otherwise), so a bench runner can import and collect them.  The goal they check
(docs/threat-model.md, T6, the log's design): an append at 100k stored entries costs at most 2x an
append at 1k, because only the newest partition file is read and rewritten.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from watchtower.core.models import Item
from watchtower.core.record.archive import Archive
from watchtower.core.record.log import PART_SIZE, TABLE, HandoverLog, part_name

__all__ = ["bench_log_append", "bench_archive_save", "bench_dedupe", "run"]

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=timezone.utc)


def _doc(i: int, ts: datetime) -> dict[str, Any]:
    return {
        "id": uuid.UUID(int=i).hex,
        "kind": "note" if i % 3 else "claimed",
        "operator": f"op{i % 7}",
        "os_user": "bench",
        "ts": ts.isoformat(),
        "text": f"history entry {i}: checked the thread, nothing new, will look again at 16:00",
        "item_id": f"Mastodon:{i % 997}" if i % 3 == 0 else None,
        "platform": "Mastodon" if i % 3 == 0 else None,
        "excerpt": "",
        "data": {},
    }


def build_history(data_dir: Path, stored: int, *, months: int = 12) -> int:
    """Write ``stored`` entries as partition files directly (fast), oldest month first.

    Full parts are spread over ``months`` months before NOW; the current month ends with a
    half-full part, so every size starts appending at the same fill level.
    """
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    half = PART_SIZE // 2
    full_parts = max(0, (stored - half) // PART_SIZE)
    per_month = max(1, -(-full_parts // months))
    i = 0
    # (year, month) going back from NOW
    def month_back(k: int) -> tuple[int, int]:
        y, m = NOW.year, NOW.month - k
        while m <= 0:
            y, m = y - 1, m + 12
        return y, m

    plan: list[tuple[int, int, int, int]] = []  # year, month, index, count
    for p in range(full_parts):
        k = (full_parts - 1 - p) // per_month  # months back; the newest parts are in NOW's month
        plan.append((*month_back(k), 0, PART_SIZE))
    plan.append((NOW.year, NOW.month, 0, half))
    counters: dict[tuple[int, int], int] = {}
    for year, month, _, count in plan:
        idx = counters.get((year, month), 0)
        counters[(year, month)] = idx + 1
        base = datetime(year, month, 1, tzinfo=timezone.utc)
        docs = {}
        for n in range(count):
            ts = min(base + timedelta(minutes=(idx * PART_SIZE + n)), NOW - timedelta(minutes=1))
            docs[str(n + 1)] = _doc(i, ts)
            i += 1
        path = data_dir / part_name(year, month, idx)
        path.write_text(json.dumps({TABLE: docs}, separators=(",", ":")), encoding="utf-8")
        path.chmod(0o600)
    return i


def bench_log_append(stored: int | tuple[int, ...], appends: int = 50) -> dict[str, Any]:
    """Median cost of ``HandoverLog.append`` with ``stored`` entries already on disk.

    Given several sizes, the logs are built side by side and appended to in turn, so
    each size sees the same disk conditions (fsync latency swings with other load on a
    shared box far more than with the log's size).
    """
    sizes = (stored,) if isinstance(stored, int) else tuple(stored)
    with tempfile.TemporaryDirectory() as tmp:
        setups = []
        for size in sizes:
            d = Path(tmp) / f"data-{size}"
            actual = build_history(d, size)
            now = [NOW]

            def clock(now: list[datetime] = now) -> datetime:
                now[0] += timedelta(seconds=1)
                return now[0]

            t = time.perf_counter()
            log = HandoverLog(d, clock=clock)
            setups.append((size, d, actual, log, (time.perf_counter() - t) * 1000, []))
        for n in range(appends):
            for _, _, _, log, _, times in setups:
                t = time.perf_counter()
                log.append("note", f"bench note {n}", operator="bench")
                times.append((time.perf_counter() - t) * 1000)
        out: dict[str, Any] = {}
        for size, d, actual, log, open_ms, times in setups:
            t = time.perf_counter()
            log.version()
            version_ms = (time.perf_counter() - t) * 1000
            other = HandoverLog(d)
            t = time.perf_counter()
            n_entries = len(other.entries(since=NOW - timedelta(days=14)))
            recent_ms = (time.perf_counter() - t) * 1000
            out[str(size)] = {
                "stored": actual,
                "files": len(list(d.glob("log-*.json"))),
                "append_ms_median": round(statistics.median(times), 3),
                "append_ms_p95": round(sorted(times)[max(0, int(len(times) * 0.95) - 1)], 3),
                "open_ms": round(open_ms, 1),
                "version_ms": round(version_ms, 3),
                "entries_14d_ms": round(recent_ms, 1),
                "entries_14d": n_entries,
            }
        return out[str(sizes[0])] if isinstance(stored, int) else out


def _items(start: int, n: int) -> list[Item]:
    return [
        Item.create(
            platform="Mastodon", source="bench", native_id=f"n{i}", author=f"@user{i % 500}",
            text=f"post number {i} about the library opening hours, which changed again",
            published=NOW - timedelta(minutes=i % 5000),
        )
        for i in range(start, start + n)
    ]


def bench_archive_save(stored: int, batch: int = 50, rounds: int = 20) -> dict[str, Any]:
    """Saving one poll round (``batch`` new items) and re-saving it (all known)."""
    with tempfile.TemporaryDirectory() as tmp:
        a = Archive(Path(tmp) / "data")
        for start in range(0, stored, 1000):
            a.add(_items(start, min(1000, stored - start)))
        batches = [_items(10_000_000 + r * batch, batch) for r in range(rounds)]
        new_t, known_t = [], []
        for b in batches:
            t = time.perf_counter()
            a.add(b)
            new_t.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            a.add(b)
            known_t.append((time.perf_counter() - t) * 1000)
        # The share of the cost that is Item.to_json + JSON encoding, not storage.
        t = time.perf_counter()
        for b in batches:
            [json.dumps(it.to_json()) for it in b]
        encode_ms = (time.perf_counter() - t) * 1000 / rounds
        count = a.count()
        a.close()
        return {
            "stored": count - rounds * batch,
            "batch": batch,
            "save_new_ms_median": round(statistics.median(new_t), 3),
            "save_known_ms_median": round(statistics.median(known_t), 3),
            "encode_ms_per_batch": round(encode_ms, 3),
        }


def bench_dedupe(stored: int = 20_000, batch: int = 50, rounds: int = 50) -> dict[str, Any]:
    """``Archive.known`` for a poll round of ids: the duplicate check per item."""
    with tempfile.TemporaryDirectory() as tmp:
        a = Archive(Path(tmp) / "data")
        for start in range(0, stored, 1000):
            a.add(_items(start, min(1000, stored - start)))
        ids = [f"Mastodon:n{i}" for i in range(0, stored, max(1, stored // (batch * rounds)))]
        times = []
        for r in range(rounds):
            chunk = ids[r * batch : (r + 1) * batch] or ids[:batch]
            t = time.perf_counter()
            a.known(chunk)
            times.append((time.perf_counter() - t) * 1_000_000 / len(chunk))
        a.close()
        return {"stored": stored, "batch": batch, "known_us_per_item_median": round(statistics.median(times), 2)}


def run(quick: bool = False) -> dict[str, Any]:
    appends = 30 if quick else 150
    both = bench_log_append((1_000, 100_000), appends)
    small, large = both["1000"], both["100000"]
    return {
        "log_append_1k": small,
        "log_append_100k": large,
        "log_append_ratio_100k_vs_1k": round(large["append_ms_median"] / small["append_ms_median"], 2),
        "archive_save50_1k": bench_archive_save(1_000, rounds=5 if quick else 20),
        "archive_save50_20k": bench_archive_save(20_000, rounds=5 if quick else 20),
        "archive_dedupe_20k": bench_dedupe(20_000, rounds=10 if quick else 50),
    }


def main(argv: list[str]) -> int:
    figures = run(quick="--quick" in argv)
    for name, value in figures.items():
        if isinstance(value, dict):
            print(f"{name:<28} " + "  ".join(f"{k}={v}" for k, v in value.items()))
        else:
            print(f"{name:<28} {value}")
    print(json.dumps(figures))
    return 0 if figures["log_append_ratio_100k_vs_1k"] <= 2.0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
