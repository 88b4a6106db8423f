"""Measuring what an intervention did: per-colour error, error-vs-similarity correlation, sweep scores,
the Pareto front over seeds, and the analytic bounds the paper compares against."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import torch
from numpy.polynomial import Polynomial
from scipy import stats

from . import colors
from .forward import per_color_mse  # noqa: F401  (evaluation's per-colour error, compiled)
from .model import ColorAutoencoder
from .train import torch_threads

METRICS = ("similarity", "vibrancy")


def _outputs(model: ColorAutoencoder, rgb: np.ndarray, intervention: Callable | None, chunk: int):
    """(colours, model output) for N colours, `chunk` at a time, in eval mode (the model's mode is restored), on one
    thread: MKL's AVX2 kernels split a product differently on two threads, which moved the last bits."""
    x = torch.as_tensor(np.asarray(rgb).reshape(-1, 3), dtype=torch.float32)
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(x), chunk):
            part = x[start : start + chunk]
            with torch_threads(1):
                out = model(part, intervention)
            yield part, out
    finally:
        model.train(was_training)


@torch.no_grad()
def reconstruct(
    model: ColorAutoencoder, rgb: np.ndarray, intervention: Callable | None = None, chunk: int = 8192
) -> tuple[np.ndarray, np.ndarray]:
    """Reconstructions [S, N, 3] (clamped to [0, 1]) and post-intervention latents [S, N, K] of N colours."""
    outs = [out for _, out in _outputs(model, rgb, intervention, chunk)]
    return torch.cat([o.recon for o in outs], 1).numpy(), torch.cat([o.z for o in outs], 1).numpy()


def predictor(rgb: np.ndarray, metric: str, power: float, hue: float = 0.0) -> np.ndarray:
    """What error should follow if an intervention is selective: sim(colour, concept)^power, the concept
    being the fully saturated colour of `hue` (in turns; 0 is red), or vibrancy^power."""
    rgb = np.asarray(rgb).reshape(-1, 3)
    if metric == "similarity":
        return colors.hsv_similarity(colors.rgb_to_hsv_array(rgb), (hue, 1.0, 1.0)) ** power
    if metric == "vibrancy":
        return colors.vibrancy(rgb) ** power
    raise ValueError(f"unknown metric {metric!r}; known: {', '.join(METRICS)}")


def pearson_r(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r between one predictor x [N] and each row of y [S, N]; 0 where y is constant."""
    x = x - x.mean()
    y = y - y.mean(-1, keepdims=True)
    denom = np.sqrt((x**2).sum() * (y**2).sum(-1))
    return np.divide((y * x).sum(-1), denom, out=np.zeros(len(y)), where=denom > 0)


def correlation(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """r, R² and two-sided p of error y [N] against predictor x [N]."""
    r, p = stats.pearsonr(x, y)
    return {"r": float(r), "r2": float(r) ** 2, "p": float(p)}


def power_law_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares line y ≈ slope·x + intercept (x is already sim^k, so this is the fitted power law)."""
    fit = stats.linregress(x, y)
    return float(fit.slope), float(fit.intercept)


def pareto_front(df: pd.DataFrame, minimize: Sequence[str], maximize: Sequence[str]) -> pd.Series:
    """True for rows that no other row dominates (≤ on every minimised column, ≥ on every maximised
    one, and strictly better on at least one)."""
    costs = np.concatenate([df[list(minimize)].to_numpy(float), -df[list(maximize)].to_numpy(float)], axis=1)
    le = (costs[:, None, :] <= costs[None, :, :]).all(-1)  # le[j, i]: j is no worse than i everywhere
    lt = (costs[:, None, :] < costs[None, :, :]).any(-1)
    dominated = (le & lt).any(0)
    return pd.Series(~dominated, index=df.index, name="pareto")


def select(df: pd.DataFrame, minimize: Sequence[str], score: str = "score") -> int:
    """Index label of the highest-scoring run on the Pareto front (ties: the first)."""
    front = df[pareto_front(df, minimize, [score])]
    return front[score].idxmax()


def named_color_table(mse: dict[str, np.ndarray]) -> pd.DataFrame:
    """Per named colour: each variant's MSE and its change from `baseline` (`<variant>-delta`)."""
    table = colors.named_colors()
    base = mse["baseline"]
    table["baseline"] = base
    for name, values in mse.items():
        if name != "baseline":
            table[name] = values
            table[f"{name}-delta"] = values - base
    return table


# The paper's analytic reference values, derived rather than typed in.


def suppression_bound() -> float:
    """Suppression sends red's latent to the origin; if the decoder then outputs mid-grey,
    red's error is MSE(red, grey) = 1/4."""
    red, grey = np.array([1.0, 0.0, 0.0]), np.full(3, 0.5)
    return float(((red - grey) ** 2).mean())


def ablation_bound() -> float:
    """Ablation sends red to some other on-manifold colour; if that colour is uniform in the RGB cube,
    red's expected error is (1/3)·E[(1-r)² + g² + b²] with r, g, b ~ U[0, 1], which is 1/3."""

    def expected_square(p: Polynomial) -> float:  # E[p(u)²] for u ~ U[0, 1]
        antiderivative = (p**2).integ()
        return float(antiderivative(1.0) - antiderivative(0.0))

    red_channel = Polynomial([1.0, -1.0])  # 1 - r
    other_channel = Polynomial([0.0, 1.0])  # g (and b)
    return (expected_square(red_channel) + 2 * expected_square(other_channel)) / 3
