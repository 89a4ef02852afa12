"""Vectoriser, bad input, censoring, L1, save/load."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxstro.cannon import (
    Vectorizer,
    fit_labels,
    load_model,
    polynomial_exponents,
    save_model,
    train,
)

from .conftest import BATCH, N_TRAIN


def test_polynomial_terms_count_and_names():
    for n in (1, 2, 3, 5, 15):
        assert len(polynomial_exponents(n, 2)) == (n * n + 3 * n) // 2 + 1  # thesis §2.3
    v = Vectorizer.polynomial(["A", "B"], 3)
    assert v.term_names == ("1", "A", "B", "A^2", "A*B", "B^2", "A^3", "A^2*B", "A*B^2", "B^3")
    assert v.order == 3
    lab = np.array([[1.0, 2.0], [3.0, -1.0], [2.0, 0.5]])
    v = v.refit(lab)
    np.testing.assert_allclose(np.asarray(v.offsets), lab.mean(0))
    np.testing.assert_allclose(np.asarray(v.scales), lab.std(0))
    x = (lab[1] - lab.mean(0)) / lab.std(0)
    want = [1, x[0], x[1], x[0] ** 2, x[0] * x[1], x[1] ** 2, x[0] ** 3, x[0] ** 2 * x[1],
            x[0] * x[1] ** 2, x[1] ** 3]
    np.testing.assert_allclose(np.asarray(v(lab[1])), want, rtol=1e-13)


def test_model_gradient_matches_finite_differences(quad_model, apogee):
    """d flux / d labels by autodiff (used by LM and the covariance) vs central differences."""
    m = quad_model
    lab = jnp.asarray(apogee["labels"][3])
    h = np.array([1.0, 1e-3, 1e-3])

    @jax.jit
    def both(x):
        fd = jnp.stack([(m.predict(x + e) - m.predict(x - e)) / (2 * hj)
                        for e, hj in zip(jnp.diag(h), h, strict=True)], axis=1)
        return jax.jacfwd(m.predict)(x), fd

    J, fd = (np.asarray(a) for a in both(lab))
    # quadratic model: central differences are exact up to rounding
    np.testing.assert_allclose(J, fd, rtol=1e-6, atol=1e-9)
    # and finite at the origin of the standardised labels (x**0 never gives 0*inf)
    J0 = jax.jacfwd(m.vectorizer.terms_std)(jnp.zeros(3))
    assert np.all(np.isfinite(np.asarray(J0)))


def test_bad_training_input(apogee):
    d = apogee
    vec = Vectorizer.polynomial(list(d["label_names"]), 2)
    lab, f, iv = d["labels"][:50].copy(), d["flux"][:50].copy(), d["ivar"][:50].copy()
    bad = lab.copy()
    bad[[3, 17], 1] = np.nan
    with pytest.raises(ValueError, match=r"labels are NaN.*stars 3, 17"):
        train(bad, f, iv, vec)
    badf = f.copy()
    badf[8, 5] = np.nan
    with pytest.raises(ValueError, match=r"flux is NaN.*stars 8"):
        train(lab, badf, iv, vec)
    badiv = iv.copy()
    badiv[4, 2] = -1.0
    with pytest.raises(ValueError, match=r"ivar.*negative.*stars 4"):
        train(lab, f, badiv, vec)
    with pytest.raises(ValueError, match="need at least as many stars as terms"):
        train(lab[:9], f[:9], iv[:9], vec)  # 9 stars < 10 terms
    iv0 = iv.copy()
    iv0[9:] = 0.0  # only 9 stars with any data
    with pytest.raises(ValueError, match="need at least as many stars as terms"):
        train(lab, f, iv0, vec)
    with pytest.raises(ValueError, match="labels must have shape"):
        train(lab[:, :2], f, iv, vec)


def test_ivar_zero_pixels_are_ignored(apogee, quad_model):
    """Adding garbage (NaN flux, ivar = 0) stars/pixels changes nothing."""
    d = apogee
    lab, f, iv = d["labels"][:N_TRAIN], d["flux"][:N_TRAIN].copy(), d["ivar"][:N_TRAIN].copy()
    f[:40, :7] = np.nan
    iv[:40, :7] = 0.0
    m = train(lab, f, iv, quad_model.vectorizer, wavelength=d["dispersion"])
    # pixels 7.. see all stars: identical to the clean model with the same standardisation
    ref = train(lab, d["flux"][:N_TRAIN], d["ivar"][:N_TRAIN], quad_model.vectorizer,
                wavelength=d["dispersion"])
    np.testing.assert_allclose(np.asarray(m.theta)[7:], np.asarray(ref.theta)[7:], rtol=1e-12)
    # pixels 0..6: theta is the WLS solution over stars 40.. only (numpy, at the fitted s)
    A = np.asarray(m.vectorizer.design_matrix(lab))[40:]
    for p in range(7):
        s = float(m.scatter[p])
        w = d["ivar"][40:N_TRAIN, p] / (1 + d["ivar"][40:N_TRAIN, p] * s * s)
        want = np.linalg.lstsq(A * np.sqrt(w)[:, None], d["flux"][40:N_TRAIN, p] * np.sqrt(w),
                               rcond=None)[0]
        np.testing.assert_allclose(np.asarray(m.theta)[p], want, rtol=1e-6, atol=1e-10)


def test_bad_test_input(apogee, quad_model):
    d = apogee
    f, iv = d["flux"][N_TRAIN:N_TRAIN + 4], d["ivar"][N_TRAIN:N_TRAIN + 4]
    with pytest.raises(ValueError, match="wavelength grid differs"):
        fit_labels(quad_model, f, iv, wavelength=d["dispersion"] + 0.5)
    with pytest.raises(ValueError, match="pixels, but the model has 100"):
        fit_labels(quad_model, f[:, :90], iv[:, :90])
    bad = f.copy()
    bad[2, 3] = np.inf
    with pytest.raises(ValueError, match="stars 2"):
        fit_labels(quad_model, bad, iv)


def test_spectra_check_screens_rows_exactly():
    """The row-sum screen of check_spectra flags exactly the bad stars, in 256-row blocks: NaN
    flux at ivar = 0 and huge (overflowing) ivar are accepted, the inputs are not copied."""
    from jaxstro.cannon._validate import check_spectra

    rng = np.random.default_rng(2)
    f, iv = rng.normal(size=(600, 30)), rng.uniform(1.0, 2.0, size=(600, 30))
    f[5, 3], iv[5, 3] = np.nan, 0.0  # masked: fine
    iv[11] = 1e305  # the row sum overflows, the values are valid
    f_out, iv_out = check_spectra(f, iv, copy=False)
    assert f_out is f and iv_out is iv
    bad = iv.copy()
    bad[3, 1], bad[300, 2], bad[599, 0] = np.nan, -1.0, np.inf
    with pytest.raises(ValueError, match=r"ivar is NaN, inf or negative for stars 3, 300, 599$"):
        check_spectra(f, bad, copy=False)
    badf = f.copy()
    badf[270, 4] = np.inf
    with pytest.raises(ValueError, match="flux is NaN/inf at pixels with ivar > 0 for stars 270 "):
        check_spectra(badf, iv, copy=False)


def test_far_outside_labels_are_flagged(apogee, quad_model, quad_fit):
    d = apogee
    m = quad_model
    # a spectrum made far outside the training set: Teff 1500 K beyond its upper edge
    lab = np.asarray(m.label_max) + np.array([1500.0, 0.0, 0.0])
    lab[1:] = np.asarray(0.5 * (m.label_min + m.label_max))[1:]
    f = np.tile(np.asarray(m.predict(jnp.asarray(lab))), (BATCH, 1))
    res = fit_labels(m, f, np.full_like(f, 1e4), wavelength=d["dispersion"], batch_size=BATCH)
    assert res.extrapolated.all()
    # ordinary held-out stars are mostly inside
    assert quad_fit.extrapolated.mean() < 0.1


def test_censoring_fixes_terms_to_zero(apogee, quad_model):
    d = apogee
    vec = quad_model.vectorizer
    censor = np.zeros((3, 100), bool)
    censor[2, :50] = True  # PARAM_M_H off in the first 50 pixels
    m = train(d["labels"][:N_TRAIN], d["flux"][:N_TRAIN], d["ivar"][:N_TRAIN], vec,
              wavelength=d["dispersion"], censor=censor)
    th = np.asarray(m.theta)
    uses_mh = vec.term_uses_label()[:, 2]
    assert np.all(th[:50][:, uses_mh] == 0.0)
    assert np.all(th[50:][:, uses_mh] != 0.0)
    # at a censored pixel theta equals WLS on the remaining terms (numpy, at the fitted s)
    A = np.asarray(m.vectorizer.design_matrix(d["labels"][:N_TRAIN]))[:, ~uses_mh]
    p = 10
    s = float(m.scatter[p])
    w = d["ivar"][:N_TRAIN, p] / (1 + d["ivar"][:N_TRAIN, p] * s * s)
    ref = np.linalg.lstsq(A * np.sqrt(w)[:, None], d["flux"][:N_TRAIN, p] * np.sqrt(w),
                          rcond=None)[0]
    np.testing.assert_allclose(th[p, ~uses_mh], ref, rtol=1e-6, atol=1e-10)


def test_save_load_roundtrip(tmp_path, quad_model):
    path = save_model(tmp_path / "m.cannon", quad_model)
    m2 = load_model(path)
    assert m2.label_names == quad_model.label_names
    assert m2.vectorizer.exponents == quad_model.vectorizer.exponents
    for a, b in zip(jax.tree.leaves(quad_model), jax.tree.leaves(m2), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    (tmp_path / "junk").write_bytes(b"not a model\n")
    with pytest.raises(ValueError, match="not a jaxstro Cannon model"):
        load_model(tmp_path / "junk")


@pytest.mark.slow
def test_l1_regularisation_kkt(apogee, quad_model):
    """L1 (Casey et al. 2016): the solution satisfies the lasso KKT conditions at its s."""
    from jaxstro.cannon import TrainOptions

    d = apogee
    lam = 50.0
    m = train(d["labels"][:N_TRAIN], d["flux"][:N_TRAIN], d["ivar"][:N_TRAIN],
              quad_model.vectorizer, options=TrainOptions(l1=lam, l1_iterations=200))
    A = np.asarray(m.vectorizer.design_matrix(d["labels"][:N_TRAIN]))
    th, s = np.asarray(m.theta), np.asarray(m.scatter)
    n_zero = 0
    for p in range(0, 100, 9):
        iv = d["ivar"][:N_TRAIN, p]
        w = iv / (1 + iv * s[p] ** 2)
        grad = A.T @ (w * (d["flux"][:N_TRAIN, p] - A @ th[p]))  # -d(1/2 chi2)/d theta
        big = np.abs(th[p]) > 1e-7
        big[0] = False
        np.testing.assert_allclose(grad[big], lam * np.sign(th[p][big]), rtol=1e-3)
        assert np.all(np.abs(grad[1:][~big[1:]]) <= lam * (1 + 1e-3))
        assert abs(grad[0]) < 1e-6 * lam
        n_zero += int((~big[1:]).sum())
    assert n_zero > 0  # the penalty does zero out terms
