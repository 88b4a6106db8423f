"""The book: its sources lint clean, Quarto executes and renders every chapter (as `make report` does, failing on
any warning), a failing cell fails the build by name, and a headless browser, served the book over http as a reader
is, finds every image and reference, filters the scorecard, turns a latent sphere and searches."""

import contextlib
import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "_book"
pytestmark = pytest.mark.book  # renders the book, or a small one, with Quarto

CONFIG = yaml.safe_load((ROOT / "_quarto.yml").read_text())
PDF = BOOK / f"{CONFIG['book']['output-file']}.pdf"
# The PDF's main font, and the characters it lacks that the preamble draws from another (\newunicodechar)
MAIN_FONT = CONFIG["format"]["pdf"]["mainfont"]
FALLBACK_CHARS = "".join(
    re.findall(r"\\newunicodechar\{(.)\}", "".join(h["text"] for h in CONFIG["format"]["pdf"]["include-in-header"]))
)


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
    # References to figures and tables a cell emits are invisible to a linter; Quarto warns of an unknown one (which
    # fails the build) and the browser test follows every link, so that one finding is left to them.
    issues = [line for line in done.stdout.splitlines() if "warning[" in line or "error[" in line]
    assert [line for line in issues if "[undefined-reference-label]" not in line] == [], done.stdout + done.stderr
    assert done.returncode == 0 or issues, done.stderr


def page_of(source: Path) -> str:
    """A source's page in the book, as Quarto names it: the source's path with .html."""
    return source.relative_to(ROOT).with_suffix(".html").as_posix()


def book_sh(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(ROOT / "tools" / "book.sh"), *args], cwd=cwd, capture_output=True, text=True, timeout=3000
    )


@pytest.fixture(scope="module")
def rendered():
    """Execute every chapter afresh and render HTML and PDF with Quarto, as `make report` does (which fails on any
    warning of Quarto, pandoc or LaTeX). SCA_BOOK_AS_RENDERED=1 reads the _book/ there is instead (while working on
    these tests)."""
    if os.environ.get("SCA_BOOK_AS_RENDERED") == "1":
        assert (BOOK / "index.html").exists(), "SCA_BOOK_AS_RENDERED=1, but there is no _book/: run make report"
        return None
    shutil.rmtree(ROOT / "_freeze", ignore_errors=True)
    done = book_sh()
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    return done


def test_book_renders_every_page_and_the_pdf(rendered):
    for path in sources():
        assert (BOOK / page_of(path)).exists(), page_of(path)
    assert PDF.read_bytes().startswith(b"%PDF") and PDF.stat().st_size > 500_000


def pdf_text() -> str:
    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(PDF).pages)


