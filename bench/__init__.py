"""Benchmarks: ``python -m bench.runtime`` (runtime core), ``python bench/security.py`` (security)."""
