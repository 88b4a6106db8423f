"""Sparse Concept Anchoring, re-run: experiments 2.2-2.10.1 of Fraser & Wielopolski (arXiv 2512.12469)."""

from .experiments import EXPERIMENTS, Experiment, Variant, get
from .model import ColorAutoencoder, ModelConfig, ablate, prune
from .sweep import RunResult, run
from .train import TrainResult, train

__all__ = [
    "EXPERIMENTS",
    "Experiment",
    "Variant",
    "get",
    "ColorAutoencoder",
    "ModelConfig",
    "ablate",
    "prune",
    "RunResult",
    "run",
    "TrainResult",
    "train",
]
