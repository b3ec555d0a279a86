"""P2, P6, P7, P8, P11: the UI stays responsive, shows new items fast, starts fast, idles quietly.

Every case runs in its own child process (``python bench/bench_ui.py --child CASE``),
so one case's heap, threads and imports never colour another's figures; the child
prints one JSON line last.

- P2 loop lag: a headless ``WatchtowerApp.run_test()`` polls one 10,000-item feed from
  the local feed server through the real worker path (poll worker, connector, parse in a
  thread, ``Monitor.ingest`` in a thread, ``Polled``, the refresh).  A probe task sleeps
  5 ms in a loop and records how late it wakes: the largest overshoot is the longest
  time the loop could not run (a frame, a key press).
- P6/P7: 50,000 items in the archive and in the app's item map (what a week-long session
  holds), then batches of 50 new items go through ``Monitor.ingest`` and ``Polled``; the
  time until they are rows in their pane.  Then the child's RSS.
- P8: process start to the first frame of the main screen (``events.Ready``), headless,
  with a tiny config, against ``python -c "import textual.app"``.
- P11: the real CLI in a pty (160x50) with 50 sources: after it settles, CPU time and
  bytes written to the terminal over a window, while nothing changes.
- P12-P15, the live screen in a real pty (``tests/ui_pty.py`` drives ``python -m
  watchtower`` and reads its screen back through a terminal emulator), with a quiet
  config of local inbox sources:
  P12 response-panel open/close cycles (500 in full mode, 100 quick) at 0.2-1 s pace
  while items are dropped into the inboxes: the slowest drop to reach the screen, against
  its poll interval + 2 s, and the header clock must have moved on;
  P13 bytes written to the terminal while idle (5 minutes full, 75 s quick), per minute;
  P14 RSS after 500 panel opens (200 quick) less RSS after 20;
  P15 resize 160x48 -> 80x24 -> 60x20 -> 160x48: seconds until the layout matches.
"""

from __future__ import annotations

import asyncio
import json
import os
import pty
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from bench_common import Metric, compare, rss_mib  # noqa: E402 - after the path is set, for a direct run
from feedserver import spawn  # noqa: E402

__all__ = ["run"]

SIZE = (160, 50)
FRAME_MS = 16.0


# ====================================================================== helpers (child side)


def _config(urls: list[str], *, interval: float = 300, platform: str = "News") -> Any:
    from watchtower.config import parse_config

    return parse_config({
        "organisation": {"name": "Bench library", "timezone": "Europe/Amsterdam"},
        "sources": [
            {"kind": "rss", "name": f"feed{i}", "platform": platform, "url": u, "interval": interval}
            for i, u in enumerate(urls)
        ],
    })


async def _until(cond: Any, timeout: float, step: float = 0.001) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        await asyncio.sleep(step)
    return cond()


class LagProbe:
    """Sleeps 5 ms in a loop on the event loop; records each wake-up's lateness (ms).

    A watchdog thread samples the loop thread's stack whenever the probe is more than
    ``stall_ms`` late, so a long block is attributed to the function that held the loop.
    """

    def __init__(self, period: float = 0.005, stall_ms: float = 30.0) -> None:
        self.period = period
        self.stall_ms = stall_ms
        self.lags: list[tuple[float, float]] = []  # (when, overshoot ms)
        self.stalls: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None
        self._last = time.perf_counter()
        self._stop = threading.Event()
        self._loop_thread = threading.get_ident()

    async def _run(self) -> None:
        while True:
            t = time.perf_counter()
            self._last = t
            await asyncio.sleep(self.period)
            now = time.perf_counter()
            self._last = now
            self.lags.append((now, (now - t - self.period) * 1000))

    def _watch(self) -> None:
        import traceback

        while not self._stop.wait(0.01):
            if (time.perf_counter() - self._last) * 1000 < self.stall_ms:
                continue
            frame = sys._current_frames().get(self._loop_thread)
            if frame is None:
                continue
            stack = traceback.extract_stack(frame)
            ours = [f for f in stack if "/watchtower/" in f.filename]
            where = " < ".join(f"{Path(f.filename).stem}.{f.name}" for f in reversed(ours[-3:])) or "?"
            leaf = stack[-1]
            key = f"{where} [leaf {Path(leaf.filename).stem}.{leaf.name}]"
            self.stalls[key] = self.stalls.get(key, 0) + 1

    def start(self) -> None:
        self._loop_thread = threading.get_ident()
        self._task = asyncio.get_running_loop().create_task(self._run())
        threading.Thread(target=self._watch, daemon=True).start()

    def top_stalls(self, n: int = 3) -> list[tuple[str, int]]:
        """Where the loop was when it was stalled: (place, samples of 10 ms)."""
        return sorted(self.stalls.items(), key=lambda kv: -kv[1])[:n]

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass


