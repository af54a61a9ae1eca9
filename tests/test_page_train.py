"""The Train page: the form starts a background job, the page polls it, the saved model shows up in
the sidebar's picker; bad input, a full server and failures give clear messages."""
import shutil
import time
from pathlib import Path

import pytest

from ae_core import jobs
from page_shim import vega_charts

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


@pytest.fixture
def models_copy(tmp_path, monkeypatch):
    """A private copy of the shipped models, so a test's trainings never touch models/."""
    root = tmp_path / "models"
    shutil.copytree(ROOT / "models", root, ignore=shutil.ignore_patterns(".*"))
    monkeypatch.setenv("MANIFOLD_LAB_MODELS", str(root))
    return root


def _train_page():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120)
    at.run()  # the first run draws the sidebar and stores the selection the page reads
    at.switch_page("pages/train.py").run()
    assert not at.exception
    return at


def _fill(at, **values):
    for key, v in values.items():
        widget = at.get("text_input") + at.get("number_input")
        [w for w in widget if w.key == key][0].set_value(v)
    submit = [b for b in at.button if b.label == "Train"][0]
    return submit.click().run()


def _texts(at, kind) -> str:
    return "\n".join(e.value for e in getattr(at, kind))


@pytest.mark.slow
def test_train_a_tiny_model_and_find_it_in_the_sidebar(models_copy):
    from streamlit.testing.v1 import AppTest

    at = _train_page()
    at = _fill(at, train_name="page-tiny", train_hidden="16", train_epochs=1, train_n=300)
    assert not at.exception and not at.error, _texts(at, "error")
    job_id = at.session_state["train_job_id"]
    deadline = time.monotonic() + 120
    while jobs.MANAGER.get(job_id).active and time.monotonic() < deadline:
        time.sleep(0.3)
        at.run()
    at.run()
    assert not at.exception
    assert jobs.MANAGER.get(job_id).status == "done", jobs.MANAGER.get(job_id).error
    assert "Saved **page-tiny**" in _texts(at, "success")
    table = at.dataframe[0].value
    assert len(table) == 2 and "PCA, 2 components" in set(table.iloc[:, 0])
    loss = vega_charts(at)  # the loss curve: train and validation at the one epoch
    assert len(loss) == 1 and {r["curve"] for r in loss[0]["rows"] if "curve" in r} == {"train", "validation"}
    assert all(r["loss"] > 0 for r in loss[0]["rows"] if "loss" in r)
    assert (models_copy / "page-tiny" / "config.json").is_file()
    assert not (ROOT / "models" / "page-tiny").exists()
    # AppTest reruns only the page after a session's first run, so a fresh session shows the sidebar.
    fresh = AppTest.from_file(APP, default_timeout=120).run()
    assert "page-tiny" in fresh.sidebar.selectbox(key="model_name").options


def test_bad_hidden_sizes_give_an_error(models_copy):
    at = _fill(_train_page(), train_hidden="256,abc", train_epochs=1)
    assert not at.exception
    assert "whole numbers" in _texts(at, "error")
    assert "train_job_id" not in at.session_state


def test_out_of_bounds_and_unbuildable_give_errors(models_copy):
    at = _fill(_train_page(), train_hidden="2048", train_epochs=1)
    assert "at most 1024 units" in _texts(at, "error")
    at = _fill(_train_page(), train_name="ae-2d", train_epochs=1)  # a shipped model's name
    assert "already exists" in _texts(at, "error")


def test_busy_server_gives_a_warning(models_copy, monkeypatch):
    monkeypatch.setattr(jobs, "MANAGER", jobs.JobManager(max_concurrent=0))
    at = _fill(_train_page(), train_name="busy", train_epochs=1, train_n=300)
    assert not at.exception
    assert "limit is 0" in _texts(at, "warning")


def test_failed_job_shows_its_error(models_copy, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("out of memory, pretend")

    mgr = jobs.JobManager(train_fn=boom)
    monkeypatch.setattr(jobs, "MANAGER", mgr)
    at = _fill(_train_page(), train_name="doomed", train_epochs=1, train_n=300)
    mgr.wait(at.session_state["train_job_id"], 10)
    at.run()
    assert not at.exception
    assert "out of memory, pretend" in _texts(at, "error")
