"""Metal (and He I) bound-free absorption from the Uppsala opacity tables (MARCS/Turbospectrum).

Source: registry ``uppsala_continuum_opacities`` (``jonabs_vac_v19.2.dat``, the continuous-opacity
tables of the MARCS code, Gustafsson et al. 2008, A&A 486, 951, Table 1; the same file
Turbospectrum v20.1 reads). For each species the table gives, on a (vacuum wavelength, T) grid,

    Sigma_s(lambda, T) = sum_levels g_l exp(-E_l / kT) sigma_l(lambda)     [cm^2]

(photoionisation cross-sections of all tabulated levels, weighted by their Boltzmann factors
without the partition function), so that

    alpha_s = n_s / U_s(T) * Sigma_s(lambda, T) * (1 - exp(-h nu / kT))    [cm^-1],

with n_s the species' number density and U_s its partition function (ours, from
``atomic_partition_functions``). The tables are interpolated as the file's flags say (linear in
wavelength, log Sigma quadratic in T; see ``_uppsala``).

Species and the data behind each table (as recorded in the file):

=======  ==================================================================================
He I     Opacity Project (OP) cross-sections, Kiselman (DK) 1994
C I      OP (NOSMOP), 220 levels, unsmoothed (DK 1994)
C II     OP, 50 levels (DK 1994)
N I      OP, 179 levels;  N II: OP, 228 levels (DK 1994)
O I      OP, 65 levels;   O II: OP, 172 levels; resonances smoothed over 5e13 Hz (DK 1994)
Mg I     Prieto (2003), R-matrix with observed level energies, 73 levels
Mg II    OP, 32 levels (DK 1994)
Al I     OP, 41 levels;   Al II: OP, 79 levels (DK 1994)
Si I     Prieto (2003), observed energies, 119 levels
Si II    OP, 51 levels (DK 1994)
Ca I     TOPbase, smoothed (dE/E = 0.03), observed energies (Edvardsson 2006)
Ca II    OP, 35 levels (DK 1994)
Fe I     OP (Bautista 1997 data), resonances cut at 100 Mb and smoothed (DK 1999/2003)
Fe II    OP, nsmooth = 2 (DK 1998)
=======  ==================================================================================

OP: Seaton et al. 1994, MNRAS 266, 805; TOPbase: Cunto et al. 1993, A&A 275, L5; Prieto: Allende
Prieto et al. 2003 (MARCS Mg I / Si I); Bautista 1997, A&AS 122, 167.

Which species use these tables is ``UPPSALA_SPECIES``; the others with data in
``metals_bf`` (Na I, S I) keep the TOPBase tables there. These replace the hydrogenic
approximation formerly used for C I, Si I and Fe I: the Fe I table in particular carries the
excited-level edges (e.g. the jump at 4160 Å vacuum) that dominate the metal opacity of cool
stars in the blue.
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._constants import c_cgs, h_cgs, k_cgs
from ._uppsala import UppsalaTable, read_uppsala_blocks

# our species name -> component name in the file
UPPSALA_SPECIES = {
    "He I": "HeI",
    "C I": "C_I",
    "C II": "C_II",
    "N I": "N_I",
    "N II": "N_II",
    "O I": "O_I",
    "O II": "O_II",
    "Mg I": "MgI",
    "Mg II": "MgII",
    "Al I": "AlI",
    "Al II": "AlII",
    "Si I": "SiI",
    "Si II": "SiII",
    "Ca I": "CaI",
    "Ca II": "CaII",
    "Fe I": "FeI",
    "Fe II": "FeII",
}


class UppsalaBF(eqx.Module):
    """The Uppsala bound-free tables of ``species`` (a pytree of ``UppsalaTable``)."""

    tables: tuple
    species: tuple = eqx.field(static=True)


@functools.lru_cache(maxsize=2)
def uppsala_blocks() -> dict:
    """Every component of the registered Uppsala file (parsed once per process)."""
    from jaxstro.data import locate

    return read_uppsala_blocks(locate("uppsala_continuum_opacities").read_text())


def load_uppsala_bf(species: tuple[str, ...] = tuple(UPPSALA_SPECIES)) -> UppsalaBF:
    """Tables for ``species`` (names as in ``UPPSALA_SPECIES``)."""
    blocks = uppsala_blocks()
    tabs = []
    for s in species:
        if s not in UPPSALA_SPECIES:
            raise ValueError(
                f"uppsala_bf: no Uppsala table for {s!r}; have {list(UPPSALA_SPECIES)}")
        key = UPPSALA_SPECIES[s]
        tabs.append(UppsalaTable.from_block(key, blocks[key]))
    return UppsalaBF(tuple(tabs), tuple(species))


def uppsala_bf(
    nu: Float[Array, " n_nu"],
    T: Float[Array, ""],
    densities: Float[Array, " n_species"],
    partition: Float[Array, " n_species"],
    data: UppsalaBF,
) -> Float[Array, " n_nu"]:
    """Total bound-free absorption [cm^-1] of ``data.species`` at ``nu`` [Hz] (vacuum) in one
    layer; ``densities`` [cm^-3] and partition functions ordered as ``data.species``.
    Stimulated emission included."""
    wl = c_cgs / nu * 1e8
    total = jnp.zeros_like(nu)
    for k, tab in enumerate(data.tables):
        sigma = tab.at_temperature(tab.on_wavelengths(wl), T)
        total = total + densities[k] / partition[k] * sigma
    return total * -jnp.expm1(-h_cgs * nu / (k_cgs * T))
