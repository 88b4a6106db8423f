"""An experiment chapter's pieces, formatted: its tables (HTML and LaTeX), the figures `sections` places, and its
computed sentences (our numbers beside the published ones, the answer to its question, its verdicts). The numbers
come from the run, `claims`, `rules` and `analysis`; this module lays them out and judges nothing itself.
"""

from __future__ import annotations

import pandas as pd
from IPython.display import Markdown
from matplotlib.figure import Figure

from . import analysis, claims, figures, population, reference, rules, tables
from .claim import VARIANT_WORDS
from .evaluate import ablation_bound, suppression_bound
from .interventions import Suppression
from .quarto import Table
from .quarto import table as _table
from .results import load
from .schedule import load_schedule
from .sweep import RunResult, compare_statistics

# --- the setup of an experiment -----------------------------------------------------------------------


def regularizer_table(r: RunResult) -> Table:
    rows = []
    for reg in r.experiment.regularizers:
        params: dict[str, object] = {"direction": reg.direction or None, "dims": reg.dims or None}
        if reg.kind == "subspace":
            params["penalises"] = "listed dims" if reg.invert else "dims outside the list"
        if reg.kind == "separate":
            params |= {"power": reg.power, "shift": reg.shift}
        rows.append(
            {
                "name": reg.name,
                "kind": reg.kind,
                "layer": f"{reg.layer}-norm",
                "labels": ", ".join(reg.labels) or "all samples",
                "validated": "yes" if reg.validate else "",
                "parameters": "; ".join(f"{k} {v}" for k, v in params.items() if v is not None),
            }
        )
    return _table(pd.DataFrame(rows))


def schedule_table(r: RunResult) -> Table:
    schedule = load_schedule(r.experiment.schedule)
    df = pd.DataFrame([{"step": step, **values} for step, values in schedule.rows])
    return _table(df, {c: "{:g}" for c in df.columns if c != "step"})


# --- the sweep -------------------------------------------------------------------------------------------


def statistics_table(r: RunResult) -> Table:
    df = compare_statistics(r).reset_index()
    return _table(df, {c: "{:.4g}" for c in df.columns if c != "metric"})


def pareto_table(r: RunResult) -> Table:
    df = r.runs[r.runs["pareto"]].drop(columns="pareto").sort_values("score", ascending=False)
    return _table(df, {c: "{:.4g}" for c in df.columns if c != "seed"})


def sweep_sentence(r: RunResult) -> Markdown:
    name, scores = r.experiment.name, r.runs["score"]
    seed, front = r.selected_seed, int(r.runs["pareto"].sum())
    text = (
        f"Over {len(scores)} seeds the score has mean {scores.mean():.3f} ± {scores.std():.3f} "
        f"(min {scores.min():.3f}, max {scores.max():.3f}); {front} runs are on the Pareto front and the "
        f"selected model is seed {seed} (score {scores[seed]:.3f})."
    )
    if r.train.collapsed:
        text += (
            f" Seed(s) {', '.join(map(str, r.train.collapsed))} collapsed: their validation error is at least half "
            "that of a constant colour."
        )
    if name in reference.SWEEP_STATS:
        lo, hi, mean, std = reference.SWEEP_STATS[name]["score"]
        pseed, pscore, pfront = reference.SELECTED[name]
        text += (
            f" The original notebook reports {mean:.3f} ± {std:.3f} (min {lo:.3f}, max {hi:.3f}), "
            f"a front of {pfront} and seed {pseed} (score {pscore:.3f})."
        )
    return Markdown(text)


# --- the selected model --------------------------------------------------------------------------------


def stacked_figure(r: RunResult, variant: str) -> Figure:
    """The paper's results figure for one variant; error axes shared by the variants that share a scale
    (inference-time interventions and the baseline; surgery has its own)."""
    group = [
        v for v in r.variants.values() if (v.variant.surgery is None) == (r.variants[variant].variant.surgery is None)
    ]
    anchor = population.anchor_direction(r.experiment)
    dims = r.experiment.latent_dims
    surgery = r.variants[variant].variant.surgery
    if surgery and surgery[0] == "prune":
        dims = _pruned_dims(dims, surgery[1], r.variants[variant].latents.shape[1])
        anchor = None
    return figures.stacked_figure(r.variants[variant], dims, figures.shared_ymax(group), anchor)


def _pruned_dims(dims, removed, k):
    """Renumber the panel dims of the full model for a pruned one (a removed dim becomes None)."""
    keep = [d for d in range(k + len(removed)) if d not in removed]
    return tuple(tuple(keep.index(d) if d in keep else None for d in triple) for triple in dims)


