"""Resampling with interpax: flux vs np.interp, the ivar/mask propagation rules of _resample."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxstro.spectra import resample


def test_linear_flux_matches_np_interp_and_ivar_rules(rng):
    wl = np.sort(rng.uniform(5000, 5100, 300))
    f = 1 + 0.1 * np.sin(wl)
    iv = rng.uniform(10, 100, 300)
    new = np.linspace(4990, 5110, 777)
    fo, io, mo = resample(wl, f, iv, new)
    inside = (new >= wl[0]) & (new <= wl[-1])
    np.testing.assert_allclose(np.asarray(fo)[inside], np.interp(new, wl, f)[inside], rtol=1e-13)
    assert np.all(np.asarray(fo)[~inside] == 0) and np.all(np.asarray(io)[~inside] == 0)
    assert not np.asarray(mo)[~inside].any() and np.asarray(mo)[inside].all()
    # ivar: independent-noise propagation of linear interpolation
    j = np.clip(np.searchsorted(wl, new, side="right") - 1, 0, 298)
    t = (new - wl[j]) / (wl[j + 1] - wl[j])
    ref = 1 / ((1 - t) ** 2 / iv[j] + t**2 / iv[j + 1])
    np.testing.assert_allclose(np.asarray(io)[inside], ref[inside], rtol=1e-12)


def test_on_grid_points_keep_ivar_and_bad_pixels_spread():
    wl = 5000.0 + np.arange(10.0)
    f = np.arange(10.0)
    iv = np.full(10, 4.0)
    iv[5] = 0.0
    fo, io, mo = resample(wl, f, iv, wl)
    np.testing.assert_allclose(fo, f)
    np.testing.assert_allclose(io, iv)  # t = 0 exactly: the neighbour does not matter
    _, io2, mo2 = resample(wl, f, iv, wl[:-1] + 0.5)
    assert np.asarray(io2)[4] == 0 and np.asarray(io2)[5] == 0 and not np.asarray(mo2)[4]
    np.testing.assert_allclose(np.asarray(io2)[0], 1 / (0.25 / 4 + 0.25 / 4))
    # an input mask False propagates the same way
    m = np.ones(10, bool)
    m[2] = False
    _, _, mo3 = resample(wl, f, np.full(10, 4.0), wl[:-1] + 0.5, mask=m)
    assert list(np.where(~np.asarray(mo3))[0]) == [1, 2]


def test_cubic_batched(rng):
    wl = np.linspace(5000, 5050, 400)
    f = np.stack([np.sin(wl / 3), np.cos(wl / 4)])
    iv = np.ones((2, 400))
    new = np.linspace(5001, 5049, 123)
    fo, _, _ = resample(wl, f, iv, new, method="cubic")
    # cubic interpolation error ~ h^4 max|f^(4)| / 384 with h = 0.125 Å: ~1e-7; allow 1e-5
    np.testing.assert_allclose(fo, np.stack([np.sin(new / 3), np.cos(new / 4)]), atol=1e-5)


@pytest.mark.slow
def test_grad_and_per_spectrum_source_grids():
    wl = np.linspace(5000, 5050, 400)
    f = np.stack([np.sin(wl / 3), np.cos(wl / 4)])
    iv = np.ones((2, 400))
    new = np.linspace(5001, 5049, 123)
    # linear interpolation weights sum to one: d(sum of new flux)/d(old flux) sums to m
    g = jax.grad(lambda x: jnp.sum(resample(wl, x, iv, new)[0]))(jnp.asarray(f))[0]
    assert np.all(np.isfinite(g)) and np.isclose(float(jnp.sum(g)), 123.0)
    wls = np.stack([wl, wl + 0.01])
    fo2, _, _ = resample(wls, f, iv, new)
    fo_b, _, _ = resample(wls[1], f[1], iv[1], new)
    np.testing.assert_allclose(fo2[1], fo_b, rtol=1e-14)
