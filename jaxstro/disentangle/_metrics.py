"""Evaluation of disentangled representations (paper 004 §5).

Latents of all test stars are compared pairwise in blocks (no N x N matrix in memory): for each
star the number of *doppelgangers* is how many other stars (its twin excluded) lie closer in
latent space than its twin; twin recovery is the fraction with none.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int


def doppelganger_counts(
    z: Float[Array, "n n_z"], twin: Int[Array, " n"], *, block: int = 1024
) -> np.ndarray:
    """For each star i, #{k != i, twin(i) : |z_k - z_i| < |z_twin(i) - z_i|}."""
    z = jnp.asarray(z)
    twin = jnp.asarray(twin)
    n = z.shape[0]
    sq = jnp.sum(z**2, -1)

    @jax.jit
    def count(rows: Array) -> Array:
        zi = z[rows]
        d = sq[rows][:, None] + sq[None, :] - 2.0 * zi @ z.T  # squared distances
        d_twin = jnp.sum((zi - z[twin[rows]]) ** 2, -1)
        closer = d < d_twin[:, None]
        closer = closer.at[jnp.arange(rows.size), rows].set(False)
        closer = closer.at[jnp.arange(rows.size), twin[rows]].set(False)
        return closer.sum(-1)

    out = []
    for start in range(0, n, block):
        rows = jnp.arange(start, min(start + block, n))
        pad = block - rows.size
        rows_p = jnp.concatenate([rows, jnp.full((pad,), rows[-1])]) if pad else rows
        out.append(np.asarray(count(rows_p))[: rows.size])
    return np.concatenate(out)


def twin_recovery(counts: np.ndarray) -> float:
    """Fraction of stars whose twin is their nearest neighbour in latent space."""
    return float(np.mean(np.asarray(counts) == 0))


def doppelganger_curve(counts: np.ndarray, x: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """Fraction of stars with fewer than ``x`` doppelgangers (paper Fig 3), x = 1..max."""
    counts = np.asarray(counts)
    if x is None:
        x = np.unique(np.concatenate([[1], np.geomspace(1, max(counts.max(), 1) + 1, 50)]).round())
    return x, np.array([(counts < xi).mean() for xi in x])


def pair_distances(
    z: Float[Array, "n n_z"], twin: Int[Array, " n"], key: jax.Array
) -> tuple[np.ndarray, np.ndarray]:
    """Latent distances of twin pairs and of as many random pairs, scaled so twins average 1."""
    z = np.asarray(z)
    twin = np.asarray(twin)
    i = np.arange(0, z.shape[0], 2)
    d_twin = np.linalg.norm(z[i] - z[twin[i]], axis=-1)
    j = np.asarray(jax.random.randint(key, (i.size,), 0, z.shape[0]))
    keep = (j != i) & (j != twin[i])
    d_rand = np.linalg.norm(z[i[keep]] - z[j[keep]], axis=-1)
    s = d_twin.mean() if d_twin.mean() > 0 else 1.0
    return d_twin / s, d_rand / s


def recast_residuals(recast: Array, target: Array) -> dict[str, float]:
    """Residuals of twins recast to each other's parameters (paper Table 3 / Fig 6).

    ``R``: mean absolute residual (per pair over pixels, then averaged); ``sigma_R``: standard
    deviation of the residuals per pixel across pairs, averaged over pixels; ``MSE``.
    """
    r = np.asarray(recast) - np.asarray(target)
    return {
        "R": float(np.mean(np.abs(r))),
        "sigma_R": float(np.mean(np.std(r, axis=0))),
        "MSE": float(np.mean(r**2)),
    }


def linear_abundance_map(z: Float[Array, "n n_z"], v: Float[Array, "n n_ab"]) -> Array:
    """A = V Z^+ (paper §5.3), written for row-major data: ``v ~ [z, 1] @ A``; lstsq, no inverse."""
    zz = jnp.concatenate([z, jnp.ones((z.shape[0], 1), z.dtype)], -1)
    a, *_ = jnp.linalg.lstsq(zz, v)
    return a


def apply_abundance_map(a: Array, z: Array) -> Array:
    return jnp.concatenate([z, jnp.ones((z.shape[0], 1), z.dtype)], -1) @ a
