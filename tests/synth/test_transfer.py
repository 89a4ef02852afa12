"""Formal solution vs analytic results.

References: for a source function linear in optical depth, S = a + b tau, the emergent intensity is
I(mu) = a + b mu and the flux F = 2 pi int I mu dmu = pi (a + 2b/3) exactly (Eddington-Barbier;
Mihalas 1978 sec. 2-3); the scheme integrates piecewise-linear S exactly, so we require 1e-10.
Grey atmosphere in the Eddington approximation, S = 3 sigma Teff^4 / (4 pi) (tau + 2/3), must give
F = sigma Teff^4 (same exactness). For a curved source function the Gauss-Legendre quadrature in
mu must converge (1e-6 between n_mu = 8 and 16), and the spherical solution must tend to the
plane-parallel one when the radius is much larger than the atmosphere's thickness (R = 1e8 x
thickness: 1e-6).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxstro.synth.atmosphere import Atmosphere
from jaxstro.synth.transfer import (
    PlaneParallel,
    Spherical,
    gauss_legendre_mu,
    optical_depth,
    radiative_transfer,
)

N = 60
rt = jax.jit(radiative_transfer)  # one compilation per (shape, scheme)


def _atm(reference_wavelength=None, radius=1.0, spherical=False):
    tau = np.logspace(-6, 2.5, N)
    alpha0 = 1e-7  # cm^-1, constant: tau = alpha0 * (z0 - z)
    z = -tau / alpha0
    z = z - z[np.argmin(np.abs(tau - 1))]  # z = 0 at tau = 1
    ones = np.ones(N)
    return (
        Atmosphere(
            tau_ref=jnp.asarray(tau), z=jnp.asarray(z), temperature=jnp.asarray(5000 * ones),
            electron_density=jnp.asarray(1e13 * ones), number_density=jnp.asarray(1e17 * ones),
            radius=jnp.asarray(radius), spherical=spherical,
            reference_wavelength=reference_wavelength,
        ),
        alpha0,
    )  # fmt: skip


def test_linear_source_exact_plane_parallel():
    atm, alpha0 = _atm(reference_wavelength=None)
    alpha = jnp.full((N, 2), alpha0)
    tau = optical_depth(atm, alpha)
    a, b = jnp.asarray([1.0, 2.0]), jnp.asarray([3.0, 0.5])
    S = a + b * tau
    mu_out = jnp.asarray([0.1, 0.5, 1.0])
    F, I = rt(atm, alpha, S, None, PlaneParallel(4), mu_out)
    # tau(top) = 0 on the z scale; S is linear in the numerical tau, so the answer is exact
    np.testing.assert_allclose(F, np.pi * (a + 2 * b / 3), rtol=1e-10)
    np.testing.assert_allclose(I, a + b * mu_out[:, None], rtol=1e-10)


def test_grey_eddington_flux():
    atm, alpha0 = _atm(reference_wavelength=5000.0)
    alpha = jnp.full((N, 1), alpha0)
    tau = optical_depth(atm, alpha, jnp.full(N, alpha0))
    sigma_sb, teff = 5.670374e-5, 5777.0
    S = 3 * sigma_sb * teff**4 / (4 * np.pi) * (tau + 2.0 / 3.0)
    F, _ = rt(atm, alpha, S, jnp.full(N, alpha0), PlaneParallel(3))
    np.testing.assert_allclose(F[0], sigma_sb * teff**4, rtol=1e-10)


def test_anchored_optical_depth():
    """dtau = (alpha/alpha_ref) dtau_ref, trapezoid of the ratio in tau_ref (log-mean tau in
    ln tau_ref; Turbospectrum's rule): a constant ratio scales tau_ref exactly (the former
    arithmetic-mean rule was 1 % off on this grid, d ln tau = 0.33), and a ratio linear in tau_ref,
    r = 1 + tau_ref, gives tau = r_top tau_top + (tau^2 - tau_top^2)/2 + (tau - tau_top), also
    exactly (the trapezoid rule is exact for a linear integrand)."""
    atm, alpha0 = _atm(reference_wavelength=5000.0)
    tau = optical_depth(atm, jnp.full((N, 1), 2 * alpha0), jnp.full(N, alpha0))[:, 0]
    np.testing.assert_allclose(tau, 2 * atm.tau_ref, rtol=1e-13)
    t = np.asarray(atm.tau_ref)
    ratio = 1.0 + t
    tau = optical_depth(atm, jnp.asarray(alpha0 * ratio)[:, None], jnp.full(N, alpha0))[:, 0]
    t0 = t[0]
    expect = ratio[0] * t0 + (t**2 - t0**2) / 2 + (t - t0)
    np.testing.assert_allclose(tau, expect, rtol=1e-12)


def test_quadrature_convergence_and_gauss_nodes():
    mu, w = gauss_legendre_mu(5)
    assert np.all((mu > 0) & (mu < 1)) and abs(w.sum() - 1) < 1e-14
    atm, alpha0 = _atm(reference_wavelength=None)
    alpha = jnp.full((N, 1), alpha0)
    tau = optical_depth(atm, alpha)
    S = 1.0 + jnp.tanh(tau) + 0.3 * jnp.sqrt(tau)  # curved source function
    F = [float(rt(atm, alpha, S, None, PlaneParallel(n, exact_flux=False))[0][0])
         for n in (8, 16)]
    assert abs(F[0] / F[1] - 1) < 1e-6


def test_exponential_integrals_against_scipy():
    from scipy.special import expn

    from jaxstro.synth.transfer import exponential_integrals

    x = np.geomspace(1e-10, 650.0, 20001)
    E = jax.jit(exponential_integrals)(jnp.asarray(x))
    for n, e in enumerate(E, start=1):
        ref = expn(n, x)
        err = np.abs(np.asarray(e) - ref)
        assert err.max() < 1e-14
        assert np.max(err / ref) < (4e-14 if n == 1 else 1e-7)  # E_4 rel. at x ~ 650 (~1e-285)
        assert np.max((err / ref)[x < 30]) < 1e-11


@pytest.mark.parametrize("ref", [None, 5000.0])
def test_exact_flux_matches_converged_quadrature(ref):
    """The E_n flux equals the Gauss-Legendre quadrature of the same piecewise-linear solution in
    the limit of many angles (40 nodes: 1e-9), for a curved S and a wavelength-dependent alpha."""
    atm, alpha0 = _atm(reference_wavelength=ref)
    alpha = jnp.full((N, 1), alpha0) * jnp.asarray([0.3, 1.0, 30.0])
    a_ref = None if ref is None else jnp.full(N, alpha0)
    tau = optical_depth(atm, alpha, a_ref)
    S = 1.0 + jnp.tanh(tau) + 0.3 * jnp.sqrt(tau) + 0.01 * tau
    F_exact, _ = rt(atm, alpha, S, a_ref, PlaneParallel(4))
    F_gl, _ = rt(atm, alpha, S, a_ref, PlaneParallel(40, exact_flux=False))
    np.testing.assert_allclose(F_exact, F_gl, rtol=1e-9)
    g = jax.grad(lambda a: jnp.sum(radiative_transfer(atm, a, S, a_ref, PlaneParallel(4))[0]))
    assert np.all(np.isfinite(np.asarray(g(alpha))))


@pytest.mark.parametrize("ref", [None, 5000.0])
def test_spherical_tends_to_plane_parallel(ref):
    atm_pp, alpha0 = _atm(reference_wavelength=ref)
    thickness = float(atm_pp.z[0] - atm_pp.z[-1])
    atm_sph, _ = _atm(reference_wavelength=ref, radius=1e8 * thickness, spherical=True)
    alpha = jnp.full((N, 1), alpha0) * jnp.asarray([1.0, 3.0])
    tau = optical_depth(atm_pp, alpha, jnp.full(N, alpha0))
    S = 1.0 + jnp.tanh(tau) + 0.3 * jnp.sqrt(tau)
    F_pp, I_pp = rt(atm_pp, alpha, S, jnp.full(N, alpha0), PlaneParallel(12))
    F_sp, I_sp = rt(atm_sph, alpha, S, jnp.full(N, alpha0), Spherical(12))
    np.testing.assert_allclose(F_sp, F_pp, rtol=1e-6)
    np.testing.assert_allclose(I_sp, I_pp, rtol=1e-6)


def test_spherical_extended_atmosphere():
    """A thin (R = 20 x thickness) atmosphere: rays near the limb miss the bottom and see the
    atmosphere twice; the flux stays finite, positive and below the plane-parallel value for a
    source function increasing inward (limb rays sample higher, cooler layers), once the flux is
    taken back from the model radius to the top of the atmosphere."""
    atm_pp, alpha0 = _atm(reference_wavelength=None)
    thickness = float(atm_pp.z[0] - atm_pp.z[-1])
    atm_sph, _ = _atm(reference_wavelength=None, radius=20 * thickness, spherical=True)
    alpha = jnp.full((N, 1), alpha0)
    S = 1.0 + optical_depth(atm_pp, alpha)
    F_pp, _ = rt(atm_pp, alpha, S, None, PlaneParallel(20))
    F_sp, I_sp = rt(atm_sph, alpha, S, None, Spherical(20))
    assert np.all(np.isfinite(I_sp)) and np.all(I_sp > 0)
    to_top = float((atm_sph.radius / (atm_sph.radius + atm_sph.z[0])) ** 2)
    assert 0.5 * F_pp[0] < F_sp[0] * to_top < F_pp[0]


def test_bad_input():
    atm, alpha0 = _atm(reference_wavelength=5000.0)
    with pytest.raises(ValueError, match="alpha_ref"):
        radiative_transfer(atm, jnp.ones((N, 2)), jnp.ones((N, 2)))
    with pytest.raises(ValueError, match="n_layers"):
        radiative_transfer(atm, jnp.ones((N, 2)), jnp.ones((N, 3)), jnp.ones(N))


def test_telescoped_plane_parallel_equals_segment_sum():
    """The plane-parallel intensity (one exponential per layer, telescoped sum) equals the sum of
    exact piecewise-linear segment integrals (``_segments``) to 1e-12 relative, for optical depth
    steps from 1e-9 (the small-step branch) to 30 and a non-monotonic source function."""
    from jaxstro.synth.transfer import _pp_intensity, _segments

    rng = np.random.default_rng(3)
    steps = 10.0 ** rng.uniform(-9, 1.5, (N - 1, 7))
    tau = np.concatenate([np.full((1, 7), 1e-7), 1e-7 + np.cumsum(steps, axis=0)])
    S = 1.0 + 0.5 * np.sin(np.arange(N))[:, None] + rng.uniform(0, 0.1, (N, 7))
    mu = jnp.asarray([0.05, 0.4, 1.0])
    got = np.asarray(_pp_intensity(jnp.asarray(tau), jnp.asarray(S), mu))
    for k, m in enumerate(np.asarray(mu)):
        t = tau / m
        inner = np.asarray(jnp.sum(_segments(S[:-1], S[1:], t[:-1], t[1:]), axis=0))
        top = S[0] * -np.expm1(-t[0])
        bottom = (S[-1] + (S[-1] - S[-2]) / (t[-1] - t[-2])) * np.exp(-t[-1])
        np.testing.assert_allclose(got[k], top + inner + bottom, rtol=1e-12)
