"""Base class of all potentials: value by subclass, forces by autodiff, density by the Laplacian.

Natural units (G = 1, 8 kpc, 220 km/s; see ``jaxstro.dynamics.units``). Coordinates are
Galactocentric cylindrical ``(R, z, phi)`` and time ``t``; ``phi`` and ``t`` matter only for
non-axisymmetric / time-dependent potentials. Every public method broadcasts over its array
arguments (it is a ``jnp.vectorize`` of the scalar rule), so it is jit/vmap/grad-able.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

Scalar = Float[Array, ""]


_RULES = {
    "phi": lambda p, *a: p._phi(*a),
    "Rforce": lambda p, *a: -jax.grad(p._phi, 0)(*a),
    "zforce": lambda p, *a: -jax.grad(p._phi, 1)(*a),
    "phitorque": lambda p, *a: -jax.grad(p._phi, 2)(*a),
    "dens": lambda p, *a: p._dens(*a),
    "R2deriv": lambda p, *a: jax.grad(jax.grad(p._phi, 0), 0)(*a),
    "z2deriv": lambda p, *a: jax.grad(jax.grad(p._phi, 1), 1)(*a),
    "Rzderiv": lambda p, *a: jax.grad(jax.grad(p._phi, 0), 1)(*a),
}


@eqx.filter_jit
def _eval(pot, name: str, R, z, phi, t):
    # jitted broadcast of a scalar rule (eager dispatch of vmapped special functions is slow)
    return jnp.vectorize(lambda *a: _RULES[name](pot, *a))(R, z, phi, t)


class Potential(eqx.Module):
    """Abstract gravitational potential. Subclasses implement ``_phi(R, z, phi, t)`` (scalars)."""

    def _phi(self, R: Scalar, z: Scalar, phi: Scalar, t: Scalar) -> Scalar:
        raise NotImplementedError

    # ---- optional analytic overrides (subclasses may replace these scalar rules) ----
    def _dens(self, R, z, phi, t):
        # rho = Laplacian(Phi) / (4 pi G) in cylindrical coordinates
        d_R = jax.grad(self._phi, 0)
        d_RR = jax.grad(d_R, 0)(R, z, phi, t)
        d_zz = jax.grad(jax.grad(self._phi, 1), 1)(R, z, phi, t)
        d_pp = jax.grad(jax.grad(self._phi, 2), 2)(R, z, phi, t)
        return (d_RR + d_R(R, z, phi, t) / R + d_pp / R**2 + d_zz) / (4.0 * jnp.pi)

    # ---- public, broadcasting API ----
    def __call__(
        self, R: ArrayLike, z: ArrayLike = 0.0, phi: ArrayLike = 0.0, t: ArrayLike = 0.0
    ) -> Float[Array, "..."]:
        """Potential Phi(R, z, phi, t) [vo^2]."""
        return _eval(self, "phi", *_f64(R, z, phi, t))

    def Rforce(self, R, z=0.0, phi=0.0, t=0.0) -> Float[Array, "..."]:
        """-dPhi/dR [vo^2/ro]."""
        return _eval(self, "Rforce", *_f64(R, z, phi, t))

    def zforce(self, R, z=0.0, phi=0.0, t=0.0) -> Float[Array, "..."]:
        """-dPhi/dz [vo^2/ro]."""
        return _eval(self, "zforce", *_f64(R, z, phi, t))

    def phitorque(self, R, z=0.0, phi=0.0, t=0.0) -> Float[Array, "..."]:
        """-dPhi/dphi [vo^2]."""
        return _eval(self, "phitorque", *_f64(R, z, phi, t))

    def dens(self, R, z=0.0, phi=0.0, t=0.0) -> Float[Array, "..."]:
        """Density [vo^2/(G ro^2)] (analytic where a subclass provides it, else the Laplacian)."""
        return _eval(self, "dens", *_f64(R, z, phi, t))

    def R2deriv(self, R, z=0.0, phi=0.0, t=0.0):
        """d^2Phi/dR^2."""
        return _eval(self, "R2deriv", *_f64(R, z, phi, t))

    def z2deriv(self, R, z=0.0, phi=0.0, t=0.0):
        """d^2Phi/dz^2."""
        return _eval(self, "z2deriv", *_f64(R, z, phi, t))

    def Rzderiv(self, R, z=0.0, phi=0.0, t=0.0):
        """d^2Phi/dRdz."""
        return _eval(self, "Rzderiv", *_f64(R, z, phi, t))

    def vcirc(self, R, phi=0.0, t=0.0) -> Float[Array, "..."]:
        """Circular velocity sqrt(-R F_R(R, 0)) in the plane [vo] (galpy's definition)."""
        return jnp.sqrt(-jnp.asarray(R) * self.Rforce(R, 0.0, phi, t))

    def omegac(self, R, phi=0.0, t=0.0):
        """Circular angular frequency vcirc/R [vo/ro]."""
        return self.vcirc(R, phi, t) / jnp.asarray(R)

    def epifreq(self, R, t=0.0):
        """Epicycle frequency kappa = sqrt(Phi_RR + 3/R Phi_R) at z = 0 [vo/ro]."""
        R = jnp.asarray(R, dtype=jnp.float64)
        return jnp.sqrt(self.R2deriv(R, 0.0, 0.0, t) - 3.0 * self.Rforce(R, 0.0, 0.0, t) / R)

    def verticalfreq(self, R, t=0.0):
        """Vertical frequency nu = sqrt(Phi_zz) at z = 0 [vo/ro]."""
        return jnp.sqrt(self.z2deriv(R, 0.0, 0.0, t))

    # ---- Cartesian helpers used by the orbit integrator ----
    def phi_xyz(self, xyz: Float[Array, "3"], t: Scalar = 0.0) -> Scalar:
        """Phi at a Cartesian point (x, y, z) (scalar rule; vmap for batches). Axisymmetric
        terms skip the azimuth; subclasses may give a direct Cartesian form (the bar does)."""
        x, y, z = xyz[0], xyz[1], xyz[2]
        phi = 0.0 if self.is_axisymmetric else jnp.arctan2(y, x)
        return self._phi(jnp.sqrt(x * x + y * y), z, phi, t)

    def acceleration(self, xyz: Float[Array, "3"], t: Scalar = 0.0) -> Float[Array, "3"]:
        """-grad Phi at a Cartesian point."""
        return -jax.grad(self.phi_xyz)(xyz, t)

    @property
    def is_axisymmetric(self) -> bool:
        return True

    def __add__(self, other: Potential) -> CompositePotential:
        if not isinstance(other, Potential):
            return NotImplemented
        left = self.terms if isinstance(self, CompositePotential) else (self,)
        right = other.terms if isinstance(other, CompositePotential) else (other,)
        return CompositePotential(tuple(left) + tuple(right))


class CompositePotential(Potential):
    """Sum of potentials (``pot_a + pot_b``)."""

    terms: tuple[Potential, ...]

    def _phi(self, R, z, phi, t):
        return sum(p._phi(R, z, phi, t) for p in self.terms)

    def _dens(self, R, z, phi, t):
        return sum(p._dens(R, z, phi, t) for p in self.terms)

    def phi_xyz(self, xyz, t=0.0):
        return sum(p.phi_xyz(xyz, t) for p in self.terms)

    @property
    def is_axisymmetric(self) -> bool:
        return all(p.is_axisymmetric for p in self.terms)

    def axisymmetric_part(self) -> Potential:
        """The sum of the axisymmetric terms (e.g. MWPotential2014 from MW + bar)."""
        kept = tuple(p for p in self.terms if p.is_axisymmetric)
        return kept[0] if len(kept) == 1 else CompositePotential(kept)


def _f64(*args):
    return tuple(jnp.asarray(a, dtype=jnp.float64) for a in args)


def check_positive(name: str, **values) -> None:
    """Validate positive scale/mass parameters at construction (concrete numbers only)."""
    import numpy as np

    for k, v in values.items():
        try:
            a = np.asarray(v, dtype=float)
        except (TypeError, jax.errors.TracerArrayConversionError):
            continue  # traced inside a transformation: skip the check
        if not np.all(np.isfinite(a)) or np.any(a <= 0):
            raise ValueError(f"{name}: parameter {k} must be finite and > 0, got {v!r}")
