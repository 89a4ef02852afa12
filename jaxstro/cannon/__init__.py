"""jaxstro.cannon (under construction)."""
