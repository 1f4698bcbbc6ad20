"""Benchmarks: speed of the animate core (``speed``) and quality on the paper's protocols."""
