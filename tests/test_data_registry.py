"""The data registry: every file present and valid; missing/corrupted files fail clearly."""

import hashlib
import shutil

import numpy as np
import pytest

from jaxstro import data


def test_registry_entries_are_well_formed():
    names = [f.name for f in data.FILES]
    assert len(names) == len(set(names)), "duplicate registry names"
    paths = [f.path for f in data.FILES]
    assert len(paths) == len(set(paths)), "duplicate registry paths"
    for f in data.FILES:
        assert len(f.sha256) == 64 and int(f.sha256, 16) >= 0
        assert f.size > 0 and not f.path.startswith("/")
        assert f.reference


@pytest.mark.needs_data
def test_every_registered_file_is_present_and_valid():
    # the staged data directory is the reference: every entry must locate and pass its sha256
    bad = [(n, s) for n, s in data.status() if s != "ok"]
    assert not bad, f"registered files missing or corrupted: {bad}"


@pytest.mark.needs_data
def test_sizes_match_registry():
    for f in data.FILES:
        assert data.locate(f.name).stat().st_size == f.size, f.name


def test_missing_file_error_names_file_hash_and_remedy(tmp_path, monkeypatch):
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    monkeypatch.setattr(data._locate, "cache_dir", lambda: tmp_path / "cache")
    f = data.entry("marcs_sun")
    with pytest.raises(data.DataFileError) as exc:
        data.locate("marcs_sun")
    msg = str(exc.value)
    assert "marcs_sun" in msg and f.sha256 in msg and f.path in msg
    assert data.ENV_VAR in msg and "Source:" in msg


@pytest.mark.needs_data
def test_corrupted_file_error(tmp_path, monkeypatch):
    real = data.locate("marcs_sun")
    f = data.entry("marcs_sun")
    target = tmp_path / f.path
    target.parent.mkdir(parents=True)
    shutil.copyfile(real, target)
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    assert data.locate("marcs_sun") == target  # intact copy is accepted
    with open(target, "r+b") as fh:  # flip one byte
        b = fh.read(1)
        fh.seek(0)
        fh.write(bytes([b[0] ^ 0xFF]))
    with pytest.raises(data.DataFileError) as exc:
        data.locate("marcs_sun")
    msg = str(exc.value)
    assert "corrupted" in msg and f.sha256 in msg
    assert hashlib.sha256(target.read_bytes()).hexdigest() in msg


def test_cache_dir_is_searched(tmp_path, monkeypatch):
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    monkeypatch.setattr(data._locate, "cache_dir", lambda: tmp_path)
    f = data.entry("korg_license")
    with pytest.raises(data.DataFileError):
        data.locate("korg_license")
    (tmp_path / f.path).parent.mkdir(parents=True)
    (tmp_path / f.path).write_bytes(b"not the licence")
    with pytest.raises(data.DataFileError, match="corrupted"):
        data.locate("korg_license")
    assert data.locate("korg_license", verify=False) == tmp_path / f.path


def test_unknown_name():
    with pytest.raises(ValueError, match="no registered data file"):
        data.locate("no_such_file")


@pytest.mark.needs_data
def test_generic_loaders():
    h = data.load_hdf5("atomic_partition_functions", keys=["Fe I", "logT_step"])
    assert h["Fe I"].shape == (201,) and np.isclose(float(h["logT_step"]), 0.025 * np.log(10))
    z = data.load_npz("lamost_tsp_wavelength_grid")
    assert z["wl_grid"].shape == (3559,)
    attrs = data.hdf5_attrs("gray2005_fig8_5", "a")
    assert float(attrs["temperature"]) == pytest.approx(5143)
    with pytest.raises(KeyError, match="not in"):
        data.load_hdf5("atomic_partition_functions", keys=["Xx IV"])
