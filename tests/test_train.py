from dataclasses import replace

import numpy as np
import pytest
import torch

from sca.data import validation_data
from sca.optim import SeedAdam
from sca.stream import TorchStream
from sca.train import ENGINES, train, validate, validation_steps


def _same_bits(a, i, b, j):
    """Seed position i of run a and position j of run b: identical parameters, losses and validation."""
    assert all(torch.equal(p[i], q[j]) for p, q in zip(a.model.parameters(), b.model.parameters()))
    assert all(np.array_equal(a.terms[k][:, i], b.terms[k][:, j]) for k in a.terms)
    assert all(np.array_equal(a.val[k][i], b.val[k][j]) for k in a.val)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("experiment", ["short_experiment", "short_5d_experiment"])
def test_a_seed_gives_the_same_bits_alone_in_any_batch_worker_split_and_thread_count(experiment, engine, request):
    exp = request.getfixturevalue(experiment)
    alone = train(exp, [11], workers=1, engine=engine)
    _same_bits(alone, 0, train(exp, [11, 12], workers=1, engine=engine), 0)
    _same_bits(alone, 0, train(exp, list(range(20)), workers=1, engine=engine), 11)
    _same_bits(
        alone, 0, train(exp, list(range(5, 22)), workers=2, engine=engine), 6
    )  # seed 11 in the first worker's half
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        _same_bits(alone, 0, train(exp, [3, 11, 7], workers=1, engine=engine), 1)
        assert torch.get_num_threads() == 2  # training restores the caller's thread setting
    finally:
        torch.set_num_threads(before)


def test_a_process_trains_its_seeds_a_chunk_at_a_time_with_the_same_bits(short_experiment, monkeypatch):
    import importlib

    whole = train(short_experiment, list(range(7)), workers=1)
    monkeypatch.setattr(importlib.import_module("sca.train"), "CHUNK", 3)
    chunked = train(short_experiment, list(range(7)), workers=1)
    assert chunked.seeds == whole.seeds and chunked.val_steps == whole.val_steps
    for i in range(7):
        _same_bits(whole, i, chunked, i)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("experiment", ["short_experiment", "short_5d_experiment"])
def test_flushing_subnormals_changes_no_bit(experiment, engine, request, monkeypatch):
    """Training flushes subnormal floats to zero for speed; with IEEE subnormals it gives the same bits."""
    import contextlib
    import importlib

    exp = request.getfixturevalue(experiment)
    flushed = train(exp, [0, 1, 2], workers=1, engine=engine)
    monkeypatch.setattr(importlib.import_module("sca.train"), "flush_denormals", contextlib.nullcontext)
    exact = train(exp, [0, 1, 2], workers=1, engine=engine)
    for i in range(3):
        _same_bits(flushed, i, exact, i)


def test_seed_adam_is_torch_adam_to_rounding():
    """SeedAdam against torch.optim.Adam (the reference formula) over 20 steps of changing gradients."""
    g = torch.Generator().manual_seed(0)
    shapes = [(4, 16, 5), (4, 5), (4, 3)]
    ours = [torch.nn.Parameter(torch.randn(s, generator=g)) for s in shapes]
    ref = [torch.nn.Parameter(p.detach().clone()) for p in ours]
    opt, ref_opt = SeedAdam(ours), torch.optim.Adam(ref, lr=0.01)
    for step in range(20):
        lr = 0.01 * (1 + step % 3)
        grads = [torch.randn(s, generator=g) * 10.0 ** (step % 4 - 2) for s in shapes]
        for p, q, grad in zip(ours, ref, grads):
            p.grad, q.grad = grad.clone(), grad.clone()
        for group in ref_opt.param_groups:
            group["lr"] = lr
        opt.step(lr)
        ref_opt.step()
    for p, q in zip(ours, ref):
        assert torch.allclose(p, q, rtol=1e-6, atol=1e-7)


def test_the_same_seed_gives_the_same_result_every_run(short_experiment):
    a, b = train(short_experiment, [5]), train(short_experiment, [5])
    for pa, pb in zip(a.model.parameters(), b.model.parameters()):
        assert torch.equal(pa, pb)


def test_validation_runs_when_the_original_ran_it():
    # Lightning's val_check_interval = 1501 // 10 = 150: before steps 150, 300, ..., 1500; the last
    # runs before the final training step, and it is the one the original reported.
    assert validation_steps(1501, 150) == list(range(150, 1501, 150))
    assert validation_steps(60, 6)[-1] == 54 and validation_steps(60, 0) == []


def test_the_reported_validation_is_the_last_one_not_the_trained_models(short_experiment):
    exp = replace(short_experiment, val_every=20)  # 60 steps: before steps 20 and 40
    r = train(exp, [0, 1])
    assert r.val_steps == [20, 40] and r.val_history["val_recon"].shape == (2, 2)
    assert all(np.array_equal(r.val[k], r.val_history[k][-1]) for k in r.val)
    after = validate(r.model, validation_data(exp.data), exp.regularizers, exp.data.val_batch_size)
    assert not np.allclose(after["val_recon"].numpy(), r.val["val_recon"], rtol=1e-3)
    only_end = train(replace(exp, val_every=0), [0, 1])  # no periodic validation: the trained model
    assert only_end.val_steps == [60] and np.allclose(only_end.val["val_recon"], after["val_recon"].numpy())


def test_records_every_term_label_counts_and_validation(short_experiment):
    r = train(short_experiment, [0, 1])
    assert set(r.terms) == {"loss", "recon", "separate", "anchor", "subspace"}
    assert all(v.shape == (60, 2) for v in r.terms.values())
    # the weighted terms and recon add up to the loss
    total = r.terms["recon"] + sum(r.weighted(n) for n in ("separate", "anchor", "subspace"))
    assert np.allclose(total, r.terms["loss"], rtol=1e-5)
    # separate has weight 0 from step 59's row: the last step uses step 58's weights (as the original)
    assert r.weights["separate"][-1] == r.weights["separate"][-2]
    assert set(r.val) == {"val_recon", "val_anchor"}  # 2.4.1 validates subspace, but its val data has no vibrant label
    assert r.val_steps == list(range(6, 60, 6)) and r.val_history["val_recon"].shape == (9, 2)
    assert set(r.label_counts) == {"red", "vibrant"} and r.label_counts["red"].dtype.kind == "f"


class ConstantStream(TorchStream):
    """A stream that always samples pure red and labels it: another source of randomness, same trainer."""

    def draws(self, seed, shapes, steps, batch, n_samples, n_labels, weights=None):
        d = super().draws(seed, shapes, steps, batch, n_samples, n_labels, weights)
        d.indices[:] = n_samples - 64  # (1, 0, 0) in the 8³ lattice, red varying slowest
        d.uniforms[:] = 0.0
        return d


def test_the_random_stream_is_swappable(short_experiment):
    with pytest.warns(UserWarning, match="collapsed"):  # one colour only: it cannot learn the others
        r = train(short_experiment, [0], stream=ConstantStream())
    active = r.weights["anchor"] > 0
    assert r.label_counts["red"][0] == 64 * active.sum()


def test_a_short_run_learns(short_experiment):
    """Sixty steps already reconstruct the validation colours far better than the best constant colour does."""
    result = train(short_experiment, [0, 1])
    rgb = validation_data(short_experiment.data).rgb
    constant = float((rgb - rgb.mean(0)).pow(2).mean())
    assert (result.val["val_recon"] < 0.5 * constant).all() and not result.collapsed
