"""The book-wide pages, formatted: the index's headline and road, and the scorecard (every claim judged, the
rules, the calibration of the single draws, what is not checked, what red decodes to). The numbers come from
`claims`, `rules` and `analysis`; this module only lays them out."""

from __future__ import annotations

from fractions import Fraction

import pandas as pd
from IPython.display import Image, Markdown

from . import analysis, claims, colors, experiments, figures, population, results, rules, tables
from .claim import VARIANT_WORDS
from .evaluate import ablation_bound
from .quarto import Table, datatable, relative
from .quarto import table as _table
from .report import CARD_FORMATS, CARD_TEXT, STREAM_COLUMNS, card_table


def rules_sentence() -> Markdown:
    """The verdict rules, from the registry's own descriptions and constants."""
    lo, hi = rules.SPREAD
    kinds = "\n".join(f"- **{kind}**: {text}." for kind, text in claims.KINDS.items())
    return Markdown(
        "Every rule gives *reproduced*, *marginal* or *not reproduced*. Tests reproduce at p ≥ "
        f"{rules.P_REPRODUCED} and are "
        f"marginal at p ≥ {rules.P_MARGINAL}; a number for one model is marginal if it lies within our seeds' "
        "full range; a "
        "rule on the median seed and our model is marginal when only one of the two holds. One "
        "just-noticeable difference "
        f"is CIEDE2000 ΔE {population.JND}; a seed fails if its score is below {claims.FAILED_SCORE}; a seed "
        "has the target "
        "geometry if, of the named colours' latents, red's is the one nearest its anchor. A percentile window "
        "has a resolution: "
        f"{rules.resolution(len(results.OLD_SEEDS))}, and {rules.resolution(len(experiments.get('2.4.1').seeds))}.\n\n"
        + kinds
    )


def scorecard() -> Table:
    """Every claim, judged on our stream and, for the five sweeps, also on the original's (last two columns);
    the full card (every statistic and reason) is also written to figures/scorecard.csv, the table to
    figures/scorecard.tex."""
    order = {name: i for i, name in enumerate(experiments.EXPERIMENTS)}
    card = claims.judged(claims.CLAIMS).sort_values("experiment", key=lambda e: e.map(order), kind="stable")
    original = claims.judged(
        [
            c
            for c in claims.CLAIMS
            if c.experiment in experiments.SWEEPS and (not c.versus or c.versus[0] in experiments.SWEEPS)
        ],
        "published",
    )
    card["ours_published_stream"] = original["ours"].reindex(card.index)
    card["mark_published_stream"] = original["mark"].reindex(card.index).fillna("")
    out = figures.figures_dir()
    out.mkdir(parents=True, exist_ok=True)
    card.rename(columns={"p_value": "p-value"}).to_csv(out / "scorecard.csv")
    table = card_table(card, STREAM_COLUMNS)
    formats = CARD_FORMATS | {STREAM_COLUMNS["ours_published_stream"]: "{:.3g}"}
    tables.frame_latex(table.frame, out / "scorecard.tex", "Every published claim, judged", "tab:scorecard", formats)
    # In HTML, a table to sort, search and filter by verdict, experiment and kind (the verdict spelled out beside
    # its mark)
    words = table.frame.assign(verdict=(card["mark"] + " " + card["verdict"]).to_numpy())
    table.html = datatable(
        words, formats, panes=("verdict", "experiment", "kind"), left=("verdict", *CARD_TEXT), wide=("claim",)
    )
    table.card = card
    return table


def scorecard_summary(table: Table) -> Markdown:
    card = table.card
    counts = claims.summary(card)
    n, checks = int(card["evidence"].sum()), card[~card["evidence"]]
    sweeps = card["experiment"].isin(experiments.SWEEPS)
    return Markdown(
        f"The registry holds {len(card)} claims, one per distinct measurement: {n} count as evidence and "
        f"{len(checks)} are sanity checks by construction ({int((checks['verdict'] == 'reproduced').sum())} "
        "hold). Of the "
        f"{n}, {counts['reproduced']} reproduce, {counts['marginal']} are marginal and "
        f"{counts['not reproduced']} do not "
        f"reproduce. {int(sweeps.sum())} claims concern the five sweeps, judged on their "
        f"{len(experiments.get('2.4.1').seeds)} seeds; {int((~sweeps).sum())} concern the old single-seed notebooks, "
        f"judged on our {len(results.OLD_SEEDS)} seeds of each. Every claim, with its statistics and reason, is in "
        f"[the scorecard as CSV]({relative(figures.figures_dir() / 'scorecard.csv')})."
    )


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
    listed = "; ".join(
        f"{row.experiment}: {row.statement} (our {rules.ordinal(row.percentile)} percentile)"
        for row in out.itertuples()
    )
    judgement = {
        "chance": "within what chance gives",
        "more": "more than chance gives",
        "fewer": "fewer than chance gives",
    }[c["against_chance"]]
    return Markdown(
        f"The old notebooks printed {c['n']} numbers for one unselected seed each. If our implementation is "
        "faithful, each is "
        f"one more draw from our seeds' distribution and its percentile among them is uniform: about "
        f"{c['expected_outside']:.1f} of {c['n']} should fall outside the {rules.ordinal(lo)}-{rules.ordinal(hi)} "
        "percentile window by chance. "
        f"{c['outside']} do ({c['low']} below, {c['high']} above; binomial p = {c['binomial_p']:.2g}), {judgement}; a "
        f"Kolmogorov-Smirnov test of uniformity gives p = {c['ks_p']:.2g} (approximate: with "
        f"{len(results.OLD_SEEDS)} seeds the "
        "percentiles are coarse, and a notebook's maximum and median come from one model, so the draws are "
        "not independent). "
        f"{c['beyond_all']} lie beyond every one of our seeds, where chance puts {c['expected_beyond_all']:.1f} "
        f"(each draw has probability 2/{len(results.OLD_SEEDS) + 1} of doing so)."
        + (f" Outside the window: {listed}." if len(out) else "")
    )


