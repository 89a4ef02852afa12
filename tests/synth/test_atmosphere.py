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


# --------------------------------------------------------------------------------------- ATLAS9
ATLAS9_STD_LOG_TAU = -6.875 + 0.125 * np.arange(72)  # ATLAS9's standard tau_Ross depth grid


@pytest.mark.needs_data
@pytest.mark.parametrize(
    "name, first_row, log_fe",
    [
        # first layer row of each file and log10(N_Fe/N_tot) from its ABUNDANCE CHANGE lines
        (
            "atlas9_t5750_g4.50_m+0.0",
            (4.83067147e-04, 3687.5, 1.528e01, 2.981e09, 2.761e-04),
            -4.37,
        ),
        ("atlas9_kurucz_sun", (5.30623178e-04, 3711.4, 1.455e01, 2.318e09, 2.513e-04), -4.59),
    ],
)
def test_read_atlas9_single_models(name, first_row, log_fe):
    from jaxstro.synth.atmosphere import read_atlas9, read_atlas9_model

    m = read_atlas9_model(name)
    assert m.rhox.size == 72
    got = (m.rhox[0], m.temperature[0], m.pressure[0], m.xne[0], m.abross[0])
    np.testing.assert_allclose(got, first_row, rtol=1e-12)
    # A(Fe) = log10(N_Fe/N_tot) - log10(N_H/N_tot) + 12 (scale 1 for these solar models)
    assert m.abundances[25] == pytest.approx(log_fe - np.log10(m.number_fractions[0]) + 12)
    atm = read_atlas9(name)
    assert atm.reference_wavelength is None and not atm.spherical
    assert float(atm.temperature[0]) == first_row[1]
    assert float(atm.electron_density[0]) == first_row[3]
    assert float(atm.number_density[0]) == pytest.approx(
        first_row[2] / (K_BOLTZMANN * first_row[1])
    )
    # tau_Ross = int ABROSS dRHOX reproduces ATLAS's own standard depth grid: 1e-3 dex in the top
    # 40 layers (radiative), 0.015 dex in the convective layers where ABROSS is steep
    d = np.log10(np.asarray(atm.tau_ref)) - ATLAS9_STD_LOG_TAU
    assert np.abs(d[:40]).max() < 1e-3
    assert np.abs(d).max() < 0.015
    # z = 0 at tau_Ross = 1, decreasing inward; photosphere ~ 100 km deep per unit log tau
    z = np.asarray(atm.z)
    assert np.interp(0.0, np.log10(np.asarray(atm.tau_ref)), z) == pytest.approx(0.0, abs=1.0)
    assert 5e6 < z[0] / 10 < 2e7


@pytest.mark.needs_data
def test_read_atlas9_metal_poor_scale_and_block_text():
    from jaxstro.data import locate
    from jaxstro.synth.atmosphere import read_atlas9, read_atlas9_model

    m = read_atlas9_model("atlas9_t5750_g4.50_m-1.0")
    assert m.abundance_scale == pytest.approx(0.1) and m.m_h == pytest.approx(-1.0)
    m0 = read_atlas9_model("atlas9_t5750_g4.50_m+0.0")
    assert m.abundances[25] == pytest.approx(m0.abundances[25] - 1.0)
    text = locate("atlas9_t5750_g4.50_m+0.0").read_text()
    a = read_atlas9(text)
    np.testing.assert_array_equal(np.asarray(a.temperature), m0.temperature)


def test_read_atlas9_bad_block():
    from jaxstro.synth.atmosphere import read_atlas9

    with pytest.raises(ValueError, match="ABUNDANCE SCALE"):
        read_atlas9("TEFF   5750.  GRAVITY 4.50000 LTE\nTITLE x\n")


