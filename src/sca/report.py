"""What a chapter calls: one short call per figure, table or computed sentence.

Every figure is saved under figures/<experiment>/ (PNG and PDF) and shown from that PNG; tables carry
an HTML and a LaTeX rendering so the book's HTML and PDF each get a real table; sentences are Markdown
with our numbers and the published ones side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np
import pandas as pd
from IPython.display import Image, Markdown

from . import analysis, claims, colors, experiments, figures, population, reference, results, rules, studies, tables
from .evaluate import ablation_bound, suppression_bound
from .interventions import Suppression
from .schedule import load_schedule
from .results import load
from .sweep import RunResult, compare_statistics

VARIANT_LABEL = {"baseline": "baseline", "suppression": "suppression", "repulsion": "repulsion",
                 "ablated": "weight ablation", "pruned": "pruning"}


@dataclass
class Table:
    """A table for both outputs of the book: `html` for the web pages, `latex` for the PDF."""

    html: str
    latex: str
    frame: pd.DataFrame | None = None  # the numbers behind it, for computed prose
    card: pd.DataFrame | None = None  # for the scorecard: the judged claims behind it

    def _repr_html_(self) -> str:
        return self.html

    def _repr_latex_(self) -> str:
        return self.latex


def _table(df: pd.DataFrame, formats: dict[str, str] | None = None, index: bool = False, left: tuple[str, ...] = (),
           wide: tuple[str, ...] = ()) -> Table:
    """An HTML and a LaTeX rendering of df; in HTML the `left` columns left-aligned and the `wide` ones at least
    18em wide (long prose)."""
    html = (df.style.format(formats or {}, na_rep="–")
            .set_properties(subset=[c for c in left if c in df.columns], **{"text-align": "left"})
            .set_properties(subset=[c for c in wide if c in df.columns], **{"min-width": "18em"}))
    latex = tables.latex_styler(df, formats or {})
    if not index:
        html, latex = html.hide(axis="index"), latex.hide(axis="index")
    return Table(html.to_html(), latex.to_latex(hrules=True, convert_css=False), df)


def _show(fig, r: RunResult, name: str) -> Image:
    figures.save(fig, r.experiment.name, name)
    return Image(filename=str(figures.figures_dir() / r.experiment.name / f"{name}.png"))


# --- the setup of an experiment -----------------------------------------------------------------------

def regularizer_table(r: RunResult) -> Table:
    rows = []
    for reg in r.experiment.regularizers:
        params = {"direction": reg.direction or None, "dims": reg.dims or None}
        if reg.kind == "subspace":
            params["penalises"] = "listed dims" if reg.invert else "dims outside the list"
        if reg.kind == "separate":
            params |= {"power": reg.power, "shift": reg.shift}
        rows.append({"name": reg.name, "kind": reg.kind, "layer": f"{reg.layer}-norm",
                     "labels": ", ".join(reg.labels) or "all samples", "validated": "yes" if reg.validate else "",
                     "parameters": "; ".join(f"{k} {v}" for k, v in params.items() if v is not None)})
    return _table(pd.DataFrame(rows))


def schedule_table(r: RunResult) -> Table:
    schedule = load_schedule(r.experiment.schedule)
    df = pd.DataFrame([{"step": step, **values} for step, values in schedule.rows])
    return _table(df, {c: "{:g}" for c in df.columns if c != "step"})


def schedule_figure(r: RunResult) -> Image:
    return _show(figures.schedule_figure(load_schedule(r.experiment.schedule)), r, "schedule")


# --- the sweep -------------------------------------------------------------------------------------------

def seed_figure(r: RunResult) -> Image:
    return _show(figures.seed_distributions(r), r, "seed-distributions")


def training_figure(r: RunResult) -> Image:
    return _show(figures.training_curves(r.train, r.selected_seed), r, "training-curves")


def statistics_table(r: RunResult) -> Table:
    df = compare_statistics(r).reset_index()
    return _table(df, {c: "{:.4g}" for c in df.columns if c != "metric"})


def pareto_table(r: RunResult) -> Table:
    df = r.runs[r.runs["pareto"]].drop(columns="pareto").sort_values("score", ascending=False)
    return _table(df, {c: "{:.4g}" for c in df.columns if c != "seed"})


def sweep_sentence(r: RunResult) -> Markdown:
    name, scores = r.experiment.name, r.runs["score"]
    seed, front = r.selected_seed, int(r.runs["pareto"].sum())
    text = (f"Over {len(scores)} seeds the score has mean {scores.mean():.3f} ± {scores.std():.3f} "
            f"(min {scores.min():.3f}, max {scores.max():.3f}); {front} runs are on the Pareto front and the "
            f"selected model is seed {seed} (score {scores[seed]:.3f}).")
    if r.train.collapsed:
        text += (f" Seed(s) {', '.join(map(str, r.train.collapsed))} collapsed: their validation error is at least half "
                 "that of a constant colour.")
    if name in reference.SWEEP_STATS:
        lo, hi, mean, std = reference.SWEEP_STATS[name]["score"]
        pseed, pscore, pfront = reference.SELECTED[name]
        text += (f" The original notebook reports {mean:.3f} ± {std:.3f} (min {lo:.3f}, max {hi:.3f}), "
                 f"a front of {pfront} and seed {pseed} (score {pscore:.3f}).")
    return Markdown(text)


# --- the selected model --------------------------------------------------------------------------------

def stacked_figure(r: RunResult, variant: str) -> Image:
    """The paper's results figure for one variant; error axes shared by the variants that share a scale
    (inference-time interventions and the baseline; surgery has its own)."""
    group = [v for v in r.variants.values() if (v.variant.surgery is None) == (r.variants[variant].variant.surgery is None)]
    anchor = next((reg.direction for reg in r.experiment.regularizers if reg.kind in ("anchor", "angular-anchor")), None)
    dims = r.experiment.latent_dims
    if r.variants[variant].variant.surgery and r.variants[variant].variant.surgery[0] == "prune":
        dims = _pruned_dims(dims, r.variants[variant].variant.surgery[1], r.variants[variant].latents.shape[1])
        anchor = None
    fig = figures.stacked_figure(r.variants[variant], dims, figures.shared_ymax(group), anchor)
    return _show(fig, r, f"results-{variant}")


def _pruned_dims(dims, removed, k):
    """Renumber the panel dims of the full model for a pruned one (a removed dim becomes None)."""
    keep = [d for d in range(k + len(removed)) if d not in removed]
    return tuple(tuple(keep.index(d) if d in keep else None for d in triple) for triple in dims)


def similarity_figure(r: RunResult, variant: str) -> Image:
    v = r.variants[variant].variant
    kind = "similarity" if v.metric == "similarity" else "vibrancy"
    return _show(figures.error_vs_predictor(r.variants[variant]), r, f"error-vs-{kind}-{variant}")


def slices_figure(r: RunResult) -> Image:
    """Reconstructions of the colour-slice grid under every variant, one row each."""
    return _show(figures.color_slices(*r.variants.values()), r, "color-slices")


def color_table(r: RunResult) -> Table:
    """Per named colour: baseline MSE, and each variant's MSE and Δ (heat-shaded in HTML). Also written
    to figures/<experiment>/table-error-by-colour.tex for papers."""
    name = r.experiment.name
    caption = f"Change in reconstruction error by colour, experiment {name}, selected seed {r.selected_seed}"
    tex = tables.latex_table(r.variants, figures.figures_dir() / name / "table-error-by-colour.tex",
                             caption=caption, label=f"tab:{name}-error-by-colour")
    latex = tex.read_text().replace(r"\begin{table}", "").replace(r"\end{table}", "")
    latex = "\n".join(line for line in latex.splitlines() if not line.strip().startswith((r"\caption", r"\label", r"\centering")))
    return Table(tables.styled_table(r.variants).to_html(), latex)


def headline_table(r: RunResult) -> Table:
    """Red and cyan Δ and R² per variant: ours, the original's selected model, and the original code
    re-run with another random stream."""
    name = r.experiment.name
    rows = []
    for variant, v in r.variants.items():
        if variant == "baseline":
            continue
        row = {"variant": VARIANT_LABEL[variant], "red Δ": r.delta(variant, "red"),
               "cyan Δ": r.delta(variant, "cyan"), "R²": v.r2,
               "predictor": f"{'sim' if v.variant.metric == 'similarity' else 'vib'}^{v.variant.power:g}"}
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
    card = _judged([c for c in claims.claims_for(r.experiment.name) if c.single_draw])
    parts = [f"{row.statement} at our {row.percentile:.0f}th percentile" for row in card.itertuples()]
    return Markdown(f"The original trained one seed; we train {len(r.runs)}. The figures show our seed {r.selected_seed} "
                    "(our random stream differs from the original's, "
                    "so it is one draw like the original's, not the same draw). Among our seeds the original's printed numbers "
                    "fall as follows: " + "; ".join(parts) + ".")


COLUMN_LABEL = {"median_mse": "median colour's error", "max_mse": "maximum error", "r2": "R²"}


def _column_label(column: str) -> str:
    kind, _, colour = column.partition(":")
    return {"mse": f"{colour}'s error", "dmse": f"{colour}'s Δ"}.get(kind, COLUMN_LABEL.get(column, column)) if colour else COLUMN_LABEL.get(column, column)


def _comparison_claims(r: RunResult) -> list[claims.Claim]:
    return [c for c in claims.claims_for(r.experiment.name) if c.kind == "comparison" and c.experiment == r.experiment.name]


def comparison_figure(r: RunResult) -> Image:
    """This experiment's comparisons, one panel each: the two sets of seeds side by side."""
    panels = []
    for c in _comparison_claims(r):
        a, b = c.samples({n: load(n) for n in (c.experiment, c.versus[0])})
        name = lambda exp, variant, column: f"{exp} {VARIANT_LABEL.get(variant, variant)}: {_column_label(column)}"
        panels.append({"title": c.statement, "labels": [name(c.experiment, c.variant, c.column), name(*c.versus)],
                       "samples": [a, b], "log": c.scale == "ratio"})
    return _show(figures.comparisons(panels), r, "comparisons")


