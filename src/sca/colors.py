"""Colours: RGB and HSV grids, the 17 named colours, and the colour attributes labels are made of.

Every array here is NumPy with RGB or HSV in the last axis, values in [0, 1]; hue is a fraction of a turn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.colors import hsv_to_rgb, rgb_to_hsv

# The twelve named hues (degrees) in hue order, then five greys by value.
NAMED_HUES = {
    "red": 0,
    "orange": 30,
    "yellow": 60,
    "lime": 90,
    "green": 120,
    "teal": 150,
    "cyan": 180,
    "azure": 210,
    "blue": 240,
    "purple": 270,
    "magenta": 300,
    "pink": 330,
}
NAMED_GRAYS = {"black": 0.0, "dark gray": 0.25, "gray": 0.5, "light gray": 0.75, "white": 1.0}

RED_HSV = (0.0, 1.0, 1.0)


@dataclass(frozen=True)
class ColorGrid:
    """A regular grid of colours: `rgb` and `hsv` have shape (*shape, 3); `axes` are the 1-D coordinates."""

    space: str  # "rgb" or "hsv": which space the axes are in
    axes: tuple[np.ndarray, np.ndarray, np.ndarray]
    rgb: np.ndarray
    hsv: np.ndarray

    @property
    def shape(self) -> tuple[int, ...]:
        return self.rgb.shape[:-1]

    @property
    def flat_rgb(self) -> np.ndarray:
        return self.rgb.reshape(-1, 3)

    @property
    def flat_hsv(self) -> np.ndarray:
        return self.hsv.reshape(-1, 3)

    def __len__(self) -> int:
        return int(np.prod(self.shape))


def _mesh(a, b, c) -> np.ndarray:
    return np.stack(np.meshgrid(a, b, c, indexing="ij"), axis=-1)


def rgb_to_hsv_array(rgb: np.ndarray) -> np.ndarray:
    return rgb_to_hsv(np.clip(np.asarray(rgb, dtype=np.float64), 0, 1))


def rgb_grid(n: int) -> ColorGrid:
    """Cell corners: linspace(0, 1, n) on each channel, red varying slowest (n³ colours)."""
    axis = np.linspace(0, 1, n)
    rgb = _mesh(axis, axis, axis)
    return ColorGrid("rgb", (axis, axis, axis), rgb, rgb_to_hsv_array(rgb))


def rgb_cell_centres(n: int) -> np.ndarray:
    """The validation colours of the redux notebooks: (n-1)³ inner points, then the 8 RGB corners.

    The inner points are linspace(1/2n, 1 - 1/2n, n - 1), which is not exactly the centres of the
    n-corner grid's cells (the original's choice, kept for comparable validation numbers).
    """
    inner = np.linspace(1 / (2 * n), 1 - 1 / (2 * n), n - 1)
    corners = np.array([0.0, 1.0])
    return np.concatenate([_mesh(inner, inner, inner).reshape(-1, 3), _mesh(corners, corners, corners).reshape(-1, 3)])


def hsv_grid(hues: np.ndarray, saturations: np.ndarray, values: np.ndarray) -> ColorGrid:
    """Grid over HSV. Hue coordinates are kept as given (they may run past 0 or 1); colours use hue mod 1."""
    hues, saturations, values = (np.asarray(a, dtype=np.float64) for a in (hues, saturations, values))
    hsv = _mesh(hues, np.clip(saturations, 0, 1), np.clip(values, 0, 1))
    wrapped = hsv.copy()
    wrapped[..., 0] = np.mod(wrapped[..., 0], 1.0)
    return ColorGrid("hsv", (hues, saturations, values), hsv_to_rgb(wrapped), hsv)


def cyclic_hues(n: int) -> np.ndarray:
    """n evenly spaced hues starting at red: 0, 1/n, ..., (n-1)/n."""
    return np.arange(n) / n


def loss_grid() -> ColorGrid:
    """The redux evaluation grid: 150 hues from -1/12 to 13/12 (red appears at both ends) × 24 × 24."""
    return hsv_grid(np.linspace(-1 / 12, 1 + 1 / 12, 150), np.linspace(0, 1, 24), np.linspace(0, 1, 24))


def slice_grid() -> ColorGrid:
    """The colour-slice grid of the redux figures: 12 hues × 4 saturations × 5 values."""
    return hsv_grid(cyclic_hues(12), np.linspace(0, 1, 4), np.linspace(0, 1, 5))


def latent_grid() -> ColorGrid:
    """The 20³ RGB grid whose latents the sphere figures draw and whose errors give the printed R²."""
    return rgb_grid(20)


def legacy_train_grid() -> ColorGrid:
    """Training colours of experiments 2.2-2.9: 36 hues (10° apart) × 10 saturations × 10 values."""
    return hsv_grid(cyclic_hues(36), np.linspace(0, 1, 10), np.linspace(0, 1, 10))


def legacy_loss_grid() -> ColorGrid:
    """Evaluation grid of experiments 2.2-2.10: 240 hues × 48 × 48 (552,960 colours)."""
    return hsv_grid(cyclic_hues(240), np.linspace(0, 1, 48), np.linspace(0, 1, 48))


def legacy_half_loss_grid() -> ColorGrid:
    """Experiment 2.10's evaluation grid: the legacy grid at every other point (120 × 24 × 24)."""
    return hsv_grid(cyclic_hues(120), np.linspace(0, 1, 48)[::2], np.linspace(0, 1, 48)[::2])


