"""Background trainings for the app: each in its own worker process, bounded, cancellable, never lost.

A web page must not train on its own script thread (the page would freeze and a second visitor
would wait), nor in a thread of the server's interpreter (the training's Python would take the
core the server needs for every session), and a visitor must not be able to start unbounded work.
`JobManager.submit` checks a `JobSpec` against `workflow.APP_LIMITS` (clear ValueErrors), refuses
with `Busy` when `max_concurrent` trainings are already running, and starts `run_job` in a worker
process (`ae_core.worker`: niced, `torch_threads` threads, the spec and its events as JSON lines).
`run_job` reports events that `Job.apply` folds into the job under a lock: progress (steps done
over the steps `training.plan` announces), the stage ("stage 2 of 3" for greedy stacks), and the
train/validation loss of every epoch. `Job.cancel()` asks the worker to stop at its next step.

Every training is bounded in time twice: `TrainConfig.max_seconds` inside the worker, and a
watchdog here that kills a worker still alive `FINISH_GRACE` seconds after that (measuring and
saving included). A worker that dies (killed, out of memory, a crash in native code) is reported
as "failed" with what happened; the store's atomic saves mean it leaves no half-written model and
every model saved before stays as it was.

Outcomes: "done" (saved with `workflow.save_result` under a sanitised name; a training stopped
by the time limit is saved too, with a note), "cancelled" (stopped by its owner; not saved),
"failed" (any exception, its message kept in `Job.error`). Readers take `Job.snapshot()`, a
consistent copy, never the live lists. The module-level `MANAGER` is the server's one manager.
With stand-in train/save functions (tests) the manager runs jobs in threads of this process
instead ("thread" runner): a Python closure cannot cross into another process.
"""
from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import tempfile
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
FINISHED = ("done", "failed", "cancelled")
MAX_HIDDEN_LAYERS = 4
MAX_BATCH = 4096
KEEP_FINISHED = 100  # finished jobs kept for their owners to read; older ones are forgotten
# Seconds a worker may live past its training's own time limit: starting (importing torch), the
# test-split metrics and PCA, and the save. Past that the watchdog kills it.
FINISH_GRACE = 180.0
CANCEL_GRACE = 30.0  # seconds a worker asked to stop may take before it is killed
PROGRESS_EVERY = 0.1  # seconds between progress events (the page polls twice a second)
WORKER_NICE = 10



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
    # A dataset uploaded in the browser: the private .npz (data.user.save_private) the worker reads it from;
    # `dataset` is then its name. None for the registered datasets.
    dataset_file: str | None = None

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


def spec_from_dict(d: dict) -> JobSpec:
    """A JobSpec from its JSON form (what a worker process receives): known fields only, lists as tuples."""
    names = {f.name for f in dataclasses.fields(JobSpec)}
    kw = {k: v for k, v in d.items() if k in names}
    if kw.get("hidden") is not None:
        kw["hidden"] = tuple(int(h) for h in kw["hidden"])
    return JobSpec(**kw)


def spec_to_dict(spec: JobSpec) -> dict:
    d = dataclasses.asdict(spec)
    if d.get("hidden") is not None:
        d["hidden"] = list(d["hidden"])
    return d


def dataset_for(spec: JobSpec) -> data_mod.Dataset:
    """The dataset a worker process trains on, from what the spec names (never an unpickled object)."""
    if spec.dataset_file:
        from .data import user

        ds = user.load_private(spec.dataset_file)
        if ds.name != spec.dataset:
            raise data_mod.DatasetError(f"{spec.dataset_file} holds {ds.name!r}, not {spec.dataset!r}.")
        return ds
    return data_mod.load_dataset(spec.dataset)


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
    pid: int | None = None  # the worker process, while it runs (None for the thread runner)
    _stop: threading.Event = dataclasses.field(default_factory=threading.Event, repr=False)
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False)
    _on_cancel: Callable[[], None] | None = dataclasses.field(default=None, repr=False)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def cancel(self) -> None:
        """Ask the training to stop at its next step (a no-op once it has finished)."""
        self._stop.set()
        if self._on_cancel is not None:
            self._on_cancel()

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

    def apply(self, event: dict) -> None:
        """Fold one event of `run_job` into the job. Once finished, a job ignores later events."""
        with self._lock:
            if self.status in FINISHED:
                return
            if "loss" in event:
                self.losses.append(dict(event["loss"]))
            for k in ("progress", "stage", "epoch", "error", "note", "trace", "metrics", "saved_name"):
                if k in event:
                    setattr(self, k, event[k])
            status = event.get("status")
            if status in STATUSES:
                self.status = status
                if status == "running" and self.started is None:
                    self.started = time.time()
                if status in FINISHED:
                    self.finished = time.time()
                    self.pid = None

    def _set(self, **fields) -> None:
        with self._lock:
            for k, v in fields.items():
                setattr(self, k, v)


