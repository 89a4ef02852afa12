"""jaxstro.infer: marginalised continuum likelihood vs quadrature, NUTS recovery on a toy line,
and Cannon-label HMC vs the Levenberg-Marquardt test step on the real APOGEE fixture."""

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
import pytest
from scipy import integrate

from jaxstro import infer


def test_marginal_continuum_equals_quadrature(rng):
    # one continuum coefficient (constant): integrate the Gaussian likelihood over c numerically
    n = 12
    model = 1 - 0.3 * np.exp(-0.5 * ((np.arange(n) - 6) / 1.5) ** 2)
    ivar = rng.uniform(50, 200, n)
    flux = 1.03 * model + rng.normal(size=n) / np.sqrt(ivar)
    design = np.ones((n, 1))
    got = float(infer.marginal_continuum_loglike(jnp.asarray(model), jnp.asarray(flux),
                                                 jnp.asarray(ivar), jnp.asarray(design)))

    def like(c):
        r = flux - c * model
        return np.exp(-0.5 * np.sum(ivar * r * r) + 0.5 * np.sum(np.log(ivar / (2 * np.pi))))

    ref, _ = integrate.quad(like, 0.5, 1.5, epsabs=0, epsrel=1e-12, points=[1.03])
    assert got == pytest.approx(np.log(ref), rel=1e-9)


def test_legendre_design_orthogonality():
    x = jnp.cos(jnp.pi * (jnp.arange(400) + 0.5) / 400)  # Chebyshev nodes
    d = np.asarray(infer.legendre_design(x, 3))
    np.testing.assert_allclose(d[:, 2], 0.5 * (3 * np.asarray(x) ** 2 - 1), atol=1e-14)
    np.testing.assert_allclose(d[:, 3], 0.5 * (5 * np.asarray(x) ** 3 - 3 * np.asarray(x)),
                               atol=1e-14)


def _toy_forward(wl):
    def forward(p):
        return 1 - p["depth"] * jnp.exp(-0.5 * ((wl - 6708.0 - p["shift"]) / p["width"]) ** 2)

    return forward


def test_nuts_recovers_toy_line(rng):
    wl = jnp.linspace(6704.0, 6712.0, 120)
    truth = {"depth": 0.4, "shift": 0.12, "width": 0.35}
    fwd = _toy_forward(wl)
    x = (wl - wl[0]) / (wl[-1] - wl[0]) * 2 - 1
    cont = 1.0 + 0.02 * x - 0.01 * x**2
    snr = 100.0
    flux = np.asarray(fwd(truth) * cont) + rng.normal(size=wl.size) / snr
    ivar = np.full(wl.size, snr**2)
    ivar[:10] = 0.0  # masked pixels
    flux[:10] = np.nan  # ... whose flux is garbage
    priors = {"depth": dist.Uniform(0, 1), "shift": dist.Uniform(-1, 1),
              "width": dist.Uniform(0.05, 2)}
    args = (fwd, jnp.asarray(flux), jnp.asarray(ivar), priors)
    kw = {"wavelength": wl, "continuum_order": 2}
    m = infer.find_map(infer.spectrum_model, *args, key=jax.random.key(0), n_starts=4,
                       n_steps=500, **kw)
    mcmc = infer.run_nuts(infer.spectrum_model, *args, key=jax.random.key(1), num_warmup=300,
                          num_samples=600, num_chains=4, init_params=m.params, **kw)
    table = infer.summarize(infer.to_inference_data(mcmc))
    for row in table:
        t = truth[row["parameter"]]
        assert abs(row["mean"] - t) < 4 * row["sd"], (row["parameter"], row["mean"], t)
        assert row["r_hat"] < 1.01
    assert not table.meta["warnings"], table.meta["warnings"]


@pytest.mark.needs_data
def test_cannon_label_hmc_matches_test_step():
    from jaxstro.cannon import Vectorizer, fit_labels, polynomial_exponents, train
    from jaxstro.data import load_npz

    d = load_npz("annieslasso_apogee")
    names = tuple(str(n) for n in d["label_names"])
    model = train(jnp.asarray(d["labels"][:600]), jnp.asarray(d["flux"][:600]),
                  jnp.asarray(d["ivar"][:600]), Vectorizer(names, polynomial_exponents(3, 2)))
    star = 640
    lm = fit_labels(model, jnp.asarray(d["flux"][star : star + 1]),
                    jnp.asarray(d["ivar"][star : star + 1]))
    mcmc = infer.run_nuts(infer.cannon_label_model, model, jnp.asarray(d["flux"][star]),
                          jnp.asarray(d["ivar"][star]), key=jax.random.key(2), num_warmup=200,
                          num_samples=400, num_chains=4, dense_mass=True,
                          init_params=dict(zip(names, np.asarray(lm.labels[0]), strict=True)))
    table = infer.summarize(infer.to_inference_data(mcmc))
    sig = np.asarray(lm.uncertainty[0])
    for i, n in enumerate(names):
        row = table[table["parameter"] == n][0]
        # the posterior is close to Gaussian around the ML labels: mean within 0.5 sigma and
        # width within 30 % of the Laplace (Fisher) uncertainty of the test step
        assert abs(row["mean"] - float(lm.labels[0, i])) < 0.5 * sig[i]
        assert row["sd"] == pytest.approx(sig[i], rel=0.3)
        assert row["r_hat"] < 1.01
