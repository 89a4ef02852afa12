"""``jaxstro dynamics bar-sim``: the thesis ch4 bar-resonance test-particle pipeline."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _bar_sim(args: argparse.Namespace) -> int:
    import jax

    jax.config.update("jax_enable_x64", True)
    import numpy as np

    from ._bar_simulation import BarSimConfig, analyse, plot_profiles, run_chunks
    from ._selection import load_footprint

    selection = args.selection
    if selection not in ("none", "lamost"):
        selection = load_footprint(selection)
    results = []
    for ps in args.pattern_speeds:
        cfg = BarSimConfig(
            pattern_speed=ps,
            n_particles=args.n_particles,
            chunk_size=args.chunk_size,
            n_periods=args.n_periods,
            snapshots=tuple(args.snapshots),
            seed=args.seed,
            rtol=args.rtol,
        )
        out = Path(args.output) / f"omegab_{ps:g}"
        run_chunks(cfg, out, progress=not args.quiet, devices=args.devices)
        res = analyse(out, cfg, selection=selection)
        results.append(res)
        summary = {
            "pattern_speed": ps,
            "n_stars": res["n_stars"],
            "jphi_centres": res["jphi_centres"].tolist(),
            "profiles": [
                {k: (np.asarray(v).tolist()) for k, v in p.items()} for p in res["profiles"]
            ],
            "resonances": {k: [a.tolist(), b.tolist()] for k, (a, b) in res["resonances"].items()},
        }
        (out / "profiles.json").write_text(json.dumps(summary, indent=1, allow_nan=True))
    fig = plot_profiles(results, Path(args.output) / "bar_resonances.png")
    print(f"wrote {fig}")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("dynamics", help="Galactic dynamics (potentials, orbits, actions)")
    sub = p.add_subparsers(dest="dynamics_command", required=True)
    b = sub.add_parser("bar-sim", help="thesis ch4 bar-resonance simulation (chunked, resumable)")
    b.add_argument("-o", "--output", default="bar_sim", help="output directory")
    b.add_argument(
        "--pattern-speeds",
        type=float,
        nargs="+",
        default=[33.5, 39.0, 51.0],
        help="bar pattern speeds [km/s/kpc]",
    )
    b.add_argument("--n-particles", type=int, default=10_000)
    b.add_argument("--chunk-size", type=int, default=5_000)
    b.add_argument("--n-periods", type=float, default=50.0)
    b.add_argument(
        "--snapshots",
        type=float,
        nargs="+",
        default=[20.0, 30.0, 40.0, 50.0],
        help="snapshot times in bar periods (stacked)",
    )
    b.add_argument(
        "--selection",
        default="none",
        help="none | lamost (parametric LAMOST-like red-clump selection, see "
        "jaxstro.dynamics.LamostLikeSelection) | PATH to a survey footprint: .npz with "
        "x_edges, y_edges, z_edges, weights (bin weights) or xyz, .npy (n, 3) or CSV/text x y z "
        "positions in kpc (Sun at (8, 0, 0))",
    )
    b.add_argument(
        "--devices",
        type=int,
        default=None,
        help="devices to shard orbits over (default: all accelerators, one CPU device)",
    )
    b.add_argument("--rtol", type=float, default=1e-8)
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--quiet", action="store_true")
    b.set_defaults(func=_bar_sim)
