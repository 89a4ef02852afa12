"""Dehnen (2000) bar, its 3D generalisation (Monari et al. 2016) and the m = 4 term of Hunt & Bovy
(2018), rotating with pattern speed Omega_b and grown with Dehnen's smooth polynomial.

    Phi_m(R, z, phi, t) = A_f s(t) cos(m (phi - Omega_b t - barphi)) (R/r)^2 x
                          { -(R_b/r)^3        r >= R_b
                          {  (r/R_b)^3 - 2    r <  R_b,          r^2 = R^2 + z^2,
    A_f = alpha / (3 R_b^3)  (natural units),
    s(t) = 0 (t < t_form); 3/16 xi^5 - 5/8 xi^3 + 15/16 xi + 1/2 (growth); 1 (t >= t_steady),
    xi = 2 (t - t_form)/(t_steady - t_form) - 1.

With m = 2 this is galpy's ``DehnenBarPotential``. For m = 4 in the plane z = 0 it equals the
planar construction of Hunt & Bovy (2018) (a Dehnen-profile cos 4phi term); off the plane we use the
same (R/r)^2 3D extension as for m = 2 (our choice; the paper's model is planar).
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from ._base import Potential, check_positive


def dehnen_smooth(t, t_form, t_steady):
    """Dehnen's growth factor s(t) in [0, 1] (C^2 polynomial between t_form and t_steady).

    s = 1 for t >= t_steady (so t_form = t_steady = -inf is a bar that is always grown)."""
    t = jnp.asarray(t, dtype=jnp.float64)
    span = t_steady - t_form
    ok = jnp.isfinite(span) & (span > 0)
    xi = 2.0 * (t - jnp.where(ok, t_form, 0.0)) / jnp.where(ok, span, 1.0) - 1.0
    xi = jnp.clip(xi, -1.0, 1.0)
    poly = 3.0 / 16.0 * xi**5 - 5.0 / 8.0 * xi**3 + 15.0 / 16.0 * xi + 0.5
    return jnp.where(t >= t_steady, 1.0, jnp.where(t < t_form, 0.0, poly))


class DehnenBar(Potential):
    """A rotating cos(m phi) Dehnen-profile bar term (see module docstring).

    Attributes (natural units): ``af`` strength A_f, ``omegab`` pattern speed, ``rb`` bar radius,
    ``barphi`` bar angle at t = 0 [rad], ``t_form``, ``t_steady`` absolute start/end of growth,
    ``m``.
    """

    af: float
    omegab: float
    rb: float
    barphi: float
    t_form: float
    t_steady: float
    m: int = eqx.field(static=True, default=2)

    def __init__(self, af, omegab, rb, barphi=0.0, t_form=-np.inf, t_steady=-np.inf, m=2):
        check_positive("DehnenBar", rb=rb)
        if not t_steady >= t_form:
            raise ValueError(f"DehnenBar: t_steady ({t_steady}) must be >= t_form ({t_form})")
        self.af, self.omegab, self.rb, self.barphi = af, omegab, rb, barphi
        self.t_form, self.t_steady, self.m = t_form, t_steady, int(m)

    def growth(self, t):
        """s(t) (1 for a bar that is always fully grown, t_steady = -inf)."""
        return dehnen_smooth(t, self.t_form, self.t_steady)

    def _phi(self, R, z, phi, t):
        r2 = R * R + z * z
        r = jnp.sqrt(r2)
        r_safe = jnp.where(r > 0, r, 1.0)
        outer = -((self.rb / r_safe) ** 3)
        inner = (r / self.rb) ** 3 - 2.0
        radial = jnp.where(r >= self.rb, outer, inner)
        ang = jnp.where(r > 0, R * R / jnp.where(r2 > 0, r2, 1.0), 1.0)
        return (
            self.af
            * self.growth(t)
            * jnp.cos(self.m * (phi - self.omegab * t - self.barphi))
            * ang
            * radial
        )

    def phi_xyz(self, xyz, t=0.0):
        """Cartesian form (no arctan2): (R/r)^2 cos(m (phi - a)) = Re[(x + i y)^m e^(-i m a)] / r^2
        / R^(m-2), a = Omega_b t + barphi (used by the orbit integrator)."""
        x, y, z = xyz[0], xyz[1], xyz[2]
        R2 = x * x + y * y
        r2 = R2 + z * z
        r = jnp.sqrt(r2)
        r_safe = jnp.where(r > 0, r, 1.0)
        radial = jnp.where(r >= self.rb, -((self.rb / r_safe) ** 3), (r / self.rb) ** 3 - 2.0)
        a = self.m * (self.omegab * t + self.barphi)
        zre, zim = x, y  # (x + i y)^m by repeated multiplication (m static)
        for _ in range(self.m - 1):
            zre, zim = zre * x - zim * y, zre * y + zim * x
        num = zre * jnp.cos(a) + zim * jnp.sin(a)
        # (R/r)^2 cos(m(phi - a)) = num / (R^(m-2) r^2); R^(m-2) = R2^((m-2)/2) for even m
        if self.m % 2 == 0:
            den = R2 ** ((self.m - 2) // 2) * r2
        else:
            den = jnp.sqrt(R2) ** (self.m - 2) * r2
        R_ok = R2 > 0
        ang = jnp.where(R_ok, num / jnp.where(R_ok, den, 1.0), 0.0)
        return self.af * self.growth(t) * ang * radial

    @property
    def is_axisymmetric(self) -> bool:
        return False

    @property
    def period(self) -> float:
        """Bar period 2 pi / Omega_b (natural time units)."""
        return 2.0 * np.pi / self.omegab


def corotation_radius(potential: Potential, omegab: float, lo=1e-3, hi=20.0) -> float:
    """Radius where the circular frequency equals ``omegab`` (bisection; natural units)."""
    f = lambda R: float(potential.omegac(R)) - omegab  # noqa: E731
    if f(lo) * f(hi) > 0:
        raise ValueError(f"corotation_radius: no corotation for omegab={omegab} in [{lo}, {hi}]")
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if f(lo) * f(mid) <= 0:
            hi = mid
        else:
            lo = mid
        if hi - lo < 1e-15 * hi:
            break
    return 0.5 * (lo + hi)


def dehnen_bar(
    omegab: float,
    *,
    potential: Potential | None = None,
    alpha: float = 0.01,
    m: int = 2,
    rb: float | None = None,
    chi: float = 0.8,
    barphi: float = np.deg2rad(25.0),
    tform: float = -4.0,
    tsteady: float = 2.0,
) -> DehnenBar:
    """A Dehnen bar term with galpy's conventions (natural units).

    ``rb`` defaults to ``chi`` times the corotation radius in ``potential`` (MWPotential2014 by
    default); A_f = alpha / (3 rb^3); ``tform`` and ``tsteady`` are in bar periods (growth from
    tform T_b over tsteady T_b; galpy's defaults start 4 periods before t = 0 and grow over 2).
    """
    if potential is None:
        from ._axisymmetric import MWPotential2014

        potential = MWPotential2014()
    if rb is None:
        rb = chi * corotation_radius(potential, omegab)
    period = 2.0 * np.pi / omegab
    t_form = tform * period
    return DehnenBar(
        af=alpha / 3.0 / rb**3,
        omegab=omegab,
        rb=rb,
        barphi=barphi,
        t_form=t_form,
        t_steady=t_form + tsteady * period,
        m=m,
    )


def hunt_bovy_bar(
    omegab: float, *, alpha2: float = 0.01, alpha4: float = -0.0005, **kwargs
) -> Potential:
    """m = 2 plus m = 4 Dehnen bar terms (Hunt & Bovy 2018) with a common pattern speed, radius,
    angle and growth; ``kwargs`` as for :func:`dehnen_bar`."""
    b2 = dehnen_bar(omegab, alpha=alpha2, m=2, **kwargs)
    kwargs = {**kwargs, "rb": b2.rb}
    b4 = dehnen_bar(omegab, alpha=alpha4, m=4, **kwargs)
    return b2 + b4
