"""Benchmark: continuum-only synthesis of the MARCS Sun at 10,000 wavelengths (3000-15000 Å),
jaxstro against Turbospectrum on the same model, grid and abundances in the same run.

jaxstro: ``synthesize(atm, None, A_X, wavelengths, electrons=HoldElectronPressure())`` (chemical
equilibrium in every layer at the model's T and P_e, continuum opacity, plane-parallel transfer
with 10 angles), jitted; first call (compile) and steady-state wall times. Peer: Turbospectrum
v20.1 ``babsma`` (continuous opacities) + ``bsyn`` (transfer, no lines) on the same model, the
same 10,000 air wavelengths (3000 + 1.2 j Å; jaxstro gets their vacuum equivalents), pure LTE
(S = B, as jaxstro), GAS2007 abundances; run here when ``TURBOSPECTRUM_DIR`` points to a build
(CPU seconds of the child processes, min over repeats), otherwise the stored timing and the stored
10 Å reference are used and labelled so. Besides the times the JSON records the agreement of the
two continua (jaxstro / Turbospectrum - 1, by band). Wall times on a shared machine are noisy:
compare the two codes only within one run.

Run: ``python -m benchmarks.synth_continuum [--quick]`` from the repository root (results in
``benchmarks/results/synth_continuum.json``); on a GPU machine the same script records the GPU
timing of jaxstro (``synth_continuum.gpu.json``; Turbospectrum stays on the CPU).
"""

from __future__ import annotations

import argparse

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks._timing import record, timeit  # noqa: E402

BANDS = ((3000, 3500), (3500, 4000), (4000, 4300), (4300, 7000), (7000, 10000), (10000, 15000.1))


def air_to_vacuum(wl_air):
    """Air -> vacuum [Å] (Morton 2000)."""
    s2 = (1e4 / wl_air) ** 2
    return wl_air * (1 + 8.34254e-5 + 2.406147e-2 / (130 - s2) + 1.5998e-4 / (38.9 - s2))


