"""Benchmark: cost of a reverse-mode gradient of a synthesis with respect to 30 parameters
relative to the forward synthesis (issue 5, acceptance 4; goal <= 4x).

Workload: a star interpolated in the ATLAS9 grid (Teff 5630 K, log g 4.33, [M/H] -0.27, vmic
1.1 km/s; cubic interpax interpolation), abundances GAS2007 scaled by [M/H] plus offsets dA(X) for
the 26 elements with the most Gaia-ESO lines in the window, 5000-5010 Å at 0.01 Å (1,001 pixels;
``--quick``: 5000-5002 Å), every GES line within 2 Å, hydrogen lines, line windows planned once at
that point. Parameters (30): Teff, log g, [M/H], vmic and the 26 dA(X).

Timed (jit, warm, min over repeats, the two interleaved in the same run so that the load of the
shared machine affects both alike): ``forward`` = the normalised spectrum; ``gradient`` =
``value_and_grad`` of chi^2 against a fixed spectrum (one reverse pass: the implicit-function
adjoint of the chemical equilibrium, checkpointed line-window chunks, transfer). Reported: both
times, their ratio and the compile times.

Run: ``python -m benchmarks.synth_gradient [--quick] [--repeats N]``.
"""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402

from benchmarks._timing import record  # noqa: E402


def _block(x):
    return jax.tree_util.tree_map(lambda a: a.block_until_ready(), x)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)

    from jaxstro.data import locate
    from jaxstro.synth import synthesize
    from jaxstro.synth._elements import SYMBOLS
    from jaxstro.synth.abundances import format_abundances
    from jaxstro.synth.atmosphere import interpolate_atmosphere, load_atlas9_grid
    from jaxstro.synth.lines import read_linelist
    from jaxstro.synth.synthesize import default_line_windows

    hi = 5002.0 if args.quick else 5010.0
    wl = np.round(np.arange(5000.0, hi + 1e-9, 0.01), 2)
    grid = load_atlas9_grid()
    ll = read_linelist(locate("gaiaeso_linelist")).window(wl[0] - 2.0, wl[-1] + 2.0)
    # the 26 elements with the most lines here
    z_of = np.array([SYMBOLS.index(ll.species[i].split()[0]) if " " in ll.species[i] else -1
                     for i in np.asarray(ll.species_index)])
    counts = np.bincount(z_of[z_of >= 0], minlength=92)
    elements = np.argsort(-counts, kind="stable")[:26]
    p0 = np.array([5630.0, 4.33, -0.27, 1.1])
    atm0 = interpolate_atmosphere(grid, *p0[:3])
    A0 = format_abundances(p0[2], mixture="grevesse2007")
    t = time.perf_counter()
    win = default_line_windows(atm0, ll, A0, wl, float(p0[3]))
    plan_s = time.perf_counter() - t
    wl_j = jnp.asarray(wl)
    idx = jnp.asarray(elements)

    def spectrum(q):
        atm = interpolate_atmosphere(grid, q[0], q[1], q[2])
        A = format_abundances(q[2], mixture="grevesse2007").at[idx].add(q[4:])
        return synthesize(atm, ll, A, wl_j, vmic=q[3], line_windows=win).normalized

    q0 = jnp.concatenate([jnp.asarray(p0), jnp.zeros(26)])
    forward = jax.jit(spectrum)
    t = time.perf_counter()
    obs = _block(forward(q0 + 0.01))
    compile_fwd = time.perf_counter() - t

    def chi2(q):
        return jnp.sum((spectrum(q) - obs) ** 2)

    gradient = jax.jit(jax.value_and_grad(chi2))
    t = time.perf_counter()
    _block(gradient(q0))
    compile_grad = time.perf_counter() - t
    tf, tg = [], []
    for k in range(args.repeats):  # interleaved
        q = q0 + 1e-6 * (k + 1)
        t = time.perf_counter()
        _block(forward(q))
        tf.append(time.perf_counter() - t)
        t = time.perf_counter()
        _block(gradient(q))
        tg.append(time.perf_counter() - t)
    g = np.asarray(gradient(q0)[1])
    assert g.shape == (30,) and np.all(np.isfinite(g))
    rows = [{
        "window_A": f"{wl[0]:.0f}-{wl[-1]:.0f}", "pixels": int(wl.size), "lines": len(ll),
        "lines_windowed": win.n_lines, "n_parameters": 30,
        "forward_min_s": min(tf), "forward_median_s": float(np.median(tf)),
        "gradient_min_s": min(tg), "gradient_median_s": float(np.median(tg)),
        "ratio_min": min(tg) / min(tf), "ratio_median": float(np.median(tg) / np.median(tf)),
        "compile_forward_s": compile_fwd, "compile_gradient_s": compile_grad, "plan_s": plan_s,
    }]
    record("synth_gradient" + ("_quick" if args.quick else ""), rows,
           elements=[SYMBOLS[i] for i in elements], goal_ratio=4.0,
           note="forward and gradient interleaved in the same run on a shared 2-core machine")


if __name__ == "__main__":
    main()
