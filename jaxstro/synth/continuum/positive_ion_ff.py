"""Free-free absorption by positive ions (H II, He II, metal ions), van Hoof et al. (2014) Gaunt.

Every ion of net charge Z = 1 ("X II", including H II: this *is* the H I free-free term) and
Z = 2 ("X III") is treated as hydrogenic with the thermally averaged non-relativistic free-free
Gaunt factor of van Hoof, Williams, Volk et al. (2014, MNRAS 444, 420), tabulated in
gamma^2 = Z^2 Ry / kT and u = h nu / kT (registry ``gaunt_ff_vanhoof2014``: 146 rows of log u =
-16..13 x 81 columns of log gamma^2 = -6..10, step 0.2 dex) and interpolated bilinearly in
(log gamma^2, log u), clamped at the table edges. This is the treatment Korg uses (Wheeler et al.
2023, sec. on positive-ion free-free). Stimulated emission included.
"""

from __future__ import annotations

import re

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._constants import Rydberg_eV, h_eV, k_eV
from ._interp import uniform_frac_index
from .hydrogenic import hydrogenic_ff

_ION_RE = re.compile(r"^[A-Z][a-z]? (II|III)$")


class GauntFF(eqx.Module):
    """van Hoof (2014) <g_ff>(log10 u, log10 gamma^2) on a uniform grid."""

    table: Float[Array, "n_u n_gam2"]
    log_u0: float = eqx.field(static=True)
    log_gam2_0: float = eqx.field(static=True)
    step: float = eqx.field(static=True)


def load_gaunt_ff() -> GauntFF:
    """Parse the van Hoof (2014) table (header: magic, sizes, start values, step; then values)."""
    from jaxstro.data import locate

    lines = locate("gaunt_ff_vanhoof2014").read_text().splitlines()
    body = [ln.split("#")[0].split() for ln in lines if not ln.lstrip().startswith("#")]
    body = [b for b in body if b]
    if body[0][0] != "20140210":
        raise ValueError("gaunt_ff_vanhoof2014: unexpected magic number")
    n_gam2, n_u = int(body[1][0]), int(body[1][1])
    log_gam2_0, log_u0, step = float(body[2][0]), float(body[3][0]), float(body[4][0])
    rows = np.array([[float(v) for v in b] for b in body[5 : 5 + n_u]])
    if rows.shape != (n_u, n_gam2):
        raise ValueError(f"gaunt_ff_vanhoof2014: table shape {rows.shape} != {(n_u, n_gam2)}")
    return GauntFF(jnp.asarray(rows), log_u0, log_gam2_0, step)


def gaunt_ff(nu: Float[Array, " n_nu"], T: Float[Array, ""], Z: float, g: GauntFF):
    """Thermally averaged free-free Gaunt factor at frequencies ``nu`` [Hz], temperature T [K]."""
    n_u, n_g = g.table.shape
    log_u = jnp.log10(h_eV * nu / (k_eV * T))
    log_g2 = jnp.log10(Z**2 * Rydberg_eV / (k_eV * T))
    i, wi = uniform_frac_index(log_u, g.log_u0, g.step, n_u)
    j, wj = uniform_frac_index(log_g2, g.log_gam2_0, g.step, n_g)
    t = g.table
    return (
        t[i, j] * (1 - wi) * (1 - wj)
        + t[i + 1, j] * wi * (1 - wj)
        + t[i, j + 1] * (1 - wi) * wj
        + t[i + 1, j + 1] * wi * wj
    )


def ion_densities(n) -> tuple:
    """Sum of the number densities of singly and doubly ionised atoms in the species mapping
    (a dict, or statmech's ``SpeciesDensities`` whose single ``array`` is summed directly)."""
    names = getattr(n, "names", None)
    if names is not None and hasattr(n, "array"):
        i1 = [k for k, s in enumerate(names) if _ION_RE.match(s) and s.endswith(" II")]
        i2 = [k for k, s in enumerate(names) if _ION_RE.match(s) and s.endswith(" III")]
        return jnp.sum(n.array[..., i1], axis=-1), jnp.sum(n.array[..., i2], axis=-1)
    z1 = sum((v for k, v in n.items() if _ION_RE.match(k) and k.endswith(" II")), 0.0)
    z2 = sum((v for k, v in n.items() if _ION_RE.match(k) and k.endswith(" III")), 0.0)
    return z1, z2


def positive_ion_ff(
    nu: Float[Array, " n_nu"],
    T: Float[Array, ""],
    ne: Float[Array, ""],
    n_Z1: Float[Array, ""],
    n_Z2: Float[Array, ""],
    g: GauntFF,
) -> Float[Array, " n_nu"]:
    """Free-free absorption [cm^-1] by all ions of charge 1 (total density ``n_Z1``) and 2
    (``n_Z2``)."""
    a1 = hydrogenic_ff(nu, T, ne, n_Z1, 1.0, gaunt_ff(nu, T, 1.0, g))
    a2 = hydrogenic_ff(nu, T, ne, n_Z2, 2.0, gaunt_ff(nu, T, 2.0, g))
    return a1 + a2
