"""Peer codes run as references for the jaxstro benchmarks and stored test outputs."""
