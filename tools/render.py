"""Render the book without the Quarto CLI (used by `make report` when `quarto` is not on PATH).

1. Read `_quarto.yml`: title, parts and chapters.
2. Execute each chapter: jupytext reads the .qmd as R Markdown (keeping `#|` cell options), nbclient runs it
   from the project root. Executed notebooks are frozen in `_freeze/`, keyed by the chapter's text and the
   package's source, so an unchanged book is not re-run (Quarto's `freeze: auto`). Quarto's `project:
   pre-render` commands run first (this book's trains and evaluates every run the pages read into the cache);
   the pages then run side by side on one lane per usable core (`--jobs`), each lane reusing one kernel whose
   namespace it clears for every page (`--kernel-per-page` starts a kernel for each page instead, as Quarto does).
3. Turn each notebook into pandoc Markdown: cell options decide what shows (`include`, `echo`, folded code);
   outputs become figures and tables numbered per chapter (`#| label: fig-…` / `tbl-…` with their captions);
   `@fig-…` and `@tbl-…` become links.
4. pandoc (3.9, from the pypandoc_binary wheel) writes one HTML page per chapter with a sidebar table of
   contents, and the whole book as one PDF through xelatex. A Lua filter renders callouts.
A chapter whose cell raises fails the build, naming the chapter and the cell.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import html
import importlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import jupytext
import nbformat
import yaml
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # sca, imported lazily (see import_sca)
OUT = ROOT / "_book"
FREEZE = ROOT / "_freeze"
TOOLS = Path(__file__).parent
XREF = re.compile(r"@((?:fig|tbl|sec)-[A-Za-z0-9_.-]*[A-Za-z0-9_])")


class BuildError(RuntimeError):
    pass


@dataclass
class Page:
    source: Path  # the .qmd
    part: str | None
    number: int | None  # chapter number; None for the landing page
    slug: str = ""
    title: str = ""
    markdown: str = ""
    labels: dict[str, str] = field(default_factory=dict)  # label -> "Figure 2.1"
    figures: int = 0  # numbered so far
    tables: int = 0

    @property
    def html_name(self) -> str:
        return "index.html" if self.number is None else f"{self.slug}.html"


def pandoc() -> str:
    import pypandoc

    return pypandoc.get_pandoc_path()


def book_pages(config: dict) -> list[Page]:
    pages, number = [], 0
    for entry in config["book"]["chapters"]:
        items = [(None, entry)] if isinstance(entry, str) else [(entry["part"], c) for c in entry["chapters"]]
        for part, path in items:
            is_index = Path(path).stem == "index"
            number += 0 if is_index else 1
            page = Page(ROOT / path, part, None if is_index else number)
            page.slug = Path(path).stem
            pages.append(page)
    return pages


# --- 2. execution ----------------------------------------------------------------------------------------


def source_key(text: str) -> str:
    from sca.cache import package_digest

    return hashlib.sha256((text + package_digest()).encode()).hexdigest()[:20]


def cell_options(cell, where: str = "a cell") -> dict:
    lines = [line[3:] for line in cell.source.splitlines() if line.startswith("#| ")]
    try:
        return yaml.safe_load("\n".join(lines)) or {}
    except yaml.YAMLError as e:
        raise BuildError(f"cannot read the #| options of {where}: {e}") from e


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


class Lane:
    """One chapter at a time, in order of arrival: executes a page's notebook in a kernel of its own (as Quarto does)
    or, with `share`, in one kernel it starts once and reuses for every page it executes: a page then costs its own
    cells, not a kernel start and the imports. Each page starts from an empty namespace (`%reset -f`, run as its
    first cell); imported modules and the package's caches of loaded runs carry over, which changes no output.
    Lanes run side by side in this process's event loop, not in forked processes: with the process pool this replaced,
    a reused kernel once failed to answer within nbclient's start-up wait (cause unproven; a forked copy of a process
    that has run a kernel client shares its event loop's file descriptors with the parent)."""

    def __init__(self, share: bool):
        self.share = share
        self.km = self.kc = None
        self.ready = False

    async def start(self) -> None:
        """Start this lane's kernel without waiting for it to answer (it boots while the caller goes on)."""
        from jupyter_client.manager import AsyncKernelManager

        await self.close()
        self.km = AsyncKernelManager(kernel_name="python3")
        await self.km.start_kernel(cwd=str(ROOT))
        self.kc = self.km.client()
        self.kc.start_channels()
        self.ready = False

    async def kernel(self):
        if self.km is None or not await self.km.is_alive():
            await self.start()
        if not self.ready:
            await self.kc.wait_for_ready(timeout=120)
            self.ready = True
        return self.km, self.kc

    async def close(self) -> None:
        if self.km is not None:
            self.kc.stop_channels()
            await self.km.shutdown_kernel(now=True)
            self.km = self.kc = None

    async def execute(self, page: Page, fresh: bool = False, timeout: int = 1200) -> nbformat.NotebookNode:
        text = page.source.read_text()
        frozen = FREEZE / f"{page.slug}-{source_key(text)}.ipynb"
        if frozen.exists() and not fresh:
            nb = nbformat.read(frozen, as_version=4)
            if all((ROOT / path).exists() for path in images(nb)):  # figures the cells wrote to disk are still there
                return nb
        nb = jupytext.reads(text, fmt="Rmd")
        for i, cell in enumerate(nb.cells):  # options read before any long work, naming the chapter and cell
            if cell.cell_type == "code":
                cell_options(cell, f"{rel(page.source)}, cell {i}")
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        km = kc = None
        if self.share:  # a clean namespace in the reused kernel; removed again before the notebook is frozen
            nb.cells.insert(0, nbformat.v4.new_code_cell("%reset -f", metadata={"sca_reset": True}))
            km, kc = await self.kernel()
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            km=km,  # a kernel given is not shut down
            resources={"metadata": {"path": str(ROOT)}},
        )
        client.kc = kc
        started = time.perf_counter()
        try:
            await client.async_execute()
        except CellExecutionError as e:
            error = e
        else:
            error = None
        finally:
            nb.cells = [c for c in nb.cells if not c.metadata.get("sca_reset")]
        if error is not None:
            failed = next(
                (
                    i
                    for i, c in enumerate(nb.cells)
                    if any(o.get("output_type") == "error" for o in c.get("outputs", []))
                ),
                None,
            )
            label = cell_options(nb.cells[failed]).get("label", "") if failed is not None else ""
            raise BuildError(f"{rel(page.source)}: cell {failed} {label!s} raised:\n{error}") from None
        print(f"  executed {rel(page.source)} in {time.perf_counter() - started:.0f} s", flush=True)
        FREEZE.mkdir(exist_ok=True)
        for old in FREEZE.glob(f"{page.slug}-*.ipynb"):
            old.unlink()
        nbformat.write(nb, frozen)
        return nb


