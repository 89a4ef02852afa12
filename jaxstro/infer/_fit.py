"""One-call fits: MAP initialisation -> NUTS -> arviz InferenceData + summary table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._models import _check_data, cannon_label_model, spectrum_model
from ._run import MAPResult, find_map, run_nuts, summarize, to_inference_data


@dataclass
class FitResult:
    """Result of :func:`fit_cannon_labels` / :func:`fit_spectrum`.

    Attributes:
        map: the multi-start MAP used to initialise NUTS.
        mcmc: the finished ``numpyro.infer.MCMC``.
        idata: arviz ``InferenceData`` (write with ``idata.to_netcdf(path)``).
        summary: astropy ``Table`` (mean, sd, quantiles, r_hat, ESS); ``summary.meta["warnings"]``
            lists convergence problems and extrapolation beyond the model's range.
    """

    map: MAPResult
    mcmc: Any
    idata: Any
    summary: Any
    extra: dict = field(default_factory=dict)


def _range_warnings(summary, names, lo, hi, what: str) -> list[str]:
    msgs = []
    for i, n in enumerate(names):
        row = summary[summary["parameter"] == n]
        if len(row) and not (lo[i] <= row[0]["median"] <= hi[i]):
            msgs.append(f"{n}: posterior median {row[0]['median']:.4g} outside the {what} range "
                        f"[{lo[i]:.4g}, {hi[i]:.4g}] (extrapolation)")
    return msgs


_GRID_AXES = {"teff": ("teff", "Teff"), "logg": ("logg", "logg"), "m_h": ("m_h", "[M/H]")}


def check_priors_in_grid(forward, priors: Mapping) -> None:
    """ValueError if a prior on Teff, logg or [M/H] (or a fixed value of one) reaches outside the
    atmosphere grid of a :class:`SynthForward` ``forward`` (other forward models: no check).

    Inside a sampler an off-grid draw would stop the run with ``interpolate_atmosphere``'s
    runtime error; this says so before anything is compiled. Priors without a bounded support
    (e.g. ``Normal``) are rejected too: give ``Uniform``/``TruncatedNormal`` within the grid.
    """
    grid = getattr(forward, "grid", None)
    if grid is None or not hasattr(grid, "teff"):
        return
    for name, (attr, label) in _GRID_AXES.items():
        ax = np.asarray(getattr(grid, attr))
        lo_g, hi_g = float(ax[0]), float(ax[-1])
        if name in priors:
            sup = priors[name].support
            lo = float(np.asarray(getattr(sup, "lower_bound", -np.inf)))
            hi = float(np.asarray(getattr(sup, "upper_bound", np.inf)))
            what = f"the prior on {name} has support [{lo:.6g}, {hi:.6g}]"
        else:
            v = getattr(forward, "fixed", {}).get(name)
            if v is None:
                continue
            lo = hi = float(v)
            what = f"the fixed {name} = {lo:.6g}"
        if not (lo_g <= lo and hi <= hi_g):
            raise ValueError(f"{what}, outside the {getattr(grid, 'name', 'atmosphere')} grid's "
                             f"{label} range [{lo_g:.6g}, {hi_g:.6g}]: bound the prior within "
                             "the grid (off-grid atmospheres cannot be interpolated)")


def fit_cannon_labels(
    cannon,
    flux: Float[Array, " n_pixels"],
    ivar: Float[Array, " n_pixels"],
    *,
    key: jax.Array,
    priors: Mapping | None = None,
    n_starts: int = 4,
    n_steps: int = 1000,
    num_warmup: int = 300,
    num_samples: int = 500,
    num_chains: int = 4,
    dense_mass: bool = True,
    progress_bar: bool = False,
) -> FitResult:
    """Posterior of one star's labels under a trained :class:`jaxstro.cannon.CannonModel`.

    Multi-start MAP (:func:`find_map`) initialises ``num_chains`` NUTS chains of
    :func:`cannon_label_model` (dense mass matrix by default: the labels are correlated).
    Returns a :class:`FitResult`; the summary warns about r_hat, ESS, divergences and labels
    whose posterior median lies outside the training range.
    """
    flux, ivar = jnp.asarray(flux, dtype=float), jnp.asarray(ivar, dtype=float)
    _check_data(flux, ivar, n_pixels=cannon.n_pixels, what="fit_cannon_labels")
    k_map, k_nuts = jax.random.split(key)
    args = (cannon, flux, ivar, priors)
    m = find_map(cannon_label_model, *args, key=k_map, n_starts=n_starts, n_steps=n_steps)
    mcmc = run_nuts(cannon_label_model, *args, key=k_nuts, num_warmup=num_warmup,
                    num_samples=num_samples, num_chains=num_chains, init_params=m.params,
                    dense_mass=dense_mass, progress_bar=progress_bar)
    idata = to_inference_data(mcmc)
    names = list(cannon.label_names)
    summary = summarize(idata, var_names=names)
    summary.meta["warnings"] += _range_warnings(summary, names, np.asarray(cannon.label_min),
                                                np.asarray(cannon.label_max), "training")
    return FitResult(m, mcmc, idata, summary)


def fit_spectrum(
    forward,
    flux: Float[Array, " n_pixels"],
    ivar: Float[Array, " n_pixels"],
    priors: Mapping,
    *,
    key: jax.Array,
    wavelength: Float[Array, " n_pixels"] | None = None,
    continuum_order: int | None = 2,
    n_starts: int = 4,
    n_steps: int = 1000,
    num_warmup: int = 300,
    num_samples: int = 500,
    num_chains: int = 4,
    progress_bar: bool = False,
) -> FitResult:
    """Posterior of ``forward``'s parameters for one observed spectrum (:func:`spectrum_model`
    with the continuum polynomial marginalised): multi-start MAP -> NUTS -> summary.

    For a :class:`SynthForward`, priors on Teff/logg/[M/H] must lie within its atmosphere grid
    (:func:`check_priors_in_grid`). The summary's warnings list r_hat > 1.01, low ESS and
    divergent transitions."""
    flux, ivar = jnp.asarray(flux, dtype=float), jnp.asarray(ivar, dtype=float)
    _check_data(flux, ivar, wavelength=wavelength, what="fit_spectrum")
    check_priors_in_grid(forward, priors)
    k_map, k_nuts = jax.random.split(key)
    args = (forward, flux, ivar, priors)
    kw = {"wavelength": None if wavelength is None else jnp.asarray(wavelength),
          "continuum_order": continuum_order}
    m = find_map(spectrum_model, *args, key=k_map, n_starts=n_starts, n_steps=n_steps, **kw)
    mcmc = run_nuts(spectrum_model, *args, key=k_nuts, num_warmup=num_warmup,
                    num_samples=num_samples, num_chains=num_chains, init_params=m.params,
                    progress_bar=progress_bar, **kw)
    idata = to_inference_data(mcmc)
    summary = summarize(idata, var_names=list(priors))
    return FitResult(m, mcmc, idata, summary)
