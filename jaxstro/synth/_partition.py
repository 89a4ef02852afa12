"""Loading and tabulating the data of statistical mechanics (private; see ``statmech.py``).

Everything here runs once, in numpy, at load time. It turns the staged tables into piecewise-cubic
coefficient arrays on *uniform* grids in ln T, which :mod:`jaxstro.synth.statmech` evaluates
inside ``jit`` (differentiable in T):

- atomic partition functions U(T) of "X I/II/III" (Z = 1-92), Korg's NIST-level table on its
  natural-log T grid (1 K - 1e5 K), natural cubic spline in ln T;
- diatomic log10 K_p(T) (Barklem & Collet 2016, as re-expressed in cgs by Korg, with the C2
  dissociation-energy correction), cubic spline in ln T over the tabulated 100 K - 1e4 K knots,
  continued linearly in ln T above 1e4 K;
- polyatomic log10 K_p(T) from ExoMol partition functions (nuclear-spin degeneracy divided out)
  and NIST atomization energies, via the Saha equation for molecules;
- diatomic/polyatomic partition functions (for line opacity).

All molecular quantities are resampled onto one uniform ln T grid (``MOL_LNT_GRID``) so that the
runtime evaluation is the same cheap gather + Horner step for every table.
"""

from __future__ import annotations

import re

import h5py
import numpy as np
from scipy.interpolate import CubicSpline

from jaxstro.data import locate
from jaxstro.synth._elements import ATOMIC_NUMBER, MASSES_AMU, SYMBOLS

# physical constants (cgs; CODATA 2018 exact where defined)
KBOLTZ_CGS = 1.380649e-16  # erg / K
KBOLTZ_EV = 8.617333262e-5  # eV / K
HPLANCK_CGS = 6.62607015e-27  # erg s
ELECTRON_MASS_CGS = 9.1093837015e-28  # g
AMU_CGS = 1.66053906660e-24  # g
KJ_PER_MOL_TO_EV = 1.0 / 96.48533212  # 1 eV per particle = 96.485 kJ/mol

ROMAN = ("I", "II", "III")

# uniform ln T grid of all molecular tables: 100 K ... 1e5 K
MOL_LNT_MIN = np.log(100.0)
MOL_LNT_STEP = 0.01
MOL_N_GRID = int(np.ceil((np.log(1e5) - MOL_LNT_MIN) / MOL_LNT_STEP)) + 1
MOL_LNT_GRID = MOL_LNT_MIN + MOL_LNT_STEP * np.arange(MOL_N_GRID)

# C2: Barklem & Collet adopt D0 = 6.371 eV; Visser et al. (2019) measured 6.24 eV, as recommended
# by Aquilina et al. (2024). K_p = p_C p_C / p_C2 ~ exp(-D0/kT), so the smaller D0 raises K_p.
C2_D0_BC_EV = 6.371
C2_D0_VISSER_EV = 6.24

# HCN: the registry's atomization_energies.csv lists 1204.0 kJ/mol for HCN, which is the value of
# its isomer HNC: HCN lies 5212 +- 30 cm^-1 = 62.35 kJ/mol below HNC (ATcT; Nguyen et al. 2015,
# J. Phys. Chem. A 119, 10929), and the NIST-JANAF 0 K heats of formation (H 216.035, C 711.185,
# N 470.82, HCN 135.5 kJ/mol) give 1262.5 kJ/mol. We adopt 1204.0 + 62.35 = 1266.35 kJ/mol.
# With it n(HCN) rises by 0.38-0.80 dex (8600-4000 K) and matches the MARCS models to <= 0.21 dex.
D0_CORRECTIONS_KJ_PER_MOL = {"HCN": 1266.35}


def cubic_coefficients(y: np.ndarray, step: float) -> np.ndarray:
    """Natural-cubic-spline coefficients on a uniform grid.

    ``y``: (..., n) samples. Returns (..., n - 1, 4) with p(t) = c0 + c1 t + c2 t^2 + c3 t^3 for
    t = x - x_i in interval i.
    """
    y = np.asarray(y, dtype=np.float64)
    x = step * np.arange(y.shape[-1])
    cs = CubicSpline(x, np.moveaxis(y, -1, 0), bc_type="natural", axis=0)
    c = cs.c  # (4, n-1, ...), highest degree first
    c = np.moveaxis(c[::-1], 0, -1)  # (n-1, ..., 4), lowest degree first
    return np.moveaxis(c, 0, -2)  # (..., n-1, 4)


