"""``jaxstro cannon train | test | cv``."""

from __future__ import annotations

import argparse
import json


def _load_training(args):
    from ._io import SpectraSource

    with SpectraSource(args.data) as src:
        flux, ivar = src.read(0, src.n_stars)
        labels, names, wave = src.labels, src.label_names, src.wavelength
    if labels is None:
        raise SystemExit(f"{args.data}: no 'labels' in the training file")
    if args.labels:
        idx = [names.index(n) for n in args.labels]
        labels, names = labels[:, idx], list(args.labels)
    if args.n_train:
        flux, ivar, labels = flux[: args.n_train], ivar[: args.n_train], labels[: args.n_train]
    return labels, flux, ivar, names, wave


def _train_cmd(args) -> int:
    import jax

    jax.config.update("jax_enable_x64", True)
    from . import TrainOptions, Vectorizer, save_model, train

    labels, flux, ivar, names, wave = _load_training(args)
    vec = Vectorizer.polynomial(names, args.order)
    model = train(labels, flux, ivar, vec, wavelength=wave, options=TrainOptions(l1=args.l1))
    save_model(args.output, model)
    print(f"trained {vec.n_terms}-term model on {flux.shape[0]} stars x {flux.shape[1]} pixels "
          f"-> {args.output}")
    return 0


def _test_cmd(args) -> int:
    import jax

    jax.config.update("jax_enable_x64", True)
    from . import FitOptions, collect_catalog, load_model, run_catalog

    model = load_model(args.model)
    info = run_catalog(model, args.input, args.output, chunk_size=args.chunk_size,
                       batch_size=args.batch_size, options=FitOptions(n_starts=args.n_starts),
                       max_chunks=args.max_chunks, progress=not args.quiet)
    print(f"chunks: {info['written']} written, {info['skipped']} already there, "
          f"{info['n_chunks']} in all")
    if info["written"] + info["skipped"] == info["n_chunks"]:
        path = f"{args.output}/catalog.fits"
        collect_catalog(args.output, path=path)
        print(f"catalog -> {path}")
    return 0


def _cv_cmd(args) -> int:
    import jax

    jax.config.update("jax_enable_x64", True)
    from . import Vectorizer, cross_validate, one_to_one_plot

    labels, flux, ivar, names, wave = _load_training(args)
    vec = Vectorizer.polynomial(names, args.order)
    res = cross_validate(labels, flux, ivar, vec, k=args.folds, seed=args.seed, wavelength=wave,
                         progress=not args.quiet)
    summary = res.summary()
    for n, s in summary.items():
        print(f"{n:>12s}: scatter {s['scatter']:.4g}  bias {s['bias']:+.3g}  r {s['r']:.3f}")
    if args.output:
        with open(args.output, "w") as f:
            json.dump({"folds": args.folds, "n_stars": int(flux.shape[0]), "labels": summary}, f,
                      indent=1)
    if args.plot:
        one_to_one_plot(res.true, res.inferred, names, path=args.plot)
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("cannon", help="The Cannon: train, test (catalog), cross-validate")
    sub = p.add_subparsers(dest="cannon_command", required=True)

    def data_args(q):
        q.add_argument("data", help="training set (npz/h5/fits with flux, ivar, labels) or a "
                       "registered data name, e.g. annieslasso_apogee")
        q.add_argument("--order", type=int, default=2, help="polynomial order (default 2)")
        q.add_argument("--labels", nargs="+", help="label names to use (default: all)")
        q.add_argument("--n-train", type=int, default=0, help="use only the first N stars")
        q.add_argument("-q", "--quiet", action="store_true")

    t = sub.add_parser("train", help="train a model and save it")
    data_args(t)
    t.add_argument("-o", "--output", required=True, help="model file to write")
    t.add_argument("--l1", type=float, default=0.0, help="L1 regularisation strength")
    t.set_defaults(func=_train_cmd)

    s = sub.add_parser("test", help="infer labels for a spectra file (chunked, resumable)")
    s.add_argument("model", help="model file from `jaxstro cannon train`")
    s.add_argument("input", help="spectra (npz/h5/fits with flux, ivar)")
    s.add_argument("-o", "--output", required=True, help="output directory (chunks, catalog)")
    s.add_argument("--chunk-size", type=int, default=10_000)
    s.add_argument("--batch-size", type=int, default=1024)
    s.add_argument("--n-starts", type=int, default=1)
    s.add_argument("--max-chunks", type=int, default=None, help="stop after N new chunks")
    s.add_argument("-q", "--quiet", action="store_true")
    s.set_defaults(func=_test_cmd)

    c = sub.add_parser("cv", help="K-fold cross-validation")
    data_args(c)
    c.add_argument("--folds", type=int, default=12)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("-o", "--output", help="JSON summary to write")
    c.add_argument("--plot", help="one-to-one plot to write (png/pdf)")
    c.set_defaults(func=_cv_cmd)


__all__ = ["register", "argparse"]
