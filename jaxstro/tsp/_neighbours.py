"""k nearest neighbours by Euclidean distance over the unmasked pixels (ch3 eq 3.1), batched.

The reference set is scanned in blocks (``lax.scan``); each block gives a (targets x block) squared
distance matrix from one matrix product, merged into a running top-k with ``lax.top_k``. There is no
Python loop over targets or reference spectra.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int


@partial(jax.jit, static_argnames=("k", "block_size"))
def knn(
    target_flux: Float[Array, "n_t n_pix"],
    reference_flux: Float[Array, "n_ref n_pix"],
    k: int,
    *,
    use: Bool[Array, " n_pix"] | Bool[Array, "n_t n_pix"] | None = None,
    target_ids: Int[Array, " n_t"] | None = None,
    reference_ids: Int[Array, " n_ref"] | None = None,
    reference_valid: Bool[Array, " n_ref"] | None = None,
    block_size: int = 4096,
) -> tuple[Float[Array, "n_t k"], Int[Array, "n_t k"]]:
    """The ``k`` nearest reference spectra of each target.

    Args:
        target_flux: (n_t, n_pix) normalised target fluxes (no NaN; bad pixels already set to 1).
        reference_flux: (n_ref, n_pix) normalised reference fluxes.
        k: number of neighbours (static).
        use: pixels entering the distance, shared (n_pix,) or per target (n_t, n_pix); all if None.
        target_ids, reference_ids: integer identifiers; a reference spectrum whose id equals the
            target's id is excluded (the target itself when it is in the reference set).
        reference_valid: reference spectra allowed as neighbours (e.g. complete in the mask).
        block_size: reference spectra per distance block (memory ~ n_t * block_size).

    Returns:
        ``(d2, idx)``: squared distances (ascending) and reference indices, each (n_t, k).
        Slots that could not be filled (fewer than k admissible references) have
        ``d2 = inf`` and ``idx = -1``.
    """
    t = jnp.asarray(target_flux)
    r = jnp.asarray(reference_flux)
    n_t, n_pix = t.shape
    n_ref = r.shape[0]
    if r.shape[1] != n_pix:
        raise ValueError(f"targets have {n_pix} pixels but the reference set has {r.shape[1]}")
    # centring on the reference mean leaves distances unchanged and keeps the expanded form
    # |t|^2 - 2 t.r + |r|^2 accurate (matters in float32)
    center = jnp.mean(r, axis=0)
    t = t - center
    r = r - center
    if use is None:
        use = jnp.ones((n_pix,), dtype=bool)
    use = jnp.asarray(use)
    per_target = use.ndim == 2
    u = use.astype(t.dtype)
    if not per_target:
        t = t * u
        r = r * u
    valid = jnp.ones((n_ref,), bool) if reference_valid is None else jnp.asarray(reference_valid)
    rid = jnp.full((n_ref,), -1, jnp.int64) if reference_ids is None else jnp.asarray(reference_ids)
    tid = jnp.full((n_t,), -2, jnp.int64) if target_ids is None else jnp.asarray(target_ids)

    block = int(min(block_size, n_ref))
    n_blocks = -(-n_ref // block)
    pad = n_blocks * block - n_ref
    r_b = jnp.pad(r, ((0, pad), (0, 0))).reshape(n_blocks, block, n_pix)
    v_b = jnp.pad(valid, (0, pad)).reshape(n_blocks, block)
    id_b = jnp.pad(rid, (0, pad), constant_values=-1).reshape(n_blocks, block)
    ix_b = jnp.arange(n_blocks * block).reshape(n_blocks, block)
    tt = jnp.sum(u * t * t, axis=1) if per_target else jnp.sum(t * t, axis=1)
    ut = u * t if per_target else t
    kk = int(k)

    def step(carry, blk):
        best_d, best_i = carry
        rb, vb, idb, ixb = blk
        if per_target:
            d2 = tt[:, None] - 2.0 * ut @ rb.T + u @ (rb * rb).T
        else:
            d2 = tt[:, None] - 2.0 * t @ rb.T + jnp.sum(rb * rb, axis=1)[None, :]
        d2 = jnp.maximum(d2, 0.0)
        ok = vb[None, :] & (idb[None, :] != tid[:, None])
        d2 = jnp.where(ok, d2, jnp.inf)
        cat_d = jnp.concatenate([best_d, d2], axis=1)
        cat_i = jnp.concatenate([best_i, jnp.broadcast_to(ixb, d2.shape)], axis=1)
        neg, pos = jax.lax.top_k(-cat_d, kk)
        return (-neg, jnp.take_along_axis(cat_i, pos, axis=1)), None

    init = (jnp.full((n_t, kk), jnp.inf, t.dtype), jnp.full((n_t, kk), -1, ix_b.dtype))
    (best_d, best_i), _ = jax.lax.scan(step, init, (r_b, v_b, id_b, ix_b))
    best_i = jnp.where(jnp.isfinite(best_d), best_i, -1)
    return best_d, best_i
