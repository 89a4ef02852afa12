"""Reader for PHOENIX-ACES model-atmosphere FITS files (Husser et al. 2013, A&A 553, A6).

HDU 0 keywords ``PHXTEFF``, ``PHXLOGG``, ``PHXM_H``, ``PHXALPHA``, ``PHXREFF`` (radius [cm]); HDU 1
``ATMOSPHERE`` columns ``tau``, ``temp`` [K], ``pgas`` [dyn cm^-2], ``rho`` [g cm^-3], ``pe``
[dyn cm^-2].

* ``tau`` is the optical depth at 5000 Å for Teff >= 5000 K and at 12 000 Å for cooler models
  (Husser et al. 2013, Sect. 2.2), stored in ``reference_wavelength``; the first layer (tau = 0)
  is dropped.
* The files give no heights. z follows from hydrostatic equilibrium of the gas pressure,
  ``dz = -dP_gas / (rho g)`` (trapezoid rule in ln P), zero at the layer where tau_ref = 1;
  radiation and turbulent pressure are neglected (an approximation, stated here).
* Returned as plane-parallel (``spherical=False``); ``radius`` holds ``PHXREFF``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._model import K_BOLTZMANN, Atmosphere, make_atmosphere, resolve_path


def read_phoenix(path: str | Path) -> Atmosphere:
    """Read a PHOENIX-ACES ``*.ATMOS.fits`` model (path or registered name, e.g.
    ``"phoenix_5500_4.50"``) as an :class:`Atmosphere` (see module docstring)."""
    from astropy.io import fits

    p = resolve_path(path)
    with fits.open(p) as hdul:
        hdr = hdul[0].header
        try:
            teff = float(hdr["PHXTEFF"])
            logg = float(hdr["PHXLOGG"])
        except KeyError as e:
            raise ValueError(f"{p}: not a PHOENIX atmosphere (missing {e})") from None
        radius = float(hdr.get("PHXREFF", 1.0))
        try:
            tab = hdul["ATMOSPHERE"].data
        except KeyError:
            raise ValueError(f"{p}: no ATMOSPHERE extension") from None
        cols = {c.lower(): np.asarray(tab[c], dtype=np.float64) for c in tab.columns.names}
    for need in ("tau", "temp", "pgas", "rho", "pe"):
        if need not in cols:
            raise ValueError(f"{p}: ATMOSPHERE table lacks column {need!r}")
    keep = cols["tau"] > 0
    tau, temp, pg, rho, pe = (cols[k][keep] for k in ("tau", "temp", "pgas", "rho", "pe"))
    if (temp <= 0).any() or (pg <= 0).any() or (rho <= 0).any() or (pe <= 0).any():
        raise ValueError(f"{p}: non-positive temperature, pressure or density")
    g = 10.0**logg
    lnp = np.log(pg)
    dz = -0.5 * (pg[1:] / rho[1:] + pg[:-1] / rho[:-1]) / g * np.diff(lnp)
    z = np.concatenate([[0.0], np.cumsum(dz)])
    z = z - np.interp(0.0, np.log10(tau), z)
    kt = K_BOLTZMANN * temp
    return make_atmosphere(
        tau,
        z,
        temp,
        pe / kt,
        pg / kt,
        radius=radius if radius > 0 else 1.0,
        spherical=False,
        reference_wavelength=5000.0 if teff >= 5000 else 12000.0,
        where=str(p),
    )
