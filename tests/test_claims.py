"""The paper's claims, from the registry, on the same 60-seed runs the book shows: every claim the
reproduction supports must keep its verdict, and those it does not are listed with their expected gap."""

import os
import shutil

import numpy as np
import pandas as pd
import pytest

from sca import claims, experiments, report
from sca.population import percentile
from sca.sweep import run

# Claims that do not reproduce cleanly, with the verdict they get and why (the scorecard shows them too).
KNOWN_GAPS = {
    "2.5.1/ablated/R²": ("marginal", "the notebook's 0.47 sits at our 95th percentile; our selected model gives 0.32"),
    "2.9.1/pruned/R²": ("not reproduced", "the notebook prints 0.99; our best seed reaches 0.98, the paper's own figure"),
    "2.7.1/score/std": ("marginal", "our score spread is 1.3x the published one (F-test p = 0.05)"),
    "2.10.1/score/std": ("not reproduced", "our score spread is 1.4x the published one (F-test p = 0.01)"),
    "2.10.1/ablated/cyan untouched": ("marginal", "our selected model changes cyan by ΔE 6; 70% of seeds leave it untouched"),
    # The old notebooks' one seed: its maxima under interventions sit in the low tail of our seeds, its medians centrally.
    "2.3/baseline/max": ("marginal", "the printed 0.0017 sits at our 95th percentile"),
    "2.4/suppression/max": ("not reproduced", "the printed 0.16 lies below all 20 of our seeds (lowest about 0.18)"),
    "2.4/repulsion/max": ("marginal", "the printed 0.094 sits at our 5th percentile"),
    "2.6/ablated/max": ("marginal", "the printed 0.27 sits at our 5th percentile"),
    "2.6/pruned/max": ("marginal", "the printed 0.27 sits at our 5th percentile"),
    "2.7/ablated/max": ("not reproduced", "the printed 0.31 lies below all 20 of our seeds (lowest about 0.33)"),
    "2.10/ablated/max": ("marginal", "the printed 0.073 sits at our 5th percentile"),
    # Perceptually, deleting hue does shift the greys: a CIEDE2000 change of about 9 on our seed 0, above 2.3 on every seed.
    "2.7/ablated/gray untouched": ("not reproduced", "grey's ΔE rises by more than one just-noticeable difference"),
}


@pytest.fixture(scope="module")
def card():
    """Every claim judged on the runs the book shows (the sweeps' 60 seeds; the old notebooks' experiments on
    report.SINGLE_SEEDS, showing seed 0), loaded from the cache the book's render filled."""
    names = {c.experiment for c in claims.CLAIMS}
    return claims.scorecard({n: report.load_single(n) if n in claims.SINGLE_SEED else report.load(n) for n in names})


def test_the_registry_covers_every_experiment_with_at_least_forty_claims():
    assert len(claims.CLAIMS) >= 40 and len({c.id for c in claims.CLAIMS}) == len(claims.CLAIMS)
    assert {c.experiment for c in claims.CLAIMS} == {"2.4.1", "2.5.1", "2.7.1", "2.9.1", "2.10.1", *claims.SINGLE_SEED}
    assert {c.kind for c in claims.CLAIMS} == set(claims.KINDS)
    assert set(KNOWN_GAPS) <= {c.id for c in claims.CLAIMS}


@pytest.mark.parametrize("claim", claims.CLAIMS, ids=[c.id for c in claims.CLAIMS])
def test_claim(claim, card):
    expected = KNOWN_GAPS.get(claim.id, ("reproduced", ""))[0]
    row = card.loc[claim.id]
    assert row["verdict"] == expected, f"{claim.statement}: {row['reason']}"


def test_selection_is_the_best_score_on_the_pareto_front():
    r = run(experiments.get("2.4.1"))
    front = r.runs[r.runs["pareto"]]
    assert r.selected_seed in front.index
    assert r.runs.loc[r.selected_seed, "score"] == front["score"].max()
    assert not r.runs.loc[~r.runs["pareto"]].empty  # the front is a real subset


def test_pruning_equals_ablation_on_every_seed():
    r = run(experiments.get("2.9.1"))
    pruned, ablated = (r.population.xs(v, level="variant").filter(like="mse:") for v in ("pruned", "ablated"))
    assert np.allclose(pruned, ablated, atol=1e-6)


def test_percentile_counts_ties_half():
    assert percentile(np.array([0.0, 0.0, 1.0, 2.0]), 0.0) == 25.0
    assert percentile(np.array([1.0, 2.0]), 3.0) == 100.0


@pytest.mark.parametrize("published, verdict", [(0.5, "reproduced"), (0.96, "marginal"), (1.5, "not reproduced"),
                                                (0.999, "reproduced")])
def test_a_selected_number_is_judged_by_our_seed_spread(published, verdict):
    seeds = pd.Series(np.linspace(0, 1, 101), index=range(101))
    claim = claims.Claim("x", "e", "s", "src", "selected", published, precision=0.005)
    # seed 100 (value 1.0) plays our selected model: 0.999 matches it within the precision
    assert claim._judge_number(seeds, selected=100)["verdict"] == verdict


def test_a_mean_is_judged_in_published_standard_deviations():
    x = np.random.default_rng(0).normal(1.0, 0.1, 60)
    near = claims.Claim("m", "e", "s", "src", "distribution", 1.05, statistic="mean", published_std=0.1)
    far = claims.Claim("m", "e", "s", "src", "distribution", 1.5, statistic="mean", published_std=0.1)
    assert near._judge_distribution(x)["verdict"] == "reproduced"
    assert far._judge_distribution(x)["verdict"] == "not reproduced"


@pytest.mark.skipif(shutil.which("xelatex") is None and not os.environ.get("CI"),
                    reason="xelatex not installed (make test installs it)")
def test_the_scorecard_latex_compiles(card, tmp_path):
    from sca import report, tables

    frame = report._card_table(card).frame
    path = tables.frame_latex(frame, tmp_path / "scorecard.tex", "Scorecard", "tab:scorecard", report.CARD_FORMATS)
    tex = path.read_text()
    assert r"\toprule" in tex and r"\begin{longtable}" in tex and "2.4.1/" not in tex
    assert tables.compile_table(path).read_bytes().startswith(b"%PDF")
