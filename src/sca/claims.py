"""Every published claim of the five sweeps, how ours is computed, and the rule that judges it.

A claim is one of four kinds, each judged like with like:

- **selected**: a number the paper or notebook reports for its selected model (a named colour's Δ, an
  R²). One seed's number moves by several hundredths with the random stream alone (rerun.md), so it is
  judged against the distribution of the same quantity over our seeds, and against our selected model
  (selection picks the top of the score's distribution, so a selected model's R² sits at its top end):
  reproduced if the published value, widened by its printed precision, falls within our seeds' 5th-95th
  percentile range or matches our selected model's; marginal if it falls within their full range; not
  reproduced otherwise.
- **bound**: the paper's analytic reference value (1/4, 1/3) for red's error, judged the same way.
- **distribution**: a statistic over the 60 seeds. A mean is reproduced if ours lies within one published
  standard deviation of it (marginal within two); a standard deviation if a two-sided F-test of the two
  variances gives p ≥ 0.05 (marginal p ≥ 0.01).
- **qualitative**: a colour left untouched (CIEDE2000 ΔE change at most one just-noticeable difference)
  or damaged (more than one): reproduced if it holds on our selected model and on most seeds; marginal
  if only one of the two; not reproduced if neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd
from scipy import stats

from . import reference
from .evaluate import ablation_bound, suppression_bound
from .population import JND, percentile, values
from .sweep import RunResult

KINDS = ("selected", "bound", "distribution", "qualitative")
VERDICTS = {"reproduced": "✓", "marginal": "~", "not reproduced": "✗"}
SPREAD = (5, 95)  # percentiles of our seeds a selected-model number is judged against
P_REPRODUCED, P_MARGINAL = 0.05, 0.01  # F-test thresholds for a spread
VARIANT_LABEL = {"baseline": "of the baseline", "suppression": "under suppression", "repulsion": "under repulsion",
                 "ablated": "under weight ablation", "pruned": "under pruning"}


@dataclass(frozen=True)
class Claim:
    id: str
    experiment: str
    statement: str
    source: str
    kind: str  # one of KINDS
    published: float | None  # None for qualitative claims
    variant: str = ""  # selected / bound / qualitative: which variant
    column: str = ""  # population column (dmse:<colour>, r2, dde:<colour>) or runs column (distribution)
    statistic: str = ""  # distribution: "mean" or "std"
    published_std: float | None = None  # distribution, mean: the published standard deviation
    expect: str = ""  # qualitative: "untouched" or "damaged"
    precision: float = 0.0  # half a unit of the published value's last printed digit

    def per_seed(self, r: RunResult) -> pd.Series:
        if self.kind == "distribution":
            return r.runs[self.column]
        return values(r.population, self.variant, self.column)

    def judge(self, r: RunResult) -> dict:
        """Our numbers and the verdict, with a one-line reason."""
        seeds = self.per_seed(r)
        if self.kind == "distribution":
            return self._judge_distribution(seeds.to_numpy(float))
        if self.kind == "qualitative":
            return self._judge_qualitative(seeds, r.selected_seed)
        return self._judge_number(seeds, r.selected_seed)

    def _judge_number(self, seeds: pd.Series, selected: int) -> dict:
        x = seeds.to_numpy(float)
        lo, hi = np.percentile(x, SPREAD)
        pub_lo, pub_hi = self.published - self.precision, self.published + self.precision
        ours = float(seeds[selected])
        if (pub_hi >= lo and pub_lo <= hi) or pub_lo <= ours <= pub_hi:
            verdict = "reproduced"
        elif pub_hi >= x.min() and pub_lo <= x.max():
            verdict = "marginal"
        else:
            verdict = "not reproduced"
        pct = percentile(x, self.published)
        return {"ours": ours, "seeds_lo": lo, "seeds_median": float(np.median(x)), "seeds_hi": hi,
                "percentile": pct, "verdict": verdict,
                "reason": f"the published {self.published:.3g} lies at our {pct:.0f}th percentile "
                          f"(our seeds' {SPREAD[0]}-{SPREAD[1]}% range {lo:.3g} to {hi:.3g}; our seed {selected} gives {ours:.3g})"}

    def _judge_distribution(self, x: np.ndarray) -> dict:
        n = len(x)
        if self.statistic == "mean":
            ours, gap = float(x.mean()), float(x.mean()) - self.published
            z = abs(gap) / self.published_std
            verdict = "reproduced" if z <= 1 else "marginal" if z <= 2 else "not reproduced"
            p = stats.ttest_ind_from_stats(x.mean(), x.std(ddof=1), n, self.published, self.published_std, n,
                                           equal_var=False).pvalue
            reason = f"our mean differs by {gap:+.3g}, {z:.2f} published standard deviations (Welch p = {p:.2f})"
        else:
            ours = float(x.std(ddof=1))
            f = ours**2 / self.published**2
            p = float(2 * min(stats.f.cdf(f, n - 1, n - 1), stats.f.sf(f, n - 1, n - 1)))
            verdict = "reproduced" if p >= P_REPRODUCED else "marginal" if p >= P_MARGINAL else "not reproduced"
            reason = f"our spread is {ours / self.published:.2f}× the published one (F-test p = {p:.2f})"
        return {"ours": ours, "seeds_lo": float(np.percentile(x, SPREAD[0])), "seeds_median": float(np.median(x)),
                "seeds_hi": float(np.percentile(x, SPREAD[1])), "percentile": np.nan, "verdict": verdict, "reason": reason}

    def _judge_qualitative(self, seeds: pd.Series, selected: int) -> dict:
        holds = seeds <= JND if self.expect == "untouched" else seeds > JND
        on_selected, share = bool(holds[selected]), float(holds.mean())
        verdict = ("reproduced" if on_selected and share > 0.5 else
                   "marginal" if on_selected or share > 0.5 else "not reproduced")
        return {"ours": float(seeds[selected]), "seeds_lo": float(np.percentile(seeds, SPREAD[0])),
                "seeds_median": float(seeds.median()), "seeds_hi": float(np.percentile(seeds, SPREAD[1])),
                "percentile": np.nan, "verdict": verdict,
                "reason": f"{'holds' if on_selected else 'does not hold'} on our selected model "
                          f"(ΔE change {seeds[selected]:.2f}, one just-noticeable difference is {JND}) and holds on {share:.0%} of seeds"}


def _table_claims(experiment: str, table: dict, columns: tuple[str, ...], source: str) -> list[Claim]:
    out = []
    for colour in reference.TABLE_ROWS:
        for variant, value in zip(columns, table[colour]):
            out.append(Claim(f"{experiment}/{variant}/{colour}", experiment,
                             f"{colour}'s error changes by {value:.2f} {VARIANT_LABEL[variant]}", source, "selected",
                             value, variant, f"dmse:{colour}", precision=reference.TABLE_PRECISION))
    return out


def _qualitative(experiment: str, variant: str, colour: str, expect: str, source: str) -> Claim:
    state = "is untouched" if expect == "untouched" else "is also damaged"
    return Claim(f"{experiment}/{variant}/{colour} {expect}", experiment, f"{colour} {state} {VARIANT_LABEL[variant]}",
                 source, "qualitative", None, variant, f"dde:{colour}", expect=expect)


def registry() -> list[Claim]:
    """Every claim of the five sweeps, in the book's order."""
    claims = []
    for (exp, variant) in reference.TABLE_1_COLUMNS:
        idx = reference.TABLE_1_COLUMNS.index((exp, variant))
        claims += _table_claims(exp, {c: (v[idx],) for c, v in reference.TABLE_1.items()}, (variant,), "paper Table 1")
    claims += _table_claims("2.5.1", reference.TABLE_C51, ("suppression", "ablated"), "paper Table C.5.1")
    claims += _table_claims("2.7.1", reference.TABLE_C52, ("suppression", "ablated"), "paper Table C.5.2")
    for (exp, variant), (value, source) in reference.R2_PUBLISHED.items():
        claims.append(Claim(f"{exp}/{variant}/R²", exp, f"error follows its predictor with R² {value:.2f} {VARIANT_LABEL[variant]}",
                            source, "selected", value, variant, "r2", precision=0.005))
    claims += [
        Claim("2.4.1/suppression/bound", "2.4.1", f"suppressed red's error approaches {Fraction(suppression_bound())} (red decoded as mid-grey)",
              "paper §3.2", "bound", suppression_bound(), "suppression", "dmse:red"),
        Claim("2.9.1/ablated/bound", "2.9.1", f"ablated red's error approaches {Fraction(ablation_bound()).limit_denominator(100)} (red decoded as a random colour)",
              "paper §3.3", "bound", ablation_bound(), "ablated", "dmse:red"),
    ]
    for exp, stat in reference.SWEEP_STATS.items():
        for column, (lo, hi, mean, std) in stat.items():
            if column not in ("score",) and not column.startswith("labels_"):
                continue
            what = "score" if column == "score" else f"{column.removeprefix('labels_')} labels per run"
            source = "paper §3.2-3.3, NB describe()" if column == "score" else "NB describe()"
            claims.append(Claim(f"{exp}/{column}/mean", exp, f"mean {what} over 60 seeds is {mean:.4g}", source,
                                "distribution", mean, column=column, statistic="mean", published_std=std))
            if column == "score":
                claims.append(Claim(f"{exp}/{column}/std", exp, f"{what} has standard deviation {std:.4g} over 60 seeds",
                                    source, "distribution", std, column=column, statistic="std"))
    claims += [
        _qualitative("2.4.1", "suppression", "cyan", "untouched", "paper §3.2"),
        _qualitative("2.4.1", "suppression", "lime", "untouched", "paper §3.2"),
        _qualitative("2.4.1", "suppression", "purple", "untouched", "paper §3.2"),
        _qualitative("2.4.1", "repulsion", "cyan", "untouched", "NB 2.4.1"),
        _qualitative("2.4.1", "ablated", "cyan", "damaged", "paper Fig. C.4b"),
        _qualitative("2.9.1", "ablated", "cyan", "untouched", "paper §3.3"),
        _qualitative("2.9.1", "ablated", "lime", "untouched", "paper §3.3"),
        _qualitative("2.9.1", "ablated", "purple", "untouched", "paper §3.3"),
        _qualitative("2.9.1", "suppression", "cyan", "untouched", "paper Table 1"),
        _qualitative("2.5.1", "ablated", "cyan", "damaged", "paper Table C.5.1"),
        _qualitative("2.10.1", "ablated", "cyan", "untouched", "NB 2.10.1"),
    ]
    return claims


