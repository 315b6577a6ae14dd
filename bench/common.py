"""Small helpers shared by the benchmark scripts in ``bench/``.

Use from a script in this folder with::

    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.common import time_calls, markdown_table, machine_description

Timing rules used by every digitpad benchmark: ``time.perf_counter_ns``, a warm-up before the
timed calls, the garbage collector disabled during the timing loop, and the baseline measured in
the same run on the same machine (results are reported as ratios, medians and p99).
"""

from __future__ import annotations

import gc
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class Timing:
    """Summary of repeated timings of one call, in milliseconds."""

    name: str
    n: int
    median_ms: float
    p99_ms: float
    mean_ms: float
    min_ms: float
    max_ms: float
    cpu_median_ms: float | None = None  # CPU time of the calling thread (None if not measured)
    cpu_p99_ms: float | None = None

    @property
    def calls_per_s(self) -> float:
        """Calls per second at the median latency."""
        return 1000.0 / self.median_ms if self.median_ms > 0 else float("inf")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for JSON), including ``calls_per_s``."""
        d = asdict(self)
        d["calls_per_s"] = self.calls_per_s
        return d


def summarize(
    name: str,
    samples_ns: Sequence[int] | np.ndarray,
    cpu_ns: Sequence[int] | np.ndarray | None = None,
) -> Timing:
    """Median, p99, mean, min and max (ms) of samples in nanoseconds.

    Parameters
    ----------
    name : str
        Label of what was timed.
    samples_ns : sequence of int
        One duration per call, in nanoseconds (``time.perf_counter_ns`` differences).
    cpu_ns : sequence of int, optional
        CPU time of the calling thread per call (``time.thread_time_ns`` differences). On a shared
        machine a wall-clock p99 far above the CPU p99 means the thread was waiting for a core.
    """
    ms = np.asarray(samples_ns, dtype=np.float64) / 1e6
    if ms.size == 0:
        raise ValueError("no samples to summarize")
    cpu = None if cpu_ns is None else np.asarray(cpu_ns, dtype=np.float64) / 1e6
    return Timing(
        name=name,
        n=int(ms.size),
        median_ms=float(np.median(ms)),
        p99_ms=float(np.percentile(ms, 99)),
        mean_ms=float(ms.mean()),
        min_ms=float(ms.min()),
        max_ms=float(ms.max()),
        cpu_median_ms=None if cpu is None else float(np.median(cpu)),
        cpu_p99_ms=None if cpu is None else float(np.percentile(cpu, 99)),
    )


def time_calls(
    name: str, fn: Callable[[int], object], n: int, *, warmup: int = 10, disable_gc: bool = True
) -> Timing:
    """Time ``n`` calls of ``fn(i)`` one by one after ``warmup`` untimed calls.

    Parameters
    ----------
    name : str
        Label of what is timed.
    fn : callable
        Called with the iteration index (so the input can vary between calls).
    n : int
        Number of timed calls.
    warmup : int
        Untimed calls first (tracing, allocation, caches).
    disable_gc : bool
        Keep the garbage collector off during the timing loop (collected before it starts).

    The calling thread's CPU time is recorded too (outside the wall-clock stamps), see
    :func:`summarize`.
    """
    for i in range(warmup):
        fn(i)
    samples = np.empty(n, dtype=np.int64)
    cpu = np.empty(n, dtype=np.int64)
    gc.collect()
    was_enabled = gc.isenabled()
    if disable_gc:
        gc.disable()
    try:
        clock = time.perf_counter_ns
        cpu_clock = time.thread_time_ns
        for i in range(n):
            c0 = cpu_clock()
            t0 = clock()
            fn(i)
            t1 = clock()
            cpu[i] = cpu_clock() - c0
            samples[i] = t1 - t0
    finally:
        if was_enabled:
            gc.enable()
    return summarize(name, samples, cpu)


def fmt_ms(value: float) -> str:
    """Milliseconds with sensible precision: 0.0123, 1.23, 123."""
    if value < 0.1:
        return f"{value:.4f}"
    if value < 10:
        return f"{value:.3f}"
    return f"{value:.1f}"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured Markdown table; numbers are right-aligned."""
    text = [[str(c) for c in row] for row in rows]
    widths = [
        max(len(str(h)), *(len(r[i]) for r in text)) if text else len(str(h))
        for i, h in enumerate(headers)
    ]
    numeric = [bool(text) and all(_looks_numeric(r[i]) for r in text) for i in range(len(headers))]

    def line(cells):
        return (
            "| "
            + " | ".join(
                c.rjust(w) if num else c.ljust(w)
                for c, w, num in zip(cells, widths, numeric, strict=True)
            )
            + " |"
        )

    sep = (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if num else ("-" * (w + 2))
            for w, num in zip(widths, numeric, strict=True)
        )
        + "|"
    )
    return "\n".join([line([str(h) for h in headers]), sep, *(line(r) for r in text)])


def _looks_numeric(cell: str) -> bool:
    try:
        float(cell.rstrip("x×%").replace(",", ""))
        return True
    except ValueError:
        return False


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_description() -> dict[str, Any]:
    """The machine and software a benchmark ran on (CPU, cores, OS, Python, numpy, TF, Keras)."""
    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    for module in ("tensorflow", "keras", "ai_edge_litert"):
        mod = sys.modules.get(module)
        if mod is None:
            continue
        info[module] = getattr(mod, "__version__", "?")
    if "ai_edge_litert" not in info:
        try:
            from importlib.metadata import version

            info["ai_edge_litert"] = version("ai-edge-litert")
        except Exception:
            pass
    try:
        info["load_average"] = [round(v, 2) for v in os.getloadavg()]
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as fh:
            kb = int(fh.readline().split()[1])
        info["memory_gib"] = round(kb / 2**20, 1)
    except (OSError, ValueError, IndexError):
        pass
    return info


def machine_line(info: dict[str, Any] | None = None) -> str:
    """One line describing the machine, for the top of a report."""
    info = info or machine_description()
    parts = [f"{info['cpu']}", f"{info['usable_cores']} cores", f"Python {info['python']}"]
    for key, label in (
        ("tensorflow", "TF"),
        ("keras", "Keras"),
        ("ai_edge_litert", "ai-edge-litert"),
    ):
        if key in info:
            parts.append(f"{label} {info[key]}")
    if "load_average" in info:
        parts.append("load average " + " ".join(f"{v:.2f}" for v in info["load_average"]))
    return ", ".join(parts)


def write_json(path: str | os.PathLike, payload: dict[str, Any]) -> None:
    """Write a benchmark result as indented strict JSON (parent folders created).

    Conversion goes through ``digitpad.core.jsonable.dumps`` (NaN becomes null); :class:`Timing`
    values are written as their :meth:`Timing.to_dict`.
    """
    from digitpad.core.jsonable import dumps

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(_timings_as_dicts(payload), indent=2) + "\n", encoding="utf-8")


def _timings_as_dicts(value: object) -> object:
    if isinstance(value, Timing):
        return value.to_dict()
    if isinstance(value, dict):
        return {k: _timings_as_dicts(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_timings_as_dicts(v) for v in value]
    return value
