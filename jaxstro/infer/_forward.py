"""A differentiable forward model of an observed, continuum-normalised spectrum from jaxstro.synth:

(Teff, logg, [M/H], [alpha/M], vmic, vsini, RV, R) -> atmosphere interpolation
(``synth.atmosphere.interpolate_atmosphere``) -> abundances (``synth.abundances.format_abundances``)
-> ``synth.synthesize`` (continuum, plus lines when a line list is given) -> normalised flux ->
rotation (``spectra.rotational_broaden``) -> Gaussian LSF (``spectra.convolve_lsf``) -> Doppler
shift (``spectra.doppler_shift``) -> linear interpolation onto the observed wavelengths.
"""

from __future__ import annotations

from collections.abc import Mapping

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

PARAMETERS = ("teff", "logg", "m_h", "alpha_m", "vmic", "vsini", "vmac", "rv", "R")
DEFAULTS = {"teff": 5772.0, "logg": 4.44, "m_h": 0.0, "alpha_m": 0.0, "vmic": 1.0,
            "vsini": 0.0, "vmac": 0.0, "rv": 0.0, "R": None}
_C_KMS = 299_792.458


class SynthForward(eqx.Module):
    """Callable ``params -> normalised model flux`` on ``wavelength`` (observed frame, Å).

    ``params`` is a dict with any of :data:`PARAMETERS` (units: K, cgs dex, dex, dex, km/s,
    km/s, km/s, resolving power); missing ones take the values in ``fixed``. Build with
    :func:`make_synth_forward`.
    """

    grid: object
    linelist: object
    wavelength: Float[Array, " n_obs"]
    synth_wavelength: Float[Array, " n_synth"]
    fixed: dict
    rotation: bool = eqx.field(static=True)
    lsf_half_width: int = eqx.field(static=True)
    rot_half_width: int = eqx.field(static=True)
    macro: bool = eqx.field(static=True, default=False)
    mac_half_width: int = eqx.field(static=True, default=0)
    line_windows: object = None
    mixture: str = eqx.field(static=True, default="asplund2009")

    def __call__(self, params: Mapping[str, Array]) -> Float[Array, " n_obs"]:
        from jaxstro.spectra import convolve_lsf, doppler_shift, rotational_broaden
        from jaxstro.synth.abundances import format_abundances
        from jaxstro.synth.atmosphere import interpolate_atmosphere
        from jaxstro.synth.synthesize import synthesize

        p = {**self.fixed, **params}
        atm = interpolate_atmosphere(self.grid, p["teff"], p["logg"], p["m_h"])
        a_x = format_abundances(p["m_h"], p["alpha_m"], mixture=self.mixture)
        wl = self.synth_wavelength
        f = synthesize(atm, self.linelist, a_x, wl, vmic=p["vmic"],
                       line_windows=self.line_windows).normalized
        if self.rotation:
            f = rotational_broaden(wl, f, p["vsini"], half_width=self.rot_half_width)
        if self.macro:
            from jaxstro.spectra import macroturbulent_broaden

            f = macroturbulent_broaden(wl, f, p["vmac"], half_width=self.mac_half_width)
        if p.get("R") is not None:
            f = convolve_lsf(wl, f, p["R"], half_width=self.lsf_half_width)
        return jnp.interp(self.wavelength, doppler_shift(wl, p["rv"]), f)


