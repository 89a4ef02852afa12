"""Line broadening and line absorption (jaxstro.synth.lines.broadening / .absorption).

References: the broadening formulas are re-evaluated here by hand (numpy, scipy.special.gamma) from
the papers cited in ``broadening.py``; the windowed production path is checked against the dense
lines x wavelengths path; the wavelength integral of a weak line's opacity against the analytic line
strength; gradients against central finite differences.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import gamma as gamma_fn

from jaxstro.synth.lines import broadening as br
from jaxstro.synth.lines import make_linelist
from jaxstro.synth.lines.absorption import (
    SpeciesState,
    WindowOptions,
    fixed_line_windows,
    line_absorption,
    line_absorption_dense,
    line_quantities,
    plan_line_windows,
    weak_line_strength,
)

# cgs constants written out independently of the module
C = 2.99792458e10
K = 1.380649e-16
AMU = 1.66053906660e-24
A0 = 0.529177210903e-8
M_FE = 55.845 * AMU
M_H = 1.008 * AMU


def test_doppler_sigma_by_hand():
    lam, T, xi = 5000e-8, 5777.0, 1.5e5
    want = lam / C * np.sqrt(K * T / M_FE + xi**2 / 2)
    assert float(br.doppler_sigma(lam, T, M_FE, xi)) == pytest.approx(want, rel=1e-14)
    # thermal-only Fe at 5777 K, 5000 Å: Gray's xi_th = sqrt(2kT/m) = 1.31 km/s
    assert float(br.doppler_sigma(lam, T, M_FE, 0.0)) * 1e8 == pytest.approx(
        5000 * 1.31e5 / C / np.sqrt(2), rel=3e-3)


def test_radiative_damping():
    lam = 5000e-8
    # classical damping 0.2223 / lambda[cm]^2 s^-1 (Gray 2005 eq. 11.14)
    assert float(br.classical_radiative_gamma(lam)) == pytest.approx(0.2223 / lam**2, rel=1e-3)
    g = br.radiative_gamma(jnp.array([1e8, np.nan, 0.0]), lam)
    np.testing.assert_allclose(np.asarray(g), [1e8, 0.2223 / lam**2, 0.2223 / lam**2], rtol=1e-3)


def test_stark():
    # list value: gamma_4 n_e (T/1e4)^(1/6)
    assert float(br.stark_gamma(1e-6, 1e14, 5000.0)) == pytest.approx(
        1e-6 * 1e14 * 0.5 ** (1 / 6), rel=1e-14)
    # Cowley approximation, neutral upper level 2 eV below the limit: n*^2 = 13.598/2
    nstar2 = 13.598434005136 / 2.0
    assert float(br.cowley_stark_gamma(5.0, 7.0, 0.0)) == pytest.approx(
        2.25910152e-7 * nstar2**2, rel=1e-12)
    assert float(br.cowley_stark_gamma(8.0, 7.0, 0.0)) == 0.0  # above the limit
    assert float(br.cowley_stark_gamma(5.0, np.nan, 0.0)) == 0.0  # molecule


@pytest.mark.needs_data
def test_cowley_stark_against_computed_widths():
    """Our Cowley (1971) form C n*^4 (n*^2 = Z^2 R / (chi - E_up)) against Kurucz's computed
    quadratic Stark widths of the 750 neutral lines with one in the gfall fixture: median log
    ratio +0.07 dex, 68 % within -0.49/+0.53 dex (measured 2026-11-23). Turbospectrum's
    ``depth.f`` evaluates C R (Z/(chi - E_up))^2 = n*^4/13.6 instead, which is 1.2 dex below these
    widths; asserted: our median within 0.2 dex, that form's median more than 1 dex off."""
    from jaxstro.data import locate
    from jaxstro.synth._partition import load_atomic_tables
    from jaxstro.synth.lines import constituents, read_linelist

    ll = read_linelist(locate("linelist_fixture:gfallvac08oct17.stub.dat"))
    chi_tab = load_atomic_tables()["chi"]
    g_list, chi, Eu = [], [], []
    for sp, g, wl, El in zip(ll.species_of(), np.asarray(ll.gamma_stark),
                             np.asarray(ll.wavelength), np.asarray(ll.E_lower), strict=True):
        zs, q = constituents(sp)
        if len(zs) == 1 and q == 0 and np.isfinite(g):
            g_list.append(g)
            chi.append(chi_tab[zs[0] - 1, 0])
            Eu.append(El + br.HC_EV_ANGSTROM / wl)
    g_list, chi, Eu = map(np.asarray, (g_list, chi, Eu))
    ok = chi > Eu
    assert ok.sum() > 500
    ours = np.asarray(br.cowley_stark_gamma(Eu[ok], chi[ok], 0.0))
    other = br.COWLEY_STARK_CONSTANT * br.RYDBERG_H_EV / (chi[ok] - Eu[ok]) ** 2
    assert abs(np.median(np.log10(g_list[ok] / ours))) < 0.2
    assert np.median(np.log10(g_list[ok] / other)) > 1.0


