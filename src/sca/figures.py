"""Every figure of the book: each function returns a matplotlib `Figure` (Agg canvas, no pyplot state);
`save` writes it to figures/<experiment>/<name>.png and .pdf.

A reconstruction is drawn as a large patch in the reconstructed colour with a small inset of the true
colour, so a reader sees at once where the two differ.
"""

from __future__ import annotations

import copyreg
import functools
import hashlib
import io
import os
import pickle
from collections.abc import Iterable, Sequence
from pathlib import Path

import matplotlib
import matplotlib.style
import matplotlib.ticker
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Circle
from matplotlib.path import Path as MplPath
from matplotlib.transforms import TransformNode
from scipy import stats

from . import colors, reference
from .cache import cache_dir, cached
from .evaluate import power_law_fit, predictor
from .interventions import Repulsion, Suppression
from .schedule import Schedule
from .sweep import RunResult, VariantResult
from .train import TrainResult

STYLE = Path(__file__).parent / "sca.mplstyle"
HUE_TICKS = {"red": 0, "yellow": 1 / 6, "green": 1 / 3, "cyan": 1 / 2, "blue": 2 / 3, "magenta": 5 / 6}


def figures_dir() -> Path:
    """$SCA_FIGURES_DIR, or figures/ under the current directory (the project root)."""
    return Path(os.environ.get("SCA_FIGURES_DIR", "figures"))


class OverlappingText(ValueError):
    """A figure whose labels overlap one another."""


def overlapping_text(fig: Figure) -> list[tuple[str, str]]:
    """Pairs of visible texts that overlap in the drawn figure: tick labels, axis labels, titles and legend entries,
    within one panel and across panels."""
    renderer = FigureCanvasAgg(fig).get_renderer()  # measured at the figure's dpi; overlap does not depend on it
    texts = []
    for ax in fig.axes:
        legend = ax.get_legend()
        own = [*_drawn_ticklabels(ax.xaxis), *_drawn_ticklabels(ax.yaxis), ax.xaxis.label, ax.yaxis.label, ax.title]
        texts += [*own, *(legend.get_texts() if legend is not None and legend.get_visible() else [])]
    texts += fig.texts  # with the suptitle
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts if t.get_visible() and t.get_text().strip()]
    return [
        (a, b)
        for i, (a, box_a) in enumerate(boxes)
        for b, box_b in boxes[i + 1 :]
        if box_a.overlaps(box_b) and box_a.width > 0 and box_b.width > 0
    ]


def _drawn_ticklabels(axis) -> list:
    """The axis's major tick labels at ticks inside its view (matplotlib keeps labels for ticks outside it, undrawn)."""
    lo, hi = sorted(axis.get_view_interval())
    pad = 1e-9 * max(1.0, hi - lo)
    return [
        label for loc, label in zip(axis.get_majorticklocs(), axis.get_majorticklabels()) if lo - pad <= loc <= hi + pad
    ]


def save(fig: Figure, experiment: str, name: str) -> Figure:
    """Write fig as figures/<experiment>/<name>.png (for HTML) and .pdf (vector, for papers: only dense point
    clouds are rasterised inside it, which keeps it small and quick to write); return it. A figure whose labels
    overlap raises OverlappingText, naming them, and leaves no file.

    Drawing is most of a chapter's time once its runs are cached, so the two files are cached too, under the
    figure's content (`fingerprint`): a figure that has been drawn before, with the same data, text and style, is
    copied from the cache instead of drawn again."""
    folder = figures_dir() / experiment
    folder.mkdir(parents=True, exist_ok=True)
    key = fingerprint(fig)
    files = cached(
        cache_dir() / "figures" / f"{experiment}-{name}-{key[:24]}.pt", key, lambda: write_files(fig, folder, name)
    )
    for suffix, data in files.items():
        (folder / f"{name}.{suffix}").write_bytes(data)
    return fig


