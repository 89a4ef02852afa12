"""Shared timing helper for the benchmark scripts.

``timeit(fn, *args)`` warms up (compiles), then times ``repeats`` calls, blocking on JAX results;
``record(name, rows)`` prints a table and writes ``benchmarks/results/<name>.json`` with the device,
versions and machine recorded. Timings are only compared within one run on one machine.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def _block(x: Any) -> Any:
    try:
        import jax

        return jax.block_until_ready(x)
    except ImportError:  # pragma: no cover
        return x


def timeit(fn: Callable, *args: Any, repeats: int = 5, warmup: int = 1, **kwargs: Any) -> dict:
    """Wall-clock seconds of ``fn(*args, **kwargs)``: first call (compile), min, median, all."""
    t0 = time.perf_counter()
    _block(fn(*args, **kwargs))
    first = time.perf_counter() - t0
    for _ in range(max(warmup - 1, 0)):
        _block(fn(*args, **kwargs))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        _block(fn(*args, **kwargs))
        times.append(time.perf_counter() - t0)
    return {
        "first_call_s": first,
        "min_s": min(times),
        "median_s": statistics.median(times),
        "times_s": times,
        "repeats": repeats,
    }


def peak_rss_mb() -> float:
    """Peak resident memory of this process [MB]: VmHWM (``ru_maxrss`` survives exec on Linux
    and would report the parent's peak in subprocesses), ``ru_maxrss`` where /proc is missing."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1]) / 1024.0
    except OSError:  # pragma: no cover - not Linux
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def environment() -> dict:
    """Device, versions and machine of this run."""
    env: dict[str, Any] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    try:
        import jax

        env.update(
            jax=jax.__version__,
            backend=jax.default_backend(),
            devices=[f"{d.platform}:{d.device_kind}" for d in jax.devices()],
            x64=bool(jax.config.read("jax_enable_x64")),
        )
    except ImportError:  # pragma: no cover
        pass
    try:
        import numpy
        import scipy

        env.update(numpy=numpy.__version__, scipy=scipy.__version__)
    except ImportError:  # pragma: no cover
        pass
    return env


def record(name: str, rows: list[dict], **extra: Any) -> Path:
    """Print ``rows`` as a table and write them with the environment to results/<name>.json."""
    if rows:
        keys = list(rows[0])
        widths = [max(len(k), *(len(_fmt(r.get(k))) for r in rows)) for k in keys]
        print("  ".join(k.ljust(w) for k, w in zip(keys, widths, strict=True)))
        for r in rows:
            print("  ".join(_fmt(r.get(k)).ljust(w) for k, w in zip(keys, widths, strict=True)))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{name}.json"
    backend = environment().get("backend", "cpu")
    if backend != "cpu":
        out = RESULTS / f"{name}.{backend}.json"
    out.write_text(json.dumps({"benchmark": name, "environment": environment(), "rows": rows,
                               **extra}, indent=2, default=float))
    print(f"wrote {out}")
    return out


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
