"""Benchmark: continuum-only synthesis of the MARCS Sun at 10,000 wavelengths (3000-15000 Å).

jaxstro: ``synthesize(atm, None, A_X, wavelengths)`` (chemical equilibrium in every layer,
continuum opacity, plane-parallel transfer with 10 angles), jitted; first call (compile) and
steady-state times. Peer: Turbospectrum v20.1 babsma (continuous opacities) + bsyn (transfer) on
the same model and grid, re-timed in this run when ``TURBOSPECTRUM_DIR`` points to a build
(``benchmarks.peers.turbospectrum.timing_for_benchmark``), else its stored CPU times (labelled).
Run: ``python -m benchmarks.synth_continuum [--quick]`` from the repository root; on a GPU machine
the same script records the GPU timing (results/synth_continuum.gpu.json).
"""

from __future__ import annotations

import argparse

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks._timing import record, timeit  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true", help="100 wavelengths, 1 repeat (smoke run)")
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args(argv)

    from jaxstro.data import locate
    from jaxstro.synth.abundances import format_abundances
    from jaxstro.synth.atmosphere import read_marcs
    from jaxstro.synth.synthesize import (
        _default_continuum_data,
        _default_equilibrium_data,
        synthesize,
    )

    n_wl = 100 if args.quick else 10_000
    repeats = 1 if args.quick else args.repeats
    atm = read_marcs(locate("marcs_sun"))
    A = format_abundances(0.0, mixture="grevesse2007")
    wl = jnp.asarray(np.linspace(3000.0, 14998.8, n_wl))
    _default_continuum_data(), _default_equilibrium_data()  # table loading is not timed

    def run(w):
        return synthesize(atm, None, A, w).continuum

    t = timeit(run, wl, repeats=repeats)
    rows = [{
        "code": "jaxstro synthesize (continuum)",
        "device": jax.default_backend(),
        "n_wavelengths": n_wl,
        "first_call_s": t["first_call_s"],
        "min_s": t["min_s"],
        "median_s": t["median_s"],
        "source": "measured",
    }]  # fmt: skip
    extra = {}
    try:
        from benchmarks.peers.turbospectrum import timing_for_benchmark

        ts = timing_for_benchmark(repeats=1 if args.quick else 3)
        w = ts["workloads"]["continuum_10000"]
        rows.append({
            "code": "Turbospectrum babsma + bsyn",
            "device": "cpu",
            "n_wavelengths": w["n_wavelengths"],
            "first_call_s": None,
            "min_s": w["total_cpu_s"],
            "median_s": None,
            "source": f"{ts['source']} (CPU s; babsma {w['babsma_cpu_s']:.2f} s)",
        })  # fmt: skip
        extra["turbospectrum"] = ts
    except Exception as err:  # the peer is optional
        extra["turbospectrum_error"] = repr(err)
    record("synth_continuum" + ("_quick" if args.quick else ""), rows, **extra)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
