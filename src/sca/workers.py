"""Single-threaded worker processes, the unit that training and evaluation split seeds over.

One single-threaded process per usable core degrades gracefully when another program takes a core, where
one process with several torch threads stalls at every operation's barrier (`make bench`, part 3). A
seed's result does not depend on the split: the seeds are independent, and each operation gives the same
bits whichever process or thread computes it (see `optim` and the tests of `train`).
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Sequence

import numpy as np
import torch


def default_workers(n_seeds: int) -> int:
    """Worker processes for n seeds: $SCA_WORKERS, or one single-threaded worker per usable core (at most
    one per 8 seeds)."""
    env = os.environ.get("SCA_WORKERS")
    if env:
        if not env.isdigit() or int(env) < 1:
            raise ValueError(f"SCA_WORKERS={env!r}: expected a whole number >= 1")
        return min(int(env), n_seeds)
    return max(1, min(usable_cores(), n_seeds // 8))


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def seed_chunks(n_seeds: int, workers: int) -> list[list[int]]:
    """Positions 0..n-1 in `workers` contiguous, nearly equal chunks; one chunk where processes cannot fork."""
    if "fork" not in multiprocessing.get_all_start_methods():
        workers = 1
    return [[int(i) for i in c] for c in np.array_split(np.arange(n_seeds), max(1, min(workers, n_seeds)))]


def map_in_workers(fn: Callable, args: Sequence[Sequence], threads: int = 1) -> list:
    """[fn(*a) for a in args], each call in its own forked worker process with `threads` torch threads."""
    with ProcessPoolExecutor(len(args), mp_context=multiprocessing.get_context("fork"),
                             initializer=torch.set_num_threads, initargs=(threads,)) as pool:
        return list(pool.map(fn, *zip(*args)))