def parse_species(name: str) -> tuple[tuple[int, ...], int]:
    """Korg-notation species -> (sorted atomic numbers of the constituents, charge).

    "Fe II" -> ((26,), 1); "CO" -> ((6, 8), 0); "HH+" -> ((1, 1), 1); "HHO" -> ((1, 1, 8), 0).
    """
    name = name.strip()
    parts = name.split()
    if len(parts) == 2 and parts[1] in ROMAN:
        if parts[0] not in ATOMIC_NUMBER:
            raise ValueError(f"unknown element {parts[0]!r} in species {name!r}")
        return (ATOMIC_NUMBER[parts[0]],), ROMAN.index(parts[1])
    charge = name.count("+")
    body = name.replace("+", "")
    syms = re.findall(r"[A-Z][a-z]?", body)
    if "".join(syms) != body or not syms or any(s not in ATOMIC_NUMBER for s in syms):
        raise ValueError(f"cannot parse species {name!r} (use e.g. 'Fe I', 'CO', 'HHO', 'HH+')")
    return tuple(sorted(ATOMIC_NUMBER[s] for s in syms)), charge


def formula_to_korg(formula: str) -> str:
    """Chemical formula as in the B&C tables ("H2", "TiO", "C2+", "CH-") -> Korg notation."""
    charge = ""
    if formula.endswith("+") or formula.endswith("-"):
        charge = formula[-1]
        formula = formula[:-1]
    zs = []
    for sym, count in re.findall(r"([A-Z][a-z]?)(\d*)", formula):
        zs += [ATOMIC_NUMBER[sym]] * (int(count) if count else 1)
    return "".join(SYMBOLS[z - 1] for z in sorted(zs)) + charge


# ------------------------------------------------------------------------------------------------
# atoms
def load_atomic_tables() -> dict:
    """Atomic partition functions and ionization energies.

    Returns dict with ``lnT_min``, ``lnT_step`` (floats), ``coeffs`` (3, 92, n-1, 4) spline
    coefficients of U(T) vs ln T (stage I, II, III; bare nuclei and missing stages U = 1),
    ``chi`` (92, 3) ionization energies [eV] of I->II, II->III, III->IV (NaN: does not exist).
    """
    with h5py.File(locate("atomic_partition_functions"), "r") as f:
        lnT_min = float(f["logT_min"][()])
        lnT_step = float(f["logT_step"][()])
        n = int(round((float(f["logT_max"][()]) - lnT_min) / lnT_step)) + 1
        tab = np.ones((3, 92, n))
        for z, sym in enumerate(SYMBOLS):
            for s in range(3):
                key = f"{sym} {ROMAN[s]}"
                if key in f:
                    u = np.asarray(f[key][()], dtype=np.float64)
                    if u.shape != (n,):
                        raise ValueError(f"partition function {key!r} has shape {u.shape}, not {n}")
                    tab[s, z] = u
    chi = np.full((92, 3), np.nan)
    path = locate("ionization_energies")
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cols = line.split()
        z = int(cols[0])
        vals = np.array([float(c) for c in cols[2:5]])
        chi[z - 1] = np.where(vals < 0, np.nan, vals)
    if np.isnan(chi[:, 0]).any():
        raise ValueError(f"{path}: first ionization energy missing for some element")
    return {
        "lnT_min": lnT_min,
        "lnT_step": lnT_step,
        "coeffs": cubic_coefficients(tab, lnT_step),
        "table": tab,
        "chi": chi,
    }


def _atomic_U_on(lnT: np.ndarray, atomic: dict, z: int, stage: int = 0) -> np.ndarray:
    """U of one atomic species on a ln T grid (numpy, load-time use only)."""
    x = atomic["lnT_min"] + atomic["lnT_step"] * np.arange(atomic["table"].shape[-1])
    return CubicSpline(x, atomic["table"][stage, z - 1], bc_type="natural")(lnT)


