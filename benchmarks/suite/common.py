"""What the sections share: the data subset, the standard models (trained once per run and cached),
and a description of the machine."""
from __future__ import annotations

import dataclasses
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from ae_core import data as data_mod
from ae_core import models, workflow
from ae_core.training import TrainConfig

from .settings import Log, Settings


def subset(ds: data_mod.Dataset, n_train: int | None, n_test: int | None) -> data_mod.Dataset:
    """The first n of each split (splits are shuffled and stratified, so prefixes stay balanced)."""
    if n_train is None and n_test is None:
        return ds
    tr, te = slice(n_train), slice(n_test)
    return dataclasses.replace(
        ds, x_train=ds.x_train[tr], y_train=ds.y_train[tr], x_test=ds.x_test[te], y_test=ds.y_test[te],
        t_train=None if ds.t_train is None else ds.t_train[tr], t_test=None if ds.t_test is None else ds.t_test[te])


def train_standard(kind: str, latent: int, ds: data_mod.Dataset, s: Settings, cache: dict, log: Log,
                   **extra) -> workflow.TrainResult:
    """Train `kind` with workflow.standard_config at `latent` (epochs capped by s.epochs) through
    workflow.train_on, the app's and the CLI's path; cached per run, so sections share models."""
    key = (kind, latent, tuple(sorted(extra.items())))
    if key in cache:
        return cache[key]
    overrides, tkw = workflow.standard_config(kind, latent)
    overrides = {**overrides, **extra}
    tkw = {**tkw, "seed": s.seed}
    if s.epochs is not None:
        tkw["epochs"] = s.epochs
    t0 = time.perf_counter()
    res = workflow.train_on(kind, ds, TrainConfig(**tkw), **overrides)
    res.wall_seconds = time.perf_counter() - t0  # type: ignore[attr-defined]
    res.overrides = overrides  # type: ignore[attr-defined]
    epochs_run = sum(len(st.train) for st in res.history.stages)
    log(f"  trained {kind}-{latent}d {overrides} in {res.wall_seconds:.1f}s ({epochs_run} epochs over "
        f"{len(res.history.stages)} stage(s)); test sq.err {res.metrics['test']['sse']:.2f}")
    cache[key] = res
    return res


def history_summary(res: workflow.TrainResult) -> dict:
    return {
        "stages": [{"name": st.name, "epochs_run": len(st.train), "best_epoch": st.best_epoch + 1,
                    "seconds": round(st.seconds, 2)} for st in res.history.stages],
        "epochs_run": sum(len(st.train) for st in res.history.stages),
        "train_seconds": round(res.history.seconds, 2),
        "train_config": dataclasses.asdict(res.train_config),
        "model_config": models.config_to_dict(res.model.config),
    }


def machine_info() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    try:
        load = list(os.getloadavg())
    except OSError:
        load = []
    import scipy
    import skimage
    import sklearn

    return {
        "platform": platform.platform(), "python": platform.python_version(), "cpu_model": cpu,
        "cpu_count": os.cpu_count(), "cpus_usable": affinity, "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(), "load_average_at_start": load,
        "torch": torch.__version__, "numpy": np.__version__, "sklearn": sklearn.__version__,
        "skimage": skimage.__version__, "scipy": scipy.__version__,
        "cuda": torch.cuda.is_available(), "train_device": "auto (ae_core.training.resolve_device)",
    }