def test_van_der_waals_abo_by_hand():
    sigma, alpha, T, nH = 250.0, 0.25, 6000.0, 1e16
    mu = M_FE * M_H / (M_FE + M_H)
    vbar = np.sqrt(8 * K * T / (np.pi * mu))
    w = (4 / np.pi) ** (alpha / 2) * gamma_fn((4 - alpha) / 2) * 1e6 * sigma * A0**2 * (
        vbar / 1e6) ** (1 - alpha)
    assert float(br.abo_gamma(sigma, alpha, T, M_FE, nH)) == pytest.approx(2 * w * nH, rel=1e-12)


def test_van_der_waals_log_gamma_and_unsold_by_hand():
    assert float(br.log_gamma_vdw(-7.5, 5000.0, 1e16)) == pytest.approx(
        10**-7.5 * 1e16 * 0.5**0.3, rel=1e-13)
    El, lam, chi, T, nH = 2.0, 5000e-8, 7.9024, 5000.0, 1e16
    Eu = El + 12398.419843320026 / 5000.0
    c6 = 0.3e-30 * (1 / (chi - Eu) ** 2 - 1 / (chi - El) ** 2)
    assert float(br.unsold_c6(El, Eu, chi, 0.0)) == pytest.approx(c6, rel=1e-12)
    vbar = np.sqrt(8 * K * T / np.pi * (1 / M_FE + 1 / M_H))
    want = 2.5 * 17 * vbar**0.6 * c6**0.4 * nH
    assert float(br.unsold_gamma(c6, T, M_FE, nH, 2.5)) == pytest.approx(want, rel=1e-12)
    # the Unsöld gamma scales as T^0.3
    r = br.unsold_gamma(c6, 2 * T, M_FE, nH) / br.unsold_gamma(c6, T, M_FE, nH)
    assert float(r) == pytest.approx(2**0.3, rel=1e-12)
    # an ion carries Z^2 = 4
    assert float(br.unsold_c6(El, Eu, 16.2, 1.0)) == pytest.approx(
        4 * 0.3e-30 * (1 / (16.2 - Eu) ** 2 - 1 / (16.2 - El) ** 2), rel=1e-12)
    # Lorentz HWHM in wavelength
    assert float(br.lorentz_hwhm_wavelength(1e9, lam)) == pytest.approx(
        lam**2 * 1e9 / (4 * np.pi * C), rel=1e-14)


# ------------------------------------------------------------------------------------------------
def _toy(n_layers=3, with_ions=True):
    """A few Fe I / Fe II / CN lines in 5000-5010 Å with every kind of broadening data."""
    wl = [5001.0, 5002.5, 5003.0, 5004.2, 5006.0, 5008.8]
    loggf = [-1.0, -2.5, 0.5, -3.0, -1.5, -0.8]
    species = ["Fe I", "Fe I", "Fe I", "CN", "Fe II", "Fe I"]
    El = [2.2, 3.5, 0.9, 0.4, 2.8, 4.2]
    g_rad = [1e8, np.nan, 3e8, 1e7, np.nan, 2e8]
    g_st = [1e-6, np.nan, 3e-6, np.nan, np.nan, np.nan]
    kind = [2, 1, 0, 0, 1, 2]
    v1 = [280.0, -7.6, 2.0, 1.0, -7.9, 350.0]
    v2 = [0.24, 0.0, 0.0, 0.0, 0.0, 0.27]
    ll = make_linelist(wl, loggf, species, El, gamma_rad=g_rad, gamma_stark=g_st, vdw_kind=kind,
                       vdw_1=v1, vdw_2=v2)
    T = jnp.linspace(4500.0, 7000.0, n_layers)
    ne = jnp.geomspace(1e12, 1e15, n_layers)
    nH = jnp.geomspace(1e15, 1e17, n_layers)
    dens = {"CN": 1e6, "Fe I": 3e10, "Fe II": 3e11}
    chi = {"CN": np.nan, "Fe I": 7.9024, "Fe II": 16.1988}
    nd = jnp.stack([dens[s] * nH / 1e16 for s in ll.species])
    U = jnp.stack([jnp.full(n_layers, 1.0) * (30.0 if s != "CN" else 1e4) for s in ll.species])
    st = SpeciesState(nd, U, jnp.array([chi[s] for s in ll.species]))
    return ll, T, ne, nH, st


