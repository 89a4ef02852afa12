"""Resonance loci (reference: galpy lindbladR radii of circular orbits, galpy_definitions.md:
CR 5.775, OLR 9.248, outer 4:1 7.580 kpc for Omega_b = 39 km/s/kpc) and the ch4 pipeline CLI.
Compile-heavy (minutes on a loaded 2-core machine), hence slow."""

from __future__ import annotations

import json

import jax.numpy as jnp
import numpy as np
import pytest

from jaxstro.dynamics import MWPotential2014


@pytest.mark.slow
def test_circular_resonance_radii():
    from jaxstro.dynamics._resonances import _rg, resonance_line

    mw = MWPotential2014()
    for ml, ref_kpc in [((2, 0), 5.7746), ((2, -1), 9.2479), ((4, -1), 7.5796)]:
        lz, jr = resonance_line(mw, 39 / 27.5, *ml, jnp.array([0.0, 0.1]))
        # galpy's radii are quoted to 4-5 digits; the circular-orbit condition is exact here
        np.testing.assert_allclose(float(_rg(mw, lz[0])) * 8, ref_kpc, rtol=2e-4)
        assert float(jr[0]) < 1e-8 and float(jr[1]) > 0 and float(lz[1]) < float(lz[0])


class _Killed(Exception):
    pass


@pytest.mark.slow
def test_bar_sim_kill_resume_cli(tmp_path):
    """Checkpoint/resume: a run killed after its first chunk (exception from the after-chunk
    hook, plus a half-written temporary file left behind) is resumed by the CLI and gives chunk
    files identical to an uninterrupted run (chunk i depends only on fold_in(key, i)); a rerun
    skips every chunk. The benchmark script does the same with a SIGKILLed subprocess."""
    from jaxstro.cli import main
    from jaxstro.dynamics import BarSimConfig, analyse, run_chunks

    cfg = BarSimConfig(
        pattern_speed=39.0, n_particles=20, chunk_size=10, n_periods=1.0, snapshots=(0.5, 1.0)
    )
    killed = tmp_path / "killed" / "omegab_39"

    def die(i, path):
        raise _Killed

    with pytest.raises(_Killed):
        run_chunks(cfg, killed, progress=False, devices=4, after_chunk=die)
    assert [f.name for f in killed.glob("chunk_*.npz")] == ["chunk_00000.npz"]
    (killed / "chunk_00001.tmp.npz").write_bytes(b"half-written")
    args = ["dynamics", "bar-sim", "--pattern-speeds", "39", "--n-particles", "20",
            "--chunk-size", "10", "--n-periods", "1", "--snapshots", "0.5", "1", "--quiet",
            "--devices", "4"]  # fmt: skip
    assert main([*args, "-o", str(tmp_path / "killed")]) == 0
    assert main([*args, "-o", str(tmp_path / "full")]) == 0
    files = sorted(killed.glob("chunk_?????.npz"))
    assert len(files) == 2
    for f in files:
        a, b = np.load(f), np.load(tmp_path / "full" / "omegab_39" / f.name)
        assert set(a.files) == {"w0", "snapshots", "feh", "jr", "jphi", "jz", "flag"}
        for k in a.files:
            np.testing.assert_array_equal(a[k], b[k])
    mtimes = [f.stat().st_mtime_ns for f in files]
    assert main([*args, "-o", str(tmp_path / "killed")]) == 0  # nothing left to do
    assert [f.stat().st_mtime_ns for f in files] == mtimes
    prof = json.loads((killed / "profiles.json").read_text())
    assert prof["n_stars"] > 0 and set(prof["resonances"]) == {"CR", "OLR", "1:1", "1:4"}
    assert (tmp_path / "killed" / "bar_resonances.png").exists()
    # a different configuration in the same directory is refused, not mixed in
    with pytest.raises(ValueError, match="different configuration"):
        run_chunks(BarSimConfig(pattern_speed=39.0, n_particles=30, chunk_size=10,
                                n_periods=1.0, snapshots=(0.5, 1.0)), killed, progress=False)
    res = analyse(killed, cfg, selection="lamost")
    assert res["n_selected"] <= 40 and res["n_stars"] <= res["n_selected"]


def test_bar_sim_config_validation():
    from jaxstro.dynamics import BarSimConfig

    for bad in [
        dict(pattern_speed=0.0),
        dict(pattern_speed=float("nan")),
        dict(n_particles=0),
        dict(chunk_size=0),
        dict(snapshots=(30.0, 20.0)),
        dict(snapshots=(60.0,)),
        dict(rmin=2.0, rmax=1.0),
        dict(rtol=0.0),
    ]:
        with pytest.raises(ValueError, match="BarSimConfig"):
            BarSimConfig(**bad)