def _wrap(app: Any, method: str) -> list[tuple[float, float]]:
    """Time every call of ``app.<method>`` (start, ms) without touching the app's code.

    Works for methods the app calls by attribute (timers, ``self._deliver_all(...)``), not
    for message handlers, which Textual looks up on the class.
    """
    spans: list[tuple[float, float]] = []
    inner = getattr(app, method)

    def timed(*args: Any, **kw: Any) -> Any:
        t = time.perf_counter()
        try:
            return inner(*args, **kw)
        finally:
            spans.append((t, (time.perf_counter() - t) * 1000))

    setattr(app, method, timed)
    return spans


def _wrap_refresh(app: Any) -> list[tuple[float, float]]:
    return _wrap(app, "refresh_views")


class GcPasses:
    """Every garbage collection while it is installed: (start, ms, generation, thread name).

    A collection holds the GIL throughout, so a long one stalls the UI loop whichever thread
    ran it; a full (generation 2) pass over a heap holding 10,000 items took 50-100 ms.
    """

    def __init__(self) -> None:
        self.passes: list[tuple[float, float, int, str]] = []
        self._t = 0.0

    def _seen(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._t = time.perf_counter()
        else:
            self.passes.append((self._t, (time.perf_counter() - self._t) * 1000, int(info["generation"]),
                                threading.current_thread().name))

    def __enter__(self) -> GcPasses:
        import gc

        gc.callbacks.append(self._seen)
        return self

    def __exit__(self, *exc: object) -> None:
        import gc

        gc.callbacks.remove(self._seen)

    def summary(self, since: float) -> dict[str, Any]:
        got = [p for p in self.passes if p[0] >= since]
        full = [p for p in got if p[2] == 2]
        return {"passes": len(got), "full": len(full), "longest_ms": round(max((p[1] for p in got), default=0.0), 1),
                "full_ms": [round(p[1], 1) for p in full]}


# ---------------------------------------------------------------------- P2


async def _child_lag(url: str, items: int) -> dict[str, Any]:
    from watchtower.ui.app import WatchtowerApp

    with tempfile.TemporaryDirectory() as tmp:
        app = WatchtowerApp(_config([url]), data_dir=Path(tmp) / "data", operator="bench", start_polling=True)
        spans = _wrap_refresh(app)
        alert_spans = _wrap(app, "_deliver_all")
        probe = LagProbe()
        gc_passes = GcPasses()
        with gc_passes:  # every collection from here: which, how long, on which thread
            async with app.run_test(size=SIZE) as pilot:
                await _until(lambda: app.monitor is not None, 30)
                probe.start()
                t0 = time.perf_counter()
                state = app.monitor.poller.states["feed0"]
                # The app keeps a bounded window in memory (the archive holds the rest), so
                # "arrived" is the poll's count, not len(app.items).
                got = await _until(
                    lambda: (state.items_seen >= items and len(app.items) > 0) or bool(state.last_error), 120, step=0.01
                )
                if state.last_error:
                    raise RuntimeError(f"the poll failed: {state.last_error}")
                t_items = time.perf_counter()
                pane = app.panes[1]
                await _until(lambda: pane.list.row_count > 0 and app.views_settled, 30, step=0.01)
                t_shown = time.perf_counter()
                await asyncio.sleep(0.3)  # the frames after the big refresh
                await probe.stop()
                await pilot.pause()
        lags = probe.lags
        worst_at, worst = max(lags, key=lambda x: x[1]) if lags else (0.0, 0.0)
        lag_start = worst_at - worst / 1000 - 0.005

        def overlaps(span_list: list[tuple[float, float]]) -> bool:
            return any(s < worst_at and s + ms / 1000 > lag_start for s, ms in span_list)

        in_refresh = overlaps(spans)
        return {
            "ok": got,
            "max_lag_ms": worst,
            "p99_lag_ms": sorted(x[1] for x in lags)[int(len(lags) * 0.99)] if lags else 0.0,
            "over_frame": sum(1 for _, ms in lags if ms > FRAME_MS),
            "probes": len(lags),
            "ingest_s": t_items - t0,
            "shown_s": t_shown - t0,
            "refresh_ms": [round(ms, 1) for _, ms in spans],
            "worst_during_refresh": bool(in_refresh),
            "worst_at_s": worst_at - t0,
            "stalls": probe.top_stalls(),
            "alert_ms": [round(ms, 1) for _, ms in alert_spans],
            "worst_during_alert": overlaps(alert_spans),
            "gc": gc_passes.summary(t0),
        }


# ---------------------------------------------------------------------- P6 / P7


def _make_items(n: int, start: int, platform: str, now: datetime, rng: random.Random) -> list[Any]:
    from watchtower.core.models import Item, Severity

    out = []
    for i in range(start, start + n):
        it = Item.create(
            platform=platform, source=f"feed{i % 50}", native_id=f"n{i}", author=f"@user{i % 700}",
            text=f"post {i} about the library opening hours, which changed again this week",
            published=now - timedelta(seconds=30 * (i % 20000) + 60),
        )
        it.severity = Severity(rng.choices(range(5), weights=(60, 20, 12, 6, 2))[0])
        out.append(it)
    return out


async def _child_batch(stored: int, batches: int) -> dict[str, Any]:
    from watchtower.core.pipeline.monitor import RoundResult
    from watchtower.core.record.archive import Archive
    from watchtower.core.sources import PollResult
    from watchtower.ui.app import WatchtowerApp
    from watchtower.ui.messages import Polled

    rng = random.Random(6)
    now = datetime.now(UTC)
    platforms = ["News", "Mastodon", "Bluesky", "Reddit"]
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        archive = Archive(data)
        known = []
        per = stored // len(platforms)
        for k, p in enumerate(platforms):
            chunk = _make_items(per, k * per, p, now, rng)
            for s in range(0, len(chunk), 5000):
                archive.add(chunk[s:s + 5000])
            known.extend(chunk)
        archive.close()
        # Each platform needs a source so it gets a pane; nothing is polled here.
        from watchtower.config import parse_config

        config = parse_config({
            "organisation": {"name": "Bench library", "timezone": "Europe/Amsterdam"},
            "sources": [{"kind": "rss", "name": f"src-{p}", "platform": p, "url": f"http://127.0.0.1:9/{p}.xml"}
                        for p in platforms],
        })
        app = WatchtowerApp(config, data_dir=data, operator="bench", start_polling=False)
        spans = _wrap_refresh(app)
        times: list[float] = []
        parts: list[dict[str, float]] = []
        async with app.run_test(size=SIZE) as pilot:
            await _until(lambda: app.monitor is not None, 60)
            # A week-long session: every item it ever received is still in app.items.
            app.desk.hold(known)
            await _until(lambda: app.views_settled, 60)
            await pilot.pause()
            pane = app.panes[1]
            for b in range(batches):
                batch = _make_items(50, 10_000_000 + b * 50, "News", datetime.now(UTC), rng)
                for it in batch:
                    it.published = datetime.now(UTC)
                want = {it.id for it in batch}
                n_spans = len(spans)
                t0 = time.perf_counter()
                new = await asyncio.to_thread(app.monitor.ingest, batch)
                t1 = time.perf_counter()
                app.post_message(Polled(RoundResult(PollResult("src-News", "News", batch, ok=True), new)))
                ok = await _until(lambda want=want: want <= set(pane.order), 10)
                t2 = time.perf_counter()
                if not ok or len(new) != 50:
                    raise RuntimeError(f"batch {b}: {len(new)} new, shown={ok}")
                times.append((t2 - t0) * 1000)
                refresh = sum(ms for _, ms in spans[n_spans:])
                parts.append({"ingest_ms": (t1 - t0) * 1000, "refresh_ms": refresh,
                              "wait_ms": (t2 - t1) * 1000 - refresh})
                await pilot.pause()
                await asyncio.sleep(0.2)
            cur, peak = rss_mib()
            n_items = len(app.items)
            import cProfile
            import pstats

            prof = cProfile.Profile()
            app._draw_all = True  # every pane, as the tick does
            prof.runcall(app.refresh_views)
            st = pstats.Stats(prof)
            total = max(st.total_tt, 1e-9)  # type: ignore[attr-defined]
            top = sorted(
                ((f"{Path(fn).stem}.{name}", ct / total) for (fn, _l, name), (_c, _n, _t, ct, _cl)
                 in st.stats.items() if "/watchtower/" in fn),  # type: ignore[attr-defined]
                key=lambda x: -x[1],
            )[:8]
        return {"batch_ms": times, "parts": parts, "rss_mib": cur, "peak_mib": peak, "items": n_items,
                "refresh_profile": [(n, round(f, 2)) for n, f in top]}


# ---------------------------------------------------------------------- P8


# P8's child is p8_first_frame.py: it must not import the bench's modules.


# ====================================================================== parent side


def _child(case: str, *args: str, timeout: float = 300) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--child", case, *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONHASHSEED": "0"})
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"child {case} failed ({proc.returncode}): {proc.stderr.strip()[-600:]}")
    return json.loads(lines[-1])


