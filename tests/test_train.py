import numpy as np
import torch

from sca.stream import TorchStream
from sca.train import train


def test_a_seed_trained_alone_equals_the_same_seed_trained_among_others(short_experiment):
    together = train(short_experiment, [3, 7, 11])
    alone = train(short_experiment, [7])
    x = torch.rand(100, 3, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(together.model.seeds(1)(x).recon, alone.model(x).recon, atol=1e-5)
    assert np.allclose(together.terms["loss"][:, 1], alone.terms["loss"][:, 0], rtol=1e-4, atol=1e-7)
    assert together.label_counts["red"][1] == alone.label_counts["red"][0]


def test_the_same_seed_gives_the_same_result_every_run(short_experiment):
    a, b = train(short_experiment, [5]), train(short_experiment, [5])
    for (pa, pb) in zip(a.model.parameters(), b.model.parameters()):
        assert torch.equal(pa, pb)


def test_records_every_term_label_counts_and_validation(short_experiment):
    r = train(short_experiment, [0, 1], val_every=20)
    assert set(r.terms) == {"loss", "recon", "separate", "anchor", "subspace"}
    assert all(v.shape == (60, 2) for v in r.terms.values())
    # the weighted terms and recon add up to the loss
    total = r.terms["recon"] + sum(r.weighted(n) for n in ("separate", "anchor", "subspace"))
    assert np.allclose(total, r.terms["loss"], rtol=1e-5)
    # separate has weight 0 from step 59's row: the last step uses step 58's weights (as the original)
    assert r.weights["separate"][-1] == r.weights["separate"][-2]
    assert set(r.val) == {"val_recon", "val_anchor"}  # 2.4.1 validates subspace, but its val data has no vibrant label
    assert r.val_steps == [20, 40, 60] and r.val_history["val_recon"].shape == (3, 2)
    assert set(r.label_counts) == {"red", "vibrant"} and r.label_counts["red"].dtype.kind == "f"


class ConstantStream(TorchStream):
    """A stream that always samples pure red and labels it: another source of randomness, same trainer."""

    def draws(self, seed, shapes, steps, batch, n_samples, n_labels, weights=None):
        d = super().draws(seed, shapes, steps, batch, n_samples, n_labels, weights)
        d.indices[:] = n_samples - 64  # (1, 0, 0) in the 8³ lattice, red varying slowest
        d.uniforms[:] = 0.0
        return d


def test_the_random_stream_is_swappable(short_experiment):
    r = train(short_experiment, [0], stream=ConstantStream())
    active = r.weights["anchor"] > 0
    assert r.label_counts["red"][0] == 64 * active.sum()
