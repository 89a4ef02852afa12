"""A smooth low-dimensional model of real LAMOST LRS spectra, for injection-recovery tests.

There is no public multi-star LAMOST set (see the data README), so mock reference sets are generated
from the two real LAMOST LRS spectra (``lamost_lrs_f5``, F5, S/N_r 128; ``lamost_lrs_g3``, G3,
S/N_r 241) on the TSP grid (``lamost_tsp_wavelength_grid``, R ~ 1800). Each template is shifted to
the rest frame, continuum-normalised (ch3: Gaussian smoothing with sigma 25 Å, bad pixels -> 1)
and turned into an optical-depth-like ``tau = -ln f``. A mock star has 4 latent parameters:

- ``t`` in [0, 1]: mixes the two templates (a temperature-like sequence F5 -> G3),
- ``a`` in [0.6, 1.4]: scales all line strengths (metallicity-like),
- ``b`` in [0, 1]: mixes in a smoothed template (broadening-like),
- ``c`` ~ N(0, 0.01): a linear continuum tilt (normalisation residual),

``f = exp(-a * [(1-b) tau_t + b tau_t^smooth]) * (1 + c x)``, a curved 4-D manifold. Noise is
LAMOST-like: ``sigma = s(lambda) sqrt(f) / SNR`` with ``s(lambda)`` the G3 spectrum's relative
error profile (the wavelength dependence of LAMOST throughput), normalised to 1 at median over
6000-7000 Å so that SNR is the r-band S/N per pixel. The templates carry their own Li lines
(part of the manifold, predicted from the rest); injected Li lines are added on top.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._feature import LAMOST_LRS_RESOLUTION, LI_6708_VACUUM, gaussian_line_profile

_C_KMS = 299792.458


class MockTemplates(eqx.Module):
    """Normalised real templates on the TSP grid (see module docstring)."""

    wavelength: Float[np.ndarray, " n_pix"]  # [Å, vacuum, rest frame]
    tau: Float[np.ndarray, "2 n_pix"]  # -ln(normalised flux) of F5, G3
    tau_smooth: Float[np.ndarray, "2 n_pix"]  # the same smoothed by a 1.5-pixel Gaussian
    noise_shape: Float[np.ndarray, " n_pix"]  # relative per-pixel error, 1 at 6000-7000 Å


def _normalize(wl, flux, ivar):
    """Thesis ch3 normalisation: sigma 25 Å pseudo-continuum, then the bad-pixel rule."""
    from jaxstro.spectra import bad_pixel_rule, continuum_normalize

    nf, ni, _ = continuum_normalize(wl, flux, ivar, sigma=25.0, truncate=75.0)
    nf, ni = bad_pixel_rule(nf, ni)
    return np.asarray(nf), np.asarray(ni)


def lamost_templates() -> MockTemplates:
    """Read and normalise the two real LAMOST LRS spectra onto the TSP grid (needs the data)."""
    from astropy.io import fits

    from jaxstro.data import load_npz, locate

    grid = np.asarray(load_npz("lamost_tsp_wavelength_grid")["wl_grid"], dtype=np.float64)
    taus, smooth, shapes = [], [], []
    for name in ("lamost_lrs_f5", "lamost_lrs_g3"):
        with fits.open(locate(name)) as hdul:
            data = np.asarray(hdul[0].data, dtype=np.float64)
            z = float(hdul[0].header.get("Z", 0.0))
        flux, ivar, wl = data[0], data[1], data[2]
        bad = ~np.isfinite(flux) | ~np.isfinite(ivar) | (ivar < 0) | (data[3] != 0)
        ivar = np.where(bad, 0.0, ivar)
        flux = np.where(bad, 0.0, flux)
        rest = wl / (1.0 + z)
        flux_r = np.interp(grid, rest, flux)
        ivar_r = np.interp(grid, rest, ivar)
        nf, ni = _normalize(grid, flux_r, ivar_r)
        tau = -np.log(np.clip(nf, 0.02, 1.5))
        x = np.arange(-4, 5)
        ker = np.exp(-0.5 * (x / 1.5) ** 2)
        ker /= ker.sum()
        taus.append(tau)
        smooth.append(np.convolve(np.pad(tau, 4, mode="edge"), ker, mode="valid"))
        sig = np.where(ni > 0, 1.0 / np.sqrt(np.where(ni > 0, ni, 1.0)), np.nan)
        shapes.append(sig * np.sqrt(np.clip(nf, 0.05, None)) ** -1)
    s = shapes[1]  # the G3 spectrum has the higher S/N
    good = np.isfinite(s)
    s = np.interp(grid, grid[good], s[good])
    r = (grid > 6000) & (grid < 7000)
    s = s / np.median(s[r])
    s = np.exp(np.convolve(np.pad(np.log(s), 10, mode="edge"), np.ones(21) / 21, mode="valid"))
    return MockTemplates(grid, np.stack(taus), np.stack(smooth), s)


def sample_latents(key: Array, n: int) -> Float[Array, "n 4"]:
    """Uniform draws of (t, a, b, c) over the ranges in the module docstring."""
    k1, k2 = jax.random.split(key)
    u = jax.random.uniform(k1, (n, 3))
    t, a, b = u[:, 0], 0.6 + 0.8 * u[:, 1], u[:, 2]
    c = 0.01 * jax.random.normal(k2, (n,))
    return jnp.stack([t, a, b, c], axis=1)


def noiseless_spectra(templates: MockTemplates, latents: Float[Array, "n 4"]) -> Array:
    """(n, n_pix) noiseless normalised flux of the latent points."""
    t, a, b, c = (latents[:, i : i + 1] for i in range(4))
    tau0, tau1 = jnp.asarray(templates.tau)
    s0, s1 = jnp.asarray(templates.tau_smooth)
    tau = (1 - t) * tau0 + t * tau1
    tau_s = (1 - t) * s0 + t * s1
    wl = jnp.asarray(templates.wavelength)
    x = 2 * (wl - wl[0]) / (wl[-1] - wl[0]) - 1
    return jnp.exp(-a * ((1 - b) * tau + b * tau_s)) * (1 + c * x)


def line_profile(
    wavelength: np.ndarray,
    center: float = LI_6708_VACUUM,
    resolution: float = LAMOST_LRS_RESOLUTION,
) -> np.ndarray:
    """Unit-EW Gaussian absorption at the instrument resolution on the full grid (flux change)."""
    sigma = center / resolution / (2.0 * np.sqrt(2.0 * np.log(2.0)))
    return gaussian_line_profile(wavelength, center, sigma)


def mock_spectra(
    key: Array,
    templates: MockTemplates,
    n: int,
    snr: float | Array,
    *,
    ew: float | Array = 0.0,
    line: np.ndarray | None = None,
    latents: Array | None = None,
) -> dict[str, Array]:
    """Noisy mock LAMOST spectra with an optional injected line.

    Args:
        key: PRNG key. templates: from :func:`lamost_templates`. n: number of spectra.
        snr: r-band S/N per pixel, scalar or (n,).
        ew: injected equivalent width [Å] (scalar or (n,)); the line is added in normalised flux.
        line: (n_pix,) unit-EW profile (default: Li 6709.702 Å at R = 1800).
        latents: (n, 4) latent points (default: drawn with :func:`sample_latents`).

    Returns: dict with ``flux``, ``ivar``, ``true_flux`` (noiseless, with line), ``latents``.
    """
    k_lat, k_noise = jax.random.split(key)
    if latents is None:
        latents = sample_latents(k_lat, n)
    if line is None:
        line = line_profile(templates.wavelength)
    f0 = noiseless_spectra(templates, latents)
    ew = jnp.broadcast_to(jnp.asarray(ew, f0.dtype), (n,))
    true = f0 + ew[:, None] * jnp.asarray(line)[None, :]
    snr = jnp.broadcast_to(jnp.asarray(snr, f0.dtype), (n,))
    shape = jnp.asarray(templates.noise_shape)[None, :]
    sigma = shape * jnp.sqrt(jnp.clip(f0, 0.05)) / snr[:, None]
    flux = true + sigma * jax.random.normal(k_noise, f0.shape, f0.dtype)
    return {"flux": flux, "ivar": 1.0 / sigma**2, "true_flux": true, "latents": latents}


def mock_reference(
    key: Array, templates: MockTemplates, n: int, *, snr_range: tuple[float, float] = (30, 300)
) -> dict[str, Array]:
    """A mock reference set: latents uniform, S/N log-uniform in ``snr_range``, no injected line."""
    k1, k2 = jax.random.split(key)
    lo, hi = np.log(snr_range[0]), np.log(snr_range[1])
    snr = jnp.exp(jax.random.uniform(k1, (n,), minval=lo, maxval=hi))
    out = mock_spectra(k2, templates, n, snr)
    out["snr"] = snr
    return out
