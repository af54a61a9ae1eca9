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


def _twins(kind="ae", **over):
    over = {"latent_dim": 2, "hidden": (24, 12), **over}
    return [models.build(kind, seed=4, input_shape=(1, 6, 6), **over) for _ in range(2)]


@pytest.mark.parametrize("kind, wd, schedule", [("ae", 0.0, False), ("ae", 1e-3, True), ("dae", 0.0, True)])
def test_train_step_updates_as_optimizer_step_does(kind, wd, schedule):
    """The update done layer by layer inside the backward pass leaves the weights and Adam's state exactly where
    the gradients followed by optimizer.step() do, step after step, with weight decay and a changing lr."""
    from ae_core.training import make_optimizer

    ref, new = _twins(kind)
    runs = []
    for m in (ref, new):
        m.train()
        opt = make_optimizer(list(m.parameters()), TrainConfig(lr=3e-3, weight_decay=wd), torch.device("cpu"))
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=6) if schedule else None
        runs.append((m, ManualBackward.of(m), opt, sched, torch.Generator().manual_seed(2)))
    xs = torch.rand(6, 10, 1, 6, 6, generator=torch.Generator().manual_seed(0))
    for t, x in enumerate(xs):
        (m0, mb0, o0, s0, g0), (m1, mb1, o1, s1, g1) = runs
        l0 = mb0.step(x, g0)
        o0.step()
        assert (mb1._layer_update(o1) is not None) == (t > 0)  # from the second step on, inside the backward
        l1 = mb1.train_step(x, g1, o1)
        assert torch.equal(l0, l1)
        for s in (s0, s1):
            if s is not None:
                s.step()
        for (n, p0), p1 in zip(m0.named_parameters(), m1.parameters()):
            assert torch.equal(p0, p1), (t, n)
            for k in ("step", "exp_avg", "exp_avg_sq"):
                assert torch.equal(o0.state[p0][k], o1.state[p1][k]), (t, n, k)
    assert not torch.equal(ref.encoder[0].weight, _twins(kind)[0].encoder[0].weight)  # it trained


@pytest.mark.parametrize("make", [
    lambda ps: torch.optim.Adam(ps, foreach=True),
    lambda ps: torch.optim.Adam(ps, fused=True, amsgrad=True),
    lambda ps: torch.optim.SGD(ps, lr=0.1),
])
def test_other_optimizers_step_after_the_gradients(make):
    ref, new = _twins()
    o0, o1 = make(list(ref.parameters())), make(list(new.parameters()))
    mb0, mb1 = ManualBackward.of(ref), ManualBackward.of(new)
    for x in torch.rand(3, 8, 1, 6, 6, generator=torch.Generator().manual_seed(1)):
        mb0.step(x)
        o0.step()
        assert mb1._layer_update(o1) is None
        mb1.train_step(x, None, o1)
        for p0, p1 in zip(ref.parameters(), new.parameters()):
            assert torch.equal(p0, p1)


def test_a_hooked_optimizer_steps_whole():
    m = _twins()[0]
    opt = torch.optim.Adam(m.parameters(), fused=True)
    mb = ManualBackward.of(m)
    calls = []
    opt.register_step_post_hook(lambda *a: calls.append(1))
    for _ in range(3):
        mb.train_step(torch.rand(4, 1, 6, 6), None, opt)
    assert calls == [1, 1, 1]
