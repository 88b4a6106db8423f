"""Every published number and conclusion of experiments 2.2-2.10.1 as a `Claim` (one per measurement), the
scorecard that judges them all, and what is published but not checked.

The sources are the paper's Tables 1, C.5.1 and C.5.2 (every row of their LaTeX, with baselines), its text,
the redux notebooks' describe() tables and correlation prints, and the old notebooks' printed errors and
stated conclusions (`reference`); the road from 2.2 to 2.10 is a chain of comparisons over seeds.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from . import experiments, reference, results, rules
from .claim import (
    EVIDENCE,
    FAILED_SCORE,
    KINDS,
    N_PUBLISHED,
    RULES,
    SOURCE_PRECISION,
    VARIANT_PHRASE,
    Claim,
    Source,
    merge,
    model_of,
    new_claim,
    variant_identity,
)
from .evaluate import ablation_bound, suppression_bound
from .population import intervention_direction
from .sweep import RunResult

__all__ = [
    "CLAIMS",
    "EVIDENCE",
    "FAILED_SCORE",
    "KINDS",
    "NOT_CHECKED",
    "RULES",
    "Claim",
    "Source",
    "by_experiment",
    "calibration",
    "claims_for",
    "scorecard",
    "summary",
]

# --- the paper's and the redux notebooks' sweeps ---------------------------------------------------------


def _table(exp: str, variant: str, column: str, table: dict[str, float], source: str, rendered: bool) -> list[Claim]:
    """A named-colour table column: the rows the paper renders (two decimals) and those only its LaTeX source or
    the notebook holds (nine). A zero where the variant is the identity for latents facing away from its
    direction is a construction claim; a value printed as zero a zero claim; any other a selected-model number."""
    out = []
    guaranteed = variant != "baseline" and intervention_direction(experiments.get(exp).variant(variant)) is not None
    for colour, value in table.items():
        shown = rendered and colour in reference.TABLE_ROWS
        precision = reference.TABLE_PRECISION if shown else SOURCE_PRECISION
        name = source if shown else f"{source} (row not rendered)" if rendered else source
        src = Source(name, value, precision=precision)
        verb = "changes by" if column == "dmse" else "is"
        what = f"{colour}'s error {verb} {value:.{2 if shown else 6}f} {VARIANT_PHRASE[variant]}"
        if value == 0 and guaranteed:
            out.append(_construction(exp, variant, colour, src))
        elif abs(value) <= precision and (shown or column == "dmse"):  # a change printed as none
            out.append(new_claim(exp, what, "zero", src, variant, f"{column}:{colour}", tolerance=precision))
        else:
            out.append(new_claim(exp, what, "selected", src, variant, f"{column}:{colour}"))
    return out


def _construction(exp: str, variant: str, colour: str, source: Source) -> Claim:
    return new_claim(
        exp,
        f"{colour} is exactly untouched {VARIANT_PHRASE[variant]}: its latent faces away from the direction "
        "acted on (z·c ≤ 0), where the intervention is the identity",
        "construction",
        source,
        variant,
        f"zc:{colour}",
    )


def _words(exp: str, variant: str, colour: str, expect: str, source: str) -> Claim:
    """A conclusion in words: joins the table's number for that colour where there is one (same identity)."""
    v = experiments.get(exp).variant(variant)
    if expect == "untouched" and intervention_direction(v) is not None:
        return _construction(exp, variant, colour, Source(source))
    identity = (model_of(exp), variant_identity(exp, variant), f"dmse:{colour}")
    state = "is untouched" if expect == "untouched" else "is damaged"
    return new_claim(
        exp,
        f"{colour} {state} {VARIANT_PHRASE[variant]}",
        expect,
        Source(source),
        variant,
        f"dde:{colour}",
        identity=identity,
    )