@pytest.mark.needs_data
def test_column_mass_method_on_marcs_tables():
    """The ATLAS9/PFANT derivations checked on MARCS, whose tables list rho, RHOX and Depth:
    rho = (n - n_e) <m_nucleus> is 0.8 % low (molecules/ionisation neglected: tolerance 1.5 %),
    z = -int dRHOX/rho (with MARCS's rho) matches -Depth to 0.5 % of the depth range."""
    from jaxstro.synth._elements import MASSES_AMU
    from jaxstro.synth.atmosphere import AMU
    from jaxstro.synth.atmosphere._atlas9 import heights_from_column_mass

    m = read_marcs_model("marcs_sun")
    f = np.where(m.abundances > -90, 10 ** (m.abundances - 12), 0.0)
    mean_mass = np.sum(f * MASSES_AMU) / np.sum(f) * AMU
    rho = (m.pg - m.pe) / (K_BOLTZMANN * m.temperature) * mean_mass
    np.testing.assert_allclose(rho, m.density, rtol=0.015)
    z = heights_from_column_mass(m.rhox, m.density, 10**m.lg_tau_ross)
    assert np.abs(z + m.depth).max() < 5e-3 * np.ptp(m.depth)


# ---------------------------------------------------------------------------- PFANT and PHOENIX
@pytest.mark.needs_data
def test_pfant_grid_records_match_index_and_sun_mod():
    import csv

    from jaxstro.data import locate
    from jaxstro.synth.atmosphere import read_pfant_grid_models, read_pfant_record

    models = read_pfant_grid_models()
    with open(locate("marcs_pfant_grid_index")) as fh:
        rows = list(csv.DictReader(fh))
    assert len(models) == len(rows) == 525
    for m, r in zip(models, rows, strict=True):
        assert m.record == int(r["record"]) and m.teff == float(r["teff"])
        assert m.logg == pytest.approx(float(r["logg"]), abs=1e-5)
        assert m.m_h == pytest.approx(float(r["m_h"]), abs=1e-6)
        assert m.alpha_m == pytest.approx(float(r["alpha_m"]), abs=1e-6)
        assert m.temperature.size == int(r["n_layers"])
        assert m.log_tau_ross[0] == pytest.approx(float(r["logtau_ross_min"]), abs=1e-5)
    # record 414 is the MARCS solar model (= marcs_sun): float32 copies of the same numbers
    sun = read_pfant_record(414)
    ref = read_marcs_model("marcs_sun")
    np.testing.assert_allclose(sun.temperature, ref.temperature, rtol=1e-6)
    np.testing.assert_allclose(sun.pe, ref.pe, rtol=1e-6)
    np.testing.assert_allclose(sun.pg, ref.pg, rtol=1e-6)
    # derived column mass and heights vs MARCS's RHOX and Depth. PFANT's nh column (its own
    # integration, float32) times our mass per H nucleus differs from MARCS's RHOX by up to 2.8 %
    # (layer 11; 0.5 % in the deep layers): tolerance 3.5 %; z to 0.5 % of the depth range.
    np.testing.assert_allclose(sun.column_mass, ref.rhox, rtol=0.035)
    assert np.abs(sun.z + ref.depth).max() < 5e-3 * np.ptp(ref.depth)
    atm = sun.atmosphere
    assert atm.reference_wavelength is None and atm.n_layers == 56
    with pytest.raises(ValueError, match="record 600"):
        read_pfant_record(600)


@pytest.mark.needs_data
def test_read_phoenix():
    from jaxstro.synth.atmosphere import read_phoenix

    hot = read_phoenix("phoenix_5500_4.50")
    cool = read_phoenix("phoenix_3500_4.50")
    assert hot.reference_wavelength == 5000.0 and cool.reference_wavelength == 12000.0
    assert hot.n_layers == 63  # 64 rows, the tau = 0 row dropped
    # second row of the file: tau 1e-10, T 3053.4622, pgas 8.5214e-02, pe 7.1916e-06 (float32)
    assert float(hot.tau_ref[0]) == pytest.approx(1e-10, rel=1e-6)
    assert float(hot.temperature[0]) == pytest.approx(3053.4622, rel=1e-6)
    assert float(hot.gas_pressure[0]) == pytest.approx(8.5214e-2, rel=1e-5)
    assert float(hot.electron_pressure[0]) == pytest.approx(7.1916e-6, rel=1e-5)
    assert np.all(np.diff(np.asarray(hot.z)) < 0)


# ----------------------------------------------------------------------------------------- grids
@pytest.fixture(scope="module")
def atlas9_grid():
    from jaxstro.synth.atmosphere import load_atlas9_grid

    return load_atlas9_grid()


@pytest.fixture(scope="module")
def pfant_grid():
    from jaxstro.synth.atmosphere import load_marcs_pfant_grid

    return load_marcs_pfant_grid()


