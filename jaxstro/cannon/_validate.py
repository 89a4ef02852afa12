"""Input checks at the public boundaries of the Cannon (plain numpy, outside jit)."""

from __future__ import annotations

import numpy as np


def _star_list(idx: np.ndarray, limit: int = 10) -> str:
    idx = np.asarray(idx).ravel()
    s = ", ".join(str(int(i)) for i in idx[:limit])
    return s + (f", ... ({idx.size} in all)" if idx.size > limit else "")


def check_spectra(flux, ivar, *, n_pixels: int | None = None, what: str = "spectra",
                  copy: bool = True):
    """Return float64 ``(flux, ivar)`` with ivar=0 pixels given flux 0; raise on bad input.

    ivar = 0 marks a pixel as missing (its flux may be NaN). NaN/inf flux where ivar > 0, NaN or
    negative ivar raise a ValueError naming the stars (row indices).

    ``copy=False``: only check (in blocks of rows, so the temporaries stay small) and return the
    inputs as float64 without copying them when they already are; flux at ivar = 0 is then left
    as given (the caller must mask it).
    """
    flux = np.array(flux, dtype=float, copy=True) if copy else np.asarray(flux, dtype=float)
    ivar = np.array(ivar, dtype=float, copy=True) if copy else np.asarray(ivar, dtype=float)
    if flux.ndim != 2 or ivar.shape != flux.shape:
        raise ValueError(
            f"{what}: flux and ivar must be 2-D (n_stars, n_pixels) with equal shapes, got "
            f"{flux.shape} and {ivar.shape}"
        )
    if n_pixels is not None and flux.shape[1] != n_pixels:
        raise ValueError(
            f"{what}: {flux.shape[1]} pixels, but the model has {n_pixels} "
            "(test spectra must be on the training wavelength grid)"
        )
    block = flux.shape[0] if copy else 256
    bad_i, bad_f = [], []
    for i in range(0, flux.shape[0], max(block, 1)):
        f, iv = flux[i : i + block], ivar[i : i + block]
        # fast screen by row reductions (no temporaries): a finite row sum and a row minimum
        # >= 0 clear a row of ivar, a finite row sum a row of flux; flagged rows are checked
        # element by element (an overflowing sum is not an error)
        with np.errstate(over="ignore", invalid="ignore"):
            ok_i = np.isfinite(iv.sum(axis=1)) & (iv.min(axis=1) >= 0)
            ok_f = np.isfinite(f.sum(axis=1))
        rows = np.flatnonzero(~ok_i)
        if rows.size:
            v = iv[rows]
            bad_i.append(i + rows[(~np.isfinite(v) | (v < 0)).any(axis=1)])
        rows = np.flatnonzero(~ok_f)
        if rows.size:
            bad_f.append(i + rows[(~np.isfinite(f[rows]) & (iv[rows] > 0)).any(axis=1)])
    rows = np.concatenate(bad_i) if bad_i else np.zeros(0, int)
    if rows.size:
        raise ValueError(f"{what}: ivar is NaN, inf or negative for stars {_star_list(rows)}")
    rows = np.concatenate(bad_f) if bad_f else np.zeros(0, int)
    if rows.size:
        raise ValueError(
            f"{what}: flux is NaN/inf at pixels with ivar > 0 for stars {_star_list(rows)} "
            "(set ivar = 0 there to mask them)"
        )
    if copy:
        flux[ivar == 0] = 0.0
    return flux, ivar


def check_labels(labels, n_stars: int, n_labels: int):
    labels = np.array(labels, dtype=float, copy=True)
    if labels.ndim == 1 and n_labels == 1:
        labels = labels[:, None]
    if labels.shape != (n_stars, n_labels):
        raise ValueError(f"labels must have shape ({n_stars}, {n_labels}), got {labels.shape}")
    bad = ~np.isfinite(labels)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        raise ValueError(f"labels are NaN/inf for training stars {_star_list(rows)}")
    return labels


def check_wavelength(model_wavelength, wavelength, *, rtol: float = 1e-7):
    """Raise if ``wavelength`` is given and differs from the model grid."""
    if wavelength is None or model_wavelength is None:
        return
    w = np.asarray(wavelength, dtype=float)
    mw = np.asarray(model_wavelength, dtype=float)
    if w.shape != mw.shape:
        raise ValueError(
            f"wavelength grid has {w.size} pixels, the model's has {mw.size}: resample the test "
            "spectra onto the model grid first"
        )
    diff = np.abs(w - mw) > rtol * np.abs(mw)
    if diff.any():
        i = int(np.flatnonzero(diff)[0])
        raise ValueError(
            f"wavelength grid differs from the model's at {int(diff.sum())} pixels (first: pixel "
            f"{i}, {w[i]!r} vs {mw[i]!r}): resample the test spectra onto the model grid first"
        )
