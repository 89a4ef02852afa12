"""Chemical abundances: solar mixtures, [X/H] <-> A(X), and abundance vectors for synthesis.

Conventions (stated once for the whole module)
-----------------------------------------------
* ``A(X) = log10(n_X / n_H) + 12`` (the astronomical "log epsilon" scale), so A(H) = 12 exactly.
* Abundance vectors are float64 arrays of length 92, index ``Z - 1`` for element Z = 1..92
  (the order of :data:`jaxstro.synth._elements.SYMBOLS`).
* ``[X/H] = A(X) - A_sun(X)``; ``[X/Fe] = [X/H] - [Fe/H]``.
* ``m_h`` ([M/H]) scales every element heavier than He; ``alpha_m`` ([alpha/M]) is added on top of
  ``m_h`` for the alpha elements :data:`ALPHA_ELEMENTS` (O, Ne, Mg, Si, S, Ar, Ca, Ti).
  He is not scaled with metallicity (as in MARCS, ATLAS and Korg).
* Elements for which a paper gives no photospheric value use its meteoritic (CI chondrite) value,
  as the papers themselves recommend; elements with neither (the short-lived radioactive
  elements Tc, Pm, Po, At, Rn, Fr, Ra, Ac, Pa) are given ``A = MISSING_ABUNDANCE = -5.0``: an
  abundance 10^17 times below hydrogen, negligible for every opacity and for the electron budget,
  but finite so that log-space chemistry never sees ``-inf``.

Solar mixtures (all typed from the published tables; the numbers carry over):

``"asplund2009"`` (default)
    Asplund, Grevesse, Sauval & Scott 2009, ARA&A 47, 481, Table 1 (photosphere; meteoritic
    column of Lodders, Palme & Gail 2009 on the same scale where no photospheric value exists).
``"asplund2021"``
    Asplund, Amarsi & Grevesse 2021, A&A 653, A141, Table 2 (He = 10.914 from helioseismology;
    Ne, Ar, Kr, Xe indirect values as in the table; meteoritic values for As, Se, Br, Cd, Sb, Te,
    I, Cs, Ta, Re, Ir, Pt, Hg, Bi, U).
``"grevesse2007"``
    (aliases ``"gas2007"``, ``"grevesse_asplund_sauval2007"``, ``"grevesse_sauval2007"``)
    Grevesse, Asplund & Sauval 2007, Space Sci. Rev. 130, 105, Table 1: the "standard
    composition" of the MARCS 2008 grid (Gustafsson et al. 2008) and of Turbospectrum. The values
    are those printed in every solar-scaled MARCS ``.mod`` file header (test:
    ``tests/synth/test_abundances.py`` checks the vector against ``marcs_sun``).
``"bergemann2025"``
    Bergemann, Lodders & Palme 2025, Table 1 (registered file ``solar_abundances_bergemann2025``):
    "Sun convection zone (mainly photosphere)" column, CI-chondrite column (already on the
    astronomical scale, A = 1.551 + log N) where the photospheric value is "...".
"""

from __future__ import annotations

import csv
import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from jaxstro._config import require_x64
from jaxstro.synth._elements import MASSES_AMU, N_ELEMENTS, SYMBOLS

__all__ = [
    "ALPHA_ELEMENTS",
    "MISSING_ABUNDANCE",
    "MIXTURES",
    "a_from_x_fe",
    "a_from_x_h",
    "check_abundances",
    "format_abundances",
    "mass_fractions",
    "number_fractions",
    "solar_abundances",
    "x_fe_from_a",
    "x_h_from_a",
]

#: A(X) given to elements with neither a photospheric nor a meteoritic value.
MISSING_ABUNDANCE: float = -5.0

#: Elements whose abundance follows ``m_h + alpha_m``.
ALPHA_ELEMENTS: tuple[str, ...] = ("O", "Ne", "Mg", "Si", "S", "Ar", "Ca", "Ti")

