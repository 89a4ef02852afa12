"""From a synthetic spectrum to an observed one: broadening, shift, medium, continuum, residuals.

``synthesize`` returns the emergent normalised flux on a vacuum grid. An observation of it adds

1. rotation (``spectra.rotational_broaden``, Gray kernel, ``vsini`` [km/s], limb darkening
   ``epsilon``) and radial-tangential macroturbulence (``spectra.macroturbulent_broaden``,
   ``vmac`` [km/s]);
2. the instrument (``spectra.convolve_lsf``: Gaussian LSF at resolving power ``R``);
3. a radial velocity ``rv`` [km/s] (``spectra.doppler_shift``) and, for air wavelengths, the
   vacuum -> air conversion (``spectra.vacuum_to_air``), then linear interpolation onto the
   observed pixels (the synthesis grid should be a few times finer than them);
4. a smooth continuum mismatch: observed = model x P(lambda), P a low-order Legendre polynomial
   fitted by weighted least squares with iterative clipping (:func:`fit_continuum_ratio`).

:func:`fit_broadening` fits (R, vmac, vsini, rv) of one synthetic spectrum to an observed one
(Levenberg-Marquardt in bounded, transformed parameters, the continuum ratio re-fitted inside the
residual), and :func:`residual_features` lists what is left: absorption the model lacks
(residual < 0: lines missing from, or too weak in, the line list) and lines too strong in it.

All functions are pure JAX (jit/grad-able) except :func:`fit_broadening`'s driver loop (optimistix)
and :func:`residual_features`, which works on concrete arrays and returns a table.
"""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

__all__ = ["observe", "ObservationGrid", "observation_grid", "fit_continuum_ratio",
           "fit_broadening", "residual_features", "BROADENING_BOUNDS"]

#: default bounds of the broadening parameters fitted by :func:`fit_broadening` (R, vmac and
#: vsini are further limited to what the ``ObservationGrid`` windows cover)
BROADENING_BOUNDS = {"R": (5_000.0, 300_000.0), "vmac": (0.0, 15.0), "vsini": (0.0, 30.0),
                     "rv": (-30.0, 30.0)}


class ObservationGrid:
    """Static layout of an observation: synthesis grid (vacuum, Å), observed pixels (in their
    medium) and the convolution half-widths that cover the largest broadening allowed."""

    def __init__(self, synth_wavelength, obs_wavelength, medium, lsf_hw, rot_hw, mac_hw,
                 min_R, max_vsini, max_vmac):
        self.min_R, self.max_vsini, self.max_vmac = float(min_R), float(max_vsini), float(max_vmac)
        self.synth_wavelength = jnp.asarray(synth_wavelength, float)
        self.obs_wavelength = jnp.asarray(obs_wavelength, float)
        self.medium = medium
        self.lsf_hw, self.rot_hw, self.mac_hw = int(lsf_hw), int(rot_hw), int(mac_hw)
        from jaxstro.spectra import air_to_vacuum

        w = self.obs_wavelength
        self.obs_vacuum = air_to_vacuum(w) if medium == "air" else w


def observation_grid(synth_wavelength, obs_wavelength, *, medium: str = "air",
                     min_R: float = 5_000.0, max_vsini: float = 30.0,
                     max_vmac: float = 15.0) -> ObservationGrid:
    """Build the :class:`ObservationGrid` for :func:`observe` under ``jit``/``grad``: kernel
    windows sized for the smallest ``min_R`` and largest ``max_vsini``/``max_vmac`` [km/s]."""
    from jaxstro.spectra import macro_half_width
    from jaxstro.spectra._banded import half_width_pixels
    from jaxstro.spectra._broaden import C_KMS, FWHM_TO_SIGMA

    if medium not in ("air", "vacuum"):
        raise ValueError(f"medium must be 'air' or 'vacuum', got {medium!r}")
    ws = np.asarray(synth_wavelength, float)
    wo = np.asarray(obs_wavelength, float)
    if ws.ndim != 1 or np.any(np.diff(ws) <= 0) or wo.ndim != 1 or np.any(np.diff(wo) <= 0):
        raise ValueError("synthesis and observed wavelengths must be 1-D and increasing")
    lsf_hw = half_width_pixels(ws, 5.0 * FWHM_TO_SIGMA * ws / min_R)
    rot_hw = half_width_pixels(ws, ws * max_vsini / C_KMS) + 1
    mac_hw = macro_half_width(ws, max_vmac)
    return ObservationGrid(ws, wo, medium, lsf_hw, rot_hw, mac_hw, min_R, max_vsini, max_vmac)


