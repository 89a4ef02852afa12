"""Readers for spectra on disk -> :class:`Spectrum` (numpy/astropy, eager; not jit-able).

Layouts (see the data directory's ``real_spectra/README.md``):

* LAMOST LRS 1D FITS (DR5+): primary HDU ``(5, n)`` rows flux, ivar, wavelength [Å, vacuum],
  andmask, ormask. Good = ``andmask == 0`` and ``ivar > 0``. The wavelength row is used as stored
  (float32), which is the grid the TSP paper's ``wl_grid`` copies.
* LAMOST MRS: binary tables ``COADD_B``/``COADD_R`` with FLUX, IVAR, LOGLAM (log10 Å, vacuum),
  ANDMASK, ORMASK; both arms are concatenated (blue then red) by default.
* APOGEE apStar: HDU1 flux, HDU2 err, HDU3 bitmask, images ``(n_rows, n)`` (row 0 = combined) or
  ``(n,)``; log-linear wavelength ``10**(CRVAL1 + CDELT1 * i)`` [Å, vacuum, rest frame].
* APOGEE apVisit: HDU1 flux, HDU2 err, HDU3 bitmask, HDU4 wavelength, each ``(3 chips, 4096)``
  stored red -> blue with decreasing wavelength; flattened and sorted to increasing wavelength
  [Å, vacuum, observed frame].
* APOGEE aspcapStar: HDU1 normalised flux, HDU2 err (same log-linear WCS as apStar, header in
  HDU1 or the primary).
* Generic 1D FITS image with a linear or log-linear WCS (``CRVAL1``, ``CDELT1``/``CD1_1``,
  ``CRPIX1``; log-linear when ``CTYPE1`` says LOG or ``DC-FLAG = 1``), ivar unknown (= 1).
* Tables (FITS binary tables, or text read with astropy/numpy): columns wavelength, flux and
  optionally err/sigma (-> ivar = 1/err**2) or ivar. Text files: whitespace- or tab-separated,
  optional header line. iSpec-style ``waveobs`` columns are in nm; the unit can be given.
* ``.npz`` with ``flux``, ``ivar`` or ``flux_err``, and ``dispersion`` or ``wavelength`` (the
  AnniesLasso APOGEE test set).

Bad pixels: non-finite flux/err/ivar, ``err <= 0`` and pipeline-flagged pixels get ``ivar = 0``
and ``mask = False``; non-finite flux is replaced by 1 (LAMOST/normalised) or 0 (APOGEE raw
counts) and the number of repaired pixels is recorded in ``meta["n_repaired"]``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from astropy.io import fits

from ._spectrum import Spectrum
from ._validate import check_wavelength

C_KMS = 299792.458

# APOGEE_PIXMASK bits that mean "do not use this pixel": BADPIX, CRPIX, SATPIX, UNFIXABLE,
# BADDARK, BADFLAT, BADERR (bits 0-6). Higher bits (persistence, sky/telluric significance) are
# informational and are kept in meta only through the raw bitmask if the caller reads it.
APOGEE_BAD_BITS = sum(1 << b for b in range(7))


def _pathlike(path: Any) -> Path:
    p = Path(os.fspath(path))
    if not p.exists():
        # convenience: a registered data-file name
        from jaxstro.data import locate

        try:
            return Path(locate(str(path)))
        except Exception as exc:  # noqa: BLE001
            raise FileNotFoundError(f"no such spectrum file or registered name: {path}") from exc
    return p


def _finish(wl, flux, ivar, good, *, fill, medium, meta, what):
    wl = np.asarray(wl, dtype=np.float64)
    flux = np.asarray(flux, dtype=np.float64)
    ivar = np.asarray(ivar, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        bad_val = ~np.isfinite(flux) | ~np.isfinite(ivar) | (ivar < 0)
    good = np.asarray(good, dtype=bool) & ~bad_val & (np.where(bad_val, 0.0, ivar) > 0)
    n_rep = int(bad_val.sum())
    flux = np.where(np.isfinite(flux), flux, fill)
    ivar = np.where(good, ivar, 0.0)
    check_wavelength(wl, what=what)
    meta = dict(meta, n_repaired=n_rep, n_masked=int((~good).sum()))
    return Spectrum(wl, flux, ivar, good, medium=medium, meta=meta)


def _hdr(h: fits.Header, *keys: str) -> Any:
    for k in keys:
        if k in h and h[k] not in (None, ""):
            v = h[k]
            return v.strip() if isinstance(v, str) else v
    return None


# ------------------------------------------------------------------------------------------ LAMOST
def read_lamost_lrs(path: Any) -> Spectrum:
    """LAMOST DR5+ low-resolution 1D spectrum (primary HDU rows flux, ivar, wavelength, masks)."""
    p = _pathlike(path)
    with fits.open(p) as hdul:
        h = hdul[0].header
        data = np.asarray(hdul[0].data, dtype=np.float64)
    if data.ndim != 2 or data.shape[0] < 5:
        raise ValueError(f"{p.name}: not a LAMOST LRS layout (primary HDU shape {data.shape})")
    flux, ivar, wl, andmask = data[0], data[1], data[2], data[3]
    z = _hdr(h, "Z")
    meta = {
        "object": str(_hdr(h, "DESIG", "OBJNAME") or ""),
        "source": p.name,
        "instrument": "LAMOST LRS",
        "data_release": str(_hdr(h, "DATA_V") or ""),
        "obsid": _hdr(h, "OBSID"),
        "z": float(z) if z is not None else None,
        "rv_kms": float(z) * C_KMS if z is not None and z > -1 else None,
        "frame": "observed",
    }
    medium = "vacuum" if _hdr(h, "VACUUM") in (None, True) else "air"
    return _finish(wl, flux, ivar, andmask == 0, fill=1.0, medium=medium, meta=meta, what=p.name)


def read_lamost_mrs(path: Any, arm: str = "both") -> Spectrum:
    """LAMOST medium-resolution coadd: ``arm`` in {"both", "B", "R"} (COADD_B, COADD_R tables)."""
    p = _pathlike(path)
    arms = {"both": ("COADD_B", "COADD_R"), "B": ("COADD_B",), "R": ("COADD_R",)}
    if arm not in arms:
        raise ValueError(f"arm must be one of {sorted(arms)}, got {arm!r}")
    parts = []
    with fits.open(p) as hdul:
        h = hdul[0].header
        names = [x.name for x in hdul]
        for ext in arms[arm]:
            if ext not in names:
                raise ValueError(f"{p.name}: no {ext} extension (HDUs: {names})")
            d = hdul[ext].data
            parts.append(
                (
                    10 ** np.asarray(d["LOGLAM"], np.float64),
                    np.asarray(d["FLUX"], np.float64),
                    np.asarray(d["IVAR"], np.float64),
                    np.asarray(d["ANDMASK"]) == 0,
                )
            )
    wl, flux, ivar, good = (np.concatenate(x) for x in zip(*parts, strict=True))
    order = np.argsort(wl, kind="stable")
    meta = {
        "object": str(_hdr(h, "DESIG", "OBJNAME") or ""),
        "source": p.name,
        "instrument": "LAMOST MRS",
        "arm": arm,
        "data_release": str(_hdr(h, "DATA_V") or ""),
        "obsid": _hdr(h, "OBSID"),
        "frame": "observed",
    }
    return _finish(wl[order], flux[order], ivar[order], good[order], fill=1.0, medium="vacuum",
                   meta=meta, what=p.name)


# ------------------------------------------------------------------------------------------ APOGEE
def _err_to_ivar(err: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isfinite(err) & (err > 0), 1.0 / err**2, 0.0)


def _loglinear(h: fits.Header, n: int) -> np.ndarray:
    crval, cdelt = float(h["CRVAL1"]), float(h.get("CDELT1", h.get("CD1_1")))
    crpix = float(h.get("CRPIX1", 1.0))
    return 10 ** (crval + cdelt * (np.arange(n) + 1.0 - crpix))


def read_apstar(path: Any, row: int = 0) -> Spectrum:
    """APOGEE apStar: ``row`` 0 = combined spectrum (rest frame, vacuum, log-linear grid)."""
    p = _pathlike(path)
    with fits.open(p) as hdul:
        h0 = hdul[0].header
        h1 = hdul[1].header
        flux = np.atleast_2d(np.asarray(hdul[1].data, np.float64))
        err = np.atleast_2d(np.asarray(hdul[2].data, np.float64))
        bits = np.atleast_2d(np.asarray(hdul[3].data, np.int64))
    if not 0 <= row < flux.shape[0]:
        raise ValueError(f"{p.name}: row {row} out of range (file has {flux.shape[0]} rows)")
    n = flux.shape[1]
    wl = _loglinear(h1 if "CRVAL1" in h1 else h0, n)
    good = (bits[row] & APOGEE_BAD_BITS) == 0
    meta = {
        "object": str(_hdr(h0, "OBJID", "OBJECT") or ""),
        "source": p.name,
        "instrument": "APOGEE",
        "telescope": str(_hdr(h0, "TELESCOP") or ""),
        "row": row,
        "snr": _hdr(h0, "SNR"),
        "vhelio_kms": _hdr(h0, "VHELIO"),
        "frame": "rest",
    }
    return _finish(wl, flux[row], _err_to_ivar(err[row]), good, fill=0.0, medium="vacuum",
                   meta=meta, what=p.name)


def read_aspcapstar(path: Any) -> Spectrum:
    """APOGEE aspcapStar (HDU1 normalised flux, HDU2 err; log-linear WCS)."""
    p = _pathlike(path)
    with fits.open(p) as hdul:
        h0 = hdul[0].header
        h1 = hdul[1].header
        flux = np.asarray(hdul[1].data, np.float64).reshape(-1)
        err = np.asarray(hdul[2].data, np.float64).reshape(-1)
    wl = _loglinear(h1 if "CRVAL1" in h1 else h0, flux.size)
    meta = {"object": str(_hdr(h0, "OBJID", "APOGEE_ID", "OBJECT") or ""), "source": p.name,
            "instrument": "APOGEE", "frame": "rest", "normalized": True}
    return _finish(wl, flux, _err_to_ivar(err), np.ones(flux.size, bool), fill=1.0,
                   medium="vacuum", meta=meta, what=p.name)


def read_apvisit(path: Any) -> Spectrum:
    """APOGEE apVisit: 3 chips (red -> blue, decreasing), flattened and sorted (observed frame)."""
    p = _pathlike(path)
    with fits.open(p) as hdul:
        h0 = hdul[0].header
        flux = np.asarray(hdul[1].data, np.float64).reshape(-1)
        err = np.asarray(hdul[2].data, np.float64).reshape(-1)
        bits = np.asarray(hdul[3].data, np.int64).reshape(-1)
        wl = np.asarray(hdul[4].data, np.float64).reshape(-1)
    order = np.argsort(wl, kind="stable")
    meta = {
        "object": str(_hdr(h0, "OBJID", "OBJECT") or ""),
        "source": p.name,
        "instrument": "APOGEE",
        "telescope": str(_hdr(h0, "TELESCOP") or ""),
        "vhelio_kms": _hdr(h0, "VHELIO"),
        "vrad_kms": _hdr(h0, "VRAD"),
        "frame": "observed",
    }
    good = (bits & APOGEE_BAD_BITS) == 0
    return _finish(wl[order], flux[order], _err_to_ivar(err)[order], good[order], fill=0.0,
                   medium="vacuum", meta=meta, what=p.name)


# ----------------------------------------------------------------------------------------- generic
def read_fits_1d(path: Any, hdu: int | None = None, *, medium: str = "vacuum") -> Spectrum:
    """A 1-D FITS image with a linear or log-linear wavelength WCS (ivar unknown: set to 1)."""
    p = _pathlike(path)
    with fits.open(p) as hdul:
        idx = hdu if hdu is not None else _first_1d_image(hdul)
        if idx is None:
            raise ValueError(f"{p.name}: no 1-D image HDU with a wavelength WCS")
        h = hdul[idx].header
        flux = np.asarray(hdul[idx].data, np.float64)
    if flux.ndim != 1 or "CRVAL1" not in h:
        raise ValueError(f"{p.name}: HDU {idx} is not a 1-D image with CRVAL1")
    n = flux.size
    crval = float(h["CRVAL1"])
    cdelt = float(h.get("CDELT1", h.get("CD1_1", 1.0)))
    crpix = float(h.get("CRPIX1", 1.0))
    x = crval + cdelt * (np.arange(n) + 1.0 - crpix)
    ctype = str(h.get("CTYPE1", "")).upper()
    log = "LOG" in ctype or int(h.get("DC-FLAG", 0) or 0) == 1
    wl = 10**x if log else x
    if str(h.get("CUNIT1", "")).strip().lower() in ("nm", "nanometer"):
        wl = wl * 10.0
    meta = {"object": str(_hdr(h, "OBJECT") or ""), "source": p.name,
            "instrument": str(_hdr(h, "INSTRUME") or ""), "ivar": "unknown (set to 1)"}
    return _finish(wl, flux, np.ones(n), np.ones(n, bool), fill=0.0, medium=medium, meta=meta,
                   what=p.name)


def _first_1d_image(hdul: fits.HDUList) -> int | None:
    for i, h in enumerate(hdul):
        if h.is_image and h.data is not None and np.ndim(h.data) == 1 and "CRVAL1" in h.header:
            return i
    return None


_WAVE_NAMES = ("wavelength", "wave", "lambda", "waveobs", "wl", "loglam")
_FLUX_NAMES = ("flux", "f", "norm_flux", "flux_norm")
_ERR_NAMES = ("err", "error", "flux_err", "sigma", "uncertainty", "e_flux")
_IVAR_NAMES = ("ivar", "inverse_variance")


def _pick(names: list[str], wanted: tuple[str, ...]) -> str | None:
    low = {n.lower(): n for n in names}
    for w in wanted:
        if w in low:
            return low[w]
    return None


def spectrum_from_columns(
    columns: dict[str, np.ndarray],
    *,
    source: str,
    wavelength_unit: str | None = None,
    medium: str = "air",
    meta: dict | None = None,
) -> Spectrum:
    """Build a Spectrum from named columns (wavelength, flux, optional err/sigma or ivar)."""
    names = list(columns)
    wcol = _pick(names, _WAVE_NAMES) or names[0]
    fcol = _pick(names, _FLUX_NAMES) or names[1]
    ecol = _pick(names, _ERR_NAMES)
    icol = _pick(names, _IVAR_NAMES)
    wl = np.asarray(columns[wcol], np.float64)
    if wcol.lower() == "loglam":
        wl = 10**wl
    unit = wavelength_unit
    if unit is None:
        unit = "nm" if wcol.lower() == "waveobs" else "angstrom"  # iSpec convention: nm
    scale = {"nm": 10.0, "angstrom": 1.0, "aa": 1.0, "å": 1.0, "um": 1e4, "micron": 1e4}
    if unit.lower() not in scale:
        raise ValueError(f"unknown wavelength unit {unit!r}; use one of {sorted(scale)}")
    wl = wl * scale[unit.lower()]
    flux = np.asarray(columns[fcol], np.float64)
    if icol is not None:
        ivar = np.asarray(columns[icol], np.float64)
        note = f"column {icol}"
    elif ecol is not None:
        ivar = _err_to_ivar(np.asarray(columns[ecol], np.float64))
        note = f"1/{ecol}**2"
    else:
        ivar = np.ones_like(flux)
        note = "unknown (set to 1)"
    wl, flux, ivar, n_dup = _merge_duplicates(wl, flux, ivar)
    m = {"source": source, "ivar": note, "wavelength_unit_in_file": unit} | dict(meta or {})
    m["n_duplicates_merged"] = n_dup
    return _finish(wl, flux, ivar, np.ones(wl.size, bool), fill=1.0, medium=medium, meta=m,
                   what=source)


def _merge_duplicates(wl, flux, ivar):
    """Sort by wavelength; pixels sharing a wavelength (e.g. at joins of echelle segments) become
    one pixel: ivar-weighted mean flux (plain mean if all their ivar are 0), summed ivar."""
    order = np.argsort(wl, kind="stable")
    wl, flux, ivar = wl[order], flux[order], ivar[order]
    uniq, inv, counts = np.unique(wl, return_inverse=True, return_counts=True)
    if uniq.size == wl.size:
        return wl, flux, ivar, 0
    iv = np.where(np.isfinite(ivar) & (ivar > 0), ivar, 0.0)
    fin = np.where(np.isfinite(flux), flux, 0.0)
    wsum = np.bincount(inv, weights=iv)
    fw = np.bincount(inv, weights=iv * fin)
    fmean = np.bincount(inv, weights=fin) / counts
    new_flux = np.where(wsum > 0, fw / np.where(wsum > 0, wsum, 1.0), fmean)
    return uniq, new_flux, wsum, int(wl.size - uniq.size)


def read_text_spectrum(
    path: Any,
    *,
    wavelength_unit: str | None = None,
    medium: str = "air",
    names: tuple[str, ...] | None = None,
) -> Spectrum:
    """Two- or three-column text spectrum (whitespace or tab separated, optional header line).

    Without a header the columns are wavelength, flux[, err]. ``wavelength_unit`` defaults to Å,
    or nm for iSpec-style ``waveobs`` columns. ``medium`` is the wavelength convention of the file
    (text files rarely say; ground-based optical tables are usually air).
    """
    p = _pathlike(path)
    with open(p) as fh:
        first = fh.readline()
    tokens = first.replace(",", " ").split()
    try:
        [float(t) for t in tokens]
        header = None
    except ValueError:
        header = tokens
    data = np.loadtxt(p, skiprows=0 if header is None else 1, ndmin=2,
                      delimiter="," if "," in first and "\t" not in first else None)
    cols = names or header or ("wavelength", "flux", "err", "extra")[: data.shape[1]]
    if len(cols) != data.shape[1]:
        raise ValueError(f"{p.name}: {data.shape[1]} columns but header names {cols}")
    if data.shape[1] < 2:
        raise ValueError(f"{p.name}: need at least 2 columns (wavelength, flux)")
    return spectrum_from_columns(
        {c: data[:, i] for i, c in enumerate(cols)}, source=p.name,
        wavelength_unit=wavelength_unit, medium=medium,
    )


def read_table_spectrum(path: Any, hdu: int = 1, **kw: Any) -> Spectrum:
    """A FITS binary table with wavelength/flux[/err|ivar] columns (astropy.table)."""
    from astropy.table import Table

    p = _pathlike(path)
    t = Table.read(p, hdu=hdu)
    cols = {c: np.asarray(t[c]).reshape(-1) for c in t.colnames if np.ndim(t[c]) <= 2}
    if _pick(list(cols), _WAVE_NAMES) is None or _pick(list(cols), _FLUX_NAMES) is None:
        raise ValueError(f"{p.name}: table HDU {hdu} has no wavelength/flux columns ({t.colnames})")
    return spectrum_from_columns(cols, source=p.name, **({"medium": "vacuum"} | kw))


def read_npz_spectra(path: Any) -> Spectrum:
    """``.npz`` with ``flux`` (and ``ivar`` or ``flux_err``) plus ``dispersion``/``wavelength``.

    Returns a batched :class:`Spectrum` ``(n_spectra, n_pixels)`` on the shared grid. Used for the
    AnniesLasso APOGEE test set (continuum-normalised, vacuum Å).
    """
    p = _pathlike(path)
    with np.load(p, allow_pickle=False) as z:
        keys = set(z.files)
        wkey = next((k for k in ("dispersion", "wavelength") if k in keys), None)
        if wkey is None or "flux" not in keys:
            raise ValueError(f"{p.name}: npz needs 'flux' and 'dispersion'/'wavelength' ({keys})")
        wl = np.asarray(z[wkey], np.float64)
        flux = np.asarray(z["flux"], np.float64)
        if "ivar" in keys:
            ivar = np.asarray(z["ivar"], np.float64)
        elif "flux_err" in keys:
            ivar = _err_to_ivar(np.asarray(z["flux_err"], np.float64))
        else:
            ivar = np.ones_like(flux)
    meta = {"source": p.name, "n_spectra": int(np.prod(flux.shape[:-1]))}
    return _finish(wl, flux, ivar, np.ones(flux.shape, bool), fill=1.0, medium="vacuum",
                   meta=meta, what=p.name)


# -------------------------------------------------------------------------------------- dispatcher
def identify_fits_layout(path: Any) -> str:
    """Name of the recognised FITS layout; ValueError naming the file if none matches."""
    p = _pathlike(path)
    with fits.open(p) as hdul:
        names = [h.name for h in hdul]
        h0 = hdul[0].header
        if "COADD_B" in names or "COADD_R" in names:
            return "lamost_mrs"
        d0 = hdul[0].data
        if (
            d0 is not None
            and np.ndim(d0) == 2
            and np.shape(d0)[0] >= 5
            and str(h0.get("TELESCOP", "")).strip().upper() == "LAMOST"
        ):
            return "lamost_lrs"
        if p.name.lower().startswith("aspcapstar") and len(hdul) >= 3:
            return "aspcapstar"
        if len(hdul) >= 5 and all(hdul[i].is_image for i in range(1, 5)):
            s1, s4 = np.shape(hdul[1].data), np.shape(hdul[4].data)
            if len(s1) == 2 and s1 == s4 and "CRVAL1" not in hdul[1].header:
                return "apvisit"
        if len(hdul) >= 4 and "CRVAL1" in (hdul[1].header if len(hdul) > 1 else {}):
            if hdul[3].is_image and np.issubdtype(np.asarray(hdul[3].data).dtype, np.integer):
                return "apstar"
        if _first_1d_image(hdul) is not None:
            return "fits_1d"
        for i, h in enumerate(hdul):
            if isinstance(h, fits.BinTableHDU):
                cols = [c.name for c in h.columns]
                if _pick(cols, _WAVE_NAMES) and _pick(cols, _FLUX_NAMES):
                    return f"table:{i}"
        summary = ", ".join(
            f"{i}:{h.name}:{type(h).__name__}{np.shape(h.data) if h.is_image else ''}"
            for i, h in enumerate(hdul)
        )
    raise ValueError(f"{p}: unknown FITS spectrum layout (HDUs: {summary})")


def read_spectrum(path: Any, **kwargs: Any) -> Spectrum:
    """Read any supported spectrum file (or a registered data-file name) into a :class:`Spectrum`.

    Recognises LAMOST LRS/MRS, APOGEE apStar/apVisit/aspcapStar, generic 1-D FITS images, FITS
    tables, ``.npz`` sets and text tables; raises ``ValueError`` naming the file otherwise.
    Keyword arguments go to the specific reader.
    """
    p = _pathlike(path)
    name = p.name.lower()
    if name.endswith(".npz"):
        return read_npz_spectra(p, **kwargs)
    if name.endswith((".fits", ".fits.gz", ".fit", ".fts", ".fit.gz")):
        layout = identify_fits_layout(p)
        readers = {
            "lamost_lrs": read_lamost_lrs,
            "lamost_mrs": read_lamost_mrs,
            "apstar": read_apstar,
            "apvisit": read_apvisit,
            "aspcapstar": read_aspcapstar,
            "fits_1d": read_fits_1d,
        }
        if layout.startswith("table:"):
            return read_table_spectrum(p, hdu=int(layout.split(":")[1]), **kwargs)
        return readers[layout](p, **kwargs)
    return read_text_spectrum(p, **kwargs)
