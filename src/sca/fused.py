"""The fused training step (fused.cpp): build it, describe an experiment to it, and call it.

Eager PyTorch spends most of a step dispatching ~200 small operations; the fused step does the same
arithmetic (forward, loss, backward, Adam) in one C++ loop per seed, which keeps that seed's weights and
[B, B] similarities in cache for a whole stretch of steps. It is plain C++ with no PyTorch headers,
compiled on first use with the system's g++ (seconds) into the user's cache folder (`build_dir`) and
called through ctypes.

Memory layout: a seed's parameters are contiguous, layer by layer in `ModelConfig.layer_shapes()` order,
weight [out, in] row-major then bias [out]; `Flat` holds them for S seeds as [S, P] and gives the model
views into that buffer.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from .model import ColorAutoencoder, ModelConfig
from .regularizers import KINDS, Regularizer

SOURCE = Path(__file__).with_name("fused.cpp")
# No -ffast-math and no contraction into fused multiply-adds: each operation rounds once, as IEEE says,
# so the bits do not depend on which instructions the compiler picks or on the machine's vector width.
FLAGS = ("-O3", "-std=c++17", "-shared", "-fPIC", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math")
KIND_CODE = {"anchor": 0, "angular-anchor": 1, "anti-anchor": 2, "separate": 3, "unitarity": 4, "subspace": 5}
assert set(KIND_CODE) == set(KINDS)


class FusedBuildError(RuntimeError):
    """The fused step could not be compiled (no C++ compiler, or it failed)."""


def build_dir() -> Path:
    """$SCA_BUILD_DIR, or sca/ in the user's cache folder ($XDG_CACHE_HOME or ~/.cache): a build depends only
    on the source and flags (its file name holds their hash), so every checkout and test run can share it."""
    folder = os.environ.get("SCA_BUILD_DIR")
    if folder:
        return Path(folder)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sca"


AVX512 = ("avx512f", "avx512vl", "avx512dq", "avx512bw")


def vector_flags() -> tuple[str, ...]:
    """The widest vector instructions this processor has, AVX-512, AVX2 or none: a wider build gives the same bits,
    faster (`make bench` measures each). SCA_VECTOR=baseline builds for any x86-64 instead."""
    choice = os.environ.get("SCA_VECTOR", "widest")
    if choice not in ("widest", "baseline"):
        raise ValueError(f"SCA_VECTOR={choice!r}: use 'baseline' (any x86-64) or 'widest' (this processor's widest)")
    if choice == "baseline":
        return ()
    try:
        cpu = Path("/proc/cpuinfo").read_text()
    except OSError:
        return ()
    line = re.search(r"^flags\s*:(.*)$", cpu, re.M)
    flags = set(line.group(1).split()) if line else set()
    if set(AVX512) <= flags:
        return ("-mavx2", *(f"-m{f}" for f in AVX512), "-mprefer-vector-width=512")
    return ("-mavx2",) if "avx2" in flags else ()


HEADERS = tuple(sorted(Path(__file__).parent.glob("*.h")))  # what fused.cpp and forward.cpp include


def build(source: Path, vector: tuple[str, ...] | None = None) -> ctypes.CDLL:
    """The compiled `source` (with the shared HEADERS), built once per version and flags (the file name holds
    their hash), for this processor's vector width, or with the `vector` flags given (() builds for any x86-64)."""
    flags = FLAGS + (vector_flags() if vector is None else tuple(vector))
    text = b"".join(path.read_bytes() for path in (source, *HEADERS))
    digest = hashlib.sha256(text + " ".join(flags).encode()).hexdigest()[:16]
    target = build_dir() / f"{source.stem}-{digest}.so"
    if not target.exists():
        compiler = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
        if not compiler:
            raise FusedBuildError(
                f"training and evaluation need a C++ compiler to build {source.name}, and "
                "none was found: install g++ (Debian: apt-get install g++), or set CXX"
            )
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise FusedBuildError(f"cannot create the build folder {target.parent}: {e}; set SCA_BUILD_DIR") from e
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            built = Path(tmp) / target.name
            result = subprocess.run([compiler, *flags, "-o", str(built), str(source)], capture_output=True, text=True)
            if result.returncode != 0:
                raise FusedBuildError(f"{compiler} failed to build {source}:\n{result.stderr[-2000:]}")
            os.replace(built, target)  # atomic: a concurrent build leaves one whole file
    return ctypes.CDLL(str(target))