def observe(
    grid: ObservationGrid,
    normalized: Float[Array, " n_synth"],
    *,
    R: float | Array | None = None,
    vmac: float | Array = 0.0,
    vsini: float | Array = 0.0,
    rv: float | Array = 0.0,
    epsilon: float = 0.6,
) -> Float[Array, " n_obs"]:
    """Normalised synthetic flux (on ``grid.synth_wavelength``, vacuum, rest frame) as observed on
    ``grid.obs_wavelength``: rotation -> macroturbulence -> LSF at ``R`` (None: no LSF) -> Doppler
    shift by ``rv`` -> medium -> linear interpolation. Differentiable in every argument."""
    from jaxstro.spectra import (
        convolve_lsf,
        doppler_shift,
        macroturbulent_broaden,
        rotational_broaden,
    )

    wl = grid.synth_wavelength
    f = jnp.asarray(normalized)
    f = rotational_broaden(wl, f, vsini, epsilon, half_width=grid.rot_hw)
    f = macroturbulent_broaden(wl, f, vmac, half_width=grid.mac_hw)
    if R is not None:
        f = convolve_lsf(wl, f, R, half_width=grid.lsf_hw)
    return jnp.interp(grid.obs_vacuum, doppler_shift(wl, rv), f)


def _legendre(x, order):
    cols = [jnp.ones_like(x), x]
    for k in range(1, order):
        cols.append(((2 * k + 1) * x * cols[k] - k * cols[k - 1]) / (k + 1))
    return jnp.stack(cols[: order + 1], axis=-1)


def fit_continuum_ratio(
    wavelength: Float[Array, " n"],
    observed: Float[Array, " n"],
    model: Float[Array, " n"],
    ivar: Float[Array, " n"] | None = None,
    *,
    order: int = 2,
    n_iter: int = 5,
    clip: float = 3.0,
    keep: Float[Array, " n"] | None = None,
) -> tuple[Float[Array, " n"], Float[Array, " k"], Float[Array, " n"]]:
    """The continuum ratio P (Legendre polynomial of ``order`` in wavelength scaled to [-1, 1])
    with ``observed ~ model * P``, by weighted least squares (weights ``ivar``, default 1).

    ``n_iter`` rounds of clipping drop pixels whose residual exceeds ``clip`` times the robust
    scatter (1.4826 x median absolute deviation) of the kept pixels: features the model lacks
    then do not pull the continuum. Returns (P on ``wavelength``, coefficients, kept-pixel mask).
    The mask is held fixed under differentiation (``stop_gradient``). ``keep`` (bool) starts the
    clipping from a given mask (with ``n_iter=0``: a fixed mask).
    """
    w = jnp.asarray(wavelength, float)
    obs = jnp.asarray(observed, float)
    mod = jnp.asarray(model, float)
    iv = jnp.ones_like(obs) if ivar is None else jnp.asarray(ivar, float)
    x = 2.0 * (w - w[0]) / (w[-1] - w[0]) - 1.0
    a = mod[:, None] * _legendre(x, order)

    def solve(keep):
        wt = iv * keep
        m = a.T @ (wt[:, None] * a)
        b = a.T @ (wt * obs)
        chol = jnp.linalg.cholesky(m)
        return jax.scipy.linalg.cho_solve((chol, True), b)

    keep = ((iv > 0) if keep is None else (jnp.asarray(keep) & (iv > 0))).astype(float)
    for _ in range(n_iter):
        c = solve(keep)
        r = jax.lax.stop_gradient((obs - a @ c) * jnp.sqrt(iv))
        good = keep > 0
        med = jnp.nanmedian(jnp.where(good, r, jnp.nan))
        mad = 1.4826 * jnp.nanmedian(jnp.where(good, jnp.abs(r - med), jnp.nan))
        keep = ((jnp.abs(r - med) <= clip * mad) & (iv > 0)).astype(float)
    c = solve(keep)
    return _legendre(x, order) @ c, c, keep > 0


