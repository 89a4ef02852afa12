"""Radial-tangential macroturbulence (Gray 2005, *The Observation and Analysis of Stellar
Photospheres*, 3rd ed., sect. 17.5).

Half of the surface moves with a Gaussian velocity distribution of characteristic speed
``zeta`` along the radius, half along the tangent plane. At disc position ``mu = cos theta`` the
radial part projects to a Gaussian of width ``zeta mu`` and the tangential part to one of width
``zeta sin theta``. Integrated over the disc with the flux weight ``2 mu dmu`` (no limb darkening,
as in Gray's eq. 17.13 flux profile) both halves give the same profile, so the flux kernel in
``u = |dlam| / dlam_M``, ``dlam_M = lambda zeta / c``, is

    M(u) = 2 / (sqrt(pi) dlam_M) * [exp(-u^2) - sqrt(pi) u erfc(u)]

(``int_0^1 exp(-u^2/mu^2) dmu`` by parts), which integrates to one. Its cumulative distribution
is closed-form,

    int_{-inf}^{x} M = 1/2 + sign(x) H(|x|),
    H(u) = erf(u) - (u^2 - 1/2) erfc(u) + u exp(-u^2) / sqrt(pi) - 1/2,

so the kernel is integrated exactly over each input pixel (as the rotation kernel is in
``_broaden``): accurate when ``dlam_M`` spans only a few pixels, rows summing to one. The cusp at
``u = 0`` makes point sampling of ``M`` poor on coarse grids; the pixel integral avoids that.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import erf, erfc
from jaxtyping import Array, Float

from ._banded import band_tiles, block_size, half_width_pixels
from ._broaden import C_KMS, _apply_1d_grid
from ._validate import is_concrete, validate_arrays

#: kernel reach in units of dlam_M (the kernel beyond u = 4 holds < 1e-8 of the area)
MACRO_REACH = 4.0


def macroturbulence_kernel(x: Array) -> Array:
    """Radial-tangential flux profile per unit ``x = dlam / dlam_M`` (integrates to one)."""
    u = jnp.abs(x)
    return 2.0 / jnp.sqrt(jnp.pi) * (jnp.exp(-(u**2)) - jnp.sqrt(jnp.pi) * u * erfc(u))


def macroturbulence_kernel_cdf(x: Array) -> Array:
    """``int_{-inf}^{x} M(t) dt`` of :func:`macroturbulence_kernel` (closed form, see module)."""
    u = jnp.abs(x)
    h = erf(u) - (u**2 - 0.5) * erfc(u) + u * jnp.exp(-(u**2)) / jnp.sqrt(jnp.pi) - 0.5
    return 0.5 + jnp.sign(x) * h


def _macro_weights(lam_out, lam_in, lo, hi, width):
    w = jnp.where(width > 0, width, 1.0)
    c_hi = macroturbulence_kernel_cdf((hi - lam_out) / w)
    c_lo = macroturbulence_kernel_cdf((lo - lam_out) / w)
    ident = ((lo <= lam_out) & (lam_out < hi)).astype(lam_out.dtype)
    return jnp.where(width > 0, c_hi - c_lo, ident)


def macroturbulent_broaden(
    wavelength: Float[Array, "*batch n"] | Float[Array, " n"],
    flux: Float[Array, "*batch n"],
    zeta: float | Float[Array, ""],
    *,
    half_width: int | None = None,
) -> Float[Array, "*batch n"]:
    """Radial-tangential macroturbulent broadening with ``zeta`` [km/s] (``zeta = 0``: identity).

    Weights are the kernel integrated over each input pixel, renormalised per row (only matters
    within ``4 dlam_M`` of the grid ends). Differentiable in ``flux`` and ``zeta``. Under ``jit``
    with traced ``zeta`` pass ``half_width`` (pixels) covering ``4 lambda zeta_max / c``.
    """
    if is_concrete(wavelength, flux):
        validate_arrays(wavelength, flux, what="macroturbulent_broaden input")
    if is_concrete(zeta) and float(np.asarray(zeta)) < 0:
        raise ValueError(f"macroturbulence zeta must be >= 0 km/s, got {zeta}")
    f = jnp.asarray(flux)
    if half_width is not None:
        k = min(int(half_width), f.shape[-1] - 1)
    elif is_concrete(wavelength, zeta):
        wl_np = np.asarray(wavelength)
        k = half_width_pixels(wl_np, MACRO_REACH * wl_np * float(zeta) / C_KMS) + 1
        k = min(k, f.shape[-1] - 1)
    else:
        k = f.shape[-1] - 1
    return _macro_core(jnp.asarray(wavelength), f, jnp.asarray(zeta, f.dtype), k)


def macro_half_width(wavelength, zeta_max: float) -> int:
    """Static ``half_width`` [pixels] for :func:`macroturbulent_broaden` up to ``zeta_max``."""
    wl = np.asarray(wavelength, float)
    return half_width_pixels(wl, MACRO_REACH * wl * float(zeta_max) / C_KMS) + 1


@partial(jax.jit, static_argnums=(3,))
def _macro_core(wl, f, zeta, k):
    def tiles(w):
        width = w * zeta / C_KMS
        return band_tiles(w, _macro_weights, k, block_size(k), (width,), normalize_rows=True)

    return _apply_1d_grid(wl, f, tiles, k)
