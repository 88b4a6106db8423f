from dataclasses import replace

import pytest

from sca import cache, experiments
from sca.stream import TorchStream
from sca.sweep import run


@pytest.fixture
def exp(short_experiment):
    return short_experiment


def entry(exp, seeds):
    return cache.cache_dir() / f"{exp.name}-{cache.run_key(exp, seeds, TorchStream())[:24]}.pt"


def test_a_cached_result_equals_a_fresh_one(exp):
    first = run(exp, seeds=[0, 1])  # computed and stored
    assert entry(exp, [0, 1]).exists()
    again = run(exp, seeds=[0, 1])  # loaded
    fresh = run(exp, seeds=[0, 1], cache=False)
    assert again.summary() == first.summary() == fresh.summary()


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty"])
def test_a_corrupt_cache_entry_is_reported_and_rebuilt(exp, damage):
    good = run(exp, seeds=[2]).summary()
    path = entry(exp, [2])
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF
    elif damage == "truncate":
        data = data[: len(data) // 2]
    else:
        data = bytearray()
    path.write_bytes(bytes(data))
    with pytest.warns(cache.CacheWarning, match=str(path.name)):
        rebuilt = run(exp, seeds=[2])
    assert rebuilt.summary() == good
    cache.load(path)  # the rebuilt entry is sound


def test_the_key_covers_seeds_config_and_schedule(exp, tmp_path):
    key = cache.run_key(exp, [0], TorchStream())
    assert cache.run_key(exp, [1], TorchStream()) != key
    assert cache.run_key(replace(exp, score="ablated"), [0], TorchStream()) != key
    csv = tmp_path / "other.csv"
    csv.write_text(open(exp.schedule).read().replace("0.05", "0.04"))
    assert cache.run_key(replace(exp, schedule=str(csv)), [0], TorchStream()) != key
    assert cache.run_key(experiments.get("2.4.1"), [0], TorchStream()) != key


def test_writes_are_atomic_and_leave_no_temp_files(exp):
    run(exp, seeds=[4])
    assert not list(cache.cache_dir().glob(".*.tmp"))