def similarity_figure(r: RunResult, variant: str) -> Figure:
    return figures.error_vs_predictor(r.variants[variant])


def color_table(r: RunResult) -> Table:
    """Per named colour: baseline MSE, and each variant's MSE and Δ (heat-shaded), HTML and LaTeX from one Styler.
    Also written to figures/<experiment>/table-error-by-colour.tex for papers."""
    name = r.experiment.name
    tables.latex_table(
        r.variants,
        figures.figures_dir() / name / "table-error-by-colour.tex",
        label=f"tab:{name}-error-by-colour",
        caption=f"Change in reconstruction error by colour, experiment {name}, selected seed {r.selected_seed}",
    )
    styler = tables.styled_table(r.variants)
    return Table(styler.to_html(), tables.latex(styler))


def headline_table(r: RunResult) -> Table:
    """Red and cyan Δ and R² per variant: ours, the original's selected model, and the original code
    re-run with another random stream."""
    name = r.experiment.name
    rows = []
    for variant, v in r.variants.items():
        if variant == "baseline":
            continue
        row = {
            "variant": VARIANT_WORDS[variant],
            "red Δ": r.delta(variant, "red"),
            "cyan Δ": r.delta(variant, "cyan"),
            "R²": v.r2,
            "predictor": f"{'sim' if v.variant.metric == 'similarity' else 'vib'}^{v.variant.power:g}",
        }
        for source, data in (("original", reference.HEADLINE), ("re-run", reference.RERUN_HEADLINE)):
            values = data.get(name, {}).get(variant)
            if values:
                row |= {f"{source} red Δ": values[0], f"{source} cyan Δ": values[1], f"{source} R²": values[2]}
        rows.append(row)
    df = pd.DataFrame(rows)
    return _table(df, {c: "{:+.3f}" if "Δ" in c else "{:.2f}" for c in df.columns if c not in ("variant", "predictor")})


# --- the old notebooks' single-seed experiments --------------------------------------------------------


def spread_sentence(r: RunResult) -> Markdown:
    """Where the original's printed max and median errors fall among our seeds."""
    card = claims.judged([c for c in claims.claims_for(r.experiment.name) if c.single_draw])
    parts = [f"{row.statement} at our {rules.ordinal(row.percentile)} percentile" for row in card.itertuples()]
    return Markdown(
        f"The original trained one seed; we train {len(r.runs)}. The figures show our seed {r.selected_seed} "
        "(our random stream differs from the original's, "
        "so it is one draw like the original's, not the same draw). Among our seeds the original's printed numbers "
        "fall as follows: " + "; ".join(parts) + "."
    )


COLUMN_LABEL = {"median_mse": "median colour's error", "max_mse": "maximum error", "r2": "R²"}


def column_label(column: str) -> str:
    kind, _, colour = column.partition(":")
    return (
        {"mse": f"{colour}'s error", "dmse": f"{colour}'s Δ"}.get(kind, COLUMN_LABEL.get(column, column))
        if colour
        else COLUMN_LABEL.get(column, column)
    )


def comparison_claims(r: RunResult) -> list[claims.Claim]:
    return [
        c for c in claims.claims_for(r.experiment.name) if c.kind == "comparison" and c.experiment == r.experiment.name
    ]


def comparison_figure(r: RunResult) -> Figure:
    """This experiment's comparisons, one panel each: the two sets of seeds side by side."""
    panels = []
    for c in comparison_claims(r):
        a, b = c.samples({n: load(n) for n in (c.experiment, c.versus[0])})
        name = lambda exp, variant, column: f"{exp} {VARIANT_WORDS.get(variant, variant)}: {column_label(column)}"
        panels.append(
            {
                "title": c.statement,
                "labels": [name(c.experiment, c.variant, c.column), name(*c.versus)],
                "samples": [a, b],
                "log": c.scale == "ratio",
            }
        )
    return figures.comparisons(panels)


def lead(verdict: str) -> str:
    """A verdict's mark where it may open a paragraph, in bold: a bare `~ ` (marginal) there would make pandoc
    read the paragraph as a definition of the one before it (and lose a figure's caption)."""
    return f"**{rules.VERDICTS[verdict]}**"


