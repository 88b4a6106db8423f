"""Single-threaded worker processes, the unit that training and evaluation split seeds over.

One single-threaded process per usable core degrades gracefully when another program takes a core, where
one process with several torch threads stalls at every operation's barrier (`make bench`, part 3). A
seed's result does not depend on the split: the seeds are independent, and each operation gives the same
bits whichever process or thread computes it (see `optim` and the tests of `train`).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import multiprocessing
import os
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import lru_cache

import numpy as np
import torch

PR_SET_PDEATHSIG = 1  # prctl(2): the signal this process gets when its parent dies
M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3  # mallopt(3) parameters
MMAP_THRESHOLD_MAX = 32 << 20  # glibc's largest mmap threshold on 64-bit systems


@lru_cache(maxsize=1)
def keep_freed_memory() -> bool:
    """Ask glibc to keep freed memory for the next tensor instead of returning it to the kernel; done once, when
    training or evaluation first starts (importing sca changes nothing in the host process).

    A training step allocates ~1 MB temporaries, and evaluation tensors of up to ~30 MB (60 seeds x 8192 colours x
    16) thousands of times; returned to the kernel, each comes back as fresh pages that fault on first touch. With
    blocks up to 32 MB kept and the heap trimmed only past 1 GB, evaluating 2.3 (60 seeds on its 552,960-colour
    loss grid, with its per-colour error then in PyTorch) spent 0.0-0.4 s in the kernel instead of 3.4-4.0 s.
    Changes no result; False where there is no glibc."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return all(
        mallopt(param, value) == 1
        for param, value in (
            (M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX),
            (M_TRIM_THRESHOLD, 1 << 30),
            (M_TOP_PAD, 256 << 20),
        )
    )


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


class WorkerDied(RuntimeError):
    """A worker process ended without an answer (killed, or out of memory)."""


def _die_with(parent: int) -> None:
    """Ask the kernel to end this process when its parent dies (Linux), and end now if it already has."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the worker outlives a killed parent until its task ends
        pass
    if os.getppid() != parent:
        os._exit(1)


def _start_worker(parent: int, threads: int) -> None:
    """A worker's first act: die with its parent, let go of the cache locks it inherited (the parent keeps them;
    a lock must not outlive the process that took it), and use `threads` torch threads."""
    _die_with(parent)
    from .cache import HELD_LOCKS

    for fd in list(HELD_LOCKS):
        with contextlib.suppress(OSError):
            os.close(fd)
    HELD_LOCKS.clear()
    torch.set_num_threads(threads)


def map_in_workers(
    fn: Callable, args: Sequence[Sequence], threads: int = 1, what: Sequence[str] = (), processes: int | None = None
) -> list:
    """[fn(*a) for a in args], each call in a forked worker process with `threads` torch threads: its own process,
    or with `processes` the next free one of that many, in the order given. A worker that dies raises WorkerDied
    naming what it held (`what[i]` describes call i)."""
    with ProcessPoolExecutor(
        processes or len(args),
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start_worker,
        initargs=(os.getpid(), threads),
    ) as pool:
        futures = [pool.submit(fn, *a) for a in args]
        out, lost = [], []
        for i, future in enumerate(futures):
            try:
                out.append(future.result())
            except BrokenProcessPool:
                lost.append(what[i] if i < len(what) else f"task {i + 1} of {len(args)}")
        if lost:
            raise WorkerDied(
                f"a worker process died (killed, or out of memory); unfinished: {'; '.join(lost)}. Nothing of "
                "this run was cached: run it again, or with SCA_WORKERS=1 to use one process"
            )
        return out
