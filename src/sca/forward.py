"""The evaluation forward pass (forward.cpp): each colour's reconstruction error, for many colours and seeds.

The loss grids hold up to 552,960 colours, and every seed of every old experiment is evaluated on its grid
under each variant; PyTorch's batched products with three or four inputs spend most of that time moving
[S, N, 16] activations through memory. forward.cpp runs the model's eval-mode formulas (model.py) one seed
and 64 colours at a time, and an intervention still acts on the latents in PyTorch, between the encoder and
the decoder, so its formula lives in interventions.py alone.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import torch

from . import fused
from .model import ColorAutoencoder

SOURCE = Path(__file__).with_name("forward.cpp")


@cache
def library(vector: tuple[str, ...] | None = None) -> ctypes.CDLL:
    """The compiled forward pass (`fused.build`), for this processor's vector width or the flags given."""
    lib = fused.build(SOURCE, vector)
    ptr, i = ctypes.c_void_p, ctypes.c_int
    lib.sca_encode.argtypes = [i] * 6 + [ptr] * 3
    lib.sca_decode_mse.argtypes = [i] * 6 + [ptr] * 4
    lib.sca_encode.restype = lib.sca_decode_mse.restype = i
    return lib


def flat_params(model: ColorAutoencoder) -> torch.Tensor:
    """The model's parameters as [S, P] float32, in the fused step's layout (layer by layer, weight then bias)."""
    return fused.flatten(fused.model_params(model))


def _args(model: ColorAutoencoder) -> list[int]:
    c = model.config
    return [model.n_seeds, model.latent_dim, c.hidden, c.depth]


def encode(model: ColorAutoencoder, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Latents [S, N, K] of colours x [N, 3] (float32, contiguous), normalised as the model's are."""
    s, k, h, depth = _args(model)
    z = torch.empty(s, len(x), k)
    library().sca_encode(
        s, len(x), k, h, depth, int(model.config.normalize), params.data_ptr(), x.data_ptr(), z.data_ptr()
    )
    return z


def decode_mse(model: ColorAutoencoder, params: torch.Tensor, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per-colour error [S, N]: the mean over RGB of (the eval-mode reconstruction of z [S, N, K] - x [N, 3])²."""
    s, k, h, depth = _args(model)
    if z.shape != (s, len(x), k):
        raise ValueError(f"decode_mse: latents {tuple(z.shape)} do not fit {s} seeds, {len(x)} colours and {k} dims")
    z = z.float().contiguous()
    mse = torch.empty(s, len(x))
    library().sca_decode_mse(
        s, len(x), k, h, depth, int(model.config.sigmoid), params.data_ptr(), z.data_ptr(), x.data_ptr(), mse.data_ptr()
    )
    return mse


CHUNK = 1024  # colours per call: an intervention's [S, CHUNK, K] latents stay in the processor's cache


@torch.no_grad()
def per_color_mse(
    model: ColorAutoencoder, rgb: np.ndarray, intervention: Callable | None = None, chunk: int = CHUNK
) -> np.ndarray:
    """Mean over RGB channels of the squared eval-mode reconstruction error, per seed and colour: [S, N], for N
    colours `chunk` at a time (an intervention acts on each chunk's latents), keeping no reconstruction."""
    x = torch.as_tensor(np.asarray(rgb).reshape(-1, 3), dtype=torch.float32).contiguous()
    params = flat_params(model)
    out = np.empty((model.n_seeds, len(x)), dtype=np.float32)
    for start in range(0, len(x), chunk):
        part = x[start : start + chunk]
        z = encode(model, params, part)
        if intervention is not None:
            z = intervention(z)
        out[:, start : start + len(part)] = decode_mse(model, params, z, part).numpy()
    return out
