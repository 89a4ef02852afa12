"""galpy reference objects used by the dynamics tests (galpy is a test-only dependency)."""

from __future__ import annotations

import numpy as np

OMEGAB_39 = 39.0 / 27.5


def galpy_bar(omegab=OMEGAB_39, alpha2=0.01, alpha4=-0.0005, barphi=np.deg2rad(25.0), m4=True):
    """galpy's Dehnen bar (+ optional planar m = 4 term) and its R_b, as in galpy_definitions.md."""
    from galpy.potential import (
        CosmphiDiskPotential,
        DehnenBarPotential,
        DehnenSmoothWrapperPotential,
        MWPotential2014,
        SolidBodyRotationWrapperPotential,
        lindbladR,
    )

    rcr = lindbladR(MWPotential2014, omegab, m="corotation")
    rb = 0.8 * rcr
    bar = DehnenBarPotential(
        omegab=omegab, rb=rb, Af=alpha2 / 3.0 / rb**3, barphi=barphi, tform=-4.0, tsteady=2.0
    )
    if not m4:
        return bar, rb, None
    tb = 2 * np.pi / omegab
    t_form, t_steady = -4 * tb, -2 * tb
    cp4 = CosmphiDiskPotential(amp=1.0, m=4, p=-3.0, rb=rb, r1=1.0, phib=barphi, phio=-alpha4 / 3.0)
    m4pot = SolidBodyRotationWrapperPotential(
        pot=DehnenSmoothWrapperPotential(pot=cp4, tform=t_form, tsteady=t_steady - t_form),
        omega=omegab,
        pa=0.0,
    )
    return bar, rb, m4pot
