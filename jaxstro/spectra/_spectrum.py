"""The ``Spectrum`` container: wavelength, flux, inverse variance, good-pixel mask, metadata."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

from ._airvac import air_to_vacuum, vacuum_to_air
from ._validate import validate_arrays

MEDIA = ("air", "vacuum")


def _freeze(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return tuple(value.tolist())
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, np.generic):
        return value.item()
    return value


class Spectrum(eqx.Module):
    """One spectrum, or a batch of them with leading axes ``(*batch, n_pixels)``.

    Attributes:
        wavelength: [Å], ``(n,)`` shared or the shape of ``flux``; strictly increasing.
        flux: flux in the file's units (or normalised).
        ivar: inverse variance of ``flux``, ``>= 0``; 0 means "no information".
        mask: bool, **True = good pixel** (use it); readers set it False where the pipeline flags
            the pixel, the flux was not finite or ``ivar == 0``.
        medium: ``"vacuum"`` or ``"air"`` (static): the wavelength convention.
        meta: static, hashable metadata (object, source file, instrument, RV, repairs, ...); read it
            as a dict through ``spectrum.meta``.

    ``Spectrum`` is a pytree: arrays are leaves, ``medium``/``meta`` are static, so it passes
    through ``jit``/``vmap``/``grad``. Construct through the readers or ``Spectrum(...)``; call
    :meth:`validate` at a public boundary.
    """

    wavelength: Float[Array, "*batch n"]
    flux: Float[Array, "*batch n"]
    ivar: Float[Array, "*batch n"]
    mask: Bool[Array, "*batch n"]
    medium: str = eqx.field(static=True)
    _meta: tuple = eqx.field(static=True)

    def __init__(
        self,
        wavelength: Any,
        flux: Any,
        ivar: Any = None,
        mask: Any = None,
        *,
        medium: str = "vacuum",
        meta: Mapping[str, Any] | None = None,
    ):
        if medium not in MEDIA:
            raise ValueError(f"medium must be one of {MEDIA}, got {medium!r}")
        self.wavelength = jnp.asarray(wavelength)
        self.flux = jnp.asarray(flux)
        self.ivar = jnp.ones_like(self.flux) if ivar is None else jnp.asarray(ivar)
        self.mask = (self.ivar > 0) if mask is None else jnp.asarray(mask, dtype=bool)
        self.medium = medium
        self._meta = tuple(sorted((str(k), _freeze(v)) for k, v in dict(meta or {}).items()))

    @property
    def meta(self) -> dict[str, Any]:
        return dict(self._meta)

    @property
    def n_pixels(self) -> int:
        return self.flux.shape[-1]

    def validate(self) -> Spectrum:
        """Raise ``ValueError`` (what and where) for bad wavelengths, flux, ivar or shapes."""
        name = self.meta.get("source") or self.meta.get("object")
        validate_arrays(self.wavelength, self.flux, self.ivar, self.mask, what=name)
        return self

    def with_meta(self, **updates: Any) -> Spectrum:
        meta = self.meta | updates
        return Spectrum(self.wavelength, self.flux, self.ivar, self.mask, medium=self.medium,
                        meta=meta)

    def replace(self, **arrays: Any) -> Spectrum:
        """A copy with some of ``wavelength``, ``flux``, ``ivar``, ``mask`` replaced."""
        kw = dict(wavelength=self.wavelength, flux=self.flux, ivar=self.ivar, mask=self.mask)
        kw.update(arrays)
        return Spectrum(**kw, medium=self.medium, meta=self.meta)

    def to_vacuum(self) -> Spectrum:
        if self.medium == "vacuum":
            return self
        return Spectrum(air_to_vacuum(self.wavelength), self.flux, self.ivar, self.mask,
                        medium="vacuum", meta=self.meta)

    def to_air(self) -> Spectrum:
        if self.medium == "air":
            return self
        return Spectrum(vacuum_to_air(self.wavelength), self.flux, self.ivar, self.mask,
                        medium="air", meta=self.meta)

    def normalize(
        self, *, sigma: float = 50.0, truncate: float = 150.0, apply_bad_pixel_rule: bool = False
    ) -> Spectrum:
        """Continuum-normalised copy (:func:`continuum_normalize` on ``masked_ivar``).

        The continuum goes to ``meta["continuum_sigma_A"]``/``["continuum_truncate_A"]`` as
        settings only; with ``apply_bad_pixel_rule`` the thesis ch3 rule is applied too. The mask
        becomes ``ivar > 0`` of the result.
        """
        from ._normalize import bad_pixel_rule, continuum_normalize

        nf, ni, _ = continuum_normalize(
            self.wavelength, self.flux, self.masked_ivar(), sigma=sigma, truncate=truncate
        )
        if apply_bad_pixel_rule:
            nf, ni = bad_pixel_rule(nf, ni)
        meta = self.meta | {"normalized": True, "continuum_sigma_A": float(sigma),
                            "continuum_truncate_A": float(truncate)}
        return Spectrum(self.wavelength, nf, ni, ni > 0, medium=self.medium, meta=meta)

    def masked_ivar(self) -> Float[Array, "*batch n"]:
        """``ivar`` with masked (bad) pixels set to 0: what the fitting code should use."""
        return jnp.where(self.mask, self.ivar, 0.0)
