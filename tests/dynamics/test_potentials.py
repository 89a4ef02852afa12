"""Potentials against galpy 1.12.1 (reference: galpy's own evaluation of the same formulas).

Tolerance 1e-10 relative (acceptance item 1): both sides evaluate closed forms in float64, so only
rounding (and galpy's finite-difference-free analytic forces) separates them; autodiff forces are
exact derivatives of our closed forms.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxstro.dynamics.potentials import (
    NFW,
    DehnenBar,
    MiyamotoNagai,
    MWPotential2014,
    PowerSphericalCutoff,
    dehnen_bar,
    dehnen_smooth,
)

from ._galpy_refs import OMEGAB_39, galpy_bar

RTOL = 1e-10


def _points(rng, n=1000):
    R = rng.uniform(0.05, 3.0, n)
    z = rng.uniform(-1.0, 1.0, n)
    phi = rng.uniform(-np.pi, np.pi, n)
    t = rng.uniform(-20.0, 10.0, n)
    return R, z, phi, t


def _close(a, b, rtol=RTOL, atol_scale=1e-13):
    a, b = np.asarray(a), np.asarray(b)
    # relative to the value, with a floor at atol_scale x the typical magnitude (zero crossings)
    scale = np.maximum(np.abs(b), atol_scale / RTOL * np.max(np.abs(b)) * 1e-3)
    err = np.max(np.abs(a - b) / scale)
    assert err < rtol, f"max relative error {err:.3e}"


def test_mw2014_amplitudes():
    # amplitudes of galpy_definitions.md section 1 (computed with galpy 1.12.1)
    mw = MWPotential2014()
    ref = [0.029994597188218296, 0.7574802019371595, 4.852230533527998]
    np.testing.assert_allclose([p.amp for p in mw.terms], ref, rtol=1e-14)
    np.testing.assert_allclose(float(mw.vcirc(1.0)), 1.0, rtol=1e-14)
    np.testing.assert_allclose(float(mw(1.0, 0.0)), -1.3733506513947897, rtol=1e-14)
    np.testing.assert_allclose(float(mw.dens(1.0, 0.0)), 0.5750860312226487, rtol=1e-13)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_mw2014_vs_galpy(rng):
    gp = pytest.importorskip("galpy.potential")
    mw = MWPotential2014()
    R, z, phi, _ = _points(rng)
    pot = gp.MWPotential2014
    _close(mw(R, z), gp.evaluatePotentials(pot, R, z))
    _close(mw.Rforce(R, z), gp.evaluateRforces(pot, R, z))
    _close(mw.zforce(R, z), gp.evaluatezforces(pot, R, z), atol_scale=1e-12)
    _close(mw.dens(R, z), gp.evaluateDensities(pot, R, z))
    _close(mw.vcirc(R), gp.vcirc(pot, R))
    _close(mw.epifreq(R), gp.epifreq(pot, R), rtol=1e-9)
    _close(mw.verticalfreq(R), gp.verticalfreq(pot, R), rtol=1e-9)


@pytest.mark.parametrize("which", [pytest.param("bulge", marks=pytest.mark.slow), "disk", "halo"])
def test_components_density_laplacian(rng, which):
    # the analytic densities equal the Laplacian of the potential (independent route)
    from jaxstro.dynamics.potentials import Potential

    pot = {
        "bulge": PowerSphericalCutoff(0.03, 1.8, 0.2375),
        "disk": MiyamotoNagai(0.75, 0.375, 0.035),
        "halo": NFW(4.85, 2.0),
    }[which]
    R, z, _, _ = _points(rng, 50)
    lap = jax.vmap(lambda r, zz: Potential._dens(pot, r, zz, 0.0, 0.0))(R, z)
    rho = np.asarray(pot.dens(R, z))
    # the Laplacian of Phi loses ~1e-17 absolute to cancellation where rho is tiny
    np.testing.assert_allclose(lap, rho, rtol=1e-8, atol=1e-12 * rho.max())


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_bar_vs_galpy(rng):
    pytest.importorskip("galpy")
    from galpy.potential import (
        evaluatephitorques,
        evaluatePotentials,
        evaluateRforces,
        evaluatezforces,
    )

    gbar, rb, gm4 = galpy_bar()
    bar = dehnen_bar(OMEGAB_39, rb=rb)
    R, z, phi, t = _points(rng)
    _close(bar(R, z, phi, t), np.array(evaluatePotentials(gbar, R, z, phi=phi, t=t)))
    _close(bar.Rforce(R, z, phi, t), evaluateRforces(gbar, R, z, phi=phi, t=t))
    _close(bar.zforce(R, z, phi, t), evaluatezforces(gbar, R, z, phi=phi, t=t))
    _close(bar.phitorque(R, z, phi, t), evaluatephitorques(gbar, R, z, phi=phi, t=t))
    # full Hunt & Bovy bar + MW in the plane (galpy's m=4 term is planar)
    from galpy.potential import MWPotential2014 as gmw
    from galpy.potential import toPlanarPotential

    b4 = dehnen_bar(OMEGAB_39, rb=rb, alpha=-0.0005, m=4)
    full = MWPotential2014() + bar + b4
    gfull = [toPlanarPotential(p) for p in gmw] + [toPlanarPotential(gbar), gm4]
    from galpy.potential import (
        evaluateplanarphitorques,
        evaluateplanarPotentials,
        evaluateplanarRforces,
    )

    # galpy's smooth wrapper takes scalar times: loop (300 points keeps this fast)
    n = 300
    ref = np.array(
        [
            [f(gfull, R[i], phi=phi[i], t=t[i]) for i in range(n)]
            for f in (evaluateplanarPotentials, evaluateplanarRforces, evaluateplanarphitorques)
        ]
    )
    R, phi, t = R[:n], phi[:n], t[:n]
    _close(full(R, 0.0, phi, t), ref[0])
    _close(full.Rforce(R, 0.0, phi, t), ref[1])
    _close(full.phitorque(R, 0.0, phi, t), ref[2])


def test_bar_constructor_matches_galpy_radius():
    pytest.importorskip("galpy")
    _, rb, _ = galpy_bar()
    bar = dehnen_bar(OMEGAB_39)
    # galpy's lindbladR uses a root finder with ~1e-12 tolerance; ours bisects to 1e-15
    np.testing.assert_allclose(bar.rb, rb, rtol=1e-10)
    np.testing.assert_allclose(bar.t_form, -17.721804712557805, rtol=1e-14)
    np.testing.assert_allclose(bar.t_steady, -8.860902356278903, rtol=1e-14)


def test_growth_function():
    t = jnp.linspace(-1.0, 2.0, 301)
    s = dehnen_smooth(t, 0.0, 1.0)
    assert float(s[0]) == 0.0 and float(s[-1]) == 1.0
    assert np.all(np.diff(np.asarray(s)) >= -1e-15)
    np.testing.assert_allclose(float(dehnen_smooth(0.5, 0.0, 1.0)), 0.5, rtol=1e-15)
    # C^1 at both ends: derivative vanishes
    ds = jax.vmap(jax.grad(lambda tt: dehnen_smooth(tt, 0.0, 1.0)))(jnp.array([1e-9, 1 - 1e-9]))
    np.testing.assert_allclose(ds, 0.0, atol=1e-6)


def test_forces_vs_finite_differences():
    mw = MWPotential2014()
    R, z, h = 0.9, 0.13, 1e-6
    fd = -(mw(R + h, z) - mw(R - h, z)) / (2 * h)
    np.testing.assert_allclose(float(mw.Rforce(R, z)), float(fd), rtol=1e-8)
    fd = -(mw(R, z + h) - mw(R, z - h)) / (2 * h)
    np.testing.assert_allclose(float(mw.zforce(R, z)), float(fd), rtol=1e-8)


def test_bad_parameters():
    with pytest.raises(ValueError, match="must be finite and > 0"):
        MiyamotoNagai(amp=-1.0, a=0.3, b=0.03)
    with pytest.raises(ValueError, match="rb"):
        DehnenBar(0.01, 1.4, rb=0.0)
    with pytest.raises(ValueError, match="alpha"):
        PowerSphericalCutoff(1.0, alpha=2.5, rc=1.0)
