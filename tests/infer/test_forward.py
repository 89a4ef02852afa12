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