def make_synth_forward(
    wavelength: Float[Array, " n_obs"],
    *,
    linelist=None,
    grid=None,
    fixed: Mapping[str, float] | None = None,
    free: tuple[str, ...] = (),
    synth_step: float | None = None,
    max_rv: float = 300.0,
    max_vsini: float = 50.0,
    min_R: float = 1000.0,
    max_vmac: float = 10.0,
    plan_line_windows: bool = False,
    mixture: str = "asplund2009",
) -> SynthForward:
    """Build a :class:`SynthForward` for observed wavelengths ``wavelength`` [Å, vacuum].

    The synthesis grid covers ``wavelength`` widened for ``max_rv`` [km/s] of Doppler shift plus
    broadening, with step ``synth_step`` [Å] (default: the finest observed pixel / 2). ``fixed``
    overrides :data:`DEFAULTS` for parameters that are not sampled; ``free`` names the parameters
    that will be sampled (needed to decide statically whether rotation/LSF are applied and to set
    the convolution windows for the largest ``max_vsini``/``max_vmac`` and smallest ``min_R``;
    ``vmac`` is radial-tangential macroturbulence, ``spectra.macroturbulent_broaden``).
    ``plan_line_windows``: cut each line where its opacity falls below 1e-4 of the continuum in
    the model at the ``fixed`` (Teff, logg, [M/H], vmic) (``synth.synthesize``'s concrete-input
    default) and keep those windows for every parameter value -- much cheaper than the 5 Å
    cut used under a trace, and accurate near the planning point (re-plan far from it).
    Without a line list only the continuum is synthesised, so the normalised spectrum is flat:
    such a model constrains nothing but the continuum shape -- pass ``linelist``
    (``synth.lines``) for lines.
    ``mixture``: the solar abundances that [M/H] scales (``synth.abundances.solar_abundances``).
    The grid defaults to ``synth.atmosphere.load_atlas9_grid()`` (no [alpha/M] axis: [alpha/M]
    enters the abundances only).
    """
    from jaxstro._config import require_x64

    require_x64("make_synth_forward")
    bad = set(free) - set(PARAMETERS)
    if bad:
        raise ValueError(f"unknown free parameters {sorted(bad)}; choose from {PARAMETERS}")
    bad = set(fixed or {}) - set(PARAMETERS)
    if bad:
        raise ValueError(f"unknown fixed parameters {sorted(bad)}; choose from {PARAMETERS}")
    wl = np.asarray(wavelength, dtype=float)
    if wl.ndim != 1 or wl.size < 2 or not np.all(np.isfinite(wl)) or np.any(np.diff(wl) <= 0):
        raise ValueError("wavelength must be a 1-D, finite, strictly increasing array (>= 2 px)")
    if grid is None:
        from jaxstro.synth.atmosphere import load_atlas9_grid

        grid = load_atlas9_grid()
    fx = {**DEFAULTS, **(fixed or {})}
    step = float(synth_step or np.min(np.diff(wl)) / 2)
    # margin for Doppler shift and broadening kernels
    margin = wl[-1] * (max_rv + max_vsini + 4 * max_vmac) / _C_KMS + 6 * wl[-1] / min_R / 2.3548
    n = int(np.ceil((wl[-1] - wl[0] + 2 * margin) / step)) + 1
    synth_wl = wl[0] - margin + step * np.arange(n)
    rotation = "vsini" in free or float(fx["vsini"]) > 0
    rot_hw = int(np.ceil(wl[-1] * max_vsini / _C_KMS / step)) + 2
    lsf_hw = int(np.ceil(5 * wl[-1] / min_R / 2.3548 / step)) + 2
    from jaxstro.spectra import macro_half_width

    macro = "vmac" in free or float(fx["vmac"]) > 0
    mac_hw = macro_half_width(synth_wl, max_vmac) if macro else 0
    if linelist is not None:
        lw = np.asarray(linelist.wavelength)
        n_in = int(np.sum((lw >= synth_wl[0] - 5.0) & (lw <= synth_wl[-1] + 5.0)))
        if n_in == 0:
            import warnings

            warnings.warn(f"make_synth_forward: the line list has no lines within 5 Å of "
                          f"{synth_wl[0]:.2f}-{synth_wl[-1]:.2f} Å (its range: "
                          f"{lw.min() if lw.size else np.nan:.2f}-"
                          f"{lw.max() if lw.size else np.nan:.2f} Å): the normalised model "
                          "is flat and constrains nothing", stacklevel=2)
    windows = None
    if plan_line_windows and linelist is not None:
        from jaxstro.synth.abundances import format_abundances
        from jaxstro.synth.atmosphere import interpolate_atmosphere
        from jaxstro.synth.synthesize import default_line_windows

        atm = interpolate_atmosphere(grid, fx["teff"], fx["logg"], fx["m_h"])
        windows = default_line_windows(atm, linelist, format_abundances(fx["m_h"], fx["alpha_m"],
                                                                          mixture=mixture),
                                       synth_wl, float(fx["vmic"]))
    return SynthForward(grid, linelist, jnp.asarray(wl), jnp.asarray(synth_wl), fx, rotation,
                        lsf_hw, rot_hw, macro, mac_hw, windows, mixture)
