"""jaxstro.spectra (under construction)."""
