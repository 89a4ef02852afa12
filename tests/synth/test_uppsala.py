"""Uppsala opacity tables (``uppsala_bf``, ``molecular_bf``): parser, interpolation rules, and the
layer opacities against Turbospectrum's own (babsma) output.

References: the numbers printed in ``jonabs_vac_v19.2.dat`` itself (parser: exact); the
interpolation rules the file's flags prescribe (linear in wavelength, 3-point Lagrange of
log kappa in T inside a uniformly spaced part of the T grid: 1e-12, rounding); Turbospectrum
v20.1's continuous opacity per layer for the MARCS Sun (``tests/synth/reference``, babsma,
5 significant digits) in the layers above log tau_5000 = -1, where the H I treatments do not
matter: 2.5 % (measured -2.0..+1.3 % over 3000-15000 Å; the remainder is partition functions and
the chemical equilibrium, and CH + OH alone are up to 12 % of the opacity there below 4300 Å).
"""

from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

pytestmark = pytest.mark.needs_data

REF = Path(__file__).parent / "reference"


def air_to_vacuum(wl_air):
    """Air -> vacuum [Å] (Morton 2000), as the Turbospectrum references are in air."""
    s2 = (1e4 / wl_air) ** 2
    return wl_air * (1 + 8.34254e-5 + 2.406147e-2 / (130 - s2) + 1.5998e-4 / (38.9 - s2))


@pytest.fixture(scope="module")
def blocks():
    from jaxstro.synth.continuum.uppsala_bf import uppsala_blocks

    return uppsala_blocks()


def test_parser(blocks):
    from jaxstro.synth.continuum._uppsala import read_uppsala_blocks

    assert len(blocks) == 52  # "KOMP=52"
    fe = blocks["FeI"]
    assert fe["kappa"].shape == (18, 38)
    assert fe["wavelength"][0] == 910.0 and fe["wavelength"][-1] == 57500.0
    assert fe["T"][0] == 1000.0 and fe["T"][-1] == 29000.0
    assert fe["kappa"][0, 0] == 2.840e-17 and fe["kappa"][-1, -1] == 1.734e-14
    assert fe["flags"]["ILOGT"] == 1 and fe["flags"]["KVADT"] == 1
    # "MgI    Prieto 2003 ...": the source text running into the name field is not the name
    assert "MgI" in blocks and "SiI" in blocks and "CaI" in blocks
    # blanks inside a Fortran field are ignored ("7.51 E08"), fields past NLATB are ignored,
    # theta grids (ITETA = 1) are turned into increasing T
    hh = blocks["(H+H)"]
    assert hh["kappa"].shape == (20, 8)
    assert hh["T"][0] == pytest.approx(5040.0 / 2.0) and np.all(np.diff(hh["T"]) > 0)
    assert hh["kappa"][-1, 0] == pytest.approx(7.51e8)  # theta = 0.1 row, now the last
    with pytest.raises(ValueError, match="KOMP"):
        read_uppsala_blocks("nothing here\n")
    bad = "   KOMP= 1\nX  test\n   ILOGL=0   KVADL=0   MINEX=0   MAXEX=0  NLATB= 3\n  1. 2.\n"
    with pytest.raises(ValueError):
        read_uppsala_blocks(bad)


