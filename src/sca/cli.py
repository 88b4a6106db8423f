"""Command line: `python -m sca list` and `python -m sca run EXP [--seeds 0-59] [--out DIR]`."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from . import experiments


def parse_seeds(text: str) -> list[int]:
    """'0-59', '3,7,11' or '0-4,10' -> a list of seeds."""
    seeds = []
    try:
        for part in text.split(","):
            lo, _, hi = part.strip().partition("-")
            seeds += list(range(int(lo), int(hi) + 1)) if hi else [int(lo)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"cannot read seeds {text!r}: use e.g. 0-59 or 3,7,11") from None
    if not seeds or min(seeds) < 0:
        raise argparse.ArgumentTypeError(f"seeds {text!r}: need at least one seed, all >= 0")
    return seeds


def _list(_args) -> int:
    for exp in experiments.EXPERIMENTS.values():
        print(f"{exp.name:<8} {exp.title}  ({len(exp.seeds)} seed{'s' if len(exp.seeds) > 1 else ''})")
    return 0


def _run(args) -> int:
    import pandas as pd

    from .sweep import compare_statistics, run

    exp = experiments.get(args.experiment)
    seeds = args.seeds if args.seeds is not None else list(exp.seeds)
    started = time.perf_counter()
    result = run(exp, seeds, progress=sys.stderr.isatty() and not os.environ.get("CI"), cache=not args.no_cache)
    elapsed = time.perf_counter() - started
    summary = result.summary() | {"wall_time_s": elapsed}
    out = Path(args.out or f"runs/{exp.name}")
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / "summary.json.tmp"
    tmp.write_text(json.dumps(summary, indent=2))
    tmp.replace(out / "summary.json")

    scores = result.runs["score"]
    print(f"{exp.name} {exp.title}: {len(seeds)} seeds in {elapsed:.1f} s")
    if len(scores) > 1:
        print(f"score {scores.mean():.4f} ± {scores.std():.4f} (min {scores.min():.4f}, max {scores.max():.4f})")
    pareto = list(result.runs.index[result.runs["pareto"]])
    print(f"selected seed {result.selected_seed} (score {scores[result.selected_seed]:.4f}) "
          f"of {len(pareto)} on the Pareto front: {pareto}")
    if len(scores) > 1:
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(compare_statistics(result).round(4).to_string(na_rep="-"))
    for name, v in result.variants.items():
        print(f"  {name:<12} red Δ {result.delta(name, 'red'):+.3f}  cyan Δ {result.delta(name, 'cyan'):+.3f}  "
              f"R² {v.r2:.2f}  max {v.max_mse:.3g}  median {v.median_mse:.2g}")
    print(f"wrote {out / 'summary.json'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sca", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the experiments").set_defaults(func=_list)
    p = sub.add_parser("run", help="train, select and evaluate one experiment")
    p.add_argument("experiment", help="experiment name, e.g. 2.4.1")
    p.add_argument("--seeds", type=parse_seeds, default=None, help="e.g. 0-59 (default: the original's seeds)")
    p.add_argument("--out", default=None, help="output folder (default: runs/EXP)")
    p.add_argument("--no-cache", action="store_true", help="recompute even if a cached result exists")
    p.set_defaults(func=_run)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyError as e:
        parser.exit(2, f"sca: {e.args[0]}\n")


if __name__ == "__main__":
    sys.exit(main())
