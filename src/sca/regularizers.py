"""Regularizers on the latent: each maps latents [S, B, K] to a per-sample loss [S, B].

A `Regularizer` is declarative (which term, its parameters, which labels select samples, which layer it
reads, whether it is also reported on validation data); `per_sample` computes it and `term` reduces it
to one value per seed: the batch mean, or the mean over labelled samples only (0 when none).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import torch

from .interventions import check_unit_direction

KINDS = ("anchor", "angular-anchor", "anti-anchor", "separate", "unitarity", "subspace")
LAYERS = ("pre", "post")  # encoder output before / after L2 normalisation


@dataclass(frozen=True)
class Regularizer:
    name: str  # the schedule column that sets its weight (weight 1.0 if the schedule has none)
    kind: str  # one of KINDS
    layer: str = "post"  # "pre" or "post" normalisation latent
    labels: tuple[str, ...] = ()  # labels selecting the samples it applies to; () = every sample
    validate: bool = False  # also report it on validation data as val_<name>
    direction: tuple[float, ...] = ()  # anchor / anti-anchor direction
    dims: tuple[int, ...] = ()  # subspace: the kept dims (or, with invert, the penalised ones)
    invert: bool = False  # subspace: penalise `dims` instead of everything outside them
    power: float = 100.0  # separate: exponent on the shifted cosine similarity
    shift: bool = True  # separate: map cosine from [-1, 1] to [0, 1] before the power
    hemi: bool = True  # anti-anchor: penalise only positive alignment

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"regularizer {self.name!r}: unknown kind {self.kind!r}; known kinds: {', '.join(KINDS)}")
        if self.layer not in LAYERS:
            raise ValueError(f"regularizer {self.name!r}: unknown layer {self.layer!r}; expected 'pre' or 'post'")
        if self.kind in ("anchor", "angular-anchor", "anti-anchor"):
            if not self.direction:
                raise ValueError(f"regularizer {self.name!r}: {self.kind} needs a direction")
            check_unit_direction(f"regularizer {self.name!r}", self.direction)
        if not (math.isfinite(self.power) and self.power > 0):
            raise ValueError(f"regularizer {self.name!r}: power={self.power} must be finite and > 0")
        if self.kind == "subspace" and (not self.dims or len(set(self.dims)) != len(self.dims) or min(self.dims) < 0):
            raise ValueError(
                f"regularizer {self.name!r}: subspace dims {self.dims} must be non-empty, distinct and >= 0"
            )

    @cached_property
    def _direction(self) -> torch.Tensor:
        return torch.tensor(self.direction, dtype=torch.float32)

    @cached_property
    def _unit_direction(self) -> torch.Tensor:
        return self._direction / (self._direction.norm() + 1e-8)

    def check(self, latent_dim: int) -> None:
        """Raise if the regularizer does not fit a bottleneck of this width."""
        if self.direction and len(self.direction) != latent_dim:
            raise ValueError(
                f"regularizer {self.name!r}: direction has {len(self.direction)} dims, latent has {latent_dim}"
            )
        if self.dims and max(self.dims) >= latent_dim:
            raise ValueError(f"regularizer {self.name!r}: dims {self.dims} out of range for latent width {latent_dim}")
        if self.kind == "subspace" and not self.invert and set(self.dims) >= set(range(latent_dim)):
            raise ValueError(
                f"regularizer {self.name!r}: a subspace of every latent dim {self.dims} penalises nothing "
                "(the term is always zero): list fewer dims, or use invert=True to penalise those listed"
            )

    def per_sample(self, z: torch.Tensor, unit: bool = False) -> torch.Tensor:
        """Per-sample loss [S, B] for latents z [S, B, K].

        `unit` says z is already L2-normalised (the post-norm latent), so the angular terms skip
        normalising it again: in float32, z/(‖z‖ + 1e-8) equals z to rounding, and the backward's
        projection onto the sphere's tangent plane is already applied by the model's normalisation.
        """
        if self.kind == "anchor":
            return (z - self._direction).pow(2).sum(-1)
        if self.kind in ("angular-anchor", "anti-anchor"):
            cos = (z if unit else _normalise(z)) @ self._unit_direction.to(z.dtype)
            if self.kind == "angular-anchor":
                return 1 - cos
            return cos.clamp_min(0) if self.hemi else (cos + 1) / 2
        if self.kind == "separate":
            return separation(z, self.power, self.shift, unit)
        if self.kind == "unitarity":
            return (z.norm(dim=-1) - 1).pow(2)
        # subspace
        k = z.shape[-1]
        penalised = [d for d in range(k) if (d in self.dims) == self.invert]
        if not penalised:
            return z.new_zeros(z.shape[:-1])
        return z[..., penalised].pow(2).sum(-1)

    def term(self, z: torch.Tensor, labels: dict[str, torch.Tensor] | None = None, unit: bool = False) -> torch.Tensor:
        """One value per seed [S]: the batch mean, or the labelled mean if the regularizer has labels."""
        loss = self.per_sample(z, unit)
        if not self.labels:
            return loss.mean(-1)
        return labelled_mean(loss, sample_weights(labels or {}, self.labels, self.name))


def sample_weights(labels: dict[str, torch.Tensor], names: tuple[str, ...], who: str = "") -> torch.Tensor:
    """Per-sample weight: the sum of the named labels (affinity 1 each), clamped to [0, 1]."""
    missing = [n for n in names if n not in labels]
    if missing:
        raise KeyError(f"regularizer {who!r} needs labels {missing}, but the data provides {sorted(labels)}")
    total = labels[names[0]]
    for n in names[1:]:
        total = total + labels[n]
    return total.clamp(0, 1)


def labelled_mean(loss: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Σ loss·w / (Σ w + 1e-8) over the last axis: the mean over labelled samples, 0 when none."""
    return (loss * weights).sum(-1) / (weights.sum(-1) + 1e-8)