def write_files(fig: Figure, folder: Path, name: str) -> dict[str, bytes]:
    """Draw fig into <folder>/<name>.png and .pdf (checking its labels first); the two files' bytes."""
    fig.savefig(folder / f"{name}.png")  # drawn: every label's place is known
    clash = overlapping_text(fig)
    if clash:
        (folder / f"{name}.png").unlink()
        raise OverlappingText(
            f"figure {folder.name}/{name}: overlapping labels " + "; ".join(f"{a!r} and {b!r}" for a, b in clash[:5])
        )
    engine = fig.get_layout_engine()
    fig.set_layout_engine("none")  # laid out once: the PNG's layout (in figure fractions) serves the PDF as it is
    try:
        fig.savefig(folder / f"{name}.pdf")
    finally:
        fig.set_layout_engine(engine)
    return {suffix: (folder / f"{name}.{suffix}").read_bytes() for suffix in ("png", "pdf")}


class _ContentPickler(pickle.Pickler):
    """Pickles a figure for hashing: a transform's `_parents` (back-references keyed by id(), which differ from
    process to process) is left out; everything drawn (data, text, colours, positions, style) stays in."""

    def reducer_override(self, obj):
        if isinstance(obj, TransformNode):
            state = dict(obj.__getstate__())  # type: ignore[call-overload]
            state.pop("_parents", None)
            return copyreg.__newobj__, (type(obj),), state  # type: ignore[attr-defined]
        return NotImplemented


def fingerprint(fig: Figure) -> str:
    """SHA-256 of everything that decides how fig looks: its pickled content, matplotlib's version and the rc
    settings that apply when it is saved. The same figure built twice, in any process, has the same fingerprint."""
    buf = io.BytesIO()
    _ContentPickler(buf, protocol=5).dump(fig)
    saving = sorted((k, str(v)) for k, v in matplotlib.rcParams.items() if k.startswith(("savefig.", "pdf.", "agg.")))
    buf.write(f"{matplotlib.__version__}{saving}".encode())
    return hashlib.sha256(buf.getvalue()).hexdigest()


def styled(fn):
    """Build the figure under the package's style sheet."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with matplotlib.style.context(STYLE):
            return fn(*args, **kwargs)

    return wrapper


# --- latent spheres -------------------------------------------------------------------------------


def _project(v: np.ndarray, dims: Sequence[int | None]) -> np.ndarray:
    """Coordinates of vectors v [..., K] on the axes `dims`; a None axis is all zeros."""
    k = v.shape[-1]
    for d in dims:
        if d is not None and not 0 <= d < k:
            raise IndexError(f"latent dim {d} out of range for a {k}-dimensional latent")
    return np.stack([v[..., d] if d is not None else np.zeros(v.shape[:-1]) for d in dims], axis=-1)


def _cone(ax, direction: np.ndarray, half_angle: float, **line) -> None:
    """Draw a cone with apex at the origin, axis `direction` (3-D, in panel coordinates) and slant length 1,
    seen from above the third axis: its base circle and, when the apex is outside it, the two silhouette lines."""
    norm = np.linalg.norm(direction)
    if norm < 1e-9 or half_angle <= 0:
        return
    u = direction / norm
    helper = np.array([0.0, 1.0, 0.0]) if abs(u[2]) > 0.95 else np.array([0.0, 0.0, 1.0])
    v = np.cross(u, helper)
    v /= np.linalg.norm(v)
    w = np.cross(u, v)
    t = np.linspace(0, 2 * np.pi, 361)[:, None]
    rim = np.cos(half_angle) * u + np.sin(half_angle) * (np.cos(t) * v + np.sin(t) * w)
    xy = rim[:, :2]
    ax.plot(xy[:, 0], xy[:, 1], **line)
    if not MplPath(xy).contains_point((0.0, 0.0)):
        centre = np.arctan2(*xy.mean(0)[::-1])
        angles = (np.arctan2(xy[:, 1], xy[:, 0]) - centre + np.pi) % (2 * np.pi) - np.pi
        for end in (xy[angles.argmin()], xy[angles.argmax()]):
            ax.plot([0, end[0]], [0, end[1]], **line)


def _intervention_cones(intervention) -> list[tuple[np.ndarray, float, dict]]:
    """(direction, half-angle, line style) of the regions an intervention acts on."""
    solid = dict(color="black", lw=0.8)
    dashed = dict(color="black", lw=0.8, ls=(0, (4, 3)))
    if isinstance(intervention, Suppression):
        return [(np.array(intervention.direction), float(np.arccos(intervention.falloff.a)), solid)]
    if isinstance(intervention, Repulsion):
        d = np.array(intervention.direction)
        return [
            (d, float(np.arccos(intervention.mapper.a)), dashed),
            (d, float(np.arccos(intervention.mapper.b)), solid),
        ]
    return []


PANEL_EXTENT = 1.08  # a latent panel shows [-1.08, 1.08]² of the projected unit sphere
CLOUD_PIXELS = 440  # the point cloud's image side: about 200 dpi at the panel's printed size
DISC, DOT = 0.0216, 0.0075  # radii, in latent units, of a point's reconstruction disc and true-colour dot


def _disc_offsets(radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Row and column offsets of the pixels within `radius` pixels of a pixel."""
    r = int(np.ceil(radius))
    dy, dx = np.mgrid[-r : r + 1, -r : r + 1]
    inside = dy**2 + dx**2 <= radius**2
    return dy[inside], dx[inside]


