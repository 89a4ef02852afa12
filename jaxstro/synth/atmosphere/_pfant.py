"""Reader for the binary MARCS grid of PFANT (``grid.mod``; Barbuy, Trevisan & de Almeida 2018,
PASA 35, e046; models from Gustafsson et al. 2008, A&A 486, 951).

Layout: little-endian fixed 1200-byte records (Fortran direct access), the last one an end flag
(int32 9999). Record: int32 ``ntot``; float32 ``teff``, ``logg``, ``m_h``, ``alpha_m``, ``nhe``
(He/H by number); char[20] title; char[20] blanks (64 bytes in all); then ``ntot`` x 5 float32:
``nh`` (column density of H nuclei [cm^-2]), ``teta = 5040/T``, ``pe``, ``pg`` [dyn cm^-2] and
log10 tau_Ross.

Derived quantities (the file has no heights and no radius):

* tau_ref = tau_Ross (``reference_wavelength=None``).
* Geometry: the grid models are spherical 1 M_sun MARCS models (PFANT README); the radius is not
  stored, so it is recomputed as ``R = sqrt(G M_sun / g)`` (the radius at tau_Ross = 1 where MARCS
  defines g; the MARCS headers agree with this to 0.3 %) and ``spherical=True``. The one solar
  model (5777/4.44) is plane-parallel, as in MARCS.
* column mass ``m = nh * sum_X (n_X/n_H) m_X`` with the MARCS standard composition (Grevesse,
  Asplund & Sauval 2007 scaled by [M/H], alpha elements by [alpha/M], He/H from the record),
* z = -int dm / rho, zero at tau_Ross = 1, with rho = (n - n_e) <m_nucleus> (molecules
  neglected, as for ATLAS9; checked against the MARCS solar model: the record 414 solar model
  reproduces the ``.mod`` file's Depth and RHOX).
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import numpy as np

from jaxstro.synth._elements import MASSES_AMU

from ._atlas9 import heights_from_column_mass
from ._model import (
    AMU,
    K_BOLTZMANN,
    Atmosphere,
    check_layers,
    make_atmosphere,
    radius_from_mass_logg,
    resolve_path,
)

RECORD_BYTES = 1200
_HEADER = np.dtype([("ntot", "<i4"), ("teff", "<f4"), ("logg", "<f4"), ("m_h", "<f4"),
                    ("alpha_m", "<f4"), ("nhe", "<f4")])  # fmt: skip


@dataclasses.dataclass(frozen=True)
class PfantModel:
    """One record of the PFANT grid (float64 copies of the float32 file values)."""

    record: int
    teff: float
    logg: float
    m_h: float
    alpha_m: float
    nhe: float
    title: str
    nh: np.ndarray
    temperature: np.ndarray
    pe: np.ndarray
    pg: np.ndarray
    log_tau_ross: np.ndarray
    column_mass: np.ndarray
    z: np.ndarray

    @property
    def spherical(self) -> bool:
        """All grid models are spherical 1 M_sun MARCS models except the solar one."""
        return not (self.teff == 5777.0 and self.logg > 4.0)

    @property
    def radius(self) -> float:
        """[cm] at tau_Ross = 1: sqrt(G M_sun / g) for the spherical models, 1 cm otherwise."""
        return float(radius_from_mass_logg(1.0, self.logg)) if self.spherical else 1.0

    @property
    def atmosphere(self) -> Atmosphere:
        kt = K_BOLTZMANN * self.temperature
        return make_atmosphere(
            10.0**self.log_tau_ross,
            self.z,
            self.temperature,
            self.pe / kt,
            self.pg / kt,
            radius=self.radius,
            spherical=self.spherical,
            reference_wavelength=None,
            where=f"PFANT grid record {self.record}",
        )


def _composition(m_h: float, alpha_m: float, nhe: float) -> tuple[float, float]:
    """(mass per H nucleus, mean mass per nucleus) [g] for the MARCS standard composition."""
    from jaxstro.synth._elements import SYMBOLS
    from jaxstro.synth.abundances import ALPHA_ELEMENTS, solar_abundances

    a = solar_abundances("grevesse2007")
    a[2:] += m_h
    for s in ALPHA_ELEMENTS:
        a[SYMBOLS.index(s)] += alpha_m
    rel = 10.0 ** (a - 12.0)
    rel[1] = nhe
    per_h = float(np.sum(rel * MASSES_AMU)) * AMU
    return per_h, per_h / float(np.sum(rel))


@functools.lru_cache(maxsize=4)
def _raw(path: str) -> np.ndarray:
    data = np.fromfile(path, dtype="u1")
    if data.size % RECORD_BYTES:
        raise ValueError(f"{path}: size {data.size} is not a multiple of {RECORD_BYTES} bytes")
    return data.reshape(-1, RECORD_BYTES)


def read_pfant_grid_models(path: str | Path = "marcs_pfant_grid") -> list[PfantModel]:
    """All models of a PFANT binary grid file (default: the registered ``marcs_pfant_grid``)."""
    p = resolve_path(path)
    recs = _raw(str(p))
    out = []
    for i, rec in enumerate(recs):
        ntot = int(np.frombuffer(rec[:4].tobytes(), "<i4")[0])
        if ntot == 9999:
            break
        out.append(_parse_record(rec, i, str(p)))
    else:
        raise ValueError(f"{p}: no end-of-grid record (int32 9999)")
    return out


def read_pfant_record(record: int, path: str | Path = "marcs_pfant_grid") -> PfantModel:
    """One model (0-based record number) of a PFANT binary grid file."""
    p = resolve_path(path)
    recs = _raw(str(p))
    if not 0 <= record < len(recs) - 1:
        raise ValueError(f"{p}: record {record} outside 0..{len(recs) - 2}")
    return _parse_record(recs[record], record, str(p))


def _parse_record(rec: np.ndarray, i: int, where: str) -> PfantModel:
    h = np.frombuffer(rec[:24].tobytes(), _HEADER)[0]
    ntot = int(h["ntot"])
    if not 2 <= ntot <= (RECORD_BYTES - 64) // 20:
        raise ValueError(f"{where}: record {i} has an invalid layer count {ntot}")
    title = rec[24:44].tobytes().replace(b"\x00", b" ").decode("ascii", "replace").strip()
    lay = np.frombuffer(rec[64 : 64 + 20 * ntot].tobytes(), "<f4").reshape(ntot, 5)
    lay = lay.astype(np.float64)
    nh, teta, pe, pg, logtau = lay.T
    if (teta <= 0).any() or (pe <= 0).any() or (pg <= 0).any() or (nh <= 0).any():
        raise ValueError(f"{where}: record {i} has non-positive T, pressures or column density")
    temp = 5040.0 / teta
    m_h, alpha_m, nhe = float(h["m_h"]), float(h["alpha_m"]), float(h["nhe"])
    per_h, per_nucleus = _composition(m_h, alpha_m, nhe)
    column_mass = nh * per_h
    kt = K_BOLTZMANN * temp
    rho = (pg - pe) / kt * per_nucleus
    tau = 10.0**logtau
    if (np.diff(column_mass) <= 0).any() or (np.diff(logtau) <= 0).any():
        raise ValueError(f"{where}: record {i}: depth scale not monotonic")
    z = heights_from_column_mass(column_mass, rho, tau)
    check_layers(
        tau_ref=tau, z=z, temperature=temp, electron_density=pe / kt, number_density=pg / kt,
        where=f"{where} record {i}",
    )  # fmt: skip
    return PfantModel(
        record=i,
        teff=float(h["teff"]),
        logg=float(h["logg"]),
        m_h=m_h,
        alpha_m=alpha_m,
        nhe=nhe,
        title=title,
        nh=nh,
        temperature=temp,
        pe=pe,
        pg=pg,
        log_tau_ross=logtau,
        column_mass=column_mass,
        z=z,
    )


__all__ = ["PfantModel", "read_pfant_grid_models", "read_pfant_record"]