@pytest.mark.needs_data
def test_atlas9_grid_layout_and_node(atlas9_grid):
    from jaxstro.synth.atmosphere import read_atlas9

    g = atlas9_grid
    assert g.shape == (15, 11, 6) and g.n_layers == 72 and int(g.valid.sum()) == 966
    valid = np.asarray(g.valid)
    teff = np.asarray(g.teff)
    # the only holes: logg 0.0 for Teff >= 6250 K, at every [M/H]
    assert not valid[teff >= 6250, 0, :].any() and valid[teff < 6250].all()
    assert valid[:, 1:, :].all()
    node = g.node(9, 9, 4)  # Teff 5750, logg 4.5, [M/H] 0.0
    ref = read_atlas9("atlas9_t5750_g4.50_m+0.0")
    np.testing.assert_allclose(np.asarray(node.temperature), np.asarray(ref.temperature))
    np.testing.assert_allclose(np.asarray(node.tau_ref), np.asarray(ref.tau_ref), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(node.z), np.asarray(ref.z), rtol=1e-9, atol=1e-3)


@pytest.mark.needs_data
def test_pfant_grid_layout(pfant_grid):
    g = pfant_grid
    assert g.shape == (14, 8, 6) and g.n_layers == 50 and int(g.valid.sum()) == 524
    np.testing.assert_allclose(np.asarray(g.alpha_m), [0.4, 0.4, 0.4, 0.2, 0.0, 0.0])
    np.testing.assert_allclose(np.asarray(g.m_h), [-2.0, -1.5, -1.0, -0.5, 0.0, 0.25])


@pytest.mark.needs_data
@pytest.mark.parametrize("method", ["cubic", "linear"])
def test_interpolation_reproduces_nodes(atlas9_grid, pfant_grid, method):
    from jaxstro.synth.atmosphere import interpolate_atmosphere

    for g, (i, j, k) in ((atlas9_grid, (9, 9, 4)), (pfant_grid, (3, 4, 2))):
        node = g.node(i, j, k)
        a = interpolate_atmosphere(g, g.teff[i], g.logg[j], g.m_h[k], method=method)
        for field in ("tau_ref", "temperature", "electron_density", "number_density"):
            np.testing.assert_allclose(
                np.asarray(getattr(a, field)), np.asarray(getattr(node, field)), rtol=1e-10
            )
        np.testing.assert_allclose(np.asarray(a.z), np.asarray(node.z), rtol=1e-9, atol=1e-2)


def _t_of_tau_error(interp, truth):
    """max |T_interp(tau) / T_true(tau) - 1|, comparing on the true model's tau (log-linear)."""
    t = np.interp(
        np.log10(np.asarray(truth.tau_ref)),
        np.log10(np.asarray(interp.tau_ref)),
        np.asarray(interp.temperature),
    )
    return np.abs(t / np.asarray(truth.temperature) - 1)


@pytest.mark.needs_data
def test_interpolation_leave_one_out_atlas9(atlas9_grid):
    """Hold out Teff = 5750 K and interpolate it from the 5500/6000 K neighbours (a 500 K step,
    twice the grid spacing). Measured max |dT/T| over all 72 layers: 0.43 % (logg 4.5, [M/H] 0)
    and 1.0 % (4750/2.0/-1.0 held out the same way); tolerance 1.5 %."""
    from jaxstro.synth.atmosphere import interpolate_atmosphere

    g = atlas9_grid
    for ti, gi, mi in ((9, 9, 4), (5, 4, 2)):
        sub = g.take("teff", [k for k in range(g.shape[0]) if k != ti])
        a = interpolate_atmosphere(sub, g.teff[ti], g.logg[gi], g.m_h[mi])
        err = _t_of_tau_error(a, g.node(ti, gi, mi))
        assert err.max() < 0.015, (float(g.teff[ti]), float(g.logg[gi]), err.max())


@pytest.mark.needs_data
def test_interpolation_leave_one_out_pfant(pfant_grid):
    """MARCS giants: hold out logg 2.0 (interpolate from 1.5/2.5, a 1 dex step) at 4500 K,
    [M/H] 0."""
    from jaxstro.synth.atmosphere import interpolate_atmosphere

    g = pfant_grid
    ti, gi, mi = 3, 4, 4
    sub = g.take("logg", [k for k in range(g.shape[1]) if k != gi])
    a = interpolate_atmosphere(sub, g.teff[ti], g.logg[gi], g.m_h[mi], alpha_m=0.0)
    err = _t_of_tau_error(a, g.node(ti, gi, mi))
    assert err.max() < 0.01, err.max()


