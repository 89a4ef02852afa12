"""The test step: maximum-likelihood labels of a star given a trained model (thesis §2.3).

Per star, ``chi2(l) = sum_lambda w_lambda (f_lambda - theta_lambda . f(l))^2`` with
``w = ivar / (1 + ivar s^2)`` is minimised over the standardised labels by Levenberg-Marquardt
(optimistix) from several starting points; the best (lowest chi2) solution is kept. The label
covariance is the inverse of the Gauss-Newton Fisher matrix ``J^T W J`` at the optimum,
transformed to physical units. ``fit_labels_one`` is the per-star function; ``fit_labels`` is
its vmap over stars, run in batches and sharded over all visible devices.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P
from jaxtyping import Array, Bool, Float

from ._model import CannonModel
from ._validate import check_spectra, check_wavelength


class LevenbergMarquardt(eqx.Module):
    """Levenberg-Marquardt on the quadratic form of chi^2 (default solver; pure JAX).

    The model is linear in the terms, ``m = Theta v(x)``, so per star
    ``chi2(x) = f'Wf - 2 c.v + v'Gv`` with ``G = Theta' W Theta`` and ``c = Theta' W f``
    (computed once per star; for a batch they are one matrix product). Every iteration then costs
    O(n_terms^2), independent of the number of pixels: gradient ``D'(Gv - c)`` with ``D = dv/dx``
    and the exact Hessian of chi2 (Gauss-Newton matrix ``D'GD`` where that is not positive
    definite), Marquardt-damped step by Cholesky, accepted if chi2 drops. At most ``n_iter``
    iterations; a star stops once its Newton decrement is below ``1e-4 * tol * max(1, chi2)``
    (after that step; a vmapped batch runs until its last star stops); ``converged``: the
    decrement at the result is below ``tol * max(1, chi2)``.
    """

    n_iter: int = eqx.field(static=True, default=30)
    damping: float = eqx.field(static=True, default=1e-3)
    tol: float = eqx.field(static=True, default=1e-8)


class OptimistixLM(eqx.Module):
    """``optimistix.LevenbergMarquardt`` on the pixel residuals (reference solver, slower)."""

    max_steps: int = eqx.field(static=True, default=100)
    rtol: float = eqx.field(static=True, default=1e-9)
    atol: float = eqx.field(static=True, default=1e-9)


class FitOptions(eqx.Module):
    """Options of the label fit (all static).

    Attributes:
        starts: candidate starting points in units of the training range,
            ``l0 = mid + c * half_range`` (``mid``/``half_range`` of the training labels), one
            tuple of n_labels per candidate. None: the grid ``c in {-0.5, 0, 0.5}^n_labels``
            (or the centre and +-0.5 along each axis when that grid exceeds 729 points).
        n_starts: chi^2 is evaluated at every candidate (one matrix product for all stars) and
            Levenberg-Marquardt is run from the ``n_starts`` best ones; the lowest chi^2 wins.
            The chi^2 surface can have several minima: on the 224 held-out APOGEE stars of the
            tests (quadratic 3-label model) one start ends in a local minimum for 8 stars (chi^2
            up to 107 above the best), 3 starts for 4, 9 starts for none. 9 starts cost 1.5x the
            time of one on 8,575-pixel spectra (0.29 vs 0.19 ms per star, one CPU device) and 4x
            on the 100-pixel test fixture. Use ``n_starts >= 9`` where a missed minimum matters.
        solver: :class:`LevenbergMarquardt` (default, on the chi^2 quadratic form) or
            :class:`OptimistixLM` (optimistix on the pixel residuals).
        extrapolation_margin: labels further than this fraction of the training range outside
            it are flagged ``extrapolated``.
        windows: optional per-label pixel windows ``(n_labels, n_pixels)`` bool (thesis §2.4.1,
            GALAH-style): after the joint fit, each label with a non-empty window is refitted
            alone (others fixed) using only the pixels of its window.
    """

    starts: tuple[tuple[float, ...], ...] | None = eqx.field(static=True, default=None)
    n_starts: int = eqx.field(static=True, default=1)
    solver: LevenbergMarquardt | OptimistixLM = eqx.field(static=True,
                                                         default=LevenbergMarquardt())
    extrapolation_margin: float = eqx.field(static=True, default=0.1)
    windows: Bool[Array, "n_labels n_pixels"] | None = None

    def start_grid(self, n_labels: int) -> np.ndarray:
        if self.starts is not None:
            c = np.asarray(self.starts, dtype=float)
            if c.ndim != 2 or c.shape[1] != n_labels:
                raise ValueError(f"starts must be (n_starts, {n_labels}), got {c.shape}")
            return c
        if 3**n_labels <= 729:
            grid = np.meshgrid(*([np.array([0.0, -0.5, 0.5])] * n_labels), indexing="ij")
            return np.stack([g.ravel() for g in grid], axis=1)
        rows = [np.zeros(n_labels)]
        for j in range(n_labels):
            for sgn in (-0.5, 0.5):
                e = np.zeros(n_labels)
                e[j] = sgn
                rows.append(e)
        return np.array(rows)


class LabelFit(eqx.Module):
    """Result of the test step (leading axis: stars, when batched).

    Attributes:
        labels: ML labels, physical units.
        covariance: ``(n_labels, n_labels)`` label covariance, physical units.
        chi2: chi^2 at the optimum (with the model scatter in the weights).
        reduced_chi2: ``chi2 / (n_pixels_used - n_labels)``.
        n_pixels_used: pixels with nonzero weight.
        converged: the optimiser reported success.
        extrapolated: a label lies beyond the training range by more than the margin.
        start: index of the winning starting point.
    """

    labels: Float[Array, "... n_labels"]
    covariance: Float[Array, "... n_labels n_labels"]
    chi2: Float[Array, "..."]
    reduced_chi2: Float[Array, "..."]
    n_pixels_used: Array
    converged: Bool[Array, "..."]
    extrapolated: Bool[Array, "..."]
    start: Array

    @property
    def uncertainty(self):
        return jnp.sqrt(jnp.diagonal(self.covariance, axis1=-2, axis2=-1))


def _weights(model: CannonModel, ivar):
    s2 = model.scatter**2
    ok = (ivar > 0) & jnp.isfinite(s2)
    return jnp.where(ok, ivar / (1.0 + ivar * jnp.where(ok, s2, 0.0)), 0.0)


def _term_derivatives(exponents, x):
    """Terms ``v`` (t,), first ``D = dv/dx`` (t, n) and second derivatives (t, n, n) of the
    monomials ``v_k = prod_j x_j^e_kj`` in closed form (static exponents: the powers unroll into
    ``lax.integer_pow``; no autodiff inside the Levenberg-Marquardt loop)."""
    n = x.shape[0]
    one = jnp.ones((), x.dtype)
    zero = jnp.zeros((), x.dtype)

    def mono(e):  # coefficient * prod x_j^e_j for integer e (0 if any e_j < 0)
        if any(ej < 0 for ej in e):
            return zero
        t = one
        for j, ej in enumerate(e):
            if ej > 0:
                t = t * jax.lax.integer_pow(x[j], ej)
        return t

    v, D, H = [], [], []
    for row in exponents:
        row = list(row)
        v.append(mono(row))
        drow, hrow = [], []
        for i in range(n):
            ei = list(row)
            ei[i] -= 1
            drow.append(row[i] * mono(ei) if row[i] > 0 else zero)
            hi = []
            for j in range(n):
                if row[i] == 0 or ei[j] <= 0:
                    hi.append(zero)
                    continue
                eij = list(ei)
                eij[j] -= 1
                hi.append(row[i] * ei[j] * mono(eij))
            hrow.append(jnp.stack(hi))
        D.append(jnp.stack(drow))
        H.append(jnp.stack(hrow))
    return jnp.stack(v), jnp.stack(D), jnp.stack(H)


def _chol_solve(H, b):
    """Solve ``H y = b`` for a small symmetric positive-definite ``H`` (n, n), ``b`` (n,) or (n, m).

    For n <= 8 the Cholesky factorisation and the two triangular solves are unrolled into scalar
    operations (vectorised over any vmap batch; a batched LAPACK call per 3x3 system costs more
    than the arithmetic). A non-positive pivot gives non-finite output, like ``cho_factor``.
    """
    n = H.shape[0]
    if n > 8:
        return jax.scipy.linalg.cho_solve(jax.scipy.linalg.cho_factor(H, lower=True), b)
    L = [[None] * n for _ in range(n)]
    for j in range(n):
        d = H[j, j] - sum(L[j][k] * L[j][k] for k in range(j))
        L[j][j] = jnp.sqrt(d)
        for i in range(j + 1, n):
            L[i][j] = (H[i, j] - sum(L[i][k] * L[j][k] for k in range(j))) / L[j][j]
    y = [None] * n
    for i in range(n):
        y[i] = (b[i] - sum(L[i][k] * y[k] for k in range(i))) / L[i][i]
    z = [None] * n
    for i in reversed(range(n)):
        z[i] = (y[i] - sum(L[k][i] * z[k] for k in range(i + 1, n))) / L[i][i]
    return jnp.stack(z)


def _lm_quadform(vec, G, c, fwf, x0, free, opts: LevenbergMarquardt):
    """Minimise ``chi2(x) = fwf - 2 c.v(x) + v(x)' G v(x)`` over the ``free`` labels from x0.

    Each iteration: closed-form terms and derivatives, gradient ``D'(Gv - c)`` and exact Hessian
    ``D'GD + sum_k (Gv - c)_k d2v_k`` of chi2/2, a Marquardt-damped step by an unrolled Cholesky
    (the Gauss-Newton matrix ``D'GD`` where the exact Hessian is not positive definite), accepted
    if chi2 drops. The loop stops after the step from a point whose Newton decrement is below
    ``1e-4 * tol * max(1, chi2)`` (taken unconditionally: quadratic convergence leaves far less
    than the tolerance), or after ``n_iter`` iterations. ``converged``: the Newton decrement
    ``g' H^-1 g`` at the returned point is below ``tol * max(1, chi2)``.
    """
    n = x0.shape[0]
    eye = jnp.eye(n, dtype=x0.dtype)
    both = free[:, None] & free[None, :]
    exps = vec.exponents

    def chi2(x):
        v = vec.terms_std(x)
        return fwf - 2.0 * c @ v + v @ G @ v

    def derivs(x):
        v, D, H2 = _term_derivatives(exps, x)
        r = G @ v - c
        g = jnp.where(free, D.T @ r, 0.0)
        H_gn = D.T @ G @ D
        H_full = H_gn + jnp.einsum("k,kij->ij", r, H2)
        return g, jnp.where(both, H_gn, eye), jnp.where(both, H_full, eye)

    def damped_step(H, g, lam):
        Hd = H + lam * jnp.diag(jnp.abs(jnp.diagonal(H))) + 1e-300 * eye
        return -_chol_solve(Hd, g)

    def decrement(H, g):
        return g @ _chol_solve(H, g)

    def cond(state):
        it, _, _, _, done = state
        return (it < opts.n_iter) & ~done

    def body(state):
        it, x, q, lam, _ = state
        g, H_gn, H_full = derivs(x)
        dx = damped_step(H_full, g, lam)
        dx = jnp.where(jnp.all(jnp.isfinite(dx)), dx, damped_step(H_gn, g, lam))
        dx = jnp.where(jnp.isfinite(dx), dx, 0.0)
        x_new = x + dx
        q_new = chi2(x_new)
        dec = decrement(H_gn, g)
        # this close to the optimum the chi2 change (~dec) is at the roundoff of the quadratic
        # form (~1e-16 f'Wf), so the final step is taken without the chi2 test and the loop ends
        done = (dec < 1e-4 * opts.tol * jnp.maximum(1.0, q)) & jnp.isfinite(q_new)
        acc = (q_new <= q) | done
        done = done | ~jnp.isfinite(dec) | jnp.all(dx == 0)
        return (it + 1, jnp.where(acc, x_new, x), jnp.where(acc, q_new, q),
                jnp.clip(jnp.where(acc, lam * 0.3, lam * 10.0), 1e-12, 1e12), done)

    q0 = chi2(x0)
    state0 = (jnp.zeros((), jnp.int32), x0, q0, jnp.asarray(opts.damping, x0.dtype),
              jnp.zeros((), bool))
    _, x, q, _, _ = jax.lax.while_loop(cond, body, state0)
    g, H, _ = derivs(x)
    # Newton decrement g' H^-1 g: the chi2 still to gain; converged if tiny
    return x, q, decrement(H, g) < opts.tol * jnp.maximum(1.0, q)


def _quadform_one(model: CannonModel, flux, ivar):
    """Per-star chi^2 quadratic form: ``G = Theta' W Theta``, ``c = Theta' W f``, ``f'Wf``."""
    flux = jnp.where(ivar > 0, flux, 0.0)
    w = _weights(model, ivar)
    Th = model.theta
    return Th.T @ (w[:, None] * Th), Th.T @ (w * flux), jnp.sum(w * flux * flux), jnp.sum(w > 0)


def theta_products(theta):
    """``(n_pixels, t(t+1)/2)`` products ``theta_i theta_j`` (i <= j) and the (t, t) unpacking."""
    t = theta.shape[1]
    iu, ju = np.triu_indices(t)
    index = np.zeros((t, t), dtype=np.int32)
    index[iu, ju] = np.arange(iu.size)
    index[ju, iu] = np.arange(iu.size)
    return theta[:, iu] * theta[:, ju], index


def _quadform_batch(model: CannonModel, flux, ivar):
    """The quadratic forms of a batch of stars by two matrix products over the pixels.

    ``G_s = sum_p w_sp theta_p theta_p'`` for all stars at once is ``W @ P`` with ``P`` the
    ``t(t+1)/2`` distinct products of theta columns (55 for a quadratic 3-label model): after it,
    every Levenberg-Marquardt iteration costs O(n_terms^2), independent of the pixel count.
    """
    flux = jnp.where(ivar > 0, flux, 0.0)
    W = _weights(model, ivar)  # (stars, pixels)
    P, index = theta_products(model.theta)
    G = (W @ P)[:, index]
    WF = W * flux
    return G, WF @ model.theta, jnp.sum(WF * flux, axis=1), jnp.sum(W > 0, axis=1)


def _quadform_blocked(model: CannonModel, flux, ivar, block: int = 128):
    """:func:`_quadform_batch` over blocks of ``block`` stars (``lax.map``): the per-block
    weight arrays stay in the CPU cache, ~1.7x faster than one pass over a 2,048-star batch."""
    n = flux.shape[0]
    if n <= block:
        return _quadform_batch(model, flux, ivar)
    nb = -(-n // block)
    pad = nb * block - n
    f = jnp.pad(flux, ((0, pad), (0, 0))).reshape(nb, block, -1)
    iv = jnp.pad(ivar, ((0, pad), (0, 0))).reshape(nb, block, -1)
    out = jax.lax.map(lambda a: _quadform_batch(model, *a), (f, iv))
    return jax.tree.map(lambda x: x.reshape(nb * block, *x.shape[2:])[:n], out)


def fit_labels_one(
    model: CannonModel,
    flux: Float[Array, " n_pixels"],
    ivar: Float[Array, " n_pixels"],
    options: FitOptions = FitOptions(),
) -> LabelFit:
    """ML labels of one star (jit/vmap-able). ``flux``/``ivar`` on the model's grid."""
    if isinstance(options.solver, OptimistixLM) or options.windows is not None:
        return _fit_one_pixels(model, flux, ivar, options)
    return _fit_from_quadform(model, *_quadform_one(model, flux, ivar), options)


def _starts(model: CannonModel, options: FitOptions):
    vec = model.vectorizer
    mid = 0.5 * (model.label_min + model.label_max)
    half = 0.5 * (model.label_max - model.label_min)
    half = jnp.where(half > 0, half, vec.scales)
    return vec.standardise(mid + jnp.asarray(options.start_grid(vec.n_labels)) * half)


def _finish(model: CannonModel, x, chi2, ok, best, cov_std, n_used, options: FitOptions):
    vec = model.vectorizer
    labels = vec.unstandardise(x)
    cov = cov_std * vec.scales[:, None] * vec.scales[None, :]
    dof = jnp.maximum(n_used - vec.n_labels, 1)
    lo = model.label_min - options.extrapolation_margin * (model.label_max - model.label_min)
    hi = model.label_max + options.extrapolation_margin * (model.label_max - model.label_min)
    extrap = jnp.any((labels < lo) | (labels > hi))
    return LabelFit(labels, cov, chi2, chi2 / dof, n_used, ok, extrap, best)


def _fit_from_quadform(model: CannonModel, G, c, fwf, n_used, options: FitOptions) -> LabelFit:
    """The default test step of one star from its chi^2 quadratic form (no pixel arrays)."""
    vec = model.vectorizer
    n_lab = vec.n_labels
    cands = _starts(model, options)
    V = jax.vmap(vec.terms_std)(cands)  # (n_candidates, n_terms)
    chi2_c = fwf - 2.0 * V @ c + jnp.einsum("ki,ij,kj->k", V, G, V)
    k = min(options.n_starts, cands.shape[0])
    _, top = jax.lax.top_k(-jnp.where(jnp.isfinite(chi2_c), chi2_c, jnp.inf), k)
    all_free = jnp.ones(n_lab, bool)
    xs, chi2s, oks = jax.vmap(
        lambda x0: _lm_quadform(vec, G, c, fwf, x0, all_free, options.solver))(cands[top])
    best = jnp.argmin(jnp.where(jnp.isfinite(chi2s), chi2s, jnp.inf))
    x, chi2, ok = xs[best], chi2s[best], oks[best]
    _, D, _ = _term_derivatives(vec.exponents, x)
    F = D.T @ G @ D  # = J'J, the Gauss-Newton Fisher matrix
    cov_std = _chol_solve(F, jnp.eye(n_lab, dtype=F.dtype))
    return _finish(model, x, chi2, ok, top[best], cov_std, n_used, options)


def _fit_one_pixels(model, flux, ivar, options: FitOptions) -> LabelFit:
    """Test step with pixel-level work: the optimistix solver and/or per-label windows."""
    vec = model.vectorizer
    n_lab = vec.n_labels
    flux = jnp.where(ivar > 0, flux, 0.0)
    w = _weights(model, ivar)
    sw = jnp.sqrt(w)
    Th = model.theta
    G = Th.T @ (w[:, None] * Th)
    c = Th.T @ (w * flux)
    fwf = jnp.sum(w * flux * flux)
    mid = 0.5 * (model.label_min + model.label_max)
    half = 0.5 * (model.label_max - model.label_min)
    half = jnp.where(half > 0, half, vec.scales)
    cands = vec.standardise(mid + jnp.asarray(options.start_grid(n_lab)) * half)
    V = jax.vmap(vec.terms_std)(cands)  # (n_candidates, n_terms)
    chi2_c = fwf - 2.0 * V @ c + jnp.einsum("ki,ij,kj->k", V, G, V)
    k = min(options.n_starts, cands.shape[0])
    _, top = jax.lax.top_k(-jnp.where(jnp.isfinite(chi2_c), chi2_c, jnp.inf), k)
    x0s = cands[top]
    all_free = jnp.ones(n_lab, bool)

    def resid(x, args=None):
        return sw * (flux - Th @ vec.terms_std(x))

    solver = options.solver
    if isinstance(solver, OptimistixLM):
        optlm = optx.LevenbergMarquardt(rtol=solver.rtol, atol=solver.atol)

        def solve(x0):
            sol = optx.least_squares(resid, optlm, x0, max_steps=solver.max_steps, throw=False)
            return sol.value, sol.result == optx.RESULTS.successful
    else:

        def solve(x0):
            x, _, ok = _lm_quadform(vec, G, c, fwf, x0, all_free, solver)
            return x, ok

    xs, oks = jax.vmap(solve)(x0s)
    chi2s = jax.vmap(lambda x: jnp.sum(resid(x) ** 2))(xs)
    best = jnp.argmin(jnp.where(jnp.isfinite(chi2s), chi2s, jnp.inf))
    x, chi2, ok = xs[best], chi2s[best], oks[best]
    best = top[best]

    _, D, _ = _term_derivatives(vec.exponents, x)
    F = D.T @ G @ D  # = J'J, the Gauss-Newton Fisher matrix
    cov_std = _chol_solve(F, jnp.eye(n_lab, dtype=F.dtype))

    if options.windows is not None:
        win = jnp.asarray(options.windows, dtype=bool)
        has_win = jnp.any(win, axis=1)
        lm = solver if isinstance(solver, LevenbergMarquardt) else LevenbergMarquardt()

        def refit(j):
            wj = w * win[j]
            Gj = Th.T @ (wj[:, None] * Th)
            cj = Th.T @ (wj * flux)
            free = jnp.arange(n_lab) == j
            xj, _, _ = _lm_quadform(vec, Gj, cj, jnp.sum(wj * flux * flux), x, free, lm)
            Dj = _term_derivatives(vec.exponents, xj)[1][:, j]
            return xj[j], 1.0 / (Dj @ Gj @ Dj)

        xj, varj = jax.vmap(refit)(jnp.arange(n_lab))
        x = jnp.where(has_win, xj, x)
        keep = ~has_win
        cov_std = jnp.where(keep[:, None] & keep[None, :], cov_std, 0.0)
        cov_std = cov_std + jnp.diag(jnp.where(has_win, varj, 0.0))

    labels = vec.unstandardise(x)
    cov = cov_std * vec.scales[:, None] * vec.scales[None, :]
    n_used = jnp.sum(w > 0)
    dof = jnp.maximum(n_used - n_lab, 1)
    lo = model.label_min - options.extrapolation_margin * (model.label_max - model.label_min)
    hi = model.label_max + options.extrapolation_margin * (model.label_max - model.label_min)
    extrap = jnp.any((labels < lo) | (labels > hi))
    return LabelFit(labels, cov, chi2, chi2 / dof, n_used, ok, extrap, best)


@eqx.filter_jit
def _fit_batch(model, flux, ivar, options):
    if isinstance(options.solver, OptimistixLM) or options.windows is not None:
        return jax.vmap(_fit_one_pixels, in_axes=(None, 0, 0, None))(model, flux, ivar, options)
    G, c, fwf, n_used = _quadform_blocked(model, flux, ivar)
    return jax.vmap(_fit_from_quadform, in_axes=(None, 0, 0, 0, 0, None))(
        model, G, c, fwf, n_used, options)


def star_sharding():
    """1-D mesh over all visible devices, stars split along it."""
    devs = jax.devices()
    mesh = jax.make_mesh(
        (len(devs),), ("stars",), devices=devs, axis_types=(jax.sharding.AxisType.Auto,)
    )
    return NamedSharding(mesh, P("stars")), len(devs)


def model_replicas(model: CannonModel) -> list:
    """The model placed once on every visible device (for :func:`fit_batch_sharded`)."""
    return [jax.device_put(model, dev) for dev in star_sharding()[0].mesh.devices.ravel()]


def fit_batch_sharded(model, flux, ivar, options: FitOptions, replicas=None) -> LabelFit:
    """Fit a batch whose size is a multiple of the device count, split over all devices.

    Each device gets its own contiguous slice of the stars and runs the compiled fit on it
    independently (asynchronous dispatch, so the devices run concurrently); the results are
    assembled into arrays sharded along the star axis. One program per device rather than one
    automatically sharded program: there, the stopping test of the vmapped optimiser loops is
    reduced across devices at every iteration, and with the optimistix solver on several host
    devices that program was seen to stall without using the CPU. The fit is compiled once
    per device. ``replicas``: :func:`model_replicas` of ``model``, to reuse across batches.
    """
    sharding, n_dev = star_sharding()
    if n_dev == 1:
        return _fit_batch(model, jnp.asarray(flux), jnp.asarray(ivar), options)
    n = flux.shape[0]
    if n % n_dev:
        raise ValueError(f"batch of {n} stars is not a multiple of the {n_dev} devices")
    m = n // n_dev
    replicas = model_replicas(model) if replicas is None else replicas
    parts = []
    for k, (dev, mk) in enumerate(zip(sharding.mesh.devices.ravel(), replicas, strict=True)):
        sl = slice(k * m, (k + 1) * m)
        parts.append(_fit_batch(mk, jax.device_put(flux[sl], dev),
                                jax.device_put(ivar[sl], dev), options))
    return jax.tree.map(
        lambda *xs: jax.make_array_from_single_device_arrays((n, *xs[0].shape[1:]), sharding,
                                                             list(xs)), *parts)


def _pad_rows(x: np.ndarray, n: int) -> np.ndarray:
    if x.shape[0] == n:
        return x
    pad = np.repeat(x[-1:], n - x.shape[0], axis=0) if x.shape[0] else np.zeros((n, *x.shape[1:]))
    return np.concatenate([x, pad], axis=0)


def fit_labels(
    model: CannonModel,
    flux: Float[Array, "n_stars n_pixels"],
    ivar: Float[Array, "n_stars n_pixels"],
    *,
    wavelength: Float[Array, " n_pixels"] | None = None,
    options: FitOptions = FitOptions(),
    batch_size: int = 256,
    progress: bool = False,
) -> LabelFit:
    """ML labels for many stars (the test step), returned as numpy arrays in a :class:`LabelFit`.

    Stars are processed ``batch_size`` at a time by one compiled function (the last batch is
    padded), each batch sharded over all visible devices. ``ivar = 0`` pixels are ignored.
    Spectra on a different wavelength grid raise a ValueError (resample them first). The inputs
    are checked but not copied; on CPU, batches of a few hundred stars are fastest (the copy of
    a batch into a new JAX buffer is dominated by page faults once it exceeds a few tens of MB).
    """
    check_wavelength(model.wavelength, wavelength)
    flux, ivar = check_spectra(flux, ivar, n_pixels=model.n_pixels, what="test spectra",
                               copy=False)
    n = flux.shape[0]
    if n == 0:
        raise ValueError("no test spectra given")
    _, n_dev = star_sharding()
    bs = int(np.ceil(min(batch_size, n) / n_dev)) * n_dev
    return fit_padded(model, flux, ivar, options, bs, progress=progress)


def fit_padded(model, flux, ivar, options, batch: int, *, progress: bool = False) -> LabelFit:
    """Checked numpy spectra -> LabelFit, in batches of exactly ``batch`` stars (last padded)."""
    n = flux.shape[0]
    _, n_dev = star_sharding()
    batch = int(np.ceil(batch / n_dev)) * n_dev
    out = []
    replicas = model_replicas(model) if n_dev > 1 else None
    rng = range(0, n, batch)
    if progress:
        from tqdm.auto import tqdm

        rng = tqdm(rng, desc="cannon labels", unit="batch")
    for i in rng:
        f = _pad_rows(flux[i : i + batch], batch)
        v = _pad_rows(ivar[i : i + batch], batch)
        # kept on the device until the end: the next batch is copied while this one runs
        out.append((fit_batch_sharded(model, f, v, options, replicas), min(batch, n - i)))
    return jax.tree.map(lambda *a: np.concatenate(a, axis=0),
                        *[jax.tree.map(lambda a, m=m: np.asarray(a)[:m], r) for r, m in out])