LOSS_GRIDS = {"redux": loss_grid, "legacy": legacy_loss_grid, "legacy-half": legacy_half_loss_grid}


def legacy_slice_grid() -> ColorGrid:
    """Colour-slice grid of experiments 2.2-2.10: 24 hues × 4 saturations × 8 values."""
    return hsv_grid(cyclic_hues(24), np.linspace(0, 1, 4), np.linspace(0, 1, 8))


def hsv_sampling_bias(grid: ColorGrid) -> np.ndarray:
    """Sampling weight per cell of an HSV grid, so that dark and grey cells are not over-represented.

    All n_hue·n_sat black cells together weigh as much as one vibrant colour, and all n_hue whites too;
    in between, bilinear in (saturation, value).
    """
    n_hue, n_sat = max(1, len(grid.axes[0])), max(1, len(grid.axes[1]))
    s, v = grid.hsv[..., 1], grid.hsv[..., 2]
    w_black, w_white = 1 / (n_sat * n_hue), 1 / n_hue
    return w_black * (1 - v) + w_white * (1 - s) * v + s * v


def named_colors() -> pd.DataFrame:
    """The 17 named colours of the paper's tables: 12 hues at full saturation and value, then 5 greys."""
    rows = [(name, (deg / 360, 1.0, 1.0)) for name, deg in NAMED_HUES.items()]
    rows += [(name, (0.0, 0.0, value)) for name, value in NAMED_GRAYS.items()]
    hsv = np.array([h for _, h in rows])
    return pd.DataFrame(
        {"name": [n for n, _ in rows], "rgb": list(map(tuple, hsv_to_rgb(hsv))), "hsv": list(map(tuple, hsv))}
    )


def primary_affinity(rgb: np.ndarray, channel: int) -> np.ndarray:
    """c·(1 - o₁/2 - o₂/2) for primary channel c and the other two o: 1 only at the pure primary, 0 where it is
    absent."""
    rgb = np.asarray(rgb)
    others = [i for i in range(3) if i != channel]
    return rgb[..., channel] * (1 - rgb[..., others[0]] / 2 - rgb[..., others[1]] / 2)


def redness(rgb: np.ndarray) -> np.ndarray:
    """r·(1 - g/2 - b/2): 1 only at pure red, 0 wherever red is absent."""
    return primary_affinity(rgb, 0)


def greenness(rgb: np.ndarray) -> np.ndarray:
    """g·(1 - r/2 - b/2), red's rule for green."""
    return primary_affinity(rgb, 1)


def blueness(rgb: np.ndarray) -> np.ndarray:
    """b·(1 - r/2 - g/2), red's rule for blue."""
    return primary_affinity(rgb, 2)


def vibrancy(rgb: np.ndarray) -> np.ndarray:
    """Saturation × value, which is the chroma max(r,g,b) - min(r,g,b): 0 for greys, 1 on the cube's hue edges."""
    rgb = np.asarray(rgb)
    return rgb.max(axis=-1) - rgb.min(axis=-1)


def hsv_similarity(
    hsv: np.ndarray, anchor_hsv=RED_HSV, *, hemi: bool = True, mode: str = "angular", weight_vibrancy: bool = True
) -> np.ndarray:
    """Similarity in [0, 1] of HSV colours to an anchor colour (paper Appendix C.3).

    Hue similarity (angular and hemispherical by default: 1 at the anchor's hue, 0 from 90° away) is
    weighted by the pair's mean vibrancy, so hue only matters for vivid colours; differences in
    saturation and value scale the result down linearly.
    """
    if mode not in ("angular", "cosine"):
        raise ValueError(f"hsv_similarity: unknown mode {mode!r}; expected 'angular' or 'cosine'")
    hsv, anchor = np.asarray(hsv, dtype=np.float64), np.asarray(anchor_hsv, dtype=np.float64)
    dh = np.abs(hsv[..., 0] - anchor[..., 0]) % 1.0
    theta = 360 * np.minimum(dh, 1 - dh)
    if mode == "cosine":
        cos = np.cos(np.radians(theta))
        sim_h = np.maximum(0, cos) if hemi else 0.5 + cos / 2
    else:
        sim_h = np.maximum(0, (90 - theta) / 90) if hemi else (180 - theta) / 180
    s1, v1, s2, v2 = hsv[..., 1], hsv[..., 2], anchor[..., 1], anchor[..., 2]
    rho = (s1 * v1 + s2 * v2) / 2 if weight_vibrancy else 1.0
    return (rho * sim_h + (1 - rho)) * (1 - np.abs(s1 - s2)) * (1 - np.abs(v1 - v2))


def hex_code(rgb) -> str:
    """Upper-case hex of an RGB triple, truncating like the original tables (0.5 -> 7F)."""
    return "".join(f"{int(c * 255):02X}" for c in rgb)
