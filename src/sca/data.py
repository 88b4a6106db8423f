"""Training and validation data: colours, label probabilities, and the sampler's weights.

Labels are sparse and stochastic: each colour has a probability per label (e.g. 0.08·redness⁸), and a
fresh Bernoulli label is drawn every time the colour appears in a batch. Validation labels are exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from . import colors

ATTRIBUTES = {
    "redness": colors.redness,
    "greenness": colors.greenness,
    "blueness": colors.blueness,
    "vibrancy": colors.vibrancy,
    "desaturation": lambda rgb: 1 - colors.vibrancy(rgb),
}
TRAIN_GRIDS = ("rgb", "hsv")
VAL_GRIDS = ("cell-centres", "rgb")


@dataclass(frozen=True)
class Label:
    """p(label | colour) = scale · attribute(colour)^power; with `exact`, label = (attribute == 1)."""

    attribute: str  # "redness", "vibrancy" or "desaturation"
    power: float = 1.0
    scale: float = 1.0
    exact: bool = False

    def __post_init__(self):
        if self.attribute not in ATTRIBUTES:
            raise ValueError(f"Label: unknown attribute {self.attribute!r}; known: {', '.join(ATTRIBUTES)}")
        if not 0 <= self.scale <= 1:
            raise ValueError(
                f"Label({self.attribute!r}): scale={self.scale} must lie in [0, 1] (it scales a probability)"
            )
        if not (math.isfinite(self.power) and self.power >= 0):
            raise ValueError(f"Label({self.attribute!r}): power={self.power} must be finite and >= 0")

    def probability(self, rgb: np.ndarray) -> np.ndarray:
        value = ATTRIBUTES[self.attribute](rgb)
        if self.exact:
            return (value == 1).astype(np.float64)
        return self.scale * value**self.power


@dataclass(frozen=True)
class DataConfig:
    labels: dict[str, Label]  # training labels, in draw order
    val_labels: dict[str, Label] = field(default_factory=dict)
    grid: str = "rgb"  # "rgb": uniform over an RGB lattice; "hsv": the 2.2-2.9 bias-weighted HSV grid
    subdivisions: int = 8  # RGB lattice points per channel
    batch_size: int = 64
    val_grid: str = "cell-centres"  # "cell-centres" of an n-lattice (+ 8 corners), or an "rgb" n-lattice
    val_subdivisions: int = 8
    val_batch_size: int = 64  # validation metrics are batch means averaged over batches, as logged originally

    def __post_init__(self):
        if self.grid not in TRAIN_GRIDS:
            raise ValueError(f"DataConfig: unknown grid {self.grid!r}; known: {', '.join(TRAIN_GRIDS)}")
        if self.val_grid not in VAL_GRIDS:
            raise ValueError(f"DataConfig: unknown val_grid {self.val_grid!r}; known: {', '.join(VAL_GRIDS)}")
        for name in ("batch_size", "val_batch_size", "subdivisions", "val_subdivisions"):
            low = 2 if "subdivisions" in name else 1
            if not isinstance(getattr(self, name), int) or getattr(self, name) < low:
                raise ValueError(f"DataConfig: {name}={getattr(self, name)!r} must be an integer >= {low}")


@dataclass
class ColorData:
    """Colours [N, 3], label probabilities [L, N] (rows in `label_names` order), sampling weights [N] or None."""

    rgb: torch.Tensor
    probs: torch.Tensor
    label_names: tuple[str, ...]
    weights: torch.Tensor | None = None

    def __len__(self) -> int:
        return self.rgb.shape[0]


def _with_labels(rgb: np.ndarray, labels: dict[str, Label], weights=None) -> ColorData:
    probs = np.stack([lab.probability(rgb) for lab in labels.values()]) if labels else np.zeros((0, len(rgb)))
    return ColorData(
        torch.as_tensor(rgb, dtype=torch.float32),
        torch.as_tensor(probs, dtype=torch.float32),
        tuple(labels),
        None if weights is None else torch.as_tensor(weights, dtype=torch.float64),
    )


def training_data(config: DataConfig) -> ColorData:
    if config.grid == "rgb":
        return _with_labels(colors.rgb_grid(config.subdivisions).flat_rgb, config.labels)
    grid = colors.legacy_train_grid()
    return _with_labels(grid.flat_rgb, config.labels, colors.hsv_sampling_bias(grid).reshape(-1))


def validation_data(config: DataConfig) -> ColorData:
    n = config.val_subdivisions
    rgb = colors.rgb_cell_centres(n) if config.val_grid == "cell-centres" else colors.rgb_grid(n).flat_rgb
    return _with_labels(rgb, config.val_labels)
