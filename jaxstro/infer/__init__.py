"""jaxstro.infer (under construction)."""
