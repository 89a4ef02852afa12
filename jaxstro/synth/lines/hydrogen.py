"""Hydrogen line opacity: Lyman, Balmer, Paschen (Stehlé & Hutcheon 1999) and Brackett series.

Physics (LTE)::

    alpha(nu) = (pi e^2 / m_e c) g_l f  n(H I) exp(-E_l / kT) / U_H(T)  (1 - exp(-h nu_0 / kT))
                * phi(nu)                                                        [cm^-1]

with ``phi`` the area-normalised profile [Hz^-1], ``E_l = R_H (1 - 1/n_l^2)`` and ``U_H`` the H I
partition function (``statmech``); line centres are the Rydberg vacuum wavelengths
``1/lambda_0 = R_H (1/n_l^2 - 1/n_u^2)``, ``R_H = 109677.583 cm^-1``, with the level-averaged Dirac
fine-structure correction (Hα 6564.61 Å, Hβ 4862.67 Å; NIST 6564.614, 4862.683).

Profiles
--------
* **Stark + Doppler, Stehlé & Hutcheon (1999, A&AS 140, 93)** for every tabulated transition
  (lower level 1, 2, 3; upper level <= 30; registry ``stehle_hutcheon_profiles``). The tables give
  ``dI/dnu`` against ``x = |nu - nu_0| / F_0`` (``F_0 = 1.25e-9 n_e^(2/3)`` esu, the Holtsmark
  normal field) on grids of T and n_e. We interpolate ``ln phi`` bilinearly in
  (log10 n_e, log10 T) and linearly in ``ln x`` (as Korg does, Wheeler et al. 2023), clamping
  n_e and T to the table (F_0 is taken at the clamped n_e, so the low-density, Doppler-dominated
  limit stays exact in Hz). Table slices with no data (the highest n_e at low T) are excluded by
  clamping n_e to the highest density tabulated at every T. The tables are coarse in the Doppler
  core (log steps of 0.2 dex in x), so the profile as interpolated integrates to 0.76-0.98 rather
  than 1 (and the (n_e, T) blend of two nodes loses up to another 8 %); we therefore divide the
  blended ln-profile by its exact piecewise power-law integral, so every interpolated profile has
  unit area (tested to 1e-3 on a finite frequency grid). The tables include
  no microturbulence (also as in Korg).
* **Self-broadening**, Barklem, Piskunov & O'Mara (2000, A&A 363, 1091) ABO cross sections for
  Hα (sigma = 1180 a0^2, alpha = 0.677), Hβ (2320, 0.455) and Hγ (4208, 0.380): the impact
  profile is folded in to first order, ``phi = phi_SH + V(sigma_D, gamma_self) - G(sigma_D)``
  (Voigt minus its Gaussian: area-preserving, equal to the convolution in the wings where the
  self-broadened Lorentzian dominates), clipped at 0; ``sigma_D`` includes microturbulence.
* **Brackett series** (lower level 4, upper 5-30; no table): the Stehlé-Hutcheon profile of the
  Paschen line with the same upper level, rescaled in frequency by the linear-Stark width ratio
  ``s = (n_u^2 - 9) / (n_u^2 - 16)`` (Griem 1960: quasi-static widths in frequency scale as
  ``(n_u^2 - n_l^2) F_0``): ``phi_Br(dnu) = s phi_Pa(s dnu)``. This is exact in the Stark-dominated
  wings to the accuracy of that scaling (2 % for Br 19 vs Pa 19) but carries the Paschen line's
  Doppler core width in Hz (nu_0 ratio 1.1-1.8), so Brackett line *cores* are approximate.

Level dissolution (on by default, as in Turbospectrum's HBOP and in Korg): every line's opacity
is multiplied by the occupation probability ``w`` of its upper level (the lower level's cancels
between its population and the line's share; Däppen, Anderson & Mihalas 1987), with
``w = w_neutral w_charged`` (:func:`occupation_probability`): hard spheres for neutral
perturbers, ``w_neutral = exp(-(4 pi/3) [n_HI (r_n + 1.73 a0)^3 + n_HeI (r_n + 1.02 a0)^3])``,
``r_n = a0 sqrt(5 n^4/2 + n^2/2)`` (Hummer & Mihalas 1988, ApJ 331, 794, eq. 4.71, with the atoms'
rms radii), and for charged perturbers the fit of Hubeny, Hummer & Lanz (1994, A&A 282, 151,
appendix A) including correlations: ``w_charged = f/(1+f)``, ``f = 0.1402 x beta^3 /
(1 + 0.1285 x beta^(3/2))``, ``x = (1 + a)^3.15``, ``a = 0.09 n_e^(1/6)/sqrt(T)``,
``beta = 8.3e14 n_e^(-2/3) K_n / n^4``, ``K_n = (16/3) n/(n+1)^2`` for n > 3, else 1. This matters
for the high series members (w(19) = 0.27 at T = 5000 K, n_e = 1e12, n_HI = 1e16 cm^-3; 2e-6 at
n_HI = 1e17): without it the H band of a 5000 K, log g 2 giant (15200-15300 Å) is 0.5-1.2 % too
deep from overlapping Brackett wings against Turbospectrum (rms 0.0075), with it rms 0.0021.

Oscillator strengths: the tabulated ``log_gf`` (g_l f, g_l = 2 n_l^2) for Stehlé-Hutcheon lines;
for Brackett lines the Kramers value with the bound-bound Gaunt factor fit of Johnson (1972, ApJ
174, 227), which reproduces the tabulated Balmer and Paschen gf to 1 % (tested).

Use: ``hl = hydrogen_lines_for(wavelengths)`` (static, numpy, outside jit: picks the transitions
within ``window`` of the grid), then ``hydrogen_line_absorption(wavelengths, T, ne, n_HI, U_H, hl)``
(jit/vmap/grad-able).
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .broadening import AMU, C_CGS, E_ESU, H_CGS, K_CGS, M_E, MASS_H_AMU, RYDBERG_H_EV, abo_gamma
from .voigt import WING_Z, laplace_hjerting, line_hjerting, voigt_profile

__all__ = [
    "HydrogenLines",
    "hydrogen_lines_for",
    "hydrogen_line_absorption",
    "hydrogen_line_centre",
    "hydrogen_gf",
    "occupation_probability",
    "load_stehle_hutcheon",
]

RYDBERG_H_CM = 109677.583  # cm^-1, hydrogen (reduced-mass) Rydberg constant
SIGMA_LINE = np.pi * E_ESU**2 / (M_E * C_CGS)  # cm^2 s^-1
FINE_STRUCTURE = 7.2973525693e-3
HOLTSMARK_F0 = 1.25e-9  # F_0 = 1.25e-9 n_e^(2/3) esu
M_H = MASS_H_AMU * AMU
LOG10_NE0, DLOG10_NE = 10.0, 0.5  # S&H density grid: 1e10 cm^-3 in steps of 0.5 dex
# Barklem, Piskunov & O'Mara (2000) self-broadening cross sections: (lower, upper) -> (sigma, alpha)
BPO2000 = {(2, 3): (1180.0, 0.677), (2, 4): (2320.0, 0.455), (2, 5): (4208.0, 0.380)}


def hydrogen_line_centre(lower, upper) -> np.ndarray:
    """Vacuum wavelength [Å] of the n_l -> n_u transition: Rydberg formula plus the Dirac
    fine-structure correction averaged over each level's 2 n^2 states (statistical weights),
    ``E_n = -R/n^2 [1 + alpha^2/n^2 (5/4 - 1/n)]``; agrees with NIST's Hα 6564.614 and Hβ
    4862.683 Å to 0.02 Å (the rest: Lamb shift and the component strengths)."""
    lower, upper = np.asarray(lower, float), np.asarray(upper, float)

    def level(n):
        return -1.0 / n**2 * (1.0 + FINE_STRUCTURE**2 / n**2 * (1.25 - 1.0 / n))

    return 1e8 / (RYDBERG_H_CM * (level(upper) - level(lower)))


def _johnson_gaunt(n: int, x: float) -> float:
    if n == 1:
        g0, g1, g2 = 1.1330, -0.4059, 0.07014
    elif n == 2:
        g0, g1, g2 = 1.0785, -0.2319, 0.02947
    else:
        g0 = 0.9935 + 0.2328 / n - 0.1296 / n**2
        g1 = -(0.6282 - 0.5598 / n + 0.5299 / n**2) / n
        g2 = (0.3887 - 1.181 / n + 1.470 / n**2) / n**2
    return g0 + g1 / x + g2 / x**2


def hydrogen_gf(lower: int, upper: int) -> float:
    """g_l f of the n_l -> n_u transition: Kramers' f times Johnson's (1972) Gaunt factor."""
    n, m = int(lower), int(upper)
    if not 1 <= n < m:
        raise ValueError(f"hydrogen_gf: need 1 <= lower < upper, got {lower}, {upper}")
    x = 1.0 - (n / m) ** 2
    f = 32.0 / (3.0 * np.sqrt(3.0) * np.pi) * n / (m**3 * x**3) * _johnson_gaunt(n, x)
    return 2.0 * n**2 * f


def _renormalised_table(lnx: np.ndarray, P: np.ndarray, x1: float) -> np.ndarray:
    """ln P with every (n_e, T) node scaled so the profile, interpolated linearly in ln x (and
    flat below x1), integrates to 1 over +-Delta nu in units of F0 (i.e. int P dx = 1/2 per side,
    times F0 -> the Hz normalisation is recovered because P is per Hz and x = dnu / F0)."""
    lnP = np.log(np.maximum(P, 1e-300))
    a, b = lnP[:-1], lnP[1:]
    u0, u1 = lnx[:-1, None, None], lnx[1:, None, None]
    slope = (b - a) / (u1 - u0)
    # int exp(a + slope (u - u0)) e^u du over [u0, u1]: exact for the piecewise-linear ln P
    k = slope + 1.0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        seg = np.where(np.abs(k) > 1e-8,
                       np.exp(a + u0) * np.expm1(k * (u1 - u0)) / k,
                       np.exp(a + u0) * (u1 - u0))  # fmt: skip
    area_x = 2.0 * (np.sum(seg, axis=0) + np.exp(lnP[0]) * x1)  # (n_e, T), in x units
    return lnP, area_x


@functools.lru_cache(maxsize=1)
def load_stehle_hutcheon():
    """Read the staged Stehlé & Hutcheon (1999) tables (registry ``stehle_hutcheon_profiles``).

    Returns a dict ``(lower, upper) -> dict(lnx, lnP, log_gf, ne_hi)`` with ``lnx`` (n_x - 1,) the
    ln of the nonzero scaled detunings, ``lnP`` (n_x - 1, n_e, 10) the renormalised ln profile
    [ln Hz^-1 * F0 units: profile per Hz times F0], ``ne_hi`` the highest log10 n_e tabulated at
    every temperature, plus ``log10_T`` (10,).
    """
    import h5py

    from jaxstro.data import locate

    out = {}
    with h5py.File(locate("stehle_hutcheon_profiles"), "r") as f:
        log_t = np.log10(np.asarray(f["2_3/temps"], float))
        for key in f:
            g = f[key]
            lo, up = int(g.attrs["lower"]), int(g.attrs["upper"])
            x = np.asarray(g["delta_nu_over_F0"], float)
            P = np.asarray(g["profile"], float)  # (n_x, n_e, n_T), per Hz
            ne = np.asarray(g["electron_number_densities"], float)
            if not np.allclose(np.log10(ne), LOG10_NE0 + DLOG10_NE * np.arange(ne.size), atol=3e-3):
                raise ValueError(f"Stehlé-Hutcheon {key}: unexpected n_e grid {ne}")
            valid = np.all(P > 0, axis=0).all(axis=1)  # n_e rows with data at every T
            n_ok = int(np.argmin(valid)) if not valid.all() else ne.size
            if n_ok < 2 or x[0] != 0.0:
                raise ValueError(f"Stehlé-Hutcheon {key}: malformed table")
            P = P[:, :n_ok]
            ne = ne[:n_ok]
            F0 = HOLTSMARK_F0 * ne ** (2.0 / 3.0)
            Px = P * F0[None, :, None]  # per unit x
            lnx = np.log(x[1:])
            lnP, area = _renormalised_table(lnx, Px[1:], x[1])
            lnP = lnP - np.log(area)[None]
            out[(lo, up)] = dict(lnx=lnx, lnP=lnP, log_gf=float(g.attrs["log_gf"]),
                                 ne_hi=float(np.log10(ne[-1])))  # fmt: skip
    out["log10_T"] = log_t
    return out


class HydrogenLines(eqx.Module):
    """Selected hydrogen transitions with their (padded) profile tables; build with
    :func:`hydrogen_lines_for`. Per-line arrays have leading dimension n_lines."""

    lower: Array  # (L,) int
    upper: Array  # (L,) int
    lambda0_cm: Array  # (L,) vacuum line centre
    log_gf: Array  # (L,)
    E_lower_eV: Array  # (L,)
    scale: Array  # (L,) frequency scale s of the borrowed table (1 for tabulated lines)
    ne_hi: Array  # (L,) highest log10 n_e of the table
    lnx: Array  # (L, n_x) ln scaled detuning (padded by power-law extension)
    lnP: Array  # (L, n_x, n_ne, n_T) ln normalised profile per unit x
    log10_T: Array  # (n_T,)
    self_sigma: Array  # (L,) BPO 2000 sigma [a0^2] (0: none)
    self_alpha: Array  # (L,)

    @property
    def n_lines(self) -> int:
        return int(self.lower.shape[0])


def hydrogen_lines_for(
    wavelengths: ArrayLike,
    *,
    window: float = 0.05,
    brackett: bool = True,
    max_upper: int = 30,
) -> HydrogenLines:
    """Hydrogen transitions whose centre lies within ``window * lambda_0`` of the wavelength range
    (vacuum Å), with their tables (numpy, outside jit). ``window = 0.05`` keeps Hα's wings to
    +-330 Å (its opacity there is below 1e-4 of the solar continuum)."""
    w = np.asarray(wavelengths, float)
    if w.ndim != 1 or w.size < 1 or not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise ValueError("hydrogen_lines_for: wavelengths must be a finite positive 1D array")
    if window <= 0:
        raise ValueError(f"hydrogen_lines_for: window must be > 0, got {window}")
    tab = load_stehle_hutcheon()
    cand = [(lo, up, (lo, up), 1.0) for (lo, up) in (k for k in tab if k != "log10_T")]
    if brackett:
        cand += [(4, up, (3, up), (up**2 - 9.0) / (up**2 - 16.0)) for up in range(5, 31)]
    sel = []
    for lo, up, key, s in cand:
        if up > max_upper:
            continue
        lam = float(hydrogen_line_centre(lo, up))
        if w[0] - window * lam <= lam <= w[-1] + window * lam:
            sel.append((lo, up, key, s, lam))
    sel.sort(key=lambda t: t[4])
    nx = max([tab[k]["lnx"].size for _, _, k, _, _ in sel] + [2])
    nne = max([tab[k]["lnP"].shape[1] for _, _, k, _, _ in sel] + [2])
    nT = tab["log10_T"].size
    L = len(sel)
    lnx = np.zeros((L, nx))
    lnP = np.zeros((L, nx, nne, nT))
    cols = {k: np.zeros(L) for k in ("lo", "up", "lam", "gf", "El", "s", "nehi", "sig", "alp")}
    for i, (lo, up, key, s, lam) in enumerate(sel):
        t = tab[key]
        n, m = t["lnP"].shape[:2]
        lnx[i, :n] = t["lnx"]
        lnP[i, :n, :m] = t["lnP"]
        lnP[i, :n, m:] = t["lnP"][:, -1:]  # beyond ne_hi: never reached (n_e clamped)
        if n < nx:  # power-law continuation of the last segment
            du = t["lnx"][-1] - t["lnx"][-2]
            slope = (lnP[i, n - 1] - lnP[i, n - 2]) / du
            k = np.arange(1, nx - n + 1)
            lnx[i, n:] = t["lnx"][-1] + du * k
            lnP[i, n:] = lnP[i, n - 1][None] + slope[None] * (du * k)[:, None, None]
        gf = t["log_gf"] if key == (lo, up) else np.log10(hydrogen_gf(lo, up))
        sig, alp = BPO2000.get((lo, up), (0.0, 0.0))
        vals = (lo, up, lam * 1e-8, gf, RYDBERG_H_EV * (1 - 1 / lo**2), s, t["ne_hi"], sig, alp)
        for c, v in zip(cols, vals, strict=True):
            cols[c][i] = v
    # concrete arrays even when called while tracing (synthesize under jit/grad selects the
    # lines host-side from them)
    with jax.ensure_compile_time_eval():
        return _hydrogen_lines(cols, lnx, lnP, tab)


def _hydrogen_lines(cols, lnx, lnP, tab) -> HydrogenLines:
    return HydrogenLines(
        lower=jnp.asarray(cols["lo"].astype(int)), upper=jnp.asarray(cols["up"].astype(int)),
        lambda0_cm=jnp.asarray(cols["lam"]), log_gf=jnp.asarray(cols["gf"]),
        E_lower_eV=jnp.asarray(cols["El"]), scale=jnp.asarray(cols["s"]),
        ne_hi=jnp.asarray(cols["nehi"]), lnx=jnp.asarray(lnx), lnP=jnp.asarray(lnP),
        log10_T=jnp.asarray(tab["log10_T"]), self_sigma=jnp.asarray(cols["sig"]),
        self_alpha=jnp.asarray(cols["alp"]),
    )  # fmt: skip


def occupation_probability(
    n: ArrayLike, T: ArrayLike, ne: ArrayLike, n_HI: ArrayLike, n_HeI: ArrayLike = 0.0,
) -> Array:
    """Occupation probability of the hydrogen level with principal quantum number ``n`` against
    neutral (H I, He I ground state: hard spheres) and charged perturbers (Hubeny, Hummer & Lanz
    1994 fit); see the module docstring. Broadcasts; densities [cm^-3], T [K]. The one
    implementation is ``continuum.occupation.log_hydrogen_occupation`` (computed in logarithms,
    shared with the H I bound-free level dissolution)."""
    from ..continuum.occupation import hydrogen_occupation

    return hydrogen_occupation(jnp.asarray(n, float), jnp.asarray(T, float),
                               jnp.asarray(ne, float), jnp.asarray(n_HI, float),
                               jnp.asarray(n_HeI, float))


def _area_x(lnx, col):
    """int phi dx over +-x of exp(col) interpolated linearly in ln x (flat below x_1)."""
    du = lnx[1:] - lnx[:-1]
    k = (col[1:] - col[:-1]) / du + 1.0
    small = jnp.abs(k) < 1e-8
    ks = jnp.where(small, 1.0, k)
    seg = jnp.exp(col[:-1] + lnx[:-1]) * jnp.where(small, du, jnp.expm1(ks * du) / ks)
    return 2.0 * (jnp.sum(seg) + jnp.exp(col[0] + lnx[0]))


def _profile_one(lnx, lnP, ne_hi, scale, log10_T_grid, dnu, T, ne):
    """Stehlé-Hutcheon profile [Hz^-1] of one line in one layer at detunings dnu [Hz]."""
    lne = jnp.clip(jnp.log10(ne), LOG10_NE0, ne_hi)
    u = (lne - LOG10_NE0) / DLOG10_NE
    i0 = jnp.clip(jnp.floor(u), 0, lnP.shape[1] - 2).astype(int)
    wn = u - i0
    lt = jnp.clip(jnp.log10(T), log10_T_grid[0], log10_T_grid[-1])
    j0 = jnp.clip(jnp.searchsorted(log10_T_grid, lt) - 1, 0, log10_T_grid.shape[0] - 2)
    wt = (lt - log10_T_grid[j0]) / (log10_T_grid[j0 + 1] - log10_T_grid[j0])
    col = ((1 - wn) * (1 - wt) * lnP[:, i0, j0] + wn * (1 - wt) * lnP[:, i0 + 1, j0]
           + (1 - wn) * wt * lnP[:, i0, j0 + 1] + wn * wt * lnP[:, i0 + 1, j0 + 1])  # fmt: skip
    col = col - jnp.log(_area_x(lnx, col))  # exact unit area after the (n_e, T) blend
    F0 = HOLTSMARK_F0 * 10.0 ** (2.0 / 3.0 * lne)
    x = jnp.abs(dnu) * scale / F0
    lx = jnp.log(jnp.maximum(x, jnp.exp(lnx[0])))
    return jnp.exp(jnp.interp(lx, lnx, col, right=None)) * scale / F0


def _excess_hjerting(a, v):
    """``H(a, v) - exp(-v^2)``: the 24-term series (:func:`line_hjerting`) minus the Gaussian in
    closed form for ``|v + i a| < WING_Z``, Laplace's continued fraction
    (:func:`laplace_hjerting`) beyond, where the Gaussian has vanished. Both branches are
    evaluated everywhere; each gets a safe argument where it is not used, so gradients stay
    finite."""
    a, v = jnp.broadcast_arrays(a, v)
    far = v * v + a * a >= WING_Z**2
    v_core = jnp.where(far, 0.0, v)
    core = line_hjerting(a, v_core) - jnp.exp(-jnp.square(v_core))
    return jnp.where(far, laplace_hjerting(a, jnp.where(far, v, WING_Z)), core)


def _self_broadening_excess(dnu, sigma, gamma):
    """``V(dnu; sigma, gamma) - G(dnu; sigma)``: the area-normalised Voigt profile minus its
    Gaussian (same units as dnu, sigma)."""
    return voigt_profile(dnu, sigma, gamma, hjerting=_excess_hjerting)


def hydrogen_line_absorption(
    wavelengths: Float[ArrayLike, " n_wl"],
    T: Float[ArrayLike, " n_layers"],
    ne: Float[ArrayLike, " n_layers"],
    n_HI: Float[ArrayLike, " n_layers"],
    U_H: Float[ArrayLike, " n_layers"],
    lines: HydrogenLines,
    vmic: float | Array = 0.0,
    n_HeI: Float[ArrayLike, " n_layers"] | None = None,
    *,
    level_dissolution: bool = True,
) -> Float[Array, "n_layers n_wl"]:
    """Hydrogen line absorption coefficient alpha [cm^-1], shape (n_layers, n_wl).

    wavelengths: vacuum [Å]; T [K]; ne, n_HI [cm^-3]; U_H: H I partition function; ``lines`` from
    :func:`hydrogen_lines_for`; vmic [km/s] (only in the self-broadening Voigt). See the module
    docstring for the profiles. ``level_dissolution``: multiply by the upper level's occupation
    probability (:func:`occupation_probability`, He I perturbers only when ``n_HeI`` is given).
    Differentiable in T, ne, n_HI, U_H, vmic (loops over lines with
    ``lax.scan``; memory O(n_layers n_wl)).
    """
    wl_cm = jnp.asarray(wavelengths, float) * 1e-8
    T, ne, n_HI, U_H = (jnp.atleast_1d(jnp.asarray(a, float)) for a in (T, ne, n_HI, U_H))
    nu = C_CGS / wl_cm
    kT_eV = K_CGS * T / 1.602176634e-12
    alpha0 = jnp.zeros((T.shape[0], wl_cm.shape[0]))
    if lines.n_lines == 0:
        return alpha0
    vmic_cm = jnp.asarray(vmic, float) * 1e5
    n_He = 0.0 if n_HeI is None else jnp.atleast_1d(jnp.asarray(n_HeI, float))

    def body(acc, ln):
        lam0, lgf, El, s, nehi, lnx, lnP, sig, alp, up = ln
        nu0 = C_CGS / lam0
        dnu = nu[None, :] - nu0
        phi = jax.vmap(_profile_one, in_axes=(None, None, None, None, None, 0, 0, 0))(
            lnx, lnP, nehi, s, lines.log10_T, jnp.broadcast_to(dnu, alpha0.shape), T, ne)
        # BPO 2000 self-broadening (first order in the impact width; zero where sig == 0)
        sD = nu0 / C_CGS * jnp.sqrt(K_CGS * T / M_H + 0.5 * vmic_cm**2)[:, None]
        gam = abo_gamma(sig, alp, T, M_H, n_HI)[:, None] / (4 * np.pi)
        corr = _self_broadening_excess(dnu, sD, gam)
        phi = jnp.where(sig > 0, jnp.maximum(phi + corr, 0.0), phi)
        amp = (SIGMA_LINE * 10.0**lgf * n_HI * jnp.exp(-El / kT_eV) / U_H
               * -jnp.expm1(-H_CGS * nu0 / (K_CGS * T)))  # fmt: skip
        if level_dissolution:
            amp = amp * occupation_probability(up, T, ne, n_HI, n_He)
        return acc + amp[:, None] * phi, None

    xs = (lines.lambda0_cm, lines.log_gf, lines.E_lower_eV, lines.scale, lines.ne_hi, lines.lnx,
          lines.lnP, lines.self_sigma, lines.self_alpha, lines.upper)  # fmt: skip
    alpha, _ = jax.lax.scan(body, alpha0, xs)
    return alpha
