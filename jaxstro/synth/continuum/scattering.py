"""Continuum scattering: Thomson (electrons) and Rayleigh (H I, He I, H2).

- Thomson: alpha = sigma_T n_e, sigma_T = 6.6524587e-25 cm^2.
- Rayleigh by ground-state H I: Dalgarno's fit as given by Gray (2005, eq. 8.23),
  sigma = 5.799e-13/lambda^4 + 1.422e-6/lambda^6 + 2.784/lambda^8 cm^2 (lambda in Å); identical to
  within 0.1 % longward of 1300 Å to the Colgan et al. (2016) expansion Korg uses. The expansion
  diverges at Ly alpha, so it is evaluated at max(lambda, 1300 Å).
- Rayleigh by He I (ground state): Dalgarno (1962) fit as quoted by Gray (2005):
  sigma = 5.484e-14/lambda^4 (1 + 2.44e5/lambda^2 + 5.94e10/(lambda^2 (lambda^2 - 2.90e5)))^2,
  evaluated at
  max(lambda, 1300 Å).
- Rayleigh by H2: Dalgarno & Williams (1962, ApJ 136, 690):
  sigma = 8.14e-13/lambda^4 + 1.28e-6/lambda^6 + 1.61/lambda^8, evaluated at max(lambda, 1300 Å).

How scattering enters the transfer: ``continuum_absorption`` adds these coefficients to the
absorption and ``synthesize`` uses S = B_lambda(T) (scattering treated as absorption, as Korg does).
Turbospectrum treats scattering as scattering by default; the difference is < 3e-4 for the Sun and
about 1 % in the continuum of a logg = 1 giant (see notes/turbospectrum_comparison.md).
"""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Float

from ._constants import c_cgs, sigma_thomson

LAMBDA_MIN_RAYLEIGH = 1300.0  # Å


def thomson(ne) -> Float[Array, ""]:
    """Thomson scattering coefficient [cm^-1]."""
    return sigma_thomson * ne


def rayleigh(nu, n_HI_ground, n_HeI_ground, n_H2) -> Float[Array, " n_nu"]:
    """Rayleigh scattering by H I, He I and H2 [cm^-1] at frequencies ``nu`` [Hz]."""
    lam = jnp.maximum(c_cgs / nu * 1e8, LAMBDA_MIN_RAYLEIGH)
    l2 = lam**2
    l4 = l2 * l2
    s_H = 5.799e-13 / l4 + 1.422e-6 / (l4 * l2) + 2.784 / (l4 * l4)
    s_He = 5.484e-14 / l4 * (1 + 2.44e5 / l2 + 5.94e10 / (l2 * (l2 - 2.90e5))) ** 2
    s_H2 = 8.14e-13 / l4 + 1.28e-6 / (l4 * l2) + 1.61 / (l4 * l4)
    return n_HI_ground * s_H + n_HeI_ground * s_He + n_H2 * s_H2