@lru_cache(maxsize=2)
def library(vector: tuple[str, ...] | None = None) -> ctypes.CDLL:
    """The compiled fused step (`build`)."""
    lib = build(SOURCE, vector)
    ptr, i = ctypes.c_void_p, ctypes.c_int
    config = [i] * 9 + [ptr, ptr]
    for name in ("sca_loss_grad_f32", "sca_loss_grad_f64"):
        getattr(lib, name).argtypes = config + [ptr] * 6
        getattr(lib, name).restype = i
    lib.sca_train.argtypes = config + [i, i] + [ptr] * 5 + [i] + [ptr] * 6
    lib.sca_train.restype = i
    return lib


@dataclass(frozen=True)
class Spec:
    """An experiment's model and regularizers as the fused step reads them."""

    model: ModelConfig
    regs: np.ndarray  # int32 [R, 8]: kind, layer (0 pre, 1 post), unit, label bits, power, shift, hemi, dim bits
    dirs: np.ndarray  # float64 [R, K]: the anchor direction, or the unit direction of the angular kinds
    n_labels: int

    @property
    def args(self) -> list:
        m = self.model
        return [
            m.latent,
            m.hidden,
            m.depth,
            int(m.normalize),
            int(m.sigmoid),
            self.n_labels,
            len(self.regs),
            self.regs.ctypes.data,
            self.dirs.ctypes.data,
        ]


def spec(model: ModelConfig, regularizers: Sequence[Regularizer], label_names: Sequence[str]) -> Spec:
    """Describe the model and regularizers; raise where the fused step cannot compute a regularizer."""
    k = model.latent
    if k > 31 or len(label_names) > 31:
        raise ValueError("the fused step handles at most 31 latent dims and 31 labels")
    regs = np.zeros((len(regularizers), 8), dtype=np.int32)
    dirs = np.zeros((len(regularizers), k), dtype=np.float64)
    for row, r in zip(regs, regularizers):
        r.check(k)
        if r.kind == "separate" and not (float(r.power).is_integer() and 1 <= r.power < 2**31):
            raise ValueError(
                f"regularizer {r.name!r}: the fused step raises similarities to whole powers only, not {r.power}"
            )
        missing = [name for name in r.labels if name not in label_names]
        if missing:
            raise KeyError(f"regularizer {r.name!r} needs labels {missing}, but the data provides {list(label_names)}")
        unit = r.layer == "post" and model.normalize
        penalised = [d for d in range(k) if (d in r.dims) == r.invert] if r.kind == "subspace" else []
        row[:] = [
            KIND_CODE[r.kind],
            r.layer == "post",
            unit,
            sum(1 << label_names.index(n) for n in r.labels),
            int(r.power) if r.kind == "separate" else 0,
            r.shift,
            r.hemi,
            sum(1 << d for d in penalised),
        ]
    for direction, r in zip(dirs, regularizers):
        if r.direction:
            direction[:] = (r._direction if r.kind == "anchor" else r._unit_direction).double().numpy()
    return Spec(model, regs, dirs, len(label_names))


def flatten(params: Sequence[torch.Tensor]) -> torch.Tensor:
    """S seeds' parameters (weight [S, out, in] and bias [S, out] of each layer, in order) as one float32 [S, P]."""
    return torch.cat([p.detach().reshape(p.shape[0], -1) for p in params], dim=1).float().contiguous()


def model_params(model: ColorAutoencoder) -> list[torch.Tensor]:
    """The model's parameters in the fused layout's order: each layer's weight, then its bias (the model lists all
    weights, then all biases)."""
    return [t for pair in zip(model.weights, model.biases) for t in pair]


class Flat:
    """S seeds' parameters as one [S, P] buffer (see the module's docstring), with Adam's moments."""

    def __init__(self, params: Sequence[torch.Tensor]):
        self.params = flatten(params)
        self.m = torch.zeros_like(self.params)
        self.v = torch.zeros_like(self.params)
        self.t = 0
        self.shapes = [tuple(p.shape[1:]) for p in params]

    def views(self) -> list[torch.Tensor]:
        """The parameters as [S, out, in] and [S, out] views of the buffer (training writes through them)."""
        views, offset = [], 0
        for shape in self.shapes:
            size = int(np.prod(shape))
            views.append(self.params[:, offset : offset + size].view(-1, *shape))
            offset += size
        return views

    def model(self, config: ModelConfig) -> ColorAutoencoder:
        return ColorAutoencoder(config, self.views())


