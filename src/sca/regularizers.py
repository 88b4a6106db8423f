"""Regularizers on the latent: each maps latents [S, B, K] to a per-sample loss [S, B].

A `Regularizer` is declarative (which term, its parameters, which labels select samples, which layer it
reads, whether it is also reported on validation data); `per_sample` computes it and `term` reduces it
to one value per seed: the batch mean, or the mean over labelled samples only (0 when none).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

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
        if self.kind in ("anchor", "angular-anchor", "anti-anchor") and not self.direction:
            raise ValueError(f"regularizer {self.name!r}: {self.kind} needs a direction")
        if self.kind == "subspace":
            if not self.dims or len(set(self.dims)) != len(self.dims) or min(self.dims) < 0:
                raise ValueError(f"regularizer {self.name!r}: subspace dims {self.dims} must be non-empty, distinct and >= 0")

    def check(self, latent_dim: int) -> None:
        """Raise if the regularizer does not fit a bottleneck of this width."""
        if self.direction and len(self.direction) != latent_dim:
            raise ValueError(f"regularizer {self.name!r}: direction has {len(self.direction)} dims, latent has {latent_dim}")
        if self.dims and max(self.dims) >= latent_dim:
            raise ValueError(f"regularizer {self.name!r}: dims {self.dims} out of range for latent width {latent_dim}")

    def per_sample(self, z: torch.Tensor) -> torch.Tensor:
        """Per-sample loss [S, B] for latents z [S, B, K]."""
        if self.kind == "anchor":
            return (z - z.new_tensor(self.direction)).pow(2).sum(-1)
        if self.kind in ("angular-anchor", "anti-anchor"):
            a = z.new_tensor(self.direction)
            cos = (z / (z.norm(dim=-1, keepdim=True) + 1e-8)) @ (a / (a.norm() + 1e-8))
            if self.kind == "angular-anchor":
                return 1 - cos
            return cos.clamp_min(0) if self.hemi else (cos + 1) / 2
        if self.kind == "separate":
            return separation(z, self.power, self.shift)
        if self.kind == "unitarity":
            return (z.norm(dim=-1) - 1).pow(2)
        # subspace
        k = z.shape[-1]
        penalised = [d for d in range(k) if (d in self.dims) == self.invert]
        if not penalised:
            return z.new_zeros(z.shape[:-1])
        return z[..., penalised].pow(2).sum(-1)

    def term(self, z: torch.Tensor, labels: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        """One value per seed [S]: the batch mean, or the labelled mean if the regularizer has labels."""
        loss = self.per_sample(z)
        if not self.labels:
            return loss.mean(-1)
        return labelled_mean(loss, sample_weights(labels or {}, self.labels, self.name))


def sample_weights(labels: dict[str, torch.Tensor], names: tuple[str, ...], who: str = "") -> torch.Tensor:
    """Per-sample weight: the sum of the named labels (affinity 1 each), clamped to [0, 1]."""
    missing = [n for n in names if n not in labels]
    if missing:
        raise KeyError(f"regularizer {who!r} needs labels {missing}, but the data provides {sorted(labels)}")
    return sum(labels[n] for n in names).clamp(0, 1)


def labelled_mean(loss: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Σ loss·w / (Σ w + 1e-8) over the last axis: the mean over labelled samples, 0 when none."""
    return (loss * weights).sum(-1) / (weights.sum(-1) + 1e-8)


def _int_power(x: torch.Tensor, n: int) -> torch.Tensor:
    """x**n by repeated squaring: a handful of multiplies instead of pow's exp/log."""
    result, base = None, x
    while n:
        if n & 1:
            result = base if result is None else result * base
        n >>= 1
        if n:
            base = base * base
    return result if result is not None else torch.ones_like(x)


def separation(z: torch.Tensor, power: float = 100.0, shift: bool = True) -> torch.Tensor:
    """Batch-wise angular repulsion: Σ_j sim(i, j)^power over the other samples of the batch.

    Pairs whose cosine is 1 to within float tolerance (the sample itself and duplicates drawn with
    replacement) are set to 0 before shifting, so with `shift` they contribute the constant 0.5^power.
    """
    e = z / (z.norm(dim=-1, keepdim=True) + 1e-8)
    c = e @ e.transpose(-1, -2)
    c = c.masked_fill((c - 1).abs() <= 1e-8 + 1e-5, 0.0)  # the same test as isclose(c, 1)
    if shift:
        c = (c + 1) / 2
    if float(power).is_integer() and power > 0:
        return _int_power(c, int(power)).sum(-1)
    return c.pow(power).sum(-1)