def _point_cloud(xy: np.ndarray, fill: np.ndarray, dot: np.ndarray) -> np.ndarray:
    """An RGBA image [CLOUD_PIXELS², 4] of points xy [N, 2] listed back to front: each a disc in its `fill`
    colour, and over all discs a small dot in its `dot` colour (a pixel shows the front-most point covering
    it). One image instead of thousands of markers: matplotlib drew each marker separately, for every
    output file, and the point clouds were most of a figure's cost."""
    n, scale = CLOUD_PIXELS, CLOUD_PIXELS / (2 * PANEL_EXTENT)
    row = np.floor((PANEL_EXTENT - xy[:, 1]) * scale).astype(np.int64)
    col = np.floor((xy[:, 0] + PANEL_EXTENT) * scale).astype(np.int64)
    image = np.zeros((n * n, 4))
    for radius, colours in ((DISC, fill), (DOT, dot)):
        dy, dx = _disc_offsets(radius * scale)
        r, c = row[:, None] + dy, col[:, None] + dx
        inside = (r >= 0) & (r < n) & (c >= 0) & (c < n)
        rank = np.broadcast_to(np.arange(len(xy))[:, None], r.shape)
        front = np.full(n * n, -1)
        np.maximum.at(front, (r * n + c)[inside], rank[inside])
        hit = front >= 0
        image[hit, :3], image[hit, 3] = colours[front[hit]], 1.0
    return image.reshape(n, n, 4)


def draw_latent_panel(
    ax, result: VariantResult, dims: Sequence[int | None], anchor: Sequence[float] | None = None
) -> None:
    """The 20³ RGB grid's latents on the unit sphere, seen down the third of `dims`: fill = reconstruction,
    dot = true colour, drawn back to front. Cones mark where the variant's intervention acts."""
    rgb = colors.latent_grid().flat_rgb
    xyz = _project(result.latents, dims)
    order = np.argsort(xyz[:, 2])
    if dims[0] is not None and dims[1] is not None:
        ax.add_patch(Circle((0, 0), 1, facecolor="#f2f2f2", edgecolor="#999999", lw=0.6, zorder=0))
    else:
        ax.plot(
            [-1, 1] if dims[0] is not None else [0, 0],
            [0, 0] if dims[0] is not None else [-1, 1],
            color="#999999",
            lw=0.6,
        )
    cloud = _point_cloud(xyz[order, :2], np.clip(result.latent_recon[order], 0, 1), rgb[order])
    ax.imshow(cloud, extent=(-PANEL_EXTENT, PANEL_EXTENT, -PANEL_EXTENT, PANEL_EXTENT), zorder=2)
    for direction, half_angle, line in _intervention_cones(result.variant.intervention):
        _cone(ax, _project(direction, dims), half_angle, zorder=3, **line)
    pointing = getattr(result.variant.intervention, "direction", None) or anchor
    if pointing is not None and len(pointing) == result.latents.shape[1]:
        tip = _project(np.array(pointing, dtype=float), dims)
        ax.plot([tip[0]], [tip[1]], marker="x", color="black", ms=5, mew=1.2, zorder=4)
    ax.set_xlim(-PANEL_EXTENT, PANEL_EXTENT)
    ax.set_ylim(-PANEL_EXTENT, PANEL_EXTENT)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"dims ({', '.join('–' if d is None else str(d) for d in dims)})")


