"""Reporting, apart from measuring: results as JSON-safe data and as Markdown (benchmarks/results.md).

`render_markdown(results)` reads only the results dict, so a results.json can be re-rendered without
measuring anything again: `python -c "import json, benchmarks.suite.report as r; print(r.render_markdown(json.load(open('benchmarks/results.json'))))"`.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np


def jsonable(o):
    if isinstance(o, dict):
        return {str(k): jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [jsonable(v) for v in o]
    if isinstance(o, np.ndarray):
        return jsonable(o.tolist())
    if isinstance(o, (np.floating, float)):
        return float(o)
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, np.bool_):
        return bool(o)
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return jsonable(dataclasses.asdict(o))
    if isinstance(o, (str, int, bool)) or o is None:
        return o
    return str(o)


def table(header: list[str], rows: list[list]) -> str:
    def cell(v):
        if isinstance(v, float):
            return f"{v:.3f}" if abs(v) < 10 else f"{v:.2f}" if abs(v) < 1000 else f"{v:,.0f}"
        return str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def _header(res: dict) -> list[str]:
    meta = res["meta"]
    mc = meta["machine"]
    ds = meta["dataset"]
    out = [
        "# Manifold Lab benchmarks", "",
        f"Written by `{meta['command']}` on {meta['date']} in {meta['wall_seconds']:.0f} s. Every figure below comes from "
        "that run (`benchmarks/results.json` holds all of them, with the grids and settings).", "",
        f"- Machine: {mc['cpu_model']}, {mc['cpus_usable']} usable cores, torch {mc['torch']} (torch threads: "
        f"{mc['torch_threads']}), {mc['platform']}; load average at start {', '.join(f'{v:.1f}' for v in mc['load_average_at_start'])}"
        + (f", at end {', '.join(f'{v:.1f}' for v in meta['load_average_at_end'])}" if meta.get("load_average_at_end") else "")
        + ".",
        f"- Data: `{ds['name']}`, {ds['n_train']} training / {ds['n_test']} held-out test images; seed {meta['seed']}.",
    ]
    # The 1-minute figures: the 5- and 15-minute averages still carry whatever ran before the run began.
    busy = max([mc["load_average_at_start"][0]] + meta.get("load_average_at_end", [])[:1], default=0.0)
    if busy > (mc["cpus_usable"] or 1):
        out += [f"- **The machine was shared during this run** (load average up to {busy:.1f} on {mc['cpus_usable']} cores): "
                "timings and throughputs are lower and noisier than on an idle machine; ratios measured in one run "
                "(interleaved repeats, best of each) are the figures to read."]
    if meta["settings"]["quick"]:
        out += ["- **Quick mode**: tiny sizes and 1 epoch, to check the code paths; the goals below are not meaningful here."]
    goals = res.get("goals", [])
    if goals:
        out += ["", "## Goals", "", table(["section", "goal", "measured", "target", "result"], [
            [g["section"], g["goal"], f"{g['measured']:.3f}", f"{g['op']} {g['target']:g}", "PASS" if g["passed"] else "FAIL"]
            for g in goals])]
        details = [f"- {g['name']}: {g['detail']}" for g in goals if g.get("detail")]
        out += [""] + details if details else []
    return out


def _recon(r: dict) -> list[str]:
    return ["## 1. Reconstruction (held-out test split)", "", table(
        ["model", "latent", "sq. error / image", "PSNR (dB)", "ratio to PCA", "epochs run", "train s"],
        [[x["model"], x["latent"], f"{x['sse']:.2f}", f"{x['psnr']:.2f}", f"{x['ratio_to_pca']:.3f}",
          x.get("epochs_run", "-"), f"{x['seconds']:.1f}"] for x in r["rows"]]), "", r["note"], "",
        f"Reference: {r['reference']}"]


def _embed(r: dict) -> list[str]:
    k = r.get("trust_k", 5)
    return ["## 2. 2-D embeddings (held-out test split)", "", table(
        ["method", "1-NN acc.", "5-NN acc.", f"trustworthiness ({k})", "silhouette", "seconds", "how"],
        [[x["method"], f"{x['knn1']:.3f}", f"{x['knn5']:.3f}", f"{x['trust']:.3f}", f"{x['silhouette']:.3f}",
          f"{x['seconds']:.1f}", x["note"]] for x in r["rows"]]),
        "", r["note"], "", f"kNN in pixel space (no reduction) for scale: 1-NN {r['pixel_space_knn']['knn1']:.3f}, "
        f"5-NN {r['pixel_space_knn']['knn5']:.3f}.", "", f"Reference: {r['reference']}"]


def _denoise(r: dict) -> list[str]:
    methods = list(next(iter(r["results"].values())))
    nlm = r.get("nlm", {})
    return ["## 3. Denoising (test split): PSNR dB / SSIM", "", table(
        ["method", *r["noises"]],
        [[m, *(f"{r['results'][n][m]['psnr']:.2f} / {r['results'][n][m]['ssim']:.3f}" for n in r["noises"])]
         for m in methods]), "",
        f"NL-means: patch {nlm.get('patch_size')}, distance {nlm.get('patch_distance')}, h chosen per noise on "
        f"{nlm.get('val_n')} validation images: "
        + ", ".join(f"{n}: {t['best_h']:g}" for n, t in r["nlm_tuning"].items()) + ".",
        "", r["note"], "", f"Reference: {r['reference']}"]


def _speed(r: dict) -> list[str]:
    rows = [[b, k, f"{v:,.0f}", f"{L['gflops'][k]:.1f}"] for b, L in r["loops"].items() for k, v in L["images_per_s"].items()]
    mem = r["memory"]
    mt, mm = mem["training"], mem["models_loaded"]
    return ["## 4. Speed", "",
            f"Model `{r['model']['kind']}` {r['model']['config']}: {r['model']['macs_forward']:,} multiply-adds per "
            f"image forward; torch threads: {r['torch_threads']}. Matmul ceiling (the fastest float32 n^3 matmul, "
            f"benchmarks/ceiling.py, the higher of its readings before and after the loops): "
            f"{r['matmul']['gflops']:.1f} GFLOP/s (before {r['matmul']['before']['gflops']:.1f}, after "
            f"{r['matmul']['after']['gflops']:.1f}).", "",
            "ae_core.train by batch size (images/s): " + ", ".join(
                f"{b}: {v:,.0f}" for b, v in r["batch_grid_images_per_s"].items())
            + f"; best batch {r['best_batch']} (the standard recipes train at {r['standard_batch']}).", "",
            table(["batch", "loop", "images / s", "GFLOP/s"], rows), "",
            *(f"- batch {b}: ae_core.train is {L['ratio_vs_bare']:.2f}x the bare loop and {L['ratio_vs_dataloader']:.2f}x "
              "the DataLoader loop (a reference figure: a per-item ToTensor loop, no goal)." for b, L in r["loops"].items()), "",
            f"Training at batch {r['best_batch']}: {r['train_gflops']:.1f} GFLOP/s = "
            f"{100 * r['flops_fraction_of_matmul']:.0f}% of the matmul.", "",
            table(["model", "encode (ms, median)", "what", "decode one point (ms, median)"],
                  [[k, f"{v['encode_ms']:.1f}", f"{v['encode_what']}, {v['n_test']} images", f"{v['decode_one_ms']:.3f}"]
                   for k, v in r["latency"].items()]), "",
            f"Peak RSS (VmHWM of a fresh subprocess, `python -m benchmarks.memprobe`): training {mt['peak_kb'] / 1024:.0f} MiB "
            f"(peak already {mt['after_data_kb'] / 1024:.0f} MiB after importing torch / ae_core and loading the data, "
            f"{mt['rss_after_data_kb'] / 1024:.0f} MiB resident then); all {len(mm['loaded'])} models in "
            f"`{Path(mm['models_root']).name}/` loaded: {mm['peak_kb'] / 1024:.0f} MiB (after import "
            f"{mm['after_import_kb'] / 1024:.0f} MiB, {mm['parameters']:,} parameters"
            + (f"; failed to load: {', '.join(mm['errors'])}" if mm['errors'] else "") + ").", "", r["note"]]


def _compress(r: dict) -> list[str]:
    keys = [k for k in ("codec", "setting", "bytes_file", "bytes_payload", "psnr", "ssim") if k in r["rows"][0]]
    fmt = {"bytes_file": "{:.1f}", "bytes_payload": "{:.1f}", "psnr": "{:.2f}", "ssim": "{:.3f}"}
    return ["## 5. Compression (ae_core.compress, test split)", "",
            table(keys, [[fmt[k].format(x[k]) if k in fmt and isinstance(x.get(k), (int, float)) else x.get(k)
                          for k in keys] for x in r["rows"]]), "",
            *(f"- vs {k}: {v.get('text', '')}" for k, v in r["crossover"].items()), "", r["note"]]


# section -> (title when skipped, renderer)
SECTIONS = {"recon": ("1. Reconstruction", _recon), "embed": ("2. 2-D embeddings", _embed),
            "denoise": ("3. Denoising", _denoise), "speed": ("4. Speed", _speed),
            "compress": ("5. Compression", _compress)}


def render_markdown(res: dict) -> str:
    out = _header(res)
    for name, (title, render) in SECTIONS.items():
        if name not in res:
            continue
        r = res[name]
        out += [""] + ([f"## {title}", "", f"Skipped: {r['skipped']}"] if "skipped" in r else render(r))
    errs = res.get("errors", {})
    if errs:
        out += ["", "## Errors", ""] + [f"- {k}: {v}" for k, v in errs.items()]
    return "\n".join(out) + "\n"


def write(res: dict, out_dir: Path) -> tuple[Path, Path]:
    """results.json and results.md in out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    j, m = out_dir / "results.json", out_dir / "results.md"
    j.write_text(json.dumps(res, indent=1, sort_keys=False, allow_nan=True) + "\n")
    m.write_text(render_markdown(res))
    return j, m
