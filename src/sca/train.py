"""A plain training loop over S seeds at once.

Every random draw is made up front; then the seeds train in segments between validations, with the fused
step (fused.cpp: forward, loss, backward and Adam of each seed in its own C++ loop) or, as its reference, with
eager PyTorch: the batched model adds up recon + Σ weight(step)·term per seed, and the seeds' losses are summed
(not averaged), so each seed's gradient — and Adam's update, which is elementwise — is exactly what it would be
trained alone.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from . import fused
from .data import ColorData, training_data, validation_data
from .model import ColorAutoencoder
from .optim import SeedAdam
from .regularizers import Regularizer
from .schedule import load_schedule
from .stream import RandomStream, TorchStream
from .workers import default_workers, keep_freed_memory, map_in_workers, seed_chunks

if TYPE_CHECKING:
    from .experiments import Experiment


@dataclass
class TrainResult:
    model: ColorAutoencoder  # batched over `seeds`, in eval mode
    seeds: list[int]
    terms: dict[str, np.ndarray]  # per step, per seed [steps, S]: "recon", "loss" and each regularizer (unweighted)
    weights: dict[str, np.ndarray]  # schedule weight per step [steps] of each training regularizer, and "lr"
    # per step and seed [steps, S]: labels counted while a term using them was active
    label_steps: dict[str, np.ndarray]
    # last validation per seed [S] (before the final step, as the original): "val_recon", "val_<name>"
    val: dict[str, np.ndarray]
    val_history: dict[str, np.ndarray]  # [n_checks, S], at steps `val_steps`
    val_steps: list[int]  # validation ran before each of these steps (after `steps` trained ones)
    collapsed: list[int] = field(default_factory=list)  # seeds whose val_recon is at least half a constant output's

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
def validate(
    model: ColorAutoencoder, data: ColorData, regularizers: Sequence[Regularizer], batch_size: int
) -> dict[str, torch.Tensor]:
    """val_recon and each validated term per seed [S], as batch means averaged with batch-size weights.

    A validated term whose labels the validation data does not carry is not reported (2.4.1 validates
    `subspace` but its validation set labels only red, so the original logged no val_subspace either).
    """
    was_training = model.training
    model.eval()
    regularizers = [r for r in regularizers if r.validate and all(lab in data.label_names for lab in r.labels)]
    sums: dict[str, torch.Tensor | float] = {"val_recon": 0.0, **{f"val_{r.name}": 0.0 for r in regularizers}}
    for start in range(0, len(data), batch_size):
        x = data.rgb[start : start + batch_size]
        out = model(x)
        n = x.shape[0]
        sums["val_recon"] = sums["val_recon"] + n * (out.recon - x).pow(2).mean(dim=(1, 2))
        labels = {
            name: data.probs[i, start : start + n].expand(model.n_seeds, n) for i, name in enumerate(data.label_names)
        }
        for r in regularizers:
            z, unit = _latent(out, r, model.config.normalize)
            sums[f"val_{r.name}"] = sums[f"val_{r.name}"] + n * r.term(z, labels, unit)
    model.train(was_training)
    return {k: torch.as_tensor(v / len(data)) for k, v in sums.items()}


def validation_steps(steps: int, every: int) -> list[int]:
    """The steps t before which validation runs: t > 0 and a multiple of `every`, as Lightning's
    val_check_interval did. With 1501 steps and every 150 the last is t = 1500, before the final step,
    and that is the validation the original reported. With none (every = 0), validate after training."""
    return list(range(every, steps, every)) if every > 0 else []


def check_seeds(seeds: Sequence[int]) -> list[int]:
    """The seeds as a list of distinct non-negative ints, or a ValueError naming what is wrong."""
    seeds = list(seeds)
    if not seeds:
        raise ValueError("no seeds: give at least one")
    bad = [s for s in seeds if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 or s >= 2**63]
    if bad:
        raise ValueError(f"seeds {bad[:5]} are not integers in 0..2**63-1")
    dup = sorted(int(s) for s, n in Counter(seeds).items() if n > 1)
    if dup:
        raise ValueError(f"seeds {dup[:5]} appear more than once")
    return [int(s) for s in seeds]


def memory_needed(experiment: Experiment, n_seeds: int, steps: int) -> int:
    """Bytes that training `n_seeds` at once holds, about: every seed's pre-drawn batches (indices,
    colours, label uniforms and labels, each held twice while stacking) plus per-step records."""
    batch, n_labels = experiment.data.batch_size, len(experiment.data.labels)
    per_step = batch * (8 + 3 * 4 + 2 * 4 * n_labels) * 2 + 8 * (len(experiment.regularizers) + 2)
    return n_seeds * steps * per_step + (64 << 20)


def available_memory() -> int | None:
    """MemAvailable from /proc/meminfo in bytes (None where unknown)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def check_memory(experiment: Experiment, n_seeds: int, steps: int) -> None:
    need, have = memory_needed(experiment, n_seeds, steps), available_memory()
    if have is not None and need > have:
        one = memory_needed(experiment, 1, steps)
        cure = (
            "run fewer seeds at a time"
            if one <= have
            else f"even one seed needs {one / 2**30:.1f} GiB: its schedule ({steps:,} steps) is too long"
        )
        raise MemoryError(
            f"{experiment.name}: training {n_seeds} seeds of {steps:,} steps at once needs about "
            f"{need / 2**30:.1f} GiB, but only {have / 2**30:.1f} GiB is available; {cure}"
        )


