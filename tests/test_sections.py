"""The chapter sections: one call each, emitting Quarto Markdown whose labels, captions and alt texts are computed
from the run, in the syntax pandoc (and so Quarto) reads as cross-referenceable figures and tables."""

import json
import re
from dataclasses import replace
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure

from pandoc_ast import blocks
from sca import quarto, sections

ROOT = Path(__file__).resolve().parents[1]


def plain(inlines: list[dict]) -> str:
    """The text of pandoc inlines."""
    return "".join(i["c"] if i["t"] == "Str" else " " if i["t"] in ("Space", "SoftBreak") else "" for i in inlines)


def floats(block: quarto.Block) -> tuple[list[dict], list[dict]]:
    """The figures (label, caption, alt, src) and tables (label, classes, raw formats, caption) a block defines."""
    figs, tbls = [], []
    for b in blocks(block.text):
        if b["t"] == "Figure":
            (label, _, _), (_, caption), content = b["c"]
            (image,) = [i for i in content[0]["c"] if i["t"] == "Image"]
            (_, _, attrs), _, (src, _) = image["c"]
            figs.append(
                {"label": label, "caption": plain(caption[0]["c"]), "alt": dict(attrs).get("fig-alt"), "src": src}
            )
        elif b["t"] == "Div" and b["c"][0][0].startswith("tbl-"):
            (label, classes, _), body = b["c"]
            raws = {x["c"][0]: x["c"][1] for x in body if x["t"] == "RawBlock"}
            caption = " ".join(plain(x["c"]) for x in body if x["t"] == "Para")
            tbls.append({"label": label, "classes": classes, "raw": raws, "caption": caption})
    return figs, tbls


def links(block: quarto.Block) -> list[str]:
    """Every link target in a block."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("t") == "Link":
                found.append(node["c"][2][0])
            walk(node.get("c"))
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks(block.text))
    return found


def test_a_figure_and_a_table_round_trip_through_pandocs_reader(tmp_path, monkeypatch):
    monkeypatch.setenv("SCA_FIGURES_DIR", str(tmp_path))
    fig = Figure()
    fig.subplots().plot([0, 1])
    block = quarto.figure(fig, "x", "line", "fig-x-line", "A [bracketed] caption", 'Alt "quoted" text')
    (m,), _ = floats(block)
    assert m["label"] == "fig-x-line" and m["alt"] == "Alt 'quoted' text"
    assert m["caption"] == "A [bracketed] caption" and Path(m["src"]).exists()
    import pandas as pd

    table = quarto.float_table(
        quarto.table(pd.DataFrame({"a": [1.5]}), {"a": "{:.1f}"}), "tbl-x-a", "A caption.", wide=True
    )
    _, (t,) = floats(table)
    assert t["label"] == "tbl-x-a" and t["classes"] == ["column-page"] and t["caption"] == "A caption."
    assert "1.5" in t["raw"]["html"] and "\\begin{longtable}" in t["raw"]["latex"] and "1.5" in t["raw"]["latex"]


def test_a_bad_label_is_refused():
    import pytest

    with pytest.raises(ValueError, match="not a tbl label"):
        quarto.float_table(quarto.Table("", ""), "fig-not-a-table", "c")


def test_the_sections_label_caption_and_describe_every_figure_and_table(small_run, tmp_path, monkeypatch):
    monkeypatch.setenv("SCA_FIGURES_DIR", str(tmp_path))
    blocks = [sections.design(small_run), sections.selection(small_run), sections.variants(small_run)]
    labels = [label for b in blocks for label in b.labels]
    assert len(labels) == len(set(labels)) and all(
        re.fullmatch(r"(fig|tbl)-anchored-[a-z-]+", label) for label in labels
    )
    figs, tbls = zip(*(floats(b) for b in blocks))
    figs, tbls = sum(figs, []), sum(tbls, [])
    assert {m["label"] for m in figs} | {m["label"] for m in tbls} == set(labels)
    for m in figs:
        assert m["caption"] and m["alt"] and Path(m["src"]).exists(), m["label"]
    for m in tbls:
        assert set(m["raw"]) == {"html", "latex"} and m["caption"], m["label"]
    text = "\n".join(b.text for b in blocks)
    assert f"seed {small_run.selected_seed}" in text and f"over {len(small_run.runs)} seeds" in text.lower()


def test_alt_text_follows_the_data(small_run, tmp_path, monkeypatch):
    """The stacked figure's alt text names the colours whose error rises most; change the numbers and it changes."""
    monkeypatch.setenv("SCA_FIGURES_DIR", str(tmp_path))
    alt = sections._stacked_alt(small_run, "suppression")
    top = (small_run.variants["suppression"].named - small_run.variants["baseline"].named).idxmax()
    assert f"rises most are {top} " in alt
    named = small_run.variants["suppression"].named.copy()
    named["white"] = named.max() + 1.0
    changed = replace(
        small_run,
        variants={**small_run.variants, "suppression": replace(small_run.variants["suppression"], named=named)},
    )
    assert "rises most are white " in sections._stacked_alt(changed, "suppression")


