import numpy as np
import pytest

from sca import colors


def test_named_colors_are_twelve_hues_then_five_grays():
    df = colors.named_colors()
    assert len(df) == 17
    assert df["name"].iloc[0] == "red" and df["name"].iloc[6] == "cyan" and df["name"].iloc[-1] == "white"
    assert df.set_index("name").loc["orange", "rgb"] == pytest.approx((1, 0.5, 0))
    assert colors.hex_code(df.set_index("name").loc["gray", "rgb"]) == "7F7F7F"


def test_grid_sizes():
    assert len(colors.loss_grid()) == 150 * 24 * 24 == 86400
    assert len(colors.latent_grid()) == 8000
    assert colors.rgb_cell_centres(8).shape == (351, 3)
    assert len(colors.legacy_train_grid()) == 3600
    # the extended hue range shows red at both ends
    hues = colors.loss_grid().axes[0]
    assert hues[0] < 0 and hues[-1] > 1


def test_redness_and_vibrancy():
    rgb = np.array([[1, 0, 0], [0, 1, 1], [0.5, 0.5, 0.5], [1, 1, 0]])
    assert list(colors.redness(rgb)) == [1, 0, 0.25, 0.5]
    assert list(colors.vibrancy(rgb)) == [1, 1, 0, 1]


def test_hsv_similarity_properties():
    sim = colors.hsv_similarity
    red, cyan = (0, 1, 1), (0.5, 1, 1)
    assert sim(np.array(red), red) == pytest.approx(1)
    for mode in ("angular", "cosine"):
        for hemi in (True, False):
            assert sim(np.array(cyan), red, mode=mode, hemi=hemi) == pytest.approx(0)
    assert sim(np.array((0, 0, 0)), (0, 0, 1)) == pytest.approx(0)
    assert sim(np.array((0, 0, 0)), (0, 0, 0.25)) == pytest.approx(0.75)
    assert sim(np.array((0.3, 0, 0.5)), (0.7, 0, 0.5)) == pytest.approx(1)
    assert sim(np.array((359 / 360, 1, 1)), (1 / 360, 1, 1), mode="cosine") > 0.99  # hue wraps around
    assert sim(np.array((359 / 360, 1, 1)), (1 / 360, 1, 1)) == pytest.approx(88 / 90)
    assert sim(np.array((0, 0.5, 1)), red) == pytest.approx(0.5)
    assert sim(np.array((0, 0.5, 0.5)), red) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="mode"):
        sim(np.array(red), red, mode="euclid")


def test_hsv_bias_makes_all_blacks_weigh_one_vibrant_color():
    grid = colors.legacy_train_grid()
    bias = colors.hsv_sampling_bias(grid)
    assert bias[:, :, 0].sum() == pytest.approx(1.0)  # every black cell (v = 0)
    assert bias[:, 0, -1].sum() == pytest.approx(1.0)  # every white cell (s = 0, v = 1)
    assert bias[0, -1, -1] == pytest.approx(1.0)
