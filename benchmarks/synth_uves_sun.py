"""The UVES solar spectrum against jaxstro.synth (issue 5, acceptance 2).

Model: the MARCS solar model (``marcs_sun``), the Gaia-ESO line list (``gaiaeso_linelist``,
read with the ABO tables) plus hydrogen lines, Grevesse et al. (2007) abundances, vmic = 1.0 km/s,
synthesised at 0.01 Å on a vacuum grid covering the observed air window +- 3 Å. Observation
(``jaxstro.synth.observe``): Gray rotation with vsini = 1.6 km/s fixed (degenerate with
macroturbulence at this resolution), radial-tangential macroturbulence, Gaussian LSF, RV and a
quadratic continuum ratio, (R, vmac, rv) fitted by least squares. Then: the normalised rms of
observed - model over every pixel of the window, and the residual features deeper than 3 %
(``residual_features``), each matched with the Gaia-ESO lines within 0.05 Å (air).

    python -m benchmarks.synth_uves_sun            # 5000-5100 Å (10,001 pixels)
    python -m benchmarks.synth_uves_sun --quick    # 5014-5024 Å

Writes ``benchmarks/results/synth_uves_sun[_quick].json`` (fit, rms, features, timings).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

WINDOW = (5000.0, 5100.0)
QUICK_WINDOW = (5014.0, 5024.0)
VSINI_SUN = 1.6  # km/s (solar equatorial 2.0 km/s x pi/4 for the disc-averaged sin i)
VMIC_SUN = 1.0  # km/s, as in the Turbospectrum solar references
THRESHOLD = 0.03


def _ges_linelist():
    from jaxstro.data import locate
    from jaxstro.synth.lines import broadening as br
    from jaxstro.synth.lines import read_linelist

    return read_linelist(locate("gaiaeso_linelist"), abo_tables=br.load_abo_tables())


def _galah_linelist():
    from jaxstro.data import locate
    from jaxstro.synth.lines import read_linelist

    return read_linelist(locate("galah_dr3_linelist"))


LINELISTS = {"ges": _ges_linelist, "galah": _galah_linelist}


def _line_offsets(wo, fo, model, min_depth=0.25, half=0.06):
    """Centre offsets (observed - model, km/s) of isolated model lines deeper than ``min_depth``:
    parabola through the 3 pixels around each minimum of both spectra."""
    d = 1.0 - model
    i = np.flatnonzero((d[1:-1] > min_depth) & (d[1:-1] >= d[:-2]) & (d[1:-1] > d[2:])) + 1
    out = []
    step = wo[1] - wo[0]
    k = int(round(half / step))
    for j in i:
        if j < k + 1 or j > wo.size - k - 2:
            continue
        seg_o = fo[j - k:j + k + 1]
        jo = j - k + int(np.argmin(seg_o))
        if abs(jo - j) >= k:
            continue

        def vertex(y, m):
            a, b, c = y[m - 1], y[m], y[m + 1]
            den = a - 2 * b + c
            return wo[m] + (0.5 * (a - c) / den * step if den != 0 else 0.0)

        out.append((wo[j], (vertex(fo, jo) - vertex(model, j)) / wo[j] * 299_792.458))
    return np.array(out).reshape(-1, 2)


def compare_uves_sun(lo: float, hi: float, *, linelist=None, step: float = 0.01,
                     threshold: float = THRESHOLD) -> dict:
    """Synthesise the Sun over [lo, hi] Å (air), fit the observation layer to the UVES spectrum
    and list the residual features. Returns a dict (see module docstring)."""
    import jax.numpy as jnp

    from jaxstro.data import locate
    from jaxstro.spectra import air_to_vacuum, read_spectrum, vacuum_to_air
    from jaxstro.synth import read_marcs, solar_abundances, synthesize
    from jaxstro.synth.observe import fit_broadening, observation_grid, residual_features

    obs = read_spectrum("uves_sun")
    w_all, f_all = np.asarray(obs.wavelength), np.asarray(obs.flux)
    sel = (w_all >= lo - 1e-6) & (w_all <= hi + 1e-6)
    wo, fo = w_all[sel], f_all[sel]
    ll = _ges_linelist() if linelist is None else linelist
    w_air = np.arange(lo - 3.0, hi + 3.0 + step / 2, step)
    w_vac = np.asarray(air_to_vacuum(jnp.asarray(w_air)))
    ll_win = ll.window(w_vac[0] - 5.0, w_vac[-1] + 5.0)
    atm = read_marcs(locate("marcs_sun"))
    t0 = time.perf_counter()
    sp = synthesize(atm, ll_win, jnp.asarray(solar_abundances("grevesse2007")),
                    jnp.asarray(w_vac), vmic=VMIC_SUN)
    norm = np.asarray(sp.normalized)
    t_synth = time.perf_counter() - t0
    grid = observation_grid(w_vac, wo, medium="air", min_R=20_000.0, max_vmac=10.0,
                            max_vsini=5.0)
    t0 = time.perf_counter()
    fit = fit_broadening(grid, norm, fo, init={"R": 50_000.0, "vmac": 3.0, "vsini": VSINI_SUN,
                                               "rv": 0.0}, free=("R", "vmac", "rv"))
    t_fit = time.perf_counter() - t0
    model = np.asarray(fit["model"])
    feats = residual_features(wo, fo, model, threshold=threshold)
    # Gaia-ESO lines near each feature (air wavelengths)
    lw = np.asarray(vacuum_to_air(ll_win.wavelength))
    species = np.array(ll_win.species_of())
    lgf, elo = np.asarray(ll_win.log_gf), np.asarray(ll_win.E_lower)
    for f in feats:
        near = np.flatnonzero(np.abs(lw - f["wavelength"]) <= 0.05)
        # crude strength order (theta = 5040/T ~ 1), atoms before molecules
        mol = np.array([len(species[i].split()) == 1 for i in near], bool)
        near = near[np.lexsort((-(lgf[near] - elo[near]), mol))][:3]
        f["ges_lines"] = [f"{species[i]} {lw[i]:.3f} loggf {lgf[i]:+.2f} E {elo[i]:.2f}"
                          for i in near]
    offs = _line_offsets(wo, fo, model)
    r = fo - model
    masked = np.ones(wo.size, bool)
    for f in feats:
        masked &= np.abs(wo - f["wavelength"]) > max(0.15, 0.5 * f["width"] + 0.05)
    return {
        "window_air": [lo, hi], "n_pixels": int(wo.size), "n_lines": len(ll_win),
        "R": fit["R"], "vmac": fit["vmac"], "vsini": fit["vsini"], "rv": fit["rv"],
        "rms": float(np.sqrt(np.mean(r**2))), "median_abs": float(np.median(np.abs(r))),
        "rms_features_masked": float(np.sqrt(np.mean(r[masked] ** 2))),
        "fraction_masked": float(1 - masked.mean()),
        "n_features": len(feats),
        "n_missing": sum(f["kind"] == "missing" for f in feats),
        "n_too_weak": sum(f["kind"] == "too weak" for f in feats),
        "n_too_strong": sum(f["kind"] == "too strong" for f in feats),
        "n_offset_lines": int(len(offs)),
        "line_offset_median_kms": float(np.median(offs[:, 1])) if len(offs) else None,
        "line_offset_mad_kms": float(1.4826 * np.median(np.abs(offs[:, 1] - np.median(
            offs[:, 1])))) if len(offs) else None,
        "line_offset_slope_kms_per_100A": float(np.polyfit(offs[:, 0], offs[:, 1], 1)[0] * 100)
        if len(offs) > 2 else None,
        "features": feats, "synth_s": t_synth, "fit_s": t_fit, "fit_steps": fit["n_steps"],
        "wavelength": wo, "observed": fo, "model": model,
    }


def main(argv=None) -> None:
    import jax

    jax.config.update("jax_enable_x64", True)
    from benchmarks._timing import record

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_WINDOW} Å only")
    ap.add_argument("--linelist", choices=sorted(LINELISTS), default="ges")
    ap.add_argument("--window", type=float, nargs=2, default=None, help="air Å")
    args = ap.parse_args(argv)
    lo, hi = args.window or (QUICK_WINDOW if args.quick else WINDOW)
    res = compare_uves_sun(lo, hi, linelist=LINELISTS[args.linelist]())
    summary = {k: v for k, v in res.items() if k not in ("wavelength", "observed", "model",
                                                          "features")}
    print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in summary.items()})
    rows = [{"wavelength_air": f["wavelength"], "residual": f["residual"], "kind": f["kind"],
             "model_depth": f["model_depth"], "ges": "; ".join(f["ges_lines"][:2]) or "-"}
            for f in res["features"]]
    name = "synth_uves_sun_quick" if args.quick else "synth_uves_sun"
    if args.linelist != "ges" or args.window:
        name = f"synth_uves_sun_{args.linelist}_{lo:.0f}_{hi:.0f}"
    lname = {"ges": "Gaia-ESO lines + ABO tables", "galah": "GALAH DR3 lines (Korg HDF5)"}
    record(name, rows, summary=summary, linelist=args.linelist,
           model=f"MARCS sun.mod, {lname[args.linelist]}, H lines, Grevesse+2007, "
                 f"vmic {VMIC_SUN}, vsini {VSINI_SUN} fixed; R, vmac, rv, quadratic "
                 "continuum ratio fitted")


if __name__ == "__main__":
    main()
