"""jaxstro.tsp: tangent space projection (TSP, Wheeler et al.; thesis ch3).

Data-driven search for anomalous absorption: for each target, the k nearest reference spectra
outside a masked feature, a local PCA basis of those neighbours, ivar-weighted projection to
predict the masked pixels (eq 3.2), and a matched filter on the residuals (eqs 3.3-3.5)
giving the excess equivalent width (EEW) against contaminant models.

Contents
- features: :class:`Feature`, :func:`make_feature`, :func:`li_feature`,
  :func:`gaussian_line_profile`
- neighbours: :func:`knn` (blocked distances + ``lax.top_k``)
- local basis: :func:`local_basis` (:class:`GramEigh`, :class:`RandomizedPCA`), :func:`global_basis`
- imputation: :func:`project`, :func:`impute`
- matched filter and selection: :func:`matched_filter`, :func:`is_line`, :func:`select`,
  :func:`expected_eew_sigma` (analytic white-noise sigma_EEW)
- TSP for a batch: :class:`TSPConfig`, :class:`TSPResult`, :func:`tsp`, :func:`tsp_batch`,
  ``FLAG_*``
- hyper-parameters: :func:`region_prediction_chi2` (random 100-pixel regions)
- injection-recovery: :func:`injection_recovery`
- catalog pipeline: :func:`run_catalog`, :func:`load_catalog`, :func:`select_catalog`,
  :class:`SpectraFile`, :func:`write_spectra` (CLI: ``jaxstro tsp run | select``)
- mock LAMOST-like spectra: :func:`lamost_templates`, :func:`mock_spectra`, :func:`mock_reference`
"""

from ._basis import GramEigh, RandomizedPCA, global_basis, local_basis
from ._feature import (
    LAMOST_LRS_RESOLUTION,
    LI_6104_VACUUM,
    LI_6708_VACUUM,
    Feature,
    gaussian_line_profile,
    li_feature,
    make_feature,
)
from ._filter import EEW_ERR_MAX, EEW_MIN, expected_eew_sigma, is_line, matched_filter, select
from ._hyper import random_regions, region_prediction_chi2
from ._impute import impute, project
from ._injection import injection_recovery
from ._mock import (
    MockTemplates,
    lamost_templates,
    line_profile,
    mock_reference,
    mock_spectra,
    noiseless_spectra,
    sample_latents,
)
from ._neighbours import knn
from ._pipeline import SpectraFile, load_catalog, run_catalog, select_catalog, write_spectra
from ._tsp import (
    FATAL_FLAGS,
    FLAG_BAD_FIT,
    FLAG_FEW_NEIGHBOURS,
    FLAG_FEW_PIXELS,
    FLAG_NAMES,
    FLAG_NO_FEATURE_IVAR,
    FLAG_NONFINITE_INPUT,
    TSPConfig,
    TSPResult,
    reference_validity,
    sanitize,
    tsp,
    tsp_batch,
)

__all__ = [
    "injection_recovery",
    "MockTemplates",
    "lamost_templates",
    "line_profile",
    "mock_reference",
    "mock_spectra",
    "noiseless_spectra",
    "sample_latents",
    "SpectraFile",
    "load_catalog",
    "run_catalog",
    "select_catalog",
    "write_spectra",
    "random_regions",
    "region_prediction_chi2",
    "EEW_ERR_MAX",
    "EEW_MIN",
    "FATAL_FLAGS",
    "FLAG_BAD_FIT",
    "FLAG_FEW_NEIGHBOURS",
    "FLAG_FEW_PIXELS",
    "FLAG_NAMES",
    "FLAG_NONFINITE_INPUT",
    "FLAG_NO_FEATURE_IVAR",
    "LAMOST_LRS_RESOLUTION",
    "LI_6104_VACUUM",
    "LI_6708_VACUUM",
    "Feature",
    "GramEigh",
    "RandomizedPCA",
    "TSPConfig",
    "TSPResult",
    "gaussian_line_profile",
    "global_basis",
    "impute",
    "expected_eew_sigma",
    "is_line",
    "knn",
    "li_feature",
    "local_basis",
    "make_feature",
    "matched_filter",
    "project",
    "reference_validity",
    "sanitize",
    "select",
    "tsp",
    "tsp_batch",
]
