"""Instrumental (Gaussian LSF) and rotational broadening, and Doppler shifts.

Both broadenings are windowed linear operators (see ``_banded``): output pixel ``i`` is a
normalised weighted sum of the input pixels within the kernel's reach, evaluated on any sorted
wavelength grid (uniform, log-linear or irregular), at cost ``O(n_pixels * window)``.

* Gaussian LSF at resolving power ``R`` (scalar or one value per pixel):
  ``sigma_i = lambda_i / (R_i * 2 sqrt(2 ln 2))`` [Å] (FWHM = lambda / R). Weights
  ``exp(-(lam_j - lam_i)**2 / (2 sigma_i**2)) * dlam_j`` for ``|lam_j - lam_i| <= n_sigma sigma_i``
  (``dlam_j`` the input pixel width: a quadrature rule for the convolution integral on non-uniform
  grids), normalised per output pixel, so a flat spectrum stays flat.
* Rotation (Gray 2005, *The Observation and Analysis of Stellar Photospheres*, 3rd ed., eq. 18.14):
  for ``x = dlam / dlam_L``, ``dlam_L = lambda vsini / c``,
  ``G(x) = [2 (1 - eps) sqrt(1 - x**2) + (pi eps / 2) (1 - x**2)] / (pi dlam_L (1 - eps / 3))``
  with linear limb-darkening coefficient ``eps``. The kernel has sharp edges, so we integrate it
  analytically over each input pixel (its cumulative distribution is closed-form), which stays
  accurate when ``dlam_L`` spans only a few pixels and makes the rows sum to one exactly.
* Doppler shift: relativistic, ``lambda_obs = lambda_rest sqrt((1 + beta) / (1 - beta))``,
  ``beta = v / c``, ``v`` [km/s] positive = receding (redshift).
"""

from __future__ import annotations

from functools import partial

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._banded import band_apply, band_tiles, block_size, half_width_pixels
from ._validate import is_concrete, validate_arrays

C_KMS = 299792.458  # speed of light [km/s]
FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))  # 1 / 2.3548...


# --------------------------------------------------------------------------------------- Doppler
def doppler_factor(rv: Float[Array, "..."]) -> Float[Array, "..."]:
    """Relativistic ``lambda_obs / lambda_rest = sqrt((1 + beta) / (1 - beta))``, rv in km/s."""
    beta = jnp.asarray(rv) / C_KMS
    return jnp.sqrt((1.0 + beta) / (1.0 - beta))


def doppler_shift(
    wavelength: Float[Array, "... n"], rv: Float[Array, "..."]
) -> Float[Array, "... n"]:
    """Rest-frame -> observed wavelengths [Å] for radial velocity ``rv`` [km/s] (+ = receding).

    ``rv`` broadcasts against the leading axes of ``wavelength`` (``rv[..., None]`` per spectrum).
    Use ``doppler_shift(wl_obs, -rv)`` to go back to the rest frame.
    """
    return jnp.asarray(wavelength) * doppler_factor(rv)


# --------------------------------------------------------------------------------------- helpers
def _check(wl: Array, k: int, reach: Array) -> Array:
    """Inside jit: error if pixels more than ``k`` apart can still be within ``reach`` [Å]."""
    n = wl.shape[-1]
    if k + 1 >= n:
        return wl
    gap = wl[k + 1 :] - wl[: n - k - 1]
    r = jnp.broadcast_to(reach, wl.shape)
    return eqx.error_if(
        wl,
        jnp.any(gap <= r[: n - k - 1]) | jnp.any(gap <= r[k + 1 :]),
        "half_width too small for this kernel reach",
    )