@dataclass
class Batches:
    """S seeds' pre-drawn batches, as the fused step gathers them: sample b of step t of seed s is colour
    rgb[indices[s][t, b]], and carries label l where uniforms[s][t, l, b] < probs[l, that colour]."""

    rgb: torch.Tensor  # [N, 3] float32
    probs: torch.Tensor  # [L, N] float32
    indices: list[torch.Tensor]  # per seed, [steps, B] int64
    uniforms: list[torch.Tensor]  # per seed, [steps, L, B] float32

    def __post_init__(self):
        n, b = self.indices[0].shape
        bad = [
            i
            for i, (ix, u) in enumerate(zip(self.indices, self.uniforms))
            if ix.dtype != torch.int64
            or u.dtype != torch.float32
            or ix.shape != (n, b)
            or u.shape != (n, len(self.probs), b)
            or not (ix.is_contiguous() and u.is_contiguous())
        ]
        if (
            bad
            or len(self.indices) != len(self.uniforms)
            or self.rgb.dtype != torch.float32
            or self.probs.dtype != torch.float32
        ):
            raise ValueError(
                f"fused.Batches: seeds at positions {bad} (or the colour and probability tables) have the wrong "
                "shape, dtype or layout"
            )
        if len(self.rgb) != self.probs.shape[1] or any(
            int(ix.min()) < 0 or int(ix.max()) >= len(self.rgb) for ix in self.indices
        ):
            raise ValueError(f"fused.Batches: sample indices outside the {len(self.rgb)} colours")
        self.rgb, self.probs = self.rgb.contiguous(), self.probs.contiguous()


def train_steps(
    spec: Spec,
    flat: Flat,
    batches: Batches,
    start: int,
    stop: int,
    weights: np.ndarray,
    lr: np.ndarray,
    lib: ctypes.CDLL | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Train every seed of `flat` in place for steps [start, stop) of `batches`, with weights float32 [n, R] and lr
    [n]. Returns the per-step records [n, S, 2 + R] (loss, recon and each term) and label counts [n, S, L]."""
    n, s = stop - start, len(batches.indices)
    weights = np.ascontiguousarray(weights, dtype=np.float32)
    lr = np.ascontiguousarray(lr, dtype=np.float64)
    steps, b = batches.indices[0].shape
    if (
        not 0 <= start <= stop <= steps
        or s != flat.params.shape[0]
        or batches.probs.shape[0] != spec.n_labels
        or weights.shape != (n, len(spec.regs))
        or lr.shape != (n,)
    ):
        raise ValueError(
            f"train_steps: steps {start} to {stop} of {steps}, {s} seeds' batches for {flat.params.shape[0]} "
            f"seeds, weights {weights.shape} and lr {lr.shape} do not fit"
        )
    pointers = lambda ts, size: (ctypes.c_void_p * s)(*(t.data_ptr() + start * size * t.element_size() for t in ts))
    records = torch.empty(n, s, 2 + len(spec.regs))
    counts = torch.empty(n, s, spec.n_labels)
    (lib or library()).sca_train(
        s,
        b,
        *spec.args,
        n,
        flat.t,
        flat.params.data_ptr(),
        flat.m.data_ptr(),
        flat.v.data_ptr(),
        batches.rgb.data_ptr(),
        batches.probs.data_ptr(),
        len(batches.rgb),
        pointers(batches.indices, b),
        pointers(batches.uniforms, spec.n_labels * b),
        weights.ctypes.data,
        lr.ctypes.data,
        records.data_ptr(),
        counts.data_ptr(),
    )
    flat.t += n
    return records, counts


def loss_grad(
    spec: Spec, params: torch.Tensor, x: torch.Tensor, labels: torch.Tensor, weights: Sequence[float]
) -> tuple[torch.Tensor, torch.Tensor]:
    """One step's records [S, 2 + R] and gradient [S, P], without an update, in the dtype of `params`
    (float32 or float64): params [S, P], x [S, B, 3], labels [S, L, B], weights [R] (float32 values)."""
    dtype = params.dtype
    fn = {torch.float32: library().sca_loss_grad_f32, torch.float64: library().sca_loss_grad_f64}[dtype]
    s, b, _ = x.shape
    params, x, labels = (t.to(dtype).contiguous() for t in (params, x, labels))
    w = np.ascontiguousarray(weights, dtype=np.float32)
    grads = torch.empty_like(params)
    records = torch.empty(s, 2 + len(spec.regs), dtype=dtype)
    fn(
        s,
        b,
        *spec.args,
        params.data_ptr(),
        x.data_ptr(),
        labels.data_ptr(),
        w.ctypes.data,
        grads.data_ptr(),
        records.data_ptr(),
    )
    return records, grads