def images(nb) -> list[str]:
    """The image files a notebook's Markdown outputs point to."""
    return [
        m["src"]
        for cell in nb.cells
        for output in cell.get("outputs", [])
        for m in MD_FIGURE.finditer(output.get("data", {}).get("text/markdown", ""))
    ]


def execute_all(
    pages: list[Page], fresh: bool, jobs: int, share: bool = True, config: dict | None = None
) -> list[nbformat.NotebookNode]:
    """Every page's executed notebook, in order: after the config's pre-render step (which fills the cache the pages
    read), the pages in book order on `jobs` lanes side by side."""
    return asyncio.run(_execute_all(pages, fresh, jobs, share, config or {}))


async def _execute_all(
    pages: list[Page], fresh: bool, jobs: int, share: bool, config: dict
) -> list[nbformat.NotebookNode]:
    lanes = [Lane(share) for _ in range(max(1, jobs))]
    waiting, done = list(pages), {}

    async def work(lane: Lane) -> None:
        while waiting:
            page = waiting.pop(0)
            done[page.slug] = await lane.execute(page, fresh)

    try:
        if share and fresh:  # every lane's kernel boots during the pre-render step
            for lane in lanes:
                await lane.start()
        await pre_render(config)
        async with asyncio.TaskGroup() as group:
            for lane in lanes:
                group.create_task(work(lane))
    except* BuildError as errors:  # the first chapter that failed; the other lanes were cancelled
        raise errors.exceptions[0] from None
    finally:
        for lane in lanes:
            await lane.close()
    return [done[page.slug] for page in pages]


async def pre_render(config: dict) -> None:
    """Quarto's `project: pre-render`: each command (a shell command, or a .py script run with this Python) from the
    project root before any page, with this Python's folder first on PATH (as `make report` gives Quarto)."""
    commands = config.get("project", {}).get("pre-render") or []
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "QUARTO_PROJECT_RENDER_ALL": "1",
    }
    for command in [commands] if isinstance(commands, str) else commands:
        started = time.perf_counter()
        line = f"{shlex.quote(sys.executable)} {command}" if command.endswith(".py") else command
        done = await asyncio.create_subprocess_shell(line, cwd=ROOT, env=env)
        if await done.wait() != 0:
            raise BuildError(f"pre-render command {command!r} failed (exit {done.returncode})")
        print(f"  pre-render {command!r} in {time.perf_counter() - started:.0f} s", flush=True)


