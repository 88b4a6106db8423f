"""A published claim: what it measures, who published it, and the rule (`rules`) that judges it on our runs.

One measurement, one claim: a claim's key names the trained model, the variant and the quantity, so that a
number printed by several sources (the paper and a notebook; 2.4, 2.6 and 2.7, which train one model; pruning,
which equals ablation) is one claim showing every source. Where the sources' values differ beyond the coarser
one's printed precision, the paper's value decides; where they agree, the more precise one does.

The kinds, each judged like with like (`KINDS` says how):
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cache

import numpy as np

from . import experiments, rules
from .cache import run_key
from .population import GEOMETRY_DEGREES, JND, values
from .stream import TorchStream
from .sweep import RunResult

KINDS = {
    "selected": "a number published for one model (a sweep's selected model, or the one seed an old notebook trained), "
    f"placed among our seeds: reproduced if it overlaps their {rules.ordinal(rules.SPREAD[0])}-"
    f"{rules.ordinal(rules.SPREAD[1])} percentile window or matches our model",
    "bound": "an analytic reference value for red's error, judged as a selected-model number",
    "zero": "a number printed as zero: the median seed's |value| and our model's within the printed precision",
    "untouched": "a colour said to be untouched: its perceptual change (CIEDE2000 ΔE) within one just-noticeable "
    "difference on the median seed and our model",
    "damaged": "a colour said to be damaged (or darker, or brighter): its ΔE (or lightness ΔL*) change beyond one "
    "just-noticeable difference on the median seed and our model",
    "mean": "a mean over seeds: Welch's t-test from both sides' mean, standard deviation and count",
    "spread": "a standard deviation over seeds: the F-test of the two variances",
    "extreme": "a minimum or maximum over seeds: a rank test of how many of our seeds lie beyond it",
    "count": "a number of seeds (failed, collapsed, or without the target geometry): Fisher's exact test",
    "construction": "a result the method guarantees once a simpler fact holds, judged as that fact; a sanity check, "
    "not counted as evidence",
    "comparison": "two experiments or variants over their seeds: the ratio or difference of medians with its 95% "
    "interval, and a rank test",
}
__doc__ += "\n".join(f"- **{k}**: {v}." for k, v in KINDS.items())
EVIDENCE = tuple(k for k in KINDS if k != "construction")
RULES = {
    "selected": "percentile window",
    "bound": "percentile window",
    "zero": "median seed and model within precision",
    "untouched": "median seed and model within one JND",
    "damaged": "median seed and model beyond one JND",
    "mean": "Welch t-test",
    "spread": "F-test",
    "extreme": "rank test of the extreme",
    "count": "Fisher exact test",
    "construction": "the guaranteeing fact on model and most seeds",
    "comparison": "effect with bootstrap interval, rank test",
}
VARIANT_WORDS = {
    "baseline": "baseline",
    "suppression": "suppression",
    "repulsion": "repulsion",
    "ablated": "weight ablation",
    "pruned": "pruning",
}
VARIANT_PHRASE = {
    "baseline": "of the baseline",
    "suppression": "under suppression",
    "repulsion": "under repulsion",
    "ablated": "under weight ablation",
    "pruned": "under pruning",
}
SOURCE_PRECISION = 5e-10  # the LaTeX sources and notebook tables print nine decimals
FAILED_SCORE = 0.5  # a seed fails if its intervention's error follows its predictor with R² below this
N_PUBLISHED = 60  # seeds behind every published sweep statistic


@dataclass(frozen=True)
class Source:
    """Who printed it, and what: a value (None for a conclusion in words) and, for a mean, its standard deviation."""

    name: str
    value: float | None = None
    std: float | None = None
    precision: float = 0.0

    @property
    def number(self) -> float:
        """The value, for a claim about a number (a conclusion in words has none)."""
        if self.value is None:
            raise ValueError(f"{self.name} printed no number")
        return self.value

    def __str__(self) -> str:
        if self.value is None:
            return self.name
        return f"{self.name}: {self.value:.6g}" + (f" ± {self.std:.4g}" if self.std is not None else "")


@dataclass(frozen=True)
class Claim:
    key: str  # experiment/variant/quantity of the first experiment that reports it
    experiment: str  # the experiment whose runs judge it
    statement: str
    kind: str  # one of KINDS
    sources: tuple[Source, ...]
    variant: str = ""
    column: str = ""  # population column (mse:, dmse:, dde:, zc:<colour>, r2, max_mse, ...) or runs column
    statistic: str = ""  # mean, std, min, max; count: "failed" or "geometry"
    tolerance: float = 0.0  # zero / untouched / damaged
    versus: tuple[str, ...] = ()  # comparison: (experiment, variant, column) of B
    direction: str = ""  # comparison: less, greater, similar
    factor: float = 1.0
    margin: float = 0.0
    paired: bool = False
    scale: str = "ratio"
    experiments: tuple[str, ...] = ()  # every experiment that reports it (whose chapters show it)
    single_draw: bool = False  # one unselected seed's number (the old notebooks): a draw from our distribution
    sign: float = 1.0  # damaged: -1 where the claim is a decrease (darker)
    measure: str = ""  # comparison: the measure chosen for the original's words, and why
    identity: tuple = field(default=(), compare=False, repr=False)  # what is measured, for merging

    @property
    def deciding(self) -> Source:
        return decide(self.sources)

    @property
    def published(self) -> float | None:
        return self.deciding.value

    @property
    def evidence(self) -> bool:
        return self.kind in EVIDENCE

    def judge(self, results: dict[str, RunResult]) -> rules.Judgement:
        r = results[self.experiment]
        src = self.deciding
        if self.kind == "comparison":
            a, b = self.samples(results)
            return rules.compare(
                a,
                b,
                self.direction,
                self.factor,
                self.paired or self.versus[0] == self.experiment,
                self.scale,
                self.margin,
            )
        if self.kind in ("mean", "spread", "extreme"):
            x = r.runs[self.column]
            if self.column.startswith("val_"):  # collapses are a claim of their own
                x = x[~x.index.isin(r.train.collapsed)]
            x = x.to_numpy(float)
            if self.kind == "mean":
                if src.std is None:
                    raise ValueError(f"{self.key}: a published mean needs its standard deviation ({src})")
                return rules.welch(x, src.number, src.std, N_PUBLISHED, src.precision)
            if self.kind == "spread":
                return rules.f_test(x, src.number, N_PUBLISHED, src.precision)
            return rules.extreme(x, src.number, self.statistic, N_PUBLISHED, src.precision)
        if self.kind == "count":
            if self.statistic == "failed":
                k, what = int((r.runs["score"] < FAILED_SCORE).sum()), f"score below {FAILED_SCORE}"
            elif self.statistic == "collapsed":
                k, what = len(r.train.collapsed), "collapse (validation error at least half a constant colour's)"
            else:
                on = values(r.population, "baseline", "red_on_anchor").astype(bool)
                deg = values(r.population, "baseline", "red_anchor_deg")
                k = int((~on).sum())
                what = (
                    f"have a colour other than red nearest the anchor (pure red lies a median {deg.median():.0f}° from "
                    f"it, beyond {GEOMETRY_DEGREES:g}° on {int((deg > GEOMETRY_DEGREES).sum())} seeds)"
                )
            return rules.count(k, len(r.runs), int(src.number), N_PUBLISHED, what)
        seeds = self.sign * values(r.population, self.variant, self.column)
        ours = float(seeds[r.selected_seed])
        if self.kind in ("selected", "bound"):
            return rules.within_seeds(seeds, ours, src.number, src.precision)
        if self.kind == "zero":
            return rules.central(
                seeds, ours, self.tolerance, "zero", "change" if self.column.startswith("d") else "error"
            )
        if self.kind in ("untouched", "damaged"):
            what = (
                "lightness change ΔL*" + (" (negated: darker)" if self.sign < 0 else "")
                if self.column.startswith("dL:")
                else "ΔE change"
            )
            return rules.central(seeds, ours, JND, "zero" if self.kind == "untouched" else "large", what)
        if self.kind == "construction":
            return rules.construction(seeds, ours, "its latent faces away from the direction acted on")
        raise ValueError(f"{self.key}: unknown kind {self.kind!r}")

    def samples(self, results: dict[str, RunResult]) -> tuple[np.ndarray, np.ndarray]:
        """A comparison's two sets of seeds: this experiment's and the one it is compared with."""
        return (
            _seeds(results[self.experiment], self.variant, self.column),
            _seeds(results[self.versus[0]], *self.versus[1:]),
        )


def _seeds(r: RunResult, variant: str, column: str) -> np.ndarray:
    return (r.runs[column] if variant == "runs" else values(r.population, variant, column)).to_numpy(float)


def decide(sources: tuple[Source, ...]) -> Source:
    """The value that judges: where the numbers agree within the coarser one's precision, the most precise;
    where they differ, the paper's."""
    numbers = [s for s in sources if s.value is not None]
    if not numbers:
        return sources[0]
    coarse = max(s.precision for s in numbers)
    if all(abs(s.number - numbers[0].number) <= coarse for s in numbers):
        return min(numbers, key=lambda s: s.precision)
    return next((s for s in numbers if s.name.startswith("paper")), numbers[0])


