"""K-fold cross-validation (thesis §2.4: 12 folds), reusing the compiled train and fit functions.

Every fold trains on the full arrays with the held-out stars given zero weight (``star_mask``),
so the compiled training function is the same for all folds; the held-out stars are fitted in
batches of a fixed size (``ceil(n/k)``), so the compiled label fit is reused too.
"""

from __future__ import annotations

import equinox as eqx
import numpy as np
from jaxtyping import Array, Float

from ._labels import FitOptions, LabelFit, fit_padded
from ._train import TrainOptions, train
from ._validate import check_labels, check_spectra
from ._vectorizer import Vectorizer


class CVResult(eqx.Module):
    """Cross-validated labels: ``inferred[i]`` comes from the model that did not see star i."""

    true: Float[Array, "n_stars n_labels"]
    inferred: Float[Array, "n_stars n_labels"]
    fit: LabelFit
    fold: Array
    label_names: tuple[str, ...] = eqx.field(static=True)

    @property
    def residual(self):
        return np.asarray(self.inferred) - np.asarray(self.true)

    def scatter(self) -> np.ndarray:
        """Per-label standard deviation of (inferred - true)."""
        return np.nanstd(self.residual, axis=0)

    def bias(self) -> np.ndarray:
        return np.nanmean(self.residual, axis=0)

    def correlation(self) -> np.ndarray:
        t, x = np.asarray(self.true), np.asarray(self.inferred)
        return np.array([np.corrcoef(t[:, j], x[:, j])[0, 1] for j in range(t.shape[1])])

    def summary(self) -> dict:
        return {
            n: {"scatter": float(s), "bias": float(b), "r": float(r)}
            for n, s, b, r in zip(self.label_names, self.scatter(), self.bias(),
                                  self.correlation(), strict=True)
        }


def kfold_assignment(n: int, k: int, seed: int = 0) -> np.ndarray:
    """Random partition of ``n`` stars into ``k`` folds of near-equal size."""
    rng = np.random.default_rng(seed)
    fold = np.arange(n) % k
    rng.shuffle(fold)
    return fold


def cross_validate(
    labels: Float[Array, "n_stars n_labels"],
    flux: Float[Array, "n_stars n_pixels"],
    ivar: Float[Array, "n_stars n_pixels"],
    vectorizer: Vectorizer,
    *,
    k: int = 12,
    seed: int = 0,
    wavelength=None,
    train_options: TrainOptions = TrainOptions(),
    fit_options: FitOptions = FitOptions(),
    censor=None,
    progress: bool = False,
) -> CVResult:
    """K-fold cross-validation of the Cannon; returns held-out inferred labels for every star."""
    flux, ivar = check_spectra(flux, ivar, what="training spectra")
    n = flux.shape[0]
    labels = check_labels(labels, n, vectorizer.n_labels)
    if not 2 <= k <= n:
        raise ValueError(f"k must be between 2 and the number of stars ({n}), got {k}")
    fold = kfold_assignment(n, k, seed)
    batch = int(np.ceil(n / k))
    fits: list = [None] * k
    it = range(k)
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, desc="cannon CV", unit="fold")
    for i in it:
        held = fold == i
        model = train(labels, flux, ivar, vectorizer, wavelength=wavelength,
                      options=train_options, censor=censor, star_mask=~held)
        fits[i] = fit_padded(model, flux[held], ivar[held], fit_options, batch)
    full = {}
    for name in LabelFit.__dataclass_fields__:
        proto = np.asarray(getattr(fits[0], name))
        full[name] = np.zeros((n, *proto.shape[1:]), proto.dtype)
        for i in range(k):
            full[name][fold == i] = np.asarray(getattr(fits[i], name))
    fit = LabelFit(**full)
    return CVResult(labels, fit.labels, fit, fold, tuple(vectorizer.label_names))
