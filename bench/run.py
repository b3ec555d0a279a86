"""The benchmark suite: one command, one line per metric, the same as JSON.

    python bench/run.py --quick --no-fail          # what CI runs: <= 2 minutes, fails only on crashes
    python bench/run.py --full                     # <= 10 minutes, newsboat comparisons if installed
    python bench/run.py --quick --only P1,P5       # a subset
    python bench/run.py --json out.json            # default: bench/results/latest.json

Every metric is a median over repetitions compared with a reference measured in the same
run (or a fixed budget), and judged on the ratio.  Exit status: 1 if a metric FAILs
(unless ``--no-fail``), 2 if a benchmark crashed (always, so CI notices).
See bench/README.md for what each metric means.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from bench_common import Metric, format_line, skipped  # noqa: E402

__all__ = ["main", "environment", "SUITES"]


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "missing"


def environment() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "cpus": os.cpu_count(),
        **{d: _version(d) for d in ("textual", "httpx", "feedparser", "fastfeedparser", "tinydb")},
    }


def _store(quick: bool) -> list[Metric]:
    import bench_store_metrics

    return bench_store_metrics.run(quick)


def _ingest(quick: bool) -> list[Metric]:
    import bench_ingest

    return bench_ingest.run(quick)


def _net(quick: bool) -> list[Metric]:
    import bench_net

    return bench_net.run(quick)


def _ui(quick: bool) -> list[Metric]:
    import bench_ui

    return bench_ui.run(quick)


def _ui_pty(quick: bool) -> list[Metric]:
    import bench_ui

    return bench_ui.run_pty(quick)


#: (metric ids a suite produces, the suite); run in this order.
SUITES: list[tuple[tuple[str, ...], Callable[[bool], list[Metric]]]] = [
    (("P1",), _ingest),
    (("P3", "P4", "P5"), _store),
    (("P9", "P10"), _net),
    (("P2", "P6", "P7", "P8", "P11"), _ui),
    (("P12", "P13", "P14", "P15"), _ui_pty),
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="watchtower benchmark suite")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="<= 2 minutes (the default)")
    mode.add_argument("--full", action="store_true", help="<= 10 minutes, more repetitions, newsboat")
    ap.add_argument("--json", default=str(BENCH_DIR / "results" / "latest.json"), help="where to write the results")
    ap.add_argument("--no-fail", action="store_true", help="exit 0 even if a goal is missed (crashes still fail)")
    ap.add_argument("--only", default="", help="comma-separated metric ids (P1,P9,...)")
    args = ap.parse_args(argv)
    quick = not args.full
    only = {x.strip().upper() for x in args.only.split(",") if x.strip()}

    env = environment()
    print("env  " + "  ".join(f"{k}={v}" for k, v in env.items()) + f"  mode={'quick' if quick else 'full'}", flush=True)
    started = time.monotonic()
    metrics: list[Metric] = []
    crashed: list[str] = []
    for ids, suite in SUITES:
        if only and not any(o.startswith(i.upper()) or i.upper().startswith(o) for i in ids for o in only):
            continue
        try:
            got = suite(quick)
        except Exception as exc:  # one broken suite must not hide the others' figures
            traceback.print_exc()
            crashed.append(f"{'/'.join(ids)}: {type(exc).__name__}: {exc}")
            got = [skipped(i, "crashed", f"{type(exc).__name__}: {exc}".replace("\n", " ")[:200]) for i in ids]
        for m in got:
            mid = m.id.upper()  # P11a and p11a alike; P11 selects P11a and P11b
            if only and not any(mid == i or (mid.startswith(i) and mid[len(i):].isalpha()) for i in only):
                continue
            metrics.append(m)
            print(format_line(m), flush=True)
            if m.note:
                print(f"     {m.note}", flush=True)
    elapsed = time.monotonic() - started
    failed = [m.id for m in metrics if m.status == "FAIL"]
    print(f"done in {elapsed:.0f} s: {sum(m.status == 'PASS' for m in metrics)} pass, {len(failed)} fail, "
          f"{sum(m.status.startswith('skipped') for m in metrics)} skipped, {len(crashed)} crashed", flush=True)

    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "env": env, "mode": "quick" if quick else "full", "seconds": round(elapsed, 1),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "metrics": [m.to_json() for m in metrics], "crashed": crashed,
    }, indent=1, default=str) + "\n")
    print(f"json {out}")
    if crashed:
        return 2
    if failed and not args.no_fail:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
