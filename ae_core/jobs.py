"""Background trainings for the app: one thread per job, bounded, cancellable, never lost.

A web page must not train on its own script thread (the page would freeze and a second visitor
would wait), and a visitor must not be able to start unbounded work. `JobManager.submit` checks
a `JobSpec` against `workflow.APP_LIMITS` (clear ValueErrors), refuses with `Busy` when
`max_concurrent` trainings are already running, and starts `workflow.train_on` in a daemon
thread. The thread reports through the training callbacks into its `Job` under a lock:
progress (steps done over the steps `training.plan` announces), the stage ("stage 2 of 3" for
greedy stacks), and the train/validation loss of every epoch. `Job.cancel()` sets an Event that
training polls between steps. Every training is also bounded in time (TrainConfig.max_seconds).

Outcomes: "done" (saved with `workflow.save_result` under a sanitised name; a training stopped
by the time limit is saved too, with a note), "cancelled" (stopped by its owner; not saved),
"failed" (any exception, its message kept in `Job.error`). Readers take `Job.snapshot()`, a
consistent copy, never the live lists. The module-level `MANAGER` is the server's one manager.
"""
from __future__ import annotations

import dataclasses
import os
import threading
import time
import traceback
import uuid
from pathlib import Path
from typing import Callable

import torch

from . import data as data_mod
from . import models, store, workflow
from .training import TrainConfig, plan

STATUSES = ("queued", "running", "done", "failed", "cancelled")
ACTIVE = ("queued", "running")
MAX_HIDDEN_LAYERS = 4
MAX_BATCH = 4096
KEEP_FINISHED = 100  # finished jobs kept for their owners to read; older ones are forgotten



class Busy(RuntimeError):
    """Too many trainings are running; the message says what to do."""


@dataclasses.dataclass(frozen=True)
class JobSpec:
    """What to train. None means the kind's default (e.g. a dae's mixed noise, a beta-vae's beta = 4)."""

    kind: str
    dataset: str = data_mod.DEFAULT
    name: str = ""
    latent_dim: int | None = None
    hidden: tuple[int, ...] | None = None
    noise: str | None = None
    sparsity_weight: float | None = None
    beta: float | None = None
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    n_train: int | None = None
    max_seconds: float | None = None
    seed: int = 0

    def overrides(self) -> dict:
        """The model-config overrides this spec asks of its kind: only fields its config dataclass has
        (models.Kind.accepts), so a form field that a kind does not read is not passed to it."""
        ok = models.KINDS[self.kind].accepts() if self.kind in models.KINDS else frozenset()
        asked = {"latent_dim": None if self.latent_dim is None else int(self.latent_dim),
                 "hidden": None if self.hidden is None else tuple(int(h) for h in self.hidden),
                 "noise": self.noise,
                 "weight": None if self.sparsity_weight is None else float(self.sparsity_weight),
                 "beta": None if self.beta is None else float(self.beta)}
        return {k: v for k, v in asked.items() if v is not None and k in ok}

    def train_config(self) -> TrainConfig:
        seconds = workflow.APP_LIMITS["seconds"] if self.max_seconds is None else float(self.max_seconds)
        return TrainConfig(epochs=int(self.epochs), batch_size=int(self.batch_size), lr=float(self.lr),
                           seed=int(self.seed), max_seconds=seconds)


def parse_hidden(text: str) -> tuple[int, ...]:
    """'256, 64' -> (256, 64); '' -> (). Raises ValueError with a readable message."""
    parts = [p.strip() for p in str(text).replace(";", ",").split(",") if p.strip()]
    try:
        sizes = tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(f"Hidden sizes must be whole numbers separated by commas, like 256,64 (got {text!r}).") from None
    return sizes


