"""The runs the book, the scorecard and the tests judge: each experiment trained (or loaded from the cache)
and evaluated once per session.

The five redux sweeps run on their sixty seeds, with our random stream or the original notebooks'
("published"). The old notebooks trained one seed; we train OLD_SEEDS and show seed 0 in their chapters, one
draw like theirs (our stream differs, so not the same draw), and place their printed numbers among ours.
"""

from __future__ import annotations

import functools
import warnings
from functools import lru_cache

from . import experiments
from .stream import get_stream
from .sweep import RunResult, run
from .train import CollapseWarning

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


def load_all(stream: str = "ours") -> dict[str, RunResult]:
    """Every experiment the claims judge: the sweeps with `stream`, and (with our stream) the old experiments."""
    names = experiments.SWEEPS + (experiments.OLD if stream == "ours" else ())
    return {name: load(name, stream) for name in names}