@styled
def latent_figure(result: VariantResult, dims: Iterable[Sequence[int | None]], anchor=None) -> Figure:
    dims = list(dims)
    fig = Figure(figsize=(2.6 * len(dims), 2.8))
    for ax, d in zip(fig.subplots(1, len(dims), squeeze=False)[0], dims):
        draw_latent_panel(ax, result, d, anchor)
    fig.suptitle(f"Latent space · {result.name}")
    return fig


# --- colour slices ----------------------------------------------------------------------------------


def _slice_image(recon: np.ndarray, true: np.ndarray, cell: int = 12, inset: int = 4) -> np.ndarray:
    """[hue, value, 3] arrays -> an image with value increasing upwards: each cell the reconstruction,
    with the true colour as a small centred square."""
    img = np.repeat(np.repeat(np.clip(recon, 0, 1).transpose(1, 0, 2)[::-1], cell, 0), cell, 1)
    lo = (cell - inset) // 2
    for vi in range(recon.shape[1]):
        for hi in range(recon.shape[0]):
            r, c = (recon.shape[1] - 1 - vi) * cell + lo, hi * cell + lo
            img[r : r + inset, c : c + inset] = true[hi, vi]
    return img


def draw_color_slice(ax, result: VariantResult, saturation_index: int = -1, drop_black: bool = False) -> None:
    """Hue across, value up, at one saturation of the slice grid."""
    grid = colors.slice_grid()
    start = 1 if drop_black else 0
    recon = result.slice_recon[:, saturation_index, start:]
    true = grid.rgb[:, saturation_index, start:]
    hues, values = grid.axes[0], grid.axes[2][start:]
    ax.imshow(
        _slice_image(recon, true), extent=(-0.5, len(hues) - 0.5, -0.5, len(values) - 0.5), interpolation="nearest"
    )
    ticks = [i for i, h in enumerate(hues) if np.isclose(h * 3, round(h * 3))]  # red, green, blue
    ax.set_xticks(ticks, [("Red", "Green", "Blue")[round(hues[i] * 3) % 3] for i in ticks])
    ax.set_yticks([0, len(values) - 1], [f"{values[0]:.2g}", f"{values[-1]:.2g}"])
    ax.set_ylabel("value")
    ax.tick_params(length=0)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)


@styled
def color_slices(*results: VariantResult) -> Figure:
    """The 12 × 4 × 5 slice grid reconstructed: one row per variant, one panel per saturation."""
    sats = colors.slice_grid().axes[1]
    fig = Figure(figsize=(7.5, 0.45 + 1.0 * len(results)))
    axes = fig.subplots(len(results), len(sats), squeeze=False)
    for row, result in zip(axes, results):
        for i, ax in enumerate(row):
            draw_color_slice(ax, result, i)
            ax.set_title(f"saturation {sats[i]:.2g}" if result is results[0] else "")
            ax.set_ylabel(result.name if i == 0 else "")
            if result is not results[-1]:
                ax.set_xticks([])
    fig.suptitle("Reconstructed colours (inset: true colour)")
    return fig


# --- error curves -----------------------------------------------------------------------------------


def _colored_lines(ax, x: np.ndarray, ys: np.ndarray, rgbs: np.ndarray, lw: float = 1.3) -> None:
    """One polyline per row of ys [n, len(x)], each segment coloured by the true colour at its start."""
    for y, rgb in zip(ys, rgbs):
        segments = np.stack([np.column_stack([x[:-1], y[:-1]]), np.column_stack([x[1:], y[1:]])], axis=1)
        ax.add_collection(
            LineCollection(list(segments), colors=np.clip(rgb[:-1], 0, 1), linewidths=lw, capstyle="round")
        )
    ax.set_xlim(x.min(), x.max())


def _value_levels(n: int, count: int = 5) -> np.ndarray:
    """Indices of `count` brightness levels from the brightest down (23, 18, 12, 7, 3 of 24)."""
    return np.round(np.linspace(n - 1, n / 8, count)).astype(int)


