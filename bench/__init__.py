"""Benchmarks: run them, read their JSON line; never timed assertions in tests."""