# --- what is measured ---------------------------------------------------------------------------------------


@cache
def model_of(name: str) -> str:
    """The first experiment that trains the same model as `name` (2.6 and 2.7 train 2.4's)."""
    key = run_key(experiments.get(name), (0,), TorchStream())
    return next(n for n in experiments.EXPERIMENTS if run_key(experiments.get(n), (0,), TorchStream()) == key)


@cache
def label_stream_of(name: str, label: str) -> str:
    """The first experiment whose `label` counts come from the same draws as `name`'s: the same data config
    (label probabilities) and the same steps at which a regularizer reading that label has a non-zero weight
    (the counts run only then). 2.9.1 and 2.10.1 share theirs."""

    def stream(n: str) -> tuple:
        exp = experiments.get(n)
        _, _, weights = exp.training_schedule()
        on = [weights[r.name] != 0 for r in exp.regularizers if label in r.labels]
        return repr(exp.data), np.any(on, axis=0).tobytes() if on else b""

    return next(
        n for n in experiments.EXPERIMENTS if label in experiments.get(n).data.labels and stream(n) == stream(name)
    )


def variant_identity(name: str, variant: str) -> tuple:
    """What a variant does, with pruning read as ablation of the same dims (it gives the same outputs on every
    seed: tested), so that the two are one measurement."""
    if variant in ("baseline", "runs", ""):
        return (variant,)
    v = experiments.get(name).variant(variant)
    surgery = ("ablate", v.surgery[1]) if v.surgery else None
    return (repr(v.intervention), surgery, v.metric, v.power, v.hue)