def validate(spec: JobSpec, ds: data_mod.Dataset, limits: dict | None = None) -> None:
    """Raise ValueError (with what is allowed) for a spec outside the app's bounds or unbuildable."""
    lim = limits or workflow.APP_LIMITS
    if spec.kind not in models.KINDS:
        raise ValueError(f"Unknown model kind {spec.kind!r}; choose one of {', '.join(models.KINDS)}.")
    if not (1 <= int(spec.epochs) <= lim["epochs"]):
        raise ValueError(f"Epochs must be between 1 and {lim['epochs']} (got {spec.epochs}).")
    if not (1 <= int(spec.batch_size) <= MAX_BATCH):
        raise ValueError(f"Batch size must be between 1 and {MAX_BATCH} (got {spec.batch_size}).")
    if not (0 < float(spec.lr) <= 1.0):
        raise ValueError(f"The learning rate must be in (0, 1] (got {spec.lr}).")
    if spec.max_seconds is not None and not (0 < float(spec.max_seconds) <= lim["seconds"]):
        raise ValueError(f"The time limit must be between 1 and {lim['seconds']:.0f} seconds (got {spec.max_seconds}).")
    n = len(ds.x_train) if spec.n_train is None else int(spec.n_train)
    if spec.n_train is not None and not (10 <= n <= len(ds.x_train)):
        raise ValueError(f"Training images must be between 10 and {len(ds.x_train):,}, the size of {ds.name}'s "
                         f"training split (got {spec.n_train}).")
    if n > lim["n_train"]:
        raise ValueError(f"At most {lim['n_train']:,} training images per job in the app ({ds.name} has "
                         f"{len(ds.x_train):,}); set a smaller number of training images.")
    cfg = models.make_config(spec.kind, input_shape=ds.sample_shape, **spec.overrides())
    # A sparse AE's code is its one (overcomplete) hidden layer, so it is bounded like hidden sizes.
    latent_cap = lim["hidden"] if spec.kind == "sparse" else lim["latent_dim"]
    if not (1 <= cfg.latent_dim <= latent_cap):
        raise ValueError(f"The latent dimension must be between 1 and {latent_cap} for {spec.kind} (got {cfg.latent_dim}).")
    hidden = tuple(getattr(cfg, "hidden", ()))
    if len(hidden) > MAX_HIDDEN_LAYERS:
        raise ValueError(f"At most {MAX_HIDDEN_LAYERS} hidden layers (got {len(hidden)}).")
    if any(h > lim["hidden"] for h in hidden):
        raise ValueError(f"Hidden layers may have at most {lim['hidden']} units (got {', '.join(map(str, hidden))}).")


@dataclasses.dataclass
class Job:
    id: str
    owner: str
    spec: JobSpec
    name: str  # the sanitised name it is saved under
    root: Path
    status: str = "queued"
    progress: float = 0.0
    stage: str = ""
    epoch: int = 0
    losses: list = dataclasses.field(default_factory=list)  # {"stage", "epoch", "train", "val"}
    error: str = ""
    note: str = ""
    trace: str = ""  # the failure's traceback, for logs; pages show `error` only
    metrics: dict = dataclasses.field(default_factory=dict)
    saved_name: str | None = None
    created: float = dataclasses.field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    _stop: threading.Event = dataclasses.field(default_factory=threading.Event, repr=False)
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def cancel(self) -> None:
        """Ask the training to stop at its next step (a no-op once it has finished)."""
        self._stop.set()

    @property
    def cancel_requested(self) -> bool:
        return self._stop.is_set()

    def snapshot(self) -> dict:
        """A consistent copy of the job's public state, safe to read while it trains."""
        with self._lock:
            return {
                "id": self.id, "owner": self.owner, "spec": self.spec, "name": self.name, "status": self.status,
                "progress": self.progress, "stage": self.stage, "epoch": self.epoch,
                "losses": [dict(r) for r in self.losses], "error": self.error, "note": self.note,
                "metrics": {k: dict(v) if isinstance(v, dict) else v for k, v in self.metrics.items()},
                "saved_name": self.saved_name, "cancel_requested": self._stop.is_set(),
                "elapsed": (self.finished or time.time()) - (self.started or self.created),
            }

    def _set(self, **fields) -> None:
        with self._lock:
            for k, v in fields.items():
                setattr(self, k, v)


