"""What every benchmark module shares: the Metric record, timing helpers, the line format.

A metric is a median over repetitions, compared with a reference measured in the same
run (or a fixed budget such as "one frame, 16 ms"), and judged by the ratio, because
these machines are noisy and only same-run ratios are comparable between runs.
"""

from __future__ import annotations

import os
import re
import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

__all__ = ["Metric", "compare", "skipped", "timed", "repeat", "format_line", "LINE_RE", "rss_mib"]


@dataclass
class Metric:
    id: str
    """``P1``..``P11``, with a letter when one row of the issue's table has several lines."""
    name: str
    """One word (no spaces), so the line stays machine-readable."""
    unit: str = ""
    value: float | None = None
    """Median of ``samples``."""
    vmin: float | None = None
    vmax: float | None = None
    n: int = 0
    ref_name: str = "-"
    ref_value: float | None = None
    ratio: float | None = None
    goal: str = "-"
    status: str = "skipped"
    """``PASS``, ``FAIL`` or ``skipped: <reason>``."""
    note: str = ""
    samples: list[float] = field(default_factory=list)
    ref_samples: list[float] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _median(xs: list[float]) -> float:
    return float(statistics.median(xs))


def compare(
    id: str,
    name: str,
    unit: str,
    samples: list[float],
    ref_name: str,
    ref: list[float] | float,
    max_ratio: float,
    *,
    max_value: float | None = None,
    note: str = "",
    extra: dict[str, Any] | None = None,
) -> Metric:
    """A metric whose goal is ``median(samples) / median(ref) <= max_ratio`` (and ``<= max_value``)."""
    ref_samples = list(ref) if isinstance(ref, (list, tuple)) else []
    ref_value = _median(ref_samples) if ref_samples else float(ref)  # type: ignore[arg-type]
    value = _median(samples)
    ratio = value / ref_value if ref_value > 0 else float("inf")
    ok = ratio <= max_ratio and (max_value is None or value <= max_value)
    goal = f"<={max_ratio:g}x" + (f",<={max_value:g}{unit}" if max_value is not None else "")
    return Metric(
        id=id, name=name, unit=unit, value=value, vmin=min(samples), vmax=max(samples), n=len(samples),
        ref_name=ref_name, ref_value=ref_value, ratio=ratio, goal=goal, status="PASS" if ok else "FAIL",
        note=note, samples=list(samples), ref_samples=ref_samples, extra=dict(extra or {}),
    )


def skipped(id: str, name: str, reason: str, *, goal: str = "-", unit: str = "", extra: dict[str, Any] | None = None,
            samples: list[float] | None = None) -> Metric:
    """A metric that could not be judged here; figures measured anyway go in ``samples``."""
    m = Metric(id=id, name=name, unit=unit, goal=goal, status=f"skipped: {reason}", extra=dict(extra or {}))
    if samples:
        m.samples = list(samples)
        m.value, m.vmin, m.vmax, m.n = _median(samples), min(samples), max(samples), len(samples)
    return m


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(milliseconds, result) of one call."""
    t = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t) * 1000, out


def repeat(fn: Callable[[], Any], n: int, *, warmup: int = 1) -> list[float]:
    """Milliseconds of ``n`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    return [timed(fn)[0] for _ in range(n)]


def _num(x: float | None) -> str:
    if x is None:
        return "-"
    if x == 0:
        return "0"
    ax = abs(x)
    if ax >= 100:
        return f"{x:.0f}"
    if ax >= 10:
        return f"{x:.1f}"
    if ax >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def format_line(m: Metric) -> str:
    """``id name  value unit [min..max n=N]  ref NAME value  ratio  goal  STATUS``."""
    if m.value is None:
        value = "- -"
    else:
        value = f"{_num(m.value)} {m.unit or '-'} [{_num(m.vmin)}..{_num(m.vmax)} n={m.n}]"
    ref = f"ref {m.ref_name} {_num(m.ref_value)}" if m.ref_value is not None else f"ref {m.ref_name}"
    ratio = f"{m.ratio:.2f}x" if m.ratio is not None else "-"
    return f"{m.id:<4} {m.name:<26} {value:<34}  {ref:<28}  {ratio:>7}  {m.goal:<14}  {m.status}"


#: What the smoke test (and anyone parsing the output) can rely on.
LINE_RE = re.compile(
    r"^(?P<id>P\d+[a-z]?)\s+(?P<name>\S+)\s+(?P<value>\S+) (?P<unit>\S+)(?: \[\S+ n=\d+\])?\s+"
    r"ref (?P<ref>.+?)\s+(?P<ratio>\d+\.\d\dx|-)\s+(?P<goal>\S+)\s+(?P<status>PASS|FAIL|skipped: .+)$"
)


def rss_mib() -> tuple[float, float]:
    """(current RSS, peak RSS) of this process in MiB, from /proc (Linux)."""
    cur = peak = 0.0
    try:
        with open(f"/proc/{os.getpid()}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    cur = int(line.split()[1]) / 1024
                elif line.startswith("VmHWM:"):
                    peak = int(line.split()[1]) / 1024
    except OSError:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        cur = peak
    return cur, peak
