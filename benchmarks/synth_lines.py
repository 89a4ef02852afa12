"""Benchmark: the whole synthesis (equilibrium + continuum + lines + transfer) of 5000-5100 Å at
0.01 Å with the Gaia-ESO list on the MARCS Sun, against Turbospectrum (babsma + bsyn) timed in the
same run (issue 5, acceptance 5).

Workload (as the accuracy tests, tests/synth/test_lines_vs_turbospectrum.py): the 10,001-point air
grid 5000-5100 Å (converted to vacuum for us), the GES list read with the ABO tables (the lines
within 5 Å of the grid: 2,896), GAS2007 abundances, vmic 1 km/s, 56-layer plane-parallel
``marcs_sun``, default ``synthesize`` (n_e solved, strength-sized line windows cut at 1e-4 of the
continuum, hydrogen lines, continuum on the 1 Å grid). Turbospectrum runs the same model, grid and
GES list (+ the APOGEE DR17 hydrogen list), its default continuum step (1 Å).

Timed, interleaved (TS run, then ours, ``--repeats`` times; minima reported):
- ours ``end_to_end``: ``synthesize(atm, linelist, A_X, wl)`` (window planning included);
- ours ``windows_reused``: the same with ``line_windows`` planned once (a fit at fixed atmosphere
  and line list);
- ours ``first_call``: the first ``synthesize`` call in the process (tracing + XLA compilation);
- Turbospectrum babsma + bsyn: CPU seconds of the child processes (``getrusage``) and wall.
Ours are given as wall seconds and as CPU seconds of this process (``time.process_time``; XLA
may run on both cores); ratio = ours / Turbospectrum, CPU to CPU and wall to wall.
Stage breakdown (each stage jitted alone): equilibrium, continuum (1 Å grid), line opacity,
transfer. Peak memory: max RSS of the process (and ``device.memory_stats()`` where the backend
has it; not on CPU).

Scaling (``--scaling``; each point a fresh subprocess so that first-call time and peak RSS are its
own): number of lines 10^3-10^6 at 10,001 pixels (GALAH DR3 lines, 307,002, mapped into
4998-5102 Å by wavelength modulo and duplicated for 10^6), and pixels 1,001 / 10,001 / 100,001
(GES lines, 5000-5010 / 5000-5100 / 5000-6000 Å at 0.01 Å).

Run: ``python -m benchmarks.synth_lines [--quick] [--scaling]``; writes
``benchmarks/results/synth_lines.json``. The CPU here is shared with other jobs: ratios are
measured within one run, interleaved.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import subprocess
import sys
import time

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402

from benchmarks._timing import peak_rss_mb, record  # noqa: E402


def _clock(fn, *args, **kwargs):
    """(wall s, process CPU s, result) of one blocking call."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = jax.block_until_ready(fn(*args, **kwargs))
    return time.perf_counter() - w0, time.process_time() - c0, out


def _device_memory() -> dict | None:
    try:
        stats = jax.devices()[0].memory_stats()
    except Exception:  # pragma: no cover - backend dependent
        return None
    if not stats:
        return None
    return {k: stats[k] for k in ("peak_bytes_in_use", "bytes_in_use") if k in stats}


def _ges():
    from jaxstro.data import locate
    from jaxstro.synth.lines import broadening, read_linelist

    try:
        return read_linelist(locate("gaiaeso_linelist"), abo_tables=broadening.load_abo_tables())
    except FileNotFoundError:
        return read_linelist(locate("gaiaeso_linelist"))


def _setup(lo_air=5000.0, hi_air=5100.0, step=0.01):
    from jaxstro.data import locate
    from jaxstro.spectra import air_to_vacuum
    from jaxstro.synth.abundances import format_abundances
    from jaxstro.synth.atmosphere import read_marcs

    wl_air = lo_air + step * np.arange(int(round((hi_air - lo_air) / step)) + 1)
    wl = np.asarray(air_to_vacuum(jnp.asarray(wl_air)))
    atm = read_marcs(locate("marcs_sun"))
    A = format_abundances(mixture="grevesse2007")
    return atm, A, wl


