"""Injection-recovery grid on mock LAMOST spectra (issue 8 acceptance 2) and local vs global PCA
on random 100-pixel regions (acceptance 3).

Mock spectra: jaxstro.tsp._mock (two real LAMOST LRS spectra -> curved 4-parameter model,
LAMOST-like noise, ch3 grid). Li 6709.702 Å lines of known EW are injected at R = 1800 into the
same stars and noise draws for every EW (paired design). Per (SNR, EW) cell:

- EW bias mean(EEW - EW) with its standard error, and its prediction-only part (``pred_bias``);
- reported sigma_EEW vs the empirical scatter and vs the analytic white-noise matched-filter value
  for LAMOST sampling (1e-4 dex pixels) and resolution (R = 1800): 3.00 Å / SNR;
- completeness (EW > 0) and false-positive rate (EW = 0) of (i) the ch3 selection (EEW > 0.15 Å,
  sigma_EEW < 0.05 Å, line model preferred, no fatal flag) and (ii) a detection criterion:
  EEW / sigma_EEW > 3 with the line model preferred and no fatal flag (no EEW threshold);
- the completeness an unbiased Gaussian estimator with the reported sigma would give (analytic).

Writes benchmarks/results/tsp_injection.json and tsp_injection.png (and tsp_hyper.json unless
--skip-hyper).

    python -m benchmarks.tsp_injection                 # 3,000 references, 1,000 targets per SNR
    python -m benchmarks.tsp_injection --quick         # 600 references, 30 targets per cell
"""

from __future__ import annotations

import argparse
import os
import time

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
from scipy.stats import norm  # noqa: E402

from benchmarks._timing import RESULTS, record  # noqa: E402
from jaxstro.tsp import (  # noqa: E402
    EEW_ERR_MAX,
    EEW_MIN,
    TSPConfig,
    expected_eew_sigma,
    injection_recovery,
    lamost_templates,
    li_feature,
    mock_reference,
    mock_spectra,
    region_prediction_chi2,
)

N_SIGMA = 3.0


def _bias_stats(out: dict, i: int, j: int) -> dict:
    """EEW bias, its standard error, the prediction-only part and the scatter at (SNR i, EW j)."""
    keys = ("bias", "bias_se", "pred_bias", "pred_bias_se", "scatter")
    return {f"{k}_A": out[k][i, j] for k in keys}


def _snr_for_completeness(snrs, comp, goal=0.9):
    """Smallest SNR (log-interpolated) where comp reaches goal; None if never."""
    snrs, comp = np.asarray(snrs), np.asarray(comp)
    above = np.flatnonzero(comp >= goal)
    if len(above) == 0:
        return None
    j = above[0]
    if j == 0:
        return float(snrs[0])
    x0, x1, y0, y1 = np.log(snrs[j - 1]), np.log(snrs[j]), comp[j - 1], comp[j]
    return float(np.exp(x0 + (goal - y0) * (x1 - x0) / (y1 - y0)))


