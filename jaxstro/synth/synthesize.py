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
5. formal solution (``transfer.radiative_transfer``): ``PlaneParallel(n_mu=10)`` (exact flux by the
   E_n integrals) for plane-parallel models and ``Spherical(n_mu=20)`` for spherical ones unless
   ``scheme`` is given.

Units: wavelengths in Å (vacuum); flux and continuum are the astrophysical surface flux
F = 4 pi H = 2 pi int I mu dmu in erg s^-1 cm^-2 Å^-1 (the quantity Turbospectrum prints);
``normalized = flux / continuum``.

``synthesize`` compiles once per (atmosphere size, wavelength count, scheme, line list layout) and
works under ``jax.vmap`` over atmospheres (same layer count) and abundance vectors, and under
``jax.grad`` (chemical equilibrium by the implicit-function theorem).
"""

from __future__ import annotations

import dataclasses
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
           "default_line_windows", "ContinuumGrid", "continuum_grid"]


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


class ContinuumGrid(eqx.Module):
    """Coarse wavelengths [Å] on which the continuum (opacity and flux) is computed, and the
    linear interpolation onto the output grid: output pixel j lies between coarse nodes
    ``index[j]`` and ``index[j] + 1`` with weight ``weight[j]`` on the latter."""

    wavelengths: Float[Array, " n_c"]
    index: Array
    weight: Float[Array, " n_wl"]

    def interpolate(self, values):
        """Coarse values (..., n_c) -> output grid (..., n_wl)."""
        lo = jnp.take(values, self.index, axis=-1)
        hi = jnp.take(values, self.index + 1, axis=-1)
        return lo + self.weight * (hi - lo)


def _hydrogen_edges_angstrom(n_max: int = 40):
    """Vacuum wavelengths [Å] of the H I bound-free edges n = 1..n_max (continuum.hydrogenic)."""
    import numpy as np

    from .continuum._constants import RydbergH_eV, h_eV

    n = np.arange(1, n_max + 1)
    return h_eV * c_cgs / (RydbergH_eV / n**2) * 1e8


def continuum_grid(wavelengths, step: float | None = 1.0,
                   continuum_data: ContinuumData | None = None) -> ContinuumGrid | None:
    """A :class:`ContinuumGrid` of spacing ``step`` [Å] spanning ``wavelengths`` (concrete,
    increasing), with nodes just either side of every H I bound-free edge inside it (the
    continuum's discontinuities, kept sharp) and at the nodes of the metal bound-free table of
    ``continuum_data`` (default: the registry tables; that table is interpolated linearly between
    its nodes, ~4.5 Å apart at 5000 Å, so its kinks fall on coarse nodes).
    ``None`` (continuum at every wavelength) when ``step`` is None or the coarse grid would have
    more than half as many points as the output grid. Turbospectrum computes its continuum on a
    >= 1 Å grid and interpolates likewise; at 1 Å the interpolation error in the continuum
    opacity and flux is below 1e-6 relative away from edges (tests/synth/test_synthesize.py)."""
    import numpy as np

    w = np.asarray(wavelengths, float)
    if step is None:
        return None
    if not step > 0:
        raise ValueError(f"continuum_step must be > 0 Å or None, got {step}")
    n_c = int(np.ceil((w[-1] - w[0]) / step - 1e-9)) + 1
    if w.size < 2 or 2 * n_c > w.size:
        return None
    nodes = np.linspace(w[0], w[-1], max(n_c, 2))
    edges = _hydrogen_edges_angstrom()
    edges = edges[(edges > w[0]) & (edges < w[-1])]
    mbf = (_default_continuum_data() if continuum_data is None else continuum_data).metal_bf
    k = np.arange(mbf.log_sigma.shape[-1])
    table = c_cgs / np.exp(mbf.ln_nu0 + k * mbf.dln_nu) * 1e8
    table = table[(table > w[0]) & (table < w[-1])]
    nodes = np.unique(np.concatenate([nodes, table, edges * (1 - 1e-9), edges * (1 + 1e-9)]))
    idx = np.clip(np.searchsorted(nodes, w, side="right") - 1, 0, nodes.size - 2)
    wt = (w - nodes[idx]) / (nodes[idx + 1] - nodes[idx])
    return ContinuumGrid(jnp.asarray(nodes), jnp.asarray(idx, jnp.int32), jnp.asarray(wt))


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

    from .lines.absorption import plan_line_windows

    cdata = _default_continuum_data() if cdata is None else cdata
    eqdata = _default_equilibrium_data() if eqdata is None else eqdata
    w = np.asarray(wavelengths, float)
    probe = jnp.asarray(w[[0, w.size // 2, -1]] * 1e-8)
    ne, n, a_c, _ = _layer_opacities_jit(atm, jnp.asarray(A_X, float), probe, cdata, eqdata,
                                         electrons)
    state = _species_state_jit(linelist.species, n, atm.temperature, eqdata)
    return plan_line_windows(linelist, w, atm.temperature, ne, _vdw_density(n), state,
                             float(vmic), np.min(np.asarray(a_c), axis=1),
                             **({} if options is None else {"options": options}))


_layer_opacities_jit = eqx.filter_jit(layer_opacities)


@eqx.filter_jit
def _species_state_jit(species, n, T, eqdata):
    from .lines.absorption import species_state

    return species_state(species, n, T, eqdata)


@eqx.filter_jit
def _synthesize_impl(atm, A_X, wavelengths, cdata, eqdata, scheme, linelist, windows, vmic,
                     hlines=None, electrons=None, cgrid=None, hlines_far=None):
    from .atmosphere._model import check_atmosphere
    from .statmech import atmosphere_equilibrium

    wl_cm = wavelengths * 1e-8
    atm, ne, n = atmosphere_equilibrium(check_atmosphere(atm), A_X, eqdata, electrons)
    S = planck_lambda(wl_cm[None, :], atm.temperature[:, None])

    def hydrogen(wl_A, hl):
        from .lines.hydrogen import hydrogen_line_absorption

        return hydrogen_line_absorption(wl_A, atm.temperature, ne, n["H I"],
                                        eqdata.partition_function("H I", atm.temperature), hl,
                                        vmic, n["He I"])  # fmt: skip

    if cgrid is None:
        alpha, alpha_ref = continuum_layers(atm, ne, n, wl_cm, cdata)
        continuum, _ = radiative_transfer(atm, alpha, S, alpha_ref, scheme)
    else:  # continuum opacity and flux on the coarse grid, interpolated linearly
        wlc_cm = cgrid.wavelengths * 1e-8
        alpha_c, alpha_ref = continuum_layers(atm, ne, n, wlc_cm, cdata)
        S_c = planck_lambda(wlc_cm[None, :], atm.temperature[:, None])
        continuum = cgrid.interpolate(radiative_transfer(atm, alpha_c, S_c, alpha_ref, scheme)[0])
        if hlines_far is not None:  # far hydrogen wings are as smooth as the continuum
            alpha_c = alpha_c + hydrogen(cgrid.wavelengths, hlines_far)
        alpha = cgrid.interpolate(alpha_c)
    if linelist is None:
        flux = continuum
    else:
        from .lines.absorption import line_absorption, species_state

        state = species_state(linelist.species, n, atm.temperature, eqdata)
        a_line = line_absorption(linelist, wavelengths, atm.temperature, ne, _vdw_density(n),
                                 state, vmic, windows)  # fmt: skip
        if hlines is not None:
            a_line = a_line + hydrogen(wavelengths, hlines)
        flux, _ = radiative_transfer(atm, alpha + a_line, S, alpha_ref, scheme)
    return Spectrum(wavelengths, flux, continuum, flux / continuum)


#: hydrogen lines centred more than this [Å] outside the output grid are evaluated on the coarse
#: continuum grid (their wings there are smooth: linear-interpolation error < 1e-4 of the line's
#: own opacity at 1 Å steps)
HYDROGEN_FAR_MARGIN = 100.0


def _split_hydrogen(hl, w0: float, w1: float, margin: float):
    """(near, far): hydrogen lines with centres within ``margin`` Å of [w0, w1], and the others
    (None where empty)."""
    import numpy as np

    from .lines.hydrogen import HydrogenLines

    lam = np.asarray(hl.lambda0_cm) * 1e8
    far = (lam < w0 - margin) | (lam > w1 + margin)

    def subset(sel):
        if not np.any(sel):
            return None
        kw = {f.name: getattr(hl, f.name) for f in dataclasses.fields(hl)}
        return HydrogenLines(**{k: (v if k == "log10_T" else v[np.flatnonzero(sel)])
                                for k, v in kw.items()})

    return subset(~far), subset(far)


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
    continuum_step: float | None = 1.0,
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
    continuum_step
        Spacing [Å] of the coarse grid on which the continuum opacity and continuum flux are
        computed and then interpolated linearly (:func:`continuum_grid`; H I edges kept sharp;
        hydrogen-line wings whose centre is more than ``HYDROGEN_FAR_MARGIN`` Å outside the grid
        are evaluated there too); used when the output grid is at least twice as dense and
        concrete. ``None``: continuum at every wavelength.

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
    cgrid = (None if isinstance(wavelengths, jax.core.Tracer)
             else continuum_grid(w, continuum_step, cdata))
    hlines = hlines_far = None
    if linelist is not None and hydrogen_lines:
        import numpy as np

        from .lines.hydrogen import hydrogen_lines_for

        # traced wavelengths: every transition in the supported range
        w_sel = np.array([1300.0, 200_000.0]) if isinstance(wavelengths, jax.core.Tracer) else w
        hlines = hydrogen_lines_for(w_sel)
        if cgrid is not None:
            hlines, hlines_far = _split_hydrogen(hlines, w[0], w[-1], HYDROGEN_FAR_MARGIN)
    return _synthesize_impl(atm, A_X, wavelengths, cdata, eqdata, scheme, linelist,
                            line_windows, jnp.asarray(vmic, dtype=float), hlines,
                            electrons, cgrid, hlines_far)  # fmt: skip
