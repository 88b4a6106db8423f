"""Bad input, across the CLI, schedule files, configs, interventions, surgery and training: each gets an
error that names the culprit, raised before any long work. (Cache damage: tests/test_cache.py.)"""

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from sca import experiments
from sca.cli import main
from sca.data import DataConfig, Label
from sca.experiments import Variant
from sca.interventions import AxisSuppression, BezierMapper, Falloff, LinearMapper, Repulsion, Suppression
from sca.model import ColorAutoencoder, ModelConfig, ablate, default_init, prune
from sca.regularizers import Regularizer
from sca.schedule import ScheduleError, load_schedule, parse_schedule
from sca.train import TrainingFailed, train

E241 = experiments.get("2.4.1")
HEADER = "STEP,lr,separate,anchor,subspace\n"


def _with_schedule(tmp_path, text, exp=E241):
    csv = tmp_path / "mine.csv"
    csv.write_text(text)
    return replace(exp, schedule=str(csv))


def _train_with(text):
    return lambda tmp_path: train(_with_schedule(tmp_path, text), [0])


def _model():
    """An untrained 4-D model (one seed): surgery checks need no training."""
    params = default_init(E241.model.layer_shapes(), torch.Generator().manual_seed(0))
    return ColorAutoencoder(E241.model, [p.unsqueeze(0) for p in params])


