"""jaxstro.spectra: spectrum container, readers, continuum normalisation, resampling, broadening.

Table of contents
-----------------
Container and validation
    Spectrum                 wavelength [Å] + medium, flux, ivar, mask (True = good), static meta
    validate_arrays          ValueError naming what and where (NaN flux, ivar < 0, shapes, sorting)
    repair_nonfinite         the one explicit repair: NaN/inf pixels -> flux fill, ivar 0
Readers (astropy.io.fits / numpy; eager)
    read_spectrum            dispatcher: any file below, or a registered data-file name
    read_lamost_lrs, read_lamost_mrs, read_apstar, read_apvisit, read_aspcapstar,
    read_fits_1d, read_table_spectrum, read_text_spectrum, read_npz_spectra
    identify_fits_layout, spectrum_from_columns
Normalisation (thesis ch2 §2.2, ch3 §3.2; Ho et al. 2017)
    continuum_normalize      ivar-weighted Gaussian pseudo-continuum -> (f/C, ivar C^2, C)
    gaussian_smooth          the banded Gaussian sums underneath (non-uniform grids, O(n * window))
    bad_pixel_rule           normalised flux outside (0, 2) -> flux 1, ivar 0
Resampling
    resample                 interpax flux interpolation; ivar and mask propagation
Broadening and shifts
    convolve_lsf             Gaussian LSF at resolving power R (scalar or per pixel), windowed
    rotational_broaden       Gray rotation kernel (vsini, linear limb darkening), pixel-integrated
    rotation_kernel, rotation_kernel_cdf
    macroturbulent_broaden   radial-tangential macroturbulence (Gray), pixel-integrated
    macroturbulence_kernel, macroturbulence_kernel_cdf, macro_half_width
    doppler_shift, doppler_factor   relativistic, km/s
Air <-> vacuum (Morton 2000 / Birch & Downs 1994, as used by VALD)
    air_to_vacuum, vacuum_to_air
"""

from ._airvac import air_to_vacuum, vacuum_to_air
from ._broaden import (
    C_KMS,
    convolve_lsf,
    doppler_factor,
    doppler_shift,
    rotation_kernel,
    rotation_kernel_cdf,
    rotational_broaden,
)
from ._io import (
    identify_fits_layout,
    read_apstar,
    read_apvisit,
    read_aspcapstar,
    read_fits_1d,
    read_lamost_lrs,
    read_lamost_mrs,
    read_npz_spectra,
    read_spectrum,
    read_table_spectrum,
    read_text_spectrum,
    spectrum_from_columns,
)
from ._macro import (
    macro_half_width,
    macroturbulence_kernel,
    macroturbulence_kernel_cdf,
    macroturbulent_broaden,
)
from ._normalize import bad_pixel_rule, continuum_normalize, gaussian_smooth
from ._resample import resample
from ._spectrum import Spectrum
from ._validate import repair_nonfinite, validate_arrays

__all__ = [
    "C_KMS",
    "Spectrum",
    "air_to_vacuum",
    "bad_pixel_rule",
    "continuum_normalize",
    "convolve_lsf",
    "doppler_factor",
    "doppler_shift",
    "gaussian_smooth",
    "identify_fits_layout",
    "macro_half_width",
    "macroturbulence_kernel",
    "macroturbulence_kernel_cdf",
    "macroturbulent_broaden",
    "read_apstar",
    "read_apvisit",
    "read_aspcapstar",
    "read_fits_1d",
    "read_lamost_lrs",
    "read_lamost_mrs",
    "read_npz_spectra",
    "read_spectrum",
    "read_table_spectrum",
    "read_text_spectrum",
    "repair_nonfinite",
    "resample",
    "rotation_kernel",
    "rotation_kernel_cdf",
    "rotational_broaden",
    "spectrum_from_columns",
    "vacuum_to_air",
    "validate_arrays",
]
