"""The thesis ch4 test-particle pipeline: bar resonances in mean [Fe/H] versus J_phi.

1. sample a quasi-isothermal disc (Binney & McMillan 2011) in MWPotential2014;
2. grow a Dehnen bar (m = 2, alpha 0.01, plus m = 4, alpha -0.0005; Hunt & Bovy 2018) from t = 0
   over 2 bar periods and integrate for ``n_periods`` bar periods (50 in the thesis);
3. keep snapshots at ``snapshots`` bar periods (20, 30, 40, 50) and stack them;
4. assign [Fe/H] = -0.09 (R/kpc - 6) + 0.2 - 0.21 |z|/kpc + N(0, 0.1) from the initial positions;
5. compute axisymmetric Staeckel actions (MWPotential2014, focal distance 0.45) of every
   star-snapshot;
6. optionally apply a spatial selection by rejection sampling in (x, y, z) bins
   (0.5 kpc in x, y; 0.1 kpc in z; ``_selection``: a survey catalogue or the parametric
   LAMOST-like selection), then cut J_z < 10 kpc km/s and |z| < 1 kpc;
7. mean [Fe/H] versus J_phi in J_R bins, with the axisymmetric resonance lines.

Steps 1-5 are chunked over particles (``run_chunks``; the orbits of a chunk are sharded over the
devices): chunk i draws its particles with ``fold_in(key, i)`` and writes ``chunk_{i:05d}.npz``
(written to a temporary file, then renamed), and chunks already on disk are skipped, so a killed run
resumes where it stopped and gives the same files as an uninterrupted run. Steps 6-7
(``analyse``) only read the chunks. Units: natural inside; the saved analysis tables are in kpc,
km/s and kpc km/s.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from .._config import require_x64
from . import _units as U
from ._actions import actions_staeckel
from ._df import QuasiIsothermalDF, SampleWindow, sample_qdf
from ._orbits import OrbitOptions, cart_to_cyl, cyl_to_cart, integrate_orbits
from ._selection import BinnedFootprint, LamostLikeSelection, selection_mask
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

    def __post_init__(self):
        if not (np.isfinite(self.pattern_speed) and self.pattern_speed > 0):
            raise ValueError(f"BarSimConfig: pattern_speed must be > 0, got {self.pattern_speed}")
        if self.n_particles < 1 or self.chunk_size < 1:
            raise ValueError(
                f"BarSimConfig: n_particles ({self.n_particles}) and chunk_size "
                f"({self.chunk_size}) must be >= 1"
            )
        if not self.n_periods > 0 or not self.rtol > 0:
            raise ValueError("BarSimConfig: n_periods and rtol must be > 0")
        snaps = np.asarray(self.snapshots, dtype=float)
        if snaps.size == 0 or np.any(np.diff(snaps) <= 0) or snaps[0] <= 0:
            raise ValueError(f"BarSimConfig: snapshots {self.snapshots} must be > 0 and increase")
        if snaps[-1] > self.n_periods:
            raise ValueError(f"BarSimConfig: snapshots {self.snapshots} exceed n_periods")
        if not 0 < self.rmin < self.rmax or not self.zmax > 0:
            raise ValueError("BarSimConfig: need 0 < rmin < rmax and zmax > 0")


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
    cfg: BarSimConfig,
    outdir: str | Path,
    progress: bool = True,
    devices: int | None = None,
    after_chunk=None,
) -> list[Path]:
    """Sample, integrate and save every chunk not yet on disk; returns the chunk files.

    Each chunk's orbits are sharded over ``devices`` devices (``None``: every accelerator, one
    device on a CPU backend; see :class:`OrbitOptions`). A chunk is written to a temporary file
    and renamed, so a killed run leaves only complete chunks and resumes where it stopped; the
    result does not depend on the device layout beyond the integration tolerance.
    ``after_chunk(i, path)`` is called after chunk i is on disk (progress hooks, tests)."""
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
        # proposal batch ~4n (1024..8192): small chunks do not pay for 8192 DF evaluations
        batch = int(min(8192, max(1024, 2 ** int(np.ceil(np.log2(4 * n))))))
        w0 = sample_qdf(df, k_sample, n, window, batch=batch)
        orbits = integrate_orbits(pot, cyl_to_cart(w0), ts, options=opts)
        feh = feh_gradient(np.asarray(w0[:, 0]) * U.RO_KPC, np.asarray(w0[:, 3]) * U.RO_KPC, k_feh)
        snaps = np.asarray(orbits[:, 1:])  # (n, n_snap, 6) inertial Cartesian
        acts = snapshot_actions(mw, snaps)
        tmp = path.with_name(path.stem + ".tmp.npz")
        np.savez(tmp, w0=np.asarray(w0), snapshots=snaps, feh=feh, **acts)
        tmp.replace(path)
        if after_chunk is not None:
            after_chunk(i, path)
    return files


def snapshot_actions(mw, snaps: np.ndarray) -> dict[str, np.ndarray]:
    """Staeckel actions (kpc km/s) of Cartesian snapshots (..., 6) in the axisymmetric potential;
    ``flag`` as :func:`actions_staeckel` (a failed orbit integration, NaN rows, has flag 2)."""
    shape = snaps.shape[:-1]
    cyl = np.asarray(cart_to_cyl(jnp.asarray(snaps.reshape(-1, 6))))
    a = actions_staeckel(mw, cyl[:, :5], 0.45)
    out = {k: np.asarray(getattr(a, k)).reshape(shape) * U.ACTION_KPC_KMS
           for k in ("jr", "jphi", "jz")}
    out["flag"] = np.asarray(a.flag).reshape(shape)
    return out


def analyse(
    outdir: str | Path,
    cfg: BarSimConfig,
    selection: str | LamostLikeSelection | BinnedFootprint | np.ndarray = "none",
    *,
    jphi_edges=JPHI_EDGES_KPC_KMS,
    jr_edges=JR_EDGES_KPC_KMS,
) -> dict:
    """Stack the snapshots of every chunk, select, cut and bin <[Fe/H]>(J_phi | J_R).

    ``selection``: ``"none"``; ``"lamost"`` (the parametric :class:`LamostLikeSelection`); a
    :class:`LamostLikeSelection` or :class:`BinnedFootprint`; or an (n, 3) array of survey
    positions in kpc. Cuts: |z| < 1 kpc, J_z < 10 kpc km/s, actions flag 0. Edges in kpc km/s.
    Returns the profiles, the resonance lines, ``n_stars`` (star-snapshots kept) and
    ``n_selected`` (kept by the selection alone)."""
    outdir = Path(outdir)
    files = sorted(outdir.glob("chunk_*.npz"))
    files = [f for f in files if ".tmp" not in f.name]
    if not files:
        raise ValueError(f"no chunk files in {outdir}; run the simulation first")
    data = [np.load(f) for f in files]
    snaps = np.concatenate([d["snapshots"] for d in data])  # (n, n_snap, 6) Cartesian
    n, n_snap, _ = snaps.shape
    feh = np.repeat(np.concatenate([d["feh"] for d in data]), n_snap)
    acts = {k: np.concatenate([d[k] for d in data]).ravel() for k in ("jr", "jphi", "jz", "flag")}
    w = snaps.reshape(-1, 6)
    finite = np.all(np.isfinite(w), 1)
    xyz = np.where(finite[:, None], w[:, :3], 0.0) * U.RO_KPC
    sel = finite & selection_mask(selection, xyz, jax.random.key(cfg.seed + 2))
    keep = sel & (np.abs(xyz[:, 2]) < 1.0) & (acts["flag"] == 0)
    keep &= np.where(keep, acts["jz"], np.inf) < 10.0
    jr, jphi, feh = acts["jr"][keep], acts["jphi"][keep], feh[keep]
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

    mw, _, omegab = _potential(cfg)
    lines = {
        k: (np.asarray(v[0]) * U.ACTION_KPC_KMS, np.asarray(v[1]) * U.ACTION_KPC_KMS)
        for k, v in resonance_lines(mw, omegab, vr=jnp.linspace(0.0, 0.25, 8)).items()
    }
    return {
        "jphi_centres": centres,
        "profiles": profiles,
        "resonances": lines,
        "n_stars": int(keep.sum()),
        "n_selected": int(sel.sum()),
        "n_failed_orbits": int((~finite).sum()),
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