@pytest.mark.needs_data
def test_interpolation_gradients_match_finite_differences(atlas9_grid):
    """jax derivatives of interpolated T and ln n_e (layer 30) w.r.t. (Teff, logg, [M/H]) match
    central finite differences to 1e-5 relative (measured <= 1e-6; steps 0.5 K, 5e-4 dex, inside
    one grid cell where the cubic is smooth)."""
    from jaxstro.synth.atmosphere import interpolate_atmosphere

    g = atlas9_grid

    def f(p):
        a = interpolate_atmosphere(g, p[0], p[1], p[2])
        return jnp.stack([a.temperature[30], jnp.log(a.electron_density[30])])

    p0 = jnp.array([5612.3, 4.27, -0.37])
    jac = np.asarray(jax.jacfwd(f)(p0))
    steps = np.array([0.5, 5e-4, 5e-4])
    for d in range(3):
        e = np.zeros(3)
        e[d] = steps[d]
        fd = (np.asarray(f(p0 + e)) - np.asarray(f(p0 - e))) / (2 * steps[d])
        np.testing.assert_allclose(jac[:, d], fd, rtol=1e-5)
    assert np.all(np.isfinite(jac))


@pytest.mark.needs_data
def test_interpolation_off_grid_errors(atlas9_grid, pfant_grid):
    from jaxstro.synth.atmosphere import interpolate_atmosphere

    g = atlas9_grid
    with pytest.raises(ValueError, match="Teff = 7500.0 is outside the atlas9 grid"):
        interpolate_atmosphere(g, 7500.0, 4.0, 0.0)
    with pytest.raises(ValueError, match="logg = 5.5 is outside"):
        interpolate_atmosphere(g, 5000.0, 5.5, 0.0)
    with pytest.raises(ValueError, match=r"\[M/H\] = -3.0 is outside"):
        interpolate_atmosphere(g, 5000.0, 4.0, -3.0)
    with pytest.raises(ValueError, match="not finite"):
        interpolate_atmosphere(g, np.nan, 4.0, 0.0)
    # the hole of the irregular grid: logg 0.0 is missing for Teff >= 6250 K
    with pytest.raises(ValueError, match="logg=0.0.*does not contain"):
        interpolate_atmosphere(g, 6100.0, 0.2, 0.0)
    assert not g.covers(6100.0, 0.2, 0.0) and not g.covers(7500.0, 4.0, 0.0)
    assert g.covers(6100.0, 0.5, 0.0) and g.covers(7000.0, 5.0, 0.5) and g.covers(3500, 0, -2)
    # ... while logg 0.5 at the same Teff is fine (the cell above the hole)
    assert np.isfinite(np.asarray(interpolate_atmosphere(g, 6100.0, 0.5, 0.0).temperature)).all()
    # PFANT grid ties [alpha/M] to [M/H]
    with pytest.raises(ValueError, match="no \\[alpha/M\\] axis"):
        interpolate_atmosphere(pfant_grid, 4500.0, 2.0, -1.0, alpha_m=0.0)
    with pytest.raises(ValueError, match="method"):
        interpolate_atmosphere(g, 5000.0, 4.0, 0.0, method="quintic")