_M = None  # marks "no value in the table" below (replaced by MISSING_ABUNDANCE)

# Asplund et al. 2009, ARA&A 47, 481, Table 1. Photospheric values; meteoritic (Lodders, Palme &
# Gail 2009) where the photosphere gives none: As, Se, Br, Cd, Sb, Te, I, Cs, Ta, Re, Pt, Hg, Bi, U.
_ASPLUND_2009 = (
    12.00, 10.93, 1.05, 1.38, 2.70, 8.43, 7.83, 8.69, 4.56, 7.93,     # H  - Ne
    6.24, 7.60, 6.45, 7.51, 5.41, 7.12, 5.50, 6.40, 5.03, 6.34,       # Na - Ca
    3.15, 4.95, 3.93, 5.64, 5.43, 7.50, 4.99, 6.22, 4.19, 4.56,       # Sc - Zn
    3.04, 3.65, 2.30, 3.34, 2.54, 3.25, 2.52, 2.87, 2.21, 2.58,       # Ga - Zr
    1.46, 1.88, _M, 1.75, 0.91, 1.57, 0.94, 1.71, 0.80, 2.04,         # Nb - Sn
    1.01, 2.18, 1.55, 2.24, 1.08, 2.18, 1.10, 1.58, 0.72, 1.42,       # Sb - Nd
    _M, 0.96, 0.52, 1.07, 0.30, 1.10, 0.48, 0.92, 0.10, 0.84,         # Pm - Yb
    0.10, 0.85, -0.12, 0.85, 0.26, 1.40, 1.38, 1.62, 0.92, 1.17,      # Lu - Hg
    0.90, 1.75, 0.65, _M, _M, _M, _M, _M, _M, 0.02,                   # Tl - Th
    _M, -0.54,                                                        # Pa, U
)  # fmt: skip

# Asplund, Amarsi & Grevesse 2021, A&A 653, A141, Table 2. Photospheric (He from
# helioseismology; Ne, Ar, Kr, Xe indirect); meteoritic for As, Se, Br, Cd, Sb, Te, I, Cs, Ta, Re,
# Ir, Pt, Hg, Bi, U.
_ASPLUND_2021 = (
    12.00, 10.914, 0.96, 1.38, 2.70, 8.46, 7.83, 8.69, 4.40, 8.06,    # H  - Ne
    6.22, 7.55, 6.43, 7.51, 5.41, 7.12, 5.31, 6.38, 5.07, 6.30,       # Na - Ca
    3.14, 4.97, 3.90, 5.62, 5.42, 7.46, 4.94, 6.20, 4.18, 4.56,       # Sc - Zn
    3.02, 3.62, 2.30, 3.34, 2.54, 3.12, 2.32, 2.83, 2.21, 2.59,       # Ga - Zr
    1.47, 1.88, _M, 1.75, 0.78, 1.57, 0.96, 1.71, 0.80, 2.02,         # Nb - Sn
    1.01, 2.18, 1.55, 2.22, 1.08, 2.27, 1.11, 1.58, 0.75, 1.42,       # Sb - Nd
    _M, 0.95, 0.52, 1.08, 0.31, 1.10, 0.48, 0.93, 0.11, 0.85,         # Pm - Yb
    0.10, 0.85, -0.15, 0.79, 0.26, 1.35, 1.32, 1.61, 0.91, 1.17,      # Lu - Hg
    0.92, 1.95, 0.65, _M, _M, _M, _M, _M, _M, 0.03,                   # Tl - Th
    _M, -0.54,                                                        # Pa, U
)  # fmt: skip

