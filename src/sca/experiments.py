"""Experiments 2.2-2.10.1 as data: one declarative `Experiment` each, loaded by name.

Each follows the code that produced the original numbers where the notebooks' prose disagrees
(see the book's chapters and the reference notes): e.g. 2.5.1 has no unitarity, 2.7.1 no anchor,
2.9.1 keeps its anti-anchor. Every regularizer takes its weight from its schedule column, or from an
explicit constant (2.2's planarity, which had no column and so ran at 1.0 in the original); a column
that matches no regularizer is an error unless the experiment lists it as unused (as the original
ignored 2.2's `reg-polar` and 2.9's `reg-planar-v`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from . import colors
from .data import DataConfig, Label
from .interventions import AxisSuppression, BezierMapper, Falloff, Intervention, LinearMapper, Repulsion, Suppression
from .model import ColorAutoencoder, ModelConfig, ablate, prune
from .regularizers import Regularizer
from .schedule import Schedule, ScheduleError, load_schedule

SURGERIES = {"ablate": ablate, "prune": prune}
VARIANT_NAMES = ("baseline", "suppression", "repulsion", "ablated", "pruned")


@dataclass(frozen=True)
class Variant:
    """A way of removing the concept: an intervention at inference, or surgery on a copy of the weights.
    `metric`/`power` say which predictor its error is correlated with (sim(·, red)^k or vibrancy^k)."""

    name: str  # one of VARIANT_NAMES
    intervention: Intervention | None = None
    surgery: tuple[str, tuple[int, ...]] | None = None  # ("ablate" | "prune", dims)
    metric: str = "similarity"
    power: float = 2.0
    hue: float = 0.0  # the concept's hue in turns, for the similarity predictor (0: red)

    def __post_init__(self):
        if self.name not in VARIANT_NAMES:
            raise ValueError(f"unknown variant {self.name!r}; known: {', '.join(VARIANT_NAMES)}")
        if self.surgery and self.surgery[0] not in SURGERIES:
            raise ValueError(
                f"variant {self.name!r}: unknown surgery {self.surgery[0]!r}; known: {', '.join(SURGERIES)}"
            )

    def check(self, latent: int, who: str = "") -> None:
        """Raise if the variant does not fit a latent of width `latent` (surgery dims, intervention direction)."""
        who = f"{who}: variant {self.name!r}" if who else f"variant {self.name!r}"
        if self.surgery:
            kind, dims = self.surgery
            bad = [d for d in dims if not 0 <= d < latent]
            if not dims or bad:
                raise ValueError(f"{who}: {kind} dims {dims} must be non-empty and within 0..{latent - 1}")
            if kind == "prune" and len(set(dims)) >= latent:
                raise ValueError(f"{who}: pruning dims {dims} would leave no latent dimension")
        if self.intervention is not None:
            self.intervention.check(latent)

    def apply(self, model: ColorAutoencoder) -> tuple[ColorAutoencoder, Callable | None]:
        """The model to run (a modified copy for surgery) and the intervention to run it with."""
        if self.surgery:
            kind, dims = self.surgery
            model = SURGERIES[kind](model, dims)
        return model, self.intervention


@dataclass(frozen=True)
class Experiment:
    name: str
    title: str
    model: ModelConfig
    data: DataConfig
    regularizers: tuple[Regularizer, ...]
    schedule: str  # schedule file (in the package's schedules folder)
    variants: tuple[Variant, ...]  # besides the baseline
    score: str  # the variant whose error-vs-predictor R² on the 8³ grid scores a seed
    minimize: tuple[str, ...] = ("val_recon",)  # validation metrics the Pareto front minimises (score is maximised)
    seeds: tuple[int, ...] = (0,)  # the original's seeds
    latent_dims: tuple[tuple, tuple] = ((1, 0, 2), (1, 3, 0))  # sphere panels of the stacked figure
    loss_grid: str = "redux"  # grid for max/median error: "redux", or the old notebooks' "legacy" / "legacy-half"
    # (regularizer, constant weight) for terms with no schedule column
    fixed_weights: tuple[tuple[str, float], ...] = ()
    unused_columns: tuple[str, ...] = ()  # schedule columns that match no regularizer and are deliberately ignored
    val_every: int | None = None  # validate before every step t > 0 that is a multiple of this (None: steps // 10)
    notes: str = ""

    def __post_init__(self):
        who = f"experiment {self.name}"
        if self.loss_grid not in colors.LOSS_GRIDS:
            raise ValueError(f"{who}: unknown loss_grid {self.loss_grid!r}; known: {', '.join(colors.LOSS_GRIDS)}")
        names = [r.name for r in self.regularizers]
        if len(set(names)) != len(names):
            raise ValueError(f"{who}: regularizer names {names} are not distinct")
        for r in self.regularizers:
            r.check(self.model.latent)
            unknown = [lab for lab in r.labels if lab not in self.data.labels]
            if unknown:
                raise ValueError(
                    f"{who}: regularizer {r.name!r} uses labels {unknown}; the data draws {list(self.data.labels)}"
                )
        for name, weight in self.fixed_weights:
            if name not in names:
                raise ValueError(f"{who}: fixed weight for {name!r}, which is not one of its regularizers {names}")
            if not (math.isfinite(weight) and weight >= 0):
                raise ValueError(f"{who}: fixed weight of {name!r} is {weight}; it must be finite and >= 0")
        for v in self.variants:
            v.check(self.model.latent, who)
        if self.score not in [v.name for v in self.variants]:
            raise ValueError(
                f"{who}: score variant {self.score!r} is not one of its variants {[v.name for v in self.variants]}"
            )
        for panel in self.latent_dims:
            if any(d is not None and not 0 <= d < self.model.latent for d in panel):
                raise ValueError(
                    f"{who}: latent_dims panel {panel} out of range for a {self.model.latent}-dimensional latent"
                )
        validated = ["val_recon"] + [
            f"val_{r.name}"
            for r in self.regularizers
            if r.validate and all(lab in self.data.val_labels for lab in r.labels)
        ]
        unknown = [m for m in self.minimize if m not in validated]
        if unknown:
            raise ValueError(f"{who}: Pareto metrics {unknown} are not validation metrics; it reports {validated}")
        if self.val_every is not None and self.val_every < 0:
            raise ValueError(f"{who}: val_every={self.val_every} must be >= 0 (0: validate only at the end)")

    def training_schedule(self) -> tuple[Schedule, np.ndarray, dict[str, np.ndarray]]:
        """The schedule, its learning rate per step, and each regularizer's weight per step.

        Raises naming the file, the column and the regularizers when the two do not match: a column no
        regularizer reads (unless listed in `unused_columns`), a regularizer with neither a column nor a
        fixed weight (or with both), or no `lr` column.
        """
        schedule = load_schedule(self.schedule)
        names, fixed = [r.name for r in self.regularizers], dict(self.fixed_weights)
        where = f"experiment {self.name}, schedule {schedule.source}"
        if "lr" not in schedule:
            raise ScheduleError(f"{where}: no 'lr' column (columns: {sorted(schedule.tracks)})")
        stray = [c for c in schedule.tracks if c != "lr" and c not in names and c not in self.unused_columns]
        if stray:
            raise ScheduleError(
                f"{where}: column(s) {stray} match no regularizer; the regularizers are {names} "
                "(rename the column, or list it in the experiment's unused_columns)"
            )
        missing = [n for n in names if n not in schedule and n not in fixed]
        if missing:
            raise ScheduleError(
                f"{where}: no column for regularizer(s) {missing} (columns: {sorted(schedule.tracks)}); "
                "add a column, or give the experiment a fixed weight for it"
            )
        both = [n for n in fixed if n in schedule]
        if both:
            raise ScheduleError(f"{where}: regularizer(s) {both} have both a column and a fixed weight")
        weights = {n: schedule.values(n) if n in schedule else np.full(schedule.length, fixed[n]) for n in names}
        return schedule, schedule.values("lr"), weights

    def validation_every(self, steps: int) -> int:
        """The validation interval: as the original's val_check_interval = max_steps // 10 unless set."""
        return steps // 10 if self.val_every is None else self.val_every

    def variant(self, name: str) -> Variant:
        if name == "baseline":
            score = self.variant(self.score)
            return Variant("baseline", metric=score.metric, power=score.power, hue=score.hue)
        for v in self.variants:
            if v.name == name:
                return v
        raise KeyError(f"experiment {self.name} has no variant {name!r}; it has {[v.name for v in self.variants]}")

    @property
    def all_variants(self) -> tuple[Variant, ...]:
        return (self.variant("baseline"), *self.variants)


