"""Line spectra against Turbospectrum v20.1 (issue 5, acceptance 1) and the van der Waals inputs
that make them agree.

Reference: the stored Turbospectrum outputs in ``tests/synth/reference/lines_*.npz`` (see its
README: same model atmosphere, Turbospectrum's GAS2007 abundances as it adopted them, same vmic,
air wavelengths at 0.01 Å). We compare with the ``normalised_pure_lte`` column because
``synthesize`` uses S = B (the scattering variant differs from it by <= 2e-4 for the dwarfs,
5e-3 for the logg-1 supergiant). Our synthesis follows Turbospectrum's conventions where they
are choices rather than physics: the model's P_e held (``HoldElectronPressure``), the same
Gaia-ESO list read with the published ABO tables (``broadening.load_abo_tables``; Turbospectrum
assigns the same tables), He I and H2 van der Waals perturbers, strength-sized line windows (cut
at 1e-4 of the continuum), and hydrogen lines with level dissolution (occupation probabilities,
as Turbospectrum's HBOP; without them the H band is rms 0.0075: Brackett wings too deep).

Measured (full windows; issue goal rms <= 0.005, max <= 0.03; all asserted at the goal):

| reference | rms | max | at Å (air) |
|---|---|---|---|
| lines_sun_5000_5100 | 0.0020 | 0.0224 | 5031.49 (Cr I, Stark: below) |
| lines_s5000_g3.0_5000_5100 | 0.0010 | 0.0234 | 5053.28 |
| lines_s6000_g1.0_5000_5100 | 0.0017 | 0.0123 | 5092.73 |
| lines_atlas9_m+0.0_5000_5100 | 0.0023 | 0.0223 | 5031.49 |
| lines_atlas9_m-1.0_5000_5100 | 0.0015 | 0.0083 | 5044.22 |
| lines_sun_li_6680_6740 | 0.0011 | 0.0113 | 6721.75 |
| lines_s5000_g2.0_hband_15200_15300 (APOGEE molecules) | 0.0022 | 0.0084 | 15260.68 (Br 19 core) |

(2026-12-03, after the Uppsala continuum tables landed; before them within 0.0003 of these.)

With n_e re-solved from the abundances instead (``SolveElectronDensity``, Korg's convention) the
ATLAS9 solar model misses (rms 0.0086, max 0.048: its n_e comes out 17 % below XNE, the model
having been computed for other abundances); on the structure Turbospectrum derived from the
model it meets the goal either way (test_atlas9_on_turbospectrum_structure).

The largest remaining residual in the dwarfs (Cr I 5031.49 Å, upper level 0.094 eV below the
limit, about 0.02 too shallow here) is quadratic Stark broadening: both codes use Cowley's
(1971) approximation when the list has no width, ours as C n*^4 with n*^2 = Z^2 R/(chi - E_up)
(as Korg does), Turbospectrum's ``depth.f`` as C R (Z/(chi - E_up))^2 = n*^4/13.6 without the
(T/10^4)^(1/6) scaling; with the width given explicitly to both codes the line depths agree to
4e-4 (single-line runs, 2026-11-23), and with Turbospectrum's form swapped in (scratch run) the
whole Sun comes to rms 0.0008, max 0.008. We keep ours: Kurucz's computed Stark widths agree
with it (median +0.07 dex over 750 neutral lines) and not with that form (1.2 dex below;
test_line_absorption.py::test_cowley_stark_against_computed_widths).

Tolerances below are the measured values with a small margin (regression guards) and never
looser than needed; the six that meet the goal are asserted at the goal.
"""

from __future__ import annotations

import re

import jax.numpy as jnp
import numpy as np
import pytest

from jaxstro.synth.lines import broadening as br

GOAL_RMS, GOAL_MAX = 0.005, 0.03

#: references asserted at the goal (rms, max)
TOLERANCE = {k: (GOAL_RMS, GOAL_MAX) for k in (
    "lines_sun_5000_5100", "lines_s5000_g3.0_5000_5100", "lines_s6000_g1.0_5000_5100",
    "lines_atlas9_m+0.0_5000_5100", "lines_atlas9_m-1.0_5000_5100", "lines_sun_li_6680_6740",
    "lines_s5000_g2.0_hband_15200_15300")}

