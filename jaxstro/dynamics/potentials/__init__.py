"""Gravitational potentials as ``eqx.Module``s (natural units: G = 1, 8 kpc, 220 km/s).

Each potential gives ``pot(R, z, phi, t)``, ``Rforce``, ``zforce``, ``phitorque`` (autodiff),
``dens`` (analytic or Laplacian), ``vcirc``, ``omegac``, ``epifreq``, ``verticalfreq``; sums are
``pot_a + pot_b``.
"""

from ._axisymmetric import NFW, MiyamotoNagai, MWPotential2014, PowerSphericalCutoff
from ._bar import DehnenBar, corotation_radius, dehnen_bar, dehnen_smooth, hunt_bovy_bar
from ._base import CompositePotential, Potential

__all__ = [
    "Potential",
    "CompositePotential",
    "PowerSphericalCutoff",
    "MiyamotoNagai",
    "NFW",
    "MWPotential2014",
    "DehnenBar",
    "dehnen_bar",
    "hunt_bovy_bar",
    "dehnen_smooth",
    "corotation_radius",
]
