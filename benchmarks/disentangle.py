"""Disentanglement on `sprites`, measured over seeds: MIG, SAP and DCI per model kind, mean ± std.

    .venv/bin/python -m benchmarks.disentangle [--seeds 0 1 2] [--dataset sprites] [--kinds ae vae beta-vae]
                                               [--save-shipped | --reuse-shipped] [--fresh]

For each of the dataset's shipped recipes (`ae_core.workflow.SHIPPED`: the same 10-D MLP as a plain
AE, a VAE and a β-VAE with β = 4) and each seed, it trains the recipe (`workflow.train_recipe`, seed 0
is exactly the shipped model; `--save-shipped` stores those into models/) and scores the encoder means
of the held-out split against the true factors with `ae_core.groundtruth.score`, the function behind
the Generate page: MIG and SAP on the 5,000 test images, DCI's trees fitted on 5,000 training codes.
Locatello et al. (2019) showed that the seed matters as much as the model, so every figure is a mean
over seeds with its standard deviation, and the published ranges stand beside them.

It goes seed by seed and merges each result into benchmarks/disentangle_results.json (and .md) as soon
as it has it; a run that is stopped resumes where it was (`--fresh` starts over). A client of ae_core only.
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from ae_core import data, groundtruth, store, workflow

OUT = Path(__file__).resolve().parent / "disentangle_results"
METRICS = ("mig", "sap", "dci_disentanglement", "dci_completeness", "dci_informativeness")
GOAL = {"beta_vae_mig_min": 0.2, "beta_vae_mig_above_ae": True}
# Locatello et al. 2019, "Challenging Common Assumptions in the Unsupervised Learning of Disentangled
# Representations" (ICML), Figure 13 (appendix): violin plots of each score for each method on each data set,
# 50 models per method (6 hyperparameter values × 50 seeds... of which their β-VAE row spans β ∈ {1, 2, 4, 6,
# 8, 16}), convolutional encoders on 64×64 dSprites, 300,000 steps. The ranges below are the bulk of the
# dSprites violins for β-VAE, read by eye (about ±0.05): not a table of the paper. Plain AEs and a separate
# β = 1 VAE are not in the study (β = 1 is the lowest of the β-VAE settings).
PUBLISHED = {
    "beta-vae": {"source": "Locatello et al. 2019, Fig. 13 (dSprites, β-VAE, read by eye)",
                 "mig": "0.05–0.35", "sap": "0.01–0.08", "dci_disentanglement": "0.10–0.45"},
}


def recipes_for(dataset: str) -> list[workflow.Recipe]:
    return [r for r in workflow.SHIPPED if r.dataset == dataset]


def run(dataset: str, seeds: list[int], save_shipped: bool, epochs_scale: float, kinds=None, out: Path | None = None,
        reuse_shipped: bool = False, log=print) -> dict:
    """Train and score each (recipe, seed) of the dataset's recipes (only `kinds`, when given), seed by seed, so
    that a run cut short still covers every kind. With `out`, the results so far are merged into out.json after
    every model and the (model, seed) pairs already there are skipped: a killed run resumes. With
    `reuse_shipped`, seed 0 is the stored shipped model (the recipe's own seed-0 result) scored, not retrained."""
    ds = data.load_dataset(dataset)
    done = _load_rows(out)
    for seed in seeds:
        for r in recipes_for(dataset):
            if (kinds and r.kind not in kinds) or any((x["model"], x["seed"]) == (r.name, seed) for x in done):
                continue
            t0 = time.perf_counter()
            model, sse = None, None
            if reuse_shipped and seed == 0:
                try:
                    model, meta = store.load(r.name)
                    sse = meta["metrics"]["test"]["sse"]
                except store.CheckpointError:
                    model = None
            if model is None:
                res = workflow.train_recipe(r, seed=seed, epochs_scale=epochs_scale)
                if save_shipped and seed == 0 and epochs_scale == 1.0:
                    workflow.save_result(res, r.name, description=r.description)
                model, sse = res.model, res.metrics["test"]["sse"]
            s = groundtruth.score(model, ds)
            row = {"model": r.name, "kind": r.kind, "seed": seed, **s.summary(),
                   "mig_per_factor": dict(zip(s.factor_names, np.round(s.mig_per_factor, 4).tolist())),
                   "test_sse": sse, "seconds": round(time.perf_counter() - t0, 1)}
            done = [x for x in _load_rows(out) if (x["model"], x["seed"]) != (r.name, seed)] + [row] if out else done + [row]
            if out:
                _write(out, summarise(dataset, done, epochs_scale))
            log(f"{r.name:24s} seed {seed}  " + "  ".join(f"{m} {row[m]:.3f}" for m in METRICS)
                + f"  sse {row['test_sse']:.1f}  {row['seconds']:.0f}s", flush=True)
    return summarise(dataset, done, epochs_scale)


def _load_rows(out: Path | None) -> list[dict]:
    p = None if out is None else Path(out).with_suffix(".json")
    return json.loads(p.read_text())["runs"] if p is not None and p.exists() else []


def _write(out: Path, res: dict) -> None:
    out = Path(out)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(res, indent=2, sort_keys=True) + "\n")
    tmp.replace(out.with_suffix(".json"))
    out.with_suffix(".md").write_text(markdown(res))


