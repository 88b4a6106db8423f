"""Named-colour error tables, defined once as a pandas Styler and written from that one object as HTML (the book's
pages) and as LaTeX (the PDF, and a file for papers): a swatch cell in each colour, the baseline MSE, and every
variant's MSE and Δ, the Δ heat-shaded. Also the booktabs LaTeX of any data frame, escaped by pandas itself."""

from __future__ import annotations

import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler

from .colors import hex_code
from .evaluate import named_color_table
from .sweep import VariantResult

PREAMBLE = r"""% Preamble for sca's tables: \input{sca-table-preamble} in your document's preamble.
\usepackage{booktabs}
\usepackage{longtable}
\usepackage{tabularx}
\usepackage{array}
\usepackage{pdflscape}
\usepackage{xcolor}
\usepackage{colortbl}
\usepackage{iftex}
\ifPDFTeX  % pdflatex reads UTF-8 but has no glyph of its own for these
  \usepackage[utf8]{inputenc}
  \DeclareUnicodeCharacter{0394}{\ensuremath{\Delta}}
  \DeclareUnicodeCharacter{00B2}{\textsuperscript{2}}
  \DeclareUnicodeCharacter{2013}{--}
\fi
"""
PREAMBLE_NAME = "sca-table-preamble.tex"


def error_table(variants: dict[str, VariantResult]) -> pd.DataFrame:
    """Per named colour: baseline MSE, then each variant's MSE and `<variant>-delta`."""
    return named_color_table({name: v.named.to_numpy() for name, v in variants.items()})


def styled_table(variants: dict[str, VariantResult], caption: str | None = None, paired: bool = False) -> Styler:
    """The named-colour table: colour, a swatch cell filled with it, baseline, each variant's MSE and Δ, Δ heat-shaded.
    `to_html()` gives the web page's table and `latex(styler)` the PDF's, from this one definition. `paired` heads
    each variant's MSE and Δ with its name once, over both (for a LaTeX table as narrow as an article's line)."""
    frame = error_table(variants)
    df = frame.drop(columns=["hsv", "rgb"]).rename(columns={"name": "colour"})
    df.insert(1, "swatch", "")
    deltas = [c for c in df.columns if c.endswith("-delta")]
    df = df.rename(columns={c: c.removesuffix("-delta") + " Δ" for c in deltas})
    deltas = [c.removesuffix("-delta") + " Δ" for c in deltas]
    values = [c for c in df.columns if c not in ("colour", "swatch", *deltas)]
    top = max(0.3, float(df[deltas].to_numpy().max())) if deltas else 0.3
    fills = [f"background-color: #{hex_code(rgb)}" for rgb in frame["rgb"]]
    swatch: str | tuple[str, str] = "swatch"
    if paired:
        heads = {"colour": ("", "colour"), "swatch": ("", "")} | {c: (c, "MSE") for c in values}
        heads |= {c: (c.removesuffix(" Δ"), "Δ") for c in deltas}
        df.columns = pd.MultiIndex.from_tuples([heads[c] for c in df.columns])
        values, deltas, swatch = [heads[c] for c in values], [heads[c] for c in deltas], heads["swatch"]
    styler = (
        df.style.hide(axis="index")
        .apply(lambda _: fills, subset=[swatch])
        .format("{:.3f}", subset=values)
        .format("{:+.3f}", subset=deltas)
        # black or white text, whichever stands out more from the shade (at 0.179 the two are equal; pandas' own
        # 0.408 left mid-red cells with black text at 3:1, under WCAG's 4.5)
        .background_gradient(cmap="Reds", subset=deltas, vmin=0, vmax=top, text_color_threshold=0.179)
    )
    return styler.set_caption(caption) if caption else styler


def latex(styler: Styler, **kwargs) -> str:
    """A Styler as booktabs LaTeX, its cell colours as colortbl's \\cellcolor (pandas converts the CSS)."""
    return styler.to_latex(hrules=True, convert_css=True, **kwargs)


def latex_table(variants: dict[str, VariantResult], path: str | Path, caption: str, label: str) -> Path:
    """Write the named-colour table as a LaTeX table with its caption and label (and the preamble file it needs,
    beside it)."""
    if not label or not caption:
        raise ValueError("latex_table: a caption and a label are required")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / PREAMBLE_NAME).write_text(PREAMBLE)
    tex = latex(
        styled_table(variants, paired=True),
        environment="table",
        caption=caption,
        label=label,
        position_float="centering",
        multicol_align="c",
    )
    # a sweep's four variants make eleven columns: in footnote-size type, closer set, they fit an article's line
    path.write_text(tex.replace("\\centering\n", "\\centering\n\\footnotesize\\setlength{\\tabcolsep}{3pt}\n", 1))
    return path


def frame_latex(df: pd.DataFrame, path: str | Path, caption: str, label: str, formats: dict[str, str]) -> Path:
    """Write a data frame as a booktabs longtable (pandas Styler, with its own LaTeX escaping), and the
    preamble file beside it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / PREAMBLE_NAME).write_text(PREAMBLE)
    path.write_text(
        latex_styler(df, formats)
        .hide(axis="index")
        .to_latex(hrules=True, environment="longtable", caption=caption, label=label)
    )
    return path


PROSE = 30  # a text column with a cell longer than this wraps in LaTeX (a tabularx X column)
WRAPPED = r">{\raggedright\arraybackslash}X"


def column_format(df: pd.DataFrame, wide: tuple[str, ...] = (), index: bool = False) -> str:
    """LaTeX column types for df: numbers right-aligned, short text left-aligned, prose (the `wide` columns and any text
    column with a cell longer than PROSE characters) wrapped to share the line's width."""

    def kind(col) -> str:
        values = df[col]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            return "r"
        return WRAPPED if col in wide or values.astype(str).str.len().max() > PROSE else "l"

    return "l" * (df.index.nlevels if index else 0) + "".join(kind(c) for c in df.columns)


