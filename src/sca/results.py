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
from functools import lru_cache
from typing import Sequence

from . import experiments
from .stream import get_stream
from .sweep import RunResult, run
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


@lru_cache(maxsize=None)
@collapse_told_in_text
def load(name: str, stream: str = "ours") -> RunResult:
    """Experiment `name` as the book shows it."""
    exp = experiments.get(name)
    if name in experiments.OLD and stream != "ours":
        raise ValueError(f"{name}: the old notebooks' random stream is not rebuilt; only the sweeps {experiments.SWEEPS} take stream={stream!r}")
    if name in experiments.OLD:
        return run(exp, seeds=OLD_SEEDS, show=SHOWN_OLD_SEED)
    return run(exp, stream=get_stream(stream))


def names(stream: str = "ours") -> tuple[str, ...]:
    """Every experiment the claims judge: the sweeps with `stream`, and (with our stream) the old experiments."""
    return experiments.SWEEPS + (experiments.OLD if stream == "ours" else ())


def load_all(stream: str = "ours") -> dict[str, RunResult]:
    return {name: load(name, stream) for name in names(stream)}


def prefetch(streams: Sequence[str] = ("ours", "published")) -> None:
    """Train and evaluate into the cache every run `load` gives for these streams, one process per usable core,
    each with one worker (a seed's result does not depend on the split): an evaluation's single-threaded parts
    then keep every core busy too, where loading one run after another leaves one idle. The old experiments
    (the dearest: their seeds are evaluated on the 86,400-colour loss grid) are dealt out first."""
    runs = [(name, stream) for stream in streams for name in names(stream)]
    runs.sort(key=lambda r: r[0] not in experiments.OLD)
    processes = len(seed_chunks(len(runs), usable_cores()))  # 1 where processes cannot fork
    if processes == 1:
        for run_ in runs:
            load(*run_)
        return
    shares = [runs[i::processes] for i in range(processes)]
    map_in_workers(_load_each, [(share,) for share in shares],
                   what=[f"the runs {', '.join(f'{n} ({s})' for n, s in share)}" for share in shares])


def _load_each(runs: list[tuple[str, str]]) -> None:
    os.environ["SCA_WORKERS"] = "1"  # this process is one of the workers already
    for name, stream in runs:
        load(name, stream)
