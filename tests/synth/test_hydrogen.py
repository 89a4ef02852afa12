"""Hydrogen lines (jaxstro.synth.lines.hydrogen): oscillator strengths, unit-area profiles and the
occupation probabilities of level dissolution."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxstro.synth.lines import hydrogen as hy

jax.config.update("jax_enable_x64", True)


def test_occupation_probability_by_hand():
    """w = w_neutral w_charged written out at one point (n = 19, T = 5000 K, n_e = 1e12,
    n_HI = 1e16, n_HeI = 1e15 cm^-3), and its limits: -> 1 for low levels at low density, falls
    with n and with density, never above 1."""
    a0 = 5.29177210903e-9
    n, T, ne, nh, nhe = 19.0, 5000.0, 1e12, 1e16, 1e15
    r = a0 * np.sqrt(2.5 * n**4 + 0.5 * n**2)
    wn = np.exp(-4 * np.pi / 3 * (nh * (r + 1.73 * a0) ** 3 + nhe * (r + 1.02 * a0) ** 3))
    K = 16 / 3 * n / (n + 1) ** 2
    x = (1 + 0.09 * ne ** (1 / 6) / np.sqrt(T)) ** 3.15
    beta = 8.3e14 * ne ** (-2 / 3) * K / n**4
    f = 0.1402 * x * beta**3 / (1 + 0.1285 * x * beta**1.5)
    want = wn * f / (1 + f)
    assert float(hy.occupation_probability(n, T, ne, nh, nhe)) == pytest.approx(want, rel=1e-12)
    assert 0.05 < want < 0.5
    w = np.asarray(hy.occupation_probability(jnp.arange(2.0, 31.0), T, 1e10, 1e14, 1e13))
    assert w[0] > 1 - 1e-6 and np.all(np.diff(w) < 0) and np.all(w <= 1)
    dense = np.asarray(hy.occupation_probability(jnp.arange(2.0, 31.0), T, 1e14, 1e17, 1e16))
    assert np.all(dense <= w) and dense[-1] < 1e-10


def test_kramers_johnson_gf_against_tables():
    """The Kramers-Johnson g f used for the Brackett lines reproduces the Stehlé-Hutcheon
    tabulated Balmer and Paschen values to 1 %."""
    pytest.importorskip("h5py")
    try:
        tab = hy.load_stehle_hutcheon()
    except FileNotFoundError as e:
        pytest.skip(str(e))
    pairs = [k for k in tab if k != "log10_T" and k[0] in (2, 3)]
    assert len(pairs) > 20
    for lo, up in pairs:
        assert np.log10(hy.hydrogen_gf(lo, up)) == pytest.approx(tab[(lo, up)]["log_gf"],
                                                                 abs=0.0043), (lo, up)


@pytest.mark.needs_data
def test_profiles_unit_area_and_dissolution_factor():
    """Integrated over frequency, each line's opacity equals its LTE strength times w(n_upper)
    (to 1 % over +-2 % of lambda_0;
    measured 0.9995 for Pa 12, 0.9957 for Br 19), and switching level dissolution off changes
    every line by exactly 1/w(n_upper)."""
    T, ne, nh, nhe, U = (jnp.array([v]) for v in (6000.0, 1e13, 1e16, 1e15, 2.0))
    for lo, up in ((3, 12), (4, 19)):
        lam0 = float(hy.hydrogen_line_centre(lo, up))
        hl = hy.hydrogen_lines_for(np.array([lam0]), window=1e-6, max_upper=up)
        keep = (np.asarray(hl.upper) == up) & (np.asarray(hl.lower) == lo)
        hl = jax.tree_util.tree_map(lambda a, keep=keep: a[keep] if a.ndim and a.shape[0] ==
                                    keep.size else a, hl)
        assert hl.n_lines == 1
        wl = lam0 * (1.0 + np.linspace(-0.02, 0.02, 400001))
        on = np.asarray(hy.hydrogen_line_absorption(wl, T, ne, nh, U, hl, 0.0, nhe))[0]
        off = np.asarray(hy.hydrogen_line_absorption(wl, T, ne, nh, U, hl, 0.0, nhe,
                                                     level_dissolution=False))[0]
        w = float(hy.occupation_probability(up, 6000.0, 1e13, 1e16, 1e15))
        np.testing.assert_allclose(on, w * off, rtol=1e-12)
        nu = 2.99792458e18 / wl
        area = -np.trapezoid(off, nu)
        kT = 1.380649e-16 * 6000.0
        El = hy.RYDBERG_H_EV * (1 - 1 / lo**2) * 1.602176634e-12
        strength = (hy.SIGMA_LINE * 10 ** float(hl.log_gf[0]) * 1e16 * np.exp(-El / kT) / 2.0
                    * -np.expm1(-6.62607015e-27 * 2.99792458e18 / lam0 / kT))
        # +-2 % of lambda_0 misses the far Holtsmark wings (area ~ dnu^-3/2): < 0.5 % here
        assert 0.99 < area / strength < 1.01, (lo, up, area / strength)


def test_self_broadening_excess_matches_scipy_voigt_minus_gaussian():
    """Voigt minus its Gaussian (series core, continued-fraction wings, closed-form Gaussian)
    against scipy.special.voigt_profile - the normal pdf, across |v + i a| = 8, with finite
    gradients on both sides of the switch."""
    import jax
    import jax.numpy as jnp
    from scipy.special import voigt_profile as sp_voigt
    from scipy.stats import norm

    from jaxstro.synth.lines.hydrogen import _self_broadening_excess

    sigma = 1.3e10
    x = np.concatenate([np.linspace(-20, 20, 801), np.geomspace(20, 3000, 200)]) * sigma
    for a in (1e-4, 0.03, 0.3, 2.0):
        gamma = a * sigma * np.sqrt(2.0)
        ours = np.asarray(_self_broadening_excess(jnp.asarray(x), sigma, gamma))
        ref = sp_voigt(x, sigma, gamma) - norm.pdf(x, scale=sigma)
        peak = sp_voigt(0.0, sigma, gamma)
        np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-10 * peak)
    g = jax.vmap(jax.grad(lambda d: _self_broadening_excess(d, sigma, 0.03 * sigma)))(
        jnp.asarray(np.linspace(11.0, 11.6, 31) * sigma))  # v = dnu / (sigma sqrt 2) ~ 8
    assert np.all(np.isfinite(np.asarray(g)))