def gil_gaps(fn: Any) -> tuple[float, float]:
    """(ms of ``fn``, longest ms a 1-ms-sleeping Python thread could not run meanwhile).

    The second figure is how long ``fn`` held the GIL in one stretch: what the UI loop
    would lose if ``fn`` ran in a worker thread beside it.
    """
    stop = threading.Event()
    gaps = [0.0]

    def spin() -> None:
        last = time.perf_counter()
        while not stop.is_set():
            time.sleep(0.001)
            now = time.perf_counter()
            gaps[0] = max(gaps[0], (now - last) * 1000)
            last = now

    th = threading.Thread(target=spin)
    th.start()
    time.sleep(0.02)
    gaps[0] = 0.0
    t = time.perf_counter()
    fn()
    ms = (time.perf_counter() - t) * 1000
    stop.set()
    th.join()
    return ms, gaps[0]


def _gil_report(items: int) -> dict[str, tuple[float, float]]:
    """The pipeline's stages on the same 10,000-item feed, each with its longest GIL hold."""
    from feedserver import rss_feed

    from watchtower.config import Config
    from watchtower.core.fetch.feeds import feed_items, parse_feed
    from watchtower.core.fetch.parsepool import ParsePool
    from watchtower.core.pipeline.monitor import Monitor

    body = rss_feed(999_999, items, lean=True)
    box: dict[str, Any] = {}
    # What the app does: a big body goes to a parser process, its items come back in chunks.
    pool = ParsePool()

    async def via_pool() -> None:
        box.update(i=await pool.parse(body, platform="News", source="feed0"))

    asyncio.run(via_pool())  # starts the worker process: not timed
    out = {"ParsePool.parse": gil_gaps(lambda: asyncio.run(via_pool()))}
    asyncio.run(pool.aclose())
    # The same stages in a thread of this process, for comparison (small feeds go this way).
    out["parse_feed in-process"] = gil_gaps(lambda: box.update(p=parse_feed(body)))
    out["feed_items in-process"] = gil_gaps(lambda: feed_items(box["p"], platform="News", source="feed0"))
    with tempfile.TemporaryDirectory() as tmp:
        mon = Monitor(Config(), data_dir=Path(tmp))
        out["monitor.ingest"] = gil_gaps(lambda: mon.ingest(box["i"]))
        mon.archive.close()
    return {k: (round(a, 1), round(b, 1)) for k, (a, b) in out.items()}