@contextmanager
def flush_denormals():
    """Treat subnormal floats as zero inside the block (on this thread), restoring the default after.

    The separation term raises shifted cosines to the 100th power, so most of its [B, B] entries
    underflow through the subnormal range, where x86 arithmetic is tens of times slower. Every such
    value is below 1.2e-38 and is added to terms many orders larger, so flushing them changes no
    trained weight: every run the book trains comes out bitwise identical with or without it (the
    test suite checks a 4-D and a 5-D run), and training takes half the time."""
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


@contextmanager
def torch_threads(n: int):
    """Run torch on n threads inside the block, restoring the previous setting after."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# The fused C++ step (fused.cpp), and eager PyTorch (model.py, regularizers.py, optim.py): the same formulas,
# rounded differently. Every run trains with the fused step; the eager engine is its reference (tests, make bench).
ENGINES = ("fused", "eager")


def train(
    experiment: Experiment,
    seeds: Sequence[int],
    stream: RandomStream | None = None,
    progress: bool = False,
    workers: int | None = None,
    threads: int = 1,
    engine: str = "fused",
) -> TrainResult:
    """Train one model per seed, all at once, split over `workers` processes (default `default_workers`)
    of `threads` torch threads each, with `engine`. Returns the batched model and per-step records. A
    seed's result is the same bits whatever other seeds, workers or threads it trains with."""
    stream = stream or TorchStream()
    if engine not in ENGINES:
        raise ValueError(f"unknown training engine {engine!r}; known: {', '.join(ENGINES)}")
    seeds = check_seeds(seeds)
    check_memory(experiment, len(seeds), load_schedule(experiment.schedule).length)  # before any per-step arrays
    _, _, weights = experiment.training_schedule()  # every input is checked before any training
    heavy = {name: float(w.max()) for name, w in weights.items() if w.max() > LARGE_WEIGHT}
    if heavy:
        warnings.warn(
            f"{experiment.name}: regularizer weight(s) {heavy} exceed {LARGE_WEIGHT:g}, so the regularizers "
            "outweigh reconstruction and the model may not learn to reconstruct (the published schedules stay "
            "below 1)",
            LargeWeightWarning,
            stacklevel=2,
        )
    if engine == "fused":
        fused.spec(experiment.model, experiment.regularizers, training_data(experiment.data).label_names)
        fused.library()  # built (or its build fails) before any worker starts
    chunks = seed_chunks(len(seeds), default_workers(len(seeds)) if workers is None else int(workers))
    if len(chunks) == 1:
        with torch_threads(threads):
            result = _train(experiment, seeds, stream, engine, progress)
    else:
        args = [(experiment, [seeds[i] for i in chunk], stream, engine) for chunk in chunks]
        what = [f"{experiment.name}, {len(a[1])} seeds from {a[1][0]} to {a[1][-1]}" for a in args]
        result = merge(map_in_workers(_train, args, threads, what))
    result.collapsed = _collapsed(
        experiment.name,
        result.seeds,
        result.val["val_recon"],
        validation_data(experiment.data),
        result.terms["loss"].shape[0],
    )
    return result


