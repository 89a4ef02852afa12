"""Injection-recovery grid on mock LAMOST spectra (issue 8 acceptance 2) and local vs global PCA
on random 100-pixel regions (acceptance 3).

Mock spectra: jaxstro.tsp._mock (two real LAMOST LRS spectra -> curved 4-parameter model,
LAMOST-like noise, ch3 grid). Li 6709.702 Å lines of known EW injected at R = 1800;
completeness (EW > 0) and false-positive rate (EW = 0) of the ch3 selection
and of the detection without the sigma cut.

    python -m benchmarks.tsp_injection           # 3,000 references, 200 targets per cell
    python -m benchmarks.tsp_injection --quick   # 600 references, 30 targets per cell
"""

from __future__ import annotations

import argparse

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402

from benchmarks._timing import record  # noqa: E402
from jaxstro.tsp import (  # noqa: E402
    TSPConfig,
    injection_recovery,
    lamost_templates,
    li_feature,
    mock_reference,
    region_prediction_chi2,
)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--n-ref", type=int, default=3000)
    ap.add_argument("--n-cell", type=int, default=200, help="targets per (SNR, EW) cell")
    ap.add_argument("--k", type=int, default=150)
    ap.add_argument("--q", type=int, default=8)
    a = ap.parse_args(argv)
    n_ref, n_cell, k, q = (600, 30, 40, 4) if a.quick else (a.n_ref, a.n_cell, a.k, a.q)
    ews = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3) if not a.quick else (0.0, 0.15, 0.3)
    snrs = (20.0, 50.0, 100.0, 200.0) if not a.quick else (50.0, 100.0)
    templates = lamost_templates()
    ref = np.asarray(mock_reference(jax.random.key(2), templates, n_ref)["flux"])
    feat = li_feature(templates.wavelength)
    cfg = TSPConfig(k=k, q=q, batch_size=16)
    out = injection_recovery(jax.random.key(3), templates, ref, feat, cfg, ews, snrs, n_cell)
    rows = []
    for i, snr in enumerate(snrs):
        for j, ew in enumerate(ews):
            rows.append(
                {
                    "snr": snr,
                    "ew_A": ew,
                    "ch3_selected": out["selected"][i, j],
                    "detected_no_sigma_cut": out["detected"][i, j],
                    "bias_A": out["bias"][i, j],
                    "bias_se_A": out["bias_se"][i, j],
                    "pred_bias_A": out["pred_bias"][i, j],
                    "scatter_A": out["scatter"][i, j],
                    "mean_sigma_A": out["sigma"][i, j],
                }
            )
    record(
        "tsp_injection" + ("_quick" if a.quick else ""),
        rows,
        n_ref=n_ref,
        k=k,
        q=q,
        n_per_cell=n_cell,
    )
    test = mock_reference(jax.random.key(5), templates, 40 if a.quick else 200)
    ks, qs = ((40, 100), (2, 4, 8)) if a.quick else ((30, 100, 300), (2, 4, 8, 16))
    hp = region_prediction_chi2(
        jax.random.key(0), test["flux"], test["ivar"], ref, ks, qs, true_flux=test["true_flux"]
    )
    rows = []
    for b, qq in enumerate(qs):
        row = {"q": qq, "global_chi2": hp["chi2_global"][b], "global_rms": hp["rms_global"][b]}
        for c, kk in enumerate(ks):
            row[f"k{kk}_chi2"] = hp["chi2"][c, b]
            row[f"k{kk}_rms"] = hp["rms"][c, b]
        rows.append(row)
    record(
        "tsp_hyper" + ("_quick" if a.quick else ""),
        rows,
        ks=list(ks),
        neighbour_mean_chi2=hp["chi2_mean"].tolist(),
        neighbour_mean_rms=hp["rms_mean"].tolist(),
    )


if __name__ == "__main__":
    main()
