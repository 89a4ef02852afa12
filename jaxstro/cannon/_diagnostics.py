"""Diagnostics of thesis ch2: extrapolation bounds (the 90 % rule), dwarf/giant split, chemical
distance, and one-to-one plots."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float


def is_giant(teff: Float[Array, "..."], logg: Float[Array, "..."]) -> Array:
    """Giant (True) or dwarf by thesis eq 2.1 (LAMOST Teff [K], logg [dex]).

    The dividing line is ``logg = 4.18`` for ``Teff < 5200 K`` and
    ``logg = -6e-4 Teff/K + 7.3`` above (continuous at 5200 K); giants lie below it.
    """
    teff = jnp.asarray(teff)
    line = jnp.where(teff < 5200.0, 4.18, -6e-4 * teff + 7.3)
    return jnp.asarray(logg) < line


def chemical_distance(
    x_a: Float[Array, "... n_elements"],
    x_b: Float[Array, "... n_elements"],
    sigma: Float[Array, " n_elements"],
) -> Float[Array, "..."]:
    """Precision-scaled Euclidean distance, thesis eq 2.6: ``sqrt(sum_i (d[X_i/Fe] / sigma_i)^2)``.

    ``sigma`` are the CV-assessed uncertainties of each abundance.
    """
    d = (jnp.asarray(x_a) - jnp.asarray(x_b)) / jnp.asarray(sigma)
    return jnp.sqrt(jnp.sum(d * d, axis=-1))


def silverman_bandwidth(x: np.ndarray, d: int) -> float:
    """Silverman's rule of thumb for a d-dimensional Gaussian KDE, per dimension."""
    n = x.shape[0]
    return float((4.0 / (d + 2.0)) ** (1.0 / (d + 4.0)) * n ** (-1.0 / (d + 4.0)) * np.std(x))


class ExtrapolationBounds(eqx.Module):
    """Per-label interval of inferred values inside which the model is not biased by the 90 % rule.

    Attributes:
        lower, upper: ``(n_labels,)`` bounds in physical units.
        label_names: static names.
    """

    lower: Float[Array, " n_labels"]
    upper: Float[Array, " n_labels"]
    label_names: tuple[str, ...] = eqx.field(static=True, default=())

    def flag(self, labels: Float[Array, "... n_labels"]) -> Array:
        """``(..., n_labels)`` bool: True where a label falls outside its bounds."""
        lab = jnp.asarray(labels)
        return (lab < self.lower) | (lab > self.upper)


def conditional_cdf_at_diagonal(true, inferred, grid):
    """``P(l_true < g | l_inferred = g)`` on ``grid`` from a 2-D Gaussian KDE (Silverman bandwidth).

    With a product kernel the conditional CDF is closed form:
    ``sum_i K_h2(g - inf_i) Phi((g - true_i)/h1) / sum_i K_h2(g - inf_i)``.
    """
    from scipy.special import ndtr

    true = np.asarray(true, float)
    inferred = np.asarray(inferred, float)
    h1 = silverman_bandwidth(true, 2)
    h2 = silverman_bandwidth(inferred, 2)
    g = np.asarray(grid, float)[:, None]
    logk = -0.5 * ((g - inferred[None, :]) / h2) ** 2
    k = np.exp(logk - np.max(logk, axis=1, keepdims=True))
    return np.sum(k * ndtr((g - true[None, :]) / h1), axis=1) / np.sum(k, axis=1)


def extrapolation_bounds(
    true: Float[Array, "n_stars n_labels"],
    inferred: Float[Array, "n_stars n_labels"],
    *,
    level: float = 0.9,
    n_grid: int = 512,
    label_names=(),
) -> ExtrapolationBounds:
    """Bounds beyond which the model under- or over-predicts ``level`` of the time (thesis §2.4).

    For each label, ``p(l_true, l_inferred)`` is approximated by a Gaussian KDE (Silverman
    bandwidth); at each inferred value g we compute ``c(g) = P(l_true < g | l_inferred = g)``.
    The model over-predicts 90 % of the time where ``c > level`` and under-predicts where
    ``c < 1 - level``. The bounds delimit the longest run of grid points (spanning the inferred
    range) where neither happens; +-inf where that run reaches the end of the data, NaN if the
    model is biased everywhere.
    """
    true = np.asarray(true, float)
    inferred = np.asarray(inferred, float)
    if true.ndim == 1:
        true, inferred = true[:, None], inferred[:, None]
    lo, hi = [], []
    for j in range(true.shape[1]):
        ok = np.isfinite(true[:, j]) & np.isfinite(inferred[:, j])
        t, x = true[ok, j], inferred[ok, j]
        grid = np.linspace(x.min(), x.max(), n_grid)
        c = np.asarray(conditional_cdf_at_diagonal(t, x, grid))
        good = (c <= level) & (c >= 1.0 - level)
        if not good.any():
            lo.append(np.nan)
            hi.append(np.nan)
            continue
        # the longest run of consecutive unbiased grid points
        edges = np.diff(np.concatenate([[0], good.astype(int), [0]]))
        starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
        k = int(np.argmax(stops - starts))
        i0, i1 = starts[k], stops[k]
        lo.append(grid[i0] if i0 > 0 else -np.inf)
        hi.append(grid[i1] if i1 < n_grid - 1 else np.inf)
    return ExtrapolationBounds(
        lower=jnp.asarray(lo), upper=jnp.asarray(hi), label_names=tuple(str(n) for n in label_names)
    )


def one_to_one_plot(true, inferred, label_names, *, bounds: ExtrapolationBounds | None = None,
                    path=None):
    """One-to-one plots (inferred vs reference) per label, with scatter and bias in the titles."""
    import matplotlib.pyplot as plt

    true = np.asarray(true)
    inferred = np.asarray(inferred)
    n = true.shape[1]
    fig, axes = plt.subplots(1, n, figsize=(3.6 * n, 3.4), squeeze=False)
    for j, ax in enumerate(axes[0]):
        t, x = true[:, j], inferred[:, j]
        ax.scatter(t, x, s=4, alpha=0.6)
        lim = [np.nanmin([t, x]), np.nanmax([t, x])]
        ax.plot(lim, lim, "k-", lw=0.8)
        d = x - t
        ax.set_title(f"{label_names[j]}: scatter {np.nanstd(d):.3g}, bias {np.nanmean(d):.2g}",
                     fontsize=9)
        ax.set_xlabel("reference")
        ax.set_ylabel("Cannon (CV)")
        if bounds is not None:
            for v in (float(bounds.lower[j]), float(bounds.upper[j])):
                if np.isfinite(v):
                    ax.axhline(v, color="r", lw=0.8, ls="--")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
