"""Model atmospheres: the ``Atmosphere`` pytree, file readers and grid interpolation.

Readers
    :func:`read_marcs` (MARCS ``.mod``, plane-parallel and spherical; :func:`read_marcs_model` for
    every column, :func:`read_marcs_partial_pressures` for the molecular partial pressures),
    :func:`read_atlas9` (Kurucz ATLAS9 text models), :func:`read_phoenix` (PHOENIX-ACES FITS),
    :func:`read_pfant_record` (one model of the PFANT binary MARCS grid).
Grids
    :func:`load_atlas9_grid` (Kurucz 2 km/s sub-grid), :func:`load_marcs_pfant_grid` (MARCS giants),
    :class:`AtmosphereGrid`, :func:`interpolate_atmosphere` (layer by layer, interpax,
    differentiable in Teff/logg/[M/H]).
Validation
    :func:`make_atmosphere` (numpy, ValueError) and :func:`check_atmosphere` (jit-safe).
"""

from ._atlas9 import (
    Atlas9Model,
    read_atlas9,
    read_atlas9_model,
    read_atlas9_models,
    rosseland_optical_depth,
)
from ._grid import (
    PFANT_LOG_TAU,
    QUANTITIES,
    AtmosphereGrid,
    build_grid,
    interpolate_atmosphere,
    load_atlas9_grid,
    load_marcs_pfant_grid,
)
from ._marcs import (
    MARCS_SPECIES,
    MarcsModel,
    read_marcs,
    read_marcs_abundances,
    read_marcs_model,
    read_marcs_partial_pressures,
)
from ._model import AMU, K_BOLTZMANN, Atmosphere, check_atmosphere, make_atmosphere
from ._pfant import PfantModel, read_pfant_grid_models, read_pfant_record
from ._phoenix import read_phoenix

__all__ = [
    "AMU",
    "K_BOLTZMANN",
    "MARCS_SPECIES",
    "PFANT_LOG_TAU",
    "QUANTITIES",
    "Atlas9Model",
    "Atmosphere",
    "AtmosphereGrid",
    "MarcsModel",
    "PfantModel",
    "build_grid",
    "check_atmosphere",
    "interpolate_atmosphere",
    "load_atlas9_grid",
    "load_marcs_pfant_grid",
    "make_atmosphere",
    "read_atlas9",
    "read_atlas9_model",
    "read_atlas9_models",
    "read_marcs",
    "read_marcs_abundances",
    "read_marcs_model",
    "read_marcs_partial_pressures",
    "read_pfant_grid_models",
    "read_pfant_record",
    "read_phoenix",
    "rosseland_optical_depth",
]
