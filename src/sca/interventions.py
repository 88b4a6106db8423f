"""Inference-time interventions on the post-normalisation latent z [..., K].

Each intervention is a frozen dataclass (plain data, so experiments can declare them) and a callable
z -> z'. Suppression and repulsion act only on latents with positive alignment to the concept
direction; everything facing away from it passes through unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

UNIT_TOLERANCE = 1e-6  # how far a direction's norm may sit from 1 (rounding in e.g. (cos θ, sin θ, 0, 0))


def check_unit_direction(who: str, direction) -> None:
    """Raise unless `direction` is a finite unit vector: the formulas here assume ‖c‖ = 1."""
    v = np.asarray(direction, dtype=np.float64)
    if v.ndim != 1 or v.size == 0:
        raise ValueError(f"{who}: direction {direction!r} must be a non-empty sequence of numbers")
    if not np.isfinite(v).all():
        raise ValueError(f"{who}: direction {tuple(direction)} is not finite")
    norm = float(np.linalg.norm(v))
    if abs(norm - 1) > UNIT_TOLERANCE:
        raise ValueError(
            f"{who}: direction {tuple(direction)} has norm {norm:.6g}; it must be a unit vector "
            f"(within {UNIT_TOLERANCE:g}): divide it by its norm"
            + (" (a zero vector has no direction)" if norm == 0 else "")
        )


def _check_unit_interval(who: str, **values: float) -> None:
    for name, v in values.items():
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"{who}: {name}={v} must lie in [0, 1]")


@dataclass(frozen=True)
class Falloff:
    """Suppression strength h(α): 0 for α ≤ a, b·((α - a)/(1 - a))^power above. power=0 gives b throughout."""

    a: float = 0.0  # alignment threshold
    b: float = 1.0  # maximum strength
    power: float = 1.0  # curve shape

    def __post_init__(self):
        _check_unit_interval("Falloff", b=self.b)
        if not 0.0 <= self.a < 1.0:
            raise ValueError(f"Falloff: a={self.a} must lie in [0, 1)")
        if not math.isfinite(self.power) or self.power < 0:
            raise ValueError(f"Falloff: power={self.power} must be a finite number >= 0")

    def __call__(self, alignment: torch.Tensor) -> torch.Tensor:
        ramp = ((alignment - self.a) / (1 - self.a)).clamp_min(0).pow(self.power)
        return torch.where(alignment > self.a, self.b * ramp, torch.zeros_like(alignment))


@dataclass(frozen=True)
class LinearMapper:
    """Repulsion target alignment: identity up to a, then [a, 1] mapped linearly onto [a, b]."""

    a: float
    b: float

    def __post_init__(self):
        _check_unit_interval("LinearMapper", a=self.a, b=self.b)
        if not self.a < self.b:
            raise ValueError(f"LinearMapper: needs a < b, got a={self.a}, b={self.b}")

    def __call__(self, alignment: torch.Tensor) -> torch.Tensor:
        mapped = self.a + (alignment - self.a) * (self.b - self.a) / (1 - self.a)
        return torch.where(alignment > self.a, mapped, alignment)


@dataclass(frozen=True)
class BezierMapper:
    """Repulsion target alignment: identity up to a, then a cubic Bézier from (a, a) to (1, b) leaving
    with slope `start_slope` and arriving with slope `end_slope`; evaluated through a lookup table."""

    a: float
    b: float
    start_slope: float = 1.0
    end_slope: float = 0.0
    control_distance: float = 1 / math.sqrt(2)
    resolution: int = 1000
    _table: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        _check_unit_interval("BezierMapper", a=self.a, b=self.b)
        if not self.a < self.b:
            raise ValueError(f"BezierMapper: needs a < b, got a={self.a}, b={self.b}")
        for name in ("start_slope", "end_slope", "control_distance"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"BezierMapper: {name}={getattr(self, name)} is not finite")
        if isinstance(self.resolution, bool) or not isinstance(self.resolution, int) or self.resolution < 2:
            raise ValueError(f"BezierMapper: resolution={self.resolution!r} must be a whole number >= 2")
        object.__setattr__(self, "_table", self._curve())

    def _curve(self) -> tuple[np.ndarray, np.ndarray]:
        a, b, s1, s2, k = self.a, self.b, self.start_slope, self.end_slope, self.control_distance
        p0, p3 = np.array([a, a]), np.array([1.0, b])
        if abs(s1 - s2) < 1e-8:
            corner = np.array([(a + 1) / 2, (a + b) / 2])
        else:
            ix = (a * (s1 - 1) + b - s2) / (s1 - s2)
            corner = np.array([ix, s1 * (ix - a) + a])
        p1, p2 = p0 + k * (corner - p0), p3 + k * (corner - p3)
        t = np.linspace(0, 1, self.resolution)[:, None]
        pts = (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t**2 * p2 + t**3 * p3
        return np.ascontiguousarray(pts[:, 0]), np.ascontiguousarray(pts[:, 1])  # searchsorted wants contiguous

    def __call__(self, alignment: torch.Tensor) -> torch.Tensor:
        xs, ys = (torch.as_tensor(v, dtype=alignment.dtype) for v in self._table)
        i = torch.searchsorted(xs, alignment.contiguous()).clamp(1, len(xs) - 1)
        x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
        mapped = y0 + (alignment - x0) * (y1 - y0) / (x1 - x0 + 1e-8)
        return torch.where(alignment > self.a, mapped, alignment)


def _direction(direction, z: torch.Tensor, who: str) -> torch.Tensor:
    _check_width(who, len(direction), z.shape[-1])
    return z.new_tensor(direction)


def _check_width(who: str, n: int, latent: int) -> None:
    if n != latent:
        raise ValueError(f"{who}: direction has {n} dims but the latent has {latent}")


@dataclass(frozen=True)
class Suppression:
    """z' = z - h(α)·(z·c)·c with α = clamp(z·c, 0, 1). Not renormalised: suppressed latents leave the sphere."""

    direction: tuple[float, ...]
    falloff: Falloff = Falloff(0.0, 1.0, 0.0)

    def __post_init__(self):
        check_unit_direction("Suppression", self.direction)

    def check(self, latent: int) -> None:
        _check_width("Suppression", len(self.direction), latent)

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        c = _direction(self.direction, z, "Suppression")
        dot = z @ c
        gate = self.falloff(dot.clamp(0, 1))
        return z - (gate * dot).unsqueeze(-1) * c


