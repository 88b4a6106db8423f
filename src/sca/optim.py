"""Adam whose per-element arithmetic does not depend on how many seeds share a tensor.

PyTorch's fused (and foreach) Adam computes most elements in SIMD lanes and the last few in a scalar
loop, and the two paths round differently (fused multiply-adds in one, separate roundings in the
other). Which elements fall in the scalar tail depends on the tensor's size, and with a leading seed
axis that size is S × (per-seed size): a [S, 5] bias is all tail for S = 1 and mostly SIMD for S = 60.
The 5-D models amplify that last-bit difference over 1501 steps into a different trained model.

Here every operation is a single correctly rounded IEEE operation (add, subtract, multiply, divide,
square root), which gives the same bits in either path, so each element's update depends only on its
own values. The formula is torch.optim.Adam's (no weight decay, no amsgrad):

    m ← m + (1 - β₁)(g - m)            v ← β₂ v + (1 - β₂) g²
    p ← p - (lr / (1 - β₁ᵗ)) · m / (√v / √(1 - β₂ᵗ) + ε)

Because the update is elementwise, all parameters live in one flat buffer (each parameter a view of
it), and a step is a dozen operations on that buffer instead of a dozen per parameter: at this model
size the per-operation overhead, not the arithmetic, is what a step costs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch


class SeedAdam:
    """Adam over a list of parameters, with the learning rate given per step. The parameters' storage
    moves into one flat buffer (their values and shapes are unchanged); `release` moves it back out."""

    def __init__(
        self, params: Iterable[torch.nn.Parameter], betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8
    ):
        self.params = list(params)
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.flat = torch.cat([p.detach().reshape(-1) for p in self.params])
        offset = 0
        for p in self.params:
            p.data = self.flat[offset : offset + p.numel()].view_as(p)
            offset += p.numel()
        self.m = torch.zeros_like(self.flat)
        self.v = torch.zeros_like(self.flat)
        self.t = 0

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self, lr: float) -> None:
        self.t += 1
        g = torch.cat([p.grad.reshape(-1) for p in self.params if p.grad is not None])
        step_size = lr / (1 - self.beta1**self.t)
        root2 = math.sqrt(1 - self.beta2**self.t)

        d = g - self.m  # m ← m + (1 - β₁)(g - m), as lerp
        self.m.add_(d.mul_(1 - self.beta1))
        g2 = g.mul_(g).mul_(1 - self.beta2)  # v ← β₂ v + (1 - β₂) g²
        self.v.mul_(self.beta2).add_(g2)
        denom = self.v.sqrt().div_(root2).add_(self.eps)  # √v / √(1 - β₂ᵗ) + ε
        self.flat.sub_(torch.div(self.m, denom).mul_(step_size))

    def release(self) -> None:
        """Give every parameter its own storage again (the trained values, detached from the buffer)."""
        for p in self.params:
            p.data = p.data.clone()
