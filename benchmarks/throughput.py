"""Training throughput against the machine's matmul ceiling, at the batch sizes people train with.

    python -m benchmarks.throughput                 # 1 thread -> benchmarks/throughput_results.{json,md}
    python -m benchmarks.throughput --quick --out /tmp/tp   # tiny sizes, same code paths

What is measured: `ae_core.training.train` itself (the one loop the app, the CLI and the workers use;
its per-epoch validation pass and best-weights copy included) on the speed model of the suite
(`workflow.standard_config("ae", 2)`: 784-512-256-2 and back), for every Adam implementation
`TrainConfig.optimizer` offers ("auto" is what training uses), at each batch size of the grid, and
once more with autograd's backward (`TrainConfig(backward="autograd")`; training derives this model's
gradients by hand, ae_core.mlp_step); and, as an honest reference, a bare tensor loop (the same
model.loss, autograd and Adam, nothing else) at the same batch sizes. FLOPs: 2 x sum(in*out) of the
Linear layers per image forward, training = 3x forward.
The ceiling is the fastest float32 n^3 matmul on the same threads (benchmarks/ceiling.py), read before
and after the rows. Goal: ae_core.train at batch 64 reaches at least 70 % of it on one thread. Where a
GPU is present, its images/s are measured the same way.
Then, at batch 64: where autograd's step's time goes (torch.profiler), the other ways to take the step
that were tried (torch.compile, max-autotune, bf16 autocast, Adam stepped inside backward; `step_variants`), the
thread's copy bandwidth, against which Adam's per-step traffic is set, and the step's matrix products and
Adam update each timed alone (`step_alone`): the floor any loop of this model stands on, measured.
Times are the best of --repeats, interleaved so a burst of load hits every row alike, and the rows' order reversed
every other repeat (benchmarks/ceiling.py's `in_turn`): on this machine the later of two equal steps in a fixed order reads faster.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ae_core import data, models, workflow  # noqa: E402
from ae_core.training import TrainConfig, split_validation, train  # noqa: E402
from benchmarks.ceiling import SIZES, higher, in_turn, matmul_ceiling  # noqa: E402

IMPLS = ("auto", "fused", "foreach", "loop")
GOAL_BATCH, GOAL_FRACTION = 64, 0.70


def linear_macs(model: torch.nn.Module) -> int:
    return sum(m.in_features * m.out_features for m in model.modules() if isinstance(m, torch.nn.Linear))


def _fresh(shape, seed):
    over, _ = workflow.standard_config("ae", 2)
    return models.build("ae", seed=seed, input_shape=shape, **over), over


def time_ae_core(x: np.ndarray, batch: int, epochs: int, impl: str, device: str, seed: int,
                 backward: str = "auto") -> float:
    model, _ = _fresh(x.shape[1:], seed)
    cfg = TrainConfig(epochs=epochs, batch_size=batch, seed=seed, patience=0, optimizer=impl, device=device,
                      backward=backward)
    t0 = time.perf_counter()
    train(model, x, cfg)
    if device != "cpu":
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def time_bare(x_fit: np.ndarray, batch: int, epochs: int, device: str, seed: int) -> float:
    model, _ = _fresh(x_fit.shape[1:], seed)
    model.to(device).train()
    xt = torch.tensor(x_fit, device=device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator(device=device).manual_seed(seed)
    pg = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(xt), generator=pg).to(device)
        for i in range(0, len(xt), batch):
            loss = model.loss(xt[perm[i:i + batch]], g)["loss"]
            opt.zero_grad()
            loss.backward()
            opt.step()
    if device != "cpu":
        torch.cuda.synchronize()
    return time.perf_counter() - t0


VARIANTS = ("eager", "hand-derived backward", "hand-derived backward, Adam after it", "compile", "compile max-autotune",
            "bf16 autocast", "Adam in backward")


def bare_step(kind: str, shape, batch: int, seed: int):
    """A training step of a fresh speed model, as a function of one batch: "eager" is autograd's step (training's
    optimizer, zero_grad, backward, step), "hand-derived backward" the step `train` takes for this model
    (ae_core.mlp_step's train_step: each layer updated by the same fused Adam as soon as its gradients are
    written), "hand-derived backward, Adam after it" the same gradients followed by one optimizer.step(); the
    other VARIANTS are described in step_variants."""
    from ae_core.mlp_step import ManualBackward
    from ae_core.training import make_optimizer

    model, _ = _fresh(shape, seed)
    model.train()
    params = list(model.parameters())
    cfg = TrainConfig(batch_size=batch)
    if kind == "Adam in backward":
        opts = {p: make_optimizer([p], cfg, torch.device("cpu")) for p in params}

        def hook(p):
            opts[p].step()
            opts[p].zero_grad(set_to_none=True)

        for p in params:
            p.register_post_accumulate_grad_hook(hook)
        return lambda xb: model.loss(xb)["loss"].backward()
    opt = make_optimizer(params, cfg, torch.device("cpu"))
    if kind.startswith("hand-derived backward"):
        manual = ManualBackward.of(model)
        if kind == "hand-derived backward":
            return lambda xb: manual.train_step(xb, None, opt)

        def manual_step(xb):
            manual.step(xb)
            opt.step()
        return manual_step
    loss_fn, opt_step = (lambda xb: model.loss(xb)["loss"]), opt.step
    if kind.startswith("compile"):
        mode = "max-autotune-no-cudagraphs" if "max-autotune" in kind else None
        loss_fn, opt_step = torch.compile(loss_fn, mode=mode, dynamic=False), torch.compile(opt.step, mode=mode)

    def step(xb):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=kind == "bf16 autocast"):
            loss = loss_fn(xb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt_step()
    return step


GEMM_OPS = ("aten::mm", "aten::addmm", "aten::bmm", "aten::matmul")


def step_breakdown(x: np.ndarray, batch: int, steps: int, seed: int, flops_per_image: float, ceiling: float) -> dict:
    """Where one training step at `batch` goes, from torch.profiler's self CPU time over `steps` steps of the
    speed model with the optimizer training uses ("auto"): the matrix products, the optimizer's update, and
    everything else (elementwise ops, autograd's bookkeeping, Python). The GEMMs' share bounds what any loop
    can reach: with every other cost at zero the step would run at the GEMMs' own speed, their FLOPs over
    their share of the profiled step's time (`gemm_fraction_of_matmul`, against the matmul `ceiling`)."""
    from torch.profiler import ProfilerActivity, profile

    xb = torch.tensor(x[: max(batch, 1)])
    step = bare_step("eager", x.shape[1:], batch, seed)
    for _ in range(20):  # warm-up: allocations, lazy initialisation
        step(xb)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        t0 = time.perf_counter()
        for _ in range(steps):
            step(xb)
        wall = time.perf_counter() - t0
    gemm = opt_t = total = 0.0
    for e in prof.key_averages():
        us = e.self_cpu_time_total
        total += us
        if e.key in GEMM_OPS:
            gemm += us
        elif "adam" in e.key.lower() or e.key.startswith("Optimizer.") or "_foreach_" in e.key:
            opt_t += us
    step_s = wall / steps
    return {"batch": batch, "steps": steps, "ms_per_step_profiled": step_s * 1e3,
            "gemm": gemm / total, "optimizer": opt_t / total, "other": 1 - (gemm + opt_t) / total,
            "gemm_fraction_of_matmul": batch * flops_per_image / (step_s * gemm / total) / ceiling}


def step_variants(x: np.ndarray, batch: int, steps: int, repeats: int, seed: int, compile_: bool = True) -> dict:
    """What else was tried for the batch-`batch` step, each as a bare step function of the speed model with
    training's optimizer, timed interleaved (best of `repeats` runs of `steps` steps, after a warm-up that
    includes any compilation): "eager" is autograd's step, "hand-derived backward" the step `train` takes for this
    model (ae_core.mlp_step, the update inside the backward pass), "hand-derived backward, Adam after it" the same
    gradients and then optimizer.step(); "compile" is torch.compile of the loss and of
    the optimizer's step (`TrainConfig(compile=True)` compiles the loss); "compile max-autotune" the same with
    Inductor's autotuned kernels; "bf16 autocast" runs the forward in bfloat16 (the ceiling stays the float32
    matmul, so it is not a way to the goal, only whether the step is compute-bound); "Adam in backward" steps
    each parameter's fused Adam as soon as autograd has its gradient (a post-accumulate-grad hook), while it is
    still in cache. Milliseconds per step; `compile_=False` leaves out the two compiled variants."""
    xt = torch.tensor(x[: (steps + 1) * batch])
    n = len(xt) // batch

    kinds = [k for k in VARIANTS if compile_ or not k.startswith("compile")]
    fns, warm = {}, {}
    for k in kinds:
        t0 = time.perf_counter()
        fns[k] = bare_step(k, x.shape[1:], batch, seed)
        for i in range(min(n, 20)):
            fns[k](xt[i * batch:(i + 1) * batch])
        warm[k] = time.perf_counter() - t0
    best = dict.fromkeys(kinds, float("inf"))
    for rep in range(repeats):
        for k in in_turn(kinds, rep):
            t0 = time.perf_counter()
            for i in range(n):
                fns[k](xt[i * batch:(i + 1) * batch])
            best[k] = min(best[k], (time.perf_counter() - t0) / n)
    return {k: {"ms_per_step": best[k] * 1e3, "warm_up_s": warm[k]} for k in kinds}


def _best_ms(fn, calls: int, repeats: int) -> float:
    for _ in range(min(calls, 10)):  # warm-up: the library's buffers, the operands into cache
        fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - t0) / calls)
    return best * 1e3


