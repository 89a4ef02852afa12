"""Banded (windowed) linear operators along the pixel axis, as blocked dense matmuls.

A kernel that only couples pixels closer than ``K`` pixels is a band matrix of width ``2K + 1``.
We store it as ``n_blocks`` dense tiles: output block ``b`` (pixels ``b*B ... b*B + B - 1``) reads
input pixels ``b*B - K ... b*B + B - 1 + K`` (a window of ``W = B + 2K`` pixels). Applying it to a
batch of spectra is one gather plus one batched matmul (``einsum``), which is what CPUs and GPUs
do fastest; cost and memory are ``O(n_pixels * (B + 2K))`` per spectrum, never ``O(n_pixels**2)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float


def half_width_pixels(wavelength: Any, reach: Any) -> int:
    """Largest number of pixels on either side of any pixel that lie within ``reach`` [Å].

    ``wavelength``: concrete, sorted, shape ``(n,)`` or ``(..., n)`` (rows handled separately).
    ``reach``: scalar or per-pixel array broadcastable to ``wavelength``.
    """
    wl = np.asarray(wavelength, dtype=np.float64)
    reach = np.broadcast_to(np.asarray(reach, dtype=np.float64), wl.shape)
    rows = wl.reshape(-1, wl.shape[-1])
    reaches = reach.reshape(-1, wl.shape[-1])
    idx = np.arange(wl.shape[-1])
    k = 0
    for w, r in zip(rows, reaches, strict=True):
        hi = np.searchsorted(w, w + r, side="right") - 1 - idx
        lo = idx - np.searchsorted(w, w - r, side="left")
        k = max(k, int(hi.max()), int(lo.max()))
    return k


def block_size(half_width: int) -> int:
    """A tile height that keeps the wasted work small (``B ~ K``) and the matmuls reasonably big."""
    b = max(16, min(512, int(half_width)))
    return int(-(-b // 8) * 8)


def _layout(n: int, half_width: int, block: int) -> tuple[np.ndarray, np.ndarray]:
    n_blocks = -(-n // block)
    starts = np.arange(n_blocks) * block
    idx_in = starts[:, None] - half_width + np.arange(block + 2 * half_width)[None, :]
    idx_out = starts[:, None] + np.arange(block)[None, :]
    return idx_in, idx_out


def pixel_edges(wavelength: Float[Array, " n"]) -> tuple[Array, Array]:
    """Lower and upper pixel edges [Å]: midpoints between centres, half a pixel beyond the ends."""
    wl = jnp.asarray(wavelength)
    if wl.shape[-1] == 1:
        return wl - 0.5, wl + 0.5
    mid = 0.5 * (wl[1:] + wl[:-1])
    lo = jnp.concatenate([wl[:1] - (mid[:1] - wl[:1]), mid])
    hi = jnp.concatenate([mid, wl[-1:] + (wl[-1:] - mid[-1:])])
    return lo, hi


def band_tiles(
    wavelength: Float[Array, " n"],
    weight_fn: Callable[..., Array],
    half_width: int,
    block: int,
    out_params: tuple = (),
    *,
    normalize_rows: bool = False,
) -> Float[Array, "n_blocks block window"]:
    """Tiles of ``W_ij = weight_fn(lam_i, lam_j, lo_j, hi_j, *params_i)`` (zero off the grid).

    ``lam_i``/``params_i`` (output pixel) arrive with shape ``(n_blocks, block, 1)``, ``lam_j`` and
    the input pixel edges ``lo_j``/``hi_j`` with shape ``(n_blocks, 1, window)``. ``out_params``
    are scalars or ``(n,)`` arrays. With ``normalize_rows`` each output row sums to one.
    Traceable (``wavelength`` and parameters may be tracers; ``half_width``/``block`` are static).
    """
    wl = jnp.asarray(wavelength)
    n = wl.shape[-1]
    idx_in, idx_out = _layout(n, half_width, block)
    valid_in = (idx_in >= 0) & (idx_in < n)
    valid_out = idx_out < n
    ci = np.clip(idx_in, 0, n - 1)
    co = np.clip(idx_out, 0, n - 1)
    lo, hi = pixel_edges(wl)
    params = [jnp.broadcast_to(jnp.asarray(p, dtype=wl.dtype), (n,))[co][:, :, None]
              for p in out_params]
    w = weight_fn(wl[co][:, :, None], wl[ci][:, None, :], lo[ci][:, None, :], hi[ci][:, None, :],
                  *params)
    w = jnp.where(valid_in[:, None, :] & valid_out[:, :, None], w, 0.0)
    if normalize_rows:
        s = jnp.sum(w, axis=-1, keepdims=True)
        w = w / jnp.where(s > 0, s, 1.0)
    return w


def gaussian_band(
    wavelength: Float[Array, " n"],
    sigma: Float[Array, "..."] | float,
    truncate: Float[Array, "..."] | float,
    half_width: int,
    block: int,
) -> Float[Array, "n_blocks block window"]:
    """Tiles of ``w_ij = exp(-(lam_j - lam_i)**2 / (2 sigma_i**2))`` where ``|dlam| <= trunc_i``.

    ``sigma``/``truncate`` [Å]: scalars or per-output-pixel arrays of shape ``(n,)``.
    """

    def fn(lam_out, lam_in, lo, hi, sig, trn):
        d = lam_in - lam_out
        return jnp.where(jnp.abs(d) <= trn, jnp.exp(-0.5 * (d / sig) ** 2), 0.0)

    return band_tiles(wavelength, fn, half_width, block, (sigma, truncate))


def band_apply(
    values: Float[Array, "... n"], tiles: Float[Array, "n_blocks block window"], half_width: int
) -> Float[Array, "... n"]:
    """``out[..., i] = sum_j W_ij values[..., j]`` with ``W`` given as tiles (see module doc)."""
    v = jnp.asarray(values)
    n = v.shape[-1]
    n_blocks, block, window = tiles.shape
    idx_in, _ = _layout(n, half_width, block)
    assert idx_in.shape == (n_blocks, window)
    pad_right = n_blocks * block - n + half_width
    pad = [(0, 0)] * (v.ndim - 1) + [(half_width, pad_right)]
    vp = jnp.pad(v, pad)
    flat = vp.reshape(-1, vp.shape[-1])  # (M, n_padded)
    windows = jnp.transpose(flat[:, idx_in + half_width], (1, 0, 2))  # (n_blocks, M, window)
    # batched matmul over blocks: (n_blocks, M, window) x (n_blocks, block, window) -> (nb, M, B)
    out = jax.lax.dot_general(
        windows,
        tiles.astype(v.dtype),
        (((2,), (2,)), ((0,), (0,))),
        precision=jax.lax.Precision.HIGHEST,
    )
    out = jnp.transpose(out, (1, 0, 2))
    return out.reshape(*v.shape[:-1], n_blocks * block)[..., :n]
