"""The UVES solar spectrum against jaxstro.synth (issue 5, acceptance 2).

Model: the MARCS solar model (``marcs_sun``), the Gaia-ESO line list (``gaiaeso_linelist``,
read with the ABO tables) plus hydrogen lines, Grevesse et al. (2007) abundances, vmic = 1.0 km/s,
synthesised at 0.01 Å on a vacuum grid covering the observed air window +- 3 Å. Observation
(``jaxstro.synth.observe``): Gray rotation with vsini = 1.6 km/s fixed (degenerate with
macroturbulence at this resolution), radial-tangential macroturbulence, Gaussian LSF, RV and a
quadratic continuum ratio, (R, vmac, rv) fitted by least squares. Then: the normalised rms of
observed - model over every pixel of the window, and the residual features deeper than 3 %
(``residual_features``), each matched with the Gaia-ESO lines within 0.05 Å (air), strongest
first by a weak-line strength proxy (``line_strength_proxy``).

Diagnostics (``diagnose``; the ``diagnostics`` section of the JSON), all from the same run:

- ``reader``: lines and species in the window, ionisation stages, same-species pairs within
  0.005 Å and 0.005 eV (``duplicate_lines``) with the strength proxy of the weaker member; on
  the raw Gaia-ESO file (``ts_list_checks``): isotope-block rows, isotope rows repeating an
  element-block line, lines listed both whole and split into components;
- ``wavelength_scale``: centre offsets of isolated model lines after the fitted RV (an air /
  vacuum mix-up would show as the ~84 km/s difference also listed);
- ``residual_budget``: where the sum of squared residuals sits (by |residual| and sign), total
  equivalent widths, the fitted continuum-ratio range;
- ``broadening_valley``: rms at fixed R (60,000-300,000) with the best vmac on a 0.25 km/s grid
  (rv fixed), i.e. how well the data constrain R;
- ``isolated_lines``: observed minus model depth at list lines that dominate +-0.12 Å, by
  species and E_low;
- ``top_features``: the 20 largest features with the list line dominating the model there
  (``attribute_features``);
- ``rms_masked_by_kind``, ``rms_missing_masked``: rms with the features of each kind masked
  (+-max(0.15, width/2 + 0.05) Å) and the masked fraction; ``missing_lines``: every feature with
  no model line (wavelength, observed depth 1 - F, residual, width);
- ``turbospectrum`` (when ``TURBOSPECTRUM_DIR`` points at a build): Turbospectrum on the same
  model, list, H lines and vmic, unbroadened, against our synthesis over the window and at the
  top features; ``implied_loggf_offsets``: for the 8 largest "too strong" features, the log gf
  change of the dominant line (Turbospectrum re-run at -0.5 ... -2 dex, our fitted broadening
  and continuum) at which the model meets the observed flux (diagnostic only; nothing is fed
  back into the model);
- ``abundances``: rms at the fitted broadening with Asplund et al. (2009) instead.

Measured 5000-5100 Å (2026-12-07, 2 shared cores; benchmarks/results/synth_uves_sun.json):
rms 0.0493 (goal 0.02 NOT met), median |residual| 0.016; fit R 299,870 = the 300,000 upper bound,
vmac 4.62, rv +0.29 km/s. What the diagnostics of that run say:

- R is not constrained: the best rms at fixed R = 60k, 80k, 100k, 150k, 300k is 0.04928,
  0.04918, 0.04909, 0.04900, 0.04894 (vmac 2.5-5.25): the bound is the end of a flat valley.
- Not the solver: Turbospectrum on the same inputs differs from our unbroadened synthesis by
  0.0020 rms (max 0.022) over the window and <= 0.0065 at the 20 largest features.
- Not the wavelength scale: isolated-line offsets after the fitted RV -0.006 km/s median,
  0.03 km/s per 100 Å (an air/vacuum mix-up would be 84 km/s).
- Not the reader: 2,985 lines of 84 species (stages I, II) in the line window; 79 same-species
  pairs within 0.005 Å / 0.005 eV, all but one with the weaker member below the -2.5 proxy floor;
  the one is the 63Cu / 65Cu components of Cu I 5105.5 (isotope blocks, outside the window). In the
  raw file over the line window: 42 isotope-block rows (Cu I 63/65, Nd II 142-150), none repeating
  an element-block line, no line listed both whole and split into components. Grevesse+2007 ->
  Asplund+2009: rms 0.0512 (worse).
- The line list: 86 % of the summed squared residual is in the 16 % of pixels with |residual| >
  0.05, 61 % where the model is too deep. Isolated lines: Fe I E_low < 2 eV (6 lines) and 2-4 eV
  (21) match in depth (median +0.019, +0.004), Ti I < 2 eV (8) +0.018, but 37 % of Fe I lines with
  E_low > 4 eV (27) and 26 % of Ni I 2-4 eV (19) are > 0.05 too deep, and the three isolated Cr I
  quintet-septet lines (a5S-z7D*, a5D-y7P*, E_low ~1 eV) 0.145 too deep. The 20 largest features:
  13 list lines too strong (11 Fe I, E_low 2.99-4.56 eV, 2 Cr I), 5 solar lines with no list line
  within 0.06 Å (5016.88, 5097.49, 5036.27 Å, 0.37-0.40 deep; 5013.92; 5047.94 on a Ni I wing), 2
  list lines too weak (Ni I 5088.956, Fe I 5041.448). The log gf change at which Turbospectrum +
  our broadening meet the observed flux at the 8 largest too-strong lines: Fe I 5051.276, 5022.789,
  5021.940 < -2 dex (no solar line there), 5075.172 -1.43, 5002.583 -1.09, 5010.270 -0.93, 5041.849
  -0.93, 5015.315 -0.79.
- Masking: with the 50 "missing" features masked the rms is 0.0464 (19 % of pixels masked),
  with the "too strong" ones 0.0370 (34 %), with all 177 features 0.0135 (59 %).

    python -m benchmarks.synth_uves_sun            # 5000-5100 Å (10,001 pixels)
    python -m benchmarks.synth_uves_sun --quick    # 5014-5024 Å

Writes ``benchmarks/results/synth_uves_sun[_quick].json`` (fit, rms, features, diagnostics,
timings).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

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
                     threshold: float = THRESHOLD, abundances: str = "grevesse2007") -> dict:
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
    sp = synthesize(atm, ll_win, jnp.asarray(solar_abundances(abundances)),
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
    # list lines near each feature (air wavelengths), strongest first by the weak-line proxy
    lw = np.asarray(vacuum_to_air(ll_win.wavelength))
    species = np.array(ll_win.species_of())
    lgf, elo = np.asarray(ll_win.log_gf), np.asarray(ll_win.E_lower)
    strength = line_strength_proxy(ll_win, abundances)
    for f in feats:
        near = np.flatnonzero(np.abs(lw - f["wavelength"]) <= 0.05)
        near = near[np.argsort(-strength[near])][:3]
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
        "_synth": {"w_air": w_air, "w_vac": w_vac, "normalized": norm, "linelist": ll_win,
                   "strength": strength,
                   "grid": grid, "continuum": np.asarray(fit["continuum"])},
    }


# ------------------------------------------------------------------------------- diagnostics
STRENGTH_TAU = 0.3  # layer (tau_ref) of the weak-line strength proxy
MIN_LOG_STRENGTH = -2.5  # list lines weaker than this (proxy, log10 Å) count as "no line"
N_ATTRIBUTED = 20


def line_strength_proxy(linelist, abundances: str = "grevesse2007",
                        tau: float = STRENGTH_TAU) -> np.ndarray:
    """log10 of each line's integrated opacity over the continuum opacity at 5050 Å in the MARCS
    solar layer with tau_ref nearest ``tau`` [log10 Å]: the weak-line equivalent width up to a
    factor of order one (a line with proxy -1 is ~0.1 Å x that factor; < -2.5 is negligible)."""
    import jax.numpy as jnp

    from jaxstro.data import locate
    from jaxstro.synth import read_marcs, solar_abundances
    from jaxstro.synth.continuum import load_continuum_data
    from jaxstro.synth.lines.absorption import species_state, weak_line_strength
    from jaxstro.synth.statmech import load_equilibrium_data
    from jaxstro.synth.synthesize import layer_opacities

    atm = read_marcs(locate("marcs_sun"))
    eq = load_equilibrium_data()
    _, n, a_c, _ = layer_opacities(atm, jnp.asarray(solar_abundances(abundances)),
                                   jnp.asarray([5050e-8]), load_continuum_data(), eq)
    state = species_state(linelist.species, n, atm.temperature, eq)
    k = int(np.argmin(np.abs(np.log10(np.asarray(atm.tau_ref)) - np.log10(tau))))
    s = np.asarray(weak_line_strength(linelist, atm.temperature, state))[:, k]
    return np.log10(np.maximum(s / float(np.asarray(a_c)[k, 0]) * 1e8, 1e-300))


def duplicate_lines(linelist, strength, tol_wl: float = 0.005, tol_e: float = 0.005) -> dict:
    """Pairs of lines of the same species within ``tol_wl`` Å and ``tol_e`` eV of E_low (the
    reader keeps every row; a duplicate would double a line's opacity)."""
    w = np.asarray(linelist.wavelength)
    e = np.asarray(linelist.E_lower)
    sp = np.asarray(linelist.species_index)
    pairs = []
    for i in range(w.size):
        j = i + 1
        while j < w.size and w[j] - w[i] <= tol_wl:
            if sp[j] == sp[i] and abs(e[j] - e[i]) <= tol_e:
                pairs.append((i, j))
            j += 1
    weaker = np.array([min(strength[i], strength[j]) for i, j in pairs]) if pairs else np.array([])
    names = linelist.species_of()
    strong = [f"{names[i]} {w[i]:.3f}/{w[j]:.3f} (vac) E {e[i]:.2f} proxies "
              f"{strength[i]:+.2f}/{strength[j]:+.2f}" for i, j in pairs
              if min(strength[i], strength[j]) > MIN_LOG_STRENGTH]
    return {"n_pairs": len(pairs),
            "n_pairs_both_above_proxy_min": int(np.sum(weaker > MIN_LOG_STRENGTH)),
            "max_weaker_proxy": float(weaker.max()) if weaker.size else None,
            "pairs_both_above_proxy_min": strong}


def attribute_features(feats, lw_air, species, log_gf, e_low, strength, n=N_ATTRIBUTED,
                       half: float = 0.06) -> list[dict]:
    """The ``n`` largest residual features with the list line that dominates the model there
    (largest strength proxy within ``half`` Å, air) and what the residual says about it."""
    out = []
    for f in feats[:n]:
        j, wing = None, False
        for h in (half, 2.5 * half):  # then the wings of stronger lines
            near = np.flatnonzero(np.abs(lw_air - f["wavelength"]) <= h)
            near = near[strength[near] > MIN_LOG_STRENGTH]
            if near.size:
                j, wing = near[np.argmax(strength[near])], h > half
                break
        line = (f"{species[j]} {lw_air[j]:.3f} E {e_low[j]:.2f} loggf {log_gf[j]:+.2f} "
                f"proxy {strength[j]:+.2f}") if j is not None else None
        depths = f"observed depth {1 - f['observed']:.2f}, model {1 - f['model']:.2f}"
        if j is None:
            what = (f"absorption missing from the list: no list line with proxy > "
                    f"{MIN_LOG_STRENGTH} within {2.5 * half:.2f} Å ({depths})")
        elif wing and f["kind"] != "too strong":
            what = (f"absorption missing from the list: no list line with proxy > "
                    f"{MIN_LOG_STRENGTH} within {half} Å, on the wing of {line} ({depths})")
        elif f["kind"] == "too strong":
            what = (f"{'wing of a ' if wing else ''}list line stronger than the Sun shows "
                    f"({depths})")
        else:
            what = f"list line weaker than the Sun shows ({depths})"
        out.append({"wavelength_air": f["wavelength"], "residual": f["residual"],
                    "kind": f["kind"], "dominant_list_line": line, "attribution": what})
    return out


def isolated_line_stats(wo, fo, model, lw_air, species, e_low, strength, rv,
                        min_strength: float = -1.5, half: float = 0.12) -> dict:
    """Observed minus model depth at list lines with proxy > ``min_strength`` that dominate
    +-``half`` Å (no other line within 1 dex of their proxy there), grouped by species and E_low
    (< 2, 2-4, > 4 eV)."""
    groups: dict[str, list[float]] = {}
    lo, hi = wo[0] + 0.2, wo[-1] - 0.2
    for j in np.flatnonzero((strength > min_strength) & (lw_air > lo) & (lw_air < hi)):
        near = np.flatnonzero(np.abs(lw_air - lw_air[j]) < half)
        if np.any(strength[near[near != j]] > strength[j] - 1.0):
            continue
        i = int(np.argmin(np.abs(wo - lw_air[j] * (1 + rv / 299_792.458))))
        d_mod, d_obs = 1 - model[i - 2:i + 3].min(), 1 - fo[i - 2:i + 3].min()
        band = "E<2" if e_low[j] < 2 else ("E 2-4" if e_low[j] < 4 else "E>4")
        groups.setdefault(f"{species[j]} {band}", []).append(d_obs - d_mod)
    return {k: {"n": len(v), "median_obs_minus_model_depth": float(np.median(v)),
                "fraction_model_deeper_by_0.05": float(np.mean(np.array(v) < -0.05)),
                "fraction_model_shallower_by_0.05": float(np.mean(np.array(v) > 0.05))}
            for k, v in sorted(groups.items(), key=lambda kv: -len(kv[1]))}


def broadening_valley(grid, normalized, wo, fo, rv, Rs=(60_000.0, 80_000.0, 100_000.0,
                      150_000.0, 300_000.0), vmacs=np.arange(1.0, 6.01, 0.25)) -> list[dict]:
    """rms of observed - model (quadratic continuum ratio with 3-sigma clipping re-fitted) at
    fixed R over a vmac grid (vsini, rv fixed): the best vmac for each R."""
    import jax
    import jax.numpy as jnp

    from jaxstro.synth.observe import fit_continuum_ratio, observe

    f, obs = jnp.asarray(normalized), jnp.asarray(fo)

    @jax.jit
    def rms(R, vmac):
        m = observe(grid, f, R=R, vmac=vmac, vsini=VSINI_SUN, rv=rv)
        c, _, _ = fit_continuum_ratio(grid.obs_wavelength, obs, m, None, order=2, n_iter=5)
        return jnp.sqrt(jnp.mean((obs - m * c) ** 2))

    out = []
    for R in Rs:
        vals = [float(rms(R, v)) for v in vmacs]
        k = int(np.argmin(vals))
        out.append({"R": float(R), "best_vmac": float(vmacs[k]), "rms": vals[k]})
    return out


def feature_mask(wo, feats, kinds=None) -> np.ndarray:
    """True off the features (of ``kinds``; all when None): +-max(0.15, width/2 + 0.05) Å."""
    keep = np.ones(wo.size, bool)
    for f in feats:
        if kinds is None or f["kind"] in kinds:
            keep &= np.abs(wo - f["wavelength"]) > max(0.15, 0.5 * f["width"] + 0.05)
    return keep


def turbospectrum_check(lo, hi, w_air, normalized, points) -> dict | None:
    """Turbospectrum (babsma + bsyn, same MARCS model, GES list, APOGEE H lines, vmic, Grevesse
    2007) on the synthesis grid's air wavelengths: normalised-flux differences before any
    broadening, over the window and at ``points`` [Å, air]. None without a build."""
    from jaxstro.data import locate

    from .peers import turbospectrum as ts

    if ts.find_build() is None:
        return None
    s = ts.Settings(model=str(locate("marcs_sun")), lambda_min=float(w_air[0]),
                    lambda_max=float(w_air[-1]), step=float(w_air[1] - w_air[0]),
                    linelists=(str(locate("gaiaeso_linelist")),
                               str(locate("apogee_dr17_hlines"))), vmic=VMIC_SUN)
    r = ts.run(s)
    t = np.interp(w_air, r.wavelength, r.normalised)
    sel = (w_air >= lo) & (w_air <= hi)
    d = normalized[sel] - t[sel]
    at = [{"wavelength_air": float(p), "ours": float(np.interp(p, w_air, normalized)),
           "turbospectrum": float(np.interp(p, w_air, t))} for p in points]
    return {"rms_ours_minus_ts": float(np.sqrt(np.mean(d**2))),
            "max_abs_ours_minus_ts": float(np.max(np.abs(d))),
            "max_abs_at_top_features": float(max(abs(a["ours"] - a["turbospectrum"])
                                                 for a in at)) if at else None,
            "at_top_features": at, "n_lines_ts": r.n_lines}


def _ts_blocks(path):
    """The species blocks of a Turbospectrum line list: (header code, stage, name line, rows)."""
    from jaxstro.synth.lines._readers import _TS_HEADER

    text = Path(path).read_text(errors="replace").splitlines()
    out, i = [], 0
    while i < len(text):
        m = _TS_HEADER.match(text[i])
        n = int(m.group(3))
        out.append((m.group(1), m.group(2), text[i + 1], text[i + 2:i + 2 + n]))
        i += 2 + n
    return out


def _write_ts_sublist(blocks, path, lo, hi, target=None, dlog=0.0):
    """Rows with lo <= wavelength <= hi [Å, air]; ``target`` = (Z, stage, wavelength) gets
    ``dlog`` added to its log gf (every isotope block of that element and stage)."""
    with open(path, "w") as fh:
        for code, stage, name, rows in blocks:
            keep = []
            for row in rows:
                cols = row.split()
                w = float(cols[0])
                if not lo <= w <= hi:
                    continue
                if (target is not None and int(float(code)) == target[0]
                        and int(stage) == target[1] and abs(w - target[2]) < 6e-4):
                    cols[2] = f"{float(cols[2]) + dlog:.3f}"
                    row = "  " + "  ".join(cols[:6]) + "  " + row.split(None, 6)[6]
                keep.append(row)
            if keep:
                fh.write(f"'{code:>8s}            ' {stage:>4s} {len(keep):>9d}\n{name}\n"
                         + "\n".join(keep) + "\n")


def implied_loggf_offsets(res, top, dlogs=(0.0, -0.5, -1.0, -1.5, -2.0), n=8,
                          half: float = 1.5) -> list[dict] | None:
    """For the ``n`` largest "too strong" features of ``top`` (``attribute_features``): the log gf
    offset of the dominant list line at which the model meets the observed flux at the
    feature's pixel. Turbospectrum (same MARCS model, GES list, H lines, vmic) synthesises
    +-``half`` Å with that line's log gf changed by each of ``dlogs``; our observation layer
    applies the fitted R, vmac, vsini, rv and the fitted continuum ratio. A diagnostic of how far
    the listed log gf is from what the Sun shows; nothing here is fed back into the model.
    None without a Turbospectrum build."""
    import tempfile

    import jax.numpy as jnp

    from jaxstro.data import locate
    from jaxstro.spectra import air_to_vacuum
    from jaxstro.synth._elements import ATOMIC_NUMBER
    from jaxstro.synth.observe import observation_grid, observe

    from .peers import turbospectrum as ts

    if ts.find_build() is None:
        return None
    wo, fo = res["wavelength"], res["observed"]
    cont = res["_synth"]["continuum"]
    blocks = _ts_blocks(locate("gaiaeso_linelist"))
    hl = str(locate("apogee_dr17_hlines"))
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        sub = Path(tmp) / "lines"
        for f in [f for f in top if f["kind"] == "too strong" and f["dominant_list_line"]][:n]:
            el, stage, wl = f["dominant_list_line"].split()[:3]
            target = (ATOMIC_NUMBER[el], len(stage), float(wl))
            lo, hi = f["wavelength_air"] - half, f["wavelength_air"] + half
            i = int(np.argmin(np.abs(wo - f["wavelength_air"])))
            resid = []
            for d in dlogs:
                _write_ts_sublist(blocks, sub, lo - 3.0, hi + 3.0, target, d)
                r = ts.run(ts.Settings(model=str(locate("marcs_sun")), lambda_min=lo,
                                       lambda_max=hi, step=0.01, linelists=(str(sub), hl),
                                       vmic=VMIC_SUN))
                sel = np.abs(wo - f["wavelength_air"]) <= half - 0.3
                g = observation_grid(np.asarray(air_to_vacuum(jnp.asarray(r.wavelength))),
                                     wo[sel], medium="air", min_R=20_000.0, max_vmac=10.0,
                                     max_vsini=5.0)
                m = np.asarray(observe(g, jnp.asarray(r.normalised), R=res["R"],
                                       vmac=res["vmac"], vsini=res["vsini"], rv=res["rv"]))
                k = i - int(np.flatnonzero(sel)[0])
                resid.append(float(fo[i] - m[k] * cont[i]))
            rr = np.array(resid)
            if rr[-1] > 0:
                implied = f"< {dlogs[-1]}"
            else:
                implied = float(np.interp(0.0, rr[::-1], np.array(dlogs)[::-1]))
            out.append({"line": f["dominant_list_line"], "wavelength_air": f["wavelength_air"],
                        "dlog_gf": list(dlogs), "observed_minus_model": resid,
                        "implied_dlog_gf": implied})
    return out


def ts_list_checks(path, lo: float, hi: float) -> dict:
    """Checks on the raw Turbospectrum file over [lo, hi] Å (air): rows of isotope blocks
    (``Z.AAA``), isotope-block rows that repeat an element-block (``Z.000``) line (same
    element, stage, E_low within 0.005 eV, wavelength within 0.05 Å: a line listed twice), and
    lines whose log gf equals (within 0.05 dex) the summed gf of >= 2 other rows of the same
    element, stage and E_low (to 0.01 eV) within 0.1 Å (a line listed both whole and split into
    hyperfine components)."""
    rows = []
    for code, stage, _, block in _ts_blocks(path):
        for row in block:
            v = row.split()
            w = float(v[0])
            if lo <= w <= hi:
                rows.append((code, int(float(code)), int(stage), w, float(v[1]), float(v[2])))
    iso = [r for r in rows if not r[0].endswith(".000")]
    elem = [r for r in rows if r[0].endswith(".000")]
    twice = [(a, b) for a in iso for b in elem if (a[1], a[2]) == (b[1], b[2])
             and abs(a[3] - b[3]) < 0.05 and abs(a[4] - b[4]) < 0.005]
    groups: dict[tuple, list] = {}
    for r in rows:
        groups.setdefault((r[1], r[2], round(r[4], 2)), []).append(r)
    whole_and_split = []
    for grp in groups.values():
        for a in grp:
            others = [b for b in grp if b is not a and abs(b[3] - a[3]) < 0.1]
            if len(others) >= 2 and a[5] > -4:
                tot = np.log10(sum(10.0 ** b[5] for b in others))
                if abs(tot - a[5]) < 0.05:
                    whole_and_split.append(f"{a[0]} {a[3]:.3f} loggf {a[5]:+.3f}")
    return {"n_rows": len(rows), "n_isotope_block_rows": len(iso),
            "isotope_blocks": sorted({r[0] for r in iso}),
            "n_isotope_rows_repeating_element_rows": len(twice),
            "lines_listed_whole_and_split": whole_and_split}


def diagnose(res: dict, *, other_abundances: str | None = "asplund2009",
             gaiaeso: bool = True) -> dict:
    """What limits the rms of ``compare_uves_sun``'s result ``res`` (see the module docstring).
    ``gaiaeso``: the synthesis used the Gaia-ESO list (enables the checks on its raw file and
    the Turbospectrum runs, which read it)."""
    from jaxstro.data import locate
    from jaxstro.spectra import vacuum_to_air

    syn = res["_synth"]
    ll = syn["linelist"]
    lo, hi = res["window_air"]
    wo, fo, model = res["wavelength"], res["observed"], res["model"]
    strength = syn["strength"]
    lw = np.asarray(vacuum_to_air(ll.wavelength))
    species = np.array(ll.species_of())
    lgf, elo = np.asarray(ll.log_gf), np.asarray(ll.E_lower)
    feats = res["features"]
    r = fo - model
    out: dict = {}
    out["reader"] = {
        "n_lines_window": len(ll),
        "n_species": len(set(species.tolist())),
        "ion_stages": sorted({s.split()[-1] for s in species.tolist() if " " in s}),
        "duplicates_within_0.005A_same_species_E": duplicate_lines(ll, strength),
        "n_lines_proxy_above_-1": int(np.sum(strength > -1)),
        "n_lines_proxy_above_-2.5": int(np.sum(strength > MIN_LOG_STRENGTH)),
    }
    if gaiaeso:
        out["reader"]["gaiaeso_file"] = ts_list_checks(locate("gaiaeso_linelist"),
                                                      float(syn["w_air"][0]) - 5.0,
                                                      float(syn["w_air"][-1]) + 5.0)
    out["wavelength_scale"] = {
        "line_offset_median_kms_after_rv": res["line_offset_median_kms"],
        "line_offset_slope_kms_per_100A": res["line_offset_slope_kms_per_100A"],
        "air_vacuum_difference_kms": float((np.asarray(ll.wavelength).mean() / lw.mean() - 1)
                                           * 299_792.458),
    }
    out["residual_budget"] = {
        "mean_residual": float(r.mean()),
        "ew_observed_A": float(np.sum(1 - fo) * (wo[1] - wo[0])),
        "ew_model_A": float(np.sum(1 - model) * (wo[1] - wo[0])),
        "share_of_sum_sq_from_positive_residuals": float(np.sum(r[r > 0] ** 2) / np.sum(r**2)),
        **{f"share_of_sum_sq_from_abs_r_above_{t}": float(np.sum(r[np.abs(r) > t] ** 2)
                                                          / np.sum(r**2))
           for t in (0.05, 0.1, 0.2)},
        **{f"fraction_pixels_abs_r_above_{t}": float(np.mean(np.abs(r) > t))
           for t in (0.02, 0.05, 0.1)},
        "continuum_ratio_min_max": [float(syn["continuum"].min()),
                                    float(syn["continuum"].max())],
    }
    out["broadening_valley"] = broadening_valley(syn["grid"], syn["normalized"], wo, fo,
                                                 res["rv"])
    out["isolated_lines"] = isolated_line_stats(wo, fo, model, lw, species, elo, strength,
                                                res["rv"])
    out["top_features"] = attribute_features(feats, lw, species, lgf, elo, strength)
    out["rms_masked_by_kind"] = {}
    for kinds in (("missing",), ("too weak",), ("too strong",), ("missing", "too weak")):
        keep = feature_mask(wo, feats, kinds=kinds)
        out["rms_masked_by_kind"][" + ".join(kinds)] = {
            "rms": float(np.sqrt(np.mean(r[keep] ** 2))), "fraction_masked": float(1 - keep.mean())}
    miss = feature_mask(wo, feats, kinds=("missing",))
    out["rms_missing_masked"] = float(np.sqrt(np.mean(r[miss] ** 2)))
    out["fraction_masked_missing"] = float(1 - miss.mean())
    out["missing_lines"] = [{"wavelength_air": f["wavelength"],
                             "observed_depth": 1 - f["observed"],
                             "residual": f["residual"], "width_A": f["width"]}
                            for f in sorted(feats, key=lambda f: f["wavelength"])
                            if f["kind"] == "missing"]
    if gaiaeso:
        t0 = time.perf_counter()
        out["turbospectrum"] = turbospectrum_check(
            lo, hi, syn["w_air"], syn["normalized"],
            [f["wavelength"] for f in feats[:N_ATTRIBUTED]])
        out["implied_loggf_offsets"] = implied_loggf_offsets(res, out["top_features"])
        out["turbospectrum_s"] = time.perf_counter() - t0
    if other_abundances:
        import jax.numpy as jnp

        from jaxstro.synth import read_marcs, solar_abundances, synthesize
        from jaxstro.synth.observe import fit_continuum_ratio, observe

        sp = synthesize(read_marcs(locate("marcs_sun")), ll,
                        jnp.asarray(solar_abundances(other_abundances)),
                        jnp.asarray(syn["w_vac"]), vmic=VMIC_SUN)
        rows = []
        for name, norm in (("grevesse2007", syn["normalized"]),
                           (other_abundances, np.asarray(sp.normalized))):
            m = observe(syn["grid"], jnp.asarray(norm), R=res["R"], vmac=res["vmac"],
                        vsini=res["vsini"], rv=res["rv"])
            c, _, _ = fit_continuum_ratio(syn["grid"].obs_wavelength, jnp.asarray(fo), m, None,
                                          order=2, n_iter=5)
            rows.append({"abundances": name,
                         "rms_at_fitted_broadening": float(np.sqrt(np.mean(
                             (fo - np.asarray(m * c)) ** 2)))})
        out["abundances"] = rows
    return out


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
    t0 = time.perf_counter()
    diag = diagnose(res, gaiaeso=args.linelist == "ges")
    t_diag = time.perf_counter() - t0
    summary = {k: v for k, v in res.items() if k not in ("wavelength", "observed", "model",
                                                          "features", "_synth")}
    summary.update(rms_missing_masked=diag["rms_missing_masked"],
                   fraction_masked_missing=diag["fraction_masked_missing"],
                   diagnostics_s=t_diag)
    print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in summary.items()})
    rows = [{"wavelength_air": f["wavelength"], "residual": f["residual"], "kind": f["kind"],
             "model_depth": f["model_depth"], "ges": "; ".join(f["ges_lines"][:2]) or "-"}
            for f in res["features"]]
    name = "synth_uves_sun_quick" if args.quick else "synth_uves_sun"
    if args.linelist != "ges" or args.window:
        name = f"synth_uves_sun_{args.linelist}_{lo:.0f}_{hi:.0f}"
    lname = {"ges": "Gaia-ESO lines + ABO tables", "galah": "GALAH DR3 lines (Korg HDF5)"}
    print("top features:")
    for f in diag["top_features"]:
        print(f"  {f['wavelength_air']:.2f} {f['residual']:+.3f} {f['kind']:<10s} "
              f"{f['dominant_list_line'] or '-'}: {f['attribution']}")
    print("broadening valley:", [(v["R"], v["best_vmac"], round(v["rms"], 5))
                                 for v in diag["broadening_valley"]])
    record(name, rows, summary=summary, diagnostics=diag, linelist=args.linelist,
           model=f"MARCS sun.mod, {lname[args.linelist]}, H lines, Grevesse+2007, "
                 f"vmic {VMIC_SUN}, vsini {VSINI_SUN} fixed; R, vmac, rv, quadratic "
                 "continuum ratio fitted")


if __name__ == "__main__":
    main()
