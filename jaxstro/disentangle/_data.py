"""Chemical-twin data sets (paper 004, §4.1): labels, generators, chunked HDF5 storage.

A data set holds ``n_pairs`` pairs of stars; the two stars of a pair share every abundance
([Fe/H] and the 17 [X/Fe] of Table 2) and have independent Teff ~ U(4000, 5000) K and
logg ~ U(1.5, 3.0). Spectra are continuum-normalised on a fixed wavelength grid.

Generators are callables ``generate(labels) -> flux`` with ``labels`` shaped (n, 2 + 18)
(Teff, logg, [Fe/H], [X/Fe]...) and flux (n, n_bins). ``StandInGenerator`` is a documented
analytic stand-in for tests and development; the production generator wraps ``jaxstro.synth``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

#: Table 1 of paper 004: uniform ranges of the non-chemical parameters
PARAMETER_RANGES: dict[str, tuple[float, float]] = {"teff": (4000.0, 5000.0), "logg": (1.5, 3.0)}

#: Table 2 of paper 004: Gaussian mean and standard deviation [dex] of [Fe/H] and [X/Fe]
ABUNDANCE_DISTRIBUTION: dict[str, tuple[float, float]] = {
    "Fe/H": (-0.13, 0.24), "N/Fe": (0.28, 0.11), "O/Fe": (0.03, 0.08), "Na/Fe": (-0.05, 0.38),
    "Mg/Fe": (0.06, 0.08), "Al/Fe": (0.07, 0.09), "Si/Fe": (0.05, 0.07), "S/Fe": (0.05, 0.07),
    "K/Fe": (0.04, 0.07), "Ca/Fe": (0.02, 0.04), "Ti/Fe": (-0.01, 0.06), "V/Fe": (-0.01, 0.11),
    "Mn/Fe": (-0.04, 0.07), "Ni/Fe": (0.02, 0.04), "P/Fe": (-0.04, 0.18), "Cr/Fe": (-0.01, 0.06),
    "Co/Fe": (0.0, 0.15), "Rb/Fe": (-0.03, 0.29),
}  # fmt: skip

LABEL_NAMES: tuple[str, ...] = ("teff", "logg", *ABUNDANCE_DISTRIBUTION)
N_PHYSICAL = 2


def sample_twin_labels(key: jax.Array, n_pairs: int) -> Float[Array, "n_pairs 2 n_labels"]:
    """Labels of ``n_pairs`` chemical-twin pairs: shared abundances, independent Teff and logg."""
    k_ab, k_p = jax.random.split(key)
    mean = jnp.array([m for m, _ in ABUNDANCE_DISTRIBUTION.values()])
    std = jnp.array([s for _, s in ABUNDANCE_DISTRIBUTION.values()])
    ab = mean + std * jax.random.normal(k_ab, (n_pairs, mean.size))
    lo = jnp.array([PARAMETER_RANGES["teff"][0], PARAMETER_RANGES["logg"][0]])
    hi = jnp.array([PARAMETER_RANGES["teff"][1], PARAMETER_RANGES["logg"][1]])
    phys = jax.random.uniform(k_p, (n_pairs, 2, 2), minval=lo, maxval=hi)
    return jnp.concatenate([phys, jnp.broadcast_to(ab[:, None, :], (n_pairs, 2, mean.size))], -1)


class StandInGenerator(eqx.Module):
    """Analytic stand-in for synthetic spectra, for tests and development (not physics).

    ``n_lines`` Gaussian absorption lines at fixed random positions on ``n_bins`` bins; each line
    belongs to one element (Fe for a third of them) and has depth
    ``d = 1 - exp(-tau)``, ``ln tau = ln tau0 + ln10 [X/H] - 2 chi (5040/Teff - 1)
    + g (logg - 2.25)``:
    a saturating curve of growth with temperature (excitation) and gravity sensitivity that varies
    from line to line. Continuum is 1. This gives the non-linear, entangled dependence on
    (Teff, logg) and abundances that the disentanglement methods must undo.
    """

    centers: Array
    widths: Array
    log_tau0: Array
    chi: Array
    gsens: Array
    element: Array
    n_bins: int = eqx.field(static=True)

    def __init__(self, key: jax.Array, n_bins: int = 256, n_lines: int = 120):
        ks = jax.random.split(key, 6)
        self.n_bins = n_bins
        self.centers = jax.random.uniform(ks[0], (n_lines,), minval=0, maxval=n_bins - 1)
        self.widths = jax.random.uniform(ks[1], (n_lines,), minval=0.8, maxval=2.5)
        self.log_tau0 = jax.random.uniform(ks[2], (n_lines,), minval=-2.5, maxval=1.5)
        self.chi = jax.random.uniform(ks[3], (n_lines,), minval=-1.0, maxval=4.0)
        self.gsens = jax.random.uniform(ks[4], (n_lines,), minval=-0.5, maxval=0.5)
        n_el = len(ABUNDANCE_DISTRIBUTION)
        # element index into the abundance block: 0 = Fe ([Fe/H]), k>0: [X/Fe] + [Fe/H]
        self.element = jax.random.randint(ks[5], (n_lines,), 0, n_el)
        self.element = jnp.where(jnp.arange(n_lines) % 3 == 0, 0, self.element)

    def __call__(self, labels: Float[Array, "n n_labels"]) -> Float[Array, "n n_bins"]:
        return jax.vmap(self._one)(labels)

    def _one(self, lab: Array) -> Array:
        teff, logg, ab = lab[0], lab[1], lab[2:]
        x_h = jnp.where(self.element == 0, ab[0], ab[self.element] + ab[0])
        log_tau = (
            self.log_tau0 + x_h * jnp.log(10.0) - self.chi * (5040.0 / teff - 1.0) * 2.0
            + self.gsens * (logg - 2.25)
        )
        tau = jnp.exp(log_tau)
        depth = 1.0 - jnp.exp(-tau)
        pix = jnp.arange(self.n_bins, dtype=lab.dtype)
        prof = jnp.exp(-0.5 * ((pix[:, None] - self.centers) / self.widths) ** 2)
        return 1.0 - jnp.clip(prof @ depth, 0.0, 0.95)


def add_noise(key: jax.Array, flux: Array, snr: float | None) -> Array:
    """Gaussian noise of standard deviation 1/SNR in every bin (§4.2); ``None`` = noiseless."""
    if snr is None:
        return flux
    return flux + jax.random.normal(key, flux.shape, flux.dtype) / snr


class TwinDataset(eqx.Module):
    """Pairs of chemical twins: ``flux`` (n_pairs, 2, n_bins), ``labels`` (n_pairs, 2, n_labels)."""

    flux: Array
    labels: Array

    @property
    def n_pairs(self) -> int:
        return self.flux.shape[0]

    def stars(self) -> tuple[Array, Array]:
        """Flattened (2 n_pairs, ...) flux and labels; star 2i and 2i+1 are twins."""
        return self.flux.reshape(-1, self.flux.shape[-1]), self.labels.reshape(
            -1, self.labels.shape[-1]
        )

    def twin_index(self) -> np.ndarray:
        """For each flattened star, the index of its twin."""
        idx = np.arange(2 * self.n_pairs)
        return idx ^ 1


def make_dataset(
    path: str | Path,
    generator: Callable[[Array], Array],
    key: jax.Array,
    n_pairs: int,
    *,
    chunk_pairs: int = 1024,
    progress: bool = True,
) -> Path:
    """Generate a twin data set into an HDF5 file in chunks; resumes a partial file.

    The labels of all pairs are drawn first from ``key`` (so a resumed run produces the same data
    set); each chunk of ``chunk_pairs`` pairs is generated and written, and its index recorded in
    the file attribute ``chunks_done``. Re-running skips chunks already written.
    """
    import h5py
    from tqdm.auto import tqdm

    path = Path(path)
    labels = np.asarray(sample_twin_labels(key, n_pairs))
    n_chunks = -(-n_pairs // chunk_pairs)
    gen = eqx.filter_jit(generator)
    with h5py.File(path, "a") as fh:
        if "labels" not in fh:
            fh.create_dataset("labels", data=labels)
            fh.attrs["label_names"] = json.dumps(LABEL_NAMES)
            fh.attrs["chunks_done"] = json.dumps([])
            fh.attrs["n_chunks"] = n_chunks
        elif not np.array_equal(fh["labels"][()], labels):
            raise ValueError(f"{path} holds a different data set (labels differ); remove it first")
        done = set(json.loads(fh.attrs["chunks_done"]))
        for c in tqdm(range(n_chunks), disable=not progress, desc="twin spectra"):
            if c in done:
                continue
            sl = slice(c * chunk_pairs, min((c + 1) * chunk_pairs, n_pairs))
            lab = labels[sl].reshape(-1, labels.shape[-1])
            flux = np.asarray(gen(jnp.asarray(lab))).reshape(sl.stop - sl.start, 2, -1)
            if "flux" not in fh:
                fh.create_dataset("flux", shape=(n_pairs, 2, flux.shape[-1]), dtype="f4",
                                  chunks=(min(chunk_pairs, n_pairs), 2, flux.shape[-1]))
            fh["flux"][sl] = flux
            done.add(c)
            fh.attrs["chunks_done"] = json.dumps(sorted(done))
            fh.flush()
    return path


def load_dataset(path: str | Path) -> TwinDataset:
    """Read a complete twin data set written by :func:`make_dataset`."""
    import h5py

    with h5py.File(path, "r") as fh:
        if "flux" not in fh or "labels" not in fh:
            raise ValueError(f"{path} is not a twin data set (needs 'flux' and 'labels')")
        n = fh["labels"].shape[0]
        done = json.loads(fh.attrs.get("chunks_done", "[]"))
        n_chunks = int(fh.attrs.get("n_chunks", -1))
        flux = fh["flux"][()]
        labels = fh["labels"][()]
    if len(done) != n_chunks or flux.shape[0] != n or not np.all(np.isfinite(flux)):
        raise ValueError(f"{path} is incomplete: finish it with make_dataset (it resumes)")
    return TwinDataset(jnp.asarray(flux, jnp.float32), jnp.asarray(labels, jnp.float32))
