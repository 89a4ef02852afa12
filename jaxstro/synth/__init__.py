"""jaxstro.synth: 1D LTE spectral synthesis in JAX, float64, differentiable end to end.

One file per physical process (cgs units inside; wavelengths in Å, vacuum, at the API):

abundances      solar mixtures (Asplund 2009/2021, Grevesse+ 2007, Bergemann+ 2025),
                ``format_abundances(m_h, alpha_m, C=..., Mg_Fe=...)``
atmosphere      ``Atmosphere`` pytree; MARCS / ATLAS9 / PHOENIX / PFANT readers;
                ``interpolate_atmosphere`` over the ATLAS9 and MARCS-giant grids (interpax)
statmech        partition functions, Saha, molecular equilibrium (Newton in log space,
                implicit-function gradients): ``chemical_equilibrium``
continuum       H I, H-, H2+, He-, metal bound-free (TOPBase), free-free, Rayleigh, Thomson:
                ``continuum_absorption``
lines           line lists (VALD, Kurucz, MOOG, Turbospectrum, Korg), species, Voigt profile
transfer        formal solution, plane-parallel and spherical: ``radiative_transfer``
synthesize      ``synthesize(atm, linelist, A_X, wavelengths)`` -> flux, continuum, normalized
observe         what a spectrograph records: rotation, radial-tangential macroturbulence, LSF,
                RV, air wavelengths, continuum ratio (``observe``, ``fit_broadening``,
                ``fit_continuum_ratio``, ``residual_features``)
"""

from . import abundances, atmosphere, continuum, lines, observe, statmech, transfer
from .abundances import format_abundances, solar_abundances
from .atmosphere import (
    Atmosphere,
    interpolate_atmosphere,
    load_atlas9_grid,
    load_marcs_pfant_grid,
    read_atlas9,
    read_marcs,
    read_phoenix,
)
from .continuum import continuum_absorption, load_continuum_data
from .lines import LineList, read_linelist
from .statmech import (
    HoldElectronPressure,
    SolveElectronDensity,
    chemical_equilibrium,
    load_equilibrium_data,
)
from .synthesize import Spectrum, synthesize
from .transfer import PlaneParallel, Spherical, radiative_transfer

__all__ = [
    "Atmosphere", "HoldElectronPressure", "LineList", "PlaneParallel", "SolveElectronDensity",
    "Spectrum", "Spherical", "abundances",
    "atmosphere", "chemical_equilibrium", "continuum", "continuum_absorption",
    "format_abundances", "interpolate_atmosphere", "lines", "load_atlas9_grid",
    "load_continuum_data", "load_equilibrium_data", "load_marcs_pfant_grid", "observe",
    "radiative_transfer",
    "read_atlas9", "read_linelist", "read_marcs", "read_phoenix", "solar_abundances", "statmech",
    "synthesize", "transfer",
]  # fmt: skip
