"""The statistics the book states beyond the claims registry, each as a DataFrame the report only formats:
what red decodes to, the road from 2.2 to 2.10.1, and the answers of the three studies beyond the paper.

Each function states its rule in its docstring; the report turns its rows into sentences and tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from . import colors, experiments, population, reference, rules, studies
from .claim import VARIANT_WORDS
from .evaluate import predictor
from .results import load

GREY, BLACK, RED = np.full(3, 0.5), np.zeros(3), np.array([1.0, 0.0, 0.0])


def red_decoding() -> pd.DataFrame:
    """Per sweep and variant: what pure red decodes to on the selected model (RGB and its MSE from red), and over
    the seeds the share whose decoded red is perceptually (CIEDE2000) nearer mid-grey than black, with the median
    ΔE to each. Mid-grey is 1/4 from red in MSE, black 1/3 like a uniformly random colour's expectation."""
    rows = []
    for name in experiments.SWEEPS:
        r = load(name)
        for variant in r.experiment.variants:
            decoded = r.population.xs(variant.name, level="variant")[["red_r", "red_g", "red_b"]].to_numpy()
            to_grey = population.delta_e(np.broadcast_to(GREY, decoded.shape), decoded)
            to_black = population.delta_e(np.broadcast_to(BLACK, decoded.shape), decoded)
            chosen = decoded[r.train.seeds.index(r.selected_seed)]
            rows.append(
                {
                    "experiment": name,
                    "variant": variant.name,
                    "selected_rgb": tuple(chosen),
                    "selected_mse": float(((chosen - RED) ** 2).mean()),
                    "nearer_grey": float((to_grey < to_black).mean()),
                    "median_de_grey": float(np.median(to_grey)),
                    "median_de_black": float(np.median(to_black)),
                }
            )
    return pd.DataFrame(rows)


def black_error() -> float:
    """Black's MSE from pure red (1/3, the same as a uniformly random colour's expected error)."""
    return float(((RED - BLACK) ** 2).mean())


def published_mean_score(design: str) -> float:
    return reference.SWEEP_STATS[design]["score"][2]


def label_budget(df: pd.DataFrame) -> pd.DataFrame:
    """Per design, for the red-label cells of the label-budget study: the score and geometry with no labels, and
    the smallest budget (factor of the paper's) at which the median seed reaches the published 60-seed mean score,
    with its realised labels per run (NaN where no budget does)."""
    rows = []
    for design in studies.DESIGNS:
        sub = df[(df["experiment"] == design) & (df["label"] == "red")]
        med = sub.groupby("factor").agg(
            score=("score", "median"), labels=("labels", "mean"), geometry=("geometry_right", "mean")
        )
        target = published_mean_score(design)
        enough = med[med["score"] >= target]
        smallest = enough.index.min() if len(enough) else np.nan
        rows.append(
            {
                "design": design,
                "target": target,
                "control_score": med.loc[0.0, "score"],
                "control_geometry": med.loc[0.0, "geometry"],
                "smallest_factor": smallest,
                "smallest_labels": enough.loc[smallest, "labels"] if len(enough) else np.nan,
            }
        )
    return pd.DataFrame(rows)


def fixed_weights(df: pd.DataFrame) -> pd.DataFrame:
    """The paper says no fixed-weight configuration worked. Per design and fixed configuration: its median score
    against the keyframed cells' (Mann-Whitney p), and whether it works: its median seed reaches the published
    60-seed mean score. The claim holds for a design if no configuration works."""
    rows = []
    for design in studies.DESIGNS:
        sub = df[df["experiment"] == design]
        keyed = sub.loc[sub["fixed"] == "keyframed", "score"]
        target = published_mean_score(design)
        for how, g in sub[sub["fixed"] != "keyframed"].groupby("fixed", sort=False):
            rows.append(
                {
                    "design": design,
                    "fixed": how,
                    "median": g["score"].median(),
                    "keyframed_median": keyed.median(),
                    "p": stats.mannwhitneyu(g["score"], keyed).pvalue,
                    "target": target,
                    "works": g["score"].median() >= target,
                }
            )
    return pd.DataFrame(rows)


def concept_swap(df: pd.DataFrame) -> pd.DataFrame:
    """Per design: anchoring another concept instead of red, its median score against red's (Mann-Whitney p), the
    concept's median Δ under the design's intervention against red's, and the share of seeds with the concept
    near its anchor against red's."""
    rows = []
    for design in studies.DESIGNS:
        sub = df[df["experiment"] == design]
        red, other = sub[sub["concept"] == "red"], sub[sub["concept"] != "red"]
        rows.append(
            {
                "design": design,
                "concept": other["concept"].iloc[0],
                "score": other["score"].median(),
                "red_score": red["score"].median(),
                "p": stats.mannwhitneyu(other["score"], red["score"]).pvalue,
                "delta": other["concept_delta"].median(),
                "red_delta": red["concept_delta"].median(),
                "geometry": other["geometry_right"].mean(),
                "red_geometry": red["geometry_right"].mean(),
            }
        )
    return pd.DataFrame(rows)


def chapter_variant(name: str) -> str:
    """The intervention a chapter is about: a sweep's scored variant; an old notebook's suppression, or its surgery."""
    exp = experiments.get(name)
    if name in experiments.SWEEPS:
        return exp.score
    names = [v.name for v in exp.variants]
    return "suppression" if "suppression" in names else "ablated" if "ablated" in names else "baseline"


def off_target_colours() -> list[str]:
    """The named colours with zero similarity to red (hue a quarter turn or more away, and the greys)."""
    named = colors.named_colors()
    sim = predictor(np.array(named["rgb"].tolist()), "similarity", 1.0)
    return [n for n, s in zip(named["name"], sim) if s == 0]