def merge(parts: Sequence[TrainResult]) -> TrainResult:
    """One TrainResult from results over disjoint seed lists, seeds in the given order."""
    first = parts[0]
    params = [torch.cat([p.detach() for p in ps]) for ps in zip(*(r.model.parameters() for r in parts))]
    n = len(first.model.weights)
    model = ColorAutoencoder(first.model.config, [t for pair in zip(params[:n], params[n:]) for t in pair]).eval()
    cat = lambda key, axis: {
        k: np.concatenate([getattr(r, key)[k] for r in parts], axis=axis) for k in getattr(first, key)
    }
    return TrainResult(
        model=model,
        seeds=[s for r in parts for s in r.seeds],
        terms=cat("terms", 1),
        weights=first.weights,
        label_steps=cat("label_steps", 1),
        val=cat("val", 0),
        val_history=cat("val_history", 1),
        val_steps=first.val_steps,
    )


CHUNK = 128  # seeds a process trains at a time: their pre-drawn batches stay small (a seed does not notice)


def _train(
    experiment: Experiment, seeds: list[int], stream: RandomStream, engine: str, progress: bool = False
) -> TrainResult:
    keep_freed_memory()
    with flush_denormals():
        parts = [
            _train_loop(experiment, seeds[i : i + CHUNK], stream, engine, progress) for i in range(0, len(seeds), CHUNK)
        ]
    return parts[0] if len(parts) == 1 else merge(parts)


