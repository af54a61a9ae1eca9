"""benchmarks/ceiling.py: the ceiling is the fastest size, and a run keeps the higher of its two readings."""
import pytest

from benchmarks import ceiling


def test_ceiling_is_the_fastest_size_read():
    c = ceiling.matmul_ceiling((64, 128), min_seconds=0.01)
    assert set(c["by_size"]) == {"64", "128"} and all(g > 0 for g in c["by_size"].values())
    assert c["gflops"] == max(c["by_size"].values())


def test_a_run_keeps_the_higher_reading():
    lo, hi = {"gflops": 60.0, "by_size": {"2048": 60.0}}, {"gflops": 95.0, "by_size": {"512": 95.0}}
    for before, after in ((lo, hi), (hi, lo)):
        both = ceiling.higher(before, after)
        assert both["gflops"] == pytest.approx(95.0) and both["before"] is before and both["after"] is after
