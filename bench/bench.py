"""`make bench`: how much faster is training all seeds at once than one seed at a time?

Measures, in one run on this machine:
  1. a straightforward one-seed-at-a-time PyTorch loop (nn.Sequential, stock Adam) of the anchored model 2.4.1;
  2. the batched sweep of 2.4.1 (train, score every seed, select, evaluate the selected model), 60 and 240 seeds;
  3. evaluating 60 trained models on the 86,400-colour loss grid;
and prints wall times, per-seed costs and ratios; writes the same to bench/latest.json.
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from sca import colors, experiments
from sca.data import training_data
from sca.evaluate import per_color_mse
from sca.schedule import load_schedule
from sca.sweep import run
from sca.train import schedule_step

EXPERIMENT = experiments.get("2.4.1")


def one_seed_loop(seed: int) -> float:
    """The faithful baseline: one model, one seed, plain modules and a plain loop. Returns wall seconds."""
    start = time.perf_counter()
    torch.manual_seed(seed)
    k, h = EXPERIMENT.model.latent, EXPERIMENT.model.hidden
    encoder = nn.Sequential(nn.Linear(3, h), nn.GELU(), nn.Linear(h, k))
    decoder = nn.Sequential(nn.Linear(k, h), nn.GELU(), nn.Linear(h, 3))
    params = [*encoder.parameters(), *decoder.parameters()]
    opt = torch.optim.Adam(params, lr=1e-8)
    schedule = load_schedule(EXPERIMENT.schedule)
    data = training_data(EXPERIMENT.data)
    steps = schedule.length
    lr = schedule.values("lr")
    weights = {r.name: schedule.weight(r.name) for r in EXPERIMENT.regularizers}
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


def timed(fn, repeats: int = 1) -> tuple[float, object]:
    """Best wall time of `repeats` calls (this machine's timings wander by ±20% between calls)."""
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    results = {"machine": f"{platform.machine()}, {torch.get_num_threads()} threads available", "torch": torch.__version__}

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
    print(f"1. one-seed loop, 1501 steps:       {single_s:6.2f} s   ({single_threads} thread(s); "
          f"{single[1]:.2f} s with 1, {single[2]:.2f} s with 2)")

    # 2. batched sweeps: train, score, select, evaluate the selected model (no cache)
    torch.set_num_threads(2)
    sweep60_s, result = timed(lambda: run(EXPERIMENT, seeds=range(60), cache=False), repeats=2)
    sweep240_s, _ = timed(lambda: run(EXPERIMENT, seeds=range(240), cache=False))
    print(f"2. batched sweep,  60 seeds:        {sweep60_s:6.2f} s   ({sweep60_s / 60 * 1000:.0f} ms per seed, 2 threads)")
    print(f"   batched sweep, 240 seeds:        {sweep240_s:6.2f} s   ({sweep240_s / 240 * 1000:.0f} ms per seed, 2 threads)")

    # 3. evaluation of 60 models on the loss grid
    grid = colors.loss_grid().flat_rgb
    eval60_s, mse = timed(lambda: per_color_mse(result.train.model, grid), repeats=2)
    assert mse.shape == (60, len(grid))
    print(f"3. evaluate 60 models × {len(grid)} colours: {eval60_s:6.2f} s")

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
        "sweep_threads": 2,
    }
    out = Path(__file__).parent / "latest.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
