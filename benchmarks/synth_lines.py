"""Benchmark: line opacity alpha(layer, lambda) for 5000-5100 Å at 0.01 Å with the Gaia-ESO list on
the MARCS Sun (issue 5, acceptance 5, line-opacity part).

Timed: ``jax.jit`` of :func:`jaxstro.synth.lines.line_absorption` (windowed, chunked production
path) on the 56-layer ``marcs_sun`` model, all 104,296 GES lines given (the host-side plan keeps
those that reach the grid), vmic 1 km/s, solar abundances (GAS2007), number densities from
``chemical_equilibrium``; line windows cut at 1e-4 of the continuum (Turbospectrum's cut), with
the continuum from ``jaxstro.synth.continuum`` at 5050 Å when that module is importable, else a
flat 1e-6 cm^-1 (stated in the JSON). Reported: plan time (host), first call (compile + run),
warm min/median, lines kept, profile evaluations, and Turbospectrum's babsma + bsyn CPU time for
the same window (re-timed when a build is present, else the stored v20.1 numbers). Note that
Turbospectrum's time includes the whole spectrum (continuum and transfer), ours only the line
opacity.

Run: ``python -m benchmarks.synth_lines [--quick]`` (``--quick``: 5000-5010 Å, a few seconds of
compute plus compilation).
"""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402

from benchmarks._timing import record, timeit  # noqa: E402


def _continuum_5050(atm, ne, n):
    """Continuum opacity [cm^-1] at 5050 Å per layer (None when the continuum module is absent)."""
    try:
        from jaxstro.synth.continuum import continuum_absorption, load_continuum_data
    except ImportError:
        return None
    cdata = load_continuum_data()
    nu = jnp.array([2.99792458e18 / 5050.0])
    f = jax.vmap(lambda T, e, d: continuum_absorption(nu, T, e, d, cdata)[0])
    return np.asarray(f(atm.temperature, ne, n))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)

    from benchmarks.peers.turbospectrum import timing_for_benchmark
    from jaxstro.data import locate
    from jaxstro.synth.abundances import format_abundances
    from jaxstro.synth.atmosphere import read_marcs
    from jaxstro.synth.lines import (
        broadening,
        line_absorption,
        plan_line_windows,
        read_linelist,
        species_state,
    )
    from jaxstro.synth.statmech import chemical_equilibrium, load_equilibrium_data

    lo, hi = (5000.0, 5010.0) if args.quick else (5000.0, 5100.0)
    wl = lo + 0.01 * np.arange(int(round((hi - lo) / 0.01)) + 1)
    try:  # published ABO tables where they apply (as Turbospectrum assigns them)
        abo = {"abo_tables": broadening.load_abo_tables()}
    except FileNotFoundError:
        abo = {}
    ll = read_linelist(locate("gaiaeso_linelist"), **abo)
    atm = read_marcs(locate("marcs_sun"))
    data = load_equilibrium_data()
    A_X = format_abundances(mixture="grevesse2007")
    ne, n = jax.jit(jax.vmap(chemical_equilibrium, in_axes=(0, 0, 0, None, None)))(
        atm.temperature, atm.number_density, atm.electron_density, A_X, data)
    alpha_c = _continuum_5050(atm, ne, n)
    continuum_source = "jaxstro.synth.continuum at 5050 Å"
    if alpha_c is None:
        alpha_c, continuum_source = np.full(atm.temperature.shape, 1e-6), "flat 1e-6 cm^-1"
    # only the species of lines near the window matter for the densities; all are built
    near = ll.window(lo - 60.0, hi + 60.0)
    st = species_state(near.species, n, atm.temperature, data)
    # van der Waals perturbers H I + He I + H2, as synthesize uses them
    nH = broadening.vdw_perturber_density(n["H I"], n["He I"], n["HH"])

    t0 = time.perf_counter()
    win = plan_line_windows(near, wl, atm.temperature, ne, nH, st, 1.0, alpha_c)
    plan_s = time.perf_counter() - t0
    f = jax.jit(lambda T: line_absorption(near, wl, T, ne, nH, st, 1.0, win))
    t = timeit(f, atm.temperature, repeats=args.repeats)
    wing, full = win.n_evaluations
    ours = {"code": "jaxstro line_absorption", "window": f"{lo:.0f}-{hi:.0f}",
            "n_wavelengths": wl.size, "lines_kept": win.n_lines, "plan_s": plan_s,
            "first_call_s": t["first_call_s"], "warm_min_s": t["min_s"],
            "warm_median_s": t["median_s"],
            "profile_evals_M": 56 * (wing + full) / 1e6}
    rows = [ours]
    ts = timing_for_benchmark(repeats=1 if args.quick else 3)
    w = ts["workloads"].get("ges_5000_5100")
    if w is not None:
        rows.append({"code": f"Turbospectrum babsma+bsyn ({ts['source']}, CPU s)",
                     "window": "5000-5100", "n_wavelengths": w["n_wavelengths"],
                     "lines_kept": w["n_lines"], "plan_s": None, "first_call_s": None,
                     "warm_min_s": w["total_cpu_s"], "warm_median_s": None,
                     "profile_evals_M": None})
    record("synth_lines" + ("_quick" if args.quick else ""), rows,
           continuum_for_cutoff=continuum_source, cutoff=1e-4, vmic_km_s=1.0,
           note=("Turbospectrum's time is the whole spectrum (opacities + transfer); ours is the "
                 "line opacity only. The CPU here is shared by other jobs: wall times are "
                 "indicative."),
           size_classes=list(win.sizes), core_sizes=list(win.core_sizes))


if __name__ == "__main__":
    main()
