"""Bound-free absorption by metals: TOPBase cross-sections, hydrogenic where no data exist.

By default (``continuum.load_continuum_data``) only the species that the Uppsala tables
(``uppsala_bf``) do not cover use this module: Na I and S I from TOPBase. The full TOPBase set and
the hydrogenic approximation below remain available (``load_continuum_data(uppsala=False)``, and
the fallback when the Uppsala file is not available).

Species with Opacity-Project (TOPBase; Cunto et al. 1993) photoionisation tables (registry
``topbase_pZZ.NN``, ZZ = atomic number, NN = number of bound electrons): Na I, Mg I, Mg II, Al I,
Al II, Si II, S I, Ca I, Ca II, O I, C II. Species WITHOUT data, for which a hydrogenic
approximation is used: C I, Si I, Fe I (a single ground term of statistical weight U(T -> 0), with
the Kramers cross-section of a hydrogenic level of effective quantum number
n* = sqrt(13.6057 eV / chi_ion), sigma = 64 pi^4 m e^10 / (3 sqrt(3) c h^6) / (n*^5 nu^3) above the
ionisation edge, unit Gaunt factor). The hydrogenic approximation ignores excited levels, so Fe I
bound-free below ~4000 Å is underestimated; this is the main reason the blue/UV continuum is less
accurate than the red.

As in Korg, the per-level cross-sections are combined at load time into a per-species table on a
(log10 T, log nu) grid,

    Sigma_s(nu, T) = sum_levels g_l exp(-E_l / kT) sigma_l(nu)          [cm^2],

with g_l = (2S+1)(2L+1) of the LS term and E_l its excitation energy above the lowest term (from
the tabulated binding energies: the first row of a block when non-zero, else its first photon
energy). At run time alpha = n_s Sigma_s(nu, T) / U_s(T) (1 - exp(-h nu / kT)), with U_s the
partition function; log10 Sigma is bilinearly interpolated. Memory: n_species x n_T x n_nu
float64 (11+3 species x 24 x 6000 = 16 MB by default). Resonances narrower than the frequency grid
spacing (d ln nu = 7e-4 by default, ~200 km/s) are smoothed. TOPBase energies are theoretical
(not shifted to NIST values, unlike Korg's tables), so edges can be offset by up to ~1 %.
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._constants import Rydberg_eV, c_cgs, h_cgs, h_eV, k_cgs, k_eV
from ._interp import uniform_frac_index
from .hydrogenic import KRAMERS_BF

TOPBASE_SPECIES = {
    "C II": "topbase_p06.05",
    "O I": "topbase_p08.08",
    "Na I": "topbase_p11.11",
    "Mg I": "topbase_p12.12",
    "Mg II": "topbase_p12.11",
    "Al I": "topbase_p13.13",
    "Al II": "topbase_p13.12",
    "Si II": "topbase_p14.13",
    "S I": "topbase_p16.16",
    "Ca I": "topbase_p20.20",
    "Ca II": "topbase_p20.19",
}
# ionisation energies [eV] (NIST ASD) of the species treated as hydrogenic
HYDROGENIC_SPECIES = {"C I": 11.26030, "Si I": 8.15168, "Fe I": 7.90247}

LOG10_SIGMA_FLOOR = -60.0


class MetalBF(eqx.Module):
    """Per-species log10 Sigma(T, nu) tables (see module docstring)."""

    log_sigma: Float[Array, "n_species n_T n_nu"]
    species: tuple = eqx.field(static=True)
    log10_T0: float = eqx.field(static=True)
    dlog10_T: float = eqx.field(static=True)
    ln_nu0: float = eqx.field(static=True)
    dln_nu: float = eqx.field(static=True)


def parse_topbase(text: str) -> list[tuple[int, float, np.ndarray, np.ndarray]]:
    """Parse a TOPBase ``p`` file into (g, binding energy [Ry], photon energy [Ry], sigma [Mb])
    per level. Raises ValueError on malformed blocks."""
    lines = text.split("\n")
    out = []
    i = 1  # line 0: "Z NE P"
    n = len(lines)
    while i < n:
        parts = lines[i].split()
        if not parts:
            i += 1
            continue
        if len(parts) != 4:
            raise ValueError(f"TOPBase: expected a level header at line {i + 1}: {lines[i]!r}")
        two_s1, L = int(parts[0]), int(parts[1])
        if two_s1 == 0 and L == 0 and int(parts[3]) == 0:  # "0 0 0 0" terminates the file
            break
        counts = lines[i + 1].split()
        if len(counts) != 2:
            raise ValueError(f"TOPBase: expected point counts at line {i + 2}")
        npts = int(counts[1])
        first = lines[i + 2].split()
        block = np.array(
            [ln.split() for ln in lines[i + 3 : i + 3 + npts]], dtype=np.float64
        ).reshape(npts, 2)
        E, s = block[:, 0], block[:, 1]
        e_bind = float(first[0]) if float(first[0]) > 0 else float(E[0])
        out.append((two_s1 * (2 * L + 1), e_bind, E, s))
        i += 3 + npts
    return out


def _species_sigma_table(levels, nu_grid, T_grid):
    """Sum_l g_l exp(-E_l/kT) sigma_l(nu) on the grids, cm^2, shape (n_T, n_nu)."""
    E_ph_Ry = h_eV * nu_grid / Rydberg_eV
    e_ground = max(lv[1] for lv in levels)
    sig = np.zeros((len(levels), nu_grid.size))
    weights = np.zeros((len(levels), T_grid.size))
    for k, (g, e_bind, E, s) in enumerate(levels):
        order = np.argsort(E)
        v = np.interp(E_ph_Ry, E[order], s[order], left=0.0, right=0.0)
        above = E_ph_Ry > E[order][-1]
        v[above] = s[order][-1] * (E[order][-1] / E_ph_Ry[above]) ** 3
        v[E_ph_Ry < e_bind] = 0.0
        sig[k] = np.maximum(v, 0.0) * 1e-18
        weights[k] = g * np.exp(-(e_ground - e_bind) * Rydberg_eV / (k_eV * T_grid))
    return weights.T @ sig


def _hydrogenic_sigma_table(chi_eV, g0, nu_grid, T_grid):
    n_eff = np.sqrt(Rydberg_eV / chi_eV)
    s = KRAMERS_BF / (n_eff**5 * nu_grid**3)
    s[h_eV * nu_grid < chi_eV] = 0.0
    return np.broadcast_to(g0 * s, (T_grid.size, nu_grid.size))


@functools.lru_cache(maxsize=4)
def load_metal_bf(
    lambda_min: float = 900.0,
    lambda_max: float = 200_000.0,
    n_nu: int = 6000,
    n_T: int = 24,
    T_min: float = 2000.0,
    T_max: float = 40000.0,
    ground_weights: tuple = (),
    topbase: tuple = tuple(TOPBASE_SPECIES),
    hydrogenic: tuple = tuple(HYDROGENIC_SPECIES),
) -> MetalBF:
    """Build the per-species tables on a log-uniform (T, nu) grid covering ``lambda_min`` ..
    ``lambda_max`` [Å] and ``T_min`` .. ``T_max`` [K] for the ``topbase`` and ``hydrogenic``
    species (in that order). ``ground_weights``: ((species, g0), ...) for the hydrogenic species
    (from the partition functions at low T)."""
    from jaxstro.data import locate

    ln_nu = np.linspace(np.log(c_cgs / (lambda_max * 1e-8)), np.log(c_cgs / (lambda_min * 1e-8)),
                        n_nu)  # fmt: skip
    nu_grid = np.exp(ln_nu)
    log10_T = np.linspace(np.log10(T_min), np.log10(T_max), n_T)
    T_grid = 10**log10_T
    g0 = dict(ground_weights)
    names, tables = [], []
    for sp in topbase:
        reg = TOPBASE_SPECIES[sp]
        levels = parse_topbase(locate(reg).read_text())
        tables.append(_species_sigma_table(levels, nu_grid, T_grid))
        names.append(sp)
    for sp in hydrogenic:
        chi = HYDROGENIC_SPECIES[sp]
        tables.append(_hydrogenic_sigma_table(chi, g0.get(sp, 1.0), nu_grid, T_grid))
        names.append(sp)
    tab = np.log10(np.maximum(np.stack(tables), 10.0**LOG10_SIGMA_FLOOR))
    return MetalBF(
        jnp.asarray(tab), tuple(names), float(log10_T[0]), float(log10_T[1] - log10_T[0]),
        float(ln_nu[0]), float(ln_nu[1] - ln_nu[0]),
    )  # fmt: skip


def metal_sigma_on_nu(table: MetalBF, nu) -> Float[Array, "n_species n_T n_nu"]:
    """log10 Sigma interpolated to the frequencies ``nu`` (done once per frequency grid)."""
    n_nu = table.log_sigma.shape[-1]
    i, w = uniform_frac_index(jnp.log(nu), table.ln_nu0, table.dln_nu, n_nu)
    return table.log_sigma[:, :, i] * (1 - w) + table.log_sigma[:, :, i + 1] * w


def metal_bf(
    nu, T, densities: Float[Array, " n_species"], partition: Float[Array, " n_species"],
    table: MetalBF,
) -> Float[Array, " n_nu"]:  # fmt: skip
    """Total metal bound-free absorption [cm^-1]; ``densities``/``partition`` are ordered as
    ``table.species``. Stimulated emission included."""
    ls = metal_sigma_on_nu(table, nu)
    n_T = ls.shape[1]
    j, w = uniform_frac_index(jnp.log10(T), table.log10_T0, table.dlog10_T, n_T)
    lsT = ls[:, j, :] * (1 - w) + ls[:, j + 1, :] * w
    sigma = 10.0**lsT  # (n_species, n_nu)
    stim = -jnp.expm1(-h_cgs * nu / (k_cgs * T))
    return jnp.sum((densities / partition)[:, None] * sigma, axis=0) * stim
