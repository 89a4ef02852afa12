"""Formal solution of the radiative transfer equation for 1D model atmospheres.

Given the total opacity alpha [cm^-1] and the source function S on the model layers, compute the
emergent intensity I(mu) and the astrophysical (surface) flux

    F = 2 pi int_0^1 I(mu) mu dmu        (= 4 pi H; units of S times sr, e.g. erg s^-1 cm^-2 Å^-1
                                           for S = B_lambda per Å)

Optical depth. For models whose reference scale is tau_5000 (``atm.reference_wavelength`` set), the
monochromatic optical depth is anchored to it as in Korg (Wheeler et al. 2023, sec. 2.3):
dtau_lambda = (alpha_lambda / alpha_ref) dtau_ref, integrated with the trapezoid rule for the ratio
in tau_ref (equivalently in ln tau_ref with the logarithmic-mean tau of each interval; as
Turbospectrum does), alpha_ref being the opacity at the reference wavelength computed with the
same physics; above the top layer the ratio is taken constant, so tau_lambda(top) =
tau_ref(top) alpha/alpha_ref. For Rosseland-scale models (``reference_wavelength is None``) tau
is integrated on the geometric height ``z`` (trapezoid in z) and ``alpha_ref`` is not used.

Source function. S is taken piecewise linear in tau between layers and its product with exp(-tau)
integrated exactly on each interval; below the deepest layer S is continued linearly (so a source
function linear in tau gives the exact Eddington-Barbier results, I(mu) = a + b mu,
F = pi (a + 2b/3)).

Geometry and angular quadrature are chosen by a small module:

- ``PlaneParallel(n_mu)``: the flux exactly, without an angle quadrature (``exact_flux=True``,
  the default): F = 2 pi int_0^inf S(t) E_2(t) dt, which for S piecewise linear in tau telescopes
  (integrating by parts twice; E_n' = -E_{n-1}) to

      F / (2 pi) = S_0 / 2 + sum_i s_i (E_4(t_i) - E_4(t_i+1)) + s_N E_4(t_N),

  s_i the slope dS/dtau on interval i and s_N the bottom one (a linear S = a + b tau gives
  pi (a + 2b/3)); E_4 (with E_1..E_3, ``exponential_integrals``) at each layer and wavelength
  replaces one exponential per layer, wavelength and angle. Intensities (``intensity``/``mu_out``)
  at the Gauss-Legendre nodes in mu on (0, 1); ``exact_flux=False`` takes the flux from them too.
- ``Spherical(n_mu)``: rays parallel to the line of sight with impact parameters
  p = R_top sqrt(1 - mu^2), mu on Gauss-Legendre nodes at the top layer (radius R_top =
  atm.radius + z[0]); along each ray ds = dz r / sqrt(r^2 - p^2). Rays that pass above the deepest
  layer (p > r_bottom) traverse the atmosphere twice (far half then near half, the far half's
  emission attenuated by the whole near half); rays that reach the bottom get the linearly
  continued S there. The flux is 2 pi int I mu dmu at R_top. For R -> infinity this is
  PlaneParallel.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float


class PlaneParallel(eqx.Module):
    """Plane-parallel transfer: exact flux (E_n integrals; ``exact_flux=False``: the
    ``n_mu``-node Gauss-Legendre quadrature of the intensities) and intensities at ``n_mu``
    Gauss-Legendre angles."""

    n_mu: int = eqx.field(static=True, default=10)
    exact_flux: bool = eqx.field(static=True, default=True)


class Spherical(eqx.Module):
    """Spherical transfer with ``n_mu`` Gauss-Legendre surface angles (impact parameters)."""

    n_mu: int = eqx.field(static=True, default=20)


def gauss_legendre_mu(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of Gauss-Legendre quadrature on mu in (0, 1)."""
    x, w = np.polynomial.legendre.leggauss(n)
    return 0.5 * (x + 1.0), 0.5 * w


_EULER_GAMMA = 0.5772156649015329
#: E_1(x) = -gamma - ln x - sum_k (-x)^k / (k k!) on 0 < x <= 2 (20 terms: < 4e-14 relative)
_E1_SERIES = np.array([(-1.0) ** (k + 1) / (k * float(np.prod(np.arange(1.0, k + 1.0))))
                       for k in range(1, 21)])


