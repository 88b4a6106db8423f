"""The book's building blocks as Quarto Markdown: a table for both outputs, a cross-referenceable figure or table
with a computed caption and alt text, a callout, and the block a chapter's cell shows (`#| output: asis`).

A chapter section that every chapter needs (the design, the training run, the variants) is emitted as one block
of Markdown, so its captions and alt texts are computed from the data, not typed into each chapter. The syntax
is Quarto's own: `![caption](image){#fig-… fig-alt="…"}` for a figure, a `::: {#tbl-…}` div whose last
paragraph is the caption for a table (https://quarto.org/docs/authoring/cross-references.html).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from . import figures, tables


@dataclass
class Table:
    """A table for both outputs of the book: `html` for the web pages, `latex` for the PDF."""

    html: str
    latex: str
    frame: pd.DataFrame = field(default_factory=pd.DataFrame)  # the numbers behind it, for computed prose
    card: pd.DataFrame = field(default_factory=pd.DataFrame)  # for the scorecard: the judged claims behind it

    def _repr_markdown_(self) -> str:
        """Both renderings as raw blocks for pandoc, each kept by the output it is for (the LaTeX as a longtable, which
        breaks across the PDF's pages). Displayed as Markdown, not
        as HTML: Quarto adds require.js and jQuery from a CDN to every page with an HTML output (for JavaScript
        widgets), which fails offline and breaks the page's own scripts."""
        return raw_blocks(self.html, tables.long_table(self.latex))


def raw_blocks(html: str, latex: str) -> str:
    """An HTML and a LaTeX raw block (pandoc's ```{=format}), each long enough a fence for its content. The HTML
    table scrolls in a box of its own when it is wider than the page's column (book.scss), a box the keyboard can
    reach (and so scroll)."""
    html = f'<div class="sca-table" tabindex="0">\n{html}\n</div>'
    fence = "`" * max(3, 1 + max((len(m) for m in re.findall(r"`+", html + latex)), default=0))
    return f"{fence}{{=html}}\n{html}\n{fence}\n\n{fence}{{=latex}}\n{latex}\n{fence}\n"


def datatable(
    df: pd.DataFrame,
    formats: dict[str, str] | None = None,
    panes: tuple[str, ...] = (),
    left: tuple[str, ...] = (),
    wide: tuple[str, ...] = (),
) -> str:
    """An interactive HTML table (itables: DataTables with its JavaScript and CSS embedded, so the page works offline):
    sort by any column, search every cell, and filter by the `panes` columns, each a list of its values with counts.
    Numbers are shown as `formats` gives them; a missing value is an empty cell, so numeric columns still sort as
    numbers. The `left` columns are left-aligned, the `wide` ones (long prose) at least 18em wide, as in `table`."""
    import itables
    from itables.javascript import generate_init_offline_itables_html

    shown = df.copy()
    for col, fmt in (formats or {}).items():
        if col in shown:
            shown[col] = [("" if pd.isna(v) else fmt.format(v)) for v in shown[col]]
    shown = shown.fillna("")
    columns = list(shown.columns)
    at = lambda names: [columns.index(c) for c in names if c in columns]
    options = {
        "pageLength": 25,
        "classes": "display compact",
        "maxBytes": 0,
        "showIndex": False,
        "style": "width:100%",
        "columnDefs": [{"className": "dt-left", "targets": at(left)}, {"width": "18em", "targets": at(wide)}],
    }
    if panes:
        options |= {
            "layout": {"top1": "searchPanes"},
            "searchPanes": {"columns": at(panes), "cascadePanes": True, "viewTotal": True},
        }
    bundle = Path(itables.__file__).parent / "html" / "dt_bundle.js"
    html = itables.to_html_datatable(shown, connected=False, **options)  # type: ignore[arg-type]
    return generate_init_offline_itables_html(bundle) + html


def table(
    df: pd.DataFrame,
    formats: dict[str, str] | None = None,
    index: bool = False,
    left: tuple[str, ...] = (),
    wide: tuple[str, ...] = (),
) -> Table:
    """An HTML and a LaTeX rendering of df; in HTML the `left` columns left-aligned and the `wide` ones at least
    18em wide (long prose)."""
    html = (
        df.style.format(formats or {}, na_rep="–")
        .set_properties(subset=[c for c in left if c in df.columns], **{"text-align": "left"})
        .set_properties(subset=[c for c in wide if c in df.columns], **{"min-width": "18em"})
    )
    latex = tables.latex_styler(df, formats or {})
    if not index:
        html, latex = html.hide(axis="index"), latex.hide(axis="index")
    return Table(html.to_html(), tables.tabular(latex, tables.column_format(df, wide, index), convert_css=False), df)


@dataclass
class Block:
    """Markdown for a cell with `#| output: asis`; `labels` lists the figures and tables it defines."""

    text: str
    labels: tuple[str, ...] = ()

    def _repr_markdown_(self) -> str:
        return self.text


def join(*blocks: Block) -> Block:
    """The blocks in order, as one (empty blocks left out)."""
    return Block("\n\n".join(b.text for b in blocks if b.text), tuple(label for b in blocks for label in b.labels))


def relative(path: Path) -> str:
    """A file's path as a document links it: relative to the document's folder, which Quarto names in
    QUARTO_DOCUMENT_PATH (the book's pages run from the project root, `execute-dir: project`); elsewhere relative
    to the working directory."""
    return Path(os.path.relpath(path, os.environ.get("QUARTO_DOCUMENT_PATH") or os.curdir)).as_posix()


LABEL = re.compile(r"(fig|tbl)-[A-Za-z0-9_-]*[A-Za-z0-9]")


def _label(label: str, kind: str) -> str:
    if not LABEL.fullmatch(label) or not label.startswith(kind + "-"):
        raise ValueError(f"not a {kind} label: {label!r}")
    return label


def _caption(text: str) -> str:
    """One line of caption text, with the characters that would end Markdown's image syntax escaped."""
    text = " ".join(text.split())
    return re.sub(r"([\\\[\]])", r"\\\1", text)


def figure(fig: Figure, folder: str, name: str, label: str, caption: str, alt: str) -> Block:
    """Save fig as figures/<folder>/<name>.png (and .pdf) and return its cross-referenceable Markdown figure. The
    image path is relative to the document's folder (`relative`)."""
    figures.save(fig, folder, name)
    path = relative(figures.figures_dir() / folder / f"{name}.png")
    alt = " ".join(alt.replace('"', "'").split())
    return Block(f'![{_caption(caption)}]({path}){{#{_label(label, "fig")} fig-alt="{alt}"}}', (label,))


def float_table(t: Table, label: str, caption: str, wide: bool = False) -> Block:
    """A cross-referenceable table: Quarto's table div, the HTML and LaTeX renderings as raw blocks, the caption
    last; `wide` spans the page (Quarto's `.column-page`)."""
    cls = " .column-page" if wide else ""
    return Block(
        f"::: {{#{_label(label, 'tbl')}{cls}}}\n\n{raw_blocks(t.html.strip(), tables.long_table(t.latex.strip()))}\n"
        f"{' '.join(caption.split())}\n\n:::",
        (label,),
    )


def html_only(prose: str, html: str, caption: str) -> Block:
    """Prose and an interactive figure (raw HTML) with its caption, in the HTML book only (Quarto's `content-visible`);
    the PDF shows the static figures instead."""
    return Block(
        f'::: {{.content-visible when-format="html"}}\n\n{" ".join(prose.split())}\n\n```{{=html}}\n'
        f'<figure class="interactive">{html}<figcaption>{caption}</figcaption></figure>\n```\n\n:::'
    )


def callout(title: str, text: str, kind: str = "note") -> Block:
    return Block(f'::: {{.callout-{kind} title="{title}"}}\n\n{text}\n\n:::')


def text(markdown: str) -> Block:
    return Block(markdown)
