"""Staeckel-fudge actions and frequencies (Binney 2012), vmapped over stars. Natural units.

Prolate spheroidal coordinates with focal distance Delta: R = Delta sinh u sin v,
z = Delta cosh u cos v. The potential is treated as if it were of Staeckel form,
Phi = [U(u) - V(v)] / (sinh^2 u + sin^2 v), with U and V built from differences of the true
potential at the star's own (u0, v0), which separates the motion into

    p_u^2 / (2 Delta^2) = S_u(u) = E sinh^2 u - I3U - dU(u) - Lz^2 / (2 Delta^2 sinh^2 u)
    p_v^2 / (2 Delta^2) = S_v(v) = E sin^2 v + I3V + dV(v) - Lz^2 / (2 Delta^2 sin^2 v)

and J_R = sqrt(2) Delta / pi int_{umin}^{umax} sqrt(S_u) du,
J_z = 2 sqrt(2) Delta / pi int_{vmin}^{pi/2} sqrt(S_v) dv, J_phi = Lz (Binney 2012; the
difference conventions of Bovy & Rix 2013 / galpy). Numerics (ours): turning points by bisection
(fixed 64 halvings; the upper u bracket grows geometrically), integrals by fixed-order
Gauss-Legendre after u = u_mid + h sin(theta), which makes both sqrt(S) and 1/sqrt(S) smooth at
the turning points. Frequencies follow from the derivatives of (J_R, J_z) with respect to
(E, Lz, I3) by inverting the Jacobian.

Stars are given in galpy's cylindrical order ``(R, vR, vT, z, vz)``. Unbound stars (E above the
potential at u = 30) get NaN actions and ``flag = 1``; a non-finite input gives ``flag = 2``.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from .._config import require_x64
from .potentials import Potential

_U_CAP = 30.0
_N_BISECT = 64


class StaeckelFudge(eqx.Module):
    """Options: Gauss-Legendre ``order`` (nodes over each full integration range)."""

    order: int = eqx.field(static=True, default=32)


class Actions(eqx.Module):
    """Actions and frequencies (natural units: ro vo = 1760 kpc km/s; vo/ro = 27.5 km/s/kpc)."""

    jr: Float[Array, "..."]
    jphi: Float[Array, "..."]
    jz: Float[Array, "..."]
    omega_r: Float[Array, "..."]
    omega_phi: Float[Array, "..."]
    omega_z: Float[Array, "..."]
    flag: Int[Array, "..."]


def _uv(R, z, delta):
    d1 = jnp.sqrt((z + delta) ** 2 + R * R)
    d2 = jnp.sqrt((z - delta) ** 2 + R * R)
    coshu = jnp.maximum((d1 + d2) / (2 * delta), 1.0)
    cosv = jnp.clip((d1 - d2) / (2 * delta), -1.0, 1.0)
    return jnp.arccosh(coshu), jnp.arccos(cosv)


def _bisect(f, lo, hi, neg_at_lo: bool):
    """Root of f in [lo, hi] where f changes sign; endpoints are never evaluated."""

    def body(_, lh):
        lo, hi = lh
        mid = 0.5 * (lo + hi)
        pos = f(mid) >= 0
        if neg_at_lo:
            return jnp.where(pos, lo, mid), jnp.where(pos, mid, hi)
        return jnp.where(pos, mid, lo), jnp.where(pos, hi, mid)

    lo, hi = jax.lax.fori_loop(0, _N_BISECT, body, (lo, hi))
    return 0.5 * (lo + hi)


def _staeckel_one(potential: Potential, w, delta, order: int):
    R, vR, vT, z, vz = w[0], w[1], w[2], w[3], w[4]
    finite = jnp.all(jnp.isfinite(w)) & jnp.isfinite(delta)
    R = jnp.where(finite, R, 1.0)
    z = jnp.where(finite, z, 0.0)
    vR, vT, vz = (jnp.where(finite, q, 0.0) for q in (vR, vT, vz))
    delta = jnp.where(finite, delta, 0.4)

    def pot_uv(u, v):
        return potential._phi(
            delta * jnp.sinh(u) * jnp.sin(v), delta * jnp.cosh(u) * jnp.cos(v), 0.0, 0.0
        )

    E = 0.5 * (vR**2 + vT**2 + vz**2) + potential._phi(R, z, 0.0, 0.0)
    Lz = R * vT
    u0, v0 = _uv(R, z, delta)
    v0 = jnp.minimum(v0, jnp.pi - v0)  # symmetric about the plane
    vz_ = jnp.where(z < 0, -vz, vz)  # mirror a star below the plane
    shu, chu = jnp.sinh(u0), jnp.cosh(u0)
    sv, cv = jnp.sin(v0), jnp.cos(v0)
    pu = delta * (vR * chu * sv + vz_ * shu * cv)
    pv = delta * (vR * shu * cv - vz_ * chu * sv)
    d2 = 2.0 * delta**2
    lz2 = Lz * Lz / d2

    phi_u0_pi2 = pot_uv(u0, jnp.pi / 2)

    def dU(u):
        return (jnp.sinh(u) ** 2 + 1.0) * pot_uv(u, jnp.pi / 2) - (shu**2 + 1.0) * phi_u0_pi2

    def dV(v):
        return chu**2 * phi_u0_pi2 - (shu**2 + jnp.sin(v) ** 2) * pot_uv(u0, v)

    shu_safe = jnp.maximum(shu, 1e-300)
    sv_safe = jnp.maximum(sv, 1e-300)
    i3u = E * shu**2 - pu**2 / d2 - lz2 / shu_safe**2 - dU(u0)
    i3v = -E * sv**2 + pv**2 / d2 + lz2 / sv_safe**2 - dV(v0)

    def S_u(u):
        s2 = jnp.sinh(u) ** 2
        return E * s2 - i3u - dU(u) - lz2 / jnp.maximum(s2, 1e-300)

    def S_v(v):
        s2 = jnp.sin(v) ** 2
        return E * s2 + i3v + dV(v) - lz2 / jnp.maximum(s2, 1e-300)

    # --- turning points ---
    umin = _bisect(S_u, jnp.zeros_like(u0), u0, neg_at_lo=True)

    def grow(state):
        hi, k = state
        return jnp.minimum(u0 + (hi - u0) * 2.0, _U_CAP), k + 1

    def keep(state):
        hi, k = state
        return (S_u(hi) >= 0) & (hi < _U_CAP) & (k < 60)

    hi0 = u0 + 0.05 * (1.0 + u0)
    hi, _ = jax.lax.while_loop(keep, grow, (jnp.minimum(hi0, _U_CAP), 0))
    unbound = S_u(hi) >= 0
    umax = _bisect(S_u, u0, hi, neg_at_lo=False)
    vmin = _bisect(S_v, jnp.zeros_like(v0), v0, neg_at_lo=True)

    # --- quadrature ---
    x, wts = np.polynomial.legendre.leggauss(order)
    th_u = jnp.asarray(x) * (jnp.pi / 2)  # theta in (-pi/2, pi/2)
    w_u = jnp.asarray(wts) * (jnp.pi / 2)
    um, hu = 0.5 * (umin + umax), 0.5 * (umax - umin)
    us = um + hu * jnp.sin(th_u)
    jac_u = hu * jnp.cos(th_u)
    su = jnp.maximum(jax.vmap(S_u)(us), 0.0)
    sq_u = jnp.sqrt(su)
    inv_u = jnp.where(su > 0, 1.0 / jnp.where(su > 0, sq_u, 1.0), 0.0)

    th_v = (jnp.asarray(x) + 1.0) * (jnp.pi / 4)  # theta in (0, pi/2)
    w_v = jnp.asarray(wts) * (jnp.pi / 4)
    hv = jnp.pi / 2 - vmin
    vs = jnp.pi / 2 - hv * jnp.sin(th_v)
    jac_v = hv * jnp.cos(th_v)
    sv_ = jnp.maximum(jax.vmap(S_v)(vs), 0.0)
    sq_v = jnp.sqrt(sv_)
    inv_v = jnp.where(sv_ > 0, 1.0 / jnp.where(sv_ > 0, sq_v, 1.0), 0.0)

    c = jnp.sqrt(2.0) * delta / jnp.pi
    jr = c * jnp.sum(w_u * jac_u * sq_u)
    jz = 2.0 * c * jnp.sum(w_v * jac_v * sq_v)
    circ_r = (umax - umin) / umax < 1e-6
    circ_z = (jnp.pi / 2 - vmin) < 1e-7
    jr = jnp.where(circ_r, 0.0, jr)
    jz = jnp.where(circ_z, 0.0, jz)

    # --- frequencies ---
    shus2 = jnp.sinh(us) ** 2
    svs2 = jnp.sin(vs) ** 2
    iu = lambda g: jnp.sum(w_u * jac_u * inv_u * g)  # noqa: E731
    iv = lambda g: jnp.sum(w_v * jac_v * inv_v * g)  # noqa: E731
    s2 = jnp.sqrt(2.0)
    djr_de = delta / (jnp.pi * s2) * iu(shus2)
    djr_di3 = -delta / (jnp.pi * s2) * iu(1.0)
    djr_dlz = -Lz / (jnp.pi * s2 * delta) * iu(1.0 / shus2)
    djz_de = s2 * delta / jnp.pi * iv(svs2)
    djz_di3 = s2 * delta / jnp.pi * iv(1.0)
    djz_dlz = -s2 * Lz / (jnp.pi * delta) * iv(1.0 / svs2)
    D = djr_de * djz_di3 - djz_de * djr_di3
    om_r = djz_di3 / D
    om_z = -djr_di3 / D
    om_phi = (djr_di3 * djz_dlz - djz_di3 * djr_dlz) / D
    # near-circular or in-plane orbits: epicycle approximation at R (as galpy does)
    kappa = jnp.sqrt(
        jax.grad(jax.grad(potential._phi, 0), 0)(R, 0.0, 0.0, 0.0)
        + 3.0 / R * jax.grad(potential._phi, 0)(R, 0.0, 0.0, 0.0)
    )
    nu = jnp.sqrt(jax.grad(jax.grad(potential._phi, 1), 1)(R, 0.0, 0.0, 0.0))
    omc = jnp.sqrt(jax.grad(potential._phi, 0)(R, 0.0, 0.0, 0.0) / R)
    epi = circ_r | circ_z
    om_r = jnp.where(epi, kappa, om_r)
    om_z = jnp.where(epi, nu, om_z)
    om_phi = jnp.where(epi, omc, om_phi)

    flag = jnp.where(~finite, 2, jnp.where(unbound, 1, 0))
    bad = flag > 0
    nan = jnp.nan
    return Actions(
        jr=jnp.where(bad, nan, jr),
        jphi=jnp.where(~finite, nan, Lz),
        jz=jnp.where(bad, nan, jz),
        omega_r=jnp.where(bad, nan, om_r),
        omega_phi=jnp.where(bad, nan, om_phi),
        omega_z=jnp.where(bad, nan, om_z),
        flag=flag,
    )


@eqx.filter_jit
def _staeckel_batch(potential, w, delta, order):
    return jax.vmap(lambda ww, d: _staeckel_one(potential, ww, d, order))(w, delta)


def actions_staeckel(
    potential: Potential,
    w: Float[Array, "n 5"],
    delta: float | Float[Array, " n"] = 0.45,
    options: StaeckelFudge = StaeckelFudge(),
) -> Actions:
    """Staeckel-fudge actions and frequencies for stars ``w = (R, vR, vT, z, vz)`` (natural units).

    ``delta`` is one focal distance or one per star (e.g. from :func:`estimate_delta`). Returns
    an :class:`Actions` whose ``flag`` is 0 (ok), 1 (unbound) or 2 (non-finite input); flagged
    stars carry NaN actions. Extra columns (e.g. galpy's phi) are ignored.
    """
    require_x64("jaxstro.dynamics.actions_staeckel")
    if not potential.is_axisymmetric:
        raise ValueError(
            "actions_staeckel: the potential must be axisymmetric "
            "(use CompositePotential.axisymmetric_part())"
        )
    w = jnp.atleast_2d(jnp.asarray(w, dtype=jnp.float64))
    if w.shape[-1] < 5:
        raise ValueError(f"actions_staeckel: w needs >= 5 columns (R,vR,vT,z,vz), got {w.shape}")
    w = w[:, :5]
    delta = jnp.broadcast_to(jnp.asarray(delta, dtype=jnp.float64), (w.shape[0],))
    return _staeckel_batch(potential, w, delta, options.order)


def _delta_one(potential, R, z):
    z = jnp.where(z == 0.0, 1e-4, z)
    g = jax.grad(potential._phi, (0, 1))
    phi_r, phi_z = g(R, z, 0.0, 0.0)
    h = jax.hessian(potential._phi, (0, 1))(R, z, 0.0, 0.0)
    prr, prz, pzz = h[0][0], h[0][1], h[1][1]
    d2 = z * z - R * R + (3 * z * phi_r - 3 * R * phi_z + R * z * (prr - pzz)) / prz
    d2 = jnp.where((d2 > -1e-10) & (d2 < 1e-12), 1e-12, d2)
    return jnp.sqrt(d2)


@eqx.filter_jit
def estimate_delta(potential: Potential, R: Float[Array, " n"], z: Float[Array, " n"]):
    """Per-star focal distance from the potential's derivatives at (R, z) (Sanders 2012, eq. 9,
    with the sign of the published formula corrected; z = 0 is evaluated at z = 1e-4)."""
    return jax.vmap(lambda r, zz: _delta_one(potential, r, zz))(
        jnp.atleast_1d(jnp.asarray(R, jnp.float64)), jnp.atleast_1d(jnp.asarray(z, jnp.float64))
    )