def _figure(out, snrs, ews, sig_an, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 4, figsize=(17, 3.8))
    ewf = np.linspace(0, ews.max(), 100)
    for i, snr in enumerate(snrs):
        c = f"C{i}"
        s = out["sigma"][i, 0]
        ax[0].plot(ews, out["selected"][i], "o-", color=c, label=f"SNR {snr:g}")
        ch3 = norm.cdf((ewf - EEW_MIN) / s) * (s < EEW_ERR_MAX)
        ax[0].plot(ewf, ch3, ":", color=c)
        ax[1].plot(ews, out["significant"][i], "o-", color=c, label=f"SNR {snr:g}")
        ax[1].plot(ewf, norm.cdf(ewf / s - N_SIGMA), ":", color=c)
    for a, t in zip(
        ax[:2],
        ("(i) ch3: EEW>0.15, σ<0.05, line", f"(ii) EEW/σ>{N_SIGMA:g}, line"),
        strict=True,
    ):
        a.axvline(0.15, color="k", lw=0.5)
        a.axhline(0.9, color="k", lw=0.5, ls="--")
        a.set(xlabel="injected EW [Å]", ylabel="selected fraction", title=t, ylim=(-0.02, 1.02))
    ax[0].legend(fontsize=7, title="dotted: unbiased Gaussian", title_fontsize=7)
    j = int(np.argmin(np.abs(ews - 0.15)))
    ax[2].errorbar(snrs, out["bias"][:, j], out["bias_se"][:, j], fmt="o-", label="EEW - EW")
    ax[2].errorbar(
        snrs, out["pred_bias"][:, j], out["pred_bias_se"][:, j], fmt="s-", label="prediction part"
    )
    ax[2].axhspan(-0.01, 0.01, color="0.9")
    ax[2].set(xscale="log", xlabel="SNR", ylabel="bias [Å]", title=f"bias at EW {ews[j]:g} Å")
    ax[2].legend(fontsize=7)
    ax[3].plot(snrs, out["sigma"][:, j], "o-", label="reported σ_EEW (mean)")
    ax[3].plot(snrs, out["scatter"][:, j], "s-", label="scatter of EEW - EW")
    ax[3].plot(snrs, sig_an, "k--", label="analytic 3.00 Å / SNR")
    ax[3].axhline(EEW_ERR_MAX, color="C3", lw=0.8, label="ch3 cut 0.05 Å")
    ax[3].set(xscale="log", yscale="log", xlabel="SNR", ylabel="σ_EEW [Å]", title="uncertainty")
    ax[3].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--n-ref", type=int, default=3000)
    ap.add_argument("--n-cell", type=int, default=1000, help="targets per (SNR, EW) cell")
    ap.add_argument("--k", type=int, default=150)
    ap.add_argument("--q", type=int, default=4)
    ap.add_argument("--skip-hyper", action="store_true")
    a = ap.parse_args(argv)
    n_ref, n_cell, k, q = (600, 30, 40, 4) if a.quick else (a.n_ref, a.n_cell, a.k, a.q)
    ews = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4) if not a.quick else (0.0, 0.15, 0.3)
    snrs = (20.0, 35.0, 50.0, 70.0, 100.0, 200.0) if not a.quick else (50.0, 100.0)
    load_start = os.getloadavg()
    t0 = time.perf_counter()
    templates = lamost_templates()
    ref = np.asarray(mock_reference(jax.random.key(2), templates, n_ref)["flux"])
    feat = li_feature(templates.wavelength)
    cfg = TSPConfig(k=k, q=q, batch_size=16)
    out = injection_recovery(
        jax.random.key(3), templates, ref, feat, cfg, ews, snrs, n_cell, n_sigma=N_SIGMA
    )
    wall = time.perf_counter() - t0
    wl = feat.wavelength
    dl = float(np.diff(wl)[np.searchsorted(wl, feat.line_center)])
    sig_an = np.array([expected_eew_sigma(1.0 / s, feat.line_sigma, dl) for s in snrs])
    # the mock's own per-pixel noise in the Li window, x SNR (LAMOST throughput shape x sqrt(f))
    d = mock_spectra(jax.random.key(9), templates, 500, 50.0)
    local = float(np.median(50.0 / np.sqrt(np.asarray(d["ivar"])[:, feat.masked_idx])))
    ews_a = np.asarray(ews)
    rows = []
    for i, snr in enumerate(snrs):
        s = out["sigma"][i, 0]
        for j, ew in enumerate(ews):
            rows.append(
                {
                    "snr": snr,
                    "ew_A": ew,
                    "ch3_selected": out["selected"][i, j],
                    "significant_3sigma_line": out["significant"][i, j],
                    "detected_no_sigma_cut": out["detected"][i, j],
                    **_bias_stats(out, i, j),
                    "mean_sigma_A": s,
                    "z_std": out["z_std"][i, j],
                    "analytic_sigma_A": sig_an[i],
                    "unbiased_gauss_ch3": float(
                        norm.cdf((ew - EEW_MIN) / s) * (s < EEW_ERR_MAX) if ew > 0 else np.nan
                    ),
                    "unbiased_gauss_3sigma": float(norm.cdf(ew / s - N_SIGMA)),
                    "n_ok": int(out["n_ok"][i, j]),
                }
            )
    i50 = snrs.index(50.0) if 50.0 in snrs else 0
    j15 = int(np.argmin(np.abs(ews_a - 0.15)))
    j0 = int(np.flatnonzero(ews_a == 0.0)[0])
    s50 = out["sigma"][i50, j15]
    summary = {
        "snr": snrs[i50],
        "ew_A": ews[j15],
        **_bias_stats(out, i50, j15),
        "bias_goal_A": 0.01,
        "bias_goal_met": bool(abs(out["bias"][i50, j15]) + 2 * out["bias_se"][i50, j15] < 0.01),
        "mean_sigma_A": s50,
        "analytic_sigma_continuum_A": sig_an[i50],
        "mock_local_noise_x_snr": local,
        "analytic_sigma_mock_local_noise_A": float(sig_an[i50] * local),
        "completeness_ch3": out["selected"][i50, j15],
        "completeness_ch3_no_sigma_cut": out["detected"][i50, j15],
        "completeness_3sigma_line": out["significant"][i50, j15],
        "fpr_ch3": out["selected"][i50, j0],
        "fpr_ch3_no_sigma_cut": out["detected"][i50, j0],
        "fpr_3sigma_line": out["significant"][i50, j0],
        "completeness_goal": 0.9,
        "best_possible_completeness_at_fpr_0.13pct": float(norm.cdf(ews[j15] / s50 - 3.0)),
        "threshold_for_90pct_completeness_sigma": float(ews[j15] / s50 - norm.ppf(0.9)),
        "fpr_at_that_threshold": float(norm.sf(ews[j15] / s50 - norm.ppf(0.9))),
        "snr_for_90pct_at_0.15_3sigma_line": _snr_for_completeness(
            snrs, out["significant"][:, j15]
        ),
        "snr_for_sigma_below_0.05_analytic": float(snrs[0] * sig_an[0] / EEW_ERR_MAX),
    }
    print("summary at SNR 50, EW 0.15 Å:")
    for kk, v in summary.items():
        print(f"  {kk}: {v}")
    record(
        "tsp_injection" + ("_quick" if a.quick else ""),
        rows,
        n_ref=n_ref,
        k=k,
        q=q,
        n_per_cell=n_cell,
        n_sigma=N_SIGMA,
        pixel_width_A=dl,
        line_sigma_A=feat.line_sigma,
        summary_snr50=summary,
        wall_s=wall,
        load_avg_1_5_15_start=list(load_start),
        load_avg_1_5_15_end=list(os.getloadavg()),
    )
    _figure(
        out,
        np.asarray(snrs),
        ews_a,
        sig_an,
        RESULTS / ("tsp_injection" + ("_quick" if a.quick else "") + ".png"),
    )
    if a.skip_hyper:
        return
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
