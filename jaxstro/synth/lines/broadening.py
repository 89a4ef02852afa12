"""Line broadening, one function per mechanism (cgs; widths are FWHM in angular frequency, s^-1).

Conventions: a damping constant ``gamma`` [s^-1] is the FWHM of the Lorentzian in angular
frequency; its half width at half maximum in wavelength is ``lambda^2 gamma / (4 pi c)``
(:func:`lorentz_hwhm_wavelength`). Doppler widths are the standard deviation ``sigma`` of the
Gaussian in wavelength (:func:`doppler_sigma`).

References
- Doppler: thermal + microturbulent, ``sigma = lambda/c sqrt(kT/m + xi^2/2)`` (xi: the most probable
  microturbulent speed, Gaussian ``exp(-(v/xi)^2)``; Gray 2005, "The Observation and Analysis of
  Stellar Photospheres", 3rd ed., eq. 11.46).
- Radiative: the list value; else the classical damping constant of an electron oscillator,
  ``gamma_cl = 8 pi^2 e^2 / (3 m_e c lambda^2)`` (Gray 2005 eq. 11.14; 0.2223/lambda[cm]^2).
- Quadratic Stark: the list value (per electron at 10^4 K) times ``n_e (T/10^4)^(1/6)``; else the
  Cowley (1971, Observatory 91, 139) approximation ``gamma_4 = C n*^4`` per electron at 10^4 K
  with n*^2 = Z^2 R_H / (chi - E_upper) (the effective quantum number of the upper level) and the
  constant C = 2.25910152e-7 cm^3 s^-1 adopted by Korg (Wheeler et al. 2023); same T scaling.
- van der Waals by H I:
  * ABO (Anstee & O'Mara 1995; Barklem, O'Mara & Ross 1998; Barklem, Piskunov & O'Mara 2000):
    half width per H atom
    ``w/n_H = (4/pi)^(alpha/2) Gamma((4 - alpha)/2) v0 sigma (vbar/v0)^(1-alpha)``
    with sigma [a0^2] the cross section at v0 = 10^4 m/s and vbar = sqrt(8kT/(pi mu)), mu the
    reduced mass of the absorber and H I; gamma (FWHM) = 2 w.
  * log-gamma form: ``gamma = 10^(log gamma) n_H (T/10^4)^0.3`` (the Unsöld temperature scaling).
  * Unsöld (1955) in Gray's formulation (Gray 2005 eqs. 11.29-11.30):
    ``gamma_6 = 17 vbar^(3/5) C6^(2/5) n_H`` with
    ``C6 = 0.3e-30 Z^2 [1/(chi - E_upper)^2 - 1/(chi - E_lower)^2]`` [cm^6 s^-1, energies in eV],
    Z = charge + 1 (Unsöld's hydrogenic mean-square radii; Gray's formula is the Z = 1 case),
    times the list's enhancement factor. Zero for molecules and for upper levels above the
    ionisation limit.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import gammaln
from jaxtyping import Array, ArrayLike, Float

# CODATA 2018, cgs
C_CGS = 2.99792458e10  # cm s^-1
K_CGS = 1.380649e-16  # erg K^-1
H_CGS = 6.62607015e-27  # erg s
E_ESU = 4.80320471e-10  # statC
M_E = 9.1093837015e-28  # g
AMU = 1.66053906660e-24  # g
A0 = 0.529177210903e-8  # Bohr radius, cm
HC_EV_ANGSTROM = 12398.419843320026  # h c [eV Å]
RYDBERG_H_EV = 13.598434005136  # hydrogen Rydberg (reduced mass) [eV]
MASS_H_AMU = 1.008

#: constant of the Cowley (1971) Stark approximation [cm^3 s^-1 per electron at 10^4 K]
COWLEY_STARK_CONSTANT = 2.25910152e-7
#: Unsöld C6 constant of Gray (2005) eq. 11.30 [cm^6 s^-1 eV^2]
UNSOLD_C6_CONSTANT = 0.3e-30
#: reference speed of the ABO cross sections [cm s^-1]
ABO_V0 = 1.0e6


def doppler_sigma(
    wavelength_cm: Float[ArrayLike, "..."],
    T: Float[ArrayLike, "..."],
    mass_g: Float[ArrayLike, "..."],
    vmic_cm_s: Float[ArrayLike, "..."],
) -> Array:
    """Standard deviation [cm] of the Gaussian (thermal + microturbulent) profile in wavelength."""
    return jnp.asarray(wavelength_cm) / C_CGS * jnp.sqrt(
        K_CGS * jnp.asarray(T) / jnp.asarray(mass_g) + 0.5 * jnp.asarray(vmic_cm_s) ** 2
    )


def classical_radiative_gamma(wavelength_cm: Float[ArrayLike, "..."]) -> Array:
    """Classical radiative damping FWHM ``8 pi^2 e^2 / (3 m_e c lambda^2)`` [s^-1]."""
    return 8.0 * np.pi**2 * E_ESU**2 / (3.0 * M_E * C_CGS) / jnp.asarray(wavelength_cm) ** 2


def radiative_gamma(
    gamma_list: Float[ArrayLike, "..."], wavelength_cm: Float[ArrayLike, "..."]
) -> Array:
    """The list's radiative damping where given (finite and > 0), else the classical value."""
    g = jnp.asarray(gamma_list)
    ok = jnp.isfinite(g) & (g > 0)
    return jnp.where(ok, jnp.where(ok, g, 0.0), classical_radiative_gamma(wavelength_cm))