def _e1_continued_fraction_coefficients(depth: int) -> tuple[np.ndarray, np.ndarray]:
    """Numerator and denominator polynomials (coefficients in x, increasing powers) of the depth
    ``depth`` convergent of e^x E_1(x) = 1/(x + 1 - 1^2/(x + 3 - 2^2/(x + 5 - ...))) (Wallis
    recurrences; all coefficients positive, so Horner is stable for x > 0)."""
    P = np.polynomial.Polynomial
    a_prev, a_cur = P([0.0]), P([1.0])  # A_0, A_1
    b_prev, b_cur = P([1.0]), P([1.0, 1.0])  # B_0, B_1 = x + 1
    for k in range(2, depth + 1):
        b_k, a_k = P([2.0 * k - 1.0, 1.0]), (k - 1.0) ** 2
        a_prev, a_cur = a_cur, b_k * a_cur - a_k * a_prev
        b_prev, b_cur = b_cur, b_k * b_cur - a_k * b_prev
    return a_cur.coef.copy(), b_cur.coef.copy()


#: depth 40: < 2e-14 relative for x >= 2 (tests/synth/test_transfer.py against scipy.special.expn)
_E1_NUM, _E1_DEN = _e1_continued_fraction_coefficients(40)


def _horner(coef, x):
    p = jnp.full_like(x, coef[-1])
    for c in coef[-2::-1]:
        p = p * x + c
    return p


def exponential_integrals(x):
    """(E_1, E_2, E_3, E_4)(x) for x >= 0 (E_1(0) taken at x = 1e-300).

    E_1 from its power series for x <= 2 and from a fixed convergent of its continued fraction
    for x > 2 (both < 4e-14 relative; arguments above 700 are treated as 700, where every E_n is
    below 1e-304); E_2..E_4 by the upward recurrence of the scaled functions e^x E_n:
    e^x E_{n+1} = (1 - x e^x E_n) / n (absolute errors < 1e-14)."""
    x = jnp.maximum(x, 1e-300)
    small = x <= 2.0
    xs = jnp.where(small, x, 2.0)
    xl = jnp.where(small, 2.0, jnp.minimum(x, 700.0))
    ex = jnp.exp(-x)
    f_small = (-_EULER_GAMMA - jnp.log(xs) + _horner(_E1_SERIES, xs) * xs) * jnp.exp(xs)
    f1 = jnp.where(small, f_small, _horner(_E1_NUM, xl) / _horner(_E1_DEN, xl))
    f2 = 1.0 - x * f1
    f3 = (1.0 - x * f2) * 0.5
    f4 = (1.0 - x * f3) * (1.0 / 3.0)
    return f1 * ex, f2 * ex, f3 * ex, f4 * ex


def _pp_exact_flux(tau, S):
    """F = 2 pi int S E_2 dt for S piecewise linear in tau (n_layers, n_wl) -> (n_wl,); see the
    module docstring. On thin intervals (dtau < 1e-4) E_4(t_i) - E_4(t_i+1) is replaced by its
    Taylor series dtau (E_3 - dtau E_2 / 2 + dtau^2 E_1 / 6) at t_i, times the slope."""
    E1, E2, E3, E4 = exponential_integrals(tau)
    dtau = tau[1:] - tau[:-1]
    dS = S[1:] - S[:-1]
    slope = dS / jnp.maximum(dtau, 1e-300)
    thin = dtau < 1e-4
    term = jnp.where(thin, dS * (E3[:-1] - dtau * (0.5 * E2[:-1] - dtau / 6.0 * E1[:-1])),
                     slope * (E4[:-1] - E4[1:]))
    return 2 * jnp.pi * (0.5 * S[0] + jnp.sum(term, axis=0) + slope[-1] * E4[-1])


def _segments(S0, S1, t0, t1):
    """int_{t0}^{t1} S(t) exp(-t) dt for S linear from S0 (at t0) to S1 (at t1), t1 >= t0.

    = S0 e^{-t0} - S1 e^{-t1} + (S1 - S0)/(t1 - t0) (e^{-t0} - e^{-t1}), written stably
    (the last term -> (S1 - S0) e^{-t0} as t1 - t0 -> 0)."""
    d = t1 - t0
    small = d < 1e-6
    d_safe = jnp.where(small, 1.0, d)
    e0 = jnp.exp(-t0)
    ratio = jnp.where(small, 1.0 - 0.5 * d, -jnp.expm1(-d_safe) / d_safe)  # (1 - e^{-d})/d
    return e0 * (S0 - S1 * jnp.exp(-d) + (S1 - S0) * ratio)


