import numpy as np
import pytest
from matplotlib.collections import LineCollection, PathCollection

from sca import colors, figures
from sca.schedule import load_schedule


def cloud(ax):
    """The point-cloud image of a latent panel."""
    (image,) = ax.get_images()
    return image.get_array()


def test_latent_panels_draw_every_grid_colour(small_run):
    fig = figures.latent_figure(small_run.variants["baseline"], [(1, 0, 2), (1, 3, 0), (1, None, 0)])
    for ax in fig.axes:
        image = cloud(ax)
        assert image.shape == (figures.CLOUD_PIXELS, figures.CLOUD_PIXELS, 4) and image[..., 3].any()


def test_cones_appear_only_with_an_intervention(small_run):
    def lines(name):
        fig = figures.latent_figure(small_run.variants[name], [(1, 3, 0)])
        return len(fig.axes[0].lines)

    baseline, suppression, repulsion = lines("baseline"), lines("suppression"), lines("repulsion")
    assert suppression > baseline and repulsion > suppression  # repulsion marks two cones


def test_points_are_drawn_back_to_front_with_true_colour_dots_on_top():
    # two overlapping points: the later (front) one's disc covers the earlier one's; every dot is on top
    xy = np.array([[0.0, 0.0], [0.02, 0.0]])
    fill, dot = np.array([[1.0, 0, 0], [0, 1.0, 0]]), np.array([[0, 0, 1.0], [1.0, 1.0, 0]])
    image = figures._point_cloud(xy, fill, dot)
    scale = figures.CLOUD_PIXELS / (2 * figures.PANEL_EXTENT)
    pixel = lambda x, y: image[int((figures.PANEL_EXTENT - y) * scale), int((x + figures.PANEL_EXTENT) * scale)]
    assert np.array_equal(pixel(0.0, 0.0), [0, 0, 1, 1])  # the back point's dot, over the front disc
    assert np.array_equal(pixel(0.02, 0.0), [1, 1, 0, 1])  # the front point's dot
    assert np.array_equal(pixel(0.01, 0.012), [0, 1, 0, 1])  # where the discs overlap: the front disc
    assert np.array_equal(pixel(-0.015, 0.0), [1, 0, 0, 1])  # the back disc where the front one is not
    assert np.array_equal(pixel(0.5, 0.5), [0, 0, 0, 0])  # no point: transparent


def test_a_latent_panel_draws_each_colour_where_it_is_encoded(small_run):
    v = small_run.variants["baseline"]
    fig = figures.latent_figure(v, [(1, 0, 2)])
    image = cloud(fig.axes[0])
    front = np.argmax(v.latents[:, 2])  # nothing lies in front of it: its dot shows its true colour
    scale = figures.CLOUD_PIXELS / (2 * figures.PANEL_EXTENT)
    x, y = v.latents[front, 1], v.latents[front, 0]
    shown = image[int((figures.PANEL_EXTENT - y) * scale), int((x + figures.PANEL_EXTENT) * scale), :3]
    assert np.allclose(shown, colors.latent_grid().flat_rgb[front])


def test_stacked_figures_share_their_y_limit(small_run):
    variants = [small_run.variants[n] for n in ("baseline", "suppression", "repulsion")]
    ymax = figures.shared_ymax(variants)
    limits = {figures.stacked_figure(v, ymax=ymax).axes[-1].get_ylim() for v in variants}
    assert limits == {(0.0, ymax)}
    fig = figures.stacked_figure(variants[1])
    assert len(fig.axes) == 4 and fig.axes[2].images  # two spheres, the slice, the error curve


def test_error_vs_similarity_scatter(small_run):
    v = small_run.variants["suppression"]
    fig = figures.error_vs_predictor(v)
    (points,) = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    assert len(points.get_offsets()) == len(colors.latent_grid())
    assert f"R^2 = {v.r2:.2f}" in fig.axes[0].get_legend().get_texts()[0].get_text()


def test_color_slices_and_error_curves(small_run):
    v = small_run.variants["ablated"]
    assert len(figures.color_slices(v).axes) == 4
    assert len(figures.color_slices(*small_run.variants.values()).axes) == 4 * len(small_run.variants)
    fig = figures.error_curves(v)
    hue_lines = [c for c in fig.axes[0].collections if isinstance(c, LineCollection)]
    assert len(hue_lines) == 5 and len(fig.axes) == 3


def test_schedule_training_and_seed_figures(small_run):
    schedule = load_schedule(small_run.experiment.schedule)
    fig = figures.schedule_figure(schedule)
    assert len(fig.axes[0].get_legend().get_texts()) == 3
    figures.training_curves(small_run.train, small_run.selected_seed)
    fig = figures.seed_distributions(small_run)
    assert len(fig.axes) == 1 + sum(c.startswith("val_") for c in small_run.runs.columns)


def test_save_writes_png_and_pdf(small_run, tmp_path, monkeypatch):
    monkeypatch.setenv("SCA_FIGURES_DIR", str(tmp_path))
    figures.save(
        figures.error_vs_predictor(small_run.variants["suppression"]), "2.4.1", "error-vs-similarity-suppression"
    )
    assert {p.name for p in (tmp_path / "2.4.1").iterdir()} == {
        "error-vs-similarity-suppression.png",
        "error-vs-similarity-suppression.pdf",
    }


def test_a_figure_is_fingerprinted_by_what_it_shows(small_run):
    """The same figure built twice has one fingerprint; a changed point, label or colour gives another."""
    v = small_run.variants["suppression"]
    assert figures.fingerprint(figures.error_vs_predictor(v)) == figures.fingerprint(figures.error_vs_predictor(v))
    base = figures.fingerprint(figures.error_vs_predictor(v))
    for change in (
        lambda ax: ax.collections[0].set_offsets(ax.collections[0].get_offsets() + 1e-6),
        lambda ax: ax.set_xlabel(ax.get_xlabel() + "."),
        lambda ax: ax.collections[0].set_alpha(0.5),
    ):
        fig = figures.error_vs_predictor(v)
        change(fig.axes[0])
        assert figures.fingerprint(fig) != base


