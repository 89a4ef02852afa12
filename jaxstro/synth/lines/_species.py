"""Species names and the numeric species codes of line-list formats.

Canonical names (shared with ``jaxstro.synth.statmech``): atoms ``"Fe I"``, ``"Fe II"``,
``"Fe III"``; molecules are their constituent symbols sorted by atomic number and concatenated
(``"CN"``, ``"HMg"`` for MgH, ``"CC"`` for C2, ``"OTi"`` for TiO, ``"HHO"`` for H2O), with ``"+"``
for a singly ionised molecule. Isotopes are kept separately as mass numbers.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np

from .._elements import ATOMIC_NUMBER, ROMAN, SYMBOLS

_ROMAN_TO_CHARGE = {r: i for i, r in enumerate(ROMAN)}


def atom_name(z: int, charge: int) -> str:
    if not 1 <= z <= 92 or not 0 <= charge <= 2:
        raise ValueError(f"no species Z={z}, charge={charge} (Z 1-92, charge 0-2)")
    return f"{SYMBOLS[z - 1]} {ROMAN[charge]}"


def molecule_name(zs: list[int] | tuple[int, ...], charge: int = 0) -> str:
    if charge not in (0, 1):
        raise ValueError(f"molecular charge {charge} not supported (0 or +1)")
    return "".join(SYMBOLS[z - 1] for z in sorted(zs)) + ("+" if charge else "")


def parse_formula(formula: str) -> list[int]:
    """Atomic numbers of a chemical formula like ``"TiO"``, ``"C2"``, ``"H2O"``, ``"(12)C(14)N"``.

    Isotope mass numbers must be in parentheses (VALD style); counts follow the symbol.
    """
    zs: list[int] = []
    body = re.sub(r"\(\d+\)", "", formula.strip())  # drop isotope labels
    for sym, count in re.findall(r"([A-Z][a-z]?)(\d*)", body):
        if sym not in ATOMIC_NUMBER:
            raise ValueError(f"unknown element {sym!r} in formula {formula!r}")
        zs += [ATOMIC_NUMBER[sym]] * (int(count) if count else 1)
    if not zs:
        raise ValueError(f"cannot parse formula {formula!r}")
    return zs


def species_from_name(name: str) -> str:
    """Canonical species from VALD/Korg names: ``"Fe 1"``, ``"Fe II"``, ``"CN 1"``, ``"TiO"``."""
    s = name.strip().strip("'").strip()
    m = re.fullmatch(r"([A-Za-z0-9()]+?)\s*(?:\s([0-9]+|I{1,3}|\+))?", s)
    if not m:
        raise ValueError(f"cannot parse species {name!r}")
    formula, stage = m.group(1), m.group(2)
    if stage is None:
        charge = 0
    elif stage.isdigit():
        charge = int(stage) - 1
    elif stage == "+":
        charge = 1
    else:
        charge = _ROMAN_TO_CHARGE[stage]
    zs = parse_formula(formula)
    if len(zs) == 1:
        return atom_name(zs[0], charge)
    return molecule_name(zs, charge)


def _split_code(code: str | float) -> tuple[int, str]:
    s = str(code).strip().strip("'").strip()
    ip, _, frac = s.partition(".")
    try:
        return int(ip), frac
    except ValueError:
        raise ValueError(f"malformed species code {code!r}") from None


def _molecule_zs(ip: int) -> list[int]:
    digits = str(ip)
    digits = digits if len(digits) % 2 == 0 else "0" + digits
    return [int(digits[i : i + 2]) for i in range(0, len(digits), 2)]


def _isotopes(digits: str, n: int, width: int) -> tuple[int, ...]:
    if len(digits) < n * width or not digits[: n * width].strip("0"):
        return ()
    return tuple(int(digits[width * i : width * (i + 1)]) for i in range(n))


def _sorted_isotopes(zs: list[int], isos: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(i for _, i in sorted(zip(zs, isos, strict=True))) if isos else ()


def species_from_kurucz_code(code: str | float) -> str:
    """Kurucz gfall code ``ZZ.cc``: ``26.00`` Fe I, ``56.01`` Ba II (the fraction is the charge)."""
    z, frac = _split_code(code)
    charge = int(frac.ljust(2, "0")[:2])
    if z <= 99:
        return atom_name(z, charge)
    return molecule_name(_molecule_zs(z), charge)


def species_from_moog_code(code: str | float) -> tuple[str, tuple[int, ...]]:
    """MOOG code: ``22.0`` Ti I, ``22.1`` Ti II, ``25.0055`` Mn I of isotope 55,
    ``606.01213`` 12C13C, ``112.00124`` 1H24Mg (charge digit, then 2-digit isotopes for molecules,
    3-digit for atoms)."""
    z, frac = _split_code(code)
    charge = int(frac[0]) if frac else 0
    rest = frac[1:]
    if z <= 99:
        return atom_name(z, charge), _isotopes(rest, 1, 3)
    zs = _molecule_zs(z)
    return molecule_name(zs, charge), _sorted_isotopes(zs, _isotopes(rest, len(zs), 2))


def species_from_turbospectrum_code(code: str, stage: int) -> tuple[str, tuple[int, ...]]:
    """Turbospectrum code and ionisation stage (1 = neutral): ``'26.000'`` Fe, ``'3.0060'``
    6Li, ``'0607.012014'`` 12C14N (3-digit isotopes after the point, 0 = natural mix)."""
    z, frac = _split_code(code)
    if z <= 99:
        return atom_name(z, stage - 1), _isotopes(frac, 1, 3)
    zs = _molecule_zs(z)
    return molecule_name(zs, stage - 1), _sorted_isotopes(zs, _isotopes(frac, len(zs), 3))


def constituents(species: str) -> tuple[list[int], int]:
    """(atomic numbers, charge) of a canonical species name."""
    if " " in species:
        sym, stage = species.split()
        return [ATOMIC_NUMBER[sym]], _ROMAN_TO_CHARGE[stage]
    charge = 1 if species.endswith("+") else 0
    return parse_formula(species.rstrip("+")), charge


@cache
def _isotope_table() -> dict[tuple[int, int], float]:
    """Natural isotopic fractions {(Z, A): fraction} from the BNL nuclear wallet cards."""
    from ...data import locate

    out: dict[tuple[int, int], float] = {}
    with open(locate("nuclear_wallet_card")) as fh:
        next(fh)
        for line in fh:
            cols = [c.strip() for c in line.split("\t")]
            # the abundance column is "68.077%"; a few rows misplace the "%" into the next column
            if len(cols) < 11 or not cols[10]:
                continue
            try:
                a, z, energy = int(cols[0]), int(cols[2]), float(cols[4])
                frac = float(cols[10].rstrip("%")) / 100.0
            except ValueError:
                continue
            if energy == 0.0:
                out[(z, a)] = frac
    return out


def isotopic_fraction(z: int, a: int) -> float:
    """Natural abundance fraction of isotope ``a`` of element ``z`` (BNL wallet cards)."""
    frac = _isotope_table().get((z, a))
    if frac is None:
        raise ValueError(f"no natural abundance for isotope A={a} of Z={z}")
    return frac


def log_isotopic_fraction(species: str, isotopes: tuple[int, ...]) -> float:
    """log10 of the product of the isotopic fractions of a line's isotopes (0 if none given)."""
    if not isotopes:
        return 0.0
    zs, _ = constituents(species)
    if len(zs) != len(isotopes):
        raise ValueError(f"{species}: {len(isotopes)} isotopes for {len(zs)} atoms")
    return float(np.sum([np.log10(isotopic_fraction(z, a)) for z, a in zip(zs, isotopes,
                                                                             strict=True)]))
