"""jaxstro.dynamics (under construction)."""
