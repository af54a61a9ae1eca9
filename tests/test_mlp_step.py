"""The hand-derived backward (ae_core.mlp_step) against autograd, and which models it serves."""
import pytest
import torch

from ae_core import models
from ae_core.mlp_step import ManualBackward
from ae_core.training import TrainConfig, train


def _autograd(m, x, seed):
    m.zero_grad(set_to_none=True)
    loss = m.loss(x, torch.Generator().manual_seed(seed))["loss"]
    loss.backward()
    return float(loss), {n: p.grad.clone() for n, p in m.named_parameters()}


def _manual(m, x, seed):
    mb = ManualBackward.of(m)
    assert mb is not None
    m.zero_grad(set_to_none=True)
    loss = mb.step(x, torch.Generator().manual_seed(seed))
    return float(loss), {n: p.grad.clone() for n, p in m.named_parameters()}


@pytest.mark.parametrize("kind, over", [
    ("ae", {"latent_dim": 2, "hidden": (48, 24)}),
    ("ae", {"latent_dim": 3, "hidden": (40,), "activation": "tanh"}),
    ("linear", {"latent_dim": 4}),
    ("dae", {"latent_dim": 2, "hidden": (32,)}),  # the noise: the same call, the same draws
])
@pytest.mark.parametrize("batch", [16, 7])
def test_gradients_equal_autograds(kind, over, batch):
    m = models.build(kind, seed=3, input_shape=(1, 6, 6), **over)
    m.train()
    x = torch.rand(batch, 1, 6, 6, generator=torch.Generator().manual_seed(1))
    la, ga = _autograd(m, x, 9)
    lm, gm = _manual(m, x, 9)
    assert lm == pytest.approx(la, rel=1e-5)
    assert ga.keys() == gm.keys() and len(ga) == 2 * (len(over.get("hidden", ())) + 1) * 2
    for n in ga:
        torch.testing.assert_close(gm[n], ga[n], rtol=1e-4, atol=1e-6, msg=n)
        assert ga[n].abs().max() > 0, n  # a zero gradient would agree with anything


def test_a_wrong_gradient_is_caught():
    # The comparison above can fail: a gradient off by a factor is seen.
    m = models.build("ae", seed=0, input_shape=(1, 6, 6), latent_dim=2, hidden=(16,))
    m.train()
    x = torch.rand(8, 1, 6, 6)
    _, ga = _autograd(m, x, 0)
    _, gm = _manual(m, x, 0)
    with pytest.raises(AssertionError):
        torch.testing.assert_close(gm["encoder.0.weight"] * 1.001, ga["encoder.0.weight"], rtol=1e-5, atol=0)


@pytest.mark.parametrize("kind, over", [
    ("sparse", {"latent_dim": 16}), ("conv", {}), ("vae", {}), ("stacked", {"hidden": (16,)}),
    ("ae", {"recon_loss": "bce"}), ("ae", {"activation": "elu"}),
])
def test_other_models_keep_autograd(kind, over):
    assert ManualBackward.of(models.build(kind, seed=0, **over)) is None


def test_a_frozen_parameter_keeps_autograd():
    m = models.build("ae", seed=0, latent_dim=2, hidden=(16,))
    m.encoder[0].bias.requires_grad_(False)
    assert ManualBackward.of(m) is None


@pytest.mark.parametrize("kind", ["ae", "dae"])
def test_training_matches_autograd(tiny_x, kind):
    """The same seeds, the same batches, the same noise: both ways end at nearly the same weights and losses."""
    def run(backward):
        m = models.build(kind, latent_dim=2, hidden=(32, 16), seed=1)
        h = train(m, tiny_x, TrainConfig(epochs=3, batch_size=16, seed=5, backward=backward, patience=0))
        return m.state_dict(), h.stages[0]

    (wa, ha), (wm, hm) = run("autograd"), run("auto")
    assert hm.train == pytest.approx(ha.train, rel=1e-4) and hm.val == pytest.approx(ha.val, rel=1e-4)
    for k in wa:
        torch.testing.assert_close(wm[k], wa[k], rtol=1e-3, atol=1e-5, msg=k)
    assert not all(torch.equal(wm[k], models.build(kind, latent_dim=2, hidden=(32, 16), seed=1).state_dict()[k])
                   for k in wm)  # it trained


def test_backward_setting_is_checked(tiny_x):
    with pytest.raises(ValueError, match="backward"):
        train(models.build("ae", latent_dim=2, hidden=(8,)), tiny_x, TrainConfig(epochs=1, backward="manual"))