def comparisons(r: RunResult) -> Markdown:
    """This experiment's comparisons with the experiments before it (the registry's comparison claims), one
    paragraph each: the claim, the measure, our effect with its interval and test, and the verdict."""
    cs = _comparison_claims(r)
    card = _judged(cs)
    paragraphs = [f"{row.mark} *{row.statement}* ({row.sources}; measured as {c.measure}): {row.reason}, so the claim "
                  f"**{'is' if row.verdict == 'reproduced' else 'is only marginally' if row.verdict == 'marginal' else 'is not'} "
                  f"reproduced**." for c, row in zip(cs, card.itertuples())]
    return Markdown("\n\n".join(paragraphs))


# --- claims and verdicts -----------------------------------------------------------------------------------

CARD_COLUMNS = {"mark": "verdict", "experiments": "experiment", "statement": "claim", "sources": "published by",
                "published": "published", "ours": "ours", "percentile": "pct.", "p_value": "p", "kind": "kind"}
CARD_TEXT = ("experiment", "claim", "published by", "kind")  # left-aligned in HTML
CARD_FORMATS = {"published": "{:.3g}", "ours": "{:.3g}", "pct.": "{:.0f}", "p": "{:.2g}"}
STREAM_COLUMNS = {"ours_published_stream": "ours, original's stream", "mark_published_stream": "verdict, original's stream"}


