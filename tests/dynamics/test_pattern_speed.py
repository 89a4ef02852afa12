"""Differentiable <[Fe/H]>(J_phi | J_R) in the pattern speed and the gradient-based fit.

References: the bar built with traced numbers equals ``hunt_bovy_bar`` (exact); the forward-mode
derivative of the soft profile equals a central finite difference (h = 1e-3 km/s/kpc; both carry
the integration error of rtol 1e-8, so they agree to ~1% of the derivative's scale); a profile
simulated from the same disc sample at 39 km/s/kpc is fitted back from a start of 38.4."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxstro.dynamics import MWPotential2014, cyl_to_cart, feh_gradient
from jaxstro.dynamics._df import QuasiIsothermalDF, SampleWindow, sample_qdf
from jaxstro.dynamics._pattern_speed import (
    SoftBins,
    bar_with_pattern_speed,
    corotation_radius_jax,
    fit_pattern_speed,
    profile_at_pattern_speed,
    soft_profile,
)
from jaxstro.dynamics.potentials import corotation_radius, hunt_bovy_bar


def test_soft_profile_limits(rng):
    # narrow edges reproduce the hard histogram mean; weights of contiguous bins sum to 1
    j = rng.uniform(1000, 2000, 500)
    feh = rng.normal(size=500)
    bins = SoftBins(jnp.arange(1000.0, 2001.0, 250.0), jnp.array([0.0, 1.0]), 1e-6, 1e-6)
    mean, cnt = soft_profile(j, 0.5 + 0 * j, feh, np.ones(500), bins)
    idx = np.digitize(j, np.arange(1000.0, 2001.0, 250.0)) - 1
    ref = [feh[idx == k].mean() for k in range(4)]
    np.testing.assert_allclose(mean[0], ref, rtol=1e-10)
    np.testing.assert_allclose(cnt.sum(), 500, rtol=1e-12)
    with pytest.raises(ValueError, match="increase"):
        SoftBins(jnp.array([2.0, 1.0]), jnp.array([0.0, 1.0]))


def test_traced_bar_equals_hunt_bovy_bar():
    mw = MWPotential2014()
    om = 39.0 / 27.5
    ours = bar_with_pattern_speed(mw, jnp.asarray(om))
    ref = mw + hunt_bovy_bar(om, potential=mw, tform=0.0, tsteady=2.0)
    x = jnp.array([[0.3, 0.4, 0.05], [1.1, -0.2, 0.0], [0.05, 0.02, 0.01]])
    for t in (0.5, 3.0, 20.0):
        for xx in x:
            np.testing.assert_allclose(ours.phi_xyz(xx, t), ref.phi_xyz(xx, t), rtol=1e-12)
    d = jax.grad(lambda o: corotation_radius_jax(mw, o))(om)
    h = 1e-6
    fd = (corotation_radius(mw, om + h) - corotation_radius(mw, om - h)) / (2 * h)
    np.testing.assert_allclose(d, fd, rtol=1e-6)


@pytest.mark.slow
def test_profile_gradient_and_pattern_speed_recovery():
    mw = MWPotential2014()
    df = QuasiIsothermalDF(mw, 1 / 3, 0.2, 0.1, 1.0, 1.0)
    w = sample_qdf(df, jax.random.key(1), 300, SampleWindow(0.6, 1.4, 0.2))
    feh = jnp.asarray(feh_gradient(np.asarray(w[:, 0]) * 8, np.asarray(w[:, 3]) * 8,
                                   jax.random.key(2)))
    w0 = cyl_to_cart(w)
    bins = SoftBins(jnp.arange(1000.0, 2601.0, 100.0), jnp.array([0.0, 30.0, 100.0]), 80.0)
    times = jnp.array([20.0, 25.0, 30.0])  # 0.71, 0.89, 1.07 Gyr
    f = eqx.filter_jit(lambda p: profile_at_pattern_speed(p, w0, feh, times, bins, mw))
    target, cnt = f(jnp.asarray(39.0))
    use = np.asarray(cnt) > 3
    g = eqx.filter_jit(
        lambda p: jax.jvp(lambda q: f(q)[0], (p,), (jnp.ones_like(p),))
    )
    _, dm = g(jnp.asarray(38.7))
    h = 1e-3
    fd = (f(jnp.asarray(38.7 + h))[0] - f(jnp.asarray(38.7 - h))[0]) / (2 * h)
    scale = np.abs(np.asarray(fd)[use]).max()
    assert scale > 1e-3  # the profile does depend on the pattern speed
    np.testing.assert_allclose(np.asarray(dm)[use], np.asarray(fd)[use], atol=0.03 * scale)

    sigma = jnp.where(cnt > 3, 0.1 / jnp.sqrt(jnp.maximum(cnt, 1.0)), jnp.nan)
    res = fit_pattern_speed(target, sigma, w0, feh, times, bins, mw, 38.4, n_iter=5)
    assert abs(res["pattern_speed"] - 39.0) < 0.05, res
    assert res["history"][-1][1] < 1e-2 * res["history"][0][1]
