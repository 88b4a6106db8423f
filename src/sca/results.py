"""The runs the book, the scorecard and the tests judge: each experiment trained (or loaded from the cache)
and evaluated once per session.

The five redux sweeps run on their sixty seeds, with our random stream or the original notebooks'
("published"). The old notebooks trained one seed; we train OLD_SEEDS and show seed 0 in their chapters, one
draw like theirs (our stream differs, so not the same draw), and place their printed numbers among ours.
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Sequence

from . import experiments
from .stream import get_stream
from .sweep import RunResult, is_cached, run
from .train import CollapseWarning
from .workers import map_in_workers, seed_chunks, usable_cores

OLD_SEEDS = experiments.SIXTY  # as many as a sweep, so every percentile resolves to 1/60
SHOWN_OLD_SEED = 0


def collapse_told_in_text(fn):
    """Run fn without printing CollapseWarning into a page: the chapters state collapsed seeds in their text and
    tables (a cached run would not warn again, so the page would depend on the cache)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CollapseWarning)
            return fn(*args, **kwargs)

    return wrapper


@functools.cache
@collapse_told_in_text
def load(name: str, stream: str = "ours") -> RunResult:
    """Experiment `name` as the book shows it."""
    return run(**run_args(name, stream))


def run_args(name: str, stream: str = "ours") -> dict:
    """The arguments of `sweep.run` that give experiment `name` as the book shows it."""
    exp = experiments.get(name)
    if name in experiments.OLD and stream != "ours":
        raise ValueError(
            f"{name}: the old notebooks' random stream is not rebuilt; only the sweeps {experiments.SWEEPS} "
            f"take stream={stream!r}"
        )
    if name in experiments.OLD:
        return {"experiment": exp, "seeds": OLD_SEEDS, "show": SHOWN_OLD_SEED}
    return {"experiment": exp, "stream": get_stream(stream)}


def names(stream: str = "ours") -> tuple[str, ...]:
    """Every experiment the claims judge: the sweeps with `stream`, and (with our stream) the old experiments."""
    return experiments.SWEEPS + (experiments.OLD if stream == "ours" else ())


def load_all(stream: str = "ours") -> dict[str, RunResult]:
    return {name: load(name, stream) for name in names(stream)}


def fingerprints(streams: Sequence[str] = ("ours", "published")) -> dict[str, str]:
    """The training and evaluation fingerprints over every run `load` gives for these streams (provenance.book)."""
    from .provenance import book

    return book({f"{name}/{stream}": load(name, stream) for stream in streams for name in names(stream)})


def prefetch(streams: Sequence[str] = ("ours", "published"), cells: bool = True) -> list[str]:
    """Train and evaluate into the cache every run `load` gives for these streams, and with `cells` every cell of
    the studies beyond the paper; return the names of those that were not cached yet.

    The runs are dealt out one at a time to one single-threaded process per usable core, the dearest first
    (the most training steps per seed, the old experiments' loss grids): a seed's result does not depend on the
    split, and every core stays busy to the end, where loading one run after another leaves a core idle in
    evaluation's single-threaded parts."""
    from .studies import STUDIES, cell_run_args

    wanted = [run_args(name, stream) for stream in streams for name in names(stream)]
    if cells:
        wanted += [cell_run_args(cell) for cell in dict.fromkeys(c for study in STUDIES.values() for c in study)]
    missing = [args for args in wanted if not is_cached(**args)]
    missing.sort(key=_cost, reverse=True)
    processes = len(seed_chunks(len(missing), usable_cores()))  # 1 where processes cannot fork
    if processes == 1:
        for args in missing:
            _run(args)
    elif missing:
        map_in_workers(
            _run,
            [(args,) for args in missing],
            processes=processes,
            what=[f"the run of {args['experiment'].name}" for args in missing],
        )
    return [args["experiment"].name for args in missing]


def _cost(args: dict) -> float:
    """A run's relative cost: training steps x seeds, and its evaluation on the loss grid where it has one."""
    exp = args["experiment"]
    seeds = len(args.get("seeds") or exp.seeds)
    return seeds * exp.training_schedule()[0].length * (2 if args.get("show") is not None else 1)


@collapse_told_in_text
def _run(args: dict) -> None:
    os.environ["SCA_WORKERS"] = "1"  # this process is one of the workers already
    run(**args)
