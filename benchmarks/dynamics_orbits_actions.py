"""Benchmark: orbit integration and Staeckel actions, jaxstro vs galpy in the same run.

    python -m benchmarks.dynamics_orbits_actions [--quick]

Orbits: N stars in MWPotential2014 for 1 Gyr (101 outputs), jaxstro Dopri8 vs galpy dop853_c
at the same rtol=atol (1e-8 and 1e-12). Actions: N stars, jaxstro Staeckel (order 32) vs galpy
actionAngleStaeckel(c=True, delta=0.45). Rates are stars per second (after compilation).
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

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
    return np.column_stack([rng.uniform(0.5, 1.5, n), rng.normal(0, 0.15, n),
                            rng.normal(0.95, 0.1, n), rng.normal(0, 0.05, n),
                            rng.normal(0, 0.08, n), rng.uniform(0, 2 * np.pi, n)])


def main(quick: bool = False) -> None:
    n_orb = 200 if quick else 10_000
    n_act = 2_000 if quick else 100_000
    rows = []
    ic = _stars(n_orb)
    ts = np.linspace(0.0, float(time_to_natural(1.0)), 101)
    mw = MWPotential2014()
    from galpy.actionAngle import actionAngleStaeckel
    from galpy.orbit import Orbit
    from galpy.potential import MWPotential2014 as gmw

    for rtol in (1e-8, 1e-12):
        opts = OrbitOptions(rtol=rtol, atol=rtol)
        w0 = cyl_to_cart(jnp.asarray(ic))
        t = timeit(integrate_orbits, mw, w0, ts, options=opts, repeats=1)
        o = Orbit(ic)
        t0 = time.perf_counter()
        o.integrate(ts, gmw, method="dop853_c", rtol=rtol, atol=rtol)
        tg = time.perf_counter() - t0
        rows.append({"what": f"orbits 1 Gyr rtol={rtol:g}", "n": n_orb,
                     "jaxstro_s": t["min_s"], "jaxstro_compile_s": t["first_call_s"],
                     "galpy_s": tg, "jaxstro_per_s": n_orb / t["min_s"], "galpy_per_s": n_orb / tg,
                     "speedup": tg / t["min_s"]})
    st = _stars(n_act, 1)
    t = timeit(lambda: actions_staeckel(mw, st[:, :5], 0.45).jr, repeats=1)
    aa = actionAngleStaeckel(pot=gmw, delta=0.45, c=True)
    t0 = time.perf_counter()
    aa(st[:, 0], st[:, 1], st[:, 2], st[:, 3], st[:, 4])
    tg = time.perf_counter() - t0
    rows.append({"what": "Staeckel actions", "n": n_act, "jaxstro_s": t["min_s"],
                 "jaxstro_compile_s": t["first_call_s"], "galpy_s": tg,
                 "jaxstro_per_s": n_act / t["min_s"], "galpy_per_s": n_act / tg,
                 "speedup": tg / t["min_s"]})
    record("dynamics_orbits_actions" + ("_quick" if quick else ""), rows)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    main(p.parse_args().quick)