def p2_lag(quick: bool) -> Metric:
    reps = 3 if quick else 5
    items = 10_000
    with spawn(1, 1, big_items=items) as server:
        runs = [_child("lag", server.base_url + "/big.xml", str(items)) for _ in range(reps)]
    if not all(r["ok"] for r in runs):
        raise RuntimeError("the 10,000 items never all arrived in the app")
    worst = max(runs, key=lambda r: r["max_lag_ms"])
    gil = _gil_report(items)
    note = (f"ingest {statistics.median(r['ingest_s'] for r in runs):.1f} s to items, "
            f"{statistics.median(r['shown_s'] for r in runs):.1f} s to rows; probes over one frame "
            f"{statistics.median(r['over_frame'] for r in runs):.0f}/{statistics.median(r['probes'] for r in runs):.0f}; "
            f"worst lag {'inside' if worst['worst_during_refresh'] else 'outside'} refresh_views "
            f"(refreshes ms {worst['refresh_ms'][:6]}); alerts delivered on the loop ms {worst['alert_ms'][:4]} "
            f"(worst lag {'inside' if worst['worst_during_alert'] else 'outside'} it); loop held by (10 ms samples): {worst['stalls']}; "
            f"garbage collections in the worst run {worst['gc']}; "
            f"stages beside the loop (ms, longest GIL hold ms): {gil}")
    return compare("P2", "max-loop-block-10k-ingest", "ms", [r["max_lag_ms"] for r in runs],
                   "one-frame", FRAME_MS, 1.0, note=note, extra={"runs": runs, "gil_ms": gil})


