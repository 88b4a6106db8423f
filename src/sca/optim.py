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
"""

from __future__ import annotations

import math
from typing import Iterable

import torch


class SeedAdam:
    """Adam over a list of parameters, with the learning rate given per step."""

    def __init__(self, params: Iterable[torch.nn.Parameter], betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.params = list(params)
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.t = 0

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self, lr: float) -> None:
        self.t += 1
        grads = [p.grad for p in self.params]
        step_size = lr / (1 - self.beta1**self.t)
        root2 = math.sqrt(1 - self.beta2**self.t)

        d = torch._foreach_sub(grads, self.m)  # m ← m + (1 - β₁)(g - m), as lerp
        torch._foreach_mul_(d, 1 - self.beta1)
        torch._foreach_add_(self.m, d)

        g2 = torch._foreach_mul(grads, grads)  # v ← β₂ v + (1 - β₂) g²
        torch._foreach_mul_(g2, 1 - self.beta2)
        torch._foreach_mul_(self.v, self.beta2)
        torch._foreach_add_(self.v, g2)

        denom = torch._foreach_sqrt(self.v)  # √v / √(1 - β₂ᵗ) + ε
        torch._foreach_div_(denom, root2)
        torch._foreach_add_(denom, self.eps)
        update = torch._foreach_div(self.m, denom)
        torch._foreach_mul_(update, step_size)
        torch._foreach_sub_(self.params, update)
