"""Concurrent users: one cached model serves many sessions, sessions keep their own state, saves race safely.

Streamlit serves each browser session from its own thread and st.cache_resource hands every session
the same model object, so inference must be read-only and thread-safe. Sessions must not see each
other's choices. Saves from a training job may race with loads from other sessions.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch

from ae_core import evaluate, images, models, store

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "app.py"
SHIPPED = REPO / "models"


def _shipped(name: str):
    # A shipped model is part of the repository: its absence is a failure, not a reason to skip.
    assert (SHIPPED / name / store.CONFIG).is_file(), f"shipped model {name} is missing from {SHIPPED}"
    return store.load(name, SHIPPED)


# ---------------------------------------------------------------- one model, many threads


@pytest.mark.parametrize("name", ["ae-2d", pytest.param("conv", marks=pytest.mark.slow), "vae-2d"])
def test_shared_model_inference_from_many_threads(mnist5k, name):
    model, _ = _shipped(name)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    grads_before = {n: p.requires_grad for n, p in model.named_parameters()}
    x = mnist5k.x_test[:256]
    rng = np.random.default_rng(0)
    z_grid = rng.normal(size=(64, model.latent_dim)).astype(np.float32)
    # Each task works on its own slice, as sessions with different inputs would.
    tasks = [(op, i) for i in range(8) for op in ("encode", "decode", "reconstruct")]

    def run(task):
        op, i = task
        if op == "encode":
            return evaluate.encode(model, x[i * 32:(i + 1) * 32])
        if op == "decode":
            return evaluate.decode(model, z_grid[i * 8:(i + 1) * 8])
        return evaluate.reconstruct(model, x[i * 32:(i + 1) * 32])

    expected = [run(t) for t in tasks]  # one thread first: the reference
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(3):
            got = list(pool.map(run, tasks * 2))
            for g, e in zip(got, expected * 2):
                assert np.array_equal(g, e)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items()), "weights changed"
    assert not model.training and not any(m.training for m in model.modules())
    assert {n: p.requires_grad for n, p in model.named_parameters()} == grads_before
    assert all(p.grad is None for p in model.parameters()), "gradients accumulated"


def test_concurrent_uploads_good_and_hostile(mnist5k):
    """Decoding is thread-safe: bombs and junk in some threads never disturb good images in others."""
    import io

    from PIL import Image

    def png(a: np.ndarray) -> bytes:
        buf = io.BytesIO()
        Image.fromarray(a).save(buf, "PNG")
        return buf.getvalue()

    digits = [(mnist5k.x_test[i, 0] * 255).astype(np.uint8) for i in range(16)]
    good = [png(d) for d in digits]
    expected = [images.load_upload(g) for g in good]
    bomb = Image.new("1", (6000, 5000))  # 30 megapixels, over the 25 MP limit; a few kB as PNG
    buf = io.BytesIO()
    bomb.save(buf, "PNG")
    hostile = [buf.getvalue(), b"", b"%PDF-1.4 not an image", good[0][: len(good[0]) // 2]]
    limit_before = Image.MAX_IMAGE_PIXELS

    def run(i):
        if i % 2:
            try:
                images.load_upload(hostile[(i // 2) % len(hostile)])
            except images.ImageError as e:
                return str(e)
            raise AssertionError("hostile upload accepted")
        return images.load_upload(good[(i // 2) % len(good)])

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, range(128)))
    for i, r in enumerate(results):
        if i % 2 == 0:
            assert np.array_equal(r, expected[(i // 2) % len(good)])
        else:
            assert isinstance(r, str) and r
    assert Image.MAX_IMAGE_PIXELS == limit_before


# ---------------------------------------------------------------- saves racing with loads


def test_saves_race_with_loads_and_listing(tmp_path):
    """Two writers overwrite one name while readers load and list it: every read sees one whole version."""
    root = tmp_path / "models"
    versions = {s: models.build("ae", seed=s, latent_dim=2, hidden=(32,)) for s in (1, 2, 3)}
    states = {s: m.state_dict() for s, m in versions.items()}
    store.save(versions[1], "m", root)
    stop = threading.Event()
    errors: list[str] = []
    loads = [0]

    def writer(seeds):
        for k in range(20):
            store.save(versions[seeds[k % 2]], "m", root)

    def reader():
        while not stop.is_set():
            try:
                model, meta = store.load("m", root)
                state = model.state_dict()
                hits = [s for s, v in states.items() if all(torch.equal(state[k], v[k]) for k in v)]
                if len(hits) != 1:
                    errors.append("a load mixed two versions")
                loads[0] += 1
                rows = store.list_models(root)
                if [r.name for r in rows] != ["m"] or rows[0].error:
                    errors.append(f"listing showed {rows}")
            except store.CheckpointError as e:
                errors.append(str(e))
            time.sleep(0.002)  # leave the writers some of the GIL

    readers = [threading.Thread(target=reader) for _ in range(3)]
    for t in readers:
        t.start()
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(writer, [(1, 2), (3, 1)]))
    stop.set()
    for t in readers:
        t.join(30)
    assert not errors, errors[:5]
    assert loads[0] >= 10, loads
    assert sorted(p.name for p in root.iterdir()) == ["m"]  # every working folder cleaned up
    model, _ = store.load("m", root)


# ---------------------------------------------------------------- separate sessions


def _session(monkeypatch, **state):
    from streamlit.testing.v1 import AppTest

    monkeypatch.delenv("MANIFOLD_LAB_MODELS", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=120)
    for k, v in state.items():
        at.session_state[k] = v
    return at.run()


@pytest.mark.slow
def test_two_sessions_keep_their_own_choices(monkeypatch):
    for name in ("ae-2d", "linear-2d"):
        _shipped(name)
    a = _session(monkeypatch)
    b = _session(monkeypatch, model_name="linear-2d", dataset_name="digits")
    assert not a.exception and not b.exception
    # b's picks are b's alone; a still has the defaults, after b ran.
    assert b.session_state["selection"].dataset.name == "digits"
    assert b.session_state["selection"].model_name is None  # no shipped model takes 8x8 digits
    assert a.session_state["selection"].dataset.name == "mnist-5k"
    assert a.session_state["selection"].model_name == "ae-2d"
    c = _session(monkeypatch, model_name="linear-2d")
    assert c.session_state["selection"].model_name == "linear-2d"
    assert a.session_state["selection"].model_name == "ae-2d"
    assert "model_name" in c.session_state and c.session_state["model_name"] == "linear-2d"
    # What a session puts in its own state stays there.
    a.session_state["user_dataset"] = "mine.npz"
    assert "user_dataset" not in c.session_state and "user_dataset" not in b.session_state
    # The cached model itself IS shared between sessions: the reason inference must be read-only.
    d = _session(monkeypatch)
    assert d.session_state["selection"].model is a.session_state["selection"].model


@pytest.mark.slow
def test_a_sessions_training_is_not_shown_to_another(mnist5k, store_root, monkeypatch):
    """The job manager is shared by the server; which training a page shows comes from its session alone."""
    from streamlit.testing.v1 import AppTest

    from ae_core import jobs

    spec = jobs.JobSpec(kind="ae", dataset="mnist-5k", name="alices-model", latent_dim=2, hidden=(16,), epochs=1,
                        n_train=300)
    job = jobs.MANAGER.submit(spec, owner="alice", root=store_root, dataset=mnist5k)
    assert jobs.MANAGER.wait(job.id, 120).status == "done"
    monkeypatch.setenv("MANIFOLD_LAB_MODELS", str(store_root))

    def train_page_text(**state) -> str:
        at = AppTest.from_file(str(APP), default_timeout=120)
        for k, v in state.items():
            at.session_state[k] = v
        at.run().switch_page("pages/train.py").run()
        assert not at.exception
        return "\n".join(e.value for kind in ("markdown", "success", "subheader") for e in getattr(at, kind))

    alice = train_page_text(session_uid="alice", train_job_id=job.id, train_jobs=[job.id], train_refreshed=[job.id])
    bob = train_page_text(session_uid="bob")
    assert "**alices-model**" in alice and "Saved **alices-model**" in alice
    assert "alices-model" not in bob and "Training" not in bob


# ---------------------------------------------------------------- background trainings


@pytest.mark.slow
def test_two_real_trainings_at_once_both_save_intact_third_is_busy(mnist5k, store_root):
    from ae_core import jobs, workflow

    gate = threading.Event()  # both trainings are held until the third submission has been refused
    trained: dict[str, dict] = {}

    def train(*args, **kwargs):
        assert gate.wait(60)
        return workflow.train_on(*args, **kwargs)

    def save(result, name, root):
        trained[name] = {k: v.detach().clone() for k, v in result.model.state_dict().items()}
        return workflow.save_result(result, name, root)

    mgr = jobs.JobManager(max_concurrent=2, train_fn=train, save_fn=save)
    tiny = dict(kind="ae", dataset="mnist-5k", latent_dim=2, hidden=(16,), epochs=1, n_train=300)
    a = mgr.submit(jobs.JobSpec(name="first", seed=1, **tiny), owner="alice", root=store_root, dataset=mnist5k)
    b = mgr.submit(jobs.JobSpec(name="second", seed=2, **tiny), owner="bob", root=store_root, dataset=mnist5k)
    with pytest.raises(jobs.Busy) as busy:
        mgr.submit(jobs.JobSpec(name="third", **tiny), owner="carol", root=store_root, dataset=mnist5k)
    msg = str(busy.value)
    assert "2 trainings are already running" in msg and "limit is 2" in msg and "submit again" in msg
    gate.set()
    for job in (a, b):
        snap = mgr.wait(job.id, timeout=120).snapshot()
        assert snap["status"] == "done", snap["error"]
    assert mgr.active_count() == 0
    rows = {r.name: r for r in store.list_models(store_root)}
    assert set(rows) == {"first", "second"} and not any(r.error for r in rows.values())
    for name in ("first", "second"):
        model, meta = store.load(name, store_root)
        state = model.state_dict()
        assert all(torch.equal(state[k], trained[name][k]) for k in trained[name]), f"{name} not saved intact"
        assert meta["metrics"]["test"]["sse"] > 0
        assert np.isfinite(evaluate.reconstruct(model, mnist5k.x_test[:8])).all()
    assert not torch.equal(trained["first"]["encoder.0.weight"], trained["second"]["encoder.0.weight"])
    assert sorted(p.name for p in store_root.iterdir()) == ["first", "second"]
    # A slot is free again: the refused training can now start.
    c = mgr.submit(jobs.JobSpec(name="third", **tiny), owner="carol", root=store_root, dataset=mnist5k)
    assert mgr.wait(c.id, timeout=120).status == "done"


def test_builds_in_parallel_threads_are_reproducible():
    ref = {s: models.build("ae", seed=s, hidden=(256, 64)).state_dict() for s in range(4)}
    for _ in range(5):
        with ThreadPoolExecutor(max_workers=4) as pool:
            got = dict(zip(range(4), pool.map(lambda s: models.build("ae", seed=s, hidden=(256, 64)).state_dict(),
                                              range(4))))
        for s in range(4):
            assert all(torch.equal(got[s][k], ref[s][k]) for k in ref[s]), f"seed {s} gave other weights"
