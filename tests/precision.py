"""What float32 arithmetic allows a computation through one of our models, independent of the processor.

A dot product of width n followed by a bias add rounds n + 1 times, so to first order its relative error is at
most (n + 1)·u, u = 2⁻²⁴ float32's unit roundoff (Higham, *Accuracy and Stability of Numerical Algorithms*,
§3.1). A forward pass chains its layers' dot products and the latent's normalisation (K squares, a square root,
a division); the backward pass chains the same widths again; a term raised to the power p multiplies its base's
relative error by p; a mean over n terms adds √n·u, the typical growth of rounding errors that fall either way
(Higham §2.8; the worst case, n·u, assumes every rounding goes the same way). These bounds hold for any order of
summation and any vector width, which is what differs between PyTorch's and MKL's kernels on different
processors; an error past them is a bug, not a kernel choice.
"""

from sca.model import ModelConfig

U = 2.0**-24


def chain(model: ModelConfig) -> int:
    """Roundings on a forward pass's longest path: every layer's fan-in and bias, and the normalisation."""
    return sum(fan_in + 1 for _, fan_in in model.layer_shapes()) + model.latent + 2


def forward_allowance(model: ModelConfig) -> float:
    """Absolute error allowed in a per-colour MSE (colours and clamped outputs in [0, 1], so |r - x| <= 1 and
    d(mean (r - x)²) <= 2 max |dr|), one forward pass."""
    return 2 * chain(model) * U


def step_allowance(model: ModelConfig, power: float, batch: int) -> float:
    """Relative error allowed in a training step's loss terms and gradient: forward and backward, the largest
    power on a similarity (the separation's: a dot product of width K and its shift), and the mean over a batch's
    pairs (batch² of them)."""
    return 2 * (chain(model) + power * (model.latent + 1) + batch) * U