def sweep_claims() -> list[Claim]:
    out = []
    for i, (exp, variant) in enumerate(reference.TABLE_1_COLUMNS):
        out += _table(exp, variant, "dmse", {c: v[i] for c, v in reference.TABLE_1.items()}, "paper Table 1", True)
    for exp, table, name in (
        ("2.5.1", reference.TABLE_C51, "paper Table C.5.1"),
        ("2.7.1", reference.TABLE_C52, "paper Table C.5.2"),
    ):
        for i, variant in enumerate(("suppression", "ablated")):
            out += _table(exp, variant, "dmse", {c: v[i] for c, v in table.items()}, name, True)
    for exp, baseline in reference.BASELINE.items():
        source = reference.BASELINE_SOURCE[exp]
        out += _table(exp, "baseline", "mse", baseline, source, source.startswith("paper"))
    out += _table("2.4.1", "repulsion", "dmse", reference.REPULSION_241, "NB 2.4.1 table", False)
    for variant in ("ablated", "pruned", "suppression"):
        red, cyan, _ = reference.HEADLINE["2.10.1"][variant]
        out += _table("2.10.1", variant, "dmse", {"red": red, "cyan": cyan}, "NB 2.10.1 table", False)
    for exp, variant, value, source in reference.R2_SOURCES:
        out.append(
            new_claim(
                exp,
                f"error follows its predictor with R² {value:.2f} {VARIANT_PHRASE[variant]}",
                "selected",
                Source(source, value, precision=0.005),
                variant,
                "r2",
            )
        )
    # An analytic value is a second claim about red's Δ (what theory predicts), not a second printing of it.
    out += [
        new_claim(
            "2.4.1",
            "suppressed red's error approaches 1/4 (red decoded as mid-grey)",
            "bound",
            Source("paper §3.2", suppression_bound()),
            "suppression",
            "dmse:red",
            statistic="bound",
        ),
        new_claim(
            "2.9.1",
            "ablated red's error approaches 1/3 (red decoded as a random colour)",
            "bound",
            Source("paper §3.3", ablation_bound()),
            "ablated",
            "dmse:red",
            statistic="bound",
        ),
    ]
    out += _statistics()
    out += [_words(*words) for words in reference.SWEEP_WORDS]
    out += _hue_removal_lightness()
    return out


def _statistics() -> list[Claim]:
    """Each sweep's describe() table (and the paper's own rounding of it), the failed-seed share where the
    published minimum tells it, and "all 60 runs produced the target geometry"."""
    out = []
    for exp, stat in reference.SWEEP_STATS.items():
        for column, (lo, hi, mean, std) in stat.items():
            what = (
                "score"
                if column == "score"
                else f"{column.removeprefix('labels_')} labels per run"
                if column.startswith("labels_")
                else column
            )
            nb = f"NB {exp} describe()"
            prec = 0.5 * 10.0**-4 if not column.startswith("labels_") else 0.5
            mean_src = [Source(nb, mean, std, precision=0.5e-4)]
            if (exp, column) in reference.PAPER_STATS:
                pm, ps = reference.PAPER_STATS[(exp, column)]
                scale = 0.005 if column == "score" else 0.5
                mean_src.insert(0, Source(f"paper §3 ({exp})", pm, ps, precision=scale))
            mean_claim = new_claim(
                exp,
                f"mean {what} over {N_PUBLISHED} seeds is {mean:.4g}",
                "mean",
                mean_src[0],
                "runs",
                column,
                statistic="mean",
            )
            out.append(replace(mean_claim, sources=tuple(mean_src)))
            out.append(
                new_claim(
                    exp,
                    f"{what} has standard deviation {std:.4g} over {N_PUBLISHED} seeds",
                    "spread",
                    Source(nb, std, precision=0.5e-4),
                    "runs",
                    column,
                    statistic="std",
                )
            )
            for which, value in (("min", lo), ("max", hi)):
                out.append(
                    new_claim(
                        exp,
                        f"the {which}imum {what} over {N_PUBLISHED} seeds is {value:.4g}",
                        "extreme",
                        Source(nb, value, precision=prec),
                        "runs",
                        column,
                        statistic=which,
                    )
                )
        lo = stat["score"][0]
        if lo >= FAILED_SCORE:
            out.append(
                new_claim(
                    exp,
                    f"no seed of {N_PUBLISHED} fails (score below {FAILED_SCORE}): the published minimum is {lo:.4g}",
                    "count",
                    Source(f"NB {exp} describe() minimum", 0),
                    "runs",
                    "score",
                    statistic="failed",
                )
            )
        if "val_recon" in stat or exp == "2.4.1":
            out.append(
                new_claim(
                    exp,
                    f"no seed of {N_PUBLISHED} collapses: the published validation error stays far below a constant "
                    "colour's",
                    "count",
                    Source(
                        f"NB {exp} describe() maximum of val_recon"
                        if "val_recon" in stat
                        else f"NB {exp} (val_recon at most 0.0001)",
                        0,
                    ),
                    "runs",
                    "val_recon",
                    statistic="collapsed",
                )
            )
    for exp in reference.TARGET_GEOMETRY:
        out.append(
            new_claim(
                exp,
                "all 60 runs produce the target geometry: red's latent, of the named colours', is the one "
                "nearest its anchor",
                "count",
                Source("paper §3.1", 0),
                "baseline",
                "red_on_anchor",
                statistic="geometry",
            )
        )
    return out


