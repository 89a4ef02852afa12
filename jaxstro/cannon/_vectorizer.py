"""The label vectoriser: labels -> polynomial terms (the function f(l_n) of thesis eq 2.4).

Labels are standardised first, ``x = (labels - offsets) / scales``; each term is a product of
integer powers of the standardised labels, ``term_k = prod_j x_j ** exponents[k, j]``. The
exponents are static (Python ints), so the powers unroll into ``lax.integer_pow`` and their
derivatives are finite everywhere (``x ** 0`` never produces ``0 * inf``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jax import lax
from jaxtyping import Array, Float


def polynomial_exponents(n_labels: int, order: int) -> tuple[tuple[int, ...], ...]:
    """All monomials of total degree <= ``order`` in ``n_labels`` variables.

    Ordered: the constant, the linear terms, then degree 2 (``x0^2, x0 x1, ..., x1^2, ...``), etc.
    A quadratic model in N labels has ``(N^2 + 3N)/2 + 1`` terms (thesis §2.3).
    """
    if order < 0:
        raise ValueError(f"polynomial order must be >= 0, got {order}")
    rows: list[tuple[int, ...]] = [(0,) * n_labels]
    for degree in range(1, order + 1):
        for combo in itertools.combinations_with_replacement(range(n_labels), degree):
            e = [0] * n_labels
            for j in combo:
                e[j] += 1
            rows.append(tuple(e))
    return tuple(rows)


def _term_name(exps: Sequence[int], names: Sequence[str]) -> str:
    parts = [n if e == 1 else f"{n}^{e}" for n, e in zip(names, exps, strict=True) if e > 0]
    return "*".join(parts) if parts else "1"


class Vectorizer(eqx.Module):
    """Polynomial label vectoriser with stored standardisation.

    Attributes:
        exponents: static ``(n_terms, n_labels)`` integer exponents; row 0 is normally the constant.
        label_names: static label names.
        standardize: static; if True, :meth:`refit` recomputes ``offsets``/``scales`` as the mean
            and standard deviation of the training labels (thesis §2.3); if False they stay fixed.
        offsets: label offsets, physical units.
        scales: label scales, physical units.
    """

    exponents: tuple[tuple[int, ...], ...] = eqx.field(static=True)
    label_names: tuple[str, ...] = eqx.field(static=True)
    standardize: bool = eqx.field(static=True)
    offsets: Float[Array, " n_labels"]
    scales: Float[Array, " n_labels"]

    def __init__(self, label_names, exponents, offsets=None, scales=None, *, standardize=True):
        self.label_names = tuple(str(n) for n in label_names)
        exps = tuple(tuple(int(e) for e in row) for row in np.asarray(exponents).tolist())
        n = len(self.label_names)
        if any(len(r) != n for r in exps):
            raise ValueError(f"every exponent row needs {n} entries (one per label)")
        if any(e < 0 for r in exps for e in r):
            raise ValueError("exponents must be non-negative integers")
        if len(set(exps)) != len(exps):
            raise ValueError("duplicate terms in the exponent table")
        self.exponents = exps
        self.standardize = bool(standardize)
        self.offsets = jnp.zeros(n) if offsets is None else jnp.asarray(offsets, dtype=float)
        self.scales = jnp.ones(n) if scales is None else jnp.asarray(scales, dtype=float)

    # -- constructors -------------------------------------------------------------------------
    @classmethod
    def polynomial(cls, label_names, order: int = 2, labels=None, *, offsets=None, scales=None,
                   standardize: bool = True) -> Vectorizer:
        """All terms up to total degree ``order``; offsets/scales from ``labels`` if given."""
        v = cls(label_names, polynomial_exponents(len(label_names), order), offsets, scales,
                standardize=standardize)
        return v.refit(labels) if labels is not None and standardize else v

    @classmethod
    def from_terms(cls, label_names, term_exponents, *, offsets=None, scales=None,
                   include_constant: bool = True, standardize: bool = False) -> Vectorizer:
        """Explicit terms (``(n_terms, n_labels)`` exponents), e.g. AnniesLasso's 13 terms."""
        exps = [tuple(int(e) for e in r) for r in np.asarray(term_exponents).tolist()]
        if include_constant:
            exps = [(0,) * len(label_names), *exps]
        return cls(label_names, exps, offsets, scales, standardize=standardize)

    def refit(self, labels, mask=None) -> Vectorizer:
        """Recompute offsets (mean) and scales (std) from ``labels[mask]`` if ``standardize``."""
        if not self.standardize:
            return self
        lab = np.asarray(labels, dtype=float)
        if mask is not None:
            lab = lab[np.asarray(mask, dtype=bool)]
        off = lab.mean(axis=0)
        sc = lab.std(axis=0)
        sc = np.where(sc > 0, sc, 1.0)
        new = (jnp.asarray(off), jnp.asarray(sc))
        return eqx.tree_at(lambda v: (v.offsets, v.scales), self, new)

    # -- properties ---------------------------------------------------------------------------
    @property
    def n_labels(self) -> int:
        return len(self.label_names)

    @property
    def n_terms(self) -> int:
        return len(self.exponents)

    @property
    def term_names(self) -> tuple[str, ...]:
        return tuple(_term_name(r, self.label_names) for r in self.exponents)

    @property
    def order(self) -> int:
        return max(sum(r) for r in self.exponents)

    def term_uses_label(self) -> np.ndarray:
        """``(n_terms, n_labels)`` bool: term k contains label j."""
        return np.asarray(self.exponents, dtype=int) > 0

    # -- evaluation ---------------------------------------------------------------------------
    def standardise(self, labels: Float[Array, "... n_labels"]) -> Float[Array, "... n_labels"]:
        return (labels - self.offsets) / self.scales

    def unstandardise(self, x: Float[Array, "... n_labels"]) -> Float[Array, "... n_labels"]:
        return x * self.scales + self.offsets

    def terms_std(self, x: Float[Array, " n_labels"]) -> Float[Array, " n_terms"]:
        """Terms of one *standardised* label vector."""
        out = []
        for row in self.exponents:
            t = jnp.ones((), dtype=x.dtype)
            for j, e in enumerate(row):
                if e > 0:
                    t = t * lax.integer_pow(x[j], e)
            out.append(t)
        return jnp.stack(out)

    def __call__(self, labels: Float[Array, " n_labels"]) -> Float[Array, " n_terms"]:
        """Terms of one physical label vector (vmap for many)."""
        return self.terms_std(self.standardise(labels))

    def design_matrix(
        self, labels: Float[Array, "n_stars n_labels"]
    ) -> Float[Array, "n_stars n_terms"]:
        import jax

        return jax.vmap(self)(jnp.asarray(labels, dtype=float))

    def metadata(self) -> dict:
        return {
            "label_names": list(self.label_names),
            "exponents": [list(r) for r in self.exponents],
            "standardize": self.standardize,
            "term_names": list(self.term_names),
        }
