"""The studies beyond the paper, formatted for their chapter: each study's cells over seeds (figure and table),
one sentence per study from `analysis`, and the synthesis of the three."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
from IPython.display import Image, Markdown

from . import analysis, figures, results, studies, tables
from .quarto import Table
from .quarto import table as _table

STUDY_GROUP = {"labels": "cell_label", "fixed": "fixed", "concept": "concept"}


@cache
@results.collapse_told_in_text
def study(name: str) -> pd.DataFrame:
    """Every cell of a study on 60 seeds (trained, or loaded from the cache), one row per seed."""
    df = studies.study_table(name)
    mean_labels = df.groupby("cell")["labels"].transform("mean")  # the concept's (red) labels per run
    df["cell_label"] = [
        f"{lab} ×{f:g}" + (f" ({n:.0f})" if lab == concept else "")
        for lab, f, n, concept in zip(df["label"], df["factor"], mean_labels, df["concept"])
    ]
    return df


def study_figure(name: str) -> Image:
    fig = figures.study_boxes(
        study(name), STUDY_GROUP[name], {d: analysis.published_mean_score(d) for d in studies.DESIGNS}
    )
    figures.save(fig, "beyond", f"study-{name}")
    return Image(filename=str(figures.figures_dir() / "beyond" / f"study-{name}.png"))


def study_summary(name: str) -> Table:
    """Per cell: realised labels, and over seeds the median and spread of the score and the concept's Δ, the
    share of seeds with the concept near its anchor, and the share that collapsed. Also written as LaTeX to
    figures/beyond/study-<name>.tex."""
    df = study(name)
    rows = []
    for (design, cell), sub in df.groupby(["experiment", STUDY_GROUP[name]], sort=False):
        q = sub["score"].quantile([0.25, 0.5, 0.75])
        rows.append(
            {
                "design": design,
                "cell": cell,
                "labels per run": sub["labels"].mean(),
                "score median": q[0.5],
                "score IQR": q[0.75] - q[0.25],
                "concept Δ median": sub["concept_delta"].median(),
                "opposite Δ median": sub["opposite_delta"].median(),
                "near anchor (%)": 100 * sub["geometry_right"].mean(),
                "collapsed (%)": 100 * sub["collapsed"].mean(),
            }
        )
    frame = pd.DataFrame(rows)
    formats = {
        "labels per run": "{:.1f}",
        "score median": "{:.3f}",
        "score IQR": "{:.3f}",
        "concept Δ median": "{:.3f}",
        "opposite Δ median": "{:+.3f}",
        "near anchor (%)": "{:.0f}",
        "collapsed (%)": "{:.0f}",
    }
    tables.frame_latex(
        frame, figures.figures_dir() / "beyond" / f"study-{name}.tex", f"Study: {name}", f"tab:study-{name}", formats
    )
    return _table(frame, formats)


def labels_study_sentence() -> Markdown:
    parts = []
    for row in analysis.label_budget(study("labels")).itertuples():
        smallest = (
            f"the smallest budget at which the median seed reaches the published mean score ({row.target:.3f}) is "
            f"×{row.smallest_factor:g} of the paper's, about {row.smallest_labels:.0f} red labels per run"
            if not np.isnan(row.smallest_factor)
            else f"no budget tried brings the median seed to the published mean score ({row.target:.3f})"
        )
        parts.append(
            f"In the {'anchored' if row.design == '2.4.1' else 'isolated'} design ({row.design}), with no labels the "
            f"median score is {row.control_score:.3f} and {row.control_geometry:.0%} of seeds put red within "
            f"{studies.GEOMETRY_DEGREES:g}° of its anchor; {smallest}."
        )
    return Markdown(" ".join(parts))


def fixed_study_sentence() -> Markdown:
    """The paper says no fixed-weight configuration worked; `analysis.fixed_weights` states the rule."""
    df = analysis.fixed_weights(study("fixed"))
    parts = []
    for design, sub in df.groupby("design", sort=False):
        lines = "; ".join(
            f"{row.fixed}: median {row.median:.3f} (Mann-Whitney p = {row.p:.2g} against keyframed)"
            for row in sub.itertuples()
        )
        working = list(sub.loc[sub["works"], "fixed"])
        parts.append(
            f"**{design}**: keyframed median {sub['keyframed_median'].iloc[0]:.3f}; {lines}. Against the published "
            f"mean score {sub['target'].iloc[0]:.3f}, the claim {'does not hold' if working else 'holds'} here"
            + (f" ({', '.join(working)} reach it)." if working else ".")
        )
    return Markdown("\n\n".join(parts))


def concept_study_sentence() -> Markdown:
    return Markdown(
        " ".join(
            f"In {row.design}, anchoring {row.concept} instead of red gives a median score of {row.score:.3f} against "
            f"{row.red_score:.3f} (Mann-Whitney p = {row.p:.2g}), a median Δ for {row.concept} of "
            f"{row.delta:.3f} against "
            f"{row.red_delta:.3f} for red, and {row.geometry:.0%} of seeds with {row.concept} near its anchor against "
            f"{row.red_geometry:.0%} for red."
            for row in analysis.concept_swap(study("concept")).itertuples()
        )
    )


def beyond_synthesis() -> Markdown:
    """The three studies read together, per design: the label budget, whether keyframing is needed, and whether
    another concept anchors as well as red."""
    budget = analysis.label_budget(study("labels")).set_index("design")
    fixed = analysis.fixed_weights(study("fixed"))
    swap = analysis.concept_swap(study("concept")).set_index("design")
    parts = []
    for design in studies.DESIGNS:
        b, c = budget.loc[design], swap.loc[design]
        working = list(fixed.loc[(fixed["design"] == design) & fixed["works"], "fixed"])
        labels = (
            f"about {b['smallest_labels']:.0f} red labels per run (×{b['smallest_factor']:g} of the paper's "
            "budget) bring "
            "the median seed to the published mean score"
            if not np.isnan(b["smallest_factor"])
            else "no label budget tried brings the median seed to the published mean score"
        )
        schedule = (
            f"fixed weights do as well as the keyframed schedule ({', '.join(working)})"
            if working
            else "no fixed-weight configuration reaches it, so the keyframed schedule is needed"
        )
        concept = (
            f"anchoring {c['concept']} instead of red changes the median score by {c['score'] - c['red_score']:+.3f} "
            f"(Mann-Whitney p = {c['p']:.2g})"
        )
        parts.append(f"**{design}**: {labels}; {schedule}; {concept}.")
    return Markdown("\n\n".join(parts))
