"""A catalog run through ``jaxstro tsp run``, killed (SIGKILL) mid-run and resumed: nothing lost,
nothing duplicated (issue 8 acceptance 4: 100,000 targets).

    python -m benchmarks.tsp_pipeline                     # 100,000 targets, k = 50, q = 5
    python -m benchmarks.tsp_pipeline --quick             # 2,000 targets
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._timing import record


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--n-targets", type=int, default=100_000)
    ap.add_argument("--n-pix", type=int, default=400)
    ap.add_argument("--kill-after", type=float, default=None, help="seconds before SIGKILL")
    ap.add_argument(
        "--cpu-devices",
        type=int,
        default=None,
        help="run on N forced host CPU devices (sets JAX_PLATFORMS=cpu; without it, forced CPU "
        "devices hung in shard_map on this machine)",
    )
    a = ap.parse_args(argv)
    if a.quick:
        a.n_targets = 2000
        a.cpu_devices = a.cpu_devices or 2
    from jaxstro.tsp import write_spectra
    from jaxstro.tsp._pipeline import load_catalog

    rng = np.random.default_rng(0)
    wl = 6500.0 * 10 ** (1e-4 * np.arange(a.n_pix))
    basis = 0.01 * rng.standard_normal((10, a.n_pix))
    tmp = Path(tempfile.mkdtemp(prefix="tsp_pipeline_"))
    n_ref = 2000
    write_spectra(
        tmp / "ref.h5",
        1 + rng.standard_normal((n_ref, 10)) @ basis,
        np.full((n_ref, a.n_pix), 1e4),
        wavelength=wl,
    )
    tf = 1 + rng.standard_normal((a.n_targets, 10)) @ basis
    write_spectra(tmp / "targets.h5", tf, np.full_like(tf, 1e4), ids=10**6 + np.arange(a.n_targets))
    np.save(tmp / "wl.npy", wl)
    cmd = [
        sys.executable,
        "-m",
        "jaxstro",
        "tsp",
        "run",
        "--reference",
        str(tmp / "ref.h5"),
        "--targets",
        str(tmp / "targets.h5"),
        "--out",
        str(tmp / "out"),
        "--k",
        "50",
        "--q",
        "5",
        "--chunk-size",
        "1024" if not a.quick else "256",
        "--wavelength",
        str(tmp / "wl.npy"),
        "--center",
        str(wl[a.n_pix // 2]),
        "--half-width",
        "5",
        "--min-pixels",
        "50",
        "--no-progress",
    ]
    env = dict(os.environ)
    if a.cpu_devices:
        env.update(
            JAX_PLATFORMS="cpu", XLA_FLAGS=f"--xla_force_host_platform_device_count={a.cpu_devices}"
        )
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env)
    # kill once a few chunks exist
    out = tmp / "out"
    while proc.poll() is None:
        n_done = len(list(out.glob("chunk_*.npz"))) if out.exists() else 0
        if n_done >= 3 or (a.kill_after and time.perf_counter() - t0 > a.kill_after):
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.2)
    proc.wait()
    n_before = len([p for p in out.glob("chunk_*.npz") if ".tmp" not in p.name])
    t_first = time.perf_counter() - t0
    t1 = time.perf_counter()
    rc = subprocess.run(cmd, env=env).returncode
    t_resume = time.perf_counter() - t1
    cat = load_catalog(out)
    idx = cat["index"]
    ok = (
        rc == 0
        and len(idx) == a.n_targets
        and np.array_equal(np.sort(idx), np.arange(a.n_targets))
        and np.array_equal(cat["ids"], 10**6 + np.arange(a.n_targets))
    )
    record(
        "tsp_pipeline" + ("_quick" if a.quick else ""),
        [
            {
                "n_targets": a.n_targets,
                "chunks_before_kill": n_before,
                "first_run_s": t_first,
                "resume_s": t_resume,
                "targets_out": len(idx),
                "unique": len(np.unique(idx)),
                "complete_no_duplicates": bool(ok),
            }
        ],
        output_dir=str(tmp),
    )
    if not ok:
        raise SystemExit("resume check FAILED")


if __name__ == "__main__":
    main()