def comparisons(r: RunResult) -> Markdown:
    """This experiment's comparisons with the experiments before it (the registry's comparison claims), one
    paragraph each: the claim, the measure, our effect with its interval and test, and the verdict."""
    cs = comparison_claims(r)
    card = claims.judged(cs)
    paragraphs = [
        f"{lead(row.verdict)} *{row.statement}* ({row.sources}; measured as {c.measure}): {row.reason}, so the claim "
        f"**{'is' if row.verdict == 'reproduced' else 'is only marginally' if row.verdict == 'marginal' else 'is not'} "
        f"reproduced**."
        for c, row in zip(cs, card.itertuples())
    ]
    return Markdown("\n\n".join(paragraphs))


# --- claims and verdicts -----------------------------------------------------------------------------------

CARD_COLUMNS = {
    "mark": "verdict",
    "experiments": "experiment",
    "statement": "claim",
    "sources": "published by",
    "published": "published",
    "ours": "ours",
    "percentile": "pct.",
    "p_value": "p",
    "kind": "kind",
}
CARD_TEXT = ("experiment", "claim", "published by", "kind")  # left-aligned in HTML
CARD_FORMATS = {"published": "{:.3g}", "ours": "{:.3g}", "pct.": "{:.0f}", "p": "{:.2g}"}
STREAM_COLUMNS = {
    "ours_published_stream": "ours, original's stream",
    "mark_published_stream": "verdict, original's stream",
}


def card_table(card: pd.DataFrame, extra: dict[str, str] | None = None) -> Table:
    columns = CARD_COLUMNS | (extra or {})
    formats = CARD_FORMATS | {v: "{:.3g}" for k, v in (extra or {}).items() if k.startswith("ours")}
    return _table(
        card.reset_index(drop=True)[list(columns)].rename(columns=columns), formats, left=CARD_TEXT, wide=("claim",)
    )


def claims_table(r: RunResult) -> Table:
    """This experiment's claims: what is claimed and by whom, the published value and ours, the rule's percentile
    or p-value, and the verdict (the reasons are in the conclusion and figures/scorecard.csv)."""
    return card_table(claims.judged(claims.claims_for(r.experiment.name)))


VERDICT_PHRASE = {
    "reproduced": "holds over our seeds",
    "marginal": "holds only in part over our seeds",
    "not reproduced": "does not hold over our seeds",
}


def conclusion(r: RunResult) -> Markdown:
    """The chapter's conclusion: first the answer to its question (its comparisons with the experiments before it,
    each with its verdict), then how the published numbers fare, with every exception and its reason."""
    return Markdown(_conclusion_text(claims.judged(claims.claims_for(r.experiment.name)), r.experiment.name))


def _conclusion_text(card: pd.DataFrame, experiment: str) -> str:
    own = card[(card["kind"] == "comparison") & (card["experiment"] == experiment)]
    answer = " ".join(
        f"{row.mark} The original's conclusion that {row.statement} {VERDICT_PHRASE[row.verdict]}."
        for row in own.itertuples()
    )
    return (f"**The answer.** {answer}\n\n**Against the published numbers.** " if answer else "") + _verdict_text(card)


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _verdict_text(card: pd.DataFrame) -> str:
    counts = claims.summary(card)
    checks = card[~card["evidence"]]
    text = (
        f"Of {_plural(int(card['evidence'].sum()), 'distinct measurement', 'distinct measurements')} checked here, "
        f"{counts['reproduced']} reproduce, {counts['marginal']} {'is' if counts['marginal'] == 1 else 'are'} "
        "marginal and "
        f"{counts['not reproduced']} {'does' if counts['not reproduced'] == 1 else 'do'} not reproduce."
    )
    if len(checks):
        held = int((checks["verdict"] == "reproduced").sum())
        text += (
            f" Besides these, {held} of {_plural(len(checks), 'sanity check', 'sanity checks')} by construction "
            f"{'holds' if len(checks) == 1 else 'hold'} "
            "(results the method guarantees once a simpler fact holds; not counted as evidence)."
        )
    misses = card[card["verdict"] != "reproduced"]
    if len(misses):
        text += " The exceptions:\n\n" + "\n".join(
            f"- {row.mark} {row.experiments}: *{row.statement}* ({row.sources}): {row.reason}."
            for row in misses.itertuples()
        )
    return text


def redux_figure(r: RunResult) -> Figure:
    """The sweep beside the single-seed notebook whose design it re-ran: each measure over both experiments' seeds."""
    df = analysis.redux_comparison(r.experiment.name)
    panels = [
        {
            "title": f"{column_label(row.measure)} {claims.VARIANT_PHRASE[row.variant]}",
            "labels": [f"{row.redux} ({len(row.samples[0])} seeds)", f"{row.notebook} ({len(row.samples[1])} seeds)"],
            "samples": list(row.samples),
            "log": False,
        }
        for row in df.itertuples()
    ]
    return figures.comparisons(panels)


