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


def _is_traced(*xs) -> bool:
    return any(isinstance(x, jax.core.Tracer) for x in xs)


def _check_data(
    flux: Array, ivar: Array, *, wavelength: Array | None = None, n_pixels: int | None = None,
    what: str = "spectrum", batched: bool = False,
) -> None:
    """ValueError for malformed data at a public boundary (skipped for traced arrays, e.g. under
    vmap over stars): shapes, ivar < 0 or NaN, no valid pixels, non-finite flux at valid
    pixels. With ``batched`` the arrays are ``(n_stars, n_pixels)`` and each star is checked."""
    import numpy as np

    if _is_traced(flux, ivar, wavelength):
        return
    f, iv = np.asarray(flux), np.asarray(ivar)
    ndim = 2 if batched else 1
    if f.ndim != ndim:
        raise ValueError(f"{what}: flux must be {ndim}-D, got shape {f.shape}")
    if f.shape != iv.shape:
        raise ValueError(f"{what}: flux {f.shape} and ivar {iv.shape} differ in shape")
    if n_pixels is not None and f.shape[-1] != n_pixels:
        raise ValueError(f"{what}: {f.shape[-1]} pixels, but the model has {n_pixels}")
    if wavelength is not None:
        wl = np.asarray(wavelength)
        if wl.shape != f.shape[-1:]:
            raise ValueError(f"{what}: wavelength {wl.shape} does not match flux {f.shape}")
        if not np.all(np.isfinite(wl)) or not np.all(np.diff(wl) > 0):
            raise ValueError(f"{what}: wavelength must be finite and strictly increasing")
    if np.any(np.isnan(iv)) or np.any(iv < 0):
        bad = np.argwhere(np.isnan(iv) | (iv < 0))[:5]
        raise ValueError(f"{what}: ivar must be finite and >= 0 (bad at {bad.tolist()})")
    if np.any(np.isinf(iv)):
        raise ValueError(f"{what}: ivar must be finite (inf found)")
    good = iv > 0
    n_good = good.sum(axis=-1)
    if np.any(n_good == 0):
        which = "" if not batched else f" (stars {np.flatnonzero(n_good == 0)[:5].tolist()})"
        raise ValueError(f"{what}: no valid pixels (all ivar = 0){which}")
    if not np.all(np.isfinite(f[good])):
        bad = np.argwhere(good & ~np.isfinite(f))[:5]
        raise ValueError(f"{what}: non-finite flux at pixels with ivar > 0: {bad.tolist()}")


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
    _check_data(flux, ivar, wavelength=wavelength)
    params = {name: numpyro.sample(name, prior) for name, prior in priors.items()}
    model = forward(params)
    if model.shape != flux.shape:
        raise ValueError(f"forward model returned shape {model.shape}, flux is {flux.shape}")
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
    _check_data(flux, ivar, n_pixels=cannon.n_pixels)
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
