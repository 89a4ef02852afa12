"""Catalog pipeline: chunked I/O (npz/HDF5/FITS), sharding over 4 fake CPU devices, resume, CLI."""

import json

import jax
import numpy as np
import pytest

from jaxstro.tsp import TSPConfig, make_feature, tsp
from jaxstro.tsp._pipeline import (
    SpectraFile,
    load_catalog,
    run_catalog,
    select_catalog,
    write_spectra,
)

N_PIX = 160


def _spectra(rng, n):
    wl = 6600.0 * 10 ** (1e-4 * np.arange(N_PIX))
    lines = np.stack([np.exp(-0.5 * ((wl - c) / 1.6) ** 2) for c in np.linspace(wl[3], wl[-3], 25)])
    depth = np.random.default_rng(1).uniform(0.05, 0.4, (3, 25))
    z = rng.uniform(-1, 1, (n, 3))
    flux = np.exp(-0.3 * np.exp(0.5 * z @ depth) @ lines) + 0.005 * rng.standard_normal((n, N_PIX))
    return wl, flux, np.full((n, N_PIX), 4e4)


@pytest.fixture
def files(tmp_path, rng):
    wl, ref, riv = _spectra(rng, 120)
    _, tf, ti = _spectra(rng, 37)
    tf[3, 5] = np.nan  # a NaN pixel
    ti[4] = 0.0  # a target without any information: flagged, never stops the run
    tf[5] = ref[11]  # a target that is in the reference set (same id -> excluded)
    ids = 1000 + np.arange(37)
    ids[5] = 11
    feat = make_feature(wl, wl[80], half_width=5.0)
    return {
        "wl": wl,
        "feat": feat,
        "ref": write_spectra(tmp_path / "ref.h5", ref, riv, ids=np.arange(120)),
        "tgt_npz": write_spectra(tmp_path / "t.npz", tf, ti, ids=ids),
        "tgt_fits": write_spectra(tmp_path / "t.fits", tf, ti, ids=ids),
        "arrays": (ref, tf, ti, ids),
    }


def test_sharded_chunked_run_equals_direct_call_and_resumes(tmp_path, files):
    assert jax.device_count() == 4  # tests/conftest.py forces 4 host devices
    mesh = jax.make_mesh((4,), ("t",))  # shard each chunk over all 4 (default: 1 on CPU)
    feat, cfg = files["feat"], TSPConfig(k=15, q=3, batch_size=4, block_size=50, min_pixels=50)
    ref, tf, ti, ids = files["arrays"]
    direct = tsp(tf, ti, ref, feat, cfg, target_ids=ids, reference_ids=np.arange(120))
    out = tmp_path / "run"
    # first run "killed" after 2 of 5 chunks (chunk 8 targets); a stale temporary file lies around
    run_catalog(
        files["ref"],
        files["tgt_npz"],
        out,
        feat,
        cfg,
        chunk_size=8,
        max_chunks=2,
        progress=False,
        mesh=mesh,
    )
    (out / "chunk_0000000016_0000000024.npz.tmp999.npz").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="targets done"):
        load_catalog(out)
    assert len(load_catalog(out, allow_incomplete=True)["ids"]) == 16
    paths = run_catalog(
        files["ref"], files["tgt_npz"], out, feat, cfg, chunk_size=8, progress=False, mesh=mesh
    )
    assert len(paths) == 5 and all(p.exists() for p in paths)
    cat = load_catalog(out)
    np.testing.assert_array_equal(cat["index"], np.arange(37))  # nothing lost or duplicated
    np.testing.assert_array_equal(cat["ids"], ids)
    # sharded, chunked, padded pipeline == one direct call (same float64 arithmetic per target)
    for k in ("eew", "eew_err", "pred", "loglike", "chi2"):
        np.testing.assert_allclose(cat[k], np.asarray(getattr(direct, k)), rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(cat["flags"], np.asarray(direct.flags))
    assert cat["flags"][3] == 1 and cat["flags"][4] != 0 and np.all(cat["flags"][6:] == 0)
    # a finished run is skipped entirely; a different configuration is refused
    run_catalog(files["ref"], files["tgt_npz"], out, feat, cfg, chunk_size=8, mesh=mesh)
    with pytest.raises(ValueError, match="different"):
        run_catalog(
            files["ref"],
            files["tgt_npz"],
            out,
            feat,
            TSPConfig(k=16, q=3),
            chunk_size=8,
            progress=False,
        )
    t = select_catalog(out, path=tmp_path / "cat.fits")
    assert len(t) == 37 and not t["candidate"][4]
    assert json.loads((out / "manifest.json").read_text())["k"] == 15


def test_readers_agree_and_reject_malformed(tmp_path, files):
    a, b = SpectraFile(files["tgt_npz"]), SpectraFile(files["tgt_fits"])
    np.testing.assert_array_equal(a.read("flux", 3, 9), b.read("flux", 3, 9))
    np.testing.assert_array_equal(a.ids(0, 5), b.ids(0, 5))
    np.savez(tmp_path / "bad.npz", flux=np.ones((3, 4)), ivar=np.ones((3, 5)))
    with pytest.raises(ValueError, match="must be equal"):
        SpectraFile(tmp_path / "bad.npz")
    with pytest.raises(ValueError, match="unknown format"):
        (tmp_path / "x.txt").write_text("x")
        SpectraFile(tmp_path / "x.txt")


def test_cli_run_and_select(tmp_path, files):
    from jaxstro.cli import main

    out = tmp_path / "cli"
    np.save(tmp_path / "wl.npy", files["wl"])
    args = [
        "tsp",
        "run",
        "--reference",
        str(files["ref"]),
        "--targets",
        str(files["tgt_fits"]),
        "--out",
        str(out),
        "--k",
        "15",
        "--q",
        "3",
        "--chunk-size",
        "16",
        "--wavelength",
        str(tmp_path / "wl.npy"),
        "--center",
        str(files["wl"][80]),
        "--half-width",
        "5",
        "--min-pixels",
        "50",
        "--no-progress",
    ]
    assert main(args) == 0
    assert main(["tsp", "select", "--out", str(out), "--catalog", str(tmp_path / "c.ecsv")]) == 0
    from astropy.table import Table

    t = Table.read(tmp_path / "c.ecsv")
    assert len(t) == 37 and "enriched" in t.colnames