class JobManager:
    """Runs at most `max_concurrent` trainings at once, each in its own thread.

    train_fn and save_fn default to workflow.train_on / workflow.save_result; tests pass stand-ins.
    torch_threads, when set, is applied with torch.set_num_threads (process-wide) as a job starts:
    concurrent trainings that each spread over every core make all of them wait on one another
    (measured on a busy 2-core machine: one epoch of a 784-256-64-2 AE took 30 s with 2 intra-op
    threads and 9 s with 1).
    """

    def __init__(self, max_concurrent: int = 2, limits: dict | None = None,
                 train_fn: Callable | None = None, save_fn: Callable | None = None, torch_threads: int | None = None):
        self.max_concurrent = max_concurrent
        self.torch_threads = torch_threads
        self.limits = dict(limits or workflow.APP_LIMITS)
        self._train_fn = train_fn or workflow.train_on
        self._save_fn = save_fn or workflow.save_result
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------ queries

    def get(self, job_id: str | None) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id) if job_id else None

    def jobs(self, owner: str | None = None) -> list[Job]:
        with self._lock:
            return [j for j in self._jobs.values() if owner is None or j.owner == owner]

    def active_count(self) -> int:
        with self._lock:
            return sum(j.active for j in self._jobs.values())

    def cancel(self, job_id: str, owner: str | None = None) -> bool:
        """Cancel a job; with owner given, only that owner's job. True when a running job was asked to stop."""
        job = self.get(job_id)
        if job is None or (owner is not None and job.owner != owner) or not job.active:
            return False
        job.cancel()
        return True

    def wait(self, job_id: str, timeout: float = 60.0) -> Job | None:
        """Block until the job finishes (for the CLI and tests; pages poll instead)."""
        job = self.get(job_id)
        deadline = time.monotonic() + timeout
        while job is not None and job.active and time.monotonic() < deadline:
            time.sleep(0.05)
        return job

    # ------------------------------------------------------------ submitting

    def submit(self, spec: JobSpec, owner: str = "", root: str | Path | None = None,
               dataset: data_mod.Dataset | None = None, overwrite: bool = False) -> Job:
        """Validate spec, then start it. Raises ValueError (bad spec), Busy (too many running),
        or data.DatasetError (dataset not available)."""
        ds = dataset if dataset is not None else data_mod.load_dataset(spec.dataset)
        validate(spec, ds, self.limits)
        name = store.sanitize_name(spec.name or f"{spec.kind}-{uuid.uuid4().hex[:6]}")
        root = Path(root) if root is not None else store.default_root()
        with self._lock:
            running = [j for j in self._jobs.values() if j.active]
            if len(running) >= self.max_concurrent:
                raise Busy(f"{len(running)} trainings are already running on this server (the limit is "
                           f"{self.max_concurrent}). Wait for one to finish, or stop yours, and submit again.")
            if any(j.name == name and Path(j.root) == root for j in running):
                raise ValueError(f"A model named {name!r} is being trained right now; choose another name.")
            if not overwrite and (root / name).exists():
                raise ValueError(f"A model named {name!r} already exists in the store; choose another name.")
            job = Job(uuid.uuid4().hex[:12], owner, spec, name, root)
            self._jobs[job.id] = job
            self._forget_old()
        threading.Thread(target=self._run, args=(job, ds), name=f"train-{job.id}", daemon=True).start()
        return job

    def _forget_old(self) -> None:
        done = sorted((j for j in self._jobs.values() if not j.active), key=lambda j: j.created)
        for j in done[: max(0, len(done) - KEEP_FINISHED)]:
            del self._jobs[j.id]

    # ------------------------------------------------------------ the worker thread

    def _run(self, job: Job, ds: data_mod.Dataset) -> None:
        spec = job.spec
        try:
            if self.torch_threads:
                torch.set_num_threads(self.torch_threads)
            cfg = spec.train_config()
            x_n = len(ds.x_train) if spec.n_train is None else int(spec.n_train)
            stages = plan(models.build(spec.kind, input_shape=ds.sample_shape, **spec.overrides()), x_n, cfg)
            total = max(1, sum(e * s for _, e, s in stages))
            before = {}  # steps of all stages before each stage
            acc = 0
            for name, e, s in stages:
                before[name] = (acc, s)
                acc += e * s
            job._set(status="running", started=time.time(), stage=stages[0][0] if stages else "")

            def on_step(stage, epoch, step, loss):
                base, steps = before.get(stage, (0, 1))
                with job._lock:
                    job.stage, job.epoch = stage, epoch
                    job.progress = min(1.0, (base + epoch * steps + step + 1) / total)

            def on_epoch(stage, epoch, train_loss, val_loss):
                with job._lock:
                    job.losses.append({"stage": stage, "epoch": epoch + 1, "train": float(train_loss),
                                       "val": float(val_loss)})

            result = self._train_fn(spec.kind, ds, cfg, on_step=on_step, on_epoch=on_epoch,
                                    should_stop=job._stop.is_set, n_train=spec.n_train, **spec.overrides())
            if job._stop.is_set():
                job._set(status="cancelled", metrics=dict(result.metrics), finished=time.time(),
                         note="Stopped by its owner; not saved.")
                return
            note = ""
            if result.history.cancelled:
                note = f"Stopped at the {cfg.max_seconds:.0f} s time limit; saved with the best weights so far."
            self._save_fn(result, job.name, job.root)
            job._set(status="done", progress=1.0, metrics=dict(result.metrics), saved_name=job.name,
                     note=note, finished=time.time())
        except BaseException as e:  # noqa: BLE001 - a job must never fail silently, whatever it raised
            msg = str(e) or type(e).__name__
            job._set(status="failed", error=f"{type(e).__name__}: {msg}", finished=time.time(),
                     trace=traceback.format_exc(limit=5))


# The server's trainings share its cores: each gets its share of intra-op threads.
MANAGER = JobManager(max_concurrent=2, torch_threads=max(1, (os.cpu_count() or 1) // 2))
