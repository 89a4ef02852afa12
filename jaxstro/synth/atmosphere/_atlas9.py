"""Reader for Kurucz ATLAS9 text model atmospheres (Kurucz 1993, CD-ROM 13; Castelli & Kurucz
2003 use the same format) and for the staged 2 km/s sub-grid files.

A model block is ``TEFF ... GRAVITY ...``, ``TITLE``, ``OPACITY``, ``CONVECTION``, ``ABUNDANCE SCALE
s ABUNDANCE CHANGE 1 x_H 2 x_He`` (number fractions of all nuclei), ``ABUNDANCE CHANGE Z
log10(N_Z/N_tot) ...`` for Z >= 3 (solar values; multiplied by the scale s = 10^[M/H]), ``READ DECK6
n RHOX,T,P,XNE,ABROSS,ACCRAD,VTURB[,...]`` and n layer rows (column mass [g cm^-2], T [K], gas
pressure [dyn cm^-2], electron density [cm^-3], Rosseland mean opacity [cm^2 g^-1], ...).

The model has no optical-depth column. This module derives, per model:

* **Rosseland optical depth** ``tau_Ross = int ABROSS dRHOX`` with ATLAS's own conventions: the
  opacity is constant above the top layer, ``tau_1 = ABROSS_1 * RHOX_1``, and the trapezoid rule in
  RHOX between layers. Checked in the tests: this reproduces the standard ATLAS9 depth grid
  (log tau_Ross = -6.875 ... +2.0 in steps of 0.125) to 1e-4 dex in the top layers and to better
  than 0.03 dex everywhere in the 966 grid models (the largest differences are in the convective
  layers where ABROSS changes steeply).
* **Height** ``z = -int dRHOX / rho`` (same quadrature), with zero at tau_Ross = 1, and the mass
  density approximated as ``rho = (n - n_e) * <m>`` where n = P/kT, n_e = XNE and <m> is the mean
  mass per nucleus of the model's composition: every non-electron particle is counted as one
  nucleus, i.e. molecules are neglected (tested on MARCS, whose tables give rho: 0.8 % low at
  all depths of the solar model; worse where H2 is abundant, in the coolest top layers of M
  giants).

``reference_wavelength`` is ``None`` (tau_ref is tau_Rosseland); ATLAS9 models are plane-parallel.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np

from jaxstro.synth._elements import MASSES_AMU, N_ELEMENTS

from ._model import (
    AMU,
    K_BOLTZMANN,
    Atmosphere,
    check_layers,
    cumulative_trapezoid_log,
    make_atmosphere,
)

_FLOAT = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[EeDd][-+]?\d+)?")


def _floats(s: str) -> list[float]:
    return [float(v.replace("D", "E")) for v in _FLOAT.findall(s)]


@dataclasses.dataclass(frozen=True)
class Atlas9Model:
    """One parsed ATLAS9 model: header values, the layer columns and the derived Atmosphere.

    ``abundances`` is A(X) (log10(n_X/n_H) + 12, length 92) including the abundance scale;
    ``number_fractions`` are n_X / n_nuclei as the file states them (scaled).
    """

    teff: float
    logg: float
    title: str
    abundance_scale: float
    m_h: float
    number_fractions: np.ndarray
    abundances: np.ndarray
    rhox: np.ndarray
    temperature: np.ndarray
    pressure: np.ndarray
    xne: np.ndarray
    abross: np.ndarray
    accrad: np.ndarray
    vturb: np.ndarray
    tau_ross: np.ndarray
    density: np.ndarray
    z: np.ndarray
    number_density: np.ndarray

    @property
    def atmosphere(self) -> Atmosphere:
        """The :class:`Atmosphere` (tau_ref = tau_Ross, plane-parallel)."""
        return make_atmosphere(
            self.tau_ross,
            self.z,
            self.temperature,
            self.xne,
            self.number_density,
            radius=1.0,
            spherical=False,
            reference_wavelength=None,
        )


def parse_atlas9_block(lines: list[str], where: str = "ATLAS9 model") -> Atlas9Model:
    """Parse the lines of one ATLAS9 model block (``TEFF`` line through the layer rows)."""
    lines = [ln.rstrip("\n") for ln in lines]
    try:
        i_t = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("TEFF"))
    except StopIteration:
        raise ValueError(f"{where}: no 'TEFF ... GRAVITY ...' line") from None
    head = lines[i_t]
    m = re.search(r"TEFF\s+([-+\d.Ee]+)\s+GRAVITY\s+([-+\d.Ee]+)", head)
    if not m:
        raise ValueError(f"{where}: cannot parse Teff/logg from {head!r}")
    teff, logg = float(m.group(1)), float(m.group(2))
    title = next((ln.strip() for ln in lines if ln.lstrip().startswith("TITLE")), "")

    frac = np.full(N_ELEMENTS + 7, np.nan)  # ATLAS lists Z up to 99
    scale = None
    i_deck = None
    for i, ln in enumerate(lines[i_t:], start=i_t):
        s = ln.strip()
        if s.startswith("ABUNDANCE SCALE"):
            vals = _floats(s.split("ABUNDANCE CHANGE")[0])
            if len(vals) != 1:
                raise ValueError(f"{where}: malformed ABUNDANCE SCALE line {ln!r}")
            scale = vals[0]
        if "ABUNDANCE CHANGE" in s:
            vals = _floats(s.split("ABUNDANCE CHANGE", 1)[1])
            if len(vals) % 2:
                raise ValueError(f"{where}: odd number of values in {ln!r}")
            for z, v in zip(vals[::2], vals[1::2], strict=True):
                iz = int(round(z))
                if not 1 <= iz <= 99:
                    raise ValueError(f"{where}: atomic number {iz} in {ln!r}")
                frac[iz - 1] = v
        if s.startswith("READ DECK6"):
            i_deck = i
            break
    if scale is None or i_deck is None:
        raise ValueError(f"{where}: missing 'ABUNDANCE SCALE' or 'READ DECK6' line")
    if not (scale > 0 and np.isfinite(scale)):
        raise ValueError(f"{where}: abundance scale {scale} must be positive")
    frac = frac[:N_ELEMENTS]
    if np.isnan(frac).any():
        missing = np.flatnonzero(np.isnan(frac)) + 1
        raise ValueError(f"{where}: no abundance for Z = {missing.tolist()}")
    n_layers = int(_floats(lines[i_deck].split("DECK6", 1)[1])[0])
    body = lines[i_deck + 1 : i_deck + 1 + n_layers]
    if len(body) < n_layers:
        raise ValueError(f"{where}: only {len(body)} of {n_layers} layer rows present")
    try:  # fast path: whitespace-separated rows with the same number of fields
        toks = [ln.split() for ln in body]
        ncol = len(toks[0])
        if ncol < 7 or any(len(tk) != ncol for tk in toks):
            raise ValueError
        t = np.array(toks, dtype=np.float64)[:, :7]
    except ValueError:  # fused fields ("1.0E+01-2.0E+00") or ragged rows
        rows = []
        for j, ln in enumerate(body):
            vals = _floats(ln)
            if len(vals) < 7:
                raise ValueError(
                    f"{where}: layer {j + 1} row has {len(vals)} numbers: {ln!r}"
                ) from None
            rows.append(vals[:7])
        t = np.array(rows, dtype=np.float64)
    rhox, temp, pres, xne, abross, accrad, vturb = t.T

    # composition: H, He number fractions as given; metals log10(N/Ntot) scaled
    number_fractions = np.empty(N_ELEMENTS)
    number_fractions[:2] = frac[:2]
    number_fractions[2:] = 10.0 ** frac[2:] * scale
    if number_fractions[0] <= 0:
        raise ValueError(f"{where}: hydrogen fraction {number_fractions[0]} must be positive")
    abundances = np.log10(number_fractions / number_fractions[0]) + 12.0
    mean_mass = np.sum(number_fractions * MASSES_AMU) / np.sum(number_fractions) * AMU

    for name, arr in (("RHOX", rhox), ("T", temp), ("P", pres), ("XNE", xne), ("ABROSS", abross)):
        bad = ~(np.isfinite(arr) & (arr > 0))
        if bad.any():
            j = int(np.argmax(bad))
            raise ValueError(f"{where}: non-positive {name} = {arr[j]} in layer {j + 1}")
    if (np.diff(rhox) <= 0).any():
        j = int(np.argmax(np.diff(rhox) <= 0))
        raise ValueError(
            f"{where}: column mass RHOX not increasing (depth not monotonic) at layer {j + 2}"
        )

    tau = rosseland_optical_depth(abross, rhox)
    n_tot = pres / (K_BOLTZMANN * temp)
    n_nuc = n_tot - xne
    if (n_nuc <= 0).any():
        j = int(np.argmax(n_nuc <= 0))
        raise ValueError(f"{where}: electron density exceeds the particle density in layer {j + 1}")
    rho = n_nuc * mean_mass
    z = heights_from_column_mass(rhox, rho, tau)
    check_layers(
        tau_ref=tau, z=z, temperature=temp, electron_density=xne, number_density=n_tot, where=where
    )
    return Atlas9Model(
        teff=teff,
        logg=logg,
        title=title,
        abundance_scale=scale,
        m_h=float(np.log10(scale)),
        number_fractions=number_fractions,
        abundances=abundances,
        rhox=rhox,
        temperature=temp,
        pressure=pres,
        xne=xne,
        abross=abross,
        accrad=accrad,
        vturb=vturb,
        tau_ross=tau,
        density=rho,
        z=z,
        number_density=n_tot,
    )


def rosseland_optical_depth(kappa, column_mass) -> np.ndarray:
    """tau_Ross = int kappa dm on a column-mass grid: ``kappa_1 m_1`` above the top layer (constant
    opacity), trapezoid rule in m between layers (the ATLAS conventions)."""
    kappa = np.asarray(kappa, dtype=np.float64)
    m = np.asarray(column_mass, dtype=np.float64)
    steps = 0.5 * (kappa[1:] + kappa[:-1]) * np.diff(m)
    return kappa[0] * m[0] + np.concatenate([[0.0], np.cumsum(steps)])


def heights_from_column_mass(column_mass, rho, tau_ross) -> np.ndarray:
    """z = -int dm / rho [cm], shifted so that z = 0 at tau_Ross = 1 (interpolated in log tau)."""
    m = np.asarray(column_mass, dtype=np.float64)
    z = -cumulative_trapezoid_log(m / np.asarray(rho), m)
    z0 = np.interp(0.0, np.log10(tau_ross), z)
    return z - z0


def _split_blocks(lines: list[str]) -> list[list[str]]:
    starts = [i for i, ln in enumerate(lines) if ln.lstrip().startswith("TEFF")]
    return [lines[a:b] for a, b in zip(starts, starts[1:] + [len(lines)], strict=True)]


def read_atlas9_model(source: str | Path) -> Atlas9Model:
    """Parse one ATLAS9 model from a path, a registered data name or the block text itself."""
    text, where = _text_of(source)
    blocks = _split_blocks(text.splitlines())
    if not blocks:
        raise ValueError(f"{where}: no ATLAS9 model ('TEFF' line) found")
    if len(blocks) > 1:
        raise ValueError(
            f"{where}: holds {len(blocks)} models; use load_atlas9_grid / read_atlas9_models"
        )
    return parse_atlas9_block(blocks[0], where)


def read_atlas9(source: str | Path) -> Atmosphere:
    """Read one ATLAS9 model (path, registered name such as ``"atlas9_kurucz_sun"``, or the text
    of one model block) as an :class:`Atmosphere` (tau_ref = tau_Ross, reference_wavelength None,
    plane-parallel). See the module docstring for the derived tau and z."""
    return read_atlas9_model(source).atmosphere


def read_atlas9_models(source: str | Path) -> list[Atlas9Model]:
    """All model blocks of a multi-model ATLAS9 file (e.g. a grid file), in file order."""
    text, where = _text_of(source)
    return [
        parse_atlas9_block(b, f"{where} (model {i + 1})")
        for i, b in enumerate(_split_blocks(text.splitlines()))
    ]


def _text_of(source: str | Path) -> tuple[str, str]:
    s = str(source)
    if "\n" in s and "TEFF" in s:
        return s, "ATLAS9 model text"
    from ._model import resolve_path

    p = resolve_path(source)
    return p.read_text(encoding="ascii", errors="replace"), str(p)