# Grevesse, Asplund & Sauval 2007, Space Sci. Rev. 130, 105, Table 1 (MARCS 2008 standard
# composition; meteoritic values where the table gives no photospheric one).
_GREVESSE_2007 = (
    12.00, 10.93, 1.05, 1.38, 2.70, 8.39, 7.78, 8.66, 4.56, 7.84,     # H  - Ne
    6.17, 7.53, 6.37, 7.51, 5.36, 7.14, 5.50, 6.18, 5.08, 6.31,       # Na - Ca
    3.17, 4.90, 4.00, 5.64, 5.39, 7.45, 4.92, 6.23, 4.21, 4.60,       # Sc - Zn
    2.88, 3.58, 2.29, 3.33, 2.56, 3.25, 2.60, 2.92, 2.21, 2.58,       # Ga - Zr
    1.42, 1.92, _M, 1.84, 1.12, 1.66, 0.94, 1.77, 1.60, 2.00,         # Nb - Sn
    1.00, 2.19, 1.51, 2.24, 1.07, 2.17, 1.13, 1.70, 0.58, 1.45,       # Sb - Nd
    _M, 1.00, 0.52, 1.11, 0.28, 1.14, 0.51, 0.93, 0.00, 1.08,         # Pm - Yb
    0.06, 0.88, -0.17, 1.11, 0.23, 1.25, 1.38, 1.64, 1.01, 1.13,      # Lu - Hg
    0.90, 2.00, 0.65, _M, _M, _M, _M, _M, _M, 0.06,                   # Tl - Th
    _M, -0.52,                                                        # Pa, U
)  # fmt: skip

_ALIASES = {
    "asplund2009": "asplund2009",
    "asplund09": "asplund2009",
    "a09": "asplund2009",
    "asplund2021": "asplund2021",
    "asplund21": "asplund2021",
    "a21": "asplund2021",
    "grevesse2007": "grevesse2007",
    "gas2007": "grevesse2007",
    "gas07": "grevesse2007",
    "grevesse_asplund_sauval2007": "grevesse2007",
    "grevesse_sauval2007": "grevesse2007",
    "bergemann2025": "bergemann2025",
    "b25": "bergemann2025",
}

#: Canonical mixture names accepted by :func:`solar_abundances` (aliases are listed in _ALIASES).
MIXTURES: tuple[str, ...] = ("asplund2009", "asplund2021", "grevesse2007", "bergemann2025")


def _fill(table: tuple) -> np.ndarray:
    if len(table) != N_ELEMENTS:  # pragma: no cover - guards the typed tables
        raise AssertionError(f"abundance table has {len(table)} entries, expected {N_ELEMENTS}")
    return np.array([MISSING_ABUNDANCE if v is None else v for v in table], dtype=np.float64)


def _parse_float(s: str) -> float | None:
    s = s.strip()
    if not s or s.startswith("..."):
        return None
    return float(s)


@functools.lru_cache(maxsize=1)
def _bergemann_2025() -> np.ndarray:
    from jaxstro.data import locate

    path = locate("solar_abundances_bergemann2025")
    out = np.full(N_ELEMENTS, MISSING_ABUNDANCE)
    seen = set()
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.reader(f):
            if not row or not row[0].strip().isdigit():
                continue
            z = int(row[0])
            if not 1 <= z <= N_ELEMENTS:
                raise ValueError(f"{path}: atomic number {z} out of range in row {row}")
            photo = _parse_float(row[2])
            ci = _parse_float(row[4])
            value = photo if photo is not None else ci
            if value is not None:
                out[z - 1] = value
            seen.add(z)
    if len(seen) < 80 or out[0] != 12.0:
        raise ValueError(f"{path}: not the Bergemann et al. 2025 Table 1 layout ({len(seen)} rows)")
    return out


def _canonical(mixture: str) -> str:
    key = str(mixture).strip().lower().replace("-", "_").replace(" ", "_").replace("&", "_")
    key = key.replace("__", "_")
    if key not in _ALIASES:
        raise ValueError(
            f"unknown solar mixture {mixture!r}; choose one of {MIXTURES} "
            f"(aliases: {sorted(_ALIASES)})"
        )
    return _ALIASES[key]


