"""`jaxstro demo --quick` runs end to end and writes its summary and figures."""

import json

import pytest

from jaxstro.cli import main


@pytest.mark.needs_data
def test_demo_quick(tmp_path, capsys):
    assert main(["demo", "--quick", "-o", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert set(summary) >= {"fit", "spectra", "synth", "cannon", "disentangle"}
    post = summary["fit"]["posterior"]
    assert set(post) == {"TEFF", "LOGG", "PARAM_M_H"} and all(v["sd"] > 0 for v in post.values())
    assert (tmp_path / "fit_posterior.nc").exists() and (tmp_path / "fit_corner.png").exists()
    # the solar continuum agrees with Turbospectrum at 5000 Å to 2 %
    assert abs(summary["synth"]["continuum_5000A_air"] / 1.0398e7 - 1) < 0.02
    # the normalised LAMOST spectrum sits at the continuum (median within 2 %)
    assert abs(summary["spectra"]["median_normalised_flux"] - 1) < 0.02
    # The Cannon on 100 APOGEE pixels recovers Teff to better than 300 K on held-out giants
    assert summary["cannon"]["scatter"]["TEFF"] < 300
    assert (tmp_path / "lamost_normalised.png").stat().st_size > 10_000
    assert (tmp_path / "cannon_one_to_one.png").exists()
