"""Orbits: diffrax Dopri8 against galpy's dop853_c (an independent C implementation of an 8th-order
Dormand-Prince integrator) and conservation laws.

Tolerances: at rtol = atol = 1e-12 both integrators are converged to ~1e-10 over 1 Gyr for these
regular disc orbits, so 1e-6 relative (acceptance item 2) leaves room for chaotic amplification of
round-off only; energy drift at rtol 1e-12 is ~1e-10 per Gyr.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from jaxstro.dynamics import MWPotential2014, hunt_bovy_bar
from jaxstro.dynamics._orbits import (
    OrbitOptions,
    Rotating,
    cart_to_cyl,
    cyl_to_cart,
    energy,
    integrate_orbits,
    jacobi,
    to_inertial,
    to_rotating,
)
from jaxstro.dynamics._units import time_to_natural

IC = np.array(
    [
        [1.0, 0.1, 1.1, 0.05, 0.03, 0.3],
        [0.8, -0.2, 0.9, -0.1, 0.05, 2.0],
        [1.3, 0.15, 0.95, 0.2, -0.1, -1.0],
    ]
)
TIGHT = OrbitOptions(rtol=1e-12, atol=1e-12)


def test_coordinate_roundtrip(rng):
    w = np.column_stack([rng.uniform(0.1, 2, 20), rng.normal(size=(20, 4)), rng.uniform(-3, 3, 20)])
    np.testing.assert_allclose(cart_to_cyl(cyl_to_cart(jnp.asarray(w))), w, rtol=1e-13, atol=1e-14)
    x = cyl_to_cart(jnp.asarray(w))
    np.testing.assert_allclose(to_inertial(to_rotating(x, 2.3, 1.4), 2.3, 1.4), x, atol=1e-13)


def test_orbits_vs_galpy_1gyr():
    pytest.importorskip("galpy")
    from galpy.orbit import Orbit
    from galpy.potential import MWPotential2014 as gmw

    ts = np.linspace(0.0, float(time_to_natural(1.0)), 101)
    o = Orbit(IC)
    o.integrate(ts, gmw, method="dop853_c", rtol=1e-13, atol=1e-13)
    ref = np.stack([o.x(ts), o.y(ts), o.z(ts), o.vx(ts), o.vy(ts), o.vz(ts)], -1)
    mw = MWPotential2014()
    # the batched layout: energy-sorted blocks of 1 star, padded to 4 and sharded over the 4 host
    # devices of tests/conftest.py (shard_map + lax.map), results back in input order
    sharded = OrbitOptions(rtol=1e-12, atol=1e-12, chunk_size=1, devices=4)
    w = np.asarray(integrate_orbits(mw, cyl_to_cart(jnp.asarray(IC)), ts, options=sharded))
    err = np.abs(w - ref).max(axis=(1, 2)) / np.abs(ref).max(axis=(1, 2))
    assert np.all(err < 1e-6), err
    e = np.asarray(energy(mw, w))
    assert np.abs(e / e[:, :1] - 1).max() < 1e-9


@pytest.mark.slow
def test_energy_drift_3gyr():
    mw = MWPotential2014()
    ts = np.linspace(0.0, float(time_to_natural(3.0)), 31)
    w = np.asarray(integrate_orbits(mw, cyl_to_cart(jnp.asarray(IC)), ts, options=TIGHT))
    e = np.asarray(energy(mw, w))
    assert np.abs(e / e[:, :1] - 1).max() < 1e-9


@pytest.mark.slow
def test_jacobi_and_rotating_frame():
    # the bar of the ch4 simulation (m = 2 + m = 4, Hunt & Bovy 2018, grown from t = 0 over two
    # periods): once it is steady, E_J = E - Omega_b Lz is conserved (acceptance item 2), checked
    # over 8 bar periods (1.26 Gyr); integrating in the bar frame gives the same trajectory.
    omegab = 39.0 / 27.5
    mw = MWPotential2014()
    pot = mw + hunt_bovy_bar(omegab, potential=mw, tform=0.0, tsteady=2.0)
    period = 2 * np.pi / omegab
    ts = np.linspace(2 * period, 10 * period, 41)
    w0 = cyl_to_cart(jnp.asarray(IC[:2]))
    w = np.asarray(integrate_orbits(pot, w0, ts, options=TIGHT))
    ej = np.asarray(jacobi(pot, w, ts[None, :], omegab))
    assert np.abs(ej / ej[:, :1] - 1).max() < 1e-8
    w0r = to_rotating(w0, ts[0], omegab)
    wr = integrate_orbits(pot, w0r, ts[:11], frame=Rotating(omegab), options=TIGHT)
    back = np.asarray(to_inertial(wr, ts[None, :11], omegab))
    np.testing.assert_allclose(back, w[:, :11], atol=1e-8)


def test_bad_initial_conditions():
    with pytest.raises(ValueError, match="non-finite"):
        integrate_orbits(MWPotential2014(), jnp.array([[1.0, 0, 0, 0, 1.0, jnp.nan]]), [0.0, 1.0])
    with pytest.raises(ValueError, match="shape"):
        integrate_orbits(MWPotential2014(), jnp.ones(6), [0.0, 1.0])


@pytest.mark.slow
def test_failed_integration_is_flagged():
    # an exhausted step budget gives NaN rows for that star only, and the action routine turns
    # them into flag 2 (never a silent NaN inside a batch of good values)
    from jaxstro.dynamics import snapshot_actions

    mw = MWPotential2014()
    w0 = cyl_to_cart(jnp.asarray(IC[:2]))
    ts = np.array([0.0, 0.5, 1.0])
    w = np.asarray(integrate_orbits(mw, w0, ts, options=OrbitOptions(max_steps=16)))
    ok = np.asarray(integrate_orbits(mw, w0, ts))
    assert np.all(np.isfinite(ok))
    mixed = np.stack([ok[0, 1:], w[1, 1:]])  # star 0 fine, star 1 failed (if it did)
    a = snapshot_actions(mw, mixed)
    assert np.all(a["flag"][0] == 0) and np.all(np.isfinite(a["jr"][0]))
    failed = ~np.all(np.isfinite(w[1, 1:]), -1)
    assert failed.any()
    assert np.all(a["flag"][1][failed] == 2) and np.all(np.isnan(a["jr"][1][failed]))
