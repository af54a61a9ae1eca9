"""A dataset uploaded in the browser reaches a training worker process as a private .npz path in its
JobSpec (never a pickled object), trains there, and the saved model's card records where it came from."""
import dataclasses

import numpy as np
import pytest

from ae_core import jobs, store
from ae_core.data import DatasetError, user
from ae_core.jobs import JobManager, JobSpec
from tests.test_data_user import classes_zip


@pytest.fixture
def own(tmp_path):
    ds = user.load_upload(classes_zip(n=(20, 20)), "shapes.zip")
    return ds, user.save_private(ds, tmp_path)


def test_spec_carries_the_file_and_the_worker_reads_it(own):
    ds, path = own
    spec = JobSpec("ae", dataset=ds.name, dataset_file=str(path), latent_dim=2, hidden=(16,), epochs=1)
    back = jobs.spec_from_dict(jobs.spec_to_dict(spec))
    assert back == spec
    got = jobs.dataset_for(back)
    np.testing.assert_array_equal(got.x_train, ds.x_train)
    np.testing.assert_array_equal(got.y_test, ds.y_test)
    with pytest.raises(DatasetError):
        jobs.dataset_for(dataclasses.replace(spec, dataset="someone-else"))


def test_a_worker_process_trains_on_an_upload_and_the_card_says_so(own, store_root):
    ds, path = own
    mgr = JobManager(torch_threads=1)
    assert mgr.runner == "process"
    spec = JobSpec("ae", dataset=ds.name, dataset_file=str(path), name="mine", latent_dim=2, hidden=(16,), epochs=1)
    job = mgr.submit(spec, owner="me", root=store_root, dataset=ds)
    done = mgr.wait(job.id, 240)
    assert done.status == "done", done.snapshot()
    meta = store.read_meta("mine", store_root)
    assert meta["dataset"]["name"] == ds.name
    origin = meta["dataset"]["origin"]
    assert origin["file"] == "shapes.zip" and origin["sha256"] == ds.origin["sha256"] and origin["n_images"] == 40
    assert tuple(meta["config"]["input_shape"]) == (1, 16, 16)
