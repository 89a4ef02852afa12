"""Benchmark: orbit integration and Staeckel actions, jaxstro vs galpy in the same run (CPU).

    python -m benchmarks.dynamics_orbits_actions [--quick] [--devices 2] [--skip-actions]

Orbits: N disc stars in MWPotential2014 for 1 Gyr (101 outputs). galpy ``dop853_c`` (C, OpenMP
over all cores) against jaxstro (diffrax Dopri8, PID step control per star, stars sorted by energy
into blocks of ``chunk_size``, blocks sharded over ``--devices`` host CPU devices, i.e. one per
core) at the same rtol = atol (1e-8 and 1e-12), plus jaxstro at looser tolerances so that the
speed can be compared at equal accuracy. Accuracy: for a random subset of the stars, the maximum
over the 101 outputs of |x - x_ref| / max|x_ref| (positions and velocities), against a reference
integration with galpy dop853_c at rtol = atol = 1e-14 (checked against jaxstro at 1e-14).
Actions: N stars, jaxstro Staeckel (order 32) vs galpy actionAngleStaeckel(c=True, delta=0.45).
Rates are stars per second after compilation; compile time is reported separately.
"""

from __future__ import annotations

import argparse
import os
import sys

if __name__ == "__main__":  # host devices must be requested before jax is imported
    _ap = argparse.ArgumentParser()
    _ap.add_argument("--devices", type=int, default=os.cpu_count() or 1)
    _dev = _ap.parse_known_args()[0].devices
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={_dev}"
    )
    os.environ.setdefault("JAX_PLATFORMS", "cpu")

import time  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", True)

from benchmarks._timing import record, timeit  # noqa: E402
from jaxstro.dynamics import (  # noqa: E402
    MWPotential2014,
    OrbitOptions,
    actions_staeckel,
    cyl_to_cart,
    integrate_orbits,
)
from jaxstro.dynamics._units import time_to_natural  # noqa: E402


def _stars(n, seed=0):
    rng = np.random.default_rng(seed)
    return np.column_stack(
        [
            rng.uniform(0.5, 1.5, n),
            rng.normal(0, 0.15, n),
            rng.normal(0.95, 0.1, n),
            rng.normal(0, 0.05, n),
            rng.normal(0, 0.08, n),
            rng.uniform(0, 2 * np.pi, n),
        ]
    )


def _galpy_xyz(o, ts):
    return np.stack([o.x(ts), o.y(ts), o.z(ts), o.vx(ts), o.vy(ts), o.vz(ts)], -1)


def _errors(w, ref):
    err = np.abs(w - ref).max(axis=(1, 2)) / np.abs(ref).max(axis=(1, 2))
    return float(np.median(err)), float(np.percentile(err, 99)), float(err.max())