@dataclass(frozen=True)
class Repulsion:
    """Rotate each positively aligned latent, within the plane of z and c, to alignment m(α); unit norm out."""

    direction: tuple[float, ...]
    mapper: LinearMapper | BezierMapper

    def __post_init__(self):
        check_unit_direction("Repulsion", self.direction)

    def check(self, latent: int) -> None:
        _check_width("Repulsion", len(self.direction), latent)

    def __call__(self, z: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
        c = _direction(self.direction, z, "Repulsion")
        d = (z @ c).clamp(0, 1)
        target = self.mapper(d).clamp(-1 + eps, 1 - eps)
        perp = z - d.unsqueeze(-1) * c
        norm = perp.norm(dim=-1, keepdim=True)
        # A latent exactly on the concept has no plane of its own: rotate it towards the basis vector
        # least aligned with c (deterministic, unlike the original's random direction).
        fallback = torch.zeros_like(c)
        fallback[int(c.abs().argmin())] = 1.0
        fallback = fallback - (fallback @ c) * c
        perp = torch.where(norm < eps, fallback / fallback.norm(), perp / norm.clamp_min(eps))
        rotated = target.unsqueeze(-1) * c + (1 - target**2).sqrt().unsqueeze(-1) * perp
        return torch.where((d > 0).unsqueeze(-1), rotated, z)


@dataclass(frozen=True)
class AxisSuppression:
    """Zero the given latent dims after normalisation (not renormalised)."""

    dims: tuple[int, ...]

    def __post_init__(self):
        if not self.dims or len(set(self.dims)) != len(self.dims):
            raise ValueError(f"AxisSuppression: dims {self.dims} must be non-empty and distinct")

    def check(self, latent: int) -> None:
        bad = [d for d in self.dims if not 0 <= d < latent]
        if bad:
            raise IndexError(
                f"AxisSuppression: dims {bad} out of range for latent width {latent} (valid: 0..{latent - 1})"
            )

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        self.check(z.shape[-1])
        out = z.clone()
        out[..., list(self.dims)] = 0
        return out


Intervention = Suppression | Repulsion | AxisSuppression
