"""jaxstro: GPU-first, differentiable astrophysics in JAX.

Modules (import them directly; nothing heavy happens at ``import jaxstro``):

- ``jaxstro.data``         registry of physical data files (``locate``, loaders)
- ``jaxstro.spectra``      Spectrum, readers, continuum normalisation, resampling, broadening
- ``jaxstro.synth``        1D LTE spectral synthesis, differentiable end to end
- ``jaxstro.infer``        numpyro HMC / MAP fitting of spectra
- ``jaxstro.cannon``       The Cannon: vmapped training and label inference
- ``jaxstro.tsp``          kNN + local PCA + matched filters for anomalous absorption (Li)
- ``jaxstro.dynamics``     potentials, orbits, actions, bar-resonance simulations
- ``jaxstro.disentangle``  conditional autoencoders for chemical tagging
"""

__version__ = "0.1.0"

from ._config import PrecisionError, require_x64, x64_enabled

__all__ = ["PrecisionError", "__version__", "require_x64", "x64_enabled"]