def step_alone(shape, batch: int, calls: int, repeats: int, seed: int) -> dict:
    """The parts of a batch-`batch` step that no loop can leave out, each timed alone on its own operands in a
    warm cache: every matrix product autograd runs for the speed model's Linear layers, at the shapes and
    layouts it runs them (forward `addmm(b, x, W.t())`; backward `x.t() @ dy` for the weight and `dy @ W` for
    the input, which the first layer does not need), and training's Adam update of all the parameters. Their
    sum is a floor for the step measured on this machine rather than assumed: in the step itself the layers'
    weights, gradients and Adam's moments (far more than L2 holds) do not stay in cache between them."""
    from ae_core.training import make_optimizer

    model, _ = _fresh(shape, seed)
    g = torch.Generator().manual_seed(seed)
    rows = []
    for i, lin in enumerate(m for m in model.modules() if isinstance(m, torch.nn.Linear)):
        a, o = lin.in_features, lin.out_features
        x, w = torch.randn(batch, a, generator=g), torch.randn(o, a, generator=g)
        b, dy = torch.randn(o, generator=g), torch.randn(batch, o, generator=g)
        prods = {"forward": lambda: torch.addmm(b, x, w.t()), "weight grad": lambda: x.t().mm(dy)}
        if i:
            prods["input grad"] = lambda: dy.mm(w)
        for name, fn in prods.items():
            rows.append({"layer": f"{a}->{o}", "product": name, "ms": _best_ms(fn, calls, repeats),
                         "flops": 2 * batch * a * o})
    params = list(model.parameters())
    for p in params:
        p.grad = torch.randn(p.shape, generator=g)
    opt = make_optimizer(params, TrainConfig(batch_size=batch), torch.device("cpu"))
    return {"products": rows, "gemm_ms": sum(r["ms"] for r in rows),
            "adam_ms": _best_ms(opt.step, calls, repeats)}


