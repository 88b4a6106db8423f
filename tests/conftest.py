import os
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest

from sca import experiments

# Tests never read or write the project's result cache.
os.environ["SCA_CACHE_DIR"] = tempfile.mkdtemp(prefix="sca-test-cache-")


def _short(folder: Path):
    csv = folder / "short.csv"
    csv.write_text(
        "STEP,PHASE,ACTION,lr,separate,anchor,subspace\n"
        "0,Train,,1e-8,,0.01,0.01\n+5,,,0.01,,,\n30,,,0.1,0.01,0.1,0.1\n59,,,0.05,0,0,0\n"
    )
    return replace(experiments.get("2.4.1"), schedule=str(csv))


def _short_5d(folder: Path):
    csv = folder / "short-5d.csv"
    csv.write_text(
        "STEP,PHASE,ACTION,lr,separate,anchor,anti-anchor,anti-subspace\n"
        "0,Train,,1e-8,,0,0.01,0.5\n+5,,,0.01,,,,\n30,,,0.1,0.01,0.1,0.01,0.05\n59,,,0.05,0,0,0,0\n"
    )
    return replace(experiments.get("2.9.1"), schedule=str(csv))


@pytest.fixture
def short_5d_experiment(tmp_path: Path):
    """2.9.1 (K=5, two GELU layers a side) with a 60-step schedule."""
    return _short_5d(tmp_path)


@pytest.fixture
def short_experiment(tmp_path: Path):
    """2.4.1 with a 60-step schedule of the same shape: fast enough to train in a test."""
    return _short(tmp_path)


@pytest.fixture(scope="session")
def small_run(tmp_path_factory):
    """A trained and evaluated short 2.4.1 run (2 seeds), shared by the figure and table tests."""
    from sca.sweep import run

    return run(_short(tmp_path_factory.mktemp("short")), seeds=[0, 1])
