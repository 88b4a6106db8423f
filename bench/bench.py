"""`make bench`: speed, as ratios measured in one run on this machine.

  1. a straightforward one-seed-at-a-time PyTorch loop (nn.Sequential, stock Adam) of the anchored model 2.4.1,
     against the batched sweep of 2.4.1 (train, score every seed, select, evaluate the selected model),
     60 and 240 seeds;
  2. evaluating 60 trained models on the 86,400-colour loss grid;
  3. 60-seed training of 2.4.1 and 2.9.1 as one process with two threads, one process with one thread, and two
     single-threaded worker processes (the default), on a quiet machine and with another process busy on one core;
  4. what batch-independent arithmetic costs the eager engine: SeedAdam against PyTorch's fused Adam (whose
     results depend on the batch);
  5. training with the original notebooks' random stream against our own;
  6. 60-seed training against its targets (ms per seed, loaded / quiet, the arithmetic floor, 1 500 seeds) and
     what each speed lever buys, the fused step first (levers.py);
  7. the whole book rendered from a cold cache, a warm one, and frozen (book.py);
  8. every figure function, built and written (book.py);
  9. evaluating a trained 60-seed sweep on one torch thread and on two, quiet and beside a busy core, and with only
     its seeds evaluated (as the studies' cells are).
Prints wall times and ratios; writes the same to bench/latest.json.
"""

from __future__ import annotations

import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

import sca.train  # noqa: F401  (the module, for swapping its optimizer in part 4)
from book import book_section, figure_section
from levers import levers_section
from sca import colors, experiments
from sca.data import training_data
from sca.evaluate import per_color_mse
from sca.sweep import run
from sca.train import schedule_step, train
from timing import busy_core, quiet, timed

TRAIN = sys.modules["sca.train"]
EXPERIMENT = experiments.get("2.4.1")


def one_seed_loop(seed: int) -> float:
    """The faithful baseline: one model, one seed, plain modules and a plain loop (subnormals flushed, as in
    our trainer, so that the comparison measures batching). Returns wall seconds."""
    with TRAIN.flush_denormals():
        return _one_seed_loop(seed)


def _one_seed_loop(seed: int) -> float:
    start = time.perf_counter()
    torch.manual_seed(seed)
    k, h = EXPERIMENT.model.latent, EXPERIMENT.model.hidden
    encoder = nn.Sequential(nn.Linear(3, h), nn.GELU(), nn.Linear(h, k))
    decoder = nn.Sequential(nn.Linear(k, h), nn.GELU(), nn.Linear(h, 3))
    params = [*encoder.parameters(), *decoder.parameters()]
    opt = torch.optim.Adam(params, lr=1e-8)
    schedule, lr, weights = EXPERIMENT.training_schedule()
    data = training_data(EXPERIMENT.data)
    steps = schedule.length
    for t in range(steps):
        row = schedule_step(t, steps)
        idx = torch.randint(len(data), (EXPERIMENT.data.batch_size,))
        x = data.rgb[idx]
        labels = {name: (torch.rand(len(idx)) < data.probs[i, idx]).float() for i, name in enumerate(data.label_names)}
        z = F.normalize(encoder(x), dim=-1)
        loss = F.mse_loss(decoder(z), x)
        for r in EXPERIMENT.regularizers:
            if weights[r.name][row] != 0:
                loss = loss + float(weights[r.name][row]) * r.term(z, labels)
        opt.zero_grad()
        loss.backward()
        for group in opt.param_groups:
            group["lr"] = float(lr[row])
        opt.step()
    return time.perf_counter() - start


class FusedAdam:
    """PyTorch's fused Adam behind SeedAdam's interface (fast, but a seed's result depends on its batch)."""

    def __init__(self, params):
        self.opt = torch.optim.Adam(list(params), lr=0.0, fused=True)

    def zero_grad(self):
        self.opt.zero_grad(set_to_none=True)

    def step(self, lr):
        for group in self.opt.param_groups:
            group["lr"] = lr
        self.opt.step()

    def release(self):
        pass


LAYOUTS = {
    "1 process x 2 threads": dict(workers=1, threads=2),
    "1 process x 1 thread": dict(workers=1, threads=1),
    "2 workers x 1 thread": dict(workers=2, threads=1),
}


