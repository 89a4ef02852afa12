"""Least-squares (Levenberg-Marquardt) fit of a forward model to a normalised spectrum.

The MAP of a Gaussian likelihood with flat priors inside bounds is a weighted least-squares
problem; :func:`least_squares_fit` solves it with ``optimistix.LevenbergMarquardt`` (Jacobian by
forward-mode JVPs, one per free parameter -- cheap for the 5-10 labels of a spectrum) instead of
first-order ascent on the log-density, which converges slowly on the curved, badly scaled label
surface of a synthesis. Parameters live in their bounds through a logistic transform; a Legendre
continuum ratio (``synth.observe.fit_continuum_ratio``) is re-solved inside every residual, one
per segment when several spectral windows are fitted jointly (``segments``). A
second stage refits with the pixels that the first-stage solution misses by more than ``clip``
robust standard deviations held out (features the line list lacks), the mask then fixed so that
the residual stays smooth. The formal covariance is ``s^2 (J^T W J)^-1`` at the solution with
``s^2`` the reduced chi^2 (errors scaled to the actual scatter, correlated systematics ignored).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float


def _to_unit(v, lo, hi):
    return jnp.log((v - lo) / (hi - v))


def _from_unit(z, lo, hi):
    return lo + (hi - lo) * jax.nn.sigmoid(z)


def least_squares_fit(
    forward: Callable[[dict], Float[Array, " n"]],
    wavelength: Float[Array, " n"],
    observed: Float[Array, " n"],
    ivar: Float[Array, " n"] | None,
    *,
    bounds: Mapping[str, tuple[float, float]],
    inits: list[Mapping[str, float]],
    continuum_order: int = 1,
    segments=None,
    clip: float | None = 4.0,
    max_steps: int = 60,
    rtol: float = 1e-6,
    atol: float = 1e-6,
) -> dict:
    """Fit ``forward(params) * P(lambda) ~ observed`` (``params`` a dict of the names in
    ``bounds``; P the continuum ratio of ``continuum_order``) from each start in ``inits``.

    ``segments`` (optional, integer labels, one per pixel): a separate continuum ratio for each
    label -- for disjoint windows concatenated into one spectrum (each window sorted in
    wavelength; the labels need not be contiguous).

    Returns a dict: ``params`` (best start), ``sigma`` (formal 1-sigma errors), ``cov``,
    ``chi2`` (weighted, kept pixels), ``rms`` (unweighted, all valid pixels), ``n_kept``,
    ``starts`` (per start: init, params, chi2, steps, result code), ``model`` and ``keep``.
    """
    import optimistix as optx

    from jaxstro.synth.observe import fit_continuum_ratio

    names = tuple(bounds)
    if not names:
        raise ValueError("least_squares_fit: no free parameters")
    if not inits:
        raise ValueError("least_squares_fit: give at least one start in inits")
    for p0 in inits:
        for n in names:
            lo, hi = bounds[n]
            if not lo < float(p0[n]) < hi:
                raise ValueError(f"least_squares_fit: start {n} = {p0[n]} outside {bounds[n]}")
    wl = jnp.asarray(wavelength, float)
    obs = jnp.asarray(observed, float)
    iv = jnp.ones_like(obs) if ivar is None else jnp.asarray(ivar, float)
    if obs.shape != wl.shape or iv.shape != wl.shape:
        raise ValueError("wavelength, observed and ivar must have the same shape")
    if not bool(jnp.any(iv > 0)):
        raise ValueError("least_squares_fit: no pixel with ivar > 0")
    if segments is None:
        groups = [np.arange(wl.size)]
    else:
        seg = np.asarray(segments)
        if seg.shape != wl.shape:
            raise ValueError("segments must have one label per pixel")
        groups = [np.flatnonzero(seg == s) for s in np.unique(seg)]
        for g in groups:
            if g.size <= continuum_order + 1 or np.any(np.diff(np.asarray(wl)[g]) <= 0):
                raise ValueError("least_squares_fit: each segment needs more pixels than "
                                 "continuum coefficients, in increasing wavelength")

    def params_of(z):
        return {n: _from_unit(z[i], *bounds[n]) for i, n in enumerate(names)}

    def model_of(z, keep):
        m = forward(params_of(z))
        if len(groups) == 1:
            cont, _, _ = fit_continuum_ratio(wl, obs, m, iv, order=continuum_order, n_iter=0,
                                             keep=keep)
            return m * cont
        cont = jnp.ones_like(m)
        for g in groups:
            c, _, _ = fit_continuum_ratio(wl[g], obs[g], m[g], iv[g], order=continuum_order,
                                          n_iter=0, keep=keep[g])
            cont = cont.at[g].set(c)
        return m * cont

    def residual(z, keep):
        return (obs - model_of(z, keep)) * jnp.sqrt(iv * keep)

    solver = optx.LevenbergMarquardt(rtol=rtol, atol=atol)
    # residual and Jacobian in the unit parameters (clipping, chi^2, covariance): one compile
    @jax.jit
    def res_jac(z, keep):
        m = model_of(z, keep)
        return (obs - m) * jnp.sqrt(iv * keep), jax.jacfwd(residual)(z, keep), m

    def solve(z0, keep):
        sol = optx.least_squares(residual, solver, z0, args=keep, max_steps=max_steps,
                                 throw=False)
        return sol.value, int(sol.stats["num_steps"]), str(sol.result)

    starts = []
    good = iv > 0
    for p0 in inits:
        z0 = jnp.asarray([_to_unit(float(p0[n]), *bounds[n]) for n in names], float)
        keep = good
        z, steps, code = solve(z0, keep)
        if clip is not None:
            r = np.asarray((obs - res_jac(z, keep)[2]) * jnp.sqrt(iv))
            g = np.asarray(good)
            med = np.median(r[g])
            mad = 1.4826 * np.median(np.abs(r[g] - med))
            keep = jnp.asarray(g & (np.abs(r - med) <= clip * mad))
            z, more, code = solve(z, keep)
            steps += more
        r, jz, m = res_jac(z, keep)
        starts.append({"init": {n: float(p0[n]) for n in names},
                       "params": {n: float(v) for n, v in params_of(z).items()},
                       "chi2": float(jnp.sum(r**2)), "steps": steps, "result": code, "_z": z,
                       "_keep": keep, "_r": r, "_jz": jz, "_m": m})
    best = min(starts, key=lambda s: s["chi2"])
    z, keep, jz, model = best["_z"], best["_keep"], best["_jz"], best["_m"]
    # formal covariance in the physical parameters: d resid / d p = (d resid / d z) / (dp / dz)
    sg = 1.0 / (1.0 + np.exp(-np.asarray(z)))
    dpdz = np.array([(bounds[n][1] - bounds[n][0]) for n in names]) * sg * (1.0 - sg)
    jp = np.asarray(jz) / dpdz[None, :]
    n_kept = int(jnp.sum(keep))
    dof = max(n_kept - len(names) - len(groups) * (continuum_order + 1), 1)
    s2 = best["chi2"] / dof
    cov = s2 * np.linalg.inv(jp.T @ jp)
    rms = float(jnp.sqrt(jnp.sum(jnp.where(good, (obs - model) ** 2, 0.0)) / jnp.sum(good)))
    for s in starts:
        for k in ("_z", "_keep", "_r", "_jz", "_m"):
            s.pop(k)
    return {"params": best["params"], "sigma": {n: float(np.sqrt(cov[i, i]))
                                                for i, n in enumerate(names)},
            "cov": cov, "names": names, "chi2": best["chi2"], "reduced_chi2": s2, "rms": rms,
            "n_kept": n_kept, "starts": starts, "model": model, "keep": keep}
