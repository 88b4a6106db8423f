"""What a chapter calls: one short call per figure, table or computed sentence.

Every figure is saved under figures/<experiment>/ (PNG and PDF) and shown from that PNG; tables carry
an HTML and a LaTeX rendering so the book's HTML and PDF each get a real table; sentences are Markdown
with our numbers and the published ones side by side.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

import pandas as pd
from IPython.display import Image, Markdown

from . import experiments, figures, reference, tables
from .evaluate import ablation_bound, suppression_bound
from .interventions import Suppression
from .schedule import load_schedule
from .sweep import RunResult, compare_statistics, run

VARIANT_LABEL = {"baseline": "baseline", "suppression": "suppression", "repulsion": "repulsion",
                 "ablated": "weight ablation", "pruned": "pruning"}


def load(name: str) -> RunResult:
    """The experiment's 60-seed run: loaded from the cache, or trained (quietly) and cached."""
    return run(experiments.get(name))


@dataclass
class Table:
    """A table for both outputs of the book: `html` for the web pages, `latex` for the PDF."""

    html: str
    latex: str
    frame: pd.DataFrame | None = None  # the numbers behind it, for computed prose

    def _repr_html_(self) -> str:
        return self.html

    def _repr_latex_(self) -> str:
        return self.latex


def _table(df: pd.DataFrame, formats: dict[str, str] | None = None, index: bool = False) -> Table:
    styler = df.style.format(formats or {}, na_rep="–")
    if not index:
        styler = styler.hide(axis="index")
    latex = styler.to_latex(hrules=True, convert_css=False).replace("%", r"\%").replace("_", r"\_").replace("Δ", r"$\Delta$").replace("^", r"\textasciicircum{}")
    return Table(styler.to_html(), latex, df)


def _show(fig, r: RunResult, name: str) -> Image:
    figures.save(fig, r.experiment.name, name)
    return Image(filename=str(figures.figures_dir() / r.experiment.name / f"{name}.png"))


# --- the setup of an experiment -----------------------------------------------------------------------

def regularizer_table(r: RunResult) -> Table:
    rows = []
    for reg in r.experiment.regularizers:
        params = {"direction": reg.direction or None, "dims": reg.dims or None}
        if reg.kind == "subspace":
            params["penalises"] = "listed dims" if reg.invert else "dims outside the list"
        if reg.kind == "separate":
            params |= {"power": reg.power, "shift": reg.shift}
        rows.append({"name": reg.name, "kind": reg.kind, "layer": f"{reg.layer}-norm",
                     "labels": ", ".join(reg.labels) or "all samples", "validated": "yes" if reg.validate else "",
                     "parameters": "; ".join(f"{k} {v}" for k, v in params.items() if v is not None)})
    return _table(pd.DataFrame(rows))


def schedule_table(r: RunResult) -> Table:
    schedule = load_schedule(r.experiment.schedule)
    df = pd.DataFrame([{"step": step, **values} for step, values in schedule.rows])
    return _table(df, {c: "{:g}" for c in df.columns if c != "step"})


def schedule_figure(r: RunResult) -> Image:
    return _show(figures.schedule_figure(load_schedule(r.experiment.schedule)), r, "schedule")


# --- the sweep -------------------------------------------------------------------------------------------

def seed_figure(r: RunResult) -> Image:
    return _show(figures.seed_distributions(r), r, "seed-distributions")


def training_figure(r: RunResult) -> Image:
    return _show(figures.training_curves(r.train, r.selected_seed), r, "training-curves")


def statistics_table(r: RunResult) -> Table:
    df = compare_statistics(r).reset_index()
    return _table(df, {c: "{:.4g}" for c in df.columns if c != "metric"})


def pareto_table(r: RunResult) -> Table:
    df = r.runs[r.runs["pareto"]].drop(columns="pareto").sort_values("score", ascending=False)
    return _table(df, {c: "{:.4g}" for c in df.columns if c != "seed"})


