"""Line absorption coefficient alpha(layer, lambda) [cm^-1] of a ``LineList``.

For each line (vacuum wavelength lambda_0, g f, lower-level energy E_l) and layer (T, n_e, n_HI)

    alpha = (pi e^2 / (m_e c^2)) lambda_0^2 g f (n_s / U_s(T)) exp(-E_l / kT)
            (1 - exp(-h c / (lambda_0 k T))) phi(lambda - lambda_0)

with n_s and U_s the number density and partition function of the line's species (atom, ion or
molecule alike) and phi the Voigt profile normalised in wavelength [cm^-1] (Gaussian sigma from
:func:`~.broadening.doppler_sigma`, Lorentzian HWHM from the summed damping constants, see
:mod:`.broadening`). Per-species densities and partition functions enter as arrays
(:class:`SpeciesState`), so this module does not depend on the statistical-mechanics API;
:func:`species_state` builds them from :func:`jaxstro.synth.statmech.chemical_equilibrium` output.

Production path (:func:`line_absorption`): each line is evaluated on a window of pixels around its
centre. :func:`plan_line_windows` (host side, once per line list, wavelength grid and reference
atmosphere) gives each line a half width where its opacity falls below ``cutoff`` times the
continuum (Doppler core and Lorentz wings, as in Korg and Turbospectrum, whose cut is 1e-4), and
cuts every line's pixels into rows of a few consecutive pixels (core rows for the full Voigt
function, far-wing rows for a cheap continued fraction) packed into fixed-size chunks; inside jit
each kind is a ``lax.scan`` over chunks (line quantities for the chunk's lines, profile on
(rows, layers, row width), scatter-add into the result), so the work is the number of pixels
inside the cuts (padding only to the row width), there is one compiled body per kind, and memory
is set by the chunk, not by the number of lines.
The dense lines x layers x wavelengths path (:func:`line_absorption_dense`) is for tests only.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from functools import lru_cache

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int
from scipy.special import erfcinv

from ..._config import require_x64
from .._elements import MASSES_AMU
from . import broadening as br
from ._linelist import VDW_ABO, VDW_LOG_GAMMA, LineList
from ._species import constituents
from .voigt import WING_Z, laplace_hjerting, line_hjerting, voigt_profile

#: pi e^2 / (m_e c^2) = pi r_e [cm]
PI_E2_OVER_MC2 = np.pi * br.E_ESU**2 / (br.M_E * br.C_CGS**2)
K_EV = 8.617333262e-5  # eV K^-1
HC_OVER_K_CM = br.H_CGS * br.C_CGS / br.K_CGS  # cm K


class SpeciesState(eqx.Module):
    """Per-species, per-layer quantities needed by the line opacity (order of ``LineList.species``).

    Attributes:
        number_density: n_s [cm^-3], shape (n_species, n_layers).
        partition_function: U_s(T), shape (n_species, n_layers).
        ionization_energy: chi [eV] of each species to the next stage; NaN for molecules
            (used only by the Stark and Unsöld approximations).
    """

    number_density: Float[Array, "s n"]
    partition_function: Float[Array, "s n"]
    ionization_energy: Float[Array, " s"]


@lru_cache(maxsize=64)
def _species_constants(species: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mass [g], charge, is_atom) of each species name."""
    mass, charge, atom = [], [], []
    for s in species:
        zs, q = constituents(s)
        mass.append(float(sum(MASSES_AMU[z - 1] for z in zs)) * br.AMU)
        charge.append(float(q))
        atom.append(len(zs) == 1)
    return np.array(mass), np.array(charge), np.array(atom)


