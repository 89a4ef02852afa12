"""Axisymmetric resonance lines of a rotating bar in the (J_phi, J_R) plane. Natural units.

A resonance (m, l) is m (Omega_phi - Omega_b) = l Omega_R with Staeckel-fudge frequencies in the
axisymmetric potential. Named resonances: corotation (m=2, l=0), outer Lindblad (2, -1),
outer 1:1 (1, -1), outer 1:4 (4, -1). For each radial excursion (a launch velocity v_R at the
guiding radius, in the plane with a tiny v_z so the vertical quadrature stays defined) we bisect in
L_z for the resonant orbit and return its (J_phi, J_R).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._actions import _staeckel_one
from .potentials import Potential

RESONANCES = {"CR": (2, 0), "OLR": (2, -1), "1:1": (1, -1), "1:4": (4, -1)}


def _rg(potential, lz):
    def body(_, lh):
        lo, hi = lh
        mid = 0.5 * (lo + hi)
        lc = mid * jnp.sqrt(mid * jax.grad(potential._phi, 0)(mid, 0.0, 0.0, 0.0))
        return jnp.where(lc >= lz, lo, mid), jnp.where(lc >= lz, mid, hi)

    lo, hi = jax.lax.fori_loop(0, 60, body, (jnp.asarray(1e-3), jnp.asarray(20.0)))
    return 0.5 * (lo + hi)


@eqx.filter_jit
def resonance_line(
    potential: Potential,
    omegab: float,
    m: int,
    l: int,
    vr: Float[Array, " n"],
    delta: float = 0.45,
    lz_range: tuple[float, float] = (0.1, 4.0),
) -> tuple[Float[Array, " n"], Float[Array, " n"]]:
    """(J_phi, J_R) of orbits on the resonance m (Omega_phi - Omega_b) = l Omega_R, one per
    launch radial velocity in ``vr`` (vr = 0 gives the circular resonant orbit)."""

    def cond(lz, v):
        R = _rg(potential, lz)
        w = jnp.stack([R, v, lz / R, 0.0, 1e-3])
        a = _staeckel_one(potential, w, jnp.asarray(delta), 24)
        return m * (a.omega_phi - omegab) - l * a.omega_r, a.jr

    def one(v):
        def body(_, lh):
            lo, hi = lh
            mid = 0.5 * (lo + hi)
            pos = cond(mid, v)[0] > 0
            return jnp.where(pos, mid, lo), jnp.where(pos, hi, mid)

        lo, hi = jax.lax.fori_loop(
            0, 45, body, (jnp.asarray(lz_range[0]), jnp.asarray(lz_range[1]))
        )
        lz = 0.5 * (lo + hi)
        return lz, cond(lz, v)[1]

    return jax.vmap(one)(jnp.asarray(vr, dtype=jnp.float64))


def resonance_lines(potential, omegab, vr=None, names=tuple(RESONANCES), **kw) -> dict:
    """``{name: (J_phi, J_R)}`` for the named resonances (natural units)."""
    if vr is None:
        vr = jnp.linspace(0.0, 0.25, 12)
    # traced numbers: one compilation serves every resonance and pattern speed
    potential = jax.tree.map(lambda x: jnp.asarray(x) if isinstance(x, float) else x, potential)
    f = jnp.asarray
    return {
        n: resonance_line(
            potential,
            f(float(omegab)),
            f(float(RESONANCES[n][0])),
            f(float(RESONANCES[n][1])),
            vr,
            **kw,
        )
        for n in names
    }
