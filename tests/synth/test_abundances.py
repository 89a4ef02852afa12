"""Tests for jaxstro.synth.abundances.

References: the published tables (Asplund et al. 2009 Table 1, Asplund et al. 2021 Table 2,
Grevesse, Asplund & Sauval 2007 Table 1, Bergemann et al. 2025 Table 1) and the abundance vector
printed in the MARCS solar model header (the MARCS 2008 standard composition = GAS07).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxstro.synth._elements import SYMBOLS
from jaxstro.synth.abundances import (
    ALPHA_ELEMENTS,
    MISSING_ABUNDANCE,
    MIXTURES,
    a_from_x_fe,
    a_from_x_h,
    check_abundances,
    format_abundances,
    mass_fractions,
    number_fractions,
    solar_abundances,
    x_fe_from_a,
    x_h_from_a,
)

Z = {s: i for i, s in enumerate(SYMBOLS)}


@pytest.mark.parametrize("mixture", ["asplund2009", "asplund2021", "grevesse2007"])
def test_typed_mixtures_shape_and_spot_values(mixture):
    a = solar_abundances(mixture)
    assert a.shape == (92,) and a.dtype == np.float64
    assert a[0] == 12.0
    # spot values straight from the papers' tables (exact to the printed 2 decimals)
    expected = {
        "asplund2009": {"He": 10.93, "C": 8.43, "O": 8.69, "Fe": 7.50, "Eu": 0.52, "U": -0.54},
        "asplund2021": {"He": 10.914, "C": 8.46, "O": 8.69, "Fe": 7.46, "Ba": 2.27, "Ir": 1.32},
        "grevesse2007": {"He": 10.93, "C": 8.39, "O": 8.66, "Fe": 7.45, "Sc": 3.17, "U": -0.52},
    }[mixture]
    for sym, val in expected.items():
        assert a[Z[sym]] == pytest.approx(val, abs=1e-12), sym
    # radioactive elements without any value get the documented placeholder
    for sym in ("Tc", "Pm", "Po", "At", "Rn", "Fr", "Ra", "Ac", "Pa"):
        assert a[Z[sym]] == MISSING_ABUNDANCE


@pytest.mark.needs_data
def test_grevesse2007_equals_marcs_standard_composition():
    """The MARCS 2008 solar model header lists the GAS07 standard composition to 0.01 dex."""
    from jaxstro.synth.atmosphere import read_marcs_model

    m = read_marcs_model("marcs_sun")
    gas07 = solar_abundances("grevesse2007")
    present = m.abundances > -90
    np.testing.assert_allclose(gas07[present], m.abundances[present], atol=1e-9)
    assert np.all(gas07[~present] == MISSING_ABUNDANCE)
    # and the mass fractions the header states (X, Y, Z = 0.73826 0.24954 0.0122): our IUPAC
    # masses differ slightly from MARCS's, so 0.2 % on X, Y and 2 % on Z.
    x, y, zz = (float(v) for v in mass_fractions(jnp.asarray(gas07)))
    assert x == pytest.approx(m.x, rel=2e-3)
    assert y == pytest.approx(m.y, rel=2e-3)
    assert zz == pytest.approx(m.z_metals, rel=2e-2)


@pytest.mark.needs_data
def test_bergemann2025_from_registered_csv():
    a = solar_abundances("bergemann2025")
    assert a.shape == (92,)
    # Table 1 values: photospheric where present, CI (astronomical scale) otherwise
    assert a[Z["He"]] == pytest.approx(10.922)
    assert a[Z["Fe"]] == pytest.approx(7.51)
    assert a[Z["C"]] == pytest.approx(8.51)
    assert a[Z["Bi"]] == pytest.approx(0.70)  # '...' photospheric -> CI 0.7
    assert a[Z["U"]] == pytest.approx(-0.50)
    assert np.all(np.isfinite(a))


def test_mixture_names_and_aliases():
    assert set(MIXTURES) >= {"asplund2009", "asplund2021", "grevesse2007", "bergemann2025"}
    np.testing.assert_array_equal(solar_abundances(), solar_abundances("asplund2009"))
    for alias in ("Grevesse-Asplund-Sauval2007", "gas07", "grevesse_sauval2007"):
        np.testing.assert_array_equal(solar_abundances(alias), solar_abundances("grevesse2007"))
    with pytest.raises(ValueError, match="unknown solar mixture"):
        solar_abundances("anders1989")


def test_format_abundances_scaling():
    sun = solar_abundances()
    a = np.asarray(format_abundances(-1.0, 0.4))
    alpha = [Z[s] for s in ALPHA_ELEMENTS]
    others = [i for i in range(2, 92) if i not in alpha]
    np.testing.assert_allclose(a[alpha], sun[alpha] - 0.6)
    np.testing.assert_allclose(a[others], sun[others] - 1.0)
    np.testing.assert_allclose(a[:2], sun[:2])  # H and He are not scaled


def test_format_abundances_per_element_x_h_and_x_fe():
    sun = solar_abundances()
    a = np.asarray(format_abundances(-0.5, C=0.3, N_H=-0.2, Mg_Fe=0.4))
    assert a[Z["C"]] == pytest.approx(sun[Z["C"]] + 0.3)
    assert a[Z["N"]] == pytest.approx(sun[Z["N"]] - 0.2)
    assert a[Z["Mg"]] == pytest.approx(sun[Z["Mg"]] + 0.4 - 0.5)  # [Mg/Fe] relative to [Fe/H]
    # explicit [Fe/H] changes the reference of [X/Fe]
    b = np.asarray(format_abundances(-0.5, Fe=-0.7, Ca_Fe=0.2))
    assert b[Z["Ca"]] == pytest.approx(sun[Z["Ca"]] - 0.5)
    assert float(x_fe_from_a(b, "Ca")) == pytest.approx(0.2)


def test_conversions_roundtrip():
    sun = solar_abundances("asplund2021")
    assert float(a_from_x_h(0.25, "Fe", mixture="asplund2021")) == pytest.approx(7.71)
    assert float(x_h_from_a(7.71, 26, mixture="asplund2021")) == pytest.approx(0.25)
    v = np.linspace(-1, 1, 92)
    np.testing.assert_allclose(np.asarray(x_h_from_a(a_from_x_h(v))), v, atol=1e-13)
    assert float(a_from_x_fe(0.3, -1.0, "Mg", mixture="asplund2021")) == pytest.approx(
        sun[Z["Mg"]] - 0.7
    )
    f = np.asarray(number_fractions(sun))
    assert f.sum() == pytest.approx(1.0)
    assert f[0] == pytest.approx(1 / np.sum(10 ** (sun - 12)))


def test_format_abundances_differentiable():
    """d A / d m_h = 1 for metals, 0 for H/He; d A / d alpha_m = 1 on alpha elements only."""
    jac_m = jax.jacfwd(lambda m: format_abundances(m, 0.2))(-0.3)
    jac_a = jax.jacrev(lambda al: format_abundances(-0.3, al, Mg_Fe=0.1))(0.2)
    expected_m = np.r_[0.0, 0.0, np.ones(90)]
    np.testing.assert_allclose(np.asarray(jac_m), expected_m)
    expected_a = np.zeros(92)
    expected_a[[Z[s] for s in ALPHA_ELEMENTS if s != "Mg"]] = 1.0
    np.testing.assert_allclose(np.asarray(jac_a), expected_a)
    # and inside jit
    out = jax.jit(lambda m: format_abundances(m, 0.0, C=0.1))(0.1)
    assert np.isfinite(np.asarray(out)).all()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(m_h=float("nan")), "not finite"),
        (dict(m_h=12.0), "outside the physical range"),
        (dict(alpha_m=-7.0), "outside the physical range"),
        (dict(C=8.4), "outside the physical range"),  # A(C) passed as [C/H]
        (dict(Xx=0.1), "unknown element"),
        (dict(H=0.1), "A\\(H\\) = 12"),
        (dict(C=0.1, C_Fe=0.2), "more than once"),
        (dict(C_O=0.1), "unrecognised abundance keyword"),
        (dict(mixture="nope"), "unknown solar mixture"),
    ],
)
def test_format_abundances_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        format_abundances(**kwargs)


def test_format_abundances_nan_inside_jit():
    # inside jit the value is a tracer: eqx.error_if raises at run time (never a NaN vector)
    with pytest.raises(Exception, match="m_h is not finite"):
        jax.jit(lambda m: format_abundances(m))(jnp.nan).block_until_ready()


def test_format_abundances_vmaps_over_metallicity():
    m = jnp.array([-4.0, -1.0, 0.0, 1.0])
    out = jax.vmap(lambda mh: format_abundances(mh, 0.4 * (mh < 0)))(m)
    assert out.shape == (4, 92)
    np.testing.assert_allclose(np.asarray(out[0]), np.asarray(format_abundances(-4.0, 0.4)))


def test_check_abundances():
    a = format_abundances(-1.0)
    np.testing.assert_array_equal(np.asarray(check_abundances(a)), np.asarray(a))
    marcs_like = np.asarray(a).copy()
    marcs_like[42] = -99.0  # MARCS marker for an absent element is accepted
    check_abundances(marcs_like)
    with pytest.raises(ValueError, match="shape"):
        check_abundances(np.zeros(10))
    bad = np.asarray(a).copy()
    bad[0] = 11.0
    with pytest.raises(ValueError, match="A\\(H\\) = 11.0"):
        check_abundances(bad)
    bad = np.asarray(a).copy()
    bad[25] = np.nan
    with pytest.raises(ValueError, match="A\\(Fe\\) is not finite"):
        check_abundances(bad)
    bad = np.asarray(a).copy()
    bad[5] = 0.3 - 40  # absurd
    with pytest.raises(ValueError, match="A\\(C\\) = .* outside the physical range"):
        check_abundances(bad)
    with pytest.raises(Exception, match="invalid A\\(X\\) vector"):
        jax.block_until_ready(jax.jit(check_abundances)(jnp.asarray(bad)))
