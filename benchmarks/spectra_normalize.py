"""Benchmark: continuum normalisation of 100,000 LAMOST-size spectra (issue #3, first benchmark).

Grid: the real TSP/LAMOST wavelength grid (3,559 px, log-linear, 3900-8849 Å, registry name
``lamost_tsp_wavelength_grid``). Flux: synthetic (smooth continuum x absorption lines x noise),
fixed seed, generated chunk by chunk (the full set would be 2.8 GB per float64 array); only the
normalisation is timed. Recipe: thesis ch2 (sigma = 50 Å, truncated at 150 Å).

Compared in the same run:
* jaxstro: ``jax.jit`` of ``continuum_normalize`` on a chunk (vmap-style batched call over the
  leading axis), chunks processed in a loop; the time is the sum over chunks.
* scipy.sparse: the same formula with the banded weight matrix as ``scipy.sparse.csr_matrix``
  (exact peer; also the accuracy reference).
* scipy.ndimage: ``gaussian_filter1d`` of ``ivar*f`` and ``ivar`` in pixel space with the
  kernel width in pixels taken at the grid's central wavelength (what one would write with
  ndimage; only approximate on a log-linear grid: its deviation from the exact result is
  reported).
The scipy peers are timed on a subset (``--numpy-subset`` spectra) and scaled linearly to the
full count; the JSON says so.

Run: ``python -m benchmarks.spectra_normalize [--quick] [--n N] [--chunk C] [--dtype float32]``
(results: ``benchmarks/results/spectra_normalize[_float32][_quick].json``).
"""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

from benchmarks._timing import record, timeit  # noqa: E402
from jaxstro.data import load_npz  # noqa: E402
from jaxstro.spectra import continuum_normalize  # noqa: E402

SEED = 20261123
SIGMA, TRUNCATE = 50.0, 150.0


def make_chunk(wl: np.ndarray, n: int, index: int, dtype) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng([SEED, index])
    x = (wl - wl.mean()) / (wl.max() - wl.min())
    coef = rng.normal(size=(n, 3)) * [0.3, 0.2, 0.1]
    cont = 1.0 + coef[:, :1] * x + coef[:, 1:2] * x**2 + coef[:, 2:] * np.sin(8 * x)
    centres = rng.uniform(wl[0], wl[-1], 60)
    lines = np.ones_like(wl)
    for c in centres:
        lines *= 1 - 0.4 * np.exp(-0.5 * ((wl - c) / 3.0) ** 2)
    snr = rng.uniform(20, 200, (n, 1))
    flux = cont * lines * (1 + rng.normal(size=(n, wl.size)) / snr)
    ivar = (snr / (cont * lines)) ** 2 * np.ones((n, 1))
    bad = rng.random((n, wl.size)) < 0.005
    ivar[bad] = 0.0
    return flux.astype(dtype), ivar.astype(dtype)


def band_matrix(wl: np.ndarray):
    from scipy import sparse

    n = wl.size
    rows, cols, vals = [], [], []
    for i in range(n):
        lo = np.searchsorted(wl, wl[i] - TRUNCATE, "left")
        hi = np.searchsorted(wl, wl[i] + TRUNCATE, "right")
        d = wl[lo:hi] - wl[i]
        rows.append(np.full(hi - lo, i))
        cols.append(np.arange(lo, hi))
        vals.append(np.exp(-0.5 * (d / SIGMA) ** 2))
    return sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )


def scipy_sparse_normalize(W, flux, ivar):
    num = (W @ (flux * ivar).T).T
    den = (W @ ivar.T).T
    cont = num / den
    return flux / cont, ivar * cont**2, cont


