"""Orbit integration with diffrax (natural units), vmapped over stars.

State vectors are Cartesian ``w = (x, y, z, vx, vy, vz)``; ``cyl_to_cart`` / ``cart_to_cyl``
convert from/to galpy's cylindrical order ``(R, vR, vT, z, vz, phi)``. Frames are small modules:
``Inertial()`` or ``Rotating(omega)`` (a frame rotating about +z with angular speed ``omega`` that
coincides with the inertial frame at t = 0; equations of motion include the Coriolis and
centrifugal terms). One star: :func:`integrate_orbit`; a batch: :func:`integrate_orbits` (vmap).
"""

from __future__ import annotations

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._config import require_x64
from .potentials import Potential


class Inertial(eqx.Module):
    """The Galactocentric inertial frame."""


class Rotating(eqx.Module):
    """A frame rotating with angular speed ``omega`` about +z (e.g. the bar's pattern speed)."""

    omega: float


class OrbitOptions(eqx.Module):
    """Integrator settings: diffrax solver (default Dopri8, adaptive, PID step control per star),
    tolerances, step budget, and how a batch is laid out.

    ``chunk_size``: stars integrated together in one vmapped block. A vmapped adaptive solve runs
    until its slowest star is done, so :func:`integrate_orbits` sorts the stars by energy (the
    number of steps follows the orbital frequency) and integrates blocks of similar stars one
    after another (``lax.map``); ``None`` puts the whole batch in one block. ``devices``: the
    number of devices to shard the blocks over (``None``: all visible accelerators, one device
    on a CPU backend; see :func:`integrate_orbits`). ``adjoint``: how diffrax differentiates the
    solve (default reverse mode with recursive checkpointing; ``diffrax.ForwardMode()`` for
    ``jax.jvp`` with respect to a few parameters, e.g. the bar's pattern speed).
    """

    solver: diffrax.AbstractSolver = diffrax.Dopri8()
    rtol: float = 1e-10
    atol: float = 1e-10
    max_steps: int = eqx.field(static=True, default=200_000)
    dt0: float | None = None
    chunk_size: int | None = eqx.field(static=True, default=128)
    devices: int | None = eqx.field(static=True, default=None)
    adjoint: diffrax.AbstractAdjoint = diffrax.RecursiveCheckpointAdjoint()


def cyl_to_cart(w: Float[Array, "... 6"]) -> Float[Array, "... 6"]:
    """galpy order (R, vR, vT, z, vz, phi) -> (x, y, z, vx, vy, vz)."""
    R, vR, vT, z, vz, phi = (w[..., i] for i in range(6))
    c, s = jnp.cos(phi), jnp.sin(phi)
    return jnp.stack([R * c, R * s, z, vR * c - vT * s, vR * s + vT * c, vz], axis=-1)


def cart_to_cyl(w: Float[Array, "... 6"]) -> Float[Array, "... 6"]:
    """(x, y, z, vx, vy, vz) -> galpy order (R, vR, vT, z, vz, phi)."""
    x, y, z, vx, vy, vz = (w[..., i] for i in range(6))
    R = jnp.sqrt(x * x + y * y)
    phi = jnp.arctan2(y, x)
    c, s = jnp.cos(phi), jnp.sin(phi)
    return jnp.stack([R, vx * c + vy * s, -vx * s + vy * c, z, vz, phi], axis=-1)


def _rot(xy, angle):
    c, s = jnp.cos(angle), jnp.sin(angle)
    return jnp.stack([c * xy[..., 0] - s * xy[..., 1], s * xy[..., 0] + c * xy[..., 1]], -1)


def to_rotating(w: Float[Array, "... 6"], t, omega: float) -> Float[Array, "... 6"]:
    """Inertial Cartesian state at time t -> state in the frame rotating with ``omega``."""
    ang = -omega * t
    pos = _rot(w[..., :2], ang)
    vel = _rot(w[..., 3:5], ang) + omega * jnp.stack([pos[..., 1], -pos[..., 0]], -1)
    return jnp.concatenate([pos, w[..., 2:3], vel, w[..., 5:6]], -1)


