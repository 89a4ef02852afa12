"""infer.least_squares_fit: Levenberg-Marquardt recovery of the parameters of a cheap analytic
line model with a continuum tilt and an unmodelled feature (clipped), formal errors vs the
scatter of repeated noisy fits, and input validation."""

import jax.numpy as jnp
import numpy as np
import pytest

from jaxstro import infer

WL = np.linspace(5000.0, 5010.0, 400)
CENTRES = jnp.array([5001.3, 5003.1, 5004.7, 5006.2, 5008.4])


def _forward(p):
    # Gaussian lines whose depth rises with "teff"-like a and width with b, shifted by c [Å]
    x = jnp.asarray(WL)[:, None] - CENTRES[None, :] - p["c"]
    depth = 0.2 + 0.1 * p["a"] * jnp.arange(1, 6) / 5
    return jnp.prod(1.0 - depth * jnp.exp(-0.5 * (x / (0.05 + 0.02 * p["b"])) ** 2), axis=1)


BOUNDS = {"a": (-2.0, 3.0), "b": (0.0, 4.0), "c": (-0.1, 0.1)}
TRUE = {"a": 1.3, "b": 1.7, "c": 0.021}


def _observed(rng, sigma=0.005, feature=True):
    f = np.asarray(_forward(TRUE)) * (1.0 + 0.01 * (WL - 5005.0) / 5.0)
    if feature:  # a line the model lacks: clipped in the second stage
        f = f * (1.0 - 0.3 * np.exp(-0.5 * ((WL - 5002.2) / 0.05) ** 2))
    return f + rng.normal(0.0, sigma, WL.size)


def test_recovers_parameters_and_clips_missing_feature():
    rng = np.random.default_rng(3)
    obs = _observed(rng)
    starts = [{"a": 0.0, "b": 1.0, "c": 0.0}, {"a": 2.5, "b": 3.0, "c": -0.05}]
    res = infer.least_squares_fit(_forward, WL, obs, np.full(WL.size, 1 / 0.005**2),
                                  bounds=BOUNDS, inits=starts, continuum_order=1)
    for n, t in TRUE.items():
        assert abs(res["params"][n] - t) < 4 * res["sigma"][n], (n, res["params"][n], t)
    assert res["reduced_chi2"] < 1.3
    gone = np.abs(WL - 5002.2) < 0.05
    assert not np.any(np.asarray(res["keep"])[gone])  # the missing line was held out
    assert len(res["starts"]) == 2
    assert all(s["steps"] > 0 for s in res["starts"])


def test_formal_errors_match_scatter():
    rng = np.random.default_rng(11)
    fits, sig = [], []
    for _ in range(12):
        res = infer.least_squares_fit(_forward, WL, _observed(rng, feature=False), None,
                                      bounds=BOUNDS, inits=[{"a": 0.5, "b": 1.0, "c": 0.0}],
                                      continuum_order=1, clip=None)
        fits.append([res["params"][n] for n in TRUE])
        sig.append([res["sigma"][n] for n in TRUE])
    scatter = np.std(fits, axis=0, ddof=1)
    ratio = scatter / np.mean(sig, axis=0)
    assert np.all((ratio > 0.5) & (ratio < 1.8)), ratio  # 12 fits: std known to ~20 %


def test_validation():
    obs = _observed(np.random.default_rng(0))
    with pytest.raises(ValueError, match="outside"):
        infer.least_squares_fit(_forward, WL, obs, None, bounds=BOUNDS,
                                inits=[{"a": 5.0, "b": 1.0, "c": 0.0}])
    with pytest.raises(ValueError, match="no pixel"):
        infer.least_squares_fit(_forward, WL, obs, np.zeros(WL.size), bounds=BOUNDS,
                                inits=[{"a": 0.0, "b": 1.0, "c": 0.0}])
    with pytest.raises(ValueError, match="at least one start"):
        infer.least_squares_fit(_forward, WL, obs, None, bounds=BOUNDS, inits=[])


def test_segments_get_their_own_continuum():
    # two windows with different continuum tilts: one shared ratio cannot fit both
    rng = np.random.default_rng(5)
    obs = np.asarray(_forward(TRUE)) + rng.normal(0.0, 0.003, WL.size)
    seg = (WL > 5005.0).astype(int)
    tilt = np.where(seg == 0, 1.0 + 0.02 * (WL - 5002.5) / 2.5, 0.97 - 0.015 * (WL - 5007.5) / 2.5)
    obs = obs * tilt
    kw = {"bounds": BOUNDS, "inits": [{"a": 0.5, "b": 1.0, "c": 0.0}], "continuum_order": 1,
          "clip": None}
    res = infer.least_squares_fit(_forward, WL, obs, None, segments=seg, **kw)
    one = infer.least_squares_fit(_forward, WL, obs, None, **kw)
    for n, t in TRUE.items():
        assert abs(res["params"][n] - t) < 4 * res["sigma"][n], (n, res["params"][n], t)
    assert res["rms"] < 0.0035 < one["rms"]
    with pytest.raises(ValueError, match="one label per pixel"):
        infer.least_squares_fit(_forward, WL, obs, None, segments=seg[:-1], **kw)
