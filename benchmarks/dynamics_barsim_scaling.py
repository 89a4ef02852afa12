"""Benchmark: the ch4 bar-simulation pipeline, scaling in particle number, and kill/resume.

    python -m benchmarks.dynamics_barsim_scaling [--quick] [--devices 2] [--n 1000 10000 100000]

For each N: ``run_chunks`` (sample the quasi-isothermal disc, grow the bar, integrate, Staeckel
actions of the snapshot, write chunks) for ``--periods`` bar periods at 39 km/s/kpc, orbits
sharded over ``--devices`` host CPU devices, after a warm-up chunk of the same shapes (its time,
compilation included, is reported as ``first_chunk_with_compile_s``). Then a kill/resume check:
the CLI ``jaxstro dynamics bar-sim`` is started in a subprocess, SIGKILLed once its first chunk
is on disk, restarted, and the chunk files are compared with those of an uninterrupted run
(they must be identical: chunk i depends only on fold_in(key, i)).
"""

from __future__ import annotations

import argparse
import os

if __name__ == "__main__":
    _ap = argparse.ArgumentParser()
    _ap.add_argument("--devices", type=int, default=os.cpu_count() or 1)
    _dev = _ap.parse_known_args()[0].devices
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={_dev}"
    )
    os.environ.setdefault("JAX_PLATFORMS", "cpu")

import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import jax  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", True)

from benchmarks._timing import record  # noqa: E402
from jaxstro.dynamics import BarSimConfig, run_chunks  # noqa: E402


def _kill_resume(workdir: Path, devices: int, periods: float) -> dict:
    args = [
        "dynamics",
        "bar-sim",
        "--pattern-speeds",
        "39",
        "--n-particles",
        "400",
        "--chunk-size",
        "100",
        "--n-periods",
        str(periods),
        "--snapshots",
        str(periods),
        "--quiet",
        "--devices",
        str(devices),
    ]
    env = dict(os.environ)
    cmd = [sys.executable, "-m", "jaxstro.cli"]
    if not Path(__file__).resolve().parents[1].joinpath("jaxstro", "cli.py").exists():
        cmd = ["jaxstro"]
    killed, full = workdir / "killed", workdir / "full"
    proc = subprocess.Popen(cmd + [*args, "-o", str(killed)], env=env)
    out = killed / "omegab_39"
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 600:
        if proc.poll() is not None:
            break
        if len(list(out.glob("chunk_*.npz"))) >= 1:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            break
        time.sleep(0.2)
    n_before = len(list(out.glob("chunk_*.npz")))
    subprocess.run(cmd + [*args, "-o", str(killed)], env=env, check=True)
    subprocess.run(cmd + [*args, "-o", str(full)], env=env, check=True)
    same = True
    files = sorted(out.glob("chunk_*.npz"))
    for f in files:
        a, b = np.load(f), np.load(full / "omegab_39" / f.name)
        same &= all(np.array_equal(a[k], b[k]) for k in a.files)
    return {
        "chunks_before_kill": n_before,
        "chunks_after_resume": len(files),
        "identical_to_uninterrupted": bool(same),
        "leftover_tmp_files": len(list(out.glob("*.tmp*"))),
    }


def main(ns, devices: int, periods: float, skip_kill: bool) -> None:
    rows = []
    work = Path(tempfile.mkdtemp(prefix="barsim_bench_"))
    try:
        for n in ns:
            chunk = min(n, 20_000)
            cfg = BarSimConfig(
                pattern_speed=39.0,
                n_particles=n,
                chunk_size=chunk,
                n_periods=periods,
                snapshots=(periods,),
                rtol=1e-8,
            )
            # warm-up (compilation): one chunk of the same size with another seed, so every
            # stage (sampler, orbit blocks, actions) runs with the shapes of the timed run
            warm = BarSimConfig(
                pattern_speed=39.0,
                n_particles=chunk,
                chunk_size=chunk,
                n_periods=periods,
                snapshots=(periods,),
                rtol=1e-8,
                seed=1,
            )
            t0 = time.perf_counter()
            run_chunks(warm, work / f"warm_{n}", progress=False, devices=devices)
            t_warm = time.perf_counter() - t0
            t0 = time.perf_counter()
            run_chunks(cfg, work / f"n{n}", progress=False, devices=devices)
            dt = time.perf_counter() - t0
            rows.append(
                {
                    "n_particles": n,
                    "bar_periods": periods,
                    "chunk_size": chunk,
                    "devices": devices,
                    "seconds": dt,
                    "first_chunk_with_compile_s": t_warm,
                    "particles_per_s": n / dt,
                    "particle_periods_per_s": n * periods / dt,
                }
            )
            print(rows[-1])
        extra = {}
        if not skip_kill:
            extra["kill_resume"] = _kill_resume(work, devices, periods)
            print(extra["kill_resume"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    record("dynamics_barsim_scaling" + ("_quick" if ns == [1000] else ""), rows, **extra)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--devices", type=int, default=os.cpu_count() or 1)
    p.add_argument("--n", type=int, nargs="+", default=[1000, 10_000, 100_000])
    p.add_argument("--periods", type=float, default=1.0, help="bar periods integrated")
    p.add_argument("--skip-kill", action="store_true")
    a = p.parse_args()
    main([1000] if a.quick else a.n, a.devices, a.periods, a.skip_kill)