def _hue_indices(hues: np.ndarray, targets=(0.0, 1 / 3, 2 / 3)) -> list[int]:
    return [int(np.argmin(np.abs(hues - t))) for t in targets]


def draw_error_vs_hue(ax, result: VariantResult, ymax: float | None = None) -> None:
    """MSE against hue at full saturation, one line per brightness level, coloured by the true colour."""
    grid = colors.LOSS_GRIDS[result.loss_grid]()
    levels = _value_levels(grid.shape[2])
    _colored_lines(ax, grid.axes[0], result.loss_mse[:, -1, levels].T, grid.rgb[:, -1, levels].transpose(1, 0, 2))
    ax.set_xticks(list(HUE_TICKS.values()) + [1.0], [n.title() for n in HUE_TICKS] + ["Red"])
    ax.set_ylim(0, ymax if ymax is not None else 1.05 * max(result.loss_mse[:, -1, levels].max(), 1e-6))
    ax.set_ylabel("MSE")
    ax.set_xlabel("hue")


def shared_ymax(results: Iterable[VariantResult]) -> float:
    """One y-limit for the error-vs-hue panels of several variants, so they compare at a glance."""
    return 1.05 * max(float(r.loss_mse[:, -1, _value_levels(r.loss_mse.shape[2])].max()) for r in results)


@styled
def error_curves(result: VariantResult) -> Figure:
    """MSE against hue (5 brightness levels), saturation and value (red, green and blue)."""
    grid = colors.LOSS_GRIDS[result.loss_grid]()
    fig = Figure(figsize=(7.5, 2.2))
    ax_h, ax_s, ax_v = fig.subplots(1, 3, sharey=True, width_ratios=(2, 1, 1))
    draw_error_vs_hue(ax_h, result)
    hues = _hue_indices(grid.axes[0])
    _colored_lines(ax_s, grid.axes[1], result.loss_mse[hues, :, -1], grid.rgb[hues, :, -1])
    _colored_lines(ax_v, grid.axes[2], result.loss_mse[hues, -1, :], grid.rgb[hues, -1, :])
    ax_s.set_xlabel("saturation (value 1)")
    ax_v.set_xlabel("value (saturation 1)")
    fig.suptitle(f"Reconstruction error · {result.name}")
    return fig


# --- the stacked figure -------------------------------------------------------------------------------


@styled
def stacked_figure(
    result: VariantResult,
    dims: Sequence[Sequence[int | None]] = ((1, 0, 2), (1, 3, 0)),
    ymax: float | None = None,
    anchor=None,
) -> Figure:
    """The paper's results figure: two latent panels, the colour slice at full saturation, error vs hue."""
    fig = Figure(figsize=(5.0, 5.6))
    gs = fig.add_gridspec(3, 2, height_ratios=(2.4, 1.35, 1.25))
    for col, d in enumerate(dims[:2]):
        draw_latent_panel(fig.add_subplot(gs[0, col]), result, d, anchor)
    ax_slice = fig.add_subplot(gs[1, :])
    draw_color_slice(ax_slice, result, -1, drop_black=True)
    ax_slice.set_xticks([])
    draw_error_vs_hue(fig.add_subplot(gs[2, :]), result, ymax)
    fig.suptitle(result.name.title())
    return fig


# --- error against similarity -------------------------------------------------------------------------