def default_jobs() -> int:
    """One lane per core this process may use (counted as sca.workers.usable_cores does, without importing sca)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def import_sca() -> None:
    """Import sca (torch, pandas, SciPy: seconds) in a thread, while the kernels boot and the pre-render step runs:
    the pages' freeze keys and the PDF's table preamble need it, and would otherwise wait for it in turn."""
    threading.Thread(target=importlib.import_module, args=("sca.tables",), daemon=True).start()


# --- 3. notebook -> Markdown --------------------------------------------------------------------------------


def raw(fmt: str, text: str) -> str:
    return f"\n```{{={fmt}}}\n{text}\n```\n"


def latex_escape(text: str) -> str:
    text = re.sub(r"([&%$#_{}])", r"\\\1", text)
    return text.replace("^", r"\textasciicircum{}").replace("~", r"\textasciitilde{}")


def define(page: Page, label: str, tag: str) -> None:
    if label in page.labels:
        raise BuildError(f"{rel(page.source)}: label {label} is defined twice")
    page.labels[label] = tag


def figure_blocks(page: Page, label: str, caption: str, alt: str, image: bytes, name: str) -> str:
    """A numbered figure: raw HTML and raw LaTeX, the image copied into the book's img/ folder."""
    (OUT / "img" / name).write_bytes(image)
    page.figures += 1
    tag = f"Figure {page.number}.{page.figures}" if page.number else f"Figure {page.figures}"
    define(page, label, tag)
    return raw(
        "html",
        f'<figure id="{label}"><img src="img/{name}" alt="{html.escape(alt)}">'
        f"<figcaption><strong>{tag}</strong>: {html.escape(caption)}</figcaption></figure>",
    ) + raw(
        "latex",
        "\\begin{figure}[!htb]\\centering\n"
        f"\\includegraphics[width=\\linewidth,height=0.8\\textheight,keepaspectratio]{{{OUT / 'img' / name}}}\n"
        f"\\caption{{{latex_escape(caption)}}}\\label{{{label}}}\n\\end{{figure}}",
    )


def table_blocks(page: Page, label: str, caption: str | None, html_table: str, latex: str, wide: bool) -> str:
    """A table (numbered when it has a `tbl-` label): raw HTML and raw LaTeX; `wide` spans the page."""
    caption_html = caption_tex = ""
    if label.startswith("tbl-"):
        page.tables += 1
        tag = f"Table {page.number}.{page.tables}" if page.number else f"Table {page.tables}"
        define(page, label, tag)
        caption_html = f'<p class="table-caption"><strong>{tag}</strong>: {html.escape(caption or "")}</p>'
        caption_tex = f"\\caption{{{latex_escape(caption or '')}}}\\label{{{label}}}\n"
    column = " column-page" if wide else ""
    return raw("html", f'<div class="table-wrap{column}" id="{label}">{caption_html}{html_table}</div>') + raw(
        "latex", long_table(latex, caption_tex, wide)
    )


TABULAR = re.compile(
    r"\\begin\{(?P<env>tabularx\}\{\\linewidth|tabular)\}\{(?P<spec>.*?)\}\n\\toprule\n(?P<head>.*?)\\midrule\n"
    r"(?P<body>.*?)\\bottomrule\n\\end\{tabularx?\}",
    re.S,
)


LANDSCAPE_COLUMNS = 10  # a page-wide table of this many columns is set on landscape pages (fewer fit the portrait line)


def long_table(latex: str, caption: str, wide: bool) -> str:
    """A booktabs tabular (or tabularx) as a table that breaks across pages with its header repeated (longtable, or
    xltabular for wrapped columns), in footnote-size type; a page-wide table of LANDSCAPE_COLUMNS or more on landscape
    pages."""
    m = TABULAR.search(latex)
    if m is None:  # not a table pandas wrote (e.g. a plain-text fallback): as it is
        return latex
    env = "xltabular" if m["env"].startswith("tabularx") else "longtable"
    width = "{\\linewidth}" if env == "xltabular" else ""
    head = f"\\toprule\n{m['head']}\\midrule\n"
    out = (
        f"{{\\footnotesize\\setlength{{\\tabcolsep}}{{4pt}}\n\\begin{{{env}}}{width}{{{m['spec']}}}\n"
        + (caption.strip() + "\\\\\n" if caption else "")
        + head
        + "\\endfirsthead\n"
        + head
        + "\\endhead\n"
        + "\\bottomrule\n\\endlastfoot\n"
        + m["body"]
        + f"\\end{{{env}}}\n}}"
    )
    columns = len(re.findall(r"[lrcX]", re.sub(r"\{[^{}]*\}", "", m["spec"])))
    return f"\\begin{{landscape}}\n{out}\n\\end{{landscape}}" if wide and columns >= LANDSCAPE_COLUMNS else out


