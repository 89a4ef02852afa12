"""The spectral feature under study: which pixels are masked (predicted), which are ignored, and the
matched-filter models (the line model and the ch3 contaminant models).

Wavelengths are vacuum Å throughout. The line model has unit equivalent width (1 Å) in normalised
flux, so the matched-filter amplitude of the line model *is* the excess equivalent width (EEW) in Å.
"""

from __future__ import annotations

import math

import equinox as eqx
import numpy as np
from jaxtyping import Bool, Float, Int

LI_6708_VACUUM = 6709.702  # Å, Li I resonance doublet (TSP_paper lines_and_grid.jl), vacuum
LI_6104_VACUUM = 6105.7  # Å, subordinate Li I line, removed from the grid in ch3
LAMOST_LRS_RESOLUTION = 1800.0  # R = lambda / FWHM of the LAMOST low-resolution spectrograph

_SQRT2 = math.sqrt(2.0)
_FWHM_TO_SIGMA = 1.0 / (2.0 * math.sqrt(2.0 * math.log(2.0)))


class Feature(eqx.Module):
    """A masked spectral feature on a fixed wavelength grid.

    Attributes:
        wavelength: (n_pix,) the common rest-frame grid [Å, vacuum].
        masked_idx: (m,) indices of the masked pixels (predicted by TSP, examined by the filter).
        use: (n_pix,) True for pixels used for neighbours and for the fit (not masked, not ignored).
        models: (n_models, m) matched-filter profiles on the masked pixels; row 0 is the line model
            (unit EW, absorption negative), row 1 the constant offset, rows 2.. single pixels.
        line_center: line centre [Å]. line_sigma: Gaussian sigma of the line model [Å].
        name: a label.
    """

    wavelength: Float[np.ndarray, " n_pix"]
    masked_idx: Int[np.ndarray, " m"]
    use: Bool[np.ndarray, " n_pix"]
    models: Float[np.ndarray, "n_models m"]
    line_center: float = eqx.field(static=True)
    line_sigma: float = eqx.field(static=True)
    name: str = eqx.field(static=True, default="feature")

    @property
    def n_masked(self) -> int:
        return int(self.masked_idx.shape[0])

    @property
    def line_model(self) -> np.ndarray:
        """(m,) the unit-EW line profile on the masked pixels (negative = absorption)."""
        return self.models[0]

    @property
    def model_names(self) -> tuple[str, ...]:
        return ("line", "constant") + tuple(f"pixel{j}" for j in range(self.n_masked))


def pixel_edges(wavelength: np.ndarray) -> np.ndarray:
    """(n+1,) pixel boundaries of a monotonic grid: midpoints, extrapolated at the ends [Å]."""
    w = np.asarray(wavelength, dtype=np.float64)
    mid = 0.5 * (w[1:] + w[:-1])
    return np.concatenate([[w[0] - (mid[0] - w[0])], mid, [w[-1] + (w[-1] - mid[-1])]])


def gaussian_line_profile(
    wavelength: np.ndarray, center: float, sigma: float, *, ew: float = 1.0
) -> np.ndarray:
    """Pixel-integrated Gaussian absorption of equivalent width ``ew`` [Å] in normalised flux.

    Returns the flux change per pixel (negative): ``-ew * (Phi(hi) - Phi(lo)) / (hi - lo)``, so
    ``sum(-profile * pixel_width) = ew`` when the grid covers the line.
    """
    from scipy.special import erf

    edges = pixel_edges(wavelength)
    cdf = 0.5 * (1.0 + erf((edges - center) / (_SQRT2 * sigma)))
    return -ew * np.diff(cdf) / np.diff(edges)


def make_feature(
    wavelength: np.ndarray,
    center: float,
    *,
    half_width: float = 7.0,
    resolution: float = LAMOST_LRS_RESOLUTION,
    ignore: tuple[tuple[float, float], ...] = (),
    name: str = "feature",
) -> Feature:
    """Build a :class:`Feature`: mask ``center +- half_width`` Å, ignore other windows.

    Args:
        wavelength: (n_pix,) increasing grid [Å].
        center: line centre [Å] (same air/vacuum convention as the grid).
        half_width: half width of the masked window [Å].
        resolution: instrument resolving power R; the line model is a Gaussian of FWHM center/R.
        ignore: ``(center, half_width)`` windows dropped entirely (neither used nor predicted).
        name: a label for outputs.
    """
    w = np.asarray(wavelength, dtype=np.float64)
    if w.ndim != 1 or w.size < 3 or not np.all(np.isfinite(w)) or np.any(np.diff(w) <= 0):
        raise ValueError("wavelength must be a finite, strictly increasing 1-D grid of >= 3 pixels")
    if not (w[0] < center < w[-1]):
        raise ValueError(
            f"feature centre {center} Å lies outside the grid [{w[0]:.2f}, {w[-1]:.2f}]"
        )
    if half_width <= 0 or resolution <= 0:
        raise ValueError("half_width and resolution must be positive")
    masked = np.abs(w - center) <= half_width
    if masked.sum() < 2:
        raise ValueError(f"mask {center}+-{half_width} Å covers {masked.sum()} pixels (need >= 2)")
    ignored = np.zeros_like(masked)
    for c, hw in ignore:
        ignored |= np.abs(w - c) <= hw
    ignored &= ~masked
    use = ~masked & ~ignored
    masked_idx = np.flatnonzero(masked)
    sigma = center / resolution * _FWHM_TO_SIGMA
    line = gaussian_line_profile(w, center, sigma)[masked_idx]
    m = masked_idx.size
    models = np.concatenate([line[None], -np.ones((1, m)), np.eye(m)], axis=0)
    return Feature(
        wavelength=w,
        masked_idx=masked_idx,
        use=use,
        models=models,
        line_center=float(center),
        line_sigma=float(sigma),
        name=name,
    )


def li_feature(wavelength: np.ndarray, *, resolution: float = LAMOST_LRS_RESOLUTION) -> Feature:
    """The ch3 Li feature: 6709.702 Å (vacuum) masked +-7 Å, the 6105.7 Å line ignored +-7 Å."""
    return make_feature(
        wavelength,
        LI_6708_VACUUM,
        half_width=7.0,
        resolution=resolution,
        ignore=((LI_6104_VACUUM, 7.0),),
        name="Li6708",
    )
