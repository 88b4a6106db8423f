"""Beyond the paper: three studies the paper leaves open, each a set of cells derived from a sweep.

- **labels**: the label budget. A label's probability is scaled by a factor (0 is the control: no labels).
- **fixed**: constant regularizer weights instead of keyframes, each at its time-average or its peak, with the
  learning-rate schedule kept or also made constant (at its time-average).
- **concept**: anchor green or blue instead of red, with labels from red's rule for that primary.

A cell is plain data (`Cell`); `cell_experiment` turns it into an ordinary `Experiment`, so it trains,
caches, evaluates and reports like any other (`python -m sca run 2.4.1 --label-scale red=0.25`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import torch

from . import experiments
from .experiments import Experiment
from .population import GEOMETRY_DEGREES, anchor_direction
from .sweep import RunResult, run
from .train import schedule_step

CONCEPTS = {
    "red": (0, 0.0, "cyan"),
    "green": (1, 1 / 3, "magenta"),
    "blue": (2, 2 / 3, "yellow"),
}  # channel, hue, opposite
FIXED = ("mean", "peak")
DESIGNS = ("2.4.1", "2.9.1")  # the anchored and the isolated design
SELECTIVE_VARIANT = {"2.4.1": "suppression", "2.9.1": "ablated"}  # the intervention each design is judged by
LABEL_FACTORS = (0.0, 1 / 16, 1 / 8, 1 / 4, 1 / 2, 1.0, 2.0, 4.0)
VIBRANT_FACTORS = (0.0, 1 / 4, 4.0)


@dataclass(frozen=True)
class Cell:
    experiment: str  # the sweep it derives from
    labels: tuple[tuple[str, float], ...] = ()  # (label, factor on its probability)
    fixed: str | None = None  # "mean" or "peak": constant regularizer weights
    constant_lr: bool = False  # with `fixed`: the learning rate constant at its time-average too
    concept: str = "red"

    def __post_init__(self):
        if self.experiment not in DESIGNS:
            raise ValueError(f"study cell: experiment {self.experiment!r} is not one of {DESIGNS}")
        if self.fixed not in (None, *FIXED):
            raise ValueError(f"study cell: fixed={self.fixed!r}; expected one of {FIXED}")
        if self.constant_lr and self.fixed is None:
            raise ValueError("study cell: a constant learning rate goes with fixed weights (fixed='mean' or 'peak')")
        if self.concept not in CONCEPTS:
            raise ValueError(f"study cell: unknown concept {self.concept!r}; known: {', '.join(CONCEPTS)}")
        known = experiments.get(self.experiment).data.labels
        for label, factor in self.labels:
            if label not in known:
                raise ValueError(f"study cell: {self.experiment} draws labels {list(known)}, not {label!r}")
            if not (factor >= 0 and known[label].scale * factor <= 1):
                raise ValueError(
                    f"study cell: factor {factor} for {label!r} must be >= 0 and keep its probability <= 1"
                )

    @property
    def name(self) -> str:
        parts = [self.experiment]
        parts += [f"{label}x{factor:g}" for label, factor in self.labels]
        if self.fixed:
            parts.append(f"fixed-{self.fixed}" + ("-lr" if self.constant_lr else ""))
        if self.concept != "red":
            parts.append(self.concept)
        return "+".join(parts)


STUDIES = {
    "labels": [Cell(e, labels=(("red", f),)) for e in DESIGNS for f in LABEL_FACTORS]
    + [Cell("2.4.1", labels=(("vibrant", f),)) for f in VIBRANT_FACTORS],
    "fixed": [
        Cell(e, fixed=how, constant_lr=lr)
        for e in DESIGNS
        for how, lr in ((None, False), ("mean", False), ("peak", False), ("mean", True))
    ],
    "concept": [Cell(e, concept=c) for e in DESIGNS for c in ("red", "green")],
}


def cell_experiment(cell: Cell) -> Experiment:
    """The cell as an ordinary experiment."""
    exp = experiments.get(cell.experiment)
    labels = dict(exp.data.labels)
    for label, factor in cell.labels:
        labels[label] = replace(labels[label], scale=labels[label].scale * factor)
    exp = replace(exp, name=cell.name, data=replace(exp.data, labels=labels))
    if cell.fixed:
        exp = _fixed(exp, cell)
    if cell.concept != "red":
        exp = _concept(exp, cell.concept)
    return exp


def _fixed(exp: Experiment, cell: Cell) -> Experiment:
    """Constant weights (and optionally learning rate), with a schedule of their own (the learning rate alone),
    inline."""
    schedule, lr, weights = exp.training_schedule()
    rows = [schedule_step(t, schedule.length) for t in range(schedule.length)]
    reduce = np.mean if cell.fixed == "mean" else np.max
    fixed = tuple((name, float(reduce(w[rows]))) for name, w in weights.items())
    lr_text = (
        f"0,{float(np.mean(lr[rows])):.9g}\n{schedule.length - 1},{float(np.mean(lr[rows])):.9g}\n"
        if cell.constant_lr
        else "".join(f"{step},{values['lr']!r}\n" for step, values in schedule.rows if "lr" in values)
    )
    text = "STEP,lr\n" + lr_text
    if not cell.constant_lr and schedule.rows[-1][0] != schedule.length - 1:
        text += f"{schedule.length - 1},\n"
    return replace(
        exp, schedule=text, fixed_weights=fixed, unused_columns=()
    )  # inline: building a config writes nothing


def _concept(exp: Experiment, concept: str) -> Experiment:
    """Anchor another primary: its labels by red's rule, the same anchor axis, and evaluation against its hue."""
    channel, hue, _ = CONCEPTS[concept]
    attribute = ("redness", "greenness", "blueness")[channel]
    data = exp.data
    labels = {
        (concept if k == "red" else k): (replace(v, attribute=attribute) if k == "red" else v)
        for k, v in data.labels.items()
    }
    val = {
        (concept if k == "red" else k): (replace(v, attribute=attribute) if k == "red" else v)
        for k, v in data.val_labels.items()
    }
    regs = tuple(
        replace(r, labels=tuple(concept if lab == "red" else lab for lab in r.labels)) for r in exp.regularizers
    )
    variants = tuple(replace(v, hue=hue) for v in exp.variants)
    return replace(exp, data=replace(data, labels=labels, val_labels=val), regularizers=regs, variants=variants)