MD_FIGURE = re.compile(
    r'^!\[(?P<caption>(?:[^\]\\]|\\.)*)\]\((?P<src>[^)\s]+)\)\{#(?P<label>fig-[\w-]+)(?:\s+fig-alt="(?P<alt>[^"]*)")?\s*\}\s*$',
    re.M,
)
MD_TABLE = re.compile(r"^::: \{#(?P<label>tbl-[\w-]+)(?P<wide> \.column-page)?\}\n(?P<body>.*?)\n:::$", re.M | re.S)
DATA_LINK = re.compile(r"\]\((?P<src>[^)\s]+\.csv)\)")  # a link to a data file a cell wrote: copied into the book
SCRIPT = re.compile(
    r'<script src="(?P<src>[^":]+\.js)"'
)  # a local script an interactive figure loads: copied into the book
RAW_BLOCK = re.compile(r"^(?P<fence>`{3,})\{=(html|latex)\}\n(.*?)\n(?P=fence)$", re.M | re.S)
RAW_TABLE = re.compile(r"\s*(?:`{3,}\{=(?:html|latex)\}\n.*?\n`{3,}\s*){2}", re.S)


def markdown_floats(page: Page, text: str, where: str) -> str:
    """Number the figures and tables a cell emits as Quarto Markdown (`sca.quarto`) the way cell outputs are."""

    def local(m, what: str) -> Path:
        src = Path(m["src"]) if Path(m["src"]).is_absolute() else ROOT / m["src"]
        if not src.exists():
            raise BuildError(f"{where}: {what} points to a missing file {m['src']} (render with --fresh)")
        return src

    def fig(m):
        src = local(m, f"figure {m['label']}")
        caption = re.sub(r"\\(.)", r"\1", m["caption"])
        return figure_blocks(
            page, m["label"], caption, m["alt"] or caption, src.read_bytes(), f"{page.slug}-{m['label']}.png"
        )

    def tbl(m):
        raws = {fmt: body for _, fmt, body in RAW_BLOCK.findall(m["body"])}
        caption = RAW_BLOCK.sub("", m["body"]).strip()
        if "html" not in raws or "latex" not in raws:
            raise BuildError(f"{where}: table {m['label']} needs an HTML and a LaTeX raw block")
        return table_blocks(page, m["label"], caption, raws["html"], raws["latex"], bool(m["wide"]))

    def copied(src: Path, folder: str, name: str) -> str:
        """A file a cell wrote, copied into the book's `folder`; its link from a page."""
        (OUT / folder).mkdir(exist_ok=True)
        shutil.copyfile(src, OUT / folder / name)
        return f"{folder}/{name}"

    def data(m):
        src = local(m, "a link")
        return f"]({copied(src, 'data', f'{page.slug}-{src.name}')})"

    def script(m):
        src = local(m, "a script")
        return f'<script src="{copied(src, "js", src.name)}"'

    return SCRIPT.sub(script, DATA_LINK.sub(data, MD_TABLE.sub(tbl, MD_FIGURE.sub(fig, text))))


