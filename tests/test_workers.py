"""Worker processes never outlive their parent, and a lock never outlives its holder: killing a run's main
process (as a closed terminal or a job scheduler does) ends its workers, and the next run completes."""

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sca import workers


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(c) for c in (task / "children").read_text().split()]
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_killing_the_main_process_ends_its_workers_and_frees_the_cache(tmp_path):
    env = {**os.environ, "SCA_CACHE_DIR": str(tmp_path / "cache"), "SCA_WORKERS": "2"}
    cmd = [sys.executable, "-m", "sca", "run", "2.4.1", "--seeds", "0-15", "--out", str(tmp_path / "out")]
    run = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline, kids = time.monotonic() + 120, []
    while time.monotonic() < deadline and len(kids) < 2 and run.poll() is None:
        kids = children(run.pid)
        time.sleep(0.01)
    assert len(kids) >= 2, "the run finished or failed before its workers could be seen"
    run.kill()
    run.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(alive(k) for k in kids):
        time.sleep(0.05)
    assert not any(alive(k) for k in kids), "a worker outlived its killed parent"
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]


def die_on_one(x: int) -> int:
    if x == 1:
        os._exit(1)
    time.sleep(0.5)
    return x


def test_a_dead_worker_names_what_was_lost():
    with pytest.raises(workers.WorkerDied, match="unfinished: .*seeds 8 to 15.*SCA_WORKERS=1"):
        workers.map_in_workers(die_on_one, [(0,), (1,)], what=["seeds 0 to 7", "seeds 8 to 15"])