def scipy_ndimage_normalize(wl, flux, ivar):
    from scipy import ndimage

    dpix = np.median(np.diff(wl))  # Å per pixel near the middle of a log-linear grid
    s = SIGMA / dpix
    kw = dict(sigma=s, axis=-1, mode="constant", cval=0.0, truncate=TRUNCATE / SIGMA)
    cont = ndimage.gaussian_filter1d(flux * ivar, **kw) / ndimage.gaussian_filter1d(ivar, **kw)
    return flux / cont, ivar * cont**2, cont


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2,000 spectra, small subset")
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--chunk", type=int, default=1000)
    ap.add_argument("--numpy-subset", type=int, default=2000)
    ap.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    args = ap.parse_args(argv)
    if args.quick:
        args.n, args.chunk, args.numpy_subset = 2000, 500, 500
    dtype = np.float64 if args.dtype == "float64" else np.float32

    wl = np.asarray(load_npz("lamost_tsp_wavelength_grid")["wl_grid"], np.float64)
    assert wl.size == 3559
    n_chunks = -(-args.n // args.chunk)
    wl_d = wl.astype(dtype)

    # jaxstro: the grid is a compile-time constant (shared grid); chunk = batch of spectra
    @jax.jit
    def normalize_chunk(flux, ivar):
        return continuum_normalize(wl_d, flux, ivar, sigma=SIGMA, truncate=TRUNCATE)

    f0, i0 = make_chunk(wl, args.chunk, 0, dtype)
    t_chunk = timeit(normalize_chunk, f0, i0, repeats=3)
    total = 0.0
    t0 = time.perf_counter()
    for c in range(n_chunks):
        m = min(args.chunk, args.n - c * args.chunk)
        f, iv = make_chunk(wl, m, c, dtype)
        t1 = time.perf_counter()
        jax.block_until_ready(normalize_chunk(f, iv))
        total += time.perf_counter() - t1
        if c % 10 == 0:
            print(f"  chunk {c + 1}/{n_chunks}: {total:.1f} s normalising so far", flush=True)
    wall = time.perf_counter() - t0

    # scipy peers on a subset (same synthetic spectra: chunk 0, 1, ... concatenated)
    sub_f, sub_i = [], []
    c = 0
    while sum(len(x) for x in sub_f) < args.numpy_subset:
        f, iv = make_chunk(wl, min(args.chunk, args.n), c, np.float64)
        sub_f.append(f)
        sub_i.append(iv)
        c += 1
    sub_f = np.concatenate(sub_f)[: args.numpy_subset]
    sub_i = np.concatenate(sub_i)[: args.numpy_subset]
    t1 = time.perf_counter()
    W = band_matrix(wl)
    t_build = time.perf_counter() - t1
    t_sparse = timeit(scipy_sparse_normalize, W, sub_f, sub_i, repeats=2)
    t_ndi = timeit(scipy_ndimage_normalize, wl, sub_f, sub_i, repeats=2)
    scale = args.n / args.numpy_subset

    # accuracy on the subset
    ref = scipy_sparse_normalize(W, sub_f, sub_i)[2]
    jx = np.asarray(normalize_chunk(sub_f.astype(dtype), sub_i.astype(dtype))[2], np.float64)
    rel_jax = float(np.max(np.abs(jx / ref - 1)))
    rel_ndi = float(np.max(np.abs(scipy_ndimage_normalize(wl, sub_f, sub_i)[2] / ref - 1)))

    rows = [
        {
            "impl": f"jaxstro continuum_normalize (jit, chunks of {args.chunk}, {args.dtype})",
            "n_spectra": args.n,
            "seconds": total,
            "spectra_per_s": args.n / total,
            "max_rel_diff_vs_scipy_sparse": rel_jax,
            "measured_on": "all spectra",
        },
        {
            "impl": "scipy.sparse banded matrix (exact peer, float64)",
            "n_spectra": args.n,
            "seconds": t_sparse["median_s"] * scale,
            "spectra_per_s": args.numpy_subset / t_sparse["median_s"],
            "max_rel_diff_vs_scipy_sparse": 0.0,
            "measured_on": f"{args.numpy_subset} spectra, scaled x{scale:g}",
        },
        {
            "impl": "scipy.ndimage.gaussian_filter1d (pixel-space approximation, float64)",
            "n_spectra": args.n,
            "seconds": t_ndi["median_s"] * scale,
            "spectra_per_s": args.numpy_subset / t_ndi["median_s"],
            "max_rel_diff_vs_scipy_sparse": rel_ndi,
            "measured_on": f"{args.numpy_subset} spectra, scaled x{scale:g}",
        },
    ]
    name = "spectra_normalize" + ("" if args.dtype == "float64" else f"_{args.dtype}")
    record(
        name + ("_quick" if args.quick else ""),
        rows,
        n_pixels=int(wl.size),
        grid="lamost_tsp_wavelength_grid (3559 px, 3900-8849 Å)",
        sigma_A=SIGMA,
        truncate_A=TRUNCATE,
        chunk=args.chunk,
        jax_chunk_timing=t_chunk,
        jax_wall_including_data_generation_s=wall,
        scipy_sparse_matrix_build_s=t_build,
        scipy_scaled_from_subset=args.numpy_subset,
        quick=args.quick,
        note="scipy timings measured on a subset and scaled linearly to n_spectra; data "
        "generation excluded from all timings",
    )


if __name__ == "__main__":
    main()