def new_claim(exp: str, statement: str, kind: str, source: Source, variant: str = "", column: str = "", **kw) -> Claim:
    quantity = column + (f"/{kw['statistic']}" if kw.get("statistic") else "")
    model = label_stream_of(exp, column.removeprefix("labels_")) if column.startswith("labels_") else model_of(exp)
    identity = kw.pop("identity", None) or (model, variant_identity(exp, variant), quantity)
    return Claim(
        f"{exp}/{variant}/{quantity}" if variant else f"{exp}/{quantity}",
        exp,
        statement,
        kind,
        (source,),
        variant,
        column,
        experiments=(exp,),
        identity=identity,
        **kw,
    )


def merge(claims: list[Claim]) -> list[Claim]:
    """One claim per measurement: every source and experiment of claims with the same identity, the first
    claim's statement; a number decides over words (a conclusion joins the number it describes)."""
    groups: dict[tuple, list[Claim]] = {}
    for c in claims:
        groups.setdefault(c.identity, []).append(c)
    out = []
    for group in groups.values():
        numeric = [c for c in group if any(s.value is not None for s in c.sources)]
        first = (numeric or group)[0]
        sources = tuple(dict.fromkeys(s for c in group for s in c.sources))
        exps = tuple(dict.fromkeys(e for c in group for e in c.experiments))
        out.append(replace(first, sources=sources, experiments=exps))
    return out
