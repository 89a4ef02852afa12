"""Imputation of masked pixels by ivar-weighted projection onto a basis (ch3 eq 3.2)."""

from __future__ import annotations

import jax.numpy as jnp
import jax.scipy.linalg as jsl
from jaxtyping import Array, Float


def project(
    flux: Float[Array, " n_pix"],
    weight: Float[Array, " n_pix"],
    mean: Float[Array, " n_pix"],
    basis: Float[Array, "q n_pix"],
) -> tuple[Float[Array, " q"], Float[Array, "q q"]]:
    """Weighted least-squares coefficients ``c = (E W E^T)^-1 E W (f - mean)`` and ``(E W E^T)^-1``.

    ``weight`` is the inverse variance of the pixels used for the fit and 0 elsewhere (masked,
    ignored and bad pixels), i.e. ``W = C^-1`` restricted to the censored spectrum.
    """
    Ew = basis * weight
    N = Ew @ basis.T
    b = Ew @ (flux - mean)
    cf = jsl.cho_factor(N, lower=True)
    coeff = jsl.cho_solve(cf, b)
    cov = jsl.cho_solve(cf, jnp.eye(N.shape[0], dtype=N.dtype))
    return coeff, cov


def impute(
    flux: Float[Array, " n_pix"],
    weight: Float[Array, " n_pix"],
    mean: Float[Array, " n_pix"],
    basis: Float[Array, "q n_pix"],
    predict_idx: Array,
) -> tuple[Float[Array, " m"], Float[Array, " m"], Float[Array, " n_pix"]]:
    """Predicted fluxes of pixels ``predict_idx`` (eq 3.2), their variance, and the full model.

    Returns ``(pred, pred_var, model)``: ``pred = mean~ + E~^T c``; ``pred_var`` the diagonal of
    ``E~ (E W E^T)^-1 E~^T`` (the basis held fixed); ``model`` the fitted spectrum on all pixels.
    """
    coeff, cov = project(flux, weight, mean, basis)
    model = mean + coeff @ basis
    Et = basis[:, predict_idx]  # (q, m)
    pred_var = jnp.einsum("im,ij,jm->m", Et, cov, Et)
    return model[predict_idx], pred_var, model
