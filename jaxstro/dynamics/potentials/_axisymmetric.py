"""Axisymmetric components of MWPotential2014 (Bovy 2015): power-law bulge with an exponential
cutoff, Miyamoto-Nagai disc, NFW halo. Natural units (G = 1, 8 kpc, 220 km/s).

The amplitude ``amp`` follows galpy's convention (a density or mass amplitude, see each class).
``Cls.normalized(f, ...)`` sets ``amp`` so that the component's radial force at (R, z) = (1, 0) is
-f, i.e. it contributes a fraction f of vc^2 at R0 (galpy's ``normalize=f``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import gammaln

from ._base import Potential, check_positive


class _Normalizable(Potential):
    @classmethod
    def normalized(cls, f: float, **params):
        """The component with amplitude chosen so that -F_R(1, 0) = f."""
        unit = cls(amp=1.0, **params)
        return cls(amp=float(f / -unit.Rforce(1.0, 0.0)), **params)


class PowerSphericalCutoff(_Normalizable):
    """rho(r) = amp r^-alpha exp(-(r/rc)^2) (galpy ``PowerSphericalPotentialwCutoff``).

    Phi(r) = 2 pi amp rc^(3-alpha) [Gamma(1-alpha/2) P(1-alpha/2, x)/rc
             - Gamma(3/2-alpha/2) P(3/2-alpha/2, x)/r],  x = (r/rc)^2, P regularised lower
    incomplete gamma; Phi(0) = 0 and Phi(inf) > 0 (as in galpy). Requires alpha < 2.
    """

    amp: float
    alpha: float
    rc: float

    def __init__(self, amp: float = 1.0, alpha: float = 1.0, rc: float = 1.0):
        check_positive("PowerSphericalCutoff", amp=amp, rc=rc)
        if not alpha < 2.0:
            raise ValueError(f"PowerSphericalCutoff: alpha must be < 2, got {alpha}")
        self.amp, self.alpha, self.rc = amp, alpha, rc

    def _phi(self, R, z, phi, t):
        r = jnp.sqrt(R * R + z * z)
        a1 = 1.0 - self.alpha / 2.0
        a2 = 1.5 - self.alpha / 2.0
        x = (r / self.rc) ** 2
        g1 = jnp.exp(gammaln(a1)) * _gammainc(a1, x) / self.rc
        g2 = jnp.exp(gammaln(a2)) * _p_over_r(a2, x, r, self.rc)
        return 2.0 * jnp.pi * self.amp * self.rc ** (3.0 - self.alpha) * (g1 - g2)

    def _dens(self, R, z, phi, t):
        r = jnp.sqrt(R * R + z * z)
        return self.amp * r ** (-self.alpha) * jnp.exp(-((r / self.rc) ** 2))


def _gammainc(a: float, x):
    """Regularised lower incomplete gamma P(a, x) for a > 0 (static), x >= 0, to ~1e-15.

    Fixed-length series (x < a + 1) and modified-Lentz continued fraction for Q = 1 - P
    (x >= a + 1); both are fixed-trip loops, so the function is cheap under vmap and twice
    differentiable by autodiff (jax.scipy.special.gammainc is ~1000x slower here).
    """
    x_s = jnp.where(x < a + 1.0, x, a)  # keep each branch finite where it is not selected
    x_c = jnp.where(x >= a + 1.0, x, a + 1.0)

    def series_body(n, st):
        term, tot = st
        term = term * x_s / (a + n)
        return term, tot + term

    term0 = jnp.ones_like(x_s) / a
    _, tot = jax.lax.fori_loop(1, 25, series_body, (term0, term0))
    pref_s = jnp.exp(-x_s + a * jnp.log(jnp.maximum(x_s, 1e-300)) - gammaln(a))
    p_series = jnp.where(x_s > 0, tot * pref_s, 0.0)

    tiny = 1e-300

    def cf_body(i, st):
        b, c, d, h = st
        an = -i * (i - a)
        b = b + 2.0
        d = an * d + b
        d = jnp.where(jnp.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = jnp.where(jnp.abs(c) < tiny, tiny, c)
        d = 1.0 / d
        return b, c, d, h * d * c

    b0 = x_c + 1.0 - a
    st0 = (b0, jnp.full_like(x_c, 1.0 / tiny), 1.0 / b0, 1.0 / b0)
    _, _, _, h = jax.lax.fori_loop(1, 50, cf_body, st0)
    q_cf = jnp.exp(-x_c + a * jnp.log(x_c) - gammaln(a)) * h
    return jnp.where(x < a + 1.0, p_series, 1.0 - q_cf)


def _p_over_r(a, x, r, rc):
    """P(a, (r/rc)^2) / r, finite at r = 0 (P ~ x^a / Gamma(a+1) there)."""
    small = r < 1e-8 * rc
    r_safe = jnp.where(small, rc, r)
    x_safe = jnp.where(small, 1.0, x)
    series = (r / rc) ** (2 * a) / jnp.exp(gammaln(a + 1.0)) / jnp.where(r > 0, r, 1.0)
    return jnp.where(small, jnp.where(r > 0, series, 0.0), _gammainc(a, x_safe) / r_safe)


class MiyamotoNagai(_Normalizable):
    """Phi = -amp / sqrt(R^2 + (a + sqrt(z^2 + b^2))^2) (amp = G M)."""

    amp: float
    a: float
    b: float

    def __init__(self, amp: float = 1.0, a: float = 1.0, b: float = 0.1):
        check_positive("MiyamotoNagai", amp=amp, b=b)
        if not a >= 0:
            raise ValueError(f"MiyamotoNagai: a must be >= 0, got {a}")
        self.amp, self.a, self.b = amp, a, b

    def _phi(self, R, z, phi, t):
        s = self.a + jnp.sqrt(z * z + self.b * self.b)
        return -self.amp / jnp.sqrt(R * R + s * s)

    def _dens(self, R, z, phi, t):
        zb = jnp.sqrt(z * z + self.b * self.b)
        s = self.a + zb
        num = self.a * R * R + (self.a + 3.0 * zb) * s * s
        den = (R * R + s * s) ** 2.5 * zb**3
        return self.amp * self.b**2 / (4.0 * jnp.pi) * num / den


class NFW(_Normalizable):
    """Phi = -amp ln(1 + r/a) / r; rho = amp / (4 pi a^3) / ((r/a)(1 + r/a)^2)."""

    amp: float
    a: float

    def __init__(self, amp: float = 1.0, a: float = 1.0):
        check_positive("NFW", amp=amp, a=a)
        self.amp, self.a = amp, a

    def _phi(self, R, z, phi, t):
        r = jnp.sqrt(R * R + z * z)
        x = r / self.a
        # ln(1+x)/x -> 1 - x/2 as x -> 0
        ratio = jnp.where(x > 1e-8, jnp.log1p(x) / jnp.where(x > 1e-8, x, 1.0), 1.0 - x / 2.0)
        return -self.amp / self.a * ratio

    def _dens(self, R, z, phi, t):
        x = jnp.sqrt(R * R + z * z) / self.a
        return self.amp / (4.0 * jnp.pi * self.a**3) / (x * (1.0 + x) ** 2)


def MWPotential2014() -> Potential:
    """Bovy (2015) MWPotential2014 in natural units (R0 = 8 kpc, vc(R0) = 220 km/s).

    Bulge PowerSphericalCutoff(alpha=1.8, rc=1.9 kpc, 5% of vc^2(R0)), Miyamoto-Nagai disc
    (a=3 kpc, b=0.28 kpc, 60%), NFW halo (a=16 kpc, 35%); amplitudes fixed by galpy's ``normalize``.
    """
    return (
        PowerSphericalCutoff.normalized(0.05, alpha=1.8, rc=1.9 / 8.0)
        + MiyamotoNagai.normalized(0.6, a=3.0 / 8.0, b=0.28 / 8.0)
        + NFW.normalized(0.35, a=2.0)
    )
