"""Keyframed schedules: the original's "dopesheet" CSV, read and resolved into one value per step.

A schedule file has a STEP column, optional PHASE and ACTION columns (kept for format compatibility,
otherwise unused), and one column per property (`lr`, or a regularizer's name). Headers may carry
`name:space:interpolator` (space `linear` or `log`; interpolator `minjerk`, `linear` or `step`).

STEP cells are absolute integers, `+N` / `-N` (after the previous / before the next absolute row), or
`+F` / `-F` with 0 < F < 1 (that fraction between the two surrounding absolute rows, rounded half to even).
Each property moves between its keyed values on its own; before its first key it holds the first keyed
value, after its last key it holds the last.
"""

from __future__ import annotations

import csv
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RESERVED = ("STEP", "PHASE", "ACTION")
INTERPOLATORS = ("minjerk", "linear", "step")
SPACES = ("linear", "log")


class ScheduleError(ValueError):
    """A schedule file that cannot be read; the message names the file, row and column."""


def minimum_jerk(tau: np.ndarray) -> np.ndarray:
    """The rest-to-rest minimum-jerk profile 10τ³ - 15τ⁴ + 6τ⁵ on τ in [0, 1]."""
    tau = np.clip(tau, 0.0, 1.0)
    return tau**3 * (10 - 15 * tau + 6 * tau**2)


_EASE = {"minjerk": minimum_jerk, "linear": lambda tau: np.clip(tau, 0.0, 1.0), "step": lambda tau: (tau >= 1.0) * 1.0}


@dataclass(frozen=True)
class Track:
    """One property's keyframes: resolved steps (ascending) and values."""

    name: str
    steps: tuple[int, ...]
    values: tuple[float, ...]
    space: str = "linear"
    interpolator: str = "minjerk"

    def at(self, steps: np.ndarray) -> np.ndarray:
        """Value at each step (a pure function of the step)."""
        t = np.asarray(steps, dtype=np.float64)
        ks = np.asarray(self.steps, dtype=np.float64)
        vs = np.asarray(self.values, dtype=np.float64)
        if self.space == "log":
            vs = np.log(np.maximum(vs, 1e-10))
        out = np.full(t.shape, vs[0])
        ease = _EASE[self.interpolator]
        for (t0, t1), (v0, v1) in zip(zip(ks[:-1], ks[1:]), zip(vs[:-1], vs[1:])):
            inside = t >= t0
            out = np.where(inside, v0 + (v1 - v0) * ease((t - t0) / (t1 - t0)), out)
        return np.exp(out) if self.space == "log" else out


@dataclass(frozen=True)
class Schedule:
    """All tracks of a schedule file. `length` is the last keyed step + 1: the number of training steps."""

    source: str
    length: int
    tracks: dict[str, Track]
    rows: tuple[tuple[int, dict[str, float]], ...]  # resolved keyframe rows, for tables and plots

    def __contains__(self, name: str) -> bool:
        return name in self.tracks

    def values(self, name: str, steps: np.ndarray | None = None) -> np.ndarray:
        """The track's value at each step (all steps 0..length-1 by default)."""
        if name not in self.tracks:
            raise KeyError(f"{self.source}: no column {name!r}; columns are {sorted(self.tracks)}")
        return self.tracks[name].at(np.arange(self.length) if steps is None else steps)


def resolve_steps(cells: list[str], source: str = "<schedule>") -> list[int]:
    """Resolve STEP cells to integers (see module docstring). Raises ScheduleError naming the row."""
    anchors = [int(c) if re.fullmatch(r"\d+", c.strip()) else None for c in cells]
    resolved: list[int] = []
    for row, cell in enumerate(cells):
        cell = cell.strip()
        where = f"{source}, row {row + 2}, column STEP"  # +2: 1-based and the header line
        anchor = anchors[row]
        if anchor is not None:
            resolved.append(anchor)
            continue
        prev = next((anchors[i] for i in range(row - 1, -1, -1) if anchors[i] is not None), None)
        nxt = next((anchors[i] for i in range(row + 1, len(cells)) if anchors[i] is not None), None)
        m = re.fullmatch(r"([+-])(?:([1-9]\d*)|(\d*\.\d+))", cell)
        if not m:
            raise ScheduleError(f"{where}: cannot read step {cell!r} (expected N, +N, -N, +F or -F with 0<F<1)")
        sign, whole, frac = m.groups()
        if whole is not None:
            base = prev if sign == "+" else nxt
            if base is None:
                raise ScheduleError(
                    f"{where}: relative step {cell!r} has no absolute row {'above' if sign == '+' else 'below'} it"
                )
            value = base + int(whole) if sign == "+" else base - int(whole)
        else:
            f = float(frac)
            if not 0 < f < 1:
                raise ScheduleError(f"{where}: fraction in {cell!r} must lie strictly between 0 and 1")
            if prev is None or nxt is None:
                raise ScheduleError(f"{where}: fractional step {cell!r} needs absolute rows above and below it")
            value = round(prev + f * (nxt - prev)) if sign == "+" else round(nxt - f * (nxt - prev))
        if value < 0:
            raise ScheduleError(f"{where}: step {cell!r} resolves to {value}, before step 0")
        resolved.append(value)
    return resolved


