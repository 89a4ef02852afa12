"""jaxstro.disentangle: data set, models, exact resume, metrics against brute-force references."""

import json

import h5py
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxstro import disentangle as dis


def test_twin_labels_follow_tables_1_and_2(key):
    lab = np.asarray(dis.sample_twin_labels(key, 20000))
    assert lab.shape == (20000, 2, 20)
    np.testing.assert_array_equal(lab[:, 0, 2:], lab[:, 1, 2:])  # twins share every abundance
    assert not np.allclose(lab[:, 0, :2], lab[:, 1, :2])
    assert lab[..., 0].min() >= 4000 and lab[..., 0].max() <= 5000
    assert lab[..., 1].min() >= 1.5 and lab[..., 1].max() <= 3.0
    mean = np.array([m for m, _ in dis.ABUNDANCE_DISTRIBUTION.values()])
    std = np.array([s for _, s in dis.ABUNDANCE_DISTRIBUTION.values()])
    # 20,000 draws: standard error of the mean is std/141; 5 sigma
    np.testing.assert_allclose(lab[:, 0, 2:].mean(0), mean, atol=5 * std.max() / 141)
    np.testing.assert_allclose(lab[:, 0, 2:].std(0), std, rtol=0.05)


def test_make_dataset_resumes_and_refuses_other_data(tmp_path, key):
    gen = dis.StandInGenerator(jax.random.key(1), n_bins=64, n_lines=30)
    path = tmp_path / "twins.h5"
    dis.make_dataset(path, gen, key, 10, chunk_pairs=4, progress=False)
    full = dis.load_dataset(path)
    assert full.flux.shape == (10, 2, 64)
    # simulate a run killed after chunk 0: forget chunks 1, 2 and scribble over their rows
    with h5py.File(path, "a") as fh:
        fh.attrs["chunks_done"] = "[0]"
        fh["flux"][4:] = np.nan
    with pytest.raises(ValueError, match="incomplete"):
        dis.load_dataset(path)
    dis.make_dataset(path, gen, key, 10, chunk_pairs=4, progress=False)
    np.testing.assert_array_equal(np.asarray(dis.load_dataset(path).flux), np.asarray(full.flux))
    with pytest.raises(ValueError, match="different data set"):
        dis.make_dataset(path, gen, jax.random.key(99), 10, chunk_pairs=4, progress=False)


def test_doppelganger_counts_match_brute_force(rng):
    z = rng.normal(size=(203, 5))
    twin = np.arange(203) ^ 1
    twin[-1] = 0  # odd count: last star's "twin" is star 0 (exercise padding of the last block)
    got = dis.doppelganger_counts(jnp.asarray(z), jnp.asarray(twin), block=64)
    d = np.linalg.norm(z[:, None] - z[None], axis=-1)
    ref = np.array(
        [np.sum((d[i] < d[i, twin[i]]) & (np.arange(203) != i) & (np.arange(203) != twin[i]))
         for i in range(203)]
    )
    np.testing.assert_array_equal(got, ref)
    assert dis.twin_recovery(got) == np.mean(ref == 0)


