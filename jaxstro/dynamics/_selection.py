"""Spatial selection functions to compare test-particle simulations with surveys (ch4 §4.5).

Positions are Galactocentric Cartesian in kpc, in the frame of the simulation: the Sun at
(R0, 0, z_sun) with R0 = 8 kpc, the Galactic centre at the origin, +y the direction of Galactic
rotation at the Sun (Galactic longitude l = 90 deg), +z the north Galactic pole (galpy's frame:
a star at heliocentric (d, l, b) sits at x = R0 - d cos b cos l, y = d cos b sin l, z = d sin b).

All selections are rejection sampling in (x, y, z) bins (0.5 kpc in x and y, 0.1 kpc in z as in
the thesis): a simulated star in bin b is kept with a probability that depends only on b.

- :class:`BinnedFootprint`: target numbers of survey stars per bin (e.g. a histogram of a survey
  catalogue, :meth:`BinnedFootprint.from_positions`, :func:`load_footprint`); a simulated star is
  kept with probability proportional to n_survey(b) / n_sim(b), so the kept stars follow the
  survey's spatial distribution (the thesis' p_LAMOST / p_sim).
- :func:`select_like`: the same from a catalogue of survey positions.
- :class:`LamostLikeSelection`: a parametric model of the LAMOST red-clump sample of ch4, for use
  when no survey catalogue is at hand (none is staged with this project). It is the probability
  S(x) that a star at x enters the catalogue: the sky the LAMOST telescope surveys (Xinglong,
  latitude 40.4 deg N; declination -10 to +60 deg), times the fraction of red-clump stars
  (M_G ~ N(0.44, 0.2^2), Ruiz-Dern et al. 2018) that fall between the survey's bright and faint
  limits (9 < G < 17) after extinction by a dust layer (0.7 mag/kpc in G in the plane, scale height
  0.1 kpc). The simulated galaxy is "observed" by keeping a star in bin b with probability
  S_b / max S, S_b the mean of S over the bin (2 x 2 x 2 Gauss-Legendre points). The numbers are
  round values for LAMOST DR5 LRS and the red clump, not a fit to the real catalogue; pass real
  positions (``select_like`` / ``BinnedFootprint``) for a quantitative comparison.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import equinox as eqx
import jax
import numpy as np
from scipy.special import ndtr

DXY_KPC = 0.5
DZ_KPC = 0.1


def _bin_index(xyz: np.ndarray, origin: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Integer (i, j, k) bin of each position on the grid with the given origin and step."""
    return np.floor((xyz - origin) / step).astype(np.int64)


def _flat(ijk: np.ndarray) -> np.ndarray:
    """Encode (i, j, k) (each |.| < 2^20) as one int64."""
    off = ijk + (1 << 20)
    return (off[:, 0] << 42) | (off[:, 1] << 21) | off[:, 2]


def _check_xyz(xyz, name: str) -> np.ndarray:
    xyz = np.asarray(xyz, dtype=float)
    if xyz.ndim != 2 or xyz.shape[1] != 3:
        raise ValueError(f"{name}: positions must have shape (n, 3) in kpc, got {xyz.shape}")
    if not np.all(np.isfinite(xyz)):
        raise ValueError(f"{name}: {np.sum(~np.all(np.isfinite(xyz), 1))} non-finite positions")
    return xyz


def _accept(key, prob: np.ndarray) -> np.ndarray:
    return np.asarray(jax.random.uniform(key, (len(prob),))) < prob


def select_like(
    xyz, reference, key, dxy: float = DXY_KPC, dz: float = DZ_KPC, min_count: int = 1
) -> np.ndarray:
    """Boolean mask keeping simulated positions ``xyz`` (n, 3) [kpc] so that their distribution
    over (dxy, dxy, dz) bins follows that of the survey positions ``reference`` (m, 3).

    Acceptance in bin b is min(1, r_b / r_max), r_b = n_ref(b) / n_sim(b), with r_max the largest
    r over bins holding at least ``min_count`` simulated stars (bins with fewer are too noisy to
    set the normalisation; their acceptance is clipped at 1). Bins without survey stars are
    rejected."""
    xyz = _check_xyz(xyz, "select_like")
    reference = _check_xyz(reference, "select_like reference")
    origin = np.minimum(xyz.min(0), reference.min(0))
    step = np.array([dxy, dxy, dz])
    isim = _flat(_bin_index(xyz, origin, step))
    iref = _flat(_bin_index(reference, origin, step))
    u_sim, inv, c_sim = np.unique(isim, return_inverse=True, return_counts=True)
    u_ref, c_ref = np.unique(iref, return_counts=True)
    pos = np.searchsorted(u_ref, u_sim)
    pos = np.minimum(pos, len(u_ref) - 1)
    n_ref = np.where(u_ref[pos] == u_sim, c_ref[pos], 0)
    return _accept(key, _normalise(n_ref / c_sim, c_sim, min_count)[inv])


