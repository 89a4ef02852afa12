"""The ``Atmosphere`` pytree shared by every reader and the grid interpolator."""

from __future__ import annotations

from pathlib import Path

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

#: Boltzmann constant [erg K^-1] (CODATA 2018, exact).
K_BOLTZMANN = 1.380649e-16
#: Atomic mass unit [g] (CODATA 2018).
AMU = 1.66053906660e-24
#: Nominal solar mass parameter G M_sun [cm^3 s^-2] (IAU 2015 Resolution B3).
GM_SUN = 1.3271244e26


def radius_from_mass_logg(mass_msun, logg):
    """Radius [cm] at which a star of ``mass_msun`` solar masses has surface gravity 10**logg:
    ``R = sqrt(G M / g)`` (MARCS defines g at the radius where tau_Ross = 1; its headers agree with
    this to 0.3 %). Works on numpy and jax inputs."""
    return (GM_SUN * mass_msun / 10.0**logg) ** 0.5


class Atmosphere(eqx.Module):
    """A 1D model atmosphere, layers ordered top (smallest optical depth) to bottom. cgs units.

    Attributes
    ----------
    tau_ref
        Optical depth on the model's reference scale, increasing inward. ``tau_5000`` (the
        continuum optical depth at 5000 Å) when ``reference_wavelength == 5000.0``; the Rosseland
        mean optical depth when ``reference_wavelength is None``.
    z
        Height [cm], decreasing inward (``-Depth`` of MARCS; zero at tau_Ross = 1 for MARCS and for
        the models whose heights this module derives). For spherical models ``r = radius + z``.
    temperature
        Temperature [K].
    electron_density
        The model's own free-electron number density ``n_e = P_e / kT`` [cm^-3].
    number_density
        Total particle density including electrons ``n = P_gas / kT`` [cm^-3].
    radius
        Radius [cm] at tau_Ross = 1 (MARCS header). Only meaningful when ``spherical``;
        plane-parallel models carry the MARCS placeholder value 1 cm.
    spherical
        Static flag: spherical geometry (MARCS models with a mass) or plane-parallel.
    reference_wavelength
        Static: 5000.0 (Å) if ``tau_ref`` is tau_5000, ``None`` if it is tau_Rosseland (ATLAS9 and
        the PFANT grid), 12000.0 for cool PHOENIX models (Husser et al. 2013).
    """

    tau_ref: Float[Array, " n"]
    z: Float[Array, " n"]
    temperature: Float[Array, " n"]
    electron_density: Float[Array, " n"]
    number_density: Float[Array, " n"]
    radius: Float[Array, ""]
    spherical: bool = eqx.field(static=True)
    reference_wavelength: float | None = eqx.field(static=True)

    @property
    def n_layers(self) -> int:
        return int(self.temperature.shape[-1])

    @property
    def log_tau_ref(self) -> Float[Array, " n"]:
        return jnp.log10(self.tau_ref)

    @property
    def r(self) -> Float[Array, " n"]:
        """Radial coordinate ``radius + z`` [cm] (meaningful for spherical models)."""
        return self.radius + self.z

    @property
    def gas_pressure(self) -> Float[Array, " n"]:
        """P_gas = n k T [dyn cm^-2]."""
        return self.number_density * K_BOLTZMANN * self.temperature

    @property
    def electron_pressure(self) -> Float[Array, " n"]:
        """P_e = n_e k T [dyn cm^-2]."""
        return self.electron_density * K_BOLTZMANN * self.temperature


def make_atmosphere(
    tau_ref,
    z,
    temperature,
    electron_density,
    number_density,
    *,
    radius: float = 1.0,
    spherical: bool = False,
    reference_wavelength: float | None = 5000.0,
    where: str = "atmosphere",
) -> Atmosphere:
    """Build an :class:`Atmosphere` from numpy-like layer arrays after validating them.

    Raises ValueError (naming ``where`` and the offending layer) for mismatched shapes, fewer than
    2 layers, non-finite values, non-positive tau/T/densities, tau not strictly increasing or z not
    strictly decreasing inward, and a non-positive radius.
    """
    arrays = {
        "tau_ref": tau_ref,
        "z": z,
        "temperature": temperature,
        "electron_density": electron_density,
        "number_density": number_density,
    }
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()}
    check_layers(**arrays, where=where)
    radius = float(radius)
    if not np.isfinite(radius) or radius <= 0:
        raise ValueError(f"{where}: radius = {radius} cm must be positive and finite")
    return Atmosphere(
        **{k: jnp.asarray(v) for k, v in arrays.items()},
        radius=jnp.asarray(radius, dtype=jnp.float64),
        spherical=bool(spherical),
        reference_wavelength=None if reference_wavelength is None else float(reference_wavelength),
    )


