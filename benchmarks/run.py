"""The benchmark suite: every quality and speed figure the README quotes, measured in one run.

    python -m ae_core bench                      # full run on mnist-5k, writes benchmarks/results.{json,md}
    python -m ae_core bench --quick --out /tmp/b # tiny sizes, same code paths (tests/test_bench.py runs it)
    python -m benchmarks.run --only recon,speed --dataset digits

Sections (each on the dataset's held-out test split, fixed seeds; one module each in benchmarks/suite/):
    recon    held-out squared error per image and PSNR: PCA, linear AE, AE, conv AE, VAE at each latent dim
    embed    2-D embeddings: kNN accuracy (k = 1, 5), trustworthiness (k = 5) and silhouette: PCA, Isomap,
             LLE, t-SNE, AE, VAE
    denoise  PSNR / SSIM under five corruptions: noisy input, median filter, non-local means, AE, DAE, SDAE
    speed    training throughput vs a bare loop (and a DataLoader loop, for reference), FLOP/s vs a big
             matmul, encode / decode latency, peak memory of training and of the loaded model store
    compress the AE codec vs JPEG / WebP at equal bytes (ae_core.compress)

Every figure is measured by ae_core's own functions, the ones the app and the CLI call (metrics,
evaluate, embeddings, denoise, compress), with the app's settings unless a setting says otherwise;
every setting is written into results.json. Goals are checked against the measured figure, never
typed in. This file is the entry point: flags, the run's metadata, and the loop over sections.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import shlex
import sys
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python benchmarks/run.py` from anywhere
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from ae_core import data as data_mod  # noqa: E402
from benchmarks.suite import SECTIONS as SECTION_FNS  # noqa: E402
from benchmarks.suite import report  # noqa: E402
from benchmarks.suite.common import machine_info, subset  # noqa: E402
from benchmarks.suite.settings import Log, Settings  # noqa: E402

SECTIONS = tuple(SECTION_FNS)


def _command_line(argv: list[str]) -> str:
    """How this run was started, as a person would type it."""
    prog = sys.argv[0] if sys.argv else ""
    if prog.endswith(os.path.join("ae_core", "__main__.py")):
        return "python -m ae_core " + shlex.join(sys.argv[1:])
    if prog.endswith(os.path.join("benchmarks", "run.py")):
        return "python -m benchmarks.run " + shlex.join(sys.argv[1:])
    # called as a function (a test, a notebook): the arguments it was given
    return f"benchmarks.run.main({argv!r}) from {Path(prog).name or 'python'}"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ae_core bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes, 1 epoch: checks the code paths (CI)")
    p.add_argument("--dataset", default=data_mod.DEFAULT, help=f"registry name (default {data_mod.DEFAULT})")
    p.add_argument("--only", help=f"comma-separated sections from {','.join(SECTIONS)} (default: all)")
    p.add_argument("--out", default=str(ROOT / "benchmarks"), help="folder for results.json and results.md")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, help="cap every model's epochs, early stopping still on (default 50; quick 1; "
                   "0 = no cap: standard_config's own)")
    p.add_argument("--dims", help="comma-separated latent dims for reconstruction (default 2,8,30)")
    p.add_argument("--n-train", type=int, help="use the first N training images")
    p.add_argument("--n-test", type=int, help="use the first N test images")
    p.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's choice)")
    p.add_argument("--models", help="model folder for the loaded-models memory figure (default: the shipped models)")
    p.add_argument("--quiet", action="store_true")
    return p


def settings_from_args(a: argparse.Namespace) -> Settings:
    kw = dict(dataset=a.dataset, seed=a.seed, epochs=a.epochs, n_train=a.n_train, n_test=a.n_test,
              models_root=a.models, threads=a.threads)
    if a.dims:
        kw["dims"] = tuple(int(d) for d in a.dims.split(","))
    s = Settings.quick_mode(**kw) if a.quick else Settings(**{k: v for k, v in kw.items() if v is not None})
    if s.epochs == 0:
        s.epochs = None
    return s


def _warn_if_busy(log: Log, threads: int | None) -> None:
    try:
        load1 = os.getloadavg()[0]
        usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        if load1 > usable and not threads:
            log(f"bench: WARNING load average {load1:.1f} on {usable} cores: with several torch threads the timings "
                "collapse when other processes compete; consider --threads 1")
    except OSError:
        pass


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--"]:  # `python -m ae_core bench -- --quick`: the CLI passes its separator through
        argv = argv[1:]
    a = build_parser().parse_args(argv)
    only = SECTIONS if not a.only else tuple(x.strip() for x in a.only.split(",") if x.strip())
    bad = set(only) - set(SECTIONS)
    if bad:
        print(f"error: unknown section(s) {sorted(bad)}; choose from {', '.join(SECTIONS)}", file=sys.stderr)
        return 2
    if a.threads:
        torch.set_num_threads(a.threads)
    s = settings_from_args(a)
    log = Log(a.quiet)
    torch.manual_seed(s.seed)
    np.random.seed(s.seed)
    try:
        full = data_mod.load_dataset(s.dataset)
    except data_mod.DatasetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    ds = subset(full, s.n_train, s.n_test)
    log(f"bench: {'quick' if s.quick else 'full'} run on {ds.name} ({len(ds.x_train)} train / {len(ds.x_test)} test), "
        f"sections {','.join(only)}, {torch.get_num_threads()} torch threads")
    _warn_if_busy(log, a.threads)
    started = datetime.datetime.now(datetime.timezone.utc)
    t_all = time.perf_counter()
    res: dict[str, Any] = {
        "meta": {
            "date": started.isoformat(timespec="seconds"),
            "command": _command_line(argv),
            "argv": argv, "seed": s.seed, "machine": machine_info(), "settings": dataclasses.asdict(s),
            "dataset": {"name": ds.name, "n_train": len(ds.x_train), "n_test": len(ds.x_test),
                        "split": full.split_info(), "sample_shape": list(ds.sample_shape)},
            "seeds": {"everything": s.seed, "noise_test": "seed + 100 + noise index", "noise_val": "seed + 200 + noise index",
                      "split": data_mod.SPLIT_SEED},
            "section_seconds": {},
        },
        "goals": [], "errors": {},
    }
    cache: dict = {}  # trained models, shared by the sections
    for name, measure in SECTION_FNS.items():
        if name not in only:
            continue
        t0 = time.perf_counter()
        log(f"== {name}")
        try:
            body, goals = measure(ds, s, cache, log)
        except Exception as e:  # one broken section is reported, the others still run
            res["errors"][name] = f"{type(e).__name__}: {e}"
            log(f"{name} FAILED: {type(e).__name__}: {e}\n{traceback.format_exc()}")
            continue
        res[name] = body
        res["goals"] += goals
        res["meta"]["section_seconds"][name] = round(time.perf_counter() - t0, 1)
        log(f"== {name} done in {time.perf_counter() - t0:.1f}s")
    res["meta"]["wall_seconds"] = round(time.perf_counter() - t_all, 1)
    try:
        res["meta"]["load_average_at_end"] = list(os.getloadavg())
    except OSError:
        pass
    res = report.jsonable(res)
    j, m = report.write(res, Path(a.out))
    log(f"bench: wrote {j} and {m} in {res['meta']['wall_seconds']:.0f}s")
    for g in res["goals"]:
        log(f"  {'PASS' if g['passed'] else 'FAIL'}  {g['goal']}: {g['measured']:.3f} ({g['op']} {g['target']:g})")
    return 1 if res["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
