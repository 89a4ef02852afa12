"""Readers: every real spectrum in the data directory loads with the right wavelengths and ivar.

References: the raw FITS/text values read directly here with astropy/numpy, the TSP paper's LAMOST
grid (``lamost_tsp_wavelength_grid`` = LRS pixels 229..3787, exact), the APOGEE log-linear grid
``10**(4.179 + 6e-6 i)`` (the header WCS; float64 round-off, 1e-12 relative), and the documented
layouts in real_spectra/README.md and data/README.md (§7).
"""

import numpy as np
import pytest
from astropy.io import fits

from jaxstro.data import load_npz, locate
from jaxstro.spectra import (
    Spectrum,
    continuum_normalize,
    identify_fits_layout,
    read_apstar,
    read_spectrum,
)

REAL = [
    "lamost_lrs_f5",
    "lamost_lrs_g3",
    "lamost_mrs",
    "apstar_giant",
    "apstar_dwarf",
    "apvisit_5095",
    "apvisit_9518",
    "uves_sun",
    "griffith2022_spectrum",
    "annieslasso_apogee",
]


def check_common(s: Spectrum):
    wl, iv, m = np.asarray(s.wavelength), np.asarray(s.ivar), np.asarray(s.mask)
    assert np.all(np.isfinite(s.flux)) and np.all(np.isfinite(iv)) and np.all(iv >= 0)
    assert np.all(np.diff(wl, axis=-1) > 0)
    assert np.all(iv[~m] == 0) and np.all(iv[m] > 0)
    s.validate()


@pytest.mark.needs_data
@pytest.mark.parametrize("name", REAL)
def test_every_real_spectrum_loads(name):
    s = read_spectrum(name)
    check_common(s)
    assert s.medium == ("air" if name in ("uves_sun", "griffith2022_spectrum") else "vacuum")


@pytest.mark.needs_data
@pytest.mark.parametrize("name", ["lamost_lrs_f5", "lamost_lrs_g3"])
def test_lamost_lrs(name):
    s = read_spectrum(name)
    grid = load_npz("lamost_tsp_wavelength_grid")
    np.testing.assert_array_equal(s.wavelength[229:3788], grid["wl_grid"])
    np.testing.assert_array_equal(grid["lamost_lrs_pixel"], np.arange(229, 3788))
    np.testing.assert_allclose(s.wavelength, 10 ** (3.5682 + 1e-4 * np.arange(3909)), atol=3e-3)
    raw = fits.getdata(locate(name)).astype(np.float64)
    good = (raw[3] == 0) & (raw[1] > 0)
    np.testing.assert_array_equal(s.mask, good)
    np.testing.assert_array_equal(np.asarray(s.ivar)[good], raw[1][good])
    np.testing.assert_array_equal(np.asarray(s.flux), raw[0])
    assert s.meta["instrument"] == "LAMOST LRS" and s.meta["source"].startswith("spec-")
    # the thesis ch2 normalisation on the real spectrum: continuum ~ flux level, median(f/C) ~ 1
    nf, ni, c = continuum_normalize(s.wavelength, s.flux, s.ivar)
    assert 0.9 < float(np.median(np.asarray(nf)[good])) < 1.1


@pytest.mark.needs_data
def test_lamost_mrs():
    s = read_spectrum("lamost_mrs")
    with fits.open(locate("lamost_mrs")) as h:
        wl = np.concatenate([10 ** h["COADD_B"].data["LOGLAM"].astype(float),
                             10 ** h["COADD_R"].data["LOGLAM"].astype(float)])
        ivar = np.concatenate([h["COADD_B"].data["IVAR"], h["COADD_R"].data["IVAR"]])
    np.testing.assert_allclose(s.wavelength, np.sort(wl), rtol=1e-15)
    assert s.flux.shape == (4101 + 3692,)
    assert float(s.wavelength[0]) == pytest.approx(4894.0, abs=1) and 6850 < s.wavelength[-1] < 6852
    ok = np.asarray(s.mask)
    assert np.all(np.asarray(s.ivar)[ok] == ivar[np.argsort(wl)][ok])
    red = read_spectrum("lamost_mrs", arm="R")
    assert red.wavelength[0] > 6290 and np.any(np.abs(np.asarray(red.wavelength) - 6709.6) < 0.2)


@pytest.mark.needs_data
@pytest.mark.parametrize("name", ["apstar_giant", "apstar_dwarf"])
def test_apstar(name):
    s = read_spectrum(name)
    np.testing.assert_allclose(s.wavelength, 10 ** (4.179 + 6e-6 * np.arange(8575)), rtol=1e-12)
    with fits.open(locate(name)) as h:
        flux, err = np.atleast_2d(h[1].data)[0], np.atleast_2d(h[2].data)[0]
        bits = np.atleast_2d(h[3].data)[0]
    nan = ~np.isfinite(flux)
    assert nan.sum() > 700  # outside chip coverage
    assert np.all(np.asarray(s.ivar)[nan] == 0) and not np.asarray(s.mask)[nan].any()
    flagged = (bits & 0b1111111) != 0
    assert np.all(np.asarray(s.ivar)[flagged] == 0)
    ok = np.asarray(s.mask)
    np.testing.assert_allclose(np.asarray(s.ivar)[ok], 1 / err[ok] ** 2, rtol=1e-15)
    assert s.meta["frame"] == "rest" and s.meta["object"].startswith("2M")
    if name == "apstar_giant":
        assert read_apstar(locate(name), row=2).flux.shape == (8575,)
        with pytest.raises(ValueError, match="row 9 out of range"):
            read_apstar(locate(name), row=9)


