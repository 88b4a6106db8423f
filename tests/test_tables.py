import os
import shutil

import numpy as np
import pytest

from sca import tables


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
def test_latex_table_compiles(small_run, tmp_path):
    path = tables.latex_table(small_run.variants, tmp_path / "table.tex", caption="Error", label="tab:error")
    pdf = tables.compile_table(path)
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")
