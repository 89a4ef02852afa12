"""Injection-recovery of lines of known equivalent width into mock LAMOST-like targets."""

from __future__ import annotations

import jax
import numpy as np
from jaxtyping import Array

from ._feature import Feature
from ._filter import EEW_ERR_MAX, EEW_MIN
from ._mock import MockTemplates, line_profile, mock_spectra, sample_latents
from ._tsp import FATAL_FLAGS, TSPConfig, tsp


def injection_recovery(
    key: Array,
    templates: MockTemplates,
    reference_flux: np.ndarray,
    feature: Feature,
    config: TSPConfig,
    ews: tuple[float, ...],
    snrs: tuple[float, ...],
    n_per_cell: int,
    *,
    min_eew: float = EEW_MIN,
    max_eew_err: float = EEW_ERR_MAX,
    n_sigma: float = 3.0,
) -> dict[str, np.ndarray]:
    """Inject Gaussian lines (unit-EW profile of ``feature`` x EW) and run TSP on every cell.

    Each (SNR, EW) cell has ``n_per_cell`` targets; the same latent stars and noise draws are used
    for every EW at one SNR (paired design, so EW dependence is not confused with sampling noise).

    Returns arrays of shape (len(snrs), len(ews)):
      ``selected``: fraction passing the ch3 selection (EEW > min_eew, sigma < max_eew_err, line
      preferred, no fatal flag) - completeness for EW > 0, false-positive rate for EW = 0;
      ``detected``: the same without the sigma cut; ``significant``: the detection criterion
      EEW / sigma_EEW > ``n_sigma``, line preferred, no fatal flag (no EEW threshold);
      ``bias``: mean(EEW - EW) and ``bias_se`` its standard error; ``scatter``: std(EEW - EW);
      ``sigma``: mean reported sigma_EEW; ``z_std``: std of (EEW - EW) / sigma_EEW (1 if the
      reported errors are right); ``pred_bias``: mean EEW error from the prediction alone (EEW of
      TSP minus EEW of the same target's exact residual ``flux - true_flux``): the systematic part
      of the bias, free of the target's own noise in the masked pixels; ``n_ok``: targets without
      a fatal flag.
    """
    line = line_profile(
        feature.wavelength,
        feature.line_center,
        feature.line_center / (feature.line_sigma * 2.0 * np.sqrt(2 * np.log(2))),
    )
    m = feature.line_model
    shape = (len(snrs), len(ews))
    out = {
        k: np.zeros(shape)
        for k in (
            "selected",
            "detected",
            "significant",
            "bias",
            "bias_se",
            "scatter",
            "sigma",
            "z_std",
            "pred_bias",
            "pred_bias_se",
            "n_ok",
        )
    }
    k_lat, k_noise = jax.random.split(key)
    latents = sample_latents(k_lat, n_per_cell)
    for i, snr in enumerate(snrs):
        for j, ew in enumerate(ews):
            d = mock_spectra(
                jax.random.fold_in(k_noise, i),
                templates,
                n_per_cell,
                snr,
                ew=ew,
                line=line,
                latents=latents,
            )
            flux, ivar = np.asarray(d["flux"]), np.asarray(d["ivar"])
            r = tsp(flux, ivar, reference_flux, feature, config)
            eew, err = np.asarray(r.eew), np.asarray(r.eew_err)
            ok = (np.asarray(r.flags) & FATAL_FLAGS) == 0
            det = ok & (eew > min_eew) & np.asarray(r.isline)
            out["detected"][i, j] = det.mean()
            out["selected"][i, j] = (det & (err < max_eew_err)).mean()
            out["significant"][i, j] = (ok & np.asarray(r.isline) & (eew > n_sigma * err)).mean()
            out["n_ok"][i, j] = ok.sum()
            dev = eew - ew
            out["bias"][i, j] = dev.mean()
            out["bias_se"][i, j] = dev.std(ddof=1) / np.sqrt(len(dev))
            out["scatter"][i, j] = dev.std(ddof=1)
            out["sigma"][i, j] = err.mean()
            out["z_std"][i, j] = (dev / err).std(ddof=1)
            # the exact residual's EEW (noise only): TSP's EEW minus this = prediction error
            mi = feature.masked_idx
            noise = (flux - np.asarray(d["true_flux"]))[:, mi] + ew * m
            iv = ivar[:, mi]
            exact = (noise * iv) @ m / ((m * m * iv).sum(1))
            out["pred_bias"][i, j] = np.mean(eew - exact)
            out["pred_bias_se"][i, j] = np.std(eew - exact, ddof=1) / np.sqrt(len(eew))
    out["ews"], out["snrs"] = np.asarray(ews), np.asarray(snrs)
    out["n_sigma"] = np.asarray(n_sigma)
    return out
