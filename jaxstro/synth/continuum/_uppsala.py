"""Reader and interpolation of the Uppsala continuous-opacity tables (registry
``uppsala_continuum_opacities``: ``jonabs_vac_v19.2.dat`` of the MARCS / Turbospectrum opacity
package; Gustafsson et al. 2008, A&A 486, 951, sec. 4 and their Table 1).

The file holds one block per absorption "component": a name line, a wavelength grid (vacuum Å),
an optional temperature grid and a table kappa(lambda, T), with integer flags that say how the
code that ships the file interpolates it:

    ILOGL  interpolate log(kappa) (not kappa) in wavelength     KVADL  quadratic (not linear)
    ILOGT  interpolate log(kappa) in temperature                 KVADT  quadratic in T
    MINEX/MAXEX  extrapolate linearly (else zero) beyond the shortest/longest wavelength
    MINET/MAXET  the same in temperature                         ITETA  the grid is theta = 5040/T

This module parses the blocks (``read_uppsala_blocks``) and evaluates one with these rules in
pure JAX (``UppsalaTable``): first in wavelength (done once per wavelength grid), then in T per
layer with a 3-point Lagrange stencil that stays inside each uniformly spaced part of the T grid
(the tables use at most two spacings), as the original code does. Two departures, both outside
the range that matters for FGK stars: wavelength interpolation is always linear (the bound-free
tables are flagged linear; the few tables flagged quadratic are smooth), and the table is held
constant (not extrapolated or zeroed) beyond the temperature grid.
"""

from __future__ import annotations

import re

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

_FLAG = re.compile(r"([A-Z]+)=\s*(\d+)")

_BARE_EXPONENT = re.compile(r"^([+-]?[0-9.]+)([+-][0-9]+)$")
LOG_FLOOR = float(np.log(1e-37))  # log of non-positive entries, as the original code does


def _fixed_numbers(line: str, width: int = 10, limit: int = 6) -> list[float]:
    """The first ``limit`` numbers of a Fortran ``6F10.0`` / ``6E10.3`` record (fields of
    ``width`` characters; fields past the values a record is read for are ignored, as Fortran
    does)."""
    body = line[: min(limit, 6) * width]
    out = []
    for k in range(0, len(body), width):
        field = body[k : k + width].replace(" ", "")  # Fortran ignores blanks in a field
        if field:
            if _BARE_EXPONENT.match(field):  # "1.0-05" means 1.0E-05
                field = _BARE_EXPONENT.sub(r"\1E\2", field)
            out.append(float(field))
    return out


def _read_values(lines: list[str], i: int, n: int) -> tuple[np.ndarray, int]:
    vals: list[float] = []
    while len(vals) < n:
        if i >= len(lines):
            raise ValueError("Uppsala opacity file: table ends early")
        vals.extend(_fixed_numbers(lines[i], limit=n - len(vals)))
        i += 1
    if len(vals) != n:
        raise ValueError(f"Uppsala opacity file: expected {n} values, read {len(vals)}")
    return np.asarray(vals, dtype=np.float64), i


def read_uppsala_blocks(text: str) -> dict[str, dict]:
    """All components of a ``jonabs`` file: ``{name: {"flags", "wavelength", "T", "kappa",
    "source"}}`` keyed by the component's name field ("FeI", "C_I", "MgI", "H BF G2",
    "CHcont", ...; the file's numbering is the order); ``kappa`` has shape (n_T, n_lambda)
    (n_T = 1 for T-independent tables) and ``T`` is in K (converted from theta when ITETA is
    set), both increasing."""
    lines = text.split("\n")
    start = next((k for k, ln in enumerate(lines) if ln.lstrip().startswith("KOMP=")), None)
    if start is None:
        raise ValueError("Uppsala opacity file: no 'KOMP=' header")
    n_comp = int(_FLAG.search(lines[start]).group(2))
    out: dict[str, dict] = {}
    i = start + 1
    for _ in range(n_comp):
        # the name is the 8-character name field, less any source text that runs into it
        # after two or more blanks ("MgI    Prieto 2003" -> "MgI")
        name = re.sub(r"\s{2,}\S*$", "", lines[i][:8]).strip()
        source = lines[i][8:].strip()
        if not name:
            raise ValueError(f"Uppsala opacity file: empty component name at line {i + 1}")
        fl = dict(_FLAG.findall(lines[i + 1]))
        if "NLATB" not in fl:
            raise ValueError(f"Uppsala opacity file: bad wavelength header at line {i + 2}")
        nl = int(fl["NLATB"])
        wl, i = _read_values(lines, i + 2, nl)
        ft = dict(_FLAG.findall(lines[i]))
        if "NTETB" not in ft:
            raise ValueError(f"Uppsala opacity file: bad temperature header at line {i + 1}")
        nt = int(ft["NTETB"])
        i += 1
        if nt > 1:
            T, i = _read_values(lines, i, nt)
        else:
            T, nt = np.array([1.0]), 1
        rows = []
        for _k in range(nt):
            r, i = _read_values(lines, i, nl)
            rows.append(r)
        kappa = np.stack(rows)
        flags = {k: int(v) for k, v in {**fl, **ft}.items()}
        if flags.get("ITETA", 0) > 0 and nt > 1:
            T = 5040.0 / T
            order = np.argsort(T)
            T, kappa = T[order], kappa[order]
        if np.any(np.diff(wl) < 0) or (nt > 1 and np.any(np.diff(T) <= 0)):
            raise ValueError(f"Uppsala opacity file: grid of {name!r} not increasing")
        if name in out:
            raise ValueError(f"Uppsala opacity file: duplicate component {name!r}")
        out[name] = {"flags": flags, "wavelength": wl, "T": T, "kappa": kappa, "source": source}
    return out


