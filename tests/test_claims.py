"""The claims registry: one claim per distinct measurement, every rule able to fail, and every claim judged on
the runs the book shows. A claim that does not reproduce cleanly is a known gap with the range its rule's
statistic is expected in; a verdict within a hair of a threshold is not pinned (only its neighbourhood is)."""

import math

import numpy as np
import pytest
import torch

from sca import claims, experiments, results, rules, sweep
from sca.interventions import BezierMapper, Falloff, LinearMapper, Repulsion, Suppression

N_CLAIMS = 382  # distinct measurements in the registry: a change in coverage changes this on purpose
ORDER = list(rules.VERDICTS)
inf = math.inf

# Claims that do not reproduce cleanly: the verdict, and the rule's statistic with the range it lies in. The
# scorecard shows each with its reason; the closing notes explain them.
KNOWN_GAPS = {
    # Construction: lime and purple sit on the anchor's side of the wheel on most of our seeds (z·c > 0), so
    # suppression and repulsion do act on them there; on our selected model they face away.
    "2.4.1/suppression/zc:lime": ("marginal", "seeds_median", 0, inf),
    "2.4.1/suppression/zc:purple": ("marginal", "seeds_median", 0, inf),
    "2.4.1/repulsion/zc:lime": ("marginal", "seeds_median", 0, inf),
    "2.4.1/repulsion/zc:purple": ("marginal", "seeds_median", 0, inf),
    # Unrendered rows of the paper's tables (nine decimals): one selected model's tiny numbers in our seeds' tails.
    "2.4.1/suppression/dmse:light gray": ("marginal", "percentile", 0, 5),
    "2.4.1/ablated/dmse:light gray": ("marginal", "percentile", 0, 5),
    "2.9.1/ablated/dmse:orange": ("marginal", "percentile", 95, 100),
    "2.5.1/ablated/dmse:blue": ("marginal", "percentile", 95, 100),
    "2.5.1/ablated/dmse:light gray": ("marginal", "percentile", 0, 5),
    "2.7.1/suppression/dmse:orange": ("marginal", "percentile", 0, 5),
    "2.4.1/baseline/mse:pink": ("marginal", "percentile", 95, 100),
    "2.4.1/baseline/mse:dark gray": ("marginal", "percentile", 95, 100),
    "2.9.1/baseline/mse:yellow": ("marginal", "percentile", 0, 5),
    "2.9.1/baseline/mse:white": ("marginal", "percentile", 0, 5),
    "2.7.1/baseline/mse:azure": ("marginal", "percentile", 95, 100),
    "2.4.1/repulsion/dmse:gray": ("marginal", "percentile", 0, 5),
    # Black printed as 0.00 in C.5.1: the selected model moves it by 0.004; our median seed by more than 0.005.
    "2.5.1/suppression/dmse:black": ("marginal", "seeds_median", 0.005, inf),
    "2.5.1/ablated/dmse:black": ("marginal", "seeds_median", 0.005, inf),
    # Spreads of the 5-D sweeps: 2.9.1's validation terms (its notebook has a heavier tail in val_recon, ours a
    # heavier one in val_anti-anchor), 2.10.1's score (ours spreads wider).
    "2.9.1/runs/val_recon/std": ("not reproduced", "p_value", 0, 0.01),
    "2.9.1/runs/val_anti-anchor/std": ("not reproduced", "p_value", 0, 0.01),
    "2.10.1/runs/score/std": ("marginal", "p_value", 0.01, 0.05),
    "2.9.1/runs/val_anchor/std": ("marginal", "p_value", 0.01, 0.05),
    # Hue removal: yellow and cyan brighten on most seeds but not on our selected model.
    "2.7.1/ablated/dL:yellow": ("marginal", "seeds_median", 2.3, inf),
    "2.7.1/ablated/dL:cyan": ("marginal", "seeds_median", 2.3, inf),
    # The old notebooks' one seed: its maximum under suppression sits in the low tail of our seeds.
    "2.4/suppression/max_mse": ("marginal", "percentile", 0, 5),
    # Perceptually, deleting hue does shift the greys.
    "2.7/ablated/dde:gray": ("not reproduced", "seeds_median", 2.3, inf),
    # The road: what the notebooks concluded from one seed each, over ours.
    "2.2/repulsion median_mse vs suppression median_mse": ("not reproduced", "effect", 1, inf),  # repulsion is worse
    "2.3 vs 2.2/baseline max_mse": ("marginal", "effect", 0.05, 0.2),  # about, not fully, tenfold better
    "2.4 vs 2.3/suppression r2": ("marginal", "effect", -0.05, 0.05),  # no cleaner by R²
    "2.5 vs 2.4/suppression r2": ("not reproduced", "effect", -0.05, 0.05),  # no less precise
    "2.9/ablated r2 vs 2.4/suppression r2": ("not reproduced", "effect", 0.05, inf),  # more precise, not similar
    "2.10 vs 2.9/ablated dmse:red": ("not reproduced", "effect", 1, inf),  # removes red more fully, not less
    "2.4 vs 2.3/baseline median_mse": ("not reproduced", "effect", 0.5, 1.1),  # no worse
    "2.6/ablated dmse:cyan vs ablated dmse:red": ("marginal", "effect", -0.05, 0.05),  # about as much, on most seeds
}