def _train_loop(
    experiment: Experiment, seeds: list[int], stream: RandomStream, engine: str, progress: bool
) -> TrainResult:
    schedule, lr_keys, weight_keys = experiment.training_schedule()
    data, val_data = training_data(experiment.data), validation_data(experiment.data)
    regs = list(experiment.regularizers)
    steps, batch = schedule.length, experiment.data.batch_size
    checks = set(validation_steps(steps, experiment.validation_every(steps)))
    draws = [
        stream.draws(s, experiment.model.layer_shapes(), steps, batch, len(data), len(data.label_names), data.weights)
        for s in seeds
    ]
    params = [torch.stack([d.params[i] for d in draws]) for i in range(len(draws[0].params))]

    rows = [schedule_step(t, steps) for t in range(steps)]
    lr = lr_keys[rows]
    weights = {name: w[rows] for name, w in weight_keys.items()}
    # as the original: float32 weights, [steps, R]
    weights_f32 = np.stack([weights[r.name] for r in regs], axis=1).astype(np.float32).reshape(steps, len(regs))

    # Everything random is drawn already, so every batch and label is known up front: sample b of step t of a
    # seed is colour data.rgb[indices[t, b]], and carries label l where uniforms[t, l, b] < data.probs[l, that colour].
    names = data.label_names
    records = torch.zeros(steps, len(seeds), 2 + len(regs))  # loss, recon, each term (0 while its weight is 0)
    counts = torch.zeros(steps, len(seeds), len(names))  # labels per step
    val_history: dict[str, list] = {}
    val_steps: list[int] = []

    if engine == "fused":  # gathers each batch itself
        flat = fused.Flat(params)
        model = flat.model(experiment.model).train()
        spec = fused.spec(experiment.model, regs, names)
        batches = fused.Batches(data.rgb, data.probs, [d.indices for d in draws], [d.uniforms for d in draws])

        def segment(a, b):
            out, counts[a:b] = fused.train_steps(spec, flat, batches, a, b, weights_f32[a:b], lr[a:b])
            return out
    else:
        indices = torch.stack([d.indices for d in draws], dim=1)  # [steps, S, B]
        uniforms = torch.stack([d.uniforms for d in draws], dim=1)  # [steps, S, L, B]
        inputs = data.rgb[indices]  # [steps, S, B, 3]
        labels = (uniforms.permute(2, 0, 1, 3) < data.probs[:, indices]).float()  # [L, steps, S, B]
        counts[:] = labels.sum(-1).permute(1, 2, 0)
        model = ColorAutoencoder(experiment.model, params).train()
        opt = SeedAdam(model.parameters())
        segment = lambda a, b: _eager_steps(
            model, opt, regs, inputs[a:b], labels[:, a:b], names, weights_f32[a:b], lr[a:b]
        )

    # Train in segments between validations (validation runs before step t, for t in `checks`).
    bounds = sorted(checks) + [steps]
    if progress:
        from tqdm.auto import tqdm

        bounds = tqdm(bounds, desc=f"train {experiment.name} × {len(seeds)} seeds ({engine})", leave=False)
    start = 0
    for stop in bounds:
        records[start:stop] = segment(start, stop)
        start = stop
        if stop in checks:
            _check_finite(experiment.name, seeds, records[:stop], regs)
            _record(val_history, validate(model, val_data, regs, experiment.data.val_batch_size))
            val_steps.append(stop)

    if engine == "eager":
        opt.release()
    else:
        model = ColorAutoencoder(experiment.model, [p.clone() for p in flat.views()])
    _check_finite(experiment.name, seeds, records, regs)
    terms = {k: records[:, :, i].numpy() for i, k in enumerate(["loss", "recon", *[r.name for r in regs]])}
    # Labels count on the steps where some term using them is active (as the original logged them).
    label_steps = {}
    for i, name in enumerate(names):
        active = np.zeros(steps, dtype=bool)
        for r in regs:
            if name in r.labels:
                active |= weights[r.name] != 0
        label_steps[name] = (counts[:, :, i] * torch.from_numpy(active)[:, None]).numpy()

    model.eval()
    if not val_steps:  # no periodic validation: validate the trained model
        _record(val_history, validate(model, val_data, regs, experiment.data.val_batch_size))
        val_steps.append(steps)
    val = {k: v[-1] for k, v in val_history.items()}  # the last validation, as the original reported
    return TrainResult(
        model=model,
        seeds=seeds,
        terms=terms,
        weights={"lr": lr, **weights},
        label_steps=label_steps,
        val=val,
        val_history={k: np.stack(v) for k, v in val_history.items()},
        val_steps=val_steps,
    )


class TrainingFailed(RuntimeError):
    """A run went non-finite; the message names the seeds, the step and the terms."""


class CollapseWarning(UserWarning):
    """Some seeds reconstruct no better than a constant colour would."""


class LargeWeightWarning(UserWarning):
    """Regularizer weights so large that reconstruction no longer counts."""


LARGE_WEIGHT = 1e3  # the published schedules' weights stay below 1
COLLAPSE_FRACTION = 0.5  # a seed whose val_recon is at least half a constant output's has learnt almost nothing


SHORT_RUN = 10  # fewer training steps than this: a collapse is blamed on the schedule's length first (60 already learn)