def upper_level_energy(E_lower_eV: ArrayLike, wavelength_cm: ArrayLike) -> Array:
    """E_upper = E_lower + h c / lambda [eV]."""
    return jnp.asarray(E_lower_eV) + HC_EV_ANGSTROM / (jnp.asarray(wavelength_cm) * 1e8)


def cowley_stark_gamma(
    E_upper_eV: ArrayLike, ionization_energy_eV: ArrayLike, charge: ArrayLike
) -> Array:
    """Cowley (1971) quadratic-Stark FWHM per electron at 10^4 K [s^-1 cm^3].

    ``C n*^4`` with ``n*^2 = Z^2 R_H/(chi - E_upper)``, Z = charge + 1. Zero where chi is NaN
    (molecules) or the upper level lies above the ionisation limit.
    """
    z = jnp.asarray(charge) + 1.0
    dE = jnp.asarray(ionization_energy_eV) - jnp.asarray(E_upper_eV)
    ok = jnp.isfinite(dE) & (dE > 0)
    nstar2 = z**2 * RYDBERG_H_EV / jnp.where(ok, dE, 1.0)
    return jnp.where(ok, COWLEY_STARK_CONSTANT * nstar2**2, 0.0)


def stark_gamma(
    gamma_per_electron: ArrayLike, ne: ArrayLike, T: ArrayLike
) -> Array:
    """Quadratic Stark FWHM [s^-1]: ``gamma_4(10^4 K) n_e (T/10^4)^(1/6)``."""
    return jnp.asarray(gamma_per_electron) * jnp.asarray(ne) * (jnp.asarray(T) / 1e4) ** (1.0 / 6.0)


def mean_relative_speed(T: ArrayLike, mass_g: ArrayLike, perturber_mass_g: float) -> Array:
    """``sqrt(8 k T / (pi mu))`` [cm s^-1], mu the reduced mass."""
    m = jnp.asarray(mass_g)
    mu = m * perturber_mass_g / (m + perturber_mass_g)
    return jnp.sqrt(8.0 * K_CGS * jnp.asarray(T) / (np.pi * mu))


def abo_gamma(
    sigma_a0sq: ArrayLike, alpha: ArrayLike, T: ArrayLike, mass_g: ArrayLike, n_HI: ArrayLike
) -> Array:
    """van der Waals FWHM [s^-1] from ABO cross sections (Anstee & O'Mara 1995)."""
    alpha = jnp.asarray(alpha)
    vbar = mean_relative_speed(T, mass_g, MASS_H_AMU * AMU)
    w = (
        (4.0 / np.pi) ** (alpha / 2.0)
        * jnp.exp(gammaln((4.0 - alpha) / 2.0))
        * ABO_V0
        * jnp.asarray(sigma_a0sq)
        * A0**2
        * (vbar / ABO_V0) ** (1.0 - alpha)
    )
    return 2.0 * w * jnp.asarray(n_HI)


def log_gamma_vdw(log_gamma: ArrayLike, T: ArrayLike, n_HI: ArrayLike) -> Array:
    """van der Waals FWHM [s^-1] from log10 gamma per H atom at 10^4 K, scaled by (T/10^4)^0.3."""
    return 10.0 ** jnp.asarray(log_gamma) * jnp.asarray(n_HI) * (jnp.asarray(T) / 1e4) ** 0.3