def p6_p7(quick: bool) -> list[Metric]:
    runs = [_child("batch", "50000", "5" if quick else "6") for _ in range(1 if quick else 3)]
    r = {"batch_ms": [x for run in runs for x in run["batch_ms"]], "parts": [x for run in runs for x in run["parts"]],
         "rss_mib": [run["rss_mib"] for run in runs], "peak_mib": max(run["peak_mib"] for run in runs),
         "items": runs[0]["items"], "refresh_profile": runs[0]["refresh_profile"]}
    parts = r["parts"]
    med = {k: round(statistics.median(p[k] for p in parts), 1) for k in parts[0]}
    p6 = compare("P6", "50-new-visible-at-50k", "ms", r["batch_ms"], "budget", 100.0, 1.0,
                 note=f"median parts ms {med} (wait = the message hops and frames between the poll and the rows); "
                      f"refresh_views cumulative share: "
                      f"{r['refresh_profile'][:6]}", extra={"parts": parts, "refresh_profile": r["refresh_profile"]})
    p7 = compare("P7", "rss-50k-stored-and-shown", "MiB", r["rss_mib"], "budget", 200.0, 1.0,
                 note=f"peak {r['peak_mib']:.0f} MiB; {r['items']} items in app.items", extra={"peak_mib": r["peak_mib"]})
    return [p6, p7]


def _compile_sources() -> str:
    """Byte-compile watchtower as ``pip install`` does, so both sides start from ``.pyc``.

    textual (the reference) was compiled when it was installed; an editable install of
    watchtower is compiled on its first run, unless ``PYTHONDONTWRITEBYTECODE`` is set
    (it is on these machines), and then every start would pay ~30 ms of compiling.
    """
    import watchtower

    src = Path(watchtower.__file__).resolve().parent
    proc = subprocess.run([sys.executable, "-m", "compileall", "-q", str(src)], capture_output=True, text=True)
    return "sources byte-compiled" if proc.returncode == 0 else "byte-compiling failed"


