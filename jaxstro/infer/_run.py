"""Runners: multi-start MAP (optax on the unconstrained potential) and NUTS; arviz output."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import NamedSharding, PartitionSpec
from numpyro.infer import MCMC, NUTS, init_to_value
from numpyro.infer.util import constrain_fn, initialize_model, potential_energy


class MAPResult(eqx.Module):
    """Maximum a posteriori parameters (constrained space), its log density, and all starts."""

    params: dict
    log_density: jax.Array
    start_log_densities: jax.Array


def _z_template(model, args, kwargs, key):
    """Unconstrained-space parameter tree of ``model`` (structure and shapes only)."""
    return initialize_model(key, model, model_args=args, model_kwargs=kwargs)[0].z


def _map_core(model, args, kwargs, z_template, key, n_starts, n_steps, learning_rate):
    """Pure multi-start MAP (vmap/jit-able over ``args``): starts uniform in (-2, 2) in the
    unconstrained space (numpyro's ``init_to_uniform``), Adam on the potential energy.
    Returns the best unconstrained point, the potentials of all starts and the best index."""
    leaves, treedef = jax.tree.flatten(z_template)
    keys = jax.random.split(key, len(leaves))
    init = jax.tree.unflatten(treedef, [
        jax.random.uniform(k, (n_starts, *jnp.shape(x)), minval=-2.0, maxval=2.0)
        for k, x in zip(keys, leaves, strict=True)])

    def potential(z):
        return potential_energy(model, args, kwargs, z)

    opt = optax.adam(learning_rate)

    def run(z0):
        def step(carry, _):
            z, s = carry
            g = jax.grad(potential)(z)
            upd, s = opt.update(g, s, z)
            return (optax.apply_updates(z, upd), s), None

        (z, _), _ = jax.lax.scan(step, (z0, opt.init(z0)), None, length=n_steps)
        return z, potential(z)

    zs, pots = jax.vmap(run)(init)
    pots = jnp.where(jnp.isfinite(pots), pots, jnp.inf)
    best = jnp.argmin(pots)
    z_best = jax.tree.map(lambda a: a[best], zs)
    return constrain_fn(model, args, kwargs, z_best), -pots[best], -pots


def find_map(
    model: Callable,
    *args,
    key: jax.Array,
    n_starts: int = 8,
    n_steps: int = 2000,
    learning_rate: float = 0.02,
    **kwargs,
) -> MAPResult:
    """Multi-start MAP: ``n_starts`` initial points uniform in (-2, 2) in numpyro's
    unconstrained space, each optimised with Adam on the potential energy (vmapped over starts);
    the best is returned. Use it to initialise NUTS.
    """
    k0, k1 = jax.random.split(key)
    zt = _z_template(model, args, kwargs, k0)
    fn = jax.jit(lambda k: _map_core(model, args, kwargs, zt, k, n_starts, n_steps,
                                     learning_rate))
    params, logp, starts = fn(k1)
    return MAPResult(params, logp, starts)


def _star_sharding():
    devs = jax.devices()
    mesh = jax.make_mesh((len(devs),), ("stars",), devices=devs,
                         axis_types=(jax.sharding.AxisType.Auto,))
    return NamedSharding(mesh, PartitionSpec("stars")), len(devs)


def find_map_batch(
    model: Callable,
    *args,
    key: jax.Array,
    batch_argnums: tuple[int, ...] = (1, 2),
    n_starts: int = 4,
    n_steps: int = 1000,
    learning_rate: float = 0.02,
    shard: bool = True,
    **kwargs,
) -> MAPResult:
    """MAP of many stars at once: the positional ``args`` at ``batch_argnums`` (by default flux
    and ivar of ``spectrum_model`` / ``cannon_label_model``) carry a leading star axis; one
    compiled function vmaps :func:`find_map`'s multi-start optimisation over stars and, with
    ``shard``, splits the stars over all visible devices (``jax.sharding``; the batch is padded to
    a multiple of the device count). Returns a :class:`MAPResult` whose leaves have a leading
    star axis.
    """
    from ._models import _check_data

    args = tuple(jnp.asarray(a) if i in batch_argnums else a for i, a in enumerate(args))
    batched = [args[i] for i in batch_argnums]
    n = batched[0].shape[0]
    if any(b.shape[0] != n for b in batched):
        raise ValueError(f"batched arguments differ in star count: {[b.shape for b in batched]}")
    if n == 0:
        raise ValueError("no stars given")
    if set(batch_argnums) == {1, 2}:
        _check_data(args[1], args[2], what="find_map_batch", batched=True,
                    n_pixels=getattr(args[0], "n_pixels", None))
    n_dev = _star_sharding()[1] if shard else 1
    n_pad = -(-n // n_dev) * n_dev
    batched = [jnp.concatenate([b, jnp.repeat(b[-1:], n_pad - n, axis=0)]) if n_pad > n else b
               for b in batched]
    if shard and n_dev > 1:
        sharding = _star_sharding()[0]
        batched = [jax.device_put(b, sharding) for b in batched]
    k0, k1 = jax.random.split(key)
    one = tuple(args[i][0] if i in batch_argnums else a for i, a in enumerate(args))
    zt = _z_template(model, one, kwargs, k0)

    rest = [None if i in batch_argnums else a for i, a in enumerate(args)]

    def per_star(bargs, k):
        full = list(rest)
        for i, b in zip(batch_argnums, bargs, strict=True):
            full[i] = b
        return _map_core(model, tuple(full), kwargs, zt, k, n_starts, n_steps, learning_rate)

    keys = jax.random.split(k1, n_pad)
    params, logp, starts = jax.jit(jax.vmap(per_star))(tuple(batched), keys)
    params, logp, starts = jax.tree.map(lambda a: a[:n], (params, logp, starts))
    return MAPResult(params, logp, starts)


def run_nuts(
    model: Callable,
    *args,
    key: jax.Array,
    num_warmup: int = 500,
    num_samples: int = 500,
    num_chains: int = 4,
    init_params: dict | None = None,
    progress_bar: bool = False,
    target_accept_prob: float = 0.8,
    dense_mass: bool = False,
    **kwargs,
) -> MCMC:
    """NUTS with ``num_chains`` chains (vectorised on one device), optionally started at MAP.
    ``dense_mass`` adapts a full mass matrix (better for few, correlated parameters)."""
    init = init_to_value(values=init_params) if init_params else None
    kernel = NUTS(model, target_accept_prob=target_accept_prob, dense_mass=dense_mass,
                  **({"init_strategy": init} if init else {}))
    mcmc = MCMC(kernel, num_warmup=num_warmup, num_samples=num_samples, num_chains=num_chains,
                chain_method="vectorized", progress_bar=progress_bar)
    mcmc.run(key, *args, **kwargs)
    return mcmc


def to_inference_data(mcmc: MCMC):
    """arviz ``InferenceData`` (posterior + sample stats) of a finished run."""
    import arviz as az

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return az.from_numpyro(mcmc)


def summarize(idata, *, var_names: list[str] | None = None):
    """astropy ``Table``: mean, sd, 16/84 % quantiles, r_hat, ESS (bulk, tail) per parameter,
    with ``warnings`` set in ``table.meta`` for r_hat > 1.01, low ESS or divergences."""
    import arviz as az
    from astropy.table import Table

    post = idata.posterior
    names = var_names or [v for v in post.data_vars if post[v].ndim == 2]
    rhat = az.rhat(idata, var_names=names)
    ess_b = az.ess(idata, var_names=names, method="bulk")
    ess_t = az.ess(idata, var_names=names, method="tail")
    rows = []
    for n in names:
        x = np.asarray(post[n]).ravel()
        rows.append((n, x.mean(), x.std(ddof=1), *np.quantile(x, [0.16, 0.5, 0.84]),
                     float(rhat[n]), float(ess_b[n]), float(ess_t[n])))
    t = Table(rows=rows, names=("parameter", "mean", "sd", "q16", "median", "q84", "r_hat",
                                "ess_bulk", "ess_tail"))
    msgs = []
    n_div = int(np.asarray(idata.sample_stats["diverging"]).sum()) if "diverging" in \
        idata.sample_stats else 0
    if n_div:
        msgs.append(f"{n_div} divergent transitions")
    for r in t:
        if r["r_hat"] > 1.01:
            msgs.append(f"{r['parameter']}: r_hat {r['r_hat']:.3f} > 1.01")
        if r["ess_bulk"] < 100:
            msgs.append(f"{r['parameter']}: bulk ESS {r['ess_bulk']:.0f} < 100")
    t.meta["warnings"] = msgs
    return t


def trace_and_corner(idata, path_prefix: str, var_names: list[str] | None = None) -> list[str]:
    """Save a trace plot and a corner (pair) plot; returns the file names."""
    import arviz as az
    import matplotlib.pyplot as plt

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        az.plot_trace(idata, var_names=var_names)
        plt.tight_layout()
        plt.savefig(f"{path_prefix}_trace.png", dpi=100)
        plt.close("all")
        az.plot_pair(idata, var_names=var_names, kind="kde", marginals=True)
        plt.savefig(f"{path_prefix}_corner.png", dpi=100)
        plt.close("all")
    return [f"{path_prefix}_trace.png", f"{path_prefix}_corner.png"]
