"""Training: per-pixel maximum-likelihood theta and s (thesis eq 2.5), vmapped over pixels.

For a pixel with fluxes ``f_n``, inverse variances ``ivar_n`` and design matrix ``A`` (rows
``f(l_n)``), the weights at scatter s are ``w_n = ivar_n / (1 + ivar_n s^2) = 1/(sigma_n^2 + s^2)``.

* theta | s: weighted least squares, ``(A^T W A) theta = A^T W f``, solved by Cholesky on the
  Jacobi-equilibrated normal equations (never an explicit inverse). ``A^T W A`` is
  ``sum_n w_n a_n a_n^T``; its entries are the distinct products of two terms (35 monomials
  for a quadratic model in 3 labels), so for a block of pixels all of them are ONE matrix
  product ``W (pixels x stars) @ Mon (stars x 35)``, and ``A^T W f`` is ``(W*f) @ A``.
* s: the profile log-likelihood ``ln L(s) = -1/2 sum_n [w_n r_n^2 - ln w_n]`` is maximised on
  ``[0, s_max]``. By the envelope theorem its derivative is
  ``d ln L / d s^2 = 1/2 sum_n (w_n^2 r_n^2 - w_n)`` at the theta(s) optimum; the maximum is the
  root of ``ln sum w^2 r^2 - ln sum w`` (same sign), found by safeguarded Newton steps in
  ``ln(u + s^2)`` with the exact slope, ``u`` re-chosen at every step so that the root function
  has no curvature there in that variable (bisection inside the sign bracket as fallback). On
  the 5,000-star x 8,575-pixel benchmark set this took 2.8 likelihood evaluations per pixel on
  average (a fixed u = mean noise variance: 4.3), each a few matrix products over the stars,
  instead of the ~35 of a bisection; the last, small Newton step is taken without another
  evaluation
  (theta(s) to first order, ``d theta / d s^2 = -M^-1 sum w^2 r a``). If the derivative is <= 0
  at s = 0 the optimum is s = 0.
* data flow: the spectra are checked but not copied; pixels are trained ``pixel_batch`` at a
  time, star-major as given (no transposes), each block copied into a small buffer and fitted
  by one compiled function, dispatched asynchronously; ``w = ivar / (1 + ivar s^2)`` (no
  separate variance array).
* optional L1 (Casey et al. 2016): ``-ln L + l1 * sum_{k>0} |theta_k|`` by iteratively reweighted
  ridge steps (fixed count), the constant term unpenalised.
* censoring: terms containing a censored label are fixed to 0 at the censored pixels.
"""

from __future__ import annotations

