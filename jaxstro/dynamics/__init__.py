"""jaxstro.dynamics: Galactic dynamics in JAX (natural units: G = 1, R0 = 8 kpc, v0 = 220 km/s).

- ``potentials``: MWPotential2014 components, Dehnen bar (m = 2, 4), composable sums
- ``units``: natural <-> physical conversions (astropy at the edges)
"""

from . import _units as units
from . import potentials
from .potentials import (
    NFW,
    CompositePotential,
    DehnenBar,
    MiyamotoNagai,
    MWPotential2014,
    Potential,
    PowerSphericalCutoff,
    dehnen_bar,
    hunt_bovy_bar,
)

__all__ = [
    "units",
    "potentials",
    "Potential",
    "CompositePotential",
    "PowerSphericalCutoff",
    "MiyamotoNagai",
    "NFW",
    "MWPotential2014",
    "DehnenBar",
    "dehnen_bar",
    "hunt_bovy_bar",
]
