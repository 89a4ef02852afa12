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


def test_closed_form_term_derivatives_match_autodiff():
    from jaxstro.cannon._labels import _term_derivatives

    vec = Vectorizer.from_terms(("a", "b", "c"), [[1, 0, 0], [0, 2, 0], [1, 1, 1], [3, 0, 1],
                                                  [0, 0, 2]], include_constant=True)
    x = jnp.asarray([0.7, -1.3, 0.4])
    v, D, H = _term_derivatives(vec.exponents, x)
    np.testing.assert_allclose(v, vec.terms_std(x), rtol=1e-14)
    np.testing.assert_allclose(D, jax.jacfwd(vec.terms_std)(x), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(H, jax.hessian(vec.terms_std)(x), rtol=1e-14, atol=1e-15)


def test_unrolled_cholesky_solve():
    from jaxstro.cannon._labels import _chol_solve

    rng = np.random.default_rng(5)
    for n in (1, 3, 6):
        X = rng.normal(size=(n + 4, n))
        H = X.T @ X
        b = rng.normal(size=n)
        B = rng.normal(size=(n, 2))
        np.testing.assert_allclose(_chol_solve(jnp.asarray(H), jnp.asarray(b)),
                                   np.linalg.solve(H, b), rtol=1e-10)
        np.testing.assert_allclose(_chol_solve(jnp.asarray(H), jnp.asarray(B)),
                                   np.linalg.solve(H, B), rtol=1e-10)
    assert not np.all(np.isfinite(_chol_solve(-jnp.eye(3), jnp.ones(3))))
