"""The fused training step (fused.cpp) against the eager formulas it replaces, term by term."""

from dataclasses import replace

import numpy as np
import pytest
import torch

import precision
from sca import experiments, fused
from sca.data import training_data
from sca.model import ColorAutoencoder
from sca.optim import SeedAdam
from sca.stream import TorchStream
from sca.train import step_loss

SEEDS = 3


def _inputs(experiment, dtype, seed=0):
    """Random parameters, a batch per seed, labels with some positives, and weights with one zero."""
    g = torch.Generator().manual_seed(seed)
    data = training_data(experiment.data)
    shapes = experiment.model.layer_shapes()
    draws = [
        TorchStream().draws(s, shapes, 1, experiment.data.batch_size, len(data), len(data.label_names))
        for s in range(SEEDS)
    ]
    params = [torch.stack([d.params[i] for d in draws]).to(dtype) for i in range(len(shapes) * 2)]
    x = data.rgb[torch.stack([d.indices[0] for d in draws])].to(dtype)  # [S, B, 3]
    labels = (torch.rand(SEEDS, len(data.label_names), x.shape[1], generator=g) < 0.2).to(dtype)
    weights = (torch.rand(len(experiment.regularizers), generator=g) * 0.5 + 0.01).numpy().astype(np.float32)
    if len(weights) > 2:
        weights[1] = 0  # an inactive term: no value, no gradient
    return params, x, labels, weights, data.label_names


def _eager(experiment, params, x, labels, weights, names):
    """records [S, 2 + R] and the gradient [S, P] by autograd, through the eager engine's step loss."""
    params = [p.clone().requires_grad_() for p in params]
    model = ColorAutoencoder(experiment.model, params).train()
    step_labels = {name: labels[:, i] for i, name in enumerate(names)}
    loss, records = step_loss(model, x, experiment.regularizers, step_labels, weights.tolist())
    loss.sum().backward()
    order = fused.model_params(model)
    return records, torch.cat([t.grad.reshape(SEEDS, -1) for t in order], dim=1)


def _fused(experiment, params, x, labels, weights, names):
    spec = fused.spec(experiment.model, experiment.regularizers, names)
    flat = torch.cat([p.reshape(SEEDS, -1) for p in params], dim=1)
    return fused.loss_grad(spec, flat, x, labels, weights)


NAMES = list(experiments.EXPERIMENTS)


