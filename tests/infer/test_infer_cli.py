"""``jaxstro fit``: Cannon-label fit of a synthetic star end to end (files written and readable),
and bad input answered with exit code 2."""

import jax.numpy as jnp
import numpy as np
import pytest
from astropy.table import Table

from jaxstro.cannon import save_model
from jaxstro.cli import main


def _write_star(tmp_path, cannon, n_pix=None):
    r = np.random.default_rng(11)
    flux = np.asarray(cannon.predict(jnp.array([5100.0, 3.2])))
    flux = flux + r.normal(size=flux.size) / 150.0
    sigma = np.full(flux.size, 1 / 150.0)
    sigma[:3] = np.inf  # masked pixels
    t = Table({"flux": flux[:n_pix], "sigma": sigma[:n_pix]})
    path = tmp_path / "star.ecsv"
    t.write(path, overwrite=True)
    return path


def test_fit_cli_cannon(tmp_path, tiny_cannon, capsys):
    import arviz as az

    model_path = save_model(tmp_path / "tiny.cannon", tiny_cannon)
    spec = _write_star(tmp_path, tiny_cannon)
    out = tmp_path / "fit"
    rc = main(["fit", str(spec), "--cannon", str(model_path), "--out", str(out), "--warmup", "60",
               "--samples", "60", "--chains", "2", "--map-steps", "150"])
    assert rc == 0
    summary = Table.read(out / "summary.ecsv")
    assert list(summary["parameter"]) == ["teff", "logg"]
    # 150 SNR, 60 pixels: the truth is within 5 posterior sd even for these short chains
    assert abs(summary["mean"][0] - 5100.0) < 5 * summary["sd"][0]
    assert abs(summary["mean"][1] - 3.2) < 5 * summary["sd"][1]
    idata = az.from_netcdf(out / "posterior.nc")
    assert idata.posterior["teff"].shape == (2, 60)
    assert (out / "fit_trace.png").stat().st_size > 0 and (out / "fit_corner.png").exists()
    assert "teff" in capsys.readouterr().out


def test_fit_cli_bad_input(tmp_path, tiny_cannon, capsys):
    model_path = save_model(tmp_path / "tiny.cannon", tiny_cannon)
    spec = _write_star(tmp_path, tiny_cannon, n_pix=50)  # model has 60 pixels
    assert main(["fit", str(spec), "--cannon", str(model_path), "--out", str(tmp_path)]) == 2
    assert "pixels, but the model has 60" in capsys.readouterr().err
    assert main(["fit", str(tmp_path / "missing.fits"), "--out", str(tmp_path)]) == 2
    spec = _write_star(tmp_path, tiny_cannon)
    assert main(["fit", str(spec), "--free", "teff,radius", "--out", str(tmp_path)]) == 2
    assert "wavelength" in capsys.readouterr().err  # no wavelength column for synthesis fits


@pytest.mark.slow
@pytest.mark.needs_data
def test_run_fit_demo_quick(tmp_path, capsys):
    from jaxstro.infer import run_fit_demo

    res = run_fit_demo(tmp_path, quick=True)
    assert (tmp_path / "fit_posterior.nc").exists() and (tmp_path / "fit_summary.ecsv").exists()
    assert len(res.summary) == 3 and "catalogue" in capsys.readouterr().out