def unsold_c6(
    E_lower_eV: ArrayLike, E_upper_eV: ArrayLike, ionization_energy_eV: ArrayLike,
    charge: ArrayLike,
) -> Array:
    """Unsöld constant C6 [cm^6 s^-1] (Gray 2005 eq. 11.30, times Z^2); 0 where undefined."""
    chi = jnp.asarray(ionization_energy_eV)
    du = chi - jnp.asarray(E_upper_eV)
    dl = chi - jnp.asarray(E_lower_eV)
    ok = jnp.isfinite(chi) & (du > 0) & (dl > 0)
    du = jnp.where(ok, du, 1.0)
    dl = jnp.where(ok, dl, 2.0)
    z = jnp.asarray(charge) + 1.0
    c6 = UNSOLD_C6_CONSTANT * z**2 * (1.0 / du**2 - 1.0 / dl**2)
    return jnp.where(ok & (c6 > 0), c6, 0.0)


def unsold_gamma(
    c6: ArrayLike, T: ArrayLike, mass_g: ArrayLike, n_HI: ArrayLike, enhancement: ArrayLike = 1.0
) -> Array:
    """Unsöld van der Waals FWHM [s^-1]: ``enhancement * 17 vbar^(3/5) C6^(2/5) n_H``."""
    c6 = jnp.asarray(c6)
    vbar = mean_relative_speed(T, mass_g, MASS_H_AMU * AMU)
    safe = jnp.where(c6 > 0, c6, 1.0)
    g = 17.0 * vbar**0.6 * safe**0.4 * jnp.asarray(n_HI)
    return jnp.asarray(enhancement) * jnp.where(c6 > 0, g, 0.0)


def lorentz_hwhm_wavelength(gamma: ArrayLike, wavelength_cm: ArrayLike) -> Array:
    """HWHM in wavelength [cm] of a Lorentzian of angular-frequency FWHM ``gamma`` [s^-1]."""
    return jnp.asarray(wavelength_cm) ** 2 * jnp.asarray(gamma) / (4.0 * np.pi * C_CGS)


# ------------------------------------------------------------------------------------------------
# ABO cross sections from the published tables (host side, at line-list reading time)
#: name of the ABO table file (the compilation distributed with Turbospectrum, data only:
#: Anstee & O'Mara 1995 s-p/p-s, Barklem & O'Mara 1997 p-d/d-p, Barklem, O'Mara & Ross 1998
#: d-f/f-d tables of sigma(n*_lo, n*_up) [a0^2] and alpha at 10^4 m/s, plus the individually
#: computed lines of Barklem, Piskunov & O'Mara 2000, Barklem & Aspelund-Johansson 2005 (Fe II)
#: and Barklem 2008 (Cr II))
ABO_TABLE_REGISTRY_NAME = "abo_broadening_tables"
ABO_TABLE_RELPATH = "turbospectrum/Anstee-1802-2014.dat"
#: Rydberg energy used for the effective quantum numbers of the ABO tables [eV]
ABO_RYDBERG_EV = 13.595
#: h c [eV Å] as used for E_upper when matching the ABO tables
ABO_HC_EV_ANGSTROM = 12399.8


class AboTables:
    """Published ABO cross-section tables (host-side numpy; see :func:`load_abo_tables`).

    ``grids[(lo, up)]`` = (n*_lo axis start, n*_up axis start, sigma [a0^2], alpha) on 0.1
    steps for the orbital pairs ('s','p'), ('p','d'), ('d','f') (either order of lower/upper);
    ``special[key]``: per-line records (Z, charge, air wavelength [Å], E_lower [eV], sigma, alpha)
    with key 'general', 'Fe II' or 'Cr II'.
    """

    def __init__(self, grids: dict, special: dict, source: str):
        self.grids, self.special, self.source = grids, special, source

    def __repr__(self) -> str:
        n = {k: len(v) for k, v in self.special.items()}
        return f"AboTables({self.source!r}, special lines {n})"