_LISTS: dict = {}


def _abo_tables():
    try:
        return br.load_abo_tables()
    except FileNotFoundError as e:
        pytest.skip(f"ABO tables not available: {e}")


def _linelist(name):
    from jaxstro.data import locate
    from jaxstro.synth.lines import read_linelist

    if name not in _LISTS:
        kw = {"abo_tables": _abo_tables()} if name == "gaiaeso_linelist" else {}
        _LISTS[name] = read_linelist(locate(name), **kw)
    return _LISTS[name]


def turbospectrum_structure(model_name: str):
    """The layer structure Turbospectrum actually used for an ATLAS9 model (stored with the
    continuum reference: T, P_e, P_g on its own tau_5000 scale from RHOX, 4 significant
    digits) as an ``Atmosphere`` (tau_5000 reference; z from d tau / (kappa_5000 rho))."""
    from benchmarks.peers.turbospectrum import load_reference
    from jaxstro.synth.atmosphere import make_atmosphere

    c, _ = load_reference(f"continuum_{model_name}")
    k = 1.380649e-16
    T, tau = c["ts_model_T"], c["ts_model_tau5000"]
    krho = c["ts_kappa_std"] * c["ts_model_rho"]
    dz = np.diff(tau) / (0.5 * (krho[1:] + krho[:-1]))
    z = -np.concatenate([[0.0], np.cumsum(dz)])
    return make_atmosphere(tau, z, T, c["ts_model_Pe"] / (k * T), c["ts_model_Pg"] / (k * T),
                           reference_wavelength=5000.0, where=f"{model_name} (Turbospectrum)")


def synthesize_reference_case(ref_id: str, lo: float | None = None, hi: float | None = None,
                              ts_structure: bool = False):
    """Our normalised spectrum for a stored reference (optionally a sub-window [lo, hi] Å air)
    and the reference's pure-LTE normalised flux on the same pixels, with the model's electron
    pressure held (Turbospectrum's convention). ``ts_structure``: ATLAS9 models on the
    structure Turbospectrum derived from them (:func:`turbospectrum_structure`)."""
    from benchmarks.peers.turbospectrum import load_reference
    from jaxstro.data import locate
    from jaxstro.spectra import air_to_vacuum
    from jaxstro.synth.atmosphere import read_atlas9, read_marcs
    from jaxstro.synth.statmech import HoldElectronPressure
    from jaxstro.synth.synthesize import synthesize

    arr, meta = load_reference(ref_id)
    wl_air = arr["wavelength"]
    sel = np.ones(wl_air.size, bool)
    if lo is not None:
        sel = (wl_air >= lo - 1e-6) & (wl_air <= hi + 1e-6)
    wl = np.asarray(air_to_vacuum(jnp.asarray(wl_air[sel])))
    A = np.full(92, -10.0)
    for z, a in meta["abundances_used"].items():
        A[int(z) - 1] = a
    name = meta["model"]["name"]
    if ts_structure:
        atm = turbospectrum_structure(name)
    else:
        atm = read_atlas9(name) if name.startswith("atlas9") else read_marcs(locate(name))
    ll = _linelist(meta["linelists"][0]["name"]).window(wl[0] - 5.0, wl[-1] + 5.0)
    sp = synthesize(atm, ll, jnp.asarray(A), wl, vmic=meta["vmic_km_s"],
                    electrons=HoldElectronPressure())
    return wl_air[sel], np.asarray(sp.normalized), arr["normalised_pure_lte"][sel].astype(float)