def not_checked_table() -> Table:
    return _table(pd.DataFrame(claims.NOT_CHECKED, columns=["experiment", "published", "why not checked"]), {})


def red_decoding_table() -> Table:
    """What pure red decodes to under each variant of the five sweeps (`analysis.red_decoding`)."""
    df = analysis.red_decoding()
    frame = pd.DataFrame(
        {
            "experiment": df["experiment"],
            "variant": df["variant"].map(VARIANT_WORDS),
            "selected: red decodes to": ["#" + colors.hex_code(rgb) for rgb in df["selected_rgb"]],
            "selected: MSE from red": df["selected_mse"],
            "seeds nearer grey than black (%)": 100 * df["nearer_grey"],
            "seeds: median ΔE to grey": df["median_de_grey"],
            "seeds: median ΔE to black": df["median_de_black"],
        }
    )
    table = _table(
        frame,
        {
            "selected: MSE from red": "{:.3f}",
            "seeds nearer grey than black (%)": "{:.0f}",
            "seeds: median ΔE to grey": "{:.1f}",
            "seeds: median ΔE to black": "{:.1f}",
        },
    )
    table.card = df
    return table


def red_decoding_sentence(table: Table) -> Markdown:
    """What the decoding table says about the paper's explanations of 1/4 and 1/3."""
    df, black = table.card, analysis.black_error()
    ablated, suppressed = df[df["variant"] == "ablated"], df[df["variant"] == "suppression"]
    return Markdown(
        f"Black's error from red is {Fraction(black).limit_denominator(100)} as well ({black:.4f}, against "
        f"{ablation_bound():.4f} for a uniformly "
        "random colour), so reaching 1/3 does not tell which of the two happened. Under weight ablation our selected "
        "models decode red to "
        + ", ".join(f"#{colors.hex_code(row.selected_rgb)} ({row.experiment})" for row in ablated.itertuples())
        + "; over the seeds, decoded red is perceptually nearer black than mid-grey in "
        + ", ".join(f"{100 * (1 - row.nearer_grey):.0f}% ({row.experiment})" for row in ablated.itertuples())
        + ". Under suppression it is nearer mid-grey in "
        + ", ".join(f"{100 * row.nearer_grey:.0f}% ({row.experiment})" for row in suppressed.itertuples())
        + " of seeds."
    )


def book_headline() -> Table:
    """The paper's Table 1 numbers for red and cyan, and R², beside ours (`analysis.headline`)."""
    df = analysis.headline()
    frame = pd.DataFrame(
        {
            "model": df["model"] + " (" + df["experiment"] + ")",
            "intervention": df["variant"].map(VARIANT_WORDS),
            "red Δ paper": df["red_paper"],
            "red Δ ours": df["red_ours"],
            "cyan Δ paper": df["cyan_paper"],
            "cyan Δ ours": df["cyan_ours"],
            "R² paper": df["r2_paper"],
            "R² ours": df["r2_ours"],
        }
    )
    table = _table(
        frame, {c: "{:+.3f}" if "Δ" in c else "{:.2f}" for c in frame.columns if c not in ("model", "intervention")}
    )
    table.card = df
    return table


def book_headline_sentence(headline: Table) -> Markdown:
    """How far the headline numbers move, and what the registry says of cyan where the paper says it is untouched."""
    df = headline.card
    worst = df.loc[df["red_gap"].idxmax()]
    cyan = claims.untouched({(name, variant) for name, _, variant in analysis.HEADLINE_ROWS})
    judged = claims.judged(cyan)
    parts = [
        f"{row.mark} {row.experiment} {VARIANT_WORDS[c.variant]} ({'a sanity check: ' if not row.evidence else ''}"
        f"{row.reason})"
        for c, row in zip(cyan, judged.itertuples())
    ]
    return Markdown(
        f"Red's error moves by at most {worst['red_gap']:.3f} from the published value "
        f"(largest for {worst['model']} ({worst['experiment']}) {VARIANT_WORDS[worst['variant']]}: "
        f"{worst['red_ours']:.3f} "
        f"against {worst['red_paper']:.3f}); R² differs by at most {df['r2_gap'].max():.2f}. Where the paper "
        "reports cyan "
        "untouched: " + "; ".join(parts) + "."
    )


def road_figure() -> Image:
    df = analysis.road()
    labels = {n: f"{n} {VARIANT_WORDS[v]}" for n, v in df.groupby("experiment", sort=False)["variant"].first().items()}
    figures.save(figures.road(df, labels), "road", "road")
    return Image(filename=str(figures.figures_dir() / "road" / "road.png"))


def road_sentence() -> Markdown:
    """Which designs remove red most and least cleanly: medians over seeds of red's change and the worst off-target
    one."""
    med = analysis.road_medians()
    clean, dirty = med["selectivity"].idxmax(), med["selectivity"].idxmin()
    listed = lambda n: f"{n} (red {med.loc[n, 'red']:.3f}, worst off-target {med.loc[n, 'off_target']:.2g})"
    return Markdown(
        f"Over the median seed, the cleanest removal is {listed(clean)} and the least clean {listed(dirty)}; "
        f"the off-target colours are those with no similarity to red ({', '.join(analysis.off_target_colours())})."
    )
