"""Training throughput of FaderDis / FactorDis (paper architecture A1-A6) in samples per second.

    python -m benchmarks.disentangle_train [--quick] [--n-bins 7751] [--batch-size 64]

Times jitted training steps on random spectra of the paper's size (7,751 bins) on the default
device. The paper reports no timings; the ratio of interest is GPU vs CPU on the same script.
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp

from benchmarks._timing import record, timeit
from jaxstro import disentangle as dis


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--n-bins", type=int, default=7751)
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args()
    arch = dis.Architecture.small() if args.quick else dis.Architecture()
    n_bins = 256 if args.quick else args.n_bins
    b = args.batch_size
    k = jax.random.key(0)
    x = 1.0 - 0.3 * jax.random.uniform(k, (b, n_bins), jnp.float32)
    u = jax.random.normal(k, (b, 2), jnp.float32)
    uu = jax.random.uniform(k, (b, 2), jnp.float32)
    rows = []
    for name, method in [("FaderDis", dis.FaderDis()), ("FactorDis", dis.FactorDis())]:
        opt = dis.make_optimizer(1e-5)
        state = dis.init_state(method, n_bins, 2, arch, jax.random.key(1), opt)
        step = dis.make_step(method, opt)

        def run(s, step=step):
            return step(s, x, u, uu)[0].step

        t = timeit(run, state, repeats=3 if args.quick else 10)
        rows.append({"method": name, "n_bins": n_bins, "batch": b, "step_s": t["median_s"],
                     "samples_per_s": b / t["median_s"], "compile_s": t["first_call_s"]})
    record("disentangle_train" + ("_quick" if args.quick else ""), rows)


if __name__ == "__main__":
    main()
