"""Shared fixtures: the embedded dataset loaded once, small model configs, a temporary model store."""
import numpy as np
import pytest

from ae_core import data


@pytest.fixture(scope="session")
def mnist5k():
    return data.load_dataset("mnist-5k")


@pytest.fixture
def tiny_x():
    rng = np.random.default_rng(0)
    return rng.random((64, 1, 28, 28), dtype=np.float32)


@pytest.fixture
def store_root(tmp_path):
    root = tmp_path / "models"
    root.mkdir()
    return root
