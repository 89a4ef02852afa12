"""Reader for MARCS ``.mod`` model atmospheres (Gustafsson et al. 2008, A&A 486, 951).

File layout (text): a header (model name, Teff, flux, surface gravity, microturbulence, mass,
[Fe/H] [alpha/Fe], radius at tau_Ross = 1 (1 cm for plane-parallel models), luminosity, convection
parameters, X Y Z), the 92 logarithmic number abundances (H = 12, -99 = absent), the number of depth
points, then three tables of that many rows:

1. ``k lgTauR lgTau5 Depth T Pe Pg Prad Pturb`` (Depth [cm] positive inward, zero at tau_Ross=1)
2. ``k lgTauR KappaRoss Density Mu Vconv Fconv/F RHOX``
3. ``Assorted logarithmic partial pressures`` (``k lgPgas H I H- H2 H2+ H2O OH CH CO CN C2 ...``)

The :class:`~jaxstro.synth.atmosphere.Atmosphere` uses tau_ref = 10**lgTau5 (reference wavelength
5000 Å), z = -Depth, n_e = Pe/kT and n = Pg/kT.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np

from ._model import K_BOLTZMANN, Atmosphere, make_atmosphere, resolve_path

_FLOAT = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[EeDd][-+]?\d+)?")

#: MARCS partial-pressure column labels -> species names in the synth naming (contract).
MARCS_SPECIES = {
    "H I": "H I",
    "H-": "H-",
    "H2": "HH",
    "H2+": "HH+",
    "H2O": "HHO",
    "OH": "HO",
    "CH": "HC",
    "CO": "CO",
    "CN": "CN",
    "C2": "CC",
    "N2": "NN",
    "O2": "OO",
    "NO": "NO",
    "NH": "HN",
    "TiO": "OTi",
}


def _floats(line: str) -> list[float]:
    return [float(s.replace("D", "E").replace("d", "e")) for s in _FLOAT.findall(line)]


@dataclasses.dataclass(frozen=True)
class MarcsModel:
    """Everything in a MARCS ``.mod`` file (numpy float64 arrays, one value per layer).

    ``atmosphere`` is the :class:`Atmosphere`; ``abundances`` is the model's own A(X) vector (92,),
    with -99 for absent elements as in the file; ``partial_pressures`` maps the file's column
    labels (``"lgPgas"``, ``"H I"``, ``"H-"``, ``"H2"``, ...) to log10 pressures [dyn cm^-2].
    """

    name: str
    teff: float
    flux: float
    logg: float
    vmic: float
    mass: float
    m_h: float
    alpha_m: float
    radius: float
    luminosity: float
    x: float
    y: float
    z_metals: float
    abundances: np.ndarray
    lg_tau_ross: np.ndarray
    lg_tau_5000: np.ndarray
    depth: np.ndarray
    temperature: np.ndarray
    pe: np.ndarray
    pg: np.ndarray
    prad: np.ndarray
    pturb: np.ndarray
    kappa_ross: np.ndarray
    density: np.ndarray
    mu: np.ndarray
    vconv: np.ndarray
    fconv_frac: np.ndarray
    rhox: np.ndarray
    partial_pressures: dict[str, np.ndarray]
    atmosphere: Atmosphere

    @property
    def spherical(self) -> bool:
        return self.atmosphere.spherical


def _table(lines: list[str], start: int, n: int, ncol: int, what: str, path: Path) -> np.ndarray:
    rows = []
    for i in range(start, start + n):
        if i >= len(lines):
            raise ValueError(f"{path}: file ends inside the {what} table (row {i - start + 1})")
        vals = _floats(lines[i])
        if len(vals) < ncol:
            raise ValueError(
                f"{path}: {what} table row {i - start + 1} (line {i + 1}) has {len(vals)} numbers, "
                f"expected {ncol}: {lines[i]!r}"
            )
        rows.append(vals[:ncol])
    return np.array(rows, dtype=np.float64)


def read_marcs_model(path: str | Path) -> MarcsModel:
    """Parse a MARCS ``.mod`` file (path or registered data name) into a :class:`MarcsModel`.

    Raises ValueError for malformed files and for unphysical structure (non-monotonic depth,
    non-positive T or pressures).
    """
    path = resolve_path(path)
    lines = path.read_text(encoding="ascii", errors="replace").splitlines()
    if len(lines) < 30:
        raise ValueError(f"{path}: too short to be a MARCS .mod file ({len(lines)} lines)")
    head = lines[:30]

    def first(key):
        for line in head:
            if key in line:
                vals = _floats(line[: line.index(key)])
                if vals:
                    return vals
        raise ValueError(f"{path}: MARCS header line containing {key!r} not found")

    teff = first("Teff")[0]
    flux = first("Flux")[0]
    gravity = first("Surface gravity")[0]
    vmic = first("Microturbulence")[0]
    mass = 0.0
    for line in head:
        if "Mass" in line and "Msun" in line:
            mass = _floats(line[: line.index("Mass")])[0]
    m_h, alpha_m = first("Metallicity")[:2]
    radius_line = [line for line in head if "radius" in line.lower() and "Luminosity" not in line]
    if not radius_line:
        raise ValueError(f"{path}: MARCS header has no radius line")
    radius = _floats(radius_line[0].split("cm")[0].split("Radius")[0])[0]
    luminosity = first("Luminosity")[0]
    xyz = first("are X, Y and Z")[:3]

    try:
        i_ab = next(i for i, line in enumerate(lines) if "chemical number abundances" in line)
        i_nd = next(i for i, line in enumerate(lines) if "Number of depth points" in line)
    except StopIteration:
        raise ValueError(f"{path}: abundance block or 'Number of depth points' not found") from None
    abund = []
    for line in lines[i_ab + 1 : i_nd]:
        abund.extend(_floats(line))
    if len(abund) != 92:
        raise ValueError(f"{path}: expected 92 abundances, found {len(abund)}")
    n = int(_floats(lines[i_nd])[0])

    def find_header(prefix_words, after):
        for i in range(after, len(lines)):
            toks = lines[i].split()
            if toks[: len(prefix_words)] == prefix_words:
                return i
        return None

    i1 = find_header(["k", "lgTauR", "lgTau5"], i_nd)
    if i1 is None:
        raise ValueError(f"{path}: structure table header 'k lgTauR lgTau5 ...' not found")
    t1 = _table(lines, i1 + 1, n, 9, "structure", path)
    i2 = find_header(["k", "lgTauR", "KappaRoss"], i1 + n)
    if i2 is None:
        raise ValueError(f"{path}: table 'k lgTauR KappaRoss ...' not found")
    t2 = _table(lines, i2 + 1, n, 8, "opacity/density", path)

    partial: dict[str, np.ndarray] = {}
    ip = next((i for i, line in enumerate(lines) if "partial pressures" in line), None)
    if ip is not None and ip + 1 < len(lines):
        labels = _partial_labels(lines[ip + 1])
        tp = _table(lines, ip + 2, n, len(labels) + 1, "partial pressure", path)
        for j, lab in enumerate(labels):
            partial[lab] = tp[:, j + 1]

    k = t1[:, 0]
    if not np.array_equal(k, np.arange(1, n + 1)):
        raise ValueError(f"{path}: structure table layer numbers are not 1..{n}")
    lg_tau5 = t1[:, 2]
    depth, temp, pe, pg = t1[:, 3], t1[:, 4], t1[:, 5], t1[:, 6]
    for name, arr in (("T", temp), ("Pe", pe), ("Pg", pg)):
        if (arr <= 0).any() or not np.isfinite(arr).all():
            j = int(np.argmax((arr <= 0) | ~np.isfinite(arr)))
            raise ValueError(f"{path}: non-positive {name} = {arr[j]} in layer {j + 1}")
    spherical = radius > 1.0 + 1e-6
    atm = make_atmosphere(
        10.0**lg_tau5,
        -depth,
        temp,
        pe / (K_BOLTZMANN * temp),
        pg / (K_BOLTZMANN * temp),
        radius=radius,
        spherical=spherical,
        reference_wavelength=5000.0,
        where=str(path),
    )
    return MarcsModel(
        name=lines[0].strip(),
        teff=teff,
        flux=flux,
        logg=float(np.log10(gravity)),
        vmic=vmic,
        mass=mass,
        m_h=m_h,
        alpha_m=alpha_m,
        radius=radius,
        luminosity=luminosity,
        x=xyz[0],
        y=xyz[1],
        z_metals=xyz[2],
        abundances=np.array(abund, dtype=np.float64),
        lg_tau_ross=t1[:, 1],
        lg_tau_5000=lg_tau5,
        depth=depth,
        temperature=temp,
        pe=pe,
        pg=pg,
        prad=t1[:, 7],
        pturb=t1[:, 8],
        kappa_ross=t2[:, 2],
        density=t2[:, 3],
        mu=t2[:, 4],
        vconv=t2[:, 5],
        fconv_frac=t2[:, 6],
        rhox=t2[:, 7],
        partial_pressures=partial,
        atmosphere=atm,
    )


def _partial_labels(header: str) -> list[str]:
    """Column labels of the partial-pressure table (``H I`` is two tokens in the file)."""
    toks = header.split()
    if not toks or toks[0] != "k":
        raise ValueError(f"unexpected partial-pressure header {header!r}")
    out = []
    i = 1
    while i < len(toks):
        t = toks[i]
        if t == "H" and i + 1 < len(toks) and toks[i + 1] == "I":
            out.append("H I")
            i += 2
            continue
        out.append(t)
        i += 1
    return out


def read_marcs(path: str | Path) -> Atmosphere:
    """Read a MARCS ``.mod`` file (path or registered data name, e.g. ``"marcs_sun"``).

    Plane-parallel models (radius 1 cm) give ``spherical=False``; spherical models keep the
    header radius [cm] at tau_Ross = 1. tau_ref is tau_5000 (``reference_wavelength=5000.0``),
    z = -Depth [cm], n_e = Pe/kT and n = Pg/kT [cm^-3].
    """
    return read_marcs_model(path).atmosphere


def read_marcs_abundances(path: str | Path) -> np.ndarray:
    """The model's own A(X) vector (92,), H = 12, -99 for absent elements (as in the file)."""
    return read_marcs_model(path).abundances


def read_marcs_partial_pressures(
    path: str | Path, *, species_names: bool = True
) -> dict[str, np.ndarray]:
    """Partial pressures [dyn cm^-2] listed by a MARCS model, one value per layer.

    Keys are the synth species names (``"H I"``, ``"H-"``, ``"HH"`` for H2, ``"HH+"``, ``"HHO"``,
    ``"HO"`` for OH, ``"HC"`` for CH, ``"CO"``, ``"CN"``, ``"CC"`` for C2; ``"Pgas"`` for the gas
    pressure) when ``species_names`` is true, else the file's column labels. Values are
    ``10**`` the file's logarithms. Useful to validate chemical equilibrium against MARCS.
    """
    model = read_marcs_model(path)
    if not model.partial_pressures:
        raise ValueError(f"{path}: no 'Assorted logarithmic partial pressures' table")
    out = {}
    for label, logp in model.partial_pressures.items():
        if label == "lgPgas":
            key = "Pgas"
        elif species_names:
            key = MARCS_SPECIES.get(label, label)
        else:
            key = label
        out[key] = 10.0**logp
    return out
