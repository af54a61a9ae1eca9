"""The training loop: one loop for every model kind, greedy stacks as a sequence of ordinary fits.

`train(model, x_train, config)` knows nothing of the model kind or of any UI. It asks the model
for its `greedy_stages()` (empty for most kinds), fits each stage and then the whole model with
the same `fit` loop, and reports progress through callbacks:
    on_step(stage, epoch, step, loss)           after every optimiser step
    on_epoch(stage, epoch, train_loss, val_loss) after every epoch
    before_stage(stage)                          before each stage is fitted (the greedy stack, as it stands
                                                 before "fine-tune", is kept this way: workflow.train_on)
and stops between steps when `should_stop()` returns True (or `max_seconds` has passed).

The whole dataset sits on the device as one tensor and batches are taken by index, so there
is no per-image Python work. Small batches are where a loop's own overhead shows, so each step
does only the step: a plain MLP autoencoder's gradients are derived by hand into kept buffers
(ae_core.mlp_step, which also applies the fused Adam update layer by layer inside that backward
pass; autograd for every other kind, then Adam updates every parameter in one fused or foreach call),
and the loss is summed on the device and read on the host once per epoch and at progress ticks
(`READ_EVERY` seconds apart, for on_step), never after every step (that read waits for a GPU to finish).
Under `torchrun` each step's batch is sharded over the processes (ae_core.distributed). A fixed slice
of the training split is held out for validation and early stopping; the test split is never seen
here. Everything is seeded: on the CPU the same seed gives the same weights.
"""
from __future__ import annotations

import dataclasses
import math
import time
from typing import Callable

import numpy as np
import torch
from torch import nn

from . import distributed
from .mlp_step import ManualBackward
from .models import Autoencoder

OnStep = Callable[[str, int, int, float], None]
OnEpoch = Callable[[str, int, float, float], None]
READ_EVERY = 0.25  # seconds between host reads of the loss for on_step (the CLI's bar, the app's progress)


@dataclasses.dataclass
class TrainConfig:
    epochs: int = 20
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    seed: int = 0
    patience: int = 5  # epochs without a better validation loss before stopping; 0 = never stop early
    val_fraction: float = 0.1
    fine_tune_epochs: int | None = None  # end-to-end epochs after greedy stages; None = epochs
    max_seconds: float | None = None
    device: str = "auto"
    schedule: str = "constant"  # or "cosine": the learning rate decays to 0 over the planned steps
    # Adam's implementation: "auto" (fused where torch has it for the device, else foreach), "fused",
    # "foreach" or "loop" (torch's per-parameter for-loop, the old default on the CPU). Same maths.
    optimizer: str = "auto"
    # torch.compile the loss. Off by default: compiling takes longer than most trainings here last, and
    # on the CPU it needs a C++ toolchain; it falls back to eager (with a warning) if it cannot compile.
    compile: bool = False
    # The step's gradients: "auto" derives them by hand where ae_core.mlp_step applies (a plain MLP AE on the
    # squared error; 12 % less time a batch-64 step on a CPU core, benchmarks/throughput.py), else autograd;
    # "autograd": always.
    backward: str = "auto"


@dataclasses.dataclass
class StageHistory:
    name: str
    train: list[float] = dataclasses.field(default_factory=list)
    val: list[float] = dataclasses.field(default_factory=list)
    best_epoch: int = -1
    seconds: float = 0.0
    cancelled: bool = False


