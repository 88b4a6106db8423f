"""Where a run's randomness comes from, as one swappable piece the trainer consumes.

A run draws three things: initial weights, the sample indices of every batch, and the uniform numbers
that turn label probabilities into labels. A stream produces all three for one seed, up front, so
that a seed's draws never depend on other seeds, and another stream (e.g. one replaying the original
notebooks' generators) can be fed to the same trainer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import torch

from .model import default_init


@dataclass
class Draws:
    """Everything random about one seed's run."""

    params: list[torch.Tensor]  # initial weight, bias, weight, bias, ... (ModelConfig.layer_shapes order)
    indices: torch.Tensor  # [steps, B] int64 sample indices into the training colours
    uniforms: torch.Tensor  # [steps, L, B] float32 in [0, 1): label = uniform < probability


class RandomStream(Protocol):
    def draws(
        self,
        seed: int,
        shapes: Sequence[tuple[int, int]],
        steps: int,
        batch: int,
        n_samples: int,
        n_labels: int,
        weights: torch.Tensor | None,
    ) -> Draws: ...


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


class PublishedStream:
    """The original notebooks' random stream (z0u/ex-preppy, redux sweeps 2.4.1-2.10.1), rebuilt from the
    seed alone with PyTorch's own generators (no Lightning, none of the original code): the draws a
    `seed_everything(seed)` run with 4-worker data loaders made, in the order it made them.

    1. The global generator G, seeded with the seed, initialises every nn.Linear in construction order
       (weight by kaiming_uniform_(a=√5), then bias uniform on ±1/√fan_in).
    2. Before step t, G makes one "seed draw" per validation run (t > 0, t a multiple of steps // 10; the
       value is unused) and, at each epoch start (t a multiple of the batches per epoch), two: the loader's
       base seed b_e, then the RandomSampler's seed s_e.
    3. Epoch e's sample indices are n_samples draws of randint(n_samples) from a generator seeded with s_e;
       batch k of the epoch is step t = e·(batches per epoch) + k.
    4. Batch k is collated by worker k mod 4, whose generator is seeded with b_e + (k mod 4): it draws one
       uniform per sample for each label in turn (label = uniform < probability), batch w before batch w + 4.
    """

    WORKERS = 4

    def draws(self, seed, shapes, steps, batch, n_samples, n_labels, weights=None) -> Draws:
        if weights is not None or n_samples % batch:
            raise ValueError(
                "PublishedStream reproduces the redux sweeps' uniform loaders only "
                f"(no sampling weights, whole batches per epoch; got {n_samples} samples in batches of {batch})"
            )
        g = torch.Generator().manual_seed(int(seed))
        params = linear_init(shapes, g)
        per_epoch, every = n_samples // batch, steps // 10
        indices = torch.empty(steps, batch, dtype=torch.int64)
        uniforms = torch.empty(steps, n_labels, batch)
        for t in range(0, steps, per_epoch):
            for v in range(
                max(1, t - per_epoch + 1), t + 1
            ):  # validations since the last epoch began, this step's first
                if every and v % every == 0:
                    _seed_draw(g)  # the validation loader's iterator (its value is unused)
            base, sampler = _seed_draw(g), _seed_draw(g)
            order = torch.randint(n_samples, (n_samples,), generator=torch.Generator().manual_seed(sampler))
            n = min(per_epoch, steps - t)
            indices[t : t + n] = order.view(per_epoch, batch)[:n]
            workers = [torch.Generator().manual_seed(base + w) for w in range(self.WORKERS)]
            for k in range(per_epoch):  # every batch is drawn; the last epoch's extra batches are not used
                u = torch.rand(n_labels, batch, generator=workers[k % self.WORKERS])
                if k < n:
                    uniforms[t + k] = u
        return Draws(params, indices, uniforms)


def linear_init(shapes: Sequence[tuple[int, int]], g: torch.Generator) -> list[torch.Tensor]:
    """nn.Linear's own initialisation, layer by layer from one generator: weight by kaiming_uniform_(a=√5),
    then bias uniform on ±1/√fan_in, each drawn by `uniform`."""
    params = []
    for out_f, in_f in shapes:
        gain = math.sqrt(2.0 / (1 + math.sqrt(5) ** 2))  # torch.nn.init.calculate_gain("leaky_relu", √5)
        bound, bias = math.sqrt(3.0) * (gain / math.sqrt(in_f)), 1 / math.sqrt(in_f)  # in kaiming_uniform_'s order
        params += [uniform((out_f, in_f), -bound, bound, g), uniform((out_f,), -bias, bias, g)]
    return params


def uniform(shape: tuple[int, ...], low: float, high: float, g: torch.Generator) -> torch.Tensor:
    """float32 `torch.empty(shape).uniform_(low, high, generator=g)` as PyTorch's vectorised (AVX2 and AVX-512)
    kernels compute it, on any processor: each element takes one 32-bit draw, keeps its low 24 bits k, and is
    x·(high - low) + low with x = k·2⁻²⁴ and one rounding to float32 (a fused multiply-add; the kernels built
    for processors without AVX2 round twice and land up to a few units in the last place away, which would move
    the original's stream). `randint` below 2²⁴ takes the same draws and keeps the same bits; in float64 the
    product (24 × 24 bits) and the sum (within 48 bits of it) are exact, so the one rounding is the last."""
    bits = torch.randint(0, 2**24, shape, generator=g, dtype=torch.int64)
    lo, span = torch.tensor(low, dtype=torch.float32), torch.tensor(high, dtype=torch.float32)
    span = span - lo  # as the kernel: the bounds in float32, their difference rounded to float32
    return (bits.double() * 2.0**-24 * span.double() + lo.double()).float()


def _seed_draw(g: torch.Generator) -> int:
    """What a DataLoader iterator or RandomSampler takes from a generator: one int64 `random_()`."""
    return int(torch.empty((), dtype=torch.int64).random_(generator=g))


STREAMS: dict[str, Callable[[], RandomStream]] = {"ours": TorchStream, "published": PublishedStream}


def get_stream(name: str) -> RandomStream:
    """A stream by name: "ours" (one generator per seed) or "published" (the original notebooks')."""
    try:
        return STREAMS[name]()
    except KeyError:
        raise KeyError(f"unknown stream {name!r}; known: {', '.join(STREAMS)}") from None
