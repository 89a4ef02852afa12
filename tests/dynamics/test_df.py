"""Quasi-isothermal DF against galpy's quasiisothermaldf (same parameters, Staeckel delta 0.45).

f: galpy interpolates R_g(L_z) with a cubic spline, we bisect exactly, so values agree to ~1e-7
(measured 3e-8); asserted 1e-6. Samples: moments within 4 standard errors of galpy's moments.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxstro.dynamics import MWPotential2014
from jaxstro.dynamics._df import QuasiIsothermalDF, SampleWindow, sample_qdf


def _galpy_qdf():
    from galpy.actionAngle import actionAngleStaeckel
    from galpy.df import quasiisothermaldf
    from galpy.potential import MWPotential2014 as gmw

    aa = actionAngleStaeckel(pot=gmw, delta=0.45, c=True)
    return quasiisothermaldf(1.0 / 3.0, 0.2, 0.1, 1.0, 1.0, pot=gmw, aA=aa, cutcounter=True)


def _ours():
    return QuasiIsothermalDF(MWPotential2014(), 1.0 / 3.0, 0.2, 0.1, 1.0, 1.0)


def test_qdf_values_vs_galpy(rng):
    pytest.importorskip("galpy")
    qdf = _galpy_qdf()
    n = 30
    w = np.column_stack(
        [
            rng.uniform(0.6, 1.4, n),
            rng.normal(0, 0.2, n),
            rng.normal(0.9, 0.1, n),
            rng.uniform(-0.1, 0.1, n),
            rng.normal(0, 0.1, n),
        ]
    )
    ref = np.array([qdf(*w[i, [0, 1, 2, 3, 4]]) for i in range(n)]).ravel()
    ours = jax.jit(jax.vmap(_ours()))(jnp.asarray(w))
    np.testing.assert_allclose(ours, ref, rtol=1e-6)


@pytest.mark.slow
def test_qdf_samples_vs_galpy_moments(key):
    pytest.importorskip("galpy")
    qdf = _galpy_qdf()
    s = np.asarray(sample_qdf(_ours(), key, 20000, SampleWindow(0.5, 1.5, 0.5)))
    near = np.abs(s[:, 3]) < 0.05
    for r0 in (0.8, 1.0, 1.2):
        sel = near & (np.abs(s[:, 0] - r0) < 0.05)
        vr = s[sel, 1]
        ref = np.sqrt(qdf.sigmaR2(r0, 0.025, ngl=10))
        err = np.std(vr) / np.sqrt(2 * len(vr))
        assert abs(np.std(vr) - ref) < 4 * err + 0.01 * ref
    # relative surface-density profile near the plane vs galpy's density at the bin centres
    counts = np.array([np.sum(near & (np.abs(s[:, 0] - r0) < 0.05)) for r0 in (0.8, 1.2)])
    dens = np.array([qdf.density(r0, 0.025, ngl=10) * r0 for r0 in (0.8, 1.2)])
    ratio, ref = counts[1] / counts[0], dens[1] / dens[0]
    assert abs(ratio - ref) < 4 * ratio * np.sqrt(1 / counts[0] + 1 / counts[1]) + 0.03 * ref


@pytest.mark.slow
def test_sampler_deterministic_and_in_window():
    # a tiny draw (compile-dominated): same key -> same stars; all inside the window
    df = _ours()
    win = SampleWindow(0.9, 1.1, 0.1)
    a = np.asarray(sample_qdf(df, jax.random.key(3), 50, win, batch=512))
    b = np.asarray(sample_qdf(df, jax.random.key(3), 50, win, batch=512))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (50, 6)
    assert np.all((a[:, 0] >= 0.9) & (a[:, 0] <= 1.1) & (np.abs(a[:, 3]) <= 0.1))
