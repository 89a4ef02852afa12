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


def run_chunks(cfg: BarSimConfig, outdir: str | Path, progress: bool = True) -> list[Path]:
    """Sample, integrate and save every chunk not yet on disk; returns the chunk files."""
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
    opts = OrbitOptions(rtol=cfg.rtol, atol=cfg.rtol)
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
    """A stand-in for the LAMOST footprint (x, y, z in kpc, Sun at (-8, 0, 0)... here (8, 0, 0)):
    stars within 4 kpc of the Sun towards the Galactic anticentre hemisphere (the survey's
    dominant direction), exponential in heliocentric distance (scale 1.5 kpc), |z| ~ Laplace(0.3).
    Replace by the real LAMOST positions for the thesis figure."""
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


def analyse(outdir: str | Path, cfg: BarSimConfig, selection: str = "none") -> dict:
    """Stack snapshots, select, cut, compute actions and the binned <[Fe/H]>(J_phi | J_R)."""
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
    keep = np.abs(xyz[:, 2]) < 1.0
    if selection == "lamost-mock":
        ref = lamost_mock_footprint(len(w), jax.random.key(cfg.seed + 1))
        keep &= select_like(xyz, ref, jax.random.key(cfg.seed + 2))
    elif selection != "none":
        raise ValueError(f"unknown selection {selection!r} (none | lamost-mock)")
    w, feh = w[keep], feh[keep]
    mw, _, omegab = _potential(cfg)
    cyl = np.asarray(cart_to_cyl(jnp.asarray(w)))
    acts = actions_staeckel(mw, cyl[:, :5], 0.45)
    jr = np.asarray(acts.jr) * U.ACTION_KPC_KMS
    jphi = np.asarray(acts.jphi) * U.ACTION_KPC_KMS
    jz = np.asarray(acts.jz) * U.ACTION_KPC_KMS
    ok = (np.asarray(acts.flag) == 0) & (jz < 10.0)
    jr, jphi, feh = jr[ok], jphi[ok], feh[ok]
    edges = np.asarray(JPHI_EDGES_KPC_KMS)
    centres = 0.5 * (edges[1:] + edges[:-1])
    profiles = []
    for a, b in zip(JR_EDGES_KPC_KMS[:-1], JR_EDGES_KPC_KMS[1:], strict=True):
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