# Verdicts within a hair of a threshold on our stream: the test accepts the neighbouring verdict too.
NEAR = {
    "2.5.1/ablated/dmse:green",
    "2.5.1/ablated/dmse:teal",
    "2.7.1/suppression/dmse:yellow",
    "2.5.1/baseline/mse:yellow",
    "2.5.1/baseline/mse:azure",
    "2.5.1/baseline/mse:pink",
    "2.7.1/baseline/mse:yellow",
    "2.5.1/ablated/r2",
    "2.7.1/runs/score/std",
    "2.7.1/runs/labels_vibrant/std",
    "2.4/suppression/max_mse",
    "2.7/ablated/max_mse",
    "2.10/ablated/max_mse",
    "2.4 vs 2.3/suppression r2",
    "2.6/ablated dmse:cyan vs ablated dmse:red",
}


@pytest.fixture(scope="module")
def card():
    """Every claim judged on the runs the book shows (trained here, on every core, if the cache does not hold them)."""
    results.prefetch(("ours",), cells=False)
    return claims.scorecard(results.load_all())


@pytest.mark.slow
def test_prefetched_runs_load_from_the_cache_without_training(card, monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr(sweep, "train", no_training)
    results.load.cache_clear()
    assert results.load("2.3").selected_seed == results.SHOWN_OLD_SEED
    assert results.load("2.9.1").train.seeds == list(experiments.get("2.9.1").seeds)


# --- the registry -----------------------------------------------------------------------------------------


def test_one_claim_per_measurement():
    assert len(claims.CLAIMS) == N_CLAIMS
    assert len({c.key for c in claims.CLAIMS}) == N_CLAIMS
    assert len({c.identity for c in claims.CLAIMS}) == N_CLAIMS
    assert {c.kind for c in claims.CLAIMS} == set(claims.KINDS)
    assert {e for c in claims.CLAIMS for e in c.experiments} == set(experiments.EXPERIMENTS)
    assert set(KNOWN_GAPS) <= {c.key for c in claims.CLAIMS} and {c.key for c in claims.CLAIMS} >= NEAR


def by_key(key):
    return next(c for c in claims.CLAIMS if c.key == key)


def test_a_number_printed_by_several_sources_is_one_claim():
    # 2.4, 2.6 and 2.7 train one model: their baseline maximum is one measurement
    assert by_key("2.4/baseline/max_mse").experiments == ("2.4", "2.6", "2.7")
    # pruning equals ablation: the notebook's pruned R² joins the ablated one, and the paper's value decides
    r2 = by_key("2.9.1/ablated/r2")
    assert [s.value for s in r2.sources] == [0.98, 0.99] and r2.published == 0.98
    assert not any(c.variant == "pruned" for c in claims.CLAIMS)
    # 2.9.1 and 2.10.1 draw the same red labels
    assert "2.10.1/runs/labels_red/mean" not in {c.key for c in claims.CLAIMS}
    # where the paper rounds the notebook's number, the notebook's more precise one decides
    assert by_key("2.4.1/runs/score/mean").published == 0.9515
    # a conclusion in words joins the number it describes
    assert [s.value for s in by_key("2.4.1/ablated/dmse:cyan").sources] == [0.341102749, None]


def test_a_zero_that_suppression_guarantees_is_a_sanity_check_not_evidence():
    c = by_key("2.4.1/suppression/zc:cyan")
    assert c.kind == "construction" and not c.evidence and c.column == "zc:cyan"
    assert by_key("2.9.1/suppression/dmse:cyan").kind == "zero"  # printed -0.00, not exactly 0: measured


def test_suppression_and_repulsion_leave_latents_facing_away_bitwise_unchanged():
    """The guarantee the construction claims rest on, for every intervention the experiments use."""
    z = torch.randn(4000, 4, generator=torch.Generator().manual_seed(1))
    z = z / z.norm(dim=-1, keepdim=True)
    z[:10, 0] = 0.0  # exactly on the boundary
    red = (1.0, 0.0, 0.0, 0.0)
    away = z[:, 0] <= 0
    for intervention in (
        Suppression(red, Falloff(0.0, 1.0, 2.0)),
        Suppression(red, Falloff(math.cos(math.pi / 2), 1.0, 0.0)),
        Repulsion(red, BezierMapper(0.0, 0.5)),
        Repulsion(red, LinearMapper(math.cos(math.pi / 2), 0.0175)),
    ):
        assert torch.equal(intervention(z)[away], z[away]), intervention


# --- every rule can fail ----------------------------------------------------------------------------------

SEEDS = np.linspace(0, 1, 101)


@pytest.mark.parametrize(
    "published, ours, verdict",
    [(0.5, 0.5, "reproduced"), (0.999, 1.0, "reproduced"), (0.98, 0.5, "marginal"), (1.5, 0.5, "not reproduced")],
)
def test_within_seeds(published, ours, verdict):
    assert rules.within_seeds(SEEDS, ours, published, 0.005).verdict == verdict


@pytest.mark.parametrize(
    "x, ours, verdict",
    [
        (np.full(60, 0.001), 0.001, "reproduced"),
        (np.full(60, 0.001), 0.2, "marginal"),
        (np.full(60, 0.2), 0.2, "not reproduced"),
    ],
)
def test_central_zero(x, ours, verdict):
    assert rules.central(x, ours, 0.005, "zero", "change").verdict == verdict


def test_central_rests_on_the_median_not_a_tail():
    x = np.r_[np.full(57, 0.1), np.zeros(3)]  # three seeds of sixty untouched, the median far from it
    assert rules.central(x, 0.0, 0.005, "zero", "change").verdict == "marginal"
    assert rules.central(x, 0.1, 0.005, "zero", "change").verdict == "not reproduced"
    assert rules.central(-x, -0.1, 0.005, "large", "change").verdict == "not reproduced"


def test_welch():
    x = np.random.default_rng(0).normal(1.0, 0.1, 60)
    assert rules.welch(x, x.mean(), 0.1, 60).verdict == "reproduced"
    assert rules.welch(x, x.mean() + 0.045, 0.1, 60).verdict == "marginal"
    assert rules.welch(x, x.mean() + 0.1, 0.1, 60).verdict == "not reproduced"  # one std off: it used to pass
    j = rules.welch(x, x.mean() + 0.1, 0.1, 60)
    assert j.effect_lo < -0.1 < j.effect_hi or j.effect_hi < 0  # the difference comes with its interval


def test_f_test():
    x = np.random.default_rng(0).normal(0, 1, 60)
    s = x.std(ddof=1)
    assert rules.f_test(x, s, 60).verdict == "reproduced"
    assert rules.f_test(x, s / 1.35, 60).verdict == "marginal"
    assert rules.f_test(x, s / 2, 60).verdict == "not reproduced"
    assert (
        rules.f_test(x, s / 2, 60, precision=s).verdict == "reproduced"
    )  # a printed std stands for its rounding range


def test_extreme():
    x = np.linspace(0.5, 1.0, 60)
    assert rules.extreme(x, 0.4, "min", 60).verdict == "reproduced"  # below all of ours: half the time by chance
    assert rules.extreme(x, x[6], "min", 60).verdict == "marginal"
    assert rules.extreme(x, x[12], "min", 60).verdict == "not reproduced"
    assert rules.extreme(x, x[-13], "max", 60).verdict == "not reproduced"


def test_count():
    assert rules.count(2, 60, 0, 60, "fail").verdict == "reproduced"
    assert rules.count(6, 60, 0, 60, "fail").verdict == "marginal"
    assert rules.count(12, 60, 0, 60, "fail").verdict == "not reproduced"


def test_construction():
    assert rules.construction(np.full(20, -0.1), -0.1, "x").verdict == "reproduced"
    assert rules.construction(np.full(20, 0.1), -0.1, "x").verdict == "marginal"
    assert rules.construction(np.full(20, 0.1), 0.1, "x").verdict == "not reproduced"


def test_compare():
    rng = np.random.default_rng(0)
    a, b = rng.lognormal(0, 0.3, 30), rng.lognormal(np.log(20), 0.3, 30)
    assert rules.compare(a, b, "less", factor=10).verdict == "reproduced"
    assert rules.compare(a, b, "less", factor=40).verdict == "marginal"  # less, but not fortyfold
    assert rules.compare(b, a, "less").verdict == "not reproduced"
    assert rules.compare(a, a * 1.001, "less", paired=True).verdict == "reproduced"  # paired: seed by seed
    c = rng.normal(0.9, 0.01, 30)
    assert rules.compare(c, c + 0.001, "similar", scale="difference", margin=0.05).verdict == "reproduced"
    assert rules.compare(c, c + 0.2, "similar", scale="difference", margin=0.05).verdict == "not reproduced"


def test_calibration():
    uniform = rules.calibration(np.linspace(0.5, 99.5, 100))
    assert uniform["outside"] == 10 and uniform["binomial_p"] > 0.5 and uniform["ks_p"] > 0.5
    low = rules.calibration(np.r_[np.zeros(20), np.linspace(0, 100, 20)])
    assert low["outside"] > 20 and low["binomial_p"] < 0.01 and low["ks_p"] < 0.01


def test_resolution():
    assert "from position 1.95 to 19.05 of the 20 sorted values" in rules.resolution(20)


# --- every claim, on the book's runs ----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("claim", claims.CLAIMS, ids=[c.key for c in claims.CLAIMS])
def test_claim(claim, card):
    row = card.loc[claim.key]
    expected, field, lo, hi = KNOWN_GAPS.get(claim.key, ("reproduced", None, None, None))
    if claim.key in NEAR:
        assert row["near"], f"{claim.key} is no longer near a threshold: pin its verdict ({row['reason']})"
        assert abs(ORDER.index(row["verdict"]) - ORDER.index(expected)) <= 1, row["reason"]
        return
    assert not row["near"], f"{claim.key} sits within a hair of a threshold ({row['verdict']}: {row['reason']})"
    assert row["verdict"] == expected, f"{claim.statement}: {row['reason']}"
    if field:
        assert lo <= row[field] <= hi, f"{claim.key}: {field} = {row[field]} outside [{lo}, {hi}] ({row['reason']})"


def test_pruning_equals_ablation_on_every_seed():
    for name in experiments.EXPERIMENTS:
        variants = {v.name for v in experiments.get(name).variants}
        if {"ablated", "pruned"} <= variants:
            pop = results.load(name).population
            pruned, ablated = (pop.xs(v, level="variant").filter(regex="^mse:") for v in ("pruned", "ablated"))
            assert np.allclose(pruned, ablated, atol=1e-6), name


@pytest.mark.slow
def test_calibration_of_the_single_draws(card):
    draws, c = claims.calibration(card)
    assert c["n"] == len(draws) == sum(c.single_draw for c in claims.CLAIMS)
    assert c["binomial_p"] >= rules.P_REPRODUCED  # as many outside the window as chance gives


@pytest.mark.slow
def test_summary_counts_evidence_only(card):
    counts = claims.summary(card)
    assert (
        sum(counts.values())
        == int(card["evidence"].sum())
        == N_CLAIMS - sum(c.kind == "construction" for c in claims.CLAIMS)
    )
    table = claims.by_experiment(card)
    assert table[list(rules.VERDICTS)].to_numpy().sum() == sum(counts.values())