def sweep_sentence(r: RunResult) -> Markdown:
    name, scores = r.experiment.name, r.runs["score"]
    seed, front = r.selected_seed, int(r.runs["pareto"].sum())
    text = (f"Over {len(scores)} seeds the score has mean {scores.mean():.3f} ± {scores.std():.3f} "
            f"(min {scores.min():.3f}, max {scores.max():.3f}); {front} runs are on the Pareto front and the "
            f"selected model is seed {seed} (score {scores[seed]:.3f}).")
    if name in reference.SWEEP_STATS:
        lo, hi, mean, std = reference.SWEEP_STATS[name]["score"]
        pseed, pscore, pfront = reference.SELECTED[name]
        text += (f" The original notebook reports {mean:.3f} ± {std:.3f} (min {lo:.3f}, max {hi:.3f}), "
                 f"a front of {pfront} and seed {pseed} (score {pscore:.3f}).")
    return Markdown(text)


# --- the selected model --------------------------------------------------------------------------------

def stacked_figure(r: RunResult, variant: str) -> Image:
    """The paper's results figure for one variant; error axes shared by the variants that share a scale
    (inference-time interventions and the baseline; surgery has its own)."""
    group = [v for v in r.variants.values() if (v.variant.surgery is None) == (r.variants[variant].variant.surgery is None)]
    anchor = next((reg.direction for reg in r.experiment.regularizers if reg.kind in ("anchor", "angular-anchor")), None)
    dims = r.experiment.latent_dims
    if r.variants[variant].variant.surgery and r.variants[variant].variant.surgery[0] == "prune":
        dims = _pruned_dims(dims, r.variants[variant].variant.surgery[1], r.variants[variant].latents.shape[1])
        anchor = None
    fig = figures.stacked_figure(r.variants[variant], dims, figures.shared_ymax(group), anchor)
    return _show(fig, r, f"results-{variant}")


def _pruned_dims(dims, removed, k):
    """Renumber the panel dims of the full model for a pruned one (a removed dim becomes None)."""
    keep = [d for d in range(k + len(removed)) if d not in removed]
    return tuple(tuple(keep.index(d) if d in keep else None for d in triple) for triple in dims)


def similarity_figure(r: RunResult, variant: str) -> Image:
    v = r.variants[variant].variant
    kind = "similarity" if v.metric == "similarity" else "vibrancy"
    return _show(figures.error_vs_predictor(r.variants[variant]), r, f"error-vs-{kind}-{variant}")


def slices_figure(r: RunResult) -> Image:
    """Reconstructions of the colour-slice grid under every variant, one row each."""
    return _show(figures.color_slices(*r.variants.values()), r, "color-slices")


def color_table(r: RunResult) -> Table:
    """Per named colour: baseline MSE, and each variant's MSE and Δ (heat-shaded in HTML). Also written
    to figures/<experiment>/table-error-by-colour.tex for papers."""
    name = r.experiment.name
    caption = f"Change in reconstruction error by colour, experiment {name}, selected seed {r.selected_seed}"
    tex = tables.latex_table(r.variants, figures.figures_dir() / name / "table-error-by-colour.tex",
                             caption=caption, label=f"tab:{name}-error-by-colour")
    if shutil.which("xelatex"):  # also a PDF of it, to check the table at a glance (needs TeX)
        tables.compile_table(tex)
    latex = tex.read_text().replace(r"\begin{table}", "").replace(r"\end{table}", "")
    latex = "\n".join(line for line in latex.splitlines() if not line.strip().startswith((r"\caption", r"\label", r"\centering")))
    return Table(tables.styled_table(r.variants).to_html(), latex)


def headline_table(r: RunResult) -> Table:
    """Red and cyan Δ and R² per variant: ours, the original's selected model, and the original code
    re-run with another random stream."""
    name = r.experiment.name
    rows = []
    for variant, v in r.variants.items():
        if variant == "baseline":
            continue
        row = {"variant": VARIANT_LABEL[variant], "red Δ": r.delta(variant, "red"),
               "cyan Δ": r.delta(variant, "cyan"), "R²": v.r2,
               "predictor": f"{'sim' if v.variant.metric == 'similarity' else 'vib'}^{v.variant.power:g}"}
        for source, data in (("original", reference.HEADLINE), ("re-run", reference.RERUN_HEADLINE)):
            values = data.get(name, {}).get(variant)
            if values:
                row |= {f"{source} red Δ": values[0], f"{source} cyan Δ": values[1], f"{source} R²": values[2]}
        rows.append(row)
    df = pd.DataFrame(rows)
    return _table(df, {c: "{:+.3f}" if "Δ" in c else "{:.2f}" for c in df.columns if c not in ("variant", "predictor")})