def solar_abundances(mixture: str = "asplund2009") -> np.ndarray:
    """Solar A(X) for Z = 1..92 (float64 numpy array, index Z - 1).

    ``mixture`` is one of :data:`MIXTURES` (see the module docstring for the tables and the
    treatment of elements without a photospheric value). A fresh copy is returned each call.
    """
    name = _canonical(mixture)
    if name == "asplund2009":
        return _fill(_ASPLUND_2009)
    if name == "asplund2021":
        return _fill(_ASPLUND_2021)
    if name == "grevesse2007":
        return _fill(_GREVESSE_2007)
    return _bergemann_2025().copy()


def _symbol_index(sym: str) -> int:
    s = sym.strip()
    s = s[:1].upper() + s[1:].lower()
    try:
        return SYMBOLS.index(s)
    except ValueError:
        raise ValueError(f"unknown element symbol {sym!r}") from None


def _is_concrete(x) -> bool:
    return not isinstance(x, jax.core.Tracer)


def _check_range(name: str, value, lo: float, hi: float) -> None:
    """ValueError for NaN/inf/out-of-range concrete values (skipped for tracers)."""
    if not _is_concrete(value):
        return
    v = np.asarray(value, dtype=np.float64)
    if v.shape != ():
        raise ValueError(f"{name} must be a scalar, got shape {v.shape}")
    if not np.isfinite(v):
        raise ValueError(f"{name} = {float(v)} is not finite")
    if not lo <= float(v) <= hi:
        raise ValueError(f"{name} = {float(v)} is outside the physical range [{lo}, {hi}]")


#: Accepted ranges (dex). Generous, but they catch unit slips (e.g. Z = 0.02 passed as [M/H],
#: A(X) passed where [X/H] is expected).
_M_H_RANGE = (-8.0, 3.0)
_ALPHA_RANGE = (-3.0, 3.0)
_X_RANGE = (-10.0, 5.0)


