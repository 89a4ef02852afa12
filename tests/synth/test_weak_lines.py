"""Weak isolated lines: equivalent widths from ``synthesize`` equal the linear curve-of-growth
limit (issue 5, acceptance 3).

The weak-line limit in a given atmosphere: to first order in the line opacity, a line adds
``phi(lambda) s_z`` to the absorption of layer z (``s_z`` = the line's integrated opacity,
``lines.weak_line_strength``, checked against the analytic strength in test_line_absorption.py,
and ``phi`` the unit-area profile), so the equivalent width is
``W_lin = -sum_z (dF_c/d alpha_z) s_z / F_c`` with ``dF_c/d alpha_z`` the response of the
continuum flux at the line centre to the absorption of each layer (reverse-mode derivative of
the formal solution). ``synthesize`` instead evaluates windowed Voigt profiles on the pixel grid,
adds them to the continuum and solves the transfer non-linearly; its equivalent width must
approach ``W_lin`` as the line weakens, the remaining difference being saturation (~ -depth).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

# (species, E_lower [eV], centre [Å, vacuum], log gf): pairs 1 dex apart, max depths measured
# 0.8 %/0.08 % (Fe I), 0.4 %/0.04 % (Ti I), 0.3 %/0.03 % (Fe II), 0.5 %/0.05 % (Ca I)
LINES = [("Fe I", 3.0, 4500.0, -5.0), ("Fe I", 3.0, 4510.0, -6.0),
         ("Ti I", 1.0, 5200.0, -3.5), ("Ti I", 1.0, 5210.0, -4.5),
         ("Fe II", 3.2, 6100.0, -6.0), ("Fe II", 3.2, 6110.0, -7.0),
         ("Ca I", 2.5, 7000.0, -4.0), ("Ca I", 2.5, 7010.0, -5.0)]
HALF, STEP = 1.0, 0.01  # Å: each line alone on +-1 Å at the 0.01 Å sampling


def _equivalent_widths(window_options=None):
    """(max depth, W, W_lin) of LINES on the MARCS Sun (solar abundances, vmic 1 km/s, Unsöld
    van der Waals, Cowley Stark)."""
    from jaxstro.data import locate
    from jaxstro.synth import synthesize
    from jaxstro.synth.abundances import format_abundances
    from jaxstro.synth.atmosphere import read_marcs
    from jaxstro.synth.lines import make_linelist
    from jaxstro.synth.lines.absorption import species_state, weak_line_strength
    from jaxstro.synth.statmech import atmosphere_equilibrium
    from jaxstro.synth.synthesize import (
        _default_continuum_data,
        _default_equilibrium_data,
        continuum_layers,
        default_line_windows,
        planck_lambda,
    )
    from jaxstro.synth.transfer import PlaneParallel, radiative_transfer

    atm = read_marcs(locate("marcs_sun"))
    A = format_abundances()
    sp_names, El, centres, lgf = (list(c) for c in zip(*LINES, strict=True))
    centres = np.array(centres)
    ll = make_linelist(centres, lgf, sp_names, El)
    rel = np.round(np.arange(-HALF, HALF + 1e-9, STEP), 2)
    wl = np.concatenate([c + rel for c in centres])
    scheme = PlaneParallel(n_mu=10)
    win = default_line_windows(atm, ll, A, wl, 1.0, options=window_options)
    sp = synthesize(atm, ll, A, wl, vmic=1.0, hydrogen_lines=False, scheme=scheme,
                    line_windows=win)
    depth = (1.0 - np.asarray(sp.normalized)).reshape(len(LINES), rel.size)
    W = np.trapezoid(depth, rel, axis=1)  # Å

    cd, ed = _default_continuum_data(), _default_equilibrium_data()
    atm_u, ne, n = atmosphere_equilibrium(atm, A, ed)
    s = np.asarray(weak_line_strength(ll, atm_u.temperature,
                                      species_state(ll.species, n, atm_u.temperature, ed)))
    lam = jnp.asarray(np.asarray(ll.wavelength) * 1e-8)  # sorted like the list (= LINES here)
    alpha, alpha_ref = continuum_layers(atm_u, ne, n, lam, cd)
    src = planck_lambda(lam[None, :], atm_u.temperature[:, None])

    def flux(a):
        return radiative_transfer(atm_u, a, src, alpha_ref, scheme)[0]

    Fc = np.asarray(flux(alpha))
    dF = np.asarray(jax.jacrev(flux)(alpha))  # (line, layer, line)
    k = np.arange(len(LINES))
    W_lin = -np.einsum("ij,ij->i", dF[k, :, k], s) / Fc * 1e8  # Å
    return depth.max(axis=1), W, W_lin


@pytest.mark.needs_data
def test_weak_line_equivalent_widths_equal_linear_limit():
    """Profiles kept down to 1e-6 of the continuum (``WindowOptions(cutoff=1e-6)``): every
    line's W/W_lin - 1 within 1 % (measured -0.59 % to -0.28 %: saturation, ~ -depth, plus the
    Lorentz wings beyond the +-1 Å integration range, ~0.3 %), and for each pair the weaker line
    closer to the limit."""
    from jaxstro.synth.lines.absorption import WindowOptions

    depth, W, W_lin = _equivalent_widths(WindowOptions(cutoff=1e-6))
    dev = W / W_lin - 1.0
    print("depth", np.round(depth, 5), "W/W_lin - 1", np.round(dev, 5))
    assert np.all(depth < 0.01)
    assert np.all(np.abs(dev) < 0.01)
    assert np.all(np.abs(dev[1::2]) < np.abs(dev[0::2]))
    assert np.all(dev[0::2] < 0)  # saturation makes lines weaker than linear, never stronger


@pytest.mark.needs_data
@pytest.mark.slow
def test_weak_line_equivalent_widths_default_windows():
    """The default windows (cut at 1e-4 of the continuum, as Turbospectrum; each kept line at
    least as wide as its Gaussian core to 0.2 % of its area, ``WindowOptions.max_lost_area``)
    lose the Lorentz wings beyond the cut: measured W/W_lin - 1 = -0.55 % to -1.9 % for these
    lines (without the core bound -1 % to -4 %). Asserted: within 2.5 %."""
    depth, W, W_lin = _equivalent_widths()
    dev = W / W_lin - 1.0
    print("depth", np.round(depth, 5), "W/W_lin - 1", np.round(dev, 5))
    assert np.all(np.abs(dev) < 0.025) and np.all(dev < 0)
