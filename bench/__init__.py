"""Benchmarks of the backfill (not part of the installed package)."""
