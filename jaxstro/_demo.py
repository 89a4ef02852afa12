"""``jaxstro demo``: run what the modules offer end to end on the registered real data.

First the HMC fit (MAP -> NUTS of a real APOGEE star's labels with a Cannon trained on the
fixture; the synthesis-based fit replaces it once line synthesis matches Turbospectrum), then
spectra preprocessing, the solar continuum synthesis, The Cannon and the disentangling baseline.

Each step prints what it did and its numbers, saves a figure, and the run writes
``summary.json``; ``--quick`` uses the smallest sizes (for tests). Steps whose data files are
missing fail with the registry's message naming the file.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np


def _step_spectra(out: Path, quick: bool) -> dict:
    import matplotlib.pyplot as plt

    from .spectra import bad_pixel_rule, continuum_normalize, read_spectrum

    spec = read_spectrum("lamost_lrs_g3")
    wl, fl, iv = (np.asarray(a) for a in (spec.wavelength, spec.flux, spec.ivar))
    nf, niv, cont = continuum_normalize(wl, fl, iv, sigma=25.0, truncate=75.0)  # thesis ch3
    nf, niv = bad_pixel_rule(nf, niv)
    nf = np.asarray(nf)
    good = np.asarray(niv) > 0
    fig, ax = plt.subplots(2, 1, figsize=(9, 5), sharex=True)
    ax[0].plot(wl, fl, lw=0.5)
    ax[0].plot(wl, np.asarray(cont), lw=1)
    ax[0].set_ylabel("flux")
    ax[1].plot(wl, nf, lw=0.5)
    ax[1].set_ylabel("normalised")
    ax[1].set_xlabel("vacuum wavelength [Å]")
    fig.savefig(out / "lamost_normalised.png", dpi=110)
    plt.close(fig)
    median = float(np.median(nf[good]))
    print(f"  LAMOST LRS G3 star: {wl.size} px, {good.mean():.1%} usable, median normalised "
          f"flux {median:.3f}")
    return {"n_pixels": int(wl.size), "usable_fraction": float(good.mean()),
            "median_normalised_flux": median}


def _step_cannon(out: Path, quick: bool) -> dict:
    import jax.numpy as jnp

    from .cannon import Vectorizer, fit_labels, one_to_one_plot, polynomial_exponents, train
    from .data import load_npz

    d = load_npz("annieslasso_apogee")
    labels, flux, ivar = d["labels"], d["flux"], d["ivar"]
    rng = np.random.default_rng(0)
    test = rng.permutation(len(labels))[: 60 if quick else 135]
    train_mask = np.ones(len(labels), bool)
    train_mask[test] = False
    names = tuple(str(n) for n in d["label_names"])
    vec = Vectorizer(names, polynomial_exponents(3, 2))
    model = train(jnp.asarray(labels[train_mask]), jnp.asarray(flux[train_mask]),
                  jnp.asarray(ivar[train_mask]), vec, wavelength=jnp.asarray(d["dispersion"]))
    fit = fit_labels(model, jnp.asarray(flux[test]), jnp.asarray(ivar[test]))
    resid = np.asarray(fit.labels) - labels[test]
    scatter = {n: float(np.std(resid[:, i])) for i, n in enumerate(names)}
    bias = {n: float(np.mean(resid[:, i])) for i, n in enumerate(names)}
    fig = one_to_one_plot(labels[test], np.asarray(fit.labels), names)
    fig.savefig(out / "cannon_one_to_one.png", dpi=110)
    print(f"  The Cannon on {train_mask.sum()} APOGEE giants x 100 px (quadratic), "
          f"{len(test)} held out: scatter " + ", ".join(f"{k} {v:.3g}" for k, v in scatter.items()))
    return {"n_train": int(train_mask.sum()), "n_test": len(test), "scatter": scatter,
            "bias": bias}


def _step_disentangle(out: Path, quick: bool) -> dict:
    import jax

    from . import disentangle as dis

    gen = dis.StandInGenerator(jax.random.key(0), n_bins=128, n_lines=60)
    n = 400 if quick else 2000
    lab = dis.sample_twin_labels(jax.random.key(1), n)
    data = dis.TwinDataset(gen(lab.reshape(-1, 20)).reshape(n, 2, -1), lab)
    flux, labels = data.stars()
    cond = dis.Conditioning.from_labels(labels, (0, 1, 2))
    model = dis.PolyDis.fit(flux, cond(labels), order=4, n_components=50)
    rows = dis.evaluate(model, cond, data, jax.random.key(2), snrs=(None, 100.0))
    for r in rows:
        print(f"  PolyDis (stand-in spectra, in-sample) SNR {r['snr']}: twin recovery "
              f"{r['twin_recovery']:.3f}, recast R {r['R']:.4f}")
    return {"polydis": rows}


def _step_synth(out: Path, quick: bool) -> dict:
    import jax.numpy as jnp
    import matplotlib.pyplot as plt

    from . import synth

    atm = synth.read_marcs("marcs_sun")
    a_x = synth.format_abundances(0.0, mixture="grevesse2007")
    wl = jnp.linspace(3000.0, 15000.0, 200 if quick else 1200)
    sp = synth.synthesize(atm, None, a_x, wl)
    f5000 = float(jnp.interp(5001.39, wl, sp.continuum))  # 5000 Å in air
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(wl, sp.continuum)
    ax.set_xlabel("vacuum wavelength [Å]")
    ax.set_ylabel("F_lambda [erg s$^{-1}$ cm$^{-2}$ Å$^{-1}$]")
    ax.set_title("MARCS Sun: continuum flux (jaxstro.synth)")
    fig.savefig(out / "sun_continuum.png", dpi=110)
    plt.close(fig)
    # Turbospectrum v20.1 gives 1.0398e7 for this model at 5000 Å air (tests/synth/reference)
    print(f"  solar continuum (MARCS, GAS07) at 5000 Å air: {f5000:.4e} erg/s/cm2/Å "
          f"(Turbospectrum 1.0398e7: {f5000 / 1.0398e7 - 1:+.2%})")
    return {"continuum_5000A_air": f5000, "turbospectrum_5000A_air": 1.0398e7}


def _step_fit(out: Path, quick: bool) -> dict:
    from .infer import run_fit_demo

    res = run_fit_demo(out, quick=quick)
    rows = {r["parameter"]: {"mean": float(r["mean"]), "sd": float(r["sd"]),
                             "r_hat": float(r["r_hat"])} for r in res.summary}
    return {"posterior": rows, "warnings": list(res.summary.meta.get("warnings", []))}


STEPS: dict[str, Callable[[Path, bool], dict]] = {
    "fit": _step_fit,
    "spectra": _step_spectra,
    "synth": _step_synth,
    "cannon": _step_cannon,
    "disentangle": _step_disentangle,
}


def run_demo(output: str | Path = "jaxstro_demo", quick: bool = False) -> int:
    import jax
    import matplotlib

    matplotlib.use("Agg")
    jax.config.update("jax_enable_x64", True)
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    summary: dict[str, dict] = {}
    for name, step in STEPS.items():
        print(f"[{name}]")
        t0 = time.perf_counter()
        summary[name] = step(out, quick)
        summary[name]["seconds"] = time.perf_counter() - t0
        print(f"  ({summary[name]['seconds']:.1f} s)")
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=float))
    print(f"wrote {out}/summary.json and figures")
    return 0
