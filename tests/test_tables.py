import os
import re
import shutil

import numpy as np
import pandas as pd
import pytest

from sca import quarto, tables


def test_styled_table_has_every_colour_a_swatch_and_deltas(small_run):
    html = tables.styled_table(small_run.variants, caption="Error by colour").to_html()
    assert html.count("<tr") == 1 + 17
    assert html.count("background-color: #FF0000") == 1
    assert "suppression Δ" in html and "Error by colour" in html


def test_latex_numbers_equal_the_evaluation(small_run, tmp_path):
    path = tables.latex_table(
        small_run.variants,
        tmp_path / "table-error-by-colour.tex",
        caption="Reconstruction error by colour",
        label="tab:test-error",
    )
    tex = path.read_text()
    assert r"\label{tab:test-error}" in tex and r"\toprule" in tex and r"\cellcolor[HTML]{00FFFF}" in tex
    numbers = tables.parse_latex_numbers(tex)
    base = small_run.variants["baseline"].named.to_numpy()
    # every variant's MSE and Δ, as printed: to three places
    expected = [base] + [
        x
        for n in small_run.variants
        if n != "baseline"
        for x in (small_run.variants[n].named.to_numpy(), small_run.variants[n].named.to_numpy() - base)
    ]
    printed = np.vectorize(lambda x: float(f"{x:.3f}"))(np.column_stack(expected))
    assert np.array_equal(numbers, printed)
    assert (tmp_path / tables.PREAMBLE_NAME).exists()


def test_latex_table_needs_caption_and_label(small_run, tmp_path):
    with pytest.raises(ValueError, match="caption and a label"):
        tables.latex_table(small_run.variants, tmp_path / "t.tex", caption="", label="")


@pytest.mark.skipif(
    shutil.which("xelatex") is None and not os.environ.get("CI"), reason="xelatex not installed (make test installs it)"
)
@pytest.mark.parametrize("engine", ["xelatex", "pdflatex"])
def test_latex_table_compiles_and_fits_a_plain_articles_line(small_run, tmp_path, engine):
    """The file a researcher pastes: under pdflatex as under xelatex, in a plain `article`, with every variant of
    a sweep (four, the most any experiment shows), no wider than the line."""
    variants = {**small_run.variants}
    for extra in ("suppression", "repulsion", "ablated", "pruned"):
        variants.setdefault(extra, small_run.variants["suppression"])
    path = tables.latex_table(variants, tmp_path / "table.tex", caption="Error, Δ", label="tab:error")
    pdf = tables.compile_table(path, engine)
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")
    log = path.with_suffix(".log").read_text(errors="replace")
    assert "Overfull \\hbox" not in log, re.findall(r"Overfull \\hbox.*", log)


def test_the_books_long_table_keeps_its_columns_and_rows():
    """As the PDF sets a table: a footnote-size longtable with the header before the first page's rows and again
    as every later page's head, a wrapped column as a paragraph column, every row once; landscape when it has
    LANDSCAPE_COLUMNS columns or more; anything pandas did not write comes back as it was."""
    long = pd.DataFrame(
        {"claim": ["a claim in words, long enough to need wrapping " * 2] * 3, "value": [1.0, 2.0, 3.0]}
    )
    tex = tables.long_table(quarto.table(long, {"value": "{:.1f}"}).latex)
    assert tex.startswith("{\\footnotesize") and "\\begin{longtable}{>{\\raggedright\\arraybackslash}p{" in tex
    assert tex.count("claim & value") == 2 and "\\endfirsthead" in tex and "\\endhead" in tex
    assert tex.count("2.0") == 1 and "X" not in tex.split("\n")[1]
    many = pd.DataFrame({f"c{i}": [i] for i in range(tables.LANDSCAPE_COLUMNS)})
    assert tables.long_table(quarto.table(many, {}).latex).startswith("\\begin{landscape}")
    assert tables.long_table("\\begin{verbatim}x\\end{verbatim}") == "\\begin{verbatim}x\\end{verbatim}"


@pytest.mark.skipif(
    shutil.which("xelatex") is None and not os.environ.get("CI"), reason="xelatex not installed (make test installs it)"
)
def test_the_books_long_table_breaks_across_pages_with_its_header_on_each(tmp_path):
    from pypdf import PdfReader

    rows = pd.DataFrame({"claim": [f"claim number {i} in words, long enough to wrap " * 2 for i in range(120)]})
    rows["value"] = range(120)
    path = tmp_path / "long.tex"
    path.write_text(tables.long_table(quarto.table(rows, {"value": "{:d}"}).latex))
    (tmp_path / tables.PREAMBLE_NAME).write_text(tables.PREAMBLE)
    pages = [page.extract_text() for page in PdfReader(tables.compile_table(path)).pages]
    assert len(pages) >= 3 and all(" ".join(p.split()).startswith("claim value") for p in pages), pages[1][:200]
    assert all(f"claim number {i} " in "".join(pages) for i in range(120))
