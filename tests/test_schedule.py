import numpy as np
import pytest

from sca.experiments import EXPERIMENTS
from sca.schedule import ScheduleError, load_schedule, minimum_jerk, parse_schedule, resolve_steps


def test_minimum_jerk_starts_and_ends_at_rest_and_passes_the_midpoint():
    assert minimum_jerk(np.array(0.0)) == 0 and minimum_jerk(np.array(1.0)) == 1
    assert minimum_jerk(np.array(0.5)) == pytest.approx(0.5)
    eps = 1e-4  # zero slope at both ends
    assert minimum_jerk(np.array(eps)) / eps < 1e-6
    assert (1 - minimum_jerk(np.array(1 - eps))) / eps < 1e-6


def test_a_track_follows_minimum_jerk_between_keys():
    s = parse_schedule("STEP,lr\n0,0\n100,1\n")
    values = s.values("lr")
    assert values[50] == pytest.approx(0.5)
    assert values[25] == pytest.approx(float(minimum_jerk(np.array(0.25))))
    assert np.all(np.diff(values) >= 0)


@pytest.mark.parametrize(
    "cells, expected",
    [
        (["0", "+0.5", "10"], [0, 5, 10]),
        (["0", "+5", "10"], [0, 5, 10]),
        (["10", "-1", "20"], [10, 19, 20]),
        (["10", "-0.2", "20"], [10, 18, 20]),
        (["0", "+2", "+0.5", "-1", "10"], [0, 2, 5, 9, 10]),
    ],
)
def test_relative_steps_resolve_against_absolute_rows(cells, expected):
    assert resolve_steps(cells) == expected


def test_fractional_steps_of_the_original_schedules():
    assert [k for k, _ in load_schedule("2.4.1.csv").rows] == [0, 10, 375, 750, 1125, 1425, 1500]
    assert [k for k, _ in load_schedule("2.9.1.csv").rows] == [0, 10, 248, 750, 1425, 1500]
    assert [k for k, _ in load_schedule("2.10.1.csv").rows] == [0, 10, 248, 495, 750, 1125, 1425, 1500]
    assert [k for k, _ in load_schedule("2.2.csv").rows] == [0, 10, 1000, 5000, 7000, 10000, 15000, 20000]
    assert load_schedule("2.4.1.csv").length == 1501


def test_blank_cells_before_the_first_key_hold_the_first_value_and_the_last_value_is_held():
    s = load_schedule("2.4.1.csv")
    separate = s.values("separate")
    assert separate[0] == separate[750] == pytest.approx(0.01)
    assert separate[1425] == 0 and separate[1500] == 0
    anchor = load_schedule("2.10.1.csv").values("anchor")
    assert anchor[0] == 0 and anchor[248] == pytest.approx(0.1) and anchor[750] == pytest.approx(0.12)


def test_a_file_in_the_working_directory_never_replaces_a_package_schedule(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "2.4.1.csv").write_text("STEP,lr,separate,anchor,subspace\n0,1e6,0,0,0\n10,1e6,0,0,0\n")
    assert load_schedule("2.4.1.csv").length == 1501
    assert load_schedule("./2.4.1.csv").length == 11  # a schedule of one's own is an explicit path


def test_log_space_and_step_interpolation():
    s = parse_schedule("STEP,lr:log,z::step\n0,0.001,1\n10,0.1,2\n")
    assert s.values("lr")[5] == pytest.approx(0.01)
    assert list(s.values("z")[[0, 9, 10]]) == [1, 1, 2]


@pytest.mark.parametrize(
    "text, culprit",
    [
        ("STEP,lr\n0,1\n+abc,2\n10,3\n", "row 3, column STEP"),
        ("STEP,lr\n0,1\n10,x\n", "row 3, column lr"),
        ("STEP,lr\n0,1\n10\n", "row 3"),
        ("STEP,lr:cubic\n0,1\n", "unknown space"),
        ("STEP,lr::bouncy\n0,1\n", "unknown interpolator"),
        ("STEP,lr\n10,1\n5,2\n", "row 3, column STEP"),
        ("lr\n1\n", "no STEP column"),
        ("STEP,lr\n+0.5,1\n10,2\n", "row 2, column STEP"),
    ],
)
def test_malformed_schedules_name_file_row_and_column(text, culprit):
    with pytest.raises(ScheduleError, match="my.csv") as err:
        parse_schedule(text, "my.csv")
    assert culprit in str(err.value)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_experiment_schedule_loads_and_has_a_learning_rate(name):
    s = load_schedule(EXPERIMENTS[name].schedule)
    assert "lr" in s and s.values("lr").min() > 0
