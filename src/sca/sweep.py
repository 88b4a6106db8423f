"""One experiment end to end: train every seed at once, score each seed as the original did, pick a
model from the Pareto front, and evaluate each variant of the selected model."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import colors, forward, reference
from .cache import cache_dir, cached, package_digest, run_key
from .evaluate import correlation, pareto_front, pearson_r, per_color_mse, predictor, reconstruct, select
from .experiments import Experiment, Variant
from .model import ColorAutoencoder
from .population import seed_table
from .stream import RandomStream, TorchStream
from .train import TrainResult, check_seeds, torch_threads, train
from .workers import keep_freed_memory

SCORE_GRID = 8  # the sweep score is R² on the 8³ RGB lattice, as in the original


def scores(experiment: Experiment, model: ColorAutoencoder) -> np.ndarray:
    """Each seed's score [S]: R² of its per-colour error against the score variant's predictor."""
    variant = experiment.variant(experiment.score)
    rgb = colors.rgb_grid(SCORE_GRID).flat_rgb
    m, intervention = variant.apply(model)
    mse = per_color_mse(m, rgb, intervention)
    return pearson_r(predictor(rgb, variant.metric, variant.power, variant.hue), mse) ** 2


def runs_table(experiment: Experiment, result: TrainResult, score: np.ndarray) -> pd.DataFrame:
    """One row per seed: score, final validation metrics, label counts."""
    df = pd.DataFrame({"seed": result.seeds, "score": score})
    for name, values in result.val.items():
        df[name] = values
    for name, counts in result.label_counts.items():
        df[f"labels_{name}"] = counts.astype(int)
    return df.set_index("seed", drop=False)


@dataclass
class VariantResult:
    """One variant of the selected model, evaluated: the numbers, and the arrays the figures draw."""

    variant: Variant
    named: pd.Series  # MSE per named colour
    r2: float  # error vs the variant's predictor on the 20³ latent grid
    r: float
    p: float
    max_mse: float  # over the experiment's loss grid
    median_mse: float
    latents: np.ndarray  # [8000, K] post-intervention latents of the 20³ RGB grid
    latent_recon: np.ndarray  # [8000, 3] its reconstructions
    latent_mse: np.ndarray  # [8000]
    slice_recon: np.ndarray  # [12, 4, 5, 3] reconstructions of the colour-slice grid
    loss_mse: np.ndarray  # per-colour MSE on the loss grid, in the grid's shape
    loss_grid: str  # which grid (colors.LOSS_GRIDS)

    @property
    def name(self) -> str:
        return self.variant.name


def evaluate_variant(experiment: Experiment, model: ColorAutoencoder, variant: Variant) -> VariantResult:
    """Evaluate one model (S = 1) under one variant, on every evaluation grid."""
    named = colors.named_colors()
    latent_rgb = colors.latent_grid().flat_rgb
    loss = colors.LOSS_GRIDS[experiment.loss_grid]()
    m, intervention = variant.apply(model)
    recon, latents = reconstruct(m, latent_rgb, intervention)
    latent_mse = ((recon[0] - latent_rgb) ** 2).mean(-1)
    corr = correlation(predictor(latent_rgb, variant.metric, variant.power, variant.hue), latent_mse)
    loss_mse = per_color_mse(m, loss.flat_rgb, intervention)[0]
    return VariantResult(
        variant=variant,
        named=pd.Series(per_color_mse(m, np.array(named["rgb"].tolist()), intervention)[0], index=named["name"]),
        r2=corr["r2"],
        r=corr["r"],
        p=corr["p"],
        max_mse=float(loss_mse.max()),
        median_mse=float(np.median(loss_mse)),
        latents=latents[0],
        latent_recon=recon[0],
        latent_mse=latent_mse,
        slice_recon=reconstruct(m, colors.slice_grid().rgb, intervention)[0][0].reshape(colors.slice_grid().rgb.shape),
        loss_mse=loss_mse.reshape(loss.shape),
        loss_grid=experiment.loss_grid,
    )


def evaluate_variants(
    experiment: Experiment, model: ColorAutoencoder, progress: bool = False
) -> dict[str, VariantResult]:
    """Evaluate one model (S = 1) under the baseline and every variant of the experiment."""
    variants = experiment.all_variants
    if progress:
        from tqdm.auto import tqdm

        variants = tqdm(variants, desc=f"evaluate {experiment.name}", leave=False)
    return {v.name: evaluate_variant(experiment, model, v) for v in variants}


@dataclass
class RunResult:
    experiment: Experiment
    train: TrainResult
    runs: pd.DataFrame
    selected_seed: int
    variants: dict[str, VariantResult]
    population: pd.DataFrame  # every seed under every variant (population.seed_table)

    def delta(self, variant: str, colour: str) -> float:
        """Change in a named colour's MSE under a variant, from the selected model's baseline."""
        return float(self.variants[variant].named[colour] - self.variants["baseline"].named[colour])

    @property
    def selected_model(self) -> ColorAutoencoder:
        return self.train.model.seeds(self.train.seeds.index(self.selected_seed))

    def summary(self) -> dict:
        """The JSON-ready summary other tools read (keep the key names)."""
        val_cols = [c for c in self.runs.columns if c.startswith("val_")]
        label_cols = [c for c in self.runs.columns if c.startswith("labels_")]
        stats = statistics(self.runs)
        return {
            "experiment": self.experiment.name,
            "title": self.experiment.title,
            "seeds": list(map(int, self.train.seeds)),
            "runs": [
                {
                    "seed": int(row.seed),
                    "score": float(row.score),
                    "val": {c.removeprefix("val_"): float(row[c]) for c in val_cols},
                    "labels": {c.removeprefix("labels_"): int(row[c]) for c in label_cols},
                }
                for _, row in self.runs.iterrows()
            ],
            "pareto": [int(s) for s in self.runs.index[self.runs["pareto"]]],
            "collapsed": [int(s) for s in self.train.collapsed],
            "selected_seed": int(self.selected_seed),
            "named_colors": {v: {k: float(x) for k, x in r.named.items()} for v, r in self.variants.items()},
            "r2": {v: r.r2 for v, r in self.variants.items()},
            "r": {v: r.r for v, r in self.variants.items()},
            "max_mse": {v: r.max_mse for v, r in self.variants.items()},
            "median_mse": {v: r.median_mse for v, r in self.variants.items()},
            "statistics": {m: {s: _number(stats.loc[m, s]) for s in STATS} for m in stats.index},
        }


def run(
    experiment: Experiment,
    seeds: Sequence[int] | None = None,
    stream: RandomStream | None = None,
    progress: bool = False,
    cache: bool = True,
    show: int | None = None,
    variants: bool = True,
) -> RunResult:
    """Train (or, with `cache`, load the cached training), then score, select and evaluate. Without `variants`, the
    selected model's variants are not evaluated on the grids (RunResult.variants is empty; every seed's table is
    still made): for callers that read only the seeds, as the studies do. With `show`,
    that seed is evaluated in place of the selected one (as for the old notebooks, which trained seed 0)."""
    seeds = check_seeds(experiment.seeds if seeds is None else seeds)
    stream = stream or TorchStream()
    if show is not None and show not in seeds:
        raise ValueError(f"{experiment.name}: seed {show} to show is not among the seeds {seeds[:5]}...")
    training = lambda: train(experiment, seeds, stream=stream, progress=progress)
    trained = training
    if cache:
        (train_path, key), (eval_path, eval_key) = _entries(experiment, seeds, stream, show, variants)
        trained = lambda: cached(train_path, key, training)

    def evaluated() -> RunResult:
        forward.library()  # evaluation's compiled forward pass: built (or its build fails) before any training
        return evaluate_run(experiment, trained(), progress, show, variants)

    return cached(eval_path, eval_key, evaluated) if cache else evaluated()


def is_cached(
    experiment: Experiment,
    seeds: Sequence[int] | None = None,
    stream: RandomStream | None = None,
    show: int | None = None,
    variants: bool = True,
) -> bool:
    """Whether the cache holds the finished run `run` would give for these arguments (not read: a corrupt entry
    still counts; `run` then warns and recomputes it)."""
    seeds = check_seeds(experiment.seeds if seeds is None else seeds)
    return _entries(experiment, seeds, stream or TorchStream(), show, variants)[1][0].exists()


def _entries(
    experiment: Experiment, seeds: list[int], stream: RandomStream, show: int | None, variants: bool
) -> tuple[tuple[Path, str], tuple[Path, str]]:
    """(path, key) of a run's two cache entries. Training is keyed by what determines it (so experiments that
    train the same model, such as 2.4, 2.6 and 2.7, share one entry); its evaluation also by the whole config
    and the package's evaluation sources (so editing evaluation re-evaluates, and editing claims, figures or the
    book neither)."""
    key = run_key(experiment, seeds, stream)
    eval_key = hashlib.sha256(
        "\0".join(
            [
                key,
                repr(experiment),
                repr(show),
                *(() if variants else ("seeds only",)),
                package_digest(evaluation_only=True),
            ]
        ).encode()
    ).hexdigest()
    return (
        (cache_dir() / f"train-{key[:24]}.pt", key),
        (cache_dir() / f"eval-{experiment.name}-{eval_key[:24]}.pt", eval_key),
    )


def evaluate_run(
    experiment: Experiment, result: TrainResult, progress: bool = False, show: int | None = None, variants: bool = True
) -> RunResult:
    """Score every seed, select from the Pareto front (or take seed `show`), evaluate that model and every seed
    (each seed's max and median error over the loss grid only with `show`: the old notebooks printed those).

    It runs on one torch thread, as training's workers do: the book evaluates two chapters at once, and a second
    thread stalls whenever the other core is taken (`make bench`, part 9). No result depends on the thread count."""
    keep_freed_memory()
    with torch_threads(1):
        return _evaluate_run(experiment, result, progress, show, variants)


def _evaluate_run(
    experiment: Experiment, result: TrainResult, progress: bool, show: int | None, variants: bool
) -> RunResult:
    runs = runs_table(experiment, result, scores(experiment, result.model))
    runs["pareto"] = pareto_front(runs, experiment.minimize, ["score"])
    best = int(select(runs, experiment.minimize)) if show is None else show
    selected = result.model.seeds(result.seeds.index(best))
    return RunResult(
        experiment,
        result,
        runs,
        best,
        evaluate_variants(experiment, selected, progress) if variants else {},
        seed_table(experiment, result.model, result.seeds, loss_grid=show is not None),
    )


STATS = ("min", "max", "mean", "std")


def _number(x) -> float | None:
    """A float for JSON; None where undefined (the std of one seed)."""
    return None if pd.isna(x) else float(x)


def statistics(runs: pd.DataFrame) -> pd.DataFrame:
    """min, max, mean and std over seeds of the score, validation terms and label counts."""
    cols = ["score"] + [c for c in runs.columns if c.startswith(("val_", "labels_"))]
    return runs[cols].agg(list(STATS)).T


def compare_statistics(result: RunResult) -> pd.DataFrame:
    """Our seed statistics beside the original's (and, for the score, the original code re-run with
    another random stream), one row per metric that the original reported."""
    ours = statistics(result.runs)
    name = result.experiment.name
    published = reference.SWEEP_STATS.get(name, {})
    rows = []
    for metric in ours.index:
        row = {"metric": metric, **{f"ours {s}": ours.loc[metric, s] for s in STATS}}
        if metric in published:
            row |= {f"original {s}": v for s, v in zip(STATS, published[metric])}
        if metric == "score" and name in reference.RERUN_SCORE:
            row |= {f"re-run {s}": v for s, v in zip(STATS, reference.RERUN_SCORE[name])}
        rows.append(row)
    return pd.DataFrame(rows).set_index("metric")
