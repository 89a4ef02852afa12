"""Synthetic recovery (issue acceptance 3): spectra drawn from a known quadratic Cannon model with
realistic noise (S/N 100 plus intrinsic scatter 0.002-0.01). The labels inferred with the trained
model must be unbiased and their scatter must match the Cramer-Rao bound of the true model within
10 % (with 560 test stars the sampling error of a standard deviation is 1/sqrt(2*560) = 3 %).

Shapes (447 training stars, 100 pixels, 3 labels, batches of 56) match the fixture-based tests so
the compiled train and fit functions are reused.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxstro.cannon import CannonModel, Vectorizer, fit_labels, train

from .conftest import BATCH, N_TRAIN

NAMES = ["TEFF", "LOGG", "PARAM_M_H"]
LO = np.array([4000.0, 1.0, -1.0])
HI = np.array([5200.0, 3.5, 0.3])


def _draw_labels(rng, n):
    return LO + (HI - LO) * rng.uniform(size=(n, 3))


@pytest.fixture(scope="module")
def synthetic():
    rng = np.random.default_rng(20261123)
    n_pix = 100
    vec = Vectorizer.polynomial(NAMES, 2, offsets=0.5 * (LO + HI), scales=0.5 * (HI - LO),
                                standardize=False)
    theta = np.zeros((n_pix, vec.n_terms))
    theta[:, 0] = 1.0 - 0.3 * rng.uniform(size=n_pix)
    theta[:, 1:4] = 0.05 * rng.normal(size=(n_pix, 3))
    theta[:, 4:] = 0.01 * rng.normal(size=(n_pix, vec.n_terms - 4))
    s_true = rng.uniform(0.002, 0.01, size=n_pix)
    true = CannonModel(vec, jnp.asarray(theta), jnp.asarray(s_true), None,
                       jnp.asarray(LO), jnp.asarray(HI))
    sigma = 0.01

    def draw(n):
        lab = _draw_labels(rng, n)
        f = np.asarray(true.predict_many(lab))
        f = f + rng.normal(size=f.shape) * np.sqrt(sigma**2 + s_true**2)
        return lab, f, np.full_like(f, sigma**-2)

    lab, f, iv = draw(N_TRAIN)
    wave = np.linspace(15000, 15100, n_pix)
    trained = train(lab, f, iv, Vectorizer.polynomial(NAMES, 2), wavelength=wave)
    return true, trained, sigma, wave, draw(10 * BATCH)


def test_synthetic_training_recovers_scatter_and_model(synthetic):
    true, m, sigma, _, _ = synthetic
    s_fit, s_true = np.asarray(m.scatter), np.asarray(true.scatter)
    # per-pixel ML s from 447 stars, sigma=0.01: sd(s^2) ~ sqrt(2/447) (s^2 + sigma^2)
    # so individual s are noisy; the mean over 100 pixels must agree within 10 %
    assert abs(np.mean(s_fit) / np.mean(s_true) - 1) < 0.1
    # model spectra agree to a fraction of the noise over the training label range
    test_lab = _draw_labels(np.random.default_rng(1), 50)
    dflux = np.asarray(m.predict_many(test_lab)) - np.asarray(true.predict_many(test_lab))
    assert np.sqrt(np.mean(dflux**2)) < 0.25 * sigma


def test_synthetic_labels_unbiased_at_cramer_rao(synthetic):
    true, m, sigma, wave, (tlab, tf, tiv) = synthetic
    res = fit_labels(m, tf, tiv, wavelength=wave, batch_size=BATCH)
    w = 1.0 / (sigma**2 + np.asarray(true.scatter) ** 2)

    def crb(l):
        J = jax.jacfwd(true.predict)(l)  # (n_pix, 3)
        return jnp.diagonal(jnp.linalg.inv(J.T @ (w[:, None] * J)))

    var_crb = np.asarray(jax.vmap(crb)(jnp.asarray(tlab)))
    z = (res.labels - tlab) / np.sqrt(var_crb)
    n = z.shape[0]
    assert np.all(np.abs(z.mean(axis=0)) < 4 / np.sqrt(n)), z.mean(axis=0)  # unbiased (4 sigma)
    np.testing.assert_allclose(z.std(axis=0), 1.0, atol=0.1)  # scatter = CRB within 10 %
    # the reported uncertainties are the CRB of the trained model: within 10 % of the true one
    np.testing.assert_allclose(np.median(np.diagonal(res.covariance, axis1=1, axis2=2)
                                         / var_crb, axis=0), 1.0, atol=0.1)
    assert np.mean(res.converged) > 0.95
    assert np.all(np.abs(np.median(res.reduced_chi2) - 1) < 0.1)