def _judged(cs: list[claims.Claim], stream: str = "ours") -> pd.DataFrame:
    """The claims judged on the runs they need (loaded or trained once per session)."""
    names = {c.experiment for c in cs} | {c.versus[0] for c in cs if c.versus}
    if stream != "ours":
        names &= set(experiments.SWEEPS)
    return claims.scorecard({n: load(n, stream) for n in names}, cs)


def _card_table(card: pd.DataFrame, extra: dict[str, str] | None = None) -> Table:
    columns = CARD_COLUMNS | (extra or {})
    formats = CARD_FORMATS | {v: "{:.3g}" for k, v in (extra or {}).items() if k.startswith("ours")}
    return _table(card.reset_index(drop=True)[list(columns)].rename(columns=columns), formats, left=CARD_TEXT,
                  wide=("claim",))


def claims_table(r: RunResult) -> Table:
    """This experiment's claims: what is claimed and by whom, the published value and ours, the rule's percentile
    or p-value, and the verdict (the reasons are in the conclusion and figures/scorecard.csv)."""
    return _card_table(_judged(claims.claims_for(r.experiment.name)))


VERDICT_PHRASE = {"reproduced": "holds over our seeds", "marginal": "holds only in part over our seeds",
                  "not reproduced": "does not hold over our seeds"}


def conclusion(r: RunResult) -> Markdown:
    """The chapter's conclusion: first the answer to its question (its comparisons with the experiments before it,
    each with its verdict), then how the published numbers fare, with every exception and its reason."""
    return Markdown(_conclusion_text(_judged(claims.claims_for(r.experiment.name)), r.experiment.name))