@dataclasses.dataclass
class History:
    stages: list[StageHistory]
    cancelled: bool = False
    seconds: float = 0.0
    device: str = "cpu"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def resolve_device(name: str = "auto") -> torch.device:
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def split_validation(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Fixed (train, validation) indices into the training split."""
    perm = np.random.default_rng(seed).permutation(n)
    n_val = max(1, int(round(n * fraction))) if fraction > 0 and n > 1 else 0
    return perm[n_val:], perm[:n_val]


def stages(model: Autoencoder, config: TrainConfig) -> list[tuple[nn.Module, str, int]]:
    """What train() fits, in order: (module, stage name, epochs): each greedy stage, then the whole model
    ("train", or "fine-tune" after greedy stages; left out when fine_tune_epochs is 0)."""
    greedy = model.greedy_stages()
    runs = [(s, stage_name(i, len(greedy)), config.epochs) for i, s in enumerate(greedy)]
    fine = config.epochs if config.fine_tune_epochs is None else config.fine_tune_epochs
    if not greedy:
        runs.append((model, "train", config.epochs))
    elif fine > 0:
        runs.append((model, "fine-tune", fine))
    return runs


def plan(model: Autoencoder, n_train: int, config: TrainConfig) -> list[tuple[str, int, int]]:
    """The stages train() will run: (name, epochs, steps per epoch). For progress bars."""
    n_fit = len(split_validation(n_train, config.val_fraction, config.seed)[0])
    steps = math.ceil(n_fit / config.batch_size)
    return [(name, epochs, steps) for _, name, epochs in stages(model, config)]


def stage_name(i: int, n: int) -> str:
    return f"stage {i + 1} of {n}"


def _mean_loss(module: nn.Module, x: torch.Tensor, batch_size: int, seed: int) -> float:
    """Objective on x without gradients, with fixed noise so epochs compare fairly."""
    g = torch.Generator(device=x.device).manual_seed(seed)
    total, n = torch.zeros((), dtype=torch.float64, device=x.device), 0
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            xb = x[i : i + batch_size]
            total += module.loss(xb, g)["loss"].double() * len(xb)
            n += len(xb)
    return float(total) / max(n, 1)


def make_optimizer(params: list, config: TrainConfig, device: torch.device) -> torch.optim.Optimizer:
    """Adam as config.optimizer asks; "auto" takes the fused kernel where this torch has one for the device."""
    impl, kw = config.optimizer, {"lr": config.lr, "weight_decay": config.weight_decay}
    if impl not in ("auto", "fused", "foreach", "loop"):
        raise ValueError(f"optimizer must be auto, fused, foreach or loop (got {impl!r})")
    if impl in ("auto", "fused"):
        try:
            return torch.optim.Adam(params, fused=True, **kw)
        except (RuntimeError, TypeError, ValueError):  # no fused Adam for this device or dtype here
            if impl == "fused":
                raise
    return torch.optim.Adam(params, foreach=impl != "loop", **kw)


def _compiled(loss_fn: Callable, config: TrainConfig) -> Callable:
    if not config.compile:
        return loss_fn
    try:
        return torch.compile(loss_fn, dynamic=False)
    except Exception as e:  # noqa: BLE001 - any backend failure: train eagerly rather than not at all
        import warnings

        warnings.warn(f"torch.compile unavailable ({e}); training eagerly", RuntimeWarning)
        return loss_fn


def fit(
    module: nn.Module,
    x_fit: torch.Tensor,
    x_val: torch.Tensor,
    config: TrainConfig,
    epochs: int,
    stage: str = "train",
    on_step: OnStep | None = None,
    on_epoch: OnEpoch | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> StageHistory:
    """Minimise module.loss over x_fit; keep the weights of the best validation epoch.

    should_stop() is polled before every step; when it says stop, the loop ends there with
    hist.cancelled set, and the best weights so far are kept all the same.
    """
    hist = StageHistory(stage)
    t0 = time.perf_counter()
    params = [p for p in module.parameters() if p.requires_grad]
    opt = make_optimizer(params, config, x_fit.device)
    group = distributed.current()
    sched = None
    if config.schedule == "cosine":
        total = max(1, epochs * math.ceil(len(x_fit) / config.batch_size))
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
    # Each rank corrupts its own shard with its own noise; rank 0's is a 1-process run's.
    g = torch.Generator(device=x_fit.device).manual_seed(config.seed + (group.rank if group else 0))
    perm_gen = torch.Generator().manual_seed(config.seed)
    best, best_state, waited = math.inf, None, 0
    # A module whose loss needs more than the batch (the UMAP-loss AE: the k-NN graph of the images
    # it fits) builds that here, once per stage, and drops it after the last epoch.
    if hasattr(module, "begin_fit"):
        module.begin_fit(x_fit)
    loss_fn = _compiled(group.wrap(module) if group else module.loss, config)
    if config.backward not in ("auto", "autograd"):
        raise ValueError(f"backward must be auto or autograd (got {config.backward!r})")
    # Under torchrun the gradients are averaged by DDP's autograd hooks, and a compiled loss is autograd's.
    manual = ManualBackward.of(module) if config.backward == "auto" and group is None and not config.compile \
        else None
    module.train()
    value, next_read = math.nan, 0.0
    for epoch in range(epochs):
        order = torch.randperm(len(x_fit), generator=perm_gen).to(x_fit.device)
        running, seen = torch.zeros((), dtype=torch.float64, device=x_fit.device), 0
        n_steps = math.ceil(len(x_fit) / config.batch_size)
        for step, i in enumerate(range(0, len(x_fit), config.batch_size)):
            if should_stop is not None:
                # Under torchrun every rank must stop at the same step: they agree now and then.
                stop = should_stop() if group is None else (step % distributed.STOP_EVERY == 0
                                                             and group.any(should_stop()))
                if stop:
                    hist.cancelled = True
                    break
            idx = order[i : i + config.batch_size]
            xb = x_fit.index_select(0, group.shard(idx) if group else idx)
            if manual is not None:
                loss = manual.train_step(xb, g, opt)  # writes every .grad (nothing to zero) and updates
            else:
                loss = loss_fn(xb, g)["loss"]
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            if sched is not None:
                sched.step()
            running += loss.detach() * len(xb)  # on the device: no wait for the step to finish
            seen += len(xb)
            if on_step is not None:
                now = time.perf_counter()
                if now >= next_read or step == n_steps - 1:
                    value, next_read = float(loss.detach()), now + READ_EVERY
                    if not math.isfinite(value):
                        raise FloatingPointError(f"{stage}: the loss became {value} at epoch {epoch + 1}; "
                                                 "try a smaller learning rate.")
                on_step(stage, epoch, step, value)
        if hist.cancelled and seen == 0:
            break
        total, count = group.sum(running, seen) if group else (float(running), seen)
        train_loss = total / max(count, 1)
        if not math.isfinite(train_loss):
            raise FloatingPointError(f"{stage}: the loss became {train_loss} at epoch {epoch + 1}; try a smaller learning rate.")

        def validate() -> float:
            return _mean_loss(module, x_val, 1024, config.seed + 1) if len(x_val) else train_loss

        val_loss = group.from_main(validate) if group else validate()
        module.train()
        hist.train.append(train_loss)
        hist.val.append(val_loss)
        if on_epoch is not None:
            on_epoch(stage, epoch, train_loss, val_loss)
        if val_loss < best:
            best, waited, hist.best_epoch = val_loss, 0, epoch
            best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
        else:
            waited += 1
            if config.patience and waited >= config.patience:
                break
        if hist.cancelled:
            break
    if hasattr(module, "end_fit"):
        module.end_fit()
    if best_state is not None:
        module.load_state_dict(best_state)
    hist.seconds = time.perf_counter() - t0
    return hist


def train(
    model: Autoencoder,
    x_train: np.ndarray | torch.Tensor,
    config: TrainConfig | None = None,
    on_step: OnStep | None = None,
    on_epoch: OnEpoch | None = None,
    should_stop: Callable[[], bool] | None = None,
    before_stage: Callable[[str], None] | None = None,
) -> History:
    """Train greedy stages (if any) then the whole model. Returns the loss history.

    A cancel (should_stop or max_seconds) ends training between steps; the model keeps the best
    weights of the stage that was running and History.cancelled is True.
    """
    config = config or TrainConfig()
    device = resolve_device(config.device)
    # A copy: datasets are shared read-only arrays, and torch tensors must own writable memory.
    x = torch.tensor(np.asarray(x_train, dtype=np.float32)).to(device)
    fit_idx, val_idx = split_validation(len(x), config.val_fraction, config.seed)
    x_fit, x_val = x[torch.as_tensor(fit_idx, device=device)], x[torch.as_tensor(val_idx, device=device)]
    model.to(device)
    t0 = time.perf_counter()
    deadline = None if config.max_seconds is None else t0 + config.max_seconds

    def stop() -> bool:
        return (should_stop is not None and should_stop()) or (deadline is not None and time.perf_counter() > deadline)

    history = History([], device=str(device))
    for module, name, epochs in stages(model, config):
        if before_stage is not None:
            before_stage(name)
        history.stages.append(fit(module, x_fit, x_val, config, epochs, name, on_step, on_epoch, stop))
        if history.stages[-1].cancelled:
            history.cancelled = True
            break
    history.seconds = time.perf_counter() - t0
    model.to("cpu").eval()
    return history
