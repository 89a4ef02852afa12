"""Spectral lines: line lists, species, the Voigt profile.

LineList        transitions sorted by vacuum wavelength (pytree of per-line arrays)
make_linelist   validate + sort per-line columns; ``concatenate`` merges lists
read_linelist   format-sniffing reader: VALD (short/long, stellar/all, air/vacuum), Kurucz gfall
                and molecular, MOOG, Turbospectrum (atomic and molecular), Korg HDF5 and CSV
species         ``species_from_name``, ``species_from_*_code``, ``isotopic_fraction``
voigt           ``faddeeva``, ``voigt_hjerting``, ``voigt_profile`` (Weideman 1994, N = 32)
broadening      Doppler, radiative, quadratic Stark, van der Waals (ABO, log gamma, Unsöld);
                He I/H2 perturbers (``vdw_perturber_density``); the published ABO tables
                (``load_abo_tables``, ``abo_from_tables``; ``read_turbospectrum(abo_tables=...)``)
hydrogen        H I lines: ``hydrogen_lines_for`` (static selection), ``hydrogen_line_absorption``
                (Stehlé & Hutcheon 1999 Stark+Doppler, BPO 2000 self-broadening, Brackett scaled)
absorption      ``line_absorption`` (windowed, chunked; production), ``line_absorption_dense``
                (tests), ``plan_line_windows`` / ``fixed_line_windows``, ``SpeciesState`` and
                ``species_state`` (densities + partition functions per species and layer)
"""

from . import broadening
from ._linelist import (
    VDW_ABO,
    VDW_LOG_GAMMA,
    VDW_UNSOLD,
    LineList,
    concatenate,
    make_linelist,
    vdw_from_packed,
)
from ._readers import (
    read_korg_csv,
    read_korg_h5,
    read_kurucz,
    read_kurucz_molecular,
    read_linelist,
    read_moog,
    read_turbospectrum,
    read_vald,
)
from ._species import (
    constituents,
    isotopic_fraction,
    log_isotopic_fraction,
    species_from_kurucz_code,
    species_from_moog_code,
    species_from_name,
    species_from_turbospectrum_code,
)
from .absorption import (
    LineWindows,
    SpeciesState,
    WindowOptions,
    fixed_line_windows,
    line_absorption,
    line_absorption_dense,
    line_quantities,
    plan_line_windows,
    species_state,
    weak_line_strength,
)
from .hydrogen import HydrogenLines, hydrogen_line_absorption, hydrogen_lines_for
from .voigt import faddeeva, voigt_hjerting, voigt_profile

__all__ = [
    "VDW_ABO", "VDW_LOG_GAMMA", "VDW_UNSOLD", "LineList", "LineWindows", "SpeciesState",
    "WindowOptions", "broadening", "concatenate", "constituents", "fixed_line_windows",
    "line_absorption", "line_absorption_dense", "line_quantities", "plan_line_windows",
    "species_state", "weak_line_strength",
    "faddeeva", "isotopic_fraction", "log_isotopic_fraction", "make_linelist", "read_korg_csv",
    "read_korg_h5", "read_kurucz", "read_kurucz_molecular", "read_linelist", "read_moog",
    "read_turbospectrum", "read_vald", "species_from_kurucz_code", "species_from_moog_code",
    "species_from_name", "species_from_turbospectrum_code", "vdw_from_packed", "voigt_hjerting",
    "voigt_profile", "HydrogenLines", "hydrogen_line_absorption", "hydrogen_lines_for",
]  # fmt: skip
