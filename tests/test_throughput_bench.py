"""benchmarks/throughput.py on tiny sizes: the figures it writes are there, consistent and judged."""
import json

import pytest

from benchmarks import throughput


def test_quick_run_writes_rows_a_goal_and_a_step_breakdown(tmp_path):
    assert throughput.main(["--quick", "--no-gpu", "--out", str(tmp_path)]) == 0
    res = json.loads((tmp_path / "throughput_results.json").read_text())
    rows = res["cpu"]["64"]
    assert set(rows) == {f"ae_core.train ({i})" for i in throughput.IMPLS} | {
        "bare tensor loop", "ae_core.train (auto, autograd backward)"}
    for r in rows.values():
        assert r["images_per_s"] > 0 and r["fraction_of_matmul"] == pytest.approx(
            r["images_per_s"] * res["model"]["train_flops_per_image"] / (res["matmul"]["gflops"] * 1e9))
    goal = res["goal"]
    assert goal["measured"] == rows["ae_core.train (auto)"]["fraction_of_matmul"]
    assert res["matmul"]["gflops"] == max(res["matmul"]["before"]["gflops"], res["matmul"]["after"]["gflops"])
    assert goal["result"] == ("PASS" if goal["measured"] >= throughput.GOAL_FRACTION else "FAIL")
    bd = res["breakdown"]
    shares = [bd["gemm"], bd["optimizer"], bd["other"]]
    assert all(0 < s < 1 for s in shares) and sum(shares) == pytest.approx(1.0)
    assert bd["gemm_fraction_of_matmul"] > 0
    md = (tmp_path / "throughput_results.md").read_text()
    assert "Where a batch-64 step goes" in md and goal["result"] in md
    va = res["variants"]
    assert set(va["rows"]) == {k for k in throughput.VARIANTS if not k.startswith("compile")}  # quick: no compiling
    for v in va["rows"].values():
        assert v["ms_per_step"] > 0 and v["images_per_s"] == pytest.approx(64 / (v["ms_per_step"] / 1e3))
    assert va["adam_stream_ms"] == pytest.approx(28 * va["params"] / (va["copy_gb_per_s"] * 1e9) * 1e3)
    assert va["goal_step_ms"] == pytest.approx(va["gemm_at_ceiling_ms"] / throughput.GOAL_FRACTION)
    assert "Other ways to take a batch-64 step" in md and "Adam in backward" in md and "hand-derived backward" in md
    assert 0 < va["bound_fraction"] < 1
    al = va["alone"]
    layers = [m for m in throughput._fresh((1, 28, 28), 0)[0].modules() if isinstance(m, throughput.torch.nn.Linear)]
    assert len(al["products"]) == 3 * len(layers) - 1  # the first layer needs no input gradient
    assert al["gemm_ms"] == pytest.approx(sum(r["ms"] for r in al["products"])) and al["adam_ms"] > 0
    assert al["bound_fraction"] == pytest.approx(va["gemm_at_ceiling_ms"] / (al["gemm_ms"] + al["adam_ms"]))
    assert "timed alone" in md and al["products"][0]["layer"] in md


def test_rows_are_timed_in_turn_reversed_every_other_repeat(monkeypatch):
    """A fixed order favours the row timed later (README), so each repeat reverses the last one's order."""
    calls = []
    monkeypatch.setattr(throughput, "time_ae_core", lambda x, b, e, impl, dev, seed, backward="auto": calls.append(
        (b, f"{impl}/{backward}")) or 1.0)
    monkeypatch.setattr(throughput, "time_bare", lambda x, b, e, dev, seed: calls.append((b, "bare")) or 1.0)
    x = throughput.np.zeros((20, 1, 28, 28), throughput.np.float32)
    throughput.measure(x, [64, 256], 1, 3, "cpu", 0, impls=("auto", "fused"))
    timed = calls[3:]  # after the warm-up of each implementation and the bare loop
    one = ["auto/auto", "fused/auto", "auto/autograd", "bare"]
    assert timed == [(b, k) for order in (one, one[::-1], one) for b in (64, 256) for k in order]
