"""Disentangled representations of stellar spectra for chemical tagging (paper 004).

Data:      ``sample_twin_labels``, ``SynthGenerator`` (jaxstro.synth on the GALAH bands),
           ``StandInGenerator`` (documented analytic stand-in),
           ``make_dataset`` (chunked HDF5, resumable),
           ``load_dataset``, ``TwinDataset``, ``add_noise``
Models:    ``ConditionalAutoencoder``, ``Critic`` (FactorDis), ``Auxiliary`` (FaderDis),
           ``AbundanceEstimator``, ``PolyDis``, ``Architecture`` (paper sizes / ``small()``)
Training:  ``FaderDis``, ``FactorDis`` (strategies), ``Conditioning``, ``init_state``,
           ``make_step``, ``train`` (checkpoint + exact resume), ``save_checkpoint``,
           ``load_checkpoint``
Evaluate:  ``evaluate`` (twin recovery, doppelgangers, recast residuals per SNR; paper values)
Metrics:   ``doppelganger_counts``, ``twin_recovery``, ``doppelganger_curve``, ``pair_distances``,
           ``recast_residuals``, ``linear_abundance_map``
"""

from ._data import (
    ABUNDANCE_DISTRIBUTION,
    LABEL_NAMES,
    PARAMETER_RANGES,
    StandInGenerator,
    TwinDataset,
    add_noise,
    load_dataset,
    make_dataset,
    sample_twin_labels,
)
from ._evaluate import PAPER_FADERDIS_RECOVERY_TEFF_LOGG, PAPER_TABLE3, evaluate
from ._metrics import (
    apply_abundance_map,
    doppelganger_counts,
    doppelganger_curve,
    linear_abundance_map,
    pair_distances,
    recast_residuals,
    twin_recovery,
)
from ._models import (
    AbundanceEstimator,
    Architecture,
    Auxiliary,
    ConditionalAutoencoder,
    Critic,
    PolyDis,
    discretize,
    polynomial_features,
)
from ._synth_generator import GALAH_BANDS, SynthGenerator, band_grid
from ._train import (
    Conditioning,
    FactorDis,
    FaderDis,
    TrainState,
    init_state,
    load_checkpoint,
    make_optimizer,
    make_step,
    save_checkpoint,
    train,
)

__all__ = [
    "ABUNDANCE_DISTRIBUTION", "AbundanceEstimator", "Architecture", "Auxiliary",
    "ConditionalAutoencoder", "Conditioning", "Critic", "FactorDis", "FaderDis", "GALAH_BANDS",
    "LABEL_NAMES", "PAPER_FADERDIS_RECOVERY_TEFF_LOGG", "PAPER_TABLE3", "PARAMETER_RANGES",
    "PolyDis", "StandInGenerator", "SynthGenerator", "TrainState", "TwinDataset", "add_noise",
    "apply_abundance_map", "band_grid", "discretize", "doppelganger_counts", "doppelganger_curve",
    "evaluate", "init_state", "linear_abundance_map", "load_checkpoint", "load_dataset",
    "make_dataset", "make_optimizer", "make_step", "pair_distances", "polynomial_features",
    "recast_residuals", "sample_twin_labels", "save_checkpoint", "train", "twin_recovery",
]  # fmt: skip