def summarise(dataset: str, rows: list[dict], epochs_scale: float = 1.0) -> dict:
    """Mean ± std over seeds per recipe, the goal, the published ranges: the result file's content."""
    summary = {}
    for r in recipes_for(dataset):
        mine = [x for x in rows if x["model"] == r.name]
        if not mine:
            continue
        summary[r.name] = {"kind": r.kind, "n_seeds": len(mine),
                           **{m: {"mean": float(np.mean([x[m] for x in mine])), "std": float(np.std([x[m] for x in mine]))}
                              for m in METRICS}}
    by_kind = {v["kind"]: v for v in summary.values()}
    goal = None
    if "beta-vae" in by_kind and "ae" in by_kind:
        b, a = by_kind["beta-vae"]["mig"]["mean"], by_kind["ae"]["mig"]["mean"]
        goal = {"beta_vae_mig": b, "ae_mig": a, "met": bool(b >= GOAL["beta_vae_mig_min"] and b > a)}
    return {"dataset": dataset, "seeds": sorted({x["seed"] for x in rows}), "epochs_scale": epochs_scale, "runs": rows, "summary": summary,
            "goal": goal, "published": PUBLISHED, "machine": {"python": platform.python_version(),
                                                              "torch": torch.__version__, "threads": torch.get_num_threads()},
            "date": time.strftime("%Y-%m-%d")}


def markdown(res: dict) -> str:
    names = {"mig": "MIG", "sap": "SAP", "dci_disentanglement": "DCI dis.", "dci_completeness": "DCI compl.",
             "dci_informativeness": "DCI inform. (R²)"}
    lines = [f"Disentanglement on `{res['dataset']}`, mean ± std over seeds {res['seeds']} "
             "(`python -m benchmarks.disentangle`; encoder means of the held-out split):", "",
             "| model | kind | seeds | " + " | ".join(names[m] for m in METRICS) + " | published (Locatello et al. 2019) |",
             "|---|---|---|" + "---|" * len(METRICS) + "---|"]
    for name, v in res["summary"].items():
        pub = PUBLISHED.get(v["kind"])
        pub_s = (f"MIG {pub['mig']}, SAP {pub['sap']}, DCI dis. {pub['dci_disentanglement']}" if pub
                 else "not in the study")
        lines.append(f"| `{name}` | {v['kind']} | {v['n_seeds']} | " + " | ".join(f"{v[m]['mean']:.3f} ± {v[m]['std']:.3f}" for m in METRICS)
                     + f" | {pub_s} |")
    if res["goal"]:
        g = res["goal"]
        lines += ["", f"Goal (β-VAE's mean MIG ≥ {GOAL['beta_vae_mig_min']} and above the AE's): β-VAE {g['beta_vae_mig']:.3f}, "
                  f"AE {g['ae_mig']:.3f}: **{'met' if g['met'] else 'not met'}**."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="sprites")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--save-shipped", action="store_true", help="store seed 0 of each recipe into models/")
    p.add_argument("--epochs-scale", type=float, default=1.0)
    p.add_argument("--kinds", nargs="+", help="only these kinds (default: every recipe of the dataset)")
    p.add_argument("--fresh", action="store_true", help="start over instead of resuming from the .json")
    p.add_argument("--reuse-shipped", action="store_true", help="seed 0: score the stored shipped model")
    p.add_argument("--out", default=str(OUT), help="path without suffix: .json and .md are written")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    out = Path(a.out)
    if a.fresh:
        out.with_suffix(".json").unlink(missing_ok=True)
    res = run(a.dataset, a.seeds, a.save_shipped, a.epochs_scale, a.kinds, out, a.reuse_shipped)
    print(markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
