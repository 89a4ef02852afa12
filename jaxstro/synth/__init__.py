"""jaxstro.synth (under construction)."""