def _parse_header(name: str, source: str) -> tuple[str, str, str]:
    parts = name.strip().split(":")
    if len(parts) > 3 or not parts[0]:
        raise ScheduleError(f"{source}: cannot read column header {name!r} (expected name[:space[:interpolator]])")
    prop, space, interp = (parts + ["", ""])[:3]
    space, interp = space or "linear", interp or "minjerk"
    interp = "step" if interp == "step-end" else interp
    if space not in SPACES:
        raise ScheduleError(f"{source}: column {name!r}: unknown space {space!r}; known: {', '.join(SPACES)}")
    if interp not in INTERPOLATORS:
        raise ScheduleError(
            f"{source}: column {name!r}: unknown interpolator {interp!r}; known: {', '.join(INTERPOLATORS)}"
        )
    return prop, space, interp


def parse_schedule(text: str, source: str = "<schedule>") -> Schedule:
    """Read schedule CSV text. Every problem raises ScheduleError naming `source`, row and column. A byte-order
    mark (as some spreadsheets write) is ignored."""
    lines = list(csv.reader(text.lstrip("\ufeff").strip().splitlines()))
    if not lines:
        raise ScheduleError(f"{source}: empty file")
    header = [h.strip() for h in lines[0]]
    if "STEP" not in header:
        raise ScheduleError(f"{source}: no STEP column in header {header}")
    body = lines[1:]
    for i, row in enumerate(body):
        if len(row) != len(header):
            raise ScheduleError(f"{source}, row {i + 2}: {len(row)} cells but the header has {len(header)}")
    if not body:
        raise ScheduleError(f"{source}: no keyframe rows")
    steps = resolve_steps([row[header.index("STEP")] for row in body], source)
    for i in range(1, len(steps)):
        if steps[i] <= steps[i - 1]:
            raise ScheduleError(
                f"{source}, row {i + 2}, column STEP: step {body[i][header.index('STEP')]!r} resolves to "
                f"{steps[i]}, not after the previous row's {steps[i - 1]}"
            )
    order = range(len(body))

    tracks: dict[str, Track] = {}
    rows: dict[int, dict[str, float]] = {steps[i]: {} for i in order}
    for col, name in enumerate(header):
        if name in RESERVED:
            continue
        prop, space, interp = _parse_header(name, source)
        if prop in tracks:
            raise ScheduleError(f"{source}: column {prop!r} appears twice")
        keys = []
        for i in order:
            cell = body[i][col].strip()
            if cell == "":
                continue
            try:
                value = float(cell)
            except ValueError:
                raise ScheduleError(f"{source}, row {i + 2}, column {prop}: {cell!r} is not a number") from None
            if not math.isfinite(value):
                raise ScheduleError(f"{source}, row {i + 2}, column {prop}: {cell!r} is not finite")
            if value < 0:
                raise ScheduleError(
                    f"{source}, row {i + 2}, column {prop}: {cell!r} is negative "
                    "(learning rates and regularizer weights must be >= 0)"
                )
            keys.append((steps[i], value))
            rows[steps[i]][prop] = value
        if keys:
            tracks[prop] = Track(prop, tuple(k for k, _ in keys), tuple(v for _, v in keys), space, interp)
    return Schedule(source, max(steps) + 1, tracks, tuple(sorted(rows.items())))


SCHEDULE_DIR = Path(__file__).parent / "schedules"


def package_schedules() -> list[str]:
    return sorted(p.name for p in SCHEDULE_DIR.glob("*.csv"))


def schedule_path(name: str | Path) -> Path:
    """Where a schedule lives. A bare file name (`2.4.1.csv`) is one of the package's schedules and is
    never looked up anywhere else; a schedule of your own is an explicit path (`./mine.csv`, a Path)."""
    if isinstance(name, Path) or "/" in name or (os.sep in name):
        path = Path(name)
        if not path.is_file():
            raise FileNotFoundError(f"schedule file {path} not found")
        return path
    path = SCHEDULE_DIR / name
    if not path.is_file():
        raise FileNotFoundError(
            f"no package schedule named {name!r} (the package has {', '.join(package_schedules())}); "
            f"a schedule file of your own needs an explicit path, e.g. ./{name}"
        )
    return path


def is_inline(name: str | Path) -> bool:
    """Whether `name` is a schedule's CSV text itself (it has a line break) rather than a name or a path."""
    return isinstance(name, str) and "\n" in name


def schedule_text(name: str | Path) -> str:
    """A schedule's CSV text: inline, a package schedule by name, or a file by explicit path."""
    return name if isinstance(name, str) and is_inline(name) else schedule_path(name).read_text()


def load_schedule(name: str | Path) -> Schedule:
    """Load a package schedule by name, a schedule file by explicit path (see `schedule_path`), or CSV text given
    inline (a config built in memory, such as a study's constant weights)."""
    return parse_schedule(schedule_text(name), "<inline schedule>" if is_inline(name) else str(schedule_path(name)))