def test_windowed_equals_dense_same_cut():
    ll, T, ne, nH, st = _toy()
    wl = np.arange(4999.0, 5011.0, 0.01)
    win = fixed_line_windows(ll, wl, 1.5, n_layers=3,
                             options=WindowOptions(chunk_elements=4000))
    a_w = line_absorption(ll, wl, T, ne, nH, st, 1.0, win)
    a_d = line_absorption_dense(ll, wl, T, ne, nH, st, 1.0, half_width=1.5)
    assert float(jnp.max(a_d)) > 0
    # same cut, same profile code: agreement to rounding (the Weideman series' rounding depends
    # on how XLA fuses it for each array layout: up to 2e-11 relative in the far wings)
    np.testing.assert_allclose(np.asarray(a_w), np.asarray(a_d), rtol=1e-10,
                               atol=1e-14 * float(jnp.max(a_d)))


def test_planned_windows_cut_below_cutoff():
    ll, T, ne, nH, st = _toy()
    wl = np.arange(4999.0, 5011.0, 0.01)
    a_c = 1e-7 * jnp.ones(3)
    cutoff = 1e-4
    opts = WindowOptions(cutoff=cutoff)
    win = plan_line_windows(ll, wl, T, ne, nH, st, 1.0, a_c, options=opts)
    a_w = np.asarray(line_absorption(ll, wl, T, ne, nH, st, 1.0, win))
    a_d = np.asarray(line_absorption_dense(ll, wl, T, ne, nH, st, 1.0))
    # what is cut away is, per line, below cutoff * continuum (a few lines overlap: x n_lines)
    assert np.max(np.abs(a_w - a_d)) <= cutoff * 1e-7 * len(ll)
    assert np.max(a_d) > 1e3 * cutoff * 1e-7


def test_weak_line_integral_equals_line_strength():
    """A weak line with negligible damping (no perturbers, gamma_rad = 1e3 s^-1: Lorentz HWHM
    7e-10 Å) integrated by the trapezoid rule over +-1 Å (> 50 Doppler sigmas) reproduces
    pi e^2/(m_e c^2) lambda^2 gf n/U exp(-E/kT)(1 - exp(-hc/lambda kT)) to 1e-6."""
    ll = make_linelist([5000.0], [-2.0], ["Fe I"], [1.5], gamma_rad=[1e3], gamma_stark=[0.0],
                       vdw_kind=[1], vdw_1=[-30.0])
    T = jnp.array([5000.0, 6000.0])
    st = SpeciesState(jnp.array([[1e11, 2e11]]), jnp.array([[25.0, 30.0]]), jnp.array([7.9]))
    wl = np.arange(4999.0, 5001.0 + 1e-9, 0.001)
    win = fixed_line_windows(ll, wl, 1.0, n_layers=2)
    a = np.asarray(line_absorption(ll, wl, T, 0.0, 0.0, st, 0.0, win))
    integral = np.trapezoid(a, wl * 1e-8, axis=1)
    # analytic strength, from the formula written out here
    lam, gf = 5000e-8, 1e-2
    pr = np.pi * 4.80320471e-10**2 / (9.1093837015e-28 * C**2)
    Tn = np.array([5000.0, 6000.0])
    boltz = np.exp(-1.5 / (8.617333262e-5 * Tn))
    stim = 1 - np.exp(-6.62607015e-27 * C / (lam * K * Tn))
    want = pr * lam**2 * gf * np.array([1e11 / 25, 2e11 / 30]) * boltz * stim
    np.testing.assert_allclose(integral, want, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(weak_line_strength(ll, T, st))[0], want, rtol=1e-12)


