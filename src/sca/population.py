"""Every seed of a sweep under every variant: the distribution a published selected-model number is
judged against.

For each seed (all at once, on the batched model) and each variant: the MSE and the perceptual error
(CIEDE2000 ΔE between the true colour and its reconstruction) of every named colour, the change of both
from that seed's own baseline, R² of per-colour error against the variant's predictor on the 20³ RGB
grid, the maximum and median error over the experiment's loss grid, the colour that pure red decodes to,
each named colour's change in CIELAB lightness, and where each named colour's baseline latent lies relative to
the direction an intervention acts on (suppression and repulsion leave every latent with z·c ≤ 0 unchanged, so
"untouched" is decided there by that sign alone) and how far pure red's lies from its anchor.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from skimage.color import deltaE_ciede2000, rgb2lab

from . import colors
from .evaluate import pearson_r, per_color_mse, predictor, reconstruct
from .experiments import Experiment
from .interventions import Repulsion, Suppression
from .model import ColorAutoencoder
from .workers import default_workers, map_in_workers, seed_chunks

JND = 2.3  # CIEDE2000 ΔE of a just-noticeable difference (Sharma 2003)
GEOMETRY_DEGREES = 15.0  # a seed has the target geometry if pure red encodes within this angle of its anchor
PURE_RED = np.array([[1.0, 0.0, 0.0]])


def delta_e(true_rgb: np.ndarray, recon_rgb: np.ndarray) -> np.ndarray:
    """CIEDE2000 ΔE between colours [..., 3] in [0, 1] (sRGB, D65)."""
    return deltaE_ciede2000(rgb2lab(np.clip(true_rgb, 0, 1)), rgb2lab(np.clip(recon_rgb, 0, 1)))


def lightness_change(true_rgb: np.ndarray, recon_rgb: np.ndarray) -> np.ndarray:
    """CIELAB L* of the reconstruction minus L* of the true colour (negative: reconstructed darker)."""
    return rgb2lab(np.clip(recon_rgb, 0, 1))[..., 0] - rgb2lab(np.clip(true_rgb, 0, 1))[..., 0]


def intervention_direction(variant) -> tuple[float, ...] | None:
    """The direction c of a variant whose intervention is the identity wherever z·c ≤ 0, else None."""
    return variant.intervention.direction if isinstance(variant.intervention, (Suppression, Repulsion)) else None


def anchor_direction(experiment: Experiment) -> tuple[float, ...] | None:
    """The direction red is anchored to, if the experiment anchors it."""
    return next((reg.direction for reg in experiment.regularizers if reg.kind in ("anchor", "angular-anchor")), None)


def seed_table(
    experiment: Experiment, model: ColorAutoencoder, seeds: list[int], loss_grid: bool = True
) -> pd.DataFrame:
    """One row per (seed, variant): `mse:<colour>`, `de:<colour>`, `dmse:<colour>` and `dde:<colour>`
    (change from the seed's baseline) for the 17 named colours, `dL:<colour>` (change in CIELAB lightness
    from the true colour), `zc:<colour>` (z·c of the colour's baseline latent, for a variant that acts only
    where z·c > 0; NaN otherwise), `red_anchor_deg` (angle of pure red's baseline latent from its anchor) and
    `red_on_anchor` (whether red's latent is the named colours' nearest the anchor; both NaN without an
    anchor), `r2`, `max_mse` and `median_mse` on the loss grid (unless `loss_grid` is False: it is most of the
    cost), and `red_r/g/b`, what red decodes to.
    With the loss grid, the seeds are split over single-threaded worker processes, as training is (`workers`):
    86,400 colours per seed and variant are worth a process, and a second torch thread stalls when another
    program takes a core."""
    chunks = seed_chunks(len(seeds), default_workers(len(seeds)) if loss_grid else 1)
    if len(chunks) == 1:
        return _seed_table(experiment, model, seeds, loss_grid)
    parts = map_in_workers(
        _seed_table,
        [(experiment, model.seeds(c), [seeds[i] for i in c], loss_grid) for c in chunks],
        what=[f"the evaluation of {experiment.name}, seeds {seeds[c[0]]} to {seeds[c[-1]]}" for c in chunks],
    )
    table = pd.concat(parts)
    return table.loc[[(s, v.name) for v in experiment.all_variants for s in seeds]]  # one process's row order


def _seed_table(experiment: Experiment, model: ColorAutoencoder, seeds: list[int], loss_grid: bool) -> pd.DataFrame:
    named = colors.named_colors()
    names, rgb = list(named["name"]), np.array(named["rgb"].tolist())
    grid = colors.latent_grid().flat_rgb
    loss_rgb = colors.LOSS_GRIDS[experiment.loss_grid]().flat_rgb if loss_grid else None
    _, z0 = reconstruct(model, np.concatenate([rgb, PURE_RED]), None)  # [S, 18, K] baseline latents
    anchor = anchor_direction(experiment)
    red_deg = (
        np.degrees(np.arccos(np.clip(_cosine(z0[:, -1], anchor), -1, 1)))
        if anchor is not None
        else np.full(len(seeds), np.nan)
    )
    # the target geometry: of the named colours' latents, red's is the one nearest the anchor
    on_anchor = (
        (_cosine(z0[:, : len(rgb)], anchor).argmax(-1) == names.index("red")).astype(float)
        if anchor is not None
        else np.full(len(seeds), np.nan)
    )
    frames = []
    for variant in experiment.all_variants:
        m, intervention = variant.apply(model)
        # [S, N]: the max and median error the old notebooks printed
        loss = per_color_mse(m, loss_rgb, intervention) if loss_rgb is not None else np.full((len(seeds), 1), np.nan)
        recon, _ = reconstruct(m, np.concatenate([rgb, PURE_RED, grid]), intervention)
        named_recon, red, grid_recon = recon[:, : len(rgb)], recon[:, len(rgb)], recon[:, len(rgb) + 1 :]
        mse = ((named_recon - rgb[None]) ** 2).mean(-1)
        de = delta_e(np.broadcast_to(rgb, named_recon.shape), named_recon)
        grid_mse = ((grid_recon - grid[None]) ** 2).mean(-1)
        r2 = pearson_r(predictor(grid, variant.metric, variant.power, variant.hue), grid_mse) ** 2
        direction = intervention_direction(variant)
        zc = z0[:, : len(rgb)] @ np.asarray(direction) if direction is not None else np.full(mse.shape, np.nan)
        dl = lightness_change(np.broadcast_to(rgb, named_recon.shape), named_recon)
        columns = {
            "seed": seeds,
            "variant": variant.name,
            "r2": r2,
            "red_anchor_deg": red_deg,
            "red_on_anchor": on_anchor,
            "max_mse": loss.max(-1),
            "median_mse": np.median(loss, -1),
            "red_r": red[:, 0],
            "red_g": red[:, 1],
            "red_b": red[:, 2],
        }
        for kind, block in (("mse", mse), ("de", de), ("dL", dl), ("zc", zc)):
            columns |= {f"{kind}:{n}": block[:, i] for i, n in enumerate(names)}
        frames.append(pd.DataFrame(columns))
    table = pd.concat(frames, ignore_index=True).set_index(["seed", "variant"])
    base = table.xs("baseline", level="variant")
    deltas: dict[str, np.ndarray] = {}
    for kind in ("mse", "de"):
        cols = [f"{kind}:{n}" for n in names]
        delta = table[cols].to_numpy() - base[cols].reindex(table.index.get_level_values("seed")).to_numpy()
        deltas |= {f"d{kind}:{n}": delta[:, i] for i, n in enumerate(names)}
    return pd.concat([table, pd.DataFrame(deltas, index=table.index)], axis=1)


def _cosine(z: np.ndarray, direction) -> np.ndarray:
    c = np.asarray(direction, dtype=float)
    return (z @ c) / np.linalg.norm(z, axis=-1)


def values(table: pd.DataFrame, variant: str, column: str) -> pd.Series:
    """One column of one variant, indexed by seed."""
    return table.xs(variant, level="variant")[column]