def test_the_pdf_prints_every_verdict_mark_once_per_claim_and_no_code(rendered):
    """The PDF draws ✓ and ✗ (DejaVu Serif lacks them: the preamble maps them to DejaVu Sans), the scorecard's rows
    once (not a second time from the HTML table), and, as `format: pdf: echo: false` asks, no code."""
    import pandas as pd

    text = pdf_text()
    card = pd.read_csv(ROOT / "figures" / "scorecard.csv")
    assert text.count("✓") >= (card["mark"] == "✓").sum() > 0 and text.count("✗") >= (card["mark"] == "✗").sum() > 0
    statement = card["statement"].iloc[len(card) // 2]
    assert 1 <= " ".join(text.split()).count(" ".join(statement.split()[:6])) <= 3  # the scorecard, its chapter
    assert CONFIG["format"]["pdf"]["echo"] is False and "sections." not in text and "report." not in text
    assert "The sphere below" not in text  # HTML-only content (Quarto's content-visible) stays out of the PDF


def test_the_pdfs_contents_never_fuse_a_sections_number_with_its_title(rendered):
    """'11.2 The answer', not '11.2The answer': the contents give a two-digit chapter's section numbers room."""
    from pypdf import PdfReader

    reader = PdfReader(PDF)
    contents = "\n".join(reader.pages[i].extract_text() for i in range(1, 6))
    assert "Table of contents" in contents and re.search(r"^1\.1 \w", contents, re.M)
    assert re.findall(r"^\d+\.\d+[A-Za-z]", contents, re.M) == []


def test_the_pdfs_links_to_the_books_files_lead_to_them(rendered):
    """A CSV link in the PDF leads to the file: from the book's root, where the PDF lies, or into the published
    site (`book: site-url`, for a GitHub repository), where the same path holds it."""
    from pypdf import PdfReader

    site = (yaml.safe_load((ROOT / "_provenance.yml").read_text()).get("book") or {}).get("site-url", "")
    uris = {
        a.get_object()["/A"]["/URI"]
        for page in PdfReader(PDF).pages
        for a in page.get("/Annots") or []
        if "/URI" in (a.get_object().get("/A") or {})
    }
    files = [u.removeprefix(site) if site else u for u in uris if u.endswith((".csv", ".json"))]
    assert len(files) > 3 * 10
    assert [f for f in files if "://" in f or not (BOOK / f).is_file()] == []


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


def test_every_character_the_book_prints_has_a_glyph_in_the_pdf(rendered):
    """Every character of the rendered pages is in the PDF's main font, or drawn from the fallback font."""
    import html as html_lib

    chars = set()
    for page in BOOK.rglob("*.html"):
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
            ["fc-list", f":family={MAIN_FONT}:charset={ord(c):x}", "family"], capture_output=True, text=True
        ).stdout.strip()
    }
    assert chars and FALLBACK_CHARS and lacking <= set(FALLBACK_CHARS), sorted(lacking - set(FALLBACK_CHARS))


def small_book(folder: Path, chapter: str) -> subprocess.CompletedProcess:
    """Render, as `make report` does, a book of a landing page and one chapter (HTML only)."""
    (folder / "index.qmd").write_text("# Landing\n\nText.\n")
    (folder / "chapter.qmd").write_text(chapter)
    config = {"project": {"type": "book"}, "book": {"title": "T", "chapters": ["index.qmd", "chapter.qmd"]}}
    (folder / "_quarto.yml").write_text(yaml.safe_dump(config))
    return book_sh("--to", "html", cwd=folder)


def test_a_failing_cell_fails_the_build_naming_chapter_and_cell(tmp_path):
    done = small_book(
        tmp_path,
        "# Broken\n\n```{python}\n#| label: setup\n#| include: false\nx = 1\n```\n\n"
        "```{python}\n#| label: boom\nraise ValueError('on purpose')\n```\n",
    )
    out = done.stdout + done.stderr
    assert done.returncode != 0 and "chapter.qmd" in out and "boom" in out and "on purpose" in out, out[-3000:]


def test_a_warning_of_quarto_fails_the_build(tmp_path):
    """A reference to a figure that does not exist: Quarto only warns (in colour), and `make report` fails."""
    done = small_book(tmp_path, "# Chapter\n\nAs @fig-nowhere shows.\n")
    out = done.stdout + done.stderr
    assert done.returncode == 1 and "fig-nowhere" in out and "the warnings above fail the build" in out, out[-3000:]
    assert small_book(tmp_path, "# Chapter\n\nAs nothing shows.\n").returncode == 0  # and without it, passes


