"""Manifold Lab's benchmarks: `python -m ae_core bench` (or `python -m benchmarks.run`).

`benchmarks.run` is the suite's entry point, its sections live in `benchmarks.suite`, and
`benchmarks.memprobe` measures peak memory in a fresh interpreter; the browser and load
benchmarks share `benchmarks.harness`. This file only makes the folder importable.
"""
