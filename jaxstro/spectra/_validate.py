"""Input checks for spectra at the public boundary (eager, numpy; never inside jit).

Every check raises a ``ValueError`` that says what is wrong and where (the first offending index).
Inside ``jax.jit`` the arrays are tracers and cannot be inspected: the public functions call
:func:`validate_arrays` only when their inputs are concrete (see :func:`is_concrete`).
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np


def is_concrete(*xs: Any) -> bool:
    """True when none of ``xs`` is a JAX tracer (so they can be checked with numpy)."""
    return not any(isinstance(x, jax.core.Tracer) for x in xs)


def _first_index(bad: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(bad)[0])


def _where(what: str | None) -> str:
    return f" in {what}" if what else ""


def check_wavelength(wavelength: Any, *, what: str | None = None) -> np.ndarray:
    """Wavelengths must be finite, positive and strictly increasing along the last axis."""
    wl = np.asarray(wavelength)
    if wl.ndim == 0:
        raise ValueError(f"wavelength{_where(what)} must be an array, got a scalar")
    if wl.shape[-1] < 1:
        raise ValueError(f"wavelength{_where(what)} is empty")
    bad = ~np.isfinite(wl)
    if bad.any():
        raise ValueError(
            f"wavelength{_where(what)} has {int(bad.sum())} non-finite value(s), first at index "
            f"{_first_index(bad)}"
        )
    bad = wl <= 0
    if bad.any():
        raise ValueError(
            f"wavelength{_where(what)} has {int(bad.sum())} non-positive value(s), first at index "
            f"{_first_index(bad)} (value {wl[_first_index(bad)]!r})"
        )
    if wl.shape[-1] > 1:
        bad = np.diff(wl, axis=-1) <= 0
        if bad.any():
            i = _first_index(bad)
            j = i[:-1] + (i[-1] + 1,)
            raise ValueError(
                f"wavelength{_where(what)} is not strictly increasing: index {j} ({wl[j]!r}) <= "
                f"index {i} ({wl[i]!r}); sort the spectrum first"
            )
    return wl


def validate_arrays(
    wavelength: Any,
    flux: Any,
    ivar: Any | None = None,
    mask: Any | None = None,
    *,
    what: str | None = None,
) -> None:
    """Check a (possibly batched) spectrum given as arrays; raise ``ValueError`` on bad input.

    Rules: ``wavelength`` has shape ``(n,)`` (shared grid) or the shape of ``flux``; finite,
    positive, strictly increasing. ``flux`` finite everywhere (NaN/inf -> error: repair it with
    :func:`repair_nonfinite` if that is what you mean). ``ivar`` (optional) has the shape of
    ``flux``, is finite and ``>= 0``. ``mask`` (optional) has the shape of ``flux``.
    """
    wl = check_wavelength(wavelength, what=what)
    f = np.asarray(flux)
    if f.ndim == 0 or f.shape[-1] != wl.shape[-1] or (wl.ndim > 1 and wl.shape != f.shape):
        raise ValueError(
            f"shape mismatch{_where(what)}: wavelength {wl.shape} vs flux {f.shape} "
            "(wavelength must be (n_pixels,) or have the shape of flux)"
        )
    bad = ~np.isfinite(f)
    if bad.any():
        raise ValueError(
            f"flux{_where(what)} has {int(bad.sum())} non-finite value(s) (NaN/inf), first at "
            f"index {_first_index(bad)}"
        )
    if ivar is not None:
        iv = np.asarray(ivar)
        if iv.shape != f.shape:
            raise ValueError(f"shape mismatch{_where(what)}: ivar {iv.shape} vs flux {f.shape}")
        bad = ~np.isfinite(iv)
        if bad.any():
            raise ValueError(
                f"ivar{_where(what)} has {int(bad.sum())} non-finite value(s), first at index "
                f"{_first_index(bad)}"
            )
        bad = iv < 0
        if bad.any():
            raise ValueError(
                f"ivar{_where(what)} has {int(bad.sum())} negative value(s), first at index "
                f"{_first_index(bad)} (value {iv[_first_index(bad)]!r})"
            )
    if mask is not None:
        m = np.asarray(mask)
        if m.shape != f.shape:
            raise ValueError(f"shape mismatch{_where(what)}: mask {m.shape} vs flux {f.shape}")


def repair_nonfinite(
    flux: Any, ivar: Any, *, fill: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Explicit repair of non-finite pixels: flux NaN/inf or ivar NaN/inf/negative.

    Those pixels get ``flux = fill`` and ``ivar = 0``. Returns ``(flux, ivar, repaired)`` with
    ``repaired`` the boolean array of changed pixels. This is the only place jaxstro rewrites bad
    pixels; the readers call it and record the count in the spectrum's metadata.
    """
    f = np.array(flux, dtype=np.float64)
    iv = np.array(ivar, dtype=np.float64)
    if f.shape != iv.shape:
        raise ValueError(f"shape mismatch: flux {f.shape} vs ivar {iv.shape}")
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(f) | ~np.isfinite(iv) | (iv < 0)
    f[bad] = fill
    iv[bad] = 0.0
    return f, iv, bad