def _conclusion_text(card: pd.DataFrame, experiment: str) -> str:
    own = card[(card["kind"] == "comparison") & (card["experiment"] == experiment)]
    answer = " ".join(f"{row.mark} The original's conclusion that {row.statement} {VERDICT_PHRASE[row.verdict]}."
                      for row in own.itertuples())
    return (f"**The answer.** {answer}\n\n**Against the published numbers.** " if answer else "") + _verdict_text(card)


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _verdict_text(card: pd.DataFrame) -> str:
    counts = claims.summary(card)
    checks = card[~card["evidence"]]
    text = (f"Of {_plural(int(card['evidence'].sum()), 'distinct measurement', 'distinct measurements')} checked here, "
            f"{counts['reproduced']} reproduce, {counts['marginal']} {'is' if counts['marginal'] == 1 else 'are'} marginal and "
            f"{counts['not reproduced']} {'does' if counts['not reproduced'] == 1 else 'do'} not reproduce.")
    if len(checks):
        held = int((checks["verdict"] == "reproduced").sum())
        text += (f" Besides these, {held} of {_plural(len(checks), 'sanity check', 'sanity checks')} by construction "
                 f"{'holds' if len(checks) == 1 else 'hold'} "
                 "(results the method guarantees once a simpler fact holds; not counted as evidence).")
    misses = card[card["verdict"] != "reproduced"]
    if len(misses):
        text += " The exceptions:\n\n" + "\n".join(
            f"- {row.mark} {row.experiments}: *{row.statement}* ({row.sources}): {row.reason}." for row in misses.itertuples())
    return text


def rules_sentence() -> Markdown:
    """The verdict rules, from the registry's own descriptions and constants."""
    lo, hi = rules.SPREAD
    kinds = "\n".join(f"- **{kind}**: {text}." for kind, text in claims.KINDS.items())
    return Markdown(
        f"Every rule gives *reproduced*, *marginal* or *not reproduced*. Tests reproduce at p ≥ {rules.P_REPRODUCED} and are "
        f"marginal at p ≥ {rules.P_MARGINAL}; a number for one model is marginal if it lies within our seeds' full range; a "
        f"rule on the median seed and our model is marginal when only one of the two holds. One just-noticeable difference "
        f"is CIEDE2000 ΔE {population.JND}; a seed fails if its score is below {claims.FAILED_SCORE}; a seed has the target "
        "geometry if, of the named colours' latents, red's is the one nearest its anchor. A percentile window has a resolution: "
        f"{rules.resolution(len(results.OLD_SEEDS))}, and {rules.resolution(len(experiments.get('2.4.1').seeds))}.\n\n" + kinds)


def scorecard() -> Table:
    """Every claim, judged on our stream and, for the five sweeps, also on the original's (last two columns);
    the full card (every statistic and reason) is also written to figures/scorecard.csv, the table to
    figures/scorecard.tex."""
    order = {name: i for i, name in enumerate(experiments.EXPERIMENTS)}
    card = _judged(claims.CLAIMS).sort_values("experiment", key=lambda e: e.map(order), kind="stable")
    original = _judged([c for c in claims.CLAIMS if c.experiment in experiments.SWEEPS
                        and (not c.versus or c.versus[0] in experiments.SWEEPS)], "published")
    card["ours_published_stream"] = original["ours"].reindex(card.index)
    card["mark_published_stream"] = original["mark"].reindex(card.index).fillna("")
    out = figures.figures_dir()
    out.mkdir(parents=True, exist_ok=True)
    card.rename(columns={"p_value": "p-value"}).to_csv(out / "scorecard.csv")
    table = _card_table(card, STREAM_COLUMNS)
    tables.frame_latex(table.frame, out / "scorecard.tex", "Every published claim, judged", "tab:scorecard",
                       CARD_FORMATS | {STREAM_COLUMNS["ours_published_stream"]: "{:.3g}"})
    table.card = card
    return table


def scorecard_summary(table: Table) -> Markdown:
    card = table.card
    counts = claims.summary(card)
    n, checks = int(card["evidence"].sum()), card[~card["evidence"]]
    sweeps = card["experiment"].isin(experiments.SWEEPS)
    return Markdown(
        f"The registry holds {len(card)} claims, one per distinct measurement: {n} count as evidence and "
        f"{len(checks)} are sanity checks by construction ({int((checks['verdict'] == 'reproduced').sum())} hold). Of the "
        f"{n}, {counts['reproduced']} reproduce, {counts['marginal']} are marginal and {counts['not reproduced']} do not "
        f"reproduce. {int(sweeps.sum())} claims concern the five sweeps, judged on their "
        f"{len(experiments.get('2.4.1').seeds)} seeds; {int((~sweeps).sum())} concern the old single-seed notebooks, "
        f"judged on our {len(results.OLD_SEEDS)} seeds of each.")


