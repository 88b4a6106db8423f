import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from sca.evaluate import (
    ablation_bound,
    named_color_table,
    pareto_front,
    pearson_r,
    predictor,
    select,
    suppression_bound,
)


def test_analytic_bounds():
    assert suppression_bound() == pytest.approx(1 / 4)
    assert ablation_bound() == pytest.approx(1 / 3)


def test_ablation_bound_agrees_with_monte_carlo():
    rgb = np.random.default_rng(0).random((200_000, 3))
    mc = ((rgb - np.array([1, 0, 0])) ** 2).mean()
    assert mc == pytest.approx(ablation_bound(), abs=3e-3)


def test_batched_pearson_matches_scipy():
    rng = np.random.default_rng(1)
    x, y = rng.random(100), rng.random((4, 100))
    y[2] = 3 * x + 0.1 * y[2]
    for row, r in zip(y, pearson_r(x, y)):
        assert r == pytest.approx(stats.pearsonr(x, row)[0])


def brute_force_front(df, minimize, maximize):
    keep = []
    for i, a in df.iterrows():
        dominated = False
        for j, b in df.iterrows():
            no_worse = all(b[c] <= a[c] for c in minimize) and all(b[c] >= a[c] for c in maximize)
            better = any(b[c] < a[c] for c in minimize) or any(b[c] > a[c] for c in maximize)
            dominated |= i != j and no_worse and better
        keep.append(not dominated)
    return keep


@pytest.mark.parametrize("seed", range(5))
def test_pareto_front_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(rng.integers(0, 6, (40, 3)), columns=["val_recon", "val_anchor", "score"])
    front = pareto_front(df, ["val_recon", "val_anchor"], ["score"])
    assert list(front) == brute_force_front(df, ["val_recon", "val_anchor"], ["score"])
    best = select(df, ["val_recon", "val_anchor"])
    assert front[best] and df.loc[best, "score"] == df[front]["score"].max()


def test_predictors():
    rgb = np.array([[1, 0, 0], [0, 1, 1], [0.5, 0.5, 0.5], [1, 0.5, 0.5]])
    assert predictor(rgb, "similarity", 2).tolist() == pytest.approx([1, 0, 0, 0.25])  # half-saturated red: 0.5²
    assert predictor(rgb, "vibrancy", 2).tolist() == pytest.approx([1, 1, 0, 0.25])
    with pytest.raises(ValueError, match="metric"):
        predictor(rgb, "warmth", 1)


def test_named_color_table_deltas():
    base = np.zeros(17)
    sup = np.arange(17) / 100
    t = named_color_table({"baseline": base, "suppression": sup})
    assert list(t.columns) == ["name", "rgb", "hsv", "baseline", "suppression", "suppression-delta"]
    assert t["suppression-delta"].tolist() == pytest.approx(sup.tolist())


def test_the_seed_table_is_the_same_in_one_process_and_split_over_workers(short_experiment, monkeypatch):
    from sca import population
    from sca.train import train

    result = train(short_experiment, list(range(16)))
    one = population._seed_table(short_experiment, result.model, result.seeds, True)
    monkeypatch.setenv("SCA_WORKERS", "2")
    split = population.seed_table(short_experiment, result.model, result.seeds, True)
    assert split.index.equals(one.index) and split.columns.equals(one.columns)
    assert np.array_equal(split.to_numpy(), one.to_numpy(), equal_nan=True)


@torch.no_grad()
def test_the_seed_tables_geometry_and_lightness_follow_their_formulas(small_run):
    """zc: the named colour's baseline latent dotted with the suppression direction; red_anchor_deg and
    red_on_anchor: pure red's angle from its anchor, and whether red is the named colour nearest it; dL: CIELAB
    lightness of the reconstruction minus the true colour's."""
    from skimage.color import rgb2lab

    from sca import colors

    r = small_run
    named = colors.named_colors()
    rgb = np.array(named["rgb"].tolist())
    model = r.train.model.eval()  # outputs clamped to [0, 1], as evaluated
    out = model(torch.tensor(rgb, dtype=torch.float32))
    z, recon = out.z.double().numpy(), out.recon.double().numpy()  # [S, 17, K], [S, 17, 3]
    c = np.array(r.experiment.variant("suppression").intervention.direction)
    sup, base = (r.population.xs(v, level="variant") for v in ("suppression", "baseline"))
    red = list(named["name"]).index("red")
    assert np.allclose(sup[[f"zc:{n}" for n in named["name"]]].to_numpy(), z @ c, atol=1e-6)
    assert base["zc:red"].isna().all()  # the baseline acts on nothing
    cos = (z @ c) / np.linalg.norm(z, axis=-1)
    assert np.allclose(base["red_anchor_deg"], np.degrees(np.arccos(cos[:, red])), atol=1e-3)
    assert np.array_equal(base["red_on_anchor"], (cos.argmax(-1) == red).astype(float))
    dl = rgb2lab(recon)[..., 0] - rgb2lab(np.broadcast_to(rgb, recon.shape))[..., 0]
    assert np.allclose(base[[f"dL:{n}" for n in named["name"]]].to_numpy(), dl, atol=1e-3)


def test_evaluation_gives_the_same_bits_on_one_thread_and_two(small_run):
    """evaluate_run runs on one thread (fast beside another chapter); the numbers do not depend on it."""
    from sca import sweep
    from sca.train import torch_threads

    out = {}
    for threads in (1, 2):
        with torch_threads(threads):
            out[threads] = sweep._evaluate_run(small_run.experiment, small_run.train, False, None, True)
    pd.testing.assert_frame_equal(out[1].population, out[2].population, check_exact=True)
    pd.testing.assert_frame_equal(out[1].runs, out[2].runs, check_exact=True)
    for name, v in out[1].variants.items():
        assert np.array_equal(v.latent_mse, out[2].variants[name].latent_mse)
        assert np.array_equal(v.loss_mse, out[2].variants[name].loss_mse)
