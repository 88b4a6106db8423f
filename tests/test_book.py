"""The book: its sources lint clean, every chapter executes and renders (as `make report` does, without
Quarto), a failing cell fails the build by name, and a headless browser finds every image and reference."""

import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "_book"
pytestmark = pytest.mark.book  # renders the book, or small books through its renderer

CONFIG = yaml.safe_load((ROOT / "_quarto.yml").read_text())
BARE = {
    **CONFIG,
    "project": {k: v for k, v in CONFIG["project"].items() if k != "pre-render"},
}  # for the small test books
PDF = BOOK / f"{CONFIG['book']['output-file']}.pdf"


def sources() -> list[Path]:
    files = []
    for entry in CONFIG["book"]["chapters"]:
        files += [entry] if isinstance(entry, str) else entry["chapters"]
    return [ROOT / f for f in files]


def cells(path: Path) -> list[dict]:
    """The #| options of every python cell of a .qmd."""
    blocks = re.findall(r"```\{python\}\n(.*?)```", path.read_text(), re.S)
    return [
        yaml.safe_load("\n".join(line[3:] for line in b.splitlines() if line.startswith("#| "))) or {} for b in blocks
    ]


def test_config_is_a_quarto_book_with_parts():
    assert CONFIG["project"]["type"] == "book" and CONFIG["project"]["output-dir"] == "_book"
    assert CONFIG["execute"]["freeze"] == "auto" and {"html", "pdf"} <= set(CONFIG["format"])
    assert [e["part"] for e in CONFIG["book"]["chapters"] if isinstance(e, dict)]
    assert all(p.exists() for p in sources()) and (ROOT / CONFIG["bibliography"]).exists()


@pytest.mark.parametrize("path", sources(), ids=lambda p: p.name)
def test_every_cell_is_labelled_and_every_figure_captioned(path):
    opts = cells(path)
    labels = [o.get("label") for o in opts]
    assert all(labels) and len(set(labels)) == len(labels)
    assert opts[0].get("include") is False  # a hidden setup cell opens every chapter
    for o in opts:
        if str(o["label"]).startswith("fig-"):
            assert o.get("fig-cap") and o.get("fig-alt"), o["label"]
        if str(o["label"]).startswith("tbl-"):
            assert o.get("tbl-cap"), o["label"]