def parse_abo_tables(text: str, source: str = "ABO tables") -> AboTables:
    """Parse the ABO table compilation (six 0.1-step tables, then per-line records)."""
    rows, special = [], {"general": [], "Fe II": [], "Cr II": []}
    seg = "general"
    shapes = [(21, 18), (21, 18), (18, 18), (18, 18), (18, 18), (18, 18)]
    n_table_rows = sum(s[0] for s in shapes)
    for ln in text.splitlines():
        if ln.startswith("*"):
            if "Fe 2 line data" in ln:
                seg = "Fe II"
            elif "Cr 2 line data" in ln:
                seg = "Cr II"
            continue
        if not ln.strip():
            continue
        if len(rows) < n_table_rows:
            rows.append([float(x) for x in ln.split()])
            continue
        # fixed columns: Z (1-2), ion stage (6-7), air wavelength [Å] (8-17), E_lower [cm^-1]
        # (18-28), sigma [a0^2] (88-95), alpha (96-103)
        if len(ln) < 103 or not (ln[0:2].strip().isdigit() and ln[5:7].strip().isdigit()):
            continue  # free-text header lines between the record blocks
        try:
            special[seg].append((int(ln[0:2]), int(ln[5:7]) - 1, float(ln[7:17]),
                                 float(ln[17:28]) / 8067.0, float(ln[87:95]), float(ln[95:103])))
        except ValueError:
            raise ValueError(f"{source}: malformed ABO line record {ln!r}") from None
    if len(rows) < n_table_rows or any(len(r) != 18 for r in rows):
        raise ValueError(f"{source}: expected six 18-column ABO tables")
    tabs, i = [], 0
    for nr, _ in shapes:
        tabs.append(np.array(rows[i:i + nr]))
        i += nr
    # rows: lower-n* axis of the pair (s, p, d); columns: the other (p, d, f)
    grids = {("s", "p"): (1.0, 1.3, tabs[0], tabs[1]), ("p", "d"): (1.3, 2.3, tabs[2], tabs[3]),
             ("d", "f"): (2.3, 3.3, tabs[4], tabs[5])}
    return AboTables(grids, {k: np.array(v, float).reshape(-1, 6) for k, v in special.items()},
                     source)


def load_abo_tables(path=None) -> AboTables:
    """The ABO tables from ``path``, the registered data file ``abo_broadening_tables`` or the
    user cache (``jaxstro.data._locate.cache_dir() / ABO_TABLE_RELPATH``); FileNotFoundError
    when none is there."""
    from pathlib import Path

    if path is None:
        try:
            from jaxstro.data import locate

            path = locate(ABO_TABLE_REGISTRY_NAME)
        except Exception:  # not registered (yet) or not fetched
            from jaxstro.data._locate import search_dirs

            cands = [d / ABO_TABLE_RELPATH for d in search_dirs()]
            path = next((p for p in cands if p.is_file()), None)
            if path is None:
                raise FileNotFoundError(
                    f"ABO tables not found (looked for {ABO_TABLE_RELPATH} in "
                    f"{[str(d) for d in search_dirs()]})") from None
    path = Path(path)
    return parse_abo_tables(path.read_text(errors="replace"), str(path))


def _n_star(chi, E):
    return 1.0 / np.sqrt((chi - E) / ABO_RYDBERG_EV)


def _bilinear(axis0: float, axis1: float, tab: np.ndarray, x0, x1):
    """Table value at (x0 rows, x1 columns) on 0.1-step axes, bilinear (cells of the table)."""
    f0 = (x0 - axis0) * 10.0
    f1 = (x1 - axis1) * 10.0
    i0 = np.clip(np.floor(f0 + 1e-9).astype(int), 0, tab.shape[0] - 2)
    i1 = np.clip(np.floor(f1 + 1e-9).astype(int), 0, tab.shape[1] - 2)
    t0, t1 = f0 - i0, f1 - i1
    return ((1 - t0) * (1 - t1) * tab[i0, i1] + (1 - t0) * t1 * tab[i0, i1 + 1]
            + t0 * (1 - t1) * tab[i0 + 1, i1] + t0 * t1 * tab[i0 + 1, i1 + 1])


