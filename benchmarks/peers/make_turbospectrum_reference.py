"""Regenerate the stored Turbospectrum reference outputs in ``tests/synth/reference/``.

Needs a Turbospectrum build (``TURBOSPECTRUM_DIR``, see ``benchmarks/peers/turbospectrum.py``) and
the registered data (``JAXSTRO_DATA_DIR``). Run from the project root::

    python -m benchmarks.peers.make_turbospectrum_reference            # everything (~2 min CPU)
    python -m benchmarks.peers.make_turbospectrum_reference --only continuum_marcs_sun
    python -m benchmarks.peers.make_turbospectrum_reference --no-timing

Every reference is one ``<id>.npz`` (arrays) plus ``<id>.json`` (every setting). The settings are
written here once, in :data:`CONTINUUM_CASES` and :data:`LINE_CASES`; nothing else decides them:

- wavelengths are in air (Turbospectrum's convention throughout: grid, line lists, H lines);
- abundances: Grevesse, Asplund & Sauval 2007 scaled by ``metallicity`` (Z >= 3) and ``alpha_fe``,
  then ``individual`` absolute A(X); the adopted 83-element A(X) table is stored in the sidecar;
- vmic is an input to Turbospectrum (the model's value is ignored); we use the model's nominal value
  (MARCS ``t02`` -> 2 km/s, ``t05`` -> 5 km/s, the Sun 1 km/s, ATLAS9 dwarfs 1 km/s);
- geometry follows the model (MARCS spherical models -> spherical transfer), continuum scattering
  is treated as scattering unless the key says ``pure_lte``;
- LTE, flux (not intensity), Turbospectrum's default isotopic fractions (e.g. 6Li/7Li 0.075/0.925,
  12C/13C 0.989/0.011), line-list margin 2 Å, no NLTE.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import platform
import subprocess
from pathlib import Path

import numpy as np

from benchmarks.peers import turbospectrum as ts

OUT = Path(__file__).resolve().parents[2] / "tests" / "synth" / "reference"

#: continuum-only references (issue 4, acceptance 2): 3000-15000 Å every 10 Å (5000 Å included)
CONTINUUM_GRID = dict(lambda_min=3000.0, lambda_max=15000.0, step=10.0)

#: id -> (model registry name, metallicity, vmic km/s)
CONTINUUM_CASES: dict[str, tuple[str, float, float]] = {
    "continuum_marcs_sun": ("marcs_sun", 0.0, 1.0),
    "continuum_marcs_s5000_g3.0": ("marcs_s5000_g3.0", 0.0, 2.0),
    "continuum_marcs_s5000_g2.0": ("marcs_s5000_g2.0", 0.0, 2.0),
    "continuum_marcs_s6000_g1.0": ("marcs_s6000_g1.0", 0.0, 5.0),
    "continuum_atlas9_t5750_g4.50_m+0.0": ("atlas9_t5750_g4.50_m+0.0", 0.0, 1.0),
    "continuum_atlas9_t5750_g4.50_m-1.0": ("atlas9_t5750_g4.50_m-1.0", -1.0, 1.0),
}

GES = ("gaiaeso_linelist", "apogee_dr17_hlines")
HBAND = ("apogee_dr17_molecular_linelist", "apogee_dr17_hlines")

#: line-spectrum references (issue 5, acceptance 1): 0.01 Å sampling, LTE
LINE_CASES: dict[str, dict] = {
    "lines_sun_5000_5100": dict(
        model="marcs_sun", lambda_min=5000.0, lambda_max=5100.0, vmic=1.0, linelists=GES,
        description="dwarf, solar: MARCS Sun (plane-parallel), Gaia-ESO lines + H lines"),
    "lines_s5000_g3.0_5000_5100": dict(
        model="marcs_s5000_g3.0", lambda_min=5000.0, lambda_max=5100.0, vmic=2.0, linelists=GES,
        description="giant, solar: MARCS 5000 K / logg 3.0 (spherical), Gaia-ESO lines + H lines"),
    "lines_s6000_g1.0_5000_5100": dict(
        model="marcs_s6000_g1.0", lambda_min=5000.0, lambda_max=5100.0, vmic=5.0, linelists=GES,
        description="supergiant, solar: MARCS 6000 K / logg 1.0 (spherical; the geometry and "
                    "scattering treatment matter most here), Gaia-ESO lines + H lines"),
    "lines_atlas9_m+0.0_5000_5100": dict(
        model="atlas9_t5750_g4.50_m+0.0", lambda_min=5000.0, lambda_max=5100.0, vmic=1.0,
        linelists=GES,
        description="dwarf, solar: ATLAS9 5750 K / 4.50 / [M/H]=0, Gaia-ESO lines + H lines "
                    "(the solar twin of the metal-poor case)"),
    "lines_atlas9_m-1.0_5000_5100": dict(
        model="atlas9_t5750_g4.50_m-1.0", lambda_min=5000.0, lambda_max=5100.0, vmic=1.0,
        metallicity=-1.0, linelists=GES,
        description="dwarf, metal-poor: ATLAS9 5750 K / 4.50 / [M/H]=-1 with [M/H]=-1 "
                    "abundances (GAS2007 - 1 dex for Z >= 3), Gaia-ESO lines + H lines"),
    "lines_sun_li_6680_6740": dict(
        model="marcs_sun", lambda_min=6680.0, lambda_max=6740.0, vmic=1.0, linelists=GES,
        individual=((3, 2.5),),
        description="Li 6708 region: MARCS Sun with A(Li)=2.50 (individual abundance), "
                    "Gaia-ESO lines (6Li/7Li blocks, fractions 0.075/0.925) + H lines"),
    "lines_s5000_g2.0_hband_15200_15300": dict(
        model="marcs_s5000_g2.0", lambda_min=15200.0, lambda_max=15300.0, vmic=2.0,
        linelists=HBAND,
        description="H band: MARCS 5000 K / logg 2.0 (spherical), APOGEE DR17 molecular list "
                    "(CN, CO, OH, C2, FeH isotopologues) + APOGEE DR17 H lines; no atomic list "
                    "(Gaia-ESO ends at 9200 Å)"),
}
LINE_STEP = 0.01


def _gfortran() -> str:
    try:
        out = subprocess.run(["gfortran", "--version"], capture_output=True, text=True)
        return out.stdout.splitlines()[0]
    except (OSError, IndexError):  # pragma: no cover
        return "unknown"


def _datafile(name: str) -> dict:
    from jaxstro.data import entry, locate

    e = entry(name)
    return {"name": name, "file": Path(locate(name)).name, "sha256": e.sha256,
            "reference": e.reference}


def _common(res: ts.Result, model_name: str, linelist_names: tuple[str, ...]) -> dict:
    s = res.settings
    return {
        "turbospectrum": ts.VERSION,
        "compiler": _gfortran(),
        "source_modified": False,
        "date_utc": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "model": {**_datafile(model_name), "format": ts.model_kind(s.model),
                  "geometry": "spherical" if s.geometry_spherical else "plane-parallel"},
        "solar_mixture": ts.SOLAR_MIXTURE,
        "metallicity": s.metallicity,
        "alpha_fe": s.alpha_fe,
        "individual_abundances": {str(z): a for z, a in s.individual},
        "abundances_used": {str(z): a for z, a in sorted(res.abundances.items())},
        "abundances_note": "A(X) = log10(n_X/n_H) + 12 as adopted by Turbospectrum (parsed from "
                           "babsma's log); elements absent here are not included",
        "isotopes": "Turbospectrum defaults (makeabund.f), e.g. 6Li/7Li 0.075/0.925, "
                    "12C/13C 0.989/0.011, 16O/17O/18O 0.99762/0.00038/0.002",
        "vmic_km_s": s.vmic,
        "lte": True,
        "scattering": "pure LTE (S = B)" if s.pure_lte else "continuum scattering as scattering",
        "wavelength_medium": "air",
        "wavelength_grid": {"min": s.lambda_min, "max": s.lambda_max, "step": s.step,
                            "n": int(res.wavelength.size),
                            "definition": "min + j * step, j = 0..n-1 (A, air)"},
        "continuum_opacity_grid": {"step": s.continuum_step, "margin": s.continuum_margin,
                                   "n": int(res.continuum_wavelengths.size),
                                   "note": "babsma computes continuous opacity on this grid "
                                           "(+100 extra points); bsyn interpolates to its grid"},
        "linelists": [_datafile(n) for n in linelist_names],
        "n_lines_in_interval": res.n_lines,
        "flux_units": ts.FLUX_UNITS,
        "spherical_parameters": list(ts.SPHERICAL_DEFAULTS) if s.geometry_spherical else None,
        "input_babsma": ts.babsma_input(s).splitlines(),
        "input_bsyn": ts.bsyn_input(s, tuple(f"linelist{i}" for i in range(len(linelist_names))),
                                    result="spectrum.txt").splitlines(),
        "machine": platform.platform(),
    }


def make_continuum(ref_id: str, out: Path, build: ts.Build) -> None:
    from jaxstro.data import locate

    name, mh, vmic = CONTINUUM_CASES[ref_id]
    model = str(locate(name))
    arrays: dict[str, np.ndarray] = {}
    sidecar: dict = {}
    variants = {"scattering": dict(pure_lte=False), "pure_lte": dict(pure_lte=True)}
    if ts.model_is_spherical(model):
        variants["scattering_plane_parallel"] = dict(pure_lte=False, spherical=False)
    for key, kw in variants.items():
        s = ts.Settings(model=model, metallicity=mh, vmic=vmic, **CONTINUUM_GRID, **kw)
        res = ts.run(s, build=build)
        if np.any(res.normalised != 1.0):
            raise RuntimeError(f"{ref_id}/{key}: continuum run has lines?")
        if "wavelength" not in arrays:
            arrays["wavelength"] = res.wavelength
            arrays["near_hydrogen_edge"] = ts.near_hydrogen_edge(res)
            for k, v in res.model_structure.items():
                arrays[f"ts_model_{k}"] = v
            sidecar = _common(res, name, ())
            del sidecar["scattering"], sidecar["n_lines_in_interval"], sidecar["linelists"]
            sidecar["input_babsma"] = {}
            sidecar["input_bsyn"] = {}
        arrays[f"continuum_{key}"] = res.continuum.astype(np.float32)
        if key == "scattering":
            op = res.continuum_opacity
            ow = op["wavelength"]
            sel = (ow >= s.lambda_min) & (ow <= s.lambda_max) & (np.abs(ow / 100 - np.round(
                ow / 100)) < 1e-9)
            arrays["ts_opacity_wavelength"] = ow[sel]
            arrays["ts_kappa_abs"] = op["kappa_abs"][:, sel].astype(np.float32)
            arrays["ts_sigma_scat"] = op["sigma_scat"][:, sel].astype(np.float32)
            arrays["ts_kappa_std"] = op["kappa_std"]
        sidecar["input_babsma"][key] = ts.babsma_input(s).splitlines()
        sidecar["input_bsyn"][key] = ts.bsyn_input(s, ()).splitlines()
        sidecar.setdefault("cpu_s", {})[key] = res.cpu_s
    i5000 = int(np.argmin(np.abs(arrays["wavelength"] - 5000.0)))
    sidecar.update({
        "id": ref_id,
        "kind": "continuum",
        "issue": "4 (acceptance 2)",
        "description": f"continuum flux of {name}, no lines, "
                       + ", ".join(variants),
        "continuum_at_5000A": {k[len("continuum_"):]: float(v[i5000])
                               for k, v in arrays.items() if k.startswith("continuum_")},
        "arrays": {
            "wavelength": "float64 (n,), A, air",
            "continuum_scattering": f"float32 (n,), {ts.FLUX_UNITS}; continuum scattering as "
                                    "scattering, model geometry",
            "continuum_pure_lte": "float32 (n,), same units; pure LTE (S = B), model geometry",
            **({"continuum_scattering_plane_parallel":
                "float32 (n,), same units; scattering, plane-parallel transfer forced on the "
                "spherical model"} if "scattering_plane_parallel" in variants else {}),
            "near_hydrogen_edge": "bool (n,): babsma moved a continuum point onto an H "
                                  "ionisation edge within one step of this wavelength, so "
                                  "Turbospectrum interpolated the opacity here (compare with care)",
            "ts_model_tau5000, ts_model_T, ts_model_Pe, ts_model_Pg, ts_model_rho":
                "float64 (n_layers,): the structure babsma used (tau_5000; K; dyn cm^-2; "
                "dyn cm^-2; g cm^-3), printed by babsma to 4 significant digits. ATLAS9: "
                "Turbospectrum's own tau_5000 from RHOX and Pe = XNE k T; MARCS: model T, Pe "
                "(and tau_5000), Pg recomputed",
            "ts_opacity_wavelength": "float64 (m,): every 100 A from 3000 to 15000 A (air)",
            "ts_kappa_abs, ts_sigma_scat": "float32 (n_layers, m): babsma's continuous "
                "absorption (stimulated emission included) and scattering coefficients in cm^2 "
                "per gram of stellar matter (x ts_model_rho for cm^-1), scattering mode, 5 "
                "significant digits",
            "ts_kappa_std": "float64 (n_layers,): absorption + scattering at 5000 A, cm^2/g "
                            "(Turbospectrum's standard opacity that defines tau_5000)",
        },
        "precision": "bsyn prints flux to 6 significant digits (relative 5e-6)",
    })
    _write(out, ref_id, arrays, sidecar)


def make_lines(ref_id: str, out: Path, build: ts.Build) -> None:
    from jaxstro.data import locate

    case = dict(LINE_CASES[ref_id])
    name = case.pop("model")
    llnames = case.pop("linelists")
    desc = case.pop("description")
    arrays: dict[str, np.ndarray] = {}
    consistency, cpu, inputs_b, inputs_y = {}, {}, {}, {}
    sidecar: dict = {}
    for suffix, pure_lte in (("", False), ("_pure_lte", True)):
        s = ts.Settings(model=str(locate(name)), step=LINE_STEP, pure_lte=pure_lte,
                        linelists=tuple(str(locate(n)) for n in llnames), **case)
        res = ts.run(s, build=build)
        if not arrays:
            arrays["wavelength"] = res.wavelength
            sidecar = _common(res, name, llnames)
        arrays[f"flux{suffix}"] = res.flux.astype(np.float32)
        arrays[f"continuum{suffix}"] = res.continuum.astype(np.float32)
        arrays[f"normalised{suffix}"] = res.normalised.astype(np.float32)
        key = "pure_lte" if pure_lte else "scattering"
        consistency[key] = float(np.max(np.abs(res.flux / res.continuum - res.normalised)))
        cpu[key] = res.cpu_s
        inputs_b[key] = ts.babsma_input(s).splitlines()
        inputs_y[key] = ts.bsyn_input(
            s, tuple(f"linelist{i}" for i in range(len(llnames)))).splitlines()
    dn = np.abs(arrays["normalised_pure_lte"].astype(float) - arrays["normalised"])
    sidecar.update({
        "id": ref_id,
        "kind": "lines",
        "issue": "5 (acceptance 1)",
        "description": desc,
        "scattering": "flux/continuum/normalised: continuum scattering as scattering "
                      "(Turbospectrum's default); *_pure_lte: pure LTE, S = B (scattering "
                      "counted as absorption, as Korg does)",
        "input_babsma": inputs_b,
        "input_bsyn": inputs_y,
        "arrays": {
            "wavelength": "float64 (n,), A, air",
            "flux": f"float32 (n,), {ts.FLUX_UNITS}",
            "continuum": "float32 (n,), same units: bsyn run with no line list on the same "
                         "opacity file",
            "normalised": "float32 (n,): bsyn's normalised column 4 pi H / F_cont, rounded by "
                          "Turbospectrum to 1e-5",
            "flux_pure_lte, continuum_pure_lte, normalised_pure_lte": "the same with "
                                                                       "'PURE-LTE' true (S = B)",
        },
        "max_abs_normalised_pure_lte_minus_scattering": float(dn.max()),
        "consistency": {"max_abs_flux_over_continuum_minus_normalised": consistency},
        "cpu_s": cpu,
        "hydrogen_lines": "APOGEE DR17 Hlinedata (air), not Turbospectrum's bundled DATA/Hlinedata",
    })
    _write(out, ref_id, arrays, sidecar)


def _write(out: Path, ref_id: str, arrays: dict, sidecar: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / f"{ref_id}.npz", **arrays)
    (out / f"{ref_id}.json").write_text(json.dumps(sidecar, indent=1) + "\n")
    size = (out / f"{ref_id}.npz").stat().st_size
    print(f"wrote {ref_id}.npz ({size / 1024:.0f} KiB) + .json")


def make_timing(out: Path, build: ts.Build, repeats: int) -> None:
    res = ts.time_turbospectrum(repeats=repeats, build=build)
    assert res is not None
    doc = {
        "turbospectrum": ts.VERSION,
        "compiler": _gfortran(),
        "date_utc": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": __import__("os").cpu_count(),
        "measure": "CPU seconds (user + system) of the babsma_lu and bsyn_lu child processes, "
                   f"minimum over {repeats} runs; the machine was shared with other jobs, so wall "
                   "times are only indicative",
        "workloads": res,
    }
    (out / "turbospectrum_timing.json").write_text(json.dumps(doc, indent=1) + "\n")
    for k, r in res.items():
        print(f"timing {k}: babsma {r['babsma_cpu_s']:.3f} s, bsyn {r['bsyn_cpu_s']:.3f} s")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="*", help="reference ids to regenerate (default: all)")
    p.add_argument("--no-timing", action="store_true", help="skip the timing runs")
    p.add_argument("--repeats", type=int, default=3, help="timing repeats (default 3)")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    build = ts.require_build()
    ids = args.only or [*CONTINUUM_CASES, *LINE_CASES]
    for ref_id in ids:
        if ref_id in CONTINUUM_CASES:
            make_continuum(ref_id, args.out, build)
        elif ref_id in LINE_CASES:
            make_lines(ref_id, args.out, build)
        else:
            raise SystemExit(f"unknown reference id {ref_id!r}; known: "
                             f"{', '.join([*CONTINUUM_CASES, *LINE_CASES])}")
    if not args.no_timing and not args.only:
        make_timing(args.out, build, args.repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
