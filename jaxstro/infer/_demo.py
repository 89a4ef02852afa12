"""``run_fit_demo``: the infer part of ``jaxstro demo`` (about a minute on a 2-core CPU)."""

from __future__ import annotations

from pathlib import Path


def run_fit_demo(output="jaxstro_demo", *, quick: bool = False, star: int = 650):
    """Train a quadratic Cannon on 300 stars of the real APOGEE fixture (``annieslasso_apogee``),
    fit the labels of a held-out star with MAP -> NUTS, print the posterior summary next to the
    catalogue labels and write ``fit_posterior.nc``, ``fit_summary.ecsv``, ``fit_trace.png``,
    ``fit_corner.png`` to ``output``. Returns the :class:`FitResult`."""
    import jax
    import jax.numpy as jnp

    from jaxstro.cannon import Vectorizer, polynomial_exponents, train
    from jaxstro.data import load_npz

    from ._fit import fit_cannon_labels
    from ._run import trace_and_corner

    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    d = load_npz("annieslasso_apogee")
    names = tuple(str(n) for n in d["label_names"])
    n_train = 150 if quick else 300
    cannon = train(jnp.asarray(d["labels"][:n_train]), jnp.asarray(d["flux"][:n_train]),
                   jnp.asarray(d["ivar"][:n_train]), Vectorizer(names, polynomial_exponents(3, 2)))
    n = 100 if quick else 300
    res = fit_cannon_labels(cannon, d["flux"][star], d["ivar"][star], key=jax.random.key(0),
                            num_warmup=n, num_samples=n, num_chains=2, n_steps=500)
    res.idata.to_netcdf(str(out / "fit_posterior.nc"), engine="h5netcdf")
    res.summary.write(out / "fit_summary.ecsv", overwrite=True)
    trace_and_corner(res.idata, str(out / "fit"), var_names=list(names))
    print(f"APOGEE star {star}: Cannon-label posterior (NUTS, 2 chains x {n})")
    for row, truth in zip(res.summary, d["labels"][star], strict=True):
        print(f"  {row['parameter']:10s} {row['mean']:10.3f} +- {row['sd']:7.3f}   "
              f"(catalogue {truth:10.3f}, r_hat {row['r_hat']:.3f})")
    for w in res.summary.meta["warnings"]:
        print(f"  WARNING: {w}")
    return res
