"""Every seed of a sweep under every variant: the distribution a published selected-model number is
judged against.

For each seed (all at once, on the batched model) and each variant: the MSE and the perceptual error
(CIEDE2000 ΔE between the true colour and its reconstruction) of every named colour, the change of both
from that seed's own baseline, R² of per-colour error against the variant's predictor on the 20³ RGB
grid, the maximum and median error over the experiment's loss grid, and the colour that pure red decodes to.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from skimage.color import deltaE_ciede2000, rgb2lab

from . import colors
from .evaluate import pearson_r, per_color_mse, predictor, reconstruct
from .experiments import Experiment
from .model import ColorAutoencoder
from .workers import default_workers, map_in_workers, seed_chunks

JND = 2.3  # CIEDE2000 ΔE of a just-noticeable difference (Sharma 2003)
PURE_RED = np.array([[1.0, 0.0, 0.0]])


def delta_e(true_rgb: np.ndarray, recon_rgb: np.ndarray) -> np.ndarray:
    """CIEDE2000 ΔE between colours [..., 3] in [0, 1] (sRGB, D65)."""
    return deltaE_ciede2000(rgb2lab(np.clip(true_rgb, 0, 1)), rgb2lab(np.clip(recon_rgb, 0, 1)))


def seed_table(experiment: Experiment, model: ColorAutoencoder, seeds: list[int], loss_grid: bool = True) -> pd.DataFrame:
    """One row per (seed, variant): `mse:<colour>`, `de:<colour>`, `dmse:<colour>` and `dde:<colour>`
    (change from the seed's baseline) for the 17 named colours, `r2`, `max_mse` and `median_mse` on the loss
    grid (unless `loss_grid` is False: it is most of the cost), and `red_r/g/b`, what red decodes to.
    With the loss grid, the seeds are split over single-threaded worker processes, as training is (`workers`):
    86,400 colours per seed and variant are worth a process, and a second torch thread stalls when another
    program takes a core."""
    chunks = seed_chunks(len(seeds), default_workers(len(seeds)) if loss_grid else 1)
    if len(chunks) == 1:
        return _seed_table(experiment, model, seeds, loss_grid)
    parts = map_in_workers(_seed_table, [(experiment, model.seeds(c), [seeds[i] for i in c], loss_grid) for c in chunks])
    table = pd.concat(parts)
    return table.loc[[(s, v.name) for v in experiment.all_variants for s in seeds]]  # one process's row order


def _seed_table(experiment: Experiment, model: ColorAutoencoder, seeds: list[int], loss_grid: bool) -> pd.DataFrame:
    named = colors.named_colors()
    names, rgb = list(named["name"]), np.array(named["rgb"].tolist())
    grid = colors.latent_grid().flat_rgb
    loss_rgb = colors.LOSS_GRIDS[experiment.loss_grid]().flat_rgb if loss_grid else None
    frames = []
    for variant in experiment.all_variants:
        m, intervention = variant.apply(model)
        # [S, N]: the max and median error the old notebooks printed
        loss = per_color_mse(m, loss_rgb, intervention) if loss_grid else np.full((len(seeds), 1), np.nan)
        recon, _ = reconstruct(m, np.concatenate([rgb, PURE_RED, grid]), intervention)
        named_recon, red, grid_recon = recon[:, :len(rgb)], recon[:, len(rgb)], recon[:, len(rgb) + 1:]
        mse = ((named_recon - rgb[None]) ** 2).mean(-1)
        de = delta_e(np.broadcast_to(rgb, named_recon.shape), named_recon)
        grid_mse = ((grid_recon - grid[None]) ** 2).mean(-1)
        r2 = pearson_r(predictor(grid, variant.metric, variant.power, variant.hue), grid_mse) ** 2
        frame = pd.DataFrame({"seed": seeds, "variant": variant.name, "r2": r2,
                              "max_mse": loss.max(-1), "median_mse": np.median(loss, -1),
                              "red_r": red[:, 0], "red_g": red[:, 1], "red_b": red[:, 2]})
        frame[[f"mse:{n}" for n in names]] = mse
        frame[[f"de:{n}" for n in names]] = de
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True).set_index(["seed", "variant"])
    base = table.xs("baseline", level="variant")
    for kind in ("mse", "de"):
        cols = [f"{kind}:{n}" for n in names]
        delta = table[cols] - base[cols].reindex(table.index.get_level_values("seed")).to_numpy()
        table[[f"d{kind}:{n}" for n in names]] = delta.to_numpy()
    return table


def values(table: pd.DataFrame, variant: str, column: str) -> pd.Series:
    """One column of one variant, indexed by seed."""
    return table.xs(variant, level="variant")[column]


def percentile(sample: np.ndarray, value: float) -> float:
    """Where `value` falls in `sample`, in percent (mid-rank: ties count half), 0-100."""
    sample = np.asarray(sample, dtype=float)
    return float(100 * ((sample < value).mean() + 0.5 * (sample == value).mean()))
