"""Baseline apps the benchmarks compare the services with (run under uvicorn like them)."""
