"""Training of the disentangling autoencoders as pure state transitions.

``state = init_state(method, ...)`` then ``state, metrics = step(state, x, u)``; ``train`` drives
the loop over batches drawn deterministically from ``(state.key, state.step)``, so a run resumed
from a checkpoint (``eqx.tree_serialise_leaves`` of the whole state) continues exactly as an
uninterrupted run would.
"""

from __future__ import annotations

import json
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array

from ._models import Architecture, Auxiliary, ConditionalAutoencoder, Critic, discretize


class FaderDis(eqx.Module):
    """Adversarial auxiliary classifier of discretised u (Lample et al. 2017; paper eq 8)."""

    lam: float = 1e-5
    n_levels: int = 10


class FactorDis(eqx.Module):
    """WGAN-GP critic between (x, u, z) and samples with (u, z) shuffled (paper eqs 5-7)."""

    lam: float = 1e-4
    gp_weight: float = 10.0


class Conditioning(eqx.Module):
    """Which labels condition the autoencoder, and their standardisation.

    ``u = (labels[idx] - offset) / scale`` enters the networks; ``unit = (labels[idx] - lo) /
    (hi - lo)`` in [0, 1] is discretised for FaderDis.
    """

    indices: tuple[int, ...] = eqx.field(static=True)
    offset: Array
    scale: Array
    lo: Array
    hi: Array

    @classmethod
    def from_labels(cls, labels: Array, indices: tuple[int, ...]) -> Conditioning:
        sel = labels[:, list(indices)]
        return cls(indices, sel.mean(0), sel.std(0), sel.min(0), sel.max(0))

    def __call__(self, labels: Array) -> Array:
        return (labels[..., list(self.indices)] - self.offset) / self.scale

    def unit(self, labels: Array) -> Array:
        return (labels[..., list(self.indices)] - self.lo) / (self.hi - self.lo)


class TrainState(eqx.Module):
    ae: ConditionalAutoencoder
    adversary: Critic | Auxiliary
    opt_ae: optax.OptState
    opt_adv: optax.OptState
    step: Array
    key: Array


def make_optimizer(learning_rate: float = 1e-5) -> optax.GradientTransformation:
    """Adam with the paper's learning rate by default."""
    return optax.adam(learning_rate)


def init_state(
    method: FaderDis | FactorDis,
    n_bins: int,
    n_cond: int,
    arch: Architecture,
    key: Array,
    optimizer: optax.GradientTransformation,
) -> TrainState:
    k_ae, k_adv, k_run = jax.random.split(key, 3)
    if jnp.issubdtype(k_run.dtype, jax.dtypes.prng_key):
        k_run = jax.random.key_data(k_run)  # raw uint32 key: serialisable in checkpoints
    ae = ConditionalAutoencoder(n_bins, n_cond, arch, k_ae)
    if isinstance(method, FaderDis):
        adv = Auxiliary(n_cond, arch, k_adv, method.n_levels)
    else:
        adv = Critic(n_bins, n_cond, arch, k_adv)
    return TrainState(
        ae,
        adv,
        optimizer.init(eqx.filter(ae, eqx.is_array)),
        optimizer.init(eqx.filter(adv, eqx.is_array)),
        jnp.zeros((), jnp.int32),
        k_run,
    )


def _rec_loss(ae, x, u):
    z = jax.vmap(ae.encode)(x, u)
    xr = jax.vmap(ae.decode)(z, u)
    return jnp.mean(jnp.sum((xr - x) ** 2, -1)), z


def _fader_losses(method: FaderDis):
    def adv_loss(aux, ae, x, u, ubin):
        z = jax.lax.stop_gradient(jax.vmap(ae.encode)(x, u))
        logits = jax.vmap(aux)(z)
        return optax.softmax_cross_entropy_with_integer_labels(logits, ubin).mean()

    def ae_loss(ae, aux, x, u, ubin, key):
        rec, z = _rec_loss(ae, x, u)
        ce = optax.softmax_cross_entropy_with_integer_labels(jax.vmap(aux)(z), ubin).mean()
        return rec - method.lam * ce, (rec, ce)

    return adv_loss, ae_loss


def _factor_samples(ae, x, u, key):
    z = jax.vmap(ae.encode)(x, u)
    x_p = jax.vmap(ae.decode)(z, u)
    perm = jax.random.permutation(key, x.shape[0])
    u_q = u[perm]
    x_q = jax.vmap(ae.decode)(z, u_q)
    return (x_p, u, z), (x_q, u_q, z)


def _factor_losses(method: FactorDis):
    def adv_loss(critic, ae, x, u, ubin, key):
        k_perm, k_eps = jax.random.split(key)
        p, q = jax.lax.stop_gradient(_factor_samples(ae, x, u, k_perm))
        c_p = jax.vmap(critic)(*p)
        c_q = jax.vmap(critic)(*q)
        eps = jax.random.uniform(k_eps, (x.shape[0], 1))
        mix = [eps * a + (1 - eps) * b for a, b in zip(p, q, strict=True)]
        grads = jax.vmap(jax.grad(lambda xx, uu, zz: critic(xx, uu, zz), argnums=(0, 1, 2)))(*mix)
        norm = jnp.sqrt(sum(jnp.sum(g**2, -1) for g in grads) + 1e-12)
        gp = jnp.mean((norm - 1.0) ** 2)
        return jnp.mean(c_q) - jnp.mean(c_p) + method.gp_weight * gp

    def ae_loss(ae, critic, x, u, ubin, key):
        rec, _ = _rec_loss(ae, x, u)
        p, q = _factor_samples(ae, x, u, key)
        w = jnp.mean(jax.vmap(critic)(*p)) - jnp.mean(jax.vmap(critic)(*q))
        return rec + method.lam * w, (rec, w)

    return adv_loss, ae_loss


