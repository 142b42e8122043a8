"""Benchmarks: each prints one JSON document and compares against a baseline measured in the same run."""