def run_job(spec: JobSpec, name: str, root: str | Path | None, report: Callable[[dict], None],
            should_stop: Callable[[], bool], dataset: data_mod.Dataset | None = None,
            train_fn: Callable | None = None, save_fn: Callable | None = None) -> None:
    """Train, measure and save one job, telling `report` what happens as plain JSON-able events.

    The one body of both runners: a worker process sends the events to the server as JSON lines,
    the thread runner hands them to `Job.apply` directly. Never raises: a failure is an event.
    """
    train_fn = train_fn or workflow.train_on
    save_fn = save_fn or workflow.save_result
    try:
        ds = dataset if dataset is not None else dataset_for(spec)
        cfg = spec.train_config()
        x_n = len(ds.x_train) if spec.n_train is None else int(spec.n_train)
        stages = plan(models.build(spec.kind, input_shape=ds.sample_shape, **spec.overrides()), x_n, cfg)
        total = max(1, sum(e * s for _, e, s in stages))
        before = {}  # steps of all stages before each stage
        acc = 0
        for stage_name, e, s in stages:
            before[stage_name] = (acc, s)
            acc += e * s
        report({"status": "running", "stage": stages[0][0] if stages else ""})
        last = [0.0]

        def on_step(stage, epoch, step, loss):
            now = time.monotonic()
            if now - last[0] < PROGRESS_EVERY:
                return
            last[0] = now
            base, steps = before.get(stage, (0, 1))
            report({"stage": stage, "epoch": epoch, "progress": min(1.0, (base + epoch * steps + step + 1) / total)})

        def on_epoch(stage, epoch, train_loss, val_loss):
            base, steps = before.get(stage, (0, 1))
            report({"stage": stage, "epoch": epoch, "progress": min(1.0, (base + (epoch + 1) * steps) / total),
                    "loss": {"stage": stage, "epoch": epoch + 1, "train": float(train_loss), "val": float(val_loss)}})

        result = train_fn(spec.kind, ds, cfg, on_step=on_step, on_epoch=on_epoch,
                          should_stop=should_stop, n_train=spec.n_train, **spec.overrides())
        if should_stop():
            report({"status": "cancelled", "metrics": dict(result.metrics), "note": "Stopped by its owner; not saved."})
            return
        note = ""
        if result.history.cancelled:
            note = f"Stopped at the {cfg.max_seconds:.0f} s time limit; saved with the best weights so far."
        save_fn(result, name, root)
        report({"status": "done", "progress": 1.0, "metrics": dict(result.metrics), "saved_name": name, "note": note})
    except BaseException as e:  # noqa: BLE001 - a job must never fail silently, whatever it raised
        msg = str(e) or type(e).__name__
        report({"status": "failed", "error": f"{type(e).__name__}: {msg}", "trace": traceback.format_exc(limit=5)})


def _signal_name(rc: int) -> str:
    if rc < 0:
        try:
            return f"killed by {signal.Signals(-rc).name}"
        except ValueError:
            return f"killed by signal {-rc}"
    return f"exit status {rc}"


