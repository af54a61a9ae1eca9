"""Manifold Lab's benchmark suite: `python -m ae_core bench` (or `python benchmarks/run.py`).

Everything lives in `benchmarks.run`; this file only makes the folder importable.
"""
