"""Fit Teff, logg, [Fe/H], vmic and vmac of the UVES Sun with synthesis (issue 6, acceptance 2).

Forward model: ``infer.make_synth_forward`` -- differentiable ATLAS9 grid interpolation ->
``synth.synthesize`` (Gaia-ESO lines with the ABO tables, H lines, scaled-solar Asplund 2009
abundances shifted by [M/H]) -> rotation (vsini 1.6 km/s fixed) -> radial-tangential
macroturbulence -> RV 0.29 km/s fixed (from ``synth_uves_sun``) -> observed pixels (air
converted to vacuum). The instrumental LSF is left out: the UVES Sun's resolution cannot be told
from macroturbulence (benchmarks/synth_uves_sun.py drives R to its 3e5 bound). Likelihood:
Gaussian with a 1 % per-pixel error (the model-data systematics off the features are ~1.4 %,
photon noise ~0.3 %), a linear continuum per window marginalised. Windows (air) with Fe I and
Fe II lines; pixels the MARCS-Sun comparison flags as list problems are not masked here.
MAP (multi-start Adam, ``infer.find_map``), then a short NUTS run (``infer.run_nuts``).

    python -m benchmarks.infer_synth_sun [--quick]

Writes ``benchmarks/results/infer_synth_sun[_quick].json``.

Measured (2026-12-03, 2 cores shared, load ~10; no JSON stored yet): ``--quick --map-steps 100``
(5196-5199 Å, 151 pixels, 435 lines, planned line windows): compile 115 s, value+grad 0.59 s;
2-start Adam MAP after 100 steps (419 s): Teff 5454, logg 3.62, [M/H] -0.08, vmic 0.77,
vmac 5.2 -- NOT converged and not within the issue's targets (a 3 Å window with one Fe II line
does not pin logg; Adam needs more steps). The NUTS stage was stopped for time. The default
window (5190-5200 Å, 501 pixels) compiled in 183 s with 5 Å line cuts (17 s per value+grad,
before ``plan_line_windows``); it has not been run with planned windows. Next: a
Levenberg-Marquardt MAP (as in ``synth.observe.fit_broadening``) and two or three windows
(Fe II 5197.6, 5234.6; Mg b wings).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

WINDOW = (5190.0, 5200.0)  # Fe II 5197.58; Fe I 5191.45, 5192.34, 5194.94, 5196.06, 5198.71
QUICK_WINDOW = (5196.0, 5199.0)
TRUTH = {"teff": 5772.0, "logg": 4.44, "m_h": 0.0}


def main(argv=None) -> None:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpyro.distributions as dist

    from benchmarks._timing import record
    from benchmarks.synth_uves_sun import _ges_linelist
    from jaxstro import infer
    from jaxstro.spectra import air_to_vacuum, read_spectrum

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--chains", type=int, default=2)
    ap.add_argument("--map-steps", type=int, default=300)
    args = ap.parse_args(argv)
    lo, hi = QUICK_WINDOW if args.quick else WINDOW
    obs = read_spectrum("uves_sun")
    w, f = np.asarray(obs.wavelength), np.asarray(obs.flux)
    sel = (w >= lo) & (w <= hi)
    wo, fo = w[sel][::2], f[sel][::2]  # 0.02 Å pixels
    wv = np.asarray(air_to_vacuum(jnp.asarray(wo)))
    ll = _ges_linelist().window(wv[0] - 6.0, wv[-1] + 6.0)
    free = ("teff", "logg", "m_h", "vmic", "vmac")
    fw = infer.make_synth_forward(wv, linelist=ll, free=free, synth_step=0.01, max_rv=2.0,
                                  max_vsini=3.0, max_vmac=8.0, min_R=1e5,
                                  fixed={"vsini": 1.6, "rv": 0.29, "R": None},
                                  plan_line_windows=True)
    sigma = 0.01
    ivar = np.full(wo.size, 1 / sigma**2)
    priors = {"teff": dist.Uniform(5000.0, 6500.0), "logg": dist.Uniform(3.5, 5.0),
              "m_h": dist.Uniform(-1.0, 0.5), "vmic": dist.Uniform(0.3, 2.5),
              "vmac": dist.Uniform(0.5, 7.5)}
    t0 = time.perf_counter()
    loss = jax.jit(jax.value_and_grad(lambda p: jnp.sum(fw(p))))
    p0 = {"teff": 5800.0, "logg": 4.3, "m_h": -0.1, "vmic": 1.0, "vmac": 3.5}
    jax.block_until_ready(loss(p0))
    t_compile = time.perf_counter() - t0
    t0 = time.perf_counter()
    jax.block_until_ready(loss(p0))
    t_grad = time.perf_counter() - t0
    print(f"{wo.size} pixels, {len(ll)} lines: compile {t_compile:.1f} s, value+grad "
          f"{t_grad:.3f} s", flush=True)
    key = jax.random.PRNGKey(0)
    kw = {"wavelength": jnp.asarray(wo), "continuum_order": 1}
    margs = (fw, jnp.asarray(fo), jnp.asarray(ivar), priors)
    t0 = time.perf_counter()
    m = infer.find_map(infer.spectrum_model, *margs, key=key, n_starts=2,
                       n_steps=args.map_steps, learning_rate=0.05, **kw)
    t_map = time.perf_counter() - t0
    mp = {k: float(v) for k, v in m.params.items()}
    print("MAP", mp, f"{t_map:.0f} s", flush=True)
    t0 = time.perf_counter()
    mcmc = infer.run_nuts(infer.spectrum_model, *margs, key=jax.random.PRNGKey(1),
                          num_warmup=args.warmup, num_samples=args.samples,
                          num_chains=args.chains, init_params=m.params, **kw)
    t_nuts = time.perf_counter() - t0
    idata = infer.to_inference_data(mcmc)
    summ = infer.summarize(idata, var_names=list(free))
    print(summ, flush=True)
    rows = []
    for r in summ:
        n = r["parameter"]
        rows.append({"parameter": n, "map": mp[n], "mean": float(r["mean"]),
                     "sd": float(r["sd"]), "r_hat": float(r["r_hat"]),
                     "truth": TRUTH.get(n), "map_minus_truth": mp[n] - TRUTH[n]
                     if n in TRUTH else None})
    ok = {"teff": abs(mp["teff"] - 5772) <= 100, "logg": abs(mp["logg"] - 4.44) <= 0.2,
          "m_h": abs(mp["m_h"]) <= 0.05}
    print("targets met (MAP):", ok)
    record("infer_synth_sun_quick" if args.quick else "infer_synth_sun", rows,
           window_air=[lo, hi], n_pixels=int(wo.size), n_lines=len(ll), sigma=sigma,
           compile_s=t_compile, value_and_grad_s=t_grad, map_s=t_map, nuts_s=t_nuts,
           num_warmup=args.warmup, num_samples=args.samples, num_chains=args.chains,
           targets_met_map=ok, warnings=list(summ.meta.get("warnings", [])))


if __name__ == "__main__":
    main()