@pytest.mark.parametrize("name", NAMES)
def test_the_fused_gradient_is_autograds_in_float64(name):
    experiment = experiments.get(name)
    inputs = _inputs(experiment, torch.float64)
    want_records, want_grads = _eager(experiment, *inputs)
    records, grads = _fused(experiment, *inputs)
    torch.testing.assert_close(records, want_records, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(grads, want_grads, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("batch", [50, 97])
@pytest.mark.parametrize("name", ["2.2", "2.4.1", "2.9.1"])
def test_a_batch_the_kernels_blocks_do_not_divide_has_autograds_gradient(name, batch):
    """Every experiment trains on 64 samples, for which the fused step has loops of fixed length; any other batch
    takes the general loops and pads the separation's rows, whose padding must not enter the sums (a square
    with the shift would put ((0 + 1)/2)² = 1/4 there, where a 100th power puts 1e-30)."""
    experiment = experiments.get(name)
    regs = tuple(replace(r, power=2.0) if r.kind == "separate" else r for r in experiment.regularizers)
    experiment = replace(experiment, data=replace(experiment.data, batch_size=batch), regularizers=regs)
    inputs = _inputs(experiment, torch.float64)
    want_records, want_grads = _eager(experiment, *inputs)
    records, grads = _fused(experiment, *inputs)
    torch.testing.assert_close(records, want_records, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(grads, want_grads, rtol=1e-10, atol=1e-13)


def _relative(got, want):
    """Per seed: ‖got - want‖ / ‖want‖."""
    return ((got - want).norm(dim=-1) / want.norm(dim=-1)).max().item()


def _one_step(x, labels) -> fused.Batches:
    """One step's batches x [S, B, 3] and labels [S, L, B] (0 or 1) as pre-drawn draws: seed s draws colours
    s·B to s·B + B - 1 of a table holding every seed's batch, and uniforms of 1/2 below probabilities 0 or 1."""
    s, b, _ = x.shape
    return fused.Batches(
        x.reshape(-1, 3).float(),
        labels.permute(1, 0, 2).reshape(labels.shape[1], -1).float(),
        [torch.arange(i * b, (i + 1) * b)[None] for i in range(s)],
        [torch.full((1, labels.shape[1], b), 0.5) for _ in range(s)],
    )


def test_the_fused_adam_is_seed_adams_formula():
    """One fused step moves the parameters as SeedAdam does with the step's own gradient."""
    experiment = experiments.get("2.4.1")
    params, x, labels, weights, names = _inputs(experiment, torch.float32)
    spec = fused.spec(experiment.model, experiment.regularizers, names)
    flat = fused.Flat(params)
    _, grads = fused.loss_grad(spec, flat.params.clone(), x, labels, weights)
    want = torch.nn.Parameter(flat.params.clone())
    want.grad = grads
    SeedAdam([want]).step(0.01)
    fused.train_steps(spec, flat, _one_step(x, labels), 0, 1, weights[None], np.array([0.01]))
    torch.testing.assert_close(flat.params, want.detach(), rtol=1e-6, atol=1e-9)
    assert flat.t == 1


@pytest.mark.parametrize("name", NAMES)
def test_the_fused_float32_step_is_within_what_float32_allows(name):
    """Against the float64 truth, the fused float32 step's terms and gradient are within the first-order bound
    float32 arithmetic allows this model (tests/precision.py), a bound that holds for any processor's kernels;
    autograd's own float32 computation is held to the same bound, which checks that the bound is one float32
    can meet (measured: the fused step 1.6-67 u, autograd 2-64 u under each ATEN_CPU_CAPABILITY, against
    allowances of 200-1500 u)."""
    experiment = experiments.get(name)
    power = max([r.power for r in experiment.regularizers if r.kind == "separate"], default=1.0)
    allowed = precision.step_allowance(experiment.model, power, experiment.data.batch_size)
    inputs = _inputs(experiment, torch.float64)
    truth_records, truth_grads = _eager(experiment, *inputs)
    params, x, labels, weights, names = inputs
    single = ([p.float() for p in params], x.float(), labels.float(), weights, names)
    eager_records, eager_grads = _eager(experiment, *single)
    records, grads = _fused(experiment, *single)
    for what, got, eager, truth in (
        ("terms", records, eager_records, truth_records),
        ("gradient", grads, eager_grads, truth_grads),
    ):
        ours, theirs = _relative(got.double(), truth), _relative(eager.double(), truth)
        assert ours <= allowed, f"{name} {what}: {ours:.2g} from the float64 truth, float32 allows {allowed:.2g}"
        assert theirs <= allowed, f"{name} {what}: autograd's float32 {theirs:.2g} is past the bound {allowed:.2g}"


def test_a_step_that_loses_precision_fails_the_bound():
    """The bound can fail: the fused step's gradient with one float16 rounding of every component (relative
    error up to 2⁻¹¹) is past it."""
    experiment = experiments.get("2.9")
    allowed = precision.step_allowance(experiment.model, 100.0, experiment.data.batch_size)
    inputs = _inputs(experiment, torch.float64)
    _, truth = _eager(experiment, *inputs)
    assert _relative(truth.half().double(), truth) > allowed


def _segment(experiment, lib, steps=40):
    """Train 3 seeds for `steps` steps from one stream's draws with library `lib`; params and records."""
    data = training_data(experiment.data)
    draws = [
        TorchStream().draws(
            s, experiment.model.layer_shapes(), steps, experiment.data.batch_size, len(data), len(data.label_names)
        )
        for s in range(SEEDS)
    ]
    flat = fused.Flat([torch.stack([d.params[i] for d in draws]) for i in range(len(draws[0].params))])
    batches = fused.Batches(
        data.rgb, torch.full_like(data.probs, 0.3), [d.indices for d in draws], [d.uniforms for d in draws]
    )
    weights = np.full((steps, len(experiment.regularizers)), 0.05, np.float32)
    records, _ = fused.train_steps(
        fused.spec(experiment.model, experiment.regularizers, data.label_names),
        flat,
        batches,
        0,
        steps,
        weights,
        np.full(steps, 0.01),
        lib,
    )
    return flat.params, records


def widths() -> list[tuple[str, ...]]:
    """The vector flags this processor can run: none, AVX2 and AVX-512 where it has them."""
    return list(dict.fromkeys([(), *(("-mavx2",),) * bool(fused.vector_flags()), fused.vector_flags()]))


@pytest.mark.skipif(len(widths()) < 2, reason="needs a processor with AVX2")
@pytest.mark.parametrize("name", ["2.2", "2.4.1", "2.9.1"])
def test_the_vector_width_changes_no_bit(name):
    """The builds for every vector width this processor has (any x86-64, AVX2, AVX-512) train the same bits."""
    experiment = experiments.get(name)
    narrow, *wide = [_segment(experiment, fused.library(flags)) for flags in widths()]
    for other in wide:
        for a, b in zip(narrow, other):
            assert torch.equal(a, b)
