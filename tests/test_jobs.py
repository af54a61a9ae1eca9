"""ae_core.jobs: background trainings finish and save, can be cancelled, are capped and bounded,
and never fail silently."""
import threading
import time
import types
from pathlib import Path

import pytest
import torch

from ae_core import jobs, store, workflow
from ae_core.jobs import Busy, JobManager, JobSpec

TINY = dict(kind="ae", dataset="mnist-5k", latent_dim=2, hidden=(16,), epochs=1, n_train=300)


def _fake_result():
    return types.SimpleNamespace(metrics={"test": {"sse": 1.0}, "pca": {"sse": 2.0}},
                                 history=types.SimpleNamespace(cancelled=False))


def _blocking_train(release: threading.Event):
    """A stand-in for workflow.train_on that runs until cancelled or released."""
    def train(kind, ds, cfg, on_step=None, on_epoch=None, should_stop=None, n_train=None, **kw):
        step = 0
        while not should_stop() and not release.is_set():
            on_step("train", 0, step, 1.0)
            step += 1
            time.sleep(0.01)
        return _fake_result()
    return train


def test_tiny_job_trains_saves_and_is_listed(mnist5k, store_root):
    mgr = JobManager()
    job = mgr.submit(JobSpec(name="tiny one", **TINY), owner="s1", root=store_root, dataset=mnist5k)
    assert job.name == "tiny-one"  # sanitised
    snap = mgr.wait(job.id, timeout=120).snapshot()
    assert snap["status"] == "done", snap["error"]
    assert snap["progress"] == 1.0 and snap["saved_name"] == "tiny-one"
    assert [r["stage"] for r in snap["losses"]] == ["train"]
    assert snap["losses"][0]["train"] > 0 and snap["losses"][0]["val"] > 0
    assert set(snap["metrics"]) >= {"test", "pca"}
    listed = {m.name: m for m in store.list_models(store_root)}
    assert listed["tiny-one"].latent_dim == 2 and listed["tiny-one"].dataset == "mnist-5k"
    model, meta = store.load("tiny-one", store_root)
    assert meta["metrics"]["test"]["sse"] == pytest.approx(snap["metrics"]["test"]["sse"])
    assert mgr.jobs(owner="s1") == [job] and mgr.jobs(owner="s2") == []


def test_default_root_from_env(mnist5k, store_root, monkeypatch):
    monkeypatch.setenv("MANIFOLD_LAB_MODELS", str(store_root))
    mgr = JobManager()
    job = mgr.submit(JobSpec(name="env-model", **TINY), dataset=mnist5k)
    assert mgr.wait(job.id, 120).status == "done", job.error
    assert "env-model" in [m.name for m in store.list_models(store_root)]


def test_greedy_stack_reports_its_stages(mnist5k, store_root):
    mgr = JobManager()
    spec = JobSpec(kind="sdae", dataset="mnist-5k", name="stack", latent_dim=2, hidden=(16,), epochs=1, n_train=300)
    job = mgr.wait(mgr.submit(spec, root=store_root, dataset=mnist5k).id, 120)
    assert job.status == "done", job.error
    assert [r["stage"] for r in job.snapshot()["losses"]] == ["stage 1 of 2", "stage 2 of 2", "fine-tune"]


def test_cancel_stops_a_real_training_and_does_not_save(mnist5k, store_root):
    mgr = JobManager()
    spec = JobSpec(kind="ae", dataset="mnist-5k", name="long", latent_dim=2, hidden=(64,), epochs=30)
    job = mgr.submit(spec, owner="me", root=store_root, dataset=mnist5k)
    deadline = time.monotonic() + 60
    while job.snapshot()["progress"] == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not mgr.cancel(job.id, owner="someone else")  # only the owner may stop it
    assert mgr.cancel(job.id, owner="me")
    mgr.wait(job.id, 60)
    assert job.status == "cancelled" and job.saved_name is None
    assert job.snapshot()["progress"] < 0.5
    assert "long" not in [m.name for m in store.list_models(store_root)]


def test_cap_raises_busy_until_a_slot_frees(mnist5k, store_root):
    release = threading.Event()
    mgr = JobManager(max_concurrent=1, train_fn=_blocking_train(release), save_fn=lambda *a, **k: None)
    first = mgr.submit(JobSpec(name="a", **TINY), root=store_root, dataset=mnist5k)
    with pytest.raises(Busy, match="limit is 1"):
        mgr.submit(JobSpec(name="b", **TINY), root=store_root, dataset=mnist5k)
    first.cancel()
    assert mgr.wait(first.id, 10).status == "cancelled"
    second = mgr.submit(JobSpec(name="b", **TINY), root=store_root, dataset=mnist5k)
    release.set()
    assert mgr.wait(second.id, 10).status == "done"
    assert mgr.active_count() == 0


def test_module_manager_default_cap():
    assert jobs.MANAGER.max_concurrent == 2