def _to_unit(v, lo, hi):
    return jnp.log((v - lo) / (hi - v))


def _from_unit(z, lo, hi):
    return lo + (hi - lo) * jax.nn.sigmoid(z)


def fit_broadening(
    grid: ObservationGrid,
    normalized: Float[Array, " n_synth"],
    observed: Float[Array, " n_obs"],
    ivar: Float[Array, " n_obs"] | None = None,
    *,
    init: Mapping[str, float] | None = None,
    free: tuple[str, ...] = ("R", "vmac", "rv"),
    bounds: Mapping[str, tuple[float, float]] | None = None,
    continuum_order: int = 2,
    max_steps: int = 100,
) -> dict:
    """Least-squares fit of the broadening and shift (``free`` among R, vmac, vsini, rv) that make
    ``observe(grid, normalized, ...)`` x continuum ratio match ``observed``.

    Parameters live in (lo, hi) through a logistic transform (``bounds``, default
    :data:`BROADENING_BOUNDS`); the continuum ratio (:func:`fit_continuum_ratio` with
    ``continuum_order``) is re-fitted inside every residual evaluation. Non-free parameters take
    ``init`` (defaults R = 50,000, vmac = 3, vsini = 1.6, rv = 0 km/s). Optimiser:
    ``optimistix.LevenbergMarquardt``. Returns a dict with the parameters, ``model`` (broadened,
    continuum-corrected, on the observed pixels), ``continuum``, ``kept`` (clipping mask),
    ``rms`` (of observed - model over all pixels with ivar > 0) and ``n_steps``.
    """
    import optimistix as optx

    names = ("R", "vmac", "vsini", "rv")
    bad = set(free) - set(names)
    if bad:
        raise ValueError(f"fit_broadening: unknown free parameters {sorted(bad)}; choose from "
                         f"{names}")
    bnd = {**BROADENING_BOUNDS, **(bounds or {})}
    lim = {"R": (grid.min_R, np.inf), "vmac": (0.0, grid.max_vmac), "vsini": (0.0, grid.max_vsini),
           "rv": (-np.inf, np.inf)}
    bnd = {n: (max(bnd[n][0], lim[n][0]), min(bnd[n][1], lim[n][1])) for n in names}
    p0 = {"R": 50_000.0, "vmac": 3.0, "vsini": 1.6, "rv": 0.0, **(init or {})}
    for n in free:
        lo, hi = bnd[n]
        if not lo < p0[n] < hi:
            raise ValueError(f"fit_broadening: initial {n} = {p0[n]} outside bounds {bnd[n]}")
    obs = jnp.asarray(observed, float)
    iv = jnp.ones_like(obs) if ivar is None else jnp.asarray(ivar, float)
    f = jnp.asarray(normalized, float)

    def params_of(z):
        p = dict(p0)
        for i, n in enumerate(free):
            p[n] = _from_unit(z[i], *bnd[n])
        return p

    def model_of(p, keep, n_iter):
        m = observe(grid, f, R=p["R"], vmac=p["vmac"], vsini=p["vsini"], rv=p["rv"])
        cont, _, keep = fit_continuum_ratio(grid.obs_wavelength, obs, m, iv,
                                            order=continuum_order, n_iter=n_iter, keep=keep)
        return m * cont, cont, keep

    def residual(z, keep):
        m, _, keep = model_of(params_of(z), keep, 0)
        return (obs - m) * jnp.sqrt(iv * keep)

    # stage 1 on every pixel; stage 2 with the pixels clipped at the stage-1 solution held out
    # (a fixed mask keeps the residual smooth in the parameters)
    solver = optx.LevenbergMarquardt(rtol=1e-8, atol=1e-8)
    z = jnp.asarray([_to_unit(p0[n], *bnd[n]) for n in free], float)
    keep = iv > 0
    n_steps = 0
    for stage in range(2):
        sol = optx.least_squares(residual, solver, z, args=keep, max_steps=max_steps,
                                 throw=False)
        z, n_steps = sol.value, n_steps + int(sol.stats["num_steps"])
        if stage == 0:
            _, _, keep = model_of(params_of(z), iv > 0, 5)
    p = params_of(z)
    m, cont, keep = model_of(p, keep, 0)
    good = iv > 0
    rms = jnp.sqrt(jnp.sum(jnp.where(good, (obs - m) ** 2, 0.0)) / jnp.sum(good))
    out = {n: float(p[n]) for n in names}
    out.update(model=m, continuum=cont, kept=keep, rms=float(rms),
               n_steps=n_steps)
    return out


