"""Training: per-pixel maximum-likelihood theta and s (thesis eq 2.5), vmapped over pixels.

For a pixel with fluxes ``f_n``, inverse variances ``ivar_n`` and design matrix ``A`` (rows
``f(l_n)``), the weights at scatter s are ``w_n = ivar_n / (1 + ivar_n s^2) = 1/(sigma_n^2 + s^2)``.

* theta | s: weighted least squares, ``(A^T W A) theta = A^T W f``, solved by Cholesky on the
  Jacobi-equilibrated normal equations (never an explicit inverse). ``A^T W A`` is
  ``sum_n w_n (a_n a_n^T)``: with the outer products precomputed once, vmapping over pixels turns
  it into one matrix product, which is what makes training fast on CPU and GPU.
* s: the profile log-likelihood ``ln L(s) = -1/2 sum_n [w_n r_n^2 - ln w_n]`` is maximised on
  ``[0, s_max]``. By the envelope theorem its derivative is
  ``d ln L / d s^2 = 1/2 sum_n (w_n^2 r_n^2 - w_n)`` at the theta(s) optimum, so the bounded 1-D
  maximisation is a bisection on the sign of that derivative with a fixed number of steps
  (``ceil(log2(1/scatter_rtol))``). If the derivative is <= 0 at s = 0 the optimum is s = 0.
* optional L1 (Casey et al. 2016): ``-ln L + l1 * sum_{k>0} |theta_k|`` by iteratively reweighted
  ridge steps (fixed count), the constant term unpenalised.
* censoring: terms containing a censored label are fixed to 0 at the censored pixels.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

from ._model import CannonModel
from ._validate import check_labels, check_spectra
from ._vectorizer import Vectorizer


class TrainOptions(eqx.Module):
    """Training options (all static).

    Attributes:
        fit_scatter: fit s by maximum likelihood; if False, s = ``fixed_scatter`` everywhere.
        fixed_scatter: the scatter used when ``fit_scatter`` is False.
        scatter_max: upper bound of s; None: per pixel ``2 * std(flux)`` of the valid training
            fluxes (the ML s cannot exceed the spread of the data about a constant).
        scatter_rtol: bisection stops at ``scatter_max * scatter_rtol``.
        l1: L1 regularisation strength (0: none).
        l1_iterations: reweighting iterations for the L1 solve.
        pixel_batch: train this many pixels at a time (``lax.map``), None: all at once.
    """

    fit_scatter: bool = eqx.field(static=True, default=True)
    fixed_scatter: float = eqx.field(static=True, default=0.0)
    scatter_max: float | None = eqx.field(static=True, default=None)
    scatter_rtol: float = eqx.field(static=True, default=1e-10)
    l1: float = eqx.field(static=True, default=0.0)
    l1_iterations: int = eqx.field(static=True, default=40)
    pixel_batch: int | None = eqx.field(static=True, default=None)

    @property
    def n_bisect(self) -> int:
        return int(math.ceil(math.log2(1.0 / self.scatter_rtol)))


def _solve_normal(M, b, term_mask, l1_diag=None):
    """Solve ``M theta = b`` on the unmasked terms (masked terms fixed to 0), Cholesky + Jacobi."""
    t = M.shape[-1]
    eye = jnp.eye(t, dtype=M.dtype)
    both = term_mask[:, None] & term_mask[None, :]
    M = jnp.where(both, M, eye)
    b = jnp.where(term_mask, b, 0.0)
    if l1_diag is not None:
        M = M + jnp.diag(jnp.where(term_mask, l1_diag, 0.0))
    dg = jnp.diagonal(M)
    ok = dg > 0
    M = jnp.where(ok[:, None] & ok[None, :], M, eye)
    d = jnp.where(ok, 1.0 / jnp.sqrt(jnp.where(ok, dg, 1.0)), 1.0)
    Ms = M * d[:, None] * d[None, :]
    # a relative ridge of 1e-14 on the unit diagonal keeps exactly degenerate columns finite
    Ms = Ms + 1e-14 * eye
    c = jax.scipy.linalg.cho_factor(Ms, lower=True)
    y = jax.scipy.linalg.cho_solve(c, d * jnp.where(ok, b, 0.0))
    return jnp.where(term_mask & ok, d * y, 0.0)


def _pixel_fit(A, P, f, iv, term_mask, s_hi, s_fixed, opts: TrainOptions):
    """theta, s, ln L for one pixel. ``A`` (n, t), ``P`` (n, t, t) outer products.

    ``s_fixed`` NaN: fit s in ``[0, s_hi]``; otherwise use it (a traced switch, so fixed-s and
    fitted-s training share one compiled function).
    """
    valid = iv > 0
    l1 = opts.l1

    def weights(s2):
        return jnp.where(valid, iv / (1.0 + iv * s2), 0.0)

    def theta_at(s2):
        w = weights(s2)
        M = jnp.einsum("n,nij->ij", w, P)
        b = A.T @ (w * f)
        theta = _solve_normal(M, b, term_mask)
        if l1 > 0:
            pen = jnp.ones_like(theta).at[0].set(0.0)  # the constant term is not penalised

            def irls(_, th):
                return _solve_normal(M, b, term_mask, l1 * pen / jnp.maximum(jnp.abs(th), 1e-10))

            theta = jax.lax.fori_loop(0, opts.l1_iterations, irls, theta)
        return theta

    def dlnl_ds2(s):
        s2 = s * s
        th = theta_at(s2)
        r = f - A @ th
        w = weights(s2)
        return jnp.sum(w * w * r * r - w)

    if opts.fit_scatter:
        g0 = dlnl_ds2(jnp.zeros((), f.dtype))

        def step(_, lohi):
            lo, hi = lohi
            mid = 0.5 * (lo + hi)
            up = dlnl_ds2(mid) > 0
            return jnp.where(up, mid, lo), jnp.where(up, hi, mid)

        lo, hi = jax.lax.fori_loop(0, opts.n_bisect, step, (jnp.zeros_like(s_hi), s_hi))
        s = jnp.where(g0 > 0, 0.5 * (lo + hi), 0.0)
        s = jnp.where(jnp.isnan(s_fixed), s, s_fixed)
    else:
        s = s_fixed
    th = theta_at(s * s)
    w = weights(s * s)
    r = f - A @ th
    lnl = -0.5 * jnp.sum(jnp.where(valid, w * r * r - jnp.log(jnp.where(valid, w, 1.0)), 0.0))
    return th, s, lnl


@eqx.filter_jit
def _train_core(A, flux_t, ivar_t, term_mask, s_hi, s_fixed, opts: TrainOptions):
    """Vmapped training over pixels. ``flux_t``/``ivar_t`` are (n_pixels, n_stars)."""
    P = A[:, :, None] * A[:, None, :]
    n_valid = jnp.sum(ivar_t > 0, axis=1)
    enough = n_valid >= jnp.sum(term_mask, axis=1)

    def one(args):
        f, iv, m, sh, sf = args
        return _pixel_fit(A, P, f, iv, m, sh, sf, opts)

    xs = (flux_t, ivar_t, term_mask, s_hi, s_fixed)
    if opts.pixel_batch is None:
        theta, s, lnl = jax.vmap(one)(xs)
    else:
        theta, s, lnl = jax.lax.map(one, xs, batch_size=opts.pixel_batch)
    const = jnp.zeros_like(theta[0]).at[0].set(1.0)
    theta = jnp.where(enough[:, None], theta, const)
    s = jnp.where(enough, s, jnp.inf)
    lnl = jnp.where(enough, lnl, jnp.nan)
    return theta, s, lnl


def term_mask_from_censor(vectorizer: Vectorizer, censor, n_pixels: int) -> np.ndarray:
    """``(n_pixels, n_terms)`` bool: term k is free at pixel p (no censored label in it)."""
    uses = vectorizer.term_uses_label()  # (t, L)
    if censor is None:
        return np.ones((n_pixels, vectorizer.n_terms), bool)
    c = np.asarray(censor, dtype=bool)
    if c.shape != (vectorizer.n_labels, n_pixels):
        raise ValueError(
            f"censor must be (n_labels, n_pixels) = ({vectorizer.n_labels}, {n_pixels}), "
            f"got {c.shape}"
        )
    # term k censored at p if any label j used by k is censored at p
    return ~np.einsum("tl,lp->pt", uses.astype(int), c.astype(int)).astype(bool)


def default_scatter_max(flux, ivar) -> np.ndarray:
    valid = ivar > 0
    n = np.maximum(valid.sum(axis=0), 1)
    mean = np.where(valid, flux, 0).sum(axis=0) / n
    var = (np.where(valid, flux - mean, 0) ** 2).sum(axis=0) / n
    return np.maximum(2.0 * np.sqrt(var), 1e-6)


def train(
    labels: Float[Array, "n_stars n_labels"],
    flux: Float[Array, "n_stars n_pixels"],
    ivar: Float[Array, "n_stars n_pixels"],
    vectorizer: Vectorizer,
    *,
    wavelength: Float[Array, " n_pixels"] | None = None,
    options: TrainOptions = TrainOptions(),
    censor: Bool[Array, "n_labels n_pixels"] | None = None,
    star_mask: Bool[Array, " n_stars"] | None = None,
    scatter: Float[Array, " n_pixels"] | None = None,
    return_log_likelihood: bool = False,
):
    """Train a Cannon model (thesis §2.3).

    Args:
        labels: physical training labels, one row per star, columns as ``vectorizer.label_names``.
        flux, ivar: continuum-normalised training spectra and inverse variances; ``ivar = 0``
            pixels are ignored (their flux may be NaN).
        vectorizer: the label vectoriser; if ``vectorizer.standardize`` its offsets/scales are
            recomputed (mean/std) from the training labels.
        wavelength: the wavelength grid [Angstrom], stored with the model.
        options: :class:`TrainOptions`.
        censor: ``(n_labels, n_pixels)`` bool, True where a label is censored (its terms = 0).
        star_mask: train only on these stars (others get zero weight; same compiled function).
        scatter: fixed per-pixel scatter s (then only theta is fitted); overrides ``options``.

    Returns:
        The :class:`CannonModel` (and the per-pixel ln L if ``return_log_likelihood``).
    """
    flux, ivar = check_spectra(flux, ivar, what="training spectra")
    n_stars, n_pix = flux.shape
    labels = check_labels(labels, n_stars, vectorizer.n_labels)
    if star_mask is not None:
        star_mask = np.asarray(star_mask, bool)
        if star_mask.shape != (n_stars,):
            raise ValueError(f"star_mask must have shape ({n_stars},), got {star_mask.shape}")
        ivar = ivar * star_mask[:, None]
        flux = flux * star_mask[:, None]
    used = (ivar > 0).any(axis=1)
    if used.sum() < vectorizer.n_terms:
        raise ValueError(
            f"{int(used.sum())} training stars with data, but the model has {vectorizer.n_terms} "
            f"terms: need at least as many stars as terms ({vectorizer.term_names})"
        )
    vec = vectorizer.refit(labels, used)
    A = vec.design_matrix(labels)
    term_mask = term_mask_from_censor(vec, censor, n_pix)
    if options.scatter_max is None:
        s_hi = default_scatter_max(flux, ivar)
    else:
        s_hi = np.full(n_pix, float(options.scatter_max))
    if scatter is not None:
        s_fixed = np.array(np.broadcast_to(np.asarray(scatter, dtype=float), (n_pix,)))
        if np.any(s_fixed < 0) or np.any(np.isnan(s_fixed)):
            raise ValueError("fixed scatter must be >= 0 and not NaN")
    elif not options.fit_scatter:
        s_fixed = np.full(n_pix, float(options.fixed_scatter))
    else:
        s_fixed = np.full(n_pix, np.nan)
    theta, s, lnl = _train_core(
        A, jnp.asarray(flux.T), jnp.asarray(ivar.T), jnp.asarray(term_mask), jnp.asarray(s_hi),
        jnp.asarray(s_fixed), options,
    )
    lab_used = labels[used]
    model = CannonModel(
        vectorizer=vec,
        theta=theta,
        scatter=s,
        wavelength=None if wavelength is None else jnp.asarray(wavelength, dtype=float),
        label_min=jnp.asarray(lab_used.min(axis=0)),
        label_max=jnp.asarray(lab_used.max(axis=0)),
    )
    if wavelength is not None and model.wavelength.shape != (n_pix,):
        raise ValueError(f"wavelength must have shape ({n_pix},), got {model.wavelength.shape}")
    return (model, lnl) if return_log_likelihood else model