def check_layers(
    *, tau_ref, z, temperature, electron_density, number_density, where: str = "atmosphere"
) -> None:
    """Validate layer arrays (numpy); ValueError with the first offending layer (1-based)."""
    n = np.shape(temperature)
    for name, a in (
        ("tau_ref", tau_ref),
        ("z", z),
        ("temperature", temperature),
        ("electron_density", electron_density),
        ("number_density", number_density),
    ):
        a = np.asarray(a)
        if a.ndim != 1 or a.shape != n:
            raise ValueError(f"{where}: {name} has shape {a.shape}, expected {n} (1D layers)")
        bad = ~np.isfinite(a)
        if bad.any():
            raise ValueError(f"{where}: {name} is not finite in layer {int(np.argmax(bad)) + 1}")
        if name != "z":
            bad = a <= 0
            if bad.any():
                k = int(np.argmax(bad))
                raise ValueError(
                    f"{where}: {name} must be positive, got {a[k]:.6g} in layer {k + 1}"
                )
    if n[0] < 2:
        raise ValueError(f"{where}: need at least 2 layers, got {n[0]}")
    d = np.diff(np.asarray(tau_ref))
    if (d <= 0).any():
        k = int(np.argmax(d <= 0))
        raise ValueError(
            f"{where}: optical depth is not strictly increasing inward between layers {k + 1} and "
            f"{k + 2} ({tau_ref[k]:.6g} -> {tau_ref[k + 1]:.6g})"
        )
    d = np.diff(np.asarray(z))
    if (d >= 0).any():
        k = int(np.argmax(d >= 0))
        raise ValueError(
            f"{where}: height z is not strictly decreasing inward (depth not monotonic) between "
            f"layers {k + 1} and {k + 2} ({z[k]:.6g} -> {z[k + 1]:.6g} cm)"
        )


def check_atmosphere(atm: Atmosphere) -> Atmosphere:
    """Jit-safe validation: returns ``atm`` with ``eqx.error_if`` guards on its layer arrays
    (non-positive/non-finite T, densities or tau; tau not increasing; z not decreasing)."""
    bad = (
        ~jnp.all(jnp.isfinite(atm.temperature))
        | ~jnp.all(atm.temperature > 0)
        | ~jnp.all(atm.electron_density > 0)
        | ~jnp.all(atm.number_density > 0)
        | ~jnp.all(atm.tau_ref > 0)
        | ~jnp.all(jnp.diff(atm.tau_ref) > 0)
        | ~jnp.all(jnp.diff(atm.z) < 0)
        | ~jnp.all(jnp.isfinite(atm.z))
    )
    t = eqx.error_if(
        atm.temperature,
        bad,
        "invalid atmosphere: non-positive/non-finite T, n_e, n or tau, or non-monotonic depth",
    )
    return eqx.tree_at(lambda a: a.temperature, atm, t)


def resolve_path(path_or_name: str | Path) -> Path:
    """A filesystem path, or a registered data-file name resolved with ``jaxstro.data.locate``."""
    p = Path(path_or_name)
    if p.exists():
        return p
    from jaxstro.data import FILES, locate

    names = {f.name for f in FILES}
    if str(path_or_name) in names:
        return locate(str(path_or_name))
    raise FileNotFoundError(f"no such model file or registered data name: {path_or_name!r}")


def cumulative_trapezoid_log(y_times_x, x):
    """Cumulative integral of ``y dx`` evaluated as the trapezoid rule in ln x of ``y*x``
    (exact for power laws y ~ x^p between nodes to second order); first element 0."""
    lnx = np.log(x)
    seg = 0.5 * (y_times_x[1:] + y_times_x[:-1]) * np.diff(lnx)
    return np.concatenate([[0.0], np.cumsum(seg)])