def _normalise(ratio: np.ndarray, n_sim: np.ndarray, min_count: int) -> np.ndarray:
    ok = (n_sim >= min_count) & (ratio > 0)
    if not np.any(ok):
        ok = ratio > 0
    if not np.any(ok):
        return np.zeros_like(ratio, dtype=float)
    return np.minimum(ratio / ratio[ok].max(), 1.0)


class BinnedFootprint(eqx.Module):
    """A selection footprint given as target numbers of survey stars on a regular (x, y, z) grid
    (kpc, frame of the module docstring): ``weights[i, j, k]`` is the relative number of survey
    stars in the bin [x_edges[i], x_edges[i+1]) x [y_edges[j], ...) x [z_edges[k], ...)."""

    x_edges: np.ndarray
    y_edges: np.ndarray
    z_edges: np.ndarray
    weights: np.ndarray

    def __init__(self, x_edges, y_edges, z_edges, weights):
        edges = [np.asarray(e, dtype=float) for e in (x_edges, y_edges, z_edges)]
        for name, e in zip("xyz", edges, strict=True):
            if e.ndim != 1 or len(e) < 2 or not np.all(np.diff(e) > 0):
                raise ValueError(f"BinnedFootprint: {name}_edges must increase (>= 2 values)")
        self.x_edges, self.y_edges, self.z_edges = edges
        self.weights = np.asarray(weights, dtype=float)
        shape = tuple(len(e) - 1 for e in edges)
        if self.weights.shape != shape:
            raise ValueError(f"BinnedFootprint: weights shape {self.weights.shape} != {shape}")
        if not np.all(np.isfinite(self.weights)) or np.any(self.weights < 0):
            raise ValueError("BinnedFootprint: weights must be finite and >= 0")

    @classmethod
    def from_positions(cls, xyz, dxy: float = DXY_KPC, dz: float = DZ_KPC) -> BinnedFootprint:
        """Histogram a catalogue of positions (n, 3) in kpc on (dxy, dxy, dz) bins."""
        xyz = _check_xyz(xyz, "BinnedFootprint.from_positions")
        edges = [
            np.arange(np.floor(xyz[:, i].min() / d) * d, xyz[:, i].max() + 1.5 * d, d)
            for i, d in enumerate((dxy, dxy, dz))
        ]
        h, _ = np.histogramdd(xyz, bins=edges)
        return cls(*edges, h)

    @property
    def edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.x_edges, self.y_edges, self.z_edges

    def bin_of(self, xyz) -> np.ndarray:
        """Flat bin index of each position (-1 outside the grid)."""
        xyz = np.asarray(xyz, dtype=float)
        idx = [np.searchsorted(e, xyz[:, i], side="right") - 1 for i, e in enumerate(self.edges)]
        inside = np.all(
            [(j >= 0) & (j < len(e) - 1) for j, e in zip(idx, self.edges, strict=True)], 0
        )
        clipped = [np.clip(j, 0, len(e) - 2) for j, e in zip(idx, self.edges, strict=True)]
        return np.where(inside, np.ravel_multi_index(clipped, self.weights.shape), -1)

    def select(self, xyz, key, min_count: int = 1) -> np.ndarray:
        """Rejection mask: keep a simulated star in bin b with probability proportional to
        weight(b) / n_sim(b) (normalised as in :func:`select_like`)."""
        xyz = _check_xyz(xyz, "BinnedFootprint.select")
        flat = self.bin_of(xyz)
        inside = flat >= 0
        n_sim = np.bincount(flat[inside], minlength=self.weights.size)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(n_sim > 0, self.weights.ravel() / np.maximum(n_sim, 1), 0.0)
        p = _normalise(ratio, n_sim, min_count)
        return _accept(key, np.where(inside, p[np.maximum(flat, 0)], 0.0))