def species_state(
    species: Sequence[str],
    number_densities: Mapping[str, ArrayLike],
    T: Float[ArrayLike, " n"],
    data,
) -> SpeciesState:
    """Build a :class:`SpeciesState` from chemical-equilibrium densities (layer-shaped arrays,
    e.g. the vmapped output of ``chemical_equilibrium``) and ``data.partition_function``.

    Species absent from ``number_densities`` (or without a partition function) get density 0 and
    a warning naming them: their lines then contribute nothing.
    """
    T = jnp.asarray(T, float)
    dens, parts, chis, missing = [], [], [], []
    for s in species:
        zs, q = constituents(s)
        try:
            n_s = jnp.broadcast_to(jnp.asarray(number_densities[s], float), T.shape)
            U = data.partition_function(s, T)
        except (KeyError, ValueError):
            missing.append(s)
            n_s, U = jnp.zeros_like(T), jnp.ones_like(T)
        dens.append(n_s)
        parts.append(U)
        if len(zs) == 1 and q <= 2:
            chi_table = getattr(data, "chi", None)  # (92, 3) eV, NaN where no such stage
            if chi_table is not None:  # indexed as an array: works inside jit
                chis.append(jnp.asarray(chi_table)[zs[0] - 1, q])
            else:
                try:
                    chis.append(jnp.asarray(data.ionization_energy(zs[0], q + 1), float))
                except ValueError:
                    chis.append(jnp.asarray(np.nan))
        else:
            chis.append(jnp.asarray(np.nan))
    if missing:
        warnings.warn(f"no number density/partition function for {missing}: their lines are "
                      "left out", stacklevel=2)
    return SpeciesState(jnp.stack(dens), jnp.stack(parts), jnp.stack(chis).astype(float))


# ------------------------------------------------------------------------------------------------
# per-line, per-layer quantities
def _line_quantities(lines: dict, T, ne, n_HI, state: SpeciesState, vmic_cm_s, mass, charge):
    """amplitude (dimensionless; times phi [cm^-1] gives cm^-1), sigma and Lorentz HWHM [cm]:
    arrays (n_lines, n_layers). ``lines``: per-line arrays (n_lines,) of the LineList fields."""
    lam = lines["wavelength"][:, None] * 1e-8  # cm
    si = lines["species_index"]
    T_ = T[None, :]
    m = mass[si][:, None]
    q = charge[si][:, None]
    n_s = state.number_density[si]
    U = state.partition_function[si]
    chi = state.ionization_energy[si][:, None]
    El = lines["E_lower"][:, None]
    boltz = jnp.exp(-El / (K_EV * T_))
    stim = -jnp.expm1(-HC_OVER_K_CM / (lam * T_))
    amp = PI_E2_OVER_MC2 * lam**2 * 10.0 ** lines["log_gf"][:, None] * (n_s / U) * boltz * stim
    sigma = br.doppler_sigma(lam, T_, m, vmic_cm_s)

    Eu = br.upper_level_energy(El, lam)
    g_rad = br.radiative_gamma(lines["gamma_rad"][:, None], lam)
    g4_list = lines["gamma_stark"][:, None]
    g4 = jnp.where(jnp.isfinite(g4_list), jnp.nan_to_num(g4_list),
                   br.cowley_stark_gamma(Eu, chi, q))
    g_stark = br.stark_gamma(g4, ne[None, :], T_)
    kind = lines["vdw_kind"][:, None]
    v1 = lines["vdw_1"][:, None]
    v2 = lines["vdw_2"][:, None]
    nH = n_HI[None, :]
    g_abo = br.abo_gamma(jnp.where(kind == VDW_ABO, v1, 0.0), jnp.where(kind == VDW_ABO, v2, 0.0),
                         T_, m, nH)
    g_log = br.log_gamma_vdw(jnp.where(kind == VDW_LOG_GAMMA, v1, -100.0), T_, nH)
    g_uns = br.unsold_gamma(br.unsold_c6(El, Eu, chi, q), T_, m, nH, v1)
    g_vdw = jnp.where(kind == VDW_ABO, g_abo, jnp.where(kind == VDW_LOG_GAMMA, g_log, g_uns))
    gamma = br.lorentz_hwhm_wavelength(g_rad + g_stark + g_vdw, lam)
    return amp, sigma, gamma


def _line_fields(ll: LineList) -> dict:
    return {
        "wavelength": ll.wavelength, "log_gf": ll.log_gf, "species_index": ll.species_index,
        "E_lower": ll.E_lower, "gamma_rad": ll.gamma_rad, "gamma_stark": ll.gamma_stark,
        "vdw_kind": ll.vdw_kind, "vdw_1": ll.vdw_1, "vdw_2": ll.vdw_2,
    }  # fmt: skip


def _layers(T, ne, n_HI):
    T = jnp.atleast_1d(jnp.asarray(T, float))
    return T, jnp.broadcast_to(jnp.asarray(ne, float), T.shape), jnp.broadcast_to(
        jnp.asarray(n_HI, float), T.shape)


def _check(ll: LineList, state: SpeciesState, T) -> None:
    s = len(ll.species)
    if state.number_density.shape != (s, T.shape[0]) or state.partition_function.shape != (
        s, T.shape[0]):
        raise ValueError(
            f"SpeciesState arrays must be (n_species={s}, n_layers={T.shape[0]}), got "
            f"{state.number_density.shape} and {state.partition_function.shape}")


