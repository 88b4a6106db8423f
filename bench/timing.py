"""What every part of `make bench` times with: best-of-n wall time, and a busy core."""

from __future__ import annotations

import subprocess
import sys
import time
from contextlib import contextmanager


def timed(fn, repeats: int = 1) -> tuple[float, object]:
    """Best wall time of `repeats` calls (this machine's timings wander by ±20% between calls)."""
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


@contextmanager
def busy_core():
    """Another process spinning on one core for the duration of the block."""
    other = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        yield
    finally:
        other.kill()
        other.wait()


@contextmanager
def quiet():
    """Nothing else running (the counterpart of `busy_core`)."""
    yield


def quiet_and_loaded(fn, rounds: int = 3) -> tuple[float, float]:
    """Best wall time of `fn` quiet and beside a busy core, measured alike: `rounds` rounds of one quiet call then
    one loaded call, so that the machine's wandering speed reaches both sides and neither gets more tries."""
    quiet_s, loaded_s = float("inf"), float("inf")
    for _ in range(rounds):
        quiet_s = min(quiet_s, timed(fn)[0])
        with busy_core():
            loaded_s = min(loaded_s, timed(fn)[0])
    return quiet_s, loaded_s
