"""Gradients of the normalised line spectrum (issue 5, acceptance 4): with respect to every A(X),
Teff, log g and [M/H] (through the ATLAS9 grid interpolation and the [M/H]-scaled abundances) and
vmic, reverse mode against central finite differences."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest


@pytest.mark.needs_data
@pytest.mark.slow
def test_normalised_spectrum_gradients_all_parameters():
    """f = sum(w * normalised flux), random weights, over 5049.8-5050.3 Å (51 pixels, the GES
    lines within 2 Å, hydrogen lines, planned windows fixed at the reference point) of a star
    interpolated in the ATLAS9 grid off its nodes (Teff 5630 K, log g 4.33, [M/H] -0.27, vmic
    1.1 km/s), abundances GAS2007 scaled by [M/H] plus an offset dA(X) for each of the 92
    elements. All 96 gradients (one reverse pass) vs central differences (steps 1e-3 dex,
    0.05 K, 1e-4 in log g, [M/H], vmic; the 192 evaluations vmapped): relative error <= 1e-5
    wherever the derivative is above 1e-6 of the largest (measured: 35 such parameters, worst
    1.5e-6, A(He)), and the rest equal to 1e-10 of the largest (elements without lines here and
    with no part in the continuum or the electrons: derivative ~ 0)."""
    from jaxstro.data import locate
    from jaxstro.synth import synthesize
    from jaxstro.synth.abundances import format_abundances
    from jaxstro.synth.atmosphere import interpolate_atmosphere, load_atlas9_grid
    from jaxstro.synth.lines import read_linelist
    from jaxstro.synth.synthesize import default_line_windows

    grid = load_atlas9_grid()
    wl = np.arange(5049.8, 5050.3, 0.01)
    ll = read_linelist(locate("gaiaeso_linelist")).window(wl[0] - 2, wl[-1] + 2)
    p0 = jnp.asarray([5630.0, 4.33, -0.27, 1.1])
    atm0 = interpolate_atmosphere(grid, p0[0], p0[1], p0[2])
    A0 = format_abundances(p0[2], mixture="grevesse2007")
    win = default_line_windows(atm0, ll, A0, wl, float(p0[3]))
    assert win.n_lines > 10
    wts = jnp.asarray(np.random.default_rng(0).uniform(size=wl.size))

    def f(q):
        dA, p = q[:92], q[92:]
        atm = interpolate_atmosphere(grid, p[0], p[1], p[2])
        A = format_abundances(p[2], mixture="grevesse2007") + dA
        sp = synthesize(atm, ll, A, jnp.asarray(wl), vmic=p[3], line_windows=win)
        return jnp.sum(wts * sp.normalized)

    q0 = jnp.concatenate([jnp.zeros(92), p0])
    _, g = jax.jit(jax.value_and_grad(f))(q0)
    g = np.asarray(g)
    assert np.all(np.isfinite(g))
    h = np.full(96, 1e-3)
    h[92:] = [0.05, 1e-4, 1e-4, 1e-4]
    Q = np.concatenate([np.asarray(q0) + np.diag(h), np.asarray(q0) - np.diag(h)])
    fb = jax.jit(jax.vmap(f))
    vals = np.concatenate([np.asarray(fb(jnp.asarray(Q[i:i + 48]))) for i in range(0, 192, 48)])
    fd = (vals[:96] - vals[96:]) / (2 * h)
    scale = np.abs(fd).max()
    big = np.abs(fd) > 1e-6 * scale
    assert big.sum() >= 30 and big[92:].all()  # Teff, log g, [M/H], vmic all matter
    rel = np.abs(g[big] - fd[big]) / np.abs(fd[big])
    print("significant", int(big.sum()), "worst relative error", rel.max())
    assert rel.max() < 1e-5
    np.testing.assert_allclose(g[~big], fd[~big], rtol=0, atol=1e-10 * scale)