def test_a_figure_drawn_before_is_copied_from_the_cache(small_run, tmp_path, monkeypatch):
    """Saving a figure with the same content again writes the same files without drawing it; a corrupt cache entry
    is redrawn, with a warning."""
    from sca.cache import CacheWarning

    monkeypatch.setenv("SCA_FIGURES_DIR", str(tmp_path / "figures"))
    monkeypatch.setenv("SCA_CACHE_DIR", str(tmp_path / "cache"))
    figures.save(figures.error_vs_predictor(small_run.variants["suppression"]), "2.4.1", "e")
    drawn = {p.name: p.read_bytes() for p in (tmp_path / "figures" / "2.4.1").iterdir()}
    for p in (tmp_path / "figures" / "2.4.1").iterdir():
        p.unlink()
    monkeypatch.setattr(figures, "write_files", lambda *a: pytest.fail("drew a figure the cache holds"))
    figures.save(figures.error_vs_predictor(small_run.variants["suppression"]), "2.4.1", "e")
    assert {p.name: p.read_bytes() for p in (tmp_path / "figures" / "2.4.1").iterdir()} == drawn
    monkeypatch.undo()
    monkeypatch.setenv("SCA_FIGURES_DIR", str(tmp_path / "figures"))
    monkeypatch.setenv("SCA_CACHE_DIR", str(tmp_path / "cache"))
    (entry,) = (tmp_path / "cache" / "figures").glob("*.pt")
    entry.write_bytes(entry.read_bytes()[:-10])
    with pytest.warns(CacheWarning, match="unusable"):
        figures.save(figures.error_vs_predictor(small_run.variants["suppression"]), "2.4.1", "e")
    assert (tmp_path / "figures" / "2.4.1" / "e.png").read_bytes() == drawn["e.png"]


def test_out_of_range_dims_raise(small_run):
    with pytest.raises(IndexError, match="out of range"):
        figures.latent_figure(small_run.variants["baseline"], [(1, 0, 7)])


def test_calibration_marks_the_draws_outside_the_window():
    pct = np.r_[np.linspace(10, 90, 18), 1.0, 99.0]
    fig = figures.calibration(pct, (5, 95))
    hist, qq = fig.axes
    assert sum(p.get_height() for p in hist.patches) == len(pct)
    inside, outside = (c for c in qq.collections if isinstance(c, PathCollection))
    assert len(inside.get_offsets()) == 18 and len(outside.get_offsets()) == 2


def test_road_has_a_row_per_experiment_in_order():
    import pandas as pd

    df = pd.DataFrame(
        {
            "experiment": ["a"] * 5 + ["b"] * 5,
            "red": np.linspace(0.1, 0.3, 10),
            "off_target": np.r_[np.zeros(5), np.full(5, 0.2)],
        }
    )
    fig = figures.road(df, {"a": "a suppression"})
    left, right = fig.axes
    assert [t.get_text() for t in left.get_yticklabels()] == ["a suppression", "b"]
    assert right.get_xscale() == "log"


def test_comparisons_draw_one_panel_per_claim():
    panels = [
        {"title": "t", "labels": ["x", "y"], "samples": [np.ones(5), np.full(5, 2.0)], "log": True},
        {"title": "u", "labels": ["x", "y"], "samples": [np.ones(3), np.zeros(3)], "log": False},
    ]
    fig = figures.comparisons(panels)
    assert len(fig.axes) == 2 and fig.axes[0].get_xscale() == "log" and fig.axes[0].get_title(loc="left") == "t"


def test_a_figure_whose_labels_overlap_is_refused_naming_them(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    monkeypatch.setenv("SCA_FIGURES_DIR", str(tmp_path))
    crowded = Figure(figsize=(2, 2))
    ax = crowded.add_subplot()
    ax.set_xticks(range(8), [f"a long label {i}" for i in range(8)])
    with pytest.raises(
        figures.OverlappingText, match=r"t/crowded: overlapping labels 'a long label 0' and 'a long label 1'"
    ):
        figures.save(crowded, "t", "crowded")
    assert not list(tmp_path.rglob("crowded.*"))
    ax.set_xticks([0, 7], ["a", "b"])
    figures.save(crowded, "t", "crowded")
    assert (tmp_path / "t" / "crowded.png").exists() and (tmp_path / "t" / "crowded.pdf").exists()


def test_the_latent_sphere_holds_every_grid_colour_before_and_after(small_run):
    from sca import interactive

    base, after = small_run.variants["baseline"], small_run.variants["suppression"]
    fig = interactive.latent_sphere(base, after, "suppression", (0, 1, 2), (1.0, 0.0, 0.0, 0.0))
    points = [t for t in fig.data if t.type == "scatter3d" and t.mode == "markers"]
    assert [t.visible for t in points] == [True, False] and all(len(t.x) == len(base.latents) for t in points)
    assert np.allclose(points[1].z, after.latents[:, 2], atol=1e-6) and np.allclose(
        points[0].customdata[:, 1], after.latent_mse, atol=1e-6
    )
    assert set(points[0].text) <= set(colors.named_colors()["name"]) and "red" in points[0].text
    assert [b.label for b in fig.layout.updatemenus[0].buttons] == ["baseline", "after suppression"]
    assert any(t.type == "scatter3d" and t.mode == "lines+text" for t in fig.data)  # the anchor
