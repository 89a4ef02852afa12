"""NUTS over the *synthesis* forward model (issue 6, acceptance 3 and 1).

``speed`` (acceptance 3): effective samples per second for a 3,000-pixel spectrum (5000-5101 Å,
0.0337 Å pixels, R = 50,000, Gaia-ESO lines with ABO broadening, ``plan_line_windows``) with 10
free parameters: Teff, logg, [M/H], [alpha/M], vmic, vsini, RV (``infer.make_synth_forward``) and
3 Legendre continuum coefficients (sampled, ``spectrum_model(marginalize_continuum=False)``).
The data are the model at a known truth times a continuum polynomial plus Gaussian noise
(SNR 100). Steps, each timed: compile + time of one value-and-gradient of the numpyro potential;
the least-squares MAP (``optimistix.LevenbergMarquardt`` on the whitened residuals in numpyro's
unconstrained space, forward-mode Jacobian, started away from the truth) -- the like-for-like
number for Korg's published 172 s for a 4-parameter least-squares fit at R = 50,000 (Wheeler et
al. 2023); the Gauss-Newton covariance (J^T J)^-1 at the MAP as NUTS's dense inverse mass matrix
(no mass adaptation, step size adapted in a short warmup); NUTS; ESS/s = min bulk ESS over the 10
parameters / NUTS wall time (warmup included, and separately sampling only).

``coverage`` (acceptance 1, reduced for a CPU): N synthetic stars spanning the grid (Teff, logg,
[M/H] uniform in the ranges below), half at R = 22,500 and half at R = 50,000, SNR 100, on a
narrow window; their posteriors (uniform priors, linear continuum marginalised per star) are
sampled jointly in one numpyro model (the posterior factorises over stars; the forward model is
vmapped over stars, with per-star R), ``chains`` vectorised NUTS chains, dense mass adapted.
Line windows are planned once at the coolest, lowest-gravity, most metal-rich corner (the widest
cuts) and used for every star (injection and fit alike). Coverage = fraction of (star,
parameter) central 68 % intervals holding the truth, with its binomial error
sqrt(0.68 * 0.32 / n). ``--full`` sets the acceptance-size run meant for a GPU (24 stars,
2 windows, 4 chains, 500 + 500 draws; not run here).

    python -m benchmarks.infer_synth_hmc speed [--warmup 30 --samples 60 --chains 1]
    python -m benchmarks.infer_synth_hmc coverage [--stars 8 --full]

Writes ``benchmarks/results/infer_synth_hmc.json`` / ``infer_synth_hmc_coverage.json``.

Measured (2026-12-04, 2 shared cores, load 4-9; ``speed --warmup 20 --samples 40``, 1 chain):
value+grad of the potential 6.0 s (1.29 s on the quiet machine, 7 synthesis parameters), compile
157 s; LM MAP from the offset start in 8 steps, 284 s including its compile (Korg: 172 s, 4
parameters), MAP within 11 K / 0.02 / 0.007 dex / 0.003 km/s (vmic) / 0.015 km/s (rv) of the
truth. The NUTS part of that run FAILED: with a 20-step warmup the chain did not move (posterior
sd 0, 1 leapfrog step per draw), so its recorded ESS/s is meaningless; the JSON flags it
(``chain_stuck``). Rerun (2026-12-04, load 3-8) at 300 px (``speed --pixels 300``, 551 lines,
defaults: 100 warmup + 100 draws, tree depth <= 6, initial step 0.5, same Gauss-Newton mass):
the chain mixes -- min bulk ESS 97 of 100 draws (alpha/M), 6.9 leapfrog steps per draw, no
divergences, 0.45 s per leapfrog step (value+grad 0.37 s), ESS/s 0.31 sampling only, 0.079 with
warmup (915 s); posterior means within 1.3 sd of the truth (Teff 5605 +- 35 K vs 5650).
The 3,000-px run with that configuration was not repeated on this CPU (~1.3 s per gradient
quiet: about 0.1 ESS/s expected from the same steps per draw; not measured).
The coverage run was not completed: the 8-star, 80-px joint value+grad
took 6.6 s (0.8 s per star-gradient) under load, i.e. ~20 s per gradient for the 24-star
acceptance run and ~4 days for 4 chains x 1000 iterations x ~16 leapfrog steps on this CPU.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

SNR = 100.0
SPEED_TRUTH = {"teff": 5650.0, "logg": 4.35, "m_h": -0.15, "alpha_m": 0.08, "vmic": 1.05,
               "vsini": 4.0, "rv": 7.3}
SPEED_START = {"teff": 5850.0, "logg": 4.1, "m_h": 0.05, "alpha_m": 0.0, "vmic": 1.4,
               "vsini": 6.0, "rv": 6.0}
SPEED_BOUNDS = {"teff": (4500.0, 7000.0), "logg": (3.0, 5.0), "m_h": (-1.0, 0.5),
                "alpha_m": (-0.2, 0.6), "vmic": (0.3, 3.0), "vsini": (0.5, 14.0),
                "rv": (-25.0, 25.0)}
CONT_TRUTH = np.array([1.0, 0.012, -0.006])
COV_BOUNDS = {"teff": (4500.0, 6800.0), "logg": (2.0, 5.0), "m_h": (-1.5, 0.5)}
COV_RANGE = {"teff": (4800.0, 6400.0), "logg": (2.5, 4.6), "m_h": (-1.0, 0.3)}


def _load():
    load = os.getloadavg()
    return {"load_1min": load[0], "load_5min": load[1]}


def _linelist(lo, hi):
    from benchmarks.synth_uves_sun import _ges_linelist

    return _ges_linelist().window(lo - 6.0, hi + 6.0)


def speed(args):
    import arviz as az
    import jax
    import jax.numpy as jnp
    import numpyro.distributions as dist
    import optimistix as optx
    from jax.flatten_util import ravel_pytree
    from numpyro.infer.util import potential_energy

    from benchmarks._timing import record, timeit
    from jaxstro import infer

    rows_env = {"load_start": _load()}
    wl = 5000.0 + 0.0337 * np.arange(args.pixels)
    ll = _linelist(wl[0], wl[-1])
    free = tuple(SPEED_TRUTH)
    t0 = time.perf_counter()
    fw = infer.make_synth_forward(wl, linelist=ll, free=free, max_rv=30.0, max_vsini=15.0,
                                  min_R=50_000.0, fixed={**SPEED_START, "R": 50_000.0},
                                  plan_line_windows=True)
    t_plan = time.perf_counter() - t0
    x = 2 * (wl - wl[0]) / (wl[-1] - wl[0]) - 1
    design = np.asarray(infer.legendre_design(jnp.asarray(x), 2))
    rng = np.random.default_rng(0)
    clean = np.asarray(fw({k: jnp.asarray(v) for k, v in SPEED_TRUTH.items()}))
    clean = clean * (design @ CONT_TRUTH)
    flux = jnp.asarray(clean + rng.normal(size=wl.size) / SNR)
    ivar = jnp.full(wl.size, SNR**2)
    priors = {k: dist.Uniform(*SPEED_BOUNDS[k]) for k in free}
    margs = (fw, flux, ivar, priors)
    kw = {"wavelength": jnp.asarray(wl), "continuum_order": 2, "marginalize_continuum": False}
    print(f"{wl.size} px, {len(ll)} lines, synth grid {fw.synth_wavelength.size}, plan "
          f"{t_plan:.1f} s", flush=True)

    # numpyro's unconstrained space: logit for the uniform priors, identity for the continuum
    def z_of(p, c):
        z = {k: jnp.log((p[k] - SPEED_BOUNDS[k][0]) / (SPEED_BOUNDS[k][1] - p[k])) for k in free}
        return {**z, "continuum": jnp.asarray(c)}

    z0 = z_of({k: jnp.asarray(v) for k, v in SPEED_START.items()}, np.array([1.0, 0.0, 0.0]))
    v0, unravel = ravel_pytree(z0)

    def constrain(v):
        z = unravel(v)
        p = {k: SPEED_BOUNDS[k][0] + (SPEED_BOUNDS[k][1] - SPEED_BOUNDS[k][0])
             * jax.nn.sigmoid(z[k]) for k in free}
        return p, z["continuum"]

    pot = jax.jit(jax.value_and_grad(
        lambda v: potential_energy(infer.spectrum_model, margs, kw, unravel(v))))
    tm = timeit(pot, v0, repeats=3)
    t_compile, t_grad = tm["first_call_s"], tm["min_s"]
    print(f"potential value+grad: compile {t_compile:.1f} s, {t_grad:.3f} s", flush=True)

    def residual(v, _):
        p, c = constrain(v)
        return (flux - fw(p) * (jnp.asarray(design) @ c)) * jnp.sqrt(ivar)

    solver = optx.LevenbergMarquardt(rtol=1e-6, atol=1e-6)
    def lsq(v):
        sol = optx.least_squares(residual, solver, v, max_steps=60, throw=False)
        return sol.value, sol.stats["num_steps"]

    t0 = time.perf_counter()
    v_map, n_lm = jax.block_until_ready(jax.jit(lsq)(v0))  # one call: compile + solve
    t_map_first = time.perf_counter() - t0
    t_map = None  # a second (compiled) call is skipped on the loaded CPU: see lm_map_first_call_s
    n_lm = int(n_lm)
    p_map, c_map = constrain(v_map)
    p_map = {k: float(v) for k, v in p_map.items()}
    print(f"LM MAP: first call (compile + solve) {t_map_first:.1f} s, {n_lm} steps:",
          {k: round(v, 4) for k, v in p_map.items()}, flush=True)
    t0 = time.perf_counter()
    jac = jax.jit(jax.jacfwd(lambda v: residual(v, None)))(v_map)
    cov = np.linalg.inv(np.asarray(jac.T @ jac))  # 10 x 10: Laplace covariance for the mass
    t_jac = time.perf_counter() - t0
    cov = 0.5 * (cov + cov.T)
    init = {**{k: jnp.asarray(v) for k, v in p_map.items()}, "continuum": c_map}
    rows_env["load_before_nuts"] = _load()
    from numpyro.infer import MCMC, NUTS, init_to_value

    kernel = NUTS(infer.spectrum_model, dense_mass=True, inverse_mass_matrix=jnp.asarray(cov),
                  adapt_mass_matrix=False, init_strategy=init_to_value(values=init),
                  target_accept_prob=0.8, step_size=0.5, max_tree_depth=args.max_tree_depth)
    mcmc = MCMC(kernel, num_warmup=args.warmup, num_samples=args.samples,
                num_chains=args.chains, chain_method="vectorized", progress_bar=False)
    t0 = time.perf_counter()
    mcmc.warmup(jax.random.key(1), *margs, **kw, extra_fields=("num_steps",))
    jax.block_until_ready(mcmc.last_state)
    t_warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    mcmc.run(jax.random.key(2), *margs, **kw, extra_fields=("num_steps", "diverging"))
    jax.block_until_ready(mcmc.get_samples())
    t_samp = time.perf_counter() - t0
    extra = mcmc.get_extra_fields()
    n_leap = int(np.sum(extra["num_steps"]))
    idata = infer.to_inference_data(mcmc)
    names = [*free, "continuum"]
    ess = az.ess(idata, var_names=names, method="bulk")
    ess_all = {k: [float(e) for e in np.atleast_1d(np.asarray(ess[k]))] for k in names}
    min_ess = min(min(v) for v in ess_all.values())
    post = mcmc.get_samples()
    table = []
    for k in free:
        s = np.asarray(post[k])
        table.append({"parameter": k, "truth": SPEED_TRUTH[k], "start": SPEED_START[k],
                      "map": p_map[k], "mean": float(s.mean()), "sd": float(s.std(ddof=1)),
                      "ess_bulk": ess_all[k][0]})
    n_div = int(np.sum(extra["diverging"]))
    stuck = any(r["sd"] == 0.0 for r in table)
    if stuck:  # a chain that never moved: its "ESS" is the draw count, not a measurement
        print("WARNING: chain did not move (posterior sd 0): ESS/s is not valid", flush=True)
    summary = {
        "chain_stuck": stuck,
        "n_pixels": int(wl.size), "n_lines": len(ll), "n_synth": int(fw.synth_wavelength.size),
        "n_free": 10, "R": 50_000.0, "snr": SNR, "chains": args.chains,
        "max_tree_depth": args.max_tree_depth,
        "step_size_adapted": float(np.asarray(mcmc.last_state.adapt_state.step_size).ravel()[0]),
        "mean_leapfrog_per_draw": n_leap / max(args.samples * args.chains, 1),
        "num_warmup": args.warmup, "num_samples": args.samples,
        "mass_matrix": "dense, Gauss-Newton (J^T J)^-1 at the LM MAP, not adapted",
        "plan_windows_s": t_plan, "grad_compile_s": t_compile, "value_and_grad_s": t_grad,
        "lm_map_first_call_s": t_map_first, "lm_map_s": t_map, "lm_steps": n_lm,
        "jacobian_s": t_jac, "nuts_warmup_s": t_warm, "nuts_sampling_s": t_samp,
        "leapfrog_steps_sampling": n_leap,
        "s_per_leapfrog_step": t_samp / max(n_leap, 1), "divergences": n_div,
        "min_ess_bulk": min_ess, "ess_per_s_sampling": min_ess / t_samp,
        "ess_per_s_incl_warmup": min_ess / (t_samp + t_warm),
        "ess_bulk": ess_all,
        "korg_context": "Korg (Wheeler et al. 2023): 172 s for a 4-parameter least-squares fit "
                        "at R = 50,000; compare lm_map_s (10 parameters, 3,000 px, CPU)",
        **rows_env, "load_end": _load(),
    }
    print(summary, flush=True)
    name = "infer_synth_hmc" if args.pixels == 3000 else f"infer_synth_hmc_{args.pixels}px"
    record(name, table, **summary)


def coverage(args):
    import arviz as az
    import jax
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    from benchmarks._timing import record
    from jaxstro import infer

    full = args.full
    n = 24 if full else args.stars
    windows = [(5196.0, 5199.0), (5232.0, 5236.0)] if full else [(5196.0, 5198.4)]
    step = 0.03
    wl = np.concatenate([np.arange(lo, hi, step) for lo, hi in windows])
    # one synthesis range over all windows would waste pixels: fit one window (reduced) or
    # sum the windows' likelihoods (full)
    rng = np.random.default_rng(args.seed)
    names = ("teff", "logg", "m_h")
    truth = np.column_stack([rng.uniform(*COV_RANGE[k], n) for k in names])
    res_R = np.where(np.arange(n) % 2 == 0, 22_500.0, 50_000.0)
    corner = {"teff": COV_RANGE["teff"][0], "logg": COV_RANGE["logg"][0],
              "m_h": COV_RANGE["m_h"][1], "vmic": 1.2, "R": 50_000.0}
    fws, wls = [], []
    t0 = time.perf_counter()
    for lo, hi in windows:
        w = np.arange(lo, hi, step)
        fws.append(infer.make_synth_forward(w, linelist=_linelist(lo, hi), free=names,
                                            max_rv=2.0, max_vsini=1.0, min_R=20_000.0,
                                            fixed=corner, plan_line_windows=True))
        wls.append(jnp.asarray(w))
    t_plan = time.perf_counter() - t0
    n_lines = [len(f.linelist) for f in fws]

    def forward_all(theta, r):  # theta: (n, 3) -> list of (n, n_px) per window
        def one(fw, t, rr):
            return fw({"teff": t[0], "logg": t[1], "m_h": t[2], "R": rr})

        return [jax.vmap(lambda t, rr, fw=fw: one(fw, t, rr))(theta, r) for fw in fws]

    clean = [np.asarray(m) for m in jax.jit(forward_all)(jnp.asarray(truth), jnp.asarray(res_R))]
    fluxes, designs = [], []
    for m, w in zip(clean, wls, strict=True):
        x = 2 * (np.asarray(w) - w[0]) / (w[-1] - w[0]) - 1
        cont = 1.0 + rng.normal(0, 0.01, (n, 1)) * x
        fluxes.append(jnp.asarray(m * cont + rng.normal(size=m.shape) / SNR))
        designs.append(infer.legendre_design(jnp.asarray(x), 1))
    ivars = [jnp.full(f.shape, SNR**2) for f in fluxes]

    def model(r):
        with numpyro.plate("stars", n):
            th = jnp.stack([numpyro.sample(k, dist.Uniform(*COV_BOUNDS[k])) for k in names], -1)
        for j, m in enumerate(forward_all(th, r)):
            ll = jax.vmap(infer.marginal_continuum_loglike, (0, 0, 0, None))(
                m, fluxes[j], ivars[j], designs[j])
            numpyro.factor(f"obs{j}", ll.sum())

    # start at the truth jittered by ~ its posterior width scale (saves a MAP on the CPU)
    init = {k: jnp.asarray(np.clip(truth[:, i] + rng.normal(0, s, n), *COV_BOUNDS[k]))
            for i, (k, s) in enumerate(zip(names, (30.0, 0.05, 0.02), strict=True))}
    from numpyro.infer import MCMC, NUTS, init_to_value
    from numpyro.infer.util import potential_energy

    pot = jax.jit(jax.value_and_grad(lambda z: potential_energy(model, (jnp.asarray(res_R),),
                                                                {}, z)))
    z0 = {k: jnp.log((init[k] - COV_BOUNDS[k][0]) / (COV_BOUNDS[k][1] - init[k])) for k in names}
    from benchmarks._timing import timeit

    tm = timeit(pot, z0, repeats=1)
    t_compile, t_grad = tm["first_call_s"], tm["min_s"]
    print(f"{n} stars x {wl.size} px, {n_lines} lines: joint value+grad compile {t_compile:.1f}"
          f" s, {t_grad:.3f} s", flush=True)
    kernel = NUTS(model, dense_mass=True, init_strategy=init_to_value(values=init),
                  target_accept_prob=0.8)
    mcmc = MCMC(kernel, num_warmup=args.warmup, num_samples=args.samples,
                num_chains=args.chains, chain_method="vectorized", progress_bar=False)
    t0 = time.perf_counter()
    mcmc.run(jax.random.key(args.seed + 1), jnp.asarray(res_R),
             extra_fields=("num_steps", "diverging"))
    jax.block_until_ready(mcmc.get_samples())
    t_nuts = time.perf_counter() - t0
    post = mcmc.get_samples(group_by_chain=True)
    inside = np.zeros((n, 3), bool)
    rhat = np.zeros((n, 3))
    ess = np.zeros((n, 3))
    for i, k in enumerate(names):
        x = np.asarray(post[k])  # (chain, draw, star)
        q16, q84 = np.quantile(x.reshape(-1, n), [0.16, 0.84], axis=0)
        inside[:, i] = (q16 <= truth[:, i]) & (truth[:, i] <= q84)
        for j in range(n):
            rhat[j, i] = float(az.rhat(x[:, :, j])) if args.chains > 1 else np.nan
            ess[j, i] = float(az.ess(x[:, :, j]))
    extra = mcmc.get_extra_fields()
    rows = []
    for j in range(n):
        for i, k in enumerate(names):
            x = np.asarray(post[k])[:, :, j].ravel()
            rows.append({"star": j, "R": float(res_R[j]), "parameter": k,
                         "truth": float(truth[j, i]), "mean": float(x.mean()),
                         "sd": float(x.std(ddof=1)), "inside_68": bool(inside[j, i]),
                         "r_hat": float(rhat[j, i]), "ess_bulk": float(ess[j, i])})
    by_r = {str(int(r)): float(inside[res_R == r].mean()) for r in (22_500.0, 50_000.0)}
    summary = {
        "full": full, "n_stars": n, "windows": windows, "pixel_step": step,
        "n_pixels": int(wl.size), "n_lines": n_lines, "snr": SNR, "free": list(names),
        "chains": args.chains, "num_warmup": args.warmup, "num_samples": args.samples,
        "coverage_68": float(inside.mean()),
        "coverage_err": float(np.sqrt(0.68 * 0.32 / inside.size)),
        "coverage_per_parameter": dict(zip(names, map(float, inside.mean(0)), strict=True)),
        "coverage_by_R": by_r, "max_r_hat": float(np.nanmax(rhat)) if args.chains > 1 else None,
        "min_ess_bulk": float(ess.min()), "divergences": int(np.sum(extra["diverging"])),
        "mean_leapfrog_steps": float(np.mean(extra["num_steps"])),
        "plan_s": t_plan, "grad_compile_s": t_compile, "joint_value_and_grad_s": t_grad,
        "nuts_s": t_nuts, "init": "truth jittered by (30 K, 0.05 dex, 0.02 dex)",
        "load_end": _load(),
    }
    print({k: v for k, v in summary.items()}, flush=True)
    record("infer_synth_hmc_coverage_full" if full else "infer_synth_hmc_coverage", rows,
           **summary)


def main(argv=None):
    import jax

    jax.config.update("jax_enable_x64", True)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=("speed", "coverage"))
    p.add_argument("--warmup", type=int, default=None)
    p.add_argument("--samples", type=int, default=None)
    p.add_argument("--chains", type=int, default=None)
    p.add_argument("--stars", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--full", action="store_true")
    p.add_argument("--pixels", type=int, default=3000, help="speed: number of pixels")
    p.add_argument("--max-tree-depth", type=int, default=6, help="speed: NUTS tree depth cap")
    a = p.parse_args(argv)
    if a.what == "speed":
        a.warmup, a.samples, a.chains = a.warmup or 100, a.samples or 100, a.chains or 1
        speed(a)
    else:
        d = (500, 500, 4) if a.full else (100, 100, 2)
        a.warmup, a.samples, a.chains = a.warmup or d[0], a.samples or d[1], a.chains or d[2]
        coverage(a)


if __name__ == "__main__":
    main()
