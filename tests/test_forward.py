"""The compiled evaluation forward pass (forward.cpp) against the model's own eval-mode forward (model.py)."""

import numpy as np
import pytest
import torch

import precision
from sca import colors, experiments, forward
from sca.model import ColorAutoencoder
from sca.stream import TorchStream

SEEDS = 3


def _model(experiment, seeds=SEEDS) -> ColorAutoencoder:
    """The experiment's model at its initial draw, sharpened so that its latents spread over the sphere and its
    outputs over the cube: every weight and bias x 3 but the last weight (x 2), and the output bias recentred at
    0.5. About 45% of the colours are moved by each intervention, and 3% of the outputs are clamped."""
    shapes = experiment.model.layer_shapes()
    draws = [TorchStream().draws(s, shapes, 1, 1, 1, 0).params for s in range(seeds)]
    params = [torch.stack([d[i] for d in draws]) * 3 for i in range(len(shapes) * 2)]
    params[-2] *= 2 / 3
    model = ColorAutoencoder(experiment.model, params).train()
    with torch.no_grad():
        model.biases[-1] += 0.5 - model(torch.as_tensor(colors.rgb_grid(12).flat_rgb, dtype=torch.float32)).recon.mean(
            1
        )
    return model


def _reference(model: ColorAutoencoder, rgb: np.ndarray, intervention, dtype=torch.float32) -> np.ndarray:
    """model.py's eval-mode forward: the mean over RGB of (clamped reconstruction - colour)², [S, N]."""
    m = model.seeds(list(range(model.n_seeds))).to(dtype).eval()
    x = torch.as_tensor(rgb, dtype=dtype)
    with torch.no_grad():
        return (m(x, intervention).recon - x).pow(2).mean(-1).numpy()


@pytest.mark.parametrize("name", experiments.EXPERIMENTS)
def test_the_compiled_error_is_the_models_forward_for_every_variant(name):
    """Every experiment (raw or normalised latent, sigmoid or not, pruned latents) under every variant is within
    what float32 allows a forward pass from the float64 truth (tests/precision.py: about 100-170 u; measured
    at most 11 u, PyTorch's own float32 at most 9 u), except where a latent sits on an intervention's gate
    (z·c within rounding of 0) and float32 and float64 take different sides: none here."""
    experiment = experiments.get(name)
    model = _model(experiment)
    rgb = colors.rgb_grid(12).flat_rgb
    for variant in experiment.all_variants:
        m, intervention = variant.apply(model)
        ours = forward.per_color_mse(m, rgb, intervention)
        truth = _reference(m, rgb, intervention, torch.float64)
        assert ours.shape == (SEEDS, len(rgb))
        assert np.abs(ours - truth).max() <= precision.forward_allowance(experiment.model), variant.name


def test_a_wrong_weight_fails_the_comparison():
    """The comparison above can fail: one decoder weight off by 1e-4 is seen."""
    experiment = experiments.get("2.4")
    model = _model(experiment)
    rgb = colors.rgb_grid(12).flat_rgb
    truth = _reference(model, rgb, None, torch.float64)
    with torch.no_grad():
        model.weights[-1][0, 0, 0] += 1e-4
    assert np.abs(forward.per_color_mse(model, rgb) - truth).max() > precision.forward_allowance(experiment.model)


def test_a_seeds_error_depends_on_neither_its_companions_nor_the_chunking():
    """One seed, one answer: the same bits for a seed alone or among others, in any chunk size (the last
    block of a chunk is padded)."""
    experiment = experiments.get("2.9.1")
    model = _model(experiment, seeds=4)
    rgb = colors.rgb_grid(11).flat_rgb  # 1331 colours: no chunk size divides it
    intervention = experiment.variant("suppression").apply(model)[1]
    together = forward.per_color_mse(model, rgb, intervention)
    assert np.array_equal(forward.per_color_mse(model.seeds([2]), rgb, intervention)[0], together[2])
    for chunk in (1, 63, 65, 4096):
        assert np.array_equal(forward.per_color_mse(model, rgb, intervention, chunk), together)


def test_latents_of_the_wrong_shape_are_refused():
    model = _model(experiments.get("2.4"))
    x = torch.zeros(5, 3)
    params = forward.flat_params(model)
    with pytest.raises(ValueError, match="do not fit"):
        forward.decode_mse(model, params, torch.zeros(SEEDS, 5, 3), x)


@pytest.mark.parametrize("name", ["2.2", "2.9.1"])
def test_the_vector_width_changes_no_bit(name, monkeypatch):
    """forward.cpp built for any x86-64, AVX2 or AVX-512 (those this processor has) gives the same bits."""
    from test_fused import widths

    experiment = experiments.get(name)
    model = _model(experiment)
    rgb = colors.rgb_grid(12).flat_rgb
    out, build = [], forward.library
    for flags in widths():
        monkeypatch.setattr(forward, "library", lambda flags=flags: build(flags))
        out.append(forward.per_color_mse(model, rgb, experiment.all_variants[1].apply(model)[1]))
    assert all(np.array_equal(out[0], o) for o in out[1:])