@pytest.mark.needs_data
def test_interpolation_jit_vmap_monotonic_and_errors(atlas9_grid, rng):
    """jit(vmap(...)) over 64 random requests (logg >= 0.5, where the ATLAS9 grid is complete):
    every interpolated model is a valid atmosphere (tau increasing, z decreasing, T, n_e, n > 0;
    interpolating log layer thicknesses keeps z monotonic, interpolating z itself did not in 2 %
    of hot low-gravity requests), equals the eager call, and a bad request anywhere in the batch
    raises through eqx.error_if (one compilation for all checks)."""
    from jaxstro.synth.atmosphere import interpolate_atmosphere
    from jaxstro.synth.atmosphere._model import check_layers

    g = atlas9_grid
    f = jax.jit(jax.vmap(lambda t, lg, m: interpolate_atmosphere(g, t, lg, m)))
    n = 64
    teffs = jnp.asarray(rng.uniform(3500.0, 7000.0, n))
    loggs = jnp.asarray(rng.uniform(0.5, 5.0, n))
    mhs = jnp.asarray(rng.uniform(-2.0, 0.5, n))
    out = f(teffs, loggs, mhs)
    assert out.temperature.shape == (n, 72)
    for b in range(n):
        check_layers(
            tau_ref=np.asarray(out.tau_ref[b]),
            z=np.asarray(out.z[b]),
            temperature=np.asarray(out.temperature[b]),
            electron_density=np.asarray(out.electron_density[b]),
            number_density=np.asarray(out.number_density[b]),
            where=f"request {b}",
        )
    for b in range(2):
        eager = interpolate_atmosphere(g, float(teffs[b]), float(loggs[b]), float(mhs[b]))
        np.testing.assert_allclose(
            np.asarray(out.temperature[b]), np.asarray(eager.temperature), rtol=1e-12
        )
        np.testing.assert_allclose(np.asarray(out.z[b]), np.asarray(eager.z), rtol=1e-10)
    with pytest.raises(Exception, match="outside the atlas9 grid"):
        jax.block_until_ready(f(teffs.at[1].set(7500.0), loggs, mhs))
    with pytest.raises(Exception, match="does not contain"):
        jax.block_until_ready(f(teffs.at[2].set(6500.0), loggs.at[2].set(0.2), mhs))


@pytest.mark.needs_data
def test_atlas9_sun_matches_marcs_sun_on_rosseland_scale():
    """Independent check of the derived tau_Ross: the Castelli-Kurucz solar model (5772/4.438)
    and the MARCS solar model (5777/4.44, which lists lgTauR) agree in T(tau_Ross) to 0.2 % and in
    log Pg(tau_Ross) to 0.003 dex for -3 <= log tau_Ross <= 0 (measured); tolerances 0.5 % and
    0.01 dex (the two codes differ in opacities and convection, not only in our integration)."""
    from jaxstro.synth.atmosphere import read_atlas9_model

    a = read_atlas9_model("atlas9_kurucz_sun")
    m = read_marcs_model("marcs_sun")
    x = np.linspace(-3.0, 0.0, 13)
    lt = np.log10(a.tau_ross)
    t_a, t_m = np.interp(x, lt, a.temperature), np.interp(x, m.lg_tau_ross, m.temperature)
    p_a = np.interp(x, lt, np.log10(a.pressure))
    p_m = np.interp(x, m.lg_tau_ross, np.log10(m.pg))
    assert np.abs(t_a / t_m - 1).max() < 5e-3
    assert np.abs(p_a - p_m).max() < 0.01


@pytest.mark.needs_data
def test_spherical_radius_formula_and_pfant_geometry(pfant_grid):
    """R = sqrt(G M / g) reproduces the radius in the MARCS headers (1 and 0.5 M_sun giants) to
    0.3 % (measured 0.26 %; MARCS used slightly different constants): tolerance 0.5 %. PFANT grid
    models (1 M_sun spherical MARCS giants) get that radius; the solar record stays plane-parallel;
    interpolated PFANT models are spherical with a radius differentiable in logg."""
    from jaxstro.synth.atmosphere import interpolate_atmosphere, read_pfant_record
    from jaxstro.synth.atmosphere._model import radius_from_mass_logg

    for name in ("marcs_s5000_g2.0", "marcs_s6000_g1.0", "marcs_s5000_g3.0"):
        m = read_marcs_model(name)
        assert radius_from_mass_logg(m.mass, m.logg) == pytest.approx(m.radius, rel=5e-3)
    giant = read_pfant_record(0)
    assert giant.atmosphere.spherical
    assert float(giant.atmosphere.radius) == pytest.approx(radius_from_mass_logg(1.0, giant.logg))
    sun = read_pfant_record(414).atmosphere
    assert not sun.spherical and float(sun.radius) == 1.0
    node = pfant_grid.node(3, 4, 4)
    assert node.spherical
    a = interpolate_atmosphere(pfant_grid, 4500.0, 2.0, 0.0)
    assert a.spherical and float(a.radius) == pytest.approx(float(node.radius))
    np.testing.assert_allclose(np.asarray(a.r), float(a.radius) + np.asarray(a.z))
