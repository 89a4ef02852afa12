"""Statistical mechanics: partition functions, Saha ionisation, molecular equilibrium (LTE).

Units are cgs throughout (number densities in cm^-3, T in K, energies in eV where stated).

Physics
-------
- Atomic partition functions U(T) for "X I", "X II", "X III", Z = 1-92, from the NIST-level sums
  tabulated by Korg (Wheeler et al. 2023, AJ 165, 68) on a natural-log T grid, interpolated with a
  natural cubic spline in ln T (differentiable). Bare nuclei (H II, He III) have U = 1.
- Saha equation with the Barklem & Collet (2016, A&A 588, A96) ionisation energies:
  n(X II) n_e / n(X I) = 2 U_II/U_I (2 pi m_e k T / h^2)^{3/2} exp(-chi_I / kT), same for II -> III.
- Diatomic molecules (282 neutral and singly charged): Barklem & Collet (2016) equilibrium constants
  K_p = p_A p_B / p_AB [dyn cm^-2], re-expressed by Korg with cations AB+ <-> A+ + B (A the lower-Z
  atom); C2 corrected to the Visser et al. (2019) dissociation energy (Aquilina et al. 2024).
- Polyatomic molecules (24 neutral): K_p from the Saha equation for molecules with ExoMol partition
  functions (nuclear-spin degeneracy divided out) and NIST atomization energies D0,
  prod(n_i)/n_M = prod(U_i)/U_M (2 pi k T/h^2)^{3(N-1)/2} (prod m_i/m_M)^{3/2} exp(-D0/kT);
  HCN's D0 corrected from the data file's 1204.0 kJ/mol (the value of its isomer HNC) to
  1266.35 kJ/mol (``_partition.D0_CORRECTIONS_KJ_PER_MOL``).

Chemical equilibrium
--------------------
Unknowns (94, per layer): ln n of the neutral atom of each element (92), ln n_e and ln N, with N the
number density of nuclei. Every species density is a linear function of these in log space
(ln n_s = A_s . u + e_s ln n_e + c_s(T)). Equations, each written as a difference of logarithms
(a relative residual, so the scale of each element does not matter):

- nuclei conservation of element X: ln sum_s c_Xs n_s = ln(a_X N), a_X = n_X / sum_Y n_Y from A(X);
- charge conservation: ln sum_s q_s n_s = ln n_e;
- ideal gas (Dalton): ln(sum_s n_s + n_e) = ln n_tot, with n_tot = P_gas/kT.

Solving for N (rather than setting N = n_tot - n_e as if every particle were an atom) keeps the
pressure right where molecules (mostly H2) bind a sizeable fraction of the nuclei. Newton's method
with an analytic Jacobian and a step length capped in ln space, from a Saha-only start that uses the
caller's n_e guess. Gradients come from the implicit-function theorem via ``jax.lax.custom_root``
(the iterations are never differentiated).

Output: ``n`` is a :class:`SpeciesDensities` (a read-only ``Mapping[str, Array]`` holding one array,
so that jit does not compile ~860 separate outputs): ``n["Fe I"]``, ``n["CO"]``, ``dict(n)``.

Validation (tests/synth/test_statmech.py): the electron pressures of the four staged MARCS models
are reproduced within 1.4 % in every layer (own abundances, T, P_gas), ATLAS9 XNE within 1.5 %,
the MARCS diatomic partial pressures within 0.01-0.12 dex (T < 10^4 K); Newton converges for the
ATLAS9 corners (3500/7000 K, logg 0/5) with [M/H] = -4..+1.

Negative ions (H-, ...) are NOT part of the network: H- holds at most ~1e-5 of the free electrons in
FGK(M) atmospheres (n(H-)/n_e = n(H I) * 1e-17..-18 cm^3 at 3500-7000 K) and the continuum code
computes n(H-) from n(H I) and n_e itself.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from jaxstro._config import require_x64
from jaxstro.synth import _partition as _p
from jaxstro.synth._elements import SYMBOLS

__all__ = [
    "EquilibriumData",
    "EquilibriumSolution",
    "EquilibriumOptions",
    "SpeciesDensities",
    "load_equilibrium_data",
    "chemical_equilibrium",
    "checked_chemical_equilibrium",
    "solve_chemical_equilibrium",
    "saha_ion_fractions",
    "absolute_abundances",
    "SolveElectronDensity",
    "HoldElectronPressure",
    "atmosphere_equilibrium",
    "held_pressure_heights",
]

_LN10 = np.log(10.0)
_MISSING = -1.0e4  # ln of a Saha factor / density for a stage that does not exist (exp -> 0)
# ln[(2 pi m_e k / h^2)^{3/2}]: translational factor of the Saha equation, times T^{3/2}
_LN_SAHA_CONST = 1.5 * np.log(2 * np.pi * _p.ELECTRON_MASS_CGS * _p.KBOLTZ_CGS / _p.HPLANCK_CGS**2)


def _eval_uniform(coeffs: Array, x0: float, step: float, x: Array) -> Array:
    """Evaluate piecewise cubics (..., n_int, 4) on a uniform grid at scalar x (extrapolating)."""
    n_int = coeffs.shape[-2]
    i = jnp.clip(jnp.floor((x - x0) / step), 0, n_int - 1).astype(jnp.int32)
    t = x - (x0 + step * i)
    c = jnp.take(coeffs, i, axis=-2)  # (..., 4)
    return c[..., 0] + t * (c[..., 1] + t * (c[..., 2] + t * c[..., 3]))


def absolute_abundances(A_X: Float[Array, "92"]) -> Float[Array, "92"]:
    """A(X) = log10(n_X/n_H) + 12 -> n_X / n_nuclei (sums to one)."""
    w = jnp.asarray(A_X) * _LN10
    return jnp.exp(w - jax.scipy.special.logsumexp(w))


class EquilibriumData(eqx.Module):
    """Tables of statistical mechanics, built by :func:`load_equilibrium_data`.

    Arrays are jax arrays (leaves of the pytree); names and grids are static.
    """

    atom_coeffs: Float[Array, "3 92 n 4"]  # spline coefficients of U(T) vs ln T
    chi: Float[Array, "92 3"]  # ionisation energies [eV]; NaN where the stage does not exist
    mol_logK_coeffs: Float[Array, "m k 4"]  # spline coefficients of log10 K_p [cgs] vs ln T
    mol_lnU_coeffs: Float[Array, "m k 4"]  # spline coefficients of ln U_mol vs ln T
    mol_counts: Float[Array, "m 92"]  # atoms of each element in each molecule
    mol_n_atoms: Float[Array, " m"]
    mol_charge: Float[Array, " m"]
    mol_ion_onehot: Float[Array, "m 92"]  # which constituent carries the charge (cations)
    # sparse composition: pairs (molecule, element, count>0) and triples (pair, element Y, c_MY)
    pair_mol: Array
    pair_el: Array
    pair_count: Array
    trip_pair: Array
    trip_flat: Array  # pair_el * 92 + Y
    trip_count: Array
    mol_has_U: tuple[bool, ...] = eqx.field(static=True)
    molecules: tuple[str, ...] = eqx.field(static=True)
    atom_lnT_min: float = eqx.field(static=True)
    atom_lnT_step: float = eqx.field(static=True)
    mol_lnT_min: float = eqx.field(static=True)
    mol_lnT_step: float = eqx.field(static=True)

    # ------------------------------------------------------------------ per-T quantities
    def atomic_partition_functions(self, T: Float[Array, ""]) -> Float[Array, "3 92"]:
        """U(T) of every atomic species, rows I, II, III; columns Z = 1..92."""
        return _eval_uniform(self.atom_coeffs, self.atom_lnT_min, self.atom_lnT_step, jnp.log(T))

    def log10_equilibrium_constants(self, T: Float[Array, ""]) -> Float[Array, " m"]:
        """log10 K_p [K_p = prod p_constituents / p_molecule in dyn cm^-2 powers] of all
        molecules (order ``self.molecules``); for cations the constituent ion is the lower-Z atom.
        """
        return _eval_uniform(self.mol_logK_coeffs, self.mol_lnT_min, self.mol_lnT_step, jnp.log(T))

    def partition_function(self, species: str, T: Float[Array, "..."]) -> Float[Array, "..."]:
        """U(T) of one species ("Fe I", "CO", "HHO", ...); differentiable, broadcasts over T.

        Atoms: NIST level sums (isolated atom). Diatomics: Barklem & Collet (2016). Polyatomics:
        ExoMol without nuclear-spin degeneracy (continued as a power law beyond the table).
        """
        zs, charge = _p.parse_species(species)
        T = jnp.asarray(T, dtype=float)
        if len(zs) == 1:
            if charge > 2:
                raise ValueError(f"no partition function for {species!r} (stages I-III only)")
            coeffs = self.atom_coeffs[charge, zs[0] - 1]

            def f(t):
                return _eval_uniform(coeffs, self.atom_lnT_min, self.atom_lnT_step, jnp.log(t))

            return jnp.vectorize(f)(T)
        j = self._molecule_index(species)
        if not self.mol_has_U[j]:
            raise ValueError(f"no partition function tabulated for molecule {species!r}")

        def f(t):
            return jnp.exp(
                _eval_uniform(self.mol_lnU_coeffs[j], self.mol_lnT_min, self.mol_lnT_step,
                              jnp.log(t))
            )

        return jnp.vectorize(f)(T)

    def ionization_energy(self, Z: int, stage: int) -> float:
        """Ionisation energy [eV] of element Z from stage (1 = neutral, 2, 3) to the next."""
        if not (1 <= int(Z) <= 92) or int(stage) not in (1, 2, 3):
            raise ValueError(f"ionization_energy: need 1 <= Z <= 92 and stage in 1..3, got {Z}, "
                             f"{stage}")
        chi = float(np.asarray(self.chi)[int(Z) - 1, int(stage) - 1])
        if not np.isfinite(chi):
            raise ValueError(f"{SYMBOLS[int(Z) - 1]} has no stage {stage + 1} (no electron left)")
        return chi

    def log10_equilibrium_constant(self, molecule: str, T: Float[Array, "..."]) -> Array:
        """log10 K_p(T) [cgs pressure form] of one molecule; differentiable, broadcasts over T."""
        j = self._molecule_index(molecule)
        T = jnp.asarray(T, dtype=float)
        return jnp.vectorize(
            lambda t: _eval_uniform(self.mol_logK_coeffs[j], self.mol_lnT_min,
                                    self.mol_lnT_step, jnp.log(t))
        )(T)

    def _molecule_index(self, molecule: str) -> int:
        try:
            return self.molecules.index(molecule)
        except ValueError:
            raise ValueError(
                f"no molecular data for {molecule!r}; molecules use Korg notation (constituents "
                "sorted by Z, e.g. 'HC' for CH, 'OTi' for TiO, 'HHO' for H2O)"
            ) from None

    @property
    def species(self) -> tuple[str, ...]:
        """Names of the species in the output dict of :func:`chemical_equilibrium`."""
        return _species_names(self.molecules)


def load_equilibrium_data() -> EquilibriumData:
    """Load and tabulate all statistical-mechanics data (a few seconds; do it once)."""
    require_x64("load_equilibrium_data")
    atomic = _p.load_atomic_tables()
    mol = _p.load_molecular_tables(atomic)
    n_mol = len(mol["names"])
    onehot = np.zeros((n_mol, 92))
    for j, z in enumerate(mol["ion_element"]):
        if z >= 0:
            onehot[j, z] = 1.0
    counts = np.asarray(mol["counts"])
    pair_mol, pair_el = np.nonzero(counts)
    trip_pair, trip_el = [], []
    for p, (m, _) in enumerate(zip(pair_mol, pair_el, strict=True)):
        for y in np.nonzero(counts[m])[0]:
            trip_pair.append(p)
            trip_el.append(y)
    trip_pair, trip_el = np.array(trip_pair), np.array(trip_el)
    return EquilibriumData(
        pair_mol=jnp.asarray(pair_mol),
        pair_el=jnp.asarray(pair_el),
        pair_count=jnp.asarray(counts[pair_mol, pair_el], dtype=float),
        trip_pair=jnp.asarray(trip_pair),
        trip_flat=jnp.asarray(pair_el[trip_pair] * 92 + trip_el),
        trip_count=jnp.asarray(counts[pair_mol[trip_pair], trip_el], dtype=float),
        atom_coeffs=jnp.asarray(atomic["coeffs"]),
        chi=jnp.asarray(atomic["chi"]),
        mol_logK_coeffs=jnp.asarray(mol["logK_coeffs"]),
        mol_lnU_coeffs=jnp.asarray(mol["lnU_coeffs"]),
        mol_counts=jnp.asarray(mol["counts"], dtype=float),
        mol_n_atoms=jnp.asarray(mol["n_atoms"], dtype=float),
        mol_charge=jnp.asarray(mol["charge"], dtype=float),
        mol_ion_onehot=jnp.asarray(onehot),
        mol_has_U=tuple(bool(b) for b in mol["has_U"]),
        molecules=mol["names"],
        atom_lnT_min=atomic["lnT_min"],
        atom_lnT_step=atomic["lnT_step"],
        mol_lnT_min=float(_p.MOL_LNT_MIN),
        mol_lnT_step=float(_p.MOL_LNT_STEP),
    )


# ------------------------------------------------------------------------------------------------
# the network
def _species_names(molecules: tuple[str, ...]) -> tuple[str, ...]:
    names = [f"{s} I" for s in SYMBOLS] + [f"{s} II" for s in SYMBOLS]
    names += [f"{s} III" for s in SYMBOLS[1:]]  # no H III
    return tuple(names) + tuple(molecules)


def _ln_saha(T: Array, data: EquilibriumData) -> tuple[Array, Array]:
    """ln of n(X II) n_e / n(X I) and n(X III) n_e / n(X II), each (92,); _MISSING if absent."""
    U = data.atomic_partition_functions(T)  # (3, 92)
    U = jnp.maximum(U, 1e-300)
    kT_eV = _p.KBOLTZ_EV * T
    trans = _LN_SAHA_CONST + 1.5 * jnp.log(T) + jnp.log(2.0)
    chi = data.chi
    exists = jnp.isfinite(chi)
    chi0 = jnp.where(exists, chi, 0.0)
    ln1 = trans + jnp.log(U[1]) - jnp.log(U[0]) - chi0[:, 0] / kT_eV
    ln2 = trans + jnp.log(U[2]) - jnp.log(U[1]) - chi0[:, 1] / kT_eV
    return jnp.where(exists[:, 0], ln1, _MISSING), jnp.where(exists[:, 1], ln2, _MISSING)


class _Network(NamedTuple):
    """The T-dependent constants of the network (the composition indices live in the data).

    ln n(X I) = u_X; ln n(X II) = u_X + ln1_X - ln n_e; ln n(X III) = ln n(X II) + ln2_X - ln n_e;
    ln n(M) = sum_X counts_MX u_X - charge_M ln n_e + c_M  (c_M includes ln1 of a cation's ion).
    """

    ln1: Array  # (92,)
    ln2: Array  # (92,)
    c_mol: Array  # (n_mol,)


def _network(T: Array, data: EquilibriumData) -> _Network:
    ln1, ln2 = _ln_saha(T, data)
    kT = _p.KBOLTZ_CGS * T
    ln_kp = data.log10_equilibrium_constants(T) * _LN10
    # AB <-> A + B: n_AB = n_A n_B kT / K_p; cation AB+ <-> A+ + B: n_A+ = n_A S1_A / n_e
    c_mol = (data.mol_n_atoms - 1) * jnp.log(kT) - ln_kp + data.mol_ion_onehot @ ln1
    return _Network(ln1=ln1, ln2=ln2, c_mol=c_mol)


def _log_densities(z: Array, net: _Network, data: EquilibriumData) -> Array:
    """ln n of all species, in the order of ``_species_names`` (H III dropped)."""
    u, ln_ne = z[:92], z[92]
    ln_II = u + net.ln1 - ln_ne
    ln_III = ln_II + net.ln2 - ln_ne
    return jnp.concatenate([u, ln_II, ln_III[1:], _ln_molecules(u, ln_ne, net, data)])


def _ln_molecules(u, ln_ne, net, data):
    n_mol = data.mol_n_atoms.shape[0]
    lin = jax.ops.segment_sum(data.pair_count * u[data.pair_el], data.pair_mol, n_mol)
    return lin - data.mol_charge * ln_ne + net.c_mol


_LN_CAP = 700.0  # exp(700) ~ 1e304: keeps intermediate Newton states finite


def _residual_and_jacobian(z, net, data, ln_a, ln_target, with_jac=True, hold_ne=False):
    """Residuals (94,) and their analytic Jacobian (94, 94) w.r.t. z = [u (92), ln n_e, ln N].

    The last equation is the ideal-gas law ln(sum n + n_e) = ``ln_target`` = ln n_tot, or, with
    ``hold_ne`` (the electron density given, P_gas unknown), ln n_e = ``ln_target``.

    Sparse in the molecules: each (molecule, element) pair and each (pair, constituent) triple
    is one entry of precomputed index lists, so a Newton step costs O(n_species), not O(92^2).
    """
    u, ln_ne, ln_N = z[:92], z[92], z[93]
    ln_f2 = net.ln1 - ln_ne  # ln n(II)/n(I)
    ln_f3 = ln_f2 + net.ln2 - ln_ne  # ln n(III)/n(I)
    ln_nm = jnp.minimum(_ln_molecules(u, ln_ne, net, data), _LN_CAP)
    # nuclei of X relative to its neutral atoms: R_X = 1 + f2 + f3 + sum_M c_MX n_M / n_XI
    lr = jnp.minimum(jnp.log(data.pair_count) + ln_nm[data.pair_mol] - u[data.pair_el], _LN_CAP)
    e_lr = jnp.exp(lr)
    f2, f3 = jnp.exp(jnp.minimum(ln_f2, _LN_CAP)), jnp.exp(jnp.minimum(ln_f3, _LN_CAP))
    R = 1.0 + f2 + f3 + jax.ops.segment_sum(e_lr, data.pair_el, 92)
    r_X = u + jnp.log(R) - ln_a - ln_N
    # charge: ln sum q n = ln n_e
    q_terms = jnp.concatenate([u + ln_f2, u + ln_f3 + jnp.log(2.0),
                               jnp.where(data.mol_charge > 0, ln_nm, -jnp.inf)])
    lse_q = jax.scipy.special.logsumexp(q_terms)
    r_e = lse_q - ln_ne
    # ideal gas: ln(sum n + n_e) = ln n_tot, or the held electron density
    p_terms = jnp.concatenate([u, u + ln_f2, u + ln_f3, ln_nm, ln_ne[None]])
    lse_p = jax.scipy.special.logsumexp(p_terms)
    r_p = (ln_ne if hold_ne else lse_p) - ln_target
    r = jnp.concatenate([r_X, r_e[None], r_p[None]])
    if not with_jac:
        return r, None
    n_mol = ln_nm.shape[0]
    # element rows
    w_p = e_lr / R[data.pair_el]  # weight of pair p in its element's sum
    J_uu = jnp.diag((1.0 + f2 + f3) / R)
    J_uu = J_uu + jax.ops.segment_sum(
        w_p[data.trip_pair] * data.trip_count, data.trip_flat, 92 * 92
    ).reshape(92, 92)
    J_Xe = (-f2 - 2 * f3) / R - jax.ops.segment_sum(w_p * data.mol_charge[data.pair_mol],
                                                    data.pair_el, 92)
    J_X = jnp.concatenate([J_uu, J_Xe[:, None], -jnp.ones((92, 1))], axis=1)

    def row(weights, e_coef, extra):
        # d/dz of a log-sum-exp whose species weights are given per block (I, II, III, mol)
        wI, wII, wIII, wm = weights
        du = wI + wII + wIII + jax.ops.segment_sum(wm[data.pair_mol] * data.pair_count,
                                                   data.pair_el, 92)
        de = -jnp.sum(wII) - 2 * jnp.sum(wIII) - jnp.sum(wm * data.mol_charge) + e_coef
        return jnp.concatenate([du, de[None], extra])

    wq = jnp.exp(q_terms - lse_q)
    J_e = row((jnp.zeros(92), wq[:92], wq[92:184], wq[184:]), -1.0, jnp.zeros(1))
    if hold_ne:
        J_p = jnp.zeros(94).at[92].set(1.0)
    else:
        wp = jnp.exp(p_terms - lse_p)
        J_p = row((wp[:92], wp[92:184], wp[184:276], wp[276:276 + n_mol]), wp[-1], jnp.zeros(1))
    J = jnp.concatenate([J_X, J_e[None], J_p[None]], axis=0)
    return r, J


class SpeciesDensities(eqx.Module, Mapping):
    """Number densities of all species: a read-only ``Mapping[str, Array]`` and a pytree.

    Stored as ONE array ``array`` (..., n_species) with static ``names``, so that jit/vmap see a
    single leaf (an XLA program with ~860 separate outputs takes minutes to compile on CPU).
    ``n["Fe I"]`` returns ``array[..., i]`` (layer-shaped under vmap); ``dict(n)`` or
    :meth:`as_dict` give a plain dict.
    """

    array: Float[Array, "... s"]
    names: tuple[str, ...] = eqx.field(static=True)

    def __getitem__(self, species: str) -> Array:
        try:
            i = self.names.index(species)
        except ValueError:
            raise KeyError(
                f"{species!r} is not in the equilibrium network (atoms 'X I/II/III', molecules "
                "in Korg notation such as 'HH', 'CO', 'HHO', 'OTi')"
            ) from None
        return self.array[..., i]

    def __iter__(self):
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def __contains__(self, species) -> bool:
        return species in self.names

    def as_dict(self) -> dict[str, Array]:
        return {k: self.array[..., i] for i, k in enumerate(self.names)}


class EquilibriumSolution(eqx.Module):
    """Result of :func:`solve_chemical_equilibrium` for one layer."""

    electron_density: Float[Array, ""]  # cm^-3
    number_densities: SpeciesDensities  # cm^-3, Mapping species -> density
    nuclei_density: Float[Array, ""]  # N = sum over elements of nuclei, cm^-3
    total_density: Float[Array, ""]  # sum of all densities + n_e = P_gas / kT, cm^-3
    converged: Array  # bool
    max_residual: Float[Array, ""]  # max |ln residual| at the solution
    iterations: Array  # Newton steps taken


@functools.partial(jax.custom_jvp, nondiff_argnums=(0, 1))
def _newton_solve(options, hold_ne, z0, net, data, ln_a, ln_ntot):
    """Newton iterations in ln space -> (z, iterations, max |residual|).

    Differentiated by the implicit-function theorem (custom JVP below): dz = -J^{-1} dr/dp dp,
    with J the analytic Jacobian at the solution; the iterations themselves are never traced by
    autodiff. Reverse mode works by transposing the (linear) tangent map.
    """

    def cond(state):
        _, it, err = state
        return (err > options.tol) & (it < options.max_iterations)

    def body(state):
        # one residual + Jacobian evaluation per step; ``err`` is the residual at the point the
        # step was taken from, so the loop stops one (quadratically converging) step after
        # |r| <= tol and the reported error is a conservative bound.
        z, it, _ = state
        r, J = _residual_and_jacobian(z, net, data, ln_a, ln_ntot, hold_ne=hold_ne)
        dz = -jnp.linalg.solve(J, r)
        dz = jnp.where(jnp.isfinite(dz), dz, 0.0)
        scale = jnp.minimum(1.0, options.max_step / jnp.maximum(jnp.max(jnp.abs(dz)), 1e-300))
        err = jnp.where(jnp.all(jnp.isfinite(r)), jnp.max(jnp.abs(r)), jnp.inf)
        return z + scale * dz, it + 1, err

    return jax.lax.while_loop(cond, body, (z0, jnp.array(0, jnp.int32), jnp.array(jnp.inf)))


@_newton_solve.defjvp
def _newton_solve_jvp(options, hold_ne, primals, tangents):
    z0, net, data, ln_a, ln_ntot = primals
    _, t_net, _, t_ln_a, t_ln_ntot = tangents
    z, it, err = _newton_solve(options, hold_ne, z0, net, data, ln_a, ln_ntot)
    z = jax.lax.stop_gradient(z)

    def r_of_params(nt, la, lt):
        return _residual_and_jacobian(z, nt, data, la, lt, with_jac=False, hold_ne=hold_ne)[0]

    # the T-dependent constants, the abundances and n_tot (or the held n_e) carry tangents
    # (the tables are data)
    _, dr = jax.jvp(r_of_params, (net, ln_a, ln_ntot), (t_net, t_ln_a, t_ln_ntot))
    _, J = _residual_and_jacobian(z, net, data, ln_a, ln_ntot, hold_ne=hold_ne)
    dz = -jnp.linalg.solve(J, dr)
    t_it = np.zeros((), dtype=jax.dtypes.float0)
    return (z, it, err), (dz, t_it, jnp.zeros_like(err))


class EquilibriumOptions(eqx.Module):
    """Newton settings (small frozen module): tolerance on |ln residual|, step cap in ln units."""

    tol: float = 1e-11
    max_iterations: int = 100
    max_step: float = 3.0


def saha_ion_fractions(T, ne, data: EquilibriumData) -> Float[Array, "3 92"]:
    """Fractions of each element in stages I, II, III at (T, n_e), atoms only (no molecules)."""
    ln1, ln2 = _ln_saha(T, data)
    ln_ne = jnp.log(ne)
    w = jnp.stack([jnp.zeros(92), ln1 - ln_ne, ln1 + ln2 - 2 * ln_ne])
    return jax.nn.softmax(w, axis=0)


def solve_chemical_equilibrium(
    T: Float[Array, ""],
    n_tot: Float[Array, ""],
    ne_guess: Float[Array, ""],
    A_X: Float[Array, "92"],
    data: EquilibriumData,
    options: EquilibriumOptions = EquilibriumOptions(),
    *,
    hold_electron_density: bool = False,
) -> EquilibriumSolution:
    """One layer of LTE chemical equilibrium, returning a convergence status instead of raising.

    ``T`` [K], ``n_tot`` = P_gas / kT [cm^-3] (all particles including electrons), ``ne_guess``
    [cm^-3] (e.g. the model atmosphere's n_e; only the starting point), ``A_X`` (92,) abundances
    A(X) = log10(n_X/n_H) + 12 (use e.g. -99 or less for absent elements). Differentiable in T,
    n_tot and A_X through the implicit-function theorem.

    ``hold_electron_density=True`` (static) swaps the roles: ``ne_guess`` is the electron density
    held fixed and ``n_tot`` only the starting point; the gas pressure follows from the solution
    (``total_density``). This is the convention of Turbospectrum/MARCS opacity codes (T and P_e
    from the model, P_gas recomputed); differentiable in T, the held n_e and A_X.
    """
    T = jnp.asarray(T, dtype=float)
    n_tot = jnp.asarray(n_tot, dtype=float)
    ne_guess = jnp.asarray(ne_guess, dtype=float)
    A_X = jnp.asarray(A_X, dtype=float)
    ln_a = jnp.log(absolute_abundances(A_X))
    net = _network(T, data)
    ln_target = jnp.log(ne_guess) if hold_electron_density else jnp.log(n_tot)

    # Saha-only start with the guessed (or held) n_e
    n_start = jax.lax.stop_gradient(n_tot)
    if hold_electron_density:  # the starting gas density must hold the electrons
        n_start = jnp.maximum(n_start, jax.lax.stop_gradient(3.0 * ne_guess))
    ne0 = jax.lax.stop_gradient(jnp.clip(ne_guess, 1e-10 * n_start, 0.5 * n_start))
    N0 = n_start - ne0
    frac = saha_ion_fractions(jax.lax.stop_gradient(T), ne0, jax.lax.stop_gradient(data))
    u0 = jax.lax.stop_gradient(ln_a) + jnp.log(N0) + jnp.log(frac[0])
    z0 = jnp.concatenate([u0, jnp.log(ne0)[None], jnp.log(N0)[None]])

    z, it, err = _newton_solve(options, bool(hold_electron_density), z0, net, data, ln_a,
                               ln_target)  # fmt: skip
    ln_n = _log_densities(z, net, data)
    n = jnp.exp(ln_n)
    names = _species_names(data.molecules)
    ne = jnp.exp(z[92])
    return EquilibriumSolution(
        electron_density=ne,
        number_densities=SpeciesDensities(array=n, names=names),
        nuclei_density=jnp.exp(z[93]),
        total_density=jnp.sum(n) + ne,
        converged=jnp.isfinite(err) & (err <= options.tol * 10),
        max_residual=err,
        iterations=it,
    )


def chemical_equilibrium(
    T: Float[Array, ""],
    n_tot: Float[Array, ""],
    ne_guess: Float[Array, ""],
    A_X: Float[Array, "92"],
    data: EquilibriumData,
    *,
    hold_electron_density: bool = False,
) -> tuple[Float[Array, ""], dict[str, Float[Array, ""]]]:
    """LTE number densities of all species in one layer (vmap over layers).

    Returns ``(n_e, n)`` with ``n`` a dict species -> density [cm^-3] holding every "X I", "X II",
    "X III" (no "H III") and every molecule in ``data.molecules``. Raises (``eqx.error_if``, also
    inside jit) if Newton does not converge. ``hold_electron_density``: keep ``ne_guess`` as the
    electron density and recompute the gas pressure (see :func:`solve_chemical_equilibrium`).
    """
    sol = checked_chemical_equilibrium(T, n_tot, ne_guess, A_X, data,
                                       hold_electron_density=hold_electron_density)
    return sol.electron_density, sol.number_densities


def checked_chemical_equilibrium(T, n_tot, ne_guess, A_X, data: EquilibriumData, *,
                                 hold_electron_density: bool = False) -> EquilibriumSolution:
    """:func:`solve_chemical_equilibrium` after the input checks, raising (``eqx.error_if``,
    inside jit too) when Newton does not converge; returns the whole solution."""
    require_x64("chemical_equilibrium")
    T, n_tot, ne_guess, A_X = _check_inputs(T, n_tot, ne_guess, A_X)
    sol = solve_chemical_equilibrium(T, n_tot, ne_guess, A_X, data,
                                     hold_electron_density=hold_electron_density)
    ne = eqx.error_if(
        sol.electron_density,
        ~sol.converged,
        "chemical_equilibrium: Newton did not converge (max |ln residual| above tolerance after "
        "the maximum number of iterations); use solve_chemical_equilibrium for the status",
    )
    return eqx.tree_at(lambda s: s.electron_density, sol, ne)


def _check_inputs(T, n_tot, ne_guess, A_X):
    """Shape checks (ValueError) and value checks (eqx.error_if, works inside jit)."""
    T, n_tot, ne_guess = (jnp.asarray(x, dtype=float) for x in (T, n_tot, ne_guess))
    A_X = jnp.asarray(A_X, dtype=float)
    for name, x in (("T", T), ("n_tot", n_tot), ("ne_guess", ne_guess)):
        if x.shape != ():
            raise ValueError(
                f"chemical_equilibrium works on one layer: {name} must be a scalar, got shape "
                f"{x.shape} (vmap over layers)"
            )
    if A_X.shape != (92,):
        raise ValueError(f"A_X must have shape (92,) (Z = 1..92), got {A_X.shape}")
    T = eqx.error_if(T, ~(jnp.isfinite(T) & (T > 0)), "chemical_equilibrium: T must be > 0 K")
    n_tot = eqx.error_if(n_tot, ~(jnp.isfinite(n_tot) & (n_tot > 0)),
                         "chemical_equilibrium: n_tot must be > 0 cm^-3")
    ne_guess = eqx.error_if(ne_guess, ~(jnp.isfinite(ne_guess) & (ne_guess > 0)),
                            "chemical_equilibrium: ne_guess must be > 0 cm^-3")
    A_X = eqx.error_if(A_X, ~jnp.all(jnp.isfinite(A_X)) | jnp.any(A_X > 13.0),
                       "chemical_equilibrium: A_X must be finite and <= 13 (A(H) = 12)")
    return T, n_tot, ne_guess, A_X


# ------------------------------------------------------------------------------------------------
# how a model atmosphere's electrons are treated (a small strategy module, see synthesize)
class SolveElectronDensity(eqx.Module):
    """Korg convention (default): T and P_gas from the model; n_e (and every density) solved from
    the abundances by chemical equilibrium. Changing A(X) on an unchanged model changes n_e."""


class HoldElectronPressure(eqx.Module):
    """Turbospectrum/MARCS-opacity convention: T and P_e from the model; the gas pressure (all
    densities) is recomputed by chemical equilibrium at that P_e.

    The model's column mass is kept: the heights are rescaled by the ratio of the model's nuclei
    density to the recomputed one (``held_pressure_heights``), which matters for models whose
    optical depth is integrated on z (ATLAS9, PFANT); on tau_5000-anchored models only the
    spherical path lengths see it. The model's nuclei density is taken as n - n_e (molecules
    neglected), the approximation with which the ATLAS9 reader derives z from RHOX.
    """


def held_pressure_heights(atm, nuclei_density: Float[Array, " n_layers"]) -> Float[Array, " n"]:
    """Heights z [cm] of ``atm`` after its densities changed to ``nuclei_density`` at the same
    column mass: dz_new = dz (n - n_e)_model / N_new (trapezoid), with z = 0 kept where the model
    has z = 0 (tau_Ross = 1)."""
    f = (atm.number_density - atm.electron_density) / nuclei_density
    steps = 0.5 * (f[1:] + f[:-1]) * jnp.diff(atm.z)
    z = jnp.concatenate([jnp.zeros(1), jnp.cumsum(steps)])
    return z - jnp.interp(0.0, -atm.z, z)


def atmosphere_equilibrium(atm, A_X: Float[Array, "92"], data: EquilibriumData,
                           electrons: SolveElectronDensity | HoldElectronPressure | None = None):
    """Chemical equilibrium in every layer of ``atm`` (vmapped) under the ``electrons`` convention.

    Returns ``(atm_used, n_e, n)``: the atmosphere the opacities and the transfer should use (the
    input for :class:`SolveElectronDensity`; with the recomputed ``number_density`` and rescaled
    heights for :class:`HoldElectronPressure`), the electron densities (n_layers,) and the species
    densities (layer-shaped). Raises inside jit (``eqx.error_if``) on bad input or no convergence.
    """
    electrons = SolveElectronDensity() if electrons is None else electrons
    if isinstance(electrons, SolveElectronDensity):
        hold = False
    elif isinstance(electrons, HoldElectronPressure):
        hold = True
    else:
        raise TypeError(f"electrons must be SolveElectronDensity() or HoldElectronPressure(), got "
                        f"{electrons!r}")
    solve = functools.partial(checked_chemical_equilibrium, hold_electron_density=hold)
    sol = jax.vmap(solve, in_axes=(0, 0, 0, None, None))(
        atm.temperature, atm.number_density, atm.electron_density, A_X, data)
    if hold:
        z = held_pressure_heights(atm, sol.nuclei_density)
        atm = eqx.tree_at(lambda a: (a.number_density, a.z), atm, (sol.total_density, z))
    return atm, sol.electron_density, sol.number_densities
