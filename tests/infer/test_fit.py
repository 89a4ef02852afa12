"""jaxstro.infer public boundary: input validation, one-call Cannon-label fit, batched and
sharded MAP over stars."""

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
import pytest

from jaxstro import infer


def _star(cannon, labels, snr, rng):
    flux = np.asarray(cannon.predict(jnp.asarray(labels)))
    ivar = np.full(flux.size, snr**2)
    return flux + rng.normal(size=flux.size) / snr, ivar


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda f, iv: (f, np.zeros_like(iv)), "no valid pixels"),
        (lambda f, iv: (np.where(np.arange(f.size) == 3, np.nan, f), iv), "non-finite flux"),
        (lambda f, iv: (f, np.where(np.arange(f.size) == 5, -1.0, iv)), "ivar must be"),
        (lambda f, iv: (f, np.where(np.arange(f.size) == 5, np.nan, iv)), "ivar must be"),
        (lambda f, iv: (f[:-1], iv), "differ in shape"),
        (lambda f, iv: (f[:-1], iv[:-1]), "pixels, but the model has"),
        (lambda f, iv: (f[None], iv[None]), "must be 1-D"),
    ],
)
def test_bad_input_raises(tiny_cannon, rng, mutate, match):
    f, iv = _star(tiny_cannon, [5000.0, 3.0], 100.0, rng)
    f, iv = mutate(f, iv)
    with pytest.raises(ValueError, match=match):
        infer.fit_cannon_labels(tiny_cannon, f, iv, key=jax.random.key(0))
    with pytest.raises(ValueError, match=match):
        infer.find_map(infer.cannon_label_model, tiny_cannon, jnp.asarray(f), jnp.asarray(iv),
                       key=jax.random.key(0), n_starts=1, n_steps=1)


def test_spectrum_model_bad_wavelength_and_forward_shape():
    wl = jnp.linspace(5000.0, 5010.0, 20)
    flux, ivar = jnp.ones(20), jnp.full(20, 1e4)
    priors = {"a": dist.Uniform(0, 1)}
    with pytest.raises(ValueError, match="wavelength"):
        infer.find_map(infer.spectrum_model, lambda p: jnp.ones(20), flux, ivar, priors,
                       wavelength=wl[::-1], key=jax.random.key(0), n_starts=1, n_steps=1)
    with pytest.raises(ValueError, match="forward model returned shape"):
        infer.find_map(infer.spectrum_model, lambda p: jnp.ones(19), flux, ivar, priors,
                       wavelength=wl, key=jax.random.key(0), n_starts=1, n_steps=1)


@pytest.mark.slow
def test_fit_cannon_labels_recovers_truth(tiny_cannon, rng):
    truth = np.array([5200.0, 2.6])
    f, iv = _star(tiny_cannon, truth, 200.0, rng)
    res = infer.fit_cannon_labels(tiny_cannon, f, iv, key=jax.random.key(3), num_warmup=150,
                                  num_samples=300, num_chains=2, n_steps=300)
    t = res.summary
    assert list(t["parameter"]) == ["teff", "logg"]
    for i, row in enumerate(t):
        # a linear-Gaussian-ish problem: truth within 4 posterior sd, chains converged
        assert abs(row["mean"] - truth[i]) < 4 * row["sd"], (row["parameter"], row["mean"])
        assert row["r_hat"] < 1.01
    assert not t.meta["warnings"], t.meta["warnings"]
    # the MAP that initialised NUTS lies within 2 sd of the posterior mean
    for i, n in enumerate(["teff", "logg"]):
        assert abs(float(res.map.params[n]) - t["mean"][i]) < 2 * t["sd"][i]
    assert res.idata.posterior["teff"].shape == (2, 300)


@pytest.mark.slow
def test_fit_cannon_labels_warns_on_extrapolation(tiny_cannon, rng):
    f, iv = _star(tiny_cannon, [6800.0, 3.0], 200.0, rng)  # beyond label_max = 6000
    res = infer.fit_cannon_labels(tiny_cannon, f, iv, key=jax.random.key(4), num_warmup=50,
                                  num_samples=50, num_chains=2, n_steps=200)
    assert any("teff" in w and "extrapolation" in w for w in res.summary.meta["warnings"])


