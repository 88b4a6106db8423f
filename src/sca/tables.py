"""Named-colour error tables: a heat-shaded pandas Styler for the book, and a LaTeX table for papers
(booktabs + siunitx, a colour swatch per row, the baseline as absolute MSE and every variant as Δ)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler

from .colors import hex_code
from .evaluate import named_color_table
from .sweep import VariantResult

PREAMBLE = r"""% Preamble for sca's colour tables: \input{sca-table-preamble} in your document's preamble.
\usepackage{booktabs}
\usepackage{longtable}
\usepackage{siunitx}
\usepackage{xcolor}
% \swatch{RRGGBB}: a small square in that colour, with a thin grey outline.
\newcommand{\swatch}[1]{\fcolorbox[HTML]{888888}{#1}{\rule{0pt}{0.55em}\rule{0.55em}{0pt}}}
"""
PREAMBLE_NAME = "sca-table-preamble.tex"


def error_table(variants: dict[str, VariantResult]) -> pd.DataFrame:
    """Per named colour: baseline MSE, then each variant's MSE and `<variant>-delta`."""
    return named_color_table({name: v.named.to_numpy() for name, v in variants.items()})


def _swatch_html(rgb) -> str:
    return (f'<span style="display:inline-block;width:1em;height:1em;background:#{hex_code(rgb)};'
            f'border:1px solid #8888;vertical-align:middle"></span>')


def styled_table(variants: dict[str, VariantResult], caption: str | None = None) -> Styler:
    """The named-colour table for HTML: swatch, baseline, each variant's MSE and Δ, Δ heat-shaded."""
    df = error_table(variants).drop(columns="hsv").rename(columns={"name": "colour", "rgb": "swatch"})
    deltas = [c for c in df.columns if c.endswith("-delta")]
    df = df.rename(columns={c: c.removesuffix("-delta") + " Δ" for c in deltas})
    deltas = [c.removesuffix("-delta") + " Δ" for c in deltas]
    values = [c for c in df.columns if c not in ("colour", "swatch", *deltas)]
    top = max(0.3, float(df[deltas].to_numpy().max())) if deltas else 0.3
    styler = (df.style.hide(axis="index")
              .format(_swatch_html, subset=["swatch"])
              .format("{:.3f}", subset=values)
              .format("{:+.3f}", subset=deltas)
              .background_gradient(cmap="Reds", subset=deltas, vmin=0, vmax=top))
    return styler.set_caption(caption) if caption else styler


def latex_table(variants: dict[str, VariantResult], path: str | Path, caption: str, label: str) -> Path:
    """Write a LaTeX table (and the preamble file it needs, beside it). Numbers are written in full;
    siunitx rounds them to three places."""
    if not label or not caption:
        raise ValueError("latex_table: a caption and a label are required")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / PREAMBLE_NAME).write_text(PREAMBLE)
    df = error_table(variants)
    others = [name for name in variants if name != "baseline"]
    spec = "l c S[table-format=1.3] " + " ".join("S[table-format=-1.3]" for _ in others)
    header = " & ".join(["Colour", "", "{Baseline}"] + [f"{{{name.title()} $\\Delta$}}" for name in others])
    rows = []
    for _, row in df.iterrows():
        cells = [row["name"].capitalize(), f"\\swatch{{{hex_code(row['rgb'])}}}", f"{row['baseline']:.9f}"]
        cells += [f"{row[f'{name}-delta']:.9f}" for name in others]
        rows.append("    " + " & ".join(cells) + r" \\")
    tex = "\n".join([
        r"\begin{table}",
        r"  \centering",
        f"  \\caption{{{caption}}}",
        f"  \\label{{{label}}}",
        r"  \sisetup{round-mode = places, round-precision = 3}",
        f"  \\begin{{tabular}}{{{spec}}}",
        r"    \toprule",
        f"    {header} \\\\",
        r"    \midrule",
        *rows,
        r"    \bottomrule",
        r"  \end{tabular}",
        r"\end{table}",
        "",
    ])
    path.write_text(tex)
    return path


def frame_latex(df: pd.DataFrame, path: str | Path, caption: str, label: str, formats: dict[str, str]) -> Path:
    """Write a data frame as a booktabs longtable (pandas Styler, with its own LaTeX escaping), and the
    preamble file beside it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / PREAMBLE_NAME).write_text(PREAMBLE)
    path.write_text(latex_styler(df, formats).hide(axis="index")
                    .to_latex(hrules=True, environment="longtable", caption=caption, label=label))
    return path


def latex_styler(df: pd.DataFrame, formats: dict[str, str]) -> Styler:
    """A Styler whose cells and headers are escaped for LaTeX by pandas itself."""
    return df.style.format(formats, na_rep="–", escape="latex").format_index(escape="latex", axis=1)


def standalone(table: Path) -> str:
    """A minimal document around a table written by `latex_table`."""
    return "\n".join([r"\documentclass{article}", rf"\input{{{PREAMBLE_NAME}}}", r"\begin{document}",
                      rf"\input{{{table.name}}}", r"\end{document}", ""])


def compile_table(table: Path, engine: str = "xelatex") -> Path:
    """Compile the table in a standalone document to `<table>.pdf` beside it; raises if TeX fails."""
    if shutil.which(engine) is None:
        raise FileNotFoundError(f"{engine} is not installed (the Makefile's `tex` target installs it)")
    doc = table.with_name(f"{table.stem}-standalone.tex")
    doc.write_text(standalone(table))
    done = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", doc.name],
                          cwd=table.parent, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"{engine} failed on {doc}:\n{done.stdout[-2000:]}")
    pdf = table.with_suffix(".pdf")
    doc.with_suffix(".pdf").replace(pdf)
    for suffix in (".aux", ".log", ".tex"):
        doc.with_suffix(suffix).unlink(missing_ok=True)
    return pdf


def parse_latex_numbers(tex: str) -> np.ndarray:
    """The numeric cells of a table written by `latex_table`, row by row (for checking it)."""
    body = tex.split(r"\midrule")[1].split(r"\bottomrule")[0]
    rows = [line.strip().removesuffix(r"\\").split("&") for line in body.strip().splitlines()]
    return np.array([[float(c) for c in row[2:]] for row in rows])
