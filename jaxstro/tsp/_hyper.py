"""Hyper-parameter selection for k and q by predicting random 100-pixel regions (ch3 §3.3.3).

Each test spectrum gets its own randomly placed contiguous region (``region`` pixels), which is
masked: neighbours are found on the other pixels (per-target pixel masks in :func:`knn`), and the
region is predicted by local PCA (for every (k, q) on a grid), by a global PCA of the whole
reference set, and by the mean of the k nearest neighbours. All targets are processed at once.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._basis import GramEigh, PCAMethod, global_basis, local_basis
from ._impute import impute
from ._neighbours import knn
from ._tsp import sanitize


def random_regions(key: Array, n: int, n_pix: int, region: int = 100) -> Array:
    """(n, region) pixel indices of one random contiguous region per spectrum."""
    if not 0 < region < n_pix:
        raise ValueError(f"region ({region}) must be between 1 and n_pix - 1 ({n_pix - 1})")
    start = jax.random.randint(key, (n,), 0, n_pix - region + 1)
    return start[:, None] + jnp.arange(region)[None, :]


def _chi2(flux, ivar, pred, idx, truth):
    f = jnp.take_along_axis(flux, idx, axis=1)
    iv = jnp.take_along_axis(ivar, idx, axis=1)
    chi2 = jnp.sum(iv * (f - pred) ** 2, axis=1) / jnp.maximum(jnp.sum(iv > 0, axis=1), 1)
    if truth is None:
        return chi2, None
    t = jnp.take_along_axis(truth, idx, axis=1)
    return chi2, jnp.sqrt(jnp.mean((t - pred) ** 2, axis=1))


@jax.jit
def _global_pred(f, w, mean, basis, idx):
    return jax.vmap(lambda fi, wi, ri: impute(fi, wi, mean, basis, ri)[0])(f, w, idx)


def region_prediction_chi2(
    key: Array,
    flux: Float[Array, "n n_pix"],
    ivar: Float[Array, "n n_pix"],
    reference_flux: Float[Array, "n_ref n_pix"],
    ks: tuple[int, ...],
    qs: tuple[int, ...],
    *,
    region: int = 100,
    target_ids: Array | None = None,
    reference_ids: Array | None = None,
    true_flux: Float[Array, "n n_pix"] | None = None,
    pca: PCAMethod = GramEigh(),
    block_size: int = 4096,
    batch_size: int = 8,
) -> dict[str, np.ndarray]:
    """Predictive chi^2 per pixel of random regions for local PCA on a (k, q) grid and baselines.

    Args:
        key: PRNG key for the region positions. flux, ivar: (n, n_pix) test spectra (normalised).
        reference_flux: (n_ref, n_pix). ks, qs: grids of neighbourhood sizes and dimensions
            (pairs with q >= k are skipped, NaN). region: contiguous pixels predicted per spectrum.
        target_ids, reference_ids: exclude a test spectrum from its own neighbours.
        true_flux: noiseless fluxes (mock data only) for an additional rms error against truth.

    Returns:
        dict with ``chi2`` (len(ks), len(qs)) mean chi^2/pixel of local PCA; ``chi2_global``
        (len(qs),) for global PCA of the reference set; ``chi2_mean`` (len(ks),) for the
        neighbour-mean prediction; and ``rms*`` counterparts against ``true_flux`` if given.
    """
    f, iv, _ = sanitize(jnp.asarray(flux), jnp.asarray(ivar))
    ref = jnp.asarray(reference_flux)
    n, n_pix = f.shape
    if max(ks) > ref.shape[0]:
        raise ValueError(f"max(ks)={max(ks)} exceeds the reference set size {ref.shape[0]}")
    idx = random_regions(key, n, n_pix, region)
    use = jnp.ones((n, n_pix), bool).at[jnp.arange(n)[:, None], idx].set(False)
    truth = None if true_flux is None else jnp.asarray(true_flux)
    _, nb = knn(
        f,
        ref,
        max(ks),
        use=use,
        target_ids=target_ids,
        reference_ids=reference_ids,
        block_size=block_size,
    )
    nb = jnp.where(nb >= 0, nb, nb[:, :1])
    w = iv * use
    out = {
        "ks": np.asarray(ks),
        "qs": np.asarray(qs),
        "chi2": np.full((len(ks), len(qs)), np.nan),
        "chi2_global": np.full(len(qs), np.nan),
        "chi2_mean": np.full(len(ks), np.nan),
    }
    if truth is not None:
        for name in ("rms", "rms_global", "rms_mean"):
            out[name] = np.full_like(out[name.replace("rms", "chi2")], np.nan)

    def _local(k, q, f, w, nb, idx, ref):
        # arrays are arguments, not closures: closed-over arrays become XLA constants and get
        # constant-folded at compile time (minutes)
        def one(args):
            fi, wi, ix, ri = args
            mean, basis, _ = local_basis(ref[ix[:k]], q, pca)
            return impute(fi, wi, mean, basis, ri)[0]

        return jax.lax.map(one, (f, w, nb, idx), batch_size=min(batch_size, n))

    local = jax.jit(_local, static_argnums=(0, 1))

    for a, k in enumerate(ks):
        pred_mean = jnp.take_along_axis(jnp.mean(ref[nb[:, :k]], axis=1), idx, axis=1)
        c, r = _chi2(f, iv, pred_mean, idx, truth)
        out["chi2_mean"][a] = float(jnp.mean(c))
        if truth is not None:
            out["rms_mean"][a] = float(jnp.mean(r))
        for b, q in enumerate(qs):
            if q >= k:
                continue
            c, r = _chi2(f, iv, local(k, q, f, w, nb, idx, ref), idx, truth)
            out["chi2"][a, b] = float(jnp.mean(c))
            if truth is not None:
                out["rms"][a, b] = float(jnp.mean(r))
    for b, q in enumerate(qs):
        mean, basis, _ = global_basis(ref, q)
        pred = _global_pred(f, w, mean, basis, idx)
        c, r = _chi2(f, iv, pred, idx, truth)
        out["chi2_global"][b] = float(jnp.mean(c))
        if truth is not None:
            out["rms_global"][b] = float(jnp.mean(r))
    return out
