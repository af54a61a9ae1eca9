"""The benchmark suite's quick mode: every section runs and writes finite numbers (so the bench cannot rot)."""
import json
import math

import pytest

from benchmarks import run

SECTIONS = ("recon", "embed", "denoise", "speed")


def _numbers(o, path="$"):
    """Every number in a JSON tree, with its path."""
    if isinstance(o, bool):
        return
    if isinstance(o, (int, float)):
        yield path, o
    elif isinstance(o, dict):
        for k, v in o.items():
            yield from _numbers(v, f"{path}.{k}")
    elif isinstance(o, list):
        for i, v in enumerate(o):
            yield from _numbers(v, f"{path}[{i}]")


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    rc = run.main(["--quick", "--quiet", "--out", str(out)])
    return rc, out, json.loads((out / "results.json").read_text())


@pytest.mark.slow
def test_quick_run_writes_every_section_with_finite_numbers(quick):
    rc, out, res = quick
    assert rc == 0, res.get("errors")
    assert not res["errors"]
    for name in SECTIONS:
        assert name in res and "skipped" not in res[name], name
        assert res["meta"]["section_seconds"][name] >= 0
    bad = [(p, v) for p, v in _numbers({k: res[k] for k in (*SECTIONS, "goals")}) if not math.isfinite(v)]
    assert not bad, bad
    md = (out / "results.md").read_text()
    assert "## Goals" in md and ("PASS" in md or "FAIL" in md)


@pytest.mark.slow
def test_quick_run_covers_the_promised_rows(quick):
    _, _, res = quick
    recon = {(r["kind"], r["latent"]) for r in res["recon"]["rows"]}
    assert {("pca", 2), ("linear", 2), ("ae", 2), ("conv", 2), ("vae", 2)} <= recon
    assert {r["method"] for r in res["embed"]["rows"]} == {"PCA", "Isomap", "LLE", "t-SNE", "AE-2D", "VAE-2D"}
    for spec, by_method in res["denoise"]["results"].items():
        assert {"noisy input", "NL-means", "AE", "DAE", "SDAE"} <= set(by_method), spec
        assert all(0.0 <= m["ssim"] <= 1.0 for m in by_method.values())
    speed = res["speed"]
    assert speed["matmul"]["gflops"] > 0 and speed["train_gflops"] > 0
    assert speed["memory"]["training"]["peak_kb"] > 0 and speed["memory"]["models_loaded"]["peak_kb"] > 0
    # each goal is a measured comparison, never a constant
    for g in res["goals"]:
        assert g["passed"] == ({"<=": g["measured"] <= g["target"], ">=": g["measured"] >= g["target"],
                                "<": g["measured"] < g["target"]}[g["op"]])
    meta = res["meta"]
    assert meta["machine"]["cpu_count"] >= 1 and meta["machine"]["torch_threads"] >= 1
    assert meta["settings"]["quick"] is True and meta["seed"] == 0


def test_unknown_section_is_refused(tmp_path, capsys):
    assert run.main(["--only", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown section" in capsys.readouterr().err
    assert not (tmp_path / "results.json").exists()


def test_goal_is_judged_from_the_measurement():
    assert run._goal("x", "n", 0.5, "<=", 0.55, "t")["passed"]
    assert not run._goal("x", "n", 0.6, "<=", 0.55, "t")["passed"]
    assert not run._goal("x", "n", float("nan"), ">=", 0.0, "t")["passed"]
