"""The Spectrum container: a pytree with static metadata; validation; air/vacuum."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxstro.spectra import Spectrum, air_to_vacuum, continuum_normalize, repair_nonfinite


def make(n=50, batch=()):
    wl = 5000.0 + np.arange(n)
    return Spectrum(wl, np.ones(batch + (n,)), np.full(batch + (n,), 4.0), medium="air",
                    meta={"object": "test", "rv_kms": 1.5, "pixels": np.arange(3)})


def test_pytree_jit_vmap():
    s = make(batch=(3,))
    leaves = jax.tree_util.tree_leaves(s)
    assert len(leaves) == 4  # wavelength, flux, ivar, mask; medium and meta are static
    assert s.meta == {"object": "test", "rv_kms": 1.5, "pixels": (0, 1, 2)}

    @eqx.filter_jit
    def norm(sp):
        nf, ni, _ = continuum_normalize(sp.wavelength, sp.flux, sp.masked_ivar(), half_width=49)
        return sp.replace(flux=nf, ivar=ni)

    out = norm(s)
    assert out.meta == s.meta and out.medium == "air"
    np.testing.assert_allclose(out.flux, 1.0)
    v = jax.vmap(lambda f: Spectrum(s.wavelength, f, f, medium="air").flux.sum())(s.flux)
    assert v.shape == (3,)


def test_validate_and_medium():
    s = make()
    s.validate()
    v = s.to_vacuum()
    assert v.medium == "vacuum" and v.to_vacuum() is v
    np.testing.assert_allclose(v.wavelength, air_to_vacuum(s.wavelength))
    np.testing.assert_allclose(v.to_air().wavelength, s.wavelength, atol=1e-8)
    bad = s.replace(ivar=jnp.full(50, -1.0))
    with pytest.raises(ValueError, match="negative"):
        bad.validate()
    with pytest.raises(ValueError, match="medium"):
        Spectrum([1.0, 2.0], [1.0, 1.0], medium="glass")


def test_repair_nonfinite():
    f, iv, rep = repair_nonfinite([1.0, np.nan, 2.0, np.inf], [1.0, 0.0, -1.0, 3.0])
    np.testing.assert_array_equal(f, [1.0, 1.0, 1.0, 1.0])
    np.testing.assert_array_equal(iv, [1.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(rep, [False, True, True, True])


def test_normalize_method_matches_function(rng):
    wl = 5000.0 + 0.5 * np.arange(400)
    flux = 2.0 + 0.01 * rng.normal(size=400)
    s = Spectrum(wl, flux, np.full(400, 1e4), meta={"object": "x"})
    n = s.normalize(sigma=25.0, truncate=75.0, apply_bad_pixel_rule=True)
    ref = continuum_normalize(wl, flux, np.full(400, 1e4), sigma=25.0, truncate=75.0)[0]
    np.testing.assert_allclose(n.flux, ref, rtol=1e-14)
    assert n.meta["normalized"] and n.meta["object"] == "x" and bool(n.mask.all())
