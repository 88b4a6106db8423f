import pytest
import torch

from sca.model import ColorAutoencoder, ModelConfig, ablate, default_init, prune


def make(config=None, seeds=(0, 1, 2)):
    config = config or ModelConfig()
    per_seed = [default_init(config.layer_shapes(), torch.Generator().manual_seed(s)) for s in seeds]
    return ColorAutoencoder(config, [torch.stack(p) for p in zip(*per_seed)])


def test_parameter_counts_match_the_paper():
    for config, n in [(ModelConfig(latent=4), 263), (ModelConfig(latent=5, depth=2), 840)]:
        assert sum(p[0].numel() for p in make(config).parameters()) == n


def test_forward_returns_recon_and_both_latents_and_clamps_only_in_eval():
    model = make()
    x = torch.rand(3, 10, 3)
    out = model.train()(x)
    assert out.recon.shape == (3, 10, 3) and out.z_pre.shape == out.z.shape == (3, 10, 4)
    assert torch.allclose(out.z.norm(dim=-1), torch.ones(3, 10))
    assert torch.allclose(out.z, out.z_pre / out.z_pre.norm(dim=-1, keepdim=True))
    evaluated = model.eval()(x).recon
    assert evaluated.min() >= 0 and evaluated.max() <= 1
    assert torch.allclose(evaluated, out.recon.clamp(0, 1))


def test_unnormalised_sigmoid_model():
    model = make(ModelConfig(normalize=False, sigmoid=True)).train()
    out = model(torch.rand(3, 10, 3))
    assert torch.equal(out.z, out.z_pre)
    assert out.recon.min() > 0 and out.recon.max() < 1


def test_each_seed_is_an_independent_model():
    model = make().eval()
    x = torch.rand(10, 3)
    alone = model.seeds(1)(x).recon[0]
    assert torch.equal(model(x).recon[1], alone)


def test_ablated_and_pruned_models_agree():
    model = make(ModelConfig(latent=5, depth=2)).eval()
    x = torch.rand(50, 3)
    ablated, pruned = ablate(model, [0, 2]), prune(model, [0, 2])
    assert pruned.latent_dim == 3
    a, p = ablated(x), pruned(x)
    assert torch.all(a.z[..., [0, 2]] == 0)
    assert torch.allclose(a.recon, p.recon, atol=1e-6)
    assert torch.allclose(a.z[..., [1, 3, 4]], p.z, atol=1e-6)
    # the original is untouched
    assert not torch.all(model(x).z[..., 0] == 0)


@pytest.mark.parametrize("surgery", [ablate, prune])
def test_surgery_rejects_dims_out_of_range(surgery):
    with pytest.raises(IndexError, match="out of range"):
        surgery(make(), [4])
    with pytest.raises(IndexError, match="out of range"):
        surgery(make(), [-1])


def test_pruning_everything_is_an_error():
    with pytest.raises(ValueError, match="no latent"):
        prune(make(), [0, 1, 2, 3])
