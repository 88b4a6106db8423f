import multiprocessing
import re
import time
from dataclasses import replace
from pathlib import Path

import pytest

from sca import cache, experiments
from sca.stream import TorchStream
from sca.sweep import run


@pytest.fixture
def exp(short_experiment, tmp_path, monkeypatch):
    """A short experiment, and a cache of this test's own (`entry` empties it of evaluations: the session's cache holds
    the book's runs, which other tests read)."""
    monkeypatch.setenv("SCA_CACHE_DIR", str(tmp_path / "cache"))
    return short_experiment


def entry(exp, seeds):
    """The training entry (the evaluation entries are dropped, so that the next run reads it)."""
    for path in cache.cache_dir().glob("eval-*"):
        path.unlink()
    return cache.cache_dir() / f"train-{cache.run_key(exp, seeds, TorchStream())[:24]}.pt"


def test_evaluation_is_cached_apart_from_training(exp):
    run(exp, seeds=[7])
    assert len(list(cache.cache_dir().glob(f"eval-{exp.name}-*"))) >= 1 and entry(exp, [7]).exists()
    again = run(exp, seeds=[7])  # training loaded, evaluation recomputed (its entry was dropped above)
    assert again.summary() == run(exp, seeds=[7]).summary()


def test_a_run_is_cached_once_its_evaluation_is_stored(exp):
    from sca.sweep import is_cached

    assert not is_cached(exp, seeds=[9]) and not is_cached(exp, seeds=[9], variants=False)
    run(exp, seeds=[9])
    assert (
        is_cached(exp, seeds=[9])
        and not is_cached(exp, seeds=[9], variants=False)
        and not is_cached(exp, seeds=[9], show=9)
    )


def test_an_entry_served_under_another_key_is_rejected_and_rebuilt(exp):
    good = run(exp, seeds=[5]).summary()
    run(exp, seeds=[6])
    entry(exp, [5]).write_bytes(entry(exp, [6]).read_bytes())  # seed 6's result where seed 5's belongs
    with pytest.warns(cache.CacheWarning, match="stored under key"):
        assert run(exp, seeds=[5]).summary() == good


@pytest.mark.parametrize("damage", ["folder is a file", "entry is a folder"])
def test_a_finished_run_survives_a_cache_it_cannot_write(exp, tmp_path, monkeypatch, damage):
    if damage == "folder is a file":
        (tmp_path / "cache").write_text("not a folder")
    monkeypatch.setenv("SCA_CACHE_DIR", str(tmp_path / "cache"))
    if damage == "entry is a folder":
        entry(exp, [0]).mkdir(parents=True)
    with pytest.warns(cache.CacheWarning, match="cache"):
        result = run(exp, seeds=[0])
    assert result.summary() == run(exp, seeds=[0], cache=False).summary()


def test_concurrent_writers_do_not_collide_and_leave_no_temp_files(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    target = tmp_path / "summary.json"
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: cache.atomic_write(target, str(i).encode() * 100_000), range(8)))
    assert target.read_bytes() in {str(i).encode() * 100_000 for i in range(8)}
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


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
    assert cache.run_key(replace(exp, model=replace(exp.model, hidden=8)), [0], TorchStream()) != key
    # presentation and selection fields do not retrain
    assert (
        cache.run_key(
            replace(exp, score="ablated", title="x", notes="y", latent_dims=((0, 1, 2),) * 2), [0], TorchStream()
        )
        == key
    )
    csv = tmp_path / "other.csv"
    csv.write_text(Path(exp.schedule).read_text().replace("0.05", "0.04"))
    assert cache.run_key(replace(exp, schedule=str(csv)), [0], TorchStream()) != key
    assert cache.run_key(experiments.get("2.4.1"), [0], TorchStream()) != key


def test_writes_are_atomic_and_leave_no_temp_files(exp):
    run(exp, seeds=[4])
    assert not list(cache.cache_dir().glob(".*.tmp"))


def test_a_failed_write_removes_its_temp_file(tmp_path, monkeypatch):
    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(cache.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        cache.atomic_write(tmp_path / "x.pt", b"data")
    assert list(tmp_path.iterdir()) == []


def _slow_entry(args):
    path, log = map(Path, args)

    def compute():
        with open(log, "a") as f:
            f.write("x")
        time.sleep(0.5)
        return 42

    return cache.cached(path, "key", compute)


def test_processes_asking_for_the_same_entry_at_once_compute_it_once(tmp_path):
    path, log = tmp_path / "entry.pt", tmp_path / "computed"
    with multiprocessing.get_context("fork").Pool(3) as pool:
        values = pool.map(_slow_entry, [(str(path), str(log))] * 3)
    assert values == [42, 42, 42] and log.read_text() == "x"  # one computed, two waited and read its entry


def test_a_written_file_gets_the_users_umask(tmp_path):
    import os

    from sca.cache import atomic_write

    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "x.json", b"{}")
        assert (tmp_path / "x.json").stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(old)


def test_the_training_digest_reads_every_file_the_fused_step_includes():
    """Editing a header that the fused step includes retrains: each is among the training sources."""
    seen, todo = set(), ["fused.cpp"]
    while todo:
        name = todo.pop()
        seen.add(name)
        todo += [n for n in re.findall(r'#include "([^"]+)"', (cache.PACKAGE_DIR / name).read_text()) if n not in seen]
    assert {"fused.cpp", "regularizers.h", "lanes.h"} <= seen <= set(cache.TRAINING_SOURCES), seen - set(
        cache.TRAINING_SOURCES
    )