# ------------------------------------------------------------------------------------------------
# molecules
def _barklem_collet_logK() -> tuple[list[str], np.ndarray]:
    """Diatomic log10 K_p [cgs] on ``MOL_LNT_GRID``; (names, (n_mol, n_grid))."""
    with h5py.File(locate("barklem_collet_ks"), "r") as f:
        names = [m.decode() if isinstance(m, bytes) else str(m) for m in f["mols"][()]]
        lnTs = np.asarray(f["lnTs"][()], dtype=np.float64)
        logKs = np.asarray(f["logKs"][()], dtype=np.float64)
    if lnTs.shape != (lnTs.shape[0], len(names)) or logKs.shape != lnTs.shape:
        raise ValueError("barklem_collet_ks: lnTs/logKs/mols shapes disagree")
    out = np.empty((len(names), MOL_N_GRID))
    for j, name in enumerate(names):
        ok = np.isfinite(lnTs[:, j]) & np.isfinite(logKs[:, j]) & (lnTs[:, j] >= np.log(99.0))
        x, y = lnTs[ok, j], logKs[ok, j]
        spline = CubicSpline(x, y, bc_type="natural")
        inside = MOL_LNT_GRID <= x[-1]
        out[j, inside] = spline(MOL_LNT_GRID[inside])
        slope = (y[-1] - y[-2]) / (x[-1] - x[-2])
        out[j, ~inside] = y[-1] + slope * (MOL_LNT_GRID[~inside] - x[-1])
        if name == "CC":
            kT = KBOLTZ_EV * np.exp(MOL_LNT_GRID)
            out[j] += np.log10(np.e) * (C2_D0_BC_EV - C2_D0_VISSER_EV) / kT
    return names, out


def _nuclear_spin_degeneracy() -> dict[int, float]:
    """2I + 1 of the most abundant stable isotope of each element (BNL wallet card)."""
    path = locate("nuclear_wallet_card")
    best: dict[int, tuple[float, float]] = {}
    for line in path.read_text().splitlines()[1:]:
        cols = [c.strip() for c in line.split("\t")]
        if len(cols) < 11 or not cols[4] or not cols[10].endswith("%"):
            continue
        try:
            z, energy, abund = int(cols[2]), float(cols[4]), float(cols[10].rstrip("%"))
        except ValueError:
            continue
        if energy != 0.0:
            continue
        m = re.search(r"(\d+)(?:/(\d+))?", cols[5])
        if m is None:
            continue
        spin = float(m.group(1)) / (float(m.group(2)) if m.group(2) else 1.0)
        if z not in best or abund > best[z][0]:
            best[z] = (abund, 2 * spin + 1)
    return {z: g for z, (_, g) in best.items()}


def _power_law_extend(T: np.ndarray, U: np.ndarray, Tq: np.ndarray) -> np.ndarray:
    """ln U interpolated linearly in T, continued as a power law (ln U linear in ln T) above."""
    lnU = np.interp(Tq, T, np.log(U))
    hi = Tq > T[-1]
    if hi.any():
        sel = T >= 0.9 * T[-1]
        slope = np.polyfit(np.log(T[sel]), np.log(U[sel]), 1)[0]
        lnU[hi] = np.log(U[-1]) + slope * (np.log(Tq[hi]) - np.log(T[-1]))
    return lnU


