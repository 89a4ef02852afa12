"""Line broadening, one function per mechanism (cgs; widths are FWHM in angular frequency, s^-1).

Conventions: a damping constant ``gamma`` [s^-1] is the FWHM of the Lorentzian in angular
frequency; its half width at half maximum in wavelength is ``lambda^2 gamma / (4 pi c)``
(:func:`lorentz_hwhm_wavelength`). Doppler widths are the standard deviation ``sigma`` of the
Gaussian in wavelength (:func:`doppler_sigma`).

References
- Doppler: thermal + microturbulent, ``sigma = lambda/c sqrt(kT/m + xi^2/2)`` (xi: the most probable
  microturbulent speed, Gaussian ``exp(-(v/xi)^2)``; Gray 2005, "The Observation and Analysis of
  Stellar Photospheres", 3rd ed., eq. 11.46).
- Radiative: the list value; else the classical damping constant of an electron oscillator,
  ``gamma_cl = 8 pi^2 e^2 / (3 m_e c lambda^2)`` (Gray 2005 eq. 11.14; 0.2223/lambda[cm]^2).
- Quadratic Stark: the list value (per electron at 10^4 K) times ``n_e (T/10^4)^(1/6)``; else the
  Cowley (1971, Observatory 91, 139) approximation ``gamma_4 = C n*^4`` per electron at 10^4 K
  with n*^2 = Z^2 R_H / (chi - E_upper) (the effective quantum number of the upper level) and the
  constant C = 2.25910152e-7 cm^3 s^-1 adopted by Korg (Wheeler et al. 2023); same T scaling.
- van der Waals by H I:
  * ABO (Anstee & O'Mara 1995; Barklem, O'Mara & Ross 1998; Barklem, Piskunov & O'Mara 2000):
    half width per H atom
    ``w/n_H = (4/pi)^(alpha/2) Gamma((4 - alpha)/2) v0 sigma (vbar/v0)^(1-alpha)``
    with sigma [a0^2] the cross section at v0 = 10^4 m/s and vbar = sqrt(8kT/(pi mu)), mu the
    reduced mass of the absorber and H I; gamma (FWHM) = 2 w.
  * log-gamma form: ``gamma = 10^(log gamma) n_H (T/10^4)^0.3`` (the Unsöld temperature scaling).
  * Unsöld (1955) in Gray's formulation (Gray 2005 eqs. 11.29-11.30):
    ``gamma_6 = 17 vbar^(3/5) C6^(2/5) n_H`` with
    ``C6 = 0.3e-30 Z^2 [1/(chi - E_upper)^2 - 1/(chi - E_lower)^2]`` [cm^6 s^-1, energies in eV],
    Z = charge + 1 (Unsöld's hydrogenic mean-square radii; Gray's formula is the Z = 1 case),
    times the list's enhancement factor. Zero for molecules and for upper levels above the
    ionisation limit.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import gammaln
from jaxtyping import Array, ArrayLike, Float

# CODATA 2018, cgs
C_CGS = 2.99792458e10  # cm s^-1
K_CGS = 1.380649e-16  # erg K^-1
H_CGS = 6.62607015e-27  # erg s
E_ESU = 4.80320471e-10  # statC
M_E = 9.1093837015e-28  # g
AMU = 1.66053906660e-24  # g
A0 = 0.529177210903e-8  # Bohr radius, cm
HC_EV_ANGSTROM = 12398.419843320026  # h c [eV Å]
RYDBERG_H_EV = 13.598434005136  # hydrogen Rydberg (reduced mass) [eV]
MASS_H_AMU = 1.008

#: constant of the Cowley (1971) Stark approximation [cm^3 s^-1 per electron at 10^4 K]
COWLEY_STARK_CONSTANT = 2.25910152e-7
#: Unsöld C6 constant of Gray (2005) eq. 11.30 [cm^6 s^-1 eV^2]
UNSOLD_C6_CONSTANT = 0.3e-30
#: reference speed of the ABO cross sections [cm s^-1]
ABO_V0 = 1.0e6


def doppler_sigma(
    wavelength_cm: Float[ArrayLike, "..."],
    T: Float[ArrayLike, "..."],
    mass_g: Float[ArrayLike, "..."],
    vmic_cm_s: Float[ArrayLike, "..."],
) -> Array:
    """Standard deviation [cm] of the Gaussian (thermal + microturbulent) profile in wavelength."""
    return jnp.asarray(wavelength_cm) / C_CGS * jnp.sqrt(
        K_CGS * jnp.asarray(T) / jnp.asarray(mass_g) + 0.5 * jnp.asarray(vmic_cm_s) ** 2
    )


def classical_radiative_gamma(wavelength_cm: Float[ArrayLike, "..."]) -> Array:
    """Classical radiative damping FWHM ``8 pi^2 e^2 / (3 m_e c lambda^2)`` [s^-1]."""
    return 8.0 * np.pi**2 * E_ESU**2 / (3.0 * M_E * C_CGS) / jnp.asarray(wavelength_cm) ** 2


def radiative_gamma(
    gamma_list: Float[ArrayLike, "..."], wavelength_cm: Float[ArrayLike, "..."]
) -> Array:
    """The list's radiative damping where given (finite and > 0), else the classical value."""
    g = jnp.asarray(gamma_list)
    ok = jnp.isfinite(g) & (g > 0)
    return jnp.where(ok, jnp.where(ok, g, 0.0), classical_radiative_gamma(wavelength_cm))


