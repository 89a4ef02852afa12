"""Networks of paper 004 (appendix A): conditional autoencoder, critic, auxiliary classifier,
non-linear abundance estimator, and the PolyDis baseline.

All networks are SELU multilayer perceptrons (``eqx.nn.MLP`` stacks with explicit layer sizes).
Spectra enter scaled as ``4 x - 3.5`` (appendix A) so that they occupy roughly [-1, 1].
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations_with_replacement

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float


def scale_flux(x: Array) -> Array:
    """Appendix A input scaling of continuum-normalised flux."""
    return 4.0 * x - 3.5


def unscale_flux(y: Array) -> Array:
    return (y + 3.5) / 4.0


class MLP(eqx.Module):
    """Fully connected network with SELU between layers and a linear output layer."""

    layers: tuple[eqx.nn.Linear, ...]

    def __init__(self, sizes: Sequence[int], key: jax.Array):
        keys = jax.random.split(key, len(sizes) - 1)
        self.layers = tuple(
            eqx.nn.Linear(a, b, key=k) for a, b, k in zip(sizes[:-1], sizes[1:], keys, strict=True)
        )

    def __call__(self, x: Array) -> Array:
        for layer in self.layers[:-1]:
            x = jax.nn.selu(layer(x))
        return self.layers[-1](x)


class Architecture(eqx.Module):
    """Layer sizes (hidden layers only; input/output sizes follow from the data).

    Defaults are the paper's (A1-A7). ``small()`` gives a fast variant for tests and CPU demos.
    """

    encoder: tuple[int, ...] = (2048, 512, 128, 32)
    decoder: tuple[int, ...] = (512, 2048, 8192)
    critic: tuple[int, ...] = (4096, 1024, 512, 128, 32)
    auxiliary: tuple[int, ...] = (512, 256)
    estimator: tuple[int, ...] = (512, 256, 128)
    n_z: int = 20

    @classmethod
    def small(cls, n_z: int = 20) -> Architecture:
        return cls((128, 64), (64, 128), (128, 64), (64,), (64, 32), n_z)


class ConditionalAutoencoder(eqx.Module):
    """Encoder E(x, u) -> z and decoder D(z, u) -> x on scaled flux and standardised u."""

    encoder: MLP
    decoder: MLP

    def __init__(self, n_bins: int, n_cond: int, arch: Architecture, key: jax.Array):
        ke, kd = jax.random.split(key)
        self.encoder = MLP((n_bins + n_cond, *arch.encoder, arch.n_z), ke)
        self.decoder = MLP((arch.n_z + n_cond, *arch.decoder, n_bins), kd)

    def encode(self, x: Float[Array, " n_bins"], u: Float[Array, " n_cond"]) -> Array:
        return self.encoder(jnp.concatenate([scale_flux(x), u]))

    def decode(self, z: Float[Array, " n_z"], u: Float[Array, " n_cond"]) -> Array:
        return unscale_flux(self.decoder(jnp.concatenate([z, u])))

    def __call__(self, x: Array, u: Array) -> Array:
        return self.decode(self.encode(x, u), u)


class Critic(eqx.Module):
    """FactorDis critic C(x, u, z) (A3): a scalar score, 1-Lipschitz via a gradient penalty."""

    net: MLP

    def __init__(self, n_bins: int, n_cond: int, arch: Architecture, key: jax.Array):
        self.net = MLP((n_bins + n_cond + arch.n_z, *arch.critic, 1), key)

    def __call__(self, x: Array, u: Array, z: Array) -> Array:
        return self.net(jnp.concatenate([scale_flux(x), u, z]))[0]


class Auxiliary(eqx.Module):
    """FaderDis auxiliary classifier A(z) -> logits over the 10^n_cond joint bins of u (A6).

    The appendix lists n_z + n_conditioned inputs; fed with u the classifier would read the
    answer from its input, so it takes z only (the Fader network of Lample et al. 2017).
    """

    net: MLP
    n_levels: int = eqx.field(static=True)

    def __init__(self, n_cond: int, arch: Architecture, key: jax.Array, n_levels: int = 10):
        self.n_levels = n_levels
        self.net = MLP((arch.n_z, *arch.auxiliary, n_levels**n_cond), key)

    def __call__(self, z: Array) -> Array:
        return self.net(z)


def discretize(u_unit: Float[Array, "... n_cond"], n_levels: int = 10) -> Array:
    """Joint bin index of parameters scaled to [0, 1]: ``n_levels`` equal bins per parameter."""
    idx = jnp.clip(jnp.floor(u_unit * n_levels), 0, n_levels - 1).astype(jnp.int32)
    weights = n_levels ** jnp.arange(u_unit.shape[-1])
    return jnp.sum(idx * weights, axis=-1)


class AbundanceEstimator(eqx.Module):
    """Non-linear estimator of one abundance from the latent (A7)."""

    net: MLP

    def __init__(self, arch: Architecture, key: jax.Array):
        self.net = MLP((arch.n_z, *arch.estimator, 1), key)

    def __call__(self, z: Array) -> Array:
        return self.net(z)[0]


def polynomial_features(u: Float[Array, "n n_cond"], order: int) -> Float[Array, "n n_terms"]:
    """All monomials of the columns of ``u`` up to total degree ``order`` (constant first)."""
    cols = [jnp.ones(u.shape[:-1], u.dtype)]
    for deg in range(1, order + 1):
        for combo in combinations_with_replacement(range(u.shape[-1]), deg):
            cols.append(jnp.prod(u[..., list(combo)], axis=-1))
    return jnp.stack(cols, -1)


class PolyDis(eqx.Module):
    """PolyDis baseline (Price-Jones & Bovy 2017): per-pixel polynomial in u, PCA of residuals.

    ``fit`` solves all pixels at once by least squares on the polynomial design matrix; the
    residuals are compressed to ``n_components`` principal components (SVD); the latent of a star
    is the projection of its residual. Recasting to new parameters adds the residual to the
    polynomial at the new u.
    """

    coefficients: Array  # (n_terms, n_bins)
    mean_residual: Array
    components: Array  # (n_components, n_bins)
    order: int = eqx.field(static=True)

    @classmethod
    def fit(cls, flux: Array, u: Array, *, order: int = 4, n_components: int = 50) -> PolyDis:
        design = polynomial_features(u, order)
        if design.shape[1] >= flux.shape[0]:
            raise ValueError(
                f"PolyDis order {order} has {design.shape[1]} terms but only {flux.shape[0]} stars"
            )
        coef, *_ = jnp.linalg.lstsq(design, flux)
        resid = flux - design @ coef
        mean = resid.mean(0)
        _, _, vt = jnp.linalg.svd(resid - mean, full_matrices=False)
        return cls(coef, mean, vt[:n_components], order)

    def predict(self, u: Array) -> Array:
        return polynomial_features(u, self.order) @ self.coefficients

    def residual(self, flux: Array, u: Array) -> Array:
        return flux - self.predict(u)

    def encode(self, flux: Array, u: Array) -> Array:
        return (self.residual(flux, u) - self.mean_residual) @ self.components.T

    def recast(self, flux1: Array, u1: Array, u2: Array) -> Array:
        return self.predict(u2) + self.residual(flux1, u1)