RED4, RED5 = (1.0, 0.0, 0.0, 0.0), (1.0, 0.0, 0.0, 0.0, 0.0)
COS90, COS89, COS60 = math.cos(math.radians(90)), math.cos(math.radians(89)), math.cos(math.pi / 3)
SIXTY = tuple(range(60))

# Labels. Legacy (2.2-2.9): drawn per batch from redness^10, vibrancy^100, (1 - vibrancy)^10, each × 0.5.
LEGACY_RED, LEGACY_VIBRANT = Label("redness", 10, 0.5), Label("vibrancy", 100, 0.5)
LEGACY_DESATURATED = Label("desaturation", 10, 0.5)
RED, RED_EXACT = Label("redness", 8, 0.08), Label("redness", exact=True)


def _legacy_data(*extra: str) -> DataConfig:
    labels = {"red": LEGACY_RED, "vibrant": LEGACY_VIBRANT}
    if "desaturated" in extra:
        labels["desaturated"] = LEGACY_DESATURATED
    return DataConfig(labels=labels, grid="hsv")


def _redux_data(**labels: Label) -> DataConfig:
    return DataConfig(labels=labels or {"red": RED}, val_labels={"red": RED_EXACT})


def _reg(name, kind, **kw) -> Regularizer:
    return Regularizer(name, kind, **kw)


