"""jaxstro.infer: Bayesian fitting of spectra with numpyro (MAP and NUTS), arviz output.

Models
    spectrum_model              any differentiable forward model + priors + continuum
                                polynomial (analytically marginalised or sampled) + masked
                                Gaussian likelihood
    cannon_label_model          labels of one star with a trained Cannon as the likelihood
    marginal_continuum_loglike, legendre_design
Forward model from jaxstro.synth
    make_synth_forward, SynthForward   (Teff, logg, [M/H], [alpha/M], vmic, vsini, RV, R) ->
                                       normalised spectrum on the observed wavelengths
Runners
    least_squares_fit           Levenberg-Marquardt MAP (flat priors in bounds) with multiple
                                starts, feature clipping and formal errors
    find_map (multi-start, vmapped), run_nuts (vectorised chains), MAPResult
    find_map_batch              MAP of many stars in one compiled call, sharded over devices
One-call fits (MAP -> NUTS -> InferenceData + summary)
    fit_cannon_labels, fit_spectrum, FitResult, check_priors_in_grid (synth priors vs grid)
    run_fit_demo                the infer step of ``jaxstro demo`` (APOGEE Cannon-label fit)
Output
    to_inference_data (arviz), summarize (astropy Table with r_hat / ESS and warnings),
    trace_and_corner (figures)
"""

from ._demo import run_fit_demo
from ._fit import FitResult, check_priors_in_grid, fit_cannon_labels, fit_spectrum
from ._forward import PARAMETERS, SynthForward, make_synth_forward
from ._lsq import least_squares_fit
from ._models import (
    cannon_label_model,
    legendre_design,
    marginal_continuum_loglike,
    spectrum_model,
)
from ._run import (
    MAPResult,
    find_map,
    find_map_batch,
    run_nuts,
    summarize,
    to_inference_data,
    trace_and_corner,
)

__all__ = [
    "FitResult", "MAPResult", "PARAMETERS", "SynthForward", "cannon_label_model",
    "check_priors_in_grid", "find_map",
    "find_map_batch", "least_squares_fit", "make_synth_forward",
    "fit_cannon_labels", "fit_spectrum", "legendre_design", "marginal_continuum_loglike",
    "run_fit_demo", "run_nuts", "spectrum_model", "summarize", "to_inference_data",
    "trace_and_corner",
]  # fmt: skip
