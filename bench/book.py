"""`make bench`, parts 7 and 8: the whole book from a cold and a warm cache, and every figure function.

Part 7 renders the book five times with `tools/render.py`, into this checkout's _book/ (as `make report`
does), each time against the same new, empty cache folder:
  cold:   every chapter executed, nothing cached: all training, evaluation, figures, HTML and PDF;
  warm:   every chapter executed again, training, evaluation and figures loaded from the cache;
  frozen: nothing executed (the chapters' frozen notebooks are current), HTML and PDF only;
  and warm again with every figure drawn (the cached figures removed) and with a new kernel for every page
  (`--kernel-per-page`, as Quarto does), for the effect of the figure cache and of one kernel per lane.
Part 8 times each function of `sca.figures` on the cached results: building the figure, and writing its
PNG and PDF (as the book does), the best of three.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import timed

ROOT = Path(__file__).resolve().parents[1]
TARGET_COLD_S, TARGET_WARM_S, TARGET_STACKED_S = 180.0, 40.0, 0.5


def render(cache: str, fresh: bool, *flags: str, figures_drawn: bool = False) -> float:
    """Wall seconds of one `tools/render.py` run against the cache folder `cache` (with `figures_drawn`, its cached
    figures removed first, so that every figure is drawn again)."""
    if figures_drawn:
        shutil.rmtree(Path(cache) / "figures", ignore_errors=True)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "tools/render.py", *(["--fresh"] if fresh else []), *flags],
        cwd=ROOT,
        env={**os.environ, "SCA_CACHE_DIR": cache},
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"tools/render.py failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def book_section(results: dict, cache: str) -> None:
    print(f"\n7. the whole book ({len(list((ROOT / 'chapters').glob('*.qmd'))) + 1} pages, HTML and PDF)")
    runs = (
        ("cold", True, TARGET_COLD_S, (), False),
        ("warm", True, TARGET_WARM_S, (), False),
        ("frozen", False, None, (), False),
        ("warm, figures drawn", True, None, (), True),
        ("warm, kernel per page", True, None, ("--kernel-per-page",), False),
    )
    for name, fresh, target, flags, drawn in runs:
        seconds = render(cache, fresh, *flags, figures_drawn=drawn)
        results[f"book {name} s"] = seconds
        print(f"   {name:<24} {seconds:6.1f} s" + (f"   (target < {target:g} s)" if target else ""))
    for lever, other in (("cached figures", "figures drawn"), ("one kernel per lane", "kernel per page")):
        ratio = results[f"book warm, {other} s"] / results["book warm s"]
        results[f"book warm: {other} over {lever}"] = ratio
        print(f"   warm, {lever}: {ratio:.2f}x faster than {other}")


def figure_cases():
    """(name, function building the figure) for every figure function, on cached 2.4.1 and 2.4 runs."""
    from sca import analysis, beyond, figures, report
    from sca.schedule import load_schedule

    sweep, single = report.load("2.4.1"), report.load("2.4")
    v = sweep.variants["suppression"]
    dims = sweep.experiment.latent_dims
    return [
        (
            "stacked_figure",
            lambda: figures.stacked_figure(v, dims, figures.shared_ymax(sweep.variants.values()), (1, 0, 0, 0)),
        ),
        ("latent_figure", lambda: figures.latent_figure(v, dims, (1, 0, 0, 0))),
        ("color_slices", lambda: figures.color_slices(*sweep.variants.values())),
        ("error_curves", lambda: figures.error_curves(single.variants["suppression"])),
        ("error_vs_predictor", lambda: figures.error_vs_predictor(v)),
        ("schedule_figure", lambda: figures.schedule_figure(load_schedule(sweep.experiment.schedule))),
        ("training_curves", lambda: figures.training_curves(sweep.train, sweep.selected_seed)),
        ("seed_distributions", lambda: figures.seed_distributions(sweep)),
        (
            "study_boxes",
            lambda: figures.study_boxes(
                beyond.study("labels"),
                beyond.STUDY_GROUP["labels"],
                {d: analysis.published_mean_score(d) for d in ("2.4.1", "2.9.1")},
            ),
        ),
    ]


def figure_section(results: dict, cache: str) -> None:
    print("\n8. figure functions on cached results: build, then build and write PNG + PDF (best of 3)")
    os.environ["SCA_CACHE_DIR"] = cache
    with tempfile.TemporaryDirectory() as out:
        os.environ["SCA_FIGURES_DIR"] = out
        from sca import figures

        for name, build in figure_cases():
            built, _ = timed(build, repeats=3)
            saved, _ = timed(
                lambda: figures.write_files(build(), Path(out), name), repeats=3
            )  # drawn: not the figure cache
            results[f"figure {name} build s"], results[f"figure {name} build+write s"] = built, saved
            note = f"   (target < {TARGET_STACKED_S:g} s)" if name == "stacked_figure" else ""
            print(f"   {name:<20} {built:5.2f} s   {saved:5.2f} s{note}")
