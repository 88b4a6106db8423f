"""A plain training loop over S seeds at once.

Each step: gather each seed's batch, draw its labels, run the batched model, and add up
recon + Σ weight(step)·term per seed. The seeds' losses are summed (not averaged), so each seed's
gradient — and Adam's update, which is elementwise — is exactly what it would be trained alone.
"""

from __future__ import annotations

import ctypes
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np
import torch

from .data import ColorData, training_data, validation_data
from .model import ColorAutoencoder
from .optim import SeedAdam
from .regularizers import Regularizer
from .schedule import Schedule, load_schedule
from .stream import RandomStream, TorchStream

if TYPE_CHECKING:
    from .experiments import Experiment


def _keep_freed_memory() -> None:
    """Ask glibc to keep freed blocks up to 32 MB instead of unmapping them: at this model size each
    step allocates ~1 MB temporaries, and returning them to the OS every step costs page faults."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL("libc.so.6")
            libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD
            libc.mallopt(-1, 64 << 20)  # M_TRIM_THRESHOLD
        except (OSError, AttributeError):
            pass


_keep_freed_memory()


@dataclass
class TrainResult:
    model: ColorAutoencoder  # batched over `seeds`, in eval mode
    seeds: list[int]
    terms: dict[str, np.ndarray]  # per step, per seed [steps, S]: "recon", "loss" and each regularizer (unweighted)
    weights: dict[str, np.ndarray]  # schedule weight per step [steps] of each training regularizer, and "lr"
    label_steps: dict[str, np.ndarray]  # per step and seed [steps, S]: labels counted while a term using them was active
    val: dict[str, np.ndarray]  # final validation metrics per seed [S]: "val_recon", "val_<name>"
    val_history: dict[str, np.ndarray]  # [n_checks, S], at steps `val_steps`
    val_steps: list[int]

    @property
    def label_counts(self) -> dict[str, np.ndarray]:
        """Labels counted per seed over the run [S] (the original's labels/n/<label>)."""
        return {name: steps.sum(0) for name, steps in self.label_steps.items()}

    def weighted(self, name: str) -> np.ndarray:
        """A regularizer's contribution to the loss per step: weight × term."""
        return self.terms[name] * self.weights[name][:, None]


def schedule_step(step: int, length: int) -> int:
    """Which schedule row a training step uses. The original advanced its timeline after every step but
    the last, so the final step reuses the previous step's values; we keep that for comparable runs."""
    return min(step, length - 2)


@torch.no_grad()
def validate(model: ColorAutoencoder, data: ColorData, regularizers: Sequence[Regularizer], batch_size: int) -> dict[str, torch.Tensor]:
    """val_recon and each validated term per seed [S], as batch means averaged with batch-size weights.

    A validated term whose labels the validation data does not carry is not reported (2.4.1 validates
    `subspace` but its validation set labels only red, so the original logged no val_subspace either).
    """
    was_training = model.training
    model.eval()
    regularizers = [r for r in regularizers if r.validate and all(lab in data.label_names for lab in r.labels)]
    sums = {"val_recon": 0.0, **{f"val_{r.name}": 0.0 for r in regularizers}}
    for start in range(0, len(data), batch_size):
        x = data.rgb[start:start + batch_size]
        out = model(x)
        n = x.shape[0]
        sums["val_recon"] = sums["val_recon"] + n * (out.recon - x).pow(2).mean(dim=(1, 2))
        labels = {name: data.probs[i, start:start + n].expand(model.n_seeds, n) for i, name in enumerate(data.label_names)}
        for r in regularizers:
            z, unit = _latent(out, r, model.config.normalize)
            sums[f"val_{r.name}"] = sums[f"val_{r.name}"] + n * r.term(z, labels, unit)
    model.train(was_training)
    return {k: v / len(data) for k, v in sums.items()}


def train(experiment: "Experiment", seeds: Sequence[int], stream: RandomStream | None = None,
          progress: bool = False, val_every: int = 150) -> TrainResult:
    """Train one model per seed, all at once. Returns the batched model and per-step records."""
    stream = stream or TorchStream()
    seeds = list(seeds)
    schedule: Schedule = load_schedule(experiment.schedule)
    data, val_data = training_data(experiment.data), validation_data(experiment.data)
    regs = list(experiment.regularizers)
    for r in regs:
        r.check(experiment.model.latent)
        unknown = [lab for lab in r.labels if lab not in data.label_names]
        if unknown:
            raise ValueError(f"{experiment.name}: regularizer {r.name!r} uses labels {unknown} the data does not draw")
    steps, batch = schedule.length, experiment.data.batch_size

    draws = [stream.draws(s, experiment.model.layer_shapes(), steps, batch, len(data), len(data.label_names), data.weights)
             for s in seeds]
    params = [torch.stack([d.params[i] for d in draws]) for i in range(len(draws[0].params))]
    indices = torch.stack([d.indices for d in draws], dim=1)  # [steps, S, B]
    uniforms = torch.stack([d.uniforms for d in draws], dim=1)  # [steps, S, L, B]
    model = ColorAutoencoder(experiment.model, params).train()

    rows = [schedule_step(t, steps) for t in range(steps)]
    lr = schedule.values("lr")[rows]
    weights = {r.name: schedule.weight(r.name)[rows] for r in regs}
    weights_f32 = {name: w.astype(np.float32).tolist() for name, w in weights.items()}  # as the original: float32
    opt = SeedAdam(model.parameters())

    # Everything random is drawn already, so every batch and label is known up front.
    inputs = data.rgb[indices]  # [steps, S, B, 3]
    labels = (uniforms.permute(2, 0, 1, 3) < data.probs[:, indices]).float()  # [L, steps, S, B]
    names = data.label_names
    records = {name: [] for name in ["loss", "recon", *[r.name for r in regs]]}
    val_history, val_steps = {}, []

    iterator = range(steps)
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, desc=f"train {experiment.name} × {len(seeds)} seeds", leave=False)
    for t in iterator:
        if val_every and t > 0 and t % val_every == 0:
            _record(val_history, validate(model, val_data, regs, experiment.data.val_batch_size))
            val_steps.append(t)
        x = inputs[t]
        step_labels = {name: labels[i, t] for i, name in enumerate(names)}
        out = model(x)
        recon = (out.recon - x).pow(2).mean(dim=(1, 2))
        loss = recon
        for r in regs:
            w = weights_f32[r.name][t]
            if w == 0:
                records[r.name].append(None)
                continue
            z, unit = _latent(out, r, experiment.model.normalize)
            term = r.term(z, step_labels, unit)
            records[r.name].append(term.detach())
            loss = loss + w * term
        records["recon"].append(recon.detach())
        records["loss"].append(loss.detach())
        opt.zero_grad()
        loss.sum().backward()
        opt.step(float(lr[t]))

    zeros = torch.zeros(len(seeds))
    terms = {k: torch.stack([zeros if v is None else v for v in vs]).numpy() for k, vs in records.items()}
    _check_finite(experiment.name, terms)
    # Labels count on the steps where some term using them is active (as the original logged them).
    label_steps = {}
    for i, name in enumerate(names):
        active = np.zeros(steps, dtype=bool)
        for r in regs:
            if name in r.labels:
                active |= weights[r.name] != 0
        label_steps[name] = (labels[i].sum(-1) * torch.from_numpy(active)[:, None]).numpy()

    model.eval()
    final = validate(model, val_data, regs, experiment.data.val_batch_size)
    _record(val_history, final)
    val_steps.append(steps)
    return TrainResult(
        model=model,
        seeds=seeds,
        terms=terms,
        weights={"lr": lr, **weights},
        label_steps=label_steps,
        val={k: v.numpy() for k, v in final.items()},
        val_history={k: np.stack(v) for k, v in val_history.items()},
        val_steps=val_steps,
    )


def _latent(out, reg: Regularizer, normalized: bool) -> tuple[torch.Tensor, bool]:
    """The latent a regularizer reads, and whether it is known to be unit-norm."""
    if reg.layer == "pre":
        return out.z_pre, False
    return out.z, normalized


def _check_finite(name: str, terms: dict[str, np.ndarray]) -> None:
    """Raise naming the first step and the terms that went non-finite (checked once, after training)."""
    bad = ~np.isfinite(terms["loss"]).all(axis=1)
    if bad.any():
        t = int(np.argmax(bad))
        culprits = [k for k, v in terms.items() if k != "loss" and not np.isfinite(v[t]).all()]
        raise RuntimeError(f"{name}: non-finite loss at step {t} (terms: {culprits or ['loss']})")


def _record(history: dict[str, list], values: dict[str, torch.Tensor]) -> None:
    for k, v in values.items():
        history.setdefault(k, []).append(v.detach().numpy().copy())