def to_markdown(page: Page, nb, fold: bool) -> str:
    """Markdown for pandoc, with HTML and LaTeX raw blocks for figures and tables."""
    parts = []
    page.figures = page.tables = 0
    (OUT / "img").mkdir(parents=True, exist_ok=True)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            parts.append(cell.source)
            continue
        if cell.cell_type != "code":
            continue
        where = f"{rel(page.source)}, cell {index}"
        opts = cell_options(cell, where)
        if opts.get("include") is False:
            continue
        code = "\n".join(line for line in cell.source.splitlines() if not line.startswith("#|")).strip()
        if opts.get("echo", True) is not False and code:
            block = f"\n```{{.python .cell-code}}\n{code}\n```\n"
            if opts.get("code-fold", fold):
                block = (
                    raw("html", '<details class="code-fold"><summary>Code</summary>')
                    + block
                    + raw("html", "</details>")
                )
            parts.append(block)
        if opts.get("output") is False:
            continue
        label = str(opts.get("label", ""))
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if output.get("output_type") == "stream":
                text = output["text"].rstrip()
                parts.append(
                    "\n" + markdown_floats(page, text, where) + "\n"
                    if opts.get("output") == "asis"
                    else f"\n```text\n{text}\n```\n"
                )
            elif "image/png" in data:
                image = base64.b64decode(data["image/png"])
                name = f"{page.slug}-{index}-{page.figures + 1}.png"
                if label.startswith("fig-"):
                    caption = str(opts.get("fig-cap", ""))
                    parts.append(figure_blocks(page, label, caption, str(opts.get("fig-alt", caption)), image, name))
                else:
                    (OUT / "img" / name).write_bytes(image)
                    parts.append(
                        raw("html", f'<img src="img/{name}" alt="">')
                        + raw("latex", f"\\includegraphics[width=\\linewidth]{{{OUT / 'img' / name}}}")
                    )
            elif "text/markdown" in data and label.startswith("tbl-") and RAW_TABLE.fullmatch(data["text/markdown"]):
                # a table (sca.quarto.Table) as raw blocks
                raws = {fmt: body for _, fmt, body in RAW_BLOCK.findall(data["text/markdown"])}
                wide = str(opts.get("column", "")).startswith(("page", "screen"))  # Quarto's `column: page`
                parts.append(table_blocks(page, label, opts.get("tbl-cap"), raws["html"], raws["latex"], wide))
            elif "text/markdown" in data:
                parts.append("\n" + markdown_floats(page, data["text/markdown"], where) + "\n")
            elif "text/html" in data:
                latex = (
                    data.get("text/latex") or "\\begin{verbatim}\n" + data.get("text/plain", "") + "\n\\end{verbatim}"
                )
                wide = str(opts.get("column", "")).startswith(("page", "screen"))  # Quarto's `column: page`
                parts.append(table_blocks(page, label, opts.get("tbl-cap"), data["text/html"], latex, wide))
            elif "text/plain" in data and output.get("output_type") == "execute_result":
                parts.append(f"\n```text\n{data['text/plain']}\n```\n")
    text = "\n".join(parts)
    heading = re.search(r"^# (.+?)(\s*\{[^}]*\})?\s*$", text, re.M)
    page.title = heading.group(1).strip() if heading else page.slug
    chapter = re.search(r"#(sec-[\w-]+)", heading.group(2) or "") if heading else None
    if chapter and page.number:
        page.labels[chapter.group(1)] = f"Chapter {page.number}"  # @sec-… of a chapter, as Quarto numbers it
    return text


def resolve_refs(pages: list[Page], target: str) -> None:
    """Replace @fig-… / @tbl-… / @sec-… (a chapter) with numbered links; an unknown label fails the build."""
    where = {}
    for page in pages:
        for label, tag in page.labels.items():
            if label in where:
                raise BuildError(
                    f"{rel(page.source)}: label {label} is already defined in {rel(where[label][0].source)}"
                )
            where[label] = (page, tag)
    for page in pages:

        def link(m):
            if m.group(1) not in where:
                raise BuildError(f"{rel(page.source)}: unknown cross-reference @{m.group(1)}")
            other, tag = where[m.group(1)]
            label = m.group(1)
            href = (
                f"#{label}"
                if other is page or target == "pdf"
                else other.html_name
                if label.startswith("sec-")
                else f"{other.html_name}#{label}"
            )
            return f"[{tag}]({href})"

        page.markdown = XREF.sub(link, page.markdown)


# --- 4. pandoc ----------------------------------------------------------------------------------------------


