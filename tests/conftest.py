import os
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest

from sca import experiments

# Tests never read or write the project's result cache.
os.environ["SCA_CACHE_DIR"] = tempfile.mkdtemp(prefix="sca-test-cache-")


@pytest.fixture
def short_experiment(tmp_path: Path):
    """2.4.1 with a 60-step schedule of the same shape: fast enough to train in a test."""
    csv = tmp_path / "short.csv"
    csv.write_text("STEP,PHASE,ACTION,lr,separate,anchor,subspace\n"
                   "0,Train,,1e-8,,0.01,0.01\n+5,,,0.01,,,\n30,,,0.1,0.01,0.1,0.1\n59,,,0.05,0,0,0\n")
    return replace(experiments.get("2.4.1"), schedule=str(csv))