def _hue_removal_lightness() -> list[Claim]:
    """C.5.2: with hue removed, red, green and blue reconstruct darker, yellow, cyan and magenta brighter: the
    CIELAB lightness change of each, over one just-noticeable difference (ΔL* of 2.3) in the stated sense."""
    out = []
    for colour, sign in (("red", -1), ("green", -1), ("blue", -1), ("yellow", 1), ("cyan", 1), ("magenta", 1)):
        out.append(
            new_claim(
                "2.7.1",
                f"{colour} reconstructs {'darker' if sign < 0 else 'brighter'} under weight ablation",
                "damaged",
                Source("paper App. C.5.2"),
                "ablated",
                f"dL:{colour}",
                sign=float(sign),
            )
        )
    return out


# --- the old notebooks ------------------------------------------------------------------------------------


def half_unit(value: float) -> float:
    """Half a unit of the last digit `value` was printed with (0.074 -> 0.0005, 1.5e-05 -> 5e-07)."""
    from decimal import Decimal

    exponent = Decimal(repr(value)).as_tuple().exponent
    assert isinstance(exponent, int), value  # a finite number
    return 0.5 * 10.0**exponent


def old_claims() -> list[Claim]:
    """The old notebooks' printed max and median per-colour error (one seed each), and their conclusions."""
    out = []
    for exp, printed in reference.OLD_MAX_MEDIAN.items():
        for variant, (mx, med) in printed.items():
            for stat, value in (("max", mx), ("median", med)):
                if value is not None:
                    out.append(
                        new_claim(
                            exp,
                            f"{stat} per-colour error {VARIANT_PHRASE[variant]} is {value:g}",
                            "selected",
                            Source(f"NB {exp.removesuffix('-sigmoid')}", value, precision=half_unit(value)),
                            variant,
                            f"{stat}_mse",
                            single_draw=True,
                        )
                    )
    out += [_words(*words) for words in reference.OLD_WORDS]
    return out + comparisons()


def _compare(
    exp: str,
    variant: str,
    column: str,
    versus: tuple[str, str, str],
    direction: str,
    statement: str,
    source: str,
    measure: str,
    **kw,
) -> Claim:
    key = (
        f"{exp}/{variant} {column} vs {versus[1]} {versus[2]}"
        if versus[0] == exp
        else f"{exp} vs {versus[0]}/{variant} {column}"
        if versus[1:] == (variant, column)
        else f"{exp}/{variant} {column} vs {versus[0]}/{versus[1]} {versus[2]}"
    )
    return Claim(
        key,
        exp,
        statement,
        "comparison",
        (Source(source),),
        variant,
        column,
        versus=versus,
        direction=direction,
        experiments=tuple(dict.fromkeys((exp, versus[0]))),
        identity=(key,),
        measure=measure,
        **kw,
    )


def _steps(name: str) -> int:
    return experiments.get(name).training_schedule()[0].length


