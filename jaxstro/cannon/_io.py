"""Reading spectra/label sets from npz, HDF5 and FITS files, whole or in row chunks."""

from __future__ import annotations

from pathlib import Path

import numpy as np

_WAVE_KEYS = ("wavelength", "dispersion", "WAVELENGTH", "wave")


def _resolve(path_or_name) -> Path:
    p = Path(path_or_name)
    if p.exists():
        return p
    from jaxstro.data import locate

    return locate(str(path_or_name))


class SpectraSource:
    """Row-chunked access to ``flux``/``ivar`` (and optional ``labels``, ``wavelength``).

    Supported: ``.npz``; HDF5 (``.h5``/``.hdf5``: datasets ``flux``, ``ivar``, optional
    ``wavelength``, ``labels`` with attribute ``label_names``); FITS (image HDUs named ``FLUX``,
    ``IVAR``, optional ``WAVELENGTH``). HDF5 and FITS are read lazily, chunk by chunk.
    """

    def __init__(self, path_or_name, flux_key: str = "flux", ivar_key: str = "ivar"):
        self.path = _resolve(path_or_name)
        self.flux_key, self.ivar_key = flux_key, ivar_key
        suf = "".join(self.path.suffixes[-2:]).lower()
        self._h5 = self._fits = None
        self._arrays: dict = {}
        if suf.endswith(".npz"):
            with np.load(self.path, allow_pickle=False) as z:
                self._arrays = {k: z[k] for k in z.files}
            self.kind = "npz"
            shape = self._arrays[flux_key].shape
        elif suf.endswith((".h5", ".hdf5")):
            import h5py

            self._h5 = h5py.File(self.path, "r")
            self.kind = "hdf5"
            shape = self._h5[flux_key].shape
        elif suf.endswith((".fits", ".fit", ".fits.gz")):
            from astropy.io import fits

            self._fits = fits.open(self.path, memmap=True)
            self.kind = "fits"
            shape = self._fits[flux_key.upper()].shape
        else:
            raise ValueError(f"{self.path}: unsupported spectra file type (npz, h5/hdf5, fits)")
        if len(shape) != 2:
            raise ValueError(
                f"{self.path}: '{flux_key}' must be 2-D (n_stars, n_pixels), got {shape}"
            )
        self.n_stars, self.n_pixels = int(shape[0]), int(shape[1])

    def _get(self, key, sl=slice(None)):
        if self.kind == "npz":
            return None if key not in self._arrays else np.asarray(self._arrays[key][sl])
        if self.kind == "hdf5":
            return None if key not in self._h5 else np.asarray(self._h5[key][sl])
        name = key.upper()
        try:
            return np.asarray(self._fits[name].data[sl], dtype=float)
        except KeyError:
            return None

    def read(self, start: int, stop: int):
        sl = slice(start, stop)
        flux = self._get(self.flux_key, sl).astype(float)
        return flux, self._get(self.ivar_key, sl).astype(float)

    @property
    def wavelength(self):
        for k in _WAVE_KEYS:
            w = self._get(k)
            if w is not None:
                return np.asarray(w, dtype=float)
        return None

    @property
    def labels(self):
        lab = self._get("labels")
        return None if lab is None else np.asarray(lab, dtype=float)

    @property
    def label_names(self):
        if self.kind == "npz" and "label_names" in self._arrays:
            return [str(x) for x in self._arrays["label_names"]]
        if self.kind == "hdf5" and "labels" in self._h5:
            names = self._h5["labels"].attrs.get("label_names")
            if names is not None:
                return [x.decode() if isinstance(x, bytes) else str(x) for x in names]
        lab = self.labels
        return None if lab is None else [f"label{j}" for j in range(lab.shape[1])]

    def close(self):
        if self._h5 is not None:
            self._h5.close()
        if self._fits is not None:
            self._fits.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
