"""The sections every experiment chapter has, one call each: its design, its training run, the selection over seeds,
its variants, its comparisons, and its verdicts. Each returns Quarto Markdown (`quarto.Block`; the cell carries
`#| output: asis`) whose figure and table labels, captions and alt texts are computed here from the run, so no
chapter types a caption another chapter repeats.

Labels are `fig-<chapter>-<what>` and `tbl-<chapter>-<what>`, <chapter> being the chapter's file name (CHAPTERS).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import analysis, claims, datapackage, experiments, figures, interactive, population, reference, report, tables
from .claim import VARIANT_WORDS
from .quarto import Block, callout, figure, float_table, html_only, join, relative, text
from .schedule import load_schedule
from .sweep import RunResult, VariantResult

CHAPTERS = {
    "2.2": "unnormalised",
    "2.3": "explicit-normalisation",
    "2.3-sigmoid": "explicit-normalisation-sigmoid",
    "2.4": "post-norm",
    "2.4.1": "anchored",
    "2.5": "one-anchor-old",
    "2.5.1": "single-anchor",
    "2.6": "delete-warm-cool",
    "2.7": "delete-hue-old",
    "2.7.1": "hue-subspace",
    "2.8": "delete-red-fails",
    "2.9": "delete-red-5d",
    "2.9.1": "isolated",
    "2.10": "delete-red-labels",
    "2.10.1": "isolated-red-only",
}


def _prefix(r: RunResult) -> str:
    return CHAPTERS[r.experiment.name]


def _shown(r: RunResult) -> str:
    """How the chapter names the model it draws: a sweep's selected seed, or an old notebook's shown seed."""
    return f"{'the selected' if r.experiment.name in experiments.SWEEPS else 'our'} seed {r.selected_seed}"


def _listing(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# --- the data behind the chapter ------------------------------------------------------------------------------


def data(r: RunResult) -> Block:
    """Write the chapter's numbers as CSV beside its figures and link them: every seed's training results, every
    seed under every variant (what the claims are judged on), and the shown model's named-colour table; each file
    names its experiment (and the one model's seed), and `datapackage.json` says what every column holds."""
    name = r.experiment.name
    folder = figures.figures_dir() / name
    named = tables.error_table(r.variants).drop(columns="hsv")
    rgb = np.array(named.pop("rgb").tolist(), dtype=float)
    named = pd.concat([named[["name"]], pd.DataFrame(rgb, columns=["r", "g", "b"]), named.drop(columns="name")], axis=1)
    files = {
        "seeds.csv": ("every seed's score, validation losses and labels", datapackage.shaped(r.runs, name)),
        "seeds-by-variant.csv": ("every seed under every variant", datapackage.shaped(r.population, name)),
        "named-colours.csv": (
            f"the named colours' errors, {_shown(r)}",
            datapackage.shaped(named, name, seed=r.selected_seed),
        ),
    }
    package = datapackage.write(folder, name, r.experiment.title, files)
    links = [f"[{what}]({relative(folder / file)})" for file, (what, _) in files.items()]
    return text(
        f"*The numbers behind this chapter, as CSV:* {'; '.join(links)} "
        f"([what each column holds, and its unit]({relative(package)}))."
    )


# --- the design ----------------------------------------------------------------------------------------------


def _schedule_alt(r: RunResult) -> str:
    schedule = load_schedule(r.experiment.schedule)
    steps = np.arange(schedule.length)
    parts = []
    for name in (n for n in schedule.tracks if n != "lr"):
        values = schedule.values(name)
        on = np.flatnonzero(values > 0)
        parts.append(
            f"{name} peaks at {values.max():.3g}"
            + (f" and is zero from step {on[-1] + 1}" if len(on) and on[-1] + 1 < len(steps) else "")
        )
    lr = schedule.values("lr")
    return (
        f"Line chart over {schedule.length} steps of each regularizer's weight ({'; '.join(parts)}) above the learning "
        f"rate, which runs from {lr.min():.3g} to {lr.max():.3g}."
    )


def design(r: RunResult) -> Block:
    """The regularizers, the schedule's keyframes, and the schedule drawn."""
    p, name = _prefix(r), r.experiment.name
    schedule = load_schedule(r.experiment.schedule)
    layers = sorted({f"{reg.layer}-norm" for reg in r.experiment.regularizers})
    return join(
        float_table(
            report.regularizer_table(r),
            f"tbl-{p}-regularizers",
            f"The {len(r.experiment.regularizers)} regularizers of experiment {name}, acting on the "
            f"{' and '.join(layers)} latent.",
        ),
        float_table(
            report.schedule_table(r),
            f"tbl-{p}-schedule",
            f"The {len(schedule.rows)} keyframes of {name}'s {schedule.length}-step schedule (blank: no key; a column "
            "holds its first value until its first key).",
        ),
        figure(
            figures.schedule_figure(schedule),
            name,
            "schedule",
            f"fig-{p}-schedule",
            f"{name}: regularizer weights (top) and learning rate (bottom) over the {schedule.length} steps; "
            "circles are "
            "keyframes.",
            _schedule_alt(r),
        ),
    )


# --- the training run and the seeds ------------------------------------------------------------------------


def training(r: RunResult) -> Block:
    """A sentence, and the shown seed's loss terms and label counts."""
    p, t = _prefix(r), r.train
    i = t.seeds.index(r.selected_seed)
    terms = [n for n in t.terms if n != "loss"]
    labels = [f"{n} {int(s[:, i].sum())}" for n, s in t.label_steps.items()]
    alt = (
        f"Log-scale curves of the loss terms ({', '.join(terms)}) over {len(t.terms['loss'])} steps, the "
        "reconstruction "
        f"term ending at {t.terms['recon'][-1, i]:.2g}, beside the cumulative labels seen"
        + (f" ({', '.join(labels)})." if labels else ".")
    )
    return join(
        text(f"@fig-{p}-training shows how {_shown(r)} trained: each loss term, and the labels it saw."),
        figure(
            figures.training_curves(t, r.selected_seed),
            r.experiment.name,
            "training-curves",
            f"fig-{p}-training",
            f"{r.experiment.name}, {_shown(r)}: each loss term (unweighted, log scale; "
            "labelled terms appear only on batches that drew a label) and the labels it saw.",
            alt,
        ),
    )


def selection(r: RunResult) -> Block:
    """The sweep over seeds: the score and validation losses, their statistics beside the original's, the front,
    and the selected seed's training run."""
    p, name, runs = _prefix(r), r.experiment.name, r.runs
    metrics = ["score"] + [c for c in runs.columns if c.startswith("val_")]
    alt = (
        f"{len(metrics)} horizontal box plots over the {len(runs)} seeds ({', '.join(metrics)}), each seed a dot; the "
        f"selected seed {r.selected_seed} (score {runs.loc[r.selected_seed, 'score']:.3f}) is a diamond"
        + (
            "; grey bands mark the original notebook's mean ± one standard deviation."
            if name in reference.SWEEP_STATS
            else "."
        )
    )
    return join(
        report_block(report.sweep_sentence(r)),
        figure(
            figures.seed_distributions(r),
            name,
            "seed-distributions",
            f"fig-{p}-seeds",
            f"{name}: score and validation losses over the {len(runs)} seeds; the diamond is the selected "
            "seed, the grey "
            "band the original notebook's mean ± one standard deviation.",
            alt,
        ),
        float_table(
            report.statistics_table(r),
            f"tbl-{p}-statistics",
            f"{name}'s distribution over seeds: ours, the original notebook's, and for the score the original code "
            "re-run with another random stream.",
        ),
        float_table(
            report.pareto_table(r),
            f"tbl-{p}-pareto",
            f"The {int(runs['pareto'].sum())} runs of {name} on the Pareto front (maximise the score, minimise "
            f"{' and '.join(r.experiment.minimize)}).",
        ),
        training(r),
    )


# --- the variants ----------------------------------------------------------------------------------------------


def _variant_name(v: VariantResult) -> str:
    """'Weight ablation of latent dim 0', 'Suppression', …: the variant's words, with the dims a surgery removes."""
    dims = v.variant.surgery[1] if v.variant.surgery else ()
    return VARIANT_WORDS[v.name].capitalize() + (
        f" of latent dim{'s' if len(dims) > 1 else ''} {', '.join(map(str, dims))}" if dims else ""
    )


def _predictor(v: VariantResult) -> str:
    concept = "red" if v.variant.hue == 0 else f"the hue at {360 * v.variant.hue:.0f}°"
    what = f"similarity to {concept}" if v.variant.metric == "similarity" else "vibrancy"
    return f"{what} raised to the power {v.variant.power:g}"


def _stacked_alt(r: RunResult, variant: str) -> str:
    v = r.variants[variant]
    head = (
        f"Latent sphere views of the 20³ RGB grid {claims.VARIANT_PHRASE[variant]}, a strip of reconstructions "
        f"at full saturation, and error against hue"
    )
    if variant == "baseline":
        worst = v.named.idxmax()
        return f"{head}; the worst named colour is {worst}, with error {v.named.max():.2g}."
    delta = (v.named - r.variants["baseline"].named).sort_values(ascending=False)
    top = [f"{c} {d:+.3f}" for c, d in delta.head(3).items()]
    return (
        f"{head}; the named colours whose error rises most are {_listing(top)}, and the median colour's error on the "
        f"loss grid is {v.median_mse:.2g}."
    )


def variants(r: RunResult) -> Block:
    """Every variant of the shown model (stacked figure; error against its predictor), the slices, the colour table."""
    p, name, shown = _prefix(r), r.experiment.name, _shown(r)
    blocks = []
    for variant, v in r.variants.items():
        blocks.append(
            figure(
                report.stacked_figure(r, variant),
                name,
                f"results-{variant}",
                f"fig-{p}-{variant}",
                f"{_variant_name(v)}, {shown}: latents of the 20³ RGB grid (top), reconstructions at full "
                "saturation (middle), error against hue (bottom).",
                _stacked_alt(r, variant),
            )
        )
        if variant != "baseline":
            blocks.append(
                figure(
                    report.similarity_figure(r, variant),
                    name,
                    f"error-vs-predictor-{variant}",
                    f"fig-{p}-{variant}-predictor",
                    f"{_variant_name(v)}: each colour's error against {_predictor(v)}, with r, R² and the fitted line.",
                    f"Scatter of the {len(v.latent_mse)} grid colours' error against {_predictor(v)}, each point "
                    f"in its true colour, with a dashed fitted line: r = {v.r:.2f}, R² = {v.r2:.2f}.",
                )
            )
    hues, sats, values = next(iter(r.variants.values())).slice_recon.shape[:3]
    listed = _listing([_variant_name(v).lower() for v in r.variants.values()])
    blocks.append(
        text(
            f"@fig-{p}-slices sets the variants side by side on a grid of hues, saturations and values, and "
            f"@tbl-{p}-colors gives the error of each named colour."
        )
    )
    blocks.append(
        figure(
            figures.color_slices(*r.variants.values()),
            name,
            "color-slices",
            f"fig-{p}-slices",
            f"{name}, {shown}: reconstructions of the slice grid ({hues} hues, {sats} saturations, {values} "
            "values) under each variant; the inset square is the true colour.",
            f"Rows of colour swatch grids, one row per variant ({listed}) and one panel per saturation, each "
            "swatch a reconstruction with the true colour inset.",
        )
    )
    blocks.append(
        float_table(
            report.color_table(r),
            f"tbl-{p}-colors",
            f"{name}, {shown}: error by named colour, the baseline's MSE and each variant's MSE and change Δ (shaded).",
        )
    )
    if name in experiments.SWEEPS:
        blocks.append(report_block(report.bounds_sentence(r)))
        blocks.append(sphere(r))
    return join(*blocks)


def sphere(r: RunResult) -> Block:
    """The selected model's latent sphere to turn, before and after the intervention that scores the sweep (HTML only;
    the PDF has the static views above)."""
    v, dims = r.variants[r.experiment.score], r.experiment.latent_dims[0]
    anchor = population.anchor_direction(r.experiment)
    fig = interactive.latent_sphere(r.variants["baseline"], v, VARIANT_WORDS[v.name], dims, anchor)
    listed = ", ".join(map(str, dims))
    return html_only(
        f"The sphere below holds the latents of the same {len(v.latents)} grid colours on dims {listed}, each "
        f"point in its true colour{' with the anchor drawn from the origin' if anchor else ''}: drag to turn it, "
        "hover over a point for the nearest named colour and its error, and switch to the latents after "
        f"{VARIANT_WORDS[v.name]} with the buttons.",
        interactive.html(fig, f"sphere-{_prefix(r)}"),
        f"{_variant_name(v)}, {_shown(r)}: the latent sphere to turn (dims {listed}).",
    )


def shown(r: RunResult) -> Block:
    """An old notebook's experiment: where the original's one seed falls among ours, then our shown seed's training
    run and variants."""
    return join(report_block(report.spread_sentence(r)), training(r), variants(r))


# --- comparisons and verdicts ------------------------------------------------------------------------------


def report_block(markdown) -> Block:
    """A sentence of `report` (IPython Markdown) as a block of this section."""
    return text(markdown.data)


def comparisons(r: RunResult) -> Block:
    """The experiment's comparisons with those before it: the seeds side by side, then one paragraph each."""
    cs = report.comparison_claims(r)
    if not cs:
        return Block("")
    subjects = _listing(sorted({f"{c.versus[0]}" for c in cs}))
    return join(
        figure(
            report.comparison_figure(r),
            r.experiment.name,
            "comparisons",
            f"fig-{_prefix(r)}-comparisons",
            f"{r.experiment.name} against {subjects}: each comparison's measure over both sets of seeds.",
            f"{len(cs)} panel{'s' if len(cs) > 1 else ''} of box plots with seeds as dots, {r.experiment.name} beside "
            f"{subjects}: " + "; ".join(c.statement for c in cs) + ".",
        ),
        report_block(report.comparisons(r)),
    )


def redux(r: RunResult) -> Block:
    """A sweep beside the single-seed notebook whose design it re-runs."""
    df = analysis.redux_comparison(r.experiment.name)
    notebook = df["notebook"].iloc[0]
    measures = [f"{report.column_label(m)} {claims.VARIANT_PHRASE[v]}" for m, v in zip(df["measure"], df["variant"])]
    intro = text(
        f"Does the sweep do what {notebook}'s design did? Over both experiments' seeds, {_listing(measures)} "
        f"(@fig-{_prefix(r)}-against-notebook):"
    )
    return join(
        intro,
        figure(
            report.redux_figure(r),
            r.experiment.name,
            "against-notebook",
            f"fig-{_prefix(r)}-against-notebook",
            f"{r.experiment.name} beside {notebook}: {_listing(measures)}, over each experiment's seeds.",
            f"{len(df)} panels of box plots with seeds as dots, {r.experiment.name} above {notebook}: "
            f"{_listing(measures)}.",
        ),
        report_block(report.redux_sentence(r)),
    )


def original_stream(r: RunResult, lead: bool = True) -> Block:
    """The sweep re-trained on the original's random stream, beside the published numbers; `lead` introduces it
    (the 2.4.1 chapter explains the stream in its own words instead)."""
    table, p, name = report.original_stream_table(r), _prefix(r), r.experiment.name
    intro = text(
        f"The same run with the original notebooks' random stream rebuilt from the seed (`python -m sca run {name} "
        f"--stream published`; @sec-anchored explains it) lands as @tbl-{p}-original-stream shows, beside the "
        "published numbers."
    )
    return join(
        *([intro] if lead else []),
        float_table(
            table,
            f"tbl-{p}-original-stream",
            f"{r.experiment.name} on the original notebooks' random stream, beside the published numbers: seed "
            "statistics (published to four decimals), the Pareto front, the selected seed, and the selected "
            "model's change in error by colour.",
        ),
        report_block(report.original_stream_sentence(table, r)),
    )


def verdicts(r: RunResult, conclusion: bool = True) -> Block:
    """The published numbers beside ours (sweeps), every claim judged, and (unless `conclusion` is false) the
    conclusion."""
    p, name = _prefix(r), r.experiment.name
    blocks = []
    if name in reference.HEADLINE:
        blocks.append(
            float_table(
                report.headline_table(r),
                f"tbl-{p}-paper",
                f"{name}'s selected model: red and cyan Δ and R², ours beside the original notebook's "
                "selected model and the original code re-run with another random stream.",
            )
        )
    blocks.append(
        float_table(
            report.claims_table(r),
            f"tbl-{p}-claims",
            f"What was published about {name}, one claim per measurement, judged over our "
            f"{len(r.runs)} seeds: verdict, source, published value, {_shown(r)}'s, its percentile among "
            "our seeds or the rule's p-value, and the kind of rule (the rules are in the scorecard chapter).",
            wide=True,
        )
    )
    if conclusion:
        blocks.append(callout("Conclusion", report.conclusion(r).data))
    return join(*blocks)
