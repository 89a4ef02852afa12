"""Readers for the generic file formats of the registered data (HDF5, npz, whitespace tables).

Format-specific readers of physics (model atmospheres, line lists, spectra) live with their
modules; these are the shared low-level pieces.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._locate import locate


def _path(name_or_path: str | Path) -> Path:
    p = Path(name_or_path)
    return p if p.suffix and p.exists() else locate(str(name_or_path))


def load_hdf5(name_or_path: str | Path, keys: list[str] | None = None) -> dict[str, np.ndarray]:
    """Datasets of an HDF5 file as numpy arrays (``keys``: only these; nested groups as 'a/b').

    Korg's files were written by Julia: numpy shapes are the reverse of the Julia shapes.
    """
    import h5py

    out: dict[str, np.ndarray] = {}
    with h5py.File(_path(name_or_path), "r") as fh:
        if keys is None:
            fh.visititems(
                lambda k, v: out.__setitem__(k, v[()]) if isinstance(v, h5py.Dataset) else None
            )
        else:
            for k in keys:
                if k not in fh:
                    raise KeyError(f"{k!r} not in {name_or_path}; available: {list(fh.keys())}")
                out[k] = fh[k][()]
    return out


def hdf5_attrs(name_or_path: str | Path, group: str = "/") -> dict:
    """Attributes of a group (or dataset) of an HDF5 file."""
    import h5py

    with h5py.File(_path(name_or_path), "r") as fh:
        return dict(fh[group].attrs)


def load_npz(name_or_path: str | Path) -> dict[str, np.ndarray]:
    """All arrays of an ``.npz`` file (no pickles)."""
    with np.load(_path(name_or_path), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def load_table(name_or_path: str | Path, *, comments: str = "#", **kwargs) -> np.ndarray:
    """A whitespace-separated numeric table (``numpy.loadtxt`` with a clear error)."""
    p = _path(name_or_path)
    try:
        return np.loadtxt(p, comments=comments, **kwargs)
    except ValueError as e:
        raise ValueError(f"malformed numeric table {p}: {e}") from e
