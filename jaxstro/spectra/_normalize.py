"""Continuum normalisation by inverse-variance-weighted Gaussian smoothing, and the bad-pixel rule.

The recipe (Ho et al. 2017, ApJ 836, 5; thesis ch2 §2.2 and ch3 §3.2): the pseudo-continuum at
pixel ``i`` is the ivar-weighted Gaussian average of the flux around it,

    C_i = sum_j w_ij ivar_j f_j / sum_j w_ij ivar_j,
    w_ij = exp(-(lam_j - lam_i)**2 / (2 sigma**2))  for |lam_j - lam_i| <= truncate, else 0,

with ``sigma`` the kernel's standard deviation in Å (ch2, The Cannon on LAMOST: sigma = 50 Å
truncated at 150 Å; ch3, TSP: sigma = 25 Å). The normalised spectrum is ``f / C`` with inverse
variance ``ivar * C**2``. The sums run over the wavelength grid as given (non-uniform grids are
fine; no pixel-size weights). The kernel is banded, so the cost is ``O(n_pixels * window)``.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._banded import band_apply, block_size, gaussian_band, half_width_pixels
from ._validate import is_concrete, validate_arrays


def _resolve_half_width(
    wl: Array, reach: Any, half_width: int | None, n: int
) -> tuple[int, bool]:
    """Static window half-width in pixels; second value: whether it must be checked at run time.

    ``wl`` must be the caller's original argument: under ``jit`` even ``jnp.asarray`` of a numpy
    array is a tracer, and a numpy grid closed over by the caller should stay concrete here.
    """
    if half_width is not None:
        k = int(half_width)
        if k < 0:
            raise ValueError(f"half_width must be >= 0, got {half_width}")
        return min(k, n - 1), not is_concrete(wl)
    if is_concrete(wl, reach):
        return half_width_pixels(wl, reach), False
    # traced wavelengths and no bound given: the exact fallback is the full (dense-sized) window
    return n - 1, False


def _check_window(wl: Array, k: int, reach: Any) -> Array:
    """Inside jit: error if pixels more than ``k`` apart can still be within ``reach`` [Å]."""
    n = wl.shape[-1]
    if k + 1 >= n:
        return wl
    gap = wl[..., k + 1 :] - wl[..., : n - k - 1]
    r = jnp.broadcast_to(jnp.asarray(reach), wl.shape)[..., : n - k - 1]
    return eqx.error_if(wl, jnp.any(gap <= r), "half_width too small for this kernel reach")


def _smooth(wl: Array, v: Array, n_lead: int, sigma: Any, truncate: Any, k: int) -> Array:
    """Banded Gaussian sums of ``v`` (shape ``(*lead, *batch, n)``, ``n_lead`` lead axes)."""
    n = v.shape[-1]
    b = block_size(k)
    if wl.ndim == 1:
        tiles = gaussian_band(wl, sigma, truncate, k, b)
        return band_apply(v, tiles.astype(v.dtype), k)
    batch = v.shape[n_lead:]
    if wl.shape != batch:
        raise ValueError(f"wavelength {wl.shape} must be (n,) or the shape of the spectra {batch}")

    def one(w, x):  # w (n,), x (*lead, n)
        return band_apply(x, gaussian_band(w, sigma, truncate, k, b).astype(x.dtype), k)

    lead = v.shape[:n_lead]
    vf = jnp.moveaxis(v.reshape(*lead, -1, n), n_lead, 0)
    out = jax.vmap(one)(wl.reshape(-1, n), vf)
    return jnp.moveaxis(out, 0, n_lead).reshape(v.shape)


def gaussian_smooth(
    wavelength: Float[Array, "*batch n"] | Float[Array, " n"],
    values: Float[Array, "*batch n"],
    *,
    sigma: float = 50.0,
    truncate: float = 150.0,
    half_width: int | None = None,
) -> Float[Array, "*batch n"]:
    """Unnormalised truncated-Gaussian sums ``sum_j w_ij values_j`` along the last axis.

    ``wavelength`` [Å] is either one shared grid ``(n,)`` or one grid per spectrum (same shape as
    ``values``). ``half_width`` (pixels) is computed from concrete wavelengths; pass it when
    calling under ``jit`` with traced wavelengths (otherwise the window spans the whole spectrum:
    exact but ``O(n**2)``; a too-small value raises at run time via ``eqx.error_if``).
    """
    wl = jnp.asarray(wavelength)
    v = jnp.asarray(values)
    k, check = _resolve_half_width(wavelength, truncate, half_width, v.shape[-1])
    return _smooth_jit(wl, v, float(sigma), float(truncate), k, check)


@partial(jax.jit, static_argnums=(2, 3, 4, 5))
def _smooth_jit(wl, v, sigma, truncate, k, check):
    if check:
        wl = _check_window(wl, k, truncate)
    return _smooth(wl, v, 0, sigma, truncate, k)


def continuum_normalize(
    wavelength: Float[Array, "*batch n"] | Float[Array, " n"],
    flux: Float[Array, "*batch n"],
    ivar: Float[Array, "*batch n"],
    *,
    sigma: float = 50.0,
    truncate: float = 150.0,
    half_width: int | None = None,
) -> tuple[Float[Array, "*batch n"], Float[Array, "*batch n"], Float[Array, "*batch n"]]:
    """Divide out an ivar-weighted Gaussian-smoothed pseudo-continuum (Ho et al. 2017 recipe).

    Args:
        wavelength: [Å] shared grid ``(n,)`` or per-spectrum grids of the shape of ``flux``;
            strictly increasing (any spacing).
        flux: fluxes, any leading batch axes ``(*batch, n)``.
        ivar: inverse variances ``>= 0`` (0 = no information), shape of ``flux``.
        sigma: Gaussian standard deviation [Å] (50 in thesis ch2, 25 in ch3).
        truncate: the kernel is zero beyond ``|dlam| > truncate`` [Å] (150 in ch2).
        half_width: optional static window half-width in pixels (see :func:`gaussian_smooth`).

    Returns:
        ``(normalized_flux, normalized_ivar, continuum)``: ``flux / C``, ``ivar * C**2`` and ``C``.
        Where the kernel window holds no weight (all ``ivar`` zero within reach) the continuum is
        undefined: there ``C = 0``, normalised flux ``= 1`` and normalised ivar ``= 0`` (no NaN).

    Eager calls validate the inputs (ValueError naming the offending index for NaN/inf flux,
    negative ivar, shape mismatch, unsorted or non-positive wavelengths); under ``jit`` they are
    not inspected. Differentiable in ``flux`` and ``ivar``; works in float32 and float64.
    """
    if is_concrete(wavelength, flux, ivar):
        validate_arrays(wavelength, flux, ivar, what="continuum_normalize input")
    f = jnp.asarray(flux)
    iv = jnp.asarray(ivar, dtype=f.dtype)
    wl = jnp.asarray(wavelength)
    k, check = _resolve_half_width(wavelength, truncate, half_width, f.shape[-1])
    return _normalize_core(wl, f, iv, float(sigma), float(truncate), k, check)


@partial(jax.jit, static_argnums=(3, 4, 5, 6))
def _normalize_core(wl, f, iv, sigma, truncate, k, check):
    if check:
        wl = _check_window(wl, k, truncate)
    sums = _smooth(wl, jnp.stack([iv * f, iv]), 1, sigma, truncate, k)
    num, den = sums[0], sums[1]
    ok = den > 0
    cont = jnp.where(ok, num / jnp.where(ok, den, 1.0), 0.0)
    ok = ok & (cont != 0)
    safe = jnp.where(ok, cont, 1.0)
    norm_flux = jnp.where(ok, f / safe, 1.0)
    norm_ivar = jnp.where(ok, iv * cont**2, 0.0)
    return norm_flux, norm_ivar, cont


def bad_pixel_rule(
    flux: Float[Array, "*batch n"],
    ivar: Float[Array, "*batch n"],
    *,
    lower: float = 0.0,
    upper: float = 2.0,
    max_sigma: float | None = None,
) -> tuple[Float[Array, "*batch n"], Float[Array, "*batch n"]]:
    """Thesis ch3 §3.2 bad-pixel rule: normalised flux outside ``(lower, upper)`` -> f=1, ivar=0.

    Non-finite fluxes are treated as bad too. With ``max_sigma`` given, pixels whose uncertainty
    ``1/sqrt(ivar)`` exceeds it are also set to ``f = 1, ivar = 0`` (the thesis also imputes pixels
    with large uncertainty; its threshold is not legible in our copy, so it is a parameter here).
    Pixels with ``ivar == 0`` keep ``ivar = 0`` and their flux. Returns ``(flux, ivar)``.
    """
    f = jnp.asarray(flux)
    iv = jnp.asarray(ivar, dtype=f.dtype)
    ms = None if max_sigma is None else float(max_sigma)
    return _bad_pixel_core(f, iv, float(lower), float(upper), ms)


@partial(jax.jit, static_argnums=(2, 3, 4))
def _bad_pixel_core(f, iv, lower, upper, max_sigma):
    bad = ~((f > lower) & (f < upper)) | ~jnp.isfinite(f)
    if max_sigma is not None:
        bad = bad | ((iv > 0) & (iv < 1.0 / max_sigma**2))
    return jnp.where(bad, jnp.ones_like(f), f), jnp.where(bad, jnp.zeros_like(iv), iv)