def experiment_counts(table: Table) -> Table:
    """Per experiment: evidence claims per verdict, and the sanity checks that hold."""
    return _table(claims.by_experiment(table.card).reset_index(), {})


def calibration_figure(table: Table) -> Image:
    draws, stats_ = claims.calibration(table.card)
    fig = figures.calibration(draws["percentile"].to_numpy(), rules.SPREAD)
    figures.save(fig, "scorecard", "calibration")
    return Image(filename=str(figures.figures_dir() / "scorecard" / "calibration.png"))


def calibration_sentence(table: Table) -> Markdown:
    """How many single draws fall outside our seeds' window, against chance, and which."""
    draws, c = claims.calibration(table.card)
    lo, hi = rules.SPREAD
    out = draws[(draws["percentile"] < lo) | (draws["percentile"] > hi)]
    listed = "; ".join(f"{row.experiment}: {row.statement} (our {row.percentile:.0f}th percentile)" for row in out.itertuples())
    judgement = ("within what chance gives" if c["binomial_p"] >= rules.P_REPRODUCED else
                 "more than chance gives" if c["outside"] > c["expected_outside"] else "fewer than chance gives")
    return Markdown(
        f"The old notebooks printed {c['n']} numbers for one unselected seed each. If our implementation is faithful, each is "
        f"one more draw from our seeds' distribution and its percentile among them is uniform: about "
        f"{c['expected_outside']:.1f} of {c['n']} should fall outside the {lo}th-{hi}th percentile window by chance. "
        f"{c['outside']} do ({c['low']} below, {c['high']} above; binomial p = {c['binomial_p']:.2g}), {judgement}; a "
        f"Kolmogorov-Smirnov test of uniformity gives p = {c['ks_p']:.2g} (approximate: with {len(results.OLD_SEEDS)} seeds the "
        f"percentiles are coarse, and a notebook's maximum and median come from one model, so the draws are not independent). "
        f"{c['beyond_all']} lie beyond every one of our seeds, where chance puts {c['expected_beyond_all']:.1f} "
        f"(each draw has probability 2/{len(results.OLD_SEEDS) + 1} of doing so)."
        + (f" Outside the window: {listed}." if len(out) else ""))


def not_checked_table() -> Table:
    return _table(pd.DataFrame(claims.NOT_CHECKED, columns=["experiment", "published", "why not checked"]), {})


def redux_figure(r: RunResult) -> Image:
    """The sweep beside the single-seed notebook whose design it re-ran: each measure over both experiments' seeds."""
    df = analysis.redux_comparison(r.experiment.name)
    panels = [{"title": f"{_column_label(row.measure)} {claims.VARIANT_PHRASE[row.variant]}",
               "labels": [f"{row.redux} ({len(row.samples[0])} seeds)", f"{row.notebook} ({len(row.samples[1])} seeds)"],
               "samples": list(row.samples), "log": False} for row in df.itertuples()]
    return _show(figures.comparisons(panels), r, "against-notebook")


def redux_sentence(r: RunResult) -> Markdown:
    """Whether the sweep does what its notebook's design did, measure by measure."""
    df = analysis.redux_comparison(r.experiment.name)
    said = {"reproduced": "the same", "marginal": "about the same (the interval reaches past the margin)",
            "not reproduced": "not the same"}
    parts = [f"{rules.VERDICTS[row.verdict]} {_column_label(row.measure)} {claims.VARIANT_PHRASE[row.variant]}: median {row.redux_median:.3g} "
             f"here against {row.notebook_median:.3g} in {row.notebook} (difference {row.difference:+.3g}, 95% interval "
             f"{row.lo:+.3g} to {row.hi:+.3g}; Mann-Whitney p = {row.p:.2g}), {said[row.verdict]} within ±{analysis.REDUX_MARGIN:g}"
             for row in df.itertuples()]
    return Markdown("; ".join(parts) + f". The margin, ±{analysis.REDUX_MARGIN:g}, is ours: the notebooks state no conclusion "
                    "beyond re-running the design, so this asks whether the sweep is the same design in effect.")


