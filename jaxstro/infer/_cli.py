"""``jaxstro fit SPECTRUM``: posterior of a spectrum's parameters (Cannon labels or synthesis).

SPECTRUM is a table readable by ``astropy.table.Table.read`` (FITS binary table, ECSV, ...) with
columns ``flux`` and ``ivar`` (or ``sigma``; non-finite / non-positive sigma -> masked) and, for
synthesis fits, ``wavelength`` [Å, vacuum]. Writes to ``--out``: ``posterior.nc`` (arviz
InferenceData, netCDF), ``summary.ecsv`` (mean, sd, quantiles, r_hat, ESS; warnings in the meta),
``fit_trace.png`` and ``fit_corner.png``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def read_spectrum(path) -> dict:
    """flux, ivar (and wavelength if present) of a spectrum table as float arrays."""
    from astropy.table import Table

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"spectrum file {path} not found")
    t = Table.read(path)
    cols = {c.lower(): c for c in t.colnames}
    if "flux" not in cols:
        raise ValueError(f"{path}: no 'flux' column (have {t.colnames})")
    out = {"flux": np.asarray(t[cols["flux"]], dtype=float)}
    if "ivar" in cols:
        out["ivar"] = np.asarray(t[cols["ivar"]], dtype=float)
    elif "sigma" in cols:
        s = np.asarray(t[cols["sigma"]], dtype=float)
        ok = np.isfinite(s) & (s > 0)
        out["ivar"] = np.where(ok, 1.0 / np.where(ok, s, 1.0) ** 2, 0.0)
    else:
        raise ValueError(f"{path}: need an 'ivar' or 'sigma' column (have {t.colnames})")
    if "wavelength" in cols:
        out["wavelength"] = np.asarray(t[cols["wavelength"]], dtype=float)
    return out


def _priors_for_synth(free, grid):
    import numpyro.distributions as dist

    g = {"teff": (float(grid.teff[0]), float(grid.teff[-1])),
         "logg": (float(grid.logg[0]), float(grid.logg[-1])),
         "m_h": (float(grid.m_h[0]), float(grid.m_h[-1])),
         "alpha_m": (-0.2, 0.6), "vmic": (0.3, 3.0), "vsini": (0.0, 30.0), "rv": (-100.0, 100.0),
         "R": (5000.0, 100_000.0)}
    return {n: dist.Uniform(*g[n]) for n in free}


def _fit_cmd(args) -> int:
    import jax

    from ._fit import fit_cannon_labels, fit_spectrum
    from ._forward import PARAMETERS, make_synth_forward
    from ._run import trace_and_corner

    spec = read_spectrum(args.spectrum)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    key = jax.random.key(args.seed)
    kw = {"num_warmup": args.warmup, "num_samples": args.samples, "num_chains": args.chains,
          "n_steps": args.map_steps}
    if args.cannon:
        from jaxstro.cannon import load_model

        model = load_model(args.cannon)
        res = fit_cannon_labels(model, spec["flux"], spec["ivar"], key=key, **kw)
        names = list(model.label_names)
    else:
        if "wavelength" not in spec:
            raise ValueError(f"{args.spectrum}: synthesis fits need a 'wavelength' column")
        free = tuple(s.strip() for s in args.free.split(",") if s.strip())
        bad = set(free) - set(PARAMETERS)
        if bad or not free:
            raise ValueError(f"--free: unknown or empty parameters {sorted(bad)}; "
                             f"choose from {','.join(PARAMETERS)}")
        linelist = None
        if args.linelist:
            from jaxstro.synth.lines import read_linelist

            linelist = read_linelist(args.linelist)
        fixed = {"R": args.resolution} if args.resolution else {}
        fw = make_synth_forward(spec["wavelength"], linelist=linelist, free=free, fixed=fixed)
        res = fit_spectrum(fw, spec["flux"], spec["ivar"], _priors_for_synth(free, fw.grid),
                           key=key, wavelength=spec["wavelength"], **kw)
        names = list(free)
    res.idata.to_netcdf(str(out / "posterior.nc"), engine="h5netcdf")
    res.summary.write(out / "summary.ecsv", overwrite=True)
    trace_and_corner(res.idata, str(out / "fit"), var_names=names)
    res.summary.pprint(max_width=120)
    for w in res.summary.meta["warnings"]:
        print(f"WARNING: {w}")
    print(f"wrote {out / 'posterior.nc'}, {out / 'summary.ecsv'}, fit_trace.png, fit_corner.png")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("fit", help="posterior of a spectrum's labels/parameters (NUTS)",
                              description=__doc__)
    p.add_argument("spectrum", help="table with flux, ivar|sigma[, wavelength] columns")
    p.add_argument("--cannon", help="trained Cannon model file (jaxstro.cannon.save_model)")
    p.add_argument("--free", default="teff,logg,m_h",
                   help="synthesis parameters to fit (comma separated)")
    p.add_argument("--linelist", help="line list file or registered name (synthesis fits)")
    p.add_argument("--resolution", type=float, default=None,
                   help="fixed resolving power R (synthesis fits)")
    p.add_argument("--out", default="jaxstro_fit", help="output directory")
    p.add_argument("--warmup", type=int, default=300)
    p.add_argument("--samples", type=int, default=500)
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--map-steps", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_fit_cmd)
