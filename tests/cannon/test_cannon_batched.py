"""The batched fast paths: normal equations from the distinct term products (training) and the
per-star chi^2 quadratic forms from one matrix product (test step) equal the direct sums."""

import jax
import jax.numpy as jnp
import numpy as np

from jaxstro.cannon import Vectorizer
from jaxstro.cannon._labels import _quadform_batch, _quadform_one
from jaxstro.cannon._train import product_monomials


def test_distinct_products_give_the_normal_matrix():
    vec = Vectorizer.polynomial(("a", "b", "c"), 2, standardize=False)
    pairs, index = product_monomials(vec.exponents)
    assert len(pairs) == 35  # monomials of degree <= 4 in 3 variables, not 55 or 100
    rng = np.random.default_rng(3)
    A = np.asarray(vec.design_matrix(rng.normal(size=(40, 3))))
    w = rng.uniform(0.5, 2.0, size=(5, 40))  # 5 pixels
    Mon = A[:, pairs[:, 0]] * A[:, pairs[:, 1]]
    G = (w @ Mon)[:, index]
    direct = np.einsum("pn,ni,nj->pij", w, A, A)
    np.testing.assert_allclose(G, direct, rtol=1e-12, atol=1e-12)


def test_batched_quadratic_forms_match_per_star(quad_model, apogee):
    f = jnp.asarray(apogee["flux"][:7])
    iv = jnp.asarray(apogee["ivar"][:7]).at[0, :10].set(0.0)
    batch = _quadform_batch(quad_model, f, iv)
    one = jax.vmap(_quadform_one, in_axes=(None, 0, 0))(quad_model, f, iv)
    for b, o in zip(batch, one, strict=True):
        np.testing.assert_allclose(np.asarray(b), np.asarray(o), rtol=1e-11)


def test_blocked_quadratic_forms_match(quad_model, apogee):
    from jaxstro.cannon._labels import _quadform_blocked

    f = jnp.asarray(apogee["flux"][:300])
    iv = jnp.asarray(apogee["ivar"][:300])
    for b, o in zip(_quadform_blocked(quad_model, f, iv, block=128),
                    _quadform_batch(quad_model, f, iv), strict=True):
        np.testing.assert_allclose(np.asarray(b), np.asarray(o), rtol=1e-11)