@styled
def error_vs_predictor(result: VariantResult) -> Figure:
    """Each colour of the 20³ grid in its own colour: MSE against sim(colour, red)^k (or vibrancy^k),
    with Pearson r, R² and the fitted line."""
    v = result.variant
    rgb = colors.latent_grid().flat_rgb
    x = predictor(rgb, v.metric, v.power, v.hue)
    slope, intercept = power_law_fit(x, result.latent_mse)
    fig = Figure(figsize=(3.4, 3.0))
    ax = fig.subplots()
    ax.scatter(x, result.latent_mse, s=3, c=rgb, linewidths=0, alpha=0.8, rasterized=True)
    xs = np.array([0.0, 1.0])
    symbol = "sim" if v.metric == "similarity" else "vib"
    ax.plot(
        xs,
        slope * xs + intercept,
        color="black",
        lw=0.9,
        ls=(0, (4, 3)),
        label=f"$r = {result.r:.2f}$, $R^2 = {result.r2:.2f}$\n"
        f"MSE ≈ {slope:.3f}·{symbol}$^{{{v.power:g}}}$ {intercept:+.3f}",
    )
    ax.set_xlabel(f"{'similarity to red' if v.metric == 'similarity' else 'vibrancy'}$^{{{v.power:g}}}$")
    ax.set_ylabel("MSE")
    ax.legend(loc="upper left")
    ax.set_title(f"Error vs {'similarity' if v.metric == 'similarity' else 'vibrancy'} · {result.name}")
    return fig


# --- schedules, training, seeds -------------------------------------------------------------------------


@styled
def schedule_figure(schedule: Schedule, names: Sequence[str] | None = None) -> Figure:
    """Regularizer weights over the steps (keyframes marked), above the learning rate."""
    steps = np.arange(schedule.length)
    names = [n for n in (names or schedule.tracks) if n != "lr" and n in schedule.tracks]
    fig = Figure(figsize=(6.0, 3.0))
    ax_w, ax_lr = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    for name in names:
        track = schedule.tracks[name]
        (line,) = ax_w.plot(steps, schedule.values(name), label=name)
        ax_w.plot(track.steps, track.values, "o", ms=3, color=line.get_color(), mfc="white")
    ax_w.set_ylabel("weight")
    ax_w.legend(loc="upper right")
    track = schedule.tracks["lr"]
    ax_lr.plot(steps, schedule.values("lr"), color="black")
    ax_lr.plot(track.steps, track.values, "o", ms=3, color="black", mfc="white")
    ax_lr.set_ylabel("learning rate")
    ax_lr.set_xlabel("step")
    return fig


@styled
def training_curves(result: TrainResult, seed: int) -> Figure:
    """One seed's loss terms over the steps (log scale, unweighted; gaps where a term is off) and its
    cumulative label counts."""
    i = result.seeds.index(seed)
    fig = Figure(figsize=(7.0, 2.6))
    ax_t, ax_l = fig.subplots(1, 2, width_ratios=(2, 1))
    for name, values in result.terms.items():
        if name == "loss":
            continue
        y = values[:, i].astype(float)
        y[y <= 0] = np.nan
        sparse = np.isnan(y).mean() > 0.5  # labelled terms: non-zero only on batches that drew a label
        ax_t.plot(y, label=name, lw=0.8, **(dict(marker=".", ms=3, ls="none") if sparse else {}))
    ax_t.set_yscale("log")
    ax_t.set_xlabel("step")
    ax_t.set_ylabel("term (unweighted)")
    ax_t.legend(loc="lower left", ncols=2)
    ax_t.set_title(f"Training terms · seed {seed}")
    for name, per_step in result.label_steps.items():
        ax_l.plot(np.cumsum(per_step[:, i]), label=name)
    ax_l.set_xlabel("step")
    ax_l.set_ylabel("labels seen")
    ax_l.legend(loc="upper left")
    return fig


@styled
def seed_distributions(run: RunResult) -> Figure:
    """Box plots over seeds of the score and each validation metric; the selected seed as a red diamond,
    the original's mean ± std as a grey band where the original reported it."""
    runs = run.runs
    metrics = ["score"] + [c for c in runs.columns if c.startswith("val_")]
    published = reference.SWEEP_STATS.get(run.experiment.name, {})
    fig = Figure(figsize=(6.0, 0.9 + 0.75 * len(metrics)))
    for ax, metric in zip(fig.subplots(len(metrics), 1, squeeze=False)[:, 0], metrics):
        values = runs[metric].to_numpy(float)
        if metric in published:
            _, _, mean, std = published[metric]
            ax.axvspan(mean - std, mean + std, color="#cccccc", alpha=0.6, lw=0, label="original mean ± std")
            ax.axvline(mean, color="#777777", lw=0.8)
        ax.boxplot(
            values,
            orientation="horizontal",
            widths=0.6,
            showfliers=False,
            medianprops=dict(color="black"),
            boxprops=dict(lw=0.7),
            whiskerprops=dict(lw=0.7),
        )
        jitter = 1 + 0.12 * np.random.default_rng(0).uniform(-1, 1, len(values))
        ax.scatter(values, jitter, s=6, color="#0072B2", alpha=0.6, linewidths=0)
        chosen = runs.loc[run.selected_seed, metric]
        ax.scatter(
            [chosen], [1], marker="D", s=28, color="#D55E00", zorder=5, label=f"selected (seed {run.selected_seed})"
        )
        if metric.startswith("val_") and (values > 0).all():
            ax.set_xscale("log")
        ax.set_yticks([1], [metric])
        ax.tick_params(axis="y", length=0)
    fig.axes[0].legend(loc="lower left", ncols=2, bbox_to_anchor=(0, 1.0))
    return fig


