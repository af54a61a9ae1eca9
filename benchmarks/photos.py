"""Photos and scans: how well uploads of photographed digits survive preprocessing, measured.

    .venv/bin/python -m benchmarks.photos [--n 500] [--seed 0] [--models ae-2d,dae,...]

On a seeded set of photographed digits (``ae_core.data.photographed.make_set``: held-out mnist-5k test
digits and font digits on generated paper, lit, rotated, blurred, noised, JPEG'd, some inverted, some
stored sideways with an EXIF tag), it measures:

* the fraction whose preprocessed ink spans at least ``images.MNIST_SIZED`` (16) of 28 pixels, for the
  old method (``images.ink_levels_mnist``) and for the upload path (``images.prepare_upload``);
* each shipped model's latent 5-NN label accuracy (``metrics.knn_accuracy``: a kNN fitted on the model's
  codes of its own training split, e.g. mnist-5k's 4,000 training digits) on the photos, next to the same figure on the clean test
  split and on the photos' own clean sources;
* the PSNR (``metrics.psnr``) against the source digit, where there is one, of the preprocessed photo
  and of each model's output on it (``denoise.denoise_with``).

A client of ae_core only: every number comes from ae_core's own functions. Writes
benchmarks/photos_results.json and prints a Markdown table.
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from ae_core import data, denoise, evaluate, images, metrics, store, workflow
from ae_core.data import photographed

OUT = Path(__file__).resolve().parent / "photos_results.json"
GOALS = {"mnist_sized": 0.95, "knn_gap": 0.10}


def preprocess_set(photos: photographed.PhotoSet) -> dict:
    """Both methods on every photo: the 28x28 digits (new path), the spans, the messages."""
    x, old_span, new_span, found, multi, messages = [], [], [], [], [], []
    for f in photos.files:
        grey = images.decode_image(f)
        old_span.append(images.ink_span(images.ink_levels_mnist(grey)))
        prep = images.prepare_upload(f, (1, 28, 28), mode="auto")
        found.append(prep.ok)
        multi.append(prep.steps.candidates > 1)
        messages.append(prep.message)
        digit = prep.x if prep.ok else np.zeros((1, 28, 28), np.float32)
        new_span.append(images.ink_span(digit))
        x.append(digit)
    return {"x": np.stack(x).astype(np.float32), "old_span": np.asarray(old_span), "new_span": np.asarray(new_span),
            "found": np.asarray(found), "multi": np.asarray(multi), "messages": messages}


def measure_model(model, name: str, ds, photos: photographed.PhotoSet, x_photo: np.ndarray) -> dict:
    """One model's 5-NN accuracy (kNN fitted on its codes of its own training split) on the clean test
    split, on the photos, on the photos' clean sources; the PSNR of its output on the photos."""
    z_train = evaluate.encode(model, ds.x_train)
    has = photos.has_source

    def knn5(x, y):
        return metrics.knn_accuracy(z_train, ds.y_train, evaluate.encode(model, x), y, 5)

    return {"model": name, "kind": model.kind, "latent": int(model.latent_dim),
            "knn5_clean_test": knn5(ds.x_test, ds.y_test), "knn5_photos": knn5(x_photo, photos.labels),
            "knn5_photos_mnist_only": knn5(x_photo[has], photos.labels[has]),
            "knn5_photo_sources": knn5(photos.sources[has], photos.labels[has]),
            "psnr_denoised": float(np.mean(metrics.psnr(photos.sources[has],
                                                        denoise.denoise_with(model, x_photo[has]))))}