def test_gradients_match_finite_differences():
    """d(sum of weighted opacity)/dT and /d log10 n_s (an abundance change at fixed equilibrium)
    against central differences (step 1e-3 K, 1e-4 dex); tolerance 1e-6 relative."""
    ll, _, ne, nH, st = _toy(n_layers=2)
    wl = np.arange(5000.0, 5010.0, 0.02)
    T0 = jnp.array([5200.0, 6100.0])
    win = fixed_line_windows(ll, wl, 1.0, n_layers=2, options=WindowOptions(chunk_elements=512))
    w = jnp.asarray(np.random.default_rng(1).uniform(size=(2, wl.size)))

    def f(T, dA):
        U = st.partition_function * (T / 5000.0) ** 0.3  # smooth U(T)
        s = SpeciesState(st.number_density * 10.0 ** dA[:, None], U, st.ionization_energy)
        return jnp.sum(w * line_absorption(ll, wl, T, ne, nH, s, 1.0, win)) * 1e6

    dA0 = jnp.zeros(len(ll.species))
    gT, gA = jax.jit(jax.grad(f, argnums=(0, 1)))(T0, dA0)
    fj = jax.jit(f)
    f0 = fj(T0, dA0)
    for i in range(2):
        e = jnp.zeros(2).at[i].set(1e-3)
        fd = (fj(T0 + e, dA0) - fj(T0 - e, dA0)) / 2e-3
        assert float(gT[i]) == pytest.approx(float(fd), rel=1e-6)
    for i in range(len(ll.species)):
        e = jnp.zeros(len(ll.species)).at[i].set(1e-4)
        fd = (fj(T0, dA0 + e) - fj(T0, dA0 - e)) / 2e-4
        assert float(gA[i]) == pytest.approx(float(fd), rel=1e-6, abs=1e-10 * float(f0))


def test_line_quantities_and_validation():
    ll, T, ne, nH, st = _toy()
    amp, sig, gam = line_quantities(ll, T, ne, nH, st, 2.0)
    assert amp.shape == sig.shape == gam.shape == (len(ll), 3)
    assert np.all(np.asarray(gam) > 0) and np.all(np.asarray(sig) > 0)
    bad = SpeciesState(st.number_density[:, :2], st.partition_function, st.ionization_energy)
    with pytest.raises(ValueError, match="n_species"):
        line_quantities(ll, T, ne, nH, bad, 1.0)
    with pytest.raises(ValueError, match="increasing"):
        fixed_line_windows(ll, np.array([5001.0, 5000.0]), 1.0)
    win = fixed_line_windows(ll, np.arange(5000.0, 5010.0, 0.1), 1.0)
    with pytest.raises(ValueError, match="planned"):
        line_absorption(ll, np.arange(5000.0, 5010.0, 0.05), T, ne, nH, st, 1.0, win)


@pytest.mark.needs_data
@pytest.mark.slow
def test_full_ges_list_on_marcs_sun():
    """All 104,296 GES lines (the plan keeps those reaching the grid) over 5000-5100 Å on the
    56-layer MARCS Sun: finite, non-negative, and equal to the dense sum of the lines kept."""
    from jaxstro.data import locate
    from jaxstro.synth.abundances import format_abundances
    from jaxstro.synth.atmosphere import read_marcs
    from jaxstro.synth.lines import read_linelist
    from jaxstro.synth.lines.absorption import species_state
    from jaxstro.synth.statmech import chemical_equilibrium, load_equilibrium_data

    ll = read_linelist(locate("gaiaeso_linelist"))
    assert len(ll) == 104296
    atm = read_marcs(locate("marcs_sun"))
    data = load_equilibrium_data()
    ne, n = jax.jit(jax.vmap(chemical_equilibrium, in_axes=(0, 0, 0, None, None)))(
        atm.temperature, atm.number_density, atm.electron_density, format_abundances(), data)
    st = species_state(ll.species, n, atm.temperature, data)  # every GES species is covered
    wl = np.arange(5000.0, 5100.0 + 1e-9, 0.05)
    win = plan_line_windows(ll, wl, atm.temperature, ne, n["H I"], st, 1.0, 1e-6)
    a = np.asarray(line_absorption(ll, wl, atm.temperature, ne, n["H I"], st, 1.0, win))
    assert a.shape == (56, wl.size) and np.all(np.isfinite(a)) and np.all(a >= 0)
    assert 1000 < win.n_lines < 5000


