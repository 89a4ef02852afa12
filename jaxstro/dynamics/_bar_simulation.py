"""The thesis ch4 test-particle pipeline: bar resonances in mean [Fe/H] versus J_phi.

1. sample a quasi-isothermal disc (Binney & McMillan 2011) in MWPotential2014;
2. grow a Dehnen bar (m = 2, alpha 0.01, plus m = 4, alpha -0.0005; Hunt & Bovy 2018) from t = 0
   over 2 bar periods and integrate for ``n_periods`` bar periods (50 in the thesis);
3. keep snapshots at ``snapshots`` bar periods (20, 30, 40, 50) and stack them;
4. assign [Fe/H] = -0.09 (R/kpc - 6) + 0.2 - 0.21 |z|/kpc + N(0, 0.1) from the initial positions;
5. optionally apply a spatial selection by rejection sampling in (x, y, z) bins
   (0.5 kpc in x, y; 0.1 kpc in z) against a reference footprint;
6. cut J_z < 10 kpc km/s and |z| < 1 kpc, compute axisymmetric Staeckel actions in MWPotential2014;
7. mean [Fe/H] versus J_phi in J_R bins, with the axisymmetric resonance lines.

Work is chunked over particles: chunk i draws its particles with ``fold_in(key, i)`` and writes
``chunk_{i:05d}.npz``; chunks already on disk are skipped, so a killed run resumes exactly.
Units: natural inside; the saved analysis tables are in kpc, km/s and kpc km/s.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._config import require_x64
from . import _units as U
from ._actions import actions_staeckel
from ._df import QuasiIsothermalDF, SampleWindow, sample_qdf
from ._orbits import OrbitOptions, cart_to_cyl, cyl_to_cart, integrate_orbits
from .potentials import MWPotential2014, hunt_bovy_bar

JR_EDGES_KPC_KMS = (0.0, 15.0, 30.0, 60.0, 100.0, 160.0)
JPHI_EDGES_KPC_KMS = tuple(np.arange(1000.0, 3000.0 + 1e-9, 50.0))


@dataclass(frozen=True)
class BarSimConfig:
    """Settings of one simulation (pattern speed in km/s/kpc)."""

    pattern_speed: float = 39.0
    n_particles: int = 10_000
    chunk_size: int = 5_000
    n_periods: float = 50.0
    snapshots: tuple[float, ...] = (20.0, 30.0, 40.0, 50.0)
    alpha2: float = 0.01
    alpha4: float = -0.0005
    seed: int = 0
    rtol: float = 1e-8
    rmin: float = 0.3
    rmax: float = 2.0
    zmax: float = 0.5
    qdf: tuple[float, float, float, float, float] = (1.0 / 3.0, 0.2, 0.1, 1.0, 1.0)
    extra: dict = field(default_factory=dict)


def feh_gradient(R_kpc, z_kpc, key) -> np.ndarray:
    """Thesis eq. (4.3): [Fe/H] = -0.09 (R/kpc - 6) + 0.2 - 0.21 |z|/kpc + N(0, 0.1)."""
    eps = 0.1 * jax.random.normal(key, np.shape(R_kpc))
    return np.asarray(-0.09 * (R_kpc - 6.0) + 0.2 - 0.21 * np.abs(z_kpc) + eps)


def _potential(cfg: BarSimConfig):
    omegab = cfg.pattern_speed / U.FREQ_KMS_KPC
    mw = MWPotential2014()
    bar = hunt_bovy_bar(
        omegab, alpha2=cfg.alpha2, alpha4=cfg.alpha4, potential=mw, tform=0.0, tsteady=2.0
    )
    return mw, mw + bar, omegab


def run_chunks(
    cfg: BarSimConfig, outdir: str | Path, progress: bool = True, devices: int | None = None
) -> list[Path]:
    """Sample, integrate and save every chunk not yet on disk; returns the chunk files.

    Each chunk's orbits are sharded over ``devices`` devices (``None``: every accelerator, one
    device on a CPU backend; see :class:`OrbitOptions`). A chunk is written to a temporary file
    and renamed, so a killed run leaves only complete chunks and resumes where it stopped; the
    result does not depend on the device layout beyond the integration tolerance."""
    require_x64("jaxstro.dynamics bar simulation")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    meta = outdir / "config.json"
    cfg_dict = asdict(cfg)
    if meta.exists() and json.loads(meta.read_text()) != json.loads(json.dumps(cfg_dict)):
        raise ValueError(f"{outdir} holds a run with a different configuration ({meta})")
    meta.write_text(json.dumps(cfg_dict, indent=1))
    mw, pot, omegab = _potential(cfg)
    period = 2 * np.pi / omegab
    ts = np.concatenate([[0.0], np.asarray(cfg.snapshots) * period])
    if np.any(np.diff(ts) <= 0) or max(cfg.snapshots) > cfg.n_periods:
        raise ValueError(f"snapshots {cfg.snapshots} must increase and be <= n_periods")
    df = QuasiIsothermalDF(mw, *cfg.qdf)
    window = SampleWindow(cfg.rmin, cfg.rmax, cfg.zmax)
    n_chunks = -(-cfg.n_particles // cfg.chunk_size)
    key = jax.random.key(cfg.seed)
    files = []
    it = range(n_chunks)
    if progress:
        from tqdm import tqdm

        it = tqdm(it, desc=f"bar-sim {cfg.pattern_speed} km/s/kpc")
    opts = OrbitOptions(rtol=cfg.rtol, atol=cfg.rtol, devices=devices)
    for i in it:
        path = outdir / f"chunk_{i:05d}.npz"
        files.append(path)
        if path.exists():
            continue
        n = min(cfg.chunk_size, cfg.n_particles - i * cfg.chunk_size)
        k_sample, k_feh = jax.random.split(jax.random.fold_in(key, i))
        w0 = sample_qdf(df, k_sample, n, window)
        orbits = integrate_orbits(pot, cyl_to_cart(w0), ts, options=opts)
        feh = feh_gradient(np.asarray(w0[:, 0]) * U.RO_KPC, np.asarray(w0[:, 3]) * U.RO_KPC, k_feh)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, w0=np.asarray(w0), snapshots=np.asarray(orbits[:, 1:]), feh=feh)
        tmp.rename(path)
    return files


def lamost_mock_footprint(n: int, key) -> np.ndarray:
    """A documented stand-in for the LAMOST footprint (x, y, z in kpc; the Sun at (8, 0, 0) in the
    simulation frame): stars within 4 kpc of the Sun towards the Galactic anticentre hemisphere
    (the survey's dominant direction), exponential in heliocentric distance (scale 1.5 kpc),
    |z| ~ Laplace(0.3 kpc). No LAMOST position catalogue is available offline; for the thesis
    figure pass the real positions (``analyse(selection=xyz)``) or bin weights
    (:class:`BinnedFootprint`, :func:`load_footprint`, CLI ``--selection PATH``)."""
    k1, k2, k3 = jax.random.split(key, 3)
    d = np.asarray(jax.random.exponential(k1, (4 * n,))) * 1.5
    ang = np.asarray(jax.random.uniform(k2, (4 * n,), minval=-np.pi / 2, maxval=np.pi / 2))
    z = np.asarray(jax.random.laplace(k3, (4 * n,))) * 0.3
    keep = (d < 4.0) & (np.abs(z) < 1.0)
    x = 8.0 + d * np.cos(ang)
    y = d * np.sin(ang)
    return np.column_stack([x, y, z])[keep][:n]


def select_like(xyz: np.ndarray, reference: np.ndarray, key, dxy: float = 0.5, dz: float = 0.1):
    """Boolean mask selecting ``xyz`` (kpc) by rejection so that their distribution over
    (x, y, z) bins (dxy, dxy, dz) follows ``reference``'s: acceptance per bin is
    (n_ref/n_sim) / max over bins (bins without reference stars are rejected)."""
    lo = np.minimum(xyz.min(0), reference.min(0))
    step = np.array([dxy, dxy, dz])

    def idx(p):
        i = np.floor((p - lo) / step).astype(np.int64)
        return (i[:, 0] * 100_000 + i[:, 1]) * 100_000 + i[:, 2]

    isim, iref = idx(xyz), idx(reference)
    u_sim, inv, c_sim = np.unique(isim, return_inverse=True, return_counts=True)
    u_ref, c_ref = np.unique(iref, return_counts=True)
    ref_map = dict(zip(u_ref.tolist(), c_ref.tolist(), strict=True))
    ratio = np.array([ref_map.get(u, 0) for u in u_sim.tolist()]) / c_sim
    p = ratio / ratio.max()
    return np.asarray(jax.random.uniform(key, (len(xyz),))) < p[inv]


class BinnedFootprint(eqx.Module):
    """A selection footprint given as weights on a regular (x, y, z) grid (kpc, Galactocentric
    frame of the simulation, Sun at (8, 0, 0) kpc): ``weights[i, j, k]`` is the relative number
    of survey stars in the bin [x_edges[i], x_edges[i+1]) x ... (e.g. a histogram of a survey's
    positions with 0.5, 0.5, 0.1 kpc bins, as in the thesis)."""

    x_edges: np.ndarray
    y_edges: np.ndarray
    z_edges: np.ndarray
    weights: np.ndarray

    def __init__(self, x_edges, y_edges, z_edges, weights):
        self.x_edges, self.y_edges, self.z_edges = (
            np.asarray(e, dtype=float) for e in (x_edges, y_edges, z_edges)
        )
        self.weights = np.asarray(weights, dtype=float)
        shape = tuple(len(e) - 1 for e in (self.x_edges, self.y_edges, self.z_edges))
        if self.weights.shape != shape:
            raise ValueError(f"BinnedFootprint: weights shape {self.weights.shape} != {shape}")
        if not np.all(np.isfinite(self.weights)) or np.any(self.weights < 0):
            raise ValueError("BinnedFootprint: weights must be finite and >= 0")

    @classmethod
    def from_positions(cls, xyz, dxy: float = 0.5, dz: float = 0.1) -> BinnedFootprint:
        """Histogram a catalogue of positions (n, 3) in kpc on (dxy, dxy, dz) bins."""
        xyz = np.asarray(xyz, dtype=float)
        if xyz.ndim != 2 or xyz.shape[1] != 3 or not np.all(np.isfinite(xyz)):
            raise ValueError(f"BinnedFootprint: positions must be finite (n, 3), got {xyz.shape}")
        edges = [
            np.arange(np.floor(xyz[:, i].min() / d) * d, xyz[:, i].max() + d, d)
            for i, d in enumerate((dxy, dxy, dz))
        ]
        h, _ = np.histogramdd(xyz, bins=edges)
        return cls(*edges, h)

    def select(self, xyz, key) -> np.ndarray:
        """Rejection mask: accept a simulated star in bin b with probability proportional to
        weight(b) / n_sim(b), so the kept stars follow the footprint's (x, y, z) distribution."""
        xyz = np.asarray(xyz)
        idx = [
            np.searchsorted(e, xyz[:, i], side="right") - 1
            for i, e in enumerate((self.x_edges, self.y_edges, self.z_edges))
        ]
        inside = np.all(
            [
                (j >= 0) & (j < len(e) - 1)
                for j, e in zip(idx, (self.x_edges, self.y_edges, self.z_edges), strict=True)
            ],
            0,
        )
        flat = np.where(
            inside,
            np.ravel_multi_index(
                [
                    np.clip(j, 0, len(e) - 2)
                    for j, e in zip(idx, (self.x_edges, self.y_edges, self.z_edges), strict=True)
                ],
                self.weights.shape,
            ),
            -1,
        )
        n_sim = np.bincount(flat[inside], minlength=self.weights.size)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(n_sim > 0, self.weights.ravel() / n_sim, 0.0)
        if not np.any(ratio > 0):
            return np.zeros(len(xyz), dtype=bool)
        p = np.where(inside, ratio[np.maximum(flat, 0)] / ratio.max(), 0.0)
        return np.asarray(jax.random.uniform(key, (len(xyz),))) < p


def _selection_mask(selection, xyz, cfg) -> np.ndarray:
    if isinstance(selection, str):
        if selection == "none":
            return np.ones(len(xyz), dtype=bool)
        if selection == "lamost-mock":
            ref = lamost_mock_footprint(len(xyz), jax.random.key(cfg.seed + 1))
            return select_like(xyz, ref, jax.random.key(cfg.seed + 2))
        raise ValueError(
            f"unknown selection {selection!r} (none | lamost-mock | BinnedFootprint | (n, 3) "
            "array of survey positions in kpc)"
        )
    if isinstance(selection, BinnedFootprint):
        return selection.select(xyz, jax.random.key(cfg.seed + 2))
    ref = np.asarray(selection, dtype=float)
    if ref.ndim != 2 or ref.shape[1] != 3:
        raise ValueError(f"selection positions must have shape (n, 3) in kpc, got {ref.shape}")
    return select_like(xyz, ref, jax.random.key(cfg.seed + 2))


def load_footprint(path: str | Path) -> BinnedFootprint:
    """A footprint from a file: ``.npz`` with ``x_edges, y_edges, z_edges, weights`` (bin
    weights) or ``xyz`` (positions, kpc); ``.npy`` (n, 3) positions; text/CSV with columns
    x, y, z in kpc (``#`` comments)."""
    path = Path(path)
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


def analyse(
    outdir: str | Path,
    cfg: BarSimConfig,
    selection: str | BinnedFootprint | np.ndarray = "none",
    *,
    jphi_edges=JPHI_EDGES_KPC_KMS,
    jr_edges=JR_EDGES_KPC_KMS,
) -> dict:
    """Stack snapshots, select, cut, compute actions and the binned <[Fe/H]>(J_phi | J_R).

    ``selection``: ``"none"``; ``"lamost-mock"`` (:func:`lamost_mock_footprint`, a documented
    stand-in: no LAMOST position catalogue is available here); a :class:`BinnedFootprint`
    (user-supplied (x, y, z) bin weights, see :func:`load_footprint`); or an (n, 3) array of
    survey positions in kpc. Edges in kpc km/s.
    """
    outdir = Path(outdir)
    files = sorted(outdir.glob("chunk_*.npz"))
    if not files:
        raise ValueError(f"no chunk files in {outdir}; run the simulation first")
    data = [np.load(f) for f in files]
    snaps = np.concatenate([d["snapshots"] for d in data])  # (n, n_snap, 6) Cartesian
    feh = np.concatenate([d["feh"] for d in data])
    n, n_snap, _ = snaps.shape
    w = snaps.reshape(-1, 6)
    feh = np.repeat(feh, n_snap)
    xyz = w[:, :3] * U.RO_KPC
    keep = (np.abs(xyz[:, 2]) < 1.0) & _selection_mask(selection, xyz, cfg)
    w, feh = w[keep], feh[keep]
    mw, _, omegab = _potential(cfg)
    cyl = np.asarray(cart_to_cyl(jnp.asarray(w)))
    acts = actions_staeckel(mw, cyl[:, :5], 0.45)
    jr = np.asarray(acts.jr) * U.ACTION_KPC_KMS
    jphi = np.asarray(acts.jphi) * U.ACTION_KPC_KMS
    jz = np.asarray(acts.jz) * U.ACTION_KPC_KMS
    ok = (np.asarray(acts.flag) == 0) & (jz < 10.0)
    jr, jphi, feh = jr[ok], jphi[ok], feh[ok]
    edges = np.asarray(jphi_edges, dtype=float)
    centres = 0.5 * (edges[1:] + edges[:-1])
    profiles = []
    for a, b in zip(jr_edges[:-1], jr_edges[1:], strict=True):
        s = (jr >= a) & (jr < b)
        cnt, _ = np.histogram(jphi[s], edges)
        tot, _ = np.histogram(jphi[s], edges, weights=feh[s])
        tot2, _ = np.histogram(jphi[s], edges, weights=feh[s] ** 2)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = tot / cnt
            sem = np.sqrt(np.maximum(tot2 / cnt - mean**2, 0.0) / cnt)
        profiles.append({"jr_range": [a, b], "count": cnt, "mean_feh": mean, "sem": sem})
    from ._resonances import resonance_lines

    lines = {
        k: (np.asarray(v[0]) * U.ACTION_KPC_KMS, np.asarray(v[1]) * U.ACTION_KPC_KMS)
        for k, v in resonance_lines(mw, omegab, vr=jnp.linspace(0.0, 0.25, 8)).items()
    }
    return {
        "jphi_centres": centres,
        "profiles": profiles,
        "resonances": lines,
        "n_stars": int(ok.sum()),
        "pattern_speed": cfg.pattern_speed,
    }


def plot_profiles(results: list[dict], path: str | Path) -> Path:
    """The ch4 figure: mean [Fe/H] vs J_phi in J_R bins, one panel per pattern speed, with the
    J_phi range of each resonance line (J_R < 160 kpc km/s) shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        1, len(results), figsize=(5 * len(results), 4), squeeze=False, sharey=True
    )
    colors = {"CR": "C0", "OLR": "C1", "1:1": "C2", "1:4": "C3"}
    for ax, res in zip(axes[0], results, strict=True):
        for name, (jphi, jr) in res["resonances"].items():
            sel = jr < 160
            if np.any(sel):
                ax.axvspan(
                    jphi[sel].min(), jphi[sel].max(), color=colors[name], alpha=0.2, label=name
                )
        for prof in res["profiles"]:
            a, b = prof["jr_range"]
            ax.errorbar(
                res["jphi_centres"],
                prof["mean_feh"],
                prof["sem"],
                ms=2,
                marker="o",
                lw=1,
                label=f"{a:g} <= J_R < {b:g}",
            )
        ax.set_title(f"Omega_b = {res['pattern_speed']} km/s/kpc")
        ax.set_xlabel("J_phi [kpc km/s]")
    axes[0][0].set_ylabel("<[Fe/H]>")
    axes[0][0].legend(fontsize=6)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
