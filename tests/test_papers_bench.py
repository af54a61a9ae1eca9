"""benchmarks/papers.py: the papers' protocol on the shipped mnist-5k models, figures checked."""
import json

import pytest

from benchmarks import papers

pytestmark = pytest.mark.slow


def test_papers_table_on_mnist5k(tmp_path):
    assert papers.main(["--dataset", "mnist-5k", "--out", str(tmp_path)]) == 0
    res = json.loads((tmp_path / "papers_mnist-5k.json").read_text())
    rec = {r["row"]: r for r in res["recon"]}
    maps = {r["row"]: r for r in res["maps"]}
    # PCA's back-projection leaves [0, 1]: clipping lowers its error (13.01 vs 14.30 on mnist-5k).
    assert rec["PCA-30"]["sse_clipped"] < rec["PCA-30"]["sse"]
    # A sigmoid decoder's output is in [0, 1]: clipping changes nothing.
    assert rec["AE-30"]["sse_clipped"] == pytest.approx(rec["AE-30"]["sse"])
    assert rec["AE-30"]["sse"] < 0.6 * rec["PCA-30"]["sse"]
    assert 0.3 < maps["PCA-2D"]["knn5"] < 0.5 < maps["AE-2D"]["knn5"]
    assert 0.6 < maps["PCA-2D"]["trust"] < maps["AE-2D"]["trust"] < 1
    md = (tmp_path / "papers_mnist-5k.md").read_text()
    assert "| AE-30 | `ae-30d` |" in md and "13.87" in md and "0.793" in md
