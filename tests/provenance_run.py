"""Run by tests/test_provenance.py in a fresh process (ATEN_CPU_CAPABILITY and SCA_VECTOR are read at start):
a short 2.4.1 run on our stream and a short 2.9.1 run on the original's, written to the .npz named by argv[1]:
their fingerprints, and evaluation's numbers by the kind of number provenance.MAY_MOVE bounds."""

import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from conftest import _short, _short_5d
from sca import provenance
from sca.stream import PublishedStream, TorchStream
from sca.sweep import run

KINDS = {"mse": "error", "dmse": "error", "de": "ΔE", "dde": "ΔE", "dL": "ΔE", "r2": "R²", "r": "R²", "score": "R²"}


def kind(column: str) -> str | None:
    return KINDS.get(column.split(":")[0])


if __name__ == "__main__":
    folder = Path(tempfile.mkdtemp())
    out = {"capability": np.array(torch.backends.cpu.get_cpu_capability())}
    for tag, exp, stream in (
        ("4-D ours", _short(folder), TorchStream()),
        ("5-D published", _short_5d(folder), PublishedStream()),
    ):
        result = run(exp, seeds=[0, 3], stream=stream)
        out[f"{tag} training"] = np.array(provenance.training(result))
        out[f"{tag} evaluation"] = np.array(provenance.evaluation(result))
        for name, values in result.train.val_history.items():
            out[f"{tag} error {name}"] = values
        for name, v in result.variants.items():
            out[f"{tag} error {name} named"] = v.named.to_numpy()
            out[f"{tag} error {name} grid"] = np.concatenate([v.latent_mse.ravel(), v.loss_mse.ravel()])
            out[f"{tag} R² {name}"] = np.array([v.r2, v.r])
        for table in (result.population, result.runs):
            for column in table.columns:
                if kind(str(column)):
                    out[f"{tag} {kind(str(column))} {column}"] = table[column].to_numpy(float)
    np.savez(sys.argv[1], **out)