def half_unit(value: float) -> float:
    """Half a unit of the last digit `value` was printed with (0.074 -> 0.0005, 1.5e-05 -> 5e-07)."""
    return 0.5 * 10.0 ** Decimal(repr(value)).as_tuple().exponent


SINGLE_SEED = ("2.2", "2.3", "2.3-sigmoid", "2.4", "2.5", "2.6", "2.7", "2.8", "2.9", "2.10")


def single_seed_registry() -> list[Claim]:
    """The old notebooks' printed max and median per-colour error (one seed each), per variant."""
    out = []
    for exp, printed in reference.OLD_MAX_MEDIAN.items():
        for variant, (mx, med) in printed.items():
            label = VARIANT_LABEL.get(variant, variant)
            for stat, value in (("max", mx), ("median", med)):
                if value is not None:
                    out.append(Claim(f"{exp}/{variant}/{stat}", exp, f"{stat} per-colour error {label}: {value:g}",
                                     f"NB {exp.removesuffix('-sigmoid')}", "selected", value, variant, f"{stat}_mse",
                                     precision=half_unit(value)))
    return out


def narrative_registry() -> list[Claim]:
    """What the old notebooks concluded in words (experiments.md §C), checked on our seeds."""
    return [
        _qualitative("2.2", "suppression", "cyan", "untouched", "NB 2.2: interventions on an M1 model are targeted"),
        _qualitative("2.4", "suppression", "cyan", "untouched", "NB 2.4: cleaner interventions after normalisation"),
        _qualitative("2.5", "suppression", "cyan", "untouched", "NB 2.5: one anchor suffices"),
        _qualitative("2.6", "ablated", "cyan", "damaged", "NB 2.6: deleting the axis deletes red and cyan"),
        _qualitative("2.6", "ablated", "lime", "untouched", "NB 2.6: colours orthogonal to warmth survive"),
        _qualitative("2.7", "ablated", "lime", "damaged", "NB 2.7: deleting hue loses every vibrant colour"),
        _qualitative("2.7", "ablated", "gray", "untouched", "NB 2.7: greys are unaffected"),
        _qualitative("2.9", "ablated", "cyan", "untouched", "NB 2.9: red-only deletion works, cyan unaffected"),
        _qualitative("2.10", "ablated", "cyan", "untouched", "NB 2.10: red-only deletion with the red label alone"),
    ]


CLAIMS = registry() + single_seed_registry() + narrative_registry()


def claims_for(experiment: str) -> list[Claim]:
    return [c for c in CLAIMS if c.experiment == experiment]


def scorecard(results: dict[str, RunResult], claims: list[Claim] | None = None) -> pd.DataFrame:
    """One row per claim: what is claimed and where, the published value, ours, where the published value
    falls among our seeds, and the verdict with its reason."""
    rows = []
    for c in claims if claims is not None else CLAIMS:
        if c.experiment not in results:
            continue
        judged = c.judge(results[c.experiment])
        rows.append({"claim": c.id, "experiment": c.experiment, "kind": c.kind, "statement": c.statement,
                     "source": c.source, "published": c.published, **judged, "mark": VERDICTS[judged["verdict"]]})
    return pd.DataFrame(rows).set_index("claim")


def summary(card: pd.DataFrame) -> dict[str, int]:
    """Claims per verdict."""
    return {v: int((card["verdict"] == v).sum()) for v in VERDICTS}