def road() -> pd.DataFrame:
    """The road from 2.2 to 2.10.1, one row per experiment and seed, in book order: red's change in error under
    the chapter's intervention, and the largest change of any colour with no similarity to red (the worst
    off-target damage)."""
    off = [f"dmse:{n}" for n in off_target_colours()]
    frames = []
    for name in experiments.EXPERIMENTS:
        variant = chapter_variant(name)
        if variant == "baseline":
            continue
        pop = load(name).population.xs(variant, level="variant")
        frames.append(
            pd.DataFrame(
                {
                    "experiment": name,
                    "variant": variant,
                    "seed": pop.index,
                    "red": pop["dmse:red"].to_numpy(),
                    "off_target": pop[off].max(axis=1).to_numpy(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


# Each redux sweep against the old notebook it re-ran: the variant both share and the measures compared.
REDUX = {
    "2.4.1": ("2.4", "suppression", ("r2", "dmse:red")),
    "2.5.1": ("2.5", "suppression", ("r2", "dmse:red")),
    "2.7.1": ("2.7", "ablated", ("r2", "dmse:cyan")),
    "2.9.1": ("2.9", "ablated", ("r2", "dmse:red")),
    "2.10.1": ("2.10", "ablated", ("r2", "dmse:red")),
}
REDUX_MARGIN = 0.05  # "the same" within this much, in R² and in Δ MSE


def redux_comparison(name: str) -> pd.DataFrame:
    """Does the redux sweep do what its single-seed notebook's design did? Per measure (R² of the variant's error
    against its predictor, and a colour's change), over both experiments' seeds: the medians, their difference with
    a bootstrap interval, Mann-Whitney p, and the verdict of "the same within REDUX_MARGIN" (`rules.compare`). This is
    our question, not a published claim: the notebooks state none beyond re-running the design."""
    old, variant, measures = REDUX[name]
    new_pop, old_pop = (load(n).population.xs(variant, level="variant") for n in (name, old))
    rows = []
    for column in measures:
        a, b = new_pop[column].to_numpy(float), old_pop[column].to_numpy(float)
        j = rules.compare(a, b, "similar", scale="difference", margin=REDUX_MARGIN)
        rows.append(
            {
                "redux": name,
                "notebook": old,
                "variant": variant,
                "measure": column,
                "redux_median": np.median(a),
                "notebook_median": np.median(b),
                "difference": j.effect,
                "lo": j.effect_lo,
                "hi": j.effect_hi,
                "p": j.p_value,
                "verdict": j.verdict,
                "samples": (a, b),
            }
        )
    return pd.DataFrame(rows)


def road_medians() -> pd.DataFrame:
    """Per experiment of the road, the median seed's red change and worst off-target change, and their ratio
    (`selectivity`: how many times more red moves than the worst unrelated colour)."""
    med = road().groupby("experiment", sort=False)[["red", "off_target"]].median()
    return med.assign(selectivity=med["red"] / med["off_target"].clip(lower=1e-9))


HEADLINE_ROWS = (
    ("2.4.1", "anchored", "suppression"),
    ("2.4.1", "anchored", "ablated"),
    ("2.9.1", "isolated", "ablated"),
    ("2.9.1", "isolated", "suppression"),
)


def headline() -> pd.DataFrame:
    """The paper's Table 1 rows: red's and cyan's change and R² of each selected model, the paper's beside ours, and
    the absolute gaps for red and R²."""
    rows = []
    for name, model, variant in HEADLINE_ROWS:
        r = load(name)
        p_red, p_cyan, _ = reference.HEADLINE[name][variant]
        rows.append(
            {
                "experiment": name,
                "model": model,
                "variant": variant,
                "red_paper": p_red,
                "red_ours": r.delta(variant, "red"),
                "cyan_paper": p_cyan,
                "cyan_ours": r.delta(variant, "cyan"),
                "r2_paper": reference.PAPER_R2[(name, variant)],
                "r2_ours": r.variants[variant].r2,
            }
        )
    df = pd.DataFrame(rows)
    return df.assign(red_gap=(df["red_ours"] - df["red_paper"]).abs(), r2_gap=(df["r2_ours"] - df["r2_paper"]).abs())


def original_stream(name: str) -> pd.DataFrame:
    """A sweep re-trained with the original notebooks' random stream, beside the published numbers: the seed
    statistics, the Pareto front, the selected seed and score, and the selected model's named-colour Δ, with
    the difference of each."""
    p = load(name, "published")
    rows = []
    for metric, published in reference.SWEEP_STATS[name].items():
        for stat, value in zip(("min", "max", "mean", "std"), published):
            rows.append(
                {
                    "what": f"{metric} {stat}",
                    "published": value,
                    "ours": float(p.runs[metric].agg(stat)),
                    "group": "statistic",
                }
            )
    pseed, pscore, pfront = reference.SELECTED[name]
    rows += [
        {"what": "Pareto front size", "published": pfront, "ours": int(p.runs["pareto"].sum()), "group": "selection"},
        {"what": "selected seed", "published": pseed, "ours": p.selected_seed, "group": "selection"},
        {
            "what": "selected score",
            "published": pscore,
            "ours": float(p.runs.loc[p.selected_seed, "score"]),
            "group": "selection",
        },
    ]
    for variant, colours in reference.published_table(name).items():
        rows += [
            {
                "what": f"{VARIANT_WORDS[variant]} Δ {colour}",
                "published": value,
                "ours": p.delta(variant, colour),
                "group": "colour",
            }
            for colour, value in colours.items()
        ]
    df = pd.DataFrame(rows)
    return df.assign(difference=df["ours"] - df["published"])
