"""Peak memory of one job in a fresh interpreter, for the benchmark's speed section:

    python -m benchmarks.memprobe train --dataset mnist-5k --n 4000 --kind ae --latent 2 --seed 0 --epochs 2
    python -m benchmarks.memprobe models --root models/

`train` loads the data, builds `kind` at `latent` with workflow.standard_config and trains it for
`epochs` epochs; `models` loads every model of a store folder and holds them all. Each prints one
JSON line of KiB figures: the peak before the job's own work (after importing torch / ae_core, and
for `train` loading the data) and at the end.

Peak RSS is read from /proc/self/status VmHWM (KiB): on Linux, ru_maxrss survives exec, so a child
started from a large process would report the parent's peak; VmHWM belongs to this process's own
memory map. ru_maxrss is recorded beside it, and used where there is no /proc. This module imports
nothing heavy at the top, so that the figures are the job's.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys


def _status(key: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def ru_maxrss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def peak_kb() -> int:
    v = _status("VmHWM")
    return v if v is not None else ru_maxrss_kb()


def rss_kb() -> int:
    v = _status("VmRSS")
    return v if v is not None else peak_kb()


def probe_train(dataset: str, n: int | None, kind: str, latent: int, seed: int, epochs: int,
                threads: int | None = None) -> dict:
    import torch

    if threads:
        torch.set_num_threads(threads)
    from ae_core import data, models, workflow
    from ae_core.training import TrainConfig, train

    ds = data.load_dataset(dataset)
    x = ds.x_train[:n]
    before, rss_before = peak_kb(), rss_kb()
    over, tkw = workflow.standard_config(kind, latent)
    model = models.build(kind, seed=seed, input_shape=ds.sample_shape, **over)
    train(model, x, TrainConfig(epochs=epochs, batch_size=tkw["batch_size"], seed=seed, patience=0))
    return {"after_data_kb": before, "rss_after_data_kb": rss_before, "peak_kb": peak_kb(), "rss_end_kb": rss_kb(),
            "ru_maxrss_kb": ru_maxrss_kb(), "n_train": int(len(x)), "epochs": epochs}


def probe_models(root: str) -> dict:
    import torch  # noqa: F401  (counted in after_import_kb, as the app imports it)

    from ae_core import store

    before = peak_kb()
    loaded, errors, params, held = [], {}, 0, []
    for info in store.list_models(root):
        try:
            m, _ = store.load(info.name, root)
            held.append(m)  # all held at once: the store as a server keeps it
            loaded.append(info.name)
            params += sum(p.numel() for p in m.parameters())
        except Exception as e:  # noqa: BLE001 - a broken model is reported, the others still count
            errors[info.name] = str(e)
    return {"after_import_kb": before, "peak_kb": peak_kb(), "rss_end_kb": rss_kb(), "loaded": loaded,
            "errors": errors, "parameters": params, "ru_maxrss_kb": ru_maxrss_kb(), "models_root": root}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.memprobe", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="job", required=True)
    t = sub.add_parser("train", help="train one standard model")
    t.add_argument("--dataset", required=True)
    t.add_argument("--n", type=int, help="first N training images (default: all)")
    t.add_argument("--kind", default="ae")
    t.add_argument("--latent", type=int, default=2)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--epochs", type=int, default=2)
    t.add_argument("--threads", type=int)
    m = sub.add_parser("models", help="load every model of a store folder")
    m.add_argument("--root", required=True)
    a = p.parse_args(argv)
    if a.job == "train":
        out = probe_train(a.dataset, a.n, a.kind, a.latent, a.seed, a.epochs, a.threads)
    else:
        out = probe_models(a.root)
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
