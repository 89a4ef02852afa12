"""Catalog runs: the test step over millions of spectra, chunked, resumable, sharded.

``run_catalog`` reads ``chunk_size`` spectra at a time from an npz/HDF5/FITS source, fits them
(each batch sharded over all visible devices) and writes ``chunk_NNNNNN.npz`` into ``out_dir``
(written to a temporary name, then renamed, so a chunk file is either complete or absent).
Chunks already on disk are skipped, so a killed run resumes where it stopped.
``collect_catalog`` joins the chunks into an astropy Table.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ._labels import FitOptions, fit_padded
from ._model import CannonModel
from ._validate import check_spectra, check_wavelength


def _chunk_path(out_dir: Path, i: int) -> Path:
    return out_dir / f"chunk_{i:06d}.npz"


def run_catalog(
    model: CannonModel,
    source,
    out_dir,
    *,
    chunk_size: int = 10_000,
    batch_size: int = 1024,
    options: FitOptions = FitOptions(),
    max_chunks: int | None = None,
    progress: bool = True,
) -> dict:
    """Infer labels for every spectrum of ``source`` (path/registry name or a ``SpectraSource``).

    Args:
        chunk_size: spectra per output chunk (must stay the same when resuming).
        batch_size: spectra per compiled call (rounded up to a multiple of the device count).
        max_chunks: stop after writing this many new chunks (None: all).

    Returns:
        ``{"n_chunks", "written", "skipped", "out_dir"}``.
    """
    from ._io import SpectraSource

    src = source if isinstance(source, SpectraSource) else SpectraSource(source)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    check_wavelength(model.wavelength, src.wavelength)
    if src.n_pixels != model.n_pixels:
        raise ValueError(
            f"{src.path}: {src.n_pixels} pixels, the model has {model.n_pixels} (test spectra "
            "must be on the training wavelength grid)"
        )
    manifest = {
        "source": str(src.path),
        "n_stars": src.n_stars,
        "chunk_size": int(chunk_size),
        "label_names": list(model.label_names),
        "model": model.metadata(),
    }
    mpath = out / "catalog.json"
    if mpath.exists():
        old = json.loads(mpath.read_text())
        for k in ("n_stars", "chunk_size", "label_names"):
            if old.get(k) != manifest[k]:
                raise ValueError(
                    f"{out}: existing run has {k}={old.get(k)!r}, this run {manifest[k]!r}; "
                    "use another output directory"
                )
    else:
        mpath.write_text(json.dumps(manifest, indent=1))
    n_chunks = int(np.ceil(src.n_stars / chunk_size))
    batch = min(batch_size, chunk_size)
    written = skipped = 0
    it = range(n_chunks)
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, desc="cannon catalog", unit="chunk")
    for i in it:
        path = _chunk_path(out, i)
        if path.exists():
            skipped += 1
            continue
        if max_chunks is not None and written >= max_chunks:
            break
        start, stop = i * chunk_size, min((i + 1) * chunk_size, src.n_stars)
        flux, ivar = src.read(start, stop)
        flux, ivar = check_spectra(flux, ivar, n_pixels=model.n_pixels,
                                   what=f"{src.path} rows {start}-{stop - 1}")
        res = fit_padded(model, flux, ivar, options, batch)
        arrays = {name: np.asarray(getattr(res, name)) for name in res.__dataclass_fields__}
        arrays["row"] = np.arange(start, stop)
        tmp = path.with_name(path.stem + ".tmp.npz")
        np.savez(tmp, **arrays)
        os.replace(tmp, path)
        written += 1
    if not isinstance(source, SpectraSource):
        src.close()
    return {"n_chunks": n_chunks, "written": written, "skipped": skipped, "out_dir": str(out)}


def collect_catalog(out_dir, *, path=None):
    """Join the chunk files into an astropy Table (labels, ``e_<label>``, chi2, flags); optionally
    write it (FITS/ECSV by the file suffix)."""
    from astropy.table import Table

    out = Path(out_dir)
    manifest = json.loads((out / "catalog.json").read_text())
    n_chunks = int(np.ceil(manifest["n_stars"] / manifest["chunk_size"]))
    missing = [i for i in range(n_chunks) if not _chunk_path(out, i).exists()]
    if missing:
        raise ValueError(
            f"{out}: {len(missing)} of {n_chunks} chunks missing (first: {missing[0]}); "
            "run the catalog again to finish it"
        )
    parts = []
    for i in range(n_chunks):
        with np.load(_chunk_path(out, i)) as z:
            parts.append({k: z[k] for k in z.files})
    cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    t = Table()
    t["row"] = cat["row"]
    for j, name in enumerate(manifest["label_names"]):
        t[name] = cat["labels"][:, j]
        t[f"e_{name}"] = np.sqrt(cat["covariance"][:, j, j])
    t["covariance"] = cat["covariance"]
    for k in ("chi2", "reduced_chi2", "n_pixels_used", "converged", "extrapolated", "start"):
        t[k] = cat[k]
    if path is not None:
        t.write(path, overwrite=True)
    return t
