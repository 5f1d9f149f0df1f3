"""Ratio benchmarks: each family's optimized path against a baseline measured in the same run."""
