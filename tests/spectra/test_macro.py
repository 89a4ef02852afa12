"""Radial-tangential macroturbulence kernel and broadening.

References: scipy.integrate.quad of the disc integral that defines the flux profile (Gray 2005,
sect. 17.5: half radial, half tangential Gaussians of widths zeta cos(theta) and zeta sin(theta),
weight 2 mu dmu), quad of the kernel for its closed-form CDF, and a dense convolution on a 20x
finer grid for the pixel-integrated operator.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate

from jaxstro.spectra import (
    C_KMS,
    macroturbulence_kernel,
    macroturbulence_kernel_cdf,
    macroturbulent_broaden,
)


def disc_integral(x):
    """The defining integral: 1/2 [radial + tangential], each int_0^1 2 mu G(x; width) dmu."""
    def g(x, s):
        return np.exp(-((x / s) ** 2)) / (np.sqrt(np.pi) * s) if s > 0 else 0.0

    rad, _ = integrate.quad(lambda mu: 2 * mu * g(x, mu), 0, 1, limit=200)
    tan, _ = integrate.quad(lambda mu: 2 * mu * g(x, np.sqrt(1 - mu**2)), 0, 1, limit=200)
    return 0.5 * (rad + tan)


@pytest.mark.parametrize("x", [0.05, 0.3, 0.7, 1.2, 2.5])
def test_kernel_is_the_disc_integral(x):
    assert float(macroturbulence_kernel(x)) == pytest.approx(disc_integral(x), rel=1e-6)
    assert float(macroturbulence_kernel(-x)) == float(macroturbulence_kernel(x))


def test_cdf_matches_quadrature_and_normalises():
    for x in [-3.0, -1.0, -0.2, 0.0, 0.4, 1.5, 3.5]:
        val, _ = integrate.quad(lambda t: float(macroturbulence_kernel(t)), -8, x, points=[0.0])
        assert float(macroturbulence_kernel_cdf(x)) == pytest.approx(val, abs=1e-10)
    assert float(macroturbulence_kernel_cdf(10.0)) == pytest.approx(1.0, abs=1e-14)
    assert float(macroturbulence_kernel_cdf(-10.0)) == pytest.approx(0.0, abs=1e-14)


def _lines(wl):
    f = np.ones_like(wl)
    for c, d, s in [(5000.3, 0.6, 0.02), (5000.9, 0.3, 0.03), (5001.4, 0.8, 0.015)]:
        f *= 1 - d * np.exp(-0.5 * ((wl - c) / s) ** 2)
    return f


def test_broadening_matches_dense_fine_convolution_and_conserves_ew():
    zeta = 4.0  # km/s: dlam_M = 0.067 Å, 6.7 pixels of 0.01 Å
    wl = np.arange(4999.5, 5002.2, 0.01)
    out = np.asarray(macroturbulent_broaden(wl, _lines(wl), zeta))
    # reference: the kernel sampled on a 20x finer grid, applied to the (piecewise-constant) input
    d = 5000.9 * zeta / C_KMS
    xs = np.arange(-6 * d, 6 * d + 1e-9, 0.0005)
    k = np.asarray(macroturbulence_kernel(xs / d))
    fine = np.arange(wl[0] - 0.005, wl[-1] + 0.005, 0.0005)
    f_fine = _lines(wl)[np.clip(np.round((fine - wl[0]) / 0.01).astype(int), 0, wl.size - 1)]
    ref = np.convolve(f_fine, k / k.sum(), mode="same")
    ref = np.interp(wl, fine, ref)
    inner = (wl > wl[0] + 0.3) & (wl < wl[-1] - 0.3)
    # the kernel width varies by 2e-4 across the window (taken at the output pixel): 2e-4 level
    np.testing.assert_allclose(out[inner], ref[inner], atol=2e-3)
    ew_in = np.sum(1 - _lines(wl)[inner])
    ew_out = np.sum(1 - out[inner])
    assert ew_out == pytest.approx(ew_in, rel=1e-4)
    assert out.min() > _lines(wl).min()  # broadened lines are shallower


def test_zero_zeta_is_identity_and_bad_input_raises():
    wl = np.arange(5000.0, 5001.0, 0.01)
    f = _lines(wl + 0.3)
    np.testing.assert_allclose(macroturbulent_broaden(wl, f, 0.0), f, atol=1e-14)
    with pytest.raises(ValueError, match=">= 0"):
        macroturbulent_broaden(wl, f, -1.0)


def test_gradient_in_zeta_matches_finite_differences():
    wl = np.arange(5000.0, 5002.0, 0.01)
    f = jnp.asarray(_lines(wl))
    wts = jnp.asarray(np.random.default_rng(1).normal(size=wl.size))

    def loss(z):
        return jnp.sum(wts * macroturbulent_broaden(wl, f, z, half_width=40))

    g = float(jax.grad(loss)(3.0))
    h = 1e-4
    fd = (float(loss(3.0 + h)) - float(loss(3.0 - h))) / (2 * h)
    assert g == pytest.approx(fd, rel=1e-5)