def tabular(styler: Styler, spec: str, **kwargs) -> str:
    """A Styler as booktabs LaTeX with column types `spec`: a tabularx as wide as the line when some column wraps."""
    tex = styler.to_latex(hrules=True, column_format=spec, **kwargs)
    if "X" not in spec:
        return tex
    return tex.replace(r"\begin{tabular}", r"\begin{tabularx}{\linewidth}", 1).replace(
        r"\end{tabular}", r"\end{tabularx}", 1
    )


TABULAR = re.compile(
    r"\\begin\{(?P<env>tabularx\}\{\\linewidth|tabular)\}\{(?P<spec>.*?)\}\n\\toprule\n(?P<head>.*?)\\midrule\n"
    r"(?P<body>.*?)\\bottomrule\n\\end\{tabularx?\}",
    re.S,
)
LANDSCAPE_COLUMNS = 10  # a table of this many columns is set on landscape pages (fewer fit the portrait line)
NARROW_COLUMN = 0.09  # the share of the line a column that does not wrap is allowed for, when the wrapped ones share it


def long_table(latex: str) -> str:
    """A booktabs tabular (or tabularx) as the book's PDF sets it: a longtable, which breaks across pages with its
    header repeated, in footnote-size type; its wrapped (X) columns share what the others leave of the line; a table
    of LANDSCAPE_COLUMNS or more on landscape pages. Quarto puts a table cell's caption into a longtable itself."""
    m = TABULAR.search(latex)
    if m is None:  # not a table pandas wrote
        return latex
    kinds = re.findall(r"[lrcX]", re.sub(r"\{[^{}]*\}", "", m["spec"]))
    wrapped = kinds.count("X")
    if wrapped:
        share = max(0.3, 0.95 - NARROW_COLUMN * (len(kinds) - wrapped)) / wrapped
        spec = m["spec"].replace("X", f"p{{{share:.3f}\\linewidth}}")
    else:
        spec = m["spec"]
    head = f"\\toprule\n{m['head']}\\midrule\n"
    out = (
        f"{{\\footnotesize\\setlength{{\\tabcolsep}}{{4pt}}\n\\begin{{longtable}}{{{spec}}}\n"
        + head
        + "\\endfirsthead\n"
        + head
        + "\\endhead\n"
        + "\\bottomrule\n\\endlastfoot\n"
        + m["body"]
        + "\\end{longtable}\n}"
    )
    return f"\\begin{{landscape}}\n{out}\n\\end{{landscape}}" if len(kinds) >= LANDSCAPE_COLUMNS else out


HEADER_LINE = 10  # characters per line of a LaTeX column header; longer headers wrap, so they do not widen the column


def _stacked(header: str) -> str:
    """An (already escaped) header over as many lines as it needs."""
    lines = textwrap.wrap(header, HEADER_LINE, break_long_words=False, break_on_hyphens=False)
    return header if len(lines) < 2 else r"\shortstack{" + r" \\ ".join(lines) + "}"


def latex_styler(df: pd.DataFrame, formats: dict[str, str]) -> Styler:
    """A Styler whose cells and headers are escaped for LaTeX by pandas itself, long headers wrapped."""
    return df.style.format(formats, na_rep="–", escape="latex").format_index(_stacked, escape="latex", axis=1)


def standalone(table: Path) -> str:
    """A minimal document around a table written by `latex_table`."""
    return "\n".join(
        [
            r"\documentclass{article}",
            rf"\input{{{PREAMBLE_NAME}}}",
            r"\begin{document}",
            rf"\input{{{table.name}}}",
            r"\end{document}",
            "",
        ]
    )


def compile_table(table: Path, engine: str = "xelatex") -> Path:
    """Compile the table in a standalone document to `<table>.pdf` beside it, TeX's log to `<table>.log`; raises if
    TeX fails."""
    if shutil.which(engine) is None:
        raise FileNotFoundError(f"{engine} is not installed (the Makefile's `tex` target installs it)")
    doc = table.with_name(f"{table.stem}-standalone.tex")
    doc.write_text(standalone(table))
    done = subprocess.run(
        [engine, "-interaction=nonstopmode", "-halt-on-error", doc.name],
        cwd=table.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{engine} failed on {doc}:\n{done.stdout[-2000:]}")
    pdf = table.with_suffix(".pdf")
    doc.with_suffix(".pdf").replace(pdf)
    doc.with_suffix(".log").replace(table.with_suffix(".log"))
    for suffix in (".aux", ".tex"):
        doc.with_suffix(suffix).unlink(missing_ok=True)
    return pdf


def parse_latex_numbers(tex: str) -> np.ndarray:
    """The numbers of a table written by `latex_table`, row by row: each cell's last number (after its colour
    commands), from the third column on (for checking it)."""
    body = tex.split(r"\midrule")[1].split(r"\bottomrule")[0]
    rows = [line.strip().removesuffix(r"\\").split("&") for line in body.strip().splitlines()]
    return np.array([[float(re.findall(r"[-+]?\d*\.\d+", c)[-1]) for c in row[2:]] for row in rows])