SAME_DIRECTION = 1 - (1e-8 + 1e-5)  # cosines this close to 1 count as the same sample (isclose's tolerance)


class _PairwiseRepulsion(torch.autograd.Function):
    """L_i = Σ_j f(e_i·e_j) for unit rows e [S, B, K], with f(c) = ((c + 1)/2)^n (shift) or c^n, and
    f = const (no gradient) where c is within isclose's tolerance of 1 (self pairs and duplicates).

    Forward and backward are written by hand so that the [S, B, B] intermediates are made once and
    squared in place; autograd would record and replay every step. Backward: with G_ij = g_i·f'(c_ij),
    ∂L/∂e = (G + Gᵀ) e.
    """

    @staticmethod
    def forward(ctx, e: torch.Tensor, n: int, shift: bool) -> torch.Tensor:
        c = e @ e.transpose(-1, -2)
        # keep = 1 where c < SAME_DIRECTION, else 0 (cosines never exceed 1 by more than rounding).
        # Float arithmetic, because boolean masks are several times slower at this size.
        keep = (SAME_DIRECTION - c).sign_().clamp_(min=0)
        c.mul_(keep)
        if shift:
            c.add_(1.0).mul_(0.5)
        lower = _int_power_(c, n - 1)  # c^(n-1), fresh tensor
        total = (lower * c).sum(-1)
        lower.mul_(keep).mul_(n * (0.5 if shift else 1.0))  # f'(c), zero where masked
        ctx.save_for_backward(e, lower)
        return total

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        e, slope = ctx.saved_tensors
        g = slope * grad.unsqueeze(-1)
        return torch.baddbmm(g @ e, g.transpose(-1, -2), e), None, None


def _int_power_(x: torch.Tensor, n: int) -> torch.Tensor:
    """x**n by repeated squaring into a fresh buffer, without autograd."""
    if n == 0:
        return torch.ones_like(x)
    result: torch.Tensor | None = None
    base = x
    while n:
        if n & 1:
            result = base.clone() if result is None else result.mul_(base)
        n >>= 1
        if n:
            base = base * base if base is x else base.mul_(base)
    assert result is not None  # n > 0 sets a bit
    return result


def _normalise(z: torch.Tensor) -> torch.Tensor:
    return z / (z.norm(dim=-1, keepdim=True) + 1e-8)


def separation(z: torch.Tensor, power: float = 100.0, shift: bool = True, unit: bool = False) -> torch.Tensor:
    """Batch-wise angular repulsion: Σ_j sim(i, j)^power over the other samples of the batch.

    Pairs whose cosine is 1 to within float tolerance (the sample itself and duplicates drawn with
    replacement) are set to 0 before shifting, so with `shift` they contribute the constant 0.5^power.
    """
    e = z if unit else _normalise(z)
    if float(power).is_integer() and power >= 1:
        if e.dim() == 2:  # one model: [B, K]
            return _PairwiseRepulsion.apply(e.unsqueeze(0), int(power), shift).squeeze(0)
        return _PairwiseRepulsion.apply(e, int(power), shift)
    c = e @ e.transpose(-1, -2)
    c = c.masked_fill(c >= SAME_DIRECTION, 0.0)
    if shift:
        c = (c + 1) * 0.5
    return c.pow(power).sum(-1)
