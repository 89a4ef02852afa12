"""Benchmark: Cannon training (5,000 stars x 8,575 pixels, 3 labels, quadratic) and the test step.

Compared in the same run against
* a batched numpy implementation of the same maximum-likelihood training (normal equations by
  one BLAS matrix product per bisection step over all pixels, ``np.linalg.solve`` per pixel);
* a batched numpy weighted least squares without scatter (what Casey's thecannon fits, s = 0);
* scipy ``least_squares`` (Levenberg-Marquardt, analytic Jacobian) per star for the test step,
  timed on a subset and quoted per star.
Casey's thecannon (PyPI ``annieslasso``) needs numpy < 2 and cannot run in this environment; the
published context from shared/notes/cannon_packages.md (2-core machine): train() on 5,000 x 8,575
takes ~77 s, test() ~23 ms per star.

    python -m benchmarks.cannon_train            # full size
    python -m benchmarks.cannon_train --quick    # smoke run in seconds
"""

from __future__ import annotations

import argparse
import resource
import time

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

from benchmarks._timing import record, timeit  # noqa: E402
from jaxstro.cannon import FitOptions, TrainOptions, Vectorizer, fit_labels, train  # noqa: E402

CASEY_TRAIN_S = 77.0  # shared/notes/cannon_packages.md, 5,000 x 8,575 px, 2 cores
CASEY_TEST_S_PER_STAR = 0.023

NAMES = ("TEFF", "LOGG", "FE_H")
LO = np.array([4000.0, 1.0, -1.5])
HI = np.array([5300.0, 3.8, 0.4])


def make_data(rng, n_train, n_test, n_pix, sigma=0.01):
    vec = Vectorizer.polynomial(NAMES, 2, offsets=0.5 * (LO + HI), scales=0.5 * (HI - LO),
                                standardize=False)
    theta = np.zeros((n_pix, vec.n_terms))
    theta[:, 0] = 1 - 0.3 * rng.uniform(size=n_pix)
    theta[:, 1:4] = 0.05 * rng.normal(size=(n_pix, 3))
    theta[:, 4:] = 0.01 * rng.normal(size=(n_pix, vec.n_terms - 4))
    s = rng.uniform(0.0, 0.01, n_pix)

    def draw(n):
        lab = LO + (HI - LO) * rng.uniform(size=(n, 3))
        A = np.asarray(vec.design_matrix(lab))
        f = A @ theta.T + rng.normal(size=(n, n_pix)) * np.sqrt(sigma**2 + s**2)
        return lab, f, np.full_like(f, sigma**-2)

    return vec, theta, s, draw(n_train), draw(n_test)


def numpy_ml_train(A, flux, ivar, n_bisect):
    """The same ML algorithm, batched numpy: bisection on d lnL/ds^2 over all pixels at once."""
    F, IV = flux.T, ivar.T  # (p, n)
    p, t = F.shape[0], A.shape[1]
    P = (A[:, :, None] * A[:, None, :]).reshape(A.shape[0], t * t)

    def theta_at(s2):
        W = IV / (1 + IV * s2[:, None])
        M = (W @ P).reshape(p, t, t)
        b = (W * F) @ A
        return np.linalg.solve(M, b[..., None])[..., 0], W

    def g(s):
        th, W = theta_at(s * s)
        r = F - th @ A.T
        return np.sum(W * W * r * r - W, axis=1)

    hi = 2 * F.std(axis=1)
    lo = np.zeros(p)
    g0 = g(lo)
    for _ in range(n_bisect):
        mid = 0.5 * (lo + hi)
        up = g(mid) > 0
        lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
    s = np.where(g0 > 0, 0.5 * (lo + hi), 0.0)
    return theta_at(s * s)[0], s


def numpy_wls(A, flux, ivar):
    """Batched WLS with s = 0 (Casey's thecannon fit with regularization 0)."""
    F, IV = flux.T, ivar.T
    t = A.shape[1]
    P = (A[:, :, None] * A[:, None, :]).reshape(A.shape[0], t * t)
    M = (IV @ P).reshape(-1, t, t)
    return np.linalg.solve(M, ((IV * F) @ A)[..., None])[..., 0]


