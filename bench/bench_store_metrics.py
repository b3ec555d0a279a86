"""P3, P4, P5 from the store figures in ``bench_store.py`` (a colleague's; used as is).

``bench_store`` returns medians over many operations per call (appends, save rounds,
dedupe rounds); a sample here is one such call, on a freshly built store, so the spread
between samples shows how stable the figure is across store builds.
"""

from __future__ import annotations

import sys

import bench_store
from bench_common import Metric, compare

__all__ = ["run"]


def run(quick: bool = False) -> list[Metric]:
    calls_small, calls_big, appends = (3, 2, 20) if quick else (5, 5, 100)
    small = [bench_store.bench_log_append(1_000, appends) for _ in range(calls_small)]
    big = [bench_store.bench_log_append(100_000, appends) for _ in range(calls_big)]
    p3 = compare(
        "P3", "log-append-at-100k", "ms", [r["append_ms_median"] for r in big],
        "same-at-1k", [r["append_ms_median"] for r in small], 2.0,
        note=f"each sample: median of {appends} appends; open at 100k "
             f"{max(r['open_ms'] for r in big):.0f} ms, {big[0]['files']} partition files",
        extra={"runs_1k": small, "runs_100k": big},
    )
    rounds = 5 if quick else 20
    calls = 3 if quick else 5
    s1 = [bench_store.bench_archive_save(1_000, rounds=rounds) for _ in range(calls)]
    s20 = [bench_store.bench_archive_save(20_000, rounds=rounds) for _ in range(calls)]
    p4 = compare(
        "P4", "save-50-at-20k", "ms", [r["save_new_ms_median"] for r in s20],
        "same-at-1k", [r["save_new_ms_median"] for r in s1], 2.0, max_value=20.0,
        note=f"each sample: median of {rounds} rounds of 50 new items; re-saving known items "
             f"{min(r['save_known_ms_median'] for r in s20):.2f} ms",
        extra={"runs_1k": s1, "runs_20k": s20},
    )
    d = [bench_store.bench_dedupe(20_000, rounds=10 if quick else 50) for _ in range(calls)]
    p5 = compare(
        "P5", "dedupe-per-item-at-20k", "us", [r["known_us_per_item_median"] for r in d],
        "budget", 50.0, 1.0, note="Archive.known() for a poll round of 50 ids, per id",
        extra={"runs": d},
    )
    return [p3, p4, p5]


if __name__ == "__main__":
    from bench_common import format_line

    for m in run(quick="--quick" in sys.argv):
        print(format_line(m))
