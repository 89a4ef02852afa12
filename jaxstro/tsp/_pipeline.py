"""Catalog pipeline: chunked targets, per-chunk result files, resume after a kill, device sharding.

Layout of an output directory::

    manifest.json                      run parameters (checked on resume)
    chunk_0000000000_0000001024.npz    results of targets [0, 1024), written atomically
    ...

A chunk file appears only once complete (written to a temporary name, then ``os.replace``), so a
killed run leaves either a whole chunk or none; a rerun skips chunks already written. Within a chunk
targets are sharded over all devices along the target axis (``jax.shard_map``); the reference set
is replicated. Bad targets are flagged per target (``flags``) and never stop the run.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from ._feature import Feature
from ._filter import EEW_ERR_MAX, EEW_MIN
from ._tsp import FATAL_FLAGS, TSPConfig, TSPResult, reference_validity, tsp_batch

_FIELDS = tuple(TSPResult.__dataclass_fields__)


# ----------------------------------------------------------------------------------------- input
@dataclass
class SpectraFile:
    """Lazy chunked access to ``flux``, ``ivar`` (and optional ``ids``) in an npz/HDF5/FITS file.

    HDF5: datasets ``flux``, ``ivar``, optional ``ids``/``wavelength``. npz: the same keys. FITS:
    image HDUs named ``FLUX`` and ``IVAR`` (optional ``IDS`` table/image, ``WAVELENGTH``).
    """

    path: Path

    def __post_init__(self):
        self.path = Path(self.path)
        if not self.path.exists():
            raise ValueError(f"spectra file {self.path} does not exist")
        suf = "".join(self.path.suffixes[-2:]).lower()
        self.kind = (
            "npz"
            if suf.endswith(".npz")
            else "hdf5"
            if suf.endswith((".h5", ".hdf5"))
            else "fits"
            if suf.endswith((".fits", ".fit", ".fits.gz"))
            else None
        )
        if self.kind is None:
            raise ValueError(f"{self.path}: unknown format (use .npz, .h5/.hdf5 or .fits)")
        shape_f, shape_i = self._shape("flux"), self._shape("ivar")
        if shape_f is None or shape_i is None:
            raise ValueError(f"{self.path}: needs 'flux' and 'ivar' arrays")
        if len(shape_f) != 2 or shape_f != shape_i:
            raise ValueError(f"{self.path}: flux {shape_f} and ivar {shape_i} must be equal 2-D")
        self.n, self.n_pix = shape_f
        ids_shape = self._shape("ids")
        if ids_shape is not None and tuple(ids_shape) != (self.n,):
            raise ValueError(f"{self.path}: ids has shape {ids_shape}, expected ({self.n},)")
        self.has_ids = ids_shape is not None

    def _shape(self, key):
        if self.kind == "npz":
            with np.load(self.path) as z:
                return z[key].shape if key in z.files else None
        if self.kind == "hdf5":
            import h5py

            with h5py.File(self.path, "r") as h:
                return h[key].shape if key in h else None
        from astropy.io import fits

        with fits.open(self.path, memmap=True) as h:
            names = [x.name for x in h]
            return h[key.upper()].data.shape if key.upper() in names else None

    def read(self, key: str, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Rows ``[start, stop)`` of array ``key`` (the whole 1-D array for ``wavelength``)."""
        sl = slice(start, stop)
        if self.kind == "npz":
            with np.load(self.path) as z:
                return np.asarray(z[key][sl] if key != "wavelength" else z[key])
        if self.kind == "hdf5":
            import h5py

            with h5py.File(self.path, "r") as h:
                return np.asarray(h[key][sl] if key != "wavelength" else h[key][...])
        from astropy.io import fits

        with fits.open(self.path, memmap=True) as h:
            d = h[key.upper()].data
            d = np.array(d[sl] if key != "wavelength" else d)
        return d.astype(d.dtype.newbyteorder("="))  # FITS is big-endian; JAX needs native

    def ids(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        stop = self.n if stop is None else stop
        if self.has_ids:
            return self.read("ids", start, stop).astype(np.int64)
        return np.arange(start, stop, dtype=np.int64)


def write_spectra(path, flux, ivar, ids=None, wavelength=None) -> Path:
    """Write spectra in the layout :class:`SpectraFile` reads (format from the suffix)."""
    path = Path(path)
    arrays = {"flux": np.asarray(flux), "ivar": np.asarray(ivar)}
    if ids is not None:
        arrays["ids"] = np.asarray(ids, dtype=np.int64)
    if wavelength is not None:
        arrays["wavelength"] = np.asarray(wavelength)
    if path.suffix == ".npz":
        np.savez(path, **arrays)
    elif path.suffix in (".h5", ".hdf5"):
        import h5py

        with h5py.File(path, "w") as h:
            for k, v in arrays.items():
                h.create_dataset(k, data=v, chunks=(min(len(v), 256), *v.shape[1:]))
    else:
        from astropy.io import fits

        hdus = [fits.PrimaryHDU()] + [fits.ImageHDU(v, name=k.upper()) for k, v in arrays.items()]
        fits.HDUList(hdus).writeto(path, overwrite=True)
    return path


# ----------------------------------------------------------------------------------------- run
def _chunk_name(start: int, stop: int) -> str:
    return f"chunk_{start:010d}_{stop:010d}.npz"


def make_chunk_function(feature: Feature, config: TSPConfig, mesh=None):
    """``fn(flux, ivar, ids, reference, reference_ids, valid) -> TSPResult``, sharded over ``mesh``.

    Targets are split across the mesh axis ``"t"``; everything else is replicated. The number of
    targets must be a multiple of the number of devices.
    """

    def local(tf, ti, tid, ref, rid, valid):
        return tsp_batch(
            tf, ti, ref, feature, config, target_ids=tid, reference_ids=rid, reference_valid=valid
        )

    if mesh is None:
        return jax.jit(local)
    spec_t = P("t")
    fn = jax.shard_map(
        local,
        mesh=mesh,
        in_specs=(spec_t, spec_t, spec_t, P(), P(), P()),
        out_specs=spec_t,
        check_vma=False,
    )
    return jax.jit(fn)


def default_mesh():
    """A 1-D mesh ``("t",)`` over all accelerator devices (one device on a CPU backend).

    Forced host "devices" (``--xla_force_host_platform_device_count``) share the same cores, and on
    a 2-core machine shard_map programs with loops (``lax.map``/``scan``) deadlocked in the shared
    CPU thread pool for chunks of >~ 16 targets per device; CPU parallelism comes from XLA's
    intra-op threads anyway. Pass an explicit ``mesh`` to shard over host devices (tests do).
    """
    devices = jax.devices()
    if jax.default_backend() == "cpu":
        devices = devices[:1]
    return jax.make_mesh((len(devices),), ("t",), devices=devices)


def run_catalog(
    reference: str | Path | SpectraFile,
    targets: str | Path | SpectraFile,
    output_dir: str | Path,
    feature: Feature,
    config: TSPConfig = TSPConfig(),
    *,
    chunk_size: int = 1024,
    mesh=None,
    progress: bool = True,
    max_chunks: int | None = None,
) -> list[Path]:
    """Run TSP over a target file in chunks, writing one result file per chunk (resumable).

    Args:
        reference: reference-set file (read once, in chunks, into device memory, replicated).
        targets: target file, read chunk by chunk.
        output_dir: results directory (created); chunks already present are skipped.
        feature: masked feature and filter models. config: k, q and batching.
        chunk_size: targets per chunk (rounded up to a multiple of the device count).
        mesh: a 1-D ``jax.sharding.Mesh`` with axis ``"t"`` (default: all devices).
        progress: show a tqdm bar. max_chunks: stop after this many new chunks (for testing).

    Returns: the paths of all chunk files of the run, in order.
    """
    from tqdm.auto import tqdm

    ref_file = reference if isinstance(reference, SpectraFile) else SpectraFile(reference)
    tgt_file = targets if isinstance(targets, SpectraFile) else SpectraFile(targets)
    n_pix = feature.wavelength.shape[0]
    for f, what in ((ref_file, "reference"), (tgt_file, "targets")):
        if f.n_pix != n_pix:
            raise ValueError(f"{what} {f.path} has {f.n_pix} pixels, the feature grid {n_pix}")
    if ref_file.n < config.k:
        raise ValueError(f"reference set has {ref_file.n} spectra, fewer than k={config.k}")
    mesh = default_mesh() if mesh is None else mesh
    n_dev = mesh.devices.size
    chunk = -(-int(chunk_size) // n_dev) * n_dev
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest = {
        "reference": str(ref_file.path),
        "targets": str(tgt_file.path),
        "n_targets": tgt_file.n,
        "n_reference": ref_file.n,
        "chunk_size": chunk,
        "k": config.k,
        "q": config.q,
        "feature": feature.name,
        "line_center": feature.line_center,
        "line_sigma": feature.line_sigma,
        "n_masked": feature.n_masked,
        "model_names": list(feature.model_names[:2]) + ["pixel*"],
    }
    mpath = out / "manifest.json"
    if mpath.exists():
        old = json.loads(mpath.read_text())
        skip = ("reference", "targets")
        diff = [k for k in manifest if k not in skip and old.get(k) != manifest[k]]
        if diff:
            raise ValueError(f"{out} holds a run with different {diff}; use a new output_dir")
    else:
        _atomic_write_text(mpath, json.dumps(manifest, indent=1))

    bounds = [(s, min(s + chunk, tgt_file.n)) for s in range(0, tgt_file.n, chunk)]
    paths = [out / _chunk_name(a, b) for a, b in bounds]
    todo = [i for i, p in enumerate(paths) if not p.exists()]
    if max_chunks is not None:
        todo = todo[:max_chunks]
    if not todo:
        return paths

    # reference set: read in chunks, bad-pixel rule (NaN -> 1), validity from the masked region
    rf, rv = [], []
    for s in range(0, ref_file.n, chunk):
        e = min(s + chunk, ref_file.n)
        f, iv = ref_file.read("flux", s, e), ref_file.read("ivar", s, e)
        bad = ~np.isfinite(f) | ~np.isfinite(iv) | (iv < 0)
        rv.append(reference_validity(np.where(bad, np.nan, f), np.where(bad, 0.0, iv), feature))
        rf.append(np.where(bad, 1.0, f))
    replicated = NamedSharding(mesh, P())
    ref = jax.device_put(jnp.asarray(np.concatenate(rf)), replicated)
    valid = jax.device_put(jnp.asarray(np.concatenate(rv)), replicated)
    rids = jax.device_put(jnp.asarray(ref_file.ids()), replicated)
    fn = make_chunk_function(feature, config, mesh)
    sharded = NamedSharding(mesh, P("t"))

    bar = tqdm(
        total=len(bounds),
        initial=len(bounds) - len(todo),
        disable=not progress,
        desc=f"tsp {feature.name}",
        unit="chunk",
    )
    for i in todo:
        a, b = bounds[i]
        f, iv, ids = tgt_file.read("flux", a, b), tgt_file.read("ivar", a, b), tgt_file.ids(a, b)
        n = b - a
        pad = chunk - n
        f = np.pad(f, ((0, pad), (0, 0)), constant_values=1.0)
        iv = np.pad(iv, ((0, pad), (0, 0)))
        tid = np.pad(ids, (0, pad), constant_values=np.iinfo(np.int64).min)
        res = fn(
            jax.device_put(jnp.asarray(f), sharded),
            jax.device_put(jnp.asarray(iv), sharded),
            jax.device_put(jnp.asarray(tid), sharded),
            ref,
            rids,
            valid,
        )
        arrays = {k: np.asarray(getattr(res, k))[:n] for k in _FIELDS}
        arrays["ids"] = ids
        arrays["index"] = np.arange(a, b)
        _atomic_savez(paths[i], arrays)
        bar.update(1)
    bar.close()
    return paths


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def _atomic_savez(path: Path, arrays: dict) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


# ----------------------------------------------------------------------------------------- output
def load_catalog(
    output_dir: str | Path, *, allow_incomplete: bool = False
) -> dict[str, np.ndarray]:
    """Concatenate the chunk files of a run (checks: no gaps, no duplicates)."""
    out = Path(output_dir)
    mpath = out / "manifest.json"
    if not mpath.exists():
        raise ValueError(f"{out} has no manifest.json: not a TSP run directory")
    man = json.loads(mpath.read_text())
    files = sorted(out.glob("chunk_*_*.npz"))
    files = [p for p in files if ".tmp" not in p.name]
    if not files:
        raise ValueError(f"{out} has no result chunks yet")
    parts = [dict(np.load(p)) for p in files]
    cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    idx = cat["index"]
    if len(np.unique(idx)) != len(idx):
        raise ValueError(f"{out}: duplicated targets in the chunk files")
    if not allow_incomplete and len(idx) != man["n_targets"]:
        raise ValueError(f"{out}: {len(idx)} of {man['n_targets']} targets done; rerun to resume")
    return cat


def select_catalog(
    output_dir: str | Path,
    *,
    min_eew: float = EEW_MIN,
    max_eew_err: float = EEW_ERR_MAX,
    path: str | Path | None = None,
    allow_incomplete: bool = False,
):
    """The ch3 catalog as an astropy Table with ``candidate`` and ``enriched`` columns.

    ``candidate``: sigma_EEW < max_eew_err and no fatal flag; ``enriched``: candidate, EEW >
    min_eew and the line model preferred. Written to ``path`` (any astropy format) if given.
    """
    from astropy.table import Table

    cat = load_catalog(output_dir, allow_incomplete=allow_incomplete)
    ok = (cat["flags"] & FATAL_FLAGS) == 0
    cand = ok & (cat["eew_err"] < max_eew_err)
    enriched = cand & (cat["eew"] > min_eew) & cat["isline"]
    t = Table()
    t["id"] = cat["ids"]
    t["EEW"] = cat["eew"]
    t["EEW"].unit = "Angstrom"
    t["EEW_err"] = cat["eew_err"]
    t["EEW_err"].unit = "Angstrom"
    t["isline"] = cat["isline"]
    t["likelihoods"] = cat["loglike"][:, :2]  # line, constant (single-pixel models in chunk files)
    t["max_pixel_loglike"] = cat["loglike"][:, 2:].max(axis=1)
    t["chi2"] = cat["chi2"]
    t["nn_dist"] = cat["nn_dist"]
    t["diff"] = cat["resid"]
    t["ivar"] = cat["resid_ivar"]
    t["flags"] = cat["flags"]
    t["candidate"] = cand
    t["enriched"] = enriched
    t.meta.update({"MIN_EEW": min_eew, "MAX_EERR": max_eew_err})
    if path is not None:
        t.write(path, overwrite=True)
    return t