def scipy_test_step(model, flux, ivar):
    from scipy.optimize import least_squares

    th, s = np.asarray(model.theta), np.asarray(model.scatter)
    E = np.array(model.vectorizer.exponents)
    off, sc = np.asarray(model.vectorizer.offsets), np.asarray(model.vectorizer.scales)
    out = []
    for f, iv in zip(flux, ivar, strict=True):
        sw = np.sqrt(iv / (1 + iv * s * s))

        def res(x, sw=sw, f=f):
            return sw * (f - th @ np.prod(x[None, :] ** E, axis=1))

        def jac(x, sw=sw):
            d = np.empty((E.shape[0], 3))
            for j in range(3):
                e = E.copy()
                c = e[:, j].astype(float)
                e[:, j] = np.maximum(e[:, j] - 1, 0)
                d[:, j] = c * np.prod(x[None, :] ** e, axis=1)
            return -sw[:, None] * (th @ d)

        out.append(least_squares(res, np.zeros(3), jac=jac, method="lm").x * sc + off)
    return np.array(out)


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    ap.add_argument("--n-test", type=int, default=None, help="test-step stars (default 100000)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    n_train, n_pix = (500, 800) if args.quick else (5000, 8575)
    n_test = args.n_test or (1024 if args.quick else 100_000)
    n_scipy = 20 if args.quick else 100
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    vec, theta, s_true, (lab, f, iv), (tlab, tf, tiv) = make_data(rng, n_train, n_test, n_pix)
    print(f"data: {n_train} x {n_pix} training, {n_test} test ({time.perf_counter() - t0:.1f} s)")
    opts = TrainOptions()
    train_vec = Vectorizer.polynomial(NAMES, 2)
    rows = []

    t_jax = timeit(train, lab, f, iv, train_vec, options=opts, repeats=args.repeats, warmup=0)
    model = train(lab, f, iv, train_vec, options=opts)
    rss_train = peak_rss_gb()
    rows.append({"what": "train jaxstro (ML s, bisection)", **_short(t_jax),
                 "peak_rss_gb": rss_train})

    A = np.asarray(model.vectorizer.design_matrix(lab))
    t0 = time.perf_counter()
    th_np, s_np = numpy_ml_train(A, f, iv, opts.n_bisect)
    t_np = {"min_s": time.perf_counter() - t0}
    rows.append({"what": "train numpy batched (same ML algorithm)", **_short(t_np)})
    t0 = time.perf_counter()
    numpy_wls(A, f, iv)
    t_wls = {"min_s": time.perf_counter() - t0}
    rows.append({"what": "train numpy batched WLS, s = 0", **_short(t_wls)})
    rows.append({"what": "train Casey thecannon (published, notes)", "min_s": CASEY_TRAIN_S})
    agree_s = float(np.max(np.abs(np.asarray(model.scatter) - s_np)))
    agree_th = float(np.max(np.abs(np.asarray(model.theta) - th_np)))

    fopts = FitOptions()
    batch = 1024
    fit_labels(model, tf[:batch], tiv[:batch], options=fopts, batch_size=batch)  # compile
    t0 = time.perf_counter()
    res = fit_labels(model, tf, tiv, options=fopts, batch_size=batch)
    t_fit = {"min_s": time.perf_counter() - t0}
    rows.append({"what": f"test step jaxstro, {n_test} stars", **_short(t_fit),
                 "per_star_ms": 1e3 * t_fit["min_s"] / n_test, "peak_rss_gb": peak_rss_gb()})
    t0 = time.perf_counter()
    sp = scipy_test_step(model, tf[:n_scipy], tiv[:n_scipy])
    t_sp = {"min_s": time.perf_counter() - t0}
    rows.append({"what": f"test step scipy LM per star ({n_scipy} stars)", **_short(t_sp),
                 "per_star_ms": 1e3 * t_sp["min_s"] / n_scipy})
    rows.append({"what": "test step Casey thecannon (published, notes)",
                 "per_star_ms": 1e3 * CASEY_TEST_S_PER_STAR})
    lab_diff = np.abs(res.labels[:n_scipy] - sp) / tlab.std(axis=0)
    good = res.converged[:n_scipy]
    extra = {
        "n_train": n_train, "n_pixels": n_pix, "n_test": n_test,
        "speedup_train_vs_casey_published": CASEY_TRAIN_S / t_jax["min_s"],
        "speedup_train_vs_numpy_same_algorithm": t_np["min_s"] / t_jax["min_s"],
        "speedup_test_vs_casey_published": CASEY_TEST_S_PER_STAR * n_test / t_fit["min_s"],
        "speedup_test_vs_scipy": (t_sp["min_s"] / n_scipy) / (t_fit["min_s"] / n_test),
        "max_abs_diff_s_vs_numpy": agree_s,
        "max_abs_diff_theta_vs_numpy": agree_th,
        "max_label_diff_vs_scipy_in_label_std": float(np.max(lab_diff[good])) if good.any()
        else None,
        "test_label_scatter": (res.labels - tlab).std(axis=0).tolist(),
        "converged_fraction": float(np.mean(res.converged)),
        "devices": [str(d) for d in jax.devices()],
    }
    record("cannon_train" + ("_quick" if args.quick else ""), rows, **extra)
    for k, v in extra.items():
        print(f"{k}: {v}")


def _short(t):
    return {k: t.get(k) for k in ("first_call_s", "min_s", "median_s")}


if __name__ == "__main__":
    main()
