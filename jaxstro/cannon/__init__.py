"""jaxstro.cannon: The Cannon (Ness et al. 2015; thesis ch2) in JAX.

Model
    Vectorizer, polynomial_exponents      labels -> polynomial terms (eq 2.4), standardisation
    CannonModel, save_model, load_model   trained model (theta, scatter, wavelengths) and its file
Training (vmapped over pixels)
    TrainOptions, train                   ML theta | s by WLS and s by bounded 1-D ML (eq 2.5)
Test step (vmapped over stars, sharded over devices)
    FitOptions, LabelFit                  options / result of the label fit
    LevenbergMarquardt, OptimistixLM      solvers: LM on the chi2 quadratic form; optimistix LM
    fit_labels_one, fit_labels            Levenberg-Marquardt labels, covariance, chi2
Evaluation (§2.4)
    cross_validate, CVResult              K-fold (12 by default) cross-validation
    extrapolation_bounds, ExtrapolationBounds   KDE 90 % rule
    is_giant, chemical_distance, one_to_one_plot  eq 2.1, eq 2.6, plots
Catalogs
    SpectraSource, run_catalog, collect_catalog  chunked, resumable, sharded label inference
"""

from ._catalog import collect_catalog, run_catalog
from ._cv import CVResult, cross_validate, kfold_assignment
from ._diagnostics import (
    ExtrapolationBounds,
    chemical_distance,
    extrapolation_bounds,
    is_giant,
    one_to_one_plot,
)
from ._io import SpectraSource
from ._labels import (
    FitOptions,
    LabelFit,
    LevenbergMarquardt,
    OptimistixLM,
    fit_labels,
    fit_labels_one,
)
from ._model import CannonModel, load_model, save_model
from ._train import TrainOptions, train
from ._vectorizer import Vectorizer, polynomial_exponents

__all__ = [
    "CVResult",
    "CannonModel",
    "ExtrapolationBounds",
    "FitOptions",
    "LabelFit",
    "LevenbergMarquardt",
    "OptimistixLM",
    "SpectraSource",
    "TrainOptions",
    "Vectorizer",
    "chemical_distance",
    "collect_catalog",
    "cross_validate",
    "extrapolation_bounds",
    "fit_labels",
    "fit_labels_one",
    "is_giant",
    "kfold_assignment",
    "load_model",
    "one_to_one_plot",
    "polynomial_exponents",
    "run_catalog",
    "save_model",
    "train",
]
