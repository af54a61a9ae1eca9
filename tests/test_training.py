import numpy as np
import pytest
import torch

from ae_core import models
from ae_core.training import TrainConfig, plan, train


def _params(m):
    return {k: v.detach().clone() for k, v in m.state_dict().items()}


def test_training_reduces_loss_and_reports_steps(mnist5k):
    m = models.build("ae", latent_dim=8, hidden=(64,))
    steps = []
    epochs = []
    h = train(m, mnist5k.x_train[:1000], TrainConfig(epochs=3, batch_size=100),
              on_step=lambda *a: steps.append(a), on_epoch=lambda *a: epochs.append(a))
    st = h.stages[0]
    assert st.name == "train" and len(st.train) == 3 and st.val[-1] < st.val[0]
    assert len(steps) == 3 * 9 and steps[0][:3] == ("train", 0, 0)  # 900 fit images / 100
    assert [e[1] for e in epochs] == [0, 1, 2]
    assert sum(e * s for _, e, s in plan(m, 1000, TrainConfig(epochs=3, batch_size=100))) == len(steps)
    assert not m.training


def test_training_is_deterministic(tiny_x):
    def run():
        m = models.build("dae", latent_dim=4, hidden=(32,), seed=1)
        train(m, tiny_x, TrainConfig(epochs=2, batch_size=16, seed=5))
        return _params(m)

    a, b = run(), run()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_cancel_between_steps(tiny_x):
    m = models.build("ae", latent_dim=2, hidden=(16,))
    calls = []
    h = train(m, tiny_x, TrainConfig(epochs=50, batch_size=8),
              on_step=lambda *a: calls.append(a), should_stop=lambda: len(calls) >= 5)
    assert h.cancelled and len(calls) == 5


def test_max_seconds_bounds_training(tiny_x):
    m = models.build("ae", latent_dim=2, hidden=(16,))
    h = train(m, tiny_x, TrainConfig(epochs=100_000, batch_size=8, max_seconds=0.5, patience=0))
    assert h.cancelled and h.seconds < 5


def test_early_stopping_keeps_best(tiny_x):
    m = models.build("ae", latent_dim=2, hidden=(16,))
    h = train(m, tiny_x, TrainConfig(epochs=200, batch_size=8, lr=0.05, patience=2))
    st = h.stages[0]
    assert len(st.train) < 200 and st.best_epoch == int(np.argmin(st.val))


def test_greedy_stacking_trains_stage_by_stage(mnist5k):
    """Stage k changes only its own layers; lower stages stay frozen while upper ones train."""
    m = models.build("sdae", latent_dim=4, hidden=(32, 16))
    stages = m.greedy_stages()
    assert len(stages) == 3
    snapshots = []
    seen = []

    def on_epoch(stage, epoch, tl, vl):
        seen.append(stage)
        snapshots.append((stage, _params(m)))

    before = _params(m)
    h = train(m, mnist5k.x_train[:500], TrainConfig(epochs=2, fine_tune_epochs=1, batch_size=50), on_epoch=on_epoch)
    assert [s.name for s in h.stages] == ["stage 1 of 3", "stage 2 of 3", "stage 3 of 3", "fine-tune"]
    assert sorted(set(seen), key=seen.index) == [s.name for s in h.stages]

    def changed(a, b):
        return {k for k in a if not torch.equal(a[k], b[k])}

    end = {stage: p for stage, p in snapshots}  # last snapshot of each stage
    assert changed(before, end["stage 1 of 3"]) == {"encoders.0.0.weight", "encoders.0.0.bias",
                                                    "decoders.0.0.weight", "decoders.0.0.bias"}
    assert changed(end["stage 1 of 3"], end["stage 2 of 3"]) == {"encoders.1.0.weight", "encoders.1.0.bias",
                                                                 "decoders.1.0.weight", "decoders.1.0.bias"}
    assert changed(end["stage 2 of 3"], end["stage 3 of 3"]) == {"encoders.2.0.weight", "encoders.2.0.bias",
                                                                 "decoders.2.0.weight", "decoders.2.0.bias"}
    assert len(changed(end["stage 3 of 3"], end["fine-tune"])) == 12  # fine-tuning moves everything


def test_greedy_stage_parameters_are_its_own():
    m = models.build("stacked", latent_dim=2, hidden=(8,))
    s0, s1 = m.greedy_stages()
    assert sum(p.numel() for p in s1.parameters()) == 8 * 2 + 2 + 2 * 8 + 8


# ---------------------------------------------------------------- the step's own overhead


def test_no_host_read_of_the_loss_every_step(tiny_x, monkeypatch):
    """Without on_step the loss is read on the host about twice per epoch (train and validation means)."""
    reads = [0]
    real_float, real_item = torch.Tensor.__float__, torch.Tensor.item

    def counting_float(self):
        reads[0] += 1
        return real_float(self)

    def counting_item(self):
        reads[0] += 1
        return real_item(self)

    monkeypatch.setattr(torch.Tensor, "__float__", counting_float)
    monkeypatch.setattr(torch.Tensor, "item", counting_item)
    m = models.build("ae", latent_dim=2, hidden=(16,))
    h = train(m, tiny_x, TrainConfig(epochs=3, batch_size=4, patience=0))  # 58 fit images: 15 steps an epoch
    assert len(h.stages[0].train) == 3
    assert reads[0] <= 3 * 3, reads[0]


def test_on_step_reads_the_loss_at_ticks_and_at_each_epochs_end(tiny_x, monkeypatch):
    from ae_core import training

    monkeypatch.setattr(training, "READ_EVERY", 3600.0)
    values = []
    train(models.build("ae", latent_dim=2, hidden=(16,)), tiny_x, TrainConfig(epochs=2, batch_size=4, patience=0),
          on_step=lambda s, e, i, v: values.append((e, i, v)))
    per_epoch = [[v for e, _, v in values if e == k] for k in (0, 1)]
    assert len(per_epoch[0]) == 15 and len(set(per_epoch[0][:-1])) == 1  # the first read, held until the epoch ends
    assert per_epoch[0][-1] != per_epoch[0][0] and np.isfinite(per_epoch[1]).all()


def test_a_diverging_loss_still_stops_with_a_message(tiny_x):
    m = models.build("ae", latent_dim=2, hidden=(16,))
    with torch.no_grad():
        next(m.parameters()).fill_(float("nan"))
    with pytest.raises(FloatingPointError, match="smaller learning rate"):
        train(m, tiny_x, TrainConfig(epochs=2, batch_size=8))


@pytest.mark.parametrize("impl", ["fused", "foreach"])
def test_adam_implementations_agree_with_the_loop(tiny_x, impl):
    def run(which):
        m = models.build("ae", latent_dim=2, hidden=(32,), seed=2)
        train(m, tiny_x, TrainConfig(epochs=3, batch_size=8, seed=1, patience=0, optimizer=which))
        return _params(m)

    ref, got = run("loop"), run(impl)
    assert all(torch.allclose(ref[k], got[k], atol=1e-5, rtol=1e-4) for k in ref)


def test_auto_takes_the_fused_adam_on_the_cpu():
    from ae_core.training import make_optimizer

    p = [torch.nn.Parameter(torch.zeros(3))]
    assert make_optimizer(p, TrainConfig(), torch.device("cpu")).defaults.get("fused") is True
    assert make_optimizer(p, TrainConfig(optimizer="foreach"), torch.device("cpu")).defaults.get("foreach") is True
    with pytest.raises(ValueError, match="optimizer must be"):
        make_optimizer(p, TrainConfig(optimizer="sgd"), torch.device("cpu"))
