"""The verdict rules: one function per kind of evidence, each on plain arrays, each able to fail.

Every rule returns a `Judgement`: our number, where the published value falls (a percentile, a p-value, or an
effect with its 95% interval, whichever the rule uses), the verdict, a one-line reason, and `near`: whether
the verdict sits within a hair of a threshold (one seed's rank, or a p-value within a factor 1.5 of a cut-off),
so that no test pins a verdict the next random stream could flip.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

VERDICTS = {"reproduced": "✓", "marginal": "~", "not reproduced": "✗"}
SPREAD = (5, 95)  # percentiles of our seeds a selected-model number is judged against
P_REPRODUCED, P_MARGINAL = 0.05, 0.01  # p-value thresholds of every test
NEAR_P = 1.5  # a p-value within this factor of a threshold is near it
BOOTSTRAP = 2000  # resamples for a comparison's interval (fixed generator: the same interval every time)


@dataclass
class Judgement:
    verdict: str
    reason: str
    ours: float = np.nan  # our selected (or shown) model's value, or our statistic
    seeds_lo: float = np.nan  # our seeds' SPREAD percentiles and median
    seeds_median: float = np.nan
    seeds_hi: float = np.nan
    percentile: float = np.nan  # where the published value falls among our seeds
    p_value: float = np.nan
    effect: float = np.nan  # difference (or ratio) with its 95% interval
    effect_lo: float = np.nan
    effect_hi: float = np.nan
    near: bool = False

    def row(self) -> dict:
        return asdict(self)


def _three(ok_a: bool, ok_b: bool) -> str:
    return "reproduced" if ok_a and ok_b else "marginal" if ok_a or ok_b else "not reproduced"


def _by_p(p: float) -> str:
    return "reproduced" if p >= P_REPRODUCED else "marginal" if p >= P_MARGINAL else "not reproduced"


def _near_p(p: float) -> bool:
    return any(t / NEAR_P <= p <= t * NEAR_P for t in (P_REPRODUCED, P_MARGINAL))


def _spread(x: np.ndarray) -> dict:
    lo, hi = np.percentile(x, SPREAD)
    return {"seeds_lo": float(lo), "seeds_median": float(np.median(x)), "seeds_hi": float(hi)}


def percentile(sample: np.ndarray, value: float) -> float:
    """Where `value` falls in `sample`, in percent (mid-rank: ties count half), 0-100."""
    sample = np.asarray(sample, dtype=float)
    return float(100 * ((sample < value).mean() + 0.5 * (sample == value).mean()))


def ordinal(x: float) -> str:
    """A percentile (or any count) rounded to a whole number and written as English does: 1st, 2nd, 3rd, 11th, 23rd."""
    n = int(round(x))
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def resolution(n: int) -> str:
    """What the SPREAD window is in sorted seeds, for n seeds (numpy's linear interpolation)."""
    lo, hi = (1 + (n - 1) * q / 100 for q in SPREAD)
    return (
        f"with {n} seeds the {ordinal(SPREAD[0])}-{ordinal(SPREAD[1])} percentile window runs from position "
        f"{lo:.2f} to {hi:.2f} of the {n} sorted values"
    )


def within_seeds(x: np.ndarray, ours: float, published: float, precision: float) -> Judgement:
    """A number published for one model (a selected one, or the one seed an old notebook trained): reproduced
    if, widened by its printed precision, it overlaps our seeds' SPREAD window or matches our model's; marginal
    if it lies within our seeds' full range; not reproduced otherwise."""
    x = np.asarray(x, dtype=float)
    lo_p, hi_p = published - precision, published + precision

    def verdict(window):
        lo, hi = np.percentile(x, window)
        if (hi_p >= lo and lo_p <= hi) or lo_p <= ours <= hi_p:
            return "reproduced"
        return "marginal" if hi_p >= x.min() and lo_p <= x.max() else "not reproduced"

    step = 100 / len(x)
    shifted = {verdict((max(0, SPREAD[0] + d), min(100, SPREAD[1] - d))) for d in (-step, step)}
    pct, s = percentile(x, published), _spread(x)
    return Judgement(
        verdict(SPREAD),
        f"the published {published:.3g} lies at our {ordinal(pct)} percentile "
        f"(our seeds' {SPREAD[0]}-{SPREAD[1]}% range {s['seeds_lo']:.3g} to {s['seeds_hi']:.3g}; our model {ours:.3g})",
        ours,
        **s,
        percentile=pct,
        near=len(shifted | {verdict(SPREAD)}) > 1,
    )


def central(x: np.ndarray, ours: float, tolerance: float, expect: str, what: str) -> Judgement:
    """A value said to be zero (printed as zero, or "untouched") or said to be large ("damaged"), judged on the
    central mass: the median seed (of |x| for zero) and our model must both hold; one is marginal."""
    x = np.asarray(x, dtype=float)
    if expect == "zero":
        mid, holds = float(np.median(np.abs(x))), lambda v: abs(v) <= tolerance
    elif expect == "large":
        mid, holds = float(np.median(x)), lambda v: v > tolerance
    else:
        raise ValueError(f"central: expect {expect!r} must be 'zero' or 'large'")
    share = float(np.mean([holds(v) for v in x]))
    near = any(abs(abs(v) - tolerance) <= 0.1 * tolerance for v in (mid, ours))
    sign = "≤" if expect == "zero" else ">"
    return Judgement(
        _three(holds(mid), holds(ours)),
        f"{what} {'|median|' if expect == 'zero' else 'median'} over seeds {mid:.3g}, our model {ours:.3g}, "
        f"against {sign} {tolerance:g}; holds on {share:.0%} of seeds",
        ours,
        **_spread(x),
        near=near,
    )


def _nearest(value: float, target: float, precision: float) -> float:
    """The value within ±precision of `value` (what was printed) nearest `target`: a printed number stands for
    any number that rounds to it."""
    return float(np.clip(target, value - precision, value + precision))


def welch(x: np.ndarray, mean: float, std: float, n: int, precision: float = 0.0) -> Judgement:
    """A published mean (with its standard deviation over n seeds) against ours: Welch's two-sample t-test;
    the difference is shown with its 95% interval. A printed number stands for any that rounds to it: the mean is
    taken nearest ours within its precision, the standard deviation at the top of its own."""
    x = np.asarray(x, dtype=float)
    m, s, k = float(x.mean()), float(x.std(ddof=1)), len(x)
    mean, std = _nearest(mean, m, precision), std + precision
    se2a, se2b = s**2 / k, std**2 / n
    se = np.sqrt(se2a + se2b)
    df = (se2a + se2b) ** 2 / (se2a**2 / (k - 1) + se2b**2 / (n - 1)) if se > 0 else np.inf
    diff = m - mean
    p = float(2 * stats.t.sf(abs(diff) / se, df)) if se > 0 else float(diff == 0)
    half = float(stats.t.ppf(0.975, df) * se) if se > 0 else 0.0
    return Judgement(
        _by_p(p),
        f"our mean {m:.4g} differs by {diff:+.3g} (95% interval {diff - half:+.3g} to {diff + half:+.3g}; "
        f"Welch p = {p:.2g})",
        m,
        **_spread(x),
        p_value=p,
        effect=diff,
        effect_lo=diff - half,
        effect_hi=diff + half,
        near=_near_p(p),
    )


def f_test(x: np.ndarray, std: float, n: int, precision: float = 0.0) -> Judgement:
    """A published standard deviation over n seeds against ours: the two-sided F-test of the two variances, the
    published one taken anywhere within its printed precision."""
    x = np.asarray(x, dtype=float)
    ours = float(x.std(ddof=1))
    std = max(_nearest(std, ours, precision), precision)
    f = ours**2 / std**2
    p = float(min(1.0, 2 * min(stats.f.cdf(f, len(x) - 1, n - 1), stats.f.sf(f, len(x) - 1, n - 1))))
    return Judgement(
        _by_p(p),
        f"our spread is {ours / std:.2f}× the published one (F-test p = {p:.2g})",
        ours,
        **_spread(x),
        p_value=p,
        effect=ours / std,
        near=_near_p(p),
    )


def extreme(x: np.ndarray, published: float, which: str, n: int, precision: float = 0.0) -> Judgement:
    """A published minimum (or maximum) of n seeds against our seeds, as a rank test: if both samples come from
    one distribution, the pooled values are exchangeable, and j of ours lie beyond the published extreme with
    probability C(m, j)/C(m + n, j) or more. Two-sided: too many of ours beyond it, or (rarely possible) too few."""
    x = np.asarray(x, dtype=float)
    m = len(x)
    beyond = int((x < published - precision).sum() if which == "min" else (x > published + precision).sum())

    def at_least(j: int) -> float:  # P(J >= j)
        return float(np.prod([(m - i) / (m + n - i) for i in range(j)])) if j <= m else 0.0

    p = min(1.0, 2 * min(at_least(beyond), 1 - at_least(beyond + 1)))
    ours = float(x.min() if which == "min" else x.max())
    return Judgement(
        _by_p(p),
        f"{beyond} of our {m} seeds lie {'below' if which == 'min' else 'above'} the published "
        f"{which} {published:.4g} (ours {ours:.4g}; rank test p = {p:.2g})",
        ours,
        **_spread(x),
        percentile=percentile(x, published),
        p_value=p,
        near=_near_p(p),
    )


def count(k: int, m: int, published: int, n: int, what: str) -> Judgement:
    """A published count of seeds (of n) against ours (k of m): Fisher's exact test."""
    p = float(stats.fisher_exact([[k, m - k], [published, n - published]]).pvalue)
    return Judgement(
        _by_p(p),
        f"{k} of our {m} seeds {what}, against {published} of {n} published (Fisher p = {p:.2g})",
        float(k),
        p_value=p,
        effect=k / m - published / n,
        near=_near_p(p),
    )


def construction(x: np.ndarray, ours: float, what: str) -> Judgement:
    """A fact that makes a published result hold by construction (e.g. z·c ≤ 0, where suppression is the
    identity): reproduced if it holds on our model and on most seeds, marginal if on one of the two."""
    x = np.asarray(x, dtype=float)
    share = float((x <= 0).mean())
    step = 1 / len(x)
    return Judgement(
        _three(ours <= 0, share > 0.5),
        f"{what}: z·c is {ours:+.2f} on our model and ≤ 0 on {share:.0%} of seeds",
        ours,
        **_spread(x),
        near=abs(share - 0.5) <= step or abs(ours) < 1e-3,
    )


def compare(
    a: np.ndarray,
    b: np.ndarray,
    direction: str,
    factor: float = 1.0,
    paired: bool = False,
    scale: str = "ratio",
    margin: float = 0.0,
) -> Judgement:
    """Two sets of seeds, A and B (two experiments, or two variants or columns of one: then `paired`, seed by
    seed). `direction` "less": A·factor < B; "greater": A > B·factor; "similar": |A - B| within `margin`.
    The effect is the ratio (or difference, by `scale`) of the medians, with a 95% bootstrap interval; the test
    is Mann-Whitney (Wilcoxon signed-rank when paired). A direction claim reproduces if the medians go the
    claimed way with p < P_REPRODUCED; marginal if they go that way without significance, or significantly
    only without the factor; a "similar" claim reproduces if the interval lies within ±margin, marginal if
    the estimate does."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    effect_of = (
        (lambda u, v: np.median(u, -1) / np.median(v, -1))
        if scale == "ratio"
        else (lambda u, v: np.median(u, -1) - np.median(v, -1))
    )
    rng = np.random.default_rng(0)
    draws = []  # the resamples' positions, drawn one resample at a time; their medians all at once
    for _ in range(BOOTSTRAP):
        i = rng.integers(0, len(a), len(a))
        draws.append((i, i if paired else rng.integers(0, len(b), len(b))))
    boot = effect_of(a[np.stack([i for i, _ in draws])], b[np.stack([j for _, j in draws])])
    lo, hi = np.percentile(boot, [2.5, 97.5])
    effect = float(effect_of(a, b))

    def test(u, v) -> float:
        if paired:
            d = u - v
            return 1.0 if np.all(d == 0) else float(stats.wilcoxon(u, v).pvalue)
        return float(stats.mannwhitneyu(u, v).pvalue)

    name = "Wilcoxon" if paired else "Mann-Whitney"
    shown = (
        f"{'ratio' if scale == 'ratio' else 'difference'} of medians {effect:.3g} (95% interval {lo:.3g} to {hi:.3g})"
    )
    if direction == "similar":
        p = test(a, b)
        verdict = (
            "reproduced"
            if -margin <= lo and hi <= margin
            else "marginal"
            if abs(effect) <= margin
            else "not reproduced"
        )
        near = min(abs(abs(lo) - margin), abs(abs(hi) - margin), abs(abs(effect) - margin)) <= 0.1 * margin
        return Judgement(
            verdict,
            f"{shown}, against ±{margin:g} ({name} p = {p:.2g})",
            float(np.median(a)),
            **_spread(a),
            p_value=p,
            effect=effect,
            effect_lo=float(lo),
            effect_hi=float(hi),
            near=near,
        )
    if direction not in ("less", "greater"):
        raise ValueError(f"compare: direction {direction!r} must be 'less', 'greater' or 'similar'")
    lhs, rhs = (a * factor, b) if direction == "less" else (a, b * factor)
    right = np.median(lhs) < np.median(rhs) if direction == "less" else np.median(lhs) > np.median(rhs)
    p = test(lhs, rhs)
    plain_right = np.median(a) < np.median(b) if direction == "less" else np.median(a) > np.median(b)
    p_plain = test(a, b) if factor != 1 else p
    if right and p < P_REPRODUCED:
        verdict = "reproduced"
    elif right or (factor != 1 and plain_right and p_plain < P_REPRODUCED):
        verdict = "marginal"
    else:
        verdict = "not reproduced"
    # near: a p-value near a cut-off where the direction is right, or an interval that holds the claimed threshold
    threshold = (1 / factor if direction == "less" else factor) if scale == "ratio" else 0.0
    near = (_near_p(p) or (factor != 1 and _near_p(p_plain))) if right else bool(lo <= threshold <= hi)
    size = f" by a factor {factor:g}" if factor != 1 else ""
    return Judgement(
        verdict,
        f"{shown}; {'as claimed' if right else 'not as claimed'}{size} ({name} p = {p:.2g})",
        float(np.median(a)),
        **_spread(a),
        p_value=p,
        effect=effect,
        effect_lo=float(lo),
        effect_hi=float(hi),
        near=near,
    )


def calibration(percentiles: np.ndarray, seeds: int | None = None) -> dict:
    """Single draws placed among our seeds: if our implementation is faithful, each percentile is uniform on
    0-100, so about a tenth fall outside SPREAD by chance. The count outside against that (binomial test) and
    the whole sample against uniform (Kolmogorov-Smirnov; approximate, since percentiles among a few seeds are
    discrete). With `seeds`, also how many lie beyond every one of our seeds, against chance."""
    q = np.asarray(percentiles, dtype=float) / 100
    n = len(q)
    outside = int(((q < SPREAD[0] / 100) | (q > SPREAD[1] / 100)).sum())
    chance = 1 - (SPREAD[1] - SPREAD[0]) / 100
    beyond = {}
    if seeds:  # a draw beyond every one of `seeds` seeds happens with probability 2/(seeds + 1) by chance
        beyond = {"beyond_all": int(((q == 0) | (q == 1)).sum()), "expected_beyond_all": n * 2 / (seeds + 1)}
    binomial_p = float(stats.binomtest(outside, n, chance).pvalue)
    against = "chance" if binomial_p >= P_REPRODUCED else "more" if outside > chance * n else "fewer"
    return beyond | {
        "n": n,
        "outside": outside,
        "expected_outside": chance * n,
        "binomial_p": binomial_p,
        "against_chance": against,  # within what chance gives, or significantly more or fewer
        "ks_p": float(stats.kstest(q, "uniform").pvalue),
        "low": int((q < SPREAD[0] / 100).sum()),
        "high": int((q > SPREAD[1] / 100).sum()),
    }
