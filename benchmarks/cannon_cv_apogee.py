"""Benchmark: 12-fold cross-validation of a quadratic Cannon on real APOGEE spectra (issue 7).

Data: the 671 APOGEE DR12 red giants of the AnniesLasso fixture (``jaxstro.data`` name
``annieslasso_apogee``: 100 continuum-normalised pixels, 15168-15189 A; reference labels TEFF,
LOGG, PARAM_M_H from ASPCAP DR12). Model: quadratic in the 3 labels (10 terms), maximum-likelihood
theta and s (eq 2.5), Levenberg-Marquardt test step, i.e. ``jaxstro.cannon.cross_validate`` with
its defaults and ``k = 12`` as in thesis §2.4.

Per label it reports, for the CV residual ``inferred - reference``:
* scatter (standard deviation), with a bootstrap standard error over stars and the range over
  other random fold partitions (``--seeds``);
* bias (mean) and robust scatter (1.4826 x median absolute deviation about the median);
* Pearson r, the spread of the reference labels, the median formal (Cramer-Rao) uncertainty of
  the test step, and the fraction of stars outside the KDE 90 % extrapolation bounds;
* the same CV with Casey's thecannon (PyPI ``annieslasso``, numpy<2, run in its own environment
  ``/work/peers/annieslasso/bin/python`` on the same folds, in the same run), and the ratio.

Writes ``benchmarks/results/cannon_cv_apogee.json`` and the one-to-one figure
``benchmarks/results/cannon_cv_apogee.png``.

    python -m benchmarks.cannon_cv_apogee            # 12 folds, 4 extra partitions, peer
    python -m benchmarks.cannon_cv_apogee --no-peer --seeds 0
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

from benchmarks._timing import RESULTS, record  # noqa: E402
from jaxstro.cannon import (  # noqa: E402
    Vectorizer,
    cross_validate,
    extrapolation_bounds,
    kfold_assignment,
    one_to_one_plot,
)
from jaxstro.data import load_npz  # noqa: E402

PEER_PYTHON = Path(os.environ.get("ANNIESLASSO_PYTHON", "/work/peers/annieslasso/bin/python"))
PEER_SCRIPT = Path(__file__).resolve().parent / "peers" / "annieslasso_cv.py"


def robust_scatter(r):
    """1.4826 x median absolute deviation about the median, per column (NaNs ignored)."""
    return 1.4826 * np.nanmedian(np.abs(r - np.nanmedian(r, axis=0)), axis=0)


def bootstrap_std_error(r, n_boot, rng):
    """Standard error of the per-column standard deviation, by resampling stars."""
    idx = rng.integers(0, r.shape[0], size=(n_boot, r.shape[0]))
    return np.std(np.nanstd(r[idx], axis=1), axis=0)


def _finite_or_none(v):
    v = float(v)
    return v if np.isfinite(v) else None


def run_peer(d, fold, names):
    """12-fold CV with annieslasso on the same folds; None if its environment is missing."""
    if not PEER_PYTHON.exists():
        print(f"peer skipped: {PEER_PYTHON} not found")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
        np.savez(src, labels=d["labels"], flux=d["flux"], ivar=d["ivar"], fold=fold,
                 label_names=np.array(names, dtype=str))
        t0 = time.perf_counter()
        p = subprocess.run([str(PEER_PYTHON), str(PEER_SCRIPT), str(src), str(dst)],
                           capture_output=True, text=True)  # it draws progress bars on stderr
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            print("peer FAILED:\n", p.stderr[-2000:])
            return None
        o = np.load(dst)
        return {"inferred": o["inferred"], "train_s": float(o["train_s"]),
                "test_s": float(o["test_s"]), "wall_s": wall}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--k", type=int, default=12)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4],
                    help="fold partitions; the first is the headline run")
    ap.add_argument("--n-boot", type=int, default=2000)
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--no-figure", action="store_true")
    args = ap.parse_args(argv)

    load = os.getloadavg()
    d = load_npz("annieslasso_apogee")
    names = [str(n) for n in d["label_names"]]
    ref = np.asarray(d["labels"])
    vec = Vectorizer.polynomial(names, 2)
    print(f"{ref.shape[0]} stars x {d['flux'].shape[1]} pixels, labels {names}, "
          f"{vec.n_terms} terms, k={args.k}; load {load[0]:.2f}")

    runs, walls = [], []
    for seed in args.seeds:
        t0 = time.perf_counter()
        cv = cross_validate(ref, d["flux"], d["ivar"], vec, k=args.k, seed=seed,
                            wavelength=d["dispersion"])
        walls.append(time.perf_counter() - t0)
        runs.append(cv)
        print(f"seed {seed}: {walls[-1]:.1f} s, scatter {np.round(cv.scatter(), 4).tolist()}")
    cv = runs[0]
    res = np.asarray(cv.residual)
    sig = np.asarray(cv.fit.uncertainty)
    bounds = extrapolation_bounds(cv.true, cv.inferred, label_names=names)
    flagged = np.asarray(bounds.flag(cv.inferred))
    seed_scatter = np.array([r.scatter() for r in runs])
    se = bootstrap_std_error(res, args.n_boot, np.random.default_rng(1))

    fold = kfold_assignment(ref.shape[0], args.k, args.seeds[0])
    peer = None if args.no_peer else run_peer(d, fold, names)
    if peer is not None:
        pres = peer["inferred"] - ref

    rows = []
    for j, n in enumerate(names):
        row = {
            "label": n,
            "n_stars": int(np.isfinite(res[:, j]).sum()),
            "ref_spread": float(np.std(ref[:, j])),
            "scatter": float(np.nanstd(res[:, j])),
            "scatter_se_boot": float(se[j]),
            "scatter_min_seeds": float(seed_scatter[:, j].min()),
            "scatter_max_seeds": float(seed_scatter[:, j].max()),
            "bias": float(np.nanmean(res[:, j])),
            "robust_scatter": float(robust_scatter(res)[j]),
            "r": float(cv.correlation()[j]),
            "median_formal_sigma": float(np.median(sig[:, j])),
            "frac_flagged_kde90": float(flagged[:, j].mean()),
            "kde90_lower": _finite_or_none(bounds.lower[j]),  # None: no bound on that side
            "kde90_upper": _finite_or_none(bounds.upper[j]),
        }
        if peer is not None:
            row.update(
                peer_scatter=float(np.nanstd(pres[:, j])),
                peer_bias=float(np.nanmean(pres[:, j])),
                peer_robust_scatter=float(robust_scatter(pres)[j]),
                peer_n_nan=int(np.isnan(pres[:, j]).sum()),
                scatter_ratio_jaxstro_over_peer=float(np.nanstd(res[:, j])
                                                      / np.nanstd(pres[:, j])),
            )
        rows.append(row)

    timing = {"cv_wall_s_first_incl_compile": walls[0],
              "cv_wall_s_later_median": float(np.median(walls[1:])) if len(walls) > 1 else None}
    if peer is not None:
        timing.update(peer_train_s=peer["train_s"], peer_test_s=peer["test_s"],
                      peer_wall_s=peer["wall_s"])
    extra = {
        "data": "annieslasso_apogee (671 APOGEE DR12 giants x 100 px, 15168-15189 A)",
        "model": "quadratic, 3 labels, 10 terms, ML theta|s (eq 2.5), LM test step (defaults)",
        "k": args.k,
        "seeds": args.seeds,
        "headline_seed": args.seeds[0],
        "peer": "annieslasso 0.2.96 (Casey thecannon), same folds, quadratic, threads=1"
                if peer is not None else None,
        "load_avg_start": load,
        "load_avg_end": os.getloadavg(),
        "timing": timing,
        "converged_fraction": float(np.mean(np.asarray(cv.fit.converged))),
        "median_reduced_chi2": float(np.median(np.asarray(cv.fit.reduced_chi2))),
    }
    cols = ["label", "scatter", "scatter_se_boot", "bias", "robust_scatter", "r", "ref_spread",
            "median_formal_sigma"] + (["peer_scatter", "scatter_ratio_jaxstro_over_peer"]
                                      if peer is not None else [])
    print()
    record("cannon_cv_apogee", [{c: r[c] for c in cols} for r in rows], labels=rows, **extra)
    print("timing:", {k: round(v, 2) for k, v in timing.items() if v is not None})

    if not args.no_figure:
        fig = one_to_one_plot(cv.true, cv.inferred, names, bounds=bounds)
        if peer is not None:
            for j, ax in enumerate(fig.axes):
                ax.scatter(ref[:, j], peer["inferred"][:, j], s=3, marker="x", c="0.6",
                           alpha=0.5, zorder=0, label="annieslasso (same folds)")
            fig.axes[0].collections[0].set_label("jaxstro")
            fig.axes[0].legend(fontsize=7, loc="upper left")
        fig.suptitle(f"quadratic Cannon, {args.k}-fold CV, 671 APOGEE giants x 100 px",
                     fontsize=9)
        fig.tight_layout()
        out = RESULTS / "cannon_cv_apogee.png"
        fig.savefig(out, dpi=80)
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