def format_abundances(
    m_h: ArrayLike = 0.0,
    alpha_m: ArrayLike = 0.0,
    *,
    mixture: str = "asplund2009",
    **per_element: ArrayLike,
) -> Float[Array, "92"]:
    """The A(X) vector (92,) for a star with [M/H] = ``m_h`` and [alpha/M] = ``alpha_m``.

    Per-element keywords override the scaled value of one element:

    * ``C=0.2`` or ``C_H=0.2``: [C/H] = 0.2 (symbol alone means [X/H], as in the contract);
    * ``Mg_Fe=0.4``: [Mg/Fe] = 0.4, i.e. [Mg/H] = 0.4 + [Fe/H], where [Fe/H] is ``m_h`` unless
      ``Fe=`` / ``Fe_H=`` is also given.

    Differentiable (jax) in ``m_h``, ``alpha_m`` and every per-element value. Element symbols are
    case-insensitive. H cannot be set (A(H) = 12 by definition). Concrete inputs are validated
    (NaN/inf and ranges: [M/H] in [-8, 3], [alpha/M] in [-3, 3], per-element values in [-10, 5]
    dex) with a ValueError; traced inputs are checked for NaN with ``eqx.error_if``.

    Returns a float64 jax array ``A`` with ``A[Z-1] = A(X)``.
    """
    require_x64("format_abundances")
    solar = solar_abundances(mixture)
    _check_range("m_h", m_h, *_M_H_RANGE)
    _check_range("alpha_m", alpha_m, *_ALPHA_RANGE)

    x_h: dict[int, ArrayLike] = {}
    x_fe: dict[int, ArrayLike] = {}
    for key, value in per_element.items():
        parts = key.split("_")
        if len(parts) == 1 or (len(parts) == 2 and parts[1].upper() == "H"):
            target = x_h
            label = f"[{parts[0]}/H]"
        elif len(parts) == 2 and parts[1].lower() == "fe":
            target = x_fe
            label = f"[{parts[0]}/Fe]"
        else:
            raise ValueError(
                f"unrecognised abundance keyword {key!r}: use 'X' or 'X_H' for [X/H] and "
                "'X_Fe' for [X/Fe] (e.g. C=0.1, Mg_Fe=0.3)"
            )
        idx = _symbol_index(parts[0])
        if idx == 0:
            raise ValueError("A(H) = 12 by definition; [H/H] cannot be set")
        if idx in x_h or idx in x_fe:
            raise ValueError(f"abundance of {SYMBOLS[idx]} given more than once ({key!r})")
        if label == "[Fe/Fe]":
            raise ValueError("[Fe/Fe] is meaningless; give Fe=... ([Fe/H]) instead")
        _check_range(label, value, *_X_RANGE)
        target[idx] = value

    m_h = jnp.asarray(m_h, dtype=jnp.float64)
    alpha_m = jnp.asarray(alpha_m, dtype=jnp.float64)
    m_h = eqx.error_if(m_h, ~jnp.isfinite(m_h), "format_abundances: m_h is not finite")
    alpha_m = eqx.error_if(alpha_m, ~jnp.isfinite(alpha_m), "format_abundances: alpha_m not finite")

    is_metal = np.arange(N_ELEMENTS) >= 2
    is_alpha = np.zeros(N_ELEMENTS, bool)
    is_alpha[[_symbol_index(s) for s in ALPHA_ELEMENTS]] = True
    delta = jnp.where(is_metal, m_h, 0.0) + jnp.where(is_alpha, alpha_m, 0.0)

    fe = _symbol_index("Fe")
    fe_h = jnp.asarray(x_h[fe], dtype=jnp.float64) if fe in x_h else m_h
    for idx, value in x_h.items():
        v = jnp.asarray(value, dtype=jnp.float64)
        v = eqx.error_if(v, ~jnp.isfinite(v), f"format_abundances: [{SYMBOLS[idx]}/H] not finite")
        delta = delta.at[idx].set(v)
    for idx, value in x_fe.items():
        v = jnp.asarray(value, dtype=jnp.float64)
        v = eqx.error_if(v, ~jnp.isfinite(v), f"format_abundances: [{SYMBOLS[idx]}/Fe] not finite")
        delta = delta.at[idx].set(v + fe_h)
    return jnp.asarray(solar) + delta


def _solar_for(element: str | int | None, mixture: str):
    solar = solar_abundances(mixture)
    if element is None:
        return solar
    if isinstance(element, str):
        return solar[_symbol_index(element)]
    z = int(element)
    if not 1 <= z <= N_ELEMENTS:
        raise ValueError(f"atomic number {z} outside 1..{N_ELEMENTS}")
    return solar[z - 1]


def a_from_x_h(
    x_h: ArrayLike, element: str | int | None = None, *, mixture: str = "asplund2009"
) -> Array:
    """A(X) from [X/H]: ``A = [X/H] + A_sun(X)``.

    ``element`` (symbol or Z) selects one element; ``None`` means ``x_h`` is the full (92,) vector.
    """
    return jnp.asarray(x_h) + _solar_for(element, mixture)


def x_h_from_a(
    a_x: ArrayLike, element: str | int | None = None, *, mixture: str = "asplund2009"
) -> Array:
    """[X/H] from A(X): ``[X/H] = A(X) - A_sun(X)`` (inverse of :func:`a_from_x_h`)."""
    return jnp.asarray(a_x) - _solar_for(element, mixture)


def x_fe_from_a(
    a_x: Float[ArrayLike, "92"], element: str | int, *, mixture: str = "asplund2009"
) -> Array:
    """[X/Fe] of one element from a full A(X) vector (92,)."""
    a_x = jnp.asarray(a_x)
    solar = solar_abundances(mixture)
    fe = _symbol_index("Fe")
    idx = _symbol_index(element) if isinstance(element, str) else int(element) - 1
    return (a_x[idx] - solar[idx]) - (a_x[fe] - solar[fe])