def run_cell(cell: Cell, seeds=range(60)) -> RunResult:
    """The cell trained and every seed evaluated (a cell's table reads its seeds, not the selected model's variants)."""
    return run(**cell_run_args(cell, seeds))


def cell_run_args(cell: Cell, seeds=range(60)) -> dict:
    """The arguments of `sweep.run` that give the cell as `run_cell` does."""
    return {"experiment": cell_experiment(cell), "seeds": seeds, "variants": False}


@torch.no_grad()
def cell_table(cell: Cell, r: RunResult) -> pd.DataFrame:
    """One row per seed: the cell, its score, realised concept labels, the concept's Δ under the design's
    intervention, its opposite's Δ, and whether the pure concept colour encodes near its anchor."""
    channel, _, opposite = CONCEPTS[cell.concept]
    concept_name = {"red": "red", "green": "green", "blue": "blue"}[cell.concept]
    variant = SELECTIVE_VARIANT[cell.experiment]
    pop = r.population.xs(variant, level="variant")
    pure = torch.zeros(1, 3)
    pure[0, channel] = 1.0
    z = r.train.model(pure).z[:, 0]  # [S, K]
    anchor = anchor_direction(r.experiment)  # every design a study derives from anchors its concept
    cos = (z @ torch.tensor(anchor, dtype=z.dtype)) / z.norm(dim=-1)
    angle = torch.rad2deg(torch.arccos(cos.clamp(-1, 1))).numpy()
    return pd.DataFrame(
        {
            "cell": cell.name,
            "experiment": cell.experiment,
            "concept": cell.concept,
            "labels": r.runs[f"labels_{cell.concept}"].to_numpy() if f"labels_{cell.concept}" in r.runs else 0,
            "score": r.runs["score"].to_numpy(),
            "concept_delta": pop[f"dmse:{concept_name}"].to_numpy(),
            "opposite_delta": pop[f"dmse:{opposite}"].to_numpy(),
            "angle": angle,
            "geometry_right": angle < GEOMETRY_DEGREES,
            "collapsed": np.isin(r.runs["seed"], r.train.collapsed),
        },
        index=pd.Index(r.runs["seed"].to_numpy(), name="seed"),
    )


def study_table(study: str, seeds=range(60)) -> pd.DataFrame:
    """Every cell of a study, every seed: `cell_table` stacked."""
    if study not in STUDIES:
        raise KeyError(f"unknown study {study!r}; known: {', '.join(STUDIES)}")
    frames = []
    for cell in STUDIES[study]:
        frame = cell_table(cell, run_cell(cell, seeds))
        frame["factor"] = dict(cell.labels).get("red", dict(cell.labels).get("vibrant", 1.0))
        frame["label"] = next(iter(dict(cell.labels)), "red")
        frame["fixed"] = (cell.fixed or "keyframed") + (" + constant lr" if cell.constant_lr else "")
        frames.append(frame)
    return pd.concat(frames)
