"""Injection-recovery and prediction accuracy on mock LAMOST spectra built from real ones.

Mock data: :mod:`jaxstro.tsp._mock` (two real LAMOST LRS spectra, F5 and G3, continuum-normalised
on the ch3 TSP grid, a curved 4-parameter model around them, LAMOST-like wavelength-dependent
noise). Li 6709.702 Å lines of known EW are injected at R = 1800.
"""

import jax
import numpy as np
import pytest

from jaxstro.tsp import (
    TSPConfig,
    injection_recovery,
    lamost_templates,
    li_feature,
    make_feature,
    mock_reference,
    region_prediction_chi2,
)

pytestmark = pytest.mark.needs_data


@pytest.fixture(scope="module")
def mock():
    jax.config.update("jax_enable_x64", True)
    templates = lamost_templates()
    ref = mock_reference(jax.random.key(2), templates, 600)
    return templates, np.asarray(ref["flux"])


def test_injection_recovery_snr50(mock):
    """SNR 50, EW 0 and 0.15 Å, 80 targets per cell (paired noise).

    - EW bias: |mean(EEW - EW)| < 0.01 Å (issue acceptance) - with 80 targets the standard error
      is ~0.006 Å, so the assertion is |bias| < 0.01 + 3 SE; the prediction-only part of the
      bias (TSP EEW minus the EEW of the exact noise residual, no sampling noise of the target
      noise) must be < 0.01 Å outright.
    - Calibration: the reported sigma_EEW matches the scatter of EEW - EW within 25 % (scatter of
      a std from 80 draws is ~8 %; prediction noise adds a little).
    - Linearity: the same stars and noise with and without the line differ by the EW to 1e-6 Å
      (the masked pixels do not enter neighbours or fit, and the line model is the profile).
    - sigma_EEW at SNR 50 exceeds the ch3 cut of 0.05 Å (0.054 Å here; the Cramer-Rao bound
      for a known profile), so no target passes the full ch3 selection at SNR 50.
    """
    templates, ref = mock
    feat = li_feature(templates.wavelength)
    out = injection_recovery(
        jax.random.key(3),
        templates,
        ref,
        feat,
        TSPConfig(k=40, q=4, batch_size=16),
        (0.0, 0.15),
        (50.0,),
        80,
    )
    bias, se = out["bias"][0], out["bias_se"][0]
    assert np.all(np.abs(bias) < 0.01 + 3 * se)
    assert np.all(np.abs(out["pred_bias"][0]) < 0.01)
    assert abs(bias[1] - bias[0]) < 1e-6
    ratio = out["scatter"][0] / out["sigma"][0]
    assert np.all((ratio > 0.75) & (ratio < 1.25))
    assert np.all(out["sigma"][0] > 0.05) and np.all(out["selected"][0] == 0)
    assert out["detected"][0, 1] > out["detected"][0, 0]
    # z = (EEW - EW) / sigma_EEW has unit spread; the 3-sigma criterion fires on the 0.15 Å lines
    # (an unbiased estimator: Phi(0.15/0.054 - 3) ~ 40 %) and on at most 2 of 80 line-free targets
    assert np.all((out["z_std"][0] > 0.75) & (out["z_std"][0] < 1.25))
    assert out["significant"][0, 1] > 0.2 and out["significant"][0, 0] <= 2 / 80
    assert np.all(np.abs(out["pred_bias"][0]) < 0.01 + 3 * out["pred_bias_se"][0])


def test_other_feature_recovered(mock):
    """Any feature: mask a 6440 Å window (Ca I region) instead of Li, inject there, recover EW.

    At SNR 200 (sigma_EEW ~ 0.014 Å) an injected EW of 0.3 Å is recovered to 0.01 + 3 SE and
    selected for all targets (the 0.15 Å threshold is > 10 sigma below). Same shapes as the Li
    test (80 targets, 9 masked pixels), so the compiled function is reused."""
    templates, ref = mock
    feat = make_feature(templates.wavelength, 6440.0, half_width=7.0, name="test6440")
    out = injection_recovery(
        jax.random.key(4),
        templates,
        ref,
        feat,
        TSPConfig(k=40, q=4, batch_size=16),
        (0.3,),
        (200.0,),
        80,
    )
    assert abs(out["bias"][0, 0]) < 0.01 + 3 * out["bias_se"][0, 0]
    assert out["selected"][0, 0] == 1.0


@pytest.mark.slow
def test_local_pca_beats_global_pca(mock):
    """Acceptance 3 (small version): random 100-pixel regions of 40 mock spectra predicted by local
    PCA (k=100) and by a global PCA of the reference set at the same q: the rms error against the
    noiseless truth is lower for local PCA. The margin seen at this size is ~15 %."""
    templates, ref = mock
    test = mock_reference(jax.random.key(5), templates, 40)
    out = region_prediction_chi2(
        jax.random.key(0),
        test["flux"],
        test["ivar"],
        ref,
        (100,),
        (4,),
        true_flux=test["true_flux"],
    )
    assert out["rms"][0, 0] < out["rms_global"][0]
    assert out["chi2"][0, 0] < out["chi2_global"][0]
    assert np.isfinite(out["chi2_mean"][0])