def original_stream_table(r: RunResult) -> Table:
    """The experiment re-trained with the original notebooks' random stream, beside the published numbers:
    seed statistics, Pareto front, selected seed, and the selected model's named-colour Δ."""
    name, p = r.experiment.name, load(r.experiment.name, "published")
    rows = []
    for metric, published in reference.SWEEP_STATS[name].items():
        for stat, value in zip(("min", "max", "mean", "std"), published):
            rows.append({"what": f"{metric} {stat}", "published": value, "ours": float(p.runs[metric].agg(stat)),
                         "group": "statistic"})
    pseed, pscore, pfront = reference.SELECTED[name]
    rows += [{"what": "Pareto front size", "published": pfront, "ours": int(p.runs["pareto"].sum()), "group": "selection"},
             {"what": "selected seed", "published": pseed, "ours": p.selected_seed, "group": "selection"},
             {"what": "selected score", "published": pscore, "ours": float(p.runs.loc[p.selected_seed, "score"]),
              "group": "selection"}]
    for variant, colours in reference.published_table(name).items():
        rows += [{"what": f"{VARIANT_LABEL[variant]} Δ {colour}", "published": value, "ours": p.delta(variant, colour),
                  "group": "colour"} for colour, value in colours.items()]
    df = pd.DataFrame(rows)
    df["difference"] = df["ours"] - df["published"]
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
    text = (f"With the original's random stream our trainer selects seed {p.selected_seed} "
            f"(published: seed {reference.SELECTED[name][0]}); its Pareto front begins {top}, the published one "
            f"{published_top}. The largest difference in a seed statistic is {worst_s['difference']:+.2g} "
            f"({worst_s['what']}; the published statistics are printed to four decimals)")
    if worst_c is not None:
        text += (f", and in the selected model's named-colour table {worst_c['difference']:+.2g} "
                 f"({worst_c['what']}: {worst_c['ours']:.6f} against {worst_c['published']:.6f})")
    return Markdown(text + ".")


def red_decoding_table() -> Table:
    """What pure red decodes to under each variant of the five sweeps (`analysis.red_decoding`)."""
    df = analysis.red_decoding()
    frame = pd.DataFrame({"experiment": df["experiment"], "variant": df["variant"].map(VARIANT_LABEL),
                          "selected: red decodes to": ["#" + colors.hex_code(rgb) for rgb in df["selected_rgb"]],
                          "selected: MSE from red": df["selected_mse"],
                          "seeds nearer grey than black (%)": 100 * df["nearer_grey"],
                          "seeds: median ΔE to grey": df["median_de_grey"], "seeds: median ΔE to black": df["median_de_black"]})
    table = _table(frame, {"selected: MSE from red": "{:.3f}", "seeds nearer grey than black (%)": "{:.0f}",
                           "seeds: median ΔE to grey": "{:.1f}", "seeds: median ΔE to black": "{:.1f}"})
    table.card = df
    return table


def red_decoding_sentence(table: Table) -> Markdown:
    """What the decoding table says about the paper's explanations of 1/4 and 1/3."""
    df, black = table.card, analysis.black_error()
    ablated, suppressed = df[df["variant"] == "ablated"], df[df["variant"] == "suppression"]
    return Markdown(
        f"Black's error from red is {Fraction(black).limit_denominator(100)} as well ({black:.4f}, against {ablation_bound():.4f} for a uniformly "
        "random colour), so reaching 1/3 does not tell which of the two happened. Under weight ablation our selected "
        "models decode red to " + ", ".join(f"#{colors.hex_code(row.selected_rgb)} ({row.experiment})" for row in ablated.itertuples())
        + "; over the seeds, decoded red is perceptually nearer black than mid-grey in "
        + ", ".join(f"{100 * (1 - row.nearer_grey):.0f}% ({row.experiment})" for row in ablated.itertuples())
        + ". Under suppression it is nearer mid-grey in "
        + ", ".join(f"{100 * row.nearer_grey:.0f}% ({row.experiment})" for row in suppressed.itertuples()) + " of seeds.")


def labels_sentence(r: RunResult) -> Markdown:
    """How many samples carried each label, from the run's own counts."""
    steps, batch = r.train.terms["loss"].shape[0], r.experiment.data.batch_size
    parts = [f"*{c.removeprefix('labels_')}* on {r.runs[c].mean():.1f} samples per run on average "
             f"({r.runs[c].mean() / (steps * batch):.2%} of the {steps * batch:,} samples drawn)"
             for c in r.runs.columns if c.startswith("labels_")]
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
        parts.append(f"{VARIANT_LABEL[variant]} raises red's error by {r.delta(variant, 'red'):.3f} "
                     f"(reference value {label} = {bound:.3f})")
    return Markdown(("For the selected model, " + "; ".join(parts) + ".") if parts else "")


