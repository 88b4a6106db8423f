"""Command line: `python -m sca list`, `python -m sca run EXP [--seeds 0-59] [--stream ours|published] [--out DIR]`, and
`python -m sca prefetch` (every run the book reads, into the cache; the book's pre-render step)."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from . import experiments
from .cache import atomic_write, cache_dir
from .stream import STREAMS, get_stream
from .train import TrainingFailed, check_seeds
from .workers import WorkerDied


def parse_seeds(text: str) -> list[int]:
    """'0-59', '3,7,11' or '0-4,10' -> a list of distinct seeds, in the order given.

    Rejects, naming the part: anything but N or A-B parts (e.g. '0-', '-3', '1-2-3'), reversed ranges
    ('5-2'), and seeds given twice ('1,1', '0-5,3')."""
    seeds: list[int] = []
    for part in text.split(","):
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not m:
            raise argparse.ArgumentTypeError(f"cannot read {part!r} in seeds {text!r}: use e.g. 0-59, 3,7,11 or 0-4,10")
        lo, hi = int(m[1]), int(m[2]) if m[2] is not None else None
        if hi is not None and hi < lo:
            raise argparse.ArgumentTypeError(f"seed range {part.strip()!r} runs backwards: write {hi}-{lo}")
        if len(seeds) + (hi - lo + 1 if hi is not None else 1) > MAX_SEEDS:  # sized before it is expanded
            raise argparse.ArgumentTypeError(f"seeds {text!r}: more than {MAX_SEEDS} seeds in one run")
        seeds += list(range(lo, hi + 1)) if hi is not None else [lo]
    try:
        return check_seeds(seeds)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"seeds {text!r}: {e}") from None


def parse_label_scale(text: str) -> tuple[str, float]:
    """'red=0.25' -> ('red', 0.25)."""
    m = re.fullmatch(r"\s*([a-z]+)\s*=\s*([0-9]*\.?[0-9]+(?:e-?\d+)?)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"cannot read label scale {text!r}: use LABEL=FACTOR, e.g. red=0.25")
    return m[1], float(m[2])


MAX_SEEDS = 1_000_000  # parsing stops here; whether the machine can train them is checked before training


def _list(_args) -> int:
    width = max(map(len, experiments.EXPERIMENTS))
    for exp in experiments.EXPERIMENTS.values():
        print(f"{exp.name:<{width}} {exp.title}  ({len(exp.seeds)} seed{'s' if len(exp.seeds) > 1 else ''})")
    return 0


def _prefetch(args) -> int:
    from .results import fingerprints, prefetch

    started = time.perf_counter()
    streams = args.stream or ("ours", "published")
    computed = prefetch(streams, cells=not args.no_studies)
    print(
        f"sca prefetch: {len(computed)} run{'s' if len(computed) != 1 else ''} computed into {cache_dir()} "
        f"in {time.perf_counter() - started:.0f} s" + (f" ({', '.join(computed)})" if computed else "; all were cached")
    )
    prints = fingerprints(streams)
    print(f"sca prefetch: results fingerprint, training {prints['training']}, evaluation {prints['evaluation']}")
    if args.site_metadata:
        import yaml

        from .provenance import site_metadata

        Path(args.site_metadata).write_text(yaml.safe_dump(site_metadata(prints), allow_unicode=True, width=1000))
        print(f"sca prefetch: the commit and the fingerprints for every page's footer, in {args.site_metadata}")
    return 0


def _run(args) -> int:
    from .sweep import run

    exp = experiments.get(args.experiment)
    labels = [label for label, _ in args.label_scale]
    if len(set(labels)) != len(labels):
        raise ValueError(
            f"--label-scale gives {sorted({x for x in labels if labels.count(x) > 1})} more than once: "
            "give each label once, with the product of the factors if you meant to combine them"
        )
    if args.label_scale or args.fixed or args.constant_lr or args.concept != "red":
        from .studies import Cell, cell_experiment

        exp = cell_experiment(
            Cell(
                exp.name,
                labels=tuple(args.label_scale),
                fixed=args.fixed,
                constant_lr=args.constant_lr,
                concept=args.concept,
            )
        )
    seeds = args.seeds if args.seeds is not None else list(exp.seeds)
    if args.out is not None and not args.out.strip():
        raise ValueError("--out is empty: name an output folder, or leave --out out for runs/EXP")
    out = Path(args.out or f"runs/{exp.name}")
    _check_output(out / "summary.json")
    started = time.perf_counter()
    result = run(
        exp,
        seeds,
        stream=get_stream(args.stream),
        progress=sys.stderr.isatty() and not os.environ.get("CI"),
        cache=not args.no_cache,
    )
    elapsed = time.perf_counter() - started
    summary = result.summary() | {"stream": args.stream, "wall_time_s": elapsed}
    _write_keeping(out / "summary.json", json.dumps(summary, indent=2).encode())
    try:
        _report(args, exp, seeds, result, elapsed, out)
    except OSError as e:  # the summary is written: a console that cannot take the report does not undo it
        print(f"sca: could not print the report ({e}); the summary is in {out / 'summary.json'}", file=sys.stderr)
    return 0


def _report(args, exp, seeds, result, elapsed: float, out: Path) -> None:
    import pandas as pd

    from .studies import CONCEPTS
    from .sweep import compare_statistics

    concept, opposite = args.concept, CONCEPTS[args.concept][2]
    scores = result.runs["score"]
    print(f"{exp.name} {exp.title}: {len(seeds)} seeds in {elapsed:.1f} s")
    if len(scores) > 1:
        print(f"score {scores.mean():.4f} ± {scores.std():.4f} (min {scores.min():.4f}, max {scores.max():.4f})")
    pareto = list(result.runs.index[result.runs["pareto"]])
    print(
        f"selected seed {result.selected_seed} (score {scores[result.selected_seed]:.4f}) "
        f"of {len(pareto)} on the Pareto front: {pareto}"
    )
    if len(scores) > 1:
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(compare_statistics(result).round(4).to_string(na_rep="-"))
    for name, v in result.variants.items():
        print(
            f"  {name:<12} {concept} Δ {result.delta(name, concept):+.3f}  {opposite} Δ "
            f"{result.delta(name, opposite):+.3f}  "
            f"R² {v.r2:.2f}  max {v.max_mse:.3g}  median {v.median_mse:.2g}"
        )
    print(f"wrote {out / 'summary.json'}")


def _check_output(target: Path) -> None:
    """Fail before training if `target` could not be written: its folder takes a file (one is written, flushed
    and removed), and the target itself is not a folder."""
    if target.is_dir():
        raise OSError(f"cannot write {target}: it is a folder")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".sca-check-") as f:
            f.write(b"{}")
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        raise OSError(f"cannot write to the output folder {target.parent}: {e.strerror or e}") from None


def _write_keeping(target: Path, data: bytes) -> None:
    """Write `target`; if that fails after all (a full disk, a folder put in its place), keep the result in a
    recovery file in the cache folder, or else the temporary folder, and raise naming both."""
    try:
        atomic_write(target, data)
    except OSError as e:
        recovery: Path | None = None
        for folder in (cache_dir(), Path(tempfile.gettempdir())):
            candidate = folder / f"recovered-{target.parent.name or 'run'}-{int(time.time())}-{target.name}"
            try:
                atomic_write(candidate, data)
            except OSError:
                continue
            recovery = candidate
            break
        kept = f"; the result is kept in {recovery}" if recovery else "; the result could not be kept anywhere"
        raise OSError(f"cannot write {target}: {e.strerror or e}{kept}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sca", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the experiments").set_defaults(func=_list)
    f = sub.add_parser(
        "prefetch", help="train and evaluate into the cache every run the book reads, one process per core"
    )
    f.add_argument(
        "--stream", choices=sorted(STREAMS), action="append", help="only this stream's runs (repeatable; default: both)"
    )
    f.add_argument("--no-studies", action="store_true", help="without the cells of the studies beyond the paper")
    f.add_argument(
        "--site-metadata",
        metavar="FILE",
        help="also write Quarto metadata for the book's pages (the commit, the fingerprints, the repository) to FILE",
    )
    f.set_defaults(func=_prefetch)
    p = sub.add_parser("run", help="train, select and evaluate one experiment")
    p.add_argument("experiment", help="experiment name, e.g. 2.4.1")
    p.add_argument("--seeds", type=parse_seeds, default=None, help="e.g. 0-59 (default: the original's seeds)")
    p.add_argument("--out", default=None, help="output folder (default: runs/EXP)")
    p.add_argument("--no-cache", action="store_true", help="recompute even if a cached result exists")
    p.add_argument(
        "--stream",
        choices=sorted(STREAMS),
        default="ours",
        help="random stream: our own (default), or the original notebooks' (published: the redux sweeps)",
    )
    study = p.add_argument_group("beyond the paper (2.4.1 and 2.9.1): one cell of a study")
    study.add_argument(
        "--label-scale",
        type=parse_label_scale,
        action="append",
        default=[],
        metavar="LABEL=FACTOR",
        help="scale a label's probability, e.g. red=0.25 (repeatable)",
    )
    study.add_argument(
        "--fixed",
        choices=("mean", "peak"),
        default=None,
        help="constant regularizer weights at their time-average or peak instead of keyframes",
    )
    study.add_argument(
        "--constant-lr", action="store_true", help="with --fixed: the learning rate constant at its time-average"
    )
    study.add_argument(
        "--concept", choices=("red", "green", "blue"), default="red", help="the anchored concept (default red)"
    )
    p.set_defaults(func=_run)
    args = parser.parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):  # a console that cannot show ± Δ ² gets a stand-in, not a failure
        sys.stdout.reconfigure(errors="replace")
    try:
        return args.func(args)
    except KeyError as e:  # an unknown name; its message lists the known ones
        parser.exit(2, f"sca: error: {e.args[0]}\n")
    except (ValueError, TypeError, OSError, MemoryError, TrainingFailed, WorkerDied) as e:  # bad input, files, memory,
        # a diverged run, a killed worker
        parser.exit(2, f"sca: error: {e}\n")


if __name__ == "__main__":
    sys.exit(main())