def test_wing_formula_against_wofz():
    """The far-wing continued fraction (depth 4) used beyond |z| = 8: Re w within 1e-7 relative
    of scipy's wofz (measured 4.1e-8); the 24-term series used near line centre within 1e-10
    absolute (measured 8.0e-11)."""
    from scipy.special import wofz

    from jaxstro.synth.lines.absorption import WING_Z
    from jaxstro.synth.lines.voigt import laplace_hjerting

    v = np.geomspace(1e-3, 3000, 400)
    a = np.geomspace(1e-7, 30, 30)
    V, A = np.meshgrid(np.concatenate([v, -v]), a)
    far = np.hypot(V, A) >= WING_Z
    z = (V + 1j * A)[far]
    got = np.asarray(laplace_hjerting(A[far], V[far]))
    want = wofz(z).real
    assert np.max(np.abs(got - want) / want) < 1e-7
    # its derivatives (the rule w' = -2 z w + 2i/sqrt(pi)) vs the exact ones
    dv, da = jax.vmap(jax.grad(laplace_hjerting, argnums=(1, 0)))(jnp.asarray(A[far]),
                                                                 jnp.asarray(V[far]))
    wp = -2 * z * wofz(z) + 2j / np.sqrt(np.pi)
    # (measured max 4.7e-7 of |w'|: the rule's cancellation, ~|z|^2 x the 4e-8 of the fraction)
    assert np.max(np.abs(np.asarray(dv) - wp.real) / np.abs(wp)) < 1e-6
    assert np.max(np.abs(np.asarray(da) + wp.imag) / np.abs(wp)) < 1e-6
    from jaxstro.synth.lines.voigt import line_hjerting

    vv = np.concatenate([-np.logspace(-4, 1.1, 300)[::-1], [0.0], np.logspace(-4, 1.1, 300)])
    for aa in np.geomspace(1e-7, 10, 12):
        m = np.hypot(vv, aa) < 11.4
        err = np.asarray(line_hjerting(aa, vv[m])) - wofz(vv[m] + 1j * aa).real
        assert np.max(np.abs(err)) < 1e-10


def test_planned_split_windows_equal_dense():
    """Planned windows with the core/wing split against the dense path cut at the same per-line
    half widths: the wing formula changes nothing beyond 1e-7 relative."""
    ll, T, ne, nH, st = _toy(n_layers=2)
    wl = np.arange(4999.0, 5011.0, 0.005)
    opts = WindowOptions(cutoff=1e-5, max_half_width=2.0, chunk_elements=4000)
    win = plan_line_windows(ll, wl, T, ne, nH, st, 1.0, 1e-7, options=opts)
    assert win.n_evaluations[0] > 0 and win.wing_start.shape[0] > 1  # wing rows, in chunks
    a_w = np.asarray(line_absorption(ll, wl, T, ne, nH, st, 1.0, win))
    a_d = np.asarray(line_absorption_dense(ll, wl, T, ne, nH, st, 1.0,
                                           half_width=np.asarray(win.line_half_width) * 1e8))
    np.testing.assert_allclose(a_w, a_d, rtol=1e-7, atol=1e-12 * a_d.max())


