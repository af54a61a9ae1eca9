"""benchmarks/features.py in quick mode: every dataset runs, every representation gets a finite test error,
and the verdict follows from the paired interval (so the benchmark cannot rot)."""
import json
import math

import pytest

from ae_core import data, metrics
from benchmarks import features


@pytest.mark.slow
def test_quick_run_scores_every_representation(tmp_path):
    try:
        data.load_dataset("mnist")
    except data.DatasetError:
        pytest.skip("full MNIST is not on this machine")
    assert features.main(["--quick", "--quiet", "--out", str(tmp_path), "--datasets", "mnist", "mnist-rot"]) == 0
    res = json.loads((tmp_path / "features_results.json").read_text())
    assert set(res["datasets"]) == {"mnist", "mnist-rot"} and not res["errors"]
    for r in res["datasets"].values():
        assert {"raw pixels", "SAE-3", "SDAE-3"} <= set(r["features"])
        for f in r["features"].values():
            assert 0 <= f["error"] <= 1 and math.isfinite(f["interval"]) and f["n_test"] == 300
        d = r["sdae_minus_sae"]
        assert d["holds"] == (d["error"] + d["interval"] < 0)
        assert [s["name"] for s in r["train"]["SDAE-3"]["stages"]] == ["stage 1 of 3", "stage 2 of 3", "stage 3 of 3"]
        assert r["train"]["SDAE-3"]["config"]["noise"] == "masking:0.25" and not r["train"]["SDAE-3"]["config"]["binarize"]
    assert "| `mnist-rot` |" in (tmp_path / "features_results.md").read_text()


def test_linear_probe_separates_separable_classes_and_not_noise():
    import numpy as np

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 900)
    z = rng.normal(size=(900, 5))
    sep = z + 4 * np.eye(5)[y]
    good = metrics.linear_probe(sep[:600], y[:600], sep[600:], y[600:])
    noise = metrics.linear_probe(z[:600], y[:600], z[600:], y[600:])
    assert good["error"] < 0.02 and noise["error"] > 0.5
    assert good["n_fit"] == 480 and good["n_val"] == 120 and good["wrong"].shape == (300,)
    d, half = metrics.paired_difference(noise["wrong"], good["wrong"])
    assert d < -0.4 and 0 < half < 0.1