def comparisons() -> list[Claim]:
    """The road from 2.2 to 2.10 as the old notebooks told it (experiments.md, "Stated conclusions"), each step
    a comparison over seeds. Where the words are vague, `statistic` names the measure chosen and why."""
    return [
        _compare(
            "2.2",
            "suppression",
            "mse:red",
            ("2.2", "suppression", "median_mse"),
            "greater",
            "suppression raises red's error at least tenfold above the median colour's",
            "NB 2.2: targeted",
            "targeted = red's error an order of magnitude above the typical colour's",
            factor=10,
        ),
        _compare(
            "2.2",
            "repulsion",
            "mse:red",
            ("2.2", "repulsion", "median_mse"),
            "greater",
            "repulsion raises red's error at least tenfold above the median colour's",
            "NB 2.2: targeted",
            "targeted = red's error an order of magnitude above the typical colour's",
            factor=10,
        ),
        _compare(
            "2.2",
            "repulsion",
            "median_mse",
            ("2.2", "suppression", "median_mse"),
            "less",
            "repulsion preserves unrelated colours better than suppression",
            "NB 2.2",
            "the median colour's error over the loss grid",
        ),
        _compare(
            "2.3",
            "baseline",
            "max_mse",
            ("2.2", "baseline", "max_mse"),
            "less",
            f"explicit normalisation reconstructs an order of magnitude better (in {_steps('2.3')} steps, against "
            f"2.2's {_steps('2.2')})",
            "NB 2.3",
            "the maximum error, the only one 2.2 printed",
            factor=10,
        ),
        _compare(
            "2.3",
            "baseline",
            "median_mse",
            ("2.3-sigmoid", "baseline", "median_mse"),
            "less",
            "a linear output reconstructs better than a sigmoid",
            "NB 2.3",
            "the median colour's error",
            paired=True,
        ),
        _compare(
            "2.4",
            "suppression",
            "r2",
            ("2.3", "suppression", "r2"),
            "greater",
            "regularizing after normalisation gives cleaner interventions than before it",
            "NB 2.4",
            "cleaner = the error follows similarity to red more closely (R² of error against sim²)",
            scale="difference",
        ),
        _compare(
            "2.4",
            "baseline",
            "median_mse",
            ("2.3", "baseline", "median_mse"),
            "greater",
            "regularizing after normalisation reconstructs slightly worse",
            "NB 2.4",
            "the median colour's error (the notebook compared training loss)",
        ),
        _compare(
            "2.5",
            "baseline",
            "max_mse",
            ("2.4", "baseline", "max_mse"),
            "less",
            "one anchor alone lowers the maximum reconstruction error",
            "NB 2.5",
            "the maximum error over the loss grid",
        ),
        _compare(
            "2.5",
            "suppression",
            "r2",
            ("2.4", "suppression", "r2"),
            "less",
            "one anchor alone gives slightly less precise interventions",
            "NB 2.5",
            "precision = R² of error against sim²",
            scale="difference",
        ),
        _compare(
            "2.5",
            "suppression",
            "dmse:red",
            ("2.4", "suppression", "dmse:red"),
            "similar",
            "one anchor suffices: suppression removes red as well as with the colour wheel",
            "NB 2.5",
            "red's change under suppression, within 0.05 of 2.4's",
            scale="difference",
            margin=0.05,
        ),
        _compare(
            "2.6",
            "ablated",
            "dmse:cyan",
            ("2.6", "ablated", "dmse:red"),
            "similar",
            "deleting the warm/cool axis damages cyan as much as red",
            "NB 2.6",
            "cyan's change against red's on the same seeds, within 0.05",
            scale="difference",
            margin=0.05,
        ),
        _compare(
            "2.7",
            "ablated",
            "dmse:gray",
            ("2.7", "ablated", "dmse:lime"),
            "less",
            "deleting hue spares the greys: grey's error changes at least tenfold less than a vibrant colour's",
            "NB 2.7",
            "grey's change against lime's on the same seeds",
            factor=10,
        ),
        _compare(
            "2.8",
            "ablated",
            "median_mse",
            ("2.9", "ablated", "median_mse"),
            "greater",
            "the four-dimensional anti-anchor design fails: ablation damages the median colour at least tenfold "
            "more than the five-dimensional design",
            "NB 2.8",
            "the median colour's error after ablation",
            factor=10,
        ),
        _compare(
            "2.9",
            "ablated",
            "r2",
            ("2.4", "suppression", "r2"),
            "similar",
            "red-only ablation is about as precise as 2.4's directional suppression",
            "NB 2.9",
            "precision = R² of error against the predictor, within 0.05",
            scale="difference",
            margin=0.05,
        ),
        _compare(
            "2.10",
            "ablated",
            "dmse:red",
            ("2.9", "ablated", "dmse:red"),
            "less",
            "with the red label alone, ablation removes red less fully than 2.9",
            "NB 2.10",
            "red's change under ablation",
        ),
    ]


CLAIMS = merge(sweep_claims() + old_claims())


def claims_for(experiment: str) -> list[Claim]:
    """The claims a chapter shows: those its experiment reports (alone or with others)."""
    return [c for c in CLAIMS if experiment in c.experiments]


def scorecard(results: dict[str, RunResult], claims: list[Claim] | None = None) -> pd.DataFrame:
    """One row per measurement: what is claimed and by whom, the deciding published value, ours, the rule's
    statistics and the verdict with its reason. Claims whose runs are not in `results` are left out."""
    rows = []
    for c in CLAIMS if claims is None else claims:
        needed = {c.experiment} | ({c.versus[0]} if c.versus else set())
        if not needed <= set(results):
            continue
        judged = c.judge(results).row()
        rows.append(
            {
                "claim": c.key,
                "experiment": c.experiment,
                "experiments": ", ".join(c.experiments),
                "kind": c.kind,
                "rule": RULES[c.kind],
                "evidence": c.evidence,
                "single_draw": c.single_draw,
                "statement": c.statement,
                "sources": "; ".join(map(str, c.sources)),
                "published": c.published,
                **judged,
                "mark": rules.VERDICTS[judged["verdict"]],
            }
        )
    return pd.DataFrame(rows).set_index("claim")


