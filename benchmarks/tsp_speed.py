"""TSP per-target time: k = 1000, q = 50, 30,000 reference spectra x 3,559 pixels (issue 8).

Peer: the paper's Julia implementation, 1.47 s/target (thesis ch3; not runnable here: it downloads
LAMOST spectra at run time), and a plain numpy implementation of the same steps timed in this run.
Goal: <= 10 ms/target on one modern GPU.

    python -m benchmarks.tsp_speed            # full size (needs ~2 GB RAM; slow on a CPU)
    python -m benchmarks.tsp_speed --quick    # seconds: 3,000 x 3,559, k = 100, q = 10
"""

from __future__ import annotations

import argparse
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks._timing import record, timeit  # noqa: E402
from jaxstro.tsp import GramEigh, RandomizedPCA, TSPConfig, knn, li_feature, tsp_batch  # noqa: E402


def _numpy_tsp_one(f, iv, ref, use, midx, k, q, m):
    d2 = np.sum((ref[:, use] - f[use]) ** 2, axis=1)
    nb = np.argpartition(d2, k)[:k]
    F = ref[nb]
    mu = F.mean(0)
    lam, U = np.linalg.eigh((F - mu) @ (F - mu).T)
    E = U[:, ::-1][:, :q].T @ (F - mu)
    w = iv * use
    c = np.linalg.solve((E * w) @ E.T, (E * w) @ (f - mu))
    r = f[midx] - (mu + c @ E)[midx]
    wm = m * iv[midx]
    return (wm @ r) / (wm @ m)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--n-ref", type=int, default=30000)
    ap.add_argument("--n-targets", type=int, default=64)
    ap.add_argument("--k", type=int, default=1000)
    ap.add_argument("--q", type=int, default=50)
    ap.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    a = ap.parse_args(argv)
    if a.quick:
        a.n_ref, a.n_targets, a.k, a.q = 3000, 16, 100, 10
    jax.config.update("jax_enable_x64", a.dtype == "float64")
    dt = np.float64 if a.dtype == "float64" else np.float32
    from jaxstro.data import load_npz

    wl = load_npz("lamost_tsp_wavelength_grid")["wl_grid"]
    feat = li_feature(wl)
    rng = np.random.default_rng(0)
    # timing does not depend on the spectra: smooth random low-rank spectra around 1
    basis = rng.standard_normal((20, wl.size)) * 0.01
    ref = (1 + rng.standard_normal((a.n_ref, 20)) @ basis).astype(dt)
    tf = (1 + rng.standard_normal((a.n_targets, 20)) @ basis).astype(dt)
    ti = np.full_like(tf, 2500.0)
    refj, tfj, tij = jnp.asarray(ref), jnp.asarray(tf), jnp.asarray(ti)
    rows = []
    knn_j = jax.jit(lambda t, r: knn(t, r, a.k, use=feat.use, block_size=4096))
    res = timeit(knn_j, tfj, refj, repeats=3)
    rows.append(
        {
            "step": "knn only",
            "impl": "jax",
            "per_target_s": res["median_s"] / a.n_targets,
            "first_call_s": res["first_call_s"],
        }
    )
    for name, pca in (("eigh", GramEigh()), ("randomized", RandomizedPCA(n_iter=2))):
        cfg = TSPConfig(k=a.k, q=a.q, pca=pca, batch_size=8)
        fn = jax.jit(lambda t, i, r, cfg=cfg: tsp_batch(t, i, r, feat, cfg))
        res = timeit(fn, tfj, tij, refj, repeats=3)
        rows.append(
            {
                "step": "full TSP",
                "impl": f"jax {name}",
                "per_target_s": res["median_s"] / a.n_targets,
                "first_call_s": res["first_call_s"],
            }
        )
    n_np = min(4, a.n_targets)
    t0 = time.perf_counter()
    for i in range(n_np):
        _numpy_tsp_one(tf[i], ti[i], ref, feat.use, feat.masked_idx, a.k, a.q, feat.line_model)
    rows.append(
        {
            "step": "full TSP",
            "impl": "numpy (peer-style loop)",
            "per_target_s": (time.perf_counter() - t0) / n_np,
            "first_call_s": float("nan"),
        }
    )
    rows.append(
        {
            "step": "full TSP",
            "impl": "paper (Julia, thesis ch3)",
            "per_target_s": 1.47,
            "first_call_s": float("nan"),
        }
    )
    record(
        "tsp_speed" + ("_quick" if a.quick else ""),
        rows,
        n_ref=a.n_ref,
        k=a.k,
        q=a.q,
        n_pix=int(wl.size),
        n_targets=a.n_targets,
        dtype=a.dtype,
    )


if __name__ == "__main__":
    main()
