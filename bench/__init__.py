"""Benchmarks for the quality bars of DESIGN.md section 9 (``python -m bench``; see README.md)."""