def summary(card: pd.DataFrame) -> dict[str, int]:
    """Claims counted as evidence, per verdict (construction claims are sanity checks, counted apart)."""
    evidence = card[card["evidence"]]
    return {v: int((evidence["verdict"] == v).sum()) for v in rules.VERDICTS}


def by_experiment(card: pd.DataFrame) -> pd.DataFrame:
    """Per experiment: evidence claims per verdict, and the construction checks that hold."""
    table = pd.crosstab(card.loc[card["evidence"], "experiment"], card.loc[card["evidence"], "verdict"])
    table = table.reindex(columns=list(rules.VERDICTS), fill_value=0)
    checks = (
        card[~card["evidence"]]
        .groupby("experiment")["verdict"]
        .agg(lambda v: f"{(v == 'reproduced').sum()} of {len(v)}")
    )
    table["sanity checks holding"] = checks.reindex(table.index).fillna("–")
    order = [e for e in experiments.EXPERIMENTS if e in table.index]
    return table.loc[order]


def untouched(rows: set[tuple[str, str]], colour: str = "cyan") -> list[Claim]:
    """The claims that `colour` is untouched (a zero change, or by construction) under the (experiment, variant)
    rows."""
    return [
        c
        for c in CLAIMS
        if (c.experiment, c.variant) in rows
        and c.column in (f"zc:{colour}", f"dmse:{colour}")
        and c.kind in ("zero", "construction")
    ]


def judged(cs: list[Claim], stream: str = "ours") -> pd.DataFrame:
    """The claims judged on the runs they need (loaded, or trained once per session); on the original's stream only
    the sweeps exist."""
    names = {c.experiment for c in cs} | {c.versus[0] for c in cs if c.versus}
    if stream != "ours":
        names &= set(experiments.SWEEPS)
    return scorecard({n: results.load(n, stream) for n in names}, cs)


def calibration(card: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The single-draw claims' percentiles among our seeds, and whether they look uniform (`rules.calibration`)."""
    draws = card[card["single_draw"]][["experiment", "statement", "published", "percentile", "verdict"]]
    return draws, rules.calibration(draws["percentile"].to_numpy(), len(results.OLD_SEEDS))


# What the paper and notebooks publish that no claim checks, and why.
NOT_CHECKED = (
    ("2.3", "repulsion median error 1.9e-05", "a stale printout: the notebook printed the suppression value again"),
    (
        "2.2-2.10",
        "final training loss in the progress bar",
        "one batch's loss at the last step, not a measurement of the model",
    ),
    ("2.4.1", "any-label count 189.72 ± 13.88", "a sample can carry both labels; we count each label on its own"),
    (
        "2.4.1, 2.9.1",
        "the paper's 83 ± 8 red labels per model (§3.1)",
        "matches no single experiment's count (82.2, 81.7 or "
        "83.6 in the notebooks); each notebook's count is checked instead",
    ),
    (
        "2.9.1, 2.10.1",
        "how many seeds fail",
        f"the notebooks print only a minimum score below {FAILED_SCORE}; the minimum is checked instead",
    ),
    (
        "2.9.1",
        '"more variability than the anchored architecture"',
        "checked as the two score spreads, each against its own notebook",
    ),
    ("2.7", "the RGB-cube figure", "a picture of the colour space, not of a result"),
    (
        "2.4",
        '"primaries and secondaries mostly co-planar", "a clean repulsion arc"',
        "read off pictures; the comparison with 2.3 checks what they imply for interventions",
    ),
    (
        "2.5",
        '"hues other than red placed arbitrarily"',
        "read off a picture of one seed; what it implies for suppression is checked against 2.4",
    ),
    (
        "2.9",
        '"only colours close to red occupy dimension 0"',
        "read off a picture; cyan's and the other colours' changes under ablation check what it implies",
    ),
    (
        "2.10",
        '"the schedule matters"',
        "from an earlier version of the notebook that was not kept; the fixed-weight "
        'study in "Beyond the paper" tests schedules',
    ),
)
