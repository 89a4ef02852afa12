"""Natural units of the dynamics module (galpy's convention) and conversions to physical units.

Inside ``jaxstro.dynamics`` everything is in natural units with G = 1, length unit ``RO`` = 8 kpc
and velocity unit ``VO`` = 220 km/s (the scaling of MWPotential2014, Bovy 2015). Derived units use
the astropy constants (G = 4.30091727e-3 pc/Msun (km/s)^2, 1 km/s = 1.0227121650 pc/Myr), so that
numbers agree with galpy to machine precision. astropy ``Quantity`` objects appear only here.
"""

from __future__ import annotations

import numpy as np

RO_KPC = 8.0
VO_KMS = 220.0
_KMS_TO_KPC_PER_GYR = 1.0227121650456952  # 1 km/s in kpc/Gyr (= pc/Myr)
_G_PC_MSUN_KMS2 = 4.30091727003628e-3

TIME_GYR = RO_KPC / VO_KMS / _KMS_TO_KPC_PER_GYR  # 0.0355560807883923 Gyr
FREQ_KMS_KPC = VO_KMS / RO_KPC  # 27.5 km/s/kpc
ACTION_KPC_KMS = RO_KPC * VO_KMS  # 1760 kpc km/s
ENERGY_KMS2 = VO_KMS**2
MASS_MSUN = VO_KMS**2 * RO_KPC * 1e3 / _G_PC_MSUN_KMS2
DENS_MSUN_PC3 = VO_KMS**2 / _G_PC_MSUN_KMS2 / (RO_KPC * 1e3) ** 2


def _value(x, unit: str) -> np.ndarray | float:
    """Strip an astropy Quantity to ``unit`` (plain numbers are assumed to be in ``unit``)."""
    if hasattr(x, "unit"):
        return x.to_value(unit)
    return x


def length_to_natural(x) -> np.ndarray | float:
    """kpc (or a length Quantity) -> natural units (8 kpc)."""
    return np.asarray(_value(x, "kpc")) / RO_KPC


def velocity_to_natural(v) -> np.ndarray | float:
    """km/s (or a velocity Quantity) -> natural units (220 km/s)."""
    return np.asarray(_value(v, "km/s")) / VO_KMS


def frequency_to_natural(f) -> np.ndarray | float:
    """km/s/kpc (or a frequency Quantity) -> natural units (27.5 km/s/kpc)."""
    if hasattr(f, "unit"):
        f = f.to_value("km/(s kpc)")
    return np.asarray(f) / FREQ_KMS_KPC


def time_to_natural(t) -> np.ndarray | float:
    """Gyr (or a time Quantity) -> natural units (R0/v0 = 0.03556 Gyr)."""
    return np.asarray(_value(t, "Gyr")) / TIME_GYR


def to_physical(x, kind: str):
    """Natural-unit values -> astropy Quantity of ``kind`` in
    {'length', 'velocity', 'time', 'frequency', 'action', 'energy', 'mass', 'density'}."""
    import astropy.units as u

    table = {
        "length": (RO_KPC, u.kpc),
        "velocity": (VO_KMS, u.km / u.s),
        "time": (TIME_GYR, u.Gyr),
        "frequency": (FREQ_KMS_KPC, u.km / u.s / u.kpc),
        "action": (ACTION_KPC_KMS, u.kpc * u.km / u.s),
        "energy": (ENERGY_KMS2, (u.km / u.s) ** 2),
        "mass": (MASS_MSUN, u.Msun),
        "density": (DENS_MSUN_PC3, u.Msun / u.pc**3),
    }
    if kind not in table:
        raise ValueError(f"to_physical: unknown kind {kind!r}; choose from {sorted(table)}")
    scale, unit = table[kind]
    return np.asarray(x) * scale * unit
