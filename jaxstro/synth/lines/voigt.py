"""Voigt profile via the Faddeeva function w(z) (Weideman 1994 rational approximation).

For Im z > 0, ``w(z) = exp(-z^2) erfc(-i z)`` is approximated by Weideman's (1994, SIAM J.
Numer. Anal. 31, 1497) series in ``Z = (L + i z)/(L - i z)``:
``w(z) ~ 2 p(Z)/(L - i z)^2 + pi^-1/2/(L - i z)``, with ``L = sqrt(N/sqrt 2)`` and the
polynomial coefficients of ``p`` obtained once from an FFT of ``exp(-t^2)(L^2 + t^2)`` on the
mapped grid ``t = L tan(theta/2)``. With ``N = 32`` terms the Voigt-Hjerting function
``H(a, v) = Re w(v + i a)`` has absolute error below 1e-13 and relative error below 3e-6 for
1e-6 <= a <= 100, |v| <= 1e3 against ``scipy.special.wofz`` (tested). The approximation is a
rational function, smooth and differentiable in both arguments.

Derivatives use the Faddeeva function's differential equation ``w'(z) = -2 z w(z) + 2i/sqrt(pi)``
(a ``jax.custom_jvp``), so a tangent or cotangent costs a few complex operations on top of the
value instead of differentiating through the 32-term Horner recurrence (whose reverse pass stores or
recomputes every intermediate). For ``|z| < 10`` the rule's error is ``2|z|`` times the
approximation's (< 3e-12 absolute); tested against central differences and against autodiff of the
series.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

SQRT_PI = float(np.sqrt(np.pi))


def _weideman_coefficients(n: int) -> tuple[float, np.ndarray]:
    m = 2 * n
    m2 = 2 * m
    k = np.arange(-m + 1, m)
    big_l = np.sqrt(n / np.sqrt(2.0))
    theta = k * np.pi / m
    t = big_l * np.tan(theta / 2.0)
    f = np.concatenate([[0.0], np.exp(-(t**2)) * (big_l**2 + t**2)])
    a = np.real(np.fft.fft(np.fft.fftshift(f))) / m2
    return big_l, a[1 : n + 1][::-1].copy()


_L32, _A32 = _weideman_coefficients(32)


def faddeeva(z: ArrayLike) -> Array:
    """w(z) for Im z >= 0 (upper half plane, where line profiles live)."""
    return _faddeeva(jnp.asarray(z) + 0j)


def _weideman_series(z: Array) -> Array:
    """The N = 32 Weideman rational approximation itself (differentiable by plain autodiff; kept
    for the test of the derivative rule)."""
    iz = 1j * z
    den = _L32 - iz
    zz = (_L32 + iz) / den
    p = jnp.zeros_like(zz)
    for c in _A32:  # Horner; 32 fused multiply-adds, unrolled at trace time
        p = p * zz + c
    return 2.0 * p / den**2 + (1.0 / SQRT_PI) / den


@jax.custom_jvp
def _faddeeva(z: Array) -> Array:
    return _weideman_series(z)


@_faddeeva.defjvp
def _faddeeva_jvp(primals, tangents):
    (z,), (dz,) = primals, tangents
    w = _faddeeva(z)
    return w, (2j / SQRT_PI - 2.0 * z * w) * dz


def voigt_hjerting(a: Float[ArrayLike, "..."], v: Float[ArrayLike, "..."]) -> Array:
    """H(a, v) = Re w(v + i a): the Voigt function normalised so that H(0, v) = exp(-v^2)."""
    a = jnp.asarray(a)
    v = jnp.asarray(v)
    return jnp.real(faddeeva(v + 1j * a))


def voigt_profile(
    x: Float[ArrayLike, "..."], sigma: Float[ArrayLike, "..."], gamma: Float[ArrayLike, "..."]
) -> Array:
    """Area-normalised Voigt profile: a Gaussian of standard deviation ``sigma`` convolved with a
    Lorentzian of half width at half maximum ``gamma``, at offset ``x`` (same units)."""
    sigma = jnp.asarray(sigma)
    inv = 1.0 / (sigma * np.sqrt(2.0))
    return voigt_hjerting(jnp.asarray(gamma) * inv, jnp.asarray(x) * inv) * inv / SQRT_PI
