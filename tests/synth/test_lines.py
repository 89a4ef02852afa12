"""Line lists (every staged fixture and real list parses; values spot-checked against the file
text) and the Voigt profile (against scipy.special.wofz; normalisation; gradients)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import wofz

from jaxstro.data import locate
from jaxstro.synth import lines as L

FIX = "linelist_fixture:"


def fixture(name):
    return locate(FIX + name)


@pytest.mark.parametrize(
    "code, expected",
    [("Fe 1", "Fe I"), ("Fe II", "Fe I" + "I"), ("CN 1", "CN"), ("TiO", "OTi"), ("H2O", "HHO"),
     ("C2", "CC"), ("(12)C(14)N", "CN"), ("Ca 2", "Ca II")],
)
def test_species_names(code, expected):
    assert L.species_from_name(code) == expected


def test_species_codes():
    assert L.species_from_kurucz_code("56.01") == "Ba II"
    assert L.species_from_moog_code("606.01213") == ("CC", (12, 13))
    assert L.species_from_moog_code("112.00124") == ("HMg", (1, 24))
    assert L.species_from_moog_code("22.10000") == ("Ti II", ())
    assert L.species_from_moog_code("25.0055") == ("Mn I", (55,))
    assert L.species_from_turbospectrum_code("0607.012014", 1) == ("CN", (12, 14))
    assert L.species_from_turbospectrum_code("3.006", 1) == ("Li I", (6,))
    assert L.species_from_turbospectrum_code("26.000", 2) == ("Fe II", ())
    with pytest.raises(ValueError):
        L.species_from_name("Xx 1")


@pytest.mark.needs_data
def test_isotopic_fractions_from_wallet_cards():
    # natural abundances (IUPAC): 7Li 92.41 %, 12C 98.93 %, 58Ni 68.077 %
    assert L.isotopic_fraction(3, 7) == pytest.approx(0.9241)
    assert L.isotopic_fraction(6, 12) == pytest.approx(0.9893)
    assert L.isotopic_fraction(28, 58) == pytest.approx(0.68077)


@pytest.mark.needs_data
def test_vald_short_stellar_values():
    ll = L.read_linelist(fixture("5000-5005.vald"))
    assert len(ll) == 14 and list(np.diff(np.asarray(ll.wavelength)) >= 0) == [True] * 13
    i = int(np.argmin(np.abs(np.asarray(ll.wavelength) - 5000.5066)))
    assert ll.species_of()[i] == "Fe I"
    assert float(ll.log_gf[i]) == pytest.approx(-1.740)
    assert float(ll.E_lower[i]) == pytest.approx(4.1864)
    assert float(ll.gamma_rad[i]) == pytest.approx(10**7.820)
    assert float(ll.gamma_stark[i]) == pytest.approx(10**-4.820)
    assert int(ll.vdw_kind[i]) == L.VDW_LOG_GAMMA and float(ll.vdw_1[i]) == pytest.approx(-7.52)
    j = int(np.argmin(np.abs(np.asarray(ll.wavelength) - 5000.8977)))  # Ti I, ABO 318.245
    assert int(ll.vdw_kind[j]) == L.VDW_ABO
    assert float(ll.vdw_1[j]) == 318 and float(ll.vdw_2[j]) == pytest.approx(0.245)
    k = int(np.argmin(np.abs(np.asarray(ll.wavelength) - 5000.8547)))  # La II, no damping given
    assert np.isnan(float(ll.gamma_rad[k])) and int(ll.vdw_kind[k]) == L.VDW_UNSOLD


@pytest.mark.needs_data
def test_vald_formats_agree():
    # the same Ti I line in short/long, stellar/all, air/vacuum, eV/cm^-1 extracts
    names = ["short-extract-stellar.vald", "short-extract-all.vald", "long-extract-stellar.vald",
             "long-extract-all-air-wavenumber.vald",
             "long-extract-all-air-wavenumber-noquotes.vald"]
    for n in names:
        ll = L.read_linelist(fixture(n))
        assert len(ll) == 2 and ll.species == ("Ti I",)
        # air 4998.72899 Å -> vacuum 5000.1235 Å (VALD's own vacuum value); 25102.875 cm^-1
        np.testing.assert_allclose(np.asarray(ll.wavelength), 5000.1235, atol=2e-4)
        np.testing.assert_allclose(np.asarray(ll.E_lower), 3.1124, atol=1e-4)
        np.testing.assert_allclose(np.asarray(ll.log_gf), -0.760)


@pytest.mark.needs_data
def test_vald_isotopic_scaling():
    # unscaled extracts get log10 of the 12C and 14N fractions added; the scaled one is as-is
    lists = {n: L.read_linelist(fixture("isotopic_scaling/" + n)) for n in
             ["long-all-unscaled.vald", "long-stellar-unscaled.vald", "scaled.vald",
              "short-all-unscaled.vald", "short-stellar-unscaled.vald"]}
    ref = np.asarray(lists["short-all-unscaled.vald"].log_gf)  # VALD applied the scaling
    for ll in lists.values():
        np.testing.assert_allclose(np.asarray(ll.log_gf), ref, atol=6e-4)  # VALD rounds to 1e-3


@pytest.mark.needs_data
def test_kurucz_moog_turbospectrum_fixtures():
    ba = L.read_linelist(fixture("gfallvac08oct17_ba"))
    assert ba.species == ("Ba II",) and len(ba) == 23
    # first record: 614.3409 nm, log gf -0.030 + hyperfine -1.234 + isotope -0.950
    assert float(ba.log_gf[0]) == pytest.approx(-0.030 - 1.234 - 0.950, abs=1e-9)
    assert float(ba.E_lower[0]) == pytest.approx(5674.807 / 8065.543937)
    with pytest.warns(UserWarning, match="beyond III"):
        gf = L.read_linelist(fixture("gfallvac08oct17.stub.dat"))
    assert len(gf) > 900
    assert len(L.read_linelist(fixture("gfallvac08oct17-short-lines.stub.dat"))) == 5
    with pytest.raises(ValueError, match="malformed Kurucz record"):
        L.read_linelist(fixture("gfallvac08oct17-missing-col.stub.dat"))
    cn = L.read_linelist(fixture("kurucz_cn.txt"))
    assert cn.species == ("CN",) and len(cn) == 10
    moog = L.read_linelist(fixture("s5eqw_short.moog"))
    assert set(moog.species) == {"Ti I", "Ti II", "Fe I", "HMg", "CC", "Mn I"}
    good = L.read_linelist(fixture("Turbospectrum/goodlist"))
    assert len(good) == 3
    # the 6Li block's -2.752 gets log10(0.0759) added; the fixture's natural-Li block holds the
    # same value pre-computed (-3.8717582241)
    assert np.isclose(np.asarray(good.log_gf), -2.752 + np.log10(L.isotopic_fraction(3, 6)),
                      atol=1e-9).sum() == 2
    with pytest.raises(ValueError, match="announces 3 lines but has 2"):
        L.read_linelist(fixture("Turbospectrum/badlines"))
    dflt = L.read_linelist(fixture("Turbospectrum/requires_default_gammas"))
    assert len(dflt) == 3 and np.all(np.isnan(np.asarray(dflt.gamma_rad)))


@pytest.mark.needs_data
@pytest.mark.parametrize(
    "name, n_lines",
    # line counts: GES blocks' announced counts (104,296); GALAH 307,002 less its 2 H I lines;
    # alpha_5000: 409 rows
    [("gaiaeso_linelist", 104296), ("galah_dr3_linelist", 307000), ("alpha_5000_lines", 409)],
)
def test_real_linelists(name, n_lines):
    ll = L.read_linelist(name)
    assert len(ll) == n_lines
    wl = np.asarray(ll.wavelength)
    assert np.all(np.diff(wl) >= 0) and np.all(np.isfinite(np.asarray(ll.log_gf)))


@pytest.mark.needs_data
def test_apogee_molecular_list_and_air_conversion():
    ll = L.read_linelist("apogee_dr17_molecular_linelist")
    # CN, CO (Li+ 2015), OH, C2, FeH, in canonical sorted-by-Z names
    assert ll.species == ("CC", "CN", "CO", "HFe", "HO")
    # the shortest air wavelength in the file, converted with n - 1 = 2.7346e-4 at 1.5 um
    # (Ciddor/Morton; independent of the reader's conversion code)
    rows = [ln.split() for ln in open(locate("apogee_dr17_molecular_linelist"))
            if ln[:1] == " " and ln.split()]
    wl_air = min(float(r[0]) for r in rows)
    assert np.asarray(ll.wavelength).min() == pytest.approx(wl_air * (1 + 2.7346e-4), abs=0.01)


def test_voigt_matches_wofz():
    v = np.concatenate([-np.logspace(-4, 3, 200)[::-1], [0.0], np.logspace(-4, 3, 200)])
    for a in [1e-6, 1e-4, 1e-2, 1.0, 100.0]:
        ref = wofz(v + 1j * a).real
        got = np.asarray(L.voigt_hjerting(a, v))
        np.testing.assert_allclose(got, ref, rtol=3e-6, atol=1e-13)


def test_voigt_profile_normalised_and_differentiable():
    x = jnp.linspace(-2000.0, 2000.0, 400001)
    prof = L.voigt_profile(x, 1.3, 0.2)
    # area within +-2000 sigma: the Lorentz wings beyond hold 2 gamma/(pi 2000) = 6.4e-5
    assert float(jnp.trapezoid(prof, x)) == pytest.approx(1 - 2 * 0.2 / (np.pi * 2000), abs=1e-6)
    f = lambda s, g: L.voigt_profile(0.7, s, g)
    gs, gg = jax.grad(f, argnums=(0, 1))(1.3, 0.2)
    h = 1e-6
    np.testing.assert_allclose(gs, (f(1.3 + h, 0.2) - f(1.3 - h, 0.2)) / (2 * h), rtol=1e-7)
    np.testing.assert_allclose(gg, (f(1.3, 0.2 + h) - f(1.3, 0.2 - h)) / (2 * h), rtol=1e-7)


def test_faddeeva_derivative_rule():
    """The custom JVP w' = -2 z w + 2i/sqrt(pi) vs the exact derivative from scipy's wofz: measured
    max |error| 3.4e-13, <= 5e-9 of |w'| over 1e-6 <= a <= 100, |v| <= 1e3 (both partials)."""
    from jaxstro.synth.lines import voigt as V

    v = np.concatenate([-np.logspace(-4, 3, 150)[::-1], [0.0], np.logspace(-4, 3, 150)])
    for a in [1e-6, 1e-2, 1.0, 100.0]:
        z = v + 1j * a
        ref = -2 * z * wofz(z) + 2j / np.sqrt(np.pi)
        dv, da = jax.vmap(jax.grad(L.voigt_hjerting, argnums=(1, 0)), in_axes=(None, 0))(
            a, jnp.asarray(v))
        np.testing.assert_allclose(dv, ref.real, atol=1e-12, rtol=0)
        np.testing.assert_allclose(da, -ref.imag, atol=1e-12, rtol=0)
        assert np.max(np.abs(np.asarray(dv) - ref.real) / np.abs(ref)) < 1e-8
        # forward mode and a complex cotangent take the same rule
        wz = jax.jvp(L.faddeeva, (jnp.asarray(z),), (jnp.ones_like(z),))[1]
        np.testing.assert_allclose(wz, ref, atol=1e-12, rtol=0)
    # the rule and plain autodiff of the series agree (the series is what is evaluated)
    zz = jnp.asarray(v[::10] + 0.3j)
    auto = jax.jvp(V._weideman_series, (zz,), (jnp.ones_like(zz),))[1]
    rule = jax.jvp(L.faddeeva, (zz,), (jnp.ones_like(zz),))[1]
    np.testing.assert_allclose(rule, auto, atol=1e-12, rtol=0)


def test_make_linelist_rejects_bad_input():
    with pytest.raises(ValueError, match="non-finite log_gf at line 1"):
        L.make_linelist([5000.0, 5001.0], [0.0, np.nan], ["Fe I", "Fe I"], [1.0, 1.0])
    with pytest.raises(ValueError, match="non-positive wavelength"):
        L.make_linelist([-1.0], [0.0], ["Fe I"], [1.0])
    with pytest.raises(ValueError, match="lengths"):
        L.make_linelist([5000.0], [0.0, 1.0], ["Fe I"], [1.0])