# (id, action taking tmp_path, exception, pattern the message must match)
CASES = [
    # schedules
    (
        "negative learning rate",
        lambda p: parse_schedule("STEP,lr\n0,0.1\n10,-0.1\n", "my.csv"),
        ScheduleError,
        r"my\.csv, row 3, column lr: '-0\.1' is negative",
    ),
    (
        "negative weight",
        lambda p: parse_schedule("STEP,lr,anchor\n0,0.1,-1\n10,0.1,0\n", "my.csv"),
        ScheduleError,
        r"row 2, column anchor",
    ),
    (
        "column typo",
        _train_with(HEADER.replace("anchor", "anchr") + "0,0.1,0,0,0\n10,0.1,0,0,0\n"),
        ScheduleError,
        r"mine\.csv: column\(s\) \['anchr'\] match no regularizer; the regularizers are \['separate', 'anchor'",
    ),
    (
        "missing column",
        _train_with("STEP,lr,separate,subspace\n0,0.1,0,0\n10,0.1,0,0\n"),
        ScheduleError,
        r"mine\.csv: no column for regularizer\(s\) \['anchor'\]",
    ),
    (
        "no lr column",
        _train_with("STEP,separate,anchor,subspace\n0,0,0,0\n10,0,0,0\n"),
        ScheduleError,
        r"no 'lr' column",
    ),
    (
        "bare name of a user file",
        lambda p: load_schedule("mine.csv"),
        FileNotFoundError,
        r"no package schedule named 'mine\.csv'.*explicit path, e\.g\. \./mine\.csv",
    ),
    ("missing schedule path", lambda p: load_schedule(p / "nope.csv"), FileNotFoundError, r"nope\.csv not found"),
    (
        "infinite value",
        lambda p: parse_schedule("STEP,lr\n0,inf\n", "my.csv"),
        ScheduleError,
        r"column lr: 'inf' is not finite",
    ),
    # model and data configs
    ("latent 0", lambda p: ModelConfig(latent=0), ValueError, r"latent=0 must be an integer >= 2"),
    ("hidden 0", lambda p: ModelConfig(hidden=0), ValueError, r"hidden=0"),
    ("depth 0", lambda p: ModelConfig(depth=0), ValueError, r"depth=0"),
    ("label scale above 1", lambda p: Label("redness", 8, 2.0), ValueError, r"scale=2\.0 must lie in \[0, 1\]"),
    ("unknown label attribute", lambda p: Label("mauveness"), ValueError, r"unknown attribute 'mauveness'"),
    ("batch size 0", lambda p: DataConfig(labels={}, batch_size=0), ValueError, r"batch_size=0"),
    # regularizers and experiments
    (
        "zero anchor",
        lambda p: Regularizer("a", "angular-anchor", direction=(0.0, 0, 0, 0)),
        ValueError,
        r"regularizer 'a': direction .* has norm 0.*zero vector",
    ),
    (
        "non-unit anchor",
        lambda p: Regularizer("a", "anchor", direction=(2.0, 0, 0, 0)),
        ValueError,
        r"has norm 2; it must be a unit",
    ),
    ("unknown regularizer kind", lambda p: Regularizer("a", "magnet"), ValueError, r"unknown kind 'magnet'"),
    (
        "anchor of the wrong width",
        lambda p: replace(E241, regularizers=(Regularizer("a", "anchor", direction=(1.0, 0, 0, 0, 0)),)),
        ValueError,
        r"direction has 5 dims, latent has 4",
    ),
    (
        "ablation dim out of range",
        lambda p: replace(E241, variants=(*E241.variants[:2], Variant("ablated", surgery=("ablate", (4,))))),
        ValueError,
        r"variant 'ablated': ablate dims \(4,\) must be non-empty and within 0\.\.3",
    ),
    (
        "suppression of the wrong width",
        lambda p: replace(E241, variants=(Variant("suppression", Suppression((1.0, 0, 0, 0, 0))),)),
        ValueError,
        r"Suppression: direction has 5 dims but the latent has 4",
    ),
    (
        "fixed weight for no regularizer",
        lambda p: replace(E241, fixed_weights=(("anchr", 1.0),)),
        ValueError,
        r"'anchr'",
    ),
    (
        "Pareto metric not validated",
        lambda p: replace(E241, minimize=("val_recon", "val_subspace")),
        ValueError,
        r"Pareto metrics \['val_subspace'\] are not validation metrics; it reports \['val_recon', 'val_anchor'\]",
    ),
    ("score variant missing", lambda p: replace(E241, score="pruned"), ValueError, r"score variant 'pruned'"),
    ("unknown experiment", lambda p: experiments.get("2.11"), KeyError, r"unknown experiment '2\.11'"),
    # interventions
    (
        "zero suppression direction",
        lambda p: Suppression((0.0, 0, 0, 0)),
        ValueError,
        r"Suppression: direction .* norm 0",
    ),
    ("non-unit suppression direction", lambda p: Suppression((1.0, 1.0, 0, 0)), ValueError, r"norm 1\.41421"),
    ("non-finite direction", lambda p: Suppression((float("nan"), 0, 0, 0)), ValueError, r"not finite"),
    (
        "non-unit repulsion direction",
        lambda p: Repulsion((0.5, 0, 0, 0), LinearMapper(0, 0.1)),
        ValueError,
        r"Repulsion: .* norm 0\.5",
    ),
    ("mapper a >= b", lambda p: LinearMapper(0.5, 0.2), ValueError, r"needs a < b"),
    ("falloff threshold 1", lambda p: Falloff(a=1.0), ValueError, r"a=1\.0 must lie in \[0, 1\)"),
    ("no axes to suppress", lambda p: AxisSuppression(()), ValueError, r"non-empty"),
    ("NaN falloff power", lambda p: Falloff(power=float("nan")), ValueError, r"power=nan must be a finite number"),
    (
        "NaN Bézier slope",
        lambda p: BezierMapper(0.0, 0.5, start_slope=float("nan")),
        ValueError,
        r"start_slope=nan is not finite",
    ),
    (
        "Bézier of one point",
        lambda p: BezierMapper(0.0, 0.5, resolution=1),
        ValueError,
        r"resolution=1 must be a whole number >= 2",
    ),
    (
        "fractional ablation dim",
        lambda p: ablate(_model(), (0.7,)),
        TypeError,
        r"latent dims \[0\.7\] are not whole numbers",
    ),
    (
        "subspace of every dim",
        lambda p: replace(E241, regularizers=(Regularizer("s", "subspace", dims=(0, 1, 2, 3)),)),
        ValueError,
        r"penalises nothing",
    ),
    (
        "a schedule too long for memory",
        _train_with(HEADER + "0,0.1,0,0,0\n100000000,0.1,0,0,0\n"),
        MemoryError,
        r"even one seed needs .* its schedule \(100,000,001 steps\) is too long",
    ),
    # surgery
    (
        "ablate out of range",
        lambda p: ablate(_model(), [4]),
        IndexError,
        r"latent dims \[4\] out of range.*valid: 0\.\.3",
    ),
    ("prune every dim", lambda p: prune(_model(), [0, 1, 2, 3]), ValueError, r"would leave no latent dimension"),
    # training
    ("no seeds", lambda p: train(E241, []), ValueError, r"no seeds"),
    ("negative seed", lambda p: train(E241, [-1]), ValueError, r"seeds \[-1\] are not integers"),
    ("duplicate seeds", lambda p: train(E241, [1, 1]), ValueError, r"seeds \[1\] appear more than once"),
    ("too many seeds for memory", lambda p: train(E241, range(10_000_000)), MemoryError, r"needs about .* GiB"),
    (
        "diverging run",
        _train_with(HEADER + "0,1e30,0.01,0.1,0.1\n59,1e30,0,0,0\n"),
        TrainingFailed,
        r"seed\(s\) \[0\] became non-finite at step \d+ \(terms: .*recon",
    ),
]


SHORT = HEADER + "0,1e-8,,0.01,0.01\n+5,0.01,,,\n30,0.1,0.01,0.1,0.1\n59,0.05,0,0,0\n"  # as tests/conftest.py


