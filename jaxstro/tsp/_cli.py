"""``jaxstro tsp run | select``: the TSP catalog pipeline from the command line."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    p = subparsers.add_parser("tsp", help="tangent space projection: search for excess absorption")
    sub = p.add_subparsers(dest="tsp_command", required=True)
    r = sub.add_parser("run", help="run TSP over a target file in resumable chunks")
    r.add_argument("--reference", required=True, help="reference set (.npz/.h5/.fits)")
    r.add_argument("--targets", required=True, help="targets (.npz/.h5/.fits)")
    r.add_argument("--out", required=True, help="output directory (rerun to resume)")
    r.add_argument("--k", type=int, default=1000, help="neighbours (default 1000)")
    r.add_argument("--q", type=int, default=50, help="subspace dimension (default 50)")
    r.add_argument("--chunk-size", type=int, default=1024)
    r.add_argument("--batch-size", type=int, default=8, help="targets per local-PCA batch")
    r.add_argument("--min-pixels", type=int, default=100)
    r.add_argument(
        "--wavelength",
        default="lamost_tsp_wavelength_grid",
        help="grid: a registry name (default, the ch3 LAMOST grid), .npy, or 'file' to read "
        "'wavelength' from the reference file",
    )
    r.add_argument("--center", type=float, default=None, help="line centre [Å] (default Li 6708)")
    r.add_argument("--half-width", type=float, default=7.0, help="mask half width [Å]")
    r.add_argument("--resolution", type=float, default=1800.0, help="resolving power R")
    r.add_argument("--no-progress", action="store_true")
    r.set_defaults(func=_run)
    s = sub.add_parser("select", help="apply the ch3 selection and write the catalog")
    s.add_argument("--out", required=True, help="run directory")
    s.add_argument("--catalog", required=True, help="output table (.fits, .ecsv, .csv, ...)")
    s.add_argument("--min-eew", type=float, default=0.15, help="[Å] (ch3: 0.15)")
    s.add_argument("--max-eew-err", type=float, default=0.05, help="[Å] (ch3: 0.05)")
    s.add_argument("--allow-incomplete", action="store_true")
    s.set_defaults(func=_select)


def _grid(args):
    import numpy as np

    from ._pipeline import SpectraFile

    w = args.wavelength
    if w == "file":
        return SpectraFile(args.reference).read("wavelength")
    if w.endswith(".npy"):
        return np.load(w)
    from jaxstro.data import load_npz

    return load_npz(w)["wl_grid"]


def _run(args: argparse.Namespace) -> int:
    from ._feature import LI_6104_VACUUM, LI_6708_VACUUM, make_feature
    from ._pipeline import run_catalog
    from ._tsp import TSPConfig

    wl = _grid(args)
    if args.center is None:
        feat = make_feature(
            wl,
            LI_6708_VACUUM,
            half_width=args.half_width,
            resolution=args.resolution,
            ignore=((LI_6104_VACUUM, 7.0),),
            name="Li6708",
        )
    else:
        feat = make_feature(
            wl,
            args.center,
            half_width=args.half_width,
            resolution=args.resolution,
            name=f"line{args.center:.2f}",
        )
    cfg = TSPConfig(k=args.k, q=args.q, batch_size=args.batch_size, min_pixels=args.min_pixels)
    paths = run_catalog(
        args.reference,
        args.targets,
        args.out,
        feat,
        cfg,
        chunk_size=args.chunk_size,
        progress=not args.no_progress,
    )
    print(f"{len(paths)} chunks in {args.out}")
    return 0


def _select(args: argparse.Namespace) -> int:
    from ._pipeline import select_catalog

    t = select_catalog(
        args.out,
        min_eew=args.min_eew,
        max_eew_err=args.max_eew_err,
        path=args.catalog,
        allow_incomplete=args.allow_incomplete,
    )
    print(
        f"{len(t)} targets, {int(t['candidate'].sum())} candidates, "
        f"{int(t['enriched'].sum())} enriched -> {args.catalog}"
    )
    return 0
