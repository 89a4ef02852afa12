"""``synthesize``: 1D LTE spectrum of a model atmosphere (continuum, and lines when given).

Pipeline (each step its own module):
1. chemical equilibrium in every layer (``statmech.atmosphere_equilibrium``, vmapped over layers):
   by default (``electrons=SolveElectronDensity()``, as in Korg) at the model's T and gas
   pressure, n_e solved from the abundances; with ``electrons=HoldElectronPressure()`` at the
   model's T and P_e with the gas pressure recomputed (Turbospectrum's convention);
2. continuum opacity (``continuum.continuum_absorption``: absorption + scattering) at every
   wavelength and at the model's reference wavelength (5000 Å for tau_5000 models);
3. line opacity (``lines.line_absorption``) added when a line list is given;
4. source function S = B_lambda(T) (LTE; scattering treated as absorption, like Korg);
5. formal solution (``transfer.radiative_transfer``): ``PlaneParallel(n_mu=10)`` for plane-parallel
   models and ``Spherical(n_mu=20)`` for spherical ones unless ``scheme`` is given.

Units: wavelengths in Å (vacuum); flux and continuum are the astrophysical surface flux
F = 4 pi H = 2 pi int I mu dmu in erg s^-1 cm^-2 Å^-1 (the quantity Turbospectrum prints);
``normalized = flux / continuum``.

``synthesize`` compiles once per (atmosphere size, wavelength count, scheme, line list layout) and
works under ``jax.vmap`` over atmospheres (same layer count) and abundance vectors, and under
``jax.grad`` (chemical equilibrium by the implicit-function theorem).
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from jaxstro._config import require_x64

from .continuum import ContinuumData, continuum_absorption, load_continuum_data
from .continuum._constants import c_cgs, h_cgs, k_cgs
from .transfer import PlaneParallel, Spherical, radiative_transfer

__all__ = ["Spectrum", "synthesize", "planck_lambda", "layer_opacities", "continuum_layers",
           "default_line_windows"]


class Spectrum(eqx.Module):
    """Result of :func:`synthesize`. Flux units: erg s^-1 cm^-2 Å^-1 (surface flux 4 pi H)."""

    wavelengths: Float[Array, " n_wl"]  # Å, vacuum
    flux: Float[Array, " n_wl"]
    continuum: Float[Array, " n_wl"]
    normalized: Float[Array, " n_wl"]


def planck_lambda(wavelength_cm, T):
    """B_lambda(T) in erg s^-1 cm^-2 Å^-1 sr^-1 (wavelength in cm)."""
    x = h_cgs * c_cgs / (wavelength_cm * k_cgs * T)
    return 2 * h_cgs * c_cgs**2 / wavelength_cm**5 / jnp.expm1(x) * 1e-8


@functools.lru_cache(maxsize=1)
def _default_continuum_data() -> ContinuumData:
    # concrete arrays even when first called inside a jit/grad trace (the cache outlives it)
    with jax.ensure_compile_time_eval():
        return load_continuum_data()


@functools.lru_cache(maxsize=1)
def _default_equilibrium_data():
    from .statmech import load_equilibrium_data

    with jax.ensure_compile_time_eval():
        return load_equilibrium_data()


def layer_opacities(atm, A_X, wavelengths_cm, cdata, eqdata, electrons=None):
    """Chemical equilibrium + continuum opacity in every layer.

    Returns (ne (n_layers,), n (species densities, layer-shaped), alpha (n_layers, n_wl),
    alpha_ref (n_layers,) at the model's reference wavelength or None). ``electrons``: a
    ``statmech.SolveElectronDensity()`` (default) or ``HoldElectronPressure()``."""
    from .statmech import atmosphere_equilibrium

    atm, ne, n = atmosphere_equilibrium(atm, A_X, eqdata, electrons)
    alpha, alpha_ref = continuum_layers(atm, ne, n, wavelengths_cm, cdata)
    return ne, n, alpha, alpha_ref


def continuum_layers(atm, ne, n, wavelengths_cm, cdata):
    """Continuum opacity [cm^-1] (n_layers, n_wl) and at the reference wavelength (or None)."""
    nu = c_cgs / wavelengths_cm
    cont = jax.vmap(continuum_absorption, in_axes=(None, 0, 0, 0, None))
    alpha = cont(nu, atm.temperature, ne, n, cdata)
    alpha_ref = None
    if atm.reference_wavelength is not None:
        nu_ref = jnp.asarray([c_cgs / (atm.reference_wavelength * 1e-8)])
        alpha_ref = cont(nu_ref, atm.temperature, ne, n, cdata)[:, 0]
    return alpha, alpha_ref


def _vdw_density(n):
    """van der Waals perturber density: H I plus weighted He I and H2 (lines.broadening)."""
    from .lines.broadening import vdw_perturber_density

    return vdw_perturber_density(n["H I"], n["He I"], n["HH"])


def _is_concrete(*trees) -> bool:
    leaves = jax.tree_util.tree_leaves(trees)
    return not any(isinstance(x, jax.core.Tracer) for x in leaves)


def default_line_windows(atm, linelist, A_X, wavelengths, vmic, cdata=None, eqdata=None,
                         electrons=None, options=None):
    """Strength-sized line windows (``lines.plan_line_windows``: each line cut where its opacity
    falls below 1e-4 of the continuum in every layer, as Turbospectrum cuts) for a concrete
    atmosphere; the continuum is the smallest of those at the grid's ends and middle.
    ``options``: a ``lines.absorption.WindowOptions`` (e.g. a lower ``cutoff``)."""
    import numpy as np

    from .lines.absorption import plan_line_windows, species_state

    cdata = _default_continuum_data() if cdata is None else cdata
    eqdata = _default_equilibrium_data() if eqdata is None else eqdata
    w = np.asarray(wavelengths, float)
    probe = jnp.asarray(w[[0, w.size // 2, -1]] * 1e-8)
    ne, n, a_c, _ = _layer_opacities_jit(atm, jnp.asarray(A_X, float), probe, cdata, eqdata,
                                         electrons)
    state = species_state(linelist.species, n, atm.temperature, eqdata)
    return plan_line_windows(linelist, w, atm.temperature, ne, _vdw_density(n), state,
                             float(vmic), np.min(np.asarray(a_c), axis=1),
                             **({} if options is None else {"options": options}))


_layer_opacities_jit = eqx.filter_jit(layer_opacities)


@eqx.filter_jit
def _synthesize_impl(atm, A_X, wavelengths, cdata, eqdata, scheme, linelist, windows, vmic,
                     hlines=None, electrons=None):
    from .atmosphere._model import check_atmosphere
    from .statmech import atmosphere_equilibrium

    wl_cm = wavelengths * 1e-8
    atm, ne, n = atmosphere_equilibrium(check_atmosphere(atm), A_X, eqdata, electrons)
    alpha, alpha_ref = continuum_layers(atm, ne, n, wl_cm, cdata)
    S = planck_lambda(wl_cm[None, :], atm.temperature[:, None])
    continuum, _ = radiative_transfer(atm, alpha, S, alpha_ref, scheme)
    if linelist is None:
        flux = continuum
    else:
        from .lines.absorption import line_absorption, species_state

        state = species_state(linelist.species, n, atm.temperature, eqdata)
        a_line = line_absorption(linelist, wavelengths, atm.temperature, ne, _vdw_density(n),
                                 state, vmic, windows)  # fmt: skip
        if hlines is not None:
            from .lines.hydrogen import hydrogen_line_absorption

            a_line = a_line + hydrogen_line_absorption(
                wavelengths, atm.temperature, ne, n["H I"],
                eqdata.partition_function("H I", atm.temperature), hlines, vmic,
                n["He I"])  # fmt: skip
        flux, _ = radiative_transfer(atm, alpha + a_line, S, alpha_ref, scheme)
    return Spectrum(wavelengths, flux, continuum, flux / continuum)


def synthesize(
    atm,
    linelist,
    A_X: Float[Array, "92"],
    wavelengths: Float[Array, " n_wl"],
    *,
    vmic: float = 1.0,
    scheme: PlaneParallel | Spherical | None = None,
    continuum_data: ContinuumData | None = None,
    equilibrium_data=None,
    line_windows=None,
    line_window_half_width: float = 5.0,
    hydrogen_lines: bool = True,
    electrons=None,
) -> Spectrum:
    """Synthesize the emergent spectrum of ``atm`` (an ``atmosphere.Atmosphere``).

    Parameters
    ----------
    linelist
        ``lines.LineList`` or ``None`` (continuum only: ``flux == continuum``).
    A_X
        (92,) abundances A(X) = log10(n_X/n_H) + 12 (e.g. ``abundances.format_abundances``).
    wavelengths
        Vacuum wavelengths [Å], increasing.
    vmic
        Microturbulence [km/s] (lines only).
    scheme
        ``PlaneParallel(n_mu)`` / ``Spherical(n_mu)``; default by the model's geometry.
    continuum_data, equilibrium_data
        Tables (default: loaded once from the data registry and cached).
    line_windows
        ``lines.LineWindows`` for ``linelist`` on ``wavelengths``; default: strength-sized
        windows (:func:`default_line_windows`, cut at 1e-4 of the continuum) when ``atm``,
        ``A_X`` and ``vmic`` are concrete; under a trace (jit/grad/vmap of this function) every
        line is cut at ``line_window_half_width`` Å (``lines.absorption.fixed_line_windows``).
    hydrogen_lines
        Add the H I lines (``lines.hydrogen``: Stehlé & Hutcheon profiles, BPO self-broadening,
        Brackett by scaling) within 5 % of the grid to the line opacity; only when ``linelist``
        is given (continuum-only calls keep ``flux == continuum``). Pass an empty line list
        (``lines.make_linelist`` of no lines) for hydrogen alone.
    electrons
        ``statmech.SolveElectronDensity()`` (default, Korg's convention: n_e solved from
        ``A_X`` at the model's T and gas pressure) or ``statmech.HoldElectronPressure()``
        (Turbospectrum's: the model's T and P_e kept, the gas pressure recomputed; use it to
        compare with Turbospectrum or to keep a model's P_e when A_X differs from its own).

    Bad atmospheres (non-positive or non-finite T/densities/tau, non-monotonic depth) and a
    chemical equilibrium that does not converge raise inside the compiled function
    (``eqx.error_if``) rather than returning NaN.
    """
    require_x64("synthesize")
    wavelengths = jnp.asarray(wavelengths, dtype=float)
    A_X = jnp.asarray(A_X, dtype=float)
    if wavelengths.ndim != 1 or wavelengths.shape[0] < 1:
        raise ValueError(f"synthesize: wavelengths must be a 1D array, got {wavelengths.shape}")
    if A_X.shape != (92,):
        raise ValueError(f"synthesize: A_X must have shape (92,), got {A_X.shape}")
    if not isinstance(wavelengths, jax.core.Tracer):
        import numpy as np

        w = np.asarray(wavelengths)
        if not (np.all(np.isfinite(w)) and np.all(w > 0) and np.all(np.diff(w) > 0)):
            raise ValueError("synthesize: wavelengths must be finite, positive and increasing")
        if w[0] < 1300.0 or w[-1] > 200_000.0:
            raise ValueError(
                f"synthesize: wavelengths {w[0]:.1f}-{w[-1]:.1f} Å outside the supported "
                "1300-200000 Å (continuum tables)"
            )
    if scheme is None:
        scheme = Spherical(n_mu=20) if atm.spherical else PlaneParallel(n_mu=10)
    cdata = _default_continuum_data() if continuum_data is None else continuum_data
    eqdata = _default_equilibrium_data() if equilibrium_data is None else equilibrium_data
    if linelist is not None and line_windows is None and _is_concrete(atm, A_X, vmic, wavelengths):
        line_windows = default_line_windows(atm, linelist, A_X, wavelengths, vmic, cdata, eqdata,
                                            electrons)
    if linelist is not None and line_windows is None:
        from .lines.absorption import fixed_line_windows

        line_windows = fixed_line_windows(linelist, wavelengths, line_window_half_width,
                                          n_layers=atm.tau_ref.shape[0])  # fmt: skip
    hlines = None
    if linelist is not None and hydrogen_lines:
        import numpy as np

        from .lines.hydrogen import hydrogen_lines_for

        # traced wavelengths: every transition in the supported range
        w_sel = np.array([1300.0, 200_000.0]) if isinstance(wavelengths, jax.core.Tracer) else w
        hlines = hydrogen_lines_for(w_sel)
    return _synthesize_impl(atm, A_X, wavelengths, cdata, eqdata, scheme, linelist,
                            line_windows, jnp.asarray(vmic, dtype=float), hlines,
                            electrons)  # fmt: skip