def load_footprint(path: str | Path) -> BinnedFootprint:
    """A footprint from a file: ``.npz`` with ``x_edges, y_edges, z_edges, weights`` (bin
    weights) or ``xyz`` (positions, kpc); ``.npy`` (n, 3) positions; text/CSV with columns
    x, y, z in kpc (``#`` comments)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"footprint file {path} does not exist")
    if path.suffix == ".npz":
        d = np.load(path)
        if "weights" in d:
            return BinnedFootprint(d["x_edges"], d["y_edges"], d["z_edges"], d["weights"])
        if "xyz" in d:
            return BinnedFootprint.from_positions(d["xyz"])
        raise ValueError(f"{path}: expected keys (x_edges, y_edges, z_edges, weights) or xyz")
    if path.suffix == ".npy":
        return BinnedFootprint.from_positions(np.load(path))
    return BinnedFootprint.from_positions(
        np.loadtxt(path, delimiter="," if path.suffix == ".csv" else None, ndmin=2)[:, :3]
    )


def _galactic_to_icrs_matrix() -> np.ndarray:
    """Rotation taking Galactic unit vectors to ICRS unit vectors (from astropy's frames)."""
    from astropy.coordinates import Galactic, SkyCoord

    basis = np.eye(3)
    c = SkyCoord(
        u=basis[0],
        v=basis[1],
        w=basis[2],
        unit="pc",
        frame=Galactic,
        representation_type="cartesian",
    ).icrs.cartesian
    # row i: the ICRS image of Galactic basis vector i, so icrs_row = gal_row @ matrix
    return np.stack([c.x.value, c.y.value, c.z.value], 1)


@dataclass(frozen=True)
class LamostLikeSelection:
    """Parametric LAMOST-like selection S(x) of the ch4 red-clump sample (module docstring).

    Attributes: ``r0_kpc``, ``z_sun_kpc`` (Sun's position), ``dec_min_deg``, ``dec_max_deg``
    (surveyed declinations), ``abs_mag``, ``abs_mag_sigma`` (tracer M_G), ``g_bright``,
    ``g_faint`` (G-band limits), ``extinction_mag_per_kpc``, ``dust_scale_height_kpc``,
    ``dxy``, ``dz`` (bin sizes, kpc).
    """

    r0_kpc: float = 8.0
    z_sun_kpc: float = 0.0
    dec_min_deg: float = -10.0
    dec_max_deg: float = 60.0
    abs_mag: float = 0.44
    abs_mag_sigma: float = 0.2
    g_bright: float = 9.0
    g_faint: float = 17.0
    extinction_mag_per_kpc: float = 0.7
    dust_scale_height_kpc: float = 0.1
    dxy: float = DXY_KPC
    dz: float = DZ_KPC

    def __post_init__(self):
        for k in ("r0_kpc", "abs_mag_sigma", "dust_scale_height_kpc", "dxy", "dz"):
            if not getattr(self, k) > 0:
                raise ValueError(f"LamostLikeSelection: {k} must be > 0, got {getattr(self, k)}")
        if not self.extinction_mag_per_kpc >= 0:
            raise ValueError("LamostLikeSelection: extinction_mag_per_kpc must be >= 0")
        if not (self.dec_min_deg < self.dec_max_deg and self.g_bright < self.g_faint):
            raise ValueError("LamostLikeSelection: need dec_min < dec_max and g_bright < g_faint")

    def heliocentric(self, xyz) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(d [kpc], l [rad], b [rad]) of Galactocentric positions (n, 3) in kpc."""
        xyz = np.asarray(xyz, dtype=float)
        hx = self.r0_kpc - xyz[:, 0]
        hy = xyz[:, 1]
        hz = xyz[:, 2] - self.z_sun_kpc
        d = np.sqrt(hx * hx + hy * hy + hz * hz)
        return d, np.arctan2(hy, hx), np.arcsin(np.clip(hz / np.maximum(d, 1e-300), -1, 1))

    def declination(self, xyz) -> np.ndarray:
        """ICRS declination [rad] of the direction from the Sun to each position."""
        xyz = np.asarray(xyz, dtype=float)
        hel = np.stack(
            [self.r0_kpc - xyz[:, 0], xyz[:, 1], xyz[:, 2] - self.z_sun_kpc], -1
        )
        n = np.linalg.norm(hel, axis=1, keepdims=True)
        icrs = (hel / np.maximum(n, 1e-300)) @ _galactic_to_icrs_matrix()
        return np.arcsin(np.clip(icrs[:, 2], -1.0, 1.0))

    def extinction(self, d, b) -> np.ndarray:
        """A_G [mag] to distance d [kpc] at latitude b: a0 h (1 - exp(-d |sin b| / h)) / |sin b|
        (a0 d in the plane)."""
        s = np.abs(np.sin(b))
        h = self.dust_scale_height_kpc
        x = d * s / h
        safe = np.where(x > 1e-8, x, 1.0)
        frac = np.where(x > 1e-8, -np.expm1(-safe) / safe, 1.0 - 0.5 * x)
        return self.extinction_mag_per_kpc * d * frac

    def probability(self, xyz) -> np.ndarray:
        """S(x) in [0, 1]: in the surveyed sky, times the fraction of tracers with
        g_bright < G < g_faint at that distance and extinction."""
        d, _, b = self.heliocentric(xyz)
        dec = np.rad2deg(self.declination(xyz))
        mu = 5.0 * np.log10(np.maximum(d, 1e-6) * 100.0)  # distance modulus, d in kpc
        g0 = self.abs_mag + mu + self.extinction(d, b)  # mean apparent G of the tracer
        s = self.abs_mag_sigma
        frac = ndtr((self.g_faint - g0) / s) - ndtr((self.g_bright - g0) / s)
        sky = (dec >= self.dec_min_deg) & (dec <= self.dec_max_deg)
        return np.where(sky, frac, 0.0)

    def bin_probability(self, ijk: np.ndarray, origin: np.ndarray) -> np.ndarray:
        """Mean of S over bins (i, j, k) of the (dxy, dxy, dz) grid starting at ``origin``
        (2 x 2 x 2 Gauss-Legendre points per bin)."""
        step = np.array([self.dxy, self.dxy, self.dz])
        g = 0.5 - 0.5 / np.sqrt(3.0), 0.5 + 0.5 / np.sqrt(3.0)
        offs = np.array([[a, b, c] for a in g for b in g for c in g])  # (8, 3) in bin units
        pts = origin + (ijk[:, None, :] + offs[None]) * step  # (n_bins, 8, 3)
        return self.probability(pts.reshape(-1, 3)).reshape(len(ijk), 8).mean(1)

    def select(self, xyz, key) -> np.ndarray:
        """Rejection mask "observing" simulated positions (n, 3) [kpc]: keep a star in bin b with
        probability S_b / max_b S_b over the occupied bins."""
        xyz = _check_xyz(xyz, "LamostLikeSelection.select")
        step = np.array([self.dxy, self.dxy, self.dz])
        origin = np.zeros(3)  # bin edges on multiples of the step
        ijk = _bin_index(xyz, origin, step)
        u, first, inv = np.unique(_flat(ijk), return_index=True, return_inverse=True)
        p = self.bin_probability(ijk[first], origin)
        if not np.any(p > 0):
            return np.zeros(len(xyz), dtype=bool)
        return _accept(key, (p / p.max())[inv])


def selection_mask(selection, xyz, key) -> np.ndarray:
    """Dispatch: ``"none"``, ``"lamost"`` (default :class:`LamostLikeSelection`), a
    :class:`LamostLikeSelection`, a :class:`BinnedFootprint`, or an (m, 3) array of survey
    positions [kpc] (:func:`select_like`)."""
    if isinstance(selection, str):
        if selection == "none":
            return np.ones(len(xyz), dtype=bool)
        if selection == "lamost":
            return LamostLikeSelection().select(xyz, key)
        raise ValueError(
            f"unknown selection {selection!r} (none | lamost | LamostLikeSelection | "
            "BinnedFootprint | (n, 3) array of survey positions in kpc)"
        )
    if isinstance(selection, (LamostLikeSelection, BinnedFootprint)):
        return selection.select(xyz, key)
    return select_like(xyz, selection, key)
