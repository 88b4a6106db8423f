import json

import pytest

from sca import experiments
from sca.cli import main, parse_seeds


def test_parse_seeds():
    assert parse_seeds("0-3") == [0, 1, 2, 3]
    assert parse_seeds("3,7,10-11") == [3, 7, 10, 11]


def test_list_shows_every_experiment(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert (
        "2.4.1" in out and "2.3-sigmoid" in out and len(out.strip().splitlines()) == len(experiments.EXPERIMENTS) == 15
    )


def test_unknown_experiment_exits_with_the_known_names(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "9.9"])
    assert exit_.value.code == 2
    assert "2.4.1" in capsys.readouterr().err


def test_run_writes_the_summary(tmp_path):
    assert main(["run", "2.5.1", "--seeds", "0-1", "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["experiment"] == "2.5.1" and summary["seeds"] == [0, 1]
    assert {"seed", "score", "val", "labels"} <= set(summary["runs"][0])
    assert summary["selected_seed"] in (0, 1)
    assert set(summary["named_colors"]) == {"baseline", "suppression", "ablated"}
    assert len(summary["named_colors"]["baseline"]) == 17 and "dark gray" in summary["named_colors"]["baseline"]
    for key in ("r2", "max_mse", "median_mse"):
        assert set(summary[key]) == {"baseline", "suppression", "ablated"}
