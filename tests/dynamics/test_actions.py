"""Staeckel-fudge actions/frequencies against galpy's actionAngleStaeckel (C, order 10, same
focal distance 0.45). Both evaluate the same fudge with converged quadratures (galpy: order 10 vs 50
agree to 2e-10; ours: order 32), so they should agree to ~1e-8; we assert 1e-6 relative
(acceptance asks 1e-4). Bad stars (unbound, NaN) are in the same batch to share one compilation.
"""

from __future__ import annotations

import numpy as np
import pytest

from jaxstro.dynamics import MWPotential2014
from jaxstro.dynamics._actions import actions_staeckel, estimate_delta


def _disk_stars(rng, n):
    R = rng.uniform(0.5, 1.5, n)
    z = rng.normal(0, 0.05, n)
    vR = rng.normal(0, 0.15, n)
    vT = rng.normal(0.95, 0.1, n)
    vz = rng.normal(0, 0.08, n)
    return R, vR, vT, z, vz


def test_actions_vs_galpy(rng):
    pytest.importorskip("galpy")
    from galpy.actionAngle import actionAngleStaeckel, estimateDeltaStaeckel
    from galpy.potential import MWPotential2014 as gmw

    R, vR, vT, z, vz = _disk_stars(rng, 1000)
    aa = actionAngleStaeckel(pot=gmw, delta=0.45, c=True)
    jr, lz, jz, Or, Op, Oz = aa.actionsFreqs(R, vR, vT, z, vz)
    w = np.column_stack([R, vR, vT, z, vz])
    bad = np.array([[1.0, 0.0, 3.0, 0.0, 0.0], [1.0, np.nan, 1.0, 0.0, 0.0]])  # unbound, NaN
    a = actions_staeckel(MWPotential2014(), np.vstack([w, bad]), 0.45)
    n = len(R)
    for ours, ref in [
        (a.jr, jr),
        (a.jz, jz),
        (a.jphi, lz),
        (a.omega_r, Or),
        (a.omega_phi, Op),
        (a.omega_z, Oz),
    ]:
        np.testing.assert_allclose(np.asarray(ours)[:n], ref, rtol=1e-6)
    assert np.all(np.asarray(a.flag)[:n] == 0)
    assert list(np.asarray(a.flag)[n:]) == [1, 2]
    assert np.all(np.isnan(np.asarray(a.jr)[n:]))

    # focal-distance estimate (Sanders 2012 eq. 9 as in galpy; analytic vs autodiff derivatives)
    d = estimate_delta(MWPotential2014(), R[:100], z[:100])
    ref = estimateDeltaStaeckel(gmw, R[:100], z[:100].copy(), no_median=True)
    np.testing.assert_allclose(d, ref, rtol=1e-10)


@pytest.mark.slow
def test_circular_orbit_actions():
    # a circular in-plane orbit has J_R = J_z = 0 and epicyclic frequencies
    mw = MWPotential2014()
    R = np.array([0.7, 1.0, 1.3])
    w = np.column_stack([R, 0 * R, mw.vcirc(R), 0 * R, 0 * R])
    a = actions_staeckel(mw, w, 0.45)
    np.testing.assert_allclose(a.jr, 0.0, atol=1e-10)
    np.testing.assert_allclose(a.jz, 0.0, atol=1e-10)
    np.testing.assert_allclose(a.omega_r, mw.epifreq(R), rtol=1e-10)
    np.testing.assert_allclose(a.omega_phi, mw.omegac(R), rtol=1e-10)


def test_requires_axisymmetric():
    from jaxstro.dynamics import dehnen_bar

    with pytest.raises(ValueError, match="axisymmetric"):
        actions_staeckel(MWPotential2014() + dehnen_bar(1.4, rb=0.6), np.ones((1, 5)))