def to_inertial(w: Float[Array, "... 6"], t, omega: float) -> Float[Array, "... 6"]:
    """Rotating-frame Cartesian state at time t -> inertial state."""
    vel_rot = w[..., 3:5] - omega * jnp.stack([w[..., 1], -w[..., 0]], -1)
    ang = omega * t
    return jnp.concatenate(
        [_rot(w[..., :2], ang), w[..., 2:3], _rot(vel_rot, ang), w[..., 5:6]], -1
    )


def _vector_field(potential: Potential, frame):
    if isinstance(frame, Inertial):

        def f(t, w, args):
            return jnp.concatenate([w[3:], potential.acceleration(w[:3], t)])

    else:
        om = frame.omega

        def f(t, w, args):
            x = w[:3]
            xin = jnp.concatenate([_rot(x[:2], om * t), x[2:]])
            a_in = potential.acceleration(xin, t)
            a = jnp.concatenate([_rot(a_in[:2], -om * t), a_in[2:]])
            cor = jnp.stack([2 * om * w[4] + om * om * x[0], -2 * om * w[3] + om * om * x[1], 0.0])
            return jnp.concatenate([w[3:], a + cor])

    return f


def integrate_orbit(
    potential: Potential,
    w0: Float[Array, "6"],
    ts: Float[Array, " n_t"],
    frame: Inertial | Rotating = Inertial(),
    options: OrbitOptions = OrbitOptions(),
) -> Float[Array, "n_t 6"]:
    """Integrate one orbit from ``w0`` at ``ts[0]`` and return the states at ``ts`` (natural units).

    Non-finite output (a failed or exhausted integration) is returned as NaN rows; batch callers
    should check ``jnp.isfinite``. ``ts`` may decrease (backwards integration).
    """
    term = diffrax.ODETerm(_vector_field(potential, frame))
    ts = jnp.asarray(ts, dtype=jnp.float64)
    dt0 = options.dt0
    if dt0 is None:
        dt0 = (ts[-1] - ts[0]) * 1e-3
    sol = diffrax.diffeqsolve(
        term,
        options.solver,
        t0=ts[0],
        t1=ts[-1],
        dt0=dt0,
        y0=jnp.asarray(w0, dtype=jnp.float64),
        saveat=diffrax.SaveAt(ts=ts),
        stepsize_controller=diffrax.PIDController(rtol=options.rtol, atol=options.atol),
        max_steps=options.max_steps,
        adjoint=options.adjoint,
        throw=False,
    )
    ok = sol.result == diffrax.RESULTS.successful
    return jnp.where(ok, sol.ys, jnp.nan)


@eqx.filter_jit
def _integrate_batch(potential, w0, ts, frame, options):
    return jax.vmap(lambda w: integrate_orbit(potential, w, ts, frame, options))(w0)


def _mesh(n_devices: int | None):
    devices = jax.devices()
    if n_devices is None:
        n_devices = 1 if jax.default_backend() == "cpu" else len(devices)
    if not 1 <= n_devices <= len(devices):
        raise ValueError(f"OrbitOptions.devices={n_devices}, but {len(devices)} device(s) visible")
    return jax.sharding.Mesh(np.asarray(devices[:n_devices]), ("d",))


@eqx.filter_jit
def _integrate_blocks(potential, blocks, ts, frame, options, mesh):
    # blocks: (n_devices, blocks_per_device, chunk, 6); each device loops over its own blocks
    def local(b, ts):
        def one_block(c):
            return jax.vmap(lambda w: integrate_orbit(potential, w, ts, frame, options))(c)

        return jax.lax.map(one_block, b[0])[None]

    if mesh.devices.size == 1:
        return local(blocks, ts)
    P = jax.sharding.PartitionSpec
    # check_vma=False: diffrax's loop carries mix device-varying and replicated values
    f = jax.shard_map(local, mesh=mesh, in_specs=(P("d"), P()), out_specs=P("d"), check_vma=False)
    return f(blocks, ts)