def measure_set(dataset: str, models: dict, n: int, seed: int) -> dict:
    """The photographed set made from `dataset`'s test split, preprocessed both ways, and every model
    trained on `dataset` measured on it."""
    ds = data.load_dataset(dataset)
    photos = photographed.make_set(n, seed, dataset=dataset)
    prep = preprocess_set(photos)
    has = photos.has_source
    rows = [measure_model(m, nm, ds, photos, prep["x"]) for nm, m in models.items()]
    best = max(rows, key=lambda r: r["knn5_photos"])
    after = float(np.mean(prep["new_span"] >= images.MNIST_SIZED))
    return {
        "dataset": dataset, "n": n, "seed": seed, "fonts": photos.fonts,
        "n_mnist": int(has.sum()), "n_font": int((~has).sum()),
        "inverted": int(sum(p["invert"] for p in photos.params)), "exif": int(sum(p["exif"] for p in photos.params)),
        "jpeg": int(sum(p["fmt"] == "JPEG" for p in photos.params)),
        "mnist_sized_before": float(np.mean(prep["old_span"] >= images.MNIST_SIZED)),
        "mnist_sized_after": after,
        "median_span_before": float(np.median(prep["old_span"])),
        "median_span_after": float(np.median(prep["new_span"])),
        "no_digit_found": int((~prep["found"]).sum()), "several_found": int(prep["multi"].sum()),
        "psnr_preprocessed_vs_source": float(np.mean(metrics.psnr(photos.sources[has], prep["x"][has]))),
        "models": rows, "best_model": best["model"],
        "goals": {
            "mnist_sized_after >= 0.95": after >= GOALS["mnist_sized"],
            "best model's knn5 on photos within 0.10 of clean test":
                best["knn5_clean_test"] - best["knn5_photos"] <= GOALS["knn_gap"],
        },
    }


def run(n: int = 500, seed: int = 0, names: list[str] | None = None) -> dict:
    """Every named model (default: the shipped ones that are in the model folder), grouped by the
    dataset it was trained on; one photographed set per dataset, from that dataset's test split."""
    t0 = time.time()
    names = names or [r.name for r in workflow.SHIPPED]
    by_dataset: dict[str, dict] = {}
    missing = []
    for nm in names:
        try:
            model, meta = store.load(nm)
        except store.CheckpointError:
            missing.append(nm)
            continue
        if tuple(model.input_shape) != (1, 28, 28):
            continue
        by_dataset.setdefault(meta.get("dataset", {}).get("name", "mnist-5k"), {})[nm] = model
    sets = [measure_set(dsname, models, n, seed) for dsname, models in sorted(by_dataset.items())]
    return {"sets": sets, "missing_models": missing, "seconds": round(time.time() - t0, 1),
            "python": platform.python_version(), "machine": platform.machine()}


def markdown(res: dict) -> str:
    lines = []
    for st in res["sets"]:
        lines += [f"**{st['dataset']}**: {st['n']} photographed digits (seed {st['seed']}; {st['n_mnist']} "
                  f"{st['dataset']} test digits, {st['n_font']} font digits; {st['inverted']} light-on-dark, "
                  f"{st['exif']} EXIF-rotated, {st['jpeg']} JPEG)", "",
                  "| preprocessing | MNIST-sized (ink spans >= 16 px) | median ink span (px) |", "|---|---|---|",
                  f"| before (border median + levels) | {st['mnist_sized_before']:.1%} | {st['median_span_before']:.0f} |",
                  f"| after (`images.prepare_upload`) | **{st['mnist_sized_after']:.1%}** | "
                  f"{st['median_span_after']:.0f} |", "",
                  f"No digit found: {st['no_digit_found']}; several digits reported: {st['several_found']}. "
                  f"Preprocessed photo vs its source digit: {st['psnr_preprocessed_vs_source']:.2f} dB.", "",
                  "| model | 5-NN acc., clean test | 5-NN acc., photos | gap (points) | photos' clean sources "
                  "| denoised PSNR vs source (dB) |", "|---|---|---|---|---|---|"]
        for r in st["models"]:
            gap = 100 * (r["knn5_clean_test"] - r["knn5_photos"])
            lines.append(f"| `{r['model']}` | {r['knn5_clean_test']:.3f} | {r['knn5_photos']:.3f} | {gap:+.1f} | "
                         f"{r['knn5_photo_sources']:.3f} | {r['psnr_denoised']:.2f} |")
        lines += ["", "| goal | result |", "|---|---|"]
        lines += [f"| {k} | {'PASS' if v else 'FAIL'} |" for k, v in st["goals"].items()] + [""]
    if res["missing_models"]:
        lines.append(f"Not in the model folder (skipped): {', '.join(res['missing_models'])}.")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=500)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--models", default="", help="comma-separated model names (default: the shipped models)")
    p.add_argument("--out", default=str(OUT))
    a = p.parse_args(argv)
    res = run(a.n, a.seed, [m for m in a.models.split(",") if m] or None)
    Path(a.out).write_text(json.dumps(res, indent=2, sort_keys=True) + "\n")
    print(markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