def make_step(method: FaderDis | FactorDis, optimizer: optax.GradientTransformation):
    """Jitted ``step(state, x, u, u_unit) -> (state, metrics)``: adversary, then AE update."""
    if isinstance(method, FaderDis):
        adv_loss_fn, ae_loss_fn = _fader_losses(method)
    else:
        adv_loss_fn, ae_loss_fn = _factor_losses(method)

    @eqx.filter_jit
    def step(state: TrainState, x: Array, u: Array, u_unit: Array):
        ubin = discretize(u_unit, getattr(method, "n_levels", 10))
        k_adv, k_ae = jax.random.split(jax.random.fold_in(state.key, state.step))
        if isinstance(method, FaderDis):
            adv_l, g_adv = eqx.filter_value_and_grad(adv_loss_fn)(
                state.adversary, state.ae, x, u, ubin
            )
        else:
            adv_l, g_adv = eqx.filter_value_and_grad(adv_loss_fn)(
                state.adversary, state.ae, x, u, ubin, k_adv
            )
        adv_params = eqx.filter(state.adversary, eqx.is_array)
        upd, opt_adv = optimizer.update(g_adv, state.opt_adv, adv_params)
        adversary = eqx.apply_updates(state.adversary, upd)
        (ae_l, (rec, dis)), g_ae = eqx.filter_value_and_grad(ae_loss_fn, has_aux=True)(
            state.ae, adversary, x, u, ubin, k_ae
        )
        upd, opt_ae = optimizer.update(g_ae, state.opt_ae, eqx.filter(state.ae, eqx.is_array))
        ae = eqx.apply_updates(state.ae, upd)
        new = TrainState(ae, adversary, opt_ae, opt_adv, state.step + 1, state.key)
        return new, {"loss_ae": ae_l, "loss_rec": rec, "loss_dis": dis, "loss_adv": adv_l}

    return step


def _batch(state: TrainState, n: int, batch_size: int) -> Array:
    k = jax.random.fold_in(jax.random.fold_in(state.key, 7919), state.step)
    return jax.random.choice(k, n, (batch_size,), replace=False)


def save_checkpoint(path: str | Path, state: TrainState, meta: dict | None = None) -> None:
    """Write ``state`` (all arrays, bit-exact) and a JSON sidecar; atomic via rename."""
    path = Path(path)
    tmp = path.with_suffix(".tmp")
    eqx.tree_serialise_leaves(tmp, state)
    tmp.replace(path)
    path.with_suffix(".json").write_text(json.dumps({"step": int(state.step), **(meta or {})}))


def load_checkpoint(path: str | Path, like: TrainState) -> TrainState:
    """Read a checkpoint written by :func:`save_checkpoint` into the structure of ``like``."""
    return eqx.tree_deserialise_leaves(path, like)


def train(
    state: TrainState,
    step_fn,
    flux: Array,
    u: Array,
    u_unit: Array,
    n_steps: int,
    *,
    batch_size: int = 64,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 1000,
    progress: bool = True,
    log_every: int = 100,
) -> tuple[TrainState, list[dict]]:
    """Run ``step_fn`` until ``state.step == n_steps``; resume from ``checkpoint`` if it exists.

    Batches are drawn without replacement from ``(state.key, state.step)``, so the sequence of
    updates does not depend on where a run was interrupted.
    """
    from tqdm.auto import tqdm

    if flux.shape[0] != u.shape[0] or flux.shape[0] < batch_size:
        raise ValueError(
            f"need matching flux/u rows and at least batch_size={batch_size} stars, got "
            f"{flux.shape[0]} and {u.shape[0]}"
        )
    if checkpoint is not None and Path(checkpoint).exists():
        state = load_checkpoint(checkpoint, state)
    history: list[dict] = []
    start = int(state.step)
    bar = tqdm(total=n_steps, initial=start, disable=not progress, desc="train")
    for s in range(start, n_steps):
        idx = _batch(state, flux.shape[0], batch_size)
        state, metrics = step_fn(state, flux[idx], u[idx], u_unit[idx])
        bar.update(1)
        if (s + 1) % log_every == 0 or s + 1 == n_steps:
            m = {k: float(v) for k, v in metrics.items()}
            history.append({"step": s + 1, **m})
            bar.set_postfix(rec=f"{m['loss_rec']:.3g}")
        if checkpoint is not None and ((s + 1) % checkpoint_every == 0 or s + 1 == n_steps):
            save_checkpoint(checkpoint, state)
    bar.close()
    if not all(np.isfinite(h["loss_ae"]) for h in history):
        raise FloatingPointError("training diverged (non-finite loss); lower the learning rate")
    return state, history
