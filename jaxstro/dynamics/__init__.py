"""jaxstro.dynamics: Galactic dynamics in JAX (natural units: G = 1, R0 = 8 kpc, v0 = 220 km/s).

- ``potentials``: MWPotential2014 components, Dehnen bar (m = 2, 4), composable sums
- ``units``: natural <-> physical conversions (astropy at the edges)
- orbits (diffrax; inertial/rotating frames), Staeckel-fudge actions, quasi-isothermal DF and
  sampler, bar resonance lines, survey selection functions, the thesis ch4 bar simulation
  (``jaxstro dynamics bar-sim``)
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

from ._actions import Actions, StaeckelFudge, actions_staeckel, estimate_delta  # noqa: E402
from ._bar_simulation import (  # noqa: E402
    BarSimConfig,
    analyse,
    feh_gradient,
    plot_profiles,
    run_chunks,
    snapshot_actions,
)
from ._df import QuasiIsothermalDF, SampleWindow, sample_qdf  # noqa: E402
from ._orbits import (  # noqa: E402
    Inertial,
    OrbitOptions,
    Rotating,
    angular_momentum_z,
    cart_to_cyl,
    cyl_to_cart,
    energy,
    integrate_orbit,
    integrate_orbits,
    jacobi,
    to_inertial,
    to_rotating,
)
from ._pattern_speed import (  # noqa: E402
    SoftBins,
    bar_with_pattern_speed,
    fit_pattern_speed,
    profile_and_tangent,
    profile_at_pattern_speed,
    soft_profile,
)
from ._resonances import RESONANCES, resonance_line, resonance_lines  # noqa: E402
from ._selection import (  # noqa: E402
    BinnedFootprint,
    LamostLikeSelection,
    load_footprint,
    select_like,
    selection_mask,
)

__all__ += [
    "Actions",
    "StaeckelFudge",
    "actions_staeckel",
    "estimate_delta",
    "BarSimConfig",
    "BinnedFootprint",
    "load_footprint",
    "LamostLikeSelection",
    "selection_mask",
    "snapshot_actions",
    "run_chunks",
    "analyse",
    "plot_profiles",
    "feh_gradient",
    "select_like",
    "QuasiIsothermalDF",
    "SampleWindow",
    "sample_qdf",
    "Inertial",
    "Rotating",
    "OrbitOptions",
    "integrate_orbit",
    "integrate_orbits",
    "energy",
    "jacobi",
    "angular_momentum_z",
    "cyl_to_cart",
    "cart_to_cyl",
    "to_rotating",
    "to_inertial",
    "SoftBins",
    "soft_profile",
    "bar_with_pattern_speed",
    "profile_at_pattern_speed",
    "profile_and_tangent",
    "fit_pattern_speed",
    "RESONANCES",
    "resonance_line",
    "resonance_lines",
]
