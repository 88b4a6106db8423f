import pytest
import torch

from sca.regularizers import Regularizer, labelled_mean, separation


def z(*rows):
    return torch.tensor([rows], dtype=torch.float32)  # [S=1, B, K]


def test_angular_anchor_and_anti_anchor_values():
    pts = z([1, 0], [-1, 0], [0, 1])
    assert Regularizer("a", "angular-anchor", direction=(1, 0)).per_sample(pts)[0].tolist() == pytest.approx([0, 2, 1])
    anti = Regularizer("a", "anti-anchor", direction=(0, 1))
    assert anti.per_sample(z([0, 1], [0, -1], [1, 0]))[0].tolist() == pytest.approx([1, 0, 0])
    full = Regularizer("a", "anti-anchor", direction=(0, 1), hemi=False)
    assert full.per_sample(z([0, 1], [0, -1], [1, 0]))[0].tolist() == pytest.approx([1, 0, 0.5])


def test_euclidean_anchor_on_the_sphere_is_two_minus_two_cos():
    pts = z([0.6, 0.8], [0, 1])
    assert Regularizer("a", "anchor", direction=(1, 0)).per_sample(pts)[0].tolist() == pytest.approx([0.8, 2.0])


def test_separation_ignores_self_and_duplicate_pairs():
    pts = z([1, 0], [1, 0], [0, 1])
    # unshifted: the duplicate pair is masked, orthogonal pairs give 0
    assert separation(pts, power=2, shift=False)[0].tolist() == pytest.approx([0, 0, 0])
    # shifted: masked entries become 0.5, orthogonal ones 0.5 too
    assert separation(pts, power=1, shift=True)[0].tolist() == pytest.approx([1.5, 1.5, 1.5])
    opposite = z([1, 0], [-1, 0])
    assert separation(opposite, power=100)[0].tolist() == pytest.approx([0.5**100, 0.5**100])


def test_separation_power_by_squaring_matches_pow():
    pts = torch.randn(2, 16, 4, generator=torch.Generator().manual_seed(0))
    e = pts / pts.norm(dim=-1, keepdim=True)
    c = e @ e.transpose(-1, -2)
    c = c.masked_fill((c - 1).abs() <= 1.001e-5, 0)
    expected = ((c + 1) / 2).pow(100).sum(-1)
    assert torch.allclose(separation(pts, 100), expected, rtol=1e-5)


def test_unitarity_and_subspace():
    pts = z([3, 4, 0], [0, 0, 2])
    assert Regularizer("u", "unitarity").per_sample(pts)[0].tolist() == pytest.approx([16, 1])
    keep01 = Regularizer("s", "subspace", dims=(0, 1))
    assert keep01.per_sample(pts)[0].tolist() == pytest.approx([0, 4])
    only0 = Regularizer("s", "subspace", dims=(0,), invert=True)
    assert only0.per_sample(pts)[0].tolist() == pytest.approx([9, 0])


def test_labelled_terms_average_over_labelled_samples_only():
    loss = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    assert labelled_mean(loss, torch.tensor([[0.0, 1, 0, 1]])).item() == pytest.approx(3.0)
    assert labelled_mean(loss, torch.zeros(1, 4)).item() == 0
    reg = Regularizer("anchor", "angular-anchor", direction=(1, 0), labels=("red",))
    pts = z([1, 0], [-1, 0])
    assert reg.term(pts, {"red": torch.tensor([[0.0, 1.0]])}).item() == pytest.approx(2.0)
    assert reg.term(pts, {"red": torch.tensor([[0.0, 0.0]])}).item() == 0
    with pytest.raises(KeyError, match="red"):
        reg.term(pts, {"vibrant": torch.ones(1, 2)})


@pytest.mark.parametrize("kwargs, match", [
    (dict(kind="bogus"), "unknown kind"),
    (dict(kind="subspace", dims=()), "dims"),
    (dict(kind="subspace", dims=(1, 1)), "dims"),
    (dict(kind="anchor"), "direction"),
    (dict(kind="unitarity", layer="middle"), "layer"),
])
def test_bad_regularizers_are_rejected_by_name(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Regularizer("mine", **kwargs)


def test_regularizer_must_fit_the_latent():
    with pytest.raises(ValueError, match="mine"):
        Regularizer("mine", "subspace", dims=(4,)).check(4)
    with pytest.raises(ValueError, match="direction"):
        Regularizer("mine", "anchor", direction=(1, 0, 0)).check(4)
