"""The studies beyond the paper: each cell is an ordinary experiment derived from a sweep."""

import json

import numpy as np
import pandas as pd
import pytest

from sca import colors, experiments, studies
from sca.cli import main
from sca.evaluate import predictor
from sca.studies import Cell, cell_experiment
from sca.train import schedule_step


def test_red_rule_for_other_primaries_against_the_formula():
    rgb = np.random.default_rng(0).uniform(size=(100, 3))
    r, g, b = rgb.T
    assert np.allclose(colors.greenness(rgb), g * (1 - r / 2 - b / 2))
    assert np.allclose(colors.blueness(rgb), b * (1 - r / 2 - g / 2))
    assert np.allclose(colors.redness(rgb), r * (1 - g / 2 - b / 2))
    assert colors.greenness(np.array([0.0, 1.0, 0.0])) == 1 and colors.greenness(np.array([1.0, 0.0, 1.0])) == 0


def test_the_predictor_follows_the_concepts_hue():
    rgb = np.random.default_rng(1).uniform(size=(50, 3))
    hsv = colors.rgb_to_hsv_array(rgb)
    assert np.array_equal(predictor(rgb, "similarity", 2.0), colors.hsv_similarity(hsv, colors.RED_HSV) ** 2)
    assert np.allclose(predictor(rgb, "similarity", 3.0, 1 / 3), colors.hsv_similarity(hsv, (1 / 3, 1.0, 1.0)) ** 3)


def test_a_label_scale_multiplies_the_probability():
    exp = cell_experiment(Cell("2.4.1", labels=(("red", 0.25),)))
    assert exp.data.labels["red"].scale == pytest.approx(0.08 * 0.25)
    assert exp.data.labels["vibrant"] == experiments.get("2.4.1").data.labels["vibrant"]
    assert exp.name == "2.4.1+redx0.25"


@pytest.mark.parametrize("how, constant_lr", [("mean", False), ("peak", False), ("mean", True)])
def test_fixed_weights_are_the_schedules_mean_or_peak(how, constant_lr):
    base = experiments.get("2.9.1")
    schedule, lr, weights = base.training_schedule()
    rows = [schedule_step(t, schedule.length) for t in range(schedule.length)]
    exp = cell_experiment(Cell("2.9.1", fixed=how, constant_lr=constant_lr))
    fixed_schedule, fixed_lr, fixed = exp.training_schedule()
    assert fixed_schedule.length == schedule.length and set(fixed_schedule.tracks) == {"lr"}
    reduce = np.mean if how == "mean" else np.max
    for name, w in weights.items():
        assert np.all(fixed[name] == pytest.approx(reduce(w[rows])))
    if constant_lr:
        assert np.allclose(fixed_lr, np.mean(lr[rows]))
    else:
        assert np.allclose(fixed_lr, lr)


def test_another_concept_is_labelled_by_reds_rule_and_judged_by_its_hue():
    exp = cell_experiment(Cell("2.9.1", concept="green"))
    assert list(exp.data.labels) == ["green"] and exp.data.labels["green"].attribute == "greenness"
    assert exp.data.val_labels["green"].exact
    assert {lab for r in exp.regularizers for lab in r.labels} == {"green"}
    assert all(v.hue == pytest.approx(1 / 3) for v in exp.all_variants)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(experiment="2.5.1"), "not one of"),
        (dict(experiment="2.4.1", fixed="median"), "fixed='median'"),
        (dict(experiment="2.4.1", constant_lr=True), "goes with fixed weights"),
        (dict(experiment="2.4.1", concept="mauve"), "unknown concept 'mauve'"),
        (dict(experiment="2.4.1", labels=(("blue", 1.0),)), "not 'blue'"),
        (dict(experiment="2.4.1", labels=(("red", 20.0),)), "probability <= 1"),
    ],
)
def test_bad_cells_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Cell(**kwargs)


def test_every_study_cell_builds():
    for cells in studies.STUDIES.values():
        for cell in cells:
            cell_experiment(cell)


def test_a_cell_runs_from_the_shell(tmp_path):
    assert main(["run", "2.4.1", "--seeds", "0-1", "--label-scale", "red=0.5", "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["experiment"] == "2.4.1+redx0.5" and summary["seeds"] == [0, 1]


def test_building_a_fixed_weight_cell_writes_nothing(tmp_path, monkeypatch):
    from sca.cache import run_key
    from sca.stream import TorchStream

    monkeypatch.setenv("SCA_CACHE_DIR", str(tmp_path / "a-file"))
    (tmp_path / "a-file").write_text("not a folder")
    exp = studies.cell_experiment(studies.Cell("2.4.1", fixed="mean"))
    assert list(tmp_path.iterdir()) == [tmp_path / "a-file"]
    schedule, lr, weights = exp.training_schedule()  # inline, and trainable
    assert schedule.length == len(lr) and all(np.ptp(w) == 0 for w in weights.values())
    assert run_key(exp, [0], TorchStream()) != run_key(
        studies.cell_experiment(studies.Cell("2.4.1", fixed="peak")), [0], TorchStream()
    )


def test_a_schedule_with_a_byte_order_mark_reads():
    from sca.schedule import parse_schedule

    assert parse_schedule("\ufeffSTEP,lr\n0,0.1\n10,0.1\n", "bom.csv").length == 11


def test_a_cell_evaluates_every_seed_but_not_the_selected_models_variants(short_experiment):
    from sca.sweep import run

    full, seeds_only = run(short_experiment, seeds=[0, 1]), run(short_experiment, seeds=[0, 1], variants=False)
    assert full.variants and seeds_only.variants == {}  # and the two are cached apart
    pd.testing.assert_frame_equal(full.population, seeds_only.population)
    pd.testing.assert_frame_equal(full.runs, seeds_only.runs)
