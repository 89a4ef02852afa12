"""jaxstro.spectra: spectrum container, readers, continuum normalisation, resampling, broadening.

Table of contents
-----------------
Normalisation (thesis ch2 §2.2, ch3 §3.2; Ho et al. 2017)
    continuum_normalize      ivar-weighted Gaussian pseudo-continuum -> (f/C, ivar C^2, C)
    gaussian_smooth          the banded Gaussian sums underneath (non-uniform grids, O(n * window))
    bad_pixel_rule           normalised flux outside (0, 2) -> flux 1, ivar 0
Validation
    validate_arrays          ValueError naming what and where (NaN flux, ivar < 0, shapes, sorting)
    repair_nonfinite         the one explicit repair: NaN/inf pixels -> flux fill, ivar 0
"""

from ._normalize import bad_pixel_rule, continuum_normalize, gaussian_smooth
from ._validate import repair_nonfinite, validate_arrays

__all__ = [
    "bad_pixel_rule",
    "continuum_normalize",
    "gaussian_smooth",
    "repair_nonfinite",
    "validate_arrays",
]
