"""Runners: multi-start MAP (optax on the unconstrained potential) and NUTS; arviz output."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from numpyro.infer import MCMC, NUTS, init_to_value
from numpyro.infer.util import initialize_model


class MAPResult(eqx.Module):
    """Maximum a posteriori parameters (constrained space), its log density, and all starts."""

    params: dict
    log_density: jax.Array
    start_log_densities: jax.Array


def find_map(
    model: Callable,
    *args,
    key: jax.Array,
    n_starts: int = 8,
    n_steps: int = 2000,
    learning_rate: float = 0.02,
    **kwargs,
) -> MAPResult:
    """Multi-start MAP: ``n_starts`` initial points drawn from the priors (in numpyro's
    unconstrained space), each optimised with Adam on the potential energy (vmapped over starts);
    the best is returned. Use it to initialise NUTS.
    """
    keys = jax.random.split(key, n_starts)
    init = jax.vmap(lambda k: initialize_model(k, model, model_args=args,
                                               model_kwargs=kwargs)[0].z)(keys)
    _, potential_fn, postprocess_fn, _ = initialize_model(keys[0], model, model_args=args,
                                                          model_kwargs=kwargs)
    opt = optax.adam(learning_rate)

    def run(z0):
        def step(carry, _):
            z, s = carry
            val, g = jax.value_and_grad(potential_fn)(z)
            upd, s = opt.update(g, s, z)
            return (optax.apply_updates(z, upd), s), val

        (z, _), _ = jax.lax.scan(step, (z0, opt.init(z0)), None, length=n_steps)
        return z, potential_fn(z)

    zs, pots = jax.jit(jax.vmap(run))(init)
    pots = jnp.where(jnp.isfinite(pots), pots, jnp.inf)
    best = int(jnp.argmin(pots))
    z_best = jax.tree.map(lambda a: a[best], zs)
    params = postprocess_fn(z_best)
    return MAPResult(params, -pots[best], -pots)


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
    **kwargs,
) -> MCMC:
    """NUTS with ``num_chains`` chains (vectorised on one device), optionally started at MAP."""
    init = init_to_value(values=init_params) if init_params else None
    kernel = NUTS(model, target_accept_prob=target_accept_prob,
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
