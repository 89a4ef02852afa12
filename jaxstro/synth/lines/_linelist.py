"""The ``LineList`` pytree: atomic and molecular transitions sorted by vacuum wavelength."""

from __future__ import annotations

from collections.abc import Sequence

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

#: codes of ``LineList.vdw_kind`` (how ``vdw_1``, ``vdw_2`` are to be read)
VDW_UNSOLD = 0  # Unsöld approximation times the factor vdw_1 (1 when the list gives nothing)
VDW_LOG_GAMMA = 1  # vdw_1 = log10 gamma_vdW [s^-1 per H atom at 10,000 K]
VDW_ABO = 2  # Anstee-Barklem-O'Mara: vdw_1 = sigma [bohr radius^2], vdw_2 = alpha


class LineList(eqx.Module):
    """Transitions sorted by vacuum wavelength, as arrays (one entry per line).

    Attributes:
        wavelength: vacuum wavelength [Å].
        log_gf: log10(g_lower f), including log10 of isotopic fractions when the list has them.
        species_index: index of each line's species into ``species``.
        species: canonical species names (``"Fe I"``, ``"CN"``; static).
        E_lower: lower-level excitation energy [eV].
        gamma_rad: radiative damping FWHM [s^-1]; NaN where the list gives none.
        gamma_stark: quadratic Stark FWHM per electron at 10,000 K [s^-1 cm^3]; NaN where none.
        vdw_kind, vdw_1, vdw_2: van der Waals broadening (``VDW_*`` codes above).
    """

    wavelength: Float[Array, " n"]
    log_gf: Float[Array, " n"]
    species_index: Int[Array, " n"]
    E_lower: Float[Array, " n"]
    gamma_rad: Float[Array, " n"]
    gamma_stark: Float[Array, " n"]
    vdw_kind: Int[Array, " n"]
    vdw_1: Float[Array, " n"]
    vdw_2: Float[Array, " n"]
    species: tuple[str, ...] = eqx.field(static=True)

    def __len__(self) -> int:
        return int(self.wavelength.shape[0])

    def species_of(self) -> list[str]:
        """The species name of every line."""
        idx = np.asarray(self.species_index)
        return [self.species[i] for i in idx]

    def select(self, mask: np.ndarray) -> LineList:
        """The lines where ``mask`` is True (host-side; keeps the species table)."""
        mask = np.asarray(mask, bool)
        return eqx.tree_at(
            lambda ll: [getattr(ll, f) for f in _ARRAY_FIELDS],
            self,
            [getattr(self, f)[mask] for f in _ARRAY_FIELDS],
        )

    def window(self, lo: float, hi: float) -> LineList:
        """Lines with ``lo <= wavelength <= hi`` [Å, vacuum]."""
        wl = np.asarray(self.wavelength)
        return self.select((wl >= lo) & (wl <= hi))


_ARRAY_FIELDS = (
    "wavelength", "log_gf", "species_index", "E_lower", "gamma_rad", "gamma_stark", "vdw_kind",
    "vdw_1", "vdw_2",
)  # fmt: skip


def vdw_from_packed(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode the packed van der Waals column used by VALD, Turbospectrum and Korg's lists.

    ``x < 0``: log10 gamma_vdW; ``x >= 20``: ABO, integer part sigma [a0^2], fraction alpha;
    ``0 < x < 20``: Unsöld enhancement factor; ``x == 0``: none given (Unsöld, factor 1).
    """
    x = np.asarray(x, float)
    kind = np.full(x.shape, VDW_UNSOLD, np.int32)
    v1 = np.ones_like(x)
    v2 = np.zeros_like(x)
    neg = x < 0
    abo = x >= 20
    uns = (x > 0) & (x < 20)
    kind[neg], v1[neg] = VDW_LOG_GAMMA, x[neg]
    kind[abo], v1[abo], v2[abo] = VDW_ABO, np.floor(x[abo]), x[abo] - np.floor(x[abo])
    v1[uns] = x[uns]
    return kind, v1, v2


def make_linelist(
    wavelength: Sequence[float],
    log_gf: Sequence[float],
    species: Sequence[str],
    E_lower: Sequence[float],
    *,
    gamma_rad: Sequence[float] | None = None,
    gamma_stark: Sequence[float] | None = None,
    vdw_kind: Sequence[int] | None = None,
    vdw_1: Sequence[float] | None = None,
    vdw_2: Sequence[float] | None = None,
    source: str = "line list",
) -> LineList:
    """Validate per-line arrays, sort by wavelength and build a ``LineList``.

    Raises ``ValueError`` naming the source and the offending line for non-finite or
    non-positive wavelengths, non-finite log gf or energies, or mismatched lengths.
    """
    wl = np.asarray(wavelength, float)
    n = wl.size
    cols = {
        "log_gf": np.asarray(log_gf, float),
        "E_lower": np.asarray(E_lower, float),
        "gamma_rad": np.full(n, np.nan) if gamma_rad is None else np.asarray(gamma_rad, float),
        "gamma_stark": np.full(n, np.nan) if gamma_stark is None else np.asarray(gamma_stark,
                                                                                 float),
        "vdw_kind": np.zeros(n, np.int32) if vdw_kind is None else np.asarray(vdw_kind, np.int32),
        "vdw_1": np.ones(n) if vdw_1 is None else np.asarray(vdw_1, float),
        "vdw_2": np.zeros(n) if vdw_2 is None else np.asarray(vdw_2, float),
    }
    species = list(species)
    if len(species) != n or any(c.shape != (n,) for c in cols.values()):
        raise ValueError(f"{source}: per-line columns have different lengths")
    for name, arr in (("wavelength", wl), ("log_gf", cols["log_gf"]),
                      ("E_lower", cols["E_lower"])):
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            raise ValueError(f"{source}: non-finite {name} at line {bad[0]} ({arr[bad[0]]})")
    if np.any(wl <= 0):
        raise ValueError(f"{source}: non-positive wavelength at line {np.flatnonzero(wl <= 0)[0]}")
    order = np.argsort(wl, kind="stable")
    table = tuple(sorted(set(species)))
    lookup = {s: i for i, s in enumerate(table)}
    idx = np.array([lookup[s] for s in species], np.int32)
    return LineList(
        jnp.asarray(wl[order]),
        jnp.asarray(cols["log_gf"][order]),
        jnp.asarray(idx[order]),
        jnp.asarray(cols["E_lower"][order]),
        jnp.asarray(cols["gamma_rad"][order]),
        jnp.asarray(cols["gamma_stark"][order]),
        jnp.asarray(cols["vdw_kind"][order]),
        jnp.asarray(cols["vdw_1"][order]),
        jnp.asarray(cols["vdw_2"][order]),
        table,
    )


def concatenate(lists: Sequence[LineList]) -> LineList:
    """Merge line lists (re-sorted by wavelength)."""
    kw = {f: np.concatenate([np.asarray(getattr(ll, f)) for ll in lists]) for f in _ARRAY_FIELDS}
    names = [s for ll in lists for s in ll.species_of()]
    wl = kw.pop("wavelength")
    kw.pop("species_index")
    return make_linelist(wl, kw.pop("log_gf"), names, kw.pop("E_lower"), **kw)
