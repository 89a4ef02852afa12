"""The trained Cannon model (vectoriser, per-pixel coefficients and scatter) and its file."""

from __future__ import annotations

import json
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._vectorizer import Vectorizer

FORMAT = "jaxstro.cannon.CannonModel"
FORMAT_VERSION = 1


class CannonModel(eqx.Module):
    """A trained Cannon: ``flux_lambda(l) = theta_lambda . f(l)`` with scatter ``s_lambda``.

    Attributes:
        vectorizer: the label vectoriser (terms, offsets, scales, names).
        theta: ``(n_pixels, n_terms)`` coefficients (for standardised labels).
        scatter: ``(n_pixels,)`` intrinsic scatter s (flux units, not s^2); ``inf`` marks pixels
            without enough training data (they get zero weight at test time).
        wavelength: ``(n_pixels,)`` wavelength grid [Angstrom] or None.
        label_min, label_max: range of the training labels (physical units), used to flag
            extrapolation.
    """

    vectorizer: Vectorizer
    theta: Float[Array, "n_pixels n_terms"]
    scatter: Float[Array, " n_pixels"]
    wavelength: Float[Array, " n_pixels"] | None
    label_min: Float[Array, " n_labels"]
    label_max: Float[Array, " n_labels"]

    @property
    def n_pixels(self) -> int:
        return int(self.theta.shape[0])

    @property
    def label_names(self) -> tuple[str, ...]:
        return self.vectorizer.label_names

    @property
    def n_labels(self) -> int:
        return self.vectorizer.n_labels

    def predict(self, labels: Float[Array, " n_labels"]) -> Float[Array, " n_pixels"]:
        """Model spectrum of one star with physical labels (vmap over stars)."""
        return self.theta @ self.vectorizer(labels)

    def predict_many(self, labels: Float[Array, "n n_labels"]) -> Float[Array, "n n_pixels"]:
        return jax.vmap(self.predict)(jnp.asarray(labels, dtype=float))

    def metadata(self) -> dict:
        from jaxstro import __version__

        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "jaxstro_version": __version__,
            "n_pixels": self.n_pixels,
            "has_wavelength": self.wavelength is not None,
            "vectorizer": self.vectorizer.metadata(),
        }


def save_model(path, model: CannonModel) -> Path:
    """Write ``model``: one JSON metadata line, then ``eqx.tree_serialise_leaves`` of the model."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write((json.dumps(model.metadata()) + "\n").encode())
        eqx.tree_serialise_leaves(f, model)
    tmp.replace(path)
    return path


def read_metadata(path) -> dict:
    with open(path, "rb") as f:
        line = f.readline()
    try:
        meta = json.loads(line.decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: not a jaxstro Cannon model file (bad metadata line)") from e
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: not a jaxstro Cannon model file (format={meta.get('format')!r})")
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(
            f"{path}: written by a newer jaxstro (format_version {meta['format_version']})"
        )
    return meta


def load_model(path) -> CannonModel:
    """Read a model written by :func:`save_model`."""
    meta = read_metadata(path)
    vm = meta["vectorizer"]
    vec = Vectorizer(vm["label_names"], vm["exponents"], standardize=vm["standardize"])
    n_p, n_t, n_l = meta["n_pixels"], vec.n_terms, vec.n_labels
    skeleton = CannonModel(
        vectorizer=vec,
        theta=jnp.zeros((n_p, n_t)),
        scatter=jnp.zeros(n_p),
        wavelength=jnp.zeros(n_p) if meta["has_wavelength"] else None,
        label_min=jnp.zeros(n_l),
        label_max=jnp.zeros(n_l),
    )
    with open(path, "rb") as f:
        f.readline()
        return eqx.tree_deserialise_leaves(f, skeleton)


def as_numpy(x) -> np.ndarray:
    return np.asarray(jax.device_get(x))