def _vertical_increments(atm, alpha, alpha_ref):
    """Vertical optical depth above the top layer (n_wl,) and across each layer interval
    (n_layers - 1, n_wl)."""
    if atm.reference_wavelength is not None:
        ratio = alpha / alpha_ref[:, None]
        tau = atm.tau_ref[:, None]
        top = ratio[0] * tau[0]  # constant ratio above the top layer
        # trapezoid of the ratio in tau_ref, i.e. in ln tau_ref with the logarithmic mean
        # (tau_i+1 - tau_i) / ln(tau_i+1 / tau_i) as the interval's tau (exact for a constant
        # ratio; the arithmetic mean of tau would overestimate each step by ~dlntau^2 / 12)
        steps = 0.5 * (ratio[1:] + ratio[:-1]) * (tau[1:] - tau[:-1])
        return top, steps
    integrand = alpha
    x = -atm.z[:, None]
    top = jnp.zeros_like(integrand[0])
    steps = 0.5 * (integrand[1:] + integrand[:-1]) * (x[1:] - x[:-1])
    return top, steps


def optical_depth(atm, alpha: Float[Array, "n_layers n_wl"], alpha_ref=None):
    """Vertical monochromatic optical depth on the layers, (n_layers, n_wl)."""
    top, steps = _vertical_increments(atm, alpha, alpha_ref)
    return jnp.concatenate([top[None], top[None] + jnp.cumsum(steps, axis=0)], axis=0)


def _pp_intensity(tau, S, mu):
    """Emergent intensity at each mu for plane-parallel tau, S (n_layers, n_wl) -> (n_mu, n_wl).

    With S linear on each interval the sum over intervals of ``_segments`` telescopes: with
    E_i = exp(-t_i), t = tau / mu, d_i = t_{i+1} - t_i and S constant above the top layer,

        I = S_0 + sum_i (S_{i+1} - S_i) (E_i - E_{i+1}) / d_i + (dS/dt)_bottom E_N,

    one exponential per layer and wavelength (E_i - E_{i+1} = E_i d_i (1 - d_i/2 + d_i^2/6) for
    d_i < 1e-4, where the difference would lose digits); the slopes (S_{i+1} - S_i)/(tau_{i+1} -
    tau_i) are computed once for all mu."""
    dtau = tau[1:] - tau[:-1]
    inv = 1.0 / jnp.maximum(dtau, 1e-300)
    slope = (S[1:] - S[:-1]) * inv  # dS/dtau per interval
    dS = S[1:] - S[:-1]

    def one(m):
        E = jnp.exp(-tau / m)
        d = dtau / m
        small = d < 1e-4
        term = jnp.where(small, dS * E[:-1] * (1.0 - d * (0.5 - d / 6.0)),
                         (m * slope) * (E[:-1] - E[1:]))
        # below the bottom: S continued linearly with its last slope dS/dt = mu dS/dtau
        return S[0] + jnp.sum(term, axis=0) + m * slope[-1] * E[-1]

    return jax.vmap(one)(mu)