def test_polydis_recasts_separable_spectra(rng):
    # flux = polynomial(u) + chemical part independent of u. The least-squares polynomial absorbs
    # only the sample projection of the chemical part, O(1/sqrt(n)): recasting a star to its twin's
    # u must reproduce the twin to a small fraction of the chemical signal, and twins' latents
    # must be far closer than random pairs'
    n, nb = 4000, 30
    u = rng.uniform(-1, 1, size=(n, 2))
    v = np.repeat(rng.normal(size=(n // 2, 3)), 2, axis=0)
    a = rng.normal(size=(15, nb))
    b = rng.normal(size=(3, nb)) * 0.05
    flux = np.asarray(dis.polynomial_features(jnp.asarray(u), 4)) @ a + v @ b
    model = dis.PolyDis.fit(jnp.asarray(flux), jnp.asarray(u), order=4, n_components=3)
    recast = model.recast(jnp.asarray(flux[0::2]), jnp.asarray(u[0::2]), jnp.asarray(u[1::2]))
    # independent numpy reference of the same estimator
    x = np.asarray(dis.polynomial_features(jnp.asarray(u), 4))
    coef = np.linalg.lstsq(x, flux, rcond=None)[0]
    ref = x[1::2] @ coef + flux[0::2] - x[0::2] @ coef
    np.testing.assert_allclose(np.asarray(recast), ref, atol=1e-9)
    err = np.abs(np.asarray(recast) - flux[1::2]).mean()
    assert err < 0.15 * np.abs(v @ b).mean()  # measured 8 % at n = 4000
    z = np.asarray(model.encode(jnp.asarray(flux), jnp.asarray(u)))
    d_twin = np.linalg.norm(z[0::2] - z[1::2], axis=1).mean()
    d_rand = np.linalg.norm(z[0::2] - np.roll(z[1::2], 1, axis=0), axis=1).mean()
    assert d_twin < 0.15 * d_rand  # measured 0.07
    with pytest.raises(ValueError, match="terms"):
        dis.PolyDis.fit(jnp.asarray(flux[:10]), jnp.asarray(u[:10]), order=4)


def test_linear_abundance_map_recovers_linear_relation(rng):
    z = rng.normal(size=(300, 6))
    a_true = rng.normal(size=(7, 4))
    v = np.concatenate([z, np.ones((300, 1))], 1) @ a_true
    a = dis.linear_abundance_map(jnp.asarray(z), jnp.asarray(v))
    np.testing.assert_allclose(np.asarray(a), a_true, atol=1e-10)


def test_discretize_joint_bins():
    u = jnp.array([[0.0, 0.0], [0.99, 0.0], [0.0, 0.15], [1.0, 1.0]])
    np.testing.assert_array_equal(np.asarray(dis.discretize(u, 10)), [0, 9, 10, 99])


def _small_setup(method, n_pairs=64, n_bins=48):
    gen = dis.StandInGenerator(jax.random.key(3), n_bins=n_bins, n_lines=25)
    lab = dis.sample_twin_labels(jax.random.key(4), n_pairs).reshape(-1, 20)
    flux = gen(lab).astype(jnp.float32)
    cond = dis.Conditioning.from_labels(lab, (0, 1))
    arch = dis.Architecture((32,), (32,), (32,), (16,), (16,), n_z=4)
    opt = dis.make_optimizer(1e-3)
    state = dis.init_state(method, n_bins, 2, arch, jax.random.key(5), opt)
    step = dis.make_step(method, opt)
    return state, step, flux, cond(lab).astype(jnp.float32), cond.unit(lab).astype(jnp.float32)


@pytest.mark.parametrize("method", [dis.FaderDis(lam=1e-3), dis.FactorDis(lam=1e-3)])
def test_killed_run_resumes_to_identical_parameters(tmp_path, method):
    state0, step, flux, u, uu = _small_setup(method)
    full, hist = dis.train(state0, step, flux, u, uu, 12, batch_size=16, progress=False,
                           log_every=4)
    ck = tmp_path / "ck.eqx"
    dis.train(state0, step, flux, u, uu, 5, batch_size=16, checkpoint=ck, checkpoint_every=5,
              progress=False)
    # a fresh process would rebuild the initial state and find the checkpoint
    resumed, _ = dis.train(state0, step, flux, u, uu, 12, batch_size=16, checkpoint=ck,
                           checkpoint_every=5, progress=False)
    assert int(resumed.step) == 12
    for a, b in zip(jax.tree.leaves(full), jax.tree.leaves(resumed), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert all(np.isfinite(h["loss_ae"]) for h in hist)


def test_training_reduces_reconstruction_loss():
    state, step, flux, u, uu = _small_setup(dis.FaderDis(lam=1e-4))
    _, hist = dis.train(state, step, flux, u, uu, 300, batch_size=32, progress=False,
                        log_every=50)
    assert hist[-1]["loss_rec"] < 0.2 * hist[0]["loss_rec"]


def test_evaluate_and_cli_end_to_end(tmp_path, capsys):
    from jaxstro.cli import main

    tr, te, run = tmp_path / "train.h5", tmp_path / "test.h5", tmp_path / "run"
    assert main(["disentangle", "make-data", str(tr), "--n-pairs", "96", "--n-bins", "40",
                 "--seed", "1", "--generator", "standin"]) == 0
    assert main(["disentangle", "make-data", str(te), "--n-pairs", "32", "--n-bins", "40",
                 "--seed", "2", "--generator", "standin"]) == 0
    assert main(["disentangle", "train", str(tr), str(run), "--arch", "small", "--steps", "20",
                 "--batch-size", "16", "--lr", "1e-3", "--checkpoint-every", "10"]) == 0
    assert (run / "state.eqx").exists() and (run / "history.json").exists()
    capsys.readouterr()
    assert main(["disentangle", "evaluate", str(te), str(run)]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.strip().splitlines()]
    assert [r["snr"] for r in rows] == [None, 100.0, 50.0, 30.0]
    for r in rows:
        assert 0.0 <= r["twin_recovery"] <= 1.0 and r["R"] > 0 and r["MSE"] > 0
    assert main(["disentangle", "evaluate", str(te), "polydis", "--train-data", str(tr)]) == 0
    poly = [json.loads(x) for x in capsys.readouterr().out.strip().splitlines()]
    # noise can only hurt: more doppelgangers at SNR 30 than noiseless
    assert poly[0]["median_doppelgangers"] <= poly[-1]["median_doppelgangers"]
    assert poly[0]["twin_distance_mean"] == pytest.approx(1.0)


def test_band_grid_splits_bins_by_band_width():
    fine, centres = dis.band_grid(dis.GALAH_BANDS, 7751, 4)
    assert centres.size == 7751 and fine.size == 4 * 7751
    for lo, hi in dis.GALAH_BANDS:
        inside = (centres > lo) & (centres < hi)
        # bins per band proportional to the band width (rounding: +-1)
        assert abs(inside.sum() - 7751 * (hi - lo) / sum(h - l for l, h in dis.GALAH_BANDS)) <= 1


@pytest.mark.slow
@pytest.mark.needs_data
def test_synth_generator_twins_and_metallicity():
    # a 20 Å window of the GALAH list: finite normalised spectra; raising every abundance by
    # 0.3 dex (same Teff, logg) deepens the lines
    gen = dis.SynthGenerator(bands=((6700.0, 6720.0),), n_bins=40, oversample=4)
    lab = np.asarray(dis.sample_twin_labels(jax.random.key(0), 1).reshape(-1, 20))
    rich = lab[:1].copy()
    rich[0, 2] += 0.3
    flux = np.asarray(gen(jnp.asarray(np.concatenate([lab, rich]))))
    assert flux.shape == (3, 40) and np.all(np.isfinite(flux))
    assert flux.max() <= 1.001 and flux.min() > 0.2
    assert flux[2].mean() < flux[0].mean()
    assert not np.allclose(flux[0], flux[1])  # twins: same chemistry, different Teff/logg
