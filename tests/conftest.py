"""Shared fixtures: the embedded dataset loaded once, small model configs, a temporary model store; and, in the
summary, the browser tests' server usage and the screenshots of failed browser tests (from each pytest-xdist
worker, or from this process: this conftest is the one the controller loads)."""
import os

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


def pytest_testnodedown(node, error):
    # a pytest-xdist worker finished: keep its browser server's (CPU-s, wall s) for the summary
    usage = getattr(node, "workeroutput", {}).get("browser_server_usage")
    if usage:
        node.config._browser_usages = getattr(node.config, "_browser_usages", []) + [tuple(usage)]


_FAILED_SHOTS: list[tuple[str, str]] = []


def pytest_runtest_logreport(report):
    # a failed browser test's screenshot (tests/browser/conftest.py puts its path in the report)
    if report.failed:
        for name, value in report.user_properties:
            if name == "browser_screenshot":
                _FAILED_SHOTS.append((report.nodeid, value))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _FAILED_SHOTS:
        terminalreporter.section("browser test screenshots")
        for nodeid, path in _FAILED_SHOTS:
            terminalreporter.write_line(f"{nodeid}: {path}")
    usages = getattr(config, "_browser_usages", []) + [u for u in [getattr(config, "_browser_server_usage", None)] if u]
    for cpu_s, wall_s in usages:
        # Wall time against CPU time tells a slow machine from a busy one in CI's log.
        terminalreporter.write_line(f"browser tests: the app server used {cpu_s:.0f} CPU-s in {wall_s:.0f} s "
                                    f"(load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