def a_from_x_fe(
    x_fe: ArrayLike, fe_h: ArrayLike, element: str | int, *, mixture: str = "asplund2009"
) -> Array:
    """A(X) from [X/Fe] and [Fe/H]: ``A = [X/Fe] + [Fe/H] + A_sun(X)``."""
    return jnp.asarray(x_fe) + jnp.asarray(fe_h) + _solar_for(element, mixture)


def number_fractions(a_x: Float[ArrayLike, "92"]) -> Float[Array, "92"]:
    """n_X / n_(all nuclei) = 10^(A_X-12) / sum 10^(A-12) (the form chemical equilibrium uses)."""
    a_x = jnp.asarray(a_x)
    rel = 10.0 ** (a_x - 12.0)
    return rel / jnp.sum(rel)


def mass_fractions(a_x: Float[ArrayLike, "92"]) -> tuple[Array, Array, Array]:
    """Mass fractions (X, Y, Z) of H, He and the metals for the abundance vector ``a_x``
    (standard atomic weights of :data:`jaxstro.synth._elements.MASSES_AMU`)."""
    a_x = jnp.asarray(a_x)
    m = 10.0 ** (a_x - 12.0) * MASSES_AMU
    total = jnp.sum(m)
    return m[0] / total, m[1] / total, jnp.sum(m[2:]) / total


#: Physical range accepted for A(X) of Z >= 2 by :func:`check_abundances` (MARCS's -99 "absent"
#: marker is allowed as well).
_A_RANGE = (-20.0, 13.0)


def check_abundances(a_x: Float[ArrayLike, "92"], where: str = "abundances") -> Array:
    """Validate an A(X) vector and return it as a float64 jax array.

    Concrete input: ValueError for a shape other than (92,), NaN/inf, A(H) != 12, or A(X) outside
    [-20, 13] for Z >= 2 (except exactly -99, MARCS's marker for an absent element). Traced
    input (inside jit/grad): the same conditions through ``eqx.error_if``.
    """
    if _is_concrete(a_x):
        a = np.asarray(a_x, dtype=np.float64)
        if a.shape != (N_ELEMENTS,):
            raise ValueError(f"{where}: expected shape ({N_ELEMENTS},), got {a.shape}")
        bad = ~np.isfinite(a)
        if bad.any():
            z = int(np.argmax(bad)) + 1
            raise ValueError(f"{where}: A({SYMBOLS[z - 1]}) is not finite")
        if abs(a[0] - 12.0) > 1e-9:
            raise ValueError(f"{where}: A(H) = {a[0]} but must be 12 by definition")
        out = (a[1:] < _A_RANGE[0]) | (a[1:] > _A_RANGE[1])
        out &= a[1:] != -99.0
        if out.any():
            z = int(np.argmax(out)) + 2
            raise ValueError(
                f"{where}: A({SYMBOLS[z - 1]}) = {a[z - 1]} is outside the physical range "
                f"{list(_A_RANGE)} (did you pass [X/H] instead of A(X)?)"
            )
        return jnp.asarray(a)
    a = jnp.asarray(a_x, dtype=jnp.float64)
    if a.shape != (N_ELEMENTS,):
        raise ValueError(f"{where}: expected shape ({N_ELEMENTS},), got {a.shape}")
    rest = a[1:]
    bad = (
        ~jnp.all(jnp.isfinite(a))
        | (jnp.abs(a[0] - 12.0) > 1e-9)
        | jnp.any(((rest < _A_RANGE[0]) | (rest > _A_RANGE[1])) & (rest != -99.0))
    )
    return eqx.error_if(a, bad, f"{where}: invalid A(X) vector (NaN, A(H) != 12 or out of range)")
