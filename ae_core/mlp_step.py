"""The hand-derived backward pass of a plain MLP autoencoder: one training step's gradients without autograd.

`ManualBackward.of(module)` is the one place that says which modules it serves: an `AE` (the `ae`,
`linear` and `dae` kinds) whose encoder and decoder are Linear layers with bias, each followed by ReLU,
Tanh, Sigmoid or nothing, trained on the squared error (`recon_loss` "mse"). For anything else it
returns None and training keeps autograd. `step(x, generator)` corrupts x with the module's own noise
exactly as `Autoencoder.loss` does (same call, same generator, so the same draws), runs the forward
pass into buffers kept from step to step, derives every parameter's gradient into its `.grad`
(allocated once), and returns the batch's loss as a 0-d tensor on the device; the optimiser then steps
as usual. The maths is autograd's own for these ops (the same aten backward kernels: threshold_backward,
sigmoid_backward, tanh_backward, and the matrix products of addmm's backward), so the gradients agree
with `loss.backward()` to float rounding (tests/test_mlp_step.py).

`train_step(x, generator, optimizer)` is the whole step training takes: the same gradients, and the
optimiser's update applied to each layer as soon as its gradients are written (the backward pass runs
from the last layer to the first, so a layer's gradient, moments and weights are updated while still
in cache, and the first layer, updated last, is the one the next forward pass reads first). It does
this only for the optimiser `training.make_optimizer` builds where torch has the fused kernel (the CPU
here), torch's fused Adam without amsgrad or other options, calling the same kernel
(`torch._fused_adam_`) on the state the optimiser keeps, one layer at a time: the same arithmetic
element by element, so the weights equal `optimizer.step()`'s (tests/test_mlp_step.py). Any other
optimiser, and the very first step (which creates Adam's state), get `optimizer.step()` after the
gradients.

Why it exists: at the batch sizes people train with (64), a step of the 784-512-256-2 model is 17 small
matrix products and one Adam update, and autograd's graph, its per-op allocations and the loss's
temporaries are what this leaves out: the batch-64 step took 6.46 ms against autograd's 7.38 ms in
benchmarks/throughput.py's interleaved bare-step table (2026-12-03, one CPU thread).
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn
# Hooks on every optimiser's step (dicts filled in place): with any, the update is not done layer by layer.
from torch.optim.optimizer import _global_optimizer_post_hooks, _global_optimizer_pre_hooks

from .models.mlp import AE

aten = torch.ops.aten
# Activation modules this backward knows, by type: (in place on the layer's output, in place on the output's
# gradient given that output: autograd's own backward kernel), or None for no activation.
Act = tuple[Callable[[torch.Tensor], object], Callable[[torch.Tensor, torch.Tensor], object]] | None
_ACTS: dict[type, Act] = {
    nn.ReLU: (lambda out: out.clamp_min_(0),
              lambda d, out: aten.threshold_backward.grad_input(d, out, 0.0, grad_input=d)),
    nn.Tanh: (lambda out: out.tanh_(), lambda d, out: aten.tanh_backward.grad_input(d, out, grad_input=d)),
    nn.Sigmoid: (lambda out: out.sigmoid_(), lambda d, out: aten.sigmoid_backward.grad_input(d, out, grad_input=d)),
    nn.Identity: None,
}


def _layers(seq: nn.Module) -> list[tuple[nn.Linear, Act]] | None:
    """(Linear, activation) pairs of a Sequential of Linear/activation modules, or None if it is not one."""
    if not isinstance(seq, nn.Sequential):
        return None
    mods, out = list(seq), []
    if len(mods) % 2:
        return None
    for lin, act in zip(mods[0::2], mods[1::2]):
        if type(lin) is not nn.Linear or lin.bias is None or type(act) not in _ACTS:
            return None
        out.append((lin, _ACTS[type(act)]))
    return out


class ManualBackward:
    """One training step's forward pass and gradients for a plain MLP autoencoder (see the module docstring)."""

    def __init__(self, module: nn.Module, layers: list[tuple[nn.Linear, Act]]):
        self.module = module
        self.layers = layers
        self.params = [p for lin, _ in layers for p in (lin.weight, lin.bias)]
        self._buffers: dict[int, tuple[list[torch.Tensor], list[torch.Tensor]]] = {}

    @classmethod
    def of(cls, module: nn.Module) -> "ManualBackward | None":
        """The manual backward for `module`, or None where it does not apply (then train with autograd)."""
        # The exact class: a subclass may change the loss or the forward pass.
        if type(module) is not AE or getattr(module.config, "recon_loss", "mse") != "mse":
            return None
        enc, dec = _layers(module.encoder), _layers(module.decoder)
        if enc is None or dec is None:
            return None
        mb = cls(module, enc + dec)
        # Every parameter trained, all float32 on one device, and nothing else in the module to train.
        if not all(p.requires_grad and p.dtype == torch.float32 for p in mb.params) \
                or len({p.device for p in mb.params}) != 1 \
                or sum(1 for p in module.parameters() if p.requires_grad) != len(mb.params):
            return None
        return mb

    def _bufs(self, batch: int, device) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Activations (outputs of each layer) and their gradients for a batch of this size, kept per size."""
        if batch not in self._buffers:
            outs = [torch.empty(batch, lin.out_features, device=device) for lin, _ in self.layers]
            grads = [torch.empty(batch, lin.out_features, device=device) for lin, _ in self.layers]
            self._buffers = {k: v for k, v in self._buffers.items() if k > batch}  # the full batch and the last
            self._buffers[batch] = (outs, grads)
        return self._buffers[batch]

    def step(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Fill every parameter's .grad with d(loss)/d(parameter) for the batch x; return the loss (0-d).

        The loss is Autoencoder.loss's: the sum of squared errors per image, averaged over the batch,
        of the reconstruction of x's corrupted copy against x."""
        return self._step(x, generator, None)

    def train_step(self, x: torch.Tensor, generator: torch.Generator | None,
                   optimizer: torch.optim.Optimizer) -> torch.Tensor:
        """One training step on the batch x: the gradients (as `step`) and `optimizer`'s update of every
        parameter, layer by layer inside the backward pass where it can be (see the module docstring).
        Returns the loss (0-d); the caller must not call optimizer.step() again."""
        update = self._layer_update(optimizer)
        loss = self._step(x, generator, update)
        if update is None:
            optimizer.step()
        return loss

    def _layer_update(self, opt: torch.optim.Optimizer) -> Callable[[nn.Linear], None] | None:
        """A function updating one layer's weight and bias exactly as opt.step() would, or None when that
        cannot be promised: not torch's plain fused Adam over exactly these parameters, hooks on its step,
        or its state not created yet (the first step)."""
        if type(opt) is not torch.optim.Adam or len(opt.param_groups) != 1:
            return None
        group = opt.param_groups[0]
        if not group["fused"] or any(group[k] for k in ("amsgrad", "maximize", "capturable", "differentiable",
                                                         "decoupled_weight_decay")) \
                or isinstance(group["lr"], torch.Tensor) \
                or [id(p) for p in group["params"]] != [id(p) for p in self.params] \
                or any("step" not in opt.state[p] for p in self.params) \
                or opt._optimizer_step_pre_hooks or opt._optimizer_step_post_hooks \
                or _global_optimizer_pre_hooks or _global_optimizer_post_hooks:
            return None
        beta1, beta2 = group["betas"]
        kw = dict(amsgrad=False, lr=group["lr"], beta1=beta1, beta2=beta2, weight_decay=group["weight_decay"],
                  eps=group["eps"], maximize=False, grad_scale=None, found_inf=None)
        state = opt.state

        def update(lin: nn.Linear) -> None:
            ps = [lin.weight, lin.bias]
            steps = [state[p]["step"] for p in ps]
            torch._foreach_add_(steps, 1)  # what Adam's step does before its kernel
            torch._fused_adam_(ps, [p.grad for p in ps], [state[p]["exp_avg"] for p in ps],
                               [state[p]["exp_avg_sq"] for p in ps], [], steps, **kw)
        return update

    def _step(self, x: torch.Tensor, generator: torch.Generator | None,
              update: Callable[[nn.Linear], None] | None) -> torch.Tensor:
        m = self.module
        with torch.no_grad():
            x_in = m.noise.apply(x, generator) if m.training else x
            target = x.reshape(len(x), -1)
            h_in = x_in.reshape(len(x_in), -1)
            outs, douts = self._bufs(len(x), target.device)
            for p in self.params:
                if p.grad is None or p.grad.shape != p.shape:
                    p.grad = torch.empty_like(p)
            # forward: out_l = act(h_{l-1} @ W_l^T + b_l), into the kept buffers
            h = h_in
            for (lin, act), out in zip(self.layers, outs):
                torch.addmm(lin.bias, h, lin.weight.t(), out=out)
                if act is not None:
                    act[0](out)
                h = out
            # loss = sum((y - x)^2) / B; its gradient 2 (y - x) / B
            d = douts[-1]
            torch.sub(outs[-1], target, out=d)
            loss = torch.dot(d.view(-1), d.view(-1)) / len(x)
            d.mul_(2.0 / len(x))
            for i in range(len(self.layers) - 1, -1, -1):
                lin, act = self.layers[i]
                if act is not None:  # through the activation, from its output, as autograd's backward does
                    act[1](d, outs[i])
                h_prev = outs[i - 1] if i > 0 else h_in
                torch.mm(d.t(), h_prev, out=lin.weight.grad)
                torch.sum(d, 0, out=lin.bias.grad)
                if i > 0:  # the input needs no gradient
                    torch.mm(d, lin.weight, out=douts[i - 1])  # with the weights before the update
                    d = douts[i - 1]
                if update is not None:
                    update(lin)
        return loss
