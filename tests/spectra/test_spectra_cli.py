"""The ``jaxstro spectra`` subcommands on a real LAMOST spectrum."""

import numpy as np
import pytest

from jaxstro.cli import main


@pytest.mark.needs_data
def test_spectra_info_and_normalize(tmp_path, capsys):
    assert main(["spectra", "info", "lamost_lrs_g3"]) == 0
    out = capsys.readouterr().out
    assert "3909" in out and "vacuum" in out and "LAMOST LRS" in out
    dest = tmp_path / "norm.npz"
    assert main(["spectra", "normalize", "lamost_lrs_g3", "-o", str(dest), "--sigma", "25",
                 "--truncate", "75", "--bad-pixel-rule"]) == 0
    z = np.load(dest)
    assert z["flux"].shape == (3909,) and np.all(np.isfinite(z["flux"]))
    good = z["ivar"] > 0
    assert np.all((z["flux"][good] > 0) & (z["flux"][good] < 2))
    assert 0.95 < np.median(z["flux"][good]) < 1.05
