"""A disk cache of finished runs, keyed by everything that determines them.

The key hashes what determines training: the experiment's training config, its schedule file's
contents, the seeds, the random stream, and the source of every module that trains, so that a change
to any of them makes a fresh key and a stale model can never be served, while editing evaluation,
figures or the book reuses it. Entries are written atomically (a uniquely named
temp file, then rename) with a SHA-256 of their payload in the header, and record their own key; a
truncated, corrupt or misplaced entry is reported with a warning and rebuilt, never used. An entry is
computed under a lock, so that processes asking for the same result at once (the book's chapters run
side by side) compute it once: the others wait, then read it. The cache is an optimisation: when it
cannot be read or written, the run says so and its result is returned all the same.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import torch

from .schedule import schedule_text

try:
    import fcntl
except ImportError:  # not POSIX: no lock, concurrent processes may compute the same entry twice
    fcntl = None  # type: ignore[assignment]

PACKAGE_DIR = Path(__file__).parent
MAGIC = b"SCA-CACHE-2 "
T = TypeVar("T")


class CacheWarning(UserWarning):
    """A cache entry could not be used or stored; the run went on without it."""


class CorruptCacheEntry(Exception):
    pass


def cache_dir() -> Path:
    """$SCA_CACHE_DIR, or .cache/sca under the current directory (the project root when run from there)."""
    folder = os.environ.get("SCA_CACHE_DIR", ".cache/sca")
    if not folder.strip():
        raise ValueError("SCA_CACHE_DIR is set but empty: unset it to cache in .cache/sca, or name a folder")
    return Path(folder)


# The modules whose code determines a trained model: editing anything else (evaluation, figures,
# tables, the book) reuses cached training.
TRAINING_SOURCES = (
    "colors.py",
    "data.py",
    "schedule.py",
    "model.py",
    "regularizers.py",
    "interventions.py",
    "stream.py",
    "optim.py",
    "fused.py",
    "fused.cpp",
    "gelu.h",
    "lanes.h",
    "layers.h",
    "regularizers.h",
    "train.py",
)


@lru_cache(maxsize=1)
def source_digest() -> str:
    """SHA-256 over the training modules' sources."""
    h = hashlib.sha256()
    for name in TRAINING_SOURCES:
        h.update(name.encode() + b"\0" + (PACKAGE_DIR / name).read_bytes() + b"\0")
    return h.hexdigest()


# The modules that only load, judge, draw or format results: an evaluated run does not depend on them.
PRESENTATION_SOURCES = (
    "analysis.py",
    "beyond.py",
    "claim.py",
    "claims.py",
    "cli.py",
    "figures.py",
    "interactive.py",
    "overview.py",
    "quarto.py",
    "reference.py",
    "report.py",
    "results.py",
    "rules.py",
    "sections.py",
    "studies.py",
    "tables.py",
    "sca.mplstyle",
)


