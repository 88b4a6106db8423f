import pytest

from sca import experiments
from sca.data import training_data, validation_data
from sca.schedule import load_schedule

# Columns the original schedules key that match no regularizer (they were ignored there too).
UNUSED_COLUMNS = {"2.2": {"reg-polar"}, "2.9": {"reg-planar-v"}}
# Regularizers with no schedule column, which run at weight 1.0 (as in the original).
FULL_WEIGHT = {"2.2": {"reg-planar"}}


@pytest.mark.parametrize("name", experiments.EXPERIMENTS)
def test_experiment_is_consistent(name):
    exp = experiments.get(name)
    schedule = load_schedule(exp.schedule)
    regs = {r.name for r in exp.regularizers}
    columns = set(schedule.tracks) - {"lr"}
    assert columns - regs == UNUSED_COLUMNS.get(name, set())
    assert regs - columns == FULL_WEIGHT.get(name, set())
    data = training_data(exp.data)
    for r in exp.regularizers:
        r.check(exp.model.latent)
        assert set(r.labels) <= set(data.label_names)
    assert exp.score in {v.name for v in exp.variants}
    val_data = validation_data(exp.data)
    assert len(val_data) > 0


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