def upper_level_energy(E_lower_eV: ArrayLike, wavelength_cm: ArrayLike) -> Array:
    """E_upper = E_lower + h c / lambda [eV]."""
    return jnp.asarray(E_lower_eV) + HC_EV_ANGSTROM / (jnp.asarray(wavelength_cm) * 1e8)


def cowley_stark_gamma(
    E_upper_eV: ArrayLike, ionization_energy_eV: ArrayLike, charge: ArrayLike
) -> Array:
    """Cowley (1971) quadratic-Stark FWHM per electron at 10^4 K [s^-1 cm^3].

    ``C n*^4`` with ``n*^2 = Z^2 R_H/(chi - E_upper)``, Z = charge + 1. Zero where chi is NaN
    (molecules) or the upper level lies above the ionisation limit.
    """
    z = jnp.asarray(charge) + 1.0
    dE = jnp.asarray(ionization_energy_eV) - jnp.asarray(E_upper_eV)
    ok = jnp.isfinite(dE) & (dE > 0)
    nstar2 = z**2 * RYDBERG_H_EV / jnp.where(ok, dE, 1.0)
    return jnp.where(ok, COWLEY_STARK_CONSTANT * nstar2**2, 0.0)


def stark_gamma(
    gamma_per_electron: ArrayLike, ne: ArrayLike, T: ArrayLike
) -> Array:
    """Quadratic Stark FWHM [s^-1]: ``gamma_4(10^4 K) n_e (T/10^4)^(1/6)``."""
    return jnp.asarray(gamma_per_electron) * jnp.asarray(ne) * (jnp.asarray(T) / 1e4) ** (1.0 / 6.0)


def mean_relative_speed(T: ArrayLike, mass_g: ArrayLike, perturber_mass_g: float) -> Array:
    """``sqrt(8 k T / (pi mu))`` [cm s^-1], mu the reduced mass."""
    m = jnp.asarray(mass_g)
    mu = m * perturber_mass_g / (m + perturber_mass_g)
    return jnp.sqrt(8.0 * K_CGS * jnp.asarray(T) / (np.pi * mu))


def abo_gamma(
    sigma_a0sq: ArrayLike, alpha: ArrayLike, T: ArrayLike, mass_g: ArrayLike, n_HI: ArrayLike
) -> Array:
    """van der Waals FWHM [s^-1] from ABO cross sections (Anstee & O'Mara 1995)."""
    alpha = jnp.asarray(alpha)
    vbar = mean_relative_speed(T, mass_g, MASS_H_AMU * AMU)
    w = (
        (4.0 / np.pi) ** (alpha / 2.0)
        * jnp.exp(gammaln((4.0 - alpha) / 2.0))
        * ABO_V0
        * jnp.asarray(sigma_a0sq)
        * A0**2
        * (vbar / ABO_V0) ** (1.0 - alpha)
    )
    return 2.0 * w * jnp.asarray(n_HI)


def log_gamma_vdw(log_gamma: ArrayLike, T: ArrayLike, n_HI: ArrayLike) -> Array:
    """van der Waals FWHM [s^-1] from log10 gamma per H atom at 10^4 K, scaled by (T/10^4)^0.3."""
    return 10.0 ** jnp.asarray(log_gamma) * jnp.asarray(n_HI) * (jnp.asarray(T) / 1e4) ** 0.3


def unsold_c6(
    E_lower_eV: ArrayLike, E_upper_eV: ArrayLike, ionization_energy_eV: ArrayLike,
    charge: ArrayLike,
) -> Array:
    """Unsöld constant C6 [cm^6 s^-1] (Gray 2005 eq. 11.30, times Z^2); 0 where undefined."""
    chi = jnp.asarray(ionization_energy_eV)
    du = chi - jnp.asarray(E_upper_eV)
    dl = chi - jnp.asarray(E_lower_eV)
    ok = jnp.isfinite(chi) & (du > 0) & (dl > 0)
    du = jnp.where(ok, du, 1.0)
    dl = jnp.where(ok, dl, 2.0)
    z = jnp.asarray(charge) + 1.0
    c6 = UNSOLD_C6_CONSTANT * z**2 * (1.0 / du**2 - 1.0 / dl**2)
    return jnp.where(ok & (c6 > 0), c6, 0.0)


def unsold_gamma(
    c6: ArrayLike, T: ArrayLike, mass_g: ArrayLike, n_HI: ArrayLike, enhancement: ArrayLike = 1.0
) -> Array:
    """Unsöld van der Waals FWHM [s^-1]: ``enhancement * 17 vbar^(3/5) C6^(2/5) n_H``."""
    c6 = jnp.asarray(c6)
    vbar = mean_relative_speed(T, mass_g, MASS_H_AMU * AMU)
    safe = jnp.where(c6 > 0, c6, 1.0)
    g = 17.0 * vbar**0.6 * safe**0.4 * jnp.asarray(n_HI)
    return jnp.asarray(enhancement) * jnp.where(c6 > 0, g, 0.0)


def lorentz_hwhm_wavelength(gamma: ArrayLike, wavelength_cm: ArrayLike) -> Array:
    """HWHM in wavelength [cm] of a Lorentzian of angular-frequency FWHM ``gamma`` [s^-1]."""
    return jnp.asarray(wavelength_cm) ** 2 * jnp.asarray(gamma) / (4.0 * np.pi * C_CGS)
