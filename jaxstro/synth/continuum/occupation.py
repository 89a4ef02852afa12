"""Occupation probabilities of hydrogen levels in a plasma (Hummer & Mihalas 1988).

The probability w_n that level n of an H atom is not destroyed by its neighbours is the product
of a neutral-perturber and a charged-perturber part (Hummer & Mihalas 1988, ApJ 331, 794):

- neutral perturbers (H I and He I, in their ground states), hard spheres (HM88 eq. 4.71):

      w_neutral = exp(-(4 pi / 3) sum_j n_j (r_n + r_j)^3),
      r_n = a0 sqrt(2.5 n^4 + 0.5 n^2)   (the rms radius of level n, l-averaged),
      r_H = sqrt(3) a0 = 1.73 a0,  r_He = 1.02 a0;

- charged perturbers (taken singly charged with density n_e), the fit of Hubeny, Hummer & Lanz
  (1994, A&A 282, 151, Appendix A) to the HM88 microfield treatment including correlations:

      a = 0.09 n_e^(1/6) / sqrt(T),   x = (1 + a)^3.15,
      beta = 8.3e14 n_e^(-2/3) K_n / n^4,   K_n = 1 (n <= 3), (16/3) n / (n + 1)^2 (n > 3),
      f = 0.1402 x beta^3 / (1 + 0.1285 x beta^(3/2)),   w_charged = f / (1 + f).

The formulas hold for non-integer (effective) n, which is what level dissolution needs: a photon
of energy h nu below the ionisation edge of level n can still ionise it ("dissolved" upper
states) with probability D = 1 - w(n*) / w(n), n* = (1/n^2 - h nu / Ry)^(-1/2) (Daeppen,
Anderson & Mihalas 1987; HHL94 eq. 2.6). This smooths the H I bound-free series limits over the
crowded high series members. The same prescription is used by Turbospectrum (hbop.f, Barklem &
Eriksson 2003) and Korg (Wheeler et al. 2023). ``lines.hydrogen.occupation_probability`` (the
upper-level factor of the H I lines) calls this module: one implementation for lines and continuum.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

A0 = 5.29177210903e-9  # Bohr radius [cm]


def log_hydrogen_occupation(n_eff, T, ne, n_HI, n_HeI=0.0):
    """ln w of an H level with (effective) principal quantum number ``n_eff`` >= 1 at
    temperature ``T`` [K], electron density ``ne`` and neutral H / He densities [cm^-3] (arrays
    broadcast). Computed in logarithms so that ratios w(n*)/w(n) and their derivatives stay finite
    when w underflows."""
    n2 = n_eff * n_eff
    r_n = A0 * jnp.sqrt(2.5 * n2 * n2 + 0.5 * n2)
    neutral = n_HI * (r_n + 1.73 * A0) ** 3 + n_HeI * (r_n + 1.02 * A0) ** 3
    ln_w_neutral = -4.0 * jnp.pi / 3.0 * neutral
    K = jnp.where(n_eff > 3.0, 16.0 / 3.0 * n_eff / (n_eff + 1.0) ** 2, 1.0)
    charged = ne > 10.0
    ne_safe = jnp.where(charged, ne, 1e10)
    a = 0.09 * ne_safe ** (1.0 / 6.0) / jnp.sqrt(T)
    ln_x = 3.15 * jnp.log1p(a)
    ln_beta = jnp.log(8.3e14 * K) - 2.0 / 3.0 * jnp.log(ne_safe) - 2.0 * jnp.log(n2)
    ln_f = (jnp.log(0.1402) + ln_x + 3.0 * ln_beta
            - jnp.log1p(0.1285 * jnp.exp(ln_x + 1.5 * ln_beta)))  # fmt: skip
    ln_w_charged = jnp.where(charged, -jax.nn.softplus(-ln_f), 0.0)  # ln(f / (1 + f))
    return ln_w_neutral + ln_w_charged


def hydrogen_occupation(n_eff, T, ne, n_HI, n_HeI=0.0):
    """Occupation probability w (see ``log_hydrogen_occupation``)."""
    return jnp.exp(log_hydrogen_occupation(n_eff, T, ne, n_HI, n_HeI))