def abo_from_tables(
    tables: AboTables, Z: np.ndarray, charge: np.ndarray, wavelength_air: np.ndarray,
    E_lower: np.ndarray, chi: np.ndarray, orbital_lower: np.ndarray, orbital_upper: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ABO (sigma [a0^2], alpha, found) for each line from the published tables (numpy).

    Rules (the assignment Turbospectrum makes, Plez 2012, stated as facts): only neutral and
    singly ionised atoms with E_upper = E_lower + 12399.8/lambda_air < chi; neutral s-p, p-d,
    d-f transitions (either direction) inside the tabulated n* ranges (n* = (13.595 eV /
    (chi - E))^(1/2) of each level) are interpolated bilinearly; an individually computed line
    (same Z and charge, |lambda - lambda_t| <= 0.05 Å, |E_lower - E_t| < 0.02 eV; Fe II and Cr II
    from their own lists) overrides the table; a neutral d-p line with n*_d < 2 and n*_p in
    2.6-3.0 takes Barklem's upper-p-level estimate (1997, private communication as given in the
    compilation). Elsewhere ``found`` is False.
    """
    Z, charge = np.asarray(Z, int), np.asarray(charge, int)
    wl, El, chi = (np.asarray(x, float) for x in (wavelength_air, E_lower, chi))
    lo = np.char.lower(np.asarray(orbital_lower, dtype="U1"))
    up = np.char.lower(np.asarray(orbital_upper, dtype="U1"))
    n = wl.size
    sigma, alpha, found = np.zeros(n), np.zeros(n), np.zeros(n, bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        Eu = El + ABO_HC_EV_ANGSTROM / wl
        ok = np.isfinite(chi) & (Eu < chi) & ((charge == 0) | (charge == 1))
        n_lo, n_up = _n_star(chi, El), _n_star(chi, Eu)
    neutral = ok & (charge == 0)
    for (a, b), (ax0, ax1, tsig, talp) in tables.grids.items():
        for first, second, na, nb in ((a, b, n_lo, n_up), (b, a, n_up, n_lo)):
            # na: n* of orbital a (table rows), nb: of orbital b (columns)
            sel = neutral & (lo == first) & (up == second)
            x0, x1 = np.where(sel, na, ax0), np.where(sel, nb, ax1)
            inside = sel & (x0 >= ax0) & (x0 <= ax0 + 0.1 * (tsig.shape[0] - 1) + 1e-9) & (
                x1 >= ax1) & (x1 <= ax1 + 0.1 * (tsig.shape[1] - 1) + 1e-9)
            if inside.any():
                sigma[inside] = _bilinear(ax0, ax1, tsig, x0[inside], x1[inside])
                alpha[inside] = _bilinear(ax0, ax1, talp, x0[inside], x1[inside])
                found |= inside
    # individually computed lines (the first matching record in the compilation's order)
    key = np.where((Z == 26) & (charge == 1), "Fe II",
                   np.where((Z == 24) & (charge == 1), "Cr II", "general"))
    for k, rec in tables.special.items():
        order = np.argsort(rec[:, 2], kind="stable")
        rw = rec[order, 2]
        cand = ok & (key == k)
        i_lo = np.searchsorted(rw, wl - 0.05 - 1e-9, side="left")
        i_hi = np.searchsorted(rw, wl + 0.05 + 1e-9, side="right")
        for i in np.flatnonzero(cand & (i_hi > i_lo)):
            r = order[i_lo[i]:i_hi[i]]
            m = r[(rec[r, 0] == Z[i]) & (rec[r, 1] == charge[i])
                  & (np.abs(rec[r, 2] - wl[i]) <= 0.05) & (np.abs(rec[r, 3] - El[i]) < 0.02)]
            if m.size:
                j = m.min()
                sigma[i], alpha[i], found[i] = rec[j, 4], rec[j, 5], True
    # neutral d-p lines with only the upper p level tabulated (piecewise linear in n*_p)
    last = neutral & ~found & (lo == "d") & (up == "p") & (n_lo < 2.0)
    knots = ((2.6, 2.7, 762.0, 960.0, 0.270, -0.04), (2.7, 2.8, 858.0, 1110.0, 0.266, 0.02),
             (2.8, 2.9, 969.0, 610.0, 0.268, -0.10), (2.9, 3.0, 1030.0, 440.0, 0.258, -0.04))
    for k, (x0, x1, s0, ds, a0, da) in enumerate(knots):
        sel = last & ((n_up >= x0) if k == 0 else (n_up > x0)) & (n_up <= x1)
        sigma[sel] = s0 + ds * (n_up[sel] - x0)
        alpha[sel] = a0 + da * (n_up[sel] - x0)
        found |= sel
    return sigma, alpha, found


#: weights of He I and H2 relative to H I as van der Waals perturbers: (alpha_P/alpha_H)^(2/5)
#: (mu_H/mu_P)^(3/10) of the Unsöld C6 ~ polarizability and gamma ~ C6^(2/5) v^(3/5) scalings
#: (polarizabilities 6.70, 2.07 and ~8.0 x 10^-25 cm^3, Allen 1973 sect. 36; reduced masses for
#: a heavy absorber); the values 0.41336 and 0.85 are those Turbospectrum adopts for every
#: van der Waals recipe (Unsöld, log gamma and ABO alike)
HE_VDW_WEIGHT = 0.41336
H2_VDW_WEIGHT = 0.85


def vdw_perturber_density(
    n_HI: ArrayLike, n_HeI: ArrayLike = 0.0, n_H2: ArrayLike = 0.0
) -> Array:
    """Effective H I density [cm^-3] for van der Waals widths with He I and H2 perturbers:
    ``n_HI + 0.41336 n_HeI + 0.85 n_H2`` (see ``HE_VDW_WEIGHT``, ``H2_VDW_WEIGHT``)."""
    return (jnp.asarray(n_HI) + HE_VDW_WEIGHT * jnp.asarray(n_HeI)
            + H2_VDW_WEIGHT * jnp.asarray(n_H2))