def _apply_1d_grid(wl, flux, tiles_fn, k):
    """Shared grid ``(n,)`` -> one set of tiles; per-spectrum grids -> vmap."""
    if wl.ndim == 1:
        return band_apply(flux, tiles_fn(wl).astype(flux.dtype), k)
    n = wl.shape[-1]
    if wl.shape != flux.shape:
        raise ValueError(f"wavelength {wl.shape} must be (n,) or the shape of flux {flux.shape}")
    out = jax.vmap(lambda w, f: band_apply(f, tiles_fn(w).astype(f.dtype), k))(
        wl.reshape(-1, n), flux.reshape(-1, n)
    )
    return out.reshape(flux.shape)


# ------------------------------------------------------------------------------------ Gaussian LSF
def _gauss_weights(lam_out, lam_in, lo, hi, sig, n_sigma):
    d = lam_in - lam_out
    return jnp.where(
        jnp.abs(d) <= n_sigma * sig, jnp.exp(-0.5 * (d / sig) ** 2) * (hi - lo), 0.0
    )


def convolve_lsf(
    wavelength: Float[Array, "*batch n"] | Float[Array, " n"],
    flux: Float[Array, "*batch n"],
    resolving_power: Float[Array, " n"] | float,
    *,
    n_sigma: float = 5.0,
    half_width: int | None = None,
) -> Float[Array, "*batch n"]:
    """Convolve with a Gaussian line-spread function of resolving power ``R = lambda / FWHM``.

    Args:
        wavelength: [Å], shared ``(n,)`` or per spectrum (shape of ``flux``), strictly increasing.
        flux: ``(*batch, n)``.
        resolving_power: scalar or per-pixel ``(n,)`` (R varying with wavelength); the kernel width
            is taken at the output pixel, ``sigma_i = lambda_i / (2.3548 R_i)``.
        n_sigma: kernel truncation in units of sigma (the truncated kernel is renormalised).
        half_width: static window half-width in pixels, needed only under ``jit`` when the
            wavelengths or ``R`` are traced (otherwise a full-width window is used).
    Pixels within the kernel reach of the grid ends see a one-sided (renormalised) kernel.
    """
    if is_concrete(wavelength, flux):
        validate_arrays(wavelength, flux, what="convolve_lsf input")
    if is_concrete(resolving_power) and np.any(np.asarray(resolving_power) <= 0):
        raise ValueError("resolving_power must be > 0")
    wl = jnp.asarray(wavelength)
    f = jnp.asarray(flux)
    n = f.shape[-1]
    if half_width is not None:
        k, check = min(int(half_width), n - 1), not is_concrete(wavelength, resolving_power)
    elif is_concrete(wavelength, resolving_power):
        reach = n_sigma * FWHM_TO_SIGMA * np.asarray(wavelength) / np.asarray(resolving_power)
        k, check = half_width_pixels(wavelength, reach), False
    else:
        k, check = n - 1, False  # traced and unbounded: exact full window (O(n^2))
    return _lsf_core(wl, f, jnp.asarray(resolving_power, dtype=f.dtype), float(n_sigma), k, check)


@partial(jax.jit, static_argnums=(3, 4, 5))
def _lsf_core(wl, f, r, n_sigma, k, check):
    def tiles(w):
        sig = w * FWHM_TO_SIGMA / r
        return band_tiles(w, _gauss_weights, k, block_size(k), (sig, n_sigma), normalize_rows=True)

    if check and wl.ndim == 1:
        wl = _check(wl, k, n_sigma * FWHM_TO_SIGMA * wl / r)
    return _apply_1d_grid(wl, f, tiles, k)


# -------------------------------------------------------------------------------------- rotation
def rotation_kernel_cdf(x: Array, epsilon: Array | float) -> Array:
    """Cumulative Gray rotation kernel: ``int_{-1}^{x} G(t) dt`` for ``x`` in units of dlam_L.

    Closed form: ``[(1-eps)(x sqrt(1-x^2) + arcsin x + pi/2) + (pi eps/2)(x - x^3/3 + 2/3)]
    / (pi (1 - eps/3))``; 0 below -1, 1 above +1 (gradient-safe at the edges).
    """
    inside = jnp.abs(x) < 1.0
    xs = jnp.where(inside, x, 0.0)
    sq = jnp.sqrt(1.0 - xs**2)
    a = (1.0 - epsilon) * (xs * sq + jnp.arcsin(xs) + 0.5 * jnp.pi)
    b = 0.5 * jnp.pi * epsilon * (xs - xs**3 / 3.0 + 2.0 / 3.0)
    val = (a + b) / (jnp.pi * (1.0 - epsilon / 3.0))
    return jnp.where(inside, val, jnp.where(x >= 1.0, 1.0, 0.0))


