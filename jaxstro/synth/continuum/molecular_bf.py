"""Photodissociation continua of CH and OH.

Cross-sections: Kurucz, van Dishoeck & Tarafdar (1987, ApJ 322, 992, "OH and CH continuous
opacity in solar and stellar atmospheres"), as tabulated in the Uppsala opacity file
(registry ``uppsala_continuum_opacities``, components ``CHcont`` and ``OHcont``; the same tables
MARCS and Turbospectrum use). They give the opacity per gram of the molecule, kappa_X(lambda, T)
[cm^2 g^-1], on 1000-9000 K and 1181-61990 Å (CH) / 905-6199 Å (OH), with stimulated emission
already included (LTE populations of the absorbing states). Hence

    alpha_X = kappa_X(lambda, T) * n_X * m_X          [cm^-1]

with n_X the molecule's number density (chemical equilibrium keys ``"HC"``, ``"HO"``) and m_X its
mass. Interpolation as the file says: log kappa linear in wavelength, kappa linear in T; held at
the edge values beyond the T grid (the molecules are negligible above 9000 K).

CH absorbs mostly below 4300 Å and OH below 3200 Å; both matter in the cool upper layers of solar
type stars (a few per cent of the continuum opacity at 3000-4000 Å in the Sun).
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._constants import c_cgs
from ._uppsala import UppsalaTable

AMU = 1.66053906660e-24  # g
# molecule key (chemical equilibrium) -> (Uppsala component, mass [amu])
MOLECULES = {"HC": ("CHcont", 12.011 + 1.008), "HO": ("OHcont", 15.999 + 1.008)}


class MolecularBF(eqx.Module):
    """The CH and OH photodissociation tables."""

    tables: tuple
    species: tuple = eqx.field(static=True)
    masses: tuple = eqx.field(static=True)  # g


def load_molecular_bf() -> MolecularBF:
    from .uppsala_bf import uppsala_blocks

    blocks = uppsala_blocks()
    tabs = tuple(UppsalaTable.from_block(c, blocks[c]) for c, _ in MOLECULES.values())
    return MolecularBF(tabs, tuple(MOLECULES), tuple(m * AMU for _, m in MOLECULES.values()))


def molecular_bf(
    nu: Float[Array, " n_nu"], T: Float[Array, ""], n: dict, data: MolecularBF
) -> Float[Array, " n_nu"]:
    """CH + OH photodissociation absorption [cm^-1] at ``nu`` [Hz] in one layer; ``n`` is the
    chemical-equilibrium dict (missing molecules count as zero)."""
    wl = c_cgs / nu * 1e8
    total = jnp.zeros_like(nu)
    for sp, tab, m in zip(data.species, data.tables, data.masses, strict=True):
        dens = n.get(sp)
        if dens is None:
            continue
        total = total + tab.at_temperature(tab.on_wavelengths(wl), T) * dens * m
    return total
