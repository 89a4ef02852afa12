"""Registry of the physical data files jaxstro uses.

``locate(name)`` finds a registered file in ``$JAXSTRO_DATA_DIR`` or the user cache and checks its
sha256; ``registry()`` lists them; the ``load_*`` helpers read the generic formats.
"""

from ._loaders import hdf5_attrs, load_hdf5, load_npz, load_table
from ._locate import (
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
    "ENV_VAR",
    "FILES",
    "DataFile",
    "DataFileError",
    "cache_dir",
    "entry",
    "hdf5_attrs",
    "load_hdf5",
    "load_npz",
    "load_table",
    "locate",
    "registry",
    "search_dirs",
    "sha256_of",
    "status",
]