@pytest.mark.needs_data
@pytest.mark.parametrize("name", ["apvisit_5095", "apvisit_9518"])
def test_apvisit(name):
    s = read_spectrum(name)
    raw_wl = fits.getdata(locate(name), 4).astype(np.float64)
    assert np.all(np.diff(raw_wl, axis=1) < 0)  # stored decreasing, red chip first
    np.testing.assert_array_equal(s.wavelength, np.sort(raw_wl.ravel()))
    assert s.flux.shape == (3 * 4096,) and s.meta["frame"] == "observed"


@pytest.mark.needs_data
def test_text_spectra():
    sun = read_spectrum("uves_sun")
    raw = np.loadtxt(locate("uves_sun"))
    assert sun.flux.shape == (np.unique(raw[:, 0]).size,) and sun.meta["n_duplicates_merged"] == 47
    assert float(sun.wavelength[0]) == 4835.0 and float(sun.wavelength[-1]) == 6723.5
    g = read_spectrum("griffith2022_spectrum")
    rawg = np.loadtxt(locate("griffith2022_spectrum"), skiprows=1)
    np.testing.assert_allclose(g.wavelength, 10 * rawg[:, 0], rtol=1e-15)  # nm -> Å
    np.testing.assert_allclose(g.ivar, 1 / rawg[:, 2] ** 2, rtol=1e-15)
    assert 4221.0 < float(g.wavelength[0]) < 4221.1


@pytest.mark.needs_data
def test_annieslasso_npz():
    s = read_spectrum("annieslasso_apogee")
    z = load_npz("annieslasso_apogee")
    assert s.flux.shape == (671, 100)
    np.testing.assert_allclose(s.wavelength, 10 ** (4.179 + 6e-6 * (322 + np.arange(100))),
                               rtol=1e-13)
    np.testing.assert_array_equal(s.ivar, z["ivar"])


def test_synthetic_fits_layouts(tmp_path):
    n = 500
    flux = 1 + 0.01 * np.arange(n)
    # log-linear generic 1D image
    h = fits.Header({"CRVAL1": 3.7, "CDELT1": 1e-5, "CRPIX1": 1.0, "CTYPE1": "LOG-LINEAR"})
    fits.PrimaryHDU(flux, header=h).writeto(tmp_path / "log.fits")
    s = read_spectrum(tmp_path / "log.fits")
    np.testing.assert_allclose(s.wavelength, 10 ** (3.7 + 1e-5 * np.arange(n)), rtol=1e-14)
    # linear WCS with CRPIX1 = 11
    h = fits.Header({"CRVAL1": 5000.0, "CDELT1": 0.05, "CRPIX1": 11.0, "CTYPE1": "WAVE"})
    fits.PrimaryHDU(flux, header=h).writeto(tmp_path / "lin.fits")
    s = read_spectrum(tmp_path / "lin.fits")
    np.testing.assert_allclose(s.wavelength, 5000.0 + 0.05 * (np.arange(n) - 10), rtol=1e-14)
    # binary table with wavelength/flux/ivar
    cols = [fits.Column(name="WAVELENGTH", format="D", array=6000 + np.arange(n) * 0.1),
            fits.Column(name="FLUX", format="D", array=flux),
            fits.Column(name="IVAR", format="D", array=np.full(n, 9.0))]
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols)]).writeto(
        tmp_path / "tab.fits")
    s = read_spectrum(tmp_path / "tab.fits")
    assert float(s.wavelength[1]) == pytest.approx(6000.1) and float(s.ivar[3]) == 9.0
    # aspcapStar-like
    err = np.full(n, 0.01)
    err[5] = np.nan
    hh = fits.Header({"CRVAL1": 4.179, "CDELT1": 6e-6})
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(flux, header=hh), fits.ImageHDU(err)]).writeto(
        tmp_path / "aspcapStar-test.fits")
    s = read_spectrum(tmp_path / "aspcapStar-test.fits")
    assert float(s.ivar[5]) == 0 and float(s.ivar[0]) == pytest.approx(1e4)
    # unknown layout: error names the file
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(np.ones((4, 4, 4)))]).writeto(
        tmp_path / "weird.fits")
    with pytest.raises(ValueError, match="weird.fits: unknown FITS spectrum layout"):
        identify_fits_layout(tmp_path / "weird.fits")
    with pytest.raises(ValueError, match="weird.fits"):
        read_spectrum(tmp_path / "weird.fits")


def test_text_with_nan_is_repaired_explicitly(tmp_path):
    p = tmp_path / "s.txt"
    p.write_text("wavelength flux ivar\n5000 1.0 4\n5001 nan 4\n5002 0.9 -1\n5003 1.1 4\n")
    s = read_spectrum(p, medium="vacuum")
    np.testing.assert_array_equal(s.ivar, [4.0, 0.0, 0.0, 4.0])
    np.testing.assert_array_equal(s.mask, [True, False, False, True])
    assert float(s.flux[1]) == 1.0 and s.meta["n_repaired"] == 2
    p2 = tmp_path / "bad.txt"
    p2.write_text("5000 1\n4999 1\n4999 1\n")
    s2 = read_spectrum(p2)  # duplicates merged, sorted
    np.testing.assert_array_equal(s2.wavelength, [4999.0, 5000.0])