def copy_bandwidth(mb: int, repeats: int) -> float:
    """Bytes per second read plus written by one thread copying an `mb`-MB float32 tensor: the rate at which a
    step can stream what does not stay in cache (parameters, gradients, Adam's two moments)."""
    a, b = torch.ones(mb * 2**20 // 4), torch.empty(mb * 2**20 // 4)
    b.copy_(a)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        b.copy_(a)
        best = min(best, time.perf_counter() - t0)
    return 2 * mb * 2**20 / best


def measure(x: np.ndarray, batches, epochs: int, repeats: int, device: str, seed: int, impls=IMPLS) -> dict:
    fit_idx, _ = split_validation(len(x), TrainConfig().val_fraction, seed)
    x_fit = np.ascontiguousarray(x[fit_idx])
    images = epochs * len(x_fit)
    rows: dict[str, dict[str, list[float]]] = {str(b): {} for b in batches}
    # Warm-up, not counted: the first training in a process pays for torch's lazy initialisation.
    for impl in impls:
        time_ae_core(x[:256], batches[0], 1, impl, device, seed)
    time_bare(x_fit[:256], batches[0], 1, device, seed)
    timers = {f"ae_core.train ({impl})": (lambda b, impl=impl: time_ae_core(x, b, epochs, impl, device, seed))
              for impl in impls}
    # The same training with autograd's backward: what the hand-derived one (ae_core.mlp_step) replaced.
    timers["ae_core.train (auto, autograd backward)"] = lambda b: time_ae_core(x, b, epochs, "auto", device, seed,
                                                                                backward="autograd")
    timers["bare tensor loop"] = lambda b: time_bare(x_fit, b, epochs, device, seed)
    for rep in range(repeats):
        for b in batches:
            r = rows[str(b)]
            for name in in_turn(timers, rep):
                r.setdefault(name, []).append(timers[name](b))
    return {b: {k: {"images_per_s": images / min(v), "seconds": v} for k, v in r.items()} for b, r in rows.items()}


def run(args) -> dict:
    torch.set_num_threads(args.threads)
    ds = data.load_dataset(args.dataset)
    x = np.ascontiguousarray(ds.x_train[: args.n_train], dtype=np.float32)
    model, over = _fresh(ds.sample_shape, args.seed)
    macs = linear_macs(model)
    flops_per_image = 6 * macs
    before = matmul_ceiling(args.matmul_sizes, args.matmul_seconds)
    cpu = measure(x, args.batches, args.epochs, args.repeats, "cpu", args.seed)
    # Measured again after the rows, the higher reading kept; the step analyses below use it too.
    matmul = higher(before, matmul_ceiling(args.matmul_sizes, args.matmul_seconds))
    ceiling = matmul["gflops"] * 1e9
    for b, r in cpu.items():
        for k, v in r.items():
            v["gflops"] = v["images_per_s"] * flops_per_image / 1e9
            v["fraction_of_matmul"] = v["images_per_s"] * flops_per_image / ceiling
    res = {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([os.path.basename(sys.executable), "-m", "benchmarks.throughput", *sys.argv[1:]]),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "torch": torch.__version__,
                    "threads": torch.get_num_threads(), "load_avg_before": os.getloadavg()},
        "model": {"kind": "ae", "config": {k: list(v) if isinstance(v, tuple) else v for k, v in over.items()},
                  "macs_forward": macs, "train_flops_per_image": flops_per_image},
        "dataset": ds.name, "n_train": len(x), "epochs": args.epochs, "repeats": args.repeats,
        "matmul": matmul,
        "cpu": cpu,
    }
    if torch.cuda.is_available() and not args.no_gpu:
        gpu = measure(x, args.batches, args.epochs, args.repeats, "cuda", args.seed, impls=("auto",))
        res["gpu"] = {"name": torch.cuda.get_device_name(0), "rows": gpu,
                      "matmul_gflops": matmul_ceiling(args.matmul_sizes, args.matmul_seconds, "cuda")["gflops"]}
    # --quick too, with 5 steps: the same code path
    res["breakdown"] = step_breakdown(x, GOAL_BATCH, 5 if args.quick else 200, args.seed, flops_per_image, ceiling)
    # The quick run leaves out the compiled variants: compiling takes about a minute.
    rows = step_variants(x, GOAL_BATCH, 5 if args.quick else 60, 1 if args.quick else 6, args.seed,
                         compile_=not args.quick)
    for v in rows.values():
        v["images_per_s"] = GOAL_BATCH / (v["ms_per_step"] / 1e3)
        v["fraction_of_matmul"] = v["images_per_s"] * flops_per_image / ceiling
    n_params = sum(p.numel() for p in model.parameters())
    copy_mb = 8 if args.quick else 64
    bw = copy_bandwidth(copy_mb, 3 if args.quick else 10)
    res["variants"] = {"batch": GOAL_BATCH, "rows": rows, "params": n_params, "copy_mb": copy_mb,
                       # Adam reads parameters, gradients and both moments and writes three of them back, every
                       # step: 28 bytes a parameter that a loop streams through memory once the 16 bytes a
                       # parameter of state no longer fit in cache.
                       "state_mb": 16 * n_params / 2**20, "copy_gb_per_s": bw / 1e9,
                       "adam_stream_ms": 28 * n_params / bw * 1e3,
                       "gemm_at_ceiling_ms": GOAL_BATCH * flops_per_image / ceiling * 1e3,
                       "goal_step_ms": GOAL_BATCH * flops_per_image / (GOAL_FRACTION * ceiling) * 1e3}
    # The best a loop could do with its matrix products at the ceiling and the update and the rest of the step
    # as they are: the profiled shares applied to the unprofiled eager step.
    bd, va = res["breakdown"], res["variants"]
    va["rest_ms"] = (bd["optimizer"] + bd["other"]) * rows["eager"]["ms_per_step"]
    va["bound_fraction"] = va["gemm_at_ceiling_ms"] / (va["gemm_at_ceiling_ms"] + va["rest_ms"])
    alone = step_alone(x.shape[1:], GOAL_BATCH, 10 if args.quick else 200, 2 if args.quick else 5, args.seed)
    alone["bound_fraction"] = va["gemm_at_ceiling_ms"] / (alone["gemm_ms"] + alone["adam_ms"])
    # The products' own FLOPs: the first layer has no input gradient, so fewer than the goal's 3x forward.
    alone["gemm_fraction_of_matmul"] = sum(r["flops"] for r in alone["products"]) / (alone["gemm_ms"] / 1e3) / ceiling
    va["alone"] = alone
    goal_row = cpu.get(str(GOAL_BATCH), {}).get("ae_core.train (auto)")
    if goal_row:
        frac = goal_row["fraction_of_matmul"]
        res["goal"] = {"text": f"ae_core.train at batch {GOAL_BATCH}, {args.threads} thread(s): >= "
                               f"{GOAL_FRACTION:.0%} of the matmul ceiling's FLOP/s",
                       "measured": frac, "target": GOAL_FRACTION, "result": "PASS" if frac >= GOAL_FRACTION else "FAIL"}
    res["machine"]["load_avg_after"] = os.getloadavg()
    return res


