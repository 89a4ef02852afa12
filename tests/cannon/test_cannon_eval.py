"""Cross-validation, ch2 diagnostics, catalog runs (chunked, resumable, sharded) and the CLI."""

import json

import h5py
import jax
import numpy as np
import pytest

from jaxstro.cannon import (
    SpectraSource,
    chemical_distance,
    collect_catalog,
    cross_validate,
    extrapolation_bounds,
    is_giant,
    kfold_assignment,
    one_to_one_plot,
    run_catalog,
)
from jaxstro.cannon._labels import fit_batch_sharded

from .conftest import BATCH, N_TRAIN


def test_kfold_assignment_is_a_partition():
    f = kfold_assignment(671, 12, seed=3)
    counts = np.bincount(f)
    assert counts.size == 12 and counts.min() == 55 and counts.max() == 56
    assert np.array_equal(f, kfold_assignment(671, 12, seed=3))


@pytest.mark.slow
@pytest.mark.needs_data
def test_cross_validation_on_real_apogee(apogee, quad_model, tmp_path):
    """12-fold CV on the 671 real APOGEE giants (the quadratic model of the issue, 100 pixels).

    Slow (a second training compile + 12 folds); the default suite runs an 8-fold CV through the
    CLI test.
    With only 100 pixels (15168-15189 A) the labels are poorly constrained; the test requires the
    CV predictions to be informative (r > 0.7 for each label, scatter below the label spread)."""
    d = apogee
    res = cross_validate(d["labels"], d["flux"], d["ivar"], quad_model.vectorizer, k=12,
                         wavelength=d["dispersion"])
    spread = d["labels"].std(axis=0)
    summary = res.summary()
    print("12-fold CV:", json.dumps(summary))
    assert np.all(res.scatter() < 0.8 * spread)
    assert np.all(res.correlation() > 0.7)
    # independent implementation on the same folds: Casey's thecannon (annieslasso 0.2.96, its
    # own numpy<2 env) gives 12-fold CV scatter 227.8 K, 0.4468, 0.2077 dex
    # (benchmarks/cannon_cv_apogee.py); the ML scatter model must do at least as well
    # (measured: 216.4 K, 0.4229, 0.2012, i.e. 0.95-0.97 of it; bootstrap s.e. 8 K/0.016/0.012)
    assert np.array_equal(res.fold, kfold_assignment(671, 12, seed=0))
    assert np.all(res.scatter() < np.array([227.8, 0.4468, 0.2077]))
    assert res.fit.labels.shape == (671, 3)
    fig = one_to_one_plot(res.true, res.inferred, res.label_names,
                          bounds=extrapolation_bounds(res.true, res.inferred),
                          path=tmp_path / "cv.png")
    assert (tmp_path / "cv.png").stat().st_size > 0
    fig.clf()


def test_extrapolation_bounds_90_percent_rule(rng):
    """A model that saturates above 3 (inferred = min(true, 3) + noise): for inferred values near
    3 the true values are nearly all larger (the model under-predicts > 90 % of the time), so the
    KDE rule (thesis §2.4) puts the upper bound below 3; at the low edge of a uniform training
    set (true >= 0) it flags inferred values below ~0 too."""
    true = rng.uniform(0, 10, 4000)
    inferred = np.minimum(true, 3.0) + rng.normal(0, 0.2, true.size)
    b = extrapolation_bounds(true[:, None], inferred[:, None], label_names=("x",))
    assert 2.0 < float(b.upper[0]) < 3.0
    assert float(b.lower[0]) < 0.5
    flags = np.asarray(b.flag(np.array([[1.5], [3.2]])))
    assert flags[:, 0].tolist() == [False, True]
    # an unbiased model: no upper bound inside its range, a lower one only at the hard edge 0
    b2 = extrapolation_bounds(true, true + rng.normal(0, 0.2, true.size))
    assert float(b2.upper[0]) == np.inf
    assert float(b2.lower[0]) < 0.3


def test_dwarf_giant_split_eq_2_1():
    teff = np.array([4500.0, 4500.0, 5200.0, 6000.0, 6000.0])
    logg = np.array([4.1, 4.3, 4.17, 3.6, 3.8])
    # line: 4.18 below 5200 K, -6e-4 Teff + 7.3 above (3.7 at 6000 K)
    assert np.asarray(is_giant(teff, logg)).tolist() == [True, False, True, True, False]


def test_chemical_distance_eq_2_6():
    a = np.array([0.1, -0.2, 0.05])
    b = np.array([0.0, 0.0, 0.0])
    sig = np.array([0.05, 0.1, 0.05])
    np.testing.assert_allclose(float(chemical_distance(a, b, sig)), np.sqrt(4 + 4 + 1))
    many = chemical_distance(np.tile(a, (5, 1)), b, sig)
    assert many.shape == (5,)


