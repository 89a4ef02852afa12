"""Shared, session-scoped Cannon fixtures (training/compiling once keeps the suite fast).

All label fits in the default tests use the quadratic 3-label model on the 100-pixel fixture
and ``BATCH`` stars per compiled call, so the compiled fit function is shared between tests.
"""

import pytest

BATCH = 56  # = ceil(671 / 12), the CV held-out batch size, a multiple of the 4 fake devices
N_TRAIN = 447  # the split used for the reference runs in /work/shared/notes/cannon_packages.md


@pytest.fixture(scope="session")
def apogee():
    from jaxstro.data import load_npz

    return load_npz("annieslasso_apogee")


@pytest.fixture(scope="session")
def quad_model(apogee):
    from jaxstro.cannon import Vectorizer, train

    d = apogee
    vec = Vectorizer.polynomial(list(d["label_names"]), 2)
    return train(d["labels"][:N_TRAIN], d["flux"][:N_TRAIN], d["ivar"][:N_TRAIN], vec,
                 wavelength=d["dispersion"])


@pytest.fixture(scope="session")
def quad_fit(apogee, quad_model):
    from jaxstro.cannon import fit_labels

    d = apogee
    return fit_labels(quad_model, d["flux"][N_TRAIN:], d["ivar"][N_TRAIN:],
                      wavelength=d["dispersion"], batch_size=BATCH)