# ------------------------------------------------------------------------------------------------
# van der Waals inputs
@pytest.mark.needs_data
def test_abo_tables_parse():
    """The compilation holds the six published tables (A&O 1995 s-p 21 x 18; B&O 1997 p-d and
    BOR 1998 d-f 18 x 18, sigma and alpha) and the individually computed lines (5,024 general,
    24,188 Fe II, 13,165 Cr II, as its headers state)."""
    t = _abo_tables()
    assert t.grids[("s", "p")][2].shape == (21, 18)
    assert t.grids[("p", "d")][2].shape == t.grids[("d", "f")][3].shape == (18, 18)
    assert {k: len(v) for k, v in t.special.items()} == {
        "general": 5024, "Fe II": 24188, "Cr II": 13165}
    for _, _, sig, alp in t.grids.values():  # cross sections 10^2-10^4 a0^2, alpha in (0, 1)
        assert np.all((sig > 50) & (sig < 2e4)) and np.all((alp > 0) & (alp < 1))
    with pytest.raises(ValueError, match="six 18-column"):
        br.parse_abo_tables("1 2 3\n", "bad")


def _ges_packed_abo_lines():
    """Neutral/singly ionised GES lines that carry a packed (published) ABO value."""
    from jaxstro.data import locate
    from jaxstro.synth._partition import load_atomic_tables

    head = re.compile(r"^\s*'\s*([0-9.]+)\s*'\s+(\d+)\s+(\d+)")
    rows, cur = [], None
    for ln in locate("gaiaeso_linelist").read_text().splitlines():
        m = head.match(ln)
        if m:
            cur = (int(float(m.group(1))), int(m.group(2)) - 1)
            continue
        if ln.startswith("'") or cur is None or cur[0] > 92:
            continue
        parts = ln.split("'")
        v = parts[0].split()
        if float(v[3]) >= 20:
            rows.append((*cur, float(v[0]), float(v[1]), float(v[3]), parts[1][:1], parts[3][:1]))
    Z, q, wl, el, f = (np.array([r[i] for r in rows]) for i in range(5))
    chi = load_atomic_tables()["chi"][Z.astype(int) - 1, q.astype(int)]
    return Z, q, wl, el, f, chi, np.array([r[5] for r in rows]), np.array([r[6] for r in rows])


@pytest.mark.needs_data
def test_abo_lookup_reproduces_published_values():
    """Independent check of the lookup: the GES list carries published ABO sigma.alpha (VALD,
    from Barklem et al. 2000) for 6,704 lines. (i) Lines matched to the individually computed
    records must reproduce them exactly (same published numbers); (ii) the 0.1-step table
    interpolation alone (records removed) must agree with them in the median to 10 % in sigma
    and 0.01 in alpha (the tables are the hydrogenic-n* approximation of the same theory)."""
    t = _abo_tables()
    Z, q, wl, el, f, chi, lo, up = _ges_packed_abo_lines()
    sig_l, alp_l = np.floor(f), f - np.floor(f)
    s, a, found = br.abo_from_tables(t, Z, q, wl, el, chi, lo, up)
    assert found.sum() > 4000
    # (found also holds table-interpolated lines without a record: measured 97.0 % identical)
    assert np.mean(np.abs(s[found] / sig_l[found] - 1) < 1e-6) > 0.95
    assert np.mean(np.abs(a[found] - alp_l[found]) < 1e-3) > 0.95
    only = br.AboTables(t.grids, {k: v[:0] for k, v in t.special.items()}, "tables only")
    s, a, found = br.abo_from_tables(only, Z, q, wl, el, chi, lo, up)
    assert found.sum() > 2000
    assert abs(np.median(s[found] / sig_l[found]) - 1) < 0.10
    assert abs(np.median(a[found] - alp_l[found])) < 0.01


