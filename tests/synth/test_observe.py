"""jaxstro.synth.observe: observation layer (broadening, shift, medium, continuum ratio), the
broadening fit, residual features, and the UVES Sun (issue 5, acceptance 2).

Synthetic checks use a Gaussian-line "synthetic spectrum" (no synthesis needed): injected
(R, vmac, rv, continuum polynomial) must be recovered. The Sun: MARCS solar model, Gaia-ESO list,
Grevesse+2007 abundances, vmic 1.0 (``benchmarks/synth_uves_sun.py``), compared with the UVES
spectrum (``uves_sun``).

Measured (2026-12-03, 2 cores; full numbers in benchmarks/results/synth_uves_sun.json):

| window (air) | pixels | R | vmac | rv | rms | rms, features masked (masked share) |
|---|---|---|---|---|---|---|
| 5014-5024 Å | 1,001 | 3e5 (bound) | 4.81 | +0.50 | 0.072 | 0.016 (71 %) |
| 5000-5100 Å | 10,001 | 3e5 (bound) | 4.64 | +0.29 | 0.0495 | 0.0135 (60 %) |

R runs to its upper bound: at this S/N the instrumental profile cannot be told from
macroturbulence (vmac 4.6 km/s alone gives the observed widths; solar RT zeta is ~4 km/s).
Over 5000-5100 Å: median |residual| 0.016; 179 features deeper than 3 %: 51 solar absorption
features with no line in the list ("missing"), 33 list lines too weak, 95 too strong.

The issue's goal (rms <= 2 % over 5000-5100 Å) is NOT met: the residual is dominated by lines
of the Gaia-ESO list that the Sun does not show at the listed strength (e.g. Fe I 5051.276,
5075.172, 5022.789, y5F-g5F / b3G-v5D transitions with log gf near -1.1 / -2.2) and solar lines
absent from the list (5016.88, 5036.27, 5097.49 Å, 0.35-0.39 deep). The strong well-known lines
(Fe I 5012.07, 5049.82, 5083.34, Fe II 5018.44, Ni I 5035.36) match in depth to <= 0.02.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxstro.spectra import air_to_vacuum, convolve_lsf, doppler_shift
from jaxstro.synth.observe import (
    fit_broadening,
    fit_continuum_ratio,
    observation_grid,
    observe,
    residual_features,
)


def _synthetic(w, lines=((5001.0, 0.6, 0.02), (5002.1, 0.4, 0.015), (5003.3, 0.7, 0.025),
                         (5004.2, 0.3, 0.02), (5005.6, 0.5, 0.018))):
    f = np.ones_like(w)
    for c, d, s in lines:
        f *= 1 - d * np.exp(-0.5 * ((w - c) / s) ** 2)
    return f


def test_observe_identity_and_lsf_and_shift():
    w = np.arange(5000.0, 5007.0, 0.005)
    wo = w[100:-100:4]
    g = observation_grid(w, wo, medium="vacuum", min_R=20_000)
    f = _synthetic(w)
    np.testing.assert_allclose(observe(g, f), f[100:-100:4], atol=1e-12)
    # LSF alone equals convolve_lsf, and rv shifts by doppler_shift (linear interpolation)
    ref = np.interp(wo, np.asarray(doppler_shift(w, 5.0)),
                    np.asarray(convolve_lsf(w, f, 40_000.0)))
    np.testing.assert_allclose(observe(g, f, R=40_000.0, rv=5.0), ref, atol=1e-10)
    # air medium: the observed air pixels are converted to vacuum
    ga = observation_grid(w, wo, medium="air", min_R=20_000)
    ref = np.interp(np.asarray(air_to_vacuum(wo)), w, f)
    np.testing.assert_allclose(observe(ga, f), ref, atol=1e-10)
    with pytest.raises(ValueError, match="medium"):
        observation_grid(w, wo, medium="water")


def test_continuum_ratio_recovers_polynomial_despite_missing_lines():
    w = np.arange(5000.0, 5010.0, 0.01)
    model = _synthetic(w)
    x = 2 * (w - w[0]) / (w[-1] - w[0]) - 1
    poly = 1.02 - 0.01 * x + 0.005 * (1.5 * x**2 - 0.5)
    obs = model * poly * _synthetic(w, ((5007.0, 0.5, 0.02), (5008.5, 0.3, 0.03)))  # unmodelled
    obs = obs + np.random.default_rng(0).normal(0, 0.002, w.size)
    p, c, keep = fit_continuum_ratio(w, obs, model, order=2)
    np.testing.assert_allclose(p, poly, atol=1e-3)  # noise 0.002 over ~900 kept pixels
    assert not keep[np.argmin(np.abs(w - 5007.0))]  # the unmodelled line is clipped


def test_fit_broadening_recovers_injected_parameters():
    w = np.arange(4999.0, 5008.0, 0.01)
    f = _synthetic(w)
    wo = np.arange(5000.0, 5007.0, 0.02)
    g = observation_grid(w, wo, medium="vacuum", min_R=25_000, max_vmac=8.0, max_vsini=3.0)
    truth = {"R": 45_000.0, "vmac": 3.5, "vsini": 1.6, "rv": -1.2}
    x = 2 * (wo - wo[0]) / (wo[-1] - wo[0]) - 1
    obs = np.asarray(observe(g, f, **truth)) * (1.01 + 0.01 * x)
    obs = obs + np.random.default_rng(1).normal(0, 1e-3, wo.size)
    fit = fit_broadening(g, f, obs, init={"R": 30_000.0, "vmac": 2.0, "vsini": 1.6, "rv": 0.0},
                         free=("R", "vmac", "rv"), continuum_order=1)
    # R and vmac are partly degenerate (both broaden); at this noise (1e-3, five lines) the
    # fit trades a few per cent of R against ~0.2 km/s of vmac
    assert fit["R"] == pytest.approx(45_000, rel=0.05)
    assert fit["vmac"] == pytest.approx(3.5, abs=0.3)
    assert fit["rv"] == pytest.approx(-1.2, abs=0.03)
    assert fit["rms"] == pytest.approx(1e-3, rel=0.2)  # down to the noise
    with pytest.raises(ValueError, match="unknown free"):
        fit_broadening(g, f, obs, free=("teff",))


def test_residual_features_finds_and_classifies():
    w = np.arange(5000.0, 5010.0, 0.01)
    model = _synthetic(w)
    obs = model * _synthetic(w, ((5007.0, 0.5, 0.02),))  # missing line
    obs = obs * np.where(np.abs(w - 5003.3) < 0.1, 1 + 0.3 * np.exp(-0.5 * ((w - 5003.3) / 0.025)
                                                                    ** 2), 1.0)  # too strong
    obs *= 1 - 0.15 * np.exp(-0.5 * ((w - 5001.0) / 0.02) ** 2)  # too weak
    feats = residual_features(w, obs, model, threshold=0.03)
    got = {round(f["wavelength"], 1): f["kind"] for f in feats}
    assert got == {5007.0: "missing", 5003.3: "too strong", 5001.0: "too weak"}
    assert feats[0]["wavelength"] == pytest.approx(5007.0, abs=0.01)
    assert feats[0]["residual"] == pytest.approx(-0.5, abs=0.01)


def test_observe_is_differentiable():
    w = np.arange(4999.0, 5008.0, 0.005)
    g = observation_grid(w, np.arange(5000.0, 5007.0, 0.02), medium="air", min_R=10_000,
                         max_vmac=10.0, max_vsini=5.0)
    f = jnp.asarray(_synthetic(w))
    wts = jnp.asarray(np.random.default_rng(2).normal(size=g.obs_wavelength.size))

    def loss(p):
        return jnp.sum(wts * observe(g, f, R=p[0], vmac=p[1], vsini=p[2], rv=p[3]))

    p0 = jnp.array([40_000.0, 3.0, 2.0, 0.5])
    grad = np.asarray(jax.grad(loss)(p0))
    for i, h in enumerate([20.0, 1e-3, 1e-3, 1e-4]):
        e = jnp.zeros(4).at[i].set(h)
        fd = (float(loss(p0 + e)) - float(loss(p0 - e))) / (2 * h)
        assert grad[i] == pytest.approx(fd, rel=1e-4, abs=1e-9)


# ----------------------------------------------------------------------------------- the Sun
@pytest.mark.needs_data
@pytest.mark.slow
def test_uves_sun_subwindow():
    """5014-5024 Å (one synthesis + fit: 65-150 s on 2 shared cores): the fit lands on a
    solar-like broadening; the features
    include the solar line at 5016.88 Å absent from the Gaia-ESO list and the list's too-strong
    Fe I 5022.789 / 5021.94 Å lines; off the features the rms is below the 2 % goal."""
    from benchmarks.synth_uves_sun import compare_uves_sun

    res = compare_uves_sun(5014.0, 5024.0)
    assert 2.5 < res["vmac"] < 5.0 and abs(res["rv"]) < 1.0 and res["R"] > 40_000
    feats = res["features"]
    near = {f["kind"]: [] for f in feats}
    for f in feats:
        near[f["kind"]].append(f["wavelength"])
    assert min(abs(np.array(near["missing"]) - 5016.88)) < 0.03
    assert min(abs(np.array(near["too strong"]) - 5022.79)) < 0.03
    assert min(abs(np.array(near["too strong"]) - 5021.94)) < 0.03
    # measured 0.075 and 0.016 (regression guard with margin)
    assert res["rms"] < 0.085 and res["rms_features_masked"] < 0.02


@pytest.mark.needs_data
@pytest.mark.slow
def test_uves_sun_full_window():
    """5000-5100 Å (issue 5 acc. 2; ~2.5 min): measured rms 0.050 (goal 0.02 not met, see the
    module docstring), 0.015 off the features; the strongest missing solar lines (5016.88,
    5036.27, 5097.49 Å) and too-strong list lines (Fe I 5051.276, 5075.172 Å) are identified."""
    from benchmarks.synth_uves_sun import compare_uves_sun

    res = compare_uves_sun(5000.0, 5100.0)
    by_kind = {}
    for f in res["features"]:
        by_kind.setdefault(f["kind"], []).append(f["wavelength"])
    for wl in (5016.88, 5036.27, 5097.49):
        assert min(abs(np.array(by_kind["missing"]) - wl)) < 0.03, wl
    for wl in (5051.28, 5075.17):
        assert min(abs(np.array(by_kind["too strong"]) - wl)) < 0.03, wl
    assert res["rms"] < 0.055 and res["rms_features_masked"] < 0.02


# ------------------------------------------------------- diagnostics of the UVES Sun benchmark
def test_duplicate_lines_and_feature_attribution():
    """``benchmarks.synth_uves_sun`` helpers: duplicates are same-species pairs within 0.005 Å
    and 0.005 eV; a feature is attributed to the strongest list line within 0.06 Å (then 0.15 Å,
    as a wing), or called missing from the list when there is none above the proxy floor."""
    from benchmarks.synth_uves_sun import (
        MIN_LOG_STRENGTH,
        attribute_features,
        duplicate_lines,
        feature_mask,
    )
    from jaxstro.synth.lines import make_linelist

    ll = make_linelist([5000.000, 5000.003, 5000.004, 5000.002, 5000.020],
                       [-1.0, -1.2, -1.0, -1.0, -1.0], ["Fe I", "Fe I", "Fe I", "Ti I", "Fe I"],
                       [1.0, 1.0, 2.0, 1.0, 1.0])
    # sorted by wavelength: 5000.000, .002 (Ti), .003, .004 (E 2), .020
    strength = np.array([-1.0, -1.0, -3.0, -1.0, -1.0])
    dup = duplicate_lines(ll, strength)
    assert dup["n_pairs"] == 1  # Fe I 5000.000 / 5000.003 only
    assert dup["n_pairs_both_above_proxy_min"] == 0  # the weaker member is below the floor
    assert dup["max_weaker_proxy"] == pytest.approx(-3.0)

    lw = np.array([5010.00, 5010.03, 5012.00, 5014.10])
    species = np.array(["Fe I", "Cr I", "Ni I", "Fe I"])
    gf, e = np.array([-1.1, -2.6, -0.5, -2.0]), np.array([4.2, 1.0, 3.8, 4.5])
    s = np.array([-0.5, -1.2, -0.3, MIN_LOG_STRENGTH - 1])
    feats = [{"wavelength": 5010.02, "residual": 0.4, "kind": "too strong", "observed": 0.95,
              "model": 0.55, "width": 0.1},
             {"wavelength": 5012.10, "residual": 0.05, "kind": "too strong", "observed": 0.9,
              "model": 0.85, "width": 0.1},
             {"wavelength": 5014.10, "residual": -0.3, "kind": "missing", "observed": 0.7,
              "model": 0.99, "width": 0.2}]
    att = attribute_features(feats, lw, species, gf, e, s)
    assert att[0]["dominant_list_line"].startswith("Fe I 5010.000")
    assert att[1]["attribution"].startswith("wing of a list line")
    assert att[2]["dominant_list_line"] is None and "missing from the list" in att[2]["attribution"]
    wo = np.arange(5009.0, 5015.0, 0.01)
    keep = feature_mask(wo, feats, kinds=("missing",))
    assert not keep[np.argmin(abs(wo - 5014.1))] and keep[np.argmin(abs(wo - 5010.02))]
    assert 1 - keep.mean() == pytest.approx(0.31 / 6.0, abs=0.003)
