import math

import pytest
import torch

from sca.interventions import AxisSuppression, BezierMapper, Falloff, LinearMapper, Repulsion, Suppression

RED = (1.0, 0.0, 0.0, 0.0)


def sphere(n=500, k=4, seed=0):
    z = torch.randn(n, k, generator=torch.Generator().manual_seed(seed))
    return z / z.norm(dim=-1, keepdim=True)


def test_suppression_removes_only_the_positive_component():
    z = sphere()
    out = Suppression(RED, Falloff(math.cos(math.pi / 2), 1.0, 0.0))(z)
    facing = z[:, 0] > 0
    assert torch.allclose(out[facing, 0], torch.zeros(int(facing.sum())), atol=1e-7)
    assert torch.equal(out[facing, 1:], z[facing, 1:])
    assert torch.equal(out[~facing], z[~facing])


def test_soft_suppression_with_linear_gate():
    z = sphere()
    out = Suppression(RED, Falloff(0.0, 1.0, 1.0))(z)
    d = z[:, 0]
    expected = z.clone()
    expected[:, 0] = d - d.clamp(0, 1) * d
    assert torch.allclose(out, expected, atol=1e-6)


@pytest.mark.parametrize(
    "mapper", [LinearMapper(0.2, 0.8), LinearMapper(0.0, math.cos(math.radians(89))), BezierMapper(0.0, 0.5)]
)
def test_repulsion_keeps_unit_norm_and_caps_alignment(mapper):
    z = sphere()
    out = Repulsion(RED, mapper)(z)
    assert torch.allclose(out.norm(dim=-1), torch.ones(len(z)), atol=1e-5)
    assert out[:, 0].max() <= mapper.b + 1e-5
    facing = z[:, 0] > 0
    assert torch.equal(out[~facing], z[~facing])
    assert torch.allclose(out[facing, 0], mapper(z[facing, 0]).clamp(-1, 1), atol=1e-3)


def test_repulsion_of_a_latent_exactly_on_the_concept():
    out = Repulsion(RED, LinearMapper(0.2, 0.8))(torch.tensor([RED]))
    assert out.norm().item() == pytest.approx(1) and out[0, 0].item() == pytest.approx(0.8)


def test_mappers_are_identity_below_a_and_monotone():
    x = torch.linspace(0, 1, 101)
    for mapper in (LinearMapper(0.3, 0.6), BezierMapper(0.3, 0.6)):
        y = mapper(x)
        assert torch.equal(y[x <= 0.3], x[x <= 0.3])
        assert torch.all(torch.diff(y) >= -1e-6)
        assert y[-1].item() == pytest.approx(0.6, abs=1e-3)


def test_falloff_zero_at_or_below_threshold():
    f = Falloff(0.3, 0.8, 2.0)
    x = torch.linspace(0, 1, 101)
    y = f(x)
    assert torch.all(y[x <= 0.3] == 0) and torch.all((y[x > 0.3] > 0) & (y[x > 0.3] <= 0.8))


def test_axis_suppression_zeroes_dims():
    z = sphere()
    out = AxisSuppression((0, 1))(z)
    assert torch.all(out[:, :2] == 0) and torch.equal(out[:, 2:], z[:, 2:])
    with pytest.raises(IndexError, match="out of range"):
        AxisSuppression((4,))(z)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: LinearMapper(0.5, 0.5), "a < b"),
        (lambda: LinearMapper(0.8, 0.2), "a < b"),
        (lambda: BezierMapper(0.9, 0.1), "a < b"),
        (lambda: Falloff(1.0, 1.0), "a=1.0"),
        (lambda: Falloff(0.0, 1.5), "b=1.5"),
        (lambda: Falloff(0.0, 1.0, -1), "power"),
    ],
)
def test_bad_parameters_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_direction_must_match_latent_width():
    with pytest.raises(ValueError, match="direction"):
        Suppression((1.0, 0.0, 0.0))(sphere())