def _polyatomic(atomic: dict) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Polyatomic log10 K_p [cgs] and ln U on ``MOL_LNT_GRID`` (neutral species with a D0)."""
    d0 = {}
    path = locate("atomization_energies")
    for line in path.read_text().splitlines()[1:]:
        if line.strip():
            spec, energy = line.split(",")
            d0[spec.strip()] = float(energy) * KJ_PER_MOL_TO_EV
    for spec, energy in D0_CORRECTIONS_KJ_PER_MOL.items():
        d0[spec] = energy * KJ_PER_MOL_TO_EV
    spins = _nuclear_spin_degeneracy()
    T = np.exp(MOL_LNT_GRID)
    kT_eV = KBOLTZ_EV * T
    names, logK, lnU_all = [], [], []
    with h5py.File(locate("polyatomic_partition_functions"), "r") as f:
        for name in sorted(f.keys()):
            if name not in d0:
                continue  # no atomization energy (the cations HHH+, HHHO+ and FFFP): skipped
            zs, charge = parse_species(name)
            if charge:
                continue
            Ttab = np.asarray(f[name]["temp"][()], dtype=np.float64)
            Utab = np.asarray(f[name]["partition_function"][()], dtype=np.float64)
            good = (Ttab > 0) & (Utab > 0)
            Ttab, Utab = Ttab[good], Utab[good]
            Utab = Utab / np.prod([spins[z] for z in zs])  # physics -> astrophysics convention
            lnU = _power_law_extend(Ttab, Utab, T)
            n = len(zs)
            masses = MASSES_AMU[np.array(zs) - 1] * AMU_CGS
            lnK_n = (
                sum(np.log(_atomic_U_on(MOL_LNT_GRID, atomic, z)) for z in zs)
                - lnU
                + 1.5 * (n - 1) * np.log(2 * np.pi * KBOLTZ_CGS * T / HPLANCK_CGS**2)
                + 1.5 * (np.sum(np.log(masses)) - np.log(np.sum(masses)))
                - d0[name] / kT_eV
            )
            lnK_p = lnK_n + (n - 1) * np.log(KBOLTZ_CGS * T)
            names.append(name)
            logK.append(lnK_p / np.log(10.0))
            lnU_all.append(lnU)
    return names, np.array(logK), np.array(lnU_all)


def _diatomic_lnU(names: list[str]) -> np.ndarray:
    """ln Q(T) of the B&C diatomics on ``MOL_LNT_GRID``, in the order of ``names``."""
    path = locate("barklem_collet_molecular_partition")
    temps, table = None, {}
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            if "T [K]" in line:
                temps = np.array([float(v) for v in line.split("]")[1].split()])
            continue
        cols = line.split()
        if cols:
            table[formula_to_korg(cols[0])] = np.array([float(v) for v in cols[1:]])
    if temps is None:
        raise ValueError(f"{path}: no temperature header line")
    out = np.zeros((len(names), MOL_N_GRID))
    sel = temps >= 99.0
    x = np.log(temps[sel])
    for j, name in enumerate(names):
        q = table.get(name)
        if q is None or np.any(q[sel] <= 0):
            out[j] = np.nan
            continue
        y = np.log(q[sel])
        inside = MOL_LNT_GRID <= x[-1]
        out[j, inside] = CubicSpline(x, y, bc_type="natural")(MOL_LNT_GRID[inside])
        slope = (y[-1] - y[-2]) / (x[-1] - x[-2])
        out[j, ~inside] = y[-1] + slope * (MOL_LNT_GRID[~inside] - x[-1])
    return out


def load_molecular_tables(atomic: dict) -> dict:
    """All molecules: names, composition, charge, and spline coefficients of log10 K_p, ln U.

    Returns dict with ``names`` (tuple), ``counts`` (n_mol, 92) int (atoms of each element),
    ``charge`` (n_mol,) int, ``ion_element`` (n_mol,) int Z-1 of the ionised constituent (the
    lower-Z atom, as in the re-referenced B&C cation constants) or -1, ``n_atoms`` (n_mol,),
    ``logK_coeffs`` and ``lnU_coeffs`` (n_mol, n_grid - 1, 4).
    """
    bc_names, bc_logK = _barklem_collet_logK()
    poly_names, poly_logK, poly_lnU = _polyatomic(atomic)
    names = bc_names + poly_names
    logK = np.concatenate([bc_logK, poly_logK])
    lnU = np.concatenate([_diatomic_lnU(bc_names), poly_lnU])
    counts = np.zeros((len(names), 92), dtype=np.int64)
    charge = np.zeros(len(names), dtype=np.int64)
    ion_element = np.full(len(names), -1, dtype=np.int64)
    for j, name in enumerate(names):
        zs, q = parse_species(name)
        for z in zs:
            counts[j, z - 1] += 1
        charge[j] = q
        if q:
            ion_element[j] = zs[0] - 1
    if not np.all(np.isfinite(logK)):
        raise ValueError("non-finite molecular equilibrium constant after tabulation")
    has_U = np.all(np.isfinite(lnU), axis=1)
    lnU = np.where(has_U[:, None], lnU, 0.0)
    return {
        "names": tuple(names),
        "counts": counts,
        "charge": charge,
        "ion_element": ion_element,
        "n_atoms": counts.sum(axis=1),
        "logK_coeffs": cubic_coefficients(logK, MOL_LNT_STEP),
        "lnU_coeffs": cubic_coefficients(lnU, MOL_LNT_STEP),
        "has_U": has_U,
    }
