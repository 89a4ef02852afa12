"""Test configuration: 4 fake CPU devices, float64, fixed seeds, data directory.

XLA_FLAGS must be set before jax is imported anywhere, so this runs first.
"""

import os
from pathlib import Path

os.environ.setdefault("XLA_FLAGS", "")
if "xla_force_host_platform_device_count" not in os.environ["XLA_FLAGS"]:
    os.environ["XLA_FLAGS"] += " --xla_force_host_platform_device_count=4"
os.environ.setdefault("JAX_PLATFORMS", "cpu")
_default_data = Path(__file__).resolve().parents[1].parent / "shared" / "data"
if not os.environ.get("JAXSTRO_DATA_DIR") and _default_data.is_dir():
    os.environ["JAXSTRO_DATA_DIR"] = str(_default_data)
os.environ.setdefault("MPLBACKEND", "Agg")

import jax  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_enable_x64", True)

SEED = 20261123


@pytest.fixture
def rng() -> np.random.Generator:
    """A numpy generator with a fixed seed (fresh per test)."""
    return np.random.default_rng(SEED)


@pytest.fixture
def key() -> jax.Array:
    """A JAX PRNG key with a fixed seed."""
    return jax.random.key(SEED)


def pytest_collection_modifyitems(config, items):
    # a test that needs registered data is skipped with a clear reason when the data dir is absent
    if os.environ.get("JAXSTRO_DATA_DIR") and Path(os.environ["JAXSTRO_DATA_DIR"]).is_dir():
        return
    skip = pytest.mark.skip(reason="JAXSTRO_DATA_DIR is not set / does not exist")
    for item in items:
        if "needs_data" in item.keywords:
            item.add_marker(skip)
