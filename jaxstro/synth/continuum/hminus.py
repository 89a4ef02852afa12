"""H- (negative hydrogen ion) bound-free and free-free absorption.

Bound-free (photodetachment H- + photon -> H + e): cross-section of McLaughlin, Stancil,
Sadeghpour & Forrey (2017, J. Phys. B 50, 114001), registry ``hminus_bf_mclaughlin2017`` (per H-
ion, no stimulated emission), linearly interpolated in frequency; between the detachment threshold
(0.754204 eV, the binding energy McLaughlin et al. use) and the first tabulated point the Wigner
threshold law sigma ~ (nu - nu_0)^{3/2}, matched to the first point, is used. The H- density follows
from the Saha equation against ground-state H I (g = 2) with U(H-) = 1:

    n(H-) = n(H I, n=1) n_e / 4 * (h^2 / (2 pi m_e k T))^{3/2} exp(0.754204 eV / kT),

with n(H I, n=1) = 2 n_HI / U_HI. Stimulated emission factor (1 - exp(-h nu/kT)) applied.

Free-free (H + e + photon -> H + e): Bell & Berrington (1987, J. Phys. B 20, 801), Table 1:
K(lambda, theta = 5040/T) in 1e-26 cm^4 dyn^-1, alpha = K P_e n(H I, n=1); their K includes
stimulated emission. Interpolated bilinearly in (lambda, theta), clamped at the table edges
(1823-151890 Å, theta 0.5-3.6, i.e. 1400-10080 K); below 1823 Å the contribution is negligible.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._constants import SAHA_CONST, c_cgs, h_cgs, h_eV, k_cgs, k_eV
from ._interp import bilinear

HMINUS_ION_ENERGY_EV = 0.754204

# --- Bell & Berrington (1987) Table 1: K [1e-26 cm^4/dyn], rows lambda [Å], columns theta ---
BB_THETA = np.array([0.5, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 2.8, 3.6])
BB_LAMBDA = np.array(
    [1823, 2278, 2604, 3038, 3645, 4557, 5063, 5696, 6510, 7595, 9113, 10126, 11392, 13019,
     15189, 18227, 22784, 30378, 45567, 91134, 113918, 151890], dtype=np.float64)  # fmt: skip
BB_K = np.array(
    [
        [0.0178, 0.0222, 0.0308, 0.0402, 0.0498, 0.0596, 0.0695, 0.0795, 0.0896, 0.131, 0.172],
        [0.0228, 0.0280, 0.0388, 0.0499, 0.0614, 0.0732, 0.0851, 0.0972, 0.110, 0.160, 0.211],
        [0.0277, 0.0342, 0.0476, 0.0615, 0.0760, 0.0908, 0.105, 0.121, 0.136, 0.199, 0.262],
        [0.0364, 0.0447, 0.0616, 0.0789, 0.0966, 0.114, 0.132, 0.150, 0.169, 0.243, 0.318],
        [0.0520, 0.0633, 0.0859, 0.108, 0.131, 0.154, 0.178, 0.201, 0.225, 0.321, 0.418],
        [0.0791, 0.0959, 0.129, 0.161, 0.194, 0.227, 0.260, 0.293, 0.327, 0.463, 0.602],
        [0.0965, 0.117, 0.157, 0.195, 0.234, 0.272, 0.311, 0.351, 0.390, 0.549, 0.711],
        [0.121, 0.146, 0.195, 0.241, 0.288, 0.334, 0.381, 0.428, 0.475, 0.667, 0.861],
        [0.154, 0.188, 0.249, 0.309, 0.367, 0.424, 0.482, 0.539, 0.597, 0.830, 1.07],
        [0.208, 0.250, 0.332, 0.409, 0.484, 0.557, 0.630, 0.702, 0.774, 1.06, 1.36],
        [0.293, 0.354, 0.468, 0.576, 0.677, 0.777, 0.874, 0.969, 1.06, 1.45, 1.83],
        [0.358, 0.432, 0.572, 0.702, 0.825, 0.943, 1.06, 1.17, 1.28, 1.73, 2.17],
        [0.448, 0.539, 0.711, 0.871, 1.02, 1.16, 1.29, 1.43, 1.57, 2.09, 2.60],
        [0.579, 0.699, 0.924, 1.13, 1.33, 1.51, 1.69, 1.86, 2.02, 2.67, 3.31],
        [0.781, 0.940, 1.24, 1.52, 1.78, 2.02, 2.26, 2.48, 2.69, 3.52, 4.31],
        [1.11, 1.34, 1.77, 2.17, 2.53, 2.87, 3.20, 3.51, 3.80, 4.92, 6.01],
        [1.73, 2.08, 2.74, 3.37, 3.95, 4.50, 5.01, 5.50, 5.97, 7.74, 9.45],
        [3.04, 3.65, 4.80, 5.89, 6.93, 7.91, 8.84, 9.73, 10.6, 13.7, 16.7],
        [6.79, 8.16, 10.7, 13.2, 15.5, 17.8, 19.9, 22.0, 24.0, 31.5, 38.6],
        [27.0, 32.4, 42.6, 52.6, 62.1, 71.3, 80.0, 88.4, 96.5, 127.0, 155.0],
        [42.3, 50.6, 66.4, 82.0, 97.0, 111.0, 125.0, 139.0, 151.0, 199.0, 243.0],
        [75.1, 90.0, 118.0, 146.0, 172.0, 198.0, 222.0, 247.0, 270.0, 354.0, 434.0],
    ]
)


class HminusBF(eqx.Module):
    """McLaughlin et al. (2017) H- photodetachment cross-section sigma(nu) [cm^2]."""

    nu: Float[Array, " n"]
    sigma: Float[Array, " n"]


def load_hminus_bf() -> HminusBF:
    from jaxstro.data import load_hdf5

    d = load_hdf5("hminus_bf_mclaughlin2017")
    nu = np.asarray(d["nu"], dtype=np.float64)
    s = np.asarray(d["sigma"], dtype=np.float64)
    if not np.all(np.diff(nu) > 0):
        raise ValueError("hminus_bf_mclaughlin2017: frequencies not increasing")
    return HminusBF(jnp.asarray(nu), jnp.asarray(s))


def ndens_hminus(n_HI_ground, ne, T):
    """Saha-equation H- density [cm^-3] from ground-state H I and electrons."""
    return (
        0.25 * n_HI_ground * ne / (SAHA_CONST * T**1.5)
        * jnp.exp(HMINUS_ION_ENERGY_EV / (k_eV * T))
    )  # fmt: skip


def hminus_bf(nu, T, ne, n_HI_ground, table: HminusBF) -> Float[Array, " n_nu"]:
    """H- bound-free absorption [cm^-1] (stimulated emission included)."""
    nu0 = HMINUS_ION_ENERGY_EV / h_eV
    s = jnp.interp(nu, table.nu, table.sigma, left=0.0, right=0.0)
    nu1, s1 = table.nu[0], table.sigma[0]
    frac = jnp.clip((nu - nu0) / (nu1 - nu0), 0.0, 1.0)
    s = jnp.where(nu < nu1, s1 * frac**1.5, s)
    stim = -jnp.expm1(-h_cgs * nu / (k_cgs * T))
    return ndens_hminus(n_HI_ground, ne, T) * s * stim


def hminus_ff(nu, T, ne, n_HI_ground) -> Float[Array, " n_nu"]:
    """H- free-free absorption [cm^-1] (Bell & Berrington 1987; stimulated emission included)."""
    lam = c_cgs / nu * 1e8
    K = bilinear(lam, 5040.0 / T, jnp.asarray(BB_LAMBDA), jnp.asarray(BB_THETA), jnp.asarray(BB_K))
    Pe = ne * k_cgs * T
    return 1e-26 * K * Pe * n_HI_ground