def p8_startup(quick: bool) -> Metric:
    reps = 5 if quick else 9
    compiled = _compile_sources()
    child = [sys.executable, str(BENCH_DIR / "p8_first_frame.py")]
    ours, ref = [], []
    for _ in range(reps):
        t = time.monotonic()
        subprocess.run([sys.executable, "-c", "import textual.app"], check=True)
        ref.append((time.monotonic() - t) * 1000)
        t = time.monotonic()
        proc = subprocess.run(child, capture_output=True, text=True, timeout=60)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f"P8 child failed ({proc.returncode}): {proc.stderr.strip()[-600:]}")
        ours.append((json.loads(lines[-1])["ready"] - t) * 1000)
    m = compare("P8", "start-to-first-frame", "ms", ours, "import-textual.app", ref, 1.5,
                note=f"headless, tiny config, data dir created; wall from spawn to events.Ready; {compiled}")
    if m.status == "FAIL":
        top = import_costs()
        m.extra["import_top_ms"] = top
        m.note += f"; slowest imports of watchtower.ui.app (cumulative ms): {top[:6]}"
    return m


def import_costs() -> list[tuple[str, float]]:
    """Cumulative import ms of the heaviest top-level modules behind ``watchtower.ui.app``."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import watchtower.ui.app, watchtower.cli"],
                          capture_output=True, text=True, timeout=60)
    costs: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cum, name = line.removeprefix("import time:").split("|")
        if not cum.strip().isdigit():
            continue
        depth = (len(name) - len(name.lstrip())) // 2
        # Depth 1-3: the top-level packages and what watchtower's own modules pull in.
        if depth <= 3 and not name.strip().startswith(("encodings", "_")):
            key = name.strip()
            costs[key] = max(costs.get(key, 0.0), int(cum) / 1000)
    costs.pop("watchtower.ui.app", None)
    costs.pop("watchtower.cli", None)
    return [(k, round(v, 1)) for k, v in sorted(costs.items(), key=lambda kv: -kv[1])[:10]]


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def p11_idle(quick: bool) -> list[Metric]:
    import fcntl
    import struct
    import termios

    settle, window = (20.0, 16.0) if quick else (30.0, 60.0)
    settle = float(os.environ.get("BENCH_IDLE_SETTLE", settle))
    window = float(os.environ.get("BENCH_IDLE_WINDOW", window))
    with spawn(50, 50) as server, tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        cfg = home / "config.toml"
        lines = ['[organisation]\nname = "Bench library"\ntimezone = "Europe/Amsterdam"\n']
        for i, u in enumerate(server.urls()):
            plat = ("News", "Blogs", "Forums")[i % 3]
            lines.append(f'[[sources]]\nkind = "rss"\nname = "feed{i}"\nplatform = "{plat}"\nurl = "{u}"\ninterval = 600\n')
        cfg.write_text("\n".join(lines))
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
        env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHTOWER_")}
        env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "c"), XDG_DATA_HOME=str(home / "d"),
                   XDG_STATE_HOME=str(home / "s"), XDG_CACHE_HOME=str(home / "k"),
                   TERM="xterm-256color", COLORTERM="truecolor", COLUMNS=str(SIZE[0]), LINES=str(SIZE[1]))
        proc = subprocess.Popen(
            [sys.executable, "-m", "watchtower", "--config", str(cfg), "--data-dir", str(home / "data"),
             "--operator", "bench"], stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
        )
        os.close(slave)
        received: list[tuple[float, int]] = []
        # BENCH_PTY_DUMP=path keeps what the app wrote during the window, to see what repaints.
        dump: list[tuple[float, bytes]] | None = [] if os.environ.get("BENCH_PTY_DUMP") else None
        stop = threading.Event()

        def reader() -> None:
            while not stop.is_set():
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    return
                if not chunk:
                    return
                received.append((time.monotonic(), len(chunk)))
                if dump is not None:
                    dump.append((time.monotonic(), chunk))

        th = threading.Thread(target=reader, daemon=True)
        th.start()
        try:
            # Settled: every feed fetched once, then the screen quiet for 3 s (or ``settle`` more seconds).
            deadline = time.monotonic() + 90
            while server.stats()[0] < len(server.urls()) and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.2)
            quiet_until = time.monotonic() + settle
            while time.monotonic() < quiet_until and proc.poll() is None:
                last = received[-1][0] if received else 0.0
                if time.monotonic() - last > 3.0:
                    break
                time.sleep(0.2)
            if proc.poll() is not None:
                raise RuntimeError(f"the app exited during start-up ({proc.returncode})")
            requests_before = server.stats()[0]
            t0, c0 = time.monotonic(), _cpu_seconds(proc.pid)
            time.sleep(window)
            t1, c1 = time.monotonic(), _cpu_seconds(proc.pid)
            requests_in_window = server.stats()[0] - requests_before - 1  # less the first /stats
            startup_bytes = sum(n for t, n in received if t < t0)
            bytes_window = sum(n for t, n in received if t0 <= t < t1)
            if dump is not None:
                Path(os.environ["BENCH_PTY_DUMP"]).write_bytes(b"".join(c for t, c in dump if t0 <= t < t1))
            writes = [t for t, _ in received if t0 <= t < t1]
        finally:
            try:
                os.write(master, b"\x11")  # ctrl+q
                proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()
            stop.set()
            os.close(master)
            th.join(timeout=2)
    cpu_pct = (c1 - c0) / (t1 - t0) * 100
    per_min = bytes_window / (t1 - t0) * 60
    note = (f"window {t1 - t0:.0f} s after the first round and 3 s of quiet; {requests_in_window} requests in the window; "
            f"{startup_bytes} bytes during start-up")
    return [
        compare("P11a", "idle-cpu-50-sources", "%", [cpu_pct], "budget", 1.0, 1.0, note=note),
        compare("P11b", "idle-terminal-bytes", "B/min", [per_min], "budget", 1024.0, 1.0,
                note=f"{bytes_window} bytes in {len(writes)} writes in {t1 - t0:.0f} s"),
    ]


# ---------------------------------------------------------------------- P12-P15 (a real pty)


def _pty_helpers() -> Any:
    tests = BENCH_DIR.parent / "tests"
    if str(tests) not in sys.path:
        sys.path.insert(0, str(tests))
    import ui_pty

    return ui_pty


def p12_live_through_cycles(quick: bool) -> Metric:
    h = _pty_helpers()
    cycles = 100 if quick else 500
    with tempfile.TemporaryDirectory() as tmp:
        got = h.live_screen_through_cycles(Path(tmp), cycles)
    budget = h.INBOX_INTERVAL + 2.0
    clock = f"clock {got['first_minute']} -> {got['last_minute']}"
    note = (f"{cycles} open/close cycles in {got['seconds']:.0f} s, {got['drops']} items dropped, each on the main "
            f"screen after (s) median {statistics.median(got['latencies']):.1f} max {max(got['latencies']):.1f} "
            f"(includes up to 1 s with the panel open); {clock}; budget = poll interval {h.INBOX_INTERVAL:g} s + 2 s")
    m = compare("P12", f"panel-cycles-{cycles}-drop-to-screen", "s", [max(got["latencies"])], "interval+2s", budget, 1.0,
                note=note, extra=got)
    if got["first_minute"] == got["last_minute"] or not got["alive"]:
        m.status = "FAIL"
    return m


def p13_idle_pty(quick: bool) -> Metric:
    h = _pty_helpers()
    window = 75.0 if quick else 300.0
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        cfg, inbox = h.write_config(home, interval=60, platforms=2)
        h.drop(inbox, "seed", [h.record(i, f"Quiet tip {i}") for i in range(5)])
        with h.start(home, cfg, 160, 48) as app:
            app.wait_for(lambda t: "Quiet tip 4" in t, timeout=120, what="the seed items")
            app.wait_for(lambda t: time.monotonic() - app.last_write() > 3.0, timeout=120, what="a quiet screen")
            t0 = time.monotonic()
            time.sleep(window)
            t1 = time.monotonic()
            n = app.bytes_between(t0, t1)
            writes = sum(1 for t, _ in app.received if t0 <= t < t1)
    per_min = n / (t1 - t0) * 60
    return compare("P13", "idle-pty-quiet-config", "B/min", [per_min], "budget", 1024.0, 1.0,
                   note=f"{n} bytes in {writes} writes over {t1 - t0:.0f} s, 160x48, 2 inbox sources polled every 60 s")


def p14_memory(quick: bool) -> Metric:
    h = _pty_helpers()
    opens = 200 if quick else 500
    rng = random.Random(14)

    class Brisk:
        @staticmethod
        def uniform(_a: float, _b: float) -> float:
            return rng.uniform(0.05, 0.2)

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        cfg, inbox = h.write_config(home)
        h.drop(inbox, "seed", [h.record(i, f"Memory tip {i}: datalek gehackt") for i in range(5)])
        with h.start(home, cfg, 160, 40) as app:
            app.wait_for(lambda t: "Memory tip 4" in t, timeout=120, what="the seed items")
            app.send("2")
            for _ in range(20):
                h.cycle_panel(app, Brisk)
            at_20 = app.rss_kib() / 1024
            for _ in range(opens - 20):
                h.cycle_panel(app, Brisk)
            at_end = app.rss_kib() / 1024
    return compare("P14", f"rss-growth-20-to-{opens}-opens", "MiB", [at_end - at_20], "budget", 30.0, 1.0,
                   note=f"RSS {at_20:.0f} MiB after 20 opens, {at_end:.0f} MiB after {opens}")


def p15_resize(quick: bool) -> Metric:
    h = _pty_helpers()
    steps = ((80, 24, "tabs"), (60, 20, "tabs"), (160, 48, "wide"))
    took: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        cfg, inbox = h.write_config(home, platforms=3)
        h.drop(inbox, "seed", [h.record(i, f"Seed tip {i}") for i in range(3)])
        with h.start(home, cfg, 160, 48) as app:
            app.wait_for(lambda t: "Seed tip 2" in t, timeout=120, what="the seed items")
            for _ in range(1 if quick else 3):
                for cols, rows, want in steps:
                    app.resize(cols, rows)
                    took.append(app.wait_for(lambda t, want=want, cols=cols: h.layout_of(t) == want
                                             and len(t.split("\n")[0]) == cols, timeout=120, what=f"{want} at {cols}x{rows}"))
    return compare("P15", "resize-to-matching-layout", "s", [max(took)], "budget", 1.0, 1.0,
                   note=f"160x48 -> 80x24 -> 60x20 -> 160x48; seconds per step {[round(t, 2) for t in took]}")


def run(quick: bool = False) -> list[Metric]:
    out: list[Metric] = []
    for case in (lambda: [p2_lag(quick)], lambda: p6_p7(quick), lambda: [p8_startup(quick)], lambda: p11_idle(quick)):
        out.extend(case())
    return out


def run_pty(quick: bool = False) -> list[Metric]:
    """P12-P15: the live screen in a real pty."""
    return [p12_live_through_cycles(quick), p13_idle_pty(quick), p14_memory(quick), p15_resize(quick)]


def _child_main(argv: list[str]) -> int:
    case = argv[0]
    if case == "lag":
        print(json.dumps(asyncio.run(_child_lag(argv[1], int(argv[2])))))
    elif case == "batch":
        print(json.dumps(asyncio.run(_child_batch(int(argv[1]), int(argv[2])))))
    else:
        raise SystemExit(f"unknown case {case}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        sys.exit(_child_main(sys.argv[2:]))
    from bench_common import format_line

    only = set(sys.argv[1:]) - {"--quick", "--full"}
    cases = {"P2": lambda q: [p2_lag(q)], "P6": p6_p7, "P8": lambda q: [p8_startup(q)], "P11": p11_idle,
             "P12": lambda q: [p12_live_through_cycles(q)], "P13": lambda q: [p13_idle_pty(q)],
             "P14": lambda q: [p14_memory(q)], "P15": lambda q: [p15_resize(q)]}
    for key, fn in cases.items():
        if only and key not in only:
            continue
        for m in fn("--full" not in sys.argv):
            print(format_line(m))
            if m.note:
                print("     ", m.note)
