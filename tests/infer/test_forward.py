"""jaxstro.infer.make_synth_forward: argument validation, and gradients of the full chain
(atmosphere interpolation -> synthesize with lines -> rotation -> LSF -> Doppler -> resample)
against central finite differences."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxstro import infer


def test_make_synth_forward_rejects_bad_arguments():
    wl = np.linspace(5000.0, 5010.0, 20)
    with pytest.raises(ValueError, match="unknown free parameters"):
        infer.make_synth_forward(wl, free=("teff", "radius"))
    with pytest.raises(ValueError, match="unknown fixed parameters"):
        infer.make_synth_forward(wl, fixed={"mass": 1.0})
    with pytest.raises(ValueError, match="strictly increasing"):
        infer.make_synth_forward(wl[::-1])


@pytest.mark.slow
@pytest.mark.needs_data
def test_synth_forward_gradient_matches_finite_differences():
    from jaxstro.synth.lines import make_linelist

    lines = make_linelist([5005.0, 5006.2], [-1.0, -1.5], ["Fe I", "Ti I"], [2.2, 1.0])
    wl = np.linspace(5004.0, 5007.0, 40)
    free = ("teff", "logg", "m_h", "vmic", "vsini", "rv", "R")
    fw = infer.make_synth_forward(wl, linelist=lines, free=free, synth_step=0.03, max_rv=20.0,
                                  max_vsini=10.0, min_R=20_000.0)
    p0 = {"teff": 5600.0, "logg": 4.3, "m_h": -0.2, "vmic": 1.1, "vsini": 4.0, "rv": 3.0,
          "R": 40_000.0}
    f0 = np.asarray(fw(p0))
    assert f0.shape == wl.shape and f0.min() < 0.9  # the lines are there
    weights = jnp.asarray(np.random.default_rng(0).normal(size=wl.size))
    loss = eqx.filter_jit(lambda p: jnp.sum(weights * fw(p)))
    grad = jax.grad(loss)(p0)
    steps = {"teff": 5.0, "logg": 0.01, "m_h": 0.01, "vmic": 0.01, "vsini": 0.05, "rv": 0.05,
             "R": 200.0}
    for name, h in steps.items():
        up, dn = dict(p0), dict(p0)
        up[name] += h
        dn[name] -= h
        fd = (float(loss(up)) - float(loss(dn))) / (2 * h)
        # central differences are O(h^2) accurate; 2 % (plus a floor for near-zero derivatives)
        # covers the truncation error of the steps above
        assert float(grad[name]) == pytest.approx(fd, rel=2e-2, abs=1e-3 * abs(fd) + 1e-9), name


@pytest.mark.slow
@pytest.mark.needs_data
def test_planned_line_windows_and_macroturbulence():
    """``plan_line_windows`` (strength-sized cuts at the fixed parameters, reused under trace)
    reproduces the 5 Å-cut forward model to 1e-4 (the cut is at 1e-4 of the continuum opacity)
    near the planning point, and the vmac gradient matches central differences."""
    from jaxstro.synth.lines import make_linelist

    lines = make_linelist([5005.0, 5006.2], [-1.0, -1.5], ["Fe I", "Ti I"], [2.2, 1.0])
    wl = np.linspace(5004.0, 5007.0, 40)
    kw = dict(linelist=lines, free=("teff", "vmac"), synth_step=0.03, max_rv=5.0,
              max_vsini=5.0, max_vmac=8.0, min_R=20_000.0,
              fixed={"teff": 5700.0, "logg": 4.4, "m_h": 0.0, "R": 40_000.0})
    planned = infer.make_synth_forward(wl, plan_line_windows=True, **kw)
    cut5 = infer.make_synth_forward(wl, **kw)
    p = {"teff": jnp.asarray(5750.0), "vmac": jnp.asarray(3.0)}
    # closures: the models' arrays stay constants (the 5 Å plan needs a concrete grid)
    f_plan = np.asarray(eqx.filter_jit(lambda q: planned(q))(p))
    f_cut = np.asarray(eqx.filter_jit(lambda q: cut5(q))(p))
    assert f_plan.min() < 0.9
    np.testing.assert_allclose(f_plan, f_cut, atol=1e-4)
    wts = jnp.asarray(np.random.default_rng(3).normal(size=wl.size))
    loss = eqx.filter_jit(lambda q: jnp.sum(wts * planned(q)))
    g = float(jax.grad(loss)(p)["vmac"])
    h = 1e-3
    fd = (float(loss({**p, "vmac": p["vmac"] + h})) - float(loss({**p, "vmac": p["vmac"] - h})))
    assert g == pytest.approx(fd / (2 * h), rel=1e-4)
