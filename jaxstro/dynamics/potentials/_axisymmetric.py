"""Axisymmetric components of MWPotential2014 (Bovy 2015): power-law bulge with an exponential
cutoff, Miyamoto-Nagai disc, NFW halo. Natural units (G = 1, 8 kpc, 220 km/s).

The amplitude ``amp`` follows galpy's convention (a density or mass amplitude, see each class).
``Cls.normalized(f, ...)`` sets ``amp`` so that the component's radial force at (R, z) = (1, 0) is
-f, i.e. it contributes a fraction f of vc^2 at R0 (galpy's ``normalize=f``).
"""

from __future__ import annotations

import functools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

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

    Numerics (ours): with s = r/rc, P(a, s^2) = s^(2a) g_a(s^2), where g_a(x) = x^-a P(a, x) is
    Tricomi's entire function gamma*(a, x) = e^-x sum_n x^n / Gamma(a + n + 1) (positive terms, so
    the series is accurate in float64). For a given alpha (static) g_a is tabulated once as
    piecewise Chebyshev series (degree 12 on x-intervals of width 2 up to x = 40, relative error
    ~3e-15; for x >= 40, 1 - P < 1e-17 and P = 1). The radial force is supplied exactly through a
    custom JVP, dPhi/dr = M(r)/r^2 = 2 pi amp rc^(1-alpha) Gamma(a2) s^(1-alpha) g_a2(s^2), so a
    force evaluation costs two 12-term Clenshaw sums and no special-function loop.
    """

    amp: float
    alpha: float = eqx.field(static=True)
    rc: float

    def __init__(self, amp: float = 1.0, alpha: float = 1.0, rc: float = 1.0):
        check_positive("PowerSphericalCutoff", amp=amp, rc=rc)
        alpha = float(alpha)
        if not alpha < 2.0:
            raise ValueError(f"PowerSphericalCutoff: alpha must be < 2, got {alpha}")
        self.amp, self.alpha, self.rc = amp, alpha, rc

    def _phi(self, R, z, phi, t):
        s = jnp.sqrt(R * R + z * z) / self.rc
        return 2.0 * jnp.pi * self.amp * self.rc ** (2.0 - self.alpha) * _bulge_shape(self.alpha)(s)

    def _dens(self, R, z, phi, t):
        r = jnp.sqrt(R * R + z * z)
        return self.amp * r ** (-self.alpha) * jnp.exp(-((r / self.rc) ** 2))


_X_MAX = 40.0  # beyond, 1 - P(a, x) < 1e-17 for the a used here
_X_STEP = 2.0
_CHEB_DEG = 12


def _tricomi_series(a: float, x: np.ndarray) -> np.ndarray:
    """gamma*(a, x) = e^-x sum_n x^n / Gamma(a + n + 1) in float64 (positive terms; x <= 40)."""
    term = np.full_like(x, 1.0 / math.gamma(a + 1.0))
    tot = term.copy()
    for n in range(1, 300):
        term = term * x / (a + n)
        tot += term
    return np.exp(-x) * tot


@functools.lru_cache(maxsize=16)
def _tricomi_table(a: float) -> np.ndarray:
    """Chebyshev coefficients (n_intervals, degree + 1) of gamma*(a, x) on [k step, (k+1) step]."""
    k = np.arange(_CHEB_DEG + 1)
    nodes = np.cos(np.pi * (k + 0.5) / (_CHEB_DEG + 1))
    rows = []
    for i in range(int(round(_X_MAX / _X_STEP))):
        xs = _X_STEP * (i + 0.5 * (nodes + 1.0))
        rows.append(np.polynomial.chebyshev.chebfit(nodes, _tricomi_series(a, xs), _CHEB_DEG))
    return np.asarray(rows)


def _tricomi(table: np.ndarray, x):
    """gamma*(a, x) for 0 <= x < _X_MAX from its table (Clenshaw), any array shape."""
    xc = jnp.clip(x, 0.0, _X_MAX - 1e-12)
    i = jnp.floor(xc / _X_STEP).astype(jnp.int32)
    t = 2.0 * (xc - i * _X_STEP) / _X_STEP - 1.0
    c = jnp.asarray(table)[i]  # (..., degree + 1)
    b1 = jnp.zeros_like(t)
    b2 = jnp.zeros_like(t)
    for j in range(_CHEB_DEG, 0, -1):
        b1, b2 = c[..., j] + 2.0 * t * b1 - b2, b1
    return c[..., 0] + t * b1 - b2


@functools.lru_cache(maxsize=16)
def _bulge_shape(alpha: float):
    """f(s) with Phi = 2 pi amp rc^(2-alpha) f(r/rc); exact derivative by a custom JVP."""
    a1, a2 = 1.0 - alpha / 2.0, 1.5 - alpha / 2.0
    g1, g2 = math.gamma(a1), math.gamma(a2)
    t1, t2 = _tricomi_table(a1), _tricomi_table(a2)
    s_max = math.sqrt(_X_MAX)

    @jax.custom_jvp
    def f(s):
        x = s * s
        diff = g1 * _tricomi(t1, x) - g2 * _tricomi(t2, x)
        inner = jnp.where(s > 0, s, 1.0) ** (2.0 - alpha) * diff
        inner = jnp.where(s > 0, inner, 0.0)
        outer = g1 - g2 / jnp.where(s >= s_max, s, s_max)
        return jnp.where(s < s_max, inner, outer)

    def dfds(s):
        # M(r)/r^2 in units of 2 pi amp rc^(1-alpha): Gamma(a2) P(a2, s^2) / s^2
        s_safe = jnp.where(s > 0, s, 1.0)
        inner = g2 * s_safe ** (1.0 - alpha) * _tricomi(t2, s * s)
        outer = g2 / (s_safe * s_safe)
        return jnp.where(s > 0, jnp.where(s < s_max, inner, outer), 0.0)

    @f.defjvp
    def _f_jvp(primals, tangents):
        (s,), (ds,) = primals, tangents
        return f(s), dfds(s) * ds

    return f


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
