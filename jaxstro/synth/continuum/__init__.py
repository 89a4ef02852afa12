"""Continuum opacity: one file per source family, combined by ``continuum_absorption``.

Sources (each module's docstring gives its reference and treatment):

- ``hydrogenic``      H I bound-free (Nahar 2021 n <= 6, Kramers n = 7..40) with level
                      dissolution (``occupation``: Hummer & Mihalas 1988); hydrogenic free-free;
                      ``load_continuum_data(hydrogen_bf="turbospectrum")`` selects
                      Turbospectrum's H I bound-free instead (n <= 6 + quasi-continuum)
- ``hminus``          H- bound-free (McLaughlin et al. 2017), free-free (Bell & Berrington 1987)
- ``h2plus``          H2+ bound-free + free-free (Bates 1952)
- ``heminus``         He- free-free (John 1994)
- ``uppsala_bf``      metal and He I bound-free from the Uppsala (MARCS) tables: OP, Prieto 2003
                      (Mg I, Si I), smoothed OP Fe I/Fe II, ... (17 species)
- ``metals_bf``       TOPBase bound-free for the species the Uppsala tables lack (Na I, S I);
                      with ``uppsala=False`` the TOPBase set + hydrogenic C I, Si I, Fe I
- ``molecular_bf``    CH and OH photodissociation (Kurucz, van Dishoeck & Tarafdar 1987)
- ``positive_ion_ff`` free-free of all ions of charge 1 and 2, van Hoof et al. (2014) Gaunt factors
- ``scattering``      Thomson; Rayleigh by H I, He I, H2

``alpha = continuum_absorption(nu, T, ne, n, data)`` evaluates one layer (vmap over layers): the
sum of all absorption AND scattering coefficients [cm^-1] (scattering is included and treated as
absorption by ``synthesize``; ``continuum_scattering`` gives the scattering part alone). Stimulated
emission is included in every absorption term. Species densities ``n`` are the chemical-
equilibrium dict (keys "H I", "H II", "He I", "HH", "Fe I", ...); missing species count as zero.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .h2plus import h2plus_bf_ff
from .heminus import heminus_ff
from .hminus import HminusBF, hminus_bf, hminus_ff, load_hminus_bf
from .hydrogenic import HydrogenBF, h_i_bf, load_hydrogen_bf
from .metals_bf import HYDROGENIC_SPECIES, TOPBASE_SPECIES, MetalBF, load_metal_bf, metal_bf
from .molecular_bf import MolecularBF, load_molecular_bf, molecular_bf
from .positive_ion_ff import GauntFF, ion_densities, load_gaunt_ff, positive_ion_ff
from .scattering import rayleigh, thomson
from .uppsala_bf import UPPSALA_SPECIES, UppsalaBF, load_uppsala_bf, uppsala_bf

__all__ = [
    "ContinuumData",
    "load_continuum_data",
    "continuum_absorption",
    "continuum_scattering",
    "continuum_components",
]


class ContinuumData(eqx.Module):
    """All tables the continuum sources need (a pytree; pass it into jitted functions)."""

    hydrogen_bf: HydrogenBF
    hminus_bf: HminusBF
    gaunt_ff: GauntFF
    metal_bf: MetalBF
    uppsala_bf: UppsalaBF | None
    molecular_bf: MolecularBF | None
    # partition functions U(T) on a uniform ln T grid: "H I", "He I", metal_bf.species, then
    # uppsala_bf.species
    partition_table: Float[Array, "n_species n_lnT"]
    partition_species: tuple = eqx.field(static=True)
    lnT0: float = eqx.field(static=True)
    dlnT: float = eqx.field(static=True)
    # H I bound-free treatment (``hydrogenic.h_i_bf``): "explicit" or "turbospectrum"
    hydrogen_bf_treatment: str = eqx.field(static=True, default="explicit")

    def partition_function(self, species: str, T):
        """U(T) of ``species`` (linear in ln T)."""
        k = self.partition_species.index(species)
        return self._interp_U(T)[k]

    def _interp_U(self, T):
        n = self.partition_table.shape[1]
        t = jnp.clip((jnp.log(T) - self.lnT0) / self.dlnT, 0.0, n - 1.0)
        i = jnp.clip(jnp.floor(t).astype(jnp.int32), 0, n - 2)
        w = t - i
        return self.partition_table[:, i] * (1 - w) + self.partition_table[:, i + 1] * w


def load_continuum_data(*, n_nu_metals: int = 6000, n_T_metals: int = 24,
                        uppsala: bool | None = None,
                        hydrogen_bf: str = "explicit") -> ContinuumData:
    """Load every continuum table from the data registry (a few seconds; cached metal tables).

    ``hydrogen_bf``: the H I bound-free treatment, ``"explicit"`` (default: levels n <= 40 one by
    one with Hummer-Mihalas occupation probabilities) or ``"turbospectrum"`` (Turbospectrum
    v20.1's: n <= 6, nothing for n = 7-15, an Unsoeld quasi-continuum above n = 15.5); see
    ``hydrogenic``. Use the latter to compare with Turbospectrum; the default is the better physics.

    ``uppsala``: use the Uppsala bound-free tables (``uppsala_bf``) and the CH/OH continua
    (``molecular_bf``), with TOPBase only for Na I and S I (True); or the TOPBase set with the
    hydrogenic approximation for C I, Si I and Fe I and no molecular continua (False). Default
    (None): True when the registry file ``uppsala_continuum_opacities`` can be located, else
    False with a warning."""
    import warnings

    import h5py

    from jaxstro.data import DataFileError, locate

    from .hydrogenic import TREATMENTS

    if hydrogen_bf not in TREATMENTS:
        raise ValueError(f"load_continuum_data: hydrogen_bf must be one of {TREATMENTS}, "
                         f"got {hydrogen_bf!r}")

    if uppsala is None:
        try:
            locate("uppsala_continuum_opacities")
            uppsala = True
        except DataFileError as err:
            warnings.warn(f"continuum: Uppsala opacity tables not available ({err}); using "
                          "TOPBase + hydrogenic C I/Si I/Fe I bound-free and no CH/OH continua",
                          stacklevel=2)  # fmt: skip
            uppsala = False
    if uppsala:
        up = load_uppsala_bf()
        topbase = tuple(s for s in TOPBASE_SPECIES if s not in UPPSALA_SPECIES)
        hydrogenic: tuple = ()
        mol = load_molecular_bf()
        up_species = up.species
    else:
        up, mol, up_species = None, None, ()
        topbase, hydrogenic = tuple(TOPBASE_SPECIES), tuple(HYDROGENIC_SPECIES)
    metal_species = topbase + hydrogenic
    species = ("H I", "He I") + metal_species + up_species
    with h5py.File(locate("atomic_partition_functions"), "r") as f:
        lnT0 = float(f["logT_min"][()])
        dlnT = float(f["logT_step"][()])
        table = np.stack([np.asarray(f[s][()], dtype=np.float64) for s in species])
    # ground-term weights for the hydrogenic metals: U at the lowest tabulated T (~1 K)
    g0 = tuple((s, float(table[species.index(s), 0])) for s in hydrogenic)
    metals = load_metal_bf(n_nu=n_nu_metals, n_T=n_T_metals, ground_weights=g0, topbase=topbase,
                           hydrogenic=hydrogenic)  # fmt: skip
    if tuple(metals.species) != metal_species:
        raise ValueError("continuum: metal species order mismatch")
    return ContinuumData(
        load_hydrogen_bf(), load_hminus_bf(), load_gaunt_ff(), metals, up, mol,
        jnp.asarray(table), species, lnT0, dlnT, hydrogen_bf,
    )  # fmt: skip


def _get(n: dict, key: str, like):
    v = n.get(key)
    return jnp.zeros_like(like) if v is None else v


def continuum_components(nu, T, ne, n: dict, data: ContinuumData) -> dict:
    """Each continuum source separately [cm^-1], a dict of (n_nu,) arrays (one layer)."""
    nu = jnp.asarray(nu)
    U = data._interp_U(T)
    U_HI, U_HeI = U[0], U[1]
    n_HI = _get(n, "H I", T)
    n_HII = _get(n, "H II", T)
    n_HeI = _get(n, "He I", T)
    n_H2 = _get(n, "HH", T)
    n_HI_ground = 2.0 * n_HI / U_HI
    n_HeI_ground = n_HeI / U_HeI
    z1, z2 = ion_densities(n)
    n_metal = len(data.metal_bf.species)
    metal_n = jnp.stack([_get(n, s, T) for s in data.metal_bf.species])
    out = {
        "H I bf": h_i_bf(nu, T, n_HI, U_HI, data.hydrogen_bf, ne, n_HeI,
                         treatment=data.hydrogen_bf_treatment),
        "H- bf": hminus_bf(nu, T, ne, n_HI_ground, data.hminus_bf),
        "H- ff": hminus_ff(nu, T, ne, n_HI_ground),
        "H2+": h2plus_bf_ff(nu, T, n_HI_ground, n_HII),
        "He- ff": heminus_ff(nu, T, ne, n_HeI_ground),
        "metal bf": metal_bf(nu, T, metal_n, U[2 : 2 + n_metal], data.metal_bf),
        "ion ff": positive_ion_ff(nu, T, ne, jnp.asarray(z1) + 0.0 * T, jnp.asarray(z2) + 0.0 * T,
                                  data.gaunt_ff),  # fmt: skip
        "Thomson": thomson(ne) * jnp.ones_like(nu),
        "Rayleigh": rayleigh(nu, n_HI_ground, n_HeI_ground, n_H2),
    }
    if data.uppsala_bf is not None:
        up_n = jnp.stack([_get(n, s, T) for s in data.uppsala_bf.species])
        out["Uppsala bf"] = uppsala_bf(nu, T, up_n, U[2 + n_metal :], data.uppsala_bf)
    if data.molecular_bf is not None:
        out["CH+OH"] = molecular_bf(nu, T, n, data.molecular_bf)
    return out


def continuum_absorption(
    nu: Float[Array, " n_nu"],
    T: Float[Array, ""],
    ne: Float[Array, ""],
    n: dict,
    data: ContinuumData,
) -> Float[Array, " n_nu"]:
    """Total continuum opacity [cm^-1] (absorption + scattering) of one layer at ``nu`` [Hz].

    ``T`` [K], ``ne`` [cm^-3] free electrons, ``n`` species densities [cm^-3]. vmap over layers.
    """
    comps = continuum_components(nu, T, ne, n, data)
    return sum(comps.values())


def continuum_scattering(nu, T, ne, n: dict, data: ContinuumData) -> Float[Array, " n_nu"]:
    """The scattering part (Thomson + Rayleigh) of ``continuum_absorption`` [cm^-1]."""
    U = data._interp_U(T)
    n_HI_ground = 2.0 * _get(n, "H I", T) / U[0]
    n_HeI_ground = _get(n, "He I", T) / U[1]
    return thomson(ne) + rayleigh(jnp.asarray(nu), n_HI_ground, n_HeI_ground, _get(n, "HH", T))
