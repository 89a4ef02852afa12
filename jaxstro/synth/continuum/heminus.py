"""He- free-free absorption (He + e + photon -> He + e), John (1994, MNRAS 269, 871).

John's Table: K(lambda, theta = 5040/T) in 1e-26 cm^4 dyn^-1 (stimulated emission included, the
same quantity as Bell & Berrington's H- K), alpha = K P_e n(He I, ground). Tabulated for 5063 Å <=
lambda <= 151878 Å and theta 0.5-3.6; bilinear interpolation, clamped in theta. Below 5063 Å,
where the table stops, K is continued as K(5063 Å) (lambda / 5063 Å)^2 (the lambda^2 behaviour of
free-free absorption); the term is <~1 % of H- there. n(He I, ground) = n_HeI / U_HeI (g = 1).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._constants import c_cgs, k_cgs
from ._interp import bilinear

JOHN_THETA = np.array([0.5, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 2.8, 3.6])
JOHN_LAMBDA = np.array(
    [5063.0, 5695.0, 6509.0, 7594.0, 9113.0, 11391.0, 15188.0, 18225.0, 22782.0, 30376.0,
     36451.0, 45564.0, 60751.0, 91127.0, 113900.0, 151878.0])  # fmt: skip
JOHN_K = np.array(
    [
        [0.033, 0.036, 0.043, 0.049, 0.055, 0.061, 0.066, 0.072, 0.078, 0.100, 0.121],
        [0.041, 0.045, 0.053, 0.061, 0.067, 0.074, 0.081, 0.087, 0.094, 0.120, 0.145],
        [0.053, 0.059, 0.069, 0.077, 0.086, 0.094, 0.102, 0.109, 0.117, 0.148, 0.178],
        [0.072, 0.079, 0.092, 0.103, 0.114, 0.124, 0.133, 0.143, 0.152, 0.190, 0.227],
        [0.102, 0.113, 0.131, 0.147, 0.160, 0.173, 0.186, 0.198, 0.210, 0.258, 0.305],
        [0.159, 0.176, 0.204, 0.227, 0.247, 0.266, 0.283, 0.300, 0.316, 0.380, 0.444],
        [0.282, 0.311, 0.360, 0.400, 0.435, 0.466, 0.495, 0.522, 0.547, 0.643, 0.737],
        [0.405, 0.447, 0.518, 0.576, 0.625, 0.670, 0.710, 0.747, 0.782, 0.910, 1.030],
        [0.632, 0.698, 0.808, 0.899, 0.977, 1.045, 1.108, 1.165, 1.218, 1.405, 1.574],
        [1.121, 1.239, 1.435, 1.597, 1.737, 1.860, 1.971, 2.073, 2.167, 2.490, 2.765],
        [1.614, 1.783, 2.065, 2.299, 2.502, 2.681, 2.842, 2.990, 3.126, 3.592, 3.979],
        [2.520, 2.784, 3.226, 3.593, 3.910, 4.193, 4.448, 4.681, 4.897, 5.632, 6.234],
        [4.479, 4.947, 5.733, 6.387, 6.955, 7.460, 7.918, 8.338, 8.728, 10.059, 11.147],
        [10.074, 11.128, 12.897, 14.372, 15.653, 16.798, 17.838, 18.795, 19.685, 22.747, 25.268],
        [15.739, 17.386, 20.151, 22.456, 24.461, 26.252, 27.882, 29.384, 30.782, 35.606, 39.598],
        [27.979, 30.907, 35.822, 39.921, 43.488, 46.678, 49.583, 52.262, 54.757, 63.395, 70.580],
    ]
)


def heminus_ff(nu, T, ne, n_HeI_ground) -> Float[Array, " n_nu"]:
    """He- free-free absorption coefficient [cm^-1] at frequencies ``nu`` [Hz]."""
    lam = c_cgs / nu * 1e8
    lam_c = jnp.maximum(lam, JOHN_LAMBDA[0])
    K = bilinear(lam_c, 5040.0 / T, jnp.asarray(JOHN_LAMBDA), jnp.asarray(JOHN_THETA),
                 jnp.asarray(JOHN_K))  # fmt: skip
    K = K * jnp.minimum(lam / JOHN_LAMBDA[0], 1.0) ** 2
    return 1e-26 * K * ne * k_cgs * T * n_HeI_ground
