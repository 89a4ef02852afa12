"""jaxstro.disentangle (under construction)."""
