"""A disk cache of finished runs, keyed by everything that determines them.

The key hashes the experiment's full config, its schedule file's contents, the seeds, the random
stream, and the contents of every source file of this package, so that any code change makes a
fresh key and a stale result can never be served. Entries are written atomically (temp file, then
rename) with a SHA-256 of their payload in the header; a truncated or corrupt entry is reported with
a warning and rebuilt, never used.
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Callable, TypeVar

import torch

from .schedule import load_schedule

PACKAGE_DIR = Path(__file__).parent
MAGIC = b"SCA-CACHE-1 "
T = TypeVar("T")


class CacheWarning(UserWarning):
    """A cache entry could not be used and was rebuilt."""


class CorruptCacheEntry(Exception):
    pass


def cache_dir() -> Path:
    """$SCA_CACHE_DIR, or .cache/sca under the current directory (the project root when run from there)."""
    return Path(os.environ.get("SCA_CACHE_DIR", ".cache/sca"))


@lru_cache(maxsize=1)
def source_digest() -> str:
    """SHA-256 over this package's Python sources and schedule files."""
    h = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*")):
        if path.suffix in (".py", ".csv") and "__pycache__" not in path.parts:
            h.update(str(path.relative_to(PACKAGE_DIR)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def run_key(experiment, seeds, stream) -> str:
    schedule = load_schedule(experiment.schedule)
    parts = [
        repr(experiment),
        Path(schedule.source).read_text(),
        repr(list(seeds)),
        f"{type(stream).__module__}.{type(stream).__qualname__}{sorted(vars(stream).items())!r}",
        source_digest(),
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def save(path: Path, obj) -> None:
    """Write obj atomically: a header with the payload's SHA-256, then the payload."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    payload = buf.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load(path: Path):
    """Read an entry written by `save`; raise CorruptCacheEntry if it is truncated or altered."""
    data = path.read_bytes()
    header, sep, payload = data.partition(b"\n")
    if not header.startswith(MAGIC) or not sep:
        raise CorruptCacheEntry("missing header")
    if hashlib.sha256(payload).hexdigest().encode() != header[len(MAGIC):]:
        raise CorruptCacheEntry("checksum mismatch (truncated or altered)")
    try:
        return torch.load(io.BytesIO(payload), weights_only=False)
    except Exception as e:  # a payload that passes the checksum but does not unpickle (e.g. renamed classes)
        raise CorruptCacheEntry(f"cannot unpickle: {e}") from e


def cached(path: Path, compute: Callable[[], T]) -> T:
    """Load `path` if it holds a sound entry; otherwise compute, store and return."""
    if path.exists():
        try:
            return load(path)
        except (CorruptCacheEntry, OSError) as e:
            warnings.warn(f"cache entry {path} is unusable ({e}); recomputing it", CacheWarning, stacklevel=2)
    result = compute()
    save(path, result)
    return result