def verdict(r: RunResult) -> Markdown:
    """Where our selected model agrees with the original and where not, by how much, computed."""
    name = r.experiment.name
    lines = []
    for variant, v in r.variants.items():
        if variant == "baseline" or name not in reference.HEADLINE or variant not in reference.HEADLINE[name]:
            continue
        red, cyan, r2 = r.delta(variant, "red"), r.delta(variant, "cyan"), v.r2
        p_red, p_cyan, p_r2 = reference.HEADLINE[name][variant]
        rerun = reference.RERUN_HEADLINE.get(name, {}).get(variant)
        gap = red - p_red
        spread = f" (the original code with another random stream gave {rerun[0]:.3f})" if rerun else ""
        judgement = "agrees" if abs(gap) <= 0.03 else ("is lower" if gap < 0 else "is higher")
        lines.append(f"- **{VARIANT_LABEL[variant].capitalize()}**: red Δ {red:.3f} against {p_red:.3f} published, "
                     f"a difference of {gap:+.3f}, so ours {judgement}{spread}; cyan Δ {cyan:+.3f} against {p_cyan:+.3f}; "
                     f"R² {r2:.2f} against {p_r2:.2f}.")
    return Markdown("\n".join(lines))


def bounds_sentence(r: RunResult) -> Markdown:
    """Red's error under suppression and surgery against the paper's analytic reference values:
    1/4 if suppressed red decodes to mid-grey, 1/3 if ablated red decodes to a random colour."""
    parts = []
    for variant, v in r.variants.items():
        if isinstance(v.variant.intervention, Suppression):
            bound, label = suppression_bound(), "1/4"
        elif v.variant.surgery:
            bound, label = ablation_bound(), "1/3"
        else:
            continue
        parts.append(f"{VARIANT_LABEL[variant]} raises red's error by {r.delta(variant, 'red'):.3f} "
                     f"(reference value {label} = {bound:.3f})")
    return Markdown(("For the selected model, " + "; ".join(parts) + ".") if parts else "")


# --- the book's headline ----------------------------------------------------------------------------------

HEADLINE_ROWS = (("2.4.1", "anchored", "suppression"), ("2.4.1", "anchored", "ablated"),
                 ("2.9.1", "isolated", "ablated"), ("2.9.1", "isolated", "suppression"))


def book_headline() -> Table:
    """The paper's Table 1 numbers for red and cyan, and R², beside ours (each model the selected one of 60 seeds)."""
    rows = []
    for name, model, variant in HEADLINE_ROWS:
        r = load(name)
        v = r.variants[variant]
        p_red, p_cyan, _ = reference.HEADLINE[name][variant]
        p_r2 = reference.PAPER_R2[(name, variant)]
        rows.append({"model": f"{model} ({name})", "intervention": VARIANT_LABEL[variant],
                     "red Δ paper": p_red, "red Δ ours": r.delta(variant, "red"),
                     "cyan Δ paper": p_cyan, "cyan Δ ours": r.delta(variant, "cyan"),
                     "R² paper": p_r2, "R² ours": v.r2})
    df = pd.DataFrame(rows)
    return _table(df, {c: "{:+.3f}" if "Δ" in c else "{:.2f}" for c in df.columns if c not in ("model", "intervention")})


def book_headline_sentence(headline: Table) -> Markdown:
    df = headline.frame
    gaps = (df["red Δ ours"] - df["red Δ paper"]).abs()
    worst = df.loc[gaps.idxmax()]
    cyan_ok = bool((df.loc[df["model"].str.startswith("isolated") | (df["intervention"] == "suppression"), "cyan Δ ours"].abs() < 0.01).all())
    return Markdown(
        f"Red's error moves by at most {gaps.max():.3f} from the published value "
        f"(largest for {worst['model']} {worst['intervention']}: {worst['red Δ ours']:.3f} against {worst['red Δ paper']:.3f}); "
        f"R² differs by at most {(df['R² ours'] - df['R² paper']).abs().max():.2f}. "
        + ("Cyan is untouched (|Δ| < 0.01) wherever the paper says it should be."
           if cyan_ok else "Cyan is **not** untouched everywhere the paper says it should be: see the table.")
    )
