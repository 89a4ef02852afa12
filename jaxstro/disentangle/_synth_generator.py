"""The production generator of twin spectra: ``jaxstro.synth`` on the GALAH bands (paper 004 §4.1
with the GALAH DR3 line list and the ATLAS9 grid, as the issue specifies).

For each star: the ATLAS9 atmosphere is interpolated at (Teff, logg, [M/H]) with [M/H] = [Fe/H]
clipped to the grid's range (-2, +0.5; the abundances themselves are not clipped), the abundance
vector is [Fe/H] scaled solar with the 17 [X/Fe] of Table 2, ``synthesize`` gives the normalised
spectrum on a fine grid, a Gaussian LSF at ``resolving_power`` is applied, and ``oversample``
consecutive fine pixels are averaged into one output bin. Everything is vmapped over stars.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._data import ABUNDANCE_DISTRIBUTION

#: the four GALAH HERMES bands [Å] (approximate, vacuum)
GALAH_BANDS: tuple[tuple[float, float], ...] = (
    (4713.0, 4903.0), (5648.0, 5873.0), (6478.0, 6737.0), (7585.0, 7887.0),
)  # fmt: skip
_X_FE = tuple(k.split("/")[0] for k in ABUNDANCE_DISTRIBUTION if k != "Fe/H")


def band_grid(bands, n_bins: int, oversample: int) -> tuple[np.ndarray, np.ndarray]:
    """Fine wavelength grid and bin centres: ``n_bins`` split over the bands by their width."""
    widths = np.array([hi - lo for lo, hi in bands])
    per_band = np.maximum(1, np.round(n_bins * widths / widths.sum()).astype(int))
    per_band[-1] += n_bins - per_band.sum()
    fine, centres = [], []
    for (lo, hi), nb in zip(bands, per_band, strict=True):
        edges = np.linspace(lo, hi, nb + 1)
        step = (hi - lo) / (nb * oversample)
        fine.append(lo + step * (np.arange(nb * oversample) + 0.5))
        centres.append(0.5 * (edges[1:] + edges[:-1]))
    return np.concatenate(fine), np.concatenate(centres)


class SynthGenerator(eqx.Module):
    """``generate(labels (n, 20)) -> normalised flux (n, n_bins)`` with ``jaxstro.synth``."""

    grid: eqx.Module
    linelist: eqx.Module
    windows: eqx.Module
    wavelengths: Array
    bin_centres: Array
    resolving_power: float = eqx.field(static=True)
    oversample: int = eqx.field(static=True)
    vmic: float = eqx.field(static=True)
    mixture: str = eqx.field(static=True)
    lsf_half_width: int = eqx.field(static=True)
    m_h_range: tuple[float, float] = eqx.field(static=True)

    def __init__(
        self,
        *,
        bands=GALAH_BANDS,
        n_bins: int = 7751,
        oversample: int = 4,
        resolving_power: float = 28000.0,
        vmic: float = 1.5,
        linelist=None,
        grid=None,
        mixture: str = "asplund2009",
        line_half_width: float = 2.0,
    ):
        from ..synth import load_atlas9_grid, read_linelist
        from ..synth.lines.absorption import fixed_line_windows

        fine, centres = band_grid(bands, n_bins, oversample)
        self.grid = load_atlas9_grid() if grid is None else grid
        ll = read_linelist("galah_dr3_linelist") if linelist is None else linelist
        keep = np.zeros(len(ll), bool)
        wl0 = np.asarray(ll.wavelength)
        for lo, hi in bands:
            keep |= (wl0 > lo - line_half_width) & (wl0 < hi + line_half_width)
        self.linelist = ll.select(keep)
        n_layers = int(np.asarray(self.grid.values).shape[-2]) if hasattr(self.grid, "values") \
            else 72
        self.windows = fixed_line_windows(self.linelist, fine, line_half_width,
                                          n_layers=n_layers)
        self.wavelengths = jnp.asarray(fine)
        self.bin_centres = jnp.asarray(centres)
        self.resolving_power = float(resolving_power)
        self.oversample = int(oversample)
        self.vmic = float(vmic)
        self.mixture = mixture
        step = float(np.min(np.diff(fine)))
        self.lsf_half_width = int(np.ceil(5 * fine.max() / (2.3548 * resolving_power) / step))
        self.m_h_range = (-2.0, 0.5)

    def _one(self, lab: Float[Array, " 20"]) -> Array:
        from ..spectra import convolve_lsf
        from ..synth import format_abundances, interpolate_atmosphere, synthesize

        teff, logg, feh = lab[0], lab[1], lab[2]
        atm = interpolate_atmosphere(self.grid, teff, logg, jnp.clip(feh, *self.m_h_range))
        x_fe = {f"{el}_Fe": lab[3 + i] for i, el in enumerate(_X_FE)}
        a_x = format_abundances(feh, 0.0, mixture=self.mixture, **x_fe)
        sp = synthesize(atm, self.linelist, a_x, self.wavelengths, vmic=self.vmic,
                        line_windows=self.windows)
        norm = convolve_lsf(self.wavelengths, sp.normalized, self.resolving_power,
                            half_width=self.lsf_half_width)
        return norm.reshape(-1, self.oversample).mean(-1)

    def __call__(self, labels: Float[Array, "n 20"]) -> Float[Array, "n n_bins"]:
        return jax.vmap(self._one)(labels)