@styled
def study_boxes(table, group: str, published_score: dict[str, float] | None = None) -> Figure:
    """A study's cells as box plots over seeds, one row per design: score, the concept's Δ under the design's
    intervention, and the share of seeds whose concept encodes near its anchor. `group` names the column whose
    values are the cells, in their order; the published 60-seed mean score is drawn as a grey line."""
    designs = list(dict.fromkeys(table["experiment"]))
    n_cells = max(table.loc[table["experiment"] == d, group].nunique() for d in designs)
    fig = Figure(figsize=(7.2, (0.9 + 0.24 * n_cells) * len(designs)), layout="constrained")
    axes = fig.subplots(len(designs), 3, squeeze=False, sharey="row")
    for row, design in zip(axes, designs):
        sub = table[table["experiment"] == design]
        cells = list(dict.fromkeys(sub[group]))
        at = np.arange(len(cells), 0, -1)  # the first cell on top
        for ax, column, title in zip(row[:2], ("score", "concept_delta"), ("score (R²)", "concept's Δ MSE")):
            data = [sub.loc[sub[group] == c, column].to_numpy(float) for c in cells]
            ax.boxplot(
                data,
                positions=at,
                orientation="horizontal",
                widths=0.6,
                showfliers=False,
                medianprops=dict(color="black"),
                boxprops=dict(lw=0.7),
                whiskerprops=dict(lw=0.7),
            )
            for y, values in zip(at, data):
                jitter = y + 0.12 * np.random.default_rng(int(y)).uniform(-1, 1, len(values))
                ax.scatter(values, jitter, s=4, color="#0072B2", alpha=0.5, linewidths=0, rasterized=True)
            if column == "score" and published_score and design in published_score:
                ax.axvline(
                    published_score[design], color="#777777", lw=0.8, ls="--", label="published 60-seed mean score"
                )
            ax.set_title(f"{design}: {title}", fontsize="medium")
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(4))
        share = [sub.loc[sub[group] == c, "geometry_right"].mean() for c in cells]
        row[2].barh(at, share, color="#009E73", height=0.6)
        row[2].set_xlim(0, 1)
        row[2].set_title("concept near anchor", fontsize="medium")
        row[0].set_yticks(at, [str(c) for c in cells], fontsize="small")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", fontsize="small", frameon=False)
    return fig