def test_failures_are_captured(mnist5k, store_root):
    def boom(*a, **k):
        raise RuntimeError("the disk caught fire")

    mgr = JobManager(train_fn=boom)
    job = mgr.wait(mgr.submit(JobSpec(name="x", **TINY), root=store_root, dataset=mnist5k).id, 10)
    assert job.status == "failed" and "the disk caught fire" in job.error and "RuntimeError" in job.error
    assert job.trace  # kept for logs

    def bad_save(*a, **k):
        raise store.CheckpointError("read-only store")

    mgr = JobManager(train_fn=lambda *a, **k: _fake_result(), save_fn=bad_save)
    job = mgr.wait(mgr.submit(JobSpec(name="y", **TINY), root=store_root, dataset=mnist5k).id, 10)
    assert job.status == "failed" and "read-only store" in job.error


@pytest.mark.parametrize("change, message", [
    ({"epochs": workflow.APP_LIMITS["epochs"] + 1}, "Epochs"),
    ({"epochs": 0}, "Epochs"),
    ({"max_seconds": workflow.APP_LIMITS["seconds"] + 1}, "time limit"),
    ({"latent_dim": workflow.APP_LIMITS["latent_dim"] + 1}, "latent dimension"),
    ({"hidden": (workflow.APP_LIMITS["hidden"] + 1,)}, "at most"),
    ({"hidden": (8, 8, 8, 8, 8)}, "hidden layers"),
    ({"n_train": 5}, "Training images"),
    ({"n_train": 999_999}, "Training images"),
    ({"batch_size": 0}, "Batch size"),
    ({"kind": "gan"}, "Unknown model kind"),
    ({"noise": "fog:0.3"}, "noise"),
    ({"kind": "conv", "dataset": "swiss-roll"}, "input_shape"),
])
def test_bounds_are_enforced(change, message, mnist5k, store_root):
    spec = JobSpec(**{**TINY, "name": "b", **change})
    ds = None if "dataset" in change else mnist5k
    with pytest.raises(ValueError, match=message):
        JobManager().submit(spec, root=store_root, dataset=ds)


def test_n_train_above_app_limit(mnist5k, store_root):
    mgr = JobManager(limits={**workflow.APP_LIMITS, "n_train": 1000})
    with pytest.raises(ValueError, match="At most 1,000 training images"):
        mgr.submit(JobSpec(name="big", **{**TINY, "n_train": None}), root=store_root, dataset=mnist5k)


def test_sparse_code_bounded_like_a_hidden_layer(mnist5k):
    jobs.validate(JobSpec(kind="sparse", latent_dim=workflow.APP_LIMITS["hidden"]), mnist5k)
    with pytest.raises(ValueError, match="latent dimension"):
        jobs.validate(JobSpec(kind="sparse", latent_dim=workflow.APP_LIMITS["hidden"] + 1), mnist5k)


def test_names_existing_and_bad(mnist5k, store_root):
    (store_root / "taken").mkdir()
    mgr = JobManager(train_fn=lambda *a, **k: _fake_result(), save_fn=lambda *a, **k: None)
    with pytest.raises(ValueError, match="already exists"):
        mgr.submit(JobSpec(name="taken", **TINY), root=store_root, dataset=mnist5k)
    with pytest.raises(ValueError):
        mgr.submit(JobSpec(name="../..", **TINY), root=store_root, dataset=mnist5k)


def test_spec_passes_only_fields_the_kind_reads():
    assert JobSpec("linear", hidden=(8,), beta=3.0, latent_dim=2).overrides() == {"latent_dim": 2}
    assert JobSpec("vae", hidden=(8,), beta=3.0, noise="masking:0.1").overrides() == {"hidden": (8,), "beta": 3.0}
    assert JobSpec("sparse", sparsity_weight=0.5, noise="none").overrides() == {"weight": 0.5, "noise": "none"}
    assert JobSpec("ae").train_config().max_seconds == workflow.APP_LIMITS["seconds"]  # always time-bounded


def test_parse_hidden():
    assert jobs.parse_hidden("256, 64") == (256, 64)
    assert jobs.parse_hidden("") == ()
    with pytest.raises(ValueError, match="whole numbers"):
        jobs.parse_hidden("256,abc")


# ---------------------------------------------------------------- worker processes


def _wait_running(job, timeout=90):
    deadline = time.monotonic() + timeout
    while (job.pid is None or job.snapshot()["progress"] == 0) and job.active and time.monotonic() < deadline:
        time.sleep(0.02)
    assert job.active and job.pid, job.snapshot()


LONG = dict(kind="ae", dataset="mnist-5k", latent_dim=2, hidden=(64,), epochs=30)