def load_section(results: dict) -> None:
    print("\n3. 60-seed training, by process layout (default: 2 workers x 1 thread)")
    for load in ("quiet", "loaded"):
        with busy_core() if load == "loaded" else quiet():
            for name in ("2.4.1", "2.9.1"):
                exp = experiments.get(name)
                for layout, kw in LAYOUTS.items():
                    seconds, _ = timed(lambda: train(exp, range(60), **kw))
                    results[f"train60 {name} {load} {layout}"] = seconds
                    print(f"   {name} {load:<6} {layout:<22} {seconds:6.2f} s")
    for load in ("quiet", "loaded"):
        for name in ("2.4.1", "2.9.1"):
            base = results[f"train60 {name} {load} 1 process x 2 threads"]
            new = results[f"train60 {name} {load} 2 workers x 1 thread"]
            results[f"speedup {name} {load} workers over 2 threads"] = base / new
            print(f"   {name} {load}: 2 workers x 1 thread are {base / new:4.2f}x the speed of 1 process x 2 threads")


def optimizer_section(results: dict) -> None:
    print("\n4. batch-independent Adam (the eager engine's): 60-seed training, 1 process x 1 thread")
    for name in ("2.4.1", "2.9.1"):
        exp = experiments.get(name)
        seed_adam, _ = timed(lambda: train(exp, range(60), workers=1, engine="eager"))
        TRAIN.SeedAdam, original = FusedAdam, TRAIN.SeedAdam
        try:
            fused, _ = timed(lambda: train(exp, range(60), workers=1, engine="eager"))
        finally:
            TRAIN.SeedAdam = original
        results[f"train60 {name} SeedAdam over fused Adam"] = seed_adam / fused
        print(f"   {name}: SeedAdam {seed_adam:6.2f} s, fused Adam {fused:6.2f} s: {seed_adam / fused:4.2f}x the time")


def stream_section(results: dict) -> None:
    print("\n5. the original's random stream: 60-seed training of 2.4.1 (default workers, both on the eager engine)")
    from sca.stream import PublishedStream, TorchStream

    for name, stream in (("ours", TorchStream()), ("published", PublishedStream())):
        seconds, _ = timed(lambda: train(EXPERIMENT, range(60), stream=stream, engine="eager"))
        results[f"train60 2.4.1 stream {name}"] = seconds
        print(f"   {name:<9} stream {seconds:6.2f} s")
    ratio = results["train60 2.4.1 stream published"] / results["train60 2.4.1 stream ours"]
    results["train60 2.4.1 published stream over ours"] = ratio
    print(f"   published / ours: {ratio:4.2f}")


def evaluation_section(results: dict) -> None:
    print("\n9. evaluating a trained 60-seed 2.4.1: score, select, the selected model's variants, every seed's table")
    from sca import sweep
    from sca.train import torch_threads

    trained = train(EXPERIMENT, range(60))
    for load in ("quiet", "loaded"):
        with busy_core() if load == "loaded" else quiet():
            for threads in (1, 2):
                with torch_threads(threads):
                    seconds, _ = timed(lambda: sweep._evaluate_run(EXPERIMENT, trained, False, None, True), repeats=3)
                results[f"evaluate 2.4.1 {load} {threads} thread(s) s"] = seconds
                print(f"   {load:<6} {threads} thread(s): {seconds:5.2f} s")
            seconds, _ = timed(lambda: sweep.evaluate_run(EXPERIMENT, trained, variants=False), repeats=3)
            results[f"evaluate 2.4.1 {load} seeds only s"] = seconds
            print(f"   {load:<6} seeds only (1 thread): {seconds:5.2f} s")
    for load in ("quiet", "loaded"):
        ratio = results[f"evaluate 2.4.1 {load} 2 thread(s) s"] / results[f"evaluate 2.4.1 {load} 1 thread(s) s"]
        results[f"evaluate 2.4.1 {load}: 2 threads over 1"] = ratio
        print(f"   {load}: two threads take {ratio:4.2f}x the time of one")
    forward_section(results, trained.model)