def agreement(wl_air, ours, theirs, skip=None) -> dict:
    """(ours / theirs - 1) by band: min, max, median (in per cent), and over 4000-15000 Å."""
    r = np.asarray(ours, float) / np.asarray(theirs, float) - 1
    ok = np.ones(r.shape, bool) if skip is None else ~skip
    out = {}
    for lo, hi in BANDS + ((4000, 15000.1),):
        m = ok & (wl_air >= lo) & (wl_air < hi)
        if m.any():
            out[f"{lo:.0f}-{min(hi, 15000):.0f}"] = {
                "min_pct": float(100 * r[m].min()), "max_pct": float(100 * r[m].max()),
                "median_pct": float(100 * np.median(r[m])), "n": int(m.sum())}  # fmt: skip
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true", help="100 wavelengths, 1 repeat (smoke run)")
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args(argv)

    from benchmarks.peers import turbospectrum as ts
    from jaxstro.data import locate
    from jaxstro.synth.abundances import format_abundances
    from jaxstro.synth.atmosphere import read_marcs
    from jaxstro.synth.statmech import HoldElectronPressure
    from jaxstro.synth.synthesize import (
        _default_continuum_data,
        _default_equilibrium_data,
        synthesize,
    )

    n_wl = 100 if args.quick else 10_000
    step = 1.2 * 10_000 / n_wl
    repeats = 1 if args.quick else args.repeats
    model = str(locate("marcs_sun"))
    atm = read_marcs(model)
    A = format_abundances(0.0, mixture="grevesse2007")
    wl_air = 3000.0 + step * np.arange(n_wl)
    wl = jnp.asarray(air_to_vacuum(wl_air))
    _default_continuum_data(), _default_equilibrium_data()  # table loading is not timed
    hold = HoldElectronPressure()

    def run(w):
        return synthesize(atm, None, A, w, electrons=hold).continuum

    t = timeit(run, wl, repeats=repeats)
    ours = np.asarray(run(wl))
    rows = [{
        "code": "jaxstro synthesize (continuum)",
        "device": jax.default_backend(),
        "n_wavelengths": n_wl,
        "first_call_s": t["first_call_s"],
        "min_s": t["min_s"],
        "median_s": t["median_s"],
        "source": "measured (wall s)",
    }]  # fmt: skip
    extra: dict = {"jaxstro_timing": t}
    build = ts.find_build()
    if build is not None:
        s = ts.Settings(model=model, lambda_min=float(wl_air[0]), lambda_max=float(wl_air[-1]),
                        step=step, vmic=1.0, pure_lte=True)  # fmt: skip
        runs = [ts.run(s, build=build) for _ in range(1 if args.quick else 3)]
        cpu = min(r.cpu_s["babsma"] + r.cpu_s["bsyn"] for r in runs)
        babsma = min(r.cpu_s["babsma"] for r in runs)
        res = runs[0]
        used = res.abundances
        A_ts = np.asarray(A).copy()
        for z, a in used.items():
            A_ts[z - 1] = a
        if np.max(np.abs(A_ts - np.asarray(A))) > 1e-6:  # compare on Turbospectrum's own A(X)
            ours = np.asarray(synthesize(atm, None, jnp.asarray(A_ts), wl,
                                         electrons=hold).continuum)  # fmt: skip
        rows.append({
            "code": "Turbospectrum babsma + bsyn",
            "device": "cpu",
            "n_wavelengths": int(res.wavelength.size),
            "first_call_s": None,
            "min_s": cpu,
            "median_s": None,
            "source": f"measured in this run (CPU s; babsma {babsma:.2f} s)",
        })  # fmt: skip
        extra["turbospectrum"] = {
            "source": "measured", "build": str(build.babsma.parent), "repeats": len(runs),
            "cpu_s": [r.cpu_s for r in runs], "wall_s": [r.wall_s for r in runs],
            "settings": ts.settings_dict(s)}  # fmt: skip
        extra["agreement_vs_turbospectrum"] = agreement(wl_air, ours, res.continuum,
                                                        ts.near_hydrogen_edge(res))
        extra["speed_ratio_turbospectrum_cpu_over_jaxstro_min"] = cpu / t["min_s"]
    else:
        stored = ts.stored_timing()
        w = stored["workloads"]["continuum_10000"]
        rows.append({
            "code": "Turbospectrum babsma + bsyn",
            "device": "cpu",
            "n_wavelengths": w["n_wavelengths"],
            "first_call_s": None,
            "min_s": w["total_cpu_s"],
            "median_s": None,
            "source": f"stored (no TURBOSPECTRUM_DIR; CPU s; babsma {w['babsma_cpu_s']:.2f} s)",
        })  # fmt: skip
        extra["turbospectrum"] = {"source": "stored", **stored}
        arrays, _ = ts.load_reference("continuum_marcs_sun")
        ref_wl = arrays["wavelength"]
        ours10 = np.asarray(synthesize(atm, None, A, jnp.asarray(air_to_vacuum(ref_wl)),
                                       electrons=hold).continuum)  # fmt: skip
        extra["agreement_vs_turbospectrum"] = {
            "source": "stored reference continuum_marcs_sun (10 Å grid)",
            **agreement(ref_wl, ours10, arrays["continuum_pure_lte"],
                        arrays["near_hydrogen_edge"])}  # fmt: skip
    for band, a in extra["agreement_vs_turbospectrum"].items():
        if isinstance(a, dict):
            print(f"  jaxstro/Turbospectrum - 1, {band} Å: {a['min_pct']:+.2f} .. "
                  f"{a['max_pct']:+.2f} % (median {a['median_pct']:+.2f} %)")
    record("synth_continuum" + ("_quick" if args.quick else ""), rows, **extra)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(argv=None))
