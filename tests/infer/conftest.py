"""Shared fixtures of the jaxstro.infer tests: a tiny hand-made Cannon model (no training)."""

import jax.numpy as jnp
import numpy as np
import pytest

from jaxstro.cannon import CannonModel, Vectorizer, polynomial_exponents


@pytest.fixture(scope="session")
def tiny_cannon():
    """Two labels ("teff", "logg"), quadratic, 60 pixels: standardised labels x in ~[-1, 1]
    give line depths of a few per cent, as in a real normalised spectrum."""
    r = np.random.default_rng(7)
    exps = polynomial_exponents(2, 2)
    vec = Vectorizer(("teff", "logg"), exps, offsets=[5000.0, 3.0], scales=[500.0, 1.0],
                     standardize=False)
    n_pix = 60
    theta = np.zeros((n_pix, len(exps)))
    theta[:, 0] = 1.0 - r.uniform(0.0, 0.3, n_pix)
    theta[:, 1:] = r.normal(0.0, 0.05, (n_pix, len(exps) - 1))
    return CannonModel(vec, jnp.asarray(theta), jnp.full(n_pix, 0.002),
                       jnp.linspace(15100.0, 15200.0, n_pix), jnp.array([4000.0, 1.0]),
                       jnp.array([6000.0, 5.0]))