def redux_sentence(r: RunResult) -> Markdown:
    """Whether the sweep does what its notebook's design did, measure by measure."""
    df = analysis.redux_comparison(r.experiment.name)
    said = {
        "reproduced": "the same",
        "marginal": "about the same (the interval reaches past the margin)",
        "not reproduced": "not the same",
    }
    parts = [
        f"{lead(row.verdict)} {column_label(row.measure)} {claims.VARIANT_PHRASE[row.variant]}: "
        f"median {row.redux_median:.3g} "
        f"here against {row.notebook_median:.3g} in {row.notebook} (difference {row.difference:+.3g}, 95% interval "
        f"{row.lo:+.3g} to {row.hi:+.3g}; Mann-Whitney p = {row.p:.2g}), {said[row.verdict]} within "
        f"±{analysis.REDUX_MARGIN:g}"
        for row in df.itertuples()
    ]
    return Markdown(
        "; ".join(parts) + f". The margin, ±{analysis.REDUX_MARGIN:g}, is ours: the notebooks state no conclusion "
        "beyond re-running the design, so this asks whether the sweep is the same design in effect."
    )


def original_stream_table(r: RunResult) -> Table:
    """The experiment re-trained with the original notebooks' random stream, beside the published numbers
    (`analysis.original_stream`)."""
    df = analysis.original_stream(r.experiment.name)
    table = _table(df.drop(columns="group"), {"published": "{:.6g}", "ours": "{:.6g}", "difference": "{:+.2g}"})
    table.frame = df
    return table


def original_stream_sentence(table: Table, r: RunResult) -> Markdown:
    """The largest differences from the published numbers under the original's stream, and the Pareto front."""
    df, name = table.frame, r.experiment.name
    p = load(name, "published")
    colours, stats = df[df["group"] == "colour"], df[df["group"] == "statistic"]
    worst_c = colours.loc[colours["difference"].abs().idxmax()] if len(colours) else None
    worst_s = stats.loc[stats["difference"].abs().idxmax()]
    front = p.runs[p.runs["pareto"]].sort_values("score", ascending=False)
    top = ", ".join(f"{int(s)} ({v:.4f})" for s, v in front["score"].head(5).items())
    published_top = ", ".join(f"{s} ({v:.4f})" for s, v in reference.PARETO_TOP[name])
    text = (
        f"With the original's random stream our trainer selects seed {p.selected_seed} "
        f"(published: seed {reference.SELECTED[name][0]}); its Pareto front begins {top}, the published one "
        f"{published_top}. The largest difference in a seed statistic is {worst_s['difference']:+.2g} "
        f"({worst_s['what']}; the published statistics are printed to four decimals)"
    )
    if worst_c is not None:
        text += (
            f", and in the selected model's named-colour table {worst_c['difference']:+.2g} "
            f"({worst_c['what']}: {worst_c['ours']:.6f} against {worst_c['published']:.6f})"
        )
    return Markdown(text + ".")


def labels_sentence(r: RunResult) -> Markdown:
    """How many samples carried each label, from the run's own counts."""
    steps, batch = r.train.terms["loss"].shape[0], r.experiment.data.batch_size
    parts = [
        f"*{c.removeprefix('labels_')}* on {r.runs[c].mean():.1f} samples per run on average "
        f"({r.runs[c].mean() / (steps * batch):.2%} of the {steps * batch:,} samples drawn)"
        for c in r.runs.columns
        if c.startswith("labels_")
    ]
    return Markdown("Over a run, labels fell " + " and ".join(parts) + ".")


def bounds_sentence(r: RunResult) -> Markdown:
    """Red's error under suppression and surgery against the paper's analytic reference values:
    1/4 if suppressed red decodes to mid-grey, 1/3 if ablated red decodes to a random colour."""
    parts = []
    for variant, v in r.variants.items():
        if isinstance(v.variant.intervention, Suppression):
            bound, label = suppression_bound(), "1/4"
        elif v.variant.surgery:
            bound, label = ablation_bound(), "1/3"
        else:
            continue
        parts.append(
            f"{VARIANT_WORDS[variant]} raises red's error by {r.delta(variant, 'red'):.3f} "
            f"(reference value {label} = {bound:.3f})"
        )
    return Markdown(
        (
            "The paper explains red's error with two reference values: 1/4 if suppressed red decodes to mid-grey, "
            "1/3 if ablated red decodes to a random colour. For the selected model, " + "; ".join(parts) + "."
        )
        if parts
        else ""
    )