@pytest.mark.needs_data
def test_reader_assigns_abo_like_turbospectrum():
    """In 5000-5100 Å (air) Turbospectrum replaces the list's log gamma_6 for ~30 % of the lines
    that have one (562 of 1,908 in its count, shared/notes item 7) and the Unsöld factor for
    ~29 % (210 of 732); packed ABO values are kept. Our reader must make the same share of
    replacements (+-3 percentage points: its line count includes no +-2 Å margin)."""
    from jaxstro.data import locate
    from jaxstro.spectra import air_to_vacuum
    from jaxstro.synth.lines import VDW_ABO, VDW_LOG_GAMMA, VDW_UNSOLD, read_turbospectrum

    a = read_turbospectrum(locate("gaiaeso_linelist"))
    b = _linelist("gaiaeso_linelist")
    lo, hi = np.asarray(air_to_vacuum(np.array([5000.0, 5100.0])))
    w = np.asarray(a.wavelength)
    m = (w >= lo) & (w <= hi)
    ka, kb = np.asarray(a.vdw_kind)[m], np.asarray(b.vdw_kind)[m]
    frac_log = np.mean(kb[ka == VDW_LOG_GAMMA] == VDW_ABO)
    frac_uns = np.mean(kb[ka == VDW_UNSOLD] == VDW_ABO)
    assert abs(frac_log - 562 / 1908) < 0.03 and abs(frac_uns - 210 / 732) < 0.03
    assert np.all(kb[ka == VDW_ABO] == VDW_ABO)
    same = ka == VDW_ABO
    np.testing.assert_array_equal(np.asarray(a.vdw_1)[m][same], np.asarray(b.vdw_1)[m][same])


def test_abo_rules_on_synthetic_tables():
    """The assignment rules on hand-made tables (no data file): bilinear interpolation in the
    right orbital order for either direction (s-p and p-s), the individually computed record
    overriding the table, ions only by record, the d-p upper-level estimate, and no value for
    an upper level above the limit or an orbital pair without a table."""
    sig = np.arange(21 * 18, dtype=float).reshape(21, 18) + 100.0  # rows n*_s, columns n*_p
    alp = np.full((21, 18), 0.25)
    g = np.full((18, 18), 500.0)
    tables = br.AboTables(
        {("s", "p"): (1.0, 1.3, sig, alp), ("p", "d"): (1.3, 2.3, g, alp[:18]),
         ("d", "f"): (2.3, 3.3, g, alp[:18])},
        {"general": np.array([[26, 0, 5000.0, 2.0, 321.0, 0.321]]),
         "Fe II": np.array([[26, 1, 5100.0, 3.0, 180.0, 0.2]]), "Cr II": np.zeros((0, 6))},
        "synthetic")
    chi = 7.0
    R = br.ABO_RYDBERG_EV

    def energy(n_star):  # level energy [eV] with that effective quantum number
        return chi - R / n_star**2

    # s (n* = 1.55) -> p (n* = 1.85): between rows 5, 6 and columns 5, 6 of the s-p table
    El, Eu = energy(1.55), energy(1.85)
    wl = br.ABO_HC_EV_ANGSTROM / (Eu - El)
    expect = np.mean(sig[5:7, 5:7])
    s, a, f = br.abo_from_tables(tables, [26], [0], [wl], [El], [chi], ["s"], ["p"])
    assert f[0] and s[0] == pytest.approx(expect, rel=1e-9) and a[0] == pytest.approx(0.25)
    # p (n* = 1.85) -> s (n* = 2.55) uses the s level's n* for the rows
    El, Eu = energy(1.85), energy(2.55)
    wl = br.ABO_HC_EV_ANGSTROM / (Eu - El)
    s, _, f = br.abo_from_tables(tables, [26], [0], [wl], [El], [chi], ["P"], ["S"])
    assert f[0] and s[0] == pytest.approx(np.mean(sig[15:17, 5:7]), rel=1e-9)
    # the individual record wins (within 0.05 Å and 0.02 eV); an ion only through a record
    s, a, f = br.abo_from_tables(tables, [26, 26, 26], [0, 1, 1], [5000.03, 5100.0, 5200.0],
                                 [2.01, 3.0, 3.0], [chi, 16.2, 16.2], ["x"] * 3, ["y"] * 3)
    np.testing.assert_array_equal(f, [True, True, False])
    np.testing.assert_allclose(s[:2], [321.0, 180.0])
    # d (n* < 2) -> p with n*_p = 2.75: 858 + 1110 (n* - 2.7), alpha 0.266 + 0.02 (n* - 2.7)
    El, Eu = energy(1.9), energy(2.75)
    wl = br.ABO_HC_EV_ANGSTROM / (Eu - El)
    s, a, f = br.abo_from_tables(tables, [22], [0], [wl], [El], [chi], ["d"], ["p"])
    assert f[0] and s[0] == pytest.approx(858 + 1110 * 0.05, rel=1e-6)
    assert a[0] == pytest.approx(0.266 + 0.02 * 0.05, rel=1e-6)
    # upper level above the limit, or an s-s transition: nothing
    s, a, f = br.abo_from_tables(tables, [22, 22], [0, 0], [1000.0, wl], [5.0, El], [chi, chi],
                                 ["s", "s"], ["p", "s"])
    assert not f.any()


