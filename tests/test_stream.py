"""The original notebooks' random stream, rebuilt from the seed (../shared/reference/stream.md), fed to our
own trainer: its check values exactly, and the published tables and Pareto front."""

import numpy as np
import pytest
import torch

from sca import experiments, reference
from sca.data import training_data
from sca.stream import PublishedStream, _seed_draw, linear_init
from sca.sweep import run

E241 = experiments.get("2.4.1")


@pytest.fixture(scope="module")
def seed7():
    data = training_data(E241.data)
    return PublishedStream().draws(7, E241.model.layer_shapes(), 1501, 64, len(data), 2), data


def test_check_values_of_2_4_1_seed_7(seed7):
    d, data = seed7
    assert d.indices[0, :16].tolist() == [385, 355, 156, 374, 33, 288, 88, 103, 184, 53, 125, 503, 352, 507, 58, 428]
    assert d.indices[8, :8].tolist() == [327, 331, 358, 1, 407, 40, 491, 509]
    assert d.params[0][0].tolist() == pytest.approx([0.0403250754, -0.347792119, 0.183841825], abs=5e-10)
    assert d.params[1][0].item() == pytest.approx(0.273505151, abs=5e-10)
    labels = d.uniforms < data.probs[:, d.indices].permute(1, 0, 2)  # [steps, label, batch]
    red, vibrant = labels[:, 0], labels[:, 1]
    assert int(red.sum()) == 74 and torch.nonzero(red)[0].tolist() == [47, 5]
    assert int(vibrant.sum()) == 106 and torch.nonzero(vibrant)[0].tolist() == [19, 16]
    # counted only while the anchor (subspace) is on, as the original logged them
    assert int(red[:1425].sum()) == 73 and int(vibrant[:1425].sum()) == 100


def test_the_generator_draws_in_the_original_order():
    g = torch.Generator().manual_seed(7)
    linear_init(E241.model.layer_shapes(), g)  # 263 outputs
    assert (_seed_draw(g), _seed_draw(g)) == (8936815327463878297, 2276760863082906606)  # b0, s0
    for _ in range(18):  # epochs 1..18 start at steps 8..144, two draws each
        _seed_draw(g), _seed_draw(g)
    assert _seed_draw(g) == 7358373598898674899  # the first validation, before step 150


def test_check_values_of_2_9_1_seed_33():
    exp = experiments.get("2.9.1")
    d = PublishedStream().draws(33, exp.model.layer_shapes(), 1501, 64, 512, 1)
    assert d.params[0][0].tolist() == pytest.approx([0.136938825, 0.0678260997, -0.353675604], abs=5e-10)
    assert d.indices[0, :4].tolist() == [81, 102, 222, 79]
    red = d.uniforms[:, 0] < training_data(exp.data).probs[0, d.indices]
    assert int(red.sum()) == 78 and int(red[:1425].sum()) == 75


@pytest.mark.parametrize("name, seed", [("2.4.1", 7), ("2.5.1", 8)])
def test_the_published_named_colour_tables_to_1e_5(name, seed):
    r = run(experiments.get(name), seeds=[seed], stream=PublishedStream())
    for variant, colours in reference.published_table(name).items():
        ours = np.array([r.delta(variant, c) for c in colours])
        assert np.allclose(ours, list(colours.values()), atol=1e-5), variant


def test_the_published_2_4_1_sweep_pareto_front_and_score():
    r = run(E241, stream=PublishedStream())
    assert set(r.runs.index[r.runs["pareto"]]) == {7, 40, 39, 30} and r.selected_seed == 7
    assert round(r.runs["score"].mean(), 4) == 0.9515 and round(r.runs["score"].std(), 4) == 0.0236
    for metric, published in reference.SWEEP_STATS["2.4.1"].items():
        ours = r.runs[metric].agg(["min", "max", "mean", "std"]).to_numpy()
        assert np.allclose(ours, published, atol=5e-5 + 1e-4 * np.abs(published)), metric  # printed to 4 places