def _collapsed(name: str, seeds: list[int], val_recon: np.ndarray, val_data: ColorData, steps: int) -> list[int]:
    """Seeds whose validation error is at least COLLAPSE_FRACTION of predicting the mean colour; warns, naming the
    likely cause (a schedule of very few steps, or else the learning rate and weights)."""
    constant = float((val_data.rgb - val_data.rgb.mean(0)).pow(2).mean())
    bad = [s for s, v in zip(seeds, val_recon) if not v < COLLAPSE_FRACTION * constant]
    if bad:
        worst = max(float(v) for v in val_recon)
        cause = (
            f"the schedule has only {steps} step(s): lengthen it"
            if steps < SHORT_RUN
            else "check the learning rate and weights"
        )
        warnings.warn(
            f"{name}: seed(s) {bad} collapsed: val_recon up to {worst:.3g}, against {constant:.3g} for a "
            f"constant output after {steps} steps ({cause})",
            CollapseWarning,
            stacklevel=3,
        )
    return bad


def _latent(out, reg: Regularizer, normalized: bool) -> tuple[torch.Tensor, bool]:
    """The latent a regularizer reads, and whether it is known to be unit-norm."""
    if reg.layer == "pre":
        return out.z_pre, False
    return out.z, normalized


def _eager_steps(
    model: ColorAutoencoder,
    opt: SeedAdam,
    regs: Sequence[Regularizer],
    inputs: torch.Tensor,
    labels: torch.Tensor,
    names: Sequence[str],
    weights: np.ndarray,
    lr: np.ndarray,
) -> torch.Tensor:
    """Train n steps with eager PyTorch: inputs [n, S, B, 3], labels [L, n, S, B], weights float32 [n, R]
    and lr [n]. Returns the records [n, S, 2 + R], as fused.train_steps."""
    records = torch.zeros(len(inputs), model.n_seeds, 2 + len(regs))
    for t, x in enumerate(inputs):
        step_labels = {name: labels[i, t] for i, name in enumerate(names)}
        loss, records[t] = step_loss(model, x, regs, step_labels, weights[t].tolist())
        opt.zero_grad()
        loss.sum().backward()
        opt.step(float(lr[t]))
    return records


def step_loss(
    model: ColorAutoencoder,
    x: torch.Tensor,
    regs: Sequence[Regularizer],
    labels: dict[str, torch.Tensor],
    weights: Sequence[float],
) -> tuple[torch.Tensor, torch.Tensor]:
    """One eager step's loss per seed [S], recon + Σ weight·term (a term whose weight is 0 is not computed),
    and its records [S, 2 + R]: loss, recon and each term (0 where not computed)."""
    out = model(x)
    recon = (out.recon - x).pow(2).mean(dim=(1, 2))
    loss, terms = recon, []
    for r, w in zip(regs, weights):
        if w == 0:
            terms.append(torch.zeros_like(recon))
            continue
        z, unit = _latent(out, r, model.config.normalize)
        term = r.term(z, labels, unit)
        terms.append(term.detach())
        loss = loss + w * term
    return loss, torch.stack([loss.detach(), recon.detach(), *terms], dim=1)


def _check_finite(name: str, seeds: list[int], records: torch.Tensor, regs: Sequence[Regularizer]) -> None:
    """Raise TrainingFailed naming the first step, the seeds and the terms that went non-finite in
    records [steps, S, 2 + R] (loss, recon, each term)."""
    bad = ~torch.isfinite(records[:, :, 0]).all(dim=1)
    if not bad.any():
        return
    t = int(bad.float().argmax())
    which = [s for s, ok in zip(seeds, torch.isfinite(records[t, :, 0]).tolist()) if not ok]
    terms = [
        k for i, k in enumerate(["recon", *[r.name for r in regs]]) if not torch.isfinite(records[t, :, 1 + i]).all()
    ]
    raise TrainingFailed(
        f"{name}: the loss of seed(s) {which[:10]} became non-finite at step {t} "
        f"(terms: {', '.join(terms) or 'loss'}); lower the learning rate or the weights"
    )


def _record(history: dict[str, list], values: dict[str, torch.Tensor]) -> None:
    for k, v in values.items():
        history.setdefault(k, []).append(v.detach().numpy().copy())