def test_perturber_weights_from_polarizabilities():
    """He I and H2 weights = (alpha_P/alpha_H)^(2/5) (mu_H/mu_P)^(3/10) (Unsöld scalings) for an
    Fe absorber with polarizabilities 6.70, 2.07, 8.04 x 10^-25 cm^3: 0.42 and 0.88, within 3 %
    and 5 % of the adopted 0.41336 and 0.85; and the effective density adds them linearly."""
    m_fe = 55.845

    def mu(m):
        return m_fe * m / (m_fe + m)

    he = (2.07 / 6.70) ** 0.4 * (mu(1.008) / mu(4.0026)) ** 0.3
    h2 = (8.04 / 6.70) ** 0.4 * (mu(1.008) / mu(2.016)) ** 0.3
    assert abs(he / br.HE_VDW_WEIGHT - 1) < 0.03 and abs(h2 / br.H2_VDW_WEIGHT - 1) < 0.05
    got = br.vdw_perturber_density(jnp.array([1e16, 2e16]), 1e15, 1e14)
    np.testing.assert_allclose(got, [1e16 + 0.41336e15 + 0.85e14, 2e16 + 0.41336e15 + 0.85e14])


# ------------------------------------------------------------------------------------------------
# spectra
@pytest.mark.needs_data
def test_sun_subwindow_against_turbospectrum():
    """Default-run check (one compile, ~45 s on 2 cores): the MARCS Sun at 5000-5025 Å against
    the stored Turbospectrum spectrum, at the issue's goal (measured rms 0.0029, max 0.018)."""
    _, ours, ref = synthesize_reference_case("lines_sun_5000_5100", 5000.0, 5025.0)
    d = ours - ref
    assert np.sqrt(np.mean(d**2)) < GOAL_RMS and np.max(np.abs(d)) < GOAL_MAX


@pytest.mark.needs_data
@pytest.mark.slow
@pytest.mark.parametrize("ref_id", ["lines_atlas9_m+0.0_5000_5100", "lines_atlas9_m-1.0_5000_5100"])
def test_atlas9_on_turbospectrum_structure(ref_id):
    """The ATLAS9 cases on the structure Turbospectrum derived from the model (its tau_5000,
    model P_e, recomputed P_g): the line opacity then meets the goal for both metallicities
    (measured before level dissolution and P_e holding: [M/H] = 0: rms 0.0018, max 0.022; -1:
    rms 0.0010, max 0.0061): a cross-check of ``HoldElectronPressure``'s rebuilt structure."""
    _, ours, ref = synthesize_reference_case(ref_id, ts_structure=True)
    d = ours - ref
    assert np.sqrt(np.mean(d**2)) < GOAL_RMS and np.max(np.abs(d)) < GOAL_MAX


@pytest.mark.needs_data
@pytest.mark.slow
@pytest.mark.parametrize("ref_id", sorted(TOLERANCE))
def test_full_window_against_turbospectrum(ref_id):
    """Full reference windows (10,001 or 6,001 pixels), all seven at the issue's goal."""
    wl, ours, ref = synthesize_reference_case(ref_id)
    d = ours - ref
    rms, mx = np.sqrt(np.mean(d**2)), np.max(np.abs(d))
    print(f"{ref_id}: rms {rms:.4f} max {mx:.4f} at {wl[np.argmax(np.abs(d))]:.2f} Å")
    tol_rms, tol_max = TOLERANCE[ref_id]
    assert rms < tol_rms and mx < tol_max
