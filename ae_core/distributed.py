"""Data-parallel training under `torchrun` (PyTorch DDP): what the one training loop needs to know.

    torchrun --standalone --nproc_per_node 2 -m ae_core train --kind ae --epochs 20 --name my-ae

`init_from_env()` joins the process group torchrun describes in the environment (RANK, WORLD_SIZE,
LOCAL_RANK, MASTER_ADDR/PORT: the env:// rendezvous), with gloo on CPU and nccl on a GPU (each
process on GPU LOCAL_RANK), and returns a `Group`; without torchrun (WORLD_SIZE unset or 1) it
returns None and nothing changes. `current()` is what `training.fit` asks: None for an ordinary run.

How a run is split: every process holds the training split and draws the same shuffled order each
epoch (same seed), and each optimiser step's global batch is sharded by rank (`Group.shard`), so a
step over N processes sees exactly the images of one step of a 1-process run with the same batch
size. The loss goes through `DistributedDataParallel`, which averages the gradients of the shards
(with equal shards, the gradient of the global batch mean). Rank 0 alone computes the validation loss
and broadcasts it, so every process makes the same early-stopping and best-weights choices; the CLI
lets rank 0 alone measure and save. Stopping (the time limit) is agreed every `STOP_EVERY` steps.
"""
from __future__ import annotations

import dataclasses
import datetime
import os
from typing import Callable

import torch
from torch import nn

STOP_EVERY = 16  # steps between collective "should we stop?" checks (one tiny all-reduce each)


class _Objective(nn.Module):
    """module.loss(x, generator) as a forward pass: DDP synchronises gradients of what forward() computed."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module

    def forward(self, xb: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return self.module.loss(xb, generator)["loss"]


@dataclasses.dataclass(frozen=True)
class Group:
    rank: int
    world: int
    local_rank: int
    backend: str

    @property
    def main(self) -> bool:
        return self.rank == 0

    def wrap(self, module: nn.Module) -> Callable[[torch.Tensor, torch.Generator], dict]:
        """A loss function like module.loss whose backward() averages gradients over the group."""
        from torch.nn.parallel import DistributedDataParallel

        dev = next(module.parameters()).device
        ddp = DistributedDataParallel(_Objective(module), device_ids=[dev.index] if dev.type == "cuda" else None)
        return lambda xb, g: {"loss": ddp(xb, g)}

    def shard(self, idx: torch.Tensor) -> torch.Tensor:
        """This rank's part of one global batch of indices (all of it when it is smaller than the group)."""
        return idx[self.rank :: self.world] if len(idx) >= self.world else idx

    def _device(self) -> torch.device:
        return torch.device("cuda", torch.cuda.current_device()) if self.backend == "nccl" else torch.device("cpu")

    def sum(self, *values: float | torch.Tensor) -> list[float]:
        """Sums over the group of a few numbers (one all-reduce)."""
        import torch.distributed as dist

        t = torch.stack([torch.as_tensor(v, dtype=torch.float64).reshape(()).to(self._device()) for v in values])
        dist.all_reduce(t)
        return [float(v) for v in t.cpu()]

    def any(self, flag: bool) -> bool:
        return self.sum(1.0 if flag else 0.0)[0] > 0

    def from_main(self, compute: Callable[[], float]) -> float:
        """compute() on rank 0, the same float on every rank."""
        import torch.distributed as dist

        t = torch.tensor([compute() if self.main else 0.0], dtype=torch.float64, device=self._device())
        dist.broadcast(t, 0)
        return float(t.item())

    def barrier(self) -> None:
        import torch.distributed as dist

        dist.barrier()


_GROUP: Group | None = None


def current() -> Group | None:
    """The group this process trains in, or None (no torchrun, or a group of one)."""
    return _GROUP


def init_from_env(device: str = "auto", timeout_s: float = 600.0) -> Group | None:
    """Join torchrun's process group (nccl when training on a GPU, else gloo); None when not launched by
    torchrun. `device` is the training's TrainConfig.device."""
    global _GROUP
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if world <= 1:
        return None
    if _GROUP is not None:
        return _GROUP
    import torch.distributed as dist

    rank, local = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    on_gpu = torch.cuda.is_available() and (device == "auto" or device.startswith("cuda"))
    backend = "nccl" if on_gpu and dist.is_nccl_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(local)
    dist.init_process_group(backend=backend, init_method="env://", timeout=datetime.timedelta(seconds=timeout_s))
    _GROUP = Group(rank=dist.get_rank(), world=dist.get_world_size(), local_rank=local, backend=backend)
    return _GROUP


def shutdown() -> None:
    global _GROUP
    if _GROUP is not None:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()
        _GROUP = None
