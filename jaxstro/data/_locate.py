"""Find registered data files on disk and check them against their sha256."""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path

import platformdirs

from ._registry import FILES, DataFile

ENV_VAR = "JAXSTRO_DATA_DIR"
DOWNLOAD_ENV_VAR = "JAXSTRO_DOWNLOAD"
_BY_NAME: dict[str, DataFile] = {f.name: f for f in FILES}


class DataFileError(FileNotFoundError):
    """A registered data file is missing or does not match its recorded sha256."""


def registry() -> dict[str, DataFile]:
    """All registered data files by name."""
    return dict(_BY_NAME)


def entry(name: str) -> DataFile:
    """The registry entry of ``name``; ``ValueError`` listing close names if it is unknown."""
    try:
        return _BY_NAME[name]
    except KeyError:
        close = [n for n in _BY_NAME if name.split("_")[0] in n][:8]
        raise ValueError(
            f"no registered data file named {name!r}; similar names: {close}"
        ) from None


def cache_dir() -> Path:
    """The per-user cache directory searched after ``$JAXSTRO_DATA_DIR``."""
    return Path(platformdirs.user_cache_dir("jaxstro")) / "data"


def search_dirs() -> list[Path]:
    """Directories searched for data files, in order."""
    dirs = []
    if os.environ.get(ENV_VAR):
        dirs.append(Path(os.environ[ENV_VAR]).expanduser())
    dirs.append(cache_dir())
    return dirs


def sha256_of(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@cache
def _verified(path: str, mtime_ns: int, size: int, expected: str) -> bool:
    # cached on (path, mtime, size): a file is hashed once per process unless it changes
    return sha256_of(path) == expected


def _how_to_provide(f: DataFile) -> str:
    src = f.source or "derived file: see the data directory's README for how it was made"
    return (
        f"Place the file at <data dir>/{f.path}, where <data dir> is ${ENV_VAR} or {cache_dir()}, "
        f"or download it with `jaxstro data fetch {f.name}` (or set ${DOWNLOAD_ENV_VAR}=1). "
        f"Source: {src}. Reference: {f.reference}."
    )


def _download_requested(download: bool | None) -> bool:
    if download is not None:
        return download
    return os.environ.get(DOWNLOAD_ENV_VAR, "").strip().lower() in ("1", "true", "yes")


def locate(name: str, *, verify: bool = True, download: bool | None = None) -> Path:
    """Path of the registered data file ``name``.

    Looks in ``$JAXSTRO_DATA_DIR`` and then in the user cache directory. The first existing copy is
    checked against the registered sha256 (once per process while the file is unchanged). A file
    found nowhere is downloaded from its recorded source into the cache when ``download`` is true
    (default: when ``$JAXSTRO_DOWNLOAD`` is 1/true/yes); see :func:`jaxstro.data.fetch`.

    Raises:
        DataFileError: the file is in no search directory, or its sha256 differs from the registry.
            The message names the file, the expected sha256 and how to provide it.
    """
    f = entry(name)
    tried = []
    for d in search_dirs():
        p = d / f.path
        tried.append(str(p))
        if p.is_file():
            if verify:
                st = p.stat()
                if not _verified(str(p), st.st_mtime_ns, st.st_size, f.sha256):
                    raise DataFileError(
                        f"data file {name!r} at {p} is corrupted: sha256 {sha256_of(p)} "
                        f"!= expected {f.sha256}. {_how_to_provide(f)}"
                    )
            return p
    if _download_requested(download):
        from ._fetch import fetch

        return fetch(name)
    raise DataFileError(
        f"data file {name!r} ({f.path}, sha256 {f.sha256}) not found; looked in {tried}. "
        f"{_how_to_provide(f)}"
    )


def status() -> list[tuple[str, str]]:
    """(name, 'ok' | 'missing' | 'corrupted') for every registered file."""
    out = []
    for n in _BY_NAME:
        try:
            locate(n)
            out.append((n, "ok"))
        except DataFileError as e:
            out.append((n, "corrupted" if "corrupted" in str(e) else "missing"))
    return out
