"""Small differentiable interpolation helpers for tabulated opacities (clamped at the edges)."""

from __future__ import annotations

import jax.numpy as jnp


def _frac_index(x, grid):
    """Index i and weight w with x ~ grid[i] (1-w) + grid[i+1] w, clamped to the grid."""
    n = grid.shape[0]
    xc = jnp.clip(x, grid[0], grid[-1])
    i = jnp.clip(jnp.searchsorted(grid, xc, side="right") - 1, 0, n - 2)
    w = (xc - grid[i]) / (grid[i + 1] - grid[i])
    return i, w


def bilinear(x, y, xgrid, ygrid, table):
    """Bilinear interpolation of ``table[len(xgrid), len(ygrid)]`` at (x, y), clamped at the edges.

    ``x`` and ``y`` broadcast against each other; grids must be increasing.
    """
    i, wx = _frac_index(x, xgrid)
    j, wy = _frac_index(y, ygrid)
    return (
        table[i, j] * (1 - wx) * (1 - wy)
        + table[i + 1, j] * wx * (1 - wy)
        + table[i, j + 1] * (1 - wx) * wy
        + table[i + 1, j + 1] * wx * wy
    )


def uniform_frac_index(x, x0, dx, n):
    """Like ``_frac_index`` for a uniform grid x0 + k dx, k = 0..n-1 (no search)."""
    t = jnp.clip((x - x0) / dx, 0.0, n - 1.0)
    i = jnp.clip(jnp.floor(t).astype(jnp.int32), 0, n - 2)
    return i, t - i
