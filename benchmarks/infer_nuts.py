"""jaxstro.infer NUTS: injection-recovery (posterior 68 % coverage, r_hat) and effective samples
per second, with a Cannon model trained on the real APOGEE fixture as the forward model.

Injection: a quadratic Cannon is trained on 600 stars of ``annieslasso_apogee`` (100 pixels, Teff,
logg, [M/H]); for N held-out stars' catalogue labels the model spectrum plus Gaussian noise of
variance 1/SNR^2 + s^2 (SNR 100, s = the model's scatter) is the injected spectrum, and the label
posterior under the same likelihood (``cannon_label_model``) is sampled with 4 NUTS chains. The
stars are sampled jointly in one vectorised model (the posterior factorises over stars, so this is
N independent posteriors sharing one compiled sampler). Coverage = fraction of (star, label) whose
central 68 % interval contains the truth; expected 0.68 +- sqrt(0.68 * 0.32 / (3 N)).

Speed: one star, ``fit_cannon_labels``-style NUTS (4 chains, vectorised, dense mass); effective
samples per second = min bulk ESS over labels / sampling wall time (second run, compiled).
Context: Korg
(Wheeler et al. 2023) quotes 172 s for a 4-parameter least-squares fit at R = 50,000 with full
synthesis; this benchmark's forward model is a 100-pixel Cannon emulator, not a synthesis, so the
numbers are not like for like.

Run: ``python -m benchmarks.infer_nuts [--quick]`` from the repository root.
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)


def _train():
    from jaxstro.cannon import Vectorizer, polynomial_exponents, train
    from jaxstro.data import load_npz

    d = load_npz("annieslasso_apogee")
    names = tuple(str(n) for n in d["label_names"])
    model = train(jnp.asarray(d["labels"][:600]), jnp.asarray(d["flux"][:600]),
                  jnp.asarray(d["ivar"][:600]), Vectorizer(names, polynomial_exponents(3, 2)))
    return model, d


def _joint_model(cannon, flux, ivar):
    """Independent label posteriors of many stars in one numpyro model (plate over stars)."""
    import numpyro
    import numpyro.distributions as dist

    lo, hi = np.asarray(cannon.label_min), np.asarray(cannon.label_max)
    pad = 0.5 * (hi - lo)
    n = flux.shape[0]
    with numpyro.plate("stars", n):
        labels = jnp.stack([numpyro.sample(nm, dist.Uniform(lo[i] - pad[i], hi[i] + pad[i]))
                            for i, nm in enumerate(cannon.label_names)], axis=-1)
    mean = cannon.predict_many(labels)
    good = (ivar > 0) & jnp.isfinite(cannon.scatter)
    var = 1.0 / jnp.where(good, ivar, 1.0) + jnp.where(good, cannon.scatter, 0.0) ** 2
    numpyro.sample("obs", dist.Normal(mean, jnp.sqrt(var)).mask(good).to_event(1),
                   obs=jnp.where(good, flux, 0.0))


def injection_recovery(model, d, n_stars, snr, num_warmup, num_samples, seed=0):
    import arviz as az

    from jaxstro import infer

    rng = np.random.default_rng(seed)
    idx = np.arange(600, 600 + n_stars)
    truth = d["labels"][idx]
    mean = np.asarray(model.predict_many(jnp.asarray(truth)))
    s = np.asarray(model.scatter)
    good = np.isfinite(s)
    sd = np.sqrt(1.0 / snr**2 + np.where(good, s, 0.0) ** 2)
    flux = mean + rng.normal(size=mean.shape) * sd
    ivar = np.where(good, snr**2, 0.0) * np.ones_like(flux)
    t0 = time.perf_counter()
    init = {nm: jnp.asarray(truth[:, i] + 0.0) for i, nm in enumerate(model.label_names)}
    m = infer.find_map(_joint_model, model, jnp.asarray(flux), jnp.asarray(ivar),
                       key=jax.random.key(seed), n_starts=2, n_steps=1500)
    init = {k: v for k, v in m.params.items() if k in init}
    mcmc = infer.run_nuts(_joint_model, model, jnp.asarray(flux), jnp.asarray(ivar),
                          key=jax.random.key(seed + 1), num_warmup=num_warmup,
                          num_samples=num_samples, num_chains=4, init_params=init,
                          dense_mass=True)
    wall = time.perf_counter() - t0
    post = mcmc.get_samples(group_by_chain=True)
    inside, rhats, ess = [], [], []
    for i, nm in enumerate(model.label_names):
        x = np.asarray(post[nm])  # (chain, draw, star)
        q16, q84 = np.quantile(x.reshape(-1, n_stars), [0.16, 0.84], axis=0)
        inside.append((q16 <= truth[:, i]) & (truth[:, i] <= q84))
        for j in range(n_stars):
            rhats.append(float(az.rhat(x[:, :, j])))
            ess.append(float(az.ess(x[:, :, j])))
    inside = np.array(inside)
    n_div = int(np.asarray(mcmc.get_extra_fields()["diverging"]).sum())
    cov = float(inside.mean())
    return {"n_stars": n_stars, "snr": snr, "coverage_68": cov,
            "coverage_err": float(np.sqrt(0.68 * 0.32 / inside.size)),
            "coverage_per_label": [float(v) for v in inside.mean(axis=1)],
            "max_r_hat": max(rhats), "min_ess_bulk": min(ess), "divergences": n_div,
            "wall_s": wall}


def speed(model, d, num_warmup, num_samples):
    import arviz as az

    from jaxstro import infer

    star = 650
    flux, ivar = jnp.asarray(d["flux"][star]), jnp.asarray(d["ivar"][star])
    m = infer.find_map(infer.cannon_label_model, model, flux, ivar, key=jax.random.key(0),
                       n_starts=4, n_steps=1000)
    t0 = time.perf_counter()
    mcmc = infer.run_nuts(infer.cannon_label_model, model, flux, ivar, key=jax.random.key(1),
                          num_warmup=num_warmup, num_samples=num_samples, num_chains=4,
                          init_params=m.params, dense_mass=True)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    mcmc.run(jax.random.key(2), model, flux, ivar, init_params=None)
    jax.block_until_ready(mcmc.get_samples())
    second = time.perf_counter() - t0
    idata = infer.to_inference_data(mcmc)
    ess = min(float(az.ess(idata, var_names=[n])[n]) for n in model.label_names)
    return {"n_pixels": int(model.n_pixels), "n_params": model.n_labels, "chains": 4,
            "draws": num_samples, "first_call_s": first, "compiled_s": second,
            "min_ess_bulk": ess, "ess_per_s": ess / second}


def main(argv=None):
    from benchmarks._timing import record

    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--stars", type=int, default=48)
    a = p.parse_args(argv)
    n_stars = 4 if a.quick else a.stars
    warm, samp = (100, 100) if a.quick else (500, 1000)
    model, d = _train()
    ir = injection_recovery(model, d, n_stars, 100.0, warm, samp)
    sp = speed(model, d, warm, samp)
    record("infer_nuts_coverage",
           [{k: v for k, v in ir.items() if k != "coverage_per_label"}],
           coverage_per_label=ir["coverage_per_label"], label_names=list(model.label_names),
           quick=a.quick)
    record("infer_nuts", [sp], quick=a.quick,
           korg_context_s="172 s: Korg 4-parameter least-squares fit at R = 50,000 "
           "(Wheeler et al. 2023); "
           "not like for like (Cannon emulator here)")


if __name__ == "__main__":
    main()