def test_sources_lint_clean_against_quartos_schema():
    panache = Path(sys.executable).with_name("panache")
    done = subprocess.run(
        [str(panache), "lint", "--message-format", "short", "_quarto.yml", *map(str, sources())],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    # References to figures and tables a cell emits are invisible to a linter; tools/render.py fails the build on an
    # unknown one and the browser test follows every link, so that one finding is left to them.
    issues = [line for line in done.stdout.splitlines() if "warning[" in line or "error[" in line]
    assert [line for line in issues if "[undefined-reference-label]" not in line] == [], done.stdout + done.stderr
    assert done.returncode == 0 or issues, done.stderr


@pytest.fixture(scope="module")
def rendered():
    """Execute every chapter afresh and render HTML and PDF, as `make report` does."""
    done = subprocess.run(
        [sys.executable, "tools/render.py", "--fresh"], cwd=ROOT, capture_output=True, text=True, timeout=1800
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return done


def test_book_renders_every_page_and_the_pdf(rendered):
    assert (BOOK / "index.html").exists()
    for path in sources()[1:]:
        assert (BOOK / f"{path.stem}.html").exists()
    pdf = BOOK / f"{CONFIG['book']['output-file']}.pdf"
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 500_000


def test_the_pdf_prints_every_verdict_mark_and_no_code(rendered):
    """The PDF draws ✓ and ✗ (DejaVu Serif lacks them: render.py maps them to DejaVu Sans) and, as `format: pdf:
    echo: false` asks, prints no code."""
    import pandas as pd
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(PDF).pages)
    marks = pd.read_csv(ROOT / "figures" / "scorecard.csv")["mark"]
    assert text.count("✓") >= (marks == "✓").sum() > 0 and text.count("✗") >= (marks == "✗").sum() > 0
    assert CONFIG["format"]["pdf"]["echo"] is False and "sections." not in text and "report." not in text
    assert "The sphere below" not in text  # HTML-only content (Quarto's content-visible) stays out of the PDF


TABLE_ROW = re.compile(r"^(verdict experiment|2\.\d+(\.\d+)?(-sigmoid)?,? )")  # a claims table's header or first cell


def test_the_pdf_sets_every_claims_table_in_type_no_smaller_than_footnote_size(rendered):
    """The scorecard's 380-odd rows and every chapter's claims table run over as many pages as they need, at footnote
    size (8 pt against the body's 10), not shrunk to fit one page."""
    from collections import Counter

    from pypdf import PdfReader

    sizes, body = [], Counter()

    def visit(text, cm, tm, font, size):
        scale = ((tm[0] * cm[0] + tm[1] * cm[2]) ** 2 + (tm[0] * cm[1] + tm[1] * cm[3]) ** 2) ** 0.5
        body[round(size * scale, 1)] += len(text)
        if TABLE_ROW.match(text.strip()):
            sizes.append(size * scale)

    for page in PdfReader(PDF).pages:
        page.extract_text(visitor_text=visit)
    normal = body.most_common(1)[0][0]
    assert len(sizes) > 300 and min(sizes) >= 0.79 * normal, (min(sizes), normal)


def test_a_table_in_the_pdf_breaks_across_pages_with_its_header_repeated():
    import pandas as pd

    import render
    from sca import quarto

    long = pd.DataFrame(
        {"claim": ["a claim in words, long enough to need wrapping " * 2] * 3, "value": [1.0, 2.0, 3.0]}
    )
    tex = render.long_table(quarto.table(long, {"value": "{:.1f}"}).latex, r"\caption{C}\label{tbl-x}", wide=False)
    assert (
        tex.startswith("{\\footnotesize")
        and "\\begin{xltabular}{\\linewidth}" in tex
        and "\\caption{C}\\label{tbl-x}\\\\" in tex
    )
    assert tex.count("claim & value") == 2 and "\\endhead" in tex and tex.count("2.0") == 1
    narrow = render.long_table(quarto.table(pd.DataFrame({"a": [1]}), {}).latex, "", wide=True)
    assert narrow.startswith("{\\footnotesize") and "\\begin{longtable}{r}" in narrow and "\\caption" not in narrow
    many = pd.DataFrame({f"c{i}": [i] for i in range(render.LANDSCAPE_COLUMNS)})
    assert render.long_table(quarto.table(many, {}).latex, "", wide=True).startswith("\\begin{landscape}")
    assert render.long_table(quarto.table(many, {}).latex, "", wide=False).startswith("{\\footnotesize")


def test_latex_reruns_until_its_labels_settle_starting_from_the_last_builds(tmp_path, monkeypatch):
    """The engine reruns until a run leaves the files it reads back as it found them (so the last run printed the
    labels as they are), starting from the last build's: one run when nothing moved."""
    import render

    runs = []
    real = subprocess.run
    monkeypatch.setattr(render.subprocess, "run", lambda cmd, **kw: (runs.append(cmd[0]), real(cmd, **kw))[1])

    def build(pages_before: int) -> str:
        folder = tmp_path / f"build{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        tex = folder / "doc.tex"
        tex.write_text(
            "\\documentclass{article}\\usepackage{hyperref}\\begin{document}\\tableofcontents\n"
            "\\section{One}See page \\pageref{two}.\n"
            + "\\newpage x\n" * pages_before
            + "\\section{Two}\\label{two}\\end{document}\n"
        )
        runs.clear()
        pdf = render.latex(tex, {"pdf-engine": "xelatex"}, tmp_path / "state")
        assert runs[-1] == "xdvipdfmx" and pdf.exists()
        return re.search(r"\\newlabel\{two\}\{\{\d+\}\{(\d+)\}", (folder / "doc.aux").read_text()).group(1)

    # from nothing: a run that writes the labels and contents, and one that reads them and leaves them as they were
    assert build(2) == "3" and runs.count("xelatex") == 2
    assert build(2) == "3" and runs.count("xelatex") == 1  # the kept files are this document's already
    assert build(4) == "5" and runs.count("xelatex") == 2  # the label moved: the first run wrote it anew


def test_a_caption_with_a_greek_letter_settles_with_the_books_latex(tmp_path, monkeypatch):
    """With the book's pandoc options and preamble, a label whose caption holds Δ settles on the second run. (Without
    `mathfont`, unicode-math set up its font at \\begin{document}, after the labels were read back, and turned Δ from
    a letter into a symbol: the label 'may have changed' on every run.)"""
    import render

    monkeypatch.setattr(render, "OUT", tmp_path)
    tex = tmp_path / "doc.tex"
    render.run_pandoc(
        ["-f", "markdown", "-t", "latex", "-s", "-o", str(tex), *render.latex_options(CONFIG)],
        "# One\n\n```{=latex}\n\\begin{table}\\caption{red Δ, R² over 20³}\\label{tbl-x}\\end{table}\n```\n\n"
        "See Table \\ref{tbl-x}.\n",
    )
    render.latex(tex, render.pdf_format(CONFIG))
    assert "Label(s) may have changed" not in tex.with_suffix(".log").read_text(errors="replace")


def test_every_character_the_book_prints_has_a_glyph_in_the_pdf(rendered):
    """Every character of the rendered pages is in the PDF's main font, or drawn from the fallback font."""
    import html as html_lib

    import render

    chars = set()
    for page in BOOK.glob("*.html"):
        # Not printed in the PDF: scripts, styles, and what only a browser without JavaScript shows (the interactive
        # scorecard's static preview, whose header marks are itables' own).
        text = re.sub(
            r"<script.*?</script>|<style.*?</style>|<noscript>.*?</noscript>|<div "
            r"id=\"itables_\w+_fallback\">.*?</table></div>",
            " ",
            page.read_text(),
            flags=re.S,
        )
        chars |= {c for c in html_lib.unescape(re.sub(r"<[^>]+>", " ", text)) if ord(c) > 127}
    lacking = {
        c
        for c in chars
        if not subprocess.run(
            ["fc-list", f":family={render.MAIN_FONT}:charset={ord(c):x}", "family"], capture_output=True, text=True
        ).stdout.strip()
    }
    assert chars and lacking <= set(render.FALLBACK_CHARS), sorted(lacking - set(render.FALLBACK_CHARS))


def render_with_chapter(tmp_path, name: str, cell: str) -> subprocess.CompletedProcess:
    """Render the landing page and one chapter whose second cell is `cell`, HTML only."""
    bad = tmp_path / name
    bad.write_text(
        f"# Broken\n\n```{{python}}\n#| label: setup\n#| include: false\nx = 1\n```\n\n```{{python}}\n{cell}\n```\n"
    )
    config = {**BARE, "book": {**CONFIG["book"], "chapters": ["index.qmd", str(bad)]}}
    cfg = tmp_path / "_quarto.yml"
    cfg.write_text(yaml.safe_dump(config))
    return subprocess.run(
        [sys.executable, "tools/render.py", "--config", str(cfg), "--no-pdf", "--out", str(tmp_path / "book")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_pages_sharing_a_kernel_start_from_an_empty_namespace(tmp_path):
    """One kernel executes all three pages (one lane); the second chapter sees nothing the first defined.
    (It fails if render.py stops resetting the namespace.)"""
    pages = []
    for name, code in (
        ("landing.qmd", "pass"),
        ("first.qmd", "leak = 1"),
        ("second.qmd", "assert 'leak' not in dir(), 'a name leaked between pages'"),
    ):
        (tmp_path / name).write_text(f"# {name}\n\n```{{python}}\n#| label: setup\n#| include: false\n{code}\n```\n")
        pages.append(str(tmp_path / name))
    config = {**BARE, "book": {**CONFIG["book"], "chapters": [pages[0], {"part": "Test", "chapters": pages[1:]}]}}
    cfg = tmp_path / "_quarto.yml"
    cfg.write_text(yaml.safe_dump(config))
    done = subprocess.run(
        [
            sys.executable,
            "tools/render.py",
            "--config",
            str(cfg),
            "--no-pdf",
            "--jobs",
            "1",
            "--fresh",
            "--out",
            str(tmp_path / "book"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize(
    "command, fails",
    [("python -c \"open('pre.txt', 'w').write('done')\"", False), ('python -c "raise SystemExit(3)"', True)],
)
def test_the_pre_render_step_runs_before_any_page_and_its_failure_fails_the_build(tmp_path, command, fails):
    page = tmp_path / "landing.qmd"
    page.write_text("# Landing\n\n```{python}\n#| label: setup\nprint(open('pre.txt').read())\n```\n")
    config = {
        **CONFIG,
        "project": {**CONFIG["project"], "pre-render": command.replace("pre.txt", str(tmp_path / "pre.txt"))},
        "book": {**CONFIG["book"], "chapters": [str(page)]},
    }
    (tmp_path / "_quarto.yml").write_text(yaml.safe_dump(config))
    page.write_text(page.read_text().replace("pre.txt", str(tmp_path / "pre.txt")))
    done = subprocess.run(
        [
            sys.executable,
            "tools/render.py",
            "--config",
            str(tmp_path / "_quarto.yml"),
            "--no-pdf",
            "--fresh",
            "--out",
            str(tmp_path / "book"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if fails:
        assert done.returncode == 1 and "pre-render command" in done.stderr and "exit 3" in done.stderr
    else:
        assert done.returncode == 0, done.stderr[-2000:]
        assert "done" in (tmp_path / "book" / "landing.html").read_text()


def test_a_failing_cell_fails_the_build_naming_chapter_and_cell(tmp_path):
    done = render_with_chapter(tmp_path, "broken.qmd", "#| label: boom\nraise ValueError('on purpose')")
    assert done.returncode == 1
    assert "broken.qmd" in done.stderr and "boom" in done.stderr and "on purpose" in done.stderr


class Page(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.ids, self.hrefs, self.text, self.body = set(), [], [], {}
        self._skip = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])
        if tag == "body":
            self.body = a
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def browse(page: str) -> Page:
    """The page's DOM after load, from headless Chromium."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "chromium is not installed (make test installs it)"
    done = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={BOOK / '.chromium'}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            (BOOK / page).as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Page(done.stdout)


@pytest.mark.parametrize("page", ["index.html", "anchored.html"])
def test_the_browser_finds_every_image_and_reference(rendered, page):
    dom = browse(page)
    assert dom.body.get("data-broken-images") == "0"  # set by the page's script once everything has loaded
    assert int(dom.body["data-images"]) > 0 or page == "index.html"
    text = " ".join(dom.text)
    assert "#|" not in text and "{python}" not in text
    for href in dom.hrefs:
        target, _, anchor = href.partition("#")
        if href.startswith(("http", "mailto")):
            continue
        if target:
            assert (BOOK / target).exists(), href
        if anchor:
            ids = dom.ids if not target or target == page else Page((BOOK / target).read_text()).ids
            assert anchor in ids, href
    if page != "index.html":
        assert re.search(r"Figure \d+\.\d+", text) and re.search(r"Table \d+\.\d+", text)


@pytest.fixture(scope="module")
def browser(rendered):
    from browser import Browser

    b = Browser(BOOK / ".chromium-devtools")
    yield b
    b.close()


def test_a_reader_filters_the_scorecard_to_one_experiments_failed_claims(browser):
    import pandas as pd

    card = pd.read_csv(ROOT / "figures" / "scorecard.csv")
    failed = card[card["verdict"] == "not reproduced"]
    experiment = failed["experiments"].value_counts().index[0]  # the experiment (or group) with the most failures
    browser.open((BOOK / "scorecard.html").as_uri(), "document.querySelector('.dtsp-searchPane tbody tr')")
    for pane, value in ((0, "✗ not reproduced"), (1, experiment)):
        browser.js(f"""[...document.querySelectorAll('.dtsp-searchPane')[{pane}].querySelectorAll('tbody tr')]
                       .find(r => r.querySelector('.dtsp-name').textContent.trim() === {value!r})
                       .querySelector('td').click()""")
    browser.wait("document.querySelector('.dt-info').textContent.includes('filtered')")
    rows = browser.js(
        "[...document.querySelectorAll('#tbl-scorecard table.display tbody tr')].map(r => [...r.cells].map(c "
        "=> c.textContent))"
    )
    claims = [row[2] for row in rows]
    assert sorted(claims) == sorted(failed.loc[failed["experiments"] == experiment, "statement"])
    assert all(row[0] == "✗ not reproduced" and row[1] == experiment for row in rows)
    assert browser.errors == []


@pytest.mark.parametrize("chapter", ["anchored", "isolated"])
def test_a_reader_turns_a_sweeps_latent_sphere_and_reads_a_colours_name_and_error(browser, chapter):
    sphere = f"document.getElementById('sphere-{chapter}')"
    browser.open((BOOK / f"{chapter}.html").as_uri(), f"{sphere}?.querySelector('.main-svg')")
    traces = browser.js(f"{sphere}.data.map(t => [t.mode, t.visible, (t.text || []).length, t.hovertemplate || ''])")
    points = [t for t in traces if t[0] == "markers"]
    assert len(points) == 2 and [t[1] for t in points] == [
        True,
        False,
    ]  # the baseline shown, the intervened one click away
    assert points[0][2] == 20**3 and "error" in points[0][3] and "near %{text}" in points[0][3]
    names = set(browser.js(f"{sphere}.data[0].text"))
    assert {"red", "cyan", "white", "black"} <= names
    buttons = browser.js(f"[...{sphere}.querySelectorAll('.updatemenu-button')].map(b => b.textContent)")
    assert buttons[0] == "baseline" and buttons[1].startswith("after ")
    browser.js(
        f"{sphere}.querySelectorAll('.updatemenu-button')[1].dispatchEvent(new MouseEvent('click', {{bubbles: true}}))"
    )
    browser.wait(f"{sphere}.data[1].visible === true && {sphere}.data[0].visible === false")
    assert browser.errors == []


def test_a_reader_searches_the_book_and_every_result_leads_somewhere(browser):
    browser.open((BOOK / "index.html").as_uri())
    browser.js(
        "const box = document.getElementById('search-box'); box.value = 'weight ablation'; "
        "box.dispatchEvent(new Event('input'))"
    )
    browser.wait("document.querySelectorAll('#search-results a').length > 0", timeout=10)
    hrefs = browser.js("[...document.querySelectorAll('#search-results a')].map(a => a.getAttribute('href'))")
    assert hrefs and len(hrefs) <= 12
    for href in hrefs:
        target, _, anchor = href.partition("#")
        assert (BOOK / target).exists(), href
        assert not anchor or anchor in Page((BOOK / target).read_text()).ids, href
    assert browser.errors == []


def test_unreadable_cell_options_fail_the_build_naming_chapter_and_cell(tmp_path):
    done = render_with_chapter(tmp_path, "garbled.qmd", "#| label: [unclosed\nx")
    assert done.returncode == 1
    assert "garbled.qmd, cell" in done.stderr and "#| options" in done.stderr


# --- no chapter is a copy of another ------------------------------------------------------------------------

CELL = re.compile(r"```\{python\}\n(.*?)```", re.S)


def prose_sentences(path: Path) -> set[str]:
    """The chapter's prose sentences of eight words or more (headings and code cells left out)."""
    text = CELL.sub("\n\n", path.read_text())
    text = " ".join(line for line in text.splitlines() if not line.startswith("#"))
    return {" ".join(s.split()) for s in re.split(r"(?<=[.?!:])\s+", text) if len(s.split()) >= 8}


def call_runs(path: Path, length: int = 3) -> set[tuple[str, ...]]:
    """Every run of `length` code cells with no prose between them (headings do not count as prose), each cell's
    code with its string literals blanked."""
    runs, run = set(), []
    for piece in re.split(r"(```\{python\}\n.*?```)", path.read_text(), flags=re.S):
        if piece.startswith("```{python}"):
            code = "\n".join(line for line in piece.splitlines()[1:-1] if not line.startswith("#|"))
            run.append(re.sub(r"\"[^\"]*\"", '""', code).strip())
            runs |= {tuple(run[i : i + length]) for i in range(len(run) - length + 1)}
        elif any(line.strip() and not line.startswith("#") for line in piece.splitlines()):
            run = []
    return runs


def shared(items_per_chapter: list[set]) -> list:
    counts = {}
    for items in items_per_chapter:
        for item in items:
            counts[item] = counts.get(item, 0) + 1
    return sorted(item for item, n in counts.items() if n >= 3)


def test_no_prose_sentence_stands_in_three_or_more_chapters():
    assert shared([prose_sentences(p) for p in sources()]) == []


def test_no_run_of_three_calls_repeats_in_three_or_more_chapters():
    assert shared([call_runs(p) for p in sources()]) == []


def test_the_repetition_checks_can_fail(tmp_path):
    chapter = "# A\n\nThe same sentence of prose stands in every one of these chapters.\n\n" + "".join(
        f'```{{python}}\n#| label: c{i}\nf{i}("x")\n```\n\n' for i in range(3)
    )
    paths = []
    for name in "abc":
        (tmp_path / f"{name}.qmd").write_text(chapter)
        paths.append(tmp_path / f"{name}.qmd")
    assert len(shared([prose_sentences(p) for p in paths])) == 1
    assert shared([call_runs(p) for p in paths]) == [('f0("")', 'f1("")', 'f2("")')]