def run_pandoc(args: list[str], text: str) -> None:
    done = subprocess.run([pandoc(), *args], input=text, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise BuildError(f"pandoc {' '.join(args)} failed:\n{done.stderr[-3000:]}")


def sidebar(pages: list[Page], current: Page, title: str, downloads: dict[str, str] | None = None) -> str:
    links = " ".join(f'<a href="{href}">{html.escape(label)}</a>' for label, href in (downloads or {}).items())
    items, part = (
        [
            f'<p class="book-title"><a href="index.html">{html.escape(title)}</a></p>'
            + (f'<p class="downloads">Download: {links}</p>' if links else "")
            + "<ul>"
        ],
        None,
    )
    for page in pages:
        if page.part != part and page.part:
            items.append(f'<li class="part">{html.escape(page.part)}</li>')
        part = page.part
        number = f"{page.number}&nbsp; " if page.number else ""
        cls = ' class="active"' if page is current else ""
        items.append(f'<li{cls}><a href="{page.html_name}">{number}{html.escape(page.title)}</a></li>')
    return "\n".join(items + ["</ul>"])


def write_html(pages: list[Page], config: dict, pool: ThreadPoolExecutor, pdf: bool = True) -> None:
    """One HTML page per chapter, pandoc running in `pool`'s threads; then the search index."""
    title = config["book"]["title"]
    # Quarto's `book: downloads: [pdf]`: a link to the PDF on every page
    downloads = (
        {"PDF": f"{config['book'].get('output-file', 'book')}.pdf"}
        if pdf and "pdf" in config["book"].get("downloads", [])
        else {}
    )
    search = config["book"].get("search", True) is not False  # Quarto's `book: search` (on unless set false)
    shutil.copy(TOOLS / "book.css", OUT / "book.css")

    def write(i: int, page: Page) -> None:
        nav = {"prev": pages[i - 1] if i else None, "next": pages[i + 1] if i + 1 < len(pages) else None}
        args = [
            "-f",
            "markdown",
            "-t",
            "html5",
            "-s",
            "--mathml",
            "--section-divs",
            "--lua-filter",
            str(TOOLS / "callouts.lua"),
            "--citeproc",
            "--bibliography",
            str(ROOT / config["bibliography"]),
            "--template",
            str(TOOLS / "page.html"),
            "--toc",
            "--toc-depth=3",
            "-o",
            str(OUT / page.html_name),
            "-M",
            f"pagetitle={page.title} – {title}",
            "-V",
            f"sidebar={sidebar(pages, page, title, downloads)}",
            "--shift-heading-level-by=0",
        ]
        for key, other in nav.items():
            if other:
                args += ["-V", f"{key}={other.html_name}", "-V", f"{key}-title={other.title}"]
        if search:
            args += ["-V", "search=true"]
        text = (
            page.markdown
            if page.number
            else f"# {title}\n\n" + re.sub(r"^# .*$", "", page.markdown, count=1, flags=re.M)
        )
        if page.number:
            text = re.sub(r"^# (.+?)\s*$", lambda m: f"# {page.number}&nbsp; {m.group(1)}", text, count=1, flags=re.M)
        run_pandoc(args, text)

    for job in [pool.submit(write, i, page) for i, page in enumerate(pages)]:
        job.result()
    if search:
        shutil.copy(TOOLS / "search.js", OUT / "search.js")
        index = [
            entry for page in pages for entry in search_entries(page.html_name, (OUT / page.html_name).read_text())
        ]
        (OUT / "search-index.js").write_text("window.SEARCH_INDEX = " + json.dumps(index, ensure_ascii=False) + ";\n")


class _Sections(HTMLParser):
    """The text of a page's sections: (section id, heading, text), skipping scripts, styles and the navigation."""

    SKIP = {"script", "style", "nav", "aside"}

    def __init__(self):
        super().__init__()
        self.sections, self.skip, self.heading = [["", "", []]], 0, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.SKIP:
            self.skip += 1
        elif tag == "section" and attrs.get("id"):
            self.sections.append([attrs["id"], "", []])
        elif tag in ("h1", "h2", "h3") and not self.skip:
            self.heading = []

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skip -= 1
        elif tag in ("h1", "h2", "h3") and self.heading is not None:
            self.sections[-1][1], self.heading = " ".join("".join(self.heading).split()), None

    def handle_data(self, data):
        if not self.skip:
            (self.heading if self.heading is not None else self.sections[-1][2]).append(data)


def search_entries(href: str, page_html: str) -> list[dict]:
    """One search entry per section of a written page: its title, the section's heading, link and text."""
    parser = _Sections()
    parser.feed(page_html)
    title = html.unescape(re.search(r"<title>(.*?)</title>", page_html, re.S).group(1)).split(" – ")[0]
    return [
        {
            "title": title,
            "section": heading,
            "href": f"{href}#{sid}" if sid else href,
            "text": " ".join("".join(text).split()),
        }
        for sid, heading, text in parser.sections
        if "".join(text).strip()
    ]


CODE_BLOCK = re.compile(r"\n```\{\.python \.cell-code\}\n.*?\n```\n", re.S)
# Characters the book prints that the main font lacks, drawn from DejaVu Sans in the PDF (tests/test_book.py checks the
# list against every character of the rendered book).
MAIN_FONT, FALLBACK_FONT, FALLBACK_CHARS = "DejaVu Serif", "DejaVu Sans", "✓✗"


def pdf_header() -> str:
    from sca.tables import PREAMBLE

    glyphs = "".join(f'\\newunicodechar{{{c}}}{{{{\\scafallback\\char"{ord(c):04X}}}}}\n' for c in FALLBACK_CHARS)
    # placeins[section]: a figure never floats past the start of the next section; pdflscape: page-wide tables;
    # hypertexnames=false: hyperref names each anchor by a counter of its own, not by the number printed (by the
    # printed numbers, every longtable's anchor and one page's were each defined twice: 87 warnings of the PDF
    # driver, though no two labels shared an anchor)
    return (
        "\\PassOptionsToPackage{hypertexnames=false}{hyperref}\n"
        + PREAMBLE
        + "\\usepackage{graphicx}\n\\usepackage[section]{placeins}\n"
        "\\usepackage{pdflscape}\n\\usepackage{newunicodechar}\n"
        f"\\newfontfamily\\scafallback{{{FALLBACK_FONT}}}\n" + glyphs
    )


def pdf_format(config: dict) -> dict:
    return config.get("format", {}).get("pdf", {})


def latex_options(config: dict) -> list[str]:
    """pandoc's options for the book's LaTeX (after writing the preamble it includes, OUT/pdf-header.tex)."""
    book, fmt = config["book"], pdf_format(config)
    header = OUT / "pdf-header.tex"
    header.write_text(pdf_header())
    return [
        "--toc",
        "--number-sections",
        "--top-level-division=part",
        "-V",
        "documentclass=report",
        "-V",
        "geometry:margin=2.2cm",
        "-V",
        "colorlinks=true",
        "-V",
        f"mainfont={MAIN_FONT}",
        "-V",
        "sansfont=DejaVu Sans",
        "-V",
        "monofont=DejaVu Sans Mono",
        "-V",
        "fontsize=10pt",
        *(["-V", f"mathfont={fmt['mathfont']}"] if fmt.get("mathfont") else []),
        "-H",
        str(header),
        "--lua-filter",
        str(TOOLS / "callouts.lua"),
        "--citeproc",
        "--bibliography",
        str(ROOT / config["bibliography"]),
        "-M",
        f"title={book['title']}",
        "-M",
        f"author={book.get('author', '')}",
        "-M",
        f"date={book.get('date', '')}",
    ]


def write_pdf(pages: list[Page], config: dict) -> Path:
    echo = pdf_format(config).get("echo", True)  # Quarto's `format: pdf: echo: false`
    chunks, part = [], None
    for page in pages:
        text = page.markdown if echo else CODE_BLOCK.sub("\n", page.markdown)  # raw HTML (the folds) is dropped anyway
        if page.number is None:  # the landing page becomes the preface
            text = re.sub(r"^# .*$", "# Preface {.unnumbered}", text, count=1, flags=re.M)
        elif page.part != part and page.part:
            chunks.append(f"\n# {page.part}\n")
        part = page.part
        chunks.append(re.sub(r"^(#+) ", r"#\1 ", text, flags=re.M))  # chapters sit under parts
    pdf = OUT / f"{config['book'].get('output-file', 'book')}.pdf"
    with tempfile.TemporaryDirectory() as tmp:
        tex = Path(tmp) / "book.tex"
        run_pandoc(["-f", "markdown", "-t", "latex", "-s", "-o", str(tex), *latex_options(config)], "\n\n".join(chunks))
        shutil.move(
            latex(tex, pdf_format(config), FREEZE / "latex" / pdf.stem), pdf
        )  # the last build's labels, per book
    return pdf


LATEX_RUNS = 4  # at most: from nothing, the table of contents, then longtable's widths, then a run that confirms them
AUX_FILES = (".aux", ".toc", ".out", ".lof", ".lot")  # what the engine writes for its next run to read


def latex(tex: Path, fmt: dict, state: Path | None = None) -> Path:
    """The PDF of `tex`, beside it: the engine (`pdf-engine`) run without writing a PDF until a run leaves the
    files it reads back (AUX_FILES: labels, contents, table widths, bookmarks) as it found them, at most LATEX_RUNS
    times, then the PDF driver once (an `-output-driver=` among `pdf-engine-opt`, else xdvipdfmx). The first run
    starts from the last build's files, kept in `state` (a book whose pages and labels did not move then takes one
    run; a stale or broken state only costs runs). The files decide, not the log's rerun messages, which say nothing
    when only the table of contents moved (pandoc ran the engine four times, and the driver every time)."""
    opts = fmt.get("pdf-engine-opt")
    opts = [opts] if isinstance(opts, str) else list(opts or [])
    driver = next((o.split("=", 1)[1].split() for o in opts if o.startswith("-output-driver=")), ["xdvipdfmx"])
    engine = [
        fmt.get("pdf-engine", "xelatex"),
        "-no-pdf",
        "-halt-on-error",
        "-interaction=nonstopmode",
        *(o for o in opts if not o.startswith("-output-driver=")),
    ]
    aux = [tex.with_suffix(suffix) for suffix in AUX_FILES]
    read = lambda: {path.suffix: path.read_bytes() for path in aux if path.exists()}
    seeded = state is not None and _restore(state, tex)
    for run in range(LATEX_RUNS):
        before = read()
        done = subprocess.run([*engine, tex.name], cwd=tex.parent, capture_output=True, text=True, errors="replace")
        log = tex.with_suffix(".log").read_text(errors="replace") if tex.with_suffix(".log").exists() else ""
        if done.returncode != 0 and seeded and run == 0:  # the kept files may be what broke it: start from nothing
            for path in aux:
                path.unlink(missing_ok=True)
            seeded = False
            continue
        if done.returncode != 0:
            raise BuildError(f"{engine[0]} failed on the book:\n{(log or done.stdout)[-3000:]}")
        if read() == before:
            break
    if state is not None:
        state.mkdir(parents=True, exist_ok=True)
        for path in aux:
            if path.exists():
                shutil.copy(path, state / path.name)
    done = subprocess.run(
        [*driver, "-q", "-o", tex.with_suffix(".pdf").name, tex.with_suffix(".xdv").name],
        cwd=tex.parent,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BuildError(f"{' '.join(driver)} failed on the book:\n{done.stderr[-3000:]}")
    return tex.with_suffix(".pdf")


def _restore(state: Path, tex: Path) -> bool:
    """Copy the last build's AUX_FILES from `state` beside `tex`; whether there were any."""
    kept = [state / f"{tex.stem}{suffix}" for suffix in AUX_FILES if (state / f"{tex.stem}{suffix}").exists()]
    for path in kept:
        shutil.copy(path, tex.parent / path.name)
    return bool(kept)


def main(argv=None) -> int:
    global OUT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-pdf", action="store_true", help="HTML only")
    parser.add_argument("--config", default=str(ROOT / "_quarto.yml"), help="book configuration (default: _quarto.yml)")
    parser.add_argument("--fresh", action="store_true", help="execute every chapter even if a frozen result exists")
    parser.add_argument(
        "--jobs", type=int, default=default_jobs(), help="chapters executed at once (default: usable cores)"
    )
    parser.add_argument(
        "--kernel-per-page",
        action="store_true",
        help="a new kernel for every page, as Quarto does (default: one kernel per lane, its namespace "
        "cleared for each page)",
    )
    parser.add_argument("--out", help="output folder (default: the config's project output-dir, _book)")
    args = parser.parse_args(argv)
    config = yaml.safe_load(Path(args.config).read_text())
    OUT = Path(args.out or ROOT / config.get("project", {}).get("output-dir", "_book")).resolve()
    fold = config.get("format", {}).get("html", {}).get("code-fold", True)
    pages = book_pages(config)
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    import_sca()
    try:
        for page, nb in zip(
            pages, execute_all(pages, args.fresh, args.jobs, share=not args.kernel_per_page, config=config)
        ):
            page.markdown = to_markdown(page, nb, fold)
        html_pages = [Page(**{**p.__dict__, "labels": dict(p.labels)}) for p in pages]
        resolve_refs(html_pages, "html")
        resolve_refs(pages, "pdf")
        with ThreadPoolExecutor(max(2, args.jobs)) as pool:  # the PDF (the longest) beside the HTML pages
            pdf = None if args.no_pdf else pool.submit(write_pdf, pages, config)
            write_html(html_pages, config, pool, pdf=not args.no_pdf)
            print(f"  wrote {OUT / 'index.html'} and {len(pages) - 1} chapter pages", flush=True)
            if pdf is not None:
                print(f"  wrote {pdf.result()}", flush=True)
    except BuildError as e:
        print(f"render: {e}", file=sys.stderr)
        return 1
    print(f"rendered in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