def test_find_map_batch_sharded_matches_unsharded_and_truth(tiny_cannon, rng):
    assert len(jax.devices()) == 4  # tests/conftest.py: 4 fake CPU devices
    truth = np.column_stack([rng.uniform(4500, 5500, 6), rng.uniform(2.0, 4.0, 6)])
    stars = [_star(tiny_cannon, t, 300.0, rng) for t in truth]
    flux = np.stack([s[0] for s in stars])
    ivar = np.stack([s[1] for s in stars])
    flux[2, 10:20], ivar[2, 10:20] = np.nan, 0.0  # masked pixels in one star
    kw = {"key": jax.random.key(5), "n_starts": 3, "n_steps": 600}
    sharded = infer.find_map_batch(infer.cannon_label_model, tiny_cannon, flux, ivar, **kw)
    plain = infer.find_map_batch(infer.cannon_label_model, tiny_cannon, flux, ivar, shard=False,
                                 **kw)
    assert sharded.params["teff"].shape == (6,)  # 6 stars, padded to 8 for 4 devices, cut back
    # identical keys per star: sharding changes only the placement, not the arithmetic
    np.testing.assert_allclose(sharded.params["teff"], plain.params["teff"], rtol=1e-8)
    np.testing.assert_allclose(sharded.log_density, plain.log_density, rtol=1e-8)
    # each star's MAP agrees with a separate single-star find_map started the same way
    one = infer.find_map(infer.cannon_label_model, tiny_cannon, jnp.asarray(flux[2]),
                         jnp.asarray(ivar[2]), key=jax.random.key(9), n_starts=3, n_steps=600)
    assert float(one.params["teff"]) == pytest.approx(float(sharded.params["teff"][2]), abs=5.0)
    # SNR 300 and 60 pixels: MAP within 60 K and 0.15 dex of the truth (a few formal sigma)
    np.testing.assert_allclose(sharded.params["teff"], truth[:, 0], atol=60.0)
    np.testing.assert_allclose(sharded.params["logg"], truth[:, 1], atol=0.15)


def test_find_map_batch_reports_bad_star(tiny_cannon, rng):
    f, iv = _star(tiny_cannon, [5000.0, 3.0], 100.0, rng)
    flux, ivar = np.stack([f, f]), np.stack([iv, iv])
    ivar[1] = 0.0
    with pytest.raises(ValueError, match=r"no valid pixels.*\(stars \[1\]\)"):
        infer.find_map_batch(infer.cannon_label_model, tiny_cannon, flux, ivar,
                             key=jax.random.key(0))


@pytest.mark.needs_data
def test_synth_priors_outside_atmosphere_grid_raise():
    fw = infer.make_synth_forward(np.linspace(5000.0, 5001.0, 10), free=("teff", "logg"))
    t_lo, t_hi = float(fw.grid.teff[0]), float(fw.grid.teff[-1])
    g_hi = float(fw.grid.logg[-1])
    inside = {"teff": dist.Uniform(t_lo + 100, t_lo + 1000), "logg": dist.Uniform(3.0, g_hi)}
    infer.check_priors_in_grid(fw, inside)  # no error
    with pytest.raises(ValueError, match=r"prior on teff .* outside the .* grid's Teff range"):
        infer.check_priors_in_grid(fw, {**inside, "teff": dist.Uniform(t_lo - 100, t_lo + 500)})
    with pytest.raises(ValueError, match="prior on logg"):
        infer.check_priors_in_grid(fw, {**inside, "logg": dist.Normal(4.0, 0.5)})  # unbounded
    off = infer.make_synth_forward(np.linspace(5000.0, 5001.0, 10), free=("teff",),
                                   fixed={"m_h": 5.0})
    with pytest.raises(ValueError, match=r"fixed m_h = 5"):
        infer.check_priors_in_grid(off, {"teff": dist.Uniform(t_lo + 100, t_lo + 1000)})
    # fit_spectrum checks before compiling anything
    flux, ivar = jnp.ones(10), jnp.full(10, 1e4)
    with pytest.raises(ValueError, match="prior on teff"):
        infer.fit_spectrum(fw, flux, ivar, {"teff": dist.Uniform(t_lo - 100, t_hi)},
                           key=jax.random.key(0))
    # other forward models are not checked
    infer.check_priors_in_grid(lambda p: flux, {"teff": dist.Normal(0.0, 1.0)})


@pytest.mark.needs_data
def test_synth_forward_warns_when_linelist_misses_the_range():
    from jaxstro.synth.lines import make_linelist

    lines = make_linelist([6000.0], [-1.0], ["Fe I"], [2.2])
    with pytest.warns(UserWarning, match="no lines within 5 Å"):
        infer.make_synth_forward(np.linspace(5000.0, 5010.0, 20), linelist=lines)


def test_summarize_warns_on_divergences_and_rhat():
    import arviz as az

    r = np.random.default_rng(1)
    # two chains stuck at different values: r_hat >> 1.01; three divergent transitions
    a = np.stack([r.normal(0.0, 1.0, 200), r.normal(5.0, 1.0, 200)])
    div = np.zeros((2, 200), bool)
    div[0, [3, 50, 120]] = True
    idata = az.from_dict(posterior={"a": a}, sample_stats={"diverging": div})
    w = infer.summarize(idata).meta["warnings"]
    assert "3 divergent transitions" in w
    assert any(m.startswith("a: r_hat") for m in w)
