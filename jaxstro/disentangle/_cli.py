"""``jaxstro disentangle make-data | train | evaluate``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

_COND = {"teff,logg": (0, 1), "teff,logg,feh": (0, 1, 2)}


def register(subparsers) -> None:
    p = subparsers.add_parser("disentangle", help="disentangled representations (paper 004)")
    sub = p.add_subparsers(dest="disentangle_command", required=True)

    m = sub.add_parser("make-data", help="generate a chemical-twin data set (HDF5, resumable)")
    m.add_argument("output")
    m.add_argument("--n-pairs", type=int, default=25000)
    m.add_argument("--n-bins", type=int, default=7751)
    m.add_argument("--generator", choices=["synth", "standin"], default="synth",
                   help="jaxstro.synth on the GALAH bands, or the analytic stand-in")
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--chunk-pairs", type=int, default=1024)
    m.set_defaults(func=_make_data)

    t = sub.add_parser("train", help="train FaderDis / FactorDis (checkpoints, resumes)")
    t.add_argument("data")
    t.add_argument("run_dir")
    t.add_argument("--method", choices=["fader", "factor"], default="fader")
    t.add_argument("--condition", choices=list(_COND), default="teff,logg")
    t.add_argument("--steps", type=int, default=10000)
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--lr", type=float, default=1e-5)
    t.add_argument("--lam", type=float, default=None, help="default: paper value")
    t.add_argument("--arch", choices=["paper", "small"], default="paper")
    t.add_argument("--train-snr", type=float, default=100.0, help="noise augmentation (0: none)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--checkpoint-every", type=int, default=1000)
    t.set_defaults(func=_train)

    e = sub.add_parser("evaluate", help="twin recovery and recast residuals per SNR")
    e.add_argument("data")
    e.add_argument("run_dir", help="a run directory from `train`, or 'polydis'")
    e.add_argument("--train-data", help="training set (needed for polydis)")
    e.add_argument("--condition", choices=list(_COND), default="teff,logg")
    e.add_argument("--seed", type=int, default=1)
    e.set_defaults(func=_evaluate)


def _make_data(args: argparse.Namespace) -> int:
    import jax

    from ._data import StandInGenerator, make_dataset
    from ._synth_generator import SynthGenerator

    if args.generator == "synth":
        gen = SynthGenerator(n_bins=args.n_bins)
    else:
        gen = StandInGenerator(jax.random.key(12345), n_bins=args.n_bins)
    make_dataset(args.output, gen, jax.random.key(args.seed), args.n_pairs,
                 chunk_pairs=args.chunk_pairs)
    print(f"wrote {args.output}")
    return 0


def _setup(config: dict, labels):
    import jax

    from ._models import Architecture
    from ._train import Conditioning, FactorDis, FaderDis, init_state, make_optimizer

    method = FaderDis(**config["method_args"]) if config["method"] == "fader" else FactorDis(
        **config["method_args"])
    arch = Architecture.small() if config["arch"] == "small" else Architecture()
    cond = Conditioning.from_labels(labels, tuple(config["condition"]))
    opt = make_optimizer(config["lr"])
    state = init_state(method, config["n_bins"], len(cond.indices), arch,
                       jax.random.key(config["seed"]), opt)
    return method, cond, opt, state


def _train(args: argparse.Namespace) -> int:
    import jax
    import jax.numpy as jnp

    from ._data import add_noise, load_dataset
    from ._train import make_step, train

    data = load_dataset(args.data)
    flux, labels = data.stars()
    run = Path(args.run_dir)
    run.mkdir(parents=True, exist_ok=True)
    lam = args.lam if args.lam is not None else (1e-5 if args.method == "fader" else 1e-4)
    config = {
        "method": args.method, "method_args": {"lam": lam},
        "condition": list(_COND[args.condition]),
        "arch": args.arch, "lr": args.lr, "seed": args.seed, "n_bins": int(flux.shape[-1]),
        "batch_size": args.batch_size, "train_snr": args.train_snr, "data": str(args.data),
    }  # fmt: skip
    cfg_path = run / "config.json"
    if cfg_path.exists() and json.loads(cfg_path.read_text()) != config:
        raise ValueError(f"{run} holds a run with another configuration; use a new run_dir")
    cfg_path.write_text(json.dumps(config, indent=2))
    method, cond, opt, state = _setup(config, labels)
    if args.train_snr:
        # FaderDis: noise drawn once and kept for every epoch (paper §4.2)
        flux = add_noise(jax.random.key(args.seed + 1), flux, args.train_snr)
    u, uu = cond(labels).astype(jnp.float32), cond.unit(labels).astype(jnp.float32)
    state, hist = train(state, make_step(method, opt), flux, u, uu, args.steps,
                        batch_size=args.batch_size, checkpoint=run / "state.eqx",
                        checkpoint_every=args.checkpoint_every)
    (run / "history.json").write_text(json.dumps(hist))
    print(f"trained to step {int(state.step)}; final {hist[-1] if hist else {}}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    import jax

    from ._data import load_dataset
    from ._evaluate import evaluate
    from ._models import PolyDis
    from ._train import Conditioning, load_checkpoint

    data = load_dataset(args.data)
    if args.run_dir == "polydis":
        if not args.train_data:
            raise ValueError("polydis needs --train-data")
        tr = load_dataset(args.train_data)
        flux, labels = tr.stars()
        cond = Conditioning.from_labels(labels, _COND[args.condition])
        model = PolyDis.fit(flux, cond(labels), order=4, n_components=50)
    else:
        run = Path(args.run_dir)
        config = json.loads((run / "config.json").read_text())
        tr_labels = load_dataset(config["data"]).stars()[1]
        _, cond, _, state = _setup(config, tr_labels)
        model = load_checkpoint(run / "state.eqx", state).ae
    rows = evaluate(model, cond, data, jax.random.key(args.seed))
    for r in rows:
        print(json.dumps(r))
    return 0
