"""Where a run's randomness comes from, as one swappable piece the trainer consumes.

A run draws three things: initial weights, the sample indices of every batch, and the uniform numbers
that turn label probabilities into labels. A stream produces all three for one seed, up front, so
that a seed's draws never depend on other seeds, and another stream (e.g. one replaying the original
notebooks' generators) can be fed to the same trainer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import torch

from .model import default_init


@dataclass
class Draws:
    """Everything random about one seed's run."""

    params: list[torch.Tensor]  # initial weight, bias, weight, bias, ... (ModelConfig.layer_shapes order)
    indices: torch.Tensor  # [steps, B] int64 sample indices into the training colours
    uniforms: torch.Tensor  # [steps, L, B] float32 in [0, 1): label = uniform < probability


class RandomStream(Protocol):
    def draws(self, seed: int, shapes: Sequence[tuple[int, int]], steps: int, batch: int,
              n_samples: int, n_labels: int, weights: torch.Tensor | None) -> Draws: ...


class TorchStream:
    """Our own stream: one torch CPU generator per seed, drawn in a fixed order (weights, indices, labels)."""

    def draws(self, seed, shapes, steps, batch, n_samples, n_labels, weights=None) -> Draws:
        g = torch.Generator().manual_seed(int(seed))
        params = default_init(shapes, g)
        if weights is None:
            indices = torch.randint(n_samples, (steps, batch), generator=g)
        else:
            indices = torch.multinomial(weights, steps * batch, replacement=True, generator=g).view(steps, batch)
        uniforms = torch.rand(steps, n_labels, batch, generator=g)
        return Draws(params, indices, uniforms)