def rotation_kernel(x: Array, epsilon: Array | float) -> Array:
    """Gray (2005, eq. 18.14) rotation profile per unit ``x = dlam/dlam_L`` (integrates to 1)."""
    one = jnp.clip(1.0 - x**2, 0.0, None)
    num = 2.0 * (1.0 - epsilon) * jnp.sqrt(one) + 0.5 * jnp.pi * epsilon * one
    return num / (jnp.pi * (1.0 - epsilon / 3.0))


def _rot_weights(lam_out, lam_in, lo, hi, width, epsilon):
    w = jnp.where(width > 0, width, 1.0)
    cdf_hi = rotation_kernel_cdf((hi - lam_out) / w, epsilon)
    cdf_lo = rotation_kernel_cdf((lo - lam_out) / w, epsilon)
    # vsini = 0: the identity (weight 1 on the pixel that contains lam_out)
    ident = ((lo <= lam_out) & (lam_out < hi)).astype(lam_out.dtype)
    return jnp.where(width > 0, cdf_hi - cdf_lo, ident)


def rotational_broaden(
    wavelength: Float[Array, "*batch n"] | Float[Array, " n"],
    flux: Float[Array, "*batch n"],
    vsini: float | Float[Array, ""],
    epsilon: float | Float[Array, ""] = 0.6,
    *,
    half_width: int | None = None,
) -> Float[Array, "*batch n"]:
    """Rotational broadening (Gray kernel): ``vsini`` [km/s], linear limb darkening ``epsilon``.

    The kernel half-width at output pixel ``i`` is ``lambda_i vsini / c``; weights are the kernel
    integrated over each input pixel (exact for piecewise-constant flux), renormalised per row
    (only matters within ``dlam_L`` of the grid ends). Differentiable in ``flux``, ``vsini`` and
    ``epsilon``. Under ``jit`` with traced ``vsini`` pass ``half_width`` (pixels) for the largest
    vsini you will use; otherwise the window spans the whole spectrum.
    """
    if is_concrete(wavelength, flux):
        validate_arrays(wavelength, flux, what="rotational_broaden input")
    if is_concrete(vsini) and float(np.asarray(vsini)) < 0:
        raise ValueError(f"vsini must be >= 0 km/s, got {vsini}")
    if is_concrete(epsilon) and not 0.0 <= float(np.asarray(epsilon)) <= 1.0:
        raise ValueError(f"limb-darkening epsilon must be in [0, 1], got {epsilon}")
    wl = jnp.asarray(wavelength)
    f = jnp.asarray(flux)
    if is_concrete(wavelength, vsini) and half_width is None:
        # reach = dlam_L plus one pixel for the pixel-integration overlap
        wl_np = np.asarray(wavelength)
        k = half_width_pixels(wl_np, wl_np * float(vsini) / C_KMS) + 1
        k = min(k, f.shape[-1] - 1)
    elif half_width is not None:
        k = min(int(half_width), f.shape[-1] - 1)
    else:
        k = f.shape[-1] - 1
    return _rot_core(wl, f, jnp.asarray(vsini, f.dtype), jnp.asarray(epsilon, f.dtype), k)


@partial(jax.jit, static_argnums=(4,))
def _rot_core(wl, f, vsini, epsilon, k):
    def tiles(w):
        width = w * vsini / C_KMS
        return band_tiles(w, _rot_weights, k, block_size(k), (width, epsilon), normalize_rows=True)

    return _apply_1d_grid(wl, f, tiles, k)