def test_interpolation_rules(blocks):
    from jaxstro.synth.continuum._uppsala import UppsalaTable, _stencil_starts

    fe = blocks["FeI"]
    # T grid 1000..8000 step 700, then 8000..29000 step 3000: stencils stay inside each part
    st = _stencil_starts(fe["T"])
    assert list(st[:10]) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 8] and st[10] == 10 and st[-1] == 15
    tab = UppsalaTable.from_block("FeI", fe)
    wl = jnp.asarray([fe["wavelength"][20], 4000.0, 6000.0])
    on = jax.jit(lambda w: tab.on_wavelengths(w))(wl)
    f = jax.jit(lambda o, t: tab.at_temperature(o, t))
    # at a table node: the table value
    np.testing.assert_allclose(float(f(on, 5200.0)[0]), fe["kappa"][6, 20], rtol=1e-12)
    # between nodes: Lagrange through (5200, 5900, 6600) of log kappa, kappa linear in lambda
    j = np.searchsorted(fe["wavelength"], 4000.0) - 1
    w = (4000.0 - fe["wavelength"][j]) / (fe["wavelength"][j + 1] - fe["wavelength"][j])
    y = np.log(fe["kappa"][6:9, j] * (1 - w) + fe["kappa"][6:9, j + 1] * w)
    x, T = np.array([5200.0, 5900.0, 6600.0]), 5500.0
    lag = sum(y[i] * np.prod([(T - x[m]) / (x[i] - x[m]) for m in range(3) if m != i])
              for i in range(3))  # fmt: skip
    np.testing.assert_allclose(float(f(on, T)[1]), np.exp(lag), rtol=1e-12)
    # zero outside the wavelength range; differentiable in T
    assert float(f(tab.on_wavelengths(jnp.asarray([800.0])), 5000.0)[0]) == 0.0
    g = jax.grad(lambda t: tab.at_temperature(on, t)[2])(5500.0)
    assert np.isfinite(float(g)) and float(g) > 0


def test_molecular_continua(blocks):
    """alpha = kappa(lambda, T) n m for CH and OH, at table nodes."""
    from jaxstro.synth.continuum._constants import c_cgs
    from jaxstro.synth.continuum.molecular_bf import AMU, load_molecular_bf, molecular_bf

    data = load_molecular_bf()
    ch = blocks["CHcont"]
    j = 26  # 3024 Å
    nu = jnp.asarray([c_cgs / (ch["wavelength"][j] * 1e-8)])
    a = float(molecular_bf(nu, 4000.0, {"HC": 1e10}, data)[0])
    np.testing.assert_allclose(a, ch["kappa"][3, j] * 1e10 * 13.019 * AMU, rtol=1e-10)
    oh = blocks["OHcont"]
    nu = jnp.asarray([c_cgs / (oh["wavelength"][30] * 1e-8)])
    a = float(molecular_bf(nu, 5000.0, {"HO": 1e10}, data)[0])
    np.testing.assert_allclose(a, oh["kappa"][4, 30] * 1e10 * 17.007 * AMU, rtol=1e-10)
    assert float(molecular_bf(nu, 5000.0, {}, data)[0]) == 0.0


@pytest.mark.slow
def test_layer_opacity_vs_turbospectrum():
    from jaxstro.data import locate
    from jaxstro.synth.abundances import format_abundances
    from jaxstro.synth.atmosphere import read_marcs
    from jaxstro.synth.statmech import HoldElectronPressure
    from jaxstro.synth.synthesize import (
        _default_continuum_data,
        _default_equilibrium_data,
        layer_opacities,
    )

    ref = np.load(REF / "continuum_marcs_sun.npz")
    used = json.loads((REF / "continuum_marcs_sun.json").read_text())["abundances_used"]
    solar = np.asarray(format_abundances(0.0, mixture="grevesse2007"))
    A = jnp.asarray([used.get(str(z), 0.0) or solar[z - 1] for z in range(1, 93)])
    atm = read_marcs(locate("marcs_sun"))
    ow = ref["ts_opacity_wavelength"]
    _, _, alpha, _ = layer_opacities(atm, A, jnp.asarray(air_to_vacuum(ow)) * 1e-8,
                                     _default_continuum_data(), _default_equilibrium_data(),
                                     HoldElectronPressure())  # fmt: skip
    ts = (ref["ts_kappa_abs"] + ref["ts_sigma_scat"]) * ref["ts_model_rho"][:, None]
    upper = np.log10(np.asarray(atm.tau_ref)) < -1
    q = np.asarray(alpha)[upper] / ts[upper]
    np.testing.assert_allclose(q, 1.0, atol=0.025)
