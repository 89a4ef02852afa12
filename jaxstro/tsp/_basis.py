"""Local (and global) PCA bases: the approximate tangent space of the manifold (ch3 §3.3.1).

For one target, ``F`` is the (k, n_pix) matrix of its neighbours minus their mean. The first q
principal components are the leading eigenvectors of the small k x k Gram matrix ``F F^T``
(``eigh``), mapped back to pixel space and normalised: ``E = U^T F / sqrt(lambda)``
(orthonormal rows).
``RandomizedPCA`` gets the same span by a few power iterations with only matrix products, which is
cheaper when q << k and friendlier to accelerators.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float


class GramEigh(eqx.Module):
    """Exact top-q PCA from ``eigh`` of the k x k neighbour Gram matrix."""


class RandomizedPCA(eqx.Module):
    """Top-q PCA by randomized subspace iteration (Halko, Martinsson & Tropp 2011, alg. 4.4).

    Attributes: oversample: extra columns; n_iter: power iterations; seed: fixed sketch seed (the
    result is deterministic); sketch_dtype: dtype of the sketch and power iterations (None = the
    input dtype). The final Rayleigh-Ritz step (``B = Q^T F``, eigh of ``B B^T``, the eigenspectra)
    always runs in the input dtype, so the returned basis is orthonormal to float64 rounding and is
    the exact PCA of the neighbours restricted to the sketched subspace; float32 only perturbs
    which subspace is found, at the ~1e-6 level, far below the power-iteration error.
    """

    oversample: int = eqx.field(static=True, default=10)
    n_iter: int = eqx.field(static=True, default=2)
    seed: int = eqx.field(static=True, default=0)
    sketch_dtype: str | None = eqx.field(static=True, default=None)


PCAMethod = GramEigh | RandomizedPCA


def _normalise(evals: Array, vecs_t: Array, F: Array) -> tuple[Array, Array]:
    # E = U^T F / sqrt(lambda); a floor keeps rank-deficient neighbourhoods finite (such rows are
    # ~0 and the weighted least squares then flags or ignores them)
    lam0 = jnp.maximum(evals[0], jnp.finfo(F.dtype).tiny)
    lam = jnp.maximum(evals, lam0 * jnp.finfo(F.dtype).eps)
    E = (vecs_t @ F) / jnp.sqrt(lam)[:, None]
    return E, evals


def local_basis(
    neighbours: Float[Array, "k n_pix"], q: int, method: PCAMethod = GramEigh()
) -> tuple[Float[Array, " n_pix"], Float[Array, "q n_pix"], Float[Array, " q"]]:
    """Mean spectrum, q orthonormal eigenspectra and their eigenvalues (variance x k) of a set.

    Args:
        neighbours: (k, n_pix) full (uncensored) neighbour spectra.
        q: subspace dimension (static), q < k.
        method: :class:`GramEigh` (exact) or :class:`RandomizedPCA`.
    """
    mean = jnp.mean(neighbours, axis=0)
    F = neighbours - mean
    if isinstance(method, RandomizedPCA):
        k = F.shape[0]
        p = min(q + method.oversample, k)
        sdt = F.dtype if method.sketch_dtype is None else jnp.dtype(method.sketch_dtype)
        Fs = F.astype(sdt)
        omega = jax.random.normal(jax.random.key(method.seed), (F.shape[1], p), sdt)
        Y = Fs @ omega  # (k, p) sketch of the column space of F (= eigvecs of F F^T)
        Q, _ = jnp.linalg.qr(Y)
        for _ in range(method.n_iter):
            Q, _ = jnp.linalg.qr(Fs @ (Q.T @ Fs).T)
        Q = Q.astype(F.dtype)
        if sdt != F.dtype:  # re-orthonormalise in the input dtype
            Q, _ = jnp.linalg.qr(Q)
        B = Q.T @ F  # (p, n_pix)
        evals_b, w = jnp.linalg.eigh(B @ B.T)
        order = jnp.argsort(evals_b)[::-1][:q]
        U = Q @ w[:, order]  # (k, q)
        return (mean, *_normalise(evals_b[order], U.T, F))
    G = F @ F.T
    evals, vecs = jnp.linalg.eigh(G)
    evals = evals[::-1][:q]
    vecs = vecs[:, ::-1][:, :q]
    return (mean, *_normalise(evals, vecs.T, F))


def global_basis(
    reference_flux: Float[Array, "n_ref n_pix"], q: int
) -> tuple[Float[Array, " n_pix"], Float[Array, "q n_pix"], Float[Array, " q"]]:
    """Global-PCA baseline: mean and top-q eigenspectra of the whole reference set (thin SVD)."""
    mean = jnp.mean(reference_flux, axis=0)
    _, s, vt = jnp.linalg.svd(reference_flux - mean, full_matrices=False)
    return mean, vt[:q], s[:q] ** 2