@styled
def calibration(percentiles: np.ndarray, window: tuple[float, float]) -> Figure:
    """Single draws placed among our seeds: left, their percentiles as a histogram in tenths, with the count
    chance gives per tenth if they are uniform; right, their sorted percentiles against uniform quantiles, with
    the outer window shaded and a pointwise 90% band for n uniform order statistics."""
    q = np.sort(np.asarray(percentiles, dtype=float))
    n = len(q)
    fig = Figure(figsize=(7.2, 3.0), layout="constrained")
    hist, qq = fig.subplots(1, 2)
    hist.hist(q, bins=np.linspace(0, 100, 11), color="#0072B2", edgecolor="white")
    hist.axhline(n / 10, color="#777777", ls="--", lw=0.9, label=f"uniform: {n / 10:.1f} per tenth")
    for edge in window:
        hist.axvline(edge, color="#D55E00", lw=0.8)
    hist.set_xlabel("published value's percentile among our seeds")
    hist.set_ylabel("single-draw claims")
    hist.legend(loc="upper center", fontsize="small")
    expected = (np.arange(1, n + 1) - 0.5) / n * 100
    band = stats.beta.ppf([[0.05], [0.95]], np.arange(1, n + 1), n - np.arange(1, n + 1) + 1) * 100
    qq.fill_between(expected, band[0], band[1], color="#cccccc", alpha=0.7, lw=0, label="90% band if uniform")
    qq.plot([0, 100], [0, 100], color="#777777", lw=0.8)
    outside = (q < window[0]) | (q > window[1])
    qq.scatter(expected[~outside], q[~outside], s=12, color="#0072B2", zorder=3, label="inside the window")
    qq.scatter(expected[outside], q[outside], s=14, color="#D55E00", marker="D", zorder=3, label="outside the window")
    qq.axhspan(0, window[0], color="#D55E00", alpha=0.08, lw=0)
    qq.axhspan(window[1], 100, color="#D55E00", alpha=0.08, lw=0)
    qq.set(xlim=(0, 100), ylim=(-2, 102), xlabel="uniform quantile (%)", ylabel="percentile among our seeds")
    qq.legend(loc="upper left", fontsize="small")
    return fig


@styled
def road(df, labels: dict[str, str] | None = None) -> Figure:
    """The road at a glance: one row per experiment (top to bottom in book order), box plots over seeds of red's
    change in error under the chapter's intervention (left) and the worst change of a colour with no similarity
    to red (right), on a shared log scale, so a design that removes red cleanly has a high left box and a low right
    one."""
    names = list(dict.fromkeys(df["experiment"]))
    fig = Figure(figsize=(7.2, 0.9 + 0.32 * len(names)), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True, sharex=True)
    floor = 1e-6
    for ax, column, title in zip(axes, ("red", "off_target"), ("red's Δ MSE", "worst off-target Δ MSE")):
        data = [np.clip(df.loc[df["experiment"] == n, column].to_numpy(float), floor, None) for n in names]
        ax.boxplot(
            data,
            orientation="horizontal",
            widths=0.6,
            showfliers=False,
            medianprops=dict(color="black"),
            boxprops=dict(lw=0.7),
            whiskerprops=dict(lw=0.7),
        )
        for i, values in enumerate(data, start=1):
            jitter = i + 0.15 * np.random.default_rng(i).uniform(-1, 1, len(values))
            ax.scatter(values, jitter, s=3, color="#D55E00" if column == "red" else "#0072B2", alpha=0.5, linewidths=0)
        ax.set_xscale("log")
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel(f"change from the seed's baseline (clipped at {floor:g})")
    axes[0].set_yticks(range(1, len(names) + 1), [(labels or {}).get(n, n) for n in names], fontsize="small")
    axes[0].invert_yaxis()
    return fig


@styled
def comparisons(panels: Sequence[dict]) -> Figure:
    """Comparisons over seeds, one panel each: two box plots with every seed as a dot. A panel is a dict with
    `title`, `labels` (two), `samples` (two arrays) and `log` (a log axis for errors spanning decades)."""
    fig = Figure(figsize=(7.2, 0.6 + 1.15 * len(panels)), layout="constrained")
    for ax, panel in zip(fig.subplots(len(panels), 1, squeeze=False)[:, 0], panels):
        data = [np.asarray(x, dtype=float) for x in panel["samples"]]
        ax.boxplot(
            data,
            orientation="horizontal",
            widths=0.6,
            showfliers=False,
            medianprops=dict(color="black"),
            boxprops=dict(lw=0.7),
            whiskerprops=dict(lw=0.7),
        )
        for i, (values, colour) in enumerate(zip(data, ("#D55E00", "#0072B2")), start=1):
            jitter = i + 0.15 * np.random.default_rng(i).uniform(-1, 1, len(values))
            ax.scatter(values, jitter, s=5, color=colour, alpha=0.6, linewidths=0)
        if panel.get("log"):
            ax.set_xscale("log")
        ax.set_yticks([1, 2], panel["labels"], fontsize="small")
        ax.invert_yaxis()
        ax.set_title(panel["title"], fontsize="medium", loc="left")
    return fig