def _stages(atm, A, wl, ll, windows) -> dict:
    """Warm wall seconds of each stage, jitted alone (min of 3)."""
    import equinox as eqx

    from jaxstro.synth.lines.absorption import line_absorption, species_state
    from jaxstro.synth.statmech import atmosphere_equilibrium
    from jaxstro.synth.transfer import PlaneParallel, radiative_transfer

    S = importlib.import_module("jaxstro.synth.synthesize")  # the module, not the function
    ed, cd = S._default_equilibrium_data(), S._default_continuum_data()
    grid = S.continuum_grid(wl, 1.0, cd)

    def best(f, *a):
        jax.block_until_ready(f(*a))
        return min(_clock(f, *a)[0] for _ in range(3))

    eq = eqx.filter_jit(lambda atm, A: atmosphere_equilibrium(atm, A, ed, None))
    atm2, ne, n = eq(atm, A)
    cont = eqx.filter_jit(lambda a, ne, n: S.continuum_layers(a, ne, n, grid.wavelengths * 1e-8,
                                                              cd))
    a_c, a_ref = cont(atm2, ne, n)

    def lines(a, ne, n):
        st = species_state(ll.species, n, a.temperature, ed)
        return line_absorption(ll, jnp.asarray(wl), a.temperature, ne, S._vdw_density(n), st,
                               1.0, windows)

    lf = eqx.filter_jit(lines)
    a_l = lf(atm2, ne, n)
    alpha = grid.interpolate(a_c) + a_l
    wl_cm = jnp.asarray(wl) * 1e-8

    def rt(a, alpha, a_ref):
        src = S.planck_lambda(wl_cm[None, :], a.temperature[:, None])
        return radiative_transfer(a, alpha, src, a_ref, PlaneParallel(10))[0]

    rtf = eqx.filter_jit(rt)
    return {"equilibrium_s": best(eq, atm, A), "continuum_1A_grid_s": best(cont, atm2, ne, n),
            "line_opacity_s": best(lf, atm2, ne, n), "transfer_s": best(rtf, atm2, alpha, a_ref),
            "plan_windows_s": min(_clock(S.default_line_windows, atm, ll, A, wl, 1.0)[0]
                                  for _ in range(3))}


def main_comparison(repeats: int, quick: bool) -> dict:
    from benchmarks.peers.turbospectrum import find_build, run, timing_workloads
    from jaxstro.synth.synthesize import default_line_windows, synthesize

    hi = 5010.0 if quick else 5100.0
    atm, A, wl = _setup(5000.0, hi)
    ll = _ges().window(wl[0] - 5.0, wl[-1] + 5.0)
    first_wall, first_cpu, sp = _clock(synthesize, atm, ll, A, wl, vmic=1.0)
    windows = default_line_windows(atm, ll, A, wl, 1.0)
    build = find_build()
    ts_settings = timing_workloads()["ges_5000_5100"]
    if quick:
        import dataclasses

        ts_settings = dataclasses.replace(ts_settings, lambda_max=hi)
    rows = {"ts_cpu": [], "ts_wall": [], "e2e_wall": [], "e2e_cpu": [], "reuse_wall": [],
            "reuse_cpu": []}
    ts_lines = None
    for _ in range(repeats):
        if build is not None:
            r = run(ts_settings, build=build)
            rows["ts_cpu"].append(r.cpu_s["babsma"] + r.cpu_s["bsyn"])
            rows["ts_wall"].append(r.wall_s["babsma"] + r.wall_s["bsyn"])
            ts_lines = r.n_lines
        w, c, _ = _clock(synthesize, atm, ll, A, wl, vmic=1.0)
        rows["e2e_wall"].append(w)
        rows["e2e_cpu"].append(c)
        w, c, _ = _clock(synthesize, atm, ll, A, wl, vmic=1.0, line_windows=windows)
        rows["reuse_wall"].append(w)
        rows["reuse_cpu"].append(c)
    m = {k: (min(v) if v else None) for k, v in rows.items()}
    med = {k: (statistics.median(v) if v else None) for k, v in rows.items()}
    out = {
        "window": f"5000-{hi:.0f} Å (air grid), 0.01 Å", "n_wavelengths": int(wl.size),
        "lines_given": len(ll), "lines_kept": windows.n_lines,
        "profile_evaluations_M": 56 * sum(windows.n_evaluations) / 1e6,
        "first_call_wall_s": first_wall, "first_call_cpu_s": first_cpu,
        "end_to_end_wall_s": m["e2e_wall"], "end_to_end_cpu_s": m["e2e_cpu"],
        "windows_reused_wall_s": m["reuse_wall"], "windows_reused_cpu_s": m["reuse_cpu"],
        "median": med, "repeats": repeats,
        "turbospectrum": None if build is None else {
            "babsma_plus_bsyn_cpu_s": m["ts_cpu"], "babsma_plus_bsyn_wall_s": m["ts_wall"],
            "n_lines": ts_lines, "source": "measured in this run"},
        "stages_wall_s": _stages(atm, A, wl, ll, windows),
        "peak_rss_mb": peak_rss_mb(), "device_memory": _device_memory(),
    }
    if build is not None:
        out["ratio"] = {
            "end_to_end_cpu": m["e2e_cpu"] / m["ts_cpu"],
            "end_to_end_wall": m["e2e_wall"] / m["ts_wall"],
            "windows_reused_cpu": m["reuse_cpu"] / m["ts_cpu"],
            "windows_reused_wall": m["reuse_wall"] / m["ts_wall"],
            "goal": 0.1,
        }
    return out


