"""Tests for jaxstro.synth.atmosphere: readers (spot values against the file text), validation,
grid loading and interpolation (exact nodes, leave-one-out, gradients vs finite differences).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxstro.synth.atmosphere import (
    K_BOLTZMANN,
    Atmosphere,
    check_atmosphere,
    make_atmosphere,
    read_marcs,
    read_marcs_model,
    read_marcs_partial_pressures,
)

MARCS_NAMES = ["marcs_sun", "marcs_s5000_g3.0", "marcs_s6000_g1.0", "marcs_s5000_g2.0"]


# ---------------------------------------------------------------------------------------- MARCS
@pytest.mark.needs_data
def test_read_marcs_sun_values_from_file_text():
    atm = read_marcs("marcs_sun")
    assert isinstance(atm, Atmosphere)
    assert atm.n_layers == 56 and not atm.spherical and atm.reference_wavelength == 5000.0
    # layer 1: "1 -5.00 -4.9174 -6.931E+07  4066.8  2.1166E-02  2.6699E+02 ..."
    assert float(atm.tau_ref[0]) == pytest.approx(10**-4.9174, rel=1e-12)
    assert float(atm.z[0]) == pytest.approx(6.931e7, rel=1e-12)
    assert float(atm.temperature[0]) == pytest.approx(4066.8)
    assert float(atm.electron_density[0]) == pytest.approx(2.1166e-2 / (K_BOLTZMANN * 4066.8))
    assert float(atm.number_density[0]) == pytest.approx(2.6699e2 / (K_BOLTZMANN * 4066.8))
    assert float(atm.radius) == 1.0
    assert float(atm.gas_pressure[0]) == pytest.approx(2.6699e2)
    m = read_marcs_model("marcs_sun")
    assert m.teff == 5777.0 and m.logg == pytest.approx(np.log10(2.7542e4))
    assert m.abundances.shape == (92,) and m.abundances[25] == 7.45 and m.abundances[42] == -99
    assert m.rhox[-1] == pytest.approx(8.066432)  # last row of table 2
    assert m.density[0] > 0 and m.kappa_ross.shape == (56,)


@pytest.mark.needs_data
@pytest.mark.parametrize("name", MARCS_NAMES)
def test_read_marcs_all_staged(name):
    m = read_marcs_model(name)
    atm = m.atmosphere
    assert atm.n_layers == 56
    assert atm.spherical == (name != "marcs_sun")
    assert np.all(np.diff(np.asarray(atm.tau_ref)) > 0)
    assert np.all(np.diff(np.asarray(atm.z)) < 0)
    # z = 0 where the Rosseland optical depth is 1 (MARCS Depth is relative to tau_Ross = 1)
    i = int(np.argmin(np.abs(m.lg_tau_ross)))
    assert m.lg_tau_ross[i] == 0.0 and float(atm.z[i]) == pytest.approx(0.0, abs=1e3)
    if atm.spherical:
        assert float(atm.radius) > 1e10
    # n_e < n everywhere and Pe/Pg consistent with the file
    np.testing.assert_allclose(np.asarray(atm.electron_pressure), m.pe, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(atm.gas_pressure), m.pg, rtol=1e-12)


@pytest.mark.needs_data
def test_read_marcs_spherical_header():
    m = read_marcs_model("marcs_s5000_g2.0")
    assert m.radius == pytest.approx(1.1550e12) and m.mass == 1.0
    assert float(m.atmosphere.radius) == pytest.approx(1.1550e12)
    assert m.temperature[0] == pytest.approx(3304.3)


@pytest.mark.needs_data
def test_read_marcs_partial_pressures():
    pp = read_marcs_partial_pressures("marcs_sun")
    assert set(pp) >= {"Pgas", "H I", "H-", "HH", "HH+", "HHO", "HO", "HC", "CO", "CN", "CC"}
    # row 1: "1  2.426   2.39  -7.50  -1.73  -9.53  -8.79  -4.89  -6.15  -1.77  -5.98  -7.44"
    assert pp["Pgas"][0] == pytest.approx(10**2.426)
    assert pp["CO"][0] == pytest.approx(10**-1.77)
    assert pp["CC"][0] == pytest.approx(10**-7.44)
    # lgPgas agrees with the structure table's Pg to the printed 3 decimals
    m = read_marcs_model("marcs_sun")
    np.testing.assert_allclose(np.log10(pp["Pgas"]), np.log10(m.pg), atol=6e-4)
    raw = read_marcs_partial_pressures("marcs_sun", species_names=False)
    assert "H2" in raw and "C2" in raw


# ----------------------------------------------------------------------------------- validation
def _layers(n=5):
    return dict(
        tau_ref=np.logspace(-4, 1, n),
        z=np.linspace(1e7, -1e7, n),
        temperature=np.linspace(4000, 9000, n),
        electron_density=np.logspace(10, 15, n),
        number_density=np.logspace(15, 17, n),
    )


def test_make_atmosphere_ok():
    atm = make_atmosphere(**_layers())
    assert atm.n_layers == 5 and atm.tau_ref.dtype == jnp.float64


@pytest.mark.parametrize(
    "field, value, match",
    [
        ("temperature", np.array([4000, 5000, -1.0, 7000, 8000]), "temperature must be positive"),
        ("number_density", np.array([1, 2, 0.0, 4, 5]) * 1e15, "number_density must be positive"),
        ("tau_ref", np.array([1e-4, 1e-3, 1e-3, 1e-1, 1]), "not strictly increasing"),
        ("z", np.array([5.0, 4, 4.5, 1, 0]), "depth not monotonic"),
        ("temperature", np.array([4000, np.nan, 6000, 7000, 8000]), "not finite in layer 2"),
        ("z", np.zeros(4), "has shape"),
    ],
)
def test_make_atmosphere_rejects_bad_layers(field, value, match):
    kw = _layers()
    kw[field] = value
    with pytest.raises(ValueError, match=match):
        make_atmosphere(**kw)


def test_check_atmosphere_inside_jit():
    good = make_atmosphere(**_layers())
    out = jax.jit(check_atmosphere)(good)
    np.testing.assert_array_equal(np.asarray(out.temperature), np.asarray(good.temperature))
    bad = Atmosphere(
        tau_ref=good.tau_ref,
        z=good.z,
        temperature=good.temperature.at[2].set(-5.0),
        electron_density=good.electron_density,
        number_density=good.number_density,
        radius=good.radius,
        spherical=False,
        reference_wavelength=5000.0,
    )
    with pytest.raises(Exception, match="invalid atmosphere"):
        jax.block_until_ready(jax.jit(check_atmosphere)(bad))


def test_read_marcs_malformed(tmp_path):
    p = tmp_path / "bad.mod"
    p.write_text("not a model\n" * 40)
    with pytest.raises(ValueError):
        read_marcs(p)
    with pytest.raises(FileNotFoundError):
        read_marcs(tmp_path / "missing.mod")


@pytest.mark.needs_data
def test_read_marcs_nonmonotonic_depth(tmp_path):
    from jaxstro.data import locate

    lines = locate("marcs_sun").read_text().splitlines()
    i = next(k for k, line in enumerate(lines) if line.split()[:3] == ["k", "lgTauR", "lgTau5"])
    row = lines[i + 3].split()
    row[3] = "-9.000E+07"  # layer 3 above layer 1: depth not monotonic
    lines[i + 3] = " ".join(row)
    p = tmp_path / "sun_bad.mod"
    p.write_text("\n".join(lines))
    with pytest.raises(ValueError, match="depth not monotonic"):
        read_marcs(p)