@pytest.mark.parametrize("action, error, pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_named(action, error, pattern, tmp_path):
    with pytest.raises(error, match=pattern):
        action(tmp_path)


@pytest.mark.filterwarnings("ignore::sca.train.CollapseWarning")
def test_weights_that_drown_reconstruction_are_flagged(tmp_path):
    exp = _with_schedule(tmp_path, HEADER + "0,0.01,1e30,0.1,0.1\n59,0.01,1e30,0,0\n")
    with pytest.warns(UserWarning, match=r"\{'separate': 1e\+30\} exceed 1000"):
        train(exp, [0])


def test_a_one_step_schedule_is_blamed_for_its_collapse(tmp_path):
    exp = _with_schedule(tmp_path, HEADER + "0,0.1,0,0,0\n")
    with pytest.warns(UserWarning, match=r"after 1 steps \(the schedule has only 1 step\(s\): lengthen it\)"):
        train(exp, [0])


def test_a_collapsed_run_is_reported_by_seed(tmp_path):
    exp = _with_schedule(tmp_path, HEADER + "0,1e6,0.01,0.1,0.1\n59,1e6,0,0,0\n")
    with pytest.warns(UserWarning, match=r"seed\(s\) \[0, 1\] collapsed: val_recon up to"):
        assert train(exp, [0, 1]).collapsed == [0, 1]


CLI_CASES = [
    (["run", "9.9"], "unknown experiment '9.9'; known: 2.2"),
    (["run", "2.4.1", "--seeds", "0-"], "cannot read '0-'"),
    (["run", "2.4.1", "--seeds", "5-2,7"], "seed range '5-2' runs backwards"),
    (["run", "2.4.1", "--seeds", "1,1"], "seeds [1] appear more than once"),
    (["run", "2.4.1", "--seeds", "0-5,3"], "seeds [3] appear more than once"),
    (["run", "2.4.1", "--seeds", "-3"], "cannot read '-3'"),
    (["run", "2.4.1", "--seeds", "1-2-3"], "cannot read '1-2-3'"),
    (["run", "2.4.1", "--seeds", ""], "cannot read ''"),
    (["run", "2.4.1", "--seeds", "0-999999"], "GiB"),
    (["run", "2.4.1", "--seeds", "0-9999999"], "more than 1000000 seeds"),
    (["run", "2.4.1", "--stream", "theirs"], "invalid choice: 'theirs'"),
    (["run", "2.4.1", "--seeds", "0-99999999999999"], "more than 1000000 seeds"),  # refused before it is expanded
    (["run", "2.4.1", "--out", ""], "--out is empty"),
    (["run", "2.4.1", "--label-scale", "red=0.5", "--label-scale", "red=0.5"], "['red'] more than once"),
]


@pytest.mark.parametrize("argv, message", CLI_CASES, ids=[" ".join(a[1:]) for a, _ in CLI_CASES])
def test_the_cli_names_bad_input_and_exits_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_the_cli_refuses_an_unwritable_output_folder_before_training(tmp_path, capsys):
    (tmp_path / "taken").write_text("a file, not a folder")
    with pytest.raises(SystemExit):
        main(["run", "2.4.1", "--out", str(tmp_path / "taken")])
    assert "cannot write to the output folder" in capsys.readouterr().err


def test_a_user_schedule_is_an_explicit_path_and_is_used(tmp_path):
    exp = _with_schedule(tmp_path, SHORT)
    assert train(exp, [0]).terms["loss"].shape == (60, 1)


def test_a_folder_in_place_of_the_summary_is_refused_before_training(tmp_path, capsys):
    (tmp_path / "out" / "summary.json").mkdir(parents=True)
    with pytest.raises(SystemExit):
        main(["run", "2.4.1", "--out", str(tmp_path / "out")])
    assert "summary.json: it is a folder" in capsys.readouterr().err


def test_an_empty_cache_folder_setting_is_refused(monkeypatch):
    from sca.cache import cache_dir

    monkeypatch.setenv("SCA_CACHE_DIR", "")
    with pytest.raises(ValueError, match="SCA_CACHE_DIR is set but empty"):
        cache_dir()


def test_a_summary_that_cannot_be_written_after_training_is_kept(tmp_path, monkeypatch, capsys):
    from sca import cli

    real = cli.atomic_write

    def full_disk(path, data):
        if path.name == "summary.json":
            raise OSError(28, "No space left on device")
        real(path, data)

    monkeypatch.setattr(cli, "atomic_write", full_disk)
    with pytest.raises(SystemExit):
        main(["run", "2.4.1", "--seeds", "0", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert "No space left on device" in err and "the result is kept in" in err
    kept = Path(err.split("the result is kept in ")[1].strip())
    assert json.loads(kept.read_text())["selected_seed"] == 0


def test_a_console_that_cannot_print_the_symbols_does_not_fail_a_written_run(tmp_path):
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    done = subprocess.run(
        [sys.executable, "-m", "sca", "run", "2.4.1", "--seeds", "0", "--out", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "summary.json").exists() and "red ? +" in done.stdout