class Page(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.ids, self.hrefs, self.text = set(), [], []
        self._skip = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(rendered):
    """The book served over http on a free local port (Quarto's pages load their search index and scripts with
    requests that file:// refuses): its base address."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(BOOK)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(site):
    from browser import Browser

    b = Browser(BOOK.parent / ".pytest_cache" / "chromium")
    yield b
    b.close()


def local_target(site: str, page: str, href: str) -> tuple[Path, str] | None:
    """The file in the book and the anchor a link on `page` leads to; None for a link out of the book."""
    url = urlsplit(urljoin(site + page, href))
    if f"{url.scheme}://{url.netloc}/" != site:
        return None
    path = BOOK / url.path.lstrip("/")
    return (path / "index.html" if path.is_dir() else path), url.fragment


@pytest.mark.parametrize("page", ["index.html", "chapters/anchored.html", "chapters/scorecard.html"])
def test_the_browser_finds_every_image_and_reference(browser, site, page):
    browser.errors.clear()
    browser.open(site + page)
    images = browser.js("[...document.images].map(i => [i.currentSrc, i.complete && i.naturalWidth > 0])")
    assert [src for src, ok in images if not ok] == []
    assert len(images) > 0 or page == "index.html"
    text = browser.js("document.body.innerText")
    assert "#|" not in text and "{python}" not in text and "?@" not in text and "?fig-" not in text
    hrefs = browser.js("[...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))")
    ids = set(browser.js("[...document.querySelectorAll('[id]')].map(e => e.id)"))
    for href in hrefs:
        target = local_target(site, page, href)
        if target is None:
            continue
        path, anchor = target
        assert path.exists(), href
        if anchor and path.suffix == ".html":
            assert anchor in (ids if path == BOOK / page else Page(path.read_text()).ids), href
    if page != "index.html":
        assert re.search(r"Figure\s\d+\.\d+", text) and re.search(r"Table\s\d+\.\d+", text)
    assert browser.errors == []


AXE = ROOT / ".venv" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
READY = {  # what a page has drawn once its scripts have run
    "index.html": "document.querySelector('main img')",
    "chapters/scorecard.html": "document.querySelector('.dtsp-searchPane tbody tr')",
    "chapters/anchored.html": "document.querySelector('#sphere-anchored .main-svg')",
}


TOC_STATE = """(() => {
  const links = [...document.querySelectorAll('#quarto-margin-sidebar #TOC a')].map(a => {
    const r = a.getBoundingClientRect();
    const hit = r.width && r.height ? document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2) : null;
    const under = !!hit && !!hit.closest('table, .dt-container, .cell-output-display');
    return {drawn: !!hit && a.contains(hit), under};
  });
  const collapsed = document.getElementById('quarto-margin-sidebar').classList.contains('sidebar-unpinned');
  return {drawn: links.filter(l => l.drawn).length, under: links.filter(l => l.under).length, collapsed};
})()"""


@pytest.mark.parametrize("page, table", [("chapters/scorecard.html", "tbl-scorecard"), ("index.html", "tbl-headline")])
def test_a_wide_table_in_view_never_covers_the_table_of_contents(browser, site, page, table):
    """At 1400 px, with the table scrolled into view, the page's table of contents is either drawn whole, no link of
    it under the table, or folded away into Quarto's 'Table of contents' toggle."""
    browser.open(site + page, READY[page])
    browser.js(f"document.getElementById('{table}').scrollIntoView()")
    # Quarto folds the sidebars on the scroll event, once it has measured the page
    ok = f"(s => s.collapsed || (s.drawn > 0 && s.under === 0))({TOC_STATE})"
    with contextlib.suppress(TimeoutError):
        browser.wait(ok, timeout=10)
    state = browser.js(TOC_STATE)
    assert state["collapsed"] or (state["drawn"] > 0 and state["under"] == 0), state


def test_a_phone_sees_content_on_its_first_screen_and_the_search_a_tap_away(browser, site):
    """At 420 px: the title and the first paragraph on the first screen, the sidebar folded into a toggle, and the
    search a button in the top bar."""
    browser.resize(420, 900, mobile=True)
    try:
        browser.open(site + "chapters/anchored.html")
        first = rect(browser, "document.querySelector('main p')")
        title = rect(browser, "document.querySelector('main h1')")
        assert 0 <= title["top"] < first["top"] < first["screen"] * 0.6, (title, first)
        sidebar = rect(browser, "document.getElementById('quarto-sidebar')")
        assert sidebar["width"] == 0 or sidebar["right"] <= 0 or sidebar["height"] == 0, sidebar
        search = rect(browser, "document.querySelector('.quarto-secondary-nav .quarto-search-button')")
        assert search["width"] > 0 and search["top"] >= 0 and search["bottom"] <= 80 and search["right"] <= 420, search
        # nothing wider than the phone: a wide table scrolls in its own box, not the page
        assert browser.js("document.documentElement.scrollWidth") <= 420
    finally:
        browser.resize(1400, 1000)