# ------------------------------------------------------------------------------------------------
# scaling points (one per subprocess)
def _galah_mapped(n_lines: int, lo: float, hi: float, seed: int = 0):
    """``n_lines`` GALAH DR3 lines moved into [lo, hi] Å by wavelength modulo (strength
    distribution kept), duplicated with small random shifts beyond 307,002."""
    import equinox as eqx

    from jaxstro.data import locate
    from jaxstro.synth.lines import read_linelist

    ll = read_linelist(locate("galah_dr3_linelist"))
    rng = np.random.default_rng(seed)
    n0 = len(ll)
    idx = rng.choice(n0, n_lines, replace=False) if n_lines <= n0 else np.concatenate(
        [np.arange(n0)] * (n_lines // n0) + [rng.choice(n0, n_lines % n0, replace=False)])
    w = np.asarray(ll.wavelength, float)[idx]
    span = hi - lo
    w = lo + np.mod(w - w.min() + rng.uniform(0, 0.05, w.size) * (np.arange(w.size) >= n0),
                    span)
    order = np.argsort(w)
    fields = ("log_gf", "species_index", "E_lower", "gamma_rad", "gamma_stark", "vdw_kind",
              "vdw_1", "vdw_2")
    vals = [jnp.asarray(w[order])] + [getattr(ll, f)[idx[order]] for f in fields]
    return eqx.tree_at(lambda x: [x.wavelength] + [getattr(x, f) for f in fields], ll, vals)


def scaling_point(kind: str, value: int) -> dict:
    import warnings

    from jaxstro.synth.synthesize import default_line_windows, synthesize

    if kind == "lines":
        atm, A, wl = _setup(5000.0, 5100.0)
        ll = _galah_mapped(value, wl[0] - 2.0, wl[-1] + 2.0)
    else:
        hi = {1001: 5010.0, 10001: 5100.0, 100001: 6000.0}[value]
        atm, A, wl = _setup(5000.0, hi)
        ll = _ges().window(wl[0] - 5.0, wl[-1] + 5.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # species without densities (GALAH molecules)
        first, first_cpu, _ = _clock(synthesize, atm, ll, A, wl)
        e2e = min(_clock(synthesize, atm, ll, A, wl) for _ in range(2))
        win = default_line_windows(atm, ll, A, wl, 1.0)
        reuse = min(_clock(synthesize, atm, ll, A, wl, line_windows=win) for _ in range(2))
    return {"kind": kind, "value": value, "n_wavelengths": int(wl.size), "lines_given": len(ll),
            "lines_kept": win.n_lines,
            "profile_evaluations_M": 56 * sum(win.n_evaluations) / 1e6,
            "first_call_wall_s": first, "end_to_end_wall_s": e2e[0], "end_to_end_cpu_s": e2e[1],
            "windows_reused_wall_s": reuse[0], "windows_reused_cpu_s": reuse[1],
            "peak_rss_mb": peak_rss_mb(), "device_memory": _device_memory()}


def scaling(quick: bool) -> list[dict]:
    points = [("lines", 1000), ("lines", 10_000), ("lines", 100_000), ("lines", 1_000_000),
              ("pixels", 1001), ("pixels", 10001), ("pixels", 100001)]
    if quick:
        points = [("lines", 1000), ("pixels", 1001)]
    out = []
    for kind, value in points:
        proc = subprocess.run([sys.executable, "-m", "benchmarks.synth_lines", "--point", kind,
                               str(value)], capture_output=True, text=True)
        if proc.returncode != 0:
            out.append({"kind": kind, "value": value, "error": proc.stderr[-2000:]})
            continue
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"{kind}={value}: {res}", flush=True)
        out.append(res)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--scaling", action="store_true")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--point", nargs=2, metavar=("KIND", "VALUE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.point:
        print(json.dumps(scaling_point(args.point[0], int(args.point[1])), default=float))
        return
    res = main_comparison(2 if args.quick else args.repeats, args.quick)
    ts = res["turbospectrum"] or {}
    rows = [
        {"code": "jaxstro synthesize, end to end", "wall_s": res["end_to_end_wall_s"],
         "cpu_s": res["end_to_end_cpu_s"], "first_call_s": res["first_call_wall_s"]},
        {"code": "jaxstro synthesize, windows reused", "wall_s": res["windows_reused_wall_s"],
         "cpu_s": res["windows_reused_cpu_s"], "first_call_s": None},
        {"code": "Turbospectrum babsma+bsyn", "wall_s": ts.get("babsma_plus_bsyn_wall_s"),
         "cpu_s": ts.get("babsma_plus_bsyn_cpu_s"), "first_call_s": None},
    ]
    extra = {k: v for k, v in res.items()}
    if args.scaling:
        extra["scaling"] = scaling(args.quick)
    print(json.dumps({k: res[k] for k in ("ratio", "stages_wall_s", "peak_rss_mb")
                      if k in res}, indent=1, default=float))
    record("synth_lines" + ("_quick" if args.quick else ""), rows, **extra)


if __name__ == "__main__":
    main()
