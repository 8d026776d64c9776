"""Benchmarks: the backfill, validation and the cutover load test (not part of the installed package)."""