def line_quantities(
    linelist: LineList,
    T: Float[ArrayLike, " n"],
    ne: Float[ArrayLike, " n"],
    n_HI: Float[ArrayLike, " n"],
    state: SpeciesState,
    vmic: float | ArrayLike,
) -> tuple[Array, Array, Array]:
    """(amplitude, Gaussian sigma [cm], Lorentz HWHM [cm]), each (n_lines, n_layers); the line's
    opacity is ``amplitude * voigt_profile(lambda - lambda_0, sigma, hwhm)`` [cm^-1].
    ``vmic`` in km/s."""
    T, ne, n_HI = _layers(T, ne, n_HI)
    _check(linelist, state, T)
    mass, charge, _ = _species_constants(linelist.species)
    return _line_quantities(_line_fields(linelist), T, ne, n_HI, state,
                            jnp.asarray(vmic, float) * 1e5, jnp.asarray(mass),
                            jnp.asarray(charge))


# ------------------------------------------------------------------------------------------------
# windows
class LineWindows(eqx.Module):
    """Which pixels each line is evaluated on (from :func:`plan_line_windows` or
    :func:`fixed_line_windows`), as rows of consecutive pixels packed into fixed-size chunks.

    Each line's pixels within its cut (|lambda - lambda_0| <= half width) form runs: the core
    (|lambda - lambda_0| <= 8 sqrt(2) sigma_max, evaluated with the 24-term Weideman series)
    and the two far wings beyond it (the cheap continued fraction, valid there, see
    :func:`voigt.laplace_hjerting`); without a wing split the whole window is core. Runs are cut
    into rows of ``row_widths`` (core, wing) pixels, rows into chunks. Per kind, arrays shaped
    (n_chunks, ...): ``*_lines`` (n_chunks, Lc) the lines a chunk touches (their per-layer
    quantities are computed once per chunk), ``*_slot`` (n_chunks, rows) each row's index into
    them, ``*_start`` its first pixel and ``*_count`` its number of pixels (0 for padding rows).
    ``line_half_width``: every line's cut [cm] (0 for lines left out).
    """

    core_lines: Int[Array, "k lc"]
    core_slot: Int[Array, "k r"]
    core_start: Int[Array, "k r"]
    core_count: Int[Array, "k r"]
    wing_lines: Int[Array, "k lc"]
    wing_slot: Int[Array, "k r"]
    wing_start: Int[Array, "k r"]
    wing_count: Int[Array, "k r"]
    line_half_width: Float[Array, " l"]
    n_wavelengths: int = eqx.field(static=True)
    row_widths: tuple[int, int] = eqx.field(static=True, default=(8, 32))

    @property
    def n_lines(self) -> int:
        """Number of lines that have a window."""
        return int(np.sum(np.asarray(self.line_half_width) > 0))

    @property
    def n_evaluations(self) -> tuple[int, int]:
        """(wing-formula, full-Voigt) profile evaluations per layer, padding included."""
        return (int(np.prod(self.wing_start.shape)) * self.row_widths[1],
                int(np.prod(self.core_start.shape)) * self.row_widths[0])


def _core_profile(x, sigma, gamma):
    """Line profile near the centre (and in the dense reference path): the 24-term series."""
    return voigt_profile(x, sigma, gamma, hjerting=line_hjerting)


def _wing_profile(x, sigma, gamma):
    return voigt_profile(x, sigma, gamma, hjerting=laplace_hjerting)


class WindowOptions(eqx.Module):
    """Options of :func:`plan_line_windows`.

    cutoff: profile cut where line opacity < cutoff x continuum opacity (in every layer).
    max_half_width: largest half width [Å]. chunk_elements: (line, pixel) pairs x n_layers per
    scan step (sets the memory of the evaluation, not the work).
    wing_split: evaluate pixels beyond 8 sqrt(2) Doppler sigmas with the cheap far-wing formula.
    max_lost_area: a kept line's window is never narrower than where the cut Gaussian core loses
    this fraction of its area (0: the cutoff alone, Turbospectrum's rule, which loses 1-4 % of
    the equivalent width of lines shallower than ~1 %: their core itself falls below it).
    """

    cutoff: float = 1e-4
    max_half_width: float = 50.0
    chunk_elements: int = 1 << 20
    wing_split: bool = True
    max_lost_area: float = 0.002


