"""Benchmark (issue 7, acc 4): Cannon training on 5,000 stars x 8,575 pixels (3 labels, quadratic)
and the test step on 100,000 stars, against Casey's thecannon (PyPI ``annieslasso``) on the same
data in the same run.

The peer needs numpy < 2, so it runs in its own environment (``--peer-python``, default
/work/peers/annieslasso/bin/python) as a subprocess on identical data written to a temporary .npz
(``benchmarks/peers/annieslasso_run.py``), after our runs, one process at a time. Its test step (9.1
ms per star on this 2-core machine when quiet, 29 ms at load 4-5) is timed on the first
``--n-peer-test`` test stars and quoted per star; ours is timed on all ``--n-test`` stars (generated
in chunks of ``--chunk``, generation not timed) and quoted per star as well. Noise is
heteroscedastic (S/N 50-250 per star, +-20 % per pixel), the truth a random quadratic model with
scatter U(0, 0.01).

Peak memory: VmHWM (``_timing.peak_rss_mb``) of this process (it holds the 5,000 x 8,575
training set and one test chunk) and of the peer's process. The machine load
(``os.getloadavg``) is recorded before each phase: timings are only comparable within one run.
The peer is a single process, but its numpy BLAS uses every core (training 23.3 s wall / 46.2 s
CPU on 2 cores, quiet); on a loaded machine it slows far more than ours (92 s at load 4-5).

    python -m benchmarks.cannon_train            # full size
    python -m benchmarks.cannon_train --quick    # smoke run (small sizes)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

from benchmarks._timing import peak_rss_mb, record, timeit  # noqa: E402
from jaxstro.cannon import Vectorizer, fit_labels, train  # noqa: E402

NAMES = ("TEFF", "LOGG", "FE_H")
LO = np.array([4000.0, 1.0, -1.5])
HI = np.array([5300.0, 3.8, 0.4])
PEER_PY = "/work/peers/annieslasso/bin/python"
PEER_SCRIPT = Path(__file__).resolve().parent / "peers" / "annieslasso_run.py"


class Truth:
    """A random quadratic Cannon model; draws noisy spectra from it."""

    def __init__(self, rng, n_pix):
        self.vec = Vectorizer.polynomial(NAMES, 2, offsets=0.5 * (LO + HI),
                                         scales=0.5 * (HI - LO), standardize=False)
        t = self.vec.n_terms
        th = np.zeros((n_pix, t))
        th[:, 0] = 1 - 0.3 * rng.uniform(size=n_pix)
        th[:, 1:4] = 0.05 * rng.normal(size=(n_pix, 3))
        th[:, 4:] = 0.01 * rng.normal(size=(n_pix, t - 4))
        self.theta, self.s = th, rng.uniform(0.0, 0.01, n_pix)

    def draw(self, rng, n):
        lab = LO + (HI - LO) * rng.uniform(size=(n, 3))
        A = np.asarray(self.vec.design_matrix(lab))
        snr = rng.uniform(50.0, 250.0, n)
        sigma = rng.uniform(0.8, 1.2, (n, self.theta.shape[0]))
        sigma /= snr[:, None]
        # in place (same numbers as A theta' + N(0,1) sqrt(sigma^2 + s^2)): 3 arrays at most
        f = rng.normal(size=sigma.shape)
        tmp = np.square(sigma)
        tmp += self.s**2
        f *= np.sqrt(tmp, out=tmp)
        np.matmul(A, self.theta.T, out=tmp)
        f += tmp
        del tmp
        return lab, f, np.power(sigma, -2.0, out=sigma)


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run_peer(peer_python, lab, f, iv, tf, tiv):
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = Path(tmp) / "data.npz", Path(tmp) / "peer.json"
        np.savez(inp, labels=lab, flux=f, ivar=iv, test_flux=tf, test_ivar=tiv,
                 label_names=np.array(NAMES))
        t0 = time.perf_counter()
        proc = subprocess.run([peer_python, str(PEER_SCRIPT), str(inp), str(out)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"peer failed:\n{proc.stderr[-3000:]}")
        res = json.loads(out.read_text())
        res["process_wall_s"] = time.perf_counter() - t0
        return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    ap.add_argument("--n-test", type=int, default=None, help="our test-step stars (100000)")
    ap.add_argument("--n-peer-test", type=int, default=None, help="peer test-step stars (200)")
    ap.add_argument("--chunk", type=int, default=2_048, help="test stars generated at a time")
    ap.add_argument("--batch", type=int, default=256, help="fit_labels batch_size")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--peer-python", default=PEER_PY)
    ap.add_argument("--no-peer", action="store_true")
    args = ap.parse_args(argv)
    n_train, n_pix = (500, 800) if args.quick else (5000, 8575)
    n_test = args.n_test or (4096 if args.quick else 100_000)
    n_peer = args.n_peer_test or (20 if args.quick else 200)
    rng = np.random.default_rng(0)
    truth = Truth(rng, n_pix)
    lab, f, iv = truth.draw(rng, n_train)
    phases = {}

    # -- ours: training ----------------------------------------------------------------------
    vec = Vectorizer.polynomial(NAMES, 2)
    phases["train_ours"] = load()
    t_train = timeit(train, lab, f, iv, vec, repeats=args.repeats, warmup=0)
    model = train(lab, f, iv, vec)
    rss_train = peak_rss_mb() / 1024
    s_err = np.asarray(model.scatter) - truth.s

    # -- ours: test step, in chunks ----------------------------------------------------------
    test_rng = np.random.default_rng(1)
    tl0, tf0, tiv0 = truth.draw(test_rng, min(args.chunk, n_test))
    peer_tf, peer_tiv, peer_tl = tf0[:n_peer], tiv0[:n_peer], tl0[:n_peer]
    t0 = time.perf_counter()
    fit_labels(model, tf0[: args.batch], tiv0[: args.batch], batch_size=args.batch)
    t_compile = time.perf_counter() - t0
    phases["test_ours"] = load()
    t_fit, done, errs, conv, ours_peer_subset = 0.0, 0, [], [], None
    chunk = (tl0, tf0, tiv0)
    while done < n_test:
        tl, tf, tiv = chunk
        m = min(tf.shape[0], n_test - done)
        t0 = time.perf_counter()
        res = fit_labels(model, tf[:m], tiv[:m], batch_size=args.batch)
        t_fit += time.perf_counter() - t0
        if ours_peer_subset is None:
            ours_peer_subset = res.labels[:n_peer]
        errs.append(res.labels - tl[:m])
        conv.append(res.converged)
        done += m
        del chunk, tf, tiv
        if done < n_test:
            chunk = truth.draw(test_rng, min(args.chunk, n_test - done))
    rss_test = peak_rss_mb() / 1024
    errs, conv = np.concatenate(errs), np.concatenate(conv)

    # -- peer, same data, same run -----------------------------------------------------------
    peer = None
    if not args.no_peer:
        phases["peer"] = load()
        peer = run_peer(args.peer_python, lab, f, iv, peer_tf, peer_tiv)
    phases["end"] = load()

    ours_train = t_train["min_s"]
    ours_star_ms = 1e3 * t_fit / n_test
    rows = [
        {"what": f"train jaxstro ({n_train} x {n_pix}, ML s)", "first_call_s": t_train[
            "first_call_s"], "min_s": ours_train, "median_s": t_train["median_s"],
         "peak_rss_gb": rss_train},
        {"what": f"test step jaxstro ({n_test} stars)", "min_s": t_fit,
         "per_star_ms": ours_star_ms, "compile_s": t_compile, "peak_rss_gb": rss_test},
    ]
    extra = {"n_train": n_train, "n_pixels": n_pix, "n_test": n_test, "load_avg": phases,
             "devices": [str(d) for d in jax.devices()],
             "ours_scatter_median_abs_err": float(np.median(np.abs(s_err))),
             "ours_test_label_rms_err": np.sqrt(np.mean(errs**2, axis=0)).tolist(),
             "ours_converged_fraction": float(conv.mean())}
    if peer is not None:
        peer_star_ms = 1e3 * peer["test_s"] / peer["n_test"]
        pl = np.asarray(peer["test_labels"])
        rows += [
            {"what": "train annieslasso (same data)", "min_s": peer["train_s"],
             "cpu_s": peer["train_cpu_s"], "peak_rss_gb": peer["peak_rss_gb"]},
            {"what": f"test step annieslasso ({peer['n_test']} stars)", "min_s": peer["test_s"],
             "per_star_ms": peer_star_ms, "cpu_s": peer["test_cpu_s"]},
        ]
        ok = np.all(np.isfinite(pl), axis=1)
        extra.update({
            "peer": peer["package"], "peer_numpy": peer["numpy"], "n_peer_test": peer["n_test"],
            "speedup_train": peer["train_s"] / ours_train,
            "speedup_test_per_star": peer_star_ms / ours_star_ms,
            "goal_50x_train": bool(peer["train_s"] / ours_train >= 50),
            "goal_50x_test": bool(peer_star_ms / ours_star_ms >= 50),
            "peer_test_label_rms_err": np.sqrt(np.nanmean((pl - peer_tl) ** 2, axis=0)).tolist(),
            "ours_on_peer_subset_rms_err": np.sqrt(np.mean(
                (ours_peer_subset - peer_tl) ** 2, axis=0)).tolist(),
            "peer_finite_label_fraction": float(ok.mean()),
        })
    record("cannon_train" + ("_quick" if args.quick else ""), rows, **extra)
    for k, v in extra.items():
        print(f"{k}: {v}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
