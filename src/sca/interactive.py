"""Interactive figures for the HTML book (plotly), one function per figure like `figures`; the PDF keeps the static
ones. `html` turns a figure into a block of HTML that works offline: plotly.js is written once beside the book's
figures and loaded from there, not from a CDN."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import colors, figures
from .cache import atomic_write
from .quarto import relative
from .sweep import VariantResult

PLOTLY_JS = "plotly.min.js"


def _nearest_named(rgb: np.ndarray) -> np.ndarray:
    """The name of the named colour nearest each colour of rgb [N, 3] (Euclidean in RGB)."""
    named = colors.named_colors()
    centres = np.array(named["rgb"].tolist())
    return named["name"].to_numpy()[((rgb[:, None, :] - centres[None]) ** 2).sum(-1).argmin(1)]


def latent_sphere(
    baseline: VariantResult,
    intervened: VariantResult,
    label: str,
    dims: Sequence[int],
    anchor: Sequence[float] | None = None,
):
    """The 20³ RGB grid's latents on three latent dims, each point in its true colour, before and after the
    intervention (`label` names it; one button each); hover names the nearest named colour and gives the point's
    error under each. The anchor direction, when there is one, is drawn from the origin."""
    import plotly.graph_objects as go

    rgb = colors.latent_grid().flat_rgb
    names = _nearest_named(rgb).tolist()
    hexes = ["#" + colors.hex_code(c) for c in rgb]
    errors = np.stack([baseline.latent_mse, intervened.latent_mse], -1).astype(np.float32)
    hover = (
        f"near %{{text}}<br>error %{{customdata[0]:.3f}} (baseline), %{{customdata[1]:.3f}} ({label})<extra></extra>"
    )
    traces = []
    for result, visible in ((baseline, True), (intervened, False)):
        xyz = result.latents[:, list(dims)].astype(np.float32)
        traces.append(
            go.Scatter3d(
                x=xyz[:, 0],
                y=xyz[:, 1],
                z=xyz[:, 2],
                mode="markers",
                name=result.name,
                visible=visible,
                marker={"size": 2.2, "color": hexes},
                text=names,
                customdata=errors,
                hovertemplate=hover,
            )
        )
    u, v = np.meshgrid(np.linspace(0, 2 * np.pi, 25), np.linspace(0, np.pi, 13))
    sphere = go.Surface(
        x=np.cos(u) * np.sin(v),
        y=np.sin(u) * np.sin(v),
        z=np.cos(v),
        opacity=0.08,
        showscale=False,
        colorscale=[[0, "#888888"], [1, "#888888"]],
        hoverinfo="skip",
    )
    extra = [sphere]
    if anchor is not None:
        tip = np.asarray(anchor, dtype=float)[list(dims)]
        extra.append(
            go.Scatter3d(
                x=[0, tip[0]],
                y=[0, tip[1]],
                z=[0, tip[2]],
                mode="lines+text",
                text=["", "anchor"],
                line={"color": "black", "width": 5},
                hoverinfo="skip",
                name="anchor",
            )
        )
    shown = lambda i: [j == i for j in range(2)] + [True] * len(extra)
    buttons = [
        {"label": text, "method": "update", "args": [{"visible": shown(i)}]}
        for i, text in enumerate(("baseline", f"after {label}"))
    ]
    axis = lambda d: {"title": {"text": f"dim {d}"}, "range": [-1.05, 1.05]}
    return go.Figure(
        traces + extra,
        layout={
            "height": 560,
            "margin": {"l": 0, "r": 0, "t": 40, "b": 0},
            "showlegend": False,
            "scene": {"xaxis": axis(dims[0]), "yaxis": axis(dims[1]), "zaxis": axis(dims[2]), "aspectmode": "cube"},
            "updatemenus": [
                {"type": "buttons", "direction": "right", "x": 0, "y": 1.06, "xanchor": "left", "buttons": buttons}
            ],
        },
    )


def html(fig, div_id: str) -> str:
    """The figure as an HTML fragment that loads plotly.js from the book's figures folder (written there once), by a
    path relative to the document, as the book's images are."""
    import plotly.offline

    js = figures.figures_dir() / PLOTLY_JS
    if not js.exists():  # chapters render side by side: written whole or not at all
        atomic_write(js, plotly.offline.get_plotlyjs().encode("utf-8"))
    src = relative(js)
    return f'<script src="{src}" charset="utf-8"></script>\n' + fig.to_html(
        full_html=False, include_plotlyjs=False, div_id=div_id, config={"displaylogo": False}
    )