from functools import partial

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
        scatter_rtol: the root search in ``y = ln(c + s^2)`` (``c`` the pixel's mean noise
            variance) ends with a Newton step below ``sqrt(scatter_rtol)``, taken without a
            further likelihood evaluation (theta moved to first order in s^2), which leaves an
            error of order ``scatter_rtol`` in y.
        scatter_max_iter: at most this many likelihood evaluations per pixel (each one is a
            matrix product over all stars); pixels not converged by then keep the last iterate.
        l1: L1 regularisation strength (0: none).
        l1_iterations: reweighting iterations for the L1 solve.
        pixel_batch: train this many pixels per compiled call (blocks that fit in the CPU
            cache are faster than all at once), None: all at once.
    """

    fit_scatter: bool = eqx.field(static=True, default=True)
    fixed_scatter: float = eqx.field(static=True, default=0.0)
    scatter_max: float | None = eqx.field(static=True, default=None)
    scatter_rtol: float = eqx.field(static=True, default=1e-8)
    scatter_max_iter: int = eqx.field(static=True, default=60)
    l1: float = eqx.field(static=True, default=0.0)
    l1_iterations: int = eqx.field(static=True, default=40)
    pixel_batch: int | None = eqx.field(static=True, default=64)


def _factor_normal(M, term_mask, l1_diag=None):
    """Cholesky factor of the Jacobi-equilibrated ``M`` on the unmasked terms (masked terms and
    empty columns replaced by the identity), for :func:`_solve_factored`."""
    t = M.shape[-1]
    eye = jnp.eye(t, dtype=M.dtype)
    both = term_mask[:, None] & term_mask[None, :]
    M = jnp.where(both, M, eye)
    if l1_diag is not None:
        M = M + jnp.diag(jnp.where(term_mask, l1_diag, 0.0))
    dg = jnp.diagonal(M)
    ok = dg > 0
    M = jnp.where(ok[:, None] & ok[None, :], M, eye)
    d = jnp.where(ok, 1.0 / jnp.sqrt(jnp.where(ok, dg, 1.0)), 1.0)
    Ms = M * d[:, None] * d[None, :]
    # a relative ridge of 1e-14 on the unit diagonal keeps exactly degenerate columns finite
    Ms = Ms + 1e-14 * eye
    return jax.scipy.linalg.cho_factor(Ms, lower=True)[0], d, term_mask & ok


def _solve_factored(factor, b):
    L, d, free = factor
    y = jax.scipy.linalg.cho_solve((L, True), d * jnp.where(free, b, 0.0))
    return jnp.where(free, d * y, 0.0)


def _solve_normal(M, b, term_mask, l1_diag=None):
    """Solve ``M theta = b`` on the unmasked terms (masked terms fixed to 0), Cholesky + Jacobi."""
    return _solve_factored(_factor_normal(M, term_mask, l1_diag), b)


def product_monomials(exponents) -> tuple[np.ndarray, np.ndarray]:
    """Unique products of pairs of terms.

    Returns ``(pairs, index)``: ``pairs`` ``(K, 2)`` one representative term pair ``(i, j)`` per
    distinct monomial ``term_i * term_j``, and ``index`` ``(t, t)`` the monomial of each pair. A
    quadratic model in 3 labels has 10 terms but only 35 distinct products (all monomials of
    degree <= 4), not 55 or 100, so ``A^T W A`` for every pixel is one matrix product with K
    columns.
    """
    E = np.asarray(exponents, dtype=int)
    t = E.shape[0]
    seen: dict[tuple[int, ...], int] = {}
    pairs = []
    index = np.zeros((t, t), dtype=np.int32)
    for i in range(t):
        for j in range(t):
            key = tuple((E[i] + E[j]).tolist())
            if key not in seen:
                seen[key] = len(seen)
                pairs.append((i, j))
            index[i, j] = seen[key]
    return np.asarray(pairs, dtype=np.int32), index


def _fit_pixels(design, pairs, index, flux, ivar, term_mask, s_hi, s_fixed, opts: TrainOptions,
                with_lnl: bool, exponents=()):
    """theta, s, ln L and the number of likelihood evaluations for a block of pixels, batched:
    ``flux``/``ivar`` are (n_stars, p) (flux at ivar = 0 ignored); ``s_hi`` None: computed here.

    At a trial ``s^2`` per pixel all normal equations come from two matrix products over the
    stars, ``W^T Mon`` (the distinct term products) and ``(W f)^T A``, then a batched Cholesky
    factorisation (used twice). The ML scatter is the root of
    ``kappa(s^2) = ln sum w^2 r^2 - ln sum w`` (same sign as d lnL / d s^2, by the envelope
    theorem), found by safeguarded Newton steps in ``y = ln(c + s^2)``: for equal noise kappa is
    linear in y and one step is exact. The slope uses ``d/ds^2 sum w^2 r^2 = -2 sum w^3 r^2``
    plus the theta(s) term ``2 q' M^-1 q`` with ``q = sum w^2 r a`` (zero for equal noise: the
    WLS residuals are w-orthogonal to the terms); ``-M^-1 q = d theta / d s^2`` also moves theta
    along the last, small Newton step. The bracket ``[lo, hi]`` on the sign of kappa is kept; a
    Newton step that leaves it is replaced by bisection in y. If ``kappa(0) <= 0`` the optimum
    is s = 0. A block iterates until all its pixels are done.
    """
    valid = ivar > 0
    flux = jnp.where(valid, flux, 0.0)
    n_valid = jnp.sum(valid, axis=0)
    nv = jnp.maximum(n_valid, 1)
    c = nv / jnp.maximum(jnp.sum(ivar, axis=0), 1e-300)  # mean noise variance
    if s_hi is None:  # default scatter bound: 2 std of the valid fluxes, per pixel
        mean = jnp.sum(flux, axis=0) / nv
        sd = jnp.sqrt(jnp.maximum(jnp.sum(flux * flux, axis=0) / nv - mean * mean, 0.0))
        s_hi = jnp.maximum(2.0 * sd, 1e-6)
    dot = partial(jnp.einsum, "np,np->p")
    # A (n, t), and A^T (t, n) and the distinct term products Mon^T (K, n) stored contiguous
    # (XLA's CPU matrix products with a transposed operand are ~2x slower here)
    A, At, MonT = design
    # with a constant term, sum_n w_n is an entry of the normal matrix (no separate reduction)
    const = [k for k, row in enumerate(exponents) if not any(row)]
    l1 = opts.l1
    factor = jax.vmap(_factor_normal)
    solve = jax.vmap(_solve_factored)

    def weights(s2):  # w = 1 / (sigma^2 + s^2), 0 where ivar = 0
        return ivar / (1.0 + ivar * s2[None, :])

    def evaluate(s2):
        W = weights(s2)  # (n, p), star-major like the input: no transposes
        WM = MonT @ W  # (K, p)
        G = WM.T[:, index]  # (p, t, t)
        b = (At @ (W * flux)).T  # (p, t)
        fac = factor(G, term_mask)
        theta = solve(fac, b)
        if l1 > 0:
            pen = jnp.ones(A.shape[1], A.dtype).at[0].set(0.0)  # constant term unpenalised

            def irls(_, th):
                return jax.vmap(_solve_normal)(G, b, term_mask,
                                               l1 * pen / jnp.maximum(jnp.abs(th), 1e-10))

            theta = jax.lax.fori_loop(0, opts.l1_iterations, irls, theta)
        R = flux - A @ theta.T  # (n, p)
        WR = W * R
        s1 = WM[index[const[0], const[0]]] if const else jnp.sum(W, axis=0)
        q2 = dot(WR, WR)
        W2R = WR * W
        q3 = dot(W2R, WR)
        W2 = W * W
        s2w = jnp.sum(W2, axis=0)
        # for the curvature of kappa, which only chooses the variable of the Newton steps:
        # single precision is enough (any u > 0 is valid)
        f32 = jnp.float32
        q4 = dot(W2R.astype(f32), W2R.astype(f32)).astype(W.dtype)
        s3w = dot(W2.astype(f32), W.astype(f32)).astype(W.dtype)
        chi2 = dot(WR, R) if with_lnl else jnp.zeros_like(s1)
        q = (At @ W2R).T  # (p, t)
        dtheta = -solve(fac, q)  # d theta / d s^2 = -M^-1 q
        qmq = -jnp.sum(q * dtheta, axis=1)
        return theta, s1, q2, q3, qmq, s2w, q4, s3w, chi2, dtheta

    fit = jnp.isnan(s_fixed) & opts.fit_scatter
    x0 = jnp.where(fit, 0.0, jnp.where(jnp.isnan(s_fixed), opts.fixed_scatter, s_fixed) ** 2)
    p, t = flux.shape[1], A.shape[1]
    state0 = dict(
        it=jnp.zeros((), jnp.int32), x=x0, lo=jnp.zeros_like(x0), hi=s_hi**2,
        done=jnp.zeros(p, bool), theta=jnp.zeros((p, t), A.dtype), s2=x0,
        chi2=jnp.zeros_like(x0), n_eval=jnp.zeros(p, jnp.int32),
    )
    # a Newton step below this (in y) is taken without a further evaluation (theta, chi2 moved to
    # first order): the error left is of order its square, ~scatter_rtol
    step_tol = float(np.sqrt(opts.scatter_rtol))

    def cond(st):
        return (st["it"] < opts.scatter_max_iter) & ~jnp.all(st["done"])

    def body(st):
        x, lo, hi, done = st["x"], st["lo"], st["hi"], st["done"]
        theta, s1, q2, q3, qmq, s2w, q4, s3w, chi2, dtheta = evaluate(x)
        tiny = jnp.finfo(x.dtype).tiny
        s1, q2 = jnp.maximum(s1, tiny), jnp.maximum(q2, tiny)
        kappa = jnp.log(q2) - jnp.log(s1)
        # d kappa / d s^2 (exact, with the theta(s) term) and d2 kappa / d (s^2)^2 at fixed theta
        k1 = s2w / s1 - 2.0 * (q3 - qmq) / q2
        k2 = 6.0 * q4 / q2 - 4.0 * (q3 / q2) ** 2 - 2.0 * s3w / s1 + (s2w / s1) ** 2
        # Newton in y = ln(u + s^2) with u chosen so that kappa(y) has no curvature here
        # (u = -k1/k2 - s^2; equal noise: u = sigma^2 and kappa is linear in y): third order.
        # u is clipped to [0.05, 3] c (c the mean noise variance); any u > 0 is a valid variable
        u = -k1 / jnp.where(k2 != 0, k2, 1.0) - x
        u = jnp.where(jnp.isfinite(u) & (k2 != 0) & (u > 0.05 * c), jnp.minimum(u, 3.0 * c), c)
        slope = k1 * (u + x)  # d kappa / d y
        lo = jnp.where(kappa > 0, x, lo)
        hi = jnp.where(kappa > 0, hi, x)
        y = jnp.log(u + x)
        y_newton = y - kappa / jnp.where(slope < 0, slope, -1.0)
        y_lo, y_hi = jnp.log(u + lo), jnp.log(u + hi)
        newton_ok = slope < 0
        inside = newton_ok & (y_newton >= y_lo) & (y_newton <= y_hi)
        y_new = jnp.where(inside, y_newton, 0.5 * (y_lo + y_hi))
        x_new = jnp.clip(jnp.exp(y_new) - u, lo, hi)
        at_zero = (x == 0) & (kappa <= 0)  # optimum on the boundary s = 0
        # step size measured in ln(c + s^2), c fixed
        small = inside & (jnp.abs(x_new - x) <= step_tol * (c + x)) & fit & ~at_zero
        conv = ~fit | at_zero | small | (hi - lo <= 0)
        # the last (small) Newton step: theta(s^2) and chi2 to first order (envelope theorem:
        # d chi2 / d s^2 = -sum w^2 r^2 at the WLS optimum)
        dx = jnp.where(small, x_new - x, 0.0)
        theta = theta + dx[:, None] * dtheta
        chi2 = chi2 - dx * q2
        keep = ~done  # converged pixels keep their values
        return dict(
            it=st["it"] + 1,
            x=jnp.where(keep & ~conv, x_new, x),
            lo=lo, hi=hi, done=done | conv,
            theta=jnp.where(keep[:, None], theta, st["theta"]),
            s2=jnp.where(keep, x + dx, st["s2"]),
            chi2=jnp.where(keep, chi2, st["chi2"]),
            n_eval=st["n_eval"] + keep,
        )

    st = jax.lax.while_loop(cond, body, state0)
    s2 = st["s2"]
    if with_lnl:
        logw = jnp.sum(jnp.where(valid, jnp.log(jnp.where(valid, weights(s2), 1.0)), 0.0), axis=0)
        lnl = -0.5 * (st["chi2"] - logw)
    else:
        lnl = jnp.full_like(s2, jnp.nan)
    return st["theta"], jnp.sqrt(s2), lnl, st["n_eval"]


@eqx.filter_jit
def _train_chunk(design, flux, ivar, star_w, term_mask, s_hi, s_fixed, opts: TrainOptions,
                 exponents, with_lnl: bool = True):
    """Train one block of pixels: ``flux``/``ivar`` (n_stars, p) star-major as given, ``design``
    the design matrix, its transpose and the transposed term products (:func:`_train_pixels`).
    ``star_w`` (n_stars,) or None multiplies ivar (0: star not used); ``s_hi`` None: 2 std of
    the valid fluxes per pixel. Returns theta, s, ln L and the likelihood evaluations per pixel.
    """
    pairs, index = product_monomials(exponents)  # numpy (static) index tables
    if star_w is not None:
        ivar = ivar * star_w[:, None]
    theta, s, lnl, n_eval = _fit_pixels(design, pairs, index, flux, ivar, term_mask, s_hi, s_fixed,
                                        opts, with_lnl, exponents)
    enough = jnp.sum(ivar > 0, axis=0) >= jnp.sum(term_mask, axis=1)
    const = jnp.zeros_like(theta[0]).at[0].set(1.0)
    theta = jnp.where(enough[:, None], theta, const)
    s = jnp.where(enough, s, jnp.inf)
    lnl = jnp.where(enough, lnl, jnp.nan)
    return theta, s, lnl, n_eval


def _train_pixels(A, flux, ivar, star_w, term_mask, s_hi, s_fixed, opts: TrainOptions,
                  exponents, with_lnl: bool):
    """All pixels, ``pixel_batch`` at a time (None: all at once): each block of columns is
    copied into a small contiguous buffer and fitted by one compiled :func:`_train_chunk`; the
    calls are dispatched asynchronously, so the next copy overlaps the previous fit. Small
    buffers are reused by the allocator and stay in the CPU cache (one copy of the whole
    5,000 x 8,575 set into fresh memory costs ~0.3 s of page faults here, more than the copy)."""
    n, p = flux.shape
    chunk = p if opts.pixel_batch is None else min(opts.pixel_batch, p)

    def cols(x, i, w):  # (n, p) spectra -> (n, chunk), zero-padded
        out = np.zeros((x.shape[0], chunk), dtype=x.dtype)
        out[:, :w] = x[:, i:i + w]
        return out

    def rows(x, i, w, value):  # per-pixel (p, ...) -> (chunk, ...)
        out = np.full((chunk, *x.shape[1:]), value, dtype=x.dtype)
        out[:w] = x[i:i + w]
        return out

    pairs, _ = product_monomials(exponents)
    A = np.asarray(A)
    design = tuple(jnp.asarray(np.ascontiguousarray(x))
                   for x in (A, A.T, (A[:, pairs[:, 0]] * A[:, pairs[:, 1]]).T))
    outs = []
    for i in range(0, p, chunk):
        w = min(chunk, p - i)
        outs.append((_train_chunk(
            design, cols(flux, i, w), cols(ivar, i, w), star_w, rows(term_mask, i, w, True),
            None if s_hi is None else rows(s_hi, i, w, 1.0), rows(s_fixed, i, w, 0.0), opts,
            exponents, with_lnl), w))
    res = [tuple(np.asarray(a)[:w] for a in r) for r, w in outs]
    return tuple(np.concatenate(a, axis=0) for a in zip(*res, strict=True))


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
    # checked, not copied: the flux at ivar = 0 is masked inside the compiled fit
    flux, ivar = check_spectra(flux, ivar, what="training spectra", copy=False)
    n_stars, n_pix = flux.shape
    labels = check_labels(labels, n_stars, vectorizer.n_labels)
    star_w = None
    if star_mask is not None:
        star_mask = np.asarray(star_mask, bool)
        if star_mask.shape != (n_stars,):
            raise ValueError(f"star_mask must have shape ({n_stars},), got {star_mask.shape}")
        star_w = star_mask.astype(float)
    used = np.concatenate([(ivar[i:i + 256] > 0).any(axis=1)
                           for i in range(0, n_stars, 256)])
    if star_w is not None:
        used &= star_w > 0
    if used.sum() < vectorizer.n_terms:
        raise ValueError(
            f"{int(used.sum())} training stars with data, but the model has {vectorizer.n_terms} "
            f"terms: need at least as many stars as terms ({vectorizer.term_names})"
        )
    vec = vectorizer.refit(labels, used)
    A = vec.design_matrix(labels)
    term_mask = term_mask_from_censor(vec, censor, n_pix)
    # None: 2 std of the valid fluxes per pixel, computed in the fit (_fit_pixels)
    s_hi = None if options.scatter_max is None else np.full(n_pix, float(options.scatter_max))
    if scatter is not None:
        s_fixed = np.array(np.broadcast_to(np.asarray(scatter, dtype=float), (n_pix,)))
        if np.any(s_fixed < 0) or np.any(np.isnan(s_fixed)):
            raise ValueError("fixed scatter must be >= 0 and not NaN")
    elif not options.fit_scatter:
        s_fixed = np.full(n_pix, float(options.fixed_scatter))
    else:
        s_fixed = np.full(n_pix, np.nan)
    sw = None if star_w is None else jnp.asarray(star_w)
    theta, s, lnl, _ = _train_pixels(A, flux, ivar, sw, term_mask, s_hi, s_fixed, options,
                                     vec.exponents, return_log_likelihood)
    theta, s = jnp.asarray(theta), jnp.asarray(s)
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
