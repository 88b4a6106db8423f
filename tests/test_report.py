"""The report's sentences are built from the card's columns: a verdict that flips changes the sentence."""

import pandas as pd

from sca import report


def card(verdict: str, kind: str = "comparison") -> pd.DataFrame:
    mark = {"reproduced": "✓", "marginal": "~", "not reproduced": "✗"}[verdict]
    return pd.DataFrame(
        [
            {
                "experiment": "2.4",
                "experiments": "2.4, 2.3",
                "kind": kind,
                "evidence": kind != "construction",
                "statement": "regularizing after normalisation gives cleaner interventions",
                "sources": "NB 2.4",
                "verdict": verdict,
                "mark": mark,
                "reason": "difference of medians 0.1",
            }
        ],
        index=["k"],
    )


def test_the_answer_follows_the_verdict():
    held = report._conclusion_text(card("reproduced"), "2.4")
    failed = report._conclusion_text(card("not reproduced"), "2.4")
    assert "cleaner interventions holds over our seeds" in held and "1 reproduce" in held and "exceptions" not in held
    assert "cleaner interventions does not hold over our seeds" in failed and "0 reproduce" in failed
    assert "The exceptions" in failed and "difference of medians 0.1" in failed


def test_a_chapter_without_comparisons_gives_its_counts_only():
    text = report._conclusion_text(card("marginal", kind="selected"), "2.4")
    assert "The answer" not in text and "1 is marginal" in text


def test_sanity_checks_are_counted_apart():
    text = report._verdict_text(card("reproduced", kind="construction"))
    assert text.startswith("Of 0 distinct measurements") and "1 of 1 sanity check by construction holds" in text


def test_each_sweep_is_compared_with_its_notebook_on_a_variant_both_share():
    from sca import analysis, experiments

    assert set(analysis.REDUX) == set(experiments.SWEEPS)
    for sweep, (old, variant, measures) in analysis.REDUX.items():
        new_v, old_v = experiments.get(sweep).variant(variant), experiments.get(old).variant(variant)
        assert (new_v.metric, new_v.power) == (old_v.metric, old_v.power), sweep  # R² against the same predictor
        assert old in experiments.OLD and "r2" in measures


def test_the_run_sentences_are_built_from_the_run(small_run):
    """Sweep, label and bounds sentences on a small run: every number in them is the run's own."""
    text = report.sweep_sentence(small_run).data
    assert f"Over {len(small_run.runs)} seeds" in text and f"seed {small_run.selected_seed}" in text
    assert f"{small_run.runs['score'].mean():.3f}" in text
    labels = report.labels_sentence(small_run).data
    assert all(f"{small_run.runs[c].mean():.1f} samples" in labels for c in small_run.runs if c.startswith("labels_"))
    bounds = report.bounds_sentence(small_run).data
    assert f"{small_run.delta('suppression', 'red'):.3f}" in bounds and "1/4" in bounds


def test_the_calibration_judgement_flips_with_the_draws():
    """Uniform percentiles are within chance; percentiles piled beyond our seeds are more than chance gives."""
    import numpy as np

    from sca import rules

    assert rules.calibration(np.linspace(2, 98, 40), 20)["against_chance"] == "chance"
    assert rules.calibration(np.r_[np.zeros(20), np.linspace(10, 90, 20)], 20)["against_chance"] == "more"


def _blocks(markdown: str) -> list[str]:
    """The kinds of pandoc's top-level blocks for a Markdown text."""
    from pandoc_ast import blocks

    return [block["t"] for block in blocks(markdown)]


FIGURE = "![A caption.](x.png){#fig-x}\n\n"


def test_a_paragraph_that_opens_with_a_verdict_stays_a_paragraph_after_a_figure():
    for verdict in ("reproduced", "marginal", "not reproduced"):
        assert _blocks(FIGURE + f"{report.lead(verdict)} *A claim* holds.\n") == ["Figure", "Para"], verdict
    # the check can fail: a bare marginal mark makes the figure a definition list's term
    assert "DefinitionList" in _blocks(FIGURE + "~ *A claim* holds.\n")


def test_a_percentile_is_written_as_english_writes_an_ordinal():
    from sca import rules

    written = [rules.ordinal(x) for x in (1, 2, 3, 4, 11, 12, 13, 21, 22.4, 52.6, 93, 100, 111, 0)]
    assert written == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "13th",
        "21st",
        "22nd",
        "53rd",
        "93rd",
        "100th",
        "111th",
        "0th",
    ]