def test_training_runs_in_a_niced_worker_process(mnist5k, store_root):
    import os

    mgr = JobManager(torch_threads=1)
    assert mgr.runner == "process"
    job = mgr.submit(JobSpec(name="elsewhere", **LONG), owner="me", root=store_root, dataset=mnist5k)
    _wait_running(job)
    assert job.pid != os.getpid()
    assert os.getpriority(os.PRIO_PROCESS, job.pid) >= jobs.WORKER_NICE
    group = Path(f"/proc/{job.pid}/autogroup")
    if group.exists():  # Linux with autogroup: the worker's own session must rank below the server's
        assert group.read_text().split()[-1] == str(jobs.WORKER_NICE), group.read_text()
    assert mgr.cancel(job.id, owner="me")
    assert mgr.wait(job.id, 60).status == "cancelled"
    assert job.pid is None and "elsewhere" not in [m.name for m in store.list_models(store_root)]


def test_a_killed_worker_is_reported_and_loses_nothing_saved(mnist5k, store_root):
    import os
    import signal

    from ae_core import models

    keep = models.build("ae", seed=3, latent_dim=2, hidden=(16,))
    store.save(keep, "saved-before", store_root)
    mgr = JobManager()
    job = mgr.submit(JobSpec(name="doomed", **LONG), root=store_root, dataset=mnist5k)
    _wait_running(job)
    os.kill(job.pid, signal.SIGKILL)
    snap = mgr.wait(job.id, 30).snapshot()
    assert snap["status"] == "failed"
    assert "stopped unexpectedly" in snap["error"] and "SIGKILL" in snap["error"]
    assert "nothing was saved under 'doomed'" in snap["error"]
    assert [m.name for m in store.list_models(store_root)] == ["saved-before"]
    model, _ = store.load("saved-before", store_root)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), keep.state_dict().values()))
    assert mgr.active_count() == 0  # the slot is free again


@pytest.mark.slow
def test_a_worker_killed_mid_save_leaves_no_half_written_model(mnist5k, store_root):
    """Kill the worker the moment its save's temporary folder appears: the name is absent or whole."""
    import os
    import signal

    spec = dict(kind="sparse", dataset="mnist-5k", latent_dim=1000, epochs=1, n_train=300)
    caught = 0
    for attempt in range(3):
        mgr = JobManager()
        name = f"halfway-{attempt}"
        job = mgr.submit(JobSpec(name=name, **spec), root=store_root, dataset=mnist5k)
        deadline = time.monotonic() + 120
        while job.active and time.monotonic() < deadline:
            if any(p.name.startswith(f".tmp-{name}-") for p in store_root.iterdir()):
                pid = job.pid
                if pid:
                    os.kill(pid, signal.SIGKILL)
                    caught += 1
                break
            time.sleep(0.0005)
        snap = mgr.wait(job.id, 60).snapshot()
        rows = {r.name: r for r in store.list_models(store_root)}
        assert not any(r.error for r in rows.values()), rows
        if name in rows:  # the rename won the race: then the model is whole
            assert snap["status"] == "done" or snap["status"] == "failed"
            store.load(name, store_root)
        else:
            assert snap["status"] == "failed" and "SIGKILL" in snap["error"], snap
        if caught:
            break
    assert caught, "never caught a save in progress"


def test_the_watchdog_stops_a_worker_past_its_bound(mnist5k, store_root, monkeypatch):
    monkeypatch.setattr(jobs, "FINISH_GRACE", -25.0)  # a 30 s training is killed 5 s after its start
    mgr = JobManager()
    job = mgr.submit(JobSpec(name="overdue", max_seconds=30, **LONG), root=store_root, dataset=mnist5k)
    snap = mgr.wait(job.id, 60).snapshot()
    assert snap["status"] == "failed" and "was still running" in snap["error"], snap
    assert "overdue" not in [m.name for m in store.list_models(store_root)]


@pytest.mark.slow
def test_a_worker_stops_when_its_server_dies(tmp_path):
    """The server process is SIGKILLed mid-training: its worker sees stdin close and stops, saving nothing."""
    import os
    import signal
    import subprocess
    import sys
    import textwrap
    from pathlib import Path

    root = tmp_path / "models"
    script = textwrap.dedent(f"""
        import sys, time
        from ae_core import jobs
        mgr = jobs.JobManager()
        job = mgr.submit(jobs.JobSpec(name="orphan", **{LONG!r}), root={str(root)!r})
        while job.snapshot()["progress"] == 0 and job.active:
            time.sleep(0.02)
        print(job.pid, flush=True)
        time.sleep(600)
    """)
    server = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parent.parent)
    try:
        pid = int(server.stdout.readline())
        os.kill(server.pid, signal.SIGKILL)
        server.wait(10)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            with open(f"/proc/{pid}/stat") as f:  # a zombie (reaped by init later) has stopped too
                if f.read().split(")")[-1].split()[0] == "Z":
                    break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
            raise AssertionError("the orphaned worker kept training")
        assert not (root / "orphan").exists()
    finally:
        if server.poll() is None:
            server.kill()