@lru_cache(maxsize=2)
def package_digest(evaluation_only: bool = False) -> str:
    """SHA-256 over every source file of the package (what a rendered chapter depends on), or with
    `evaluation_only` over those an evaluated run depends on (all but PRESENTATION_SOURCES)."""
    h = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*")):
        if evaluation_only and path.name in PRESENTATION_SOURCES:
            continue
        if path.suffix in (".py", ".cpp", ".h", ".csv", ".mplstyle") and "__pycache__" not in path.parts:
            h.update(str(path.relative_to(PACKAGE_DIR)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def run_key(experiment, seeds, stream) -> str:
    """SHA-256 of everything that determines a training run: the experiment's training fields (model,
    data, regularizers, fixed weights, validation interval; not its name, title, variants or plots),
    its schedule file's contents, the seeds, the random stream, and the training modules' sources."""
    training = (
        experiment.model,
        experiment.data,
        experiment.regularizers,
        experiment.fixed_weights,
        experiment.unused_columns,
        experiment.val_every,
    )
    parts = [
        repr(training),
        schedule_text(experiment.schedule),
        repr(list(seeds)),
        f"{type(stream).__module__}.{type(stream).__qualname__}{sorted(vars(stream).items())!r}",
        source_digest(),
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a uniquely named temp file beside it, then rename: readers see
    the old file or the new one, never half of one, and concurrent writers do not collide."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a written file gets the user's umask like any other
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save(path: Path, obj, key: str) -> None:
    """Store obj under `key`: a header with the payload's SHA-256, then the payload (key and object)."""
    buf = io.BytesIO()
    torch.save({"key": key, "value": obj}, buf)
    payload = buf.getvalue()
    atomic_write(path, MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload)


def load(path: Path, key: str | None = None):
    """Read an entry written by `save`; raise CorruptCacheEntry if it is truncated, altered, or (with
    `key`) was stored under another key."""
    data = path.read_bytes()
    header, sep, payload = data.partition(b"\n")
    if not header.startswith(MAGIC) or not sep:
        raise CorruptCacheEntry("missing header")
    if hashlib.sha256(payload).hexdigest().encode() != header[len(MAGIC) :]:
        raise CorruptCacheEntry("checksum mismatch (truncated or altered)")
    try:
        entry = torch.load(io.BytesIO(payload), weights_only=False)
    except Exception as e:  # a payload that passes the checksum but does not unpickle (e.g. renamed classes)
        raise CorruptCacheEntry(f"cannot unpickle: {e}") from e
    if not isinstance(entry, dict) or "key" not in entry:
        raise CorruptCacheEntry("no key recorded")
    if key is not None and entry["key"] != key:
        raise CorruptCacheEntry(f"it was stored under key {entry['key'][:12]}…, not {key[:12]}…")
    return entry["value"]


def check_writable(folder: Path) -> bool:
    """Whether results can be stored in `folder`; warns (naming it) when not, before any long work."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
        return True
    except OSError as e:
        warnings.warn(
            f"cache folder {folder} is not writable ({e}); results will be computed but not cached",
            CacheWarning,
            stacklevel=3,
        )
        return False


HELD_LOCKS: set[int] = set()  # this process's lock descriptors: a forked worker closes its copies (`workers`)


@contextmanager
def computing(path: Path):
    """Hold an exclusive lock for `path` while its entry is computed (a `.<name>.lock` file beside it, released
    when its holder exits, even by a crash). Where no lock file can be made (an unwritable folder: nothing is
    shared), there is no lock."""
    try:
        fd = os.open(path.with_name(f".{path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o644) if fcntl else None
    except OSError:
        fd = None
    try:
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
            HELD_LOCKS.add(fd)
        yield
    finally:
        if fd is not None:
            HELD_LOCKS.discard(fd)
            os.close(fd)


def _stored(path: Path, key: str, warn: bool):
    """(True, value) if `path` holds a sound entry for `key`; else (False, None), warning if it is unusable."""
    if path.exists():
        try:
            return True, load(path, key)
        except (CorruptCacheEntry, OSError) as e:
            if warn:
                warnings.warn(f"cache entry {path} is unusable ({e}); recomputing it", CacheWarning, stacklevel=3)
    return False, None


def cached(path: Path, key: str, compute: Callable[[], T]) -> T:
    """Load `path` if it holds a sound entry for `key`; otherwise compute (once, whoever else is asking), try
    to store, and return."""
    found, value = _stored(path, key, warn=True)
    if found:
        return value
    writable = check_writable(path.parent)
    with computing(path):
        found, value = _stored(path, key, warn=False)  # computed by another process while this one waited
        if found:
            return value
        result = compute()
        if writable:
            try:
                if path.is_dir():
                    raise IsADirectoryError(f"{path} is a directory")
                save(path, result, key)
            except OSError as e:
                warnings.warn(
                    f"could not store the result in cache entry {path} ({e}); it is returned uncached",
                    CacheWarning,
                    stacklevel=2,
                )
    return result