def _sizes(reading: dict) -> str:
    return ", ".join(f"{n}^3 {g:.1f}" for n, g in reading["by_size"].items())


def render_markdown(res: dict) -> str:
    m = res["machine"]
    lines = [f"# Training throughput ({res['date']})", "",
             f"`{res['command']}` on {m['cpus']} CPUs, torch {m['torch']}, {m['threads']} thread(s); load average "
             f"{m['load_avg_before'][0]:.1f} before, {m['load_avg_after'][0]:.1f} after. Model: ae "
             f"{res['model']['config']} ({res['model']['train_flops_per_image'] / 1e6:.2f} MFLOP per training image); "
             f"{res['n_train']} images ({res['dataset']}), {res['epochs']} epoch(s), best of {res['repeats']}. "
             f"Ceiling: the fastest float32 n^3 matmul (benchmarks/ceiling.py) on the same thread(s), "
             f"{res['matmul']['gflops']:.1f} GFLOP/s, the higher of its readings before "
             f"({_sizes(res['matmul']['before'])}) and after the rows ({_sizes(res['matmul']['after'])}).", "",
             "| batch | loop | images / s | GFLOP/s | of the matmul |", "|---|---|---|---|---|"]
    for b, rows in res["cpu"].items():
        for k, v in rows.items():
            lines.append(f"| {b} | {k} | {v['images_per_s']:,.0f} | {v['gflops']:.1f} | {v['fraction_of_matmul']:.0%} |")
    if "gpu" in res:
        lines += ["", f"GPU ({res['gpu']['name']}, matmul {res['gpu']['matmul_gflops']:,.0f} GFLOP/s):", "",
                  "| batch | loop | images / s |", "|---|---|---|"]
        for b, rows in res["gpu"]["rows"].items():
            for k, v in rows.items():
                lines.append(f"| {b} | {k} | {v['images_per_s']:,.0f} |")
    if "breakdown" in res:
        bd = res["breakdown"]
        lines += ["", f"Where a batch-{bd['batch']} step goes (torch.profiler, self CPU time over {bd['steps']} steps, "
                  f"{bd['ms_per_step_profiled']:.2f} ms a step under the profiler): matrix products "
                  f"{bd['gemm']:.0%}, the optimizer's update {bd['optimizer']:.0%}, everything else (elementwise "
                  f"ops, autograd, Python) {bd['other']:.0%}. The matrix products themselves run at "
                  f"{bd['gemm_fraction_of_matmul']:.0%} of the ceiling, so with nothing else in the step a loop "
                  f"would reach that; the update and the rest are what stand between it and the goal."]
    if "variants" in res:
        va = res["variants"]
        lines += ["", f"Other ways to take a batch-{va['batch']} step (bare step functions, best of interleaved runs; "
                  "warm-up includes compiling):", "",
                  "| step | ms / step | images / s | of the matmul | warm-up s |", "|---|---|---|---|---|"]
        for k, v in va["rows"].items():
            lines.append(f"| {k} | {v['ms_per_step']:.2f} | {v['images_per_s']:,.0f} | {v['fraction_of_matmul']:.0%} "
                         f"| {v['warm_up_s']:.1f} |")
        lines += ["", f"The goal needs a step of at most {va['goal_step_ms']:.2f} ms. At the ceiling its matrix products "
                  f"take {va['gemm_at_ceiling_ms']:.2f} ms; the update and everything else take {va['rest_ms']:.2f} ms "
                  f"of the eager step (its profiled shares), so with every matrix product at the ceiling a loop "
                  f"would reach {va['bound_fraction']:.0%}. The update reads and writes {va['params']:,} parameters, "
                  f"their gradients and both moments every step ({va['state_mb']:.1f} MB of state, 28 bytes a "
                  f"parameter): {va['adam_stream_ms']:.2f} ms at this thread's copy bandwidth "
                  f"({va['copy_gb_per_s']:.1f} GB/s read + write, a {va['copy_mb']} MB copy) if none of it stayed in cache."]
        al = va.get("alone")
        if al:
            lines += ["", f"The same step's parts timed alone, each on its own operands in a warm cache: its "
                      f"{len(al['products'])} matrix products take {al['gemm_ms']:.2f} ms together "
                      f"({al['gemm_fraction_of_matmul']:.0%} of the ceiling at these shapes) and the Adam update "
                      f"{al['adam_ms']:.2f} ms. A loop that did nothing else, at those speeds, would reach "
                      f"{al['bound_fraction']:.0%} (the goal's FLOP count, 3x the forward's); the goal needs "
                      f"{GOAL_FRACTION:.0%}.", "",
                      "| layer | product | ms alone | of the matmul |", "|---|---|---|---|"]
            ceiling_gflops = res["matmul"]["gflops"]
            for r in al["products"]:
                lines.append(f"| {r['layer']} | {r['product']} | {r['ms']:.3f} | "
                             f"{r['flops'] / (r['ms'] / 1e3) / (ceiling_gflops * 1e9):.0%} |")
    if "goal" in res:
        g = res["goal"]
        lines += ["", f"Goal: {g['text']}: measured {g['measured']:.0%} — **{g['result']}**."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes: checks the code paths, not a figure")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--dataset", default="mnist-5k")
    ap.add_argument("--n-train", type=int, default=None)
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--batches", type=lambda s: [int(b) for b in s.split(",")], default=None)
    ap.add_argument("--matmul-sizes", type=lambda s: [int(n) for n in s.split(",")], default=None)
    ap.add_argument("--matmul-seconds", type=float, default=None, help="at least this long on each size")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-gpu", action="store_true")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks", help="folder for throughput_results.{json,md}")
    a = ap.parse_args(argv)
    q = a.quick
    a.n_train = a.n_train or (300 if q else None)
    a.epochs = a.epochs or (1 if q else 3)
    a.repeats = a.repeats or (1 if q else 3)
    a.batches = a.batches or ([64, 256] if q else [64, 256, 4096])
    a.matmul_sizes = a.matmul_sizes or ([128, 256] if q else list(SIZES))
    a.matmul_seconds = a.matmul_seconds if a.matmul_seconds is not None else (0.05 if q else 0.5)
    res = run(a)
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "throughput_results.json").write_text(json.dumps(res, indent=2) + "\n")
    md = render_markdown(res)
    (a.out / "throughput_results.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