def _stencil_starts(T: np.ndarray) -> np.ndarray:
    """For each interval k of the T grid, the first of the three points used for quadratic
    interpolation in it: k, moved back so that the three points stay inside the uniformly spaced
    part of the grid that holds the interval; -1 (linear) in a part of a single interval."""
    n = T.size
    starts = np.full(max(n - 1, 1), -1, dtype=np.int32)
    if n < 3:
        return starts
    d = np.diff(T)
    k = 0
    while k < n - 1:  # runs of intervals with the same spacing
        kb = k
        while kb + 1 < n - 1 and abs(d[kb + 1] / d[k] - 1) < 1e-4:
            kb += 1
        if kb > k:
            for j in range(k, kb + 1):
                starts[j] = min(j, kb - 1)
        k = kb + 1
    return starts


class UppsalaTable(eqx.Module):
    """One Uppsala component, ready for differentiable evaluation."""

    wavelength: Float[Array, " n_lambda"]  # vacuum Å
    T: Float[Array, " n_T"]
    value: Float[Array, "n_T n_lambda"]  # kappa, or log kappa when ILOGL
    stencil: Array  # (n_T - 1,) int32
    log_lambda: bool = eqx.field(static=True)
    log_T: bool = eqx.field(static=True)
    quadratic_T: bool = eqx.field(static=True)
    name: str = eqx.field(static=True)

    @classmethod
    def from_block(cls, name: str, block: dict) -> UppsalaTable:
        f = block["flags"]
        kap = np.asarray(block["kappa"], dtype=np.float64)
        log_lambda = f.get("ILOGL", 0) > 0
        if log_lambda:
            kap = np.where(kap > 0, np.log(np.where(kap > 0, kap, 1.0)), LOG_FLOOR)
        T = np.asarray(block["T"], dtype=np.float64)
        return cls(jnp.asarray(block["wavelength"]), jnp.asarray(T), jnp.asarray(kap),
                   jnp.asarray(_stencil_starts(T)), log_lambda, f.get("ILOGT", 0) > 0,
                   f.get("KVADT", 0) > 0 and T.size >= 3, name)  # fmt: skip

    def on_wavelengths(self, wavelength_vac: Float[Array, " n_wl"]) -> Float[Array, "n_T n_wl"]:
        """Interpolate in wavelength (zero outside the table); returns the quantity that is
        interpolated in T next (log kappa when ILOGT, floored at log 1e-37, else kappa)."""
        inside = (wavelength_vac >= self.wavelength[0]) & (wavelength_vac <= self.wavelength[-1])

        def row(v):
            return jnp.interp(wavelength_vac, self.wavelength, v)

        v = jax.vmap(row)(self.value)
        if self.log_lambda:
            lin = jnp.exp(v)
        else:
            lin = v
        lin = jnp.where(inside[None, :], lin, 0.0)
        if self.log_T:
            return jnp.log(jnp.maximum(lin, 1e-37))
        return lin

    def at_temperature(self, on_wl: Float[Array, "n_T n_wl"], T) -> Float[Array, " n_wl"]:
        """kappa at temperature ``T`` [K] from ``on_wavelengths`` output (one layer)."""
        n = self.T.shape[0]
        if n == 1:
            v = on_wl[0]
        else:
            Tc = jnp.clip(T, self.T[0], self.T[-1])
            k = jnp.clip(jnp.searchsorted(self.T, Tc, side="right") - 1, 0, n - 2)
            if self.quadratic_T:
                s0 = self.stencil[k]
                s = jnp.maximum(s0, 0)
                x0, x1, x2 = self.T[s], self.T[s + 1], self.T[s + 2]
                l0 = (Tc - x1) * (Tc - x2) / ((x0 - x1) * (x0 - x2))
                l1 = (Tc - x0) * (Tc - x2) / ((x1 - x0) * (x1 - x2))
                l2 = (Tc - x0) * (Tc - x1) / ((x2 - x0) * (x2 - x1))
                quad = l0 * on_wl[s] + l1 * on_wl[s + 1] + l2 * on_wl[s + 2]
            w = (Tc - self.T[k]) / (self.T[k + 1] - self.T[k])
            v = on_wl[k] * (1 - w) + on_wl[k + 1] * w
            if self.quadratic_T:
                v = jnp.where(s0 >= 0, quad, v)
        if self.log_T:
            return jnp.where(v > LOG_FLOOR + 1.0, jnp.exp(v), 0.0)
        return jnp.maximum(v, 0.0)