def main(quick: bool = False, devices: int = 1, skip_actions: bool = False) -> None:
    from galpy.orbit import Orbit
    from galpy.potential import MWPotential2014 as gmw

    n_orb = 1000 if quick else 10_000
    n_ref = 200 if quick else 500
    n_act = 2_000 if quick else 100_000
    rows = []
    ic = _stars(n_orb)
    ts = np.linspace(0.0, float(time_to_natural(1.0)), 101)
    mw = MWPotential2014()
    w0 = cyl_to_cart(jnp.asarray(ic))
    sub = np.random.default_rng(1).choice(n_orb, n_ref, replace=False)

    # high-accuracy reference for the subset (galpy dop853_c at 1e-14), cross-checked with jaxstro
    o = Orbit(ic[sub])
    o.integrate(ts, gmw, method="dop853_c", rtol=1e-14, atol=1e-14)
    ref = _galpy_xyz(o, ts)
    tight = np.asarray(
        integrate_orbits(mw, w0[sub], ts, options=OrbitOptions(rtol=1e-14, atol=1e-14))
    )
    ref_check = _errors(tight, ref)
    print(
        f"reference check (jaxstro 1e-14 vs galpy 1e-14): median {ref_check[0]:.2e}, "
        f"max {ref_check[2]:.2e}"
    )

    galpy_rtols = (1e-8, 1e-12)
    jax_rtols = (1e-6, 1e-7, 1e-8, 1e-10, 1e-12) if not quick else (1e-6, 1e-8, 1e-12)
    for rtol in galpy_rtols:
        o = Orbit(ic)
        t0 = time.perf_counter()
        o.integrate(ts, gmw, method="dop853_c", rtol=rtol, atol=rtol)
        tg = time.perf_counter() - t0
        med, p99, mx = _errors(_galpy_xyz(o, ts)[sub], ref)
        rows.append(
            {
                "code": "galpy dop853_c",
                "what": f"orbits 1 Gyr rtol={rtol:g}",
                "n": n_orb,
                "seconds": tg,
                "compile_s": 0.0,
                "per_s": n_orb / tg,
                "err_median": med,
                "err_p99": p99,
                "err_max": mx,
                "threads": os.environ.get("OMP_NUM_THREADS", str(os.cpu_count())),
            }
        )
    for rtol in jax_rtols:
        opts = OrbitOptions(rtol=rtol, atol=rtol, devices=devices)
        out = {}

        def run(opts=opts, out=out):
            out["w"] = integrate_orbits(mw, w0, ts, options=opts)
            return out["w"]

        t = timeit(run, repeats=1)
        med, p99, mx = _errors(np.asarray(out["w"])[sub], ref)
        rows.append(
            {
                "code": f"jaxstro Dopri8 ({devices} dev)",
                "what": f"orbits 1 Gyr rtol={rtol:g}",
                "n": n_orb,
                "seconds": t["min_s"],
                "compile_s": t["first_call_s"] - t["min_s"],
                "per_s": n_orb / t["min_s"],
                "err_median": med,
                "err_p99": p99,
                "err_max": mx,
                "threads": "-",
            }
        )
    # speed at equal accuracy: for each galpy row, the fastest jaxstro row at least as accurate
    # (median and 99th percentile of the error)
    summary = []
    for g in [r for r in rows if r["code"].startswith("galpy")]:
        ok = [
            r
            for r in rows
            if r["code"].startswith("jaxstro")
            and r["err_median"] <= g["err_median"]
            and r["err_p99"] <= g["err_p99"]
        ]
        if ok:
            best = min(ok, key=lambda r: r["seconds"])
            summary.append(
                {
                    "galpy": g["what"],
                    "galpy_s": g["seconds"],
                    "galpy_err_median": g["err_median"],
                    "jaxstro": best["what"],
                    "jaxstro_s": best["seconds"],
                    "jaxstro_err_median": best["err_median"],
                    "speedup_equal_accuracy": g["seconds"] / best["seconds"],
                }
            )
        same = [r for r in rows if r["code"].startswith("jaxstro") and r["what"] == g["what"]]
        if same:
            summary.append(
                {
                    "galpy": g["what"],
                    "jaxstro": same[0]["what"] + " (same rtol)",
                    "galpy_s": g["seconds"],
                    "jaxstro_s": same[0]["seconds"],
                    "speedup_same_rtol": g["seconds"] / same[0]["seconds"],
                }
            )
    for s in summary:
        print(s)
    if not skip_actions:
        from galpy.actionAngle import actionAngleStaeckel

        st = _stars(n_act, 1)
        t = timeit(lambda: actions_staeckel(mw, st[:, :5], 0.45).jr, repeats=1)
        aa = actionAngleStaeckel(pot=gmw, delta=0.45, c=True)
        t0 = time.perf_counter()
        aa(st[:, 0], st[:, 1], st[:, 2], st[:, 3], st[:, 4])
        tg = time.perf_counter() - t0
        rows.append(
            {
                "code": "galpy actionAngleStaeckel c",
                "what": "Staeckel actions",
                "n": n_act,
                "seconds": tg,
                "compile_s": 0.0,
                "per_s": n_act / tg,
            }
        )
        rows.append(
            {
                "code": "jaxstro (1 dev)",
                "what": "Staeckel actions",
                "n": n_act,
                "seconds": t["min_s"],
                "compile_s": t["first_call_s"] - t["min_s"],
                "per_s": n_act / t["min_s"],
            }
        )
    record(
        "dynamics_orbits_actions" + ("_quick" if quick else ""),
        rows,
        equal_accuracy=summary,
        devices=devices,
        reference_check=ref_check,
        accuracy_subset=n_ref,
    )


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument(
        "--devices",
        type=int,
        default=os.cpu_count() or 1,
        help="host CPU devices to shard orbits over (default: one per core)",
    )
    p.add_argument("--skip-actions", action="store_true")
    a = p.parse_args()
    sys.exit(main(a.quick, a.devices, a.skip_actions))