def _pack_rows(line: np.ndarray, start: np.ndarray, length: np.ndarray, width: int,
               per_chunk: int):
    """Cut runs (line, first pixel, length; sorted by line) into rows of ``width`` pixels and the
    rows into chunks of ``per_chunk``: (lines (k, Lc), slot, start, count (k, rows)); Lc is the
    most distinct lines in any chunk (rounded up to a multiple of 8)."""
    n_rows = -(-length // width)
    line = np.repeat(line, n_rows)
    j = np.arange(line.size) - np.repeat(np.cumsum(n_rows) - n_rows, n_rows)
    start = np.repeat(start, n_rows) + j * width
    count = np.minimum(width, np.repeat(length, n_rows) - j * width)
    n = line.size
    if n == 0:
        z = np.zeros((0, 8), np.int64)
        return z, z, z, z
    R = int(max(8, min(per_chunk, -(-n // 8) * 8)))
    k = -(-n // R)
    pad = k * R - n
    line = np.concatenate([line, np.full(pad, line[-1])]).reshape(k, R)
    start = np.concatenate([start, np.zeros(pad, np.int64)]).reshape(k, R)
    count = np.concatenate([count, np.zeros(pad, np.int64)]).reshape(k, R)
    new = np.concatenate([np.ones((k, 1), bool), line[:, 1:] != line[:, :-1]], axis=1)
    slot = np.cumsum(new, axis=1) - 1  # a line's rows are contiguous within a chunk
    n_lc = int(-(-(slot[:, -1].max() + 1) // 8) * 8)
    lines = np.zeros((k, n_lc), np.int64)
    rows = np.repeat(np.arange(k), R).reshape(k, R)
    lines[rows[new], slot[new]] = line[new]
    lines = np.where(np.arange(n_lc)[None, :] <= slot[:, -1:], lines, line[:, :1])
    return lines, slot, start, count


def _build_windows(wl_cm: np.ndarray, lam0_cm: np.ndarray, hw_cm: np.ndarray, n_layers: int,
                   opts: WindowOptions, core_cm: np.ndarray | None = None,
                   row_widths: tuple[int, int] = (8, 32)) -> LineWindows:
    n_wl = wl_cm.size
    lo = np.searchsorted(wl_cm, lam0_cm - hw_cm, side="left")
    hi = np.searchsorted(wl_cm, lam0_cm + hw_cm, side="right")
    keep = (hi > lo) & (hw_cm > 0)
    idx = np.flatnonzero(keep)
    lo, hi = lo[idx], hi[idx]
    if core_cm is None:
        clo, chi = lo, hi
    else:  # core: |lambda - lambda_0| <= core; wings: beyond it, on either side
        clo = np.clip(np.searchsorted(wl_cm, lam0_cm[idx] - core_cm[idx], side="left"), lo, hi)
        chi = np.clip(np.searchsorted(wl_cm, lam0_cm[idx] + core_cm[idx], side="right"), clo, hi)
    runs = {"core": (idx, clo, chi - clo),
            "wing": (np.concatenate([idx, idx]), np.concatenate([lo, chi]),
                     np.concatenate([clo - lo, hi - chi]))}
    packed = []
    for (line, st, ln), width in zip(runs.values(), row_widths, strict=True):
        order = np.argsort(line, kind="stable")
        line, st, ln = line[order], st[order], ln[order]
        m = ln > 0
        packed.append(_pack_rows(line[m], st[m], ln[m], width,
                                 max(8, opts.chunk_elements // (n_layers * width))))
    i32 = jnp.int32
    arrays = [jnp.asarray(a, i32) for kind in packed for a in kind]
    return LineWindows(*arrays, jnp.asarray(np.where(keep, hw_cm, 0.0)), n_wl, tuple(row_widths))


def _as_grid(wavelengths) -> np.ndarray:
    wl = np.asarray(wavelengths, float)
    if wl.ndim != 1 or wl.size < 1 or not np.all(np.isfinite(wl)):
        raise ValueError("wavelengths must be a finite 1-D array [Å]")
    if np.any(np.diff(wl) <= 0):
        raise ValueError("wavelengths must be strictly increasing")
    return wl


def fixed_line_windows(
    linelist: LineList, wavelengths: ArrayLike, half_width: float, *, n_layers: int = 1,
    options: WindowOptions = WindowOptions(),
) -> LineWindows:
    """Every line cut at the same half width [Å] (no atmosphere needed)."""
    wl = _as_grid(wavelengths)
    lam0 = np.asarray(linelist.wavelength) * 1e-8
    return _build_windows(wl * 1e-8, lam0, np.full(lam0.shape, half_width * 1e-8), n_layers,
                          options)


def plan_line_windows(
    linelist: LineList,
    wavelengths: ArrayLike,
    T: Float[ArrayLike, " n"],
    ne: Float[ArrayLike, " n"],
    n_HI: Float[ArrayLike, " n"],
    state: SpeciesState,
    vmic: float,
    alpha_continuum: Float[ArrayLike, " n"],
    *,
    options: WindowOptions = WindowOptions(),
    block: int = 32768,
) -> LineWindows:
    """Per-line windows for a reference atmosphere (host side; concrete arrays).

    In each layer the half width is where the Gaussian core, or else the Lorentzian wing, of the
    line's opacity drops to ``options.cutoff * alpha_continuum`` [cm^-1] (the continuum near the
    lines, shape (n_layers,) or scalar); the line's window is the largest over layers, capped at
    ``options.max_half_width``. Lines that never reach the cutoff inside the grid are left out.
    """
    wl = _as_grid(wavelengths)
    T, ne, n_HI = _layers(T, ne, n_HI)
    a_c = np.broadcast_to(np.asarray(alpha_continuum, float), T.shape)
    if np.any(~(a_c > 0)):
        raise ValueError("alpha_continuum must be positive in every layer")
    n = len(linelist)
    hw = np.zeros(n)
    core = np.zeros(n)
    vmic_a = jnp.asarray(vmic, float)
    for i0 in range(0, n, block):
        sub = _slice(linelist, i0, i0 + block)
        amp, sig, gam = (np.asarray(x) for x in _line_quantities_jit(sub, T, ne, n_HI, state,
                                                                     vmic_a))
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = options.cutoff * a_c[None, :] / amp
            xd = sig * np.sqrt(np.maximum(0.0, -2.0 * np.log(rho * sig * np.sqrt(2 * np.pi))))
            xl = np.sqrt(np.maximum(0.0, gam / (np.pi * rho) - gam**2))
        x = np.where(amp > 0, np.maximum(xd, xl), 0.0)
        h = np.nanmax(np.nan_to_num(x), axis=1)
        if options.max_lost_area > 0:
            # every kept line at least wide enough that the cut loses <= max_lost_area of its
            # Gaussian core's area (the widest over layers), so weak lines, whose core itself
            # falls below the cutoff, keep their equivalent width (the Lorentz wings are left
            # to the cutoff: bounding their share too would widen every window ~100x)
            xg = np.sqrt(2.0) * erfcinv(options.max_lost_area) * sig
            h = np.where(h > 0, np.maximum(h, np.max(xg, axis=1)), 0.0)
        hw[i0:i0 + block] = h
        core[i0:i0 + block] = WING_Z * np.sqrt(2.0) * np.max(sig, axis=1)
    hw = np.minimum(hw, options.max_half_width * 1e-8)
    return _build_windows(wl * 1e-8, np.asarray(linelist.wavelength) * 1e-8, hw, T.shape[0],
                          options, core if options.wing_split else None)


_line_quantities_jit = eqx.filter_jit(line_quantities)  # compiled once per line-list layout


def _slice(ll: LineList, i0: int, i1: int) -> LineList:
    return jax.tree_util.tree_map(lambda a: a[i0:i1], ll)


# ------------------------------------------------------------------------------------------------
# evaluation
def line_absorption(
    linelist: LineList,
    wavelengths: Float[ArrayLike, " w"],
    T: Float[ArrayLike, " n"],
    ne: Float[ArrayLike, " n"],
    n_HI: Float[ArrayLike, " n"],
    state: SpeciesState,
    vmic: float | ArrayLike,
    windows: LineWindows,
) -> Float[Array, "n w"]:
    """Line absorption coefficient [cm^-1], shape (n_layers, n_wavelengths), windowed.

    ``wavelengths`` [Å, vacuum, increasing] must be the grid ``windows`` was planned on; ``vmic``
    in km/s. jit/vmap/grad-able in everything but the (static) window layout.
    """
    require_x64("line_absorption")
    T, ne, n_HI = _layers(T, ne, n_HI)
    _check(linelist, state, T)
    wl_cm = jnp.asarray(wavelengths, float) * 1e-8
    if wl_cm.shape != (windows.n_wavelengths,):
        raise ValueError(f"windows were planned for {windows.n_wavelengths} wavelengths, got "
                         f"{wl_cm.shape}")
    mass, charge, _ = _species_constants(linelist.species)
    mass, charge = jnp.asarray(mass), jnp.asarray(charge)
    vmic_cm = jnp.asarray(vmic, float) * 1e5
    fields = _line_fields(linelist)
    n_layers, n_wl = T.shape[0], wl_cm.shape[0]
    acc = jnp.zeros((n_layers, n_wl), dtype=wl_cm.dtype)
    half = windows.line_half_width

    for kind, fn, width in (("core", _core_profile, windows.row_widths[0]),
                            ("wing", _wing_profile, windows.row_widths[1])):
        lines = getattr(windows, f"{kind}_lines")
        if lines.shape[0] == 0:
            continue

        @jax.checkpoint
        def chunk_values(lines_c, slot_c, start_c, count_c, fn=fn, width=width):
            sub = {k: v[lines_c] for k, v in fields.items()}
            amp, sig, gam = _line_quantities(sub, T, ne, n_HI, state, vmic_cm, mass, charge)
            j = jnp.arange(width)
            pix = jnp.minimum(start_c[:, None] + j[None, :], n_wl - 1)  # (rows, width)
            lam0 = sub["wavelength"][slot_c] * 1e-8
            dx = wl_cm[pix] - lam0[:, None]
            ok = (j[None, :] < count_c[:, None]) & (jnp.abs(dx) <= half[lines_c][slot_c][:, None])
            vals = amp[slot_c][:, :, None] * fn(dx[:, None, :], sig[slot_c][:, :, None],
                                                gam[slot_c][:, :, None])  # (rows, layers, width)
            return pix, jnp.where(ok[:, None, :], vals, 0.0)

        def body(a, xs, chunk_values=chunk_values):
            pix, vals = chunk_values(*xs)
            flat = jnp.transpose(vals, (1, 0, 2)).reshape(n_layers, -1)
            return a.at[:, pix.reshape(-1)].add(flat), None

        xs = tuple(getattr(windows, f"{kind}_{f}") for f in ("lines", "slot", "start", "count"))
        acc, _ = jax.lax.scan(body, acc, xs)
    return acc


def line_absorption_dense(
    linelist: LineList,
    wavelengths: Float[ArrayLike, " w"],
    T: Float[ArrayLike, " n"],
    ne: Float[ArrayLike, " n"],
    n_HI: Float[ArrayLike, " n"],
    state: SpeciesState,
    vmic: float | ArrayLike,
    half_width: float | ArrayLike | None = None,
) -> Float[Array, "n w"]:
    """Reference path for tests: every line at every wavelength (memory n_lines x n_layers x
    n_wl); profiles cut at ``half_width`` [Å] (scalar or per line) if given."""
    require_x64("line_absorption_dense")
    amp, sig, gam = line_quantities(linelist, T, ne, n_HI, state, vmic)
    wl_cm = jnp.asarray(wavelengths, float) * 1e-8
    dx = wl_cm[None, :] - linelist.wavelength[:, None] * 1e-8
    prof = _core_profile(dx[:, None, :], sig[:, :, None], gam[:, :, None])
    vals = amp[:, :, None] * prof
    if half_width is not None:
        hw = jnp.broadcast_to(jnp.asarray(half_width, float), (len(linelist),)) * 1e-8
        vals = jnp.where((jnp.abs(dx) <= hw[:, None])[:, None, :], vals, 0.0)
    return vals.sum(axis=0)


def weak_line_strength(
    linelist: LineList,
    T: Float[ArrayLike, " n"],
    state: SpeciesState,
) -> Float[Array, "l n"]:
    """Integral of each line's opacity over wavelength [cm^-1 cm], shape (n_lines, n_layers):
    the amplitude of :func:`line_quantities` times the profile's unit area."""
    T = jnp.atleast_1d(jnp.asarray(T, float))
    lam = linelist.wavelength[:, None] * 1e-8
    si = linelist.species_index
    return (PI_E2_OVER_MC2 * lam**2 * 10.0 ** linelist.log_gf[:, None]
            * state.number_density[si] / state.partition_function[si]
            * jnp.exp(-linelist.E_lower[:, None] / (K_EV * T[None, :]))
            * -jnp.expm1(-HC_OVER_K_CM / (lam * T[None, :])))