def _spherical_intensity(atm, alpha, alpha_ref, S, mu):
    r = atm.radius + atm.z  # (n_layers,)
    R_top = r[0]
    depth = atm.z[0] - atm.z  # R_top - r, >= 0, computed without cancellation
    top_v, steps_v = _vertical_increments(atm, alpha, alpha_ref)

    def one(m):
        sin = jnp.sqrt(jnp.maximum(1.0 - m**2, 0.0))
        p = R_top * sin
        # r - p = R_top (1 - sin) - depth, with 1 - sin = mu^2 / (1 + sin)
        r_minus_p = R_top * m**2 / (1.0 + sin) - depth
        valid = (r_minus_p > 1e-12 * R_top).at[0].set(True)  # crossed layers (a prefix)
        # half chord to the closest approach; the inner where keeps sqrt away from 0 on the
        # masked layers so that its infinite slope there cannot turn into NaN gradients
        s_half = jnp.where(valid, jnp.sqrt(jnp.where(valid, r_minus_p * (r + p), 1.0)), 0.0)
        seg_valid = valid[1:] & valid[:-1]
        # path length per interval / vertical thickness = (r_i + r_i+1) / (s_i + s_i+1)
        # (exact; -> 1/mu for R -> inf)
        denom = jnp.where(seg_valid, s_half[:-1] + s_half[1:], 1.0)
        factor = jnp.where(seg_valid, (r[:-1] + r[1:]) / denom, 0.0)[:, None]
        top = top_v / m
        tau = jnp.concatenate([top[None], top[None] + jnp.cumsum(steps_v * factor, axis=0)])
        last = jnp.sum(valid) - 1  # deepest crossed layer
        tau_half = tau[last]
        sv = seg_valid[:, None]
        near = jnp.sum(jnp.where(sv, _segments(S[:-1], S[1:], tau[:-1], tau[1:]), 0.0), axis=0)
        top_c = S[0] * (-jnp.expm1(-tau[0]))
        # far half: optical distance from the observer 2 tau_half - tau (layers in reverse order)
        far = jnp.sum(
            jnp.where(sv, _segments(S[1:], S[:-1], 2 * tau_half - tau[1:],
                                    2 * tau_half - tau[:-1]), 0.0), axis=0)  # fmt: skip
        far_top = S[0] * (jnp.exp(-(2 * tau_half - tau[0])) - jnp.exp(-2 * tau_half))
        # (a ray that does not reach the bottom has tau[-1] == tau[-2]: a safe 1 there, not a
        # 1e-300 floor, so the unused branch has finite derivatives)
        dt = jnp.where(valid[-1], jnp.maximum(tau[-1] - tau[-2], 1e-300), 1.0)
        bottom = (S[-1] + (S[-1] - S[-2]) / dt) * jnp.exp(-tau[-1])
        return top_c + near + jnp.where(valid[-1], bottom, far + far_top)

    return jax.vmap(one)(mu)


def radiative_transfer(
    atm,
    alpha: Float[Array, "n_layers n_wl"],
    source: Float[Array, "n_layers n_wl"],
    alpha_ref: Float[Array, " n_layers"] | None = None,
    scheme: PlaneParallel | Spherical = PlaneParallel(),
    mu_out: Float[Array, " n_out"] | None = None,
) -> tuple[Float[Array, " n_wl"], Float[Array, "n_mu n_wl"]]:
    """Emergent flux F = 2 pi int I mu dmu and intensities.

    ``PlaneParallel`` (default ``exact_flux=True``): F by the E_n integrals (no angle
    quadrature); otherwise the Gauss-Legendre quadrature of the intensities.

    Returns ``(flux, intensity)``: ``intensity`` is I at the quadrature nodes (``mu_out`` None;
    nodes from ``gauss_legendre_mu(scheme.n_mu)``) or at the requested ``mu_out`` (surface mu).
    ``alpha_ref`` (n_layers,) is required for tau_5000-scale models.
    """
    if atm.reference_wavelength is not None and alpha_ref is None:
        raise ValueError("radiative_transfer: alpha_ref is required for a tau_5000-scale model")
    if alpha.shape != source.shape or alpha.shape[0] != atm.tau_ref.shape[0]:
        raise ValueError(
            f"radiative_transfer: alpha {alpha.shape} and source {source.shape} must both be "
            f"(n_layers={atm.tau_ref.shape[0]}, n_wl)"
        )
    mu_np, w_np = gauss_legendre_mu(scheme.n_mu)
    mu, w = jnp.asarray(mu_np), jnp.asarray(w_np)
    if isinstance(scheme, Spherical):

        def intens(m):
            return _spherical_intensity(atm, alpha, alpha_ref, source, m)
    else:
        tau = optical_depth(atm, alpha, alpha_ref)

        def intens(m):
            return _pp_intensity(tau, source, m)

    I_nodes = intens(mu)  # dead code under jit when only the exact flux is used
    if isinstance(scheme, PlaneParallel) and scheme.exact_flux:
        flux = _pp_exact_flux(tau, source)
    else:
        flux = 2 * jnp.pi * jnp.sum((w * mu)[:, None] * I_nodes, axis=0)
    if isinstance(scheme, Spherical):
        flux = flux * ((atm.radius + atm.z[0]) / atm.radius) ** 2  # refer to r = atm.radius
    if mu_out is not None:
        return flux, intens(jnp.atleast_1d(jnp.asarray(mu_out, dtype=float)))
    return flux, I_nodes