class JobManager:
    """Runs at most `max_concurrent` trainings at once, each in its own worker process.

    train_fn and save_fn default to workflow.train_on / workflow.save_result; tests pass stand-ins,
    which run in threads of this process (runner "thread"; the default with stand-ins). torch_threads
    bounds each training's intra-op threads (the worker's, or process-wide for the thread runner):
    concurrent trainings that each spread over every core make all of them wait on one another
    (measured on a busy 2-core machine: one epoch of a 784-256-64-2 AE took 30 s with 2 intra-op
    threads and 9 s with 1).
    """

    def __init__(self, max_concurrent: int = 2, limits: dict | None = None,
                 train_fn: Callable | None = None, save_fn: Callable | None = None, torch_threads: int | None = None,
                 runner: str | None = None):
        self.max_concurrent = max_concurrent
        self.torch_threads = torch_threads
        self.limits = dict(limits or workflow.APP_LIMITS)
        self.runner = runner or ("thread" if (train_fn or save_fn) else "process")
        if self.runner not in ("process", "thread"):
            raise ValueError(f"runner must be 'process' or 'thread' (got {self.runner!r})")
        if self.runner == "process" and (train_fn or save_fn):
            raise ValueError("Stand-in train/save functions run only with runner='thread'.")
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
        ds = dataset if dataset is not None else dataset_for(spec)
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
        if self.runner == "thread":
            threading.Thread(target=self._run_thread, args=(job, ds), name=f"train-{job.id}", daemon=True).start()
        else:
            threading.Thread(target=self._run_process, args=(job,), name=f"train-{job.id}", daemon=True).start()
        return job

    def _forget_old(self) -> None:
        done = sorted((j for j in self._jobs.values() if not j.active), key=lambda j: j.created)
        for j in done[: max(0, len(done) - KEEP_FINISHED)]:
            del self._jobs[j.id]

    # ------------------------------------------------------------ runners

    def _run_thread(self, job: Job, ds: data_mod.Dataset) -> None:
        if self.torch_threads:
            torch.set_num_threads(self.torch_threads)
        run_job(job.spec, job.name, job.root, job.apply, job._stop.is_set, dataset=ds,
                train_fn=self._train_fn, save_fn=self._save_fn)

    def _run_process(self, job: Job) -> None:
        """Start the worker, fold its events into the job, and report its end, however it came."""
        threads = max(1, int(self.torch_threads or 1))
        package_parent = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
               "PYTHONPATH": os.pathsep.join(p for p in (package_parent, os.environ.get("PYTHONPATH")) if p)}
        request = {"spec": spec_to_dict(job.spec), "name": job.name, "root": str(job.root), "threads": threads,
                   "nice": WORKER_NICE}
        limit = job.spec.train_config().max_seconds + FINISH_GRACE
        killed = {"why": ""}
        with tempfile.TemporaryFile() as err:
            try:
                proc = subprocess.Popen([sys.executable, "-m", "ae_core.worker"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=err, env=env, cwd=package_parent, text=True,
                                        bufsize=1, start_new_session=True)
            except OSError as e:
                job.apply({"status": "failed", "error": f"The training process could not start: {e}"})
                return
            lock = threading.Lock()

            def send(line: str) -> None:
                with lock:
                    try:
                        proc.stdin.write(line + "\n")
                        proc.stdin.flush()
                    except (BrokenPipeError, OSError, ValueError):
                        pass

            def kill(why: str) -> None:
                if proc.poll() is None:
                    killed["why"] = why
                    proc.kill()

            watchdog = threading.Timer(limit, kill, args=("time",))
            watchdog.daemon = True
            stopper: list[threading.Timer] = []

            def on_cancel() -> None:
                send("cancel")
                if not stopper:
                    t = threading.Timer(CANCEL_GRACE, kill, args=("cancel",))
                    t.daemon = True
                    stopper.append(t)
                    t.start()

            job._set(pid=proc.pid)
            job._on_cancel = on_cancel
            send(json.dumps(request))
            if job.cancel_requested:
                on_cancel()
            watchdog.start()
            try:
                for line in proc.stdout:
                    try:
                        event = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(event, dict):
                        job.apply(event)
                rc = proc.wait()
            finally:
                watchdog.cancel()
                for t in stopper:
                    t.cancel()
                job._on_cancel = None
                for stream in (proc.stdin, proc.stdout):
                    try:
                        stream.close()
                    except OSError:
                        pass
            if not job.active:
                return
            err.seek(0, os.SEEK_END)
            err.seek(max(0, err.tell() - 4000))
            tail = err.read().decode("utf-8", "replace")
            kept = f"nothing was saved under {job.name!r}; models saved before are untouched"
            if killed["why"] == "cancel" or (job.cancel_requested and rc != 0):
                job.apply({"status": "cancelled", "note": "Stopped by its owner; not saved."})
            elif killed["why"] == "time":
                job.apply({"status": "failed", "trace": tail,
                           "error": f"The training process was still running {limit:.0f} s after it started "
                                    f"(its time limit plus {FINISH_GRACE:.0f} s to measure and save) and was "
                                    f"stopped; {kept}."})
            else:
                job.apply({"status": "failed", "trace": tail,
                           "error": f"The training process stopped unexpectedly ({_signal_name(rc)}) before it "
                                    f"finished; {kept}. Submit it again, perhaps smaller."})


# The server's trainings share its cores: each gets its share of intra-op threads.
MANAGER = JobManager(max_concurrent=2, torch_threads=max(1, (os.cpu_count() or 1) // 2))