def forward_section(results: dict, model) -> None:
    """The per-colour error on the old experiments' loss grid (its first 100,000 colours, 60 seeds): the compiled
    forward pass (forward.py) against the model's own PyTorch forward, per variant, one thread."""
    from sca import forward
    from sca.evaluate import _outputs
    from sca.train import torch_threads

    @torch.no_grad()
    def in_torch(m, rgb, intervention):  # the model's forward, 8,192 colours at a time (evaluation before forward.py)
        return torch.cat([(out.recon - x).pow(2).mean(-1) for x, out in _outputs(m, rgb, intervention, 8192)], 1)

    rgb = colors.legacy_loss_grid().flat_rgb[:100_000]
    print(f"   per-colour error of {model.n_seeds} seeds x {len(rgb)} colours, compiled against PyTorch (1 thread):")
    with torch_threads(1):
        for variant in EXPERIMENT.all_variants:
            m, intervention = variant.apply(model)
            ours, _ = timed(lambda: forward.per_color_mse(m, rgb, intervention), repeats=3)
            torch_s, _ = timed(lambda: in_torch(m, rgb, intervention), repeats=3)
            ns = lambda s: s / (model.n_seeds * len(rgb)) * 1e9
            results[f"per-colour error {variant.name}: compiled over PyTorch (speed-up)"] = torch_s / ours
            print(
                f"     {variant.name:<12} {ns(ours):5.1f} ns per seed-colour, PyTorch {ns(torch_s):5.1f}: "
                f"{torch_s / ours:4.2f}x"
            )


def main() -> None:
    results = {
        "machine": f"{platform.machine()}, {torch.get_num_threads()} threads available",
        "torch": torch.__version__,
    }

    # warm up allocator and kernels, untimed
    torch.set_num_threads(2)
    one_seed_loop(0)
    run(EXPERIMENT, seeds=range(4), cache=False)

    # 1. one seed at a time; the best of 1 and 2 threads, to be fair to the baseline
    single = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        single[threads] = min(one_seed_loop(seed) for seed in (0, 1))
    single_threads = min(single, key=single.get)
    single_s = single[single_threads]
    print(
        f"1. one-seed loop, 1501 steps:       {single_s:6.2f} s   ({single_threads} thread(s); "
        f"{single[1]:.2f} s with 1, {single[2]:.2f} s with 2)"
    )

    # batched sweeps: train, score, select, evaluate the selected model (no cache; default workers)
    sweep60_s, result = timed(lambda: run(EXPERIMENT, seeds=range(60), cache=False), repeats=2)
    sweep240_s, _ = timed(lambda: run(EXPERIMENT, seeds=range(240), cache=False))
    print(f"   batched sweep,  60 seeds:        {sweep60_s:6.2f} s   ({sweep60_s / 60 * 1000:.0f} ms per seed)")
    print(f"   batched sweep, 240 seeds:        {sweep240_s:6.2f} s   ({sweep240_s / 240 * 1000:.0f} ms per seed)")

    # 2. evaluation of 60 models on the loss grid
    torch.set_num_threads(2)
    grid = colors.loss_grid().flat_rgb
    eval60_s, mse = timed(lambda: per_color_mse(result.train.model, grid), repeats=2)
    assert mse.shape == (60, len(grid))
    print(f"2. evaluate 60 models × {len(grid)} colours: {eval60_s:6.2f} s")

    speedup = single_s / (sweep60_s / 60)
    print(f"\nper-seed speed-up, 60-seed sweep vs one-seed loop: {speedup:5.1f}×  (target ≥ 20×)")
    print(f"60-seed sweep / one-seed run:                      {sweep60_s / single_s:5.2f}   (target ≤ 4)")
    print(f"per-seed speed-up at 240 seeds:                    {single_s / (sweep240_s / 240):5.1f}×")
    results |= {
        "single_seed_s": single_s,
        "single_seed_threads": single_threads,
        "sweep60_s": sweep60_s,
        "sweep240_s": sweep240_s,
        "eval60_s": eval60_s,
        "per_seed_speedup": speedup,
        "sweep60_over_single": sweep60_s / single_s,
    }

    load_section(results)
    optimizer_section(results)
    stream_section(results)
    levers_section(results)
    evaluation_section(results)
    with tempfile.TemporaryDirectory() as cache:
        book_section(results, cache)
        figure_section(results, cache)
    out = Path(__file__).parent / "latest.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
