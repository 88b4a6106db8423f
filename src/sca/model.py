"""The colour autoencoder, batched over seeds: every parameter has a leading seed axis.

    RGB (3) -> [Linear -> GELU] x depth -> Linear -> z_pre (K) -> L2 normalise -> z (K)
            -> [Linear -> GELU] x depth -> Linear -> RGB (3)

S seeds are S independent models that train in one pass: inputs are [S, B, 3] and each seed only ever
sees its own weights, so a seed's result does not depend on which other seeds share the batch.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class ModelConfig:
    latent: int = 4  # K: bottleneck width
    hidden: int = 16  # H: width of the hidden layers
    depth: int = 1  # N: GELU layers on each side of the bottleneck
    normalize: bool = True  # L2-normalise the bottleneck (False: ex 2.2's raw latent)
    sigmoid: bool = False  # squash outputs with a sigmoid (ex 2.2 and 2.3's first variant)

    def __post_init__(self):
        for name, low in (("latent", 2 if self.normalize else 1), ("hidden", 1), ("depth", 1)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ValueError(
                    f"ModelConfig: {name}={value!r} must be an integer >= {low}"
                    + (" (a normalised bottleneck needs at least 2 dims)" if name == "latent" else "")
                )

    def layer_shapes(self) -> list[tuple[int, int]]:
        """(out, in) of every Linear, encoder first, in construction order."""
        h, k = self.hidden, self.latent
        enc = [(h, 3)] + [(h, h)] * (self.depth - 1) + [(k, h)]
        dec = [(h, k)] + [(h, h)] * (self.depth - 1) + [(3, h)]
        return enc + dec


class Output(NamedTuple):
    recon: torch.Tensor  # [S, B, 3]
    z_pre: torch.Tensor  # [S, B, K] encoder output before normalisation
    z: torch.Tensor  # [S, B, K] bottleneck after normalisation (and after an intervention, if any)


def default_init(shapes: Sequence[tuple[int, int]], generator: torch.Generator) -> list[torch.Tensor]:
    """PyTorch's default Linear initialisation for one seed: weight then bias, each U(±1/√fan_in)."""
    params = []
    for out_f, in_f in shapes:
        bound = 1 / in_f**0.5
        params.append((torch.rand(out_f, in_f, generator=generator) * 2 - 1) * bound)
        params.append((torch.rand(out_f, generator=generator) * 2 - 1) * bound)
    return params


class ColorAutoencoder(nn.Module):
    def __init__(self, config: ModelConfig, params: Sequence[torch.Tensor]):
        """`params` alternate weight [S, out, in] and bias [S, out], in `config.layer_shapes()` order."""
        super().__init__()
        self.config = config
        n_enc = config.depth + 1
        pairs = list(zip(params[0::2], params[1::2]))
        if len(pairs) != 2 * n_enc:
            raise ValueError(f"ColorAutoencoder: expected {2 * n_enc} weight/bias pairs, got {len(pairs)}")
        self.weights = nn.ParameterList([nn.Parameter(w) for w, _ in pairs])
        self.biases = nn.ParameterList([nn.Parameter(b) for _, b in pairs])
        self.n_enc = n_enc

    @property
    def n_seeds(self) -> int:
        return self.weights[0].shape[0]

    @property
    def latent_dim(self) -> int:
        return self.weights[self.n_enc - 1].shape[1]

    def _run(self, h: torch.Tensor, layers: range) -> torch.Tensor:
        for j, i in enumerate(layers):
            h = torch.baddbmm(self.biases[i].unsqueeze(1), h, self.weights[i].transpose(1, 2))
            if j < len(layers) - 1:
                h = F.gelu(h)
        return h

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z_pre = self._run(x, range(self.n_enc))
        z = F.normalize(z_pre, dim=-1) if self.config.normalize else z_pre
        return z_pre, z

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        y = self._run(z, range(self.n_enc, len(self.weights)))
        if self.config.sigmoid:
            y = torch.sigmoid(y)
        return y if self.training else y.clamp(0, 1)

    def forward(self, x: torch.Tensor, intervention: Callable[[torch.Tensor], torch.Tensor] | None = None) -> Output:
        """x: [S, B, 3] (or [B, 3], shared by all seeds). Outputs are clamped to [0, 1] in eval mode only."""
        if x.dim() == 2:
            x = x.expand(self.n_seeds, *x.shape)
        z_pre, z = self.encode(x)
        if intervention is not None:
            z = intervention(z)
        return Output(self.decode(z), z_pre, z)

    def seeds(self, index: int | Sequence[int]) -> ColorAutoencoder:
        """A detached copy holding only the given seed position(s)."""
        idx = [index] if isinstance(index, int) else list(index)
        params = []
        for w, b in zip(self.weights, self.biases):
            params += [w.detach()[idx].clone(), b.detach()[idx].clone()]
        return ColorAutoencoder(self.config, params).train(self.training)


def _checked_dims(model: ColorAutoencoder, dims: Sequence[int]) -> list[int]:
    k = model.latent_dim
    odd = [d for d in dims if isinstance(d, bool) or int(d) != d]
    if odd:
        raise TypeError(f"latent dims {odd} are not whole numbers")
    dims = sorted(set(int(d) for d in dims))
    bad = [d for d in dims if not 0 <= d < k]
    if bad:
        raise IndexError(f"latent dims {bad} out of range for a {k}-dimensional bottleneck (valid: 0..{k - 1})")
    return dims


def ablate(model: ColorAutoencoder, dims: Sequence[int]) -> ColorAutoencoder:
    """Copy of the model with latent dims zeroed at the weights: the producing layer's rows and bias
    entries and the consuming layer's columns. Zeroing happens before normalisation, so the remaining
    dims are renormalised among themselves."""
    dims = _checked_dims(model, dims)
    out = copy.deepcopy(model)
    with torch.no_grad():
        out.weights[model.n_enc - 1][:, dims, :] = 0
        out.biases[model.n_enc - 1][:, dims] = 0
        out.weights[model.n_enc][:, :, dims] = 0
    return out


def prune(model: ColorAutoencoder, dims: Sequence[int]) -> ColorAutoencoder:
    """Copy of the model with latent dims removed: K -> K - |dims|. Same outputs as `ablate`."""
    dims = _checked_dims(model, dims)
    keep = [d for d in range(model.latent_dim) if d not in dims]
    if not keep:
        raise ValueError(f"prune: removing dims {dims} would leave no latent dimension")
    params = []
    for i, (w, b) in enumerate(zip(model.weights, model.biases)):
        w, b = w.detach().clone(), b.detach().clone()
        if i == model.n_enc - 1:
            w, b = w[:, keep, :], b[:, keep]
        elif i == model.n_enc:
            w = w[:, :, keep]
        params += [w, b]
    return ColorAutoencoder(replace(model.config, latent=len(keep)), params).train(model.training)