@pytest.mark.needs_data
def test_fit_is_sharded_over_devices(apogee, quad_model):
    d = apogee
    res = fit_batch_sharded(quad_model, d["flux"][N_TRAIN:N_TRAIN + BATCH],
                            d["ivar"][N_TRAIN:N_TRAIN + BATCH], quad_model_options())
    assert len(res.labels.sharding.device_set) == jax.device_count() == 4


def quad_model_options():
    from jaxstro.cannon import FitOptions

    return FitOptions()


def _write_h5(path, d, wave):
    with h5py.File(path, "w") as h:
        h["flux"] = d["flux"][N_TRAIN:]
        h["ivar"] = d["ivar"][N_TRAIN:]
        h["wavelength"] = wave


@pytest.mark.needs_data
def test_catalog_resumes_after_kill(tmp_path, apogee, quad_model, quad_fit):
    d = apogee
    src = tmp_path / "spectra.h5"
    _write_h5(src, d, d["dispersion"])
    out = tmp_path / "run"
    # a "killed" run: one chunk written, plus a stale partial file from the kill
    info = run_catalog(quad_model, src, out, chunk_size=BATCH, batch_size=BATCH, max_chunks=1,
                       progress=False)
    assert info == {"n_chunks": 4, "written": 1, "skipped": 0, "out_dir": str(out)}
    (out / "chunk_000001.tmp.npz").write_bytes(b"partial")
    first = (out / "chunk_000000.npz").stat().st_mtime_ns
    with pytest.raises(ValueError, match="chunks missing"):
        collect_catalog(out)
    info = run_catalog(quad_model, src, out, chunk_size=BATCH, batch_size=BATCH, progress=False)
    assert info["written"] == 3 and info["skipped"] == 1
    assert (out / "chunk_000000.npz").stat().st_mtime_ns == first  # not redone
    t = collect_catalog(out, path=tmp_path / "cat.fits")
    assert len(t) == 671 - N_TRAIN
    np.testing.assert_array_equal(t["row"], np.arange(671 - N_TRAIN))
    np.testing.assert_allclose(np.stack([t[n] for n in quad_model.label_names], 1),
                               quad_fit.labels, rtol=1e-10)
    # a different chunking in the same directory is refused
    with pytest.raises(ValueError, match="chunk_size"):
        run_catalog(quad_model, src, out, chunk_size=100, progress=False)
    # wrong wavelength grid in the file is refused
    _write_h5(tmp_path / "shifted.h5", d, d["dispersion"] * 1.001)
    with pytest.raises(ValueError, match="wavelength grid differs"):
        run_catalog(quad_model, tmp_path / "shifted.h5", tmp_path / "run2", progress=False)


@pytest.mark.needs_data
def test_fits_source(tmp_path, apogee):
    from astropy.io import fits

    d = apogee
    path = tmp_path / "s.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(d["flux"][:10], name="FLUX"),
                  fits.ImageHDU(d["ivar"][:10], name="IVAR"),
                  fits.ImageHDU(d["dispersion"], name="WAVELENGTH")]).writeto(path)
    with SpectraSource(path) as s:
        assert (s.n_stars, s.n_pixels) == (10, 100)
        f, iv = s.read(3, 7)
        np.testing.assert_array_equal(f, d["flux"][3:7])
        np.testing.assert_array_equal(s.wavelength, d["dispersion"])


@pytest.mark.needs_data
def test_cli_train_test_cv(tmp_path, apogee, quad_fit, capsys):
    from jaxstro.cli import main

    d = apogee
    model = tmp_path / "m.cannon"
    assert main(["cannon", "train", "annieslasso_apogee", "-o", str(model),
                 "--n-train", str(N_TRAIN), "-q"]) == 0
    src = tmp_path / "spectra.h5"
    _write_h5(src, d, d["dispersion"])
    out = tmp_path / "cat"
    assert main(["cannon", "test", str(model), str(src), "-o", str(out), "--chunk-size",
                 str(BATCH), "--batch-size", str(BATCH), "-q"]) == 0
    from astropy.table import Table

    t = Table.read(out / "catalog.fits")
    np.testing.assert_allclose(t["TEFF"], quad_fit.labels[:, 0], rtol=1e-10)
    # 8 folds of 447 stars: held-out batches of 56, the same compiled functions as above
    summ = tmp_path / "cv.json"
    assert main(["cannon", "cv", "annieslasso_apogee", "--n-train", str(N_TRAIN), "--folds", "8",
                 "-o", str(summ), "-q"]) == 0
    s = json.loads(summ.read_text())
    assert s["folds"] == 8 and set(s["labels"]) == {"TEFF", "LOGG", "PARAM_M_H"}
    assert "scatter" in capsys.readouterr().out