def integrate_orbits(
    potential: Potential,
    w0: Float[Array, "n_stars 6"],
    ts: Float[Array, " n_t"],
    frame: Inertial | Rotating = Inertial(),
    options: OrbitOptions = OrbitOptions(),
) -> Float[Array, "n_stars n_t 6"]:
    """Integrate many orbits (Cartesian in and out, natural units); each star has its own
    adaptive steps (vmap of :func:`integrate_orbit`).

    Layout (``options.chunk_size``, ``options.devices``): stars are sorted by energy, cut into
    blocks of ``chunk_size`` similar stars (padded with copies of the last star), the blocks are
    dealt round-robin to the devices of a 1-D mesh and each device integrates its blocks in turn
    (``shard_map`` + ``lax.map``); results come back in the input order. The answer does not
    depend on the layout (each star's integration is independent).
    """
    require_x64("jaxstro.dynamics.integrate_orbits")
    w0 = jnp.asarray(w0, dtype=jnp.float64)
    ts = jnp.asarray(ts, dtype=jnp.float64)
    if w0.ndim != 2 or w0.shape[1] != 6:
        raise ValueError(f"integrate_orbits: w0 must have shape (n_stars, 6), got {w0.shape}")
    if not bool(jnp.all(jnp.isfinite(w0))):
        bad = jnp.nonzero(~jnp.all(jnp.isfinite(w0), axis=1))[0]
        raise ValueError(f"integrate_orbits: non-finite initial conditions for stars {bad[:10]}")
    n = w0.shape[0]
    # float parameters become traced arrays, so one compilation serves e.g. every pattern speed
    potential = jax.tree.map(lambda x: jnp.asarray(x) if isinstance(x, float) else x, potential)
    mesh = _mesh(options.devices)
    n_dev = mesh.devices.size
    chunk = options.chunk_size
    if (chunk is None or n <= chunk) and n_dev == 1:
        return _integrate_batch(potential, w0, ts, frame, options)
    chunk = -(-n // n_dev) if chunk is None else min(chunk, -(-n // n_dev))
    per_dev = -(-n // (n_dev * chunk))
    total = n_dev * per_dev * chunk
    order = np.argsort(np.asarray(_energy_jit(potential, w0, ts[0])), kind="stable")
    order = np.concatenate([order, np.full(total - n, order[-1])])
    # sorted block k goes to device k % n_dev, so each device gets easy and hard blocks alike
    blocks = w0[order].reshape(per_dev, n_dev, chunk, 6).transpose(1, 0, 2, 3)
    out = _integrate_blocks(potential, blocks, ts, frame, options, mesh)
    out = out.transpose(1, 0, 2, 3, 4).reshape(total, ts.shape[0], 6)
    inverse = np.empty(n, dtype=np.int64)
    inverse[order[:n]] = np.arange(n)
    return out[inverse]


@eqx.filter_jit
def _energy_jit(potential, w, t):
    return energy(potential, w, t)


def energy(potential: Potential, w: Float[Array, "... 6"], t=0.0) -> Float[Array, "..."]:
    """E = |v|^2/2 + Phi (inertial Cartesian state)."""
    w = jnp.asarray(w)
    R = jnp.sqrt(w[..., 0] ** 2 + w[..., 1] ** 2)
    phi = jnp.arctan2(w[..., 1], w[..., 0])
    return 0.5 * jnp.sum(w[..., 3:] ** 2, -1) + potential(R, w[..., 2], phi, t)


def angular_momentum_z(w: Float[Array, "... 6"]) -> Float[Array, "..."]:
    """L_z = x vy - y vx."""
    return w[..., 0] * w[..., 4] - w[..., 1] * w[..., 3]


def jacobi(potential: Potential, w: Float[Array, "... 6"], t, omega: float) -> Float[Array, "..."]:
    """Jacobi integral E - omega L_z (inertial state; conserved once a rotating bar is steady)."""
    return energy(potential, w, t) - omega * angular_momentum_z(w)
