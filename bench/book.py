"""`make bench`, parts 7 and 8: the whole book rendered by Quarto, from a cold and a warm cache, and every figure
function.

Part 7 renders the book with `tools/book.sh` (as `make report` does: Quarto, HTML and PDF) into this checkout's
_book/, each time against the same new, empty cache folder:
  cold:   every page executed, nothing cached: all training, evaluation, figures, HTML and PDF;
  warm:   every page executed again (its frozen results thrown away), runs and figures loaded from the cache;
  frozen: nothing executed (`freeze: auto`, the pages and the package unchanged): the pre-render step, pandoc and LaTeX;
  frozen HTML and frozen PDF alone, and warm with every figure drawn (the cached figures removed), for where the
  time goes: cold - warm is training and evaluation, warm - frozen the kernels and the cells, and HTML against PDF
  pandoc against LaTeX. A kernel's start with the package imported is timed on its own, once per page.
Part 8 times each function of `sca.figures` on the cached results: building the figure, and writing its
PNG and PDF (as the book does), the best of three.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from timing import timed

ROOT = Path(__file__).resolve().parents[1]
TARGET_COLD_S, TARGET_FROZEN_S, TARGET_STACKED_S = 360.0, 60.0, 0.5


def render(cache: str, fresh: bool, *flags: str, figures_drawn: bool = False) -> float:
    """Wall seconds of one `tools/book.sh` run against the cache folder `cache`: `fresh` throws the frozen pages away
    first; with `figures_drawn`, the cache's figures are removed first, so that every figure is drawn again."""
    if figures_drawn:
        shutil.rmtree(Path(cache) / "figures", ignore_errors=True)
    if fresh:
        shutil.rmtree(ROOT / "_freeze", ignore_errors=True)
    start = time.perf_counter()
    done = subprocess.run(
        ["bash", "tools/book.sh", *flags],
        cwd=ROOT,
        env={**os.environ, "SCA_CACHE_DIR": cache},
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"tools/book.sh failed:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def kernel_start() -> float:
    """Wall seconds to start a Jupyter kernel and import the package in it, as every page of the book does."""
    from jupyter_client.manager import start_new_kernel

    start = time.perf_counter()
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        client.execute_interactive("from sca import report, sections", timeout=120)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return time.perf_counter() - start


def book_section(results: dict, cache: str) -> None:
    pages = len(list((ROOT / "chapters").glob("*.qmd"))) + 1
    print(f"\n7. the whole book under Quarto ({pages} pages, HTML and PDF)")
    runs = (
        ("cold", True, TARGET_COLD_S, (), False),
        ("warm", True, None, (), False),
        ("frozen", False, TARGET_FROZEN_S, (), False),
        ("frozen, HTML only", False, None, ("--to", "html"), False),
        ("frozen, PDF only", False, None, ("--to", "pdf"), False),
        ("warm, figures drawn", True, None, (), True),
    )
    for name, fresh, target, flags, drawn in runs:
        seconds = render(cache, fresh, *flags, figures_drawn=drawn)
        results[f"book {name} s"] = seconds
        print(f"   {name:<24} {seconds:6.1f} s" + (f"   (target < {target:g} s)" if target else ""))
    render(cache, False)  # leave _book/ with both formats (the PDF-only run left the PDF alone)
    kernel = min(kernel_start() for _ in range(3))
    results["book kernel start and import s"] = kernel
    print(f"   where the time goes: training and evaluation {results['book cold s'] - results['book warm s']:.0f} s, ")
    print(
        f"   executing the pages {results['book warm s'] - results['book frozen s']:.0f} s (of it {pages} kernel "
        f"starts with the package imported, {pages * kernel:.0f} s CPU, {kernel:.1f} s each),"
    )
    print(
        f"   then HTML {results['book frozen, HTML only s']:.0f} s and PDF {results['book frozen, PDF only s']:.0f} s "
        "(each with Quarto's start and the pre-render step)"
    )
    ratio = results["book warm, figures drawn s"] / results["book warm s"]
    results["book warm: figures drawn over cached figures"] = ratio
    print(f"   warm, cached figures: {ratio:.2f}x faster than figures drawn")


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
