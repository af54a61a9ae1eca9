"""The benchmark suite's quick mode: every section runs through ae_core's own functions and writes
figures that make sense (finite, in their ranges, consistent with each other), so the bench cannot rot."""
import ast
import json
import math
from pathlib import Path

import pytest

from ae_core import compress, denoise, embeddings
from benchmarks import run
from benchmarks.suite import report
from benchmarks.suite.settings import Settings, goal

SECTIONS = ("recon", "embed", "denoise", "speed", "compress")
SUITE = Path(run.__file__).parent / "suite"


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
    # Quick mode on a small slice of mnist-5k: every section, one epoch per model.
    rc = run.main(["--quick", "--quiet", "--n-train", "400", "--n-test", "120", "--out", str(out)])
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
    meta = res["meta"]
    assert meta["dataset"]["n_train"] == 400 and meta["dataset"]["n_test"] == 120
    assert meta["machine"]["cpu_count"] >= 1 and meta["machine"]["torch_threads"] >= 1
    assert meta["settings"]["quick"] is True and meta["seed"] == 0
    # The Markdown is rendered from the JSON alone, a section per measured section.
    md = (out / "results.md").read_text()
    assert md == report.render_markdown(res)
    for title in ("1. Reconstruction", "2. 2-D embeddings", "3. Denoising", "4. Speed", "5. Compression"):
        assert f"## {title}" in md, title


@pytest.mark.slow
def test_reconstruction_figures(quick):
    rows = quick[2]["recon"]["rows"]
    assert {(r["kind"], r["latent"]) for r in rows} >= {("pca", 2), ("linear", 2), ("ae", 2), ("conv", 2), ("vae", 2)}
    pca = next(r for r in rows if r["kind"] == "pca")
    for r in rows:
        assert 0 < r["sse"] < 784 and 0 < r["mse"] < 1 and 0 < r["psnr"] < 60, r["model"]
        assert r["ratio_to_pca"] == pytest.approx(r["sse"] / pca["sse"])
        assert r["psnr"] >= 10 * math.log10(1 / r["mse"]) - 1e-9  # mean of per-image PSNR >= PSNR of the mean MSE
        if r["kind"] != "pca":
            assert r["epochs_run"] == 1


@pytest.mark.slow
def test_embedding_figures_and_the_app_settings(quick):
    e = quick[2]["embed"]
    by = {r["method"]: r for r in e["rows"]}
    assert set(by) == {"PCA", "Isomap", "LLE", "t-SNE", "AE-2D", "VAE-2D"}
    for m, r in by.items():
        assert 0 <= r["knn1"] <= 1 and 0 <= r["knn5"] <= 1 and 0 <= r["trust"] <= 1, m
        assert -1 <= r["silhouette"] <= 1 and r["seconds"] >= 0, m
        if m in ("PCA", "Isomap", "LLE", "t-SNE"):  # ten classes: well above chance (the AEs had one epoch)
            assert r["knn1"] > 0.2, m
    # kNN reference points: every training point for PCA and the AEs, the fitted prefix for Isomap / LLE,
    # the jointly embedded prefix for t-SNE (embeddings' own TSNE_N_FIT).
    assert by["PCA"]["knn_train_n"] == by["AE-2D"]["knn_train_n"] == 400
    assert by["Isomap"]["knn_train_n"] == by["LLE"]["knn_train_n"] == e["manifold_fit_n"] == 300
    assert e["tsne_train_n"] == min(400, embeddings.TSNE_N_FIT) and e["tsne_test_n"] == 120
    assert by["PCA"]["recon_sse"] > 0 and by["Isomap"]["recon_sse"] is None
    pix = e["pixel_space_knn"]
    assert 0.5 < pix["knn1"] <= 1 and 0.5 < pix["knn5"] <= 1
    assert pix["knn1"] > by["PCA"]["knn1"]  # two linear coordinates lose most of what pixels tell apart


@pytest.mark.slow
def test_denoising_figures_and_recorded_settings(quick):
    d = quick[2]["denoise"]
    assert d["noises"] == ["gaussian:0.5", "masking:0.5"]
    for spec, r in d["results"].items():
        assert list(r) == ["noisy input", "median 3x3", "NL-means", "AE", "DAE", "SDAE"], spec
        for m, v in r.items():
            assert 0 < v["psnr"] < 60 and 0 <= v["ssim"] <= 1, (spec, m)
    # Under strong Gaussian noise (9 dB) every method improves on the noisy input it was given, even the
    # networks after one epoch (about 10 dB: little more than the mean digit).
    r = d["results"]["gaussian:0.5"]
    for m in ("median 3x3", "NL-means", "AE", "DAE", "SDAE"):
        assert r[m]["psnr"] > r["noisy input"]["psnr"], (m, r)
    assert r["median 3x3"]["psnr"] > r["noisy input"]["psnr"] + 3
    # The NL-means and median settings are the app's (ae_core.denoise's), written down with the run.
    assert d["nlm"]["patch_size"] == denoise.NLM_PATCH_SIZE and d["nlm"]["patch_distance"] == denoise.NLM_PATCH_DISTANCE
    assert d["nlm"]["h_grid"] == [0.1, 0.3] and d["nlm"]["val_n"] == 10 and d["median_size"] == denoise.MEDIAN_SIZE
    t = d["nlm_tuning"]["gaussian:0.5"]
    assert t["best_h"] in (0.1, 0.3) and t["val_psnr_by_h"][f"{t['best_h']:g}"] == max(t["val_psnr_by_h"].values())
    md = (quick[1] / "results.md").read_text()
    assert f"NL-means: patch {denoise.NLM_PATCH_SIZE}, distance {denoise.NLM_PATCH_DISTANCE}" in md
    # The SDAE row is labelled as the PSNR comparison it is.
    sdae = next(g for g in quick[2]["goals"] if g["name"].startswith("SDAE"))
    assert "PSNR" in sdae["goal"] and "features" in sdae["goal"]