def test_a_reader_filters_the_scorecard_to_one_experiments_failed_claims(browser, site):
    import pandas as pd

    card = pd.read_csv(ROOT / "figures" / "scorecard.csv")
    failed = card[card["verdict"] == "not reproduced"]
    experiment = failed["experiments"].value_counts().index[0]  # the experiment (or group) with the most failures
    browser.errors.clear()
    browser.open(site + "chapters/scorecard.html", "document.querySelector('.dtsp-searchPane tbody tr')")
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
def test_a_reader_turns_a_sweeps_latent_sphere_and_reads_a_colours_name_and_error(browser, site, chapter):
    sphere = f"document.getElementById('sphere-{chapter}')"
    browser.errors.clear()
    browser.open(site + f"chapters/{chapter}.html", f"{sphere}?.querySelector('.main-svg')")
    traces = browser.js(f"{sphere}.data.map(t => [t.mode, t.visible, (t.text || []).length, t.hovertemplate || ''])")
    points = [t for t in traces if t[0] == "markers"]
    # the baseline shown, the intervened one click away
    assert len(points) == 2 and [t[1] for t in points] == [True, False]
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


def rect(browser, element: str) -> dict:
    """Where an element (a JavaScript expression) is in the viewport, and the viewport's height (`screen`)."""
    return browser.js(
        f"(() => {{ const r = ({element}).getBoundingClientRect(); return {{top: r.top, bottom: r.bottom, "
        "left: r.left, right: r.right, width: r.width, height: r.height, screen: innerHeight}; })()"
    )


@pytest.mark.parametrize("page", list(READY))
def test_axe_finds_no_serious_or_critical_accessibility_violation(browser, site, page):
    """axe-core's rules over the landing page, the scorecard (DataTables) and a sweep chapter (plotly)."""
    assert AXE.exists(), "axe-core is not installed (make test installs it: make axe)"
    browser.open(site + page, READY[page])
    browser.js(AXE.read_text() + ";0")
    found = browser.js(
        "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact))"
        ".map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 4).map(n => n.target.join(' ')).join('; ')}`))"
    )
    assert found == [], "\n".join(found)


SEARCH = "weight ablation"
SEARCH_BOX = "document.querySelector('#quarto-search .aa-Input')"


def test_a_reader_searches_the_book_and_every_result_leads_to_a_section(browser, site):
    """Quarto's search box, in sight on the first screen at 1400 px, typed into as a reader does: results come, and
    each leads to a page and a section that exist."""
    browser.errors.clear()
    browser.open(site + "index.html", SEARCH_BOX)
    box = rect(browser, SEARCH_BOX)
    assert box["width"] > 0 and box["top"] >= 0 and box["bottom"] <= box["screen"]
    browser.js(f"{SEARCH_BOX}.focus()")
    browser.send("Input.insertText", session=True, text=SEARCH)
    browser.wait("document.querySelectorAll('.aa-Panel a.search-result-link').length > 0", timeout=20)
    hrefs = browser.js(
        "[...document.querySelectorAll('.aa-Panel a.search-result-link')].map(a => a.getAttribute('href'))"
    )
    assert hrefs
    for href in hrefs:
        target = local_target(site, "index.html", href)
        assert target is not None, href
        path, anchor = target
        assert path.exists(), href
        assert not anchor or anchor in Page(path.read_text()).ids, href
    assert browser.errors == []


def numbers_share(text: str) -> float:
    """The share of a text's words that are numbers."""
    words = text.split()
    return sum(bool(re.fullmatch(r"[-+−–]?[\d.,]+%?", w)) for w in words) / max(1, len(words))


def test_every_entry_of_the_search_index_is_mostly_words(rendered):
    """Quarto indexes the book by section; no entry is a table's dump (half its words numbers), so that a search
    leads to prose. (The rule can fail: a table's row reads as one.)"""
    import json

    entries = json.loads((BOOK / "search.json").read_text())
    assert len(entries) > 50 and numbers_share("red 0.002 0.000 -0.001 0.001") > 0.5
    assert [(e["href"], round(numbers_share(e["text"]), 2)) for e in entries if numbers_share(e["text"]) > 0.5] == []


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
