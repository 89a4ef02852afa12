"""Resampling spectra onto a new wavelength grid (interpax), with ivar and mask propagation.

Flux: interpolated with ``interpax.interp1d`` (``method="linear"`` by default; ``"cubic"``,
``"cubic2"``, ``"monotonic"`` ... also work for the flux).

Inverse variance: propagated as for linear interpolation between the two bracketing source
pixels ``a`` and ``b`` with weight ``t`` (``f = (1 - t) f_a + t f_b``), independent noise:
``var = (1 - t)**2 / ivar_a + t**2 / ivar_b``, ``ivar_new = 1 / var``. A zero-ivar (bad) source
pixel therefore makes every new pixel that leans on it bad (``ivar_new = 0``), unless the new
pixel sits exactly on the other neighbour (``t = 0`` or ``1``). This is the same rule for every
flux method (for cubic flux it is an approximation: it ignores the wider stencil). Note that it
does not model the correlations interpolation introduces between neighbouring new pixels.

Mask (True = good): a new pixel is good when both bracketing source pixels are good (mask True
and ivar > 0) and it lies inside the source grid. Outside the source grid: flux 0, ivar 0, mask
False (never NaN).
"""

from __future__ import annotations

from functools import partial

import interpax
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float

from ._validate import check_wavelength, is_concrete, validate_arrays


def _resample_one(wl, f, iv, good, new_wl, method):
    n = wl.shape[0]
    inside = (new_wl >= wl[0]) & (new_wl <= wl[-1])
    j = jnp.clip(jnp.searchsorted(wl, new_wl, side="right") - 1, 0, n - 2)
    a, b = j, j + 1
    t = jnp.clip((new_wl - wl[a]) / (wl[b] - wl[a]), 0.0, 1.0)
    fx = interpax.interp1d(new_wl, wl, f, method=method, extrap=True)
    ia, ib = iv[a], iv[b]
    ga, gb = good[a] & (ia > 0), good[b] & (ib > 0)
    need_a, need_b = t < 1.0, t > 0.0
    ok = inside & (ga | ~need_a) & (gb | ~need_b)
    var = jnp.where(need_a, (1 - t) ** 2 / jnp.where(ga, ia, 1.0), 0.0) + jnp.where(
        need_b, t**2 / jnp.where(gb, ib, 1.0), 0.0
    )
    ivar = jnp.where(ok, 1.0 / jnp.where(ok, var, 1.0), 0.0)
    flux = jnp.where(inside, fx, 0.0)
    return flux, ivar, ok


def resample(
    wavelength: Float[Array, "*batch n"] | Float[Array, " n"],
    flux: Float[Array, "*batch n"],
    ivar: Float[Array, "*batch n"],
    new_wavelength: Float[Array, " m"],
    *,
    mask: Bool[Array, "*batch n"] | None = None,
    method: str = "linear",
) -> tuple[Float[Array, "*batch m"], Float[Array, "*batch m"], Bool[Array, "*batch m"]]:
    """Resample ``(flux, ivar, mask)`` from ``wavelength`` onto ``new_wavelength`` [Å].

    ``wavelength`` is one grid ``(n,)`` or one per spectrum (shape of ``flux``), strictly
    increasing; ``new_wavelength`` is one grid ``(m,)``. Returns ``(flux, ivar, mask)`` on the new
    grid (see the module docstring for the propagation rules). jit/vmap/grad-able (in flux, ivar,
    and both grids).
    """
    if is_concrete(wavelength, flux, ivar, new_wavelength):
        validate_arrays(wavelength, flux, ivar, mask, what="resample input")
        check_wavelength(new_wavelength, what="new_wavelength")
        if jnp.ndim(new_wavelength) != 1:
            raise ValueError(f"new_wavelength must be 1-d, got shape {jnp.shape(new_wavelength)}")
    f = jnp.asarray(flux)
    iv = jnp.asarray(ivar, dtype=f.dtype)
    good = jnp.ones(f.shape, bool) if mask is None else jnp.asarray(mask, bool)
    return _resample_core(jnp.asarray(wavelength), f, iv, good, jnp.asarray(new_wavelength), method)


@partial(jax.jit, static_argnums=(5,))
def _resample_core(wl, f, iv, good, new_wl, method):
    n = f.shape[-1]
    batch = f.shape[:-1]
    ff, ivf, gf = (x.reshape(-1, n) for x in (f, iv, good))
    if wl.ndim == 1:
        out = jax.vmap(lambda a, b, c: _resample_one(wl, a, b, c, new_wl, method))(ff, ivf, gf)
    else:
        out = jax.vmap(lambda w, a, b, c: _resample_one(w, a, b, c, new_wl, method))(
            wl.reshape(-1, n), ff, ivf, gf
        )
    m = new_wl.shape[-1]
    return tuple(o.reshape(*batch, m) for o in out)