# --- the book's headline ----------------------------------------------------------------------------------

HEADLINE_ROWS = (("2.4.1", "anchored", "suppression"), ("2.4.1", "anchored", "ablated"),
                 ("2.9.1", "isolated", "ablated"), ("2.9.1", "isolated", "suppression"))


def book_headline() -> Table:
    """The paper's Table 1 numbers for red and cyan, and R², beside ours (each model the selected one of 60 seeds)."""
    rows = []
    for name, model, variant in HEADLINE_ROWS:
        r = load(name)
        v = r.variants[variant]
        p_red, p_cyan, _ = reference.HEADLINE[name][variant]
        p_r2 = reference.PAPER_R2[(name, variant)]
        rows.append({"model": f"{model} ({name})", "intervention": VARIANT_LABEL[variant],
                     "red Δ paper": p_red, "red Δ ours": r.delta(variant, "red"),
                     "cyan Δ paper": p_cyan, "cyan Δ ours": r.delta(variant, "cyan"),
                     "R² paper": p_r2, "R² ours": v.r2})
    df = pd.DataFrame(rows)
    return _table(df, {c: "{:+.3f}" if "Δ" in c else "{:.2f}" for c in df.columns if c not in ("model", "intervention")})


def book_headline_sentence(headline: Table) -> Markdown:
    """How far the headline numbers move, and what the registry says of cyan where the paper says it is untouched."""
    df = headline.frame
    gaps = (df["red Δ ours"] - df["red Δ paper"]).abs()
    worst = df.loc[gaps.idxmax()]
    rows = {(name, variant) for name, _, variant in HEADLINE_ROWS}
    cyan = [c for c in claims.CLAIMS if (c.experiment, c.variant) in rows and c.column in ("zc:cyan", "dmse:cyan")
            and c.kind in ("zero", "construction")]
    judged = _judged(cyan)
    parts = [f"{row.mark} {row.experiment} {VARIANT_LABEL[c.variant]} ({'a sanity check: ' if not row.evidence else ''}"
             f"{row.reason})" for c, row in zip(cyan, judged.itertuples())]
    return Markdown(
        f"Red's error moves by at most {gaps.max():.3f} from the published value "
        f"(largest for {worst['model']} {worst['intervention']}: {worst['red Δ ours']:.3f} against {worst['red Δ paper']:.3f}); "
        f"R² differs by at most {(df['R² ours'] - df['R² paper']).abs().max():.2f}. Where the paper reports cyan untouched: "
        + "; ".join(parts) + ".")


def road_figure() -> Image:
    df = analysis.road()
    labels = {n: f"{n} {VARIANT_LABEL[v]}" for n, v in df.groupby("experiment", sort=False)["variant"].first().items()}
    figures.save(figures.road(df, labels), "road", "road")
    return Image(filename=str(figures.figures_dir() / "road" / "road.png"))


def road_sentence() -> Markdown:
    """Which designs remove red most and least cleanly: medians over seeds of red's change and the worst off-target one."""
    med = analysis.road().groupby("experiment", sort=False)[["red", "off_target"]].median()
    ratio = med["red"] / med["off_target"].clip(lower=1e-9)
    clean, dirty = ratio.idxmax(), ratio.idxmin()
    listed = lambda n: f"{n} (red {med.loc[n, 'red']:.3f}, worst off-target {med.loc[n, 'off_target']:.2g})"
    return Markdown(f"Over the median seed, the cleanest removal is {listed(clean)} and the least clean {listed(dirty)}; "
                    f"the off-target colours are those with no similarity to red ({', '.join(analysis.off_target_colours())}).")


# --- beyond the paper -------------------------------------------------------------------------------------

STUDY_GROUP = {"labels": "cell_label", "fixed": "fixed", "concept": "concept"}


@lru_cache(maxsize=None)
@results.collapse_told_in_text
def study(name: str) -> pd.DataFrame:
    """Every cell of a study on 60 seeds (trained, or loaded from the cache), one row per seed."""
    df = studies.study_table(name)
    mean_labels = df.groupby("cell")["labels"].transform("mean")  # the concept's (red) labels per run
    df["cell_label"] = [f"{lab} ×{f:g}" + (f" ({n:.0f})" if lab == concept else "")
                        for lab, f, n, concept in zip(df["label"], df["factor"], mean_labels, df["concept"])]
    return df