SOFT_SUPPRESSION = Variant("suppression", Suppression(RED4, Falloff(0.0, 1.0, 2.0)))
SOFT_REPULSION = Variant("repulsion", Repulsion(RED4, BezierMapper(0.0, COS60)))


def _hard_suppression(red, power=2.0) -> Variant:
    return Variant("suppression", Suppression(red, Falloff(COS90, 1.0, 0.0)), power=power)


# 2.3-2.7 share one regularizer set; 2.4, 2.6 and 2.7 train the identical model.
def _post_norm_set(layer: str) -> tuple[Regularizer, ...]:
    return (
        _reg("reg-unit", "unitarity", layer="pre"),
        _reg("reg-anchor", "anchor", layer=layer, direction=RED4, labels=("red",)),
        _reg("reg-separate", "separate", layer=layer),
        _reg("reg-planar", "subspace", layer=layer, dims=(0, 1), labels=("vibrant",)),
    )


_EXPERIMENTS = [
    Experiment(
        "2.2",
        "Specific concept intervention",
        ModelConfig(latent=4, normalize=False, sigmoid=True),
        _legacy_data(),
        (
            _reg("reg-anchor", "anchor", layer="pre", direction=RED4, labels=("red",)),
            _reg("reg-separate", "separate", layer="pre", power=10.0, shift=False),
            _reg("reg-planar", "subspace", layer="pre", dims=(0, 1), labels=("vibrant",)),
            _reg("reg-unit-v", "unitarity", layer="pre", labels=("vibrant",)),
            _reg("reg-unit", "unitarity", layer="pre"),
        ),
        "2.2.csv",
        (SOFT_SUPPRESSION, SOFT_REPULSION),
        score="suppression",
        loss_grid="legacy",
        latent_dims=((1, 0, 2), (1, 3, 0)),
        fixed_weights=(("reg-planar", 1.0),),
        unused_columns=("reg-polar",),
        notes="No bottleneck normalisation, sigmoid output. The schedule has no reg-planar column (the original ran "
        "planarity at weight 1.0 throughout) and an unused reg-polar column.",
    ),
    Experiment(
        "2.3",
        "Explicit normalization",
        ModelConfig(latent=4),
        _legacy_data(),
        (
            _reg("reg-unit", "unitarity", layer="pre"),
            _reg("reg-anchor", "anchor", layer="pre", direction=RED4, labels=("red",)),
            _reg("reg-separate", "separate", layer="pre"),
            _reg("reg-planar", "subspace", layer="pre", dims=(0, 1), labels=("vibrant",)),
        ),
        "2.3.csv",
        (SOFT_SUPPRESSION, SOFT_REPULSION),
        score="suppression",
        loss_grid="legacy",
        notes="The linear-output model (the one the original intervenes on); "
        "its sigmoid twin is ModelConfig(sigmoid=True).",
    ),
    Experiment(
        "2.4",
        "Post-norm regularization",
        ModelConfig(latent=4),
        _legacy_data(),
        _post_norm_set("post"),
        "2.4.csv",
        (SOFT_SUPPRESSION, SOFT_REPULSION),
        score="suppression",
        loss_grid="legacy",
    ),
    Experiment(
        "2.4.1",
        "Soft intervention on red with color wheel",
        ModelConfig(latent=4),
        _redux_data(red=RED, vibrant=Label("vibrancy", 10, 0.01)),
        (
            _reg("separate", "separate"),
            _reg("anchor", "angular-anchor", direction=RED4, labels=("red",), validate=True),
            _reg("subspace", "subspace", dims=(0, 1), labels=("vibrant",), validate=True),
        ),
        "2.4.1.csv",
        (
            _hard_suppression(RED4),
            Variant("repulsion", Repulsion(RED4, LinearMapper(COS90, COS89))),
            Variant("ablated", surgery=("ablate", (0,))),
        ),
        score="suppression",
        minimize=("val_recon", "val_anchor"),
        seeds=SIXTY,
        latent_dims=((1, 0, 2), (1, 3, 0)),
    ),
    Experiment(
        "2.5",
        "Only one anchor",
        ModelConfig(latent=4),
        _legacy_data(),
        (
            _reg("reg-unit", "unitarity", layer="pre"),
            _reg("reg-anchor", "anchor", direction=RED4, labels=("red",)),
            _reg("reg-separate", "separate"),
        ),
        "2.5.csv",
        (SOFT_SUPPRESSION, SOFT_REPULSION),
        score="suppression",
        loss_grid="legacy",
    ),
    Experiment(
        "2.5.1",
        "Only one anchor (redux)",
        ModelConfig(latent=4),
        _redux_data(),
        (
            _reg("separate", "separate"),
            _reg("anchor", "angular-anchor", direction=RED4, labels=("red",), validate=True),
        ),
        "2.5.1.csv",
        (_hard_suppression(RED4), Variant("ablated", surgery=("ablate", (0,)), power=3.0)),
        score="suppression",
        minimize=("val_recon", "val_anchor"),
        seeds=SIXTY,
        latent_dims=((2, 0, 1), (1, 2, 0)),
        notes="No unitarity term, although the original notebook's prose lists one.",
    ),
    Experiment(
        "2.6",
        "Delete warm/cool axis",
        ModelConfig(latent=4),
        _legacy_data(),
        _post_norm_set("post"),
        "2.6.csv",
        (Variant("ablated", surgery=("ablate", (0,))), Variant("pruned", surgery=("prune", (0,)))),
        score="ablated",
        loss_grid="legacy",
    ),
    Experiment(
        "2.7",
        "Delete hue subspace",
        ModelConfig(latent=4),
        _legacy_data(),
        _post_norm_set("post"),
        "2.7.csv",
        (Variant("ablated", surgery=("ablate", (0, 1)), metric="vibrancy", power=2.3),),
        score="ablated",
        loss_grid="legacy",
    ),
    Experiment(
        "2.7.1",
        "Delete hue subspace (redux)",
        ModelConfig(latent=4),
        DataConfig(
            labels={"vibrant": Label("vibrancy", 8, 0.008)}, val_labels={"vibrant": Label("vibrancy", exact=True)}
        ),
        (
            _reg("separate", "separate"),
            _reg("subspace", "subspace", dims=(0, 1), labels=("vibrant",), validate=True),
        ),
        "2.7.1.csv",
        (
            Variant("ablated", surgery=("ablate", (0, 1)), metric="vibrancy", power=2.3),
            Variant("pruned", surgery=("prune", (0, 1)), metric="vibrancy", power=2.3),
            Variant("suppression", AxisSuppression((0, 1)), metric="vibrancy", power=2.0),
        ),
        score="ablated",
        minimize=("val_recon", "val_subspace"),
        seeds=SIXTY,
        latent_dims=((0, 1, 2), (2, 3, 0)),
        notes="No anchor and no unitarity, although the original notebook's prose lists them.",
    ),
    Experiment(
        "2.8",
        "Delete only red (fails)",
        ModelConfig(latent=4),
        _legacy_data("desaturated"),
        (
            _reg("reg-unit", "unitarity", layer="pre"),
            _reg("reg-anchor", "angular-anchor", direction=RED4, labels=("red",)),
            _reg("reg-separate", "separate"),
            _reg("reg-anti-anchor", "anti-anchor", direction=tuple(-v for v in RED4)),
        ),
        "2.8.csv",
        (Variant("ablated", surgery=("ablate", (0,)), power=3.0),),
        score="ablated",
        loss_grid="legacy",
    ),
    Experiment(
        "2.9",
        "Delete only red with extra nonlinearity",
        ModelConfig(latent=5, depth=2),
        _legacy_data("desaturated"),
        (
            _reg("reg-unit", "unitarity", layer="pre"),
            _reg("reg-anchor", "angular-anchor", direction=RED5, labels=("red",)),
            _reg("reg-separate", "separate"),
            _reg("reg-planar-d", "subspace", dims=(2, 3, 4), labels=("desaturated",)),
            _reg("reg-anti-anchor", "anti-anchor", direction=tuple(-v for v in RED5)),
        ),
        "2.9.csv",
        (Variant("ablated", surgery=("ablate", (0,)), power=3.0),),
        score="ablated",
        loss_grid="legacy",
        latent_dims=((1, 0, 2), (2, 0, 1)),
        unused_columns=("reg-planar-v",),
        notes="The schedule's reg-planar-v column matches no regularizer; the original ignored it.",
    ),
    Experiment(
        "2.9.1",
        "Delete only red with two repulsive regularizers",
        ModelConfig(latent=5, depth=2),
        _redux_data(),
        (
            _reg("separate", "separate"),
            _reg("anchor", "angular-anchor", direction=RED5, labels=("red",), validate=True),
            _reg("anti-anchor", "anti-anchor", direction=tuple(-v for v in RED5), validate=True),
            _reg("anti-subspace", "subspace", dims=(0,), invert=True),
        ),
        "2.9.1.csv",
        (
            Variant("ablated", surgery=("ablate", (0,)), power=3.0),
            Variant("pruned", surgery=("prune", (0,)), power=3.0),
            _hard_suppression(RED5),
        ),
        score="ablated",
        minimize=("val_recon", "val_anchor", "val_anti-anchor"),
        seeds=SIXTY,
        latent_dims=((3, 0, 1), (1, 2, 0)),
        notes="Keeps the anti-anchor and has no unitarity, whatever the original prose says; hidden width 16.",
    ),
    Experiment(
        "2.10",
        "Delete only red without the desaturated label",
        ModelConfig(latent=5, depth=2),
        DataConfig(
            labels={"red": RED},
            val_labels={"red": RED_EXACT},
            subdivisions=10,
            val_grid="rgb",
            val_subdivisions=4,
            val_batch_size=1,
        ),
        (
            _reg("reg-separate", "separate"),
            _reg("reg-anchor", "angular-anchor", direction=RED5, labels=("red",), validate=True),
            _reg("reg-anti-subspace", "subspace", dims=(0,), invert=True),
        ),
        "2.10.csv",
        (Variant("ablated", surgery=("ablate", (0,)), power=3.0),),
        score="ablated",
        loss_grid="legacy-half",
        minimize=("val_recon", "val_reg-anchor"),
        latent_dims=((1, 0, 2), (2, 0, 1)),
        val_every=160,
        notes="Validates every 10 epochs of 16 batches.",
    ),
    Experiment(
        "2.10.1",
        "Delete only red without the desaturated label (redux)",
        ModelConfig(latent=5, depth=2),
        _redux_data(),
        (
            _reg("separate", "separate"),
            _reg("anchor", "angular-anchor", direction=RED5, labels=("red",), validate=True),
            _reg("anti-subspace", "subspace", dims=(0,), invert=True),
        ),
        "2.10.1.csv",
        (
            Variant("ablated", surgery=("ablate", (0,)), power=3.0),
            Variant("pruned", surgery=("prune", (0,)), power=3.0),
            _hard_suppression(RED5),
        ),
        score="ablated",
        minimize=("val_recon", "val_anchor"),
        seeds=SIXTY,
        latent_dims=((3, 0, 1), (3, 2, 4)),
    ),
]


def _sigmoid_twin(base: Experiment) -> Experiment:
    """2.3's second hypothesis: the same experiment with a sigmoid output, trained on the same draws."""
    return replace(
        base,
        name=f"{base.name}-sigmoid",
        title=f"{base.title} (sigmoid output)",
        model=replace(base.model, sigmoid=True),
        notes="2.3's twin with a sigmoid output (the original trained both).",
    )


_EXPERIMENTS.insert(2, _sigmoid_twin(_EXPERIMENTS[1]))
EXPERIMENTS: dict[str, Experiment] = {e.name: e for e in _EXPERIMENTS}
# The old notebooks' single-seed experiments (2.2-2.10) and the five sixty-seed redux sweeps.
OLD = tuple(name for name in EXPERIMENTS if name.count(".") == 1)
SWEEPS = tuple(name for name in EXPERIMENTS if name.count(".") == 2)


def get(name: str) -> Experiment:
    """The experiment called `name` (e.g. "2.4.1"); an unknown name lists the known ones."""
    try:
        return EXPERIMENTS[name]
    except KeyError:
        raise KeyError(f"unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)}") from None