@pytest.mark.needs_data
@pytest.mark.slow
def test_sun_5000_5100_against_turbospectrum():
    """Full synthesis (synthesize + planned line windows) of the MARCS Sun, 5000-5100 Å at 0.01 Å,
    GES lines, Turbospectrum's GAS2007 abundances, vmic 1 km/s, against the stored Turbospectrum
    v20.1 spectrum (pure-LTE variant, as synthesize uses S = B), with the windows planned here
    from H I alone (the explicit-windows path of synthesize).

    Without the published ABO tables (list damping values as given) the residual sits in the
    damping wings of strong Fe I lines (measured rms 0.0123, max 0.189 at 5005.63 Å before
    the He/H2 perturbers and the tables); with the tables and perturbers the issue-5 goal is
    met (see tests/synth/test_lines_vs_turbospectrum.py: rms 0.0021, max 0.022). Here the list
    is read without the tables, so this guards the perturber-only state (measured rms 0.0120,
    max 0.185: the He/H2 perturbers alone barely help; the ABO tables are what matters).
    """
    from benchmarks.peers.turbospectrum import compare_normalised, load_reference
    from jaxstro.data import locate
    from jaxstro.spectra._airvac import air_to_vacuum
    from jaxstro.synth.atmosphere import read_marcs
    from jaxstro.synth.lines import read_linelist, species_state
    from jaxstro.synth.synthesize import (
        _default_continuum_data,
        _default_equilibrium_data,
        layer_opacities,
        synthesize,
    )

    ref_id = "lines_sun_5000_5100"
    arr, meta = load_reference(ref_id)
    wl_air = arr["wavelength"]
    wl = np.asarray(air_to_vacuum(jnp.asarray(wl_air)))
    A = np.full(92, -10.0)
    for z, a in meta["abundances_used"].items():
        A[int(z) - 1] = a
    A = jnp.asarray(A)
    atm = read_marcs(locate(meta["model"]["name"]))
    ll = read_linelist(locate("gaiaeso_linelist")).window(wl[0] - 5, wl[-1] + 5)
    vmic = meta["vmic_km_s"]
    cd, ed = _default_continuum_data(), _default_equilibrium_data()
    ne, n, a_c, _ = layer_opacities(atm, A, jnp.asarray([wl[wl.size // 2] * 1e-8]), cd, ed)
    st = species_state(ll.species, n, atm.temperature, ed)
    win = plan_line_windows(ll, wl, atm.temperature, ne, n["H I"], st, vmic, np.asarray(a_c[:, 0]))
    norm = np.asarray(synthesize(atm, ll, A, wl, vmic=vmic, line_windows=win).normalized)
    res = compare_normalised(ref_id, wl_air, norm, pure_lte=True)
    print(res)
    assert res["rms"] < 0.0125 and res["max_abs"] < 0.19
    ref = arr["normalised_pure_lte"].astype(float)
    cores = (ref < 0.6) & (ref <= np.roll(ref, 1)) & (ref <= np.roll(ref, -1))
    assert np.max(np.abs(norm - ref)[cores]) < 0.03


@pytest.mark.needs_data
@pytest.mark.slow
def test_synthesis_gradient_wrt_fe_and_vmic():
    """d(weighted normalised flux)/dA(Fe) and /dvmic through synthesize (chemical equilibrium,
    continuum, planned line windows, transfer) on the MARCS Sun, 5049.5-5050.5 Å, against central
    differences (step 1e-4). Measured: 3.7e-10 and 2.2e-9 relative; asserted 1e-6."""
    from jaxstro.data import locate
    from jaxstro.synth.abundances import format_abundances
    from jaxstro.synth.atmosphere import read_marcs
    from jaxstro.synth.lines import read_linelist, species_state
    from jaxstro.synth.synthesize import (
        _default_continuum_data,
        _default_equilibrium_data,
        layer_opacities,
        synthesize,
    )

    atm = read_marcs(locate("marcs_sun"))
    A = format_abundances()
    wl = np.arange(5049.5, 5050.5, 0.01)
    ll = read_linelist(locate("gaiaeso_linelist")).window(wl[0] - 2, wl[-1] + 2)
    cd, ed = _default_continuum_data(), _default_equilibrium_data()
    ne, n, a_c, _ = layer_opacities(atm, A, jnp.asarray([wl[50] * 1e-8]), cd, ed)
    st = species_state(ll.species, n, atm.temperature, ed)
    win = plan_line_windows(ll, wl, atm.temperature, ne, n["H I"], st, 1.0, np.asarray(a_c[:, 0]))
    wts = jnp.asarray(np.random.default_rng(0).uniform(size=wl.size))

    def f(dfe, vmic):
        sp = synthesize(atm, ll, A.at[25].add(dfe), wl, vmic=vmic, line_windows=win)
        return jnp.sum(wts * sp.normalized)

    g = jax.grad(f, argnums=(0, 1))(0.0, 1.0)
    h = 1e-4
    fd0 = (f(h, 1.0) - f(-h, 1.0)) / (2 * h)
    fd1 = (f(0.0, 1.0 + h) - f(0.0, 1.0 - h)) / (2 * h)
    assert float(g[0]) == pytest.approx(float(fd0), rel=1e-6)
    assert float(g[1]) == pytest.approx(float(fd1), rel=1e-6)
