"""Named extra states in a checkpoint (store.save(states=...), store.load(state=...)): the greedy stack kept
beside the fine-tuned one, round-tripped exactly and checked like the model's own weights."""
import json

import numpy as np
import pytest
import torch

from ae_core import data, models, store, workflow
from ae_core.training import TrainConfig


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("models")
    ds = data.load_dataset("mnist-5k")
    result = workflow.train_on("sdae", ds, TrainConfig(epochs=1, fine_tune_epochs=1, batch_size=64), n_train=300,
                               hidden=(32,), latent_dim=4)
    workflow.save_result(result, "tiny-sdae", root)
    return root, result


def test_train_on_keeps_the_greedy_stack_as_the_stages_left_it(saved):
    _, result = saved
    greedy = result.states[workflow.GREEDY_STATE]
    final = result.model.state_dict()
    assert set(greedy) == set(final)
    # Fine-tuning changed every layer's weights.
    assert all(not torch.equal(greedy[k], final[k]) for k in final if k.endswith("weight"))


def test_both_states_round_trip_exactly(saved):
    root, result = saved
    final, meta = store.load("tiny-sdae", root)
    greedy, _ = store.load("tiny-sdae", root, state=workflow.GREEDY_STATE)
    for k, v in result.model.state_dict().items():
        assert torch.equal(final.state_dict()[k], v)
        assert torch.equal(greedy.state_dict()[k], result.states[workflow.GREEDY_STATE][k])
    assert meta["states"][workflow.GREEDY_STATE]["file"] == "state-greedy.safetensors"
    assert not greedy.training


def test_a_replaced_state_file_an_unknown_state_or_name_is_refused(saved, tmp_path):
    root, result = saved
    with pytest.raises(store.CheckpointError, match="no stored state"):
        store.load("tiny-sdae", root, state="other")
    with pytest.raises(store.CheckpointError, match="not a state name"):
        store.load("tiny-sdae", root, state="../model")
    import shutil

    copy = tmp_path / "m"
    shutil.copytree(root, copy)
    f = copy / "tiny-sdae" / "state-greedy.safetensors"
    f.write_bytes(f.read_bytes()[:-8] + b"\x00" * 8)
    with pytest.raises(store.CheckpointError, match="sha256"):
        store.load("tiny-sdae", copy, state=workflow.GREEDY_STATE)
    store.load("tiny-sdae", copy)  # the model's own weights are untouched


def test_a_state_of_another_model_is_not_saved(tmp_path):
    m = models.build("stacked", input_shape=(1, 28, 28), hidden=(8,), latent_dim=2)
    other = models.build("ae", input_shape=(1, 28, 28), latent_dim=2).state_dict()
    with pytest.raises(store.CheckpointError, match="does not hold"):
        store.save(m, "x", tmp_path, states={"greedy": other})
    assert not (tmp_path / "x").exists()


def test_models_without_states_load_as_before(saved):
    root, _ = saved
    m = models.build("ae", input_shape=(1, 28, 28), latent_dim=2)
    store.save(m, "plain", root)
    assert "states" not in json.loads((root / "plain" / "config.json").read_text())
    with pytest.raises(store.CheckpointError, match="no stored state"):
        store.load("plain", root, state=workflow.GREEDY_STATE)