def test_the_chapter_data_is_written_as_csv_linked_and_described(small_run, tmp_path, monkeypatch):
    """Three CSV files, each naming its experiment (the one model's file, its seed too), none with an empty column,
    and a data package that gives every column of every file a meaning and a unit."""
    import pandas as pd

    monkeypatch.setenv("SCA_FIGURES_DIR", str(tmp_path))
    block = sections.data(small_run)
    data = [src for src in links(block) if src.endswith(".csv")]
    assert len(data) == 3 and all(Path(src).exists() for src in data)
    frames = {Path(src).name: pd.read_csv(src) for src in data}
    seeds = frames["seeds.csv"]
    assert list(seeds["seed"]) == list(small_run.runs.index) and "score" in seeds
    named = frames["named-colours.csv"]
    assert {"name", "r", "g", "b", "baseline"} <= set(named.columns)
    assert len(named) == len(small_run.variants["baseline"].named) and set(named["seed"]) == {small_run.selected_seed}
    for file, frame in frames.items():
        assert set(frame["experiment"].astype(str)) == {small_run.experiment.name}, file
        assert [c for c in frame.columns if frame[c].isna().all()] == [], file
    (package,) = [src for src in links(block) if src.endswith("datapackage.json")]
    described = {r["path"]: r["schema"]["fields"] for r in json.loads(Path(package).read_text())["resources"]}
    assert set(described) == set(frames)
    for file, fields in described.items():
        assert [f["name"] for f in fields] == list(frames[file].columns), file
        assert all(f["description"] and "unit" in f and f["type"] for f in fields), file
    units = {f["name"]: f["unit"] for f in described["seeds-by-variant.csv"]}
    assert units["mse:red"].startswith("MSE") and units["de:cyan"].startswith("CIEDE2000") and units["red_r"]


def test_a_column_nobody_described_is_refused_before_anything_is_written(tmp_path):
    import pandas as pd
    import pytest

    from sca import datapackage

    assert datapackage.describe("red_g")[0] == "what pure red decodes to: its green channel"
    assert datapackage.describe("suppression-delta")[0].startswith("the change of the colour's error under suppression")
    with pytest.raises(ValueError, match="'mystery'"):
        datapackage.write(tmp_path / "x", "2.4.1", "t", {"a.csv": ("a", pd.DataFrame({"seed": [1], "mystery": [2]}))})
    assert not (tmp_path / "x").exists()


def test_every_experiment_names_its_chapter():
    from sca import experiments

    assert set(sections.CHAPTERS) == set(experiments.EXPERIMENTS)
    for name, slug in sections.CHAPTERS.items():
        chapter = ROOT / "chapters" / f"{slug.removesuffix('-sigmoid')}.qmd"
        assert chapter.exists() and f'report.load("{name}")' in chapter.read_text(), name


def test_a_table_shows_as_markdown_not_html():
    """Quarto adds require.js and jQuery from a CDN to any page with an HTML output, which fails offline; a table is
    Markdown holding both renderings as raw blocks, whose fences outgrow any run of backticks inside."""
    from IPython.core.formatters import DisplayFormatter

    from sca import quarto

    table = quarto.Table("<table><tr><td>```x```</td></tr></table>", "\\begin{tabular}{l}x\\end{tabular}")
    data, _ = DisplayFormatter().format(table)
    assert "text/html" not in data and "text/latex" not in data
    assert (
        data["text/markdown"].startswith('````{=html}\n<div class="sca-table" tabindex="0">\n<table>')
        and "````{=latex}\n\\begin{tabular}" in data["text/markdown"]
    )
