"""Benchmarks: the cutover load test (driver and locust workload)."""
