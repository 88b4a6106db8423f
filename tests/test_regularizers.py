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


def reference_separation(z, power, shift):
    """The term written plainly, for autograd to differentiate."""
    e = z / (z.norm(dim=-1, keepdim=True) + 1e-8)
    c = e @ e.transpose(-1, -2)
    c = c.masked_fill(torch.isclose(c, torch.ones_like(c)), 0)
    if shift:
        c = (c + 1) / 2
    return c.pow(power).sum(-1)


@pytest.mark.parametrize("power, shift", [(100, True), (10, False), (3, True), (1, False)])
def test_separation_value_and_gradient_match_the_plain_formula(power, shift):
    g = torch.Generator().manual_seed(power)
    z = torch.randn(3, 12, 4, generator=g, dtype=torch.float64)
    z[:, 5] = z[:, 2]  # a duplicate sample, as sampling with replacement produces
    a, b = z.clone().requires_grad_(), z.clone().requires_grad_()
    weights = torch.rand(3, 12, generator=g, dtype=torch.float64)
    fast, plain = separation(a, power, shift), reference_separation(b, power, shift)
    assert torch.allclose(fast, plain, rtol=1e-10)
    (fast * weights).sum().backward()
    (plain * weights).sum().backward()
    assert torch.allclose(a.grad, b.grad, rtol=1e-8, atol=1e-12)


def test_separation_passes_gradcheck():
    z = torch.randn(2, 6, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: separation(x, 7, True), (z,))


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


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(kind="bogus"), "unknown kind"),
        (dict(kind="subspace", dims=()), "dims"),
        (dict(kind="subspace", dims=(1, 1)), "dims"),
        (dict(kind="anchor"), "direction"),
        (dict(kind="unitarity", layer="middle"), "layer"),
    ],
)
def test_bad_regularizers_are_rejected_by_name(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Regularizer("mine", **kwargs)


def test_regularizer_must_fit_the_latent():
    with pytest.raises(ValueError, match="mine"):
        Regularizer("mine", "subspace", dims=(4,)).check(4)
    with pytest.raises(ValueError, match="direction"):
        Regularizer("mine", "anchor", direction=(1, 0, 0)).check(4)


@pytest.mark.parametrize(
    "kind, kw",
    [
        ("angular-anchor", dict(direction=(1, 0, 0, 0))),
        ("anti-anchor", dict(direction=(-1, 0, 0, 0))),
        ("separate", {}),
    ],
)
def test_unit_latents_skip_renormalising_without_changing_value_or_gradient(kind, kw):
    pre = torch.randn(2, 32, 4, generator=torch.Generator().manual_seed(3), requires_grad=True)
    reg = Regularizer("r", kind, **kw)
    grads = []
    for unit in (False, True):
        z = torch.nn.functional.normalize(pre, dim=-1)
        value = reg.per_sample(z, unit)
        (grad,) = torch.autograd.grad(value.sum(), pre)
        grads.append((value.detach(), grad))
    assert torch.allclose(grads[0][0], grads[1][0], rtol=1e-5, atol=1e-6)
    assert torch.allclose(grads[0][1], grads[1][1], rtol=1e-4, atol=1e-6)


def test_separation_of_a_single_model_batch():
    z = torch.randn(2, 16, 4, generator=torch.Generator().manual_seed(5))
    assert torch.allclose(separation(z[1]), separation(z)[1])
