"""Numerical configuration checks shared by the physics modules."""

from __future__ import annotations

import jax


class PrecisionError(RuntimeError):
    """float64 is required but ``jax_enable_x64`` is off."""


def x64_enabled() -> bool:
    return bool(jax.config.read("jax_enable_x64"))


def require_x64(what: str = "this computation") -> None:
    """Raise ``PrecisionError`` unless JAX float64 is enabled.

    Call at the public entry points of float64 physics (synthesis, dynamics) so that float32 is
    never used silently.
    """
    if not x64_enabled():
        raise PrecisionError(
            f"{what} needs float64: call jax.config.update('jax_enable_x64', True) "
            "(or set JAX_ENABLE_X64=1) before creating any arrays."
        )
