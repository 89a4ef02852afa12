"""numpyro models of observed spectra.

``spectrum_model`` wraps any differentiable forward model (``jaxstro.synth`` or another
emulator) with priors, a multiplicative continuum polynomial (sampled, or marginalised
analytically) and a Gaussian likelihood with ivar and pixel masks; ``cannon_label_model`` uses a
trained ``jaxstro.cannon`` model as the likelihood of labels.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from jaxtyping import Array, Float

ForwardModel = Callable[[dict[str, Array]], Float[Array, " n_pixels"]]


def _check_data(flux: Array, ivar: Array) -> None:
    import numpy as np

    f, iv = np.asarray(flux), np.asarray(ivar)
    if f.shape != iv.shape:
        raise ValueError(f"flux {f.shape} and ivar {iv.shape} differ in shape")
    if np.any(iv < 0) or np.any(np.isnan(iv)):
        raise ValueError("ivar must be finite and >= 0")
    good = iv > 0
    if not good.any():
        raise ValueError("the spectrum has no valid pixels (all ivar = 0)")
    if not np.all(np.isfinite(f[good])):
        bad = np.flatnonzero(good & ~np.isfinite(f))[:5]
        raise ValueError(f"non-finite flux at pixels with ivar > 0: {bad.tolist()}")


def legendre_design(x: Float[Array, " n"], order: int) -> Float[Array, "n k"]:
    """Legendre polynomials P_0..P_order of x in [-1, 1] (columns), by the recurrence."""
    cols = [jnp.ones_like(x), x]
    for k in range(1, order):
        cols.append(((2 * k + 1) * x * cols[k] - k * cols[k - 1]) / (k + 1))
    return jnp.stack(cols[: order + 1], axis=-1)


def marginal_continuum_loglike(
    model: Float[Array, " n"], flux: Float[Array, " n"], ivar: Float[Array, " n"],
    design: Float[Array, "n k"],
) -> Float[Array, ""]:
    """log p(flux | model) with flux = model * (design @ c) + noise, c marginalised under a flat
    prior: -chi2_min/2 - log det(A^T W A)/2 + k/2 log(2 pi) + Gaussian normalisation.

    Solved by Cholesky of the k x k normal matrix (no inverse).
    """
    a = model[:, None] * design
    w = ivar
    m = a.T @ (w[:, None] * a)
    b = a.T @ (w * flux)
    chol = jnp.linalg.cholesky(m)
    c = jax.scipy.linalg.cho_solve((chol, True), b)
    r = flux - a @ c
    chi2 = jnp.sum(w * r * r)
    logdet = 2.0 * jnp.sum(jnp.log(jnp.diag(chol)))
    k = design.shape[1]
    good = w > 0
    norm = 0.5 * jnp.sum(jnp.where(good, jnp.log(jnp.where(good, w, 1.0) / (2 * jnp.pi)), 0.0))
    return -0.5 * chi2 - 0.5 * logdet + 0.5 * k * jnp.log(2 * jnp.pi) + norm


def spectrum_model(
    forward: ForwardModel,
    flux: Float[Array, " n"],
    ivar: Float[Array, " n"],
    priors: Mapping[str, dist.Distribution],
    *,
    wavelength: Float[Array, " n"] | None = None,
    continuum_order: int | None = 2,
    marginalize_continuum: bool = True,
) -> None:
    """numpyro model: parameters from ``priors`` -> ``forward(params)`` -> continuum -> likelihood.

    Pixels with ``ivar == 0`` are masked. With ``continuum_order`` (Legendre in wavelength
    scaled to [-1, 1]) the model is multiplied by a polynomial whose coefficients are marginalised
    analytically (flat prior) or sampled as ``continuum`` (normal prior around 1, 0, ...).
    """
    params = {name: numpyro.sample(name, prior) for name, prior in priors.items()}
    model = forward(params)
    good = ivar > 0
    safe_flux = jnp.where(good, flux, 0.0)
    if continuum_order is None:
        sd = 1.0 / jnp.sqrt(jnp.where(good, ivar, 1.0))
        numpyro.sample("obs", dist.Normal(model, sd).mask(good), obs=safe_flux)
        return
    if wavelength is None:
        wavelength = jnp.arange(flux.shape[0], dtype=flux.dtype)
    x = 2.0 * (wavelength - wavelength[0]) / (wavelength[-1] - wavelength[0]) - 1.0
    design = legendre_design(x, continuum_order)
    if marginalize_continuum:
        numpyro.factor("obs", marginal_continuum_loglike(model, safe_flux, jnp.where(good, ivar,
                                                                                     0.0), design))
        return
    loc = jnp.zeros(continuum_order + 1).at[0].set(1.0)
    c = numpyro.sample("continuum", dist.Normal(loc, 0.1).to_event(1))
    sd = 1.0 / jnp.sqrt(jnp.where(good, ivar, 1.0))
    numpyro.sample("obs", dist.Normal(model * (design @ c), sd).mask(good), obs=safe_flux)


def cannon_label_model(
    cannon,
    flux: Float[Array, " n_pixels"],
    ivar: Float[Array, " n_pixels"],
    priors: Mapping[str, dist.Distribution] | None = None,
) -> None:
    """numpyro model of one star's labels with a trained Cannon model as the likelihood.

    The per-pixel variance is ``1/ivar + s^2`` (the model's intrinsic scatter); pixels with
    ``ivar == 0`` or infinite scatter are masked. Default priors: uniform over the training range
    widened by half its width on each side.
    """
    names = cannon.label_names
    if priors is None:
        lo, hi = cannon.label_min, cannon.label_max
        pad = 0.5 * (hi - lo)
        priors = {n: dist.Uniform(lo[i] - pad[i], hi[i] + pad[i]) for i, n in enumerate(names)}
    labels = jnp.stack([numpyro.sample(n, priors[n]) for n in names])
    mean = cannon.predict(labels)
    good = (ivar > 0) & jnp.isfinite(cannon.scatter)
    var = 1.0 / jnp.where(good, ivar, 1.0) + jnp.where(good, cannon.scatter, 0.0) ** 2
    numpyro.sample("obs", dist.Normal(mean, jnp.sqrt(var)).mask(good),
                   obs=jnp.where(good, flux, 0.0))
