import numpy as np
import pytest

from sca import experiments
from sca.data import training_data, validation_data

# Columns the original schedules key that match no regularizer (ignored there too), and regularizers
# with no column (run at constant weight 1.0 there): each must be declared by its experiment.
UNUSED_COLUMNS = {"2.2": {"reg-polar"}, "2.9": {"reg-planar-v"}}
FIXED_WEIGHTS = {"2.2": {"reg-planar": 1.0}}


@pytest.mark.parametrize("name", experiments.EXPERIMENTS)
def test_experiment_is_consistent(name):
    exp = experiments.get(name)
    schedule, lr, weights = exp.training_schedule()
    assert set(exp.unused_columns) == UNUSED_COLUMNS.get(name, set())
    assert dict(exp.fixed_weights) == FIXED_WEIGHTS.get(name, {})
    for reg, w in FIXED_WEIGHTS.get(name, {}).items():
        assert reg not in schedule and np.all(weights[reg] == w)
    assert set(weights) == {r.name for r in exp.regularizers}
    assert len(lr) == schedule.length and lr.min() > 0
    data = training_data(exp.data)
    for r in exp.regularizers:
        assert set(r.labels) <= set(data.label_names)
    assert len(validation_data(exp.data)) > 0


def test_the_papers_experiments_have_sixty_seeds():
    for name in ("2.4.1", "2.5.1", "2.7.1", "2.9.1", "2.10.1"):
        assert experiments.get(name).seeds == tuple(range(60))


def test_unknown_experiment_lists_the_known_ones():
    with pytest.raises(KeyError, match="2.4.1.*2.10.1"):
        experiments.get("2.11")


def test_unknown_variant_is_rejected():
    with pytest.raises(ValueError, match="unknown variant"):
        experiments.Variant("erased")
    with pytest.raises(ValueError, match="unknown surgery"):
        experiments.Variant("ablated", surgery=("lobotomy", (0,)))
