"""Gaussian LSF, rotational broadening and Doppler shifts. Issue #3 acceptance 4.

References: np.convolve (uniform grid, constant-width kernel), a dense row-by-row numpy
evaluation of the same kernels (non-uniform grids, varying width), scipy.integrate.quad for the
closed-form rotation-kernel CDF, and the equivalent width EW = sum (1 - f) dlam, which a
normalised kernel must conserve (tolerance 1e-6 relative, the acceptance criterion; we see ~1e-9).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate

from jaxstro.spectra import (
    C_KMS,
    convolve_lsf,
    doppler_factor,
    doppler_shift,
    rotation_kernel,
    rotation_kernel_cdf,
    rotational_broaden,
)

FWHM = 2 * np.sqrt(2 * np.log(2))


def edges(wl):
    mid = 0.5 * (wl[1:] + wl[:-1])
    lo = np.concatenate([[wl[0] - (mid[0] - wl[0])], mid])
    hi = np.concatenate([mid, [wl[-1] + (wl[-1] - mid[-1])]])
    return lo, hi


def ew(wl, f):
    lo, hi = edges(wl)
    return np.sum((1 - np.asarray(f)) * (hi - lo))


def line_spectrum(wl, centres, depth=0.6, width=0.05):
    f = np.ones_like(wl)
    for c in centres:
        f *= 1 - depth * np.exp(-0.5 * ((wl - c) / width) ** 2)
    return f


def dense_lsf(wl, f, R, n_sigma):
    lo, hi = edges(wl)
    sig = wl / (FWHM * np.broadcast_to(R, wl.shape))
    d = wl[None, :] - wl[:, None]
    w = np.exp(-0.5 * (d / sig[:, None]) ** 2) * (hi - lo)[None, :]
    w *= np.abs(d) <= n_sigma * sig[:, None]
    return (w @ f) / w.sum(1)


def np_cdf(x, eps):
    x = np.clip(x, -1, 1)
    a = (1 - eps) * (x * np.sqrt(1 - x**2) + np.arcsin(x) + np.pi / 2)
    b = np.pi * eps / 2 * (x - x**3 / 3 + 2 / 3)
    return (a + b) / (np.pi * (1 - eps / 3))


def dense_rotation(wl, f, vsini, eps):
    lo, hi = edges(wl)
    width = wl * vsini / C_KMS
    w = np_cdf((hi[None, :] - wl[:, None]) / width[:, None], eps) - np_cdf(
        (lo[None, :] - wl[:, None]) / width[:, None], eps
    )
    return (w @ f) / w.sum(1)


@pytest.mark.parametrize("grid", ["uniform", "loglinear"])
@pytest.mark.parametrize("R", [20000.0, "varying"])
def test_lsf_conserves_ew_and_matches_dense_numpy(grid, R):
    n = 1500
    wl = 5000 + 0.01 * np.arange(n) if grid == "uniform" else 10 ** (3.699 + 1e-6 * np.arange(n))
    # varying R: +5 % across the window (APOGEE-like). With the width taken at the output pixel,
    # EW is conserved to O((d sigma / d lambda)^2) ~ 1e-11 here; a 50 % change over 30 Å would
    # give ~4e-6 (not a realistic instrument).
    Rv = 20000.0 + 1000.0 * (wl - wl[0]) / (wl[-1] - wl[0]) if R == "varying" else R
    f = line_spectrum(wl, [wl[500], wl[750], wl[1000]])
    g = convolve_lsf(wl, f, Rv)
    np.testing.assert_allclose(g, dense_lsf(wl, f, Rv, 5.0), rtol=1e-12, atol=1e-13)
    assert abs(ew(wl, g) / ew(wl, f) - 1) < 1e-6


def test_lsf_matches_np_convolve_for_constant_width():
    # R_i = lambda_i / (2.3548 sigma0) makes sigma = sigma0 everywhere: a plain convolution.
    wl = 6000 + 0.02 * np.arange(2000)
    sigma0 = 0.1
    rng = np.random.default_rng(1)
    f = 1 + 0.1 * rng.normal(size=2000)
    out = convolve_lsf(wl, f, wl / (FWHM * sigma0), n_sigma=5.01)  # 25 px each side
    x = 0.02 * np.arange(-25, 26)
    k = np.exp(-0.5 * (x / sigma0) ** 2)
    ref = np.convolve(f, k / k.sum(), mode="same")
    # 1e-10: the grid spacing is 0.02 only to ~1e-13 relative, which enters via pixel widths
    np.testing.assert_allclose(out[30:-30], ref[30:-30], rtol=1e-10)


def test_lsf_batched_jit_and_grad():
    wl = 5000 + 0.01 * np.arange(300)
    f = np.stack([line_spectrum(wl, [5002.0]), line_spectrum(wl, [5003.0])])
    out = convolve_lsf(wl, f, 30000.0)
    assert out.shape == (2, 300)
    jitted = jax.jit(lambda w, x, r: convolve_lsf(w, x, r, half_width=40))(wl, f, 30000.0)
    np.testing.assert_allclose(jitted, out, rtol=1e-12)


@pytest.mark.slow
def test_lsf_grad_resolving_power():
    wl = 5000 + 0.01 * np.arange(300)
    f = np.stack([line_spectrum(wl, [5002.0]), line_spectrum(wl, [5003.0])])
    g = jax.grad(lambda r: jnp.sum(convolve_lsf(wl, f[0], r, half_width=40) ** 2))(30000.0)
    def sq(r):
        return np.sum(np.asarray(convolve_lsf(wl, f[0], r)) ** 2)

    np.testing.assert_allclose(g, (sq(30001.0) - sq(29999.0)) / 2.0, rtol=1e-5)


@pytest.mark.parametrize("eps", [0.0, 0.6, 1.0])
def test_rotation_cdf_matches_quadrature(eps):
    for x in [-0.9, -0.3, 0.0, 0.5, 0.99]:
        val, _ = integrate.quad(lambda t: float(rotation_kernel(t, eps)), -1.0, x)
        np.testing.assert_allclose(rotation_kernel_cdf(x, eps), val, rtol=1e-10, atol=1e-12)
    assert float(rotation_kernel_cdf(1.0, eps)) == pytest.approx(1.0, abs=1e-15)


@pytest.mark.parametrize("vsini,eps", [(5.0, 0.6), (30.0, 0.3), (2.0, 1.0)])
def test_rotation_conserves_ew_and_matches_dense_numpy(vsini, eps):
    wl = 10 ** (3.699 + 2e-6 * np.arange(1500))
    f = line_spectrum(wl, [wl[500], wl[750], wl[1000]], width=0.08)
    r = rotational_broaden(wl, f, vsini, eps)
    np.testing.assert_allclose(r, dense_rotation(wl, f, vsini, eps), rtol=1e-12, atol=1e-13)
    assert abs(ew(wl, r) / ew(wl, f) - 1) < 1e-6
    # it broadens: the line core gets shallower
    assert float(r[750]) > float(f[750])


def test_rotation_zero_is_identity():
    wl = 5000 + 0.01 * np.arange(300)
    f = line_spectrum(wl, [5002.0])
    np.testing.assert_allclose(rotational_broaden(wl, f, 0.0), f, rtol=1e-14)


@pytest.mark.slow
def test_rotation_grad_vsini():
    wl = 5000 + 0.01 * np.arange(300)
    f = line_spectrum(wl, [5002.0])

    @jax.jit
    def loss(v):
        return jnp.sum(rotational_broaden(wl, f, v, 0.6, half_width=60) ** 2)

    g = jax.grad(loss)(10.0)
    fd = (loss(10.0 + 1e-4) - loss(10.0 - 1e-4)) / 2e-4
    assert np.isfinite(g)
    np.testing.assert_allclose(g, fd, rtol=1e-5)


def test_doppler():
    np.testing.assert_allclose(doppler_factor(0.1 * C_KMS), np.sqrt(1.1 / 0.9), rtol=1e-15)
    np.testing.assert_allclose(doppler_factor(30.0), 1 + 30.0 / C_KMS, rtol=1e-8)  # beta^2 term
    wl = np.linspace(4000, 9000, 10)
    np.testing.assert_allclose(doppler_shift(doppler_shift(wl, 123.4), -123.4), wl, rtol=1e-15)
    rv = jnp.array([-50.0, 0.0, 80.0])
    assert doppler_shift(wl, rv[:, None]).shape == (3, 10)


def test_bad_input():
    wl = 5000 + 0.01 * np.arange(100)
    with pytest.raises(ValueError, match="vsini"):
        rotational_broaden(wl, np.ones(100), -1.0)
    with pytest.raises(ValueError, match="epsilon"):
        rotational_broaden(wl, np.ones(100), 1.0, 1.5)
    with pytest.raises(ValueError, match="resolving_power"):
        convolve_lsf(wl, np.ones(100), 0.0)
    with pytest.raises(ValueError, match="not strictly increasing"):
        convolve_lsf(wl[::-1], np.ones(100), 1000.0)
