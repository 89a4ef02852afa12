"""H2+ bound-free and free-free absorption (H + H+ + photon), Bates (1952, MNRAS 112, 40).

Bates' table (as used by Gray 2005, sec. 8) gives the total H2+ absorption coefficient
kappa(nu~, T) per H atom per proton, alpha = kappa n(H I, ground) n(H II), in 1e-39 cm^5, for
wavenumbers 500-26000 cm^-1 (3846 Å - 20 um) and T = 2500-12000 K, with the fraction that is
bound-free. We use the total (bf + ff, which is what stellar opacity needs and what Gray plots),
with stimulated emission included as in Bates' coefficients. Interpolation is bilinear in
(wavenumber, T), clamped in T; above 26000 cm^-1 the coefficient is continued linearly in
wavenumber from the last two rows and floored at zero (the term is < 1 % of H- there). We do NOT
use Stancil (1994) (its table was not available to us); Korg does, so expect differences of order
10 % in this minor source.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._constants import c_cgs
from ._interp import bilinear

BATES_WAVENUMBER = np.array(
    [500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 5000, 6000, 7000, 8000, 9000, 10000, 12000,
     14000, 16000, 18000, 20000, 22000, 24000, 26000], dtype=np.float64)  # fmt: skip
BATES_T = np.array([2500.0, 3000.0, 3500.0, 4000.0, 5000.0, 6000.0, 7000.0, 8000.0, 10000.0,
                    12000.0])  # fmt: skip
# total (bf + ff) coefficient in 1e-39 cm^5; rows wavenumber (above), columns T (above)
BATES_KAPPA = np.array(
    [
        [1.14, 0.94, 0.80, 0.69, 0.55, 0.46, 0.39, 0.34, 0.27, 0.226],
        [1.61, 1.32, 1.12, 0.97, 0.77, 0.63, 0.54, 0.47, 0.38, 0.31],
        [1.97, 1.60, 1.35, 1.17, 0.92, 0.76, 0.64, 0.56, 0.44, 0.37],
        [2.28, 1.83, 1.53, 1.32, 1.03, 0.85, 0.72, 0.63, 0.50, 0.41],
        [2.56, 2.04, 1.69, 1.45, 1.13, 0.92, 0.78, 0.68, 0.54, 0.44],
        [2.84, 2.23, 1.84, 1.56, 1.21, 0.99, 0.83, 0.72, 0.57, 0.47],
        [3.1, 2.42, 1.97, 1.67, 1.28, 1.04, 0.88, 0.76, 0.60, 0.49],
        [3.4, 2.60, 2.10, 1.77, 1.35, 1.09, 0.92, 0.79, 0.62, 0.51],
        [4.0, 2.98, 2.36, 1.96, 1.47, 1.17, 0.98, 0.84, 0.66, 0.54],
        [4.8, 3.4, 2.63, 2.15, 1.57, 1.25, 1.04, 0.89, 0.69, 0.57],
        [5.6, 3.9, 2.91, 2.33, 1.67, 1.31, 1.08, 0.92, 0.71, 0.58],
        [6.7, 4.4, 3.2, 2.53, 1.77, 1.37, 1.12, 0.95, 0.73, 0.59],
        [7.9, 5.0, 3.5, 2.74, 1.87, 1.43, 1.16, 0.97, 0.74, 0.60],
        [9.3, 5.6, 3.9, 2.95, 1.97, 1.48, 1.19, 0.99, 0.75, 0.61],
        [13.0, 7.2, 4.7, 3.4, 2.18, 1.58, 1.25, 1.03, 0.77, 0.62],
        [18.1, 9.3, 5.7, 4.0, 2.40, 1.69, 1.30, 1.06, 0.78, 0.62],
        [25.1, 11.9, 7.0, 4.7, 2.64, 1.80, 1.36, 1.09, 0.78, 0.62],
        [35.0, 15.2, 8.4, 5.4, 2.91, 1.91, 1.41, 1.11, 0.79, 0.61],
        [47.0, 19.3, 10.2, 6.3, 3.2, 2.03, 1.46, 1.14, 0.79, 0.61],
        [64.0, 24.3, 12.2, 7.3, 3.5, 2.16, 1.52, 1.16, 0.79, 0.60],
        [86.0, 31.0, 14.6, 8.4, 3.8, 2.29, 1.57, 1.18, 0.79, 0.59],
        [114.0, 38.0, 17.3, 9.6, 4.2, 2.42, 1.63, 1.21, 0.79, 0.58],
    ]
)


def h2plus_bf_ff(nu, T, n_HI_ground, n_HII) -> Float[Array, " n_nu"]:
    """H2+ (bound-free + free-free) absorption coefficient [cm^-1] at frequencies ``nu`` [Hz]."""
    wn = nu / c_cgs
    wg, tg, kg = jnp.asarray(BATES_WAVENUMBER), jnp.asarray(BATES_T), jnp.asarray(BATES_KAPPA)
    k_in = bilinear(wn, T, wg, tg, kg)
    # linear continuation in wavenumber beyond the last row
    k_a = bilinear(wg[-2], T, wg, tg, kg)
    k_b = bilinear(wg[-1], T, wg, tg, kg)
    k_out = jnp.maximum(k_b + (k_b - k_a) / (wg[-1] - wg[-2]) * (wn - wg[-1]), 0.0)
    k = jnp.where(wn > wg[-1], k_out, k_in)
    return 1e-39 * k * n_HI_ground * n_HII