@pytest.mark.slow
def test_speed_figures(quick):
    sp = quick[2]["speed"]
    assert sp["matmul"]["gflops"] > 0 and 0 < sp["train_gflops"] and sp["flops_fraction_of_matmul"] > 0
    assert set(sp["batch_grid_images_per_s"]) == {"64", "256"} and all(v > 0 for v in sp["batch_grid_images_per_s"].values())
    for b, L in sp["loops"].items():
        ips = L["images_per_s"]
        assert set(ips) == {"ae_core.train", "DataLoader (pytorch/examples)", "bare tensor loop"} and min(ips.values()) > 0
        assert L["ratio_vs_bare"] == pytest.approx(ips["ae_core.train"] / ips["bare tensor loop"])
    assert all(v["encode_ms"] > 0 and 0 < v["decode_one_ms"] < 1000 for v in sp["latency"].values())
    mt, mm = sp["memory"]["training"], sp["memory"]["models_loaded"]
    assert 0 < mt["after_data_kb"] <= mt["peak_kb"] and 0 < mm["after_import_kb"] <= mm["peak_kb"]
    assert mm["loaded"] and not mm["errors"] and mm["parameters"] > 0
    # The DataLoader loop is a reference figure: no goal rests on it (issue 17).
    speed_goals = [g for g in quick[2]["goals"] if g["section"] == "speed"]
    assert speed_goals and not any("DataLoader" in g["goal"] or "DataLoader" in g["name"] for g in speed_goals)


@pytest.mark.slow
def test_compression_figures(quick):
    c = quick[2]["compress"]
    rows = c["rows"]
    codecs = {r["codec"] for r in rows}
    assert codecs == {"AE AE-2", "JPEG", "WebP"} and c["models"] == ["AE-2"]
    for r in rows:
        assert 0 < r["bytes_payload"] <= r["bytes_file"] and 0 < r["psnr"] <= 100 and 0 <= r["ssim"] <= 1, r
    ae = [r for r in rows if r["codec"] == "AE AE-2"]
    assert sorted(r["bits"] for r in ae) == sorted(compress.AE_BITS)
    assert all(r["bytes_file"] == math.ceil(2 * r["bits"] / 8) for r in ae)
    # More JPEG quality costs more bytes and scores higher.
    jpeg = sorted((r for r in rows if r["codec"] == "JPEG"), key=lambda r: r["quality"])
    assert [r["quality"] for r in jpeg] == sorted(compress.JPEG_QUALITIES)
    assert jpeg[-1]["bytes_file"] > jpeg[0]["bytes_file"] and jpeg[-1]["psnr"] > jpeg[0]["psnr"]
    assert set(c["crossover"]) == {"JPEG", "WebP"} and all(v["text"] for v in c["crossover"].values())


@pytest.mark.slow
def test_goals_are_judged_from_their_measurements(quick):
    goals = quick[2]["goals"]
    assert {g["section"] for g in goals} >= {"recon", "embed", "denoise", "speed"}
    for g in goals:
        assert g["passed"] == ({"<=": g["measured"] <= g["target"], ">=": g["measured"] >= g["target"],
                                "<": g["measured"] < g["target"]}[g["op"]])
    by = {r["method"]: r for r in quick[2]["embed"]["rows"]}
    knn = next(g for g in goals if g["section"] == "embed")
    assert knn["measured"] == pytest.approx(by["AE-2D"]["knn5"] - by["PCA"]["knn5"])


def test_unknown_section_is_refused(tmp_path, capsys):
    assert run.main(["--only", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown section" in capsys.readouterr().err
    assert not (tmp_path / "results.json").exists()


def test_goal_is_judged_from_the_measurement():
    assert goal("x", "n", 0.5, "<=", 0.55, "t")["passed"]
    assert not goal("x", "n", 0.6, "<=", 0.55, "t")["passed"]
    assert not goal("x", "n", float("nan"), ">=", 0.0, "t")["passed"]


def test_settings_default_to_the_apps():
    s = Settings()
    assert (s.nlm_patch_size, s.nlm_patch_distance, s.nlm_h_grid, s.median_size) == (
        denoise.NLM_PATCH_SIZE, denoise.NLM_PATCH_DISTANCE, denoise.NLM_H_GRID, denoise.MEDIAN_SIZE)
    assert s.manifold_fit_n == embeddings.N_FIT


def test_sections_measure_through_ae_core_not_their_own_copies():
    """No section imports scikit-learn, scikit-image or scipy: every metric, embedding and filter is
    ae_core's (the app's) function."""
    for path in SUITE.glob("*.py"):
        tree = ast.parse(path.read_text())
        mods = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        mods |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        own = {m for m in mods if m.split(".")[0] in ("sklearn", "skimage", "scipy")}
        if path.name == "common.py":  # machine_info reads their versions
            own -= {"sklearn", "skimage", "scipy"}
        assert not own, (path.name, own)
