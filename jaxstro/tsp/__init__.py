"""jaxstro.tsp (under construction)."""