def study_figure(name: str) -> Image:
    fig = figures.study_boxes(study(name), STUDY_GROUP[name], {d: analysis.published_mean_score(d) for d in studies.DESIGNS})
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
        rows.append({"design": design, "cell": cell, "labels per run": sub["labels"].mean(), "score median": q[0.5],
                     "score IQR": q[0.75] - q[0.25], "concept Δ median": sub["concept_delta"].median(),
                     "opposite Δ median": sub["opposite_delta"].median(),
                     "near anchor (%)": 100 * sub["geometry_right"].mean(), "collapsed (%)": 100 * sub["collapsed"].mean()})
    frame = pd.DataFrame(rows)
    formats = {"labels per run": "{:.1f}", "score median": "{:.3f}", "score IQR": "{:.3f}", "concept Δ median": "{:.3f}",
               "opposite Δ median": "{:+.3f}", "near anchor (%)": "{:.0f}", "collapsed (%)": "{:.0f}"}
    tables.frame_latex(frame, figures.figures_dir() / "beyond" / f"study-{name}.tex", f"Study: {name}", f"tab:study-{name}", formats)
    return _table(frame, formats)


def labels_study_sentence() -> Markdown:
    parts = []
    for row in analysis.label_budget(study("labels")).itertuples():
        smallest = (f"the smallest budget at which the median seed reaches the published mean score ({row.target:.3f}) is "
                    f"×{row.smallest_factor:g} of the paper's, about {row.smallest_labels:.0f} red labels per run"
                    if not np.isnan(row.smallest_factor) else
                    f"no budget tried brings the median seed to the published mean score ({row.target:.3f})")
        parts.append(f"In the {'anchored' if row.design == '2.4.1' else 'isolated'} design ({row.design}), with no labels the "
                     f"median score is {row.control_score:.3f} and {row.control_geometry:.0%} of seeds put red within "
                     f"{studies.GEOMETRY_DEGREES:g}° of its anchor; {smallest}.")
    return Markdown(" ".join(parts))


def fixed_study_sentence() -> Markdown:
    """The paper says no fixed-weight configuration worked; `analysis.fixed_weights` states the rule."""
    df = analysis.fixed_weights(study("fixed"))
    parts = []
    for design, sub in df.groupby("design", sort=False):
        lines = "; ".join(f"{row.fixed}: median {row.median:.3f} (Mann-Whitney p = {row.p:.2g} against keyframed)"
                          for row in sub.itertuples())
        working = list(sub.loc[sub["works"], "fixed"])
        parts.append(f"**{design}**: keyframed median {sub['keyframed_median'].iloc[0]:.3f}; {lines}. Against the published "
                     f"mean score {sub['target'].iloc[0]:.3f}, the claim {'does not hold' if working else 'holds'} here"
                     + (f" ({', '.join(working)} reach it)." if working else "."))
    return Markdown("\n\n".join(parts))


def concept_study_sentence() -> Markdown:
    return Markdown(" ".join(
        f"In {row.design}, anchoring {row.concept} instead of red gives a median score of {row.score:.3f} against "
        f"{row.red_score:.3f} (Mann-Whitney p = {row.p:.2g}), a median Δ for {row.concept} of {row.delta:.3f} against "
        f"{row.red_delta:.3f} for red, and {row.geometry:.0%} of seeds with {row.concept} near its anchor against "
        f"{row.red_geometry:.0%} for red." for row in analysis.concept_swap(study("concept")).itertuples()))


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
        labels = (f"about {b['smallest_labels']:.0f} red labels per run (×{b['smallest_factor']:g} of the paper's budget) bring "
                  "the median seed to the published mean score" if not np.isnan(b["smallest_factor"]) else
                  "no label budget tried brings the median seed to the published mean score")
        schedule = (f"fixed weights do as well as the keyframed schedule ({', '.join(working)})" if working else
                    "no fixed-weight configuration reaches it, so the keyframed schedule is needed")
        concept = (f"anchoring {c['concept']} instead of red changes the median score by {c['score'] - c['red_score']:+.3f} "
                   f"(Mann-Whitney p = {c['p']:.2g})")
        parts.append(f"**{design}**: {labels}; {schedule}; {concept}.")
    return Markdown("\n\n".join(parts))

