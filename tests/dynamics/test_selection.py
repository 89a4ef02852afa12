"""Survey selection functions (rejection sampling in (x, y, z) bins; thesis ch4 §4.5).

References: astropy's Galactic -> ICRS transformation for the declinations; the defining formulas
of LamostLikeSelection (distance modulus, dust-layer extinction, Gaussian tracer magnitudes) at
hand-computed points; the binomial statistics of the rejection sampler (acceptance per bin equals
the requested probability within 4 standard errors)."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from scipy.special import ndtr

from jaxstro.dynamics import BinnedFootprint, LamostLikeSelection, load_footprint, select_like
from jaxstro.dynamics._selection import selection_mask


def test_declination_vs_astropy(rng):
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    sel = LamostLikeSelection()
    xyz = np.column_stack(
        [rng.uniform(-2, 18, 200), rng.uniform(-8, 8, 200), rng.normal(0, 1, 200)]
    )
    d, l, b = sel.heliocentric(xyz)
    ref = SkyCoord(l=l * u.rad, b=b * u.rad, frame="galactic").icrs.dec.rad
    np.testing.assert_allclose(sel.declination(xyz), ref, atol=1e-12)
    # geometry: the Galactic centre is at l = 0, d = 8 kpc; +y is l = 90 deg
    d, l, b = sel.heliocentric(np.array([[0.0, 0.0, 0.0], [8.0, 1.0, 0.0]]))
    np.testing.assert_allclose(d, [8.0, 1.0])
    np.testing.assert_allclose(l, [0.0, np.pi / 2], atol=1e-15)


def test_lamost_probability_formula():
    sel = LamostLikeSelection()
    # anticentre in the plane, d = 3 kpc: dec ~ +29 deg (inside), A_G = 0.7 * 3 = 2.1 mag
    xyz = np.array([[11.0, 0.0, 0.0]])
    g0 = 0.44 + 5 * np.log10(300.0) + 2.1
    ref = ndtr((17.0 - g0) / 0.2) - ndtr((9.0 - g0) / 0.2)
    np.testing.assert_allclose(sel.probability(xyz), [ref], rtol=1e-12)
    # towards the north Galactic pole, d = 1 kpc: A = 0.7 * 0.1 (1 - e^-10)
    np.testing.assert_allclose(
        sel.extinction(np.array([1.0]), np.array([np.pi / 2])), [0.07 * (1 - np.exp(-10))]
    )
    p = sel.probability(
        np.array(
            [
                [4.0, 0.0, 0.0],  # Galactic centre direction, dec -29: not surveyed
                [8.0, -3.0, 0.0],  # l = 270 deg, dec -47: not surveyed
                [8.05, 0.0, 0.0],  # 50 pc: brighter than G = 9
                [14.0, 0.0, 0.0],  # 6 kpc in the plane behind 4.2 mag of dust: too faint
                [10.0, 0.5, 0.1],  # 2 kpc towards the anticentre: seen
            ]
        )
    )
    assert np.all(p[:4] < 1e-6) and p[4] > 0.99


def test_lamost_select_bin_acceptance(key):
    # acceptance per (0.5, 0.5, 0.1) kpc bin is S_b / max S_b, constant inside a bin
    rng = np.random.default_rng(4)
    n = 200_000
    xyz = np.column_stack(
        [rng.uniform(8.0, 12.0, n), rng.uniform(-1.0, 1.0, n), rng.uniform(-0.3, 0.3, n)]
    )
    sel = LamostLikeSelection(g_faint=15.0)  # a steep drop inside the box
    keep = sel.select(xyz, key)
    ijk = np.floor(xyz / [0.5, 0.5, 0.1]).astype(int)
    flat, inv = np.unique(ijk, axis=0, return_inverse=True)
    inv = inv.ravel()
    p = sel.bin_probability(flat, np.zeros(3))
    p = p / p.max()
    n_bin = np.bincount(inv)
    k_bin = np.bincount(inv, weights=keep)
    se = np.sqrt(np.maximum(p * (1 - p), 1e-4) / n_bin)
    assert np.all(np.abs(k_bin / n_bin - p) < 4 * se + 1e-12)
    assert 0.05 < keep.mean() < 0.95  # the selection is doing something in this box


def test_select_like_follows_reference(key):
    rng = np.random.default_rng(5)
    sim = rng.uniform(0.0, 2.0, (100_000, 3)) * [1, 1, 0.1]  # 4 x 4 x 2 bins
    # reference: 3000 uniform + 3000 more at x > 1, so 3/4 of it lies at x > 1
    ref = np.concatenate([sim[:3000], sim[sim[:, 0] > 1.0][:3000]])
    keep = select_like(sim, ref, key)
    kept = sim[keep]
    frac_hi = np.mean(kept[:, 0] > 1.0)
    assert abs(frac_hi - 0.75) < 0.02, frac_hi
    # the same through a histogram footprint written to disk
    fp = BinnedFootprint.from_positions(ref)
    keep2 = fp.select(sim, jax.random.key(1))
    assert abs(np.mean(sim[keep2][:, 0] > 1.0) - 0.75) < 0.02


def test_footprint_file_roundtrip(tmp_path):
    ref = np.random.default_rng(6).uniform(0, 2, (500, 3))
    np.save(tmp_path / "pos.npy", ref)
    np.savetxt(tmp_path / "pos.csv", ref, delimiter=",")
    a, b = load_footprint(tmp_path / "pos.npy"), load_footprint(tmp_path / "pos.csv")
    np.testing.assert_allclose(a.weights, b.weights)
    assert a.weights.sum() == 500
    with pytest.raises(FileNotFoundError):
        load_footprint(tmp_path / "missing.npy")


def test_selection_bad_input(key):
    with pytest.raises(ValueError, match="non-finite"):
        select_like(np.array([[np.nan, 0, 0]]), np.zeros((2, 3)), key)
    with pytest.raises(ValueError, match="shape"):
        select_like(np.zeros((3, 2)), np.zeros((2, 3)), key)
    with pytest.raises(ValueError, match="unknown selection"):
        selection_mask("lamost-dr9", np.zeros((2, 3)), key)
    with pytest.raises(ValueError, match="abs_mag_sigma"):
        LamostLikeSelection(abs_mag_sigma=0.0)
    with pytest.raises(ValueError, match="weights"):
        BinnedFootprint([0, 1], [0, 1], [0, 1], [[[-1.0]]])
    with pytest.raises(ValueError, match="increase"):
        BinnedFootprint([1, 0], [0, 1], [0, 1], [[[1.0]]])