def residual_features(
    wavelength: Float[Array, " n"],
    observed: Float[Array, " n"],
    model: Float[Array, " n"],
    *,
    threshold: float = 0.03,
    merge: float = 0.05,
    local: float = 0.5,
    missing_depth: float = 0.02,
) -> list[dict]:
    """Features of ``observed - model`` deeper than ``threshold`` (normalised flux), strongest
    first. Contiguous pixels with ``|residual| > threshold / 2`` that reach ``threshold`` form one
    feature; features closer than ``merge`` Å are merged. Each is a dict: ``wavelength`` [Å, in
    the medium of ``wavelength``] of the extreme residual, ``residual`` (observed - model there:
    < 0 means absorption the model lacks, e.g. a line missing from the list; > 0 a model line too
    strong), ``observed`` and ``model`` flux there, ``width`` [Å] of the run, and ``kind``:
    ``"missing"`` (absorption where the model has no line: its depth below the highest model flux
    within +-``local`` Å is < ``missing_depth``), ``"too weak"`` (absorption where the model has a
    shallower line) or ``"too strong"`` (a model line deeper than observed).
    """
    w = np.asarray(wavelength, float)
    r = np.asarray(observed, float) - np.asarray(model, float)
    out = []
    for sign in (-1.0, 1.0):
        s = sign * r
        above = s > threshold / 2
        edges = np.flatnonzero(np.diff(np.concatenate([[0], above.astype(int), [0]])))
        runs = [(a, b) for a, b in zip(edges[::2], edges[1::2], strict=True)]
        merged: list[list[int]] = []
        for a, b in runs:
            if merged and w[a] - w[merged[-1][1] - 1] < merge:
                merged[-1][1] = b
            else:
                merged.append([a, b])
        for a, b in merged:
            i = a + int(np.argmax(s[a:b]))
            if s[i] >= threshold:
                mod = np.asarray(model, float)
                near = np.abs(w - w[i]) <= local
                depth = 1.0 - mod[i] / np.max(mod[near])
                kind = ("too strong" if sign > 0 else
                        "missing" if depth < missing_depth else "too weak")
                out.append({"wavelength": float(w[i]), "residual": float(r[i]),
                            "observed": float(np.asarray(observed)[i]),
                            "model": float(mod[i]), "model_depth": float(depth),
                            "width": float(w[b - 1] - w[a]), "kind": kind})
    out.sort(key=lambda d: -abs(d["residual"]))
    return out
