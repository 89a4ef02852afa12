"""Model atmospheres: the ``Atmosphere`` pytree, file readers and grid interpolation.

Readers: MARCS ``.mod`` (:func:`read_marcs`), Kurucz ATLAS9 text models (:func:`read_atlas9`),
PHOENIX-ACES FITS (:func:`read_phoenix`). Grids: the ATLAS9 2 km/s sub-grid
(:func:`load_atlas9_grid`) and the PFANT binary MARCS giant grid (:func:`load_marcs_pfant_grid`);
:func:`interpolate_atmosphere` interpolates them in (Teff, logg, [M/H]) with interpax.
"""

from ._marcs import (
    MARCS_SPECIES,
    MarcsModel,
    read_marcs,
    read_marcs_abundances,
    read_marcs_model,
    read_marcs_partial_pressures,
)
from ._model import AMU, K_BOLTZMANN, Atmosphere, check_atmosphere, make_atmosphere

__all__ = [
    "AMU",
    "K_BOLTZMANN",
    "MARCS_SPECIES",
    "Atmosphere",
    "MarcsModel",
    "check_atmosphere",
    "make_atmosphere",
    "read_marcs",
    "read_marcs_abundances",
    "read_marcs_model",
    "read_marcs_partial_pressures",
]
